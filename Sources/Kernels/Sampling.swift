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

/// The top-p (nucleus) set over all of `probs`: order[0..<result] are the indices of the
/// smallest set of most likely entries whose mass reaches `p` of the total (at least 1), most
/// likely first (ties: lower index first). See `topPSet(_:candidates:count:p:)`.
/// - Parameters:
///   - probs: [n] non-negative weights (need not sum to 1)
///   - p: in (0, 1]
///   - order: [n] scratch; on return order[0..<result] hold the kept indices
public func topPSet(
    _ probs: UnsafePointer<Float>, count n: Int, p: Float, order: UnsafeMutablePointer<Int32>
) -> Int {
    for i in 0..<n { order[i] = Int32(i) }
    return topPSet(probs, candidates: order, count: n, p: p)
}

/// The top-p set among `count` candidate indices: heap-select, O(n + k log n) for k kept
/// entries, in place, no allocation. The mass is relative to the candidates' total.
/// - Parameters:
///   - probs: [*] non-negative weights, read at the candidate indices
///   - candidates: [count] indices into probs on entry; on return [0..<result] hold the kept
///     ones, most likely first (ties: lower index first); the rest are the others, in no order
///   - p: in (0, 1]
public func topPSet(
    _ probs: UnsafePointer<Float>, candidates order: UnsafeMutablePointer<Int32>, count n: Int, p: Float
) -> Int {
    guard n > 0 else { return 0 }
    // "a before b": a is more likely (or as likely with a lower index).
    @inline(__always) func before(_ a: Int32, _ b: Int32) -> Bool {
        let pa = probs[Int(a)], pb = probs[Int(b)]
        return pa > pb || (pa == pb && a < b)
    }
    // Heap with the most likely at the root.
    @inline(__always) func siftDown(_ start: Int, _ end: Int) {
        var root = start
        while true {
            var child = 2 * root + 1
            if child >= end { return }
            if child + 1 < end && before(order[child + 1], order[child]) { child += 1 }
            if before(order[child], order[root]) {
                let t = order[root]; order[root] = order[child]; order[child] = t
                root = child
            } else {
                return
            }
        }
    }
    var total: Float = 0
    for i in 0..<n { total += probs[Int(order[i])] }
    let target = p * total
    var s = n / 2 - 1
    while s >= 0 { siftDown(s, n); s -= 1 }
    // Pop the most likely to the back until the mass is reached: order[n-k..<n], least likely first.
    var end = n
    var acc: Float = 0
    while end > 0 {
        let top = order[0]
        end -= 1
        order[0] = order[end]; order[end] = top
        siftDown(0, end)
        acc += probs[Int(top)]
        if acc >= target { break }
    }
    let k = n - end
    // Reverse the whole buffer: the kept ones come first, most likely first.
    var i = 0, j = n - 1
    while i < j { let t = order[i]; order[i] = order[j]; order[j] = t; i += 1; j -= 1 }
    return k
}
