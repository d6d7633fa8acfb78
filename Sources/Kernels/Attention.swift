// Attention of one query over one head's K/V cache, kept in a ring of `capacity` slots.
//
// Cache layout for one head (capacity a multiple of 16, dim = head size):
//   keys   [capacity/16][dim][16]  key of slot s at keys[(s/16)*dim*16 + d*16 + s%16]
//                                  (16-column panels: QK^T is the packed GEMV, no reductions)
//   values [capacity][dim]         value of slot s in row s (weighted sum = broadcast FMA)
// Position t lives in slot t % capacity. A query sees the `count` newest positions, ending at
// slot `newest` (distance 0); the caller folds the attention window into `count`. Each score
// gets an ALiBi-style linear bias: score = scale * (q . k) - slope * distance.

extension SIMDKernels {
    /// Writes one key into its panel lane.
    /// - Parameters: key: [dim]; keys: [capacity/16][dim][16]
    @inlinable
    public static func storeKey<E: KernelElement>(
        _ key: UnsafePointer<Float>, into keys: UnsafeMutablePointer<E>, slot: Int, dim: Int
    ) {
        let base = keys + (slot / 16) &* dim &* 16 + slot % 16
        for d in 0..<dim { base[d &* 16] = E(rounding: key[d]) }
    }

    /// Writes one value row.
    /// - Parameters: value: [dim]; values: [capacity][dim]
    @inlinable
    public static func storeValue<E: KernelElement>(
        _ value: UnsafePointer<Float>, into values: UnsafeMutablePointer<E>, slot: Int, dim: Int
    ) {
        let row = values + slot &* dim
        for d in 0..<dim { row[d] = E(rounding: value[d]) }
    }

    /// out = sum_s softmax(scale * q.k_s - slope * distance_s) v_s over the visible slots.
    /// Returns the max score and the sum of e^(score - max) (to merge further terms with
    /// `mergeAttentionTerm`); count 0 gives out = 0 and (-inf, 0).
    /// - Parameters:
    ///   - q: [dim]
    ///   - keys: [capacity/16][dim][16]
    ///   - values: [capacity][dim]
    ///   - capacity: slots in the ring, a multiple of 16
    ///   - newest: slot of the newest visible position (distance 0)
    ///   - count: visible positions, 0...capacity (slots newest, newest-1, ... wrapping)
    ///   - scores: [capacity] scratch; on return the visible slots hold e^(score - max score)
    ///   - out: [dim]
    @discardableResult
    public static func attend(
        _ q: UnsafePointer<Float>, keys: UnsafePointer<Float>, values: UnsafePointer<Float>,
        capacity: Int, newest: Int, count: Int, scale: Float, slope: Float,
        scores: UnsafeMutablePointer<Float>, _ out: UnsafeMutablePointer<Float>, dim: Int
    ) -> AttentionStats {
        attendCore(q, keys, values, capacity, newest, count, scale, slope, scores, out, dim)
    }

    /// fp16 caches. Shapes as the fp32 version.
    @discardableResult
    public static func attend(
        _ q: UnsafePointer<Float>, keys: UnsafePointer<Float16>, values: UnsafePointer<Float16>,
        capacity: Int, newest: Int, count: Int, scale: Float, slope: Float,
        scores: UnsafeMutablePointer<Float>, _ out: UnsafeMutablePointer<Float>, dim: Int
    ) -> AttentionStats {
        attendCore(q, keys, values, capacity, newest, count, scale, slope, scores, out, dim)
    }
}

/// The softmax normaliser of an attention call: out = sum_s e^(score_s - max) v_s / sum.
public struct AttentionStats: Sendable, Equatable {
    public var max: Float
    public var sum: Float
    public init(max: Float, sum: Float) { self.max = max; self.sum = sum }
}

extension SIMDKernels {
    /// Adds one more key to a finished attention output: out becomes the softmax-weighted mean
    /// over the earlier keys and a term with `score` and `value` (e.g. an always-visible start
    /// column kept outside the ring).
    /// - Parameters: out: [dim] (from attend, with its stats); value: [dim]
    public static func mergeAttentionTerm(
        _ out: UnsafeMutablePointer<Float>, stats: AttentionStats, score: Float,
        value: UnsafePointer<Float>, dim: Int
    ) {
        let m = Swift.max(stats.max, score)
        let a = stats.sum == 0 ? 0 : stats.sum * libmExpf(stats.max - m)
        let b = libmExpf(score - m)
        let inv = 1 / (a + b)
        let av = SIMD16<Float>(repeating: a * inv), bv = SIMD16<Float>(repeating: b * inv)
        var i = 0
        while i &+ 16 <= dim {
            store16((load16(out + i) * av).addingProduct(load16(value + i), bv), out + i)
            i &+= 16
        }
        while i < dim { out[i] = out[i] * (a * inv) + value[i] * (b * inv); i &+= 1 }
    }
}

/// Whether panel p holds any visible slot.
@inline(__always)
func panelVisible(_ p: Int, _ capacity: Int, _ newest: Int, _ count: Int) -> Bool {
    let first = p &* 16
    if newest >= first && newest < first &+ 16 { return true }
    var d = newest &- (first &+ 15)           // distance of the panel's last slot (the nearest)
    if d < 0 { d &+= capacity }
    return d < count
}

@inline(__always)
func attendCore<E: KernelElement>(
    _ q: UnsafePointer<Float>, _ keys: UnsafePointer<E>, _ values: UnsafePointer<E>,
    _ capacity: Int, _ newest: Int, _ count: Int, _ scale: Float, _ slope: Float,
    _ scores: UnsafeMutablePointer<Float>, _ out: UnsafeMutablePointer<Float>, _ dim: Int
) -> AttentionStats {
    if count <= 0 {
        for d in 0..<dim { out[d] = 0 }
        return AttentionStats(max: -.infinity, sum: 0)
    }
    let panels = capacity / 16
    let iota = SIMD16<Float>(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
    let capV = SIMD16<Float>(repeating: Float(capacity))
    let countV = SIMD16<Float>(repeating: Float(count))
    let scaleV = SIMD16<Float>(repeating: scale)
    let slopeV = SIMD16<Float>(repeating: -slope)
    let minusInf = SIMD16<Float>(repeating: -.infinity)
    // Pass 1: biased, masked scores of the panels that hold visible slots; their max.
    var mx = minusInf
    var p = 0
    while p < panels {
        if panelVisible(p, capacity, newest, count) {
            let dots = panelDot(keys + p &* dim &* 16, q, dim)
            var d = SIMD16<Float>(repeating: Float(newest &- p &* 16)) - iota
            d = d.replacing(with: d + capV, where: d .< SIMD16<Float>())
            var s = (dots * scaleV).addingProduct(d, slopeV)
            s = s.replacing(with: minusInf, where: d .>= countV)
            mx = vmax(mx, s)
            store16(s, scores + p &* 16)
        }
        p &+= 1
    }
    let m = SIMD16<Float>(repeating: horizontalMax(mx))
    // Pass 2: e^(s - max), exactly 0 where masked; the sum.
    var sum = SIMD16<Float>()
    p = 0
    while p < panels {
        if panelVisible(p, capacity, newest, count) {
            let s = load16(scores + p &* 16)
            let e = simdExp(s - m).replacing(with: 0, where: s .== minusInf)
            sum += e
            store16(e, scores + p &* 16)
        }
        p &+= 1
    }
    // Pass 3: out = sum_s w_s v_s over the visible slots (one or two contiguous runs).
    for d in 0..<dim { out[d] = 0 }
    let start = newest &- count &+ 1
    if start >= 0 {
        accumulateRows(values, scores, start, newest &+ 1, out, dim)
    } else {
        accumulateRows(values, scores, 0, newest &+ 1, out, dim)
        accumulateRows(values, scores, capacity &+ start, capacity, out, dim)
    }
    let total = horizontalSum(sum)
    let inv = 1 / total
    var i = 0
    while i &+ 16 <= dim { store16(load16(out + i) * SIMD16(repeating: inv), out + i); i &+= 16 }
    while i < dim { out[i] *= inv; i &+= 1 }
    return AttentionStats(max: m[0], sum: total)
}

/// out[d] += sum_{s in lo..<hi} w[s] * v[s][d].
/// - Parameters: v: [*][dim]; w: [*]; out: [dim]
@inline(__always)
func accumulateRows<E: KernelElement>(
    _ v: UnsafePointer<E>, _ w: UnsafePointer<Float>, _ lo: Int, _ hi: Int,
    _ out: UnsafeMutablePointer<Float>, _ dim: Int
) {
    var d0 = 0
    // 32 columns, two rows at a time: 4 accumulators (8 ymm on AVX2, 4 zmm on AVX-512).
    while d0 &+ 32 <= dim {
        var a0 = load16(out + d0), a1 = load16(out + (d0 &+ 16))
        var b0 = SIMD16<Float>(), b1 = SIMD16<Float>()
        var s = lo
        while s &+ 2 <= hi {
            let w0 = SIMD16<Float>(repeating: w[s]), w1 = SIMD16<Float>(repeating: w[s &+ 1])
            let r0 = v + (s &* dim &+ d0), r1 = r0 + dim
            a0 = a0.addingProduct(w0, E.load16(r0))
            a1 = a1.addingProduct(w0, E.load16(r0 + 16))
            b0 = b0.addingProduct(w1, E.load16(r1))
            b1 = b1.addingProduct(w1, E.load16(r1 + 16))
            s &+= 2
        }
        if s < hi {
            let w0 = SIMD16<Float>(repeating: w[s])
            let r0 = v + (s &* dim &+ d0)
            a0 = a0.addingProduct(w0, E.load16(r0))
            a1 = a1.addingProduct(w0, E.load16(r0 + 16))
        }
        store16(a0 + b0, out + d0)
        store16(a1 + b1, out + (d0 &+ 16))
        d0 &+= 32
    }
    while d0 &+ 16 <= dim {
        var a0 = load16(out + d0), b0 = SIMD16<Float>()
        var s = lo
        while s &+ 2 <= hi {
            a0 = a0.addingProduct(SIMD16(repeating: w[s]), E.load16(v + (s &* dim &+ d0)))
            b0 = b0.addingProduct(SIMD16(repeating: w[s &+ 1]), E.load16(v + ((s &+ 1) &* dim &+ d0)))
            s &+= 2
        }
        if s < hi { a0 = a0.addingProduct(SIMD16(repeating: w[s]), E.load16(v + (s &* dim &+ d0))) }
        store16(a0 + b0, out + d0)
        d0 &+= 16
    }
    while d0 < dim {
        var a: Float = out[d0]
        for s in lo..<hi { a = a.addingProduct(w[s], E.load1(v + (s &* dim &+ d0))) }
        out[d0] = a
        d0 &+= 1
    }
}

// MARK: - Scalar twin

extension ScalarKernels {
    @inlinable
    public static func storeKey<E: KernelElement>(
        _ key: UnsafePointer<Float>, into keys: UnsafeMutablePointer<E>, slot: Int, dim: Int
    ) {
        for d in 0..<dim { keys[((slot / 16) * dim + d) * 16 + slot % 16] = E(rounding: key[d]) }
    }

    @inlinable
    public static func storeValue<E: KernelElement>(
        _ value: UnsafePointer<Float>, into values: UnsafeMutablePointer<E>, slot: Int, dim: Int
    ) {
        for d in 0..<dim { values[slot * dim + d] = E(rounding: value[d]) }
    }

    /// Same contract as SIMDKernels.attend, except that `scores` holds the normalised
    /// probabilities of the visible slots on return.
    @discardableResult
    public static func attend<E: KernelElement>(
        _ q: UnsafePointer<Float>, keys: UnsafePointer<E>, values: UnsafePointer<E>,
        capacity: Int, newest: Int, count: Int, scale: Float, slope: Float,
        scores: UnsafeMutablePointer<Float>, _ out: UnsafeMutablePointer<Float>, dim: Int
    ) -> AttentionStats {
        if count <= 0 {
            for d in 0..<dim { out[d] = 0 }
            return AttentionStats(max: -.infinity, sum: 0)
        }
        // Logits (Double, rounded into `scores` by slot), then e^(logit - max) in Double.
        var mx = -Double.infinity
        for j in 0..<count {                       // j = distance
            let s = (newest - j + capacity) % capacity
            var dot = 0.0
            for d in 0..<dim {
                dot += Double(q[d]) * Double(keys[((s / 16) * dim + d) * 16 + s % 16].floatValue)
            }
            let logit = Double(scale) * dot - Double(slope) * Double(j)
            scores[s] = Float(logit)
            mx = max(mx, logit)
        }
        var sum = 0.0
        for j in 0..<count {
            let s = (newest - j + capacity) % capacity
            sum += libmExp(Double(scores[s]) - mx)
        }
        for d in 0..<dim {
            var a = 0.0
            for j in 0..<count {
                let s = (newest - j + capacity) % capacity
                a += libmExp(Double(scores[s]) - mx) * Double(values[s * dim + d].floatValue)
            }
            out[d] = Float(a / sum)
        }
        for j in 0..<count {
            let s = (newest - j + capacity) % capacity
            scores[s] = Float(libmExp(Double(scores[s]) - mx) / sum)
        }
        return AttentionStats(max: Float(mx), sum: Float(sum))
    }
}

extension ScalarKernels {
    public static func mergeAttentionTerm(
        _ out: UnsafeMutablePointer<Float>, stats: AttentionStats, score: Float,
        value: UnsafePointer<Float>, dim: Int
    ) {
        let m = max(Double(stats.max), Double(score))
        let a = stats.sum == 0 ? 0 : Double(stats.sum) * libmExp(Double(stats.max) - m)
        let b = libmExp(Double(score) - m)
        for i in 0..<dim { out[i] = Float((Double(out[i]) * a + Double(value[i]) * b) / (a + b)) }
    }
}
