import Foundation
import Model

/// The hindsight chord estimator's network (docs/hindsight.md): melody beat features in, per
/// beat logits over the 61 chord classes (root × maj/min/sus/dim/aug, then N) and over the 12
/// chord tones out. It sees the whole melody at once, so it is NOT causal: it runs offline
/// (`render --hindsight`) or behind the music, never on the real-time path, and allocates freely.
///
/// The math is `hindsight.forward_numpy` in Training/accompanist_train/hindsight.py (the parity
/// test compares them): input projection; 4 residual dilated convolutions over beats (kernel 3,
/// dilations 1 2 4 8, zero padding at the ends, pre-LayerNorm, GELU); 2 pre-LN blocks of
/// multi-head self-attention over all beats (4 heads, no positions) and a GELU feed-forward
/// (d → 2d → d); a final LayerNorm and the two heads. Float32, scalar loops: a 500-beat song
/// takes a few hundred million multiply-adds.
public final class HindsightModel: Sendable {
    public static let fileName = "hindsight.safetensors"
    public static let classes = 61
    public static let noChord = 60

    public let dModel: Int
    public let heads: Int
    public let dilations: [Int]
    public let attentionBlocks: Int
    /// Change penalties per beat of the bar (mod their count) for `ChordDecoder`, from the file.
    public let penalty: [Float]
    /// How many evenly spaced transpositions of the melody `classLogProbabilities` averages
    /// (metadata `transpositions`, 1 where absent; it divides 12).
    public let transpositions: Int
    /// The members of an ensemble (metadata `members`, 1 where absent), each a whole network of
    /// the same shape: member 0's tensors are named as a single model's, member i's carry the
    /// prefix `m{i}.`. `classLogProbabilities` averages their posteriors.
    public var members: Int { weights.count }
    private let weights: [[String: [Float]]]

    public enum LoadError: Error, CustomStringConvertible {
        case unreadable(String, String)
        case notHindsight(String, String)
        public var description: String {
            switch self {
            case .unreadable(let p, let why): return "cannot read the hindsight model \(p): \(why)"
            case .notHindsight(let p, let why): return "\(p) is not a hindsight chord model: \(why)"
            }
        }
    }

    public convenience init(path: String) throws(LoadError) {
        let file: SafeTensorsFile
        do { file = try SafeTensorsFile(path: path) } catch { throw .unreadable(path, error.description) }
        try self.init(file: file, name: path)
    }

    public init(file: SafeTensorsFile, name: String = "model") throws(LoadError) {
        let meta = file.metadata
        guard meta["format"] == "accompanist-hindsight" else { throw .notHindsight(name, "its metadata says format \(meta["format"] ?? "(none)")") }
        func int(_ key: String) throws(LoadError) -> Int {
            guard let v = meta[key].flatMap({ Int($0) }), v > 0 else { throw .notHindsight(name, "metadata \(key) missing or not a positive integer") }
            return v
        }
        dModel = try int("d_model")
        heads = try int("heads")
        attentionBlocks = try int("attention_blocks")
        guard try int("features") == BeatFeatures.count else { throw .notHindsight(name, "it reads \(meta["features"] ?? "?") features a beat, not \(BeatFeatures.count)") }
        guard dModel % heads == 0 else { throw .notHindsight(name, "d_model \(dModel) is not a multiple of heads \(heads)") }
        dilations = (meta["dilations"] ?? "").split(separator: ",").compactMap { Int($0) }
        penalty = (meta["penalty"] ?? "").split(separator: ",").compactMap { Float($0) }
        guard !dilations.isEmpty, dilations.allSatisfy({ $0 > 0 }) else { throw .notHindsight(name, "metadata dilations missing") }
        guard !penalty.isEmpty else { throw .notHindsight(name, "metadata penalty missing") }
        if let t = meta["transpositions"] {
            guard let v = Int(t), v > 0, 12 % v == 0 else { throw .notHindsight(name, "metadata transpositions \(t) does not divide 12") }
            transpositions = v
        } else {
            transpositions = 1
        }
        let d = dModel
        var shapes: [String: [Int]] = ["in.w": [BeatFeatures.count, d], "in.b": [d], "out.ln.g": [d], "out.ln.b": [d],
                                       "chord.w": [d, Self.classes], "chord.b": [Self.classes], "tones.w": [d, 12], "tones.b": [12]]
        for i in dilations.indices {
            shapes["conv\(i).ln.g"] = [d]; shapes["conv\(i).ln.b"] = [d]
            shapes["conv\(i).w"] = [3, d, d]; shapes["conv\(i).b"] = [d]
        }
        for i in 0..<attentionBlocks {
            for n in ["ln1", "ln2"] { shapes["att\(i).\(n).g"] = [d]; shapes["att\(i).\(n).b"] = [d] }
            for m in ["wq", "wk", "wv", "wo"] { shapes["att\(i).\(m)"] = [d, d] }
            shapes["att\(i).ff1.w"] = [d, 2 * d]; shapes["att\(i).ff1.b"] = [2 * d]
            shapes["att\(i).ff2.w"] = [2 * d, d]; shapes["att\(i).ff2.b"] = [d]
        }
        let count: Int
        if let m = meta["members"] {
            guard let v = Int(m), v > 0, v <= 16 else { throw .notHindsight(name, "metadata members \(m) is not 1...16") }
            count = v
        } else {
            count = 1
        }
        var weights: [[String: [Float]]] = []
        for member in 0..<count {
            let prefix = member == 0 ? "" : "m\(member)."
            var w: [String: [Float]] = [:]
            for (key, shape) in shapes {
                do { w[key] = try file.floats(prefix + key, shape: shape) } catch { throw .notHindsight(name, error.description) }
            }
            weights.append(w)
        }
        self.weights = weights
    }

    /// Logits of ensemble member `member` for `beats` rows of features (row-major (beats, 53)):
    /// class logits (beats, 61) and tone logits (beats, 12), row-major.
    public func forward(features f: [Float], beats n: Int, member: Int = 0) -> (classes: [Float], tones: [Float]) {
        precondition(f.count == n * BeatFeatures.count)
        let w = weights[member]
        let d = dModel
        var h = Self.matmul(f, n, BeatFeatures.count, w["in.w"]!, d, bias: w["in.b"]!)      // (n, d)
        for (i, dil) in dilations.enumerated() {
            let x = Self.layerNorm(h, n, d, w["conv\(i).ln.g"]!, w["conv\(i).ln.b"]!)      // (n, d)
            let k = w["conv\(i).w"]!                                                       // (3, d, d)
            var y = [Float](repeating: 0, count: n * d)                                    // (n, d)
            for t in 0..<n { for c in 0..<d { y[t * d + c] = w["conv\(i).b"]![c] } }
            for (tap, off) in [-dil, 0, dil].enumerated() {
                for t in 0..<n {
                    let src = t + off
                    guard src >= 0 && src < n else { continue }
                    Self.accumulate(x, row: src, k, offset: tap * d * d, d, d, into: &y, row: t)
                }
            }
            for j in 0..<(n * d) { h[j] += Self.gelu(y[j]) }
        }
        let dh = d / heads
        let scale = 1 / Float(dh).squareRoot()
        for i in 0..<attentionBlocks {
            let x = Self.layerNorm(h, n, d, w["att\(i).ln1.g"]!, w["att\(i).ln1.b"]!)
            let q = Self.matmul(x, n, d, w["att\(i).wq"]!, d)                               // (n, d)
            let kk = Self.matmul(x, n, d, w["att\(i).wk"]!, d)
            let v = Self.matmul(x, n, d, w["att\(i).wv"]!, d)
            var o = [Float](repeating: 0, count: n * d)                                    // (n, d)
            var a = [Float](repeating: 0, count: n)                                        // (n,) one row of weights
            for hd in 0..<heads {
                let c0 = hd * dh
                for t in 0..<n {
                    var m = -Float.infinity
                    for u in 0..<n {
                        var s: Float = 0
                        for c in c0..<(c0 + dh) { s += q[t * d + c] * kk[u * d + c] }
                        a[u] = s * scale
                        m = max(m, a[u])
                    }
                    var z: Float = 0
                    for u in 0..<n { a[u] = expf(a[u] - m); z += a[u] }
                    for u in 0..<n {
                        let p = a[u] / z
                        for c in c0..<(c0 + dh) { o[t * d + c] += p * v[u * d + c] }
                    }
                }
            }
            let proj = Self.matmul(o, n, d, w["att\(i).wo"]!, d)
            for j in 0..<(n * d) { h[j] += proj[j] }
            let x2 = Self.layerNorm(h, n, d, w["att\(i).ln2.g"]!, w["att\(i).ln2.b"]!)
            var ff = Self.matmul(x2, n, d, w["att\(i).ff1.w"]!, 2 * d, bias: w["att\(i).ff1.b"]!)   // (n, 2d)
            for j in 0..<ff.count { ff[j] = Self.gelu(ff[j]) }
            let back = Self.matmul(ff, n, 2 * d, w["att\(i).ff2.w"]!, d, bias: w["att\(i).ff2.b"]!) // (n, d)
            for j in 0..<(n * d) { h[j] += back[j] }
        }
        let x = Self.layerNorm(h, n, d, w["out.ln.g"]!, w["out.ln.b"]!)
        return (Self.matmul(x, n, d, w["chord.w"]!, Self.classes, bias: w["chord.b"]!),
                Self.matmul(x, n, d, w["tones.w"]!, 12, bias: w["tones.b"]!))
    }

    /// The class posterior's logarithm for `beats` rows of features, averaged over
    /// `transpositions` evenly spaced transpositions (test-time augmentation): copy `i` hears the
    /// melody `k = i·12/transpositions` semitones up (the four pitch-class blocks of each row
    /// rotated by `k`), and its posterior is read `k` down. The model was trained under random
    /// transposition; the copies disagree where it is unsure, and their average is the better
    /// estimate (docs/hindsight.md). Row-major (beats, 61), normalised: `ChordDecoder` reads it
    /// as it reads logits. Every member of an ensemble hears every copy, and all are averaged.
    /// `hindsight.class_log_probs` in Python.
    public func classLogProbabilities(features f: [Float], beats n: Int) -> [Float] {
        let c = Self.classes
        var sum = [Float](repeating: 0, count: n * c)                                      // (n, 61) averaged posterior
        var g = f                                                                           // (n, 53) the transposed copy
        for copy in 0..<(transpositions * members) {
            let i = copy % transpositions, member = copy / transpositions
            let k = i * 12 / transpositions
            for t in 0..<n {
                for block in stride(from: 0, to: 48, by: 12) {
                    for pc in 0..<12 { g[t * BeatFeatures.count + block + (pc + k) % 12] = f[t * BeatFeatures.count + block + pc] }
                }
            }
            let lp = ChordDecoder.logSoftmax(forward(features: g, beats: n, member: member).classes, rows: n, width: c)   // (n, 61)
            for t in 0..<n {
                for j in 0..<c {
                    let up = j == Self.noChord ? j : ((j / 5 + k) % 12) * 5 + j % 5                // class j, k semitones up
                    sum[t * c + j] += expf(lp[t * c + up])
                }
            }
        }
        return sum.map { logf(max($0 / Float(transpositions * members), 1e-30)) }
    }

    // MARK: - Scalar helpers (offline: clarity over speed)

    /// (n, k) × (k, m) + bias → (n, m), row-major.
    static func matmul(_ x: [Float], _ n: Int, _ k: Int, _ wt: [Float], _ m: Int, bias: [Float]? = nil) -> [Float] {
        var y = [Float](repeating: 0, count: n * m)
        for t in 0..<n {
            if let bias { for j in 0..<m { y[t * m + j] = bias[j] } }
            accumulate(x, row: t, wt, offset: 0, k, m, into: &y, row: t)
        }
        return y
    }

    /// y[yRow, :] += x[xRow, :] (k,) × w[offset ..< offset + k·m] viewed as (k, m).
    @inline(__always)
    static func accumulate(_ x: [Float], row xRow: Int, _ wt: [Float], offset: Int, _ k: Int, _ m: Int, into y: inout [Float], row yRow: Int) {
        x.withUnsafeBufferPointer { xp in
            wt.withUnsafeBufferPointer { wp in
                y.withUnsafeMutableBufferPointer { yp in
                    let yo = yRow * m
                    for c in 0..<k {
                        let xv = xp[xRow * k + c]
                        if xv == 0 { continue }
                        let wo = offset + c * m
                        for j in 0..<m { yp[yo + j] += xv * wp[wo + j] }
                    }
                }
            }
        }
    }

    static func layerNorm(_ x: [Float], _ n: Int, _ d: Int, _ g: [Float], _ b: [Float]) -> [Float] {
        var y = [Float](repeating: 0, count: n * d)
        for t in 0..<n {
            var mu: Float = 0
            for c in 0..<d { mu += x[t * d + c] }
            mu /= Float(d)
            var v: Float = 0
            for c in 0..<d { let e = x[t * d + c] - mu; v += e * e }
            let r = 1 / (v / Float(d) + 1e-5).squareRoot()
            for c in 0..<d { y[t * d + c] = (x[t * d + c] - mu) * r * g[c] + b[c] }
        }
        return y
    }

    @inline(__always)
    static func gelu(_ x: Float) -> Float { 0.5 * x * (1 + tanhf(0.7978845608028654 * (x + 0.044715 * x * x * x))) }
}
