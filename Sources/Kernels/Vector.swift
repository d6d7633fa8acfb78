// Kernels: SIMD kernels with scalar reference twins (docs/kernels.md).
//
// Two namespaces with the same function names:
//   SIMDKernels    the fast kernels (Swift SIMD types only, no intrinsics: x86_64 and aarch64);
//   ScalarKernels  plain scalar loops computing the same thing, the reference in the tests.
// All memory comes in as raw pointers with the shape written beside each one; no kernel
// allocates, retains or throws. Weights are stored as Float or Float16 (`KernelElement`).
//
// The bodies of the big kernels are not @inlinable on purpose: they are compiled once, inside
// this module, with this module's CPU flags (Package.swift), so every caller gets the vector-FMA
// code that scripts/check-fma.sh checks, whatever the caller's own flags. A call costs a few ns
// against microseconds of work. Only the tiny per-vector helpers below are inlinable.

/// SIMD kernels. See ScalarKernels for the reference twin of each.
public enum SIMDKernels {}

/// Plain scalar reference twins of SIMDKernels (same names, same arguments).
public enum ScalarKernels {}

/// An element type weights and caches can be stored in: Float (fp32) or Float16 (fp16).
/// Arithmetic is always fp32; fp16 is converted element by element on load (docs/kernels.md,
/// "Swift codegen lessons": the generic vector conversion is not inlined and costs 4-5x).
public protocol KernelElement: Sendable {
    /// Loads 16 consecutive elements as fp32. `p` needs no alignment.
    static func load16(_ p: UnsafePointer<Self>) -> SIMD16<Float>
    /// Loads one element as fp32.
    static func load1(_ p: UnsafePointer<Self>) -> Float
    /// Rounds an fp32 value to this storage type.
    init(rounding value: Float)
    /// The stored value as fp32.
    var floatValue: Float { get }
}

extension Float: KernelElement {
    @inlinable @inline(__always)
    public static func load16(_ p: UnsafePointer<Float>) -> SIMD16<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
    }
    @inlinable @inline(__always)
    public static func load1(_ p: UnsafePointer<Float>) -> Float { p.pointee }
    @inlinable @inline(__always)
    public init(rounding value: Float) { self = value }
    @inlinable @inline(__always)
    public var floatValue: Float { self }
}

extension Float16: KernelElement {
    @inlinable @inline(__always)
    public static func load16(_ p: UnsafePointer<Float16>) -> SIMD16<Float> {
        let h = UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float16>.self)
        var r = SIMD16<Float>()
        for i in 0..<16 { r[i] = Float(h[i]) }   // vcvtph2ps / fcvtl, not a library call
        return r
    }
    @inlinable @inline(__always)
    public static func load1(_ p: UnsafePointer<Float16>) -> Float { Float(p.pointee) }
    @inlinable @inline(__always)
    public init(rounding value: Float) { self = Float16(value) }
    @inlinable @inline(__always)
    public var floatValue: Float { Float(self) }
}

// MARK: - Vector helpers

@inlinable @inline(__always)
func load16(_ p: UnsafePointer<Float>) -> SIMD16<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
}

@inlinable @inline(__always)
func load16(_ p: UnsafeMutablePointer<Float>) -> SIMD16<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
}

@inlinable @inline(__always)
func store16(_ v: SIMD16<Float>, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD16<Float>.self)
}

/// Sum of the 16 lanes by halving (log2 steps, once per call, never in an inner loop).
@inlinable @inline(__always)
func horizontalSum(_ v: SIMD16<Float>) -> Float {
    let a = v.lowHalf + v.highHalf          // SIMD8
    let b = a.lowHalf + a.highHalf          // SIMD4
    let c = b.lowHalf + b.highHalf          // SIMD2
    return c[0] + c[1]
}

/// Max of the 16 lanes (NaN-free input assumed).
@inlinable @inline(__always)
func horizontalMax(_ v: SIMD16<Float>) -> Float {
    var m = v[0]
    for i in 1..<16 where v[i] > m { m = v[i] }
    return m
}

@inlinable @inline(__always)
func vmax(_ a: SIMD16<Float>, _ b: SIMD16<Float>) -> SIMD16<Float> {
    a.replacing(with: b, where: b .> a)     // pointwiseMax is scalarised (pitfall 4)
}

/// e^x for 16 lanes: Cephes expf (range reduction by ln 2, degree-6 polynomial), relative
/// error about 2e-7 for x in [-87.3, 88]. Inputs are clamped to that range, so e^(-inf) gives
/// about 1.2e-38, not 0; callers that need exact zeros mask them.
@inlinable @inline(__always)
public func simdExp(_ x: SIMD16<Float>) -> SIMD16<Float> {
    var x = x.replacing(with: 88.0, where: x .> 88.0)
    x = x.replacing(with: -87.3, where: x .< -87.3)
    // n = round(x / ln 2) via the 1.5 * 2^23 trick: the low mantissa bits of t hold n.
    let magic = SIMD16<Float>(repeating: 12582912.0)
    let t = magic.addingProduct(x, SIMD16(repeating: 1.44269504088896341))
    let n = t - magic
    var r = x.addingProduct(n, SIMD16(repeating: -0.693359375))
    r = r.addingProduct(n, SIMD16(repeating: 2.12194440e-4))
    var p = SIMD16<Float>(repeating: 1.9875691500e-4)
    p = SIMD16(repeating: 1.3981999507e-3).addingProduct(p, r)
    p = SIMD16(repeating: 8.3334519073e-3).addingProduct(p, r)
    p = SIMD16(repeating: 4.1665795894e-2).addingProduct(p, r)
    p = SIMD16(repeating: 1.6666665459e-1).addingProduct(p, r)
    p = SIMD16(repeating: 5.0000001201e-1).addingProduct(p, r)
    let y = (r + 1).addingProduct(p, r * r)
    // 2^n: (n + 127) << 23 as a bit pattern; t's bits are 0x4B400000 + n.
    let tb = unsafeBitCast(t, to: SIMD16<UInt32>.self)
    let e = (tb &- SIMD16(repeating: 0x4B40_0000 - 127)) &<< SIMD16(repeating: 23)
    return y * unsafeBitCast(e, to: SIMD16<Float>.self)
}
