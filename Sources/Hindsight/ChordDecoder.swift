import Foundation
import Harmony
import Model

/// From the hindsight model's per-beat class logits to one chord a beat (docs/hindsight.md).
public enum ChordDecoder {
    /// Viterbi: the class sequence maximising the sum of per-beat log-probabilities minus
    /// `penalty[beat in bar % penalty.count]` at each change of class (a change on beat 1 of a
    /// bar costs `penalty[0]`). `logits`: row-major (beats, 61). `hindsight.decode` in Python.
    public static func decode(logits: [Float], beats n: Int, beatsPerBar: Int, penalty: [Float]) -> [Int] {
        let c = HindsightModel.classes
        precondition(logits.count == n * c && !penalty.isEmpty)
        guard n > 0 else { return [] }
        let lp = logSoftmax(logits, rows: n, width: c)      // (n, 61) log-probabilities
        var score = Array(lp[0..<c])                        // (61,)
        var back = [Int](repeating: 0, count: n * c)        // (n, 61)
        for t in 1..<n {
            let pen = penalty[(t % max(1, beatsPerBar)) % penalty.count]
            var best = 0
            for k in 1..<c where score[k] > score[best] { best = k }
            let move = score[best] - pen
            for k in 0..<c {
                if score[k] >= move { back[t * c + k] = k } else { back[t * c + k] = best; score[k] = move }
                score[k] += lp[t * c + k]
            }
        }
        var out = [Int](repeating: 0, count: n)
        var last = 0
        for k in 1..<c where score[k] > score[last] { last = k }
        out[n - 1] = last
        for t in stride(from: n - 1, to: 0, by: -1) { out[t - 1] = back[t * c + out[t]] }
        return out
    }

    /// Per beat, Σ over classes of the class probability times its tones: (beats, 12) row-major.
    public static func toneProbabilities(logits: [Float], beats n: Int) -> [Float] {
        let c = HindsightModel.classes
        let lp = logSoftmax(logits, rows: n, width: c)      // (n, 61)
        var out = [Float](repeating: 0, count: n * 12)
        for t in 0..<n {
            for k in 0..<(c - 1) {
                let q = expf(lp[t * c + k])
                let tones = ChordFeatures.classTones(k, classes: c)
                for pc in 0..<12 where (tones >> pc) & 1 != 0 { out[t * 12 + pc] += q }
            }
        }
        return out
    }

    /// Each row's log-softmax: `x` row-major (rows, width), the same shape out.
    static func logSoftmax(_ x: [Float], rows n: Int, width c: Int) -> [Float] {
        var out = [Float](repeating: 0, count: n * c)
        for t in 0..<n {
            var m = -Float.infinity
            for k in 0..<c { m = max(m, x[t * c + k]) }
            var z: Float = 0
            for k in 0..<c { z += expf(x[t * c + k] - m) }
            let lz = logf(z)
            for k in 0..<c { out[t * c + k] = x[t * c + k] - m - lz }
        }
        return out
    }

    /// The chord of a class: its root's major, minor, sus4, diminished or augmented triad; N is N.C.
    public static func chord(ofClass k: Int) -> ChartChord {
        guard k != HindsightModel.noChord, (0..<HindsightModel.noChord).contains(k) else { return .noChord }
        let q: [ChordQuality] = [.major, .minor, .sus4, .diminished, .augmented]
        return .chord(ChordSymbol(root: k / 5, quality: q[k % 5]))
    }
}
