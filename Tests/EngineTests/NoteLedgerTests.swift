@testable import Engine
import XCTest

final class NoteLedgerTests: XCTestCase {
    func events(_ list: [(Int, UInt8, UInt8)]) -> EventBuffer {
        let b = EventBuffer(capacity: 16)
        for e in list { b.append(AccompanimentEvent(step: e.0, pitch: e.1, velocity: e.2)) }
        return b
    }

    func testTheLimitEndsANoteFirstAndDropsTheEnginesLateNoteOff() {
        let ledger = NoteLedger(maxNoteSteps: 4)
        let out = EventBuffer(capacity: 16)
        ledger.apply(step: 0, engineEvents: events([(0, 60, 90), (0, 64, 90)]), into: out)
        ledger.apply(step: 2, engineEvents: events([(2, 64, 0), (2, 67, 80)]), into: out)
        XCTAssertEqual(out.events.map(\.pitch), [60, 64, 64, 67])
        out.removeAll()
        ledger.apply(step: 4, engineEvents: events([(4, 60, 0), (4, 60, 70)]), into: out)
        XCTAssertEqual(out.events, [AccompanimentEvent(step: 4, pitch: 60, velocity: 0), AccompanimentEvent(step: 4, pitch: 60, velocity: 70)],
                       "cut at 4 steps; the engine's own off is dropped, its new note kept")
        out.removeAll()
        ledger.apply(step: 5, engineEvents: events([]), into: out)
        ledger.apply(step: 6, engineEvents: events([]), into: out)
        XCTAssertEqual(out.events, [AccompanimentEvent(step: 6, pitch: 67, velocity: 0)])
        XCTAssertEqual(ledger.soundingCount, 1)
        out.removeAll()
        ledger.endAll(step: 7, into: out)
        XCTAssertEqual(out.events, [AccompanimentEvent(step: 7, pitch: 60, velocity: 0)])
        XCTAssertEqual(ledger.soundingCount, 0)
    }

    func testNoLimit() {
        let ledger = NoteLedger(maxNoteSteps: 0)
        let out = EventBuffer(capacity: 16)
        ledger.apply(step: 0, engineEvents: events([(0, 60, 90)]), into: out)
        ledger.apply(step: 10_000, engineEvents: events([]), into: out)
        XCTAssertEqual(out.count, 1)
        XCTAssertTrue(ledger.isSounding(60))
    }
}
