// The streaming model at the shipped shape (base-d128) with random weights: encoder column and
// decoder token times with full caches, fp32 and fp16 storage, against the memory floor.

#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Kernels
import Model

func percentile(_ sorted: [Double], _ p: Double) -> Double {
    sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
}

/// Read bandwidth (bytes/s) over a working set of `bytes`: the floor's denominator, measured in
/// the same run as the model (Kernels' MachineProbe, shared with `accompanist bench`).
func readBandwidth(bytes: Int) -> Double { MachineProbe.readBandwidth(bytes: bytes) }

func runModelBench(steps: Int) throws {
    let c = ModelConfig.baseD128
    let file = try SafeTensorsFile(bytes: SafeTensorsWriter.randomModel(c).serialize())
    print("model-bench: base-d128 shape (d 128, 4 heads, FFN 512, 3+3 layers, windows conv 128 / self 256 / cross 128), random weights, \(steps) steps")
    // FLOPs per token: 2 per weight, plus QK and PV over full windows (2 * 2 * positions * d per layer).
    let flops = 2 * (c.decLayers * (6 * c.dModel * c.dModel + 2 * c.dModel * c.dFF) + c.dModel * c.dModel + c.vocabSize * c.dModel)
        + c.decLayers * 4 * (c.selfWindow + c.crossWindow) * c.dModel
    print(String(format: "     %.2f MFLOP per token: %.1f µs at 125 GFLOP/s (AVX2 peak, one core), %.1f µs at 250 (AVX-512)",
                 Double(flops) / 1e6, Double(flops) / 125e3, Double(flops) / 250e3))
    let variants: [(WeightPrecision, WeightPrecision)] = [(.fp32, .fp32), (.fp16, .fp16), (.fp16, .fp32)]
    for (precision, cachePrecision) in variants {
        let m = try StreamingModel(file: file, precision: precision, cachePrecision: cachePrecision)
        let name = "\(precision.rawValue) weights, \(cachePrecision.rawValue) caches:"
        // Fill every cache (self 256 tokens, cross 128 columns, conv 128) before timing.
        let warm = 400
        var token = 0
        for s in 0..<warm {
            m.encoderPush(pitch: 60 + s % 12, onset: s % 4 == 0 ? 1 : 0, velocityBin: 20, meter: s % 32)
            m.decoderStep(token: token, ptime: m.encoderSteps, meter: s % 32)
            token = (token * 7 + 3) % c.vocabSize
        }
        var enc = [Double](repeating: 0, count: steps), dec = [Double](repeating: 0, count: steps)
        for i in 0..<steps {
            let s = warm + i
            let t0 = now()
            m.encoderPush(pitch: 60 + s % 12, onset: s % 4 == 0 ? 1 : 0, velocityBin: 20, meter: s % 32)
            let t1 = now()
            m.decoderStep(token: token, ptime: m.encoderSteps, meter: s % 32)
            let t2 = now()
            enc[i] = t1 - t0; dec[i] = t2 - t1
            token = (token * 7 + 3) % c.vocabSize
        }
        enc.sort(); dec.sort()
        let e = cachePrecision == .fp16 ? 2 : 4
        // Bytes per token: decoder weights + both K/V caches of every layer (full windows).
        let cacheBytes = c.decLayers * 2 * (c.selfWindow + c.crossWindow) * c.dModel * e
        let bytes = m.decoderWeightBytes + cacheBytes
        let bandwidth = readBandwidth(bytes: bytes)
        let floorUs = Double(bytes) / bandwidth * 1e6
        print(String(format: "%@ decoder token  p50 %6.1f µs  p99 %6.1f µs  max %6.1f µs",
                     name, percentile(dec, 0.5) * 1e6, percentile(dec, 0.99) * 1e6, dec.last! * 1e6))
        print(String(format: "     floor: %.2f MB of weights and caches per token, read at %.0f GB/s (measured now, same working-set size) = %.1f µs; p50 = %.2fx the floor",
                     Double(bytes) / 1e6, bandwidth / 1e9, floorUs, percentile(dec, 0.5) * 1e6 / floorUs))
        print(String(format: "%@ encoder column p50 %6.1f µs  p99 %6.1f µs  max %6.1f µs",
                     name, percentile(enc, 0.5) * 1e6, percentile(enc, 0.99) * 1e6, enc.last! * 1e6))
    }
}
