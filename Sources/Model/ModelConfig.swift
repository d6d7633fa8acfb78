// ModelConfig: the architecture of the streaming accompanist, read from the weights file.
// Field names and meanings are those of Training/accompanist_train/config.py (ModelConfig).

import Foundation
import Tokens

public struct ModelConfig: Sendable, Equatable, Codable {
    public var dModel: Int
    public var nHeads: Int
    public var dFF: Int
    public var encLayers: Int
    public var decLayers: Int
    /// Encoder causal filter length W (steps).
    public var convWindow: Int
    /// Decoder self-attention window (tokens, including the current one).
    public var selfWindow: Int
    /// Encoder columns visible to a token (steps strictly before its prediction time).
    public var crossWindow: Int
    public var vocabSize: Int
    /// Metrical positions (steps in a bar), taken modulo nMeter.
    public var nMeter: Int
    public var nChord: Int
    /// Chord features per decoder position (docs/model.md, "Chord input"): 0 for a model without
    /// chord input, else `ChordFeatures.count` (12 chord tones, 12 bass, the "given" flag).
    public var chordInput: Int
    public var lnEps: Float

    enum CodingKeys: String, CodingKey {
        case dModel = "d_model", nHeads = "n_heads", dFF = "d_ff", encLayers = "enc_layers"
        case decLayers = "dec_layers", convWindow = "conv_window", selfWindow = "self_window"
        case crossWindow = "cross_window", vocabSize = "vocab_size", nMeter = "n_meter"
        case nChord = "n_chord", chordInput = "chord_input", lnEps = "ln_eps"
    }

    public init(
        dModel: Int, nHeads: Int, dFF: Int, encLayers: Int, decLayers: Int, convWindow: Int,
        selfWindow: Int, crossWindow: Int, vocabSize: Int = 323, nMeter: Int = 32, nChord: Int = 61,
        chordInput: Int = 0, lnEps: Float = 1e-5
    ) {
        self.dModel = dModel; self.nHeads = nHeads; self.dFF = dFF; self.encLayers = encLayers
        self.decLayers = decLayers; self.convWindow = convWindow; self.selfWindow = selfWindow
        self.crossWindow = crossWindow; self.vocabSize = vocabSize; self.nMeter = nMeter
        self.nChord = nChord; self.chordInput = chordInput; self.lnEps = lnEps
    }

    /// Every key is required but `chord_input` (absent in models from before chord input: 0).
    public init(from decoder: Decoder) throws {
        let k = try decoder.container(keyedBy: CodingKeys.self)
        self.init(dModel: try k.decode(Int.self, forKey: .dModel), nHeads: try k.decode(Int.self, forKey: .nHeads),
                  dFF: try k.decode(Int.self, forKey: .dFF), encLayers: try k.decode(Int.self, forKey: .encLayers),
                  decLayers: try k.decode(Int.self, forKey: .decLayers), convWindow: try k.decode(Int.self, forKey: .convWindow),
                  selfWindow: try k.decode(Int.self, forKey: .selfWindow), crossWindow: try k.decode(Int.self, forKey: .crossWindow),
                  vocabSize: try k.decode(Int.self, forKey: .vocabSize), nMeter: try k.decode(Int.self, forKey: .nMeter),
                  nChord: try k.decode(Int.self, forKey: .nChord),
                  chordInput: try k.decodeIfPresent(Int.self, forKey: .chordInput) ?? 0,
                  lnEps: try k.decode(Float.self, forKey: .lnEps))
    }

    /// Head size dModel / nHeads.
    public var headDim: Int { dModel / nHeads }

    /// Classes of the auxiliary chord head: root * 5 + quality, and "no chord" (docs/model.md).
    public static let chordClasses = 61
    /// The most memory the caches and rings of a model may take (`stateBytes`).
    public static let maximumStateBytes = 1 << 30

    /// Bytes of the state allocated at load beside the weights, in fp32: the decoder's self- and
    /// cross-attention K/V caches, the encoder's convolution rings and its cached columns.
    /// Only meaningful for fields within the limits of `validate` (no overflow there).
    public var stateBytes: Int {
        let selfSlots = (selfWindow + 15) / 16 * 16, crossSlots = (crossWindow + 16 + 15) / 16 * 16
        return 4 * dModel * (decLayers * 2 * (selfSlots + crossSlots) + encLayers * convWindow + crossSlots)
    }

    /// ALiBi slopes: slope_h = 2^(-8 (h+1) / H), rounded to Float as in the Python model.
    public var alibiSlopes: [Float] {
        (0..<nHeads).map { Float(pow(2.0, -8.0 * Double($0 + 1) / Double(nHeads))) }
    }

    /// Reads the config from a weights file's metadata: a JSON object under "config" (the
    /// exporter's asdict(ModelConfig)), or else one metadata key per field.
    public init(metadata: [String: String]) throws(SafeTensorsError) {
        if let json = metadata["config"] {
            do {
                self = try JSONDecoder().decode(ModelConfig.self, from: Data(json.utf8))
            } catch {
                throw .badMetadataValue(key: "config", reason: describe(error))
            }
        } else {
            func int(_ key: String) throws(SafeTensorsError) -> Int {
                guard let s = metadata[key] else { throw .badMetadataValue(key: key, reason: "missing") }
                guard let v = Int(s) else { throw .badMetadataValue(key: key, reason: "\(s) is not an integer") }
                return v
            }
            var eps: Float = 1e-5
            if let s = metadata["ln_eps"] {
                guard let v = Float(s) else { throw .badMetadataValue(key: "ln_eps", reason: "\(s) is not a number") }
                eps = v
            }
            self.init(dModel: try int("d_model"), nHeads: try int("n_heads"), dFF: try int("d_ff"),
                      encLayers: try int("enc_layers"), decLayers: try int("dec_layers"),
                      convWindow: try int("conv_window"), selfWindow: try int("self_window"),
                      crossWindow: try int("cross_window"), vocabSize: try int("vocab_size"),
                      nMeter: try int("n_meter"), nChord: try int("n_chord"),
                      chordInput: metadata["chord_input"].flatMap { Int($0) } ?? 0, lnEps: eps)
        }
        try validate()
    }

    /// Checks what the runtime relies on.
    public func validate() throws(SafeTensorsError) {
        let positive: [(String, Int)] = [
            ("d_model", dModel), ("n_heads", nHeads), ("d_ff", dFF), ("enc_layers", encLayers),
            ("dec_layers", decLayers), ("conv_window", convWindow), ("self_window", selfWindow),
            ("cross_window", crossWindow), ("vocab_size", vocabSize), ("n_meter", nMeter), ("n_chord", nChord),
        ]
        for (k, v) in positive where v <= 0 {
            throw .badMetadataValue(key: k, reason: "must be positive, is \(v)")
        }
        // A weights file comes from outside: its shapes bound the weights (the file holds them),
        // but not the windows, which size the caches allocated at load. Limits far above any
        // model that runs in real time here, so that a damaged or hostile file gets an error
        // instead of an allocation of terabytes (hand-made files through the weights fuzz target).
        let bounded: [(String, Int, Int)] = [
            ("d_model", dModel, 4096), ("n_heads", nHeads, 64), ("d_ff", dFF, 16_384),
            ("enc_layers", encLayers, 64), ("dec_layers", decLayers, 64), ("conv_window", convWindow, 4096),
            ("self_window", selfWindow, 16_384), ("cross_window", crossWindow, 16_384), ("n_meter", nMeter, 1024),
        ]
        for (k, v, limit) in bounded where v > limit {
            throw .badMetadataValue(key: k, reason: "\(v) is more than this runtime takes (\(limit))")
        }
        if vocabSize != Vocabulary.size {
            throw .badMetadataValue(key: "vocab_size", reason: "must be \(Vocabulary.size), the token vocabulary of docs/tokens.md, is \(vocabSize)")
        }
        if nChord != ModelConfig.chordClasses {
            throw .badMetadataValue(key: "n_chord", reason: "must be \(ModelConfig.chordClasses) (12 roots x 5 qualities + no chord, docs/model.md), is \(nChord)")
        }
        if chordInput != 0 && chordInput != ChordFeatures.count {
            throw .badMetadataValue(key: "chord_input", reason: "must be 0 (no chord input) or \(ChordFeatures.count) (docs/model.md), is \(chordInput)")
        }
        if stateBytes > ModelConfig.maximumStateBytes {
            throw .badMetadataValue(key: "self_window", reason: "the caches of this shape would take \(stateBytes >> 20) MiB, more than \(ModelConfig.maximumStateBytes >> 20) MiB")
        }
        if dModel % nHeads != 0 {
            throw .badMetadataValue(key: "n_heads", reason: "d_model \(dModel) is not divisible by \(nHeads)")
        }
        if !(lnEps > 0 && lnEps < 1) { throw .badMetadataValue(key: "ln_eps", reason: "must be in (0, 1), is \(lnEps)") }
    }
}
