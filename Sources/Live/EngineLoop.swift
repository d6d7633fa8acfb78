import Engine
import Synchronization

/// A request from the control thread to the engine thread.
public enum EngineCommand: Sendable, BitwiseCopyable {
    case panic
    /// A source port went away: end its held melody notes.
    case releaseMelody(client: Int32, port: Int32)
}

/// Counters the engine thread publishes for the control thread (which logs and reports them).
public final class EngineStatus: Sendable {
    /// Moves every loop iteration: the watchdog's proof of life.
    public let heartbeat = Atomic<Int>(0)
    public let stepsGenerated = Atomic<Int>(0)
    /// Steps computed after their deadline had passed.
    public let lateSteps = Atomic<Int>(0)
    public let droppedInput = Atomic<Int>(0)
    public let droppedSynthEvents = Atomic<Int>(0)
    /// Tempo in hundredths of a BPM (external clock: as measured), 0 while unknown.
    public let bpmHundredths = Atomic<Int>(0)
    /// 0 waiting for the first note or the clock, 1 playing, 2 stopped by the external clock.
    public let state = Atomic<Int>(0)
    /// Worst engine work per step so far, nanoseconds.
    public let maxStepNanoseconds = Atomic<Int>(0)
    public let panics = Atomic<Int>(0)
    public init() {}
}

/// The engine thread: drains melody input, advances the grid from the chosen clock, runs the
/// engine once per step half a step ahead, and sends its notes, timestamped at their grid
/// times, to the ALSA queue and to the synth's scheduler.
///
/// Owns (touches from no other thread): the engine, `buffer`, the tempo state, `sounding`,
/// `held`. Shares only the SPSC rings (consumer of `input` and `commands`, producer of the
/// synth ring) and the atomics of `status`. No allocation, lock, log or await in `run`.
public final class EngineLoop: @unchecked Sendable {
    // @unchecked Sendable: created on the control thread, then used by the engine thread only
    // (see above); the control thread reads `status` and the rings' other ends.
    public struct Settings: Sendable {
        public var tempoSource: String = "fixed"
        public var bpm: Double = 100
        public var beatsPerBar = 4
        public var countInBars = 0
        public var metronomeChannel = 9
        public var accompanimentChannel = 0
        public var melodyPassthrough = false
        public var synthMelody = true
        public var panicCC = 120
        public var panicNote = -1
        public var maxNoteSteps = 64
        public var seed: UInt64 = 0
        public init() {}
    }

    let engine: AccompanimentEngine
    let settings: Settings
    let sequencer: Sequencer?
    let synth: LiveSynth?
    public let input: SPSCRing<RawInputEvent>
    public let commands = SPSCRing<EngineCommand>(capacity: 64)
    public let status = EngineStatus()
    public let stopRequested = Atomic<Bool>(false)
    /// Monotonic time minus queue time.
    let queueOffset: Int64

    private let buffer = EventBuffer(capacity: 1024)
    private var fixed: FixedTempo
    private var external = ExternalClock()
    private var nextStep = 0
    private var playing = false
    /// The step the performance started at.
    private var firstStep = 0
    /// Start step of each sounding accompaniment pitch (-1 silent). (128,)
    private let sounding: UnsafeMutablePointer<Int>
    /// Source (client << 8 | port) of each held melody pitch, -1 when up. (16 channels × 128)
    private let held: UnsafeMutablePointer<Int32>

    public init(engine: AccompanimentEngine, settings: Settings, sequencer: Sequencer?, synth: LiveSynth?,
                input: SPSCRing<RawInputEvent>, queueOffset: Int64) {
        self.engine = engine
        self.settings = settings
        self.sequencer = sequencer
        self.synth = synth
        self.input = input
        self.queueOffset = queueOffset
        fixed = FixedTempo(bpm: settings.bpm)
        sounding = .allocate(capacity: 128)
        sounding.initialize(repeating: -1, count: 128)
        held = .allocate(capacity: 16 * 128)
        held.initialize(repeating: -1, count: 16 * 128)
        engine.reset(seed: settings.seed)
    }

    deinit {
        sounding.deallocate()
        held.deallocate()
    }

    var usesClock: Bool { settings.tempoSource == "midi-clock" }

    /// The engine thread's body; returns after `stopRequested`, with every note ended.
    public func run() {
        let start = monotonicNanoseconds() - queueOffset
        if !usesClock {
            status.bpmHundredths.store(Int(settings.bpm * 100), ordering: .relaxed)
            if settings.countInBars > 0 {
                // Count-in on the metronome channel; beat 1 of bar 1 follows it.
                let beat = fixed.stepNanoseconds * 8
                let beats = settings.countInBars * settings.beatsPerBar
                for b in 0..<beats {
                    let t = start + beat / 2 + Int64(b) * beat
                    let pitch = b % settings.beatsPerBar == 0 ? 76 : 77  // high / low wood block
                    sendRaw(channel: settings.metronomeChannel, pitch: pitch, velocity: 100, at: t)
                    sendRaw(channel: settings.metronomeChannel, pitch: pitch, velocity: 0, at: t + beat / 4)
                }
                fixed.origin = start + beat / 2 + Int64(beats) * beat
                playing = true
                status.state.store(1, ordering: .relaxed)
            }
        }
        while !stopRequested.load(ordering: .acquiring) {
            let now = monotonicNanoseconds() - queueOffset
            while let c = commands.pop() { handle(c, now: now) }
            while let e = input.pop() { handle(e) }
            // Input carries the kernel's timestamps, so it need not be read at once: while playing
            // at a fixed tempo the thread sleeps to the next deadline (at most 5 ms, so a panic or
            // a vanished keyboard is handled promptly); waiting for the first note or following an
            // external clock, it looks every millisecond.
            var wake = now + (playing && !usesClock ? 5_000_000 : 1_000_000)
            if usesClock {
                while playing && nextStep <= external.lastDueStep { generate(step: nextStep, at: external.time(of: nextStep), now: now) }
            } else if playing {
                while fixed.deadline(of: nextStep) <= now { generate(step: nextStep, at: fixed.time(of: nextStep), now: now) }
                wake = min(wake, fixed.deadline(of: nextStep))
            }
            status.heartbeat.add(1, ordering: .relaxed)
            sleepUntil(monotonic: wake + queueOffset)
        }
        silenceEverything(now: monotonicNanoseconds() - queueOffset)
    }

    // MARK: - Input

    private func handle(_ e: RawInputEvent) {
        switch e.kind {
        case .noteOn:
            if Int(e.a) == settings.panicNote { panic(now: e.time); return }
            if !usesClock && !playing {
                fixed.origin = e.time  // the first note is beat 1 of bar 1
                playing = true
                status.state.store(1, ordering: .relaxed)
            }
            guard playing else { passthrough(e); return }
            held[Int(e.channel & 15) * 128 + Int(e.a & 127)] = e.client << 8 | e.port
            engine.melodyNoteOn(pitch: Int(e.a), velocity: Int(e.b), step: stepOf(e.time))
            passthrough(e)
        case .noteOff:
            held[Int(e.channel & 15) * 128 + Int(e.a & 127)] = -1
            if playing { engine.melodyNoteOff(pitch: Int(e.a), step: stepOf(e.time)) }
            passthrough(e)
        case .controller:
            if Int(e.a) == settings.panicCC { panic(now: e.time) }
        case .clock where usesClock:
            switch external.clock(at: e.time) {
            case .started(let from):
                engine.reset(seed: settings.seed)
                nextStep = from
                firstStep = from
                playing = true
                status.state.store(1, ordering: .relaxed)
            default: break
            }
            status.bpmHundredths.store(Int(external.bpm * 100), ordering: .relaxed)
        case .start where usesClock: _ = external.start()
        case .continue where usesClock: _ = external.continuePlaying()
        case .songPosition where usesClock: external.songPosition(Int(e.a))
        case .stop where usesClock:
            if external.stop() == .stopped {
                playing = false
                status.state.store(2, ordering: .relaxed)
                silenceEverything(now: e.time)
            }
        default:
            break
        }
    }

    private func handle(_ c: EngineCommand, now: Int64) {
        switch c {
        case .panic: panic(now: now)
        case .releaseMelody(let client, let port):
            let source = client << 8 | port
            for i in 0..<(16 * 128) where held[i] == source {
                held[i] = -1
                var off = RawInputEvent()
                off.kind = .noteOff
                off.channel = UInt8(i / 128)
                off.a = Int32(i % 128)
                off.time = now
                if playing { engine.melodyNoteOff(pitch: i % 128, step: stepOf(now)) }
                passthrough(off)
            }
        }
    }

    @inline(__always)
    private func stepOf(_ t: Int64) -> Int { usesClock ? external.step(at: t) : fixed.step(at: t) }

    private func passthrough(_ e: RawInputEvent) {
        let velocity = e.kind == .noteOn ? Int(e.b) : 0
        if settings.melodyPassthrough {
            sequencer?.sendNote(channel: Int(e.channel), pitch: Int(e.a), velocity: velocity, at: nil)
        }
        if settings.synthMelody, let synth {
            if !synth.ring.push(SynthEvent(kind: .note, channel: e.channel, a: UInt8(e.a & 127), b: UInt8(velocity), time: 0)) {
                status.droppedSynthEvents.add(1, ordering: .relaxed)
            }
        }
    }

    // MARK: - Output

    private func generate(step s: Int, at time: Int64, now: Int64) {
        let t0 = monotonicNanoseconds()
        // Late: computed after the step should have sounded. (Step 0 of a performance that starts
        // on its first note is always computed after that note: it cannot be earlier.)
        if now > time && s != firstStep { status.lateSteps.add(1, ordering: .relaxed) }
        buffer.removeAll()
        engine.generate(step: s, into: buffer)
        // A note held past the longest allowed duration is ended here, whatever the engine does.
        for p in 0..<128 where sounding[p] >= 0 && s - sounding[p] >= settings.maxNoteSteps {
            send(pitch: p, velocity: 0, at: time)
        }
        for i in 0..<buffer.count {
            let e = buffer[i]
            send(pitch: Int(e.pitch), velocity: Int(e.velocity), at: time, step: s)
        }
        nextStep = s + 1
        status.stepsGenerated.add(1, ordering: .relaxed)
        let took = Int(monotonicNanoseconds() - t0)
        if took > status.maxStepNanoseconds.load(ordering: .relaxed) { status.maxStepNanoseconds.store(took, ordering: .relaxed) }
    }

    /// An accompaniment note to both outputs, with the sounding bookkeeping.
    private func send(pitch: Int, velocity: Int, at time: Int64, step: Int = 0) {
        if velocity > 0 {
            sounding[pitch] = step
        } else {
            guard sounding[pitch] >= 0 else { return }  // already ended (maximum duration, panic)
            sounding[pitch] = -1
        }
        sendRaw(channel: settings.accompanimentChannel, pitch: pitch, velocity: velocity, at: time)
    }

    private func sendRaw(channel: Int, pitch: Int, velocity: Int, at time: Int64) {
        sequencer?.sendNote(channel: channel, pitch: pitch, velocity: velocity, at: time)
        if let synth, !synth.ring.push(SynthEvent(kind: .note, channel: UInt8(channel), a: UInt8(pitch), b: UInt8(velocity), time: time + queueOffset)) {
            status.droppedSynthEvents.add(1, ordering: .relaxed)
        }
    }

    private func panic(now: Int64) {
        status.panics.add(1, ordering: .relaxed)
        silenceEverything(now: now)
    }

    /// Every note off, at once: the engine's, the queue's pending ones, the synth's.
    private func silenceEverything(now: Int64) {
        buffer.removeAll()
        engine.allNotesOff(step: nextStep, into: buffer)
        sequencer?.removeScheduledOutput()
        for p in 0..<128 where sounding[p] >= 0 {
            sounding[p] = -1
            sequencer?.sendNote(channel: settings.accompanimentChannel, pitch: p, velocity: 0, at: nil)
        }
        sequencer?.sendControl(channel: settings.accompanimentChannel, controller: 123, value: 0, at: nil)  // All Notes Off
        if settings.melodyPassthrough {
            for i in 0..<(16 * 128) where held[i] >= 0 {
                sequencer?.sendNote(channel: i / 128, pitch: i % 128, velocity: 0, at: nil)
            }
        }
        if let synth {
            for c in 0..<16 { _ = synth.ring.push(SynthEvent(kind: .allNotesOff, channel: UInt8(c), a: 0, b: 0, time: 0)) }
        }
    }
}
