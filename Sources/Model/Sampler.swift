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
    }

    deinit {
        probs.deallocate()
        order.deallocate()
        work.deallocate()
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

    /// A legal token drawn from softmax(logits / temperature), restricted to the top-p nucleus
    /// of the legal tokens; nil when the grammar allows none. Temperature <= 0 is greedy.
    /// - Parameters: logits: [vocabSize]
    public func sample<R: RandomNumberGenerator>(
        _ logits: UnsafePointer<Float>, grammar: Grammar, using rng: inout R
    ) -> Int? {
        if temperature <= 0 { return greedy(logits, grammar: grammar) }
        let v = vocabSize
        let inv = 1 / temperature
        // The legal tokens are the candidates (order[0..<legal]); their tempered logits packed
        // in work[0..<legal] for one vector exp.
        var legal = 0
        var mx = -Float.infinity
        for i in 0..<v {
            probs[i] = 0
            if grammar.isLegal(i) {
                let x = logits[i] * inv
                order[legal] = Int32(i)
                work[legal] = x
                mx = max(mx, x)
                legal += 1
            }
        }
        if legal == 0 { return nil }
        for j in 0..<legal { work[j] -= mx }
        SIMDKernels.exp(work, work, count: legal)
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

    /// The probabilities of the last `sample` call before the top-p cut (0 for illegal
    /// tokens), [vocabSize].
    public var lastProbabilities: UnsafePointer<Float> { UnsafePointer(probs) }
}
