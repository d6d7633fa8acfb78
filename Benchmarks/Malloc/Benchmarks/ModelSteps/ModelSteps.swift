// Kernels and the streaming model's steps at the shipped shape (base-d128, random weights),
// with malloc counts (must be 0) and wall-clock time.

import Benchmark
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
