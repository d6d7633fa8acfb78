import XCTest
@testable import Engine
import Tokens

final class MelodyTrackerTests: XCTestCase {
    /// The streaming frames equal the offline frames of docs/tokens.md, for polyphonic melodies
    /// with touching notes of one pitch.
    func testStreamingFramesEqualOfflineFrames() {
        for seed in 0..<50 as Range<UInt64> {
            var rng = SplitMix64(seed: seed)
            var notes: [GridNote] = []
            var lastEnd = [Int: Int]()
            for _ in 0..<40 {
                let p = 60 + Int(rng.next() % 12)
                let s = (lastEnd[p] ?? 0) + Int(rng.next() % 10)
                let e = s + Int(rng.next() % 8)  // may be zero-length: one step on the grid
                lastEnd[p] = max(e, s + 1)
                notes.append(GridNote(pitch: p, start: s, end: e, velocity: 1 + Int(rng.next() % 127)))
            }
            let end = notes.map { max($0.end, $0.start + 1) }.max()! + 3
            let expected = MelodyFrames.frames(notes, endStep: end)
            // Events as a sequencer delivers them: by step, note-offs first.
            var events: [(Int, Int, Int, Int)] = []  // step, order, pitch, velocity
            for n in notes {
                events.append((n.start, 1, n.pitch, n.velocity))
                // A zero-length note's off shares its on's step and must come after it.
                events.append((max(n.end, n.start), n.end <= n.start ? 2 : 0, n.pitch, 0))
            }
            events.sort { ($0.0, $0.1, $0.2) < ($1.0, $1.1, $1.2) }
            let tracker = MelodyTracker()
            var frames: [MelodyFrame] = []
            var i = 0
            for s in 1...end {
                while i < events.count && events[i].0 < s {
                    tracker.push(pitch: events[i].2, velocity: events[i].3, step: events[i].0)
                    i += 1
                }
                tracker.finalize(before: s) { _, f in frames.append(f) }
            }
            let firstDifference = zip(frames, expected).enumerated().first { $0.element.0 != $0.element.1 }?.offset
            XCTAssertTrue(frames == expected, "seed \(seed): first difference at step \(firstDifference ?? -1)")
        }
    }

    func testEventsForLaterStepsAreHeldBack() {
        let tracker = MelodyTracker()
        tracker.push(pitch: 60, velocity: 100, step: 0)
        tracker.push(pitch: 72, velocity: 100, step: 3)  // heard early: not visible before step 3
        var frames: [MelodyFrame] = []
        tracker.finalize(before: 3) { _, f in frames.append(f) }
        XCTAssertEqual(frames.map(\.pitch), [60, 60, 60])
        tracker.finalize(before: 4) { _, f in frames.append(f) }
        XCTAssertEqual(frames.last, MelodyFrame(pitch: 72, onset: true, velocityBin: 25))
        XCTAssertEqual(tracker.frame(at: 1)?.pitch, 60)
        XCTAssertNil(tracker.frame(at: 4))
    }

    func testAFloodIsCountedNotStored() {
        let tracker = MelodyTracker(pendingCapacity: 16, historyCapacity: 16)
        for i in 0..<100 { tracker.push(pitch: 60 + i % 12, velocity: i % 2 == 0 ? 90 : 0, step: 5) }
        XCTAssertEqual(tracker.droppedEvents, 84)
        var count = 0
        tracker.finalize(before: 10) { _, _ in count += 1 }
        XCTAssertEqual(count, 10)
    }
}
