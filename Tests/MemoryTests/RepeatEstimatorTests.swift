import Foundation
import Hindsight
@testable import Memory

import Tokens
import XCTest

/// The worker that makes the repeat follower's estimates (docs/memory.md, "Within a take").
final class RepeatEstimatorTests: XCTestCase {
    func model() throws -> HindsightModel {
        try HindsightModel(path: URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/hindsight/tiny.safetensors").path)
    }

    /// 12 bars of melody: a note every 3 steps.
    let frames: [MelodyFrame] = (0..<384).map { (s: Int) -> MelodyFrame in
        if s % 3 == 2 { return .rest }
        let pitch = 60 + (s / 3 * 7) % 12
        return MelodyFrame(pitch: Int8(pitch), onset: s % 3 == 0, velocityBin: 4)
    }

    func testTheWorkerMakesWhatRenderMakes() throws {
        let m = try model()
        let e = RepeatEstimator(model: m, beatsPerBar: 4)
        XCTAssertNil(e.take(end: 8), "no worker: the caller makes it")
        try e.start()
        defer { e.stop() }
        e.submit(end: 8, frames: frames[..<64])
        let made = e.take(end: 8)
        XCTAssertEqual(made, RepeatEstimator.estimate(frames: frames[...], start: 0, end: 8, beatsPerBar: 4, model: m))
        XCTAssertEqual(made?.count, 8 * 12)
        XCTAssertNil(e.take(end: 12), "not asked for")
    }

    /// Deep into a long take the worker is given only the window its estimate reads, and makes
    /// what render makes from the whole take.
    func testAJobLateInALongTakeIsItsWindow() throws {
        let m = try model()
        let e = RepeatEstimator(model: m, beatsPerBar: 4)
        try e.start()
        defer { e.stop() }
        let long = (0..<(8 * 400)).map { frames[$0 % frames.count] }
        let end = 360
        XCTAssertGreaterThan(RepeatFollower.estimateStart(end: end, beatsPerBar: 4), 0, "the window starts after step 0")
        e.submit(end: end, frames: long[..<(8 * end)])
        XCTAssertEqual(e.take(end: end), RepeatEstimator.estimate(frames: long[...], start: RepeatFollower.estimateStart(end: end, beatsPerBar: 4),
                                                                 end: end, beatsPerBar: 4, model: m))
    }

    func testAResultOfAnEarlierPerformanceIsNeverTaken() throws {
        let e = RepeatEstimator(model: try model(), beatsPerBar: 4)
        try e.start()
        defer { e.stop() }
        e.submit(end: 4, frames: frames[..<32])
        _ = e.take(end: 4)
        e.restart()
        XCTAssertNil(e.take(end: 4))
    }

    /// Past the melody's end the window is rests, as live hears it.
    func testTheWindowIsPaddedWithRests() throws {
        let m = try model()
        let padded = RepeatEstimator.estimate(frames: frames[..<40], start: 0, end: 8, beatsPerBar: 4, model: m)
        let explicit = RepeatEstimator.estimate(frames: (Array(frames[..<40]) + [MelodyFrame](repeating: .rest, count: 24))[...],
                                                start: 0, end: 8, beatsPerBar: 4, model: m)
        XCTAssertEqual(padded, explicit)
    }
}
