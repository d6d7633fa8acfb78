// Fuzz target: a MIDI file as `accompanist render` takes it. Any bytes must either be refused by
// the reader with an error, or be read, rendered (rules engine) and written, and what we write
// must read back. A trap (overflow, index out of range, force unwrap) is a bug.
import Foundation
import FuzzSupport
import MIDI
import Engine

/// Render work grows with the melody's length in grid steps; the fuzzer's inputs are bounded to
/// keep each run short (the length limit of `render` itself is tested in the Engine tests).
let maximumFuzzSteps = 20_000

func fuzzMIDI(_ bytes: UnsafeRawBufferPointer) {
    guard let file = try? MIDIFile(data: Data(bytes)) else { return }
    _ = file.tempoMap
    _ = file.timeSignatures
    guard (try? MIDIFile(data: file.serialized())) != nil else { fatalError("a file we read and wrote does not read back") }
    guard let index = try? OfflineRenderer.melodyTrackIndex(in: file, selector: nil) else { return }
    let bars = OfflineRenderer.beatsPerBar(of: file) ?? 4
    guard (try? OfflineRenderer.checkLength(file: file, melodyTrack: index, beatsPerBar: bars, limit: maximumFuzzSteps)) != nil
    else { return }
    let engine = RulesEngine(configuration: RulesConfiguration(pattern: .broken, beatsPerBar: bars), seed: 1)
    // With the melody alone (no split, no chord track) render has nothing to refuse.
    let result: RenderResult
    do { result = try OfflineRenderer.render(file: file, melodyTrack: index, engine: engine, seed: 1, beatsPerBar: bars) }
    catch { fatalError("render of the melody alone threw: \(error)") }
    let written = result.file.serialized()
    guard let back = try? MIDIFile(data: written) else { fatalError("the rendered file does not read back") }
    _ = back.tempoMap.seconds(atStep: result.endStep)
}

func fuzzEntry(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    fuzzMIDI(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}

@main struct Main { static func main() { fuzzMain { data, size in fuzzEntry(data, size) } } }
