import Engine
import Foundation
@testable import Live
import XCTest

/// The live loop on the host, without a sequencer: a simulated clock, a recording output.
final class EngineLoopTests: XCTestCase {
    let bpm = 120.0
    var stepNs: Int64 { FixedTempo(bpm: bpm).stepNanoseconds }

    func settings(maxNoteSteps: Int = 64, countIn: Int = 0) -> EngineLoop.Settings {
        loopSettings(bpm: bpm, maxNoteSteps: maxNoteSteps, countIn: countIn)
    }

    /// A melody heard live at its grid times from `origin` (the first note defines beat 1).
    func liveInput(_ melody: [(step: Int, pitch: Int, velocity: Int)], origin: Int64) -> [InputEvent] {
        melody.map { .note($0.velocity > 0, channel: 0, pitch: UInt8($0.pitch), velocity: UInt8($0.velocity), time: origin + Int64($0.step) * stepNs) }
    }

    /// The replay property with the note-offs: the live loop schedules exactly what the offline
    /// renderer emits, at the grid times, including the notes the maximum duration ends.
    func assertReplay(_ makeEngine: () throws -> AccompanimentEngine, maxNoteSteps: Int, file: StaticString = #filePath, line: UInt = #line) throws {
        let melody: [(step: Int, pitch: Int, velocity: Int)] = [(0, 72, 90), (6, 72, 0), (8, 74, 80), (30, 74, 0), (32, 76, 85),
                                                                (70, 76, 0), (72, 79, 70), (100, 79, 0), (104, 77, 80), (124, 77, 0)]
        let steps = 128
        let offline = OfflineRenderer.run(try makeEngine(), melody: melody, steps: steps, seed: 3, maxNoteSteps: maxNoteSteps)
            .filter { $0.step < steps }
        let origin: Int64 = 5_000_000_000
        let live = LiveHarness(engine: try makeEngine(), settings: settings(maxNoteSteps: maxNoteSteps))
        var input = liveInput(melody, origin: origin)
        live.run(until: origin + Int64(steps) * stepNs - stepNs, feeding: &input)
        let played = live.scheduledNotes(origin: origin, stepNanoseconds: stepNs, channel: 1).filter { $0.step < steps }
        XCTAssertFalse(offline.isEmpty, "the engine played nothing", file: file, line: line)
        XCTAssertTrue(offline.contains { !$0.isNoteOn }, "no note-offs to compare", file: file, line: line)
        XCTAssertEqual(played, offline, "live and render differ", file: file, line: line)
    }

    func testReplayWithTheRulesEngineIncludesNoteOffs() throws {
        try assertReplay({ RulesEngine(configuration: RulesConfiguration(pattern: .block), seed: 3) }, maxNoteSteps: 12)
    }

    func testReplayWithTheShippedModelIncludesNoteOffs() throws {
        let path: String
        // The shipped model is in the repository: a missing one fails the test.
        path = try ShippedModel.locate(nil)
        var c = NeuralConfiguration()
        c.maxNoteSteps = 24
        try assertReplay({ try ShippedModel.engine(path: path, precision: .fp16, configuration: c, seed: 3) }, maxNoteSteps: 24)
    }

    func testMaximumDurationEndsANoteAtExactlyItsLimitLiveAndInRender() {
        // The engine holds 60 from step 2 and ends it at step 40; the limit is 16 steps.
        let score: [(Int, UInt8, UInt8)] = [(2, 60, 90), (40, 60, 0), (41, 62, 80), (50, 62, 0)]
        let offline = OfflineRenderer.run(ScoreEngine(score), melody: [(0, 70, 90)], steps: 64, seed: 0, maxNoteSteps: 16)
        XCTAssertEqual(offline.map { [$0.step, Int($0.pitch), Int($0.velocity)] },
                       [[2, 60, 90], [18, 60, 0], [41, 62, 80], [50, 62, 0]], "the engine's late note-off for 60 is dropped")
        let origin: Int64 = 1_000_000_000
        let live = LiveHarness(engine: ScoreEngine(score), settings: settings(maxNoteSteps: 16))
        var input = liveInput([(0, 70, 90)], origin: origin)
        live.run(until: origin + 63 * stepNs, feeding: &input)
        XCTAssertEqual(live.scheduledNotes(origin: origin, stepNanoseconds: stepNs, channel: 1), offline.filter { $0.step < 64 })
    }

    func testCountInClicksThenBeatOne() {
        var s = settings(countIn: 1)
        s.bpm = 60
        let live = LiveHarness(engine: ScoreEngine([(0, 48, 100)]), settings: s)
        let start: Int64 = 2_000_000_000
        live.clock.now = start
        live.loop.start(now: start)
        let clicks = live.output.records.filter { r in
            if case .note(9, _, let v) = r.event, v > 0 { return true } else { return false }
        }
        XCTAssertEqual(clicks.map(\.time), (0..<4).map { start + 500_000_000 + Int64($0) * 1_000_000_000 }, "4 clicks, a beat apart, from half a beat on")
        XCTAssertEqual(clicks.map(\.event), [.note(channel: 9, pitch: 76, velocity: 100)] + Array(repeating: .note(channel: 9, pitch: 77, velocity: 100), count: 3))
        let offs = live.output.records.filter { r in if case .note(9, _, 0) = r.event { return true } else { return false } }
        XCTAssertEqual(offs.count, 4, "every click ends")
        // Beat 1 of bar 1 is the beat after the count-in: step 0 is computed half a step before it.
        let beatOne = start + 500_000_000 + 4_000_000_000
        var none: [InputEvent] = []
        live.run(until: beatOne - FixedTempo(bpm: 60).stepNanoseconds / 2 - 1, feeding: &none)
        XCTAssertEqual(live.loop.status.stepsGenerated.load(ordering: .relaxed), 0, "nothing before the deadline of step 0")
        live.run(until: beatOne - FixedTempo(bpm: 60).stepNanoseconds / 2, feeding: &none)
        XCTAssertEqual(live.loop.status.lastStep.load(ordering: .relaxed), 0)
        XCTAssertEqual(live.output.records.last?.event, .note(channel: 1, pitch: 48, velocity: 100))
        XCTAssertEqual(live.output.records.last?.time, beatOne)
    }

    func testPanicCancelsWhatIsScheduledAndEndsEverySoundingNote() {
        let live = LiveHarness(engine: ScoreEngine([(0, 48, 90), (0, 55, 90), (4, 64, 90), (8, 67, 90)]), settings: settings())
        let origin: Int64 = 1_000_000_000
        var input = liveInput([(0, 72, 90)], origin: origin)
        live.run(until: origin + 4 * stepNs, feeding: &input)  // steps 0…4 computed (4 half a step ahead)
        var panic = InputEvent.transport(.panic, time: live.clock.now)
        panic.kind = .panic
        _ = live.input.push(panic)
        _ = live.loop.poll(now: live.clock.now)
        let records = live.output.records
        guard let cancel = records.firstIndex(where: { $0.path == .cancel }) else { return XCTFail("nothing cancelled") }
        let after = records[(cancel + 1)...].map(\.event)
        XCTAssertEqual(after, [.note(channel: 1, pitch: 48, velocity: 0), .note(channel: 1, pitch: 55, velocity: 0),
                               .note(channel: 1, pitch: 64, velocity: 0), .allNotesOff(channel: 1)],
                       "each sounding note (64 only scheduled, but possibly already sounding) ends, then All Notes Off")
        XCTAssertTrue(records[(cancel + 1)...].allSatisfy { $0.path == .now })
        XCTAssertEqual(live.loop.status.panics.load(ordering: .relaxed), 1)
        // The engine goes on after a panic, and its notes still end.
        live.run(until: origin + 10 * stepNs, feeding: &input)
        XCTAssertEqual(live.output.records.last?.event, .note(channel: 1, pitch: 67, velocity: 90))
    }

    /// A panic between the computing of a step and its sounding: the step's note-off was
    /// scheduled, then cancelled with everything queued, so the note still sounds and needs its
    /// own note-off (the VM's panic test once caught it sounding until the All Notes Off).
    func testPanicBeforeAScheduledNoteOffSoundsStillEndsThatNote() {
        let live = LiveHarness(engine: ScoreEngine([(0, 36, 90), (0, 60, 90), (4, 36, 0), (6, 60, 0)]), settings: settings())
        let origin: Int64 = 1_000_000_000
        var input = liveInput([(0, 72, 90)], origin: origin)
        live.run(until: origin + 4 * stepNs - stepNs / 2, feeding: &input)  // step 4 computed, not yet sounding
        XCTAssertEqual(live.loop.status.lastStep.load(ordering: .relaxed), 4)
        var panic = InputEvent()
        panic.kind = .panic
        panic.time = live.clock.now
        _ = live.input.push(panic)
        _ = live.loop.poll(now: live.clock.now)
        let records = live.output.records
        guard let cancel = records.firstIndex(where: { $0.path == .cancel }) else { return XCTFail("nothing cancelled") }
        XCTAssertEqual(records[(cancel + 1)...].map(\.event),
                       [.note(channel: 1, pitch: 36, velocity: 0), .note(channel: 1, pitch: 60, velocity: 0), .allNotesOff(channel: 1)],
                       "36's own note-off was still queued when the panic cancelled it")
    }

    func testExternalClockStartPlaysAndStopSilences() {
        var s = settings()
        s.tempoSource = .midiClock
        let live = LiveHarness(engine: ScoreEngine([(0, 50, 90), (5, 57, 90)]), settings: s)
        let period: Int64 = 20_833_333  // 24 PPQN at 120 BPM
        var events: [InputEvent] = [.transport(.start, time: 1_000_000)]
        for k in 0..<40 { events.append(.transport(.clock, time: 2_000_000 + Int64(k) * period)) }
        events.append(.transport(.stop, time: 2_000_000 + 40 * period))
        live.run(until: 2_000_000 + 41 * period, feeding: &events)
        let st = live.loop.status
        XCTAssertEqual(EngineStatus.State(rawValue: st.state.load(ordering: .relaxed)), .stopped)
        XCTAssertEqual(Double(st.bpmHundredths.load(ordering: .relaxed)) / 100, 120, accuracy: 0.5)
        let r = live.output.records
        XCTAssertTrue(r.contains { $0.path == .scheduled && $0.event == .note(channel: 1, pitch: 57, velocity: 90) })
        guard let cancel = r.lastIndex(where: { $0.path == .cancel }) else { return XCTFail("Stop cancelled nothing") }
        XCTAssertEqual(r[(cancel + 1)...].map(\.event), [.note(channel: 1, pitch: 50, velocity: 0), .note(channel: 1, pitch: 57, velocity: 0), .allNotesOff(channel: 1)])
    }

    func testShutdownEndsEveryNote() {
        let live = LiveHarness(engine: ScoreEngine([(0, 48, 90), (2, 52, 90)]), settings: settings())
        var input = liveInput([(0, 72, 90)], origin: 1_000_000_000)
        live.run(until: 1_000_000_000 + 3 * stepNs, feeding: &input)
        live.loop.shutdown(now: live.clock.now)
        XCTAssertEqual(live.output.records.suffix(3).map(\.event), [.note(channel: 1, pitch: 48, velocity: 0), .note(channel: 1, pitch: 52, velocity: 0), .allNotesOff(channel: 1)])
    }
}
