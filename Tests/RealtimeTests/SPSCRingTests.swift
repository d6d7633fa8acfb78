import Foundation
import XCTest
@testable import Realtime

final class SPSCRingTests: XCTestCase {
    func testFullAndEmpty() {
        let r = SPSCRing<Int>(capacity: 3)
        XCTAssertEqual(r.capacity, 4)
        XCTAssertNil(r.pop())
        for i in 0..<4 { XCTAssertTrue(r.push(i)) }
        XCTAssertFalse(r.push(99), "full")
        XCTAssertEqual(r.peek(), 0)
        XCTAssertEqual((0..<4).compactMap { _ in r.pop() }, [0, 1, 2, 3])
        XCTAssertNil(r.pop())
    }

    /// One producer thread and one consumer thread: every value arrives once, in order.
    func testTwoThreadsInOrder() {
        let r = SPSCRing<Int>(capacity: 64)
        let n = 200_000
        let producer = Thread {
            var i = 0
            // Yield when full: on one core (a loaded CI machine) a spinning producer would hold
            // the CPU its consumer needs for a whole time slice.
            while i < n { if r.push(i) { i += 1 } else { sched_yield() } }
        }
        producer.start()
        var expected = 0
        let deadline = Date().addingTimeInterval(300)
        while expected < n && Date() < deadline {
            if let v = r.pop() {
                XCTAssertEqual(v, expected)
                if v != expected { break }
                expected += 1
            } else {
                sched_yield()
            }
        }
        XCTAssertEqual(expected, n, "the consumer saw \(expected) of \(n) values in order before the 300 s deadline")
    }
}
