// Kernels and the streaming model's steps at the shipped shape (base-d128, random weights),
// with malloc counts (must be 0) and wall-clock time.

import Benchmark
import Engine
import Kernels
import Model
import Tokens

/// A model with full caches, ready to step.
final class WarmModel: @unchecked Sendable {
    let model: StreamingModel
    var step = 0
    var token = 0

    init(_ precision: WeightPrecision) {
        let file = try! SafeTensorsFile(bytes: SafeTensorsWriter.randomModel(.baseD128).serialize())
        model = try! StreamingModel(file: file, precision: precision)
        for _ in 0..<400 { column(); decode() }
    }

    func column() {
        let s = step
        model.encoderPush(pitch: 60 + s % 12, onset: s % 4 == 0 ? 1 : 0, velocityBin: 20, meter: s % 32)
        step += 1
    }

    func decode() {
        model.decoderStep(token: token, ptime: model.encoderSteps, meter: step % 32)
        token = (token * 7 + 3) % 323
    }
}

/// The neural engine at the shipped shape (random weights), fed a random-walk melody (a note
/// every beat, an off-beat rest now and then) one grid step at a time, as the live engine thread
/// does: push the melody events of the step, generate, drain the buffer. Nothing here allocates
/// per step; the 600 steps in `init` fill every cache first.
final class WarmEngine: @unchecked Sendable {
    let engine: NeuralEngine
    let buffer = EventBuffer(capacity: 1024)
    var step = 0
    var pitch = 67
    var sounding = false
    var state: UInt64 = 12345

    init(_ precision: WeightPrecision) {
        let file = try! SafeTensorsFile(bytes: SafeTensorsWriter.randomModel(.baseD128).serialize())
        let model = try! StreamingModel(file: file, precision: precision)
        engine = NeuralEngine(model: model, configuration: NeuralConfiguration(), seed: 7)
        for _ in 0..<600 { generate() }
    }

    /// One grid step.
    func generate() {
        let s = step
        if s % 8 == 0 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            let r = Int(truncatingIfNeeded: state >> 33)
            if sounding { engine.melodyNoteOff(pitch: pitch, step: s) }
            sounding = r % 5 != 0
            pitch = min(84, max(55, pitch + (r >> 3) % 5 - 2))
            if sounding { engine.melodyNoteOn(pitch: pitch, velocity: 70 + r % 30, step: s) }
        }
        buffer.removeAll()
        engine.generate(step: s + 1, into: buffer)   // frame s is final at step s + 1
        step += 1
    }
}

let metrics: [BenchmarkMetric] = [.wallClock, .mallocCountTotal]

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(metrics: metrics, maxDuration: .seconds(2), maxIterations: 20_000)

    Benchmark("gemv 1024x256 fp32") { benchmark in
        let w = UnsafeMutablePointer<Float>.allocate(capacity: 1024 * 256)
        w.initialize(repeating: 0.01, count: 1024 * 256)
        let x = UnsafeMutablePointer<Float>.allocate(capacity: 256)
        x.initialize(repeating: 1, count: 256)
        let y = UnsafeMutablePointer<Float>.allocate(capacity: 1024)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            SIMDKernels.gemv(w, x, bias: nil, residual: nil, y, rows: 1024, cols: 256)
        }
        benchmark.stopMeasurement()
        w.deallocate(); x.deallocate(); y.deallocate()
    }

    Benchmark("attend 64 dims, 256 positions, fp32") { benchmark in
        let keys = UnsafeMutablePointer<Float>.allocate(capacity: 256 * 64)
        let values = UnsafeMutablePointer<Float>.allocate(capacity: 256 * 64)
        keys.initialize(repeating: 0.01, count: 256 * 64)
        values.initialize(repeating: 0.5, count: 256 * 64)
        let q = UnsafeMutablePointer<Float>.allocate(capacity: 64)
        q.initialize(repeating: 1, count: 64)
        let scores = UnsafeMutablePointer<Float>.allocate(capacity: 256)
        let out = UnsafeMutablePointer<Float>.allocate(capacity: 64)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            SIMDKernels.attend(q, keys: keys, values: values, capacity: 256, newest: 100, count: 256,
                               scale: 0.125, slope: 0.25, scores: scores, out, dim: 64)
        }
        benchmark.stopMeasurement()
        keys.deallocate(); values.deallocate(); q.deallocate(); scores.deallocate(); out.deallocate()
    }

    Benchmark("sample a token (grammar, temperature 1, top-p 0.9)") { benchmark in
        let sampler = TokenSampler(temperature: 1, topP: 0.9)
        let logits = UnsafeMutablePointer<Float>.allocate(capacity: 323)
        for i in 0..<323 { logits[i] = Float((i * 37) % 101) / 20 }
        var grammar = Grammar()
        grammar.apply(Vocabulary.velocity(bin: 20))
        var rng = SystemRandomNumberGenerator()
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            blackHole(sampler.sample(logits, grammar: grammar, using: &rng))
        }
        benchmark.stopMeasurement()
        logits.deallocate()
    }

    for precision in WeightPrecision.allCases {
        let e = WarmEngine(precision)
        Benchmark("NeuralEngine.generate per grid step, base-d128 random, \(precision.rawValue)") { benchmark in
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations { e.generate() }
            benchmark.stopMeasurement()
        }
    }

    for precision in WeightPrecision.allCases {
        // Built once (loading and filling the caches takes far longer than a step).
        let m = WarmModel(precision)
        Benchmark("decoder token, base-d128, \(precision.rawValue)") { benchmark in
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations { m.decode() }    // same prediction time: full caches
            benchmark.stopMeasurement()
        }

        Benchmark("encoder column, base-d128, \(precision.rawValue)") { benchmark in
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations { m.column() }
            benchmark.stopMeasurement()
        }
    }
}
