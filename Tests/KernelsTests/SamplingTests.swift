// argmax and the top-p set.

import Kernels
import Testing

@Suite struct SamplingTests {
    @Test func argmax() {
        var rng = SplitMix64(seed: 40)
        for n in awkwardSizes {
            let x = Buffer<Float>.random(n, &rng)
            #expect(SIMDKernels.argmax(x.c, count: n) == ScalarKernels.argmax(x.c, count: n))
            // Ties go to the first index.
            x.p[n - 1] = 5; x.p[n / 2] = 5
            #expect(SIMDKernels.argmax(x.c, count: n) == n / 2)
            #expect(ScalarKernels.argmax(x.c, count: n) == n / 2)
        }
    }

    @Test func topP() {
        var rng = SplitMix64(seed: 41)
        for n in awkwardSizes {
            let x = Buffer<Float>.random(n, &rng, -4, 4)
            SIMDKernels.softmax(x.c, x.p, count: n)
            if n > 3 { x.p[1] = x.p[2] }                       // a tie
            let order = UnsafeMutablePointer<Int32>.allocate(capacity: n)
            defer { order.deallocate() }
            let probs = x.array
            let expectedOrder = (0..<n).sorted { probs[$0] > probs[$1] || (probs[$0] == probs[$1] && $0 < $1) }
            for p: Float in [0.01, 0.5, 0.9, 1.0] {
                let k = topPSet(x.c, count: n, p: p, order: order)
                #expect((0..<k).map { Int(order[$0]) } == Array(expectedOrder.prefix(k)))
                #expect(Set((0..<n).map { Int(order[$0]) }) == Set(0..<n))
                var mass: Float = 0, total: Float = 0
                for i in 0..<n { total += probs[i] }
                for i in 0..<k { mass += probs[expectedOrder[i]] }
                #expect(k >= 1 && k <= n)
                #expect(mass >= p * total * (1 - 1e-6) || k == n)
                if k > 1 { #expect(mass - probs[expectedOrder[k - 1]] < p * total) }
            }
        }
    }
}
