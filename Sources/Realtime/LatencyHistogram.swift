import CRealtime
import Foundation

/// A latency histogram that never allocates after init: log-linear buckets over 1 µs … ~70 s,
/// 32 per octave (each within 2.2% of its values), plus the exact maximum.
///
/// One thread records (the reader for the passthrough figures, the synth thread for the
/// accompaniment's lateness); any thread reads a summary. The cells are updated with relaxed
/// atomics, so a reader sees each count whole; a summary taken while recording goes on may be
/// off by the events of that moment, never torn.
public final class LatencyHistogram: @unchecked Sendable {
    // @unchecked Sendable: the cells are only touched through acc_atomic_* (relaxed atomics).
    public let name: String
    /// Below this many µs every µs has its own bucket.
    static let linear = 64
    static let perOctave = 32
    static let octaves = 21  // 64 µs · 2^21 ≈ 134 s
    static let bucketCount = linear + perOctave * octaves
    /// Counts per bucket. (bucketCount,)
    private let buckets: UnsafeMutablePointer<Int64>
    /// [0] count, [1] maximum in ns, [2] values below 0 (clamped into bucket 0).
    private let totals: UnsafeMutablePointer<Int64>

    public init(name: String) {
        self.name = name
        buckets = .allocate(capacity: Self.bucketCount)
        buckets.initialize(repeating: 0, count: Self.bucketCount)
        totals = .allocate(capacity: 3)
        totals.initialize(repeating: 0, count: 3)
    }

    deinit {
        buckets.deallocate()
        totals.deallocate()
    }

    /// The bucket of a value in µs.
    static func bucket(ofMicroseconds us: Int64) -> Int {
        if us < Int64(linear) { return Int(max(0, us)) }
        // Octave k covers [64·2^k, 64·2^(k+1)) µs, in perOctave equal parts.
        let octave = (63 - us.leadingZeroBitCount) - 6
        guard octave < octaves else { return bucketCount - 1 }
        let base = Int64(linear) << octave
        return linear + octave * perOctave + Int((us - base) * Int64(perOctave) / base)
    }

    /// The smallest value (µs) of a bucket.
    static func lowerBound(ofBucket b: Int) -> Double {
        if b < linear { return Double(b) }
        let octave = (b - linear) / perOctave, part = (b - linear) % perOctave
        let base = Double(linear) * Double(1 << octave)
        return base + base * Double(part) / Double(perOctave)
    }

    /// Records one latency in nanoseconds (owner thread only). No allocation, no lock.
    @inline(__always)
    public func record(nanoseconds ns: Int64) {
        if ns < 0 { acc_atomic_add(totals + 2, 1) }
        acc_atomic_add(buckets + Self.bucket(ofMicroseconds: max(0, ns) / 1000), 1)
        acc_atomic_add(totals, 1)
        if ns > acc_atomic_load(totals + 1) { acc_atomic_store(totals + 1, ns) }
    }

    public struct Summary: Equatable, Sendable {
        public var count: Int
        /// Milliseconds: the middle of the bucket holding the quantile (exact below 64 µs to 1 µs).
        public var p50: Double
        public var p99: Double
        public var max: Double
        /// Values below zero (clock disagreement), counted as 0.
        public var negative: Int
    }

    /// A summary (any thread; allocates nothing but is meant for the control thread).
    public func summary() -> Summary {
        let count = Int(acc_atomic_load(totals))
        func quantile(_ q: Double) -> Double {
            guard count > 0 else { return 0 }
            let rank = Int64((q * Double(count)).rounded(.up))
            var seen: Int64 = 0
            for b in 0..<Self.bucketCount {
                seen += acc_atomic_load(buckets + b)
                if seen >= rank {
                    // The last bucket also holds everything past the top: the maximum says more.
                    if b == Self.bucketCount - 1 { return Double(acc_atomic_load(totals + 1)) / 1e6 }
                    let lo = Self.lowerBound(ofBucket: b)
                    let hi = b + 1 < Self.bucketCount ? Self.lowerBound(ofBucket: b + 1) : lo
                    return (lo + hi) / 2 / 1000
                }
            }
            return Double(acc_atomic_load(totals + 1)) / 1e6
        }
        let mx = Double(acc_atomic_load(totals + 1)) / 1e6
        return Summary(count: count, p50: min(quantile(0.5), mx), p99: min(quantile(0.99), mx), max: mx,
                       negative: Int(acc_atomic_load(totals + 2)))
    }

    /// "p50 0.012 ms, p99 0.080 ms, max 0.210 ms over 40" (or "none yet").
    public func describe(unit: String = "events") -> String {
        let s = summary()
        guard s.count > 0 else { return "no \(unit) yet" }
        func ms(_ v: Double) -> String { v < 10 ? String(format: "%.3f", v) : String(format: "%.1f", v) }
        return "p50 \(ms(s.p50)) ms, p99 \(ms(s.p99)) ms, max \(ms(s.max)) ms over \(s.count) \(unit)"
    }
}
