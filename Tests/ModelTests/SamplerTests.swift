import Foundation
// TokenSampler: the grammar is obeyed, greedy is the legal argmax, seeds repeat, temperature and
// top-p shape the distribution as stated.

import Testing
import Tokens
@testable import Model

/// SplitMix64 (the engine's generator has the same algorithm).
struct TestRNG: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Suite struct SamplerTests {
    /// Logits that favour tokens the fresh grammar forbids (NOTE_ON without a velocity,
    /// NOTE_OFF of a silent pitch, a time shift past the beat).
    func temptingLogits() -> [Float] {
        var l = [Float](repeating: 0, count: 323)
        l[Vocabulary.noteOn(60)] = 50
        l[Vocabulary.noteOff(60)] = 40
        l[Vocabulary.timeShift(16)] = 30
        l[Vocabulary.timeShift(2)] = 3
        l[Vocabulary.velocity(bin: 20)] = 2.5
        return l
    }

    @Test func neverIllegal() {
        let s = TokenSampler(temperature: 1.5, topP: 1)
        var rng = TestRNG(state: 1)
        let g = Grammar()
        let logits = temptingLogits()
        for _ in 0..<2000 {
            let t = logits.withUnsafeBufferPointer { s.sample($0.baseAddress!, grammar: g, using: &rng) }
            #expect(t != nil && g.isLegal(t!))
        }
        for i in 0..<323 where !g.isLegal(i) { #expect(s.lastProbabilities[i] == 0) }
    }

    @Test func greedyIsTheLegalArgmax() {
        let s = TokenSampler(temperature: 0)
        var rng = TestRNG(state: 2)
        let logits = temptingLogits()
        let g = Grammar()
        let greedy = logits.withUnsafeBufferPointer { s.greedy($0.baseAddress!, grammar: g) }
        #expect(greedy == Vocabulary.timeShift(2))
        let sampled = logits.withUnsafeBufferPointer { s.sample($0.baseAddress!, grammar: g, using: &rng) }
        #expect(sampled == Vocabulary.timeShift(2))
        // After a VELOCITY, NOTE_ON 60 is legal and wins.
        var g2 = Grammar()
        g2.apply(Vocabulary.velocity(bin: 20))
        #expect(logits.withUnsafeBufferPointer { s.greedy($0.baseAddress!, grammar: g2) } == Vocabulary.noteOn(60))
    }

    @Test func sameSeedSameTokens() {
        let logits = [Float](repeating: 0, count: 323)
        func draw(_ seed: UInt64) -> [Int] {
            let s = TokenSampler(temperature: 1, topP: 0.9)
            var rng = TestRNG(state: seed)
            return (0..<200).map { _ in logits.withUnsafeBufferPointer { s.sample($0.baseAddress!, grammar: Grammar(), using: &rng)! } }
        }
        #expect(draw(7) == draw(7))
        #expect(draw(7) != draw(8))
    }

    /// Two legal candidates of interest with logits 0 and ln 3 at temperature 1: frequencies 1:3
    /// between them (all other legal tokens pushed to -30).
    @Test func temperatureOneFollowsTheSoftmax() {
        var logits = [Float](repeating: -30, count: 323)
        logits[Vocabulary.timeShift(1)] = 0
        logits[Vocabulary.timeShift(2)] = 1.0986123    // ln 3
        let s = TokenSampler(temperature: 1, topP: 1)
        var rng = TestRNG(state: 3)
        var counts = [0, 0]
        let n = 8_000
        for _ in 0..<n {
            let t = logits.withUnsafeBufferPointer { s.sample($0.baseAddress!, grammar: Grammar(), using: &rng)! }
            if t == Vocabulary.timeShift(1) { counts[0] += 1 } else if t == Vocabulary.timeShift(2) { counts[1] += 1 }
        }
        let ratio = Double(counts[1]) / Double(counts[0])
        #expect(abs(ratio - 3) < 0.25, "ratio \(ratio)")
        // Temperature 2 flattens it to sqrt(3).
        s.temperature = 2
        counts = [0, 0]
        for _ in 0..<n {
            let t = logits.withUnsafeBufferPointer { s.sample($0.baseAddress!, grammar: Grammar(), using: &rng)! }
            if t == Vocabulary.timeShift(1) { counts[0] += 1 } else if t == Vocabulary.timeShift(2) { counts[1] += 1 }
        }
        let flat = Double(counts[1]) / Double(counts[0])
        #expect(abs(flat - 3.0.squareRoot()) < 0.15, "ratio at T=2: \(flat)")
    }

    /// top-p 0.5 with one legal token holding 60% of the mass: always that token.
    @Test func topPKeepsTheNucleus() {
        var logits = [Float](repeating: -30, count: 323)
        logits[Vocabulary.timeShift(3)] = 2
        logits[Vocabulary.timeShift(4)] = 1.2
        logits[Vocabulary.timeShift(5)] = 1.2
        let s = TokenSampler(temperature: 1, topP: 0.5)
        var rng = TestRNG(state: 4)
        for _ in 0..<500 {
            #expect(logits.withUnsafeBufferPointer { s.sample($0.baseAddress!, grammar: Grammar(), using: &rng) }
                    == Vocabulary.timeShift(3))
        }
        s.topP = 1
        var seen = Set<Int>()
        for _ in 0..<500 { seen.insert(logits.withUnsafeBufferPointer { s.sample($0.baseAddress!, grammar: Grammar(), using: &rng)! }) }
        #expect(seen.isSuperset(of: [Vocabulary.timeShift(3), Vocabulary.timeShift(4), Vocabulary.timeShift(5)]))
    }

    /// Two-level sampling keeps the model's odds of the kinds at a low temperature: 128 equally
    /// likely NOTE_ONs against one TIME_SHIFT with their total weight are an even choice of kind,
    /// where single-level sampling at 0.3 almost always waits. Kind odds scale that choice, and
    /// the NOTE_ON bias only moves the choice within the kind.
    @Test func twoLevelKeepsTheKindOdds() {
        var g = Grammar()
        g.apply(Vocabulary.velocity(bin: 20))
        var l = [Float](repeating: -100, count: 323)
        for p in 0..<128 { l[Vocabulary.noteOn(p)] = 0 }
        l[Vocabulary.timeShift(2)] = logf(128)
        func noteShare(kindTemperature: Float, odds: [Float]? = nil, bias: [Float]? = nil, n: Int = 2000) -> (share: Double, pcs: Set<Int>) {
            let s = TokenSampler(temperature: 0.3, topP: 1)
            s.kindTemperature = kindTemperature
            var rng = TestRNG(state: 5)
            var notes = 0
            var pcs = Set<Int>()
            for _ in 0..<n {
                let t = l.withUnsafeBufferPointer { lp in
                    (odds ?? []).withUnsafeBufferPointer { op in
                        (bias ?? []).withUnsafeBufferPointer { bp in
                            s.sample(lp.baseAddress!, noteOnBias: bias == nil ? nil : bp.baseAddress!,
                                     kindOdds: odds == nil ? nil : op.baseAddress!, grammar: g, using: &rng)!
                        }
                    }
                }
                if t < Vocabulary.noteOffBase { notes += 1; pcs.insert(t % 12) }
            }
            return (Double(notes) / Double(n), pcs)
        }
        #expect(noteShare(kindTemperature: 0).share < 0.01)
        let even = noteShare(kindTemperature: 1).share
        #expect(abs(even - 0.5) < 0.05, "kind odds kept: \(even)")
        let doubled = noteShare(kindTemperature: 1, odds: [2, 1, 1, 1, 1]).share
        #expect(abs(doubled - 2.0 / 3.0) < 0.05, "NOTE_ON odds doubled: \(doubled)")
        // A bias that all but forbids every pitch class but C and G: still half notes, all C or G.
        var bias = [Float](repeating: -30, count: 12)
        bias[0] = 0; bias[7] = 0
        let biased = noteShare(kindTemperature: 1, bias: bias)
        #expect(abs(biased.share - 0.5) < 0.05, "the bias does not change the kind: \(biased.share)")
        #expect(biased.pcs == [0, 7])
    }
}
