// Helpers for the kernel twin tests: a seeded RNG, owned buffers, error measures.

import Kernels

/// SplitMix64: small, seedable, the same sequence everywhere.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A heap buffer the test owns (kernels only ever see its pointer).
final class Buffer<T: Numeric> {
    let count: Int
    let pointer: UnsafeMutablePointer<T>
    init(_ count: Int, _ value: T = 0) {
        self.count = count
        pointer = .allocate(capacity: max(count, 1))
        pointer.initialize(repeating: value, count: max(count, 1))
    }
    deinit { pointer.deallocate() }
    var p: UnsafeMutablePointer<T> { pointer }
    var c: UnsafePointer<T> { UnsafePointer(pointer) }
    var array: [T] { Array(UnsafeBufferPointer(start: pointer, count: count)) }
}

extension Buffer where T == Float {
    /// Uniform random values in [lo, hi).
    static func random(_ count: Int, _ rng: inout SplitMix64, _ lo: Float = -1, _ hi: Float = 1) -> Buffer {
        let b = Buffer(count)
        for i in 0..<count { b.pointer[i] = Float.random(in: lo..<hi, using: &rng) }
        return b
    }
    func copy() -> Buffer {
        let b = Buffer(count)
        b.pointer.update(from: pointer, count: count)
        return b
    }
}

/// Norm-wise relative error: max |a - b| / max |b| (for sums, where single outputs may cancel
/// to near zero and an element-wise ratio says nothing about the kernel).
func normRelativeError(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
    var num: Float = 0, den: Float = 0
    for i in 0..<n {
        num = max(num, abs(a[i] - b[i]))
        den = max(den, abs(b[i]))
    }
    if num.isNaN { return .infinity }
    return den == 0 ? num : num / den
}

/// Element-wise relative error: max |a - b| / (|b| + 1e-30) (for point-wise functions).
func pointRelativeError(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
    var worst: Float = 0
    for i in 0..<n {
        let e = abs(a[i] - b[i]) / (abs(b[i]) + 1e-30)
        if e.isNaN { return .infinity }
        worst = max(worst, e)
    }
    return worst
}

/// The awkward sizes every kernel is tried on.
let awkwardSizes = [1, 2, 15, 16, 17, 31, 33, 63, 64, 65, 255, 257, 1023]
