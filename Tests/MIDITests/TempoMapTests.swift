import XCTest
@testable import MIDI

final class TempoMapTests: XCTestCase {
    func testSecondsAcrossTempoChanges() {
        let map = TempoMap(ticksPerQuarter: 480, changes: [
            .init(tick: 0, microsecondsPerQuarter: 500_000),   // 120 BPM
            .init(tick: 960, microsecondsPerQuarter: 1_000_000), // 60 BPM after 2 beats
        ])
        XCTAssertEqual(map.seconds(atTick: 480), 0.5, accuracy: 1e-12)
        XCTAssertEqual(map.seconds(atTick: 960), 1.0, accuracy: 1e-12)
        XCTAssertEqual(map.seconds(atTick: 1440), 2.0, accuracy: 1e-12)
        XCTAssertEqual(map.tick(atSeconds: 2.0), 1440, accuracy: 1e-9)
        XCTAssertEqual(map.tick(atSeconds: 0.25), 240, accuracy: 1e-9)
        XCTAssertEqual(map.bpm(atTick: 1000), 60, accuracy: 1e-9)
        XCTAssertEqual(map.seconds(atStep: 8), 0.5, accuracy: 1e-12)
    }

    func testDefaultTempoIs120() {
        let map = TempoMap(ticksPerQuarter: 96, changes: [])
        XCTAssertEqual(map.seconds(atTick: 96), 0.5, accuracy: 1e-12)
        XCTAssertEqual(MIDIFile(ticksPerQuarter: 96).tempoMap.seconds(atTick: 192), 1.0, accuracy: 1e-12)
    }

    func testStepRoundsToNearestWithHalvesUp() {
        // ppq 480: a step is 60 ticks.
        XCTAssertEqual(Grid.step(ofTick: 0, ticksPerQuarter: 480), 0)
        XCTAssertEqual(Grid.step(ofTick: 29, ticksPerQuarter: 480), 0)
        XCTAssertEqual(Grid.step(ofTick: 30, ticksPerQuarter: 480), 1)
        XCTAssertEqual(Grid.step(ofTick: 89, ticksPerQuarter: 480), 1)
        XCTAssertEqual(Grid.step(ofTick: 90, ticksPerQuarter: 480), 2)
        XCTAssertEqual(Grid.step(ofTick: -31, ticksPerQuarter: 480), -1)
        // ppq 100 (not a multiple of 8): a step is 12.5 ticks.
        XCTAssertEqual(Grid.step(ofTick: 6, ticksPerQuarter: 100), 0)
        XCTAssertEqual(Grid.step(ofTick: 7, ticksPerQuarter: 100), 1)   // 0.56 steps
        XCTAssertEqual(Grid.step(ofTick: 100, ticksPerQuarter: 100), 8)
        for step in 0..<200 { XCTAssertEqual(Grid.step(ofTick: Grid.tick(ofStep: step, ticksPerQuarter: 100), ticksPerQuarter: 100), step) }
        XCTAssertEqual(Grid.stepsPerBar(TimeSignature(numerator: 6, denominator: 8)), 24)
        XCTAssertEqual(Grid.stepsPerBar(TimeSignature(numerator: 4, denominator: 4)), 32)
    }

    func testFileCollectsTempoAndTimeSignatureFromEveryTrack() {
        let file = MIDIFile(format: 1, ticksPerQuarter: 480, tracks: [
            Track(events: [TrackEvent(tick: 0, .timeSignature(numerator: 3, denominatorPower: 2, clocksPerClick: 24, thirtySecondsPerQuarter: 8))]),
            Track(events: [TrackEvent(tick: 480, .tempo(microsecondsPerQuarter: 250_000))]),
        ])
        XCTAssertTrue(file.hasTempo)
        XCTAssertEqual(file.timeSignatures, [TimeSignature(tick: 0, numerator: 3, denominator: 4)])
        XCTAssertEqual(file.tempoMap.seconds(atTick: 960), 0.75, accuracy: 1e-12)
    }
}
