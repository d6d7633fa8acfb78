// C entry points into the kernels, for scripts/check-aarch64.sh only (not part of the package).
// The script compiles this file together with Sources/Kernels/*.swift as module Kernels for
// aarch64 (so the generic scalar twins are specialised here and no Swift runtime is needed),
// links it with twins.c into a static executable and runs it under qemu-aarch64.
// Arguments: simd != 0 picks SIMDKernels, else ScalarKernels; f16 != 0 means the weight or
// cache pointers hold Float16 (IEEE binary16 bit patterns, uint16_t in C).

@_cdecl("acc_round_f16")
public func acc_round_f16(_ src: UnsafePointer<Float>, _ dst: UnsafeMutableRawPointer, _ n: Int) {
    let d = dst.assumingMemoryBound(to: Float16.self)
    for i in 0..<n { d[i] = Float16(rounding: src[i]) }
}

@_cdecl("acc_pack")
public func acc_pack(
    _ f16: Int32, _ src: UnsafePointer<Float>, _ rows: Int, _ cols: Int, _ dst: UnsafeMutableRawPointer
) {
    if f16 != 0 {
        packPanels(src, rows: rows, cols: cols, into: dst.assumingMemoryBound(to: Float16.self))
    } else {
        packPanels(src, rows: rows, cols: cols, into: dst.assumingMemoryBound(to: Float.self))
    }
}

@_cdecl("acc_gemv")
public func acc_gemv(
    _ simd: Int32, _ f16: Int32, _ w: UnsafeRawPointer, _ x: UnsafePointer<Float>,
    _ bias: UnsafePointer<Float>?, _ residual: UnsafePointer<Float>?, _ y: UnsafeMutablePointer<Float>,
    _ rows: Int, _ cols: Int
) {
    if f16 != 0 {
        let w = w.assumingMemoryBound(to: Float16.self)
        if simd != 0 {
            SIMDKernels.gemv(w, x, bias: bias, residual: residual, y, rows: rows, cols: cols)
        } else {
            ScalarKernels.gemv(w, x, bias: bias, residual: residual, y, rows: rows, cols: cols)
        }
    } else {
        let w = w.assumingMemoryBound(to: Float.self)
        if simd != 0 {
            SIMDKernels.gemv(w, x, bias: bias, residual: residual, y, rows: rows, cols: cols)
        } else {
            ScalarKernels.gemv(w, x, bias: bias, residual: residual, y, rows: rows, cols: cols)
        }
    }
}

@_cdecl("acc_gemm")
public func acc_gemm(
    _ simd: Int32, _ f16: Int32, _ w: UnsafeRawPointer, _ x: UnsafePointer<Float>,
    _ bias: UnsafePointer<Float>?, _ residual: UnsafePointer<Float>?, _ y: UnsafeMutablePointer<Float>,
    _ n: Int, _ rows: Int, _ cols: Int
) {
    if f16 != 0 {
        let w = w.assumingMemoryBound(to: Float16.self)
        if simd != 0 {
            SIMDKernels.gemm(w, x, bias: bias, residual: residual, y, n: n, rows: rows, cols: cols)
        } else {
            ScalarKernels.gemm(w, x, bias: bias, residual: residual, y, n: n, rows: rows, cols: cols)
        }
    } else {
        let w = w.assumingMemoryBound(to: Float.self)
        if simd != 0 {
            SIMDKernels.gemm(w, x, bias: bias, residual: residual, y, n: n, rows: rows, cols: cols)
        } else {
            ScalarKernels.gemm(w, x, bias: bias, residual: residual, y, n: n, rows: rows, cols: cols)
        }
    }
}

/// Writes the returned AttentionStats to stats[0] (max), stats[1] (sum).
@_cdecl("acc_attend")
public func acc_attend(
    _ simd: Int32, _ f16: Int32, _ q: UnsafePointer<Float>, _ keys: UnsafeRawPointer,
    _ values: UnsafeRawPointer, _ capacity: Int, _ newest: Int, _ count: Int, _ scale: Float,
    _ slope: Float, _ scores: UnsafeMutablePointer<Float>, _ out: UnsafeMutablePointer<Float>,
    _ dim: Int, _ stats: UnsafeMutablePointer<Float>
) {
    let s: AttentionStats
    if f16 != 0 {
        let k = keys.assumingMemoryBound(to: Float16.self), v = values.assumingMemoryBound(to: Float16.self)
        s = simd != 0
            ? SIMDKernels.attend(q, keys: k, values: v, capacity: capacity, newest: newest, count: count,
                                 scale: scale, slope: slope, scores: scores, out, dim: dim)
            : ScalarKernels.attend(q, keys: k, values: v, capacity: capacity, newest: newest, count: count,
                                   scale: scale, slope: slope, scores: scores, out, dim: dim)
    } else {
        let k = keys.assumingMemoryBound(to: Float.self), v = values.assumingMemoryBound(to: Float.self)
        s = simd != 0
            ? SIMDKernels.attend(q, keys: k, values: v, capacity: capacity, newest: newest, count: count,
                                 scale: scale, slope: slope, scores: scores, out, dim: dim)
            : ScalarKernels.attend(q, keys: k, values: v, capacity: capacity, newest: newest, count: count,
                                   scale: scale, slope: slope, scores: scores, out, dim: dim)
    }
    stats[0] = s.max
    stats[1] = s.sum
}

@_cdecl("acc_conv")
public func acc_conv(
    _ simd: Int32, _ f16: Int32, _ ring: UnsafePointer<Float>, _ newest: Int, _ filter: UnsafeRawPointer,
    _ taps: Int, _ bias: UnsafePointer<Float>?, _ y: UnsafeMutablePointer<Float>, _ width: Int,
    _ channels: Int
) {
    if f16 != 0 {
        let h = filter.assumingMemoryBound(to: Float16.self)
        if simd != 0 {
            SIMDKernels.causalConvStep(ring: ring, newest: newest, filter: h, taps: taps, bias: bias, y,
                                       width: width, channels: channels)
        } else {
            ScalarKernels.causalConvStep(ring: ring, newest: newest, filter: h, taps: taps, bias: bias, y,
                                         width: width, channels: channels)
        }
    } else {
        let h = filter.assumingMemoryBound(to: Float.self)
        if simd != 0 {
            SIMDKernels.causalConvStep(ring: ring, newest: newest, filter: h, taps: taps, bias: bias, y,
                                       width: width, channels: channels)
        } else {
            ScalarKernels.causalConvStep(ring: ring, newest: newest, filter: h, taps: taps, bias: bias, y,
                                         width: width, channels: channels)
        }
    }
}

@_cdecl("acc_layer_norm")
public func acc_layer_norm(
    _ simd: Int32, _ x: UnsafePointer<Float>, _ gamma: UnsafePointer<Float>, _ beta: UnsafePointer<Float>?,
    _ y: UnsafeMutablePointer<Float>, _ n: Int, _ eps: Float
) {
    if simd != 0 {
        SIMDKernels.layerNorm(x, gamma: gamma, beta: beta, y, count: n, eps: eps)
    } else {
        ScalarKernels.layerNorm(x, gamma: gamma, beta: beta, y, count: n, eps: eps)
    }
}

/// which: 0 gelu, 1 softmax, 2 exp.
@_cdecl("acc_pointwise")
public func acc_pointwise(
    _ simd: Int32, _ which: Int32, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int
) {
    switch (which, simd != 0) {
    case (0, true): SIMDKernels.gelu(x, y, count: n)
    case (0, false): ScalarKernels.gelu(x, y, count: n)
    case (1, true): SIMDKernels.softmax(x, y, count: n)
    case (1, false): ScalarKernels.softmax(x, y, count: n)
    case (_, true): SIMDKernels.exp(x, y, count: n)
    case (_, false): ScalarKernels.exp(x, y, count: n)
    }
}
