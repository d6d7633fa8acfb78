import Config
import Engine
import Foundation
import Logging
import OfflineAudio
import Synchronization

/// `accompanist run`: the daemon. The control (main) thread owns this object: it opens the
/// sequencer and the synth, starts the reader and engine threads, connects ports, answers
/// signals and System:Announce, feeds the systemd watchdog, and logs. docs/internals.md has the
/// whole picture.
public final class LiveSession {
    public enum Failure: Error, CustomStringConvertible {
        case noSequencer(String)
        case setup(String)
        public var description: String {
            switch self { case .noSequencer(let s), .setup(let s): return s }
        }
    }

    let config: DaemonConfig
    let log: Logger
    let notifier = SystemdNotifier()
    /// Stop after this many seconds (tests, benchmarks); nil runs until a signal.
    let duration: Double?

    public init(config: DaemonConfig, logger: Logger, duration: Double? = nil) {
        self.config = config
        self.log = logger
        self.duration = duration
    }

    /// Runs until SIGTERM/SIGINT (or `duration`); throws only for failures at start.
    public func run(engine: AccompanimentEngine, engineDescription: String, configSource: String) throws {
        // Signals are taken by sigtimedwait on this thread only: block them before any thread starts.
        var signals = sigset_t()
        sigemptyset(&signals)
        for s in [SIGTERM, SIGINT, SIGHUP] { sigaddset(&signals, s) }
        pthread_sigmask(SIG_BLOCK, &signals, nil)

        let seq: Sequencer
        do { seq = try Sequencer(clientName: config.clientName) } catch let e as ALSAError {
            throw Failure.noSequencer(e.description)
        }
        try seq.startQueue()
        log.info("config: \(configSource)")
        if !seq.hasHighResolutionTimer {
            log.warning("no high-resolution sequencer timer (modprobe snd-hrtimer): output times are quantised to the system timer's ticks")
        }
        let queueOffset = monotonicNanoseconds() - seq.queueTime()

        var synth: LiveSynth? = nil
        if config.soundEnabled {
            do {
                let font = try Soundfonts.resolve(config.soundfont.isEmpty ? nil : config.soundfont)
                let s = try LiveSynth(config: config, soundfont: font)
                s.setProgram(channel: config.accompanimentChannel - 1, program: 0)
                try s.start(realtimePriority: 70)
                synth = s
                log.info("sound: FluidSynth, \(config.audioDriver) driver, soundfont \(font)")
            } catch {
                log.warning("sound is off: \(error); the accompaniment still goes to the ALSA output port")
            }
        } else {
            log.info("sound: off (sound.enabled = false); MIDI goes to the ALSA output port only")
        }
        seq.sendProgram(channel: config.accompanimentChannel - 1, program: 0)

        var settings = EngineLoop.Settings()
        settings.tempoSource = config.tempoSource
        settings.bpm = config.bpm
        settings.beatsPerBar = config.beatsPerBar
        settings.countInBars = config.countInBars
        settings.metronomeChannel = config.metronomeChannel - 1
        settings.accompanimentChannel = config.accompanimentChannel - 1
        settings.melodyPassthrough = config.melodyPassthrough
        settings.synthMelody = config.synthMelody
        settings.panicCC = config.panicCC
        settings.panicNote = config.panicNote
        settings.maxNoteSteps = config.maxNoteBeats * 8
        settings.seed = config.seed

        let inputRing = SPSCRing<RawInputEvent>(capacity: 8192)
        let announceRing = SPSCRing<RawInputEvent>(capacity: 256)
        let loop = EngineLoop(engine: engine, settings: settings, sequencer: seq, synth: synth, input: inputRing, queueOffset: queueOffset)
        let readerRunning = Atomic<Bool>(true)
        let overruns = Atomic<Int>(0)
        let myClient = seq.clientID

        // Reader thread: sequencer input → rings. Owns the sequencer's input side.
        let reader = RealtimeThread(name: "acc-reader", priority: 80) {
            var ev = RawInputEvent()
            while readerRunning.load(ordering: .acquiring) {
                let r = seq.readInput(timeoutMs: 100, into: &ev)
                if r == -ENOSPC { overruns.add(1, ordering: .relaxed); continue }
                if r < 0 { continue }
                switch ev.kind {
                case .portStart, .portExit, .clientExit:
                    if ev.client != myClient && !announceRing.push(ev) { overruns.add(1, ordering: .relaxed) }
                case .other:
                    break
                default:
                    if !inputRing.push(ev) { loop.status.droppedInput.add(1, ordering: .relaxed) }
                }
            }
        }
        let engineThread = RealtimeThread(name: "acc-engine", priority: 75) { loop.run() }
        try reader.start()
        try engineThread.start()

        log.info("ALSA client \"\(config.clientName)\" \(seq.clientID): input \(seq.clientID):\(seq.inputPort), output \(seq.clientID):\(seq.outputPort); engine \(engineDescription)")
        switch config.tempoSource {
        case "midi-clock": log.info("tempo: external MIDI clock on the input (waiting for Start)")
        default:
            let phase = config.countInBars > 0 ? "after a \(config.countInBars)-bar count-in on channel \(config.metronomeChannel)" : "from the first melody note"
            log.info("tempo: fixed \(config.bpm) BPM, \(config.beatsPerBar) beats per bar, beat 1 \(phase)")
        }
        let connector = PortConnector(sequencer: seq, inputs: config.inputs, outputs: config.outputs, log: log)
        connector.connectAll()
        notifier.ready(status: "listening on \(seq.clientID):\(seq.inputPort)")

        // Control loop.
        let started = Date()
        var lastHeartbeat = -1
        var lastWatchdog = Date.distantPast
        var reported = (overruns: 0, dropped: 0, late: 0, synthDropped: 0, panics: 0, state: -1, bpm: 0)
        var realtimeLogged = false
        var loggedBPM = 0
        while true {
            var timeout = timespec(tv_sec: 0, tv_nsec: 100_000_000)
            let sig = sigtimedwait(&signals, nil, &timeout)
            if sig == SIGTERM || sig == SIGINT {
                log.info("signal \(sig == SIGTERM ? "SIGTERM" : "SIGINT"): stopping")
                break
            }
            if sig == SIGHUP { log.info("SIGHUP: reconnecting ports"); connector.connectAll() }
            if let d = duration, Date().timeIntervalSince(started) >= d { log.info("ran for \(d) s: stopping"); break }

            while let a = announceRing.pop() {
                let release = connector.handleAnnounce(a)
                for r in release { _ = loop.commands.push(.releaseMelody(client: r.client, port: r.port)) }
            }
            if !realtimeLogged, let r = RealtimeResult(rawValue: engineThread.result.load(ordering: .acquiring)), r != .pending,
               reader.result.load(ordering: .acquiring) != RealtimeResult.pending.rawValue {
                realtimeLogged = true
                if r == .denied {
                    // SCHED_FIFO refused: ask rtkit, then warn once.
                    let threads = [reader, engineThread].map { (tid: $0.threadID.load(ordering: .acquiring), priority: $0.priority) }
                    if RealtimeKit.request(threads: threads) {
                        log.info("real-time priority granted by rtkit")
                    } else {
                        log.warning("no real-time priority (SCHED_FIFO not permitted, rtkit not available): timing may suffer under load; run as the systemd unit (LimitRTPRIO) or join the audio group")
                    }
                } else {
                    log.info("real-time priority: SCHED_FIFO")
                }
            }
            let s = loop.status
            let now = (overruns: overruns.load(ordering: .relaxed), dropped: s.droppedInput.load(ordering: .relaxed),
                       late: s.lateSteps.load(ordering: .relaxed), synthDropped: s.droppedSynthEvents.load(ordering: .relaxed),
                       panics: s.panics.load(ordering: .relaxed), state: s.state.load(ordering: .relaxed), bpm: s.bpmHundredths.load(ordering: .relaxed))
            if now.overruns > reported.overruns { log.warning("input overrun: some MIDI events were lost (\(now.overruns) overruns so far)") }
            if now.dropped > reported.dropped { log.warning("input flood: \(now.dropped - reported.dropped) events dropped (\(now.dropped) in all)") }
            if now.late > reported.late { log.warning("\(now.late - reported.late) steps computed late (\(now.late) in all)") }
            if now.synthDropped > reported.synthDropped { log.warning("synth queue full: \(now.synthDropped) events dropped in all") }
            if now.panics > reported.panics { log.notice("panic: all notes off") }
            if now.state != reported.state {
                switch now.state {
                case 1: log.info("playing (\(String(format: "%.1f", Double(now.bpm) / 100)) BPM)")
                case 2: log.info("stopped by the external clock")
                default: break
                }
            }
            if config.tempoSource == "midi-clock", now.bpm > 0, abs(now.bpm - loggedBPM) > 100 {
                log.info("tempo source: MIDI clock, \(String(format: "%.1f", Double(now.bpm) / 100)) BPM")
                loggedBPM = now.bpm
            }
            reported = now

            // Watchdog: only while the engine thread's heartbeat moves.
            if let interval = notifier.watchdogInterval, Date().timeIntervalSince(lastWatchdog) >= interval / 2 {
                let beat = s.heartbeat.load(ordering: .relaxed)
                if beat != lastHeartbeat {
                    notifier.watchdog()
                    lastHeartbeat = beat
                    lastWatchdog = Date()
                }
            }
        }

        notifier.stopping()
        loop.stopRequested.store(true, ordering: .releasing)
        engineThread.join()   // the engine thread ends every note before it returns
        readerRunning.store(false, ordering: .releasing)
        reader.join()
        synth?.stop()
        let st = loop.status
        log.info("stopped: \(st.stepsGenerated.load(ordering: .relaxed)) steps, worst step \(String(format: "%.3f", Double(st.maxStepNanoseconds.load(ordering: .relaxed)) / 1e6)) ms, \(st.lateSteps.load(ordering: .relaxed)) late, \(overruns.load(ordering: .relaxed)) input overruns, \(st.droppedInput.load(ordering: .relaxed)) events dropped")
    }
}
