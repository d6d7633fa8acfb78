import XCTest
@testable import Live

final class TempoClockTests: XCTestCase {
    func testFixedTempoGrid() {
        var t = FixedTempo(bpm: 120)
        XCTAssertEqual(t.stepNanoseconds, 62_500_000)
        t.origin = 1_000_000_000
        XCTAssertEqual(t.step(at: 1_000_000_000), 0)
        XCTAssertEqual(t.step(at: 1_000_000_000 + 31_249_999), 0)
        XCTAssertEqual(t.step(at: 1_000_000_000 + 31_250_000), 1, "halves up")
        XCTAssertEqual(t.step(at: 1_000_000_000 - 40_000_000), -1)
        XCTAssertEqual(t.time(of: 8), 1_500_000_000)
        XCTAssertEqual(t.deadline(of: 8), 1_500_000_000 - 31_250_000)
        XCTAssertEqual(t.position(at: 1_500_000_000 + 15_625_000), 8.25)
        XCTAssertEqual(t.position(at: 1_000_000_000 - 31_250_000), -0.5)
    }

    func testExternalClock() {
        var c = ExternalClock()
        let period: Int64 = 20_833_333  // 120 BPM: 24 clocks in 0.5 s
        XCTAssertEqual(c.clock(at: 0), .none, "clocks before Start are ignored")
        _ = c.start()
        XCTAssertEqual(c.clock(at: 1_000_000_000), .started(fromStep: 0))
        var t: Int64 = 1_000_000_000
        for _ in 0..<23 {
            t += period
            XCTAssertEqual(c.clock(at: t), .tick)
        }
        XCTAssertEqual(c.position, 23)
        XCTAssertEqual(c.bpm, 120, accuracy: 0.01)
        XCTAssertEqual(c.lastDueStep, 8, "clock 23 = 3*8-1: step 8 is due")
        // A left hand's wait of 0.25 step makes step s due at clock 3s + 1; 0 at 3s.
        XCTAssertEqual(c.lastDueStep(dueClocks: -1), 8)
        XCTAssertEqual(c.lastDueStep(dueClocks: 0), 7)
        XCTAssertEqual(c.lastDueStep(dueClocks: 1), 7)
        XCTAssertEqual(c.lastDueStep(dueClocks: 2), 7, "clock 23 = 3*7+2")
        XCTAssertEqual(c.position(at: t), 23.0 / 3, accuracy: 1e-9)
        XCTAssertEqual(c.position(at: t + period / 2), 23.5 / 3, accuracy: 1e-6)
        XCTAssertEqual(c.step(at: t + period), 8)
        XCTAssertEqual(Double(c.time(of: 8)), Double(t + period), accuracy: 10)
        XCTAssertEqual(c.stop(), .stopped)
        XCTAssertEqual(c.lastDueStep, -1)
        c.songPosition(4)  // 4 sixteenths = 24 clocks = step 8
        _ = c.continuePlaying()
        XCTAssertEqual(c.clock(at: t + 10 * period), .started(fromStep: 8))
        XCTAssertEqual(c.position, 24)
    }
}
