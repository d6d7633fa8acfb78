// TokenSampler: next-token logits -> a token, under the grammar (docs/tokens.md "Grammar"),
// with temperature and top-p and a caller-supplied seedable generator. Buffers are allocated in
// init; `sample` and `greedy` never allocate (the engine thread calls them per token).

import Kernels
import Tokens

public final class TokenSampler: @unchecked Sendable {
    /// Not thread-safe: one owner at a time, like StreamingModel.
    public let vocabSize: Int
    /// Softmax temperature; 0 (or below) means greedy.
    public var temperature: Float
    /// Nucleus mass in (0, 1]; 1 samples from every legal token.
    public var topP: Float

    let probs: UnsafeMutablePointer<Float>      // [V] masked, tempered logits, then probabilities
    let order: UnsafeMutablePointer<Int32>      // [V] legal token ids, then the top-p order
    let work: UnsafeMutablePointer<Float>       // [V] packed tempered logits of the legal tokens
    let kindMass: UnsafeMutablePointer<Float>   // [5] unnormalised probability of each kind (two-level)

    public init(vocabSize: Int = 323, temperature: Float = 1, topP: Float = 1) {
        self.vocabSize = vocabSize
        self.temperature = temperature
        self.topP = topP
        probs = .allocate(capacity: vocabSize)
        probs.initialize(repeating: 0, count: vocabSize)
        order = .allocate(capacity: vocabSize)
        order.initialize(repeating: 0, count: vocabSize)
        work = .allocate(capacity: vocabSize)
        work.initialize(repeating: 0, count: vocabSize)
        kindMass = .allocate(capacity: 5)
        kindMass.initialize(repeating: 0, count: 5)
    }

    deinit {
        probs.deallocate()
        order.deallocate()
        work.deallocate()
        kindMass.deallocate()
    }

    /// The most likely legal token, or nil when the grammar allows none.
    /// - Parameters: logits: [vocabSize]
    public func greedy(_ logits: UnsafePointer<Float>, grammar: Grammar) -> Int? {
        var best = -1
        var bestValue = -Float.infinity
        for i in 0..<vocabSize where grammar.isLegal(i) {
            if best < 0 || logits[i] > bestValue { best = i; bestValue = logits[i] }
        }
        return best < 0 ? nil : best
    }

    /// Two-level sampling (0: off). The token's kind (NOTE_ON, NOTE_OFF, TIME_SHIFT, VELOCITY,
    /// other) is drawn first from the model's own probabilities of the kinds, tempered by this
    /// (1 = as the model says), without `noteOnBias`; then the token within that kind at
    /// `temperature` and `topP`, with the bias. A low temperature then sharpens which pitch
    /// sounds without making the model play fewer notes: single-level, the many pitches a
    /// NOTE_ON could be each lose against one likely TIME_SHIFT, and chords thin out.
    public var kindTemperature: Float = 0

    /// A legal token drawn from softmax((logits + bias) / temperature), restricted to the top-p
    /// nucleus of the legal tokens (two-level when `kindTemperature` > 0); nil when the grammar
    /// allows none. Temperature <= 0 is greedy (with the bias).
    /// - Parameters:
    ///   - logits: [vocabSize]
    ///   - noteOnBias: nil, or [12]: added to every NOTE_ON logit by its pitch class (chord guidance)
    ///   - shiftBias: nil, or [maxTimeShift + 1]: added to the logit of TIME_SHIFT n (index n)
    ///   - kindOdds: nil, or [5]: the odds of each kind (NOTE_ON, NOTE_OFF, TIME_SHIFT, VELOCITY,
    ///     other) are multiplied by these in two-level sampling (the engine's chord stacking)
    public func sample<R: RandomNumberGenerator>(
        _ logits: UnsafePointer<Float>, noteOnBias: UnsafePointer<Float>? = nil, shiftBias: UnsafePointer<Float>? = nil,
        kindOdds: UnsafePointer<Float>? = nil, grammar: Grammar, using rng: inout R
    ) -> Int? {
        @inline(__always) func biased(_ i: Int) -> Float {
            if let b = noteOnBias, i < Vocabulary.noteOffBase { return logits[i] + b[i % 12] }
            if let b = shiftBias, i > Vocabulary.timeShiftBase, i < Vocabulary.velocityBase { return logits[i] + b[i - Vocabulary.timeShiftBase] }
            return logits[i]
        }
        if temperature <= 0 {
            var best = -1
            var bestValue = -Float.infinity
            for i in 0..<vocabSize where grammar.isLegal(i) {
                let x = biased(i)
                if best < 0 || x > bestValue { best = i; bestValue = x }
            }
            return best < 0 ? nil : best
        }
        /// Packs the legal tokens (of kind `only`; −1: all) in order[0..<n] and their
        /// exp(x · scale − max) in work[0..<n], x the logit (biased or not); returns n.
        @inline(__always) func packExp(only: Int, scale: Float, bias: Bool) -> Int {
            var n = 0
            var mx = -Float.infinity
            for i in 0..<vocabSize where grammar.isLegal(i) && (only < 0 || Self.kind(i) == only) {
                let x = (bias ? biased(i) : logits[i]) * scale
                order[n] = Int32(i)
                work[n] = x
                mx = max(mx, x)
                n += 1
            }
            for j in 0..<n { work[j] -= mx }
            SIMDKernels.exp(work, work, count: n)
            return n
        }
        var kind = -1
        if kindTemperature > 0 {
            // The kinds' probabilities from the unbiased logits of the legal tokens.
            let legal = packExp(only: -1, scale: 1 / kindTemperature, bias: false)
            if legal == 0 { return nil }
            kindMass.update(repeating: 0, count: 5)
            for j in 0..<legal { kindMass[Self.kind(Int(order[j]))] += work[j] }
            var total: Float = 0
            for k in 0..<5 {
                if let odds = kindOdds { kindMass[k] *= odds[k] }
                total += kindMass[k]
            }
            let u = Float(rng.next() >> 40) * (1 / 16_777_216) * total
            var acc: Float = 0
            for k in 0..<5 where kindMass[k] > 0 {
                acc += kindMass[k]
                kind = k
                if u < acc { break }
            }
        }
        // The candidates (order[0..<legal]): legal tokens (of the drawn kind), with their
        // tempered, biased logits.
        probs.update(repeating: 0, count: vocabSize)
        let legal = packExp(only: kind, scale: 1 / temperature, bias: true)
        if legal == 0 { return nil }
        var total: Float = 0
        for j in 0..<legal { total += work[j] }
        let norm = 1 / total
        for j in 0..<legal { probs[Int(order[j])] = work[j] * norm }
        let k = topPSet(probs, candidates: order, count: legal, p: min(max(topP, 1e-6), 1))
        var mass: Float = 0
        for j in 0..<k { mass += probs[Int(order[j])] }
        // u uniform in [0, mass): 24 random bits.
        let u = Float(rng.next() >> 40) * (1 / 16_777_216) * mass
        var acc: Float = 0
        for j in 0..<k {
            acc += probs[Int(order[j])]
            if u < acc { return Int(order[j]) }
        }
        return Int(order[k - 1])
    }

    /// 0 NOTE_ON, 1 NOTE_OFF, 2 TIME_SHIFT, 3 VELOCITY, 4 the specials.
    @inline(__always)
    static func kind(_ id: Int) -> Int {
        id < Vocabulary.noteOffBase ? 0 : id < Vocabulary.timeShiftBase + 1 ? 1
            : id < Vocabulary.velocityBase ? 2 : id < Vocabulary.pad ? 3 : 4
    }

    /// The probabilities of the last `sample` call before the top-p cut (0 for illegal
    /// tokens), [vocabSize].
    public var lastProbabilities: UnsafePointer<Float> { UnsafePointer(probs) }
}
