// Layer norm, activations, softmax and small vector helpers.
// Every kernel works in place too (x and y may be the same buffer) unless it says otherwise.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// sqrt(2/pi), the GELU tanh-approximation constant.
@usableFromInline let geluC: Float = 0.7978845608028654
/// The cubic coefficient of the GELU tanh approximation.
@usableFromInline let geluA: Float = 0.044715

extension SIMDKernels {
    /// Layer norm: y = (x - mean) / sqrt(var + eps) * gamma + beta (biased variance, as in
    /// PyTorch and Flax).
    /// - Parameters: x: [n]; gamma: [n]; beta: [n] or nil; y: [n] (may be x)
    public static func layerNorm(
        _ x: UnsafePointer<Float>, gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>?,
        _ y: UnsafeMutablePointer<Float>, count n: Int, eps: Float
    ) {
        // Pass 1: mean.
        var s0 = SIMD16<Float>(), s1 = SIMD16<Float>()
        var i = 0
        while i &+ 32 <= n { s0 += load16(x + i); s1 += load16(x + (i &+ 16)); i &+= 32 }
        if i &+ 16 <= n { s0 += load16(x + i); i &+= 16 }
        var sum = horizontalSum(s0 + s1)
        while i < n { sum += x[i]; i &+= 1 }
        let mean = sum / Float(n)
        // Pass 2: variance around the mean (no cancellation).
        let mv = SIMD16<Float>(repeating: mean)
        var q0 = SIMD16<Float>(), q1 = SIMD16<Float>()
        i = 0
        while i &+ 32 <= n {
            let d0 = load16(x + i) - mv, d1 = load16(x + (i &+ 16)) - mv
            q0 = q0.addingProduct(d0, d0); q1 = q1.addingProduct(d1, d1)
            i &+= 32
        }
        if i &+ 16 <= n { let d = load16(x + i) - mv; q0 = q0.addingProduct(d, d); i &+= 16 }
        var sq = horizontalSum(q0 + q1)
        while i < n { let d = x[i] - mean; sq += d * d; i &+= 1 }
        let rstd = 1 / (sq / Float(n) + eps).squareRoot()
        // Pass 3: normalise, scale, shift.
        let rv = SIMD16<Float>(repeating: rstd)
        i = 0
        while i &+ 16 <= n {
            var v = (load16(x + i) - mv) * rv * load16(gamma + i)
            if let beta { v += load16(beta + i) }
            store16(v, y + i)
            i &+= 16
        }
        while i < n {
            var v = (x[i] - mean) * rstd * gamma[i]
            if let beta { v += beta[i] }
            y[i] = v
            i &+= 1
        }
    }

    /// GELU, tanh approximation: 0.5 x (1 + tanh(c (x + a x^3))), computed as
    /// x / (1 + e^(-2 c (x + a x^3))) (the same function, no cancellation).
    /// - Parameters: x: [n]; y: [n] (may be x)
    public static func gelu(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count n: Int) {
        var i = 0
        while i &+ 16 <= n {
            store16(geluVector(load16(x + i)), y + i)
            i &+= 16
        }
        if i < n {
            var t = SIMD16<Float>()
            for j in 0..<(n &- i) { t[j] = x[i &+ j] }
            let r = geluVector(t)
            for j in 0..<(n &- i) { y[i &+ j] = r[j] }
        }
    }

    /// ReLU: y = max(x, 0).
    /// - Parameters: x: [n]; y: [n] (may be x)
    public static func relu(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count n: Int) {
        var i = 0
        let zero = SIMD16<Float>()
        while i &+ 16 <= n {
            let v = load16(x + i)
            store16(v.replacing(with: zero, where: v .< zero), y + i)
            i &+= 16
        }
        while i < n { y[i] = x[i] < 0 ? 0 : x[i]; i &+= 1 }
    }

    /// Softmax: y = e^(x - max x) / sum.
    /// - Parameters: x: [n], n >= 1; y: [n] (may be x)
    public static func softmax(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count n: Int) {
        // Max.
        var m0 = SIMD16<Float>(repeating: -.greatestFiniteMagnitude)
        var i = 0
        while i &+ 16 <= n { m0 = vmax(m0, load16(x + i)); i &+= 16 }
        var mx = horizontalMax(m0)
        while i < n { if x[i] > mx { mx = x[i] }; i &+= 1 }
        // Exponentials and their sum.
        let mv = SIMD16<Float>(repeating: mx)
        var s0 = SIMD16<Float>()
        i = 0
        while i &+ 16 <= n {
            let e = simdExp(load16(x + i) - mv)
            s0 += e
            store16(e, y + i)
            i &+= 16
        }
        var sum = horizontalSum(s0)
        if i < n {
            var t = SIMD16<Float>(repeating: -.infinity)
            for j in 0..<(n &- i) { t[j] = x[i &+ j] }
            let e = simdExp(t - mv)
            for j in 0..<(n &- i) { y[i &+ j] = e[j]; sum += e[j] }
        }
        // Normalise.
        let inv = SIMD16<Float>(repeating: 1 / sum)
        i = 0
        while i &+ 16 <= n { store16(load16(y + i) * inv, y + i); i &+= 16 }
        while i < n { y[i] *= inv[0]; i &+= 1 }
    }

    /// y = a + b.
    /// - Parameters: a: [n]; b: [n]; y: [n] (may be a or b)
    public static func add(
        _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
        count n: Int
    ) {
        var i = 0
        while i &+ 16 <= n { store16(load16(a + i) + load16(b + i), y + i); i &+= 16 }
        while i < n { y[i] = a[i] + b[i]; i &+= 1 }
    }

    /// y = x * s.
    /// - Parameters: x: [n]; y: [n] (may be x)
    public static func scale(
        _ x: UnsafePointer<Float>, by s: Float, _ y: UnsafeMutablePointer<Float>, count n: Int
    ) {
        var i = 0
        let sv = SIMD16<Float>(repeating: s)
        while i &+ 16 <= n { store16(load16(x + i) * sv, y + i); i &+= 16 }
        while i < n { y[i] = x[i] * s; i &+= 1 }
    }

    /// Converts stored elements to fp32 (an embedding row, a cache row).
    /// - Parameters: x: [n]; y: [n]
    @inlinable
    public static func convert<E: KernelElement>(
        _ x: UnsafePointer<E>, _ y: UnsafeMutablePointer<Float>, count n: Int
    ) {
        var i = 0
        while i &+ 16 <= n { store16(E.load16(x + i), y + i); i &+= 16 }
        while i < n { y[i] = E.load1(x + i); i &+= 1 }
    }

    /// y[i] = e^x[i] with the vector approximation (`simdExp`).
    /// - Parameters: x: [n]; y: [n] (may be x)
    public static func exp(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count n: Int) {
        var i = 0
        while i &+ 16 <= n { store16(simdExp(load16(x + i)), y + i); i &+= 16 }
        if i < n {
            var t = SIMD16<Float>()
            for j in 0..<(n &- i) { t[j] = x[i &+ j] }
            let e = simdExp(t)
            for j in 0..<(n &- i) { y[i &+ j] = e[j] }
        }
    }
}

@inline(__always)
func geluVector(_ x: SIMD16<Float>) -> SIMD16<Float> {
    // Below -10 the true value is under 1e-37 in magnitude; clamping x there keeps the clamped
    // exp from leaving x / 1.6e38 (-6e-9 at x = -1e30). The clamp is "replace x where x < c"
    // (a vmaxps); a mask taken from x and applied to another vector was scalarised here.
    let x = x.replacing(with: -10, where: x .< -10)
    let x3 = x * x * x
    let u = x.addingProduct(SIMD16(repeating: geluA), x3)
    let e = simdExp(u * SIMD16(repeating: -2 * geluC))
    return x / (e + 1)
}

// MARK: - Scalar twins (Double inside where a reduction or a transcendental is involved)

extension ScalarKernels {
    public static func layerNorm(
        _ x: UnsafePointer<Float>, gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>?,
        _ y: UnsafeMutablePointer<Float>, count n: Int, eps: Float
    ) {
        var sum = 0.0
        for i in 0..<n { sum += Double(x[i]) }
        let mean = sum / Double(n)
        var sq = 0.0
        for i in 0..<n { let d = Double(x[i]) - mean; sq += d * d }
        let rstd = 1 / (sq / Double(n) + Double(eps)).squareRoot()
        for i in 0..<n {
            var v = (Double(x[i]) - mean) * rstd * Double(gamma[i])
            if let beta { v += Double(beta[i]) }
            y[i] = Float(v)
        }
    }

    public static func gelu(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count n: Int) {
        for i in 0..<n {
            let v = Double(x[i])
            // 0.5 v (1 + tanh(u)) written as v / (1 + e^(-2u)): the same function, without the
            // cancellation of 1 + tanh(u) for negative v.
            let u = Double(geluC) * (v + Double(geluA) * v * v * v)
            y[i] = Float(v / (1 + libmExp(-2 * u)))
        }
    }

    public static func relu(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count n: Int) {
        for i in 0..<n { y[i] = max(x[i], 0) }
    }

    public static func softmax(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count n: Int) {
        var mx = x[0]
        for i in 1..<max(n, 1) { mx = max(mx, x[i]) }
        var sum = 0.0
        for i in 0..<n { sum += libmExp(Double(x[i] - mx)) }
        for i in 0..<n { y[i] = Float(libmExp(Double(x[i] - mx)) / sum) }
    }

    public static func add(
        _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
        count n: Int
    ) {
        for i in 0..<n { y[i] = a[i] + b[i] }
    }

    public static func scale(
        _ x: UnsafePointer<Float>, by s: Float, _ y: UnsafeMutablePointer<Float>, count n: Int
    ) {
        for i in 0..<n { y[i] = x[i] * s }
    }

    @inlinable
    public static func convert<E: KernelElement>(
        _ x: UnsafePointer<E>, _ y: UnsafeMutablePointer<Float>, count n: Int
    ) {
        for i in 0..<n { y[i] = x[i].floatValue }
    }

    public static func exp(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count n: Int) {
        for i in 0..<n { y[i] = Float(libmExp(Double(x[i]))) }
    }
}

/// libm's expf, for a handful of scalars per call (not in loops over a cache).
@inline(__always)
func libmExpf(_ x: Float) -> Float {
    #if canImport(Glibc)
    return Glibc.expf(x)
    #elseif canImport(Musl)
    return Musl.expf(x)
    #else
    return Darwin.expf(x)
    #endif
}

/// libm's exp in Double, named apart from the `exp` kernels above.
@inline(__always)
func libmExp(_ x: Double) -> Double {
    #if canImport(Glibc)
    return Glibc.exp(x)
    #elseif canImport(Musl)
    return Musl.exp(x)
    #else
    return Darwin.exp(x)
    #endif
}
