import Engine
import Harmony
@testable import Live
import Memory
import Realtime
import Synchronization

/// A simulated queue clock for the live loop's tests (a value the test advances).
/// The loop settings the replay tests share: a fixed tempo, seed 3.
func loopSettings(bpm: Double, maxNoteSteps: Int, countIn: Int) -> EngineLoop.Settings {
    var s = EngineLoop.Settings()
    s.bpm = bpm
    s.maxNoteSteps = maxNoteSteps
    s.countInBars = countIn
    s.seed = 3
    return s
}

final class SimulatedClock: @unchecked Sendable {
    // @unchecked Sendable: the tests drive the loop on one thread.
    var now: Int64 = 0
}

/// An engine that plays a fixed score: `(step, pitch, velocity)`, whatever the melody.
final class ScoreEngine: AccompanimentEngine {
    let score: [AccompanimentEvent]
    private var sounding = Set<UInt8>()
    init(_ score: [(Int, UInt8, UInt8)]) { self.score = score.map { AccompanimentEvent(step: $0.0, pitch: $0.1, velocity: $0.2) } }
    func reset(seed: UInt64) { sounding.removeAll() }
    func melodyNoteOn(pitch: Int, velocity: Int, step: Int) {}
    func melodyNoteOff(pitch: Int, step: Int) {}
    func generate(step: Int, into out: EventBuffer) {
        for e in score where e.step == step {
            if e.isNoteOn { sounding.insert(e.pitch) } else { sounding.remove(e.pitch) }
            out.append(e)
        }
    }
    func allNotesOff(step: Int, into out: EventBuffer) {
        for p in sounding.sorted() { out.append(AccompanimentEvent(step: step, pitch: p, velocity: 0)) }
        sounding.removeAll()
    }
    var droppedMelodyEvents: Int { 0 }
}

/// The live loop on a simulated clock: the engine thread's calls, made by the test. With
/// `reader` settings, the input goes through an `InputReader` first (the reader thread's
/// routing: melody or left hand), whose passthrough goes to `passthrough`.
struct LiveHarness {
    let clock = SimulatedClock()
    let output: RecordingOutput
    let passthrough: RecordingOutput
    let input = SPSCRing<InputEvent>(capacity: 8192)
    let loop: EngineLoop
    let reader: InputReader?

    init(engine: AccompanimentEngine, settings: EngineLoop.Settings, harmony: ChordStream = ChordStream(),
         leftHand: LeftHand? = nil, reader readerSettings: InputReader.Settings? = nil, takes: SPSCRing<TakeEvent>? = nil,
         guesses: SPSCRing<MemoryGuess>? = nil) {
        let c = clock
        output = RecordingOutput(clock: { c.now })
        passthrough = RecordingOutput(name: "synth", clock: { c.now })
        loop = EngineLoop(engine: engine, settings: settings, outputs: [output], input: input, harmony: harmony, leftHand: leftHand,
                          takes: takes, guesses: guesses)
        let (sink, ring) = (passthrough, input)
        reader = readerSettings.map {
            InputReader(settings: $0, passthrough: [.init(sink)], ownClient: 128, engineInput: ring, clock: { c.now })
        }
    }

    /// Advances the clock to `t` in steps of at most 1 ms, polling as the engine thread would;
    /// each event is handed on (to the reader, or straight into the ring) once its time has come.
    func run(until t: Int64, feeding events: inout [InputEvent], afterPoll: (() -> Void)? = nil) {
        while clock.now < t {
            clock.now = min(t, clock.now + 1_000_000)
            while let e = events.first, e.time <= clock.now {
                if let reader { reader.handle(e) } else { _ = input.push(e) }
                events.removeFirst()
            }
            _ = loop.poll(now: clock.now)
            afterPoll?()
        }
    }

    /// The scheduled accompaniment notes as (step, pitch, velocity) on a grid from `origin`.
    func scheduledNotes(origin: Int64, stepNanoseconds: Int64, channel: UInt8) -> [AccompanimentEvent] {
        output.records.compactMap { r in
            guard r.path == .scheduled, case .note(let ch, let pitch, let velocity) = r.event, ch == channel else { return nil }
            let offset = r.time - origin
            precondition(offset % stepNanoseconds == 0, "a note off the grid: \(offset) ns")
            return AccompanimentEvent(step: Int(offset / stepNanoseconds), pitch: pitch, velocity: velocity)
        }
    }
}
