// StreamingModel: the accompanist run one encoder column and one decoder token at a time, with
// bounded caches, on the SIMD kernels. It follows Training/accompanist_train/reference.py (the
// numpy streaming reference) operation for operation; the Flax model (model.py) trains the same
// math over whole segments.
//
// Ownership: one engine thread owns a StreamingModel; nothing here locks. Everything is
// allocated in init (weights packed, caches at their maximum size, scratch); encoderPush and
// decoderStep only write into that memory: no allocation, no reference counting, no throwing.

import Kernels

/// How weights and K/V caches are stored (arithmetic is always fp32).
public enum WeightPrecision: String, Sendable, CaseIterable {
    case fp32
    case fp16
}

/// A weight matrix of y = W x, W [rows][cols], packed in 16-row panels.
struct PackedMatrix {
    /// [ceil(rows/16)][cols][16], Float or Float16 (`half`)
    let raw: UnsafeMutableRawPointer
    let rows: Int
    let cols: Int
    let half: Bool

    /// y = W x (+ bias) (+ residual); residual may be y.
    /// - Parameters: x: [cols]; bias: [rows]; residual: [rows]; y: [rows]
    @inline(__always)
    func apply(
        _ x: UnsafePointer<Float>, bias: UnsafePointer<Float>?, residual: UnsafePointer<Float>?,
        _ y: UnsafeMutablePointer<Float>
    ) {
        if half {
            SIMDKernels.gemv(UnsafePointer(raw.assumingMemoryBound(to: Float16.self)), x, bias: bias,
                             residual: residual, y, rows: rows, cols: cols)
        } else {
            SIMDKernels.gemv(UnsafePointer(raw.assumingMemoryBound(to: Float.self)), x, bias: bias,
                             residual: residual, y, rows: rows, cols: cols)
        }
    }
}

/// One encoder block's weights and state (plain pointers: copying it retains nothing).
struct EncoderLayer {
    var ln1Scale: UnsafeMutablePointer<Float>      // [d]
    var ln1Bias: UnsafeMutablePointer<Float>       // [d]
    var convFilter: UnsafeMutableRawPointer        // [W][d] Float or Float16; row j multiplies u[t-j]
    var ln2Scale: UnsafeMutablePointer<Float>      // [d]
    var ln2Bias: UnsafeMutablePointer<Float>       // [d]
    var ffnW1: PackedMatrix                        // dFF x d
    var ffnB1: UnsafeMutablePointer<Float>         // [dFF]
    var ffnW2: PackedMatrix                        // d x dFF
    var ffnB2: UnsafeMutablePointer<Float>         // [d]
    // State
    var convRing: UnsafeMutablePointer<Float>      // [W][d]: LN1 output of step t in row t % W
}

/// One decoder block's weights and caches.
struct DecoderLayer {
    var ln1Scale: UnsafeMutablePointer<Float>      // [d]
    var ln1Bias: UnsafeMutablePointer<Float>       // [d]
    var selfQKV: PackedMatrix                      // 3d x d: rows q (0..<d), k (d..<2d), v (2d..<3d)
    var selfOut: PackedMatrix                      // d x d
    var ln2Scale: UnsafeMutablePointer<Float>      // [d]
    var ln2Bias: UnsafeMutablePointer<Float>       // [d]
    var crossQ: PackedMatrix                       // d x d
    var crossKV: PackedMatrix                      // 2d x d (k, v of each encoder column)
    var crossOut: PackedMatrix                     // d x d
    var startKey: UnsafeMutablePointer<Float>      // [d] start column's key (start @ wk)
    var startValue: UnsafeMutablePointer<Float>    // [d] start column's value (start @ wv)
    var ln3Scale: UnsafeMutablePointer<Float>      // [d]
    var ln3Bias: UnsafeMutablePointer<Float>       // [d]
    var ffnW1: PackedMatrix                        // dFF x d
    var ffnB1: UnsafeMutablePointer<Float>         // [dFF]
    var ffnW2: PackedMatrix                        // d x dFF
    var ffnB2: UnsafeMutablePointer<Float>         // [d]
    // Caches (Float or Float16 as the weights), position/column p in slot p % capacity.
    var selfKeys: UnsafeMutableRawPointer          // [H][selfCapacity/16][dh][16]
    var selfValues: UnsafeMutableRawPointer        // [H][selfCapacity][dh]
    var crossKeys: UnsafeMutableRawPointer         // [H][crossCapacity/16][dh][16]
    var crossValues: UnsafeMutableRawPointer       // [H][crossCapacity][dh]
}

/// Not thread-safe: one thread uses it at a time. `@unchecked Sendable` so that it can be built
/// on one thread and handed to the engine thread (the hand-over is the caller's to order).
public final class StreamingModel: @unchecked Sendable {
    public let config: ModelConfig
    public let precision: WeightPrecision
    /// Storage of the K/V caches.
    public let cachePrecision: WeightPrecision
    /// Self-attention cache slots: selfWindow rounded up to 16.
    public let selfCapacity: Int
    /// Encoder column slots (cross K/V and columns): crossWindow + 16, rounded up to 16. The
    /// encoder may run up to crossCapacity - crossWindow columns ahead of a token's time.
    public let crossCapacity: Int
    /// Encoder columns computed so far (the next encoderPush computes column encoderSteps).
    public private(set) var encoderSteps = 0
    /// Tokens in the self-attention cache (the next decoderStep is position tokenCount).
    public private(set) var tokenCount = 0

    // Shapes: d = dModel, V = vocabSize, H = nHeads, dh = headDim.
    let d: Int, dh: Int, heads: Int, dFF: Int, vocab: Int, nMeter: Int, convWindow: Int
    let half: Bool                                  // weights (and conv filters) in fp16
    let cacheHalf: Bool                             // K/V caches in fp16
    let attnScale: Float
    let slopes: UnsafeMutablePointer<Float>         // [H]
    // Encoder weights
    let pitchEmb: UnsafeMutablePointer<Float>       // [129][d], row pitch + 1 (row 0: rest)
    let onsetEmb: UnsafeMutablePointer<Float>       // [2][d]
    let velEmb: UnsafeMutablePointer<Float>         // [32][d]
    let encMeterEmb: UnsafeMutablePointer<Float>    // [nMeter][d]
    let encLayers: UnsafeMutablePointer<EncoderLayer>   // [encLayers]
    let encLnScale: UnsafeMutablePointer<Float>     // [d]
    let encLnBias: UnsafeMutablePointer<Float>      // [d]
    let chordW: PackedMatrix                        // nChord x d (auxiliary chord head)
    let chordB: UnsafeMutablePointer<Float>         // [nChord]
    // Decoder weights
    let tokEmb: UnsafeMutablePointer<Float>         // [V][d]
    let decMeterEmb: UnsafeMutablePointer<Float>    // [nMeter][d]
    let encW: PackedMatrix                          // d x d (x @ enc_w)
    let encB: UnsafeMutablePointer<Float>           // [d]
    let startInput: UnsafeMutablePointer<Float>     // [d] start @ enc_w + enc_b (ptime 0)
    let decLayers: UnsafeMutablePointer<DecoderLayer>   // [decLayers]
    let decLnScale: UnsafeMutablePointer<Float>     // [d]
    let decLnBias: UnsafeMutablePointer<Float>      // [d]
    let outW: PackedMatrix                          // V x d
    let outB: UnsafeMutablePointer<Float>           // [V]
    let chordInW: UnsafeMutablePointer<Float>?      // [chordInput][d] fp32 (x @ chord_in_w); nil without chord input
    let classTones: UnsafeMutablePointer<Int>       // [nChord] pitch classes of each chord-head class
    // State
    /// The heard chord features (docs/model.md, "Chord input") of prediction time `heardTime`
    /// (−1: none computed since reset). [ChordFeatures.count]
    let heard: UnsafeMutablePointer<Float>
    var heardTime = -1
    let chordProbs: UnsafeMutablePointer<Float>     // [nChord] scratch: chord head softmax
    let encColumns: UnsafeMutablePointer<Float>     // [crossCapacity][d]: column s in row s % crossCapacity
    // Scratch
    let h: UnsafeMutablePointer<Float>              // [d] residual stream
    let a: UnsafeMutablePointer<Float>              // [d] normalised input of a sublayer
    let qkv: UnsafeMutablePointer<Float>            // [3d]
    let att: UnsafeMutablePointer<Float>            // [d] attention output, heads concatenated
    let ffn: UnsafeMutablePointer<Float>            // [dFF]
    let scores: UnsafeMutablePointer<Float>         // [max(selfCapacity, crossCapacity)]
    public let logits: UnsafeMutablePointer<Float>  // [V] of the last decoderStep

    private let memory: Allocations

    /// Loads and validates the weights file. `precision` chooses the storage of the weights,
    /// `cachePrecision` that of the K/V caches (by default the same).
    public convenience init(
        path: String, precision: WeightPrecision = .fp32, cachePrecision: WeightPrecision? = nil
    ) throws(SafeTensorsError) {
        try self.init(file: SafeTensorsFile(path: path), precision: precision, cachePrecision: cachePrecision)
    }

    public init(
        file: SafeTensorsFile, precision: WeightPrecision = .fp32, cachePrecision: WeightPrecision? = nil
    ) throws(SafeTensorsError) {
        let c = try ModelConfig(metadata: file.metadata)
        config = c
        self.precision = precision
        half = precision == .fp16
        self.cachePrecision = cachePrecision ?? precision
        cacheHalf = (cachePrecision ?? precision) == .fp16
        d = c.dModel; dh = c.headDim; heads = c.nHeads; dFF = c.dFF; vocab = c.vocabSize
        nMeter = c.nMeter; convWindow = c.convWindow
        selfCapacity = (c.selfWindow + 15) / 16 * 16
        crossCapacity = (c.crossWindow + 16 + 15) / 16 * 16
        attnScale = Float(1 / Double(c.headDim).squareRoot())
        let mem = Allocations()
        memory = mem
        let loader = WeightLoader(file: file, memory: mem, half: precision == .fp16)
        let d = c.dModel, dFF = c.dFF

        slopes = mem.floats(c.nHeads)
        for (i, s) in c.alibiSlopes.enumerated() { slopes[i] = s }

        pitchEmb = try loader.floats("enc.pitch_emb", [129, d])
        onsetEmb = try loader.floats("enc.onset_emb", [2, d])
        velEmb = try loader.floats("enc.vel_emb", [32, d])
        encMeterEmb = try loader.floats("enc.meter_emb", [c.nMeter, d])
        encLayers = mem.typed(EncoderLayer.self, c.encLayers)
        for l in 0..<c.encLayers {
            let p = "enc.layers.\(l)."
            encLayers[l] = EncoderLayer(
                ln1Scale: try loader.floats(p + "ln1.scale", [d]), ln1Bias: try loader.floats(p + "ln1.bias", [d]),
                convFilter: try loader.stored(p + "conv.kernel", [c.convWindow, d]),
                ln2Scale: try loader.floats(p + "ln2.scale", [d]), ln2Bias: try loader.floats(p + "ln2.bias", [d]),
                ffnW1: try loader.matrix([p + "ffn.w1"], inputs: d, outputs: [dFF]),
                ffnB1: try loader.floats(p + "ffn.b1", [dFF]),
                ffnW2: try loader.matrix([p + "ffn.w2"], inputs: dFF, outputs: [d]),
                ffnB2: try loader.floats(p + "ffn.b2", [d]),
                convRing: mem.floats(c.convWindow * d))
        }
        encLnScale = try loader.floats("enc.ln_f.scale", [d])
        encLnBias = try loader.floats("enc.ln_f.bias", [d])
        chordW = try loader.matrix(["enc.chord_w"], inputs: d, outputs: [c.nChord])
        chordB = try loader.floats("enc.chord_b", [c.nChord])

        tokEmb = try loader.floats("dec.tok_emb", [c.vocabSize, d])
        decMeterEmb = try loader.floats("dec.meter_emb", [c.nMeter, d])
        encW = try loader.matrix(["dec.enc_w"], inputs: d, outputs: [d])
        encB = try loader.floats("dec.enc_b", [d])
        let start = try loader.floats("dec.start", [d])
        startInput = mem.floats(d)
        encW.apply(start, bias: encB, residual: nil, startInput)
        decLayers = mem.typed(DecoderLayer.self, c.decLayers)
        let cacheBytes = cacheHalf ? 2 : 4
        for l in 0..<c.decLayers {
            let p = "dec.layers.\(l)."
            let startKV = mem.floats(2 * d)
            let crossKV = try loader.matrix([p + "cross_attn.wk", p + "cross_attn.wv"], inputs: d, outputs: [d, d])
            // The start column's key and value, in fp32 from the unrounded weights.
            let wk = try file.floats(p + "cross_attn.wk", shape: [d, d])
            let wv = try file.floats(p + "cross_attn.wv", shape: [d, d])
            for o in 0..<d {
                var k: Float = 0, v: Float = 0
                for i in 0..<d { k += start[i] * wk[i * d + o]; v += start[i] * wv[i * d + o] }
                startKV[o] = k; startKV[d + o] = v
            }
            decLayers[l] = DecoderLayer(
                ln1Scale: try loader.floats(p + "ln1.scale", [d]), ln1Bias: try loader.floats(p + "ln1.bias", [d]),
                selfQKV: try loader.matrix([p + "self_attn.wq", p + "self_attn.wk", p + "self_attn.wv"],
                                           inputs: d, outputs: [d, d, d]),
                selfOut: try loader.matrix([p + "self_attn.wo"], inputs: d, outputs: [d]),
                ln2Scale: try loader.floats(p + "ln2.scale", [d]), ln2Bias: try loader.floats(p + "ln2.bias", [d]),
                crossQ: try loader.matrix([p + "cross_attn.wq"], inputs: d, outputs: [d]),
                crossKV: crossKV,
                crossOut: try loader.matrix([p + "cross_attn.wo"], inputs: d, outputs: [d]),
                startKey: startKV, startValue: startKV + d,
                ln3Scale: try loader.floats(p + "ln3.scale", [d]), ln3Bias: try loader.floats(p + "ln3.bias", [d]),
                ffnW1: try loader.matrix([p + "ffn.w1"], inputs: d, outputs: [dFF]),
                ffnB1: try loader.floats(p + "ffn.b1", [dFF]),
                ffnW2: try loader.matrix([p + "ffn.w2"], inputs: dFF, outputs: [d]),
                ffnB2: try loader.floats(p + "ffn.b2", [d]),
                selfKeys: mem.bytes(c.nHeads * selfCapacity * dh * cacheBytes),
                selfValues: mem.bytes(c.nHeads * selfCapacity * dh * cacheBytes),
                crossKeys: mem.bytes(c.nHeads * crossCapacity * dh * cacheBytes),
                crossValues: mem.bytes(c.nHeads * crossCapacity * dh * cacheBytes))
        }
        decLnScale = try loader.floats("dec.ln_f.scale", [d])
        decLnBias = try loader.floats("dec.ln_f.bias", [d])
        outW = try loader.matrix(["dec.out_w"], inputs: d, outputs: [c.vocabSize])
        outB = try loader.floats("dec.out_b", [c.vocabSize])
        if c.chordInput > 0 {
            let w = try file.floats("dec.chord_in_w", shape: [c.chordInput, d])
            chordInW = mem.floats(c.chordInput * d)
            for i in 0..<(c.chordInput * d) { chordInW![i] = w[i] }
        } else {
            chordInW = nil
        }
        classTones = mem.typed(Int.self, c.nChord)
        for k in 0..<c.nChord { classTones[k] = ChordFeatures.classTones(k, classes: c.nChord) }
        heard = mem.floats(ChordFeatures.count)
        chordProbs = mem.floats(c.nChord)

        encColumns = mem.floats(crossCapacity * d)
        h = mem.floats(d); a = mem.floats(d); qkv = mem.floats(3 * d); att = mem.floats(d)
        ffn = mem.floats(dFF); scores = mem.floats(max(selfCapacity, crossCapacity))
        logits = mem.floats(c.vocabSize)
        reset()
    }

    /// Forgets the performance: empty caches, step and token counters at 0.
    public func reset() {
        encoderSteps = 0
        tokenCount = 0
        heardTime = -1
        for l in 0..<config.encLayers {
            encLayers[l].convRing.update(repeating: 0, count: convWindow * d)
        }
        let cacheBytes = cacheHalf ? 2 : 4
        for l in 0..<config.decLayers {
            let layer = decLayers[l]
            layer.selfKeys.initializeMemory(as: UInt8.self, repeating: 0, count: heads * selfCapacity * dh * cacheBytes)
            layer.selfValues.initializeMemory(as: UInt8.self, repeating: 0, count: heads * selfCapacity * dh * cacheBytes)
            layer.crossKeys.initializeMemory(as: UInt8.self, repeating: 0, count: heads * crossCapacity * dh * cacheBytes)
            layer.crossValues.initializeMemory(as: UInt8.self, repeating: 0, count: heads * crossCapacity * dh * cacheBytes)
        }
        encColumns.update(repeating: 0, count: crossCapacity * d)
    }

    // MARK: - Encoder

    /// Computes encoder column `encoderSteps` from its melody frame and caches it (and its
    /// cross-attention keys and values for every decoder layer).
    /// - Parameters:
    ///   - pitch: -1 (rest) ... 127
    ///   - onset: 0 or 1
    ///   - velocityBin: 0 ..< 32
    ///   - meter: metrical position (step in the bar), taken modulo nMeter
    public func encoderPush(pitch: Int, onset: Int, velocityBin: Int, meter: Int) {
        precondition(pitch >= -1 && pitch <= 127 && (onset == 0 || onset == 1) && velocityBin >= 0 && velocityBin < 32,
                     "melody frame out of range")
        let d = self.d
        let m = ((meter % nMeter) + nMeter) % nMeter
        SIMDKernels.add(pitchEmb + (pitch + 1) * d, onsetEmb + onset * d, h, count: d)
        SIMDKernels.add(h, velEmb + velocityBin * d, h, count: d)
        SIMDKernels.add(h, encMeterEmb + m * d, h, count: d)
        let t = encoderSteps
        let eps = config.lnEps
        for l in 0..<config.encLayers {
            let layer = encLayers[l]
            let slot = t % convWindow
            let u = layer.convRing + slot * d
            SIMDKernels.layerNorm(h, gamma: layer.ln1Scale, beta: layer.ln1Bias, u, count: d, eps: eps)
            if half {
                SIMDKernels.causalConvStep(ring: layer.convRing, newest: slot,
                                           filter: layer.convFilter.assumingMemoryBound(to: Float16.self),
                                           taps: convWindow, bias: nil, a, width: convWindow, channels: d)
            } else {
                SIMDKernels.causalConvStep(ring: layer.convRing, newest: slot,
                                           filter: layer.convFilter.assumingMemoryBound(to: Float.self),
                                           taps: convWindow, bias: nil, a, width: convWindow, channels: d)
            }
            SIMDKernels.add(h, a, h, count: d)
            SIMDKernels.layerNorm(h, gamma: layer.ln2Scale, beta: layer.ln2Bias, a, count: d, eps: eps)
            layer.ffnW1.apply(a, bias: layer.ffnB1, residual: nil, ffn)
            SIMDKernels.gelu(ffn, ffn, count: dFF)
            layer.ffnW2.apply(ffn, bias: layer.ffnB2, residual: h, h)
        }
        let slot = t % crossCapacity
        let column = encColumns + slot * d
        SIMDKernels.layerNorm(h, gamma: encLnScale, beta: encLnBias, column, count: d, eps: eps)
        for l in 0..<config.decLayers {
            let layer = decLayers[l]
            layer.crossKV.apply(column, bias: nil, residual: nil, qkv)      // k in [0, d), v in [d, 2d)
            for hd in 0..<heads {
                storeKV(qkv + hd * dh, qkv + d + hd * dh, keys: layer.crossKeys, values: layer.crossValues,
                        head: hd, capacity: crossCapacity, slot: slot)
            }
        }
        encoderSteps = t + 1
    }

    /// The latest encoder column (after encoderPush), e.g. for the chord head.
    /// - Returns: [d], valid until the next encoderPush
    public var lastEncoderColumn: UnsafePointer<Float> {
        UnsafePointer(encColumns + ((encoderSteps - 1 + crossCapacity) % crossCapacity) * d)
    }

    /// The auxiliary chord head on the latest encoder column: logits of the chord at the next
    /// step (docs/model.md: class root * 5 + quality, 60 = no chord).
    /// - Parameters: out: [nChord]
    public func encoderChordLogits(_ out: UnsafeMutablePointer<Float>) {
        chordW.apply(lastEncoderColumn, bias: chordB, residual: nil, out)
    }

    /// What the chord head hears at prediction time `ptime` (on encoder column ptime − 1), as
    /// the chord features of a position whose chord is not given (docs/model.md, "Chord input"):
    /// the probability that each pitch class is a chord tone (12), then zeros; all zero at 0.
    /// Computed once per prediction time and cached.
    /// - Returns: [ChordFeatures.count], valid until the next call with another ptime or a reset
    public func heardChord(ptime: Int) -> UnsafePointer<Float> {
        if heardTime != ptime {
            heardTime = ptime
            heard.update(repeating: 0, count: ChordFeatures.count)
            if ptime > 0 {
                precondition(ptime <= encoderSteps, "encoder columns before ptime are not all pushed")
                let n = config.nChord
                chordW.apply(encColumns + ((ptime - 1) % crossCapacity) * d, bias: chordB, residual: nil, chordProbs)
                var mx = -Float.infinity
                for c in 0..<n { mx = max(mx, chordProbs[c]) }
                var total: Float = 0
                for c in 0..<n { chordProbs[c] -= mx }
                SIMDKernels.exp(chordProbs, chordProbs, count: n)
                for c in 0..<n { total += chordProbs[c] }
                let norm = 1 / total
                for c in 0..<n where classTones[c] != 0 {
                    let q = chordProbs[c] * norm
                    for k in 0..<12 where (classTones[c] >> k) & 1 != 0 { heard[k] += q }
                }
            }
        }
        return UnsafePointer(heard)
    }

    // MARK: - Decoder

    /// Feeds one input token whose prediction time is `ptime` (its time plus its own time
    /// shift) and returns the logits of the next token.
    /// Requires encoder columns 0 ..< ptime pushed, and at most crossCapacity - crossWindow more.
    /// - Parameters:
    ///   - token: 0 ..< vocabSize
    ///   - ptime: prediction time (step)
    ///   - meter: metrical position of ptime, taken modulo nMeter
    ///   - chord: the chord features of this position ([ChordFeatures.count], `ChordFeatures.given`),
    ///     or nil for what the model hears itself (`heardChord`). Ignored without chord input.
    /// - Returns: logits [vocabSize], valid until the next decoderStep
    @discardableResult
    public func decoderStep(token: Int, ptime: Int, meter: Int, chord: UnsafePointer<Float>? = nil) -> UnsafePointer<Float> {
        let d = self.d, dh = self.dh
        let crossCount = min(ptime, config.crossWindow)
        precondition(token >= 0 && token < vocab, "token out of range")
        precondition(ptime >= 0 && ptime <= encoderSteps, "encoder columns before ptime are not all pushed")
        precondition(crossCount == 0 || encoderSteps <= ptime - crossCount + crossCapacity,
                     "the encoder ran too far ahead: visible columns were overwritten")
        let m = ((meter % nMeter) + nMeter) % nMeter
        // Input: token + meter embeddings + projected encoder state at ptime.
        if ptime == 0 {
            SIMDKernels.add(tokEmb + token * d, startInput, h, count: d)
        } else {
            let cur = encColumns + ((ptime - 1) % crossCapacity) * d
            encW.apply(cur, bias: encB, residual: tokEmb + token * d, h)
        }
        SIMDKernels.add(h, decMeterEmb + m * d, h, count: d)
        if let w = chordInW {
            // + x @ chord_in_w: a sum of the rows of the features that are not zero (25 at most).
            let x = chord ?? heardChord(ptime: ptime)
            for j in 0..<config.chordInput where x[j] != 0 {
                let row = w + j * d, xj = x[j]
                for i in 0..<d { h[i] = h[i].addingProduct(xj, row[i]) }
            }
        }

        let pos = tokenCount
        let selfSlot = pos % selfCapacity
        let selfCount = min(pos + 1, config.selfWindow)
        let crossNewest = ptime > 0 ? (ptime - 1) % crossCapacity : 0
        let eps = config.lnEps
        for l in 0..<config.decLayers {
            let layer = decLayers[l]
            // Self-attention over the cached tokens and this one.
            SIMDKernels.layerNorm(h, gamma: layer.ln1Scale, beta: layer.ln1Bias, a, count: d, eps: eps)
            layer.selfQKV.apply(a, bias: nil, residual: nil, qkv)
            for hd in 0..<heads {
                storeKV(qkv + d + hd * dh, qkv + 2 * d + hd * dh, keys: layer.selfKeys, values: layer.selfValues,
                        head: hd, capacity: selfCapacity, slot: selfSlot)
                attend(qkv + hd * dh, keys: layer.selfKeys, values: layer.selfValues, head: hd,
                       capacity: selfCapacity, newest: selfSlot, count: selfCount, out: att + hd * dh)
            }
            layer.selfOut.apply(att, bias: nil, residual: h, h)
            // Cross-attention: the start column (always visible, bias 0) and the last
            // crossWindow encoder columns before ptime.
            SIMDKernels.layerNorm(h, gamma: layer.ln2Scale, beta: layer.ln2Bias, a, count: d, eps: eps)
            layer.crossQ.apply(a, bias: nil, residual: nil, qkv)
            for hd in 0..<heads {
                let q = qkv + hd * dh
                let stats = attend(q, keys: layer.crossKeys, values: layer.crossValues, head: hd,
                                   capacity: crossCapacity, newest: crossNewest, count: crossCount, out: att + hd * dh)
                var s0: Float = 0
                let sk = layer.startKey + hd * dh
                for i in 0..<dh { s0 = s0.addingProduct(q[i], sk[i]) }
                SIMDKernels.mergeAttentionTerm(att + hd * dh, stats: stats, score: s0 * attnScale,
                                               value: layer.startValue + hd * dh, dim: dh)
            }
            layer.crossOut.apply(att, bias: nil, residual: h, h)
            // Feed-forward.
            SIMDKernels.layerNorm(h, gamma: layer.ln3Scale, beta: layer.ln3Bias, a, count: d, eps: eps)
            layer.ffnW1.apply(a, bias: layer.ffnB1, residual: nil, ffn)
            SIMDKernels.gelu(ffn, ffn, count: dFF)
            layer.ffnW2.apply(ffn, bias: layer.ffnB2, residual: h, h)
        }
        SIMDKernels.layerNorm(h, gamma: decLnScale, beta: decLnBias, a, count: d, eps: eps)
        outW.apply(a, bias: outB, residual: nil, logits)
        tokenCount = pos + 1
        return UnsafePointer(logits)
    }

    /// Drops the last `count` tokens from the self-attention cache (a pending time shift cut
    /// short: the decoder decides again from the token before it).
    /// - Parameter count: 0 ... min(tokenCount, selfCapacity - selfWindow + 1)
    public func decoderTruncate(by count: Int) {
        precondition(count >= 0 && count <= tokenCount && count <= selfCapacity - config.selfWindow + 1,
                     "cannot truncate the decoder cache by that many tokens")
        tokenCount -= count
    }

    // MARK: - Cache access (one branch on the storage type per call)

    @inline(__always)
    func storeKV(
        _ k: UnsafePointer<Float>, _ v: UnsafePointer<Float>, keys: UnsafeMutableRawPointer,
        values: UnsafeMutableRawPointer, head: Int, capacity: Int, slot: Int
    ) {
        let offset = head * capacity * dh
        if cacheHalf {
            SIMDKernels.storeKey(k, into: keys.assumingMemoryBound(to: Float16.self) + offset, slot: slot, dim: dh)
            SIMDKernels.storeValue(v, into: values.assumingMemoryBound(to: Float16.self) + offset, slot: slot, dim: dh)
        } else {
            SIMDKernels.storeKey(k, into: keys.assumingMemoryBound(to: Float.self) + offset, slot: slot, dim: dh)
            SIMDKernels.storeValue(v, into: values.assumingMemoryBound(to: Float.self) + offset, slot: slot, dim: dh)
        }
    }

    @inline(__always) @discardableResult
    func attend(
        _ q: UnsafePointer<Float>, keys: UnsafeMutableRawPointer, values: UnsafeMutableRawPointer,
        head: Int, capacity: Int, newest: Int, count: Int, out: UnsafeMutablePointer<Float>
    ) -> AttentionStats {
        let offset = head * capacity * dh
        if cacheHalf {
            return SIMDKernels.attend(q, keys: UnsafePointer(keys.assumingMemoryBound(to: Float16.self) + offset),
                                      values: UnsafePointer(values.assumingMemoryBound(to: Float16.self) + offset),
                                      capacity: capacity, newest: newest, count: count, scale: attnScale,
                                      slope: slopes[head], scores: scores, out, dim: dh)
        } else {
            return SIMDKernels.attend(q, keys: UnsafePointer(keys.assumingMemoryBound(to: Float.self) + offset),
                                      values: UnsafePointer(values.assumingMemoryBound(to: Float.self) + offset),
                                      capacity: capacity, newest: newest, count: count, scale: attnScale,
                                      slope: slopes[head], scores: scores, out, dim: dh)
        }
    }

    // MARK: - Size

    /// Bytes of weights read by one decoderStep (all decoder matrices, embeddings rows aside).
    public var decoderWeightBytes: Int {
        let e = half ? 2 : 4
        let perLayer = 3 * d * d + d * d + d * d + d * d + 2 * d * dFF
        return e * (config.decLayers * perLayer + d * d + vocab * d)
    }
}

/// Owns every buffer of a model; frees them with it.
final class Allocations {
    private var blocks: [UnsafeMutableRawPointer] = []

    /// Zeroed, 64-byte aligned.
    func bytes(_ count: Int) -> UnsafeMutableRawPointer {
        let p = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1), alignment: 64)
        p.initializeMemory(as: UInt8.self, repeating: 0, count: max(count, 1))
        blocks.append(p)
        return p
    }

    func floats(_ count: Int) -> UnsafeMutablePointer<Float> {
        bytes(count * MemoryLayout<Float>.stride).bindMemory(to: Float.self, capacity: count)
    }

    func typed<T>(_ type: T.Type, _ count: Int) -> UnsafeMutablePointer<T> {
        bytes(count * MemoryLayout<T>.stride).bindMemory(to: T.self, capacity: count)
    }

    deinit { for p in blocks { p.deallocate() } }
}

/// Reads tensors out of a weights file into the model's memory, checking names and shapes.
struct WeightLoader {
    let file: SafeTensorsFile
    let memory: Allocations
    let half: Bool

    /// A tensor copied as fp32.
    func floats(_ name: String, _ shape: [Int]) throws(SafeTensorsError) -> UnsafeMutablePointer<Float> {
        let info = try file.require(name, shape: shape)
        let p = memory.floats(info.elementCount)
        file.copyFloats(info, into: p)
        return p
    }

    /// A tensor in the storage type (fp32 or fp16), same layout.
    func stored(_ name: String, _ shape: [Int]) throws(SafeTensorsError) -> UnsafeMutableRawPointer {
        let info = try file.require(name, shape: shape)
        let n = info.elementCount
        if !half { return UnsafeMutableRawPointer(try floats(name, shape)) }
        let values = try file.floats(name, shape: shape)
        let raw = memory.bytes(2 * n)
        let p = raw.bindMemory(to: Float16.self, capacity: n)
        for i in 0..<n { p[i] = Float16(values[i]) }
        return raw
    }

    /// Matrices of x @ W (each [inputs][outputs_i] in the file), concatenated along the output
    /// and packed as one y = W x.
    func matrix(_ names: [String], inputs: Int, outputs: [Int]) throws(SafeTensorsError) -> PackedMatrix {
        let rows = outputs.reduce(0, +)
        var source = [Float](repeating: 0, count: inputs * rows)   // [inputs][rows]
        var offset = 0
        for (name, out) in zip(names, outputs) {
            let w = try file.floats(name, shape: [inputs, out])
            for k in 0..<inputs {
                for o in 0..<out { source[k * rows + offset + o] = w[k * out + o] }
            }
            offset += out
        }
        let count = packedCount(rows: rows, cols: inputs)
        let raw = memory.bytes(count * (half ? 2 : 4))
        source.withUnsafeBufferPointer { src in
            if half {
                packPanels(transposed: src.baseAddress!, rows: rows, cols: inputs,
                           into: raw.bindMemory(to: Float16.self, capacity: count))
            } else {
                packPanels(transposed: src.baseAddress!, rows: rows, cols: inputs,
                           into: raw.bindMemory(to: Float.self, capacity: count))
            }
        }
        return PackedMatrix(raw: raw, rows: rows, cols: inputs, half: half)
    }
}
