import Config
import Engine
import Foundation
import Harmony
@testable import Live
@testable import Memory
import Realtime
import XCTest

/// The rehearsal memory's recorder live (docs/memory.md, "Live"): the engine thread hands the
/// melody's keys with their steps and the left hand's hints through a ring; the control thread
/// makes a take of each performance with the chords the chart or the left hand gave.
final class TakeRecorderTests: XCTestCase {
    let bpm = 120.0
    var stepNs: Int64 { FixedTempo(bpm: bpm).stepNanoseconds }
    typealias Key = LiveHarmonyTests.Key

    func store() -> MemoryStore {
        MemoryStore(directory: FileManager.default.temporaryDirectory.appendingPathComponent("takes-\(getpid())-\(UUID().uuidString)"))
    }

    func keys(_ keys: [Key], channel: UInt8, origin: Int64) -> [InputEvent] {
        keys.map { .note($0.velocity > 0, channel: channel, pitch: UInt8($0.pitch), velocity: UInt8($0.velocity),
                         time: origin + Int64($0.step) * stepNs, client: 20) }
    }

    /// A performance with a left hand on a chord channel: the take holds the melody's notes at
    /// their steps, and per beat the left hand's chord (counting from the beat it was struck on).
    func testALiveTakeHoldsTheMelodyAndTheLeftHandsChords() throws {
        let ring = SPSCRing<TakeEvent>(capacity: 1024)
        var reader = InputReader.Settings()
        reader.chordChannel = 1
        let live = LiveHarness(engine: RulesEngine(), settings: loopSettings(bpm: bpm, maxNoteSteps: 12, countIn: 0),
                               leftHand: LeftHand(), reader: reader, takes: ring)
        let origin: Int64 = 1_000_000_000
        let melody = LiveHarmonyTests.melody
        let chords: [Key] = [(0, 48, 70), (0, 52, 70), (0, 55, 70), (31, 48, 0), (31, 52, 0), (31, 55, 0),
                             (32, 53, 70), (32, 57, 70), (32, 60, 70), (96, 53, 0), (96, 57, 0), (96, 60, 0)]
        var input = (keys(melody, channel: 0, origin: origin) + keys(chords, channel: 1, origin: origin)).sorted { $0.time < $1.time }
        live.run(until: origin + 128 * stepNs, feeding: &input)
        let recorder = TakeRecorder(store: store(), chart: ChordStream(), beatsPerBar: 4, bpm: { 120 }, hindsightModel: nil)
        XCTAssertTrue(recorder.drain(ring).isEmpty, "no take ends before the performance does")
        let take = try XCTUnwrap(recorder.finish())
        var want: [Take.Note] = []
        var open: [Int: Int] = [:]
        for k in melody { if k.velocity > 0 { open[k.pitch] = k.step } else if let s = open.removeValue(forKey: k.pitch) { want.append(.init(pitch: k.pitch, start: s, end: k.step)) } }
        XCTAssertEqual(take.melody, want.sorted { ($0.start, $0.pitch) < ($1.start, $1.pitch) })
        XCTAssertEqual(take.chordSource, .leftHand)
        XCTAssertEqual(take.steps, 128)
        XCTAssertEqual(take.chords.count, 16)
        XCTAssertEqual(Array(take.chords[0..<4]), ["C", "C", "C", "C"], "struck on step 0: C from beat 1")
        XCTAssertEqual(Array(take.chords[4..<16]), Array(repeating: "F", count: 12), "F struck on beat 5, held after its keys are let go")
        XCTAssertEqual(take.source, "live")
        XCTAssertEqual(live.loop.status.lostTakeEvents.load(ordering: .relaxed), 0)
        XCTAssertNil(recorder.finish(), "nothing more was played")
        try recorder.store.save(take)
        var stored = take
        stored.sequence = 1   // the store's own order (the first take of this memory)
        XCTAssertEqual(recorder.store.list().takes, [stored])
        try? FileManager.default.removeItem(at: recorder.store.directory)
    }

    /// With a chart, its chords; with an external clock, each Start–Stop is a take of its own; a
    /// full ring loses events and counts them.
    func testEachPerformanceIsATake() throws {
        let ring = SPSCRing<TakeEvent>(capacity: 1024)
        var s = loopSettings(bpm: bpm, maxNoteSteps: 12, countIn: 0)
        s.tempoSource = .midiClock
        let chart = try ChordStream(chart: ChordChart(text: "| Am | Dm |"), beatsPerBar: 4)
        let live = LiveHarness(engine: RulesEngine(), settings: s, harmony: chart, takes: ring)
        let period: Int64 = 20_833_333
        var events: [InputEvent] = []
        var t: Int64 = 1_000_000
        for take in 0..<2 {
            events.append(.transport(.start, time: t))
            for k in 0..<192 {
                t += period
                events.append(.transport(.clock, time: t))
                if k % 12 == 1 { events.append(.note(true, channel: 0, pitch: UInt8(60 + take), velocity: 80, time: t + 1000, client: 20)) }
                if k % 12 == 7 { events.append(.note(false, channel: 0, pitch: UInt8(60 + take), time: t + 1000, client: 20)) }
            }
            t += period
            events.append(.transport(.stop, time: t))
        }
        live.run(until: t + period, feeding: &events)
        let recorder = TakeRecorder(store: store(), chart: chart, beatsPerBar: 4, bpm: { 120 }, hindsightModel: nil)
        let takes = recorder.drain(ring)
        XCTAssertEqual(takes.count, 2)
        XCTAssertEqual(takes.map { Set($0.melody.map(\.pitch)) }, [[60], [61]])
        XCTAssertEqual(takes.map(\.melody.count), [16, 16])
        for take in takes {
            XCTAssertEqual(take.chordSource, .chart)
            XCTAssertEqual(Array(take.chords.prefix(8)), ["Am", "Am", "Am", "Am", "Dm", "Dm", "Dm", "Dm"])
        }
        XCTAssertNil(recorder.finish())

        let small = SPSCRing<TakeEvent>(capacity: 4)
        let flooded = LiveHarness(engine: RulesEngine(), settings: loopSettings(bpm: bpm, maxNoteSteps: 12, countIn: 0), takes: small)
        var many = (0..<40).flatMap { i in keys([(i, 60 + i % 12, 80), (i, 60 + i % 12, 0)], channel: 0, origin: 2_000_000_000) }
        flooded.run(until: 2_000_000_000 + 64 * stepNs, feeding: &many)
        // 80 keys and a marker at each beat's first step computed, 4 of them kept.
        let markers = flooded.loop.status.lastStep.load(ordering: .relaxed) / 8 + 1
        XCTAssertEqual(flooded.loop.status.lostTakeEvents.load(ordering: .relaxed), 80 + markers - small.capacity)
    }
}
