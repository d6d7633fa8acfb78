// The Swift streaming model against the numpy streaming reference (Tests/Fixtures/model-tiny,
// written by its make_fixture.py from Training/accompanist_train/reference.py): logits at every
// step, fp32 within 1e-4 relative, fp16 storage within a stated looser bound.

import Foundation
import Kernels
import Testing
@testable import Model

/// The parity fixture: weights, inputs and expected logits.
struct ParityFixture {
    let model: SafeTensorsFile
    let frames: [Float]      // [L][3]: pitch (-1 rest), onset, velocity bin
    let meter: [Float]       // [L]
    let tokens: [Float]      // [T]
    let ptime: [Float]       // [T]
    let tokMeter: [Float]    // [T]
    let logits: [Float]      // [T][V]

    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/model-tiny")

    init(directory: URL = ParityFixture.directory) throws {
        model = try SafeTensorsFile(path: directory.appendingPathComponent("model.safetensors").path)
        let e = try SafeTensorsFile(path: directory.appendingPathComponent("expected.safetensors").path)
        frames = try e.floats("frames"); meter = try e.floats("meter"); tokens = try e.floats("tokens")
        ptime = try e.floats("ptime"); tokMeter = try e.floats("tok_meter"); logits = try e.floats("logits")
    }

    /// Runs the model as the engine would (stream_logits in reference.py): before each token,
    /// push frames until every step before its prediction time is in. Calls `check` with the
    /// token index and the logits.
    func run(_ m: StreamingModel, _ check: (Int, UnsafePointer<Float>) -> Void) {
        for t in 0..<tokens.count {
            let p = Int(ptime[t])
            while m.encoderSteps < p {
                let s = m.encoderSteps
                m.encoderPush(pitch: Int(frames[3 * s]), onset: Int(frames[3 * s + 1]),
                              velocityBin: Int(frames[3 * s + 2]), meter: Int(meter[s]))
            }
            check(t, m.decoderStep(token: Int(tokens[t]), ptime: p, meter: Int(tokMeter[t])))
        }
    }
}

@Suite struct StreamingModelTests {
    /// Worst norm-wise relative error of the logits over all steps.
    func worstError(_ precision: WeightPrecision) throws -> (worst: Float, steps: Int) {
        let f = try ParityFixture()
        let m = try StreamingModel(file: f.model, precision: precision)
        let v = m.config.vocabSize
        var worst: Float = 0
        var steps = 0
        f.run(m) { t, logits in
            var num: Float = 0, den: Float = 0
            for i in 0..<v {
                num = max(num, abs(logits[i] - f.logits[t * v + i]))
                den = max(den, abs(f.logits[t * v + i]))
            }
            worst = max(worst, num.isNaN ? .infinity : num / den)
            steps += 1
        }
        print("parity \(precision): worst relative error \(worst) over \(steps) steps")
        return (worst, steps)
    }

    @Test func configFromMetadata() throws {
        let f = try ParityFixture()
        let c = try ModelConfig(metadata: f.model.metadata)
        #expect(c == ModelConfig(dModel: 32, nHeads: 2, dFF: 64, encLayers: 2, decLayers: 2, convWindow: 8,
                                 selfWindow: 12, crossWindow: 6))
    }

    @Test func parityFP32() throws {
        let (worst, steps) = try worstError(.fp32)
        #expect(steps == 48)
        #expect(worst < 1e-4, "fp32 logits vs numpy reference: worst relative error \(worst)")
    }

    /// fp16 weights and caches: rounding every weight to 11 significant bits moves the logits
    /// (measured 3.4e-4 relative on this fixture); the bound is 2e-3.
    @Test func parityFP16() throws {
        let (worst, steps) = try worstError(.fp16)
        #expect(steps == 48)
        #expect(worst < 2e-3, "fp16 logits vs numpy reference: worst relative error \(worst)")
    }

    /// A token fed and then truncated leaves no trace: the next logits equal those of a run
    /// that never saw it.
    @Test func truncateForgetsTheLastToken() throws {
        let f = try ParityFixture()
        let plain = try StreamingModel(file: f.model)
        let cut = try StreamingModel(file: f.model)
        let v = plain.config.vocabSize
        var expected: [[Float]] = []
        f.run(plain) { _, logits in expected.append(Array(UnsafeBufferPointer(start: logits, count: v))) }
        var mismatches = 0
        f.run(cut) { t, logits in
            if Array(UnsafeBufferPointer(start: logits, count: v)) != expected[t] { mismatches += 1 }
            if t % 5 == 2 {
                // A speculative token at the same time, then taken back.
                cut.decoderStep(token: 260, ptime: Int(f.ptime[t]), meter: Int(f.tokMeter[t]))
                cut.decoderTruncate(by: 1)
            }
        }
        #expect(mismatches == 0)
    }

    @Test func resetStartsOver() throws {
        let f = try ParityFixture()
        let m = try StreamingModel(file: f.model)
        let v = m.config.vocabSize
        var first: [Float] = []
        f.run(m) { t, logits in if t == 47 { first = Array(UnsafeBufferPointer(start: logits, count: v)) } }
        m.reset()
        #expect(m.encoderSteps == 0 && m.tokenCount == 0)
        var second: [Float] = []
        f.run(m) { t, logits in if t == 47 { second = Array(UnsafeBufferPointer(start: logits, count: v)) } }
        #expect(first == second)
    }

    @Test func missingTensorIsNamed() throws {
        let f = try ParityFixture()
        // Rewrite the fixture without one tensor.
        var w = SafeTensorsWriter(metadata: f.model.metadata)
        for name in f.model.tensors.keys.sorted() where name != "dec.layers.1.cross_attn.wv" {
            let info = f.model.tensors[name]!
            w.add(name, shape: info.shape, values: try f.model.floats(name))
        }
        let file = try SafeTensorsFile(bytes: w.serialize())
        #expect(throws: SafeTensorsError.missingTensor("dec.layers.1.cross_attn.wv")) {
            try StreamingModel(file: file)
        }
    }

    /// The windows are not bounded by the file's tensors but size the caches: a damaged or
    /// hostile file with huge ones gets an error naming the key, not an allocation of terabytes
    /// (hand-made files through the weights fuzz target). A vocabulary or chord head other than
    /// the runtime's is refused too.
    @Test(arguments: [
        ("self_window", 1_000_000_000_000, "is more than this runtime takes (16384)"),
        ("cross_window", Int.max, "is more than this runtime takes (16384)"),
        ("conv_window", 1 << 40, "is more than this runtime takes (4096)"),
        ("n_meter", 1 << 20, "is more than this runtime takes (1024)"),
        ("self_window", 16_384, "MiB, more than 1024 MiB"),   // each within its bound, too much together...
        ("vocab_size", 400, "must be 323"),
        ("n_chord", 25, "must be 61"),
    ])
    func implausibleConfigIsRefused(key: String, value: Int, message: String) throws {
        let f = try ParityFixture()
        var metadata = f.model.metadata
        var config = try JSONSerialization.jsonObject(with: Data(metadata["config"]!.utf8)) as! [String: Any]
        config[key] = value
        if message.contains("MiB") { config["d_model"] = 4096; config["dec_layers"] = 64 }   // ...with these
        metadata["config"] = String(decoding: try JSONSerialization.data(withJSONObject: config), as: UTF8.self)
        var w = SafeTensorsWriter(metadata: metadata)
        for name in f.model.tensors.keys.sorted() {
            w.add(name, shape: f.model.tensors[name]!.shape, values: try f.model.floats(name))
        }
        let file = try SafeTensorsFile(bytes: w.serialize())
        do {
            _ = try StreamingModel(file: file)
            Issue.record("\(key) = \(value) loaded")
        } catch {
            guard case .badMetadataValue(let k, let reason) = error else { Issue.record("\(error)"); return }
            #expect(k == (message.contains("MiB") ? "self_window" : key))
            #expect(reason.contains(message), "\(reason)")
        }
    }

    @Test func wrongShapeIsNamed() throws {
        let f = try ParityFixture()
        var w = SafeTensorsWriter(metadata: f.model.metadata)
        for name in f.model.tensors.keys.sorted() {
            let info = f.model.tensors[name]!
            if name == "enc.layers.0.ffn.w1" {
                w.add(name, shape: [64, 32], values: try f.model.floats(name))   // transposed
            } else {
                w.add(name, shape: info.shape, values: try f.model.floats(name))
            }
        }
        let file = try SafeTensorsFile(bytes: w.serialize())
        #expect(throws: SafeTensorsError.wrongShape(tensor: "enc.layers.0.ffn.w1", expected: [32, 64], actual: [64, 32])) {
            try StreamingModel(file: file)
        }
    }
}

@Suite struct RandomModelTests {
    /// The random weights have every tensor the loader needs, and steps give finite logits.
    @Test func randomBaseModelLoadsAndSteps() throws {
        let file = try SafeTensorsFile(bytes: SafeTensorsWriter.randomModel(.baseD128).serialize())
        #expect(try ModelConfig(metadata: file.metadata) == .baseD128)
        let m = try StreamingModel(file: file, precision: .fp16)
        m.encoderPush(pitch: 60, onset: 1, velocityBin: 20, meter: 0)
        let logits = m.decoderStep(token: 321, ptime: 1, meter: 1)
        #expect((0..<323).allSatisfy { logits[$0].isFinite })
    }
}

/// Misuse by the engine stops the process (a precondition) instead of reading outside a buffer.
@Suite struct StreamingModelMisuseTests {
    @Test func tokenBeforeItsColumnsStops() async {
        await #expect(processExitsWith: .failure) {
            let f = try ParityFixture()
            let m = try StreamingModel(file: f.model)
            m.decoderStep(token: 1, ptime: 3, meter: 0)           // no column pushed yet
        }
    }

    @Test func truncatingTooFarStops() async {
        await #expect(processExitsWith: .failure) {
            let f = try ParityFixture()
            let m = try StreamingModel(file: f.model)
            m.decoderStep(token: 321, ptime: 0, meter: 0)
            m.decoderTruncate(by: 2)
        }
    }

    @Test func encoderTooFarAheadStops() async {
        await #expect(processExitsWith: .failure) {
            let f = try ParityFixture()
            let m = try StreamingModel(file: f.model)                // cross window 6, capacity 32
            for s in 0..<40 { m.encoderPush(pitch: 60, onset: 0, velocityBin: 10, meter: s) }
            m.decoderStep(token: 321, ptime: 2, meter: 0)          // columns 0, 1 were overwritten
        }
    }
}
