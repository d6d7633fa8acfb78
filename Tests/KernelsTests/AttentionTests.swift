// Attention over a ring cache and the causal convolution step, against their scalar twins.

import Foundation
import Kernels
import Testing

@Suite struct AttentionTests {
    /// Fills a ring of `capacity` slots with random keys/values through storeKey/storeValue.
    static func randomCache<E: KernelElement>(
        capacity: Int, dim: Int, _ rng: inout SplitMix64, as: E.Type
    ) -> (keys: UnsafeMutablePointer<E>, values: UnsafeMutablePointer<E>) {
        let keys = UnsafeMutablePointer<E>.allocate(capacity: capacity * dim)
        let values = UnsafeMutablePointer<E>.allocate(capacity: capacity * dim)
        // Unwritten slots hold NaN: a kernel that reads outside the visible range shows it.
        keys.initialize(repeating: E(rounding: .nan), count: capacity * dim)
        values.initialize(repeating: E(rounding: .nan), count: capacity * dim)
        return (keys, values)
    }

    static func fill<E: KernelElement>(
        _ keys: UnsafeMutablePointer<E>, _ values: UnsafeMutablePointer<E>, slots: [Int], dim: Int,
        _ rng: inout SplitMix64
    ) {
        for s in slots {
            let k = Buffer<Float>.random(dim, &rng, -2, 2), v = Buffer<Float>.random(dim, &rng)
            SIMDKernels.storeKey(k.c, into: keys, slot: s, dim: dim)
            SIMDKernels.storeValue(v.c, into: values, slot: s, dim: dim)
        }
    }

    static let cases: [(capacity: Int, newest: Int, count: Int)] = [
        (16, 0, 1), (16, 15, 16), (16, 7, 8), (16, 3, 16), (32, 20, 5), (32, 5, 32), (32, 5, 20),
        (64, 63, 64), (64, 10, 40), (64, 17, 17), (256, 200, 129), (512, 100, 512), (512, 511, 300),
        (1024, 3, 1000),
    ]

    func check<E: KernelElement>(_ type: E.Type, seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        for dim in [1, 15, 16, 17, 32, 33, 64, 100] {
            for (capacity, newest, count) in Self.cases {
                let (keys, values) = Self.randomCache(capacity: capacity, dim: dim, &rng, as: E.self)
                defer { keys.deallocate(); values.deallocate() }
                let visible = (0..<count).map { (newest - $0 + capacity) % capacity }
                Self.fill(keys, values, slots: visible, dim: dim, &rng)
                let q = Buffer<Float>.random(dim, &rng)
                for slope: Float in [0, 0.0625] {
                    let ss = Buffer<Float>(capacity), sr = Buffer<Float>(capacity)
                    let os = Buffer<Float>(dim), or = Buffer<Float>(dim)
                    let scale = 1 / Float(dim).squareRoot()
                    if E.self == Float.self {
                        SIMDKernels.attend(q.c, keys: UnsafeRawPointer(keys).assumingMemoryBound(to: Float.self),
                                           values: UnsafeRawPointer(values).assumingMemoryBound(to: Float.self),
                                           capacity: capacity, newest: newest, count: count, scale: scale,
                                           slope: slope, scores: ss.p, os.p, dim: dim)
                    } else {
                        SIMDKernels.attend(q.c, keys: UnsafeRawPointer(keys).assumingMemoryBound(to: Float16.self),
                                           values: UnsafeRawPointer(values).assumingMemoryBound(to: Float16.self),
                                           capacity: capacity, newest: newest, count: count, scale: scale,
                                           slope: slope, scores: ss.p, os.p, dim: dim)
                    }
                    ScalarKernels.attend(q.c, keys: UnsafePointer(keys), values: UnsafePointer(values),
                                         capacity: capacity, newest: newest, count: count, scale: scale,
                                         slope: slope, scores: sr.p, or.p, dim: dim)
                    let err = normRelativeError(os.c, or.c, dim)
                    #expect(err < 1e-5, "attend \(E.self) dim \(dim) cap \(capacity) newest \(newest) count \(count) slope \(slope): \(err)")
                    // The SIMD scores are unnormalised weights e^(s - max): normalise and compare.
                    var total: Float = 0
                    for s in visible { total += ss.p[s] }
                    var worst: Float = 0
                    for s in visible { worst = max(worst, abs(ss.p[s] / total - sr.p[s]) / (sr.p[s] + 1e-30)) }
                    #expect(worst < 1e-5, "attention probabilities: \(worst)")
                }
            }
        }
    }

    @Test func attendFP32() { check(Float.self, seed: 20) }
    @Test func attendFP16() { check(Float16.self, seed: 21) }

    /// The bias: with equal keys, weights fall off as e^(-slope * distance).
    @Test func alibiBias() {
        let dim = 16, capacity = 32
        let keys = UnsafeMutablePointer<Float>.allocate(capacity: capacity * dim)
        let values = UnsafeMutablePointer<Float>.allocate(capacity: capacity * dim)
        defer { keys.deallocate(); values.deallocate() }
        keys.initialize(repeating: 0.5, count: capacity * dim)
        values.initialize(repeating: 0, count: capacity * dim)
        let q = Buffer<Float>(dim, 1), scores = Buffer<Float>(capacity), out = Buffer<Float>(dim)
        SIMDKernels.attend(q.c, keys: keys, values: values, capacity: capacity, newest: 10, count: 4,
                           scale: 1, slope: 0.5, scores: scores.p, out.p, dim: dim)
        for d in 0..<4 {
            let expected = Float(Foundation.exp(-0.5 * Double(d)))
            #expect(abs(scores.p[10 - d] - expected) < 1e-6)
        }
    }

    /// attend + mergeAttentionTerm equals one softmax over the visible keys and the extra key.
    @Test(arguments: [0, 1, 5, 40])
    func mergeExtraTerm(count: Int) {
        var rng = SplitMix64(seed: 22 + UInt64(count))
        for dim in [1, 16, 17, 32, 33] {
            let capacity = 48, newest = 3
            let keys = UnsafeMutablePointer<Float>.allocate(capacity: capacity * dim)
            let values = UnsafeMutablePointer<Float>.allocate(capacity: capacity * dim)
            defer { keys.deallocate(); values.deallocate() }
            keys.initialize(repeating: .nan, count: capacity * dim)
            values.initialize(repeating: .nan, count: capacity * dim)
            let visible = (0..<count).map { (newest - $0 + capacity) % capacity }
            Self.fill(keys, values, slots: visible, dim: dim, &rng)
            let q = Buffer<Float>.random(dim, &rng), v0 = Buffer<Float>.random(dim, &rng)
            let scores = Buffer<Float>(capacity), out = Buffer<Float>(dim), outR = Buffer<Float>(dim)
            let slope: Float = 0.1, scale: Float = 0.5, extra: Float = 0.7
            let stats = SIMDKernels.attend(q.c, keys: keys, values: values, capacity: capacity, newest: newest,
                                           count: count, scale: scale, slope: slope, scores: scores.p, out.p, dim: dim)
            SIMDKernels.mergeAttentionTerm(out.p, stats: stats, score: extra, value: v0.c, dim: dim)
            let statsR = ScalarKernels.attend(q.c, keys: UnsafePointer(keys), values: UnsafePointer(values),
                                              capacity: capacity, newest: newest, count: count, scale: scale,
                                              slope: slope, scores: scores.p, outR.p, dim: dim)
            ScalarKernels.mergeAttentionTerm(outR.p, stats: statsR, score: extra, value: v0.c, dim: dim)
            // Direct: one softmax over [extra] + visible scores.
            var logits = [Double(extra)]
            for (j, s) in visible.enumerated() {
                var dot = 0.0
                for d in 0..<dim { dot += Double(q.p[d]) * Double(keys[((s / 16) * dim + d) * 16 + s % 16]) }
                logits.append(Double(scale) * dot - Double(slope) * Double(j))
            }
            let mx = logits.max()!
            let w = logits.map { Foundation.exp($0 - mx) }
            let total = w.reduce(0, +)
            let direct = Buffer<Float>(dim)
            for d in 0..<dim {
                var a = w[0] * Double(v0.p[d])
                for (j, s) in visible.enumerated() { a += w[j + 1] * Double(values[s * dim + d]) }
                direct.p[d] = Float(a / total)
            }
            #expect(normRelativeError(out.c, direct.c, dim) < 1e-5, "merge count \(count) dim \(dim)")
            #expect(normRelativeError(outR.c, direct.c, dim) < 1e-5, "scalar merge count \(count) dim \(dim)")
            if count == 0 { #expect(stats == AttentionStats(max: -.infinity, sum: 0)) }
        }
    }

    @Test func causalConv() {
        var rng = SplitMix64(seed: 30)
        for channels in [1, 15, 16, 17, 63, 64, 65, 255, 257] {
            for width in [1, 3, 17, 64] {
                let ring = Buffer<Float>.random(width * channels, &rng)
                let filter = Buffer<Float>.random(width * channels, &rng)
                let f16 = UnsafeMutablePointer<Float16>.allocate(capacity: width * channels)
                defer { f16.deallocate() }
                for i in 0..<(width * channels) { f16[i] = Float16(filter.p[i]) }
                let bias = Buffer<Float>.random(channels, &rng)
                for newest in Set([0, width / 2, width - 1]) {
                    for taps in Set([1, max(1, width / 3), width]) {
                        let ys = Buffer<Float>(channels), yr = Buffer<Float>(channels)
                        SIMDKernels.causalConvStep(ring: ring.c, newest: newest, filter: filter.c, taps: taps,
                                                   bias: bias.c, ys.p, width: width, channels: channels)
                        ScalarKernels.causalConvStep(ring: ring.c, newest: newest, filter: filter.c, taps: taps,
                                                     bias: bias.c, yr.p, width: width, channels: channels)
                        let err = normRelativeError(ys.c, yr.c, channels)
                        #expect(err < 1e-5, "conv C=\(channels) W=\(width) newest \(newest) taps \(taps): \(err)")
                        SIMDKernels.causalConvStep(ring: ring.c, newest: newest, filter: UnsafePointer(f16), taps: taps,
                                                   bias: nil, ys.p, width: width, channels: channels)
                        ScalarKernels.causalConvStep(ring: ring.c, newest: newest, filter: UnsafePointer(f16), taps: taps,
                                                     bias: nil, yr.p, width: width, channels: channels)
                        #expect(normRelativeError(ys.c, yr.c, channels) < 1e-5, "fp16 conv")
                    }
                }
            }
        }
    }

    /// The streaming step equals a direct causal convolution of a whole sequence.
    @Test func causalConvStreamsLikeFullConvolution() {
        var rng = SplitMix64(seed: 31)
        let channels = 20, width = 7, steps = 30
        let xs = Buffer<Float>.random(steps * channels, &rng)       // [steps][channels]
        let h = Buffer<Float>.random(width * channels, &rng)        // [width][channels]
        let ring = Buffer<Float>(width * channels)
        let y = Buffer<Float>(channels)
        for t in 0..<steps {
            let slot = t % width
            ring.p.advanced(by: slot * channels).update(from: xs.p.advanced(by: t * channels), count: channels)
            SIMDKernels.causalConvStep(ring: ring.c, newest: slot, filter: h.c, taps: min(t + 1, width),
                                       bias: nil, y.p, width: width, channels: channels)
            for c in 0..<channels {
                var direct: Float = 0
                for j in 0...min(t, width - 1) { direct += h.p[j * channels + c] * xs.p[(t - j) * channels + c] }
                #expect(abs(y.p[c] - direct) <= 1e-5 * max(1, abs(direct)))
            }
        }
    }
}
