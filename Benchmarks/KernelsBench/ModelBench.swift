// The streaming model at the shipped shape (base-d128) with random weights: encoder column and
// decoder token times with full caches, fp32 and fp16 storage, against the memory floor.

#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Model

func percentile(_ sorted: [Double], _ p: Double) -> Double {
    sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
}

func runModelBench(steps: Int) throws {
    let c = ModelConfig.baseD128
    let file = try SafeTensorsFile(bytes: SafeTensorsWriter.randomModel(c).serialize())
    print("model-bench: base-d128 shape (d 128, 4 heads, FFN 512, 3+3 layers, windows conv 128 / self 256 / cross 128), random weights")
    for precision in WeightPrecision.allCases {
        let m = try StreamingModel(file: file, precision: precision)
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
        let e = precision == .fp16 ? 2 : 4
        // Bytes per token: decoder weights + both K/V caches of every layer (full windows).
        let cacheBytes = c.decLayers * 2 * (c.selfWindow + c.crossWindow) * c.dModel * e
        let bytes = m.decoderWeightBytes + cacheBytes
        let floorUs = Double(bytes) / 100e9 * 1e6
        print(String(format: "%@ decoder token  p50 %6.1f µs  p99 %6.1f µs  max %6.1f µs   (%.2f MB touched: floor %.1f µs at 100 GB/s, p50 = %.2fx floor)",
                     precision.rawValue, percentile(dec, 0.5) * 1e6, percentile(dec, 0.99) * 1e6, dec.last! * 1e6,
                     Double(bytes) / 1e6, floorUs, percentile(dec, 0.5) * 1e6 / floorUs))
        print(String(format: "%@ encoder column p50 %6.1f µs  p99 %6.1f µs  max %6.1f µs",
                     precision.rawValue, percentile(enc, 0.5) * 1e6, percentile(enc, 0.99) * 1e6, enc.last! * 1e6))
    }
}
