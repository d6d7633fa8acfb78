// GEMV / GEMM: SIMD kernels against their scalar twins, fp32 and fp16 storage.

import Kernels
import Testing

@Suite struct GEMVTests {
    static let shapes: [(rows: Int, cols: Int)] = [
        (1, 1), (1, 17), (15, 1), (15, 15), (16, 16), (17, 17), (17, 255), (33, 7),
        (255, 64), (64, 255), (257, 33), (1023, 17), (17, 1023), (255, 1023), (1023, 255),
    ]

    /// Packs a random rows x cols matrix as E; returns (packed, fp32 row-major original).
    static func randomPacked<E: KernelElement>(
        _ rows: Int, _ cols: Int, _ rng: inout SplitMix64, as: E.Type
    ) -> (UnsafeMutablePointer<E>, Buffer<Float>) {
        let w = Buffer<Float>.random(rows * cols, &rng)
        let packed = UnsafeMutablePointer<E>.allocate(capacity: packedCount(rows: rows, cols: cols))
        packPanels(w.c, rows: rows, cols: cols, into: packed)
        return (packed, w)
    }

    @Test func packRoundTrip() {
        var rng = SplitMix64(seed: 1)
        for (rows, cols) in Self.shapes {
            let (packed, w) = Self.randomPacked(rows, cols, &rng, as: Float.self)
            defer { packed.deallocate() }
            let back = Buffer<Float>(rows * cols)
            unpackPanels(packed, rows: rows, cols: cols, into: back.p)
            #expect(back.array == w.array)
            // Padding rows are zero.
            let n = packedCount(rows: rows, cols: cols)
            var padding: [Float] = []
            for i in 0..<n where (i / (cols * 16)) * 16 + i % 16 >= rows { padding.append(packed[i]) }
            #expect(padding.allSatisfy { $0 == 0 })
        }
    }

    @Test func packTransposed() {
        var rng = SplitMix64(seed: 6)
        for (rows, cols) in Self.shapes {
            let w = Buffer<Float>.random(rows * cols, &rng)            // [rows][cols]
            let t = Buffer<Float>(rows * cols)                         // [cols][rows]
            for m in 0..<rows { for k in 0..<cols { t.p[k * rows + m] = w.p[m * cols + k] } }
            let a = UnsafeMutablePointer<Float>.allocate(capacity: packedCount(rows: rows, cols: cols))
            let b = UnsafeMutablePointer<Float>.allocate(capacity: packedCount(rows: rows, cols: cols))
            defer { a.deallocate(); b.deallocate() }
            packPanels(w.c, rows: rows, cols: cols, into: a)
            packPanels(transposed: t.c, rows: rows, cols: cols, into: b)
            #expect(Array(UnsafeBufferPointer(start: a, count: packedCount(rows: rows, cols: cols)))
                    == Array(UnsafeBufferPointer(start: b, count: packedCount(rows: rows, cols: cols))))
        }
    }

    @Test(arguments: [false, true])
    func gemvFP32(withBiasAndResidual: Bool) {
        var rng = SplitMix64(seed: 2)
        for (rows, cols) in Self.shapes {
            let (w, _) = Self.randomPacked(rows, cols, &rng, as: Float.self)
            defer { w.deallocate() }
            let x = Buffer<Float>.random(cols, &rng)
            let b = Buffer<Float>.random(rows, &rng)
            let r = Buffer<Float>.random(rows, &rng)
            let ys = Buffer<Float>(rows), yr = Buffer<Float>(rows)
            let bias = withBiasAndResidual ? b.c : nil, res = withBiasAndResidual ? r.c : nil
            SIMDKernels.gemv(UnsafePointer(w), x.c, bias: bias, residual: res, ys.p, rows: rows, cols: cols)
            ScalarKernels.gemv(UnsafePointer(w), x.c, bias: bias, residual: res, yr.p, rows: rows, cols: cols)
            let err = normRelativeError(ys.c, yr.c, rows)
            #expect(err < 1e-5, "gemv \(rows)x\(cols): relative error \(err)")
        }
    }

    @Test func gemvResidualInPlace() {
        var rng = SplitMix64(seed: 3)
        for (rows, cols) in Self.shapes {
            let (w, _) = Self.randomPacked(rows, cols, &rng, as: Float.self)
            defer { w.deallocate() }
            let x = Buffer<Float>.random(cols, &rng), b = Buffer<Float>.random(rows, &rng)
            let y = Buffer<Float>.random(rows, &rng)
            let yr = Buffer<Float>(rows)
            ScalarKernels.gemv(UnsafePointer(w), x.c, bias: b.c, residual: y.c, yr.p, rows: rows, cols: cols)
            SIMDKernels.gemv(UnsafePointer(w), x.c, bias: b.c, residual: y.c, y.p, rows: rows, cols: cols)
            #expect(normRelativeError(y.c, yr.c, rows) < 1e-5, "in-place residual \(rows)x\(cols)")
        }
    }

    /// fp16 storage: against the scalar twin on the same rounded weights (1e-5), and against the
    /// fp32 product with the unrounded weights (2e-3 norm-wise: fp16 has an 11-bit mantissa).
    @Test func gemvFP16() {
        var rng = SplitMix64(seed: 4)
        for (rows, cols) in Self.shapes {
            let (w16, w32) = Self.randomPacked(rows, cols, &rng, as: Float16.self)
            defer { w16.deallocate() }
            let wp = UnsafeMutablePointer<Float>.allocate(capacity: packedCount(rows: rows, cols: cols))
            defer { wp.deallocate() }
            packPanels(w32.c, rows: rows, cols: cols, into: wp)
            let x = Buffer<Float>.random(cols, &rng), b = Buffer<Float>.random(rows, &rng)
            let ys = Buffer<Float>(rows), yr = Buffer<Float>(rows), y32 = Buffer<Float>(rows)
            SIMDKernels.gemv(UnsafePointer(w16), x.c, bias: b.c, residual: nil, ys.p, rows: rows, cols: cols)
            ScalarKernels.gemv(UnsafePointer(w16), x.c, bias: b.c, residual: nil, yr.p, rows: rows, cols: cols)
            ScalarKernels.gemv(UnsafePointer(wp), x.c, bias: b.c, residual: nil, y32.p, rows: rows, cols: cols)
            let twin = normRelativeError(ys.c, yr.c, rows)
            let vs32 = normRelativeError(ys.c, y32.c, rows)
            #expect(twin < 1e-5, "fp16 gemv \(rows)x\(cols) vs twin: \(twin)")
            #expect(vs32 < 2e-3, "fp16 gemv \(rows)x\(cols) vs fp32 weights: \(vs32)")
        }
    }

    @Test(arguments: [1, 3, 4, 5, 8, 9])
    func gemm(n: Int) {
        var rng = SplitMix64(seed: 5 + UInt64(n))
        for (rows, cols) in Self.shapes where rows * cols <= 70_000 {
            let (w, _) = Self.randomPacked(rows, cols, &rng, as: Float.self)
            let (w16, _) = Self.randomPacked(rows, cols, &rng, as: Float16.self)
            defer { w.deallocate(); w16.deallocate() }
            let x = Buffer<Float>.random(n * cols, &rng), b = Buffer<Float>.random(rows, &rng)
            let r = Buffer<Float>.random(n * rows, &rng)
            let ys = Buffer<Float>(n * rows), yr = Buffer<Float>(n * rows)
            SIMDKernels.gemm(UnsafePointer(w), x.c, bias: b.c, residual: r.c, ys.p, n: n, rows: rows, cols: cols)
            ScalarKernels.gemm(UnsafePointer(w), x.c, bias: b.c, residual: r.c, yr.p, n: n, rows: rows, cols: cols)
            #expect(normRelativeError(ys.c, yr.c, n * rows) < 1e-5, "gemm n=\(n) \(rows)x\(cols)")
            SIMDKernels.gemm(UnsafePointer(w16), x.c, bias: nil, residual: nil, ys.p, n: n, rows: rows, cols: cols)
            ScalarKernels.gemm(UnsafePointer(w16), x.c, bias: nil, residual: nil, yr.p, n: n, rows: rows, cols: cols)
            #expect(normRelativeError(ys.c, yr.c, n * rows) < 1e-5, "fp16 gemm n=\(n) \(rows)x\(cols)")
        }
    }
}
