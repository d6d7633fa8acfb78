// Fuzz target: a weights file (safetensors). Any bytes must either be refused with a
// SafeTensorsError or give a model that runs; a trap or an attempt to allocate without bound is
// a bug. Seeds: Tests/Fixtures/model/tiny.safetensors.
//
// Inputs that start with "CFG" are config edits instead: each following 9 bytes pick a key of the
// tiny fixture's config (byte 0) and a new value (bytes 1-8, read in one of a few ways), and the
// fixture's tensors are written back under that config. Random bytes rarely keep a safetensors
// header's JSON valid, so this is what reaches the config checks that size the caches.
import Foundation
import FuzzSupport
import Model

func runModel(_ file: SafeTensorsFile) {
    for precision in WeightPrecision.allCases {
        guard let model = try? StreamingModel(file: file, precision: precision) else { continue }
        model.encoderPush(pitch: 60, onset: 1, velocityBin: 16, meter: 0)
        _ = model.decoderStep(token: 0, ptime: 1, meter: 1)
    }
}

/// The tiny fixture, read once (scripts/fuzz.sh runs from the repository root).
let tinyFixture: SafeTensorsFile? = try? SafeTensorsFile(path: "Tests/Fixtures/model/tiny.safetensors")

func fuzzConfigEdits(_ edits: UnsafeRawBufferPointer) {
    guard let base = tinyFixture, let json = base.metadata["config"],
          var config = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
    else { fatalError("cannot read Tests/Fixtures/model/tiny.safetensors from \(FileManager.default.currentDirectoryPath)") }
    let keys = config.keys.sorted()
    var i = 0
    while i + 9 <= edits.count {
        let key = keys[Int(edits[i]) % keys.count]
        var raw: UInt64 = 0
        for j in 1...8 { raw = raw << 8 | UInt64(edits[i + j]) }
        let value: Any
        switch edits[i] / 64 {
        case 0: value = Int(truncatingIfNeeded: raw)                 // anything, negative too
        case 1: value = Int(raw % 70_000)                           // around the limits
        case 2: value = Int(raw % 64)                               // small
        default: value = Double(bitPattern: raw)                    // floats (ln_eps), NaN, inf
        }
        config[key] = (value as? Double).map { $0.isFinite ? $0 as Any : 0.5 as Any } ?? value
        i += 9
    }
    var metadata = base.metadata
    guard let data = try? JSONSerialization.data(withJSONObject: config) else { return }
    metadata["config"] = String(decoding: data, as: UTF8.self)
    var writer = SafeTensorsWriter(metadata: metadata)
    for name in base.tensors.keys.sorted() {
        guard let values = try? base.floats(name) else { fatalError("fixture tensor \(name) unreadable") }
        writer.add(name, shape: base.tensors[name]!.shape, values: values)
    }
    guard let file = try? SafeTensorsFile(bytes: writer.serialize()) else { fatalError("a written file does not read back") }
    runModel(file)
}

func fuzzWeights(_ bytes: UnsafeRawBufferPointer) {
    if bytes.count >= 3 && bytes[0] == 0x43 && bytes[1] == 0x46 && bytes[2] == 0x47 {   // "CFG"
        fuzzConfigEdits(UnsafeRawBufferPointer(rebasing: bytes[3...]))
        return
    }
    guard let file = try? SafeTensorsFile(bytes: [UInt8](bytes)) else { return }
    for name in file.tensors.keys.sorted() { _ = try? file.floats(name) }
    runModel(file)
}

func fuzzEntry(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    fuzzWeights(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}

@main struct Main { static func main() { fuzzMain { data, size in fuzzEntry(data, size) } } }
