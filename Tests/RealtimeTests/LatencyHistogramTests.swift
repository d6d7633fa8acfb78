@testable import Realtime
import XCTest

final class LatencyHistogramTests: XCTestCase {
    func testBucketsAreOrderedAndTight() {
        var last = -1
        for us in stride(from: Int64(0), to: 50_000_000, by: 997) {
            let b = LatencyHistogram.bucket(ofMicroseconds: us)
            XCTAssertGreaterThanOrEqual(b, last, "\(us) µs")
            XCTAssertLessThan(b, LatencyHistogram.bucketCount)
            let lo = LatencyHistogram.lowerBound(ofBucket: b)
            XCTAssertLessThanOrEqual(lo, Double(us))
            XCTAssertLessThan(Double(us) - lo, max(1, lo * 0.032), "\(us) µs lies in bucket \(b) from \(lo)")
            last = b
        }
    }

    func testPercentilesAndMaximum() {
        let h = LatencyHistogram(name: "test")
        XCTAssertEqual(h.describe(), "no events yet")
        // 1 … 1000 µs once each: p50 ≈ 500 µs, p99 ≈ 990 µs, max exactly 1 ms.
        for us in 1...1000 { h.record(nanoseconds: Int64(us) * 1000) }
        h.record(nanoseconds: -5)
        let s = h.summary()
        XCTAssertEqual(s.count, 1001)
        XCTAssertEqual(s.negative, 1)
        XCTAssertEqual(s.p50, 0.5, accuracy: 0.5 * 0.03)
        XCTAssertEqual(s.p99, 0.99, accuracy: 0.99 * 0.03)
        XCTAssertEqual(s.max, 1.0, accuracy: 1e-12)
        XCTAssertTrue(h.describe(unit: "notes").hasSuffix("max 1.000 ms over 1001 notes"), h.describe(unit: "notes"))
    }

    func testHugeValuesLandInTheLastBucket() {
        let h = LatencyHistogram(name: "test")
        h.record(nanoseconds: 3_600_000_000_000)
        XCTAssertEqual(h.summary().max, 3_600_000, accuracy: 1)
        XCTAssertEqual(h.summary().p99, 3_600_000, accuracy: 1, "a quantile never exceeds the maximum")
    }
}
