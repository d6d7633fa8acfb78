import Engine
import Foundation
import Harmony
import Hindsight
@testable import Live
import Logging
@testable import Memory
import Realtime
import Tokens
import XCTest

/// The rehearsal memory followed live (docs/memory.md, "Live"): the engine thread says when each
/// beat begins, the memory thread plans the next beat from the melody before it and hands the
/// plan back through a ring, and the engine applies it at that beat: what `render --memory`
/// does, so live equals render.
final class LiveMemoryTests: XCTestCase {
    let bpm = 120.0
    var stepNs: Int64 { FixedTempo(bpm: bpm).stepNanoseconds }
    let steps = 512   // 16 bars

    /// A 16-bar melody: a note every 4 steps, 3 steps long, its pitch from a fixed pattern.
    var melody: [(step: Int, pitch: Int, velocity: Int)] {
        var events: [(step: Int, pitch: Int, velocity: Int)] = []
        let scale = [0, 2, 4, 5, 7, 9, 11, 12]
        for i in 0..<(steps / 4 - 1) {
            let p = 60 + scale[(i * 5 + i / 3) % 8]
            events.append((4 * i, p, 80))
            events.append((4 * i + 3, p, 0))
        }
        return events
    }

    /// Take 1 of the same melody, with a chart's chords (a bar each of C, Am, F, G).
    var take1: Take {
        var open: [Int: Int] = [:]
        var notes: [Take.Note] = []
        for e in melody {
            if e.velocity > 0 { open[e.pitch] = e.step } else if let s = open.removeValue(forKey: e.pitch) { notes.append(.init(pitch: e.pitch, start: s, end: e.step)) }
        }
        let chords = (0..<(steps / 8)).map { ["C", "Am", "F", "G"][($0 / 4) % 4] }
        return Take(source: "test", beatsPerBar: 4, bpm: bpm, steps: steps, melody: notes, chords: chords, chordSource: .chart)
    }

    func engine() -> AccompanimentEngine { RulesEngine(configuration: RulesConfiguration(pattern: .block), seed: 3) }

    func memory(_ guesses: SPSCRing<MemoryGuess>) -> LiveMemory {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("live-memory-\(getpid())-\(UUID().uuidString)")
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        let recorder = TakeRecorder(store: MemoryStore(directory: dir), chart: ChordStream(), beatsPerBar: 4, bpm: { 120 }, hindsightModel: nil)
        return LiveMemory(recorder: recorder, takes: [take1], beatsPerBar: 4, guesses: guesses, log: Logger(label: "test"))
    }

    /// Render with the memory of take 1, as `render --memory` plans it.
    func render(memory: Bool) -> [AccompanimentEvent] {
        let e = engine()
        let grid = take1.melody.map { GridNote(pitch: $0.pitch, start: $0.start, end: $0.end, velocity: 80) }
        let frames = MelodyFrames.frames(grid, endStep: grid.map(\.end).max()!)
        let plan = memory ? LiveMemory.renderPlan(follower: MemoryFollower(takes: [take1], beatsPerBar: 4), repeats: nil, frames: frames, engine: e) : nil
        return OfflineRenderer.run(e, melody: melody, steps: steps, seed: 3, maxNoteSteps: 12, beforeStep: plan).filter { $0.step < steps }
    }

    /// Live: the memory thread's work done after every poll of the engine thread (every `every` polls).
    func live(every: Int = 1) -> (played: [AccompanimentEvent], late: Int, memory: LiveMemory) {
        let takes = SPSCRing<TakeEvent>(capacity: 1 << 14), guesses = SPSCRing<MemoryGuess>(capacity: 1024)
        let m = memory(guesses)
        let live = LiveHarness(engine: engine(), settings: loopSettings(bpm: bpm, maxNoteSteps: 12, countIn: 0), takes: takes, guesses: guesses)
        let origin: Int64 = 1_000_000_000
        var input = melody.map { InputEvent.note($0.velocity > 0, channel: 0, pitch: UInt8($0.pitch), velocity: UInt8($0.velocity),
                                                 time: origin + Int64($0.step) * stepNs) }
        var polls = 0
        live.run(until: origin + Int64(steps) * stepNs - stepNs, feeding: &input) {
            polls += 1
            if polls % every == 0 { m.process(takes) }
        }
        let played = live.scheduledNotes(origin: origin, stepNanoseconds: stepNs, channel: 1).filter { $0.step < steps }
        return (played, live.loop.status.lateMemoryGuesses.load(ordering: .relaxed), m)
    }

    func testLiveFollowsTheMemoryAsRenderDoes() {
        let withMemory = render(memory: true), without = render(memory: false)
        XCTAssertFalse(withMemory.isEmpty)
        XCTAssertNotEqual(withMemory, without, "the memory's chords change the render (so the replay can tell they were followed)")
        let (played, late, _) = live()
        XCTAssertEqual(late, 0)
        XCTAssertEqual(played, withMemory, "live and render --memory differ")
    }

    /// A memory thread too slow to plan a beat before it is played: the plans that come late are
    /// dropped and counted, and the performance goes on.
    func testLatePlansAreDroppedAndCounted() {
        // One look every 600 polls of 1 ms: more than a beat (500 ms at 120 BPM).
        let (played, late, _) = live(every: 600)
        XCTAssertGreaterThan(late, 0)
        XCTAssertFalse(played.isEmpty)
    }

    /// An engine that plays nothing and notes what the memory tells it.
    final class MemoryProbe: AccompanimentEngine {
        var told: [(step: Int, chord: ChartChord?)] = []
        func reset(seed: UInt64) {}
        func melodyNoteOn(pitch: Int, velocity: Int, step: Int) {}
        func melodyNoteOff(pitch: Int, step: Int) {}
        func generate(step: Int, into out: EventBuffer) {}
        func allNotesOff(step: Int, into out: EventBuffer) {}
        var droppedMelodyEvents: Int { 0 }
        func memoryChord(_ chord: ChartChord?, step: Int) { told.append((step, chord)) }
        /// The estimates heard, as (step, 12 probabilities); an empty row: none from there.
        var heard: [(step: Int, pi: [Float])] = []
        func memoryHeard(_ pi: UnsafePointer<Float>?, step: Int) {
            heard.append((step, pi.map { Array(UnsafeBufferPointer(start: $0, count: 12)) } ?? []))
        }
    }

    /// With an external clock each Start begins a new performance: a plan made for the one
    /// before (still in the ring, or planned late from its beat markers) is never applied; a
    /// plan for this one is, at its beat.
    func testAPlanForAnEarlierPerformanceIsNotApplied() {
        let probe = MemoryProbe()
        let guesses = SPSCRing<MemoryGuess>(capacity: 16)
        var s = loopSettings(bpm: bpm, maxNoteSteps: 12, countIn: 0)
        s.tempoSource = .midiClock
        let live = LiveHarness(engine: probe, settings: s, takes: SPSCRing<TakeEvent>(capacity: 1024), guesses: guesses)
        let d = MemoryFollower.Guess.chord(.chord(ChordSymbol(root: 2, quality: .major, bass: nil)))
        let g = MemoryFollower.Guess.chord(.chord(ChordSymbol(root: 7, quality: .major, bass: nil)))
        _ = guesses.push(MemoryGuess(beat: 2, performance: 0, guess: d))   // before the first Start
        _ = guesses.push(MemoryGuess(beat: 3, performance: 1, guess: g))   // the first performance's
        let period: Int64 = 20_833_333                                      // 120 BPM, 24 clocks a beat
        var events: [InputEvent] = [.transport(.start, time: 1_000_000)]
        var t: Int64 = 1_000_000
        for _ in 0..<(24 * 5) {
            t += period
            events.append(.transport(.clock, time: t))
        }
        live.run(until: t + period, feeding: &events)
        XCTAssertFalse(probe.told.contains { $0.chord == .chord(ChordSymbol(root: 2, quality: .major, bass: nil)) },
                       "the plan of an earlier performance was applied: \(probe.told)")
        XCTAssertEqual(probe.told.first?.step, 24, "the plan for beat 3 at its first step")
        XCTAssertEqual(probe.told.first?.chord, .chord(ChordSymbol(root: 7, quality: .major, bass: nil)))
        XCTAssertEqual(live.loop.status.lateMemoryGuesses.load(ordering: .relaxed), 0)
    }

    /// With the memory off (`memory.enabled = false`) and repeats on, the daemon keeps a memory
    /// thread to follow repeats but stores nothing: a take that ends is not written.
    func testWithTheMemoryOffNoTakeIsStored() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("live-memory-off-\(getpid())-\(UUID().uuidString)")
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        let store = MemoryStore(directory: dir)
        let recorder = TakeRecorder(store: store, chart: ChordStream(), beatsPerBar: 4, bpm: { 120 }, hindsightModel: nil)
        let m = LiveMemory(recorder: recorder, takes: [], beatsPerBar: 4, guesses: SPSCRing<MemoryGuess>(capacity: 16), log: Logger(label: "test"))
        m.storesTakes = false
        m.store([take1])
        XCTAssertTrue(store.list().takes.isEmpty, "nothing stored with the memory off")
        m.storesTakes = true
        m.store([take1])
        XCTAssertEqual(store.list().takes.count, 1, "stored with the memory on (else this test proves nothing)")
    }

    /// The plan for beat b is made from the melody before beat b − 1 only: a melody that changes
    /// from beat 40 on plans the same chords up to beat 40, live.
    func testPlansSeeOnlyTheMelodyBeforeTheBeatBefore() {
        let guesses = SPSCRing<MemoryGuess>(capacity: 1024)
        let m = memory(guesses)
        let events = SPSCRing<TakeEvent>(capacity: 1 << 14)
        func plans(changeFrom: Int?) -> [MemoryGuess] {
            _ = events.push(TakeEvent(kind: .start, step: 0))   // a new performance
            for e in melody {
                let pitch = changeFrom.map { e.step >= $0 ? e.pitch + 1 : e.pitch } ?? e.pitch
                _ = events.push(TakeEvent(kind: e.velocity > 0 ? .noteOn : .noteOff, step: e.step, pitch: pitch, velocity: e.velocity))
            }
            var out: [MemoryGuess] = []
            // The beat markers after the notes: a plan sees the keys of the steps before its marker.
            for b in 0..<(steps / 8) {
                _ = events.push(TakeEvent(kind: .beat, step: 8 * b))
                m.process(events)
                while let g = guesses.pop() { out.append(g) }
            }
            return out
        }
        let a = plans(changeFrom: nil), b = plans(changeFrom: 8 * 40)
        XCTAssertEqual(a.count, steps / 8)
        XCTAssertTrue(a.contains { $0.kind == .chord }, "take 1 was recognized")
        XCTAssertEqual(Array(a.prefix(40)), Array(b.prefix(40)), "plans up to beat 40 see only the melody before beat 39")
        XCTAssertNotEqual(a, b)
    }

    /// Within a take (docs/memory.md, "Within a take"): a melody of two 4-bar phrases played
    /// twice, A B A B. The memory thread plans each beat from an earlier occurrence of the
    /// passage, its estimates made by the worker thread a bar ahead, and gives the engine exactly
    /// the estimates `render` gives it.
    func testRepeatsWithinATakeAreFollowedLiveAsRenderFollowsThem() throws {
        let model = try HindsightModel(path: URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/hindsight/tiny.safetensors").path)
        let phraseA = melody.filter { $0.step < 128 }, phraseB = melody.filter { $0.step >= 128 && $0.step < 256 }
        let abab = phraseA + phraseB + (phraseA + phraseB).map { ($0.step + 256, $0.pitch, $0.velocity) }
        // Render.
        let rendered = MemoryProbe()
        let grid = abab.filter { $0.velocity > 0 }.map { on in
            GridNote(pitch: on.pitch, start: on.step, end: abab.first { $0.step > on.step && $0.pitch == on.pitch && $0.velocity == 0 }!.step, velocity: 80)
        }
        let frames = MelodyFrames.frames(grid, endStep: steps)
        let follower = RepeatFollower(beatsPerBar: 4)
        let plan = LiveMemory.renderPlan(follower: nil, repeats: (follower, model), frames: frames, engine: rendered)
        _ = OfflineRenderer.run(rendered, melody: abab, steps: steps, seed: 3, maxNoteSteps: 12, beforeStep: plan)
        XCTAssertFalse(follower.recognitions.isEmpty, "the second A was recognized")
        XCTAssertGreaterThan(rendered.heard.filter { !$0.pi.isEmpty }.count, 8, "estimates were given for the repeat")
        // Live, the worker thread making the estimates.
        let played = MemoryProbe()
        let takes = SPSCRing<TakeEvent>(capacity: 1 << 14), guesses = SPSCRing<MemoryGuess>(capacity: 1024)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("live-repeats-\(getpid())-\(UUID().uuidString)")
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        let recorder = TakeRecorder(store: MemoryStore(directory: dir), chart: ChordStream(), beatsPerBar: 4, bpm: { 120 }, hindsightModel: nil)
        let m = LiveMemory(recorder: recorder, takes: [], beatsPerBar: 4, guesses: guesses, log: Logger(label: "test"), repeats: model)
        XCTAssertTrue(m.followsRepeats)
        try m.estimator!.start()
        defer { m.estimator!.stop() }
        let live = LiveHarness(engine: played, settings: loopSettings(bpm: bpm, maxNoteSteps: 12, countIn: 0), takes: takes, guesses: guesses)
        let origin: Int64 = 1_000_000_000
        var input = abab.map { InputEvent.note($0.velocity > 0, channel: 0, pitch: UInt8($0.pitch), velocity: UInt8($0.velocity),
                                               time: origin + Int64($0.step) * stepNs) }
        live.run(until: origin + Int64(steps) * stepNs - stepNs, feeding: &input) { m.process(takes) }
        XCTAssertEqual(live.loop.status.lateMemoryGuesses.load(ordering: .relaxed), 0)
        // Beat 0 is never planned live (its marker is the first), and render plans nothing for it.
        XCTAssertEqual(rendered.heard.first?.step, 0)
        XCTAssertEqual(rendered.heard.first?.pi, [])
        let upTo = { (h: [(step: Int, pi: [Float])]) in h.filter { $0.step > 0 && $0.step < self.steps - 8 } }
        XCTAssertEqual(upTo(played.heard).map(\.step), upTo(rendered.heard).map(\.step))
        XCTAssertEqual(upTo(played.heard).map(\.pi), upTo(rendered.heard).map(\.pi), "live and render hear different estimates")
    }
}
