// Fuzz target: a weights file (safetensors). Any bytes must either be refused with a
// SafeTensorsError or give a model that runs; a trap or an attempt to allocate without bound is
// a bug. Seeds: Tests/Fixtures/model/tiny.safetensors.
import Foundation
import FuzzSupport
import Model

func fuzzWeights(_ bytes: UnsafeRawBufferPointer) {
    guard let file = try? SafeTensorsFile(bytes: [UInt8](bytes)) else { return }
    for name in file.tensors.keys.sorted() { _ = try? file.floats(name) }
    for precision in WeightPrecision.allCases {
        guard let model = try? StreamingModel(file: file, precision: precision) else { continue }
        model.encoderPush(pitch: 60, onset: 1, velocityBin: 16, meter: 0)
        _ = model.decoderStep(token: 0, ptime: 1, meter: 1)
    }
}

func fuzzEntry(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    fuzzWeights(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}

@main struct Main { static func main() { fuzzMain { data, size in fuzzEntry(data, size) } } }
