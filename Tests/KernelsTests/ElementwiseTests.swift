// Layer norm, activations, softmax, exp and vector helpers against their scalar twins.

import Kernels
import Testing

@Suite struct ElementwiseTests {
    @Test func layerNorm() {
        var rng = SplitMix64(seed: 10)
        for n in awkwardSizes {
            let x = Buffer<Float>.random(n, &rng, -3, 5)
            let g = Buffer<Float>.random(n, &rng, 0.5, 1.5), b = Buffer<Float>.random(n, &rng)
            let ys = Buffer<Float>(n), yr = Buffer<Float>(n)
            for beta in [b.c, nil] {
                SIMDKernels.layerNorm(x.c, gamma: g.c, beta: beta, ys.p, count: n, eps: 1e-5)
                ScalarKernels.layerNorm(x.c, gamma: g.c, beta: beta, yr.p, count: n, eps: 1e-5)
                let err = normRelativeError(ys.c, yr.c, n)
                #expect(err < 1e-5, "layerNorm n=\(n): \(err)")
            }
            // In place.
            let xi = x.copy()
            SIMDKernels.layerNorm(xi.c, gamma: g.c, beta: b.c, xi.p, count: n, eps: 1e-5)
            ScalarKernels.layerNorm(x.c, gamma: g.c, beta: b.c, yr.p, count: n, eps: 1e-5)
            #expect(normRelativeError(xi.c, yr.c, n) < 1e-5)
        }
    }

    @Test func gelu() {
        var rng = SplitMix64(seed: 11)
        for n in awkwardSizes + [4096] {
            let x = Buffer<Float>.random(n, &rng, -12, 12)
            let ys = Buffer<Float>(n), yr = Buffer<Float>(n)
            SIMDKernels.gelu(x.c, ys.p, count: n)
            ScalarKernels.gelu(x.c, yr.p, count: n)
            let err = pointRelativeError(ys.c, yr.c, n)
            #expect(err < 1e-5, "gelu n=\(n): \(err)")
        }
        // Large magnitudes: no NaN, the right limits.
        let edge = Buffer<Float>(4)
        edge.p[0] = -1e30; edge.p[1] = 1e30; edge.p[2] = 0; edge.p[3] = -100
        SIMDKernels.gelu(edge.c, edge.p, count: 4)
        #expect(edge.array.allSatisfy { !$0.isNaN })
        #expect(edge.p[1] == 1e30 && abs(edge.p[0]) < 1e-30 && edge.p[2] == 0 && abs(edge.p[3]) < 1e-30)
    }

    @Test func relu() {
        var rng = SplitMix64(seed: 12)
        for n in awkwardSizes {
            let x = Buffer<Float>.random(n, &rng)
            let ys = Buffer<Float>(n), yr = Buffer<Float>(n)
            SIMDKernels.relu(x.c, ys.p, count: n)
            ScalarKernels.relu(x.c, yr.p, count: n)
            #expect(ys.array == yr.array)
        }
    }

    @Test func exp() {
        var rng = SplitMix64(seed: 13)
        for n in awkwardSizes + [4096] {
            let x = Buffer<Float>.random(n, &rng, -87, 88)
            let ys = Buffer<Float>(n), yr = Buffer<Float>(n)
            SIMDKernels.exp(x.c, ys.p, count: n)
            ScalarKernels.exp(x.c, yr.p, count: n)
            let err = pointRelativeError(ys.c, yr.c, n)
            #expect(err < 1e-6, "exp n=\(n): \(err)")
        }
    }

    @Test func softmax() {
        var rng = SplitMix64(seed: 14)
        for n in awkwardSizes {
            for spread: Float in [1, 30] {
                let x = Buffer<Float>.random(n, &rng, -spread, spread)
                let ys = Buffer<Float>(n), yr = Buffer<Float>(n)
                SIMDKernels.softmax(x.c, ys.p, count: n)
                ScalarKernels.softmax(x.c, yr.p, count: n)
                let err = pointRelativeError(ys.c, yr.c, n)
                #expect(err < 1e-5, "softmax n=\(n) spread \(spread): \(err)")
                // In place.
                SIMDKernels.softmax(x.c, x.p, count: n)
                #expect(x.array == ys.array)
            }
        }
        // A masked (-inf) entry gets exactly 0.
        let m = Buffer<Float>(3)
        m.p[0] = 1; m.p[1] = -.infinity; m.p[2] = 2
        SIMDKernels.softmax(m.c, m.p, count: 3)
        #expect(m.p[1] < 1e-37 && abs(m.p[0] + m.p[2] - 1) < 1e-6)
    }

    @Test func addScaleConvert() {
        var rng = SplitMix64(seed: 15)
        for n in awkwardSizes {
            let a = Buffer<Float>.random(n, &rng), b = Buffer<Float>.random(n, &rng)
            let ys = Buffer<Float>(n), yr = Buffer<Float>(n)
            SIMDKernels.add(a.c, b.c, ys.p, count: n)
            ScalarKernels.add(a.c, b.c, yr.p, count: n)
            #expect(ys.array == yr.array)
            SIMDKernels.scale(a.c, by: 0.37, ys.p, count: n)
            ScalarKernels.scale(a.c, by: 0.37, yr.p, count: n)
            #expect(ys.array == yr.array)
            let h = UnsafeMutablePointer<Float16>.allocate(capacity: n)
            defer { h.deallocate() }
            for i in 0..<n { h[i] = Float16(a.p[i]) }
            SIMDKernels.convert(UnsafePointer(h), ys.p, count: n)
            ScalarKernels.convert(UnsafePointer(h), yr.p, count: n)
            #expect(ys.array == yr.array)
            #expect(pointRelativeError(ys.c, a.c, n) < 1e-3)
        }
    }
}
