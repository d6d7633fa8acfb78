// Helpers for the sampler: argmax and the top-p (nucleus) cut, allocation-free.

extension SIMDKernels {
    /// Index of the largest element (the first one on ties).
    /// - Parameters: x: [n], n >= 1
    public static func argmax(_ x: UnsafePointer<Float>, count n: Int) -> Int {
        var m0 = SIMD16<Float>(repeating: -.infinity)
        var i = 0
        while i &+ 16 <= n { m0 = vmax(m0, load16(x + i)); i &+= 16 }
        var mx = horizontalMax(m0)
        while i < n { if x[i] > mx { mx = x[i] }; i &+= 1 }
        for j in 0..<n where x[j] == mx { return j }
        return 0   // all NaN
    }
}

extension ScalarKernels {
    public static func argmax(_ x: UnsafePointer<Float>, count n: Int) -> Int {
        var best = 0
        for i in 1..<max(n, 1) where x[i] > x[best] { best = i }
        return best
    }
}

/// The top-p (nucleus) set: sorts the indices of `probs` by decreasing probability (ties by
/// increasing index) and returns how many of them form the smallest prefix whose mass reaches
/// `p` (at least 1). In-place heap sort: no allocation, O(n log n).
/// - Parameters:
///   - probs: [n] probabilities (need not sum to 1; `p` is relative to their sum)
///   - p: in (0, 1]
///   - order: [n] scratch; on return order[0..<result] are the kept indices, most likely first
public func topPSet(
    _ probs: UnsafePointer<Float>, count n: Int, p: Float, order: UnsafeMutablePointer<Int32>
) -> Int {
    guard n > 0 else { return 0 }
    for i in 0..<n { order[i] = Int32(i) }
    // "a before b" in the final order: higher probability, then lower index.
    @inline(__always) func before(_ a: Int32, _ b: Int32) -> Bool {
        let pa = probs[Int(a)], pb = probs[Int(b)]
        return pa > pb || (pa == pb && a < b)
    }
    // Max-heap with `before` as "<" (the root goes last), then pop the root to the back.
    @inline(__always) func siftDown(_ start: Int, _ end: Int) {
        var root = start
        while true {
            var child = 2 * root + 1
            if child >= end { return }
            if child + 1 < end && before(order[child], order[child + 1]) { child += 1 }
            if before(order[root], order[child]) {
                let t = order[root]; order[root] = order[child]; order[child] = t
                root = child
            } else {
                return
            }
        }
    }
    var s = n / 2 - 1
    while s >= 0 { siftDown(s, n); s -= 1 }
    var end = n - 1
    while end > 0 {
        let t = order[0]; order[0] = order[end]; order[end] = t
        siftDown(0, end)
        end -= 1
    }
    var total: Float = 0
    for i in 0..<n { total += probs[i] }
    let target = p * total
    var acc: Float = 0
    for k in 0..<n {
        acc += probs[Int(order[k])]
        if acc >= target { return k + 1 }
    }
    return n
}
