// Matrix-vector and small matrix products over weights packed in 16-row panels.
//
// Packed layout of an M x K matrix W (row-major W[m][k], y = W x):
//   packed[p][k][i] = W[16p + i][k]   for p in 0..<ceil(M/16), k in 0..<K, i in 0..<16
// with rows past M zero. One panel yields 16 outputs as one vector: broadcast x[k], FMA with
// the 16 weights of column k. No horizontal reduction anywhere (a per-row reduction costs more than the FMAs it sums).

/// Element count of the packed form of an M x K matrix: ceil(M/16) * K * 16.
@inlinable
public func packedCount(rows: Int, cols: Int) -> Int { (rows + 15) / 16 * cols * 16 }

/// Packs a row-major matrix into 16-row panels, rounding to the storage type.
/// - Parameters:
///   - source: [rows][cols] row-major fp32
///   - packed: [ceil(rows/16)][cols][16], `packedCount(rows:cols:)` elements
public func packPanels<E: KernelElement>(
    _ source: UnsafePointer<Float>, rows: Int, cols: Int, into packed: UnsafeMutablePointer<E>
) {
    let panels = (rows + 15) / 16
    for p in 0..<panels {
        for k in 0..<cols {
            for i in 0..<16 {
                let m = p * 16 + i
                packed[(p * cols + k) * 16 + i] = E(rounding: m < rows ? source[m * cols + k] : 0)
            }
        }
    }
}

/// Packs the matrix of y = x · S (S stored [cols][rows], "input-major", as PyTorch's
/// x @ W.T's W.T or Flax's Dense kernel) into 16-row panels of y = W x with W = Sᵀ.
/// - Parameters:
///   - source: [cols][rows] row-major fp32 (S[k][m] = W[m][k])
///   - packed: [ceil(rows/16)][cols][16]
public func packPanels<E: KernelElement>(
    transposed source: UnsafePointer<Float>, rows: Int, cols: Int, into packed: UnsafeMutablePointer<E>
) {
    let panels = (rows + 15) / 16
    for p in 0..<panels {
        for k in 0..<cols {
            for i in 0..<16 {
                let m = p * 16 + i
                packed[(p * cols + k) * 16 + i] = E(rounding: m < rows ? source[k * rows + m] : 0)
            }
        }
    }
}

/// Unpacks 16-row panels back into a row-major fp32 matrix (the weights as stored).
/// - Parameters:
///   - packed: [ceil(rows/16)][cols][16]
///   - destination: [rows][cols] row-major fp32
public func unpackPanels<E: KernelElement>(
    _ packed: UnsafePointer<E>, rows: Int, cols: Int, into destination: UnsafeMutablePointer<Float>
) {
    for m in 0..<rows {
        for k in 0..<cols {
            destination[m * cols + k] = packed[((m / 16) * cols + k) * 16 + m % 16].floatValue
        }
    }
}

extension SIMDKernels {
    /// y = W x (+ bias) (+ residual). `residual` may be the same buffer as `y` (y += W x + b).
    /// - Parameters:
    ///   - w: [ceil(rows/16)][cols][16] packed (see packPanels)
    ///   - x: [cols]
    ///   - bias: [rows] or nil
    ///   - residual: [rows] or nil
    ///   - y: [rows], must not overlap x
    public static func gemv(
        _ w: UnsafePointer<Float>, _ x: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
        residual: UnsafePointer<Float>?, _ y: UnsafeMutablePointer<Float>, rows: Int, cols: Int
    ) {
        gemvCore(w, x, bias, residual, y, rows, cols)
    }

    /// fp16 weights, fp32 arithmetic. Shapes as the fp32 version.
    public static func gemv(
        _ w: UnsafePointer<Float16>, _ x: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
        residual: UnsafePointer<Float>?, _ y: UnsafeMutablePointer<Float>, rows: Int, cols: Int
    ) {
        gemvCore(w, x, bias, residual, y, rows, cols)
    }

    /// Y = X W^T (+ bias) (+ residual) for a few rows of X at once: each panel of W is read
    /// once per 4 rows of X instead of once per row.
    /// - Parameters:
    ///   - w: [ceil(rows/16)][cols][16] packed
    ///   - x: [n][cols] row-major
    ///   - bias: [rows] or nil
    ///   - residual: [n][rows] or nil (may be the same buffer as y)
    ///   - y: [n][rows]
    public static func gemm(
        _ w: UnsafePointer<Float>, _ x: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
        residual: UnsafePointer<Float>?, _ y: UnsafeMutablePointer<Float>,
        n: Int, rows: Int, cols: Int
    ) {
        gemmCore(w, x, bias, residual, y, n, rows, cols)
    }

    /// fp16 weights. Shapes as the fp32 version.
    public static func gemm(
        _ w: UnsafePointer<Float16>, _ x: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
        residual: UnsafePointer<Float>?, _ y: UnsafeMutablePointer<Float>,
        n: Int, rows: Int, cols: Int
    ) {
        gemmCore(w, x, bias, residual, y, n, rows, cols)
    }
}

/// Dot products of one 16-row panel with x: lane i = sum_k panel[k][i] * x[k].
/// Four SIMD16 accumulators (k unrolled by 4): 8 ymm registers on AVX2, 16 q on NEON, 4 zmm on
/// AVX-512. Eight spilled on AVX2 (16 ymm of accumulators alone) and ran slower there.
/// - Parameters: panel: [cols][16]; x: [cols]
@inline(__always)
func panelDot<E: KernelElement>(_ panel: UnsafePointer<E>, _ x: UnsafePointer<Float>, _ cols: Int)
    -> SIMD16<Float>
{
    var a0 = SIMD16<Float>(), a1 = SIMD16<Float>(), a2 = SIMD16<Float>(), a3 = SIMD16<Float>()
    var wp = panel
    var k = 0
    while k &+ 4 <= cols {
        a0 = a0.addingProduct(SIMD16(repeating: x[k]), E.load16(wp))
        a1 = a1.addingProduct(SIMD16(repeating: x[k &+ 1]), E.load16(wp + 16))
        a2 = a2.addingProduct(SIMD16(repeating: x[k &+ 2]), E.load16(wp + 32))
        a3 = a3.addingProduct(SIMD16(repeating: x[k &+ 3]), E.load16(wp + 48))
        wp += 64
        k &+= 4
    }
    while k < cols {
        a0 = a0.addingProduct(SIMD16(repeating: x[k]), E.load16(wp))
        wp += 16
        k &+= 1
    }
    return (a0 + a1) + (a2 + a3)
}

/// Adds bias and residual to one panel's 16 outputs and stores the `count` (<= 16) valid ones.
@inline(__always)
func panelStore(
    _ acc: SIMD16<Float>, _ r0: Int, _ count: Int, _ bias: UnsafePointer<Float>?,
    _ residual: UnsafePointer<Float>?, _ y: UnsafeMutablePointer<Float>
) {
    var acc = acc
    if count == 16 {
        if let bias { acc += load16(bias + r0) }
        if let residual { acc += load16(residual + r0) }
        store16(acc, y + r0)
    } else {
        for i in 0..<count {
            var v = acc[i]
            if let bias { v += bias[r0 &+ i] }
            if let residual { v += residual[r0 &+ i] }
            y[r0 &+ i] = v
        }
    }
}

@inline(__always)
func gemvCore<E: KernelElement>(
    _ w: UnsafePointer<E>, _ x: UnsafePointer<Float>, _ bias: UnsafePointer<Float>?,
    _ residual: UnsafePointer<Float>?, _ y: UnsafeMutablePointer<Float>, _ rows: Int, _ cols: Int
) {
    let panels = (rows + 15) / 16
    var p = 0
    while p < panels {
        let acc = panelDot(w + p &* cols &* 16, x, cols)
        let r0 = p &* 16
        panelStore(acc, r0, min(16, rows &- r0), bias, residual, y)
        p &+= 1
    }
}

@inline(__always)
func gemmCore<E: KernelElement>(
    _ w: UnsafePointer<E>, _ x: UnsafePointer<Float>, _ bias: UnsafePointer<Float>?,
    _ residual: UnsafePointer<Float>?, _ y: UnsafeMutablePointer<Float>,
    _ n: Int, _ rows: Int, _ cols: Int
) {
    let panels = (rows + 15) / 16
    var p = 0
    while p < panels {
        let panel = w + p &* cols &* 16
        let r0 = p &* 16
        let count = min(16, rows &- r0)
        var j = 0
        // Four rows of X per pass over the panel: 4 accumulators (8 spilled on AVX2).
        while j &+ 4 <= n {
            let x0 = x + j &* cols, x1 = x0 + cols, x2 = x1 + cols, x3 = x2 + cols
            var a0 = SIMD16<Float>(), a1 = SIMD16<Float>(), a2 = SIMD16<Float>(), a3 = SIMD16<Float>()
            var wp = panel
            var k = 0
            while k < cols {
                let wa = E.load16(wp)
                a0 = a0.addingProduct(SIMD16(repeating: x0[k]), wa)
                a1 = a1.addingProduct(SIMD16(repeating: x1[k]), wa)
                a2 = a2.addingProduct(SIMD16(repeating: x2[k]), wa)
                a3 = a3.addingProduct(SIMD16(repeating: x3[k]), wa)
                wp += 16
                k &+= 1
            }
            let o = j &* rows
            panelStore(a0, r0, count, bias, residual.map { $0 + o }, y + o)
            panelStore(a1, r0, count, bias, residual.map { $0 + o + rows }, y + o + rows)
            panelStore(a2, r0, count, bias, residual.map { $0 + o + 2 &* rows }, y + o + 2 &* rows)
            panelStore(a3, r0, count, bias, residual.map { $0 + o + 3 &* rows }, y + o + 3 &* rows)
            j &+= 4
        }
        while j < n {
            let acc = panelDot(panel, x + j &* cols, cols)
            let o = j &* rows
            panelStore(acc, r0, count, bias, residual.map { $0 + o }, y + o)
            j &+= 1
        }
        p &+= 1
    }
}

// MARK: - Scalar twins

extension ScalarKernels {
    /// y = W x (+ bias) (+ residual), reading W from its packed form. Shapes as SIMDKernels.gemv.
    public static func gemv<E: KernelElement>(
        _ w: UnsafePointer<E>, _ x: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
        residual: UnsafePointer<Float>?, _ y: UnsafeMutablePointer<Float>, rows: Int, cols: Int
    ) {
        for m in 0..<rows {
            var s: Float = 0
            for k in 0..<cols {
                s += w[((m / 16) * cols + k) * 16 + m % 16].floatValue * x[k]
            }
            if let bias { s += bias[m] }
            if let residual { s += residual[m] }
            y[m] = s
        }
    }

    /// Y = X W^T (+ bias) (+ residual). Shapes as SIMDKernels.gemm.
    public static func gemm<E: KernelElement>(
        _ w: UnsafePointer<E>, _ x: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
        residual: UnsafePointer<Float>?, _ y: UnsafeMutablePointer<Float>,
        n: Int, rows: Int, cols: Int
    ) {
        for j in 0..<n {
            gemv(w, x + j * cols, bias: bias, residual: residual.map { $0 + j * rows },
                 y + j * rows, rows: rows, cols: cols)
        }
    }
}
