// Random weights of the right names and shapes for a config: for benchmarks and tests that need
// a model of the shipped size without the shipped file (docs/model.md lists the tensors).

extension SafeTensorsWriter {
    /// A writer holding every tensor of `config`'s model, uniform random values (scale 0.1;
    /// layer-norm scales around 1), the config in the metadata as the exporter writes it.
    public static func randomModel(_ config: ModelConfig, seed: UInt64 = 1) -> SafeTensorsWriter {
        let c = config
        var json = "{"
        json += "\"d_model\":\(c.dModel),\"n_heads\":\(c.nHeads),\"d_ff\":\(c.dFF),"
        json += "\"enc_layers\":\(c.encLayers),\"dec_layers\":\(c.decLayers),\"conv_window\":\(c.convWindow),"
        json += "\"self_window\":\(c.selfWindow),\"cross_window\":\(c.crossWindow),\"vocab_size\":\(c.vocabSize),"
        json += "\"n_meter\":\(c.nMeter),\"n_chord\":\(c.nChord),\"chord_input\":\(c.chordInput),\"ln_eps\":\(c.lnEps)}"
        var w = SafeTensorsWriter(metadata: ["config": json, "format": "accompanist-v1"])
        var state = seed
        func next() -> Float {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Float(Int32(truncatingIfNeeded: state >> 32)) / Float(Int32.max)
        }
        func add(_ name: String, _ shape: [Int], scale: Float = 0.1, offset: Float = 0) {
            let n = shape.reduce(1, *)
            var values = [Float](repeating: 0, count: n)
            for i in 0..<n { values[i] = offset + scale * next() }
            w.add(name, shape: shape, values: values)
        }
        let d = c.dModel, f = c.dFF
        add("enc.pitch_emb", [129, d]); add("enc.onset_emb", [2, d]); add("enc.vel_emb", [32, d])
        add("enc.meter_emb", [c.nMeter, d])
        for l in 0..<c.encLayers {
            let p = "enc.layers.\(l)."
            add(p + "ln1.scale", [d], offset: 1); add(p + "ln1.bias", [d])
            add(p + "conv.kernel", [c.convWindow, d], scale: 0.05)
            add(p + "ln2.scale", [d], offset: 1); add(p + "ln2.bias", [d])
            add(p + "ffn.w1", [d, f]); add(p + "ffn.b1", [f]); add(p + "ffn.w2", [f, d]); add(p + "ffn.b2", [d])
        }
        add("enc.ln_f.scale", [d], offset: 1); add("enc.ln_f.bias", [d])
        add("enc.chord_w", [d, c.nChord]); add("enc.chord_b", [c.nChord])
        add("dec.tok_emb", [c.vocabSize, d]); add("dec.meter_emb", [c.nMeter, d]); add("dec.start", [d])
        add("dec.enc_w", [d, d]); add("dec.enc_b", [d])
        for l in 0..<c.decLayers {
            let p = "dec.layers.\(l)."
            for ln in ["ln1", "ln2", "ln3"] { add(p + ln + ".scale", [d], offset: 1); add(p + ln + ".bias", [d]) }
            for a in ["self_attn", "cross_attn"] { for m in ["wq", "wk", "wv", "wo"] { add(p + a + "." + m, [d, d]) } }
            add(p + "ffn.w1", [d, f]); add(p + "ffn.b1", [f]); add(p + "ffn.w2", [f, d]); add(p + "ffn.b2", [d])
        }
        add("dec.ln_f.scale", [d], offset: 1); add("dec.ln_f.bias", [d])
        add("dec.out_w", [d, c.vocabSize]); add("dec.out_b", [c.vocabSize])
        if c.chordInput > 0 { add("dec.chord_in_w", [c.chordInput, d]) }
        return w
    }
}

extension ModelConfig {
    /// The shipped architecture (Training/configs/base.json, docs/model.md).
    public static let baseD128 = ModelConfig(dModel: 128, nHeads: 4, dFF: 512, encLayers: 3, decLayers: 3,
                                             convWindow: 128, selfWindow: 256, crossWindow: 128)
}
