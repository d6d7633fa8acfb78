import CALSA
import Config
import Engine
import Foundation
import Harmony
import Hindsight
import Logging
import Memory
import OfflineAudio
import Realtime
import Synchronization

/// `accompanist run`: the daemon. The control (main) thread owns this object: it opens the
/// sequencer and the synth, starts the reader, engine and synth threads, connects ports, answers
/// signals and System:Announce, feeds the systemd watchdog, reports, and logs. docs/design.md
/// has the whole picture (threads and ownership, life cycle).
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

    /// Runs until SIGTERM/SIGINT (or `duration`); throws only for failures at start. `harmony`
    /// (the chart, loaded and checked before anything opens, and the left hand's settings) is
    /// given to the engine thread before it starts.
    public func run(engine: AccompanimentEngine, engineDescription: String, configSource: String,
                    harmony: LiveHarmony? = nil) throws {
        let harmony = harmony ?? LiveHarmony(settings: config.harmonySettings, stream: ChordStream(),
                                             beatsPerBar: config.beatsPerBar, leftHandSound: config.leftHandSound)
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
        let clock = QueueClock(offset: monotonicNanoseconds() - seq.queueTime())
        let synth = startSynth(clock: clock)
        seq.sendProgram(channel: config.accompanimentChannel - 1, program: 0)

        // Every buffer of the live path exists from here on; lock it in memory before the threads run.
        lockMemory()
        let outputs: [any LiveOutput] = [seq] + (synth.map { [$0] } ?? [])
        var passthrough: [InputReader.Passthrough] = []
        if let synth, config.synthMelody { passthrough.append(.init(synth)) }
        if config.melodyPassthrough { passthrough.append(.init(seq)) }
        let engineInput = SPSCRing<InputEvent>(capacity: 8192)
        // The rehearsal memory (its own thread), its ring from the engine thread and its plans' back.
        let memory = makeMemory(chart: harmony.stream)
        let takeRing = memory.map { _ in SPSCRing<TakeEvent>(capacity: 1 << 16) }
        let loop = EngineLoop(engine: engine, settings: EngineLoop.Settings(config), outputs: outputs, input: engineInput,
                              harmony: harmony.stream, leftHand: harmony.makeLeftHand(), takes: takeRing, guesses: memory?.guesses)
        let reader = InputReader(settings: InputReader.Settings(config), passthrough: passthrough, ownClient: seq.clientID,
                                 engineInput: engineInput, clock: { clock.now() })
        let readerThread = RealtimeThread(name: "acc-reader", priority: 80) { reader.run(sequencer: seq) }
        let engineThread = RealtimeThread(name: "acc-engine", priority: 75) { loop.run(clock: clock) }
        try readerThread.start()
        try engineThread.start()
        if let memory, let takeRing { try memory.start(events: takeRing) }

        log.info("ALSA client \"\(config.clientName)\" \(seq.clientID): input \(seq.clientID):\(seq.inputPort), output \(seq.clientID):\(seq.outputPort); engine \(engineDescription)")
        logTempo()
        log.info("\(harmony.describe(barOne: LiveHarmony.barOne(config)))")
        for line in LiveHarmony.advice(config) {
            if line.warning { log.warning("\(line.text)") } else { log.notice("\(line.text)") }
        }
        var chartEnd = ChartEndNotice(chartEnd: harmony.stream.hasChart ? harmony.stream.chartEnd : nil,
                                      beatsPerBar: config.beatsPerBar, leftHand: harmony.readsLeftHand)
        let connector = PortConnector(sequencer: seq, inputs: config.inputs, outputs: config.outputs, log: log)
        connector.connectAll()
        let threads = [readerThread, engineThread] + (synth?.thread.map { [$0] } ?? [])
        let report = { LiveSnapshot(loop: loop, reader: reader, outputs: outputs) }
        notifier.ready(status: report().statusLine(melodyLatency: passthrough.first?.latency))

        control(signals: &signals, loop: loop, reader: reader, connector: connector, threads: threads,
                report: report, melodyLatency: passthrough.first?.latency, chartEnd: &chartEnd)

        // Shutdown: the engine ends every accompaniment note, the reader the player's, then the synth stops.
        notifier.stopping()
        loop.stopRequested.store(true, ordering: .releasing)
        engineThread.join()
        reader.stopRequested.store(true, ordering: .releasing)
        readerThread.join()
        synth?.stop()
        if let memory, let takeRing {
            // The memory thread stops; the control thread owns the memory again and ends the take.
            memory.stop()
            memory.process(takeRing)
            memory.store([memory.recorder.finish()].compactMap { $0 })
            let lost = loop.status.lostTakeEvents.load(ordering: .relaxed)
            if lost > 0 { log.warning("memory: \(lost) events of the takes were lost (the memory thread's ring was full)") }
            let late = loop.status.lateMemoryGuesses.load(ordering: .relaxed) + memory.lostGuesses
            if late > 0 { log.warning("memory: \(late) beats were planned too late to be followed (this performance may differ from render --memory)") }
        }
        log.info("\(report().summary)")
        for p in passthrough { log.info("latency \(p.latency.name) (input timestamp → call returned): \(p.latency.describe(unit: "notes"))") }
        if let synth { log.info("latency \(synth.lateness.name) (actual − scheduled): \(synth.lateness.describe())") }
    }

    /// The rehearsal memory (docs/memory.md, "Live"), or nil with `memory.enabled = false` and
    /// `memory.repeats = false` (or no hindsight model for repeats).
    private func makeMemory(chart: ChordStream) -> LiveMemory? {
        let model = HindsightModel.find()
        // The rules engine follows chords, not estimates: repeats would give it nothing.
        let wantsRepeats = config.memoryRepeats && config.engine == "model"
        let repeats = wantsRepeats ? model : nil
        if wantsRepeats && model == nil {
            log.warning("memory: no hindsight model found (\(HindsightModel.searchPath.joined(separator: ", "))): repetition within a take is not followed")
        }
        guard config.memoryEnabled || repeats != nil else { return nil }
        let dir = config.memoryDirectory.isEmpty ? MemoryStore.defaultDirectory() : URL(fileURLWithPath: config.memoryDirectory)
        let store = MemoryStore(directory: dir, limit: config.memoryMaxTakes)
        let leftovers = store.removeLeftovers()
        if leftovers > 0 { log.notice("memory: removed \(leftovers) temporary file\(leftovers == 1 ? "" : "s") left by an interrupted save in \(dir.path)") }
        let listing = config.memoryEnabled ? store.list() : nil
        let takes = listing?.takes ?? []
        for p in listing?.problems ?? [] { log.warning("memory: \(dir.path)/\(p): skipped") }
        if config.memoryEnabled {
            log.info("memory: \(takes.count) takes in \(dir.path); each performance is stored as a take\(model == nil ? " (no hindsight model: takes without a chart or left hand keep no chords)" : "")")
        } else {
            log.info("memory: off (memory.enabled = false): nothing stored or followed across takes")
        }
        if repeats != nil { log.info("memory: repetition within a take is followed (memory.repeats)") }
        let bpm = config.bpm
        let recorder = TakeRecorder(store: store, chart: chart, beatsPerBar: config.beatsPerBar, bpm: { bpm }, hindsightModel: model)
        let memory = LiveMemory(recorder: recorder, takes: takes, beatsPerBar: config.beatsPerBar,
                                guesses: SPSCRing<MemoryGuess>(capacity: 1024), log: log, repeats: repeats)
        memory.storesTakes = config.memoryEnabled
        let n = memory.followed
        if n > 0 { log.info("memory: following \(n) take\(n == 1 ? "" : "s") with chords of \(config.beatsPerBar) beats a bar") }
        return memory
    }

    /// FluidSynth with its scheduler thread, or nil (sound off, or no soundfont / audio device:
    /// the daemon goes on with MIDI out only, and says so).
    private func startSynth(clock: QueueClock) -> LiveSynth? {
        guard config.soundEnabled else {
            log.info("sound: off (sound.enabled = false); MIDI goes to the ALSA output port only")
            return nil
        }
        do {
            let font = try Soundfonts.resolve(config.soundfont.isEmpty ? nil : config.soundfont)
            let s = try LiveSynth(config: config, soundfont: font, clock: clock)
            s.setProgram(channel: config.accompanimentChannel - 1, program: 0)
            try s.start(realtimePriority: 70)
            log.info("sound: FluidSynth, \(config.audioDriver) driver, soundfont \(font)")
            return s
        } catch {
            log.warning("sound is off: \(error); the accompaniment still goes to the ALSA output port")
            return nil
        }
    }

    /// mlockall where permitted: as root, or with an unlimited RLIMIT_MEMLOCK (the systemd units
    /// set LimitMEMLOCK=infinity). Under a finite limit, MCL_FUTURE would make later allocations
    /// fail once the limit is reached, so the daemon does not try and says so.
    private func lockMemory() {
        let limit = MemoryLock.limitBytes
        guard limit == nil || geteuid() == 0 else {
            log.notice("memory not locked: RLIMIT_MEMLOCK is \((limit ?? 0) / 1024) KiB (LimitMEMLOCK=infinity in the unit, or memlock in limits.conf); page faults may delay the real-time threads")
            return
        }
        let err = MemoryLock.lockAll()
        if err == 0 { log.info("memory locked (mlockall)") } else { log.warning("memory not locked: mlockall: \(String(cString: strerror(err)))") }
    }

    private func logTempo() {
        switch config.tempoSource {
        case "midi-clock": log.info("tempo: external MIDI clock on the input (waiting for Start)")
        default:
            let phase = config.countInBars > 0 ? "after a \(config.countInBars)-bar count-in on channel \(config.metronomeChannel)" : "from the first melody note"
            log.info("tempo: fixed \(config.bpm) BPM, \(config.beatsPerBar) beats per bar, beat 1 \(phase)")
        }
    }

    /// The control loop, until a stop signal (or `duration`): signals, announcements, real-time
    /// priority, warnings, STATUS= and the watchdog.
    private func control(signals: inout sigset_t, loop: EngineLoop, reader: InputReader, connector: PortConnector,
                         threads: [RealtimeThread], report: () -> LiveSnapshot, melodyLatency: LatencyHistogram?,
                         chartEnd: inout ChartEndNotice) {
        let started = Date()
        var lastHeartbeat = -1
        var lastWatchdog = Date.distantPast
        var lastStatus = Date()
        var reported = report()
        var realtimeChecked = false
        var loggedBPM = 0.0
        while true {
            var timeout = timespec(tv_sec: 0, tv_nsec: 100_000_000)
            let sig = sigtimedwait(&signals, nil, &timeout)
            if sig == SIGTERM || sig == SIGINT {
                log.info("signal \(sig == SIGTERM ? "SIGTERM" : "SIGINT"): stopping")
                return
            }
            if sig == SIGHUP { log.info("SIGHUP: reconnecting ports"); connector.connectAll() }
            if let d = duration, Date().timeIntervalSince(started) >= d { log.info("ran for \(d) s: stopping"); return }

            while let a = reader.announcements.pop() {
                for gone in connector.handleAnnounce(a) {
                    if !reader.commands.push(.releaseSource(client: gone.client, port: gone.port)) {
                        log.warning("could not release the notes of \(gone.client):\(gone.port) (command queue full)")
                    }
                }
            }
            if !realtimeChecked { realtimeChecked = checkRealtime(threads) }

            let now = report()
            for line in now.changes(since: reported) {
                if line.warning { log.warning("\(line.text)") } else { log.notice("\(line.text)") }
            }
            if let line = chartEnd.check(lastStep: now.lastStep) { log.notice("\(line)") }
            if config.tempoSource == "midi-clock", now.bpm > 0, abs(now.bpm - loggedBPM) > 1 {
                log.info("tempo source: MIDI clock, \(String(format: "%.1f", now.bpm)) BPM")
                loggedBPM = now.bpm
            }
            // STATUS=: at once when the state changes, else every second while counts move, every 2 s when idle.
            let since = Date().timeIntervalSince(lastStatus)
            if now.state != reported.state || since >= (now != reported ? 1 : 2) {
                notifier.status(now.statusLine(melodyLatency: melodyLatency))
                lastStatus = Date()
            }
            reported = now

            // Watchdog: only while the engine thread's heartbeat moves.
            if let interval = notifier.watchdogInterval, Date().timeIntervalSince(lastWatchdog) >= interval / 2 {
                let beat = loop.status.heartbeat.load(ordering: .relaxed)
                if beat != lastHeartbeat {
                    notifier.watchdog()
                    lastHeartbeat = beat
                    lastWatchdog = Date()
                }
            }
        }
    }

    /// Once every thread has tried SCHED_FIFO: asks rtkit for those refused, then logs once.
    /// Returns false while a thread has not tried yet.
    private func checkRealtime(_ threads: [RealtimeThread]) -> Bool {
        let results = threads.map { RealtimeResult(rawValue: $0.result.load(ordering: .acquiring)) ?? .pending }
        guard !results.contains(.pending) else { return false }
        let refused = zip(threads, results).filter { $0.1 == .denied }.map(\.0)
        let names = threads.map(\.name).joined(separator: ", ")
        if refused.isEmpty {
            log.info("real-time priority: SCHED_FIFO (\(names))")
        } else if RealtimeKit.request(threads: refused.map { (tid: $0.threadID.load(ordering: .acquiring), priority: $0.priority) }) {
            log.info("real-time priority granted by rtkit (\(refused.map(\.name).joined(separator: ", ")))")
        } else {
            log.warning("no real-time priority for \(refused.map(\.name).joined(separator: ", ")) (SCHED_FIFO not permitted, rtkit not available): timing may suffer under load; run as the systemd unit (LimitRTPRIO) or join the audio group")
        }
        return true
    }
}
