@testable import Live
import XCTest

final class LiveReportTests: XCTestCase {
    func testStatusLineAndChanges() {
        var before = LiveSnapshot()
        before.bpm = 100
        var now = before
        now.state = .playing
        now.steps = 640
        now.notes = 210
        now.droppedInput = 3
        now.lostOutput = ["synth": 2]
        now.panics = 1
        let h = LatencyHistogram(name: "melody → synth")
        h.record(nanoseconds: 120_000)
        let line = now.statusLine(melodyLatency: h)
        XCTAssertTrue(line.hasPrefix("playing, 100.0 BPM; 640 steps; 210 notes; melody → synth p99 0.12 ms"), line)
        XCTAssertTrue(line.hasSuffix("late 0, dropped 5"), line)
        let changes = now.changes(since: before)
        XCTAssertEqual(changes.filter(\.warning).map(\.text), ["input flood: 3 events dropped (3 in all)", "synth: 2 events could not be delivered in all"])
        XCTAssertEqual(changes.filter { !$0.warning }.map(\.text), ["panic: all notes off", "playing (100.0 BPM)"])
        XCTAssertTrue(now.changes(since: now).isEmpty)
        XCTAssertTrue(now.summary.contains("3 events dropped, 2 not delivered"), now.summary)
    }
}
