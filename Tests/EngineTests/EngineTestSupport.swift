import Foundation
@testable import Engine
import MIDI
import Tokens

enum Fixtures {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static func example(_ name: String) throws -> MIDIFile { try MIDIFile(contentsOf: repository.appendingPathComponent("Examples/\(name).mid")) }
    static var pop909: URL? {
        if let dir = ProcessInfo.processInfo.environment["POP909_DIR"] { return URL(fileURLWithPath: dir) }
        let dir = repository.deletingLastPathComponent().appendingPathComponent("shared/datasets/pop909")
        return FileManager.default.fileExists(atPath: dir.path) ? dir : nil
    }
}

/// A melody as (step, pitch, velocity) events in the order they are heard (velocity 0 = off).
typealias MelodyEvents = [(step: Int, pitch: Int, velocity: Int)]

func randomMelody(seed: UInt64, steps: Int) -> MelodyEvents {
    var rng = SplitMix64(seed: seed)
    var events: MelodyEvents = []
    var t = Int(rng.next() % 8)
    while t < steps - 2 {
        let pitch = 60 + Int(rng.next() % 24)
        let length = 1 + Int(rng.next() % 12)
        events.append((t, pitch, 40 + Int(rng.next() % 80)))
        events.append((t + length, pitch, 0))
        t += length + Int(rng.next() % 6)
    }
    return events
}

/// Drives an engine over `steps` steps the way the offline renderer does; returns every event.
func drive(_ engine: AccompanimentEngine, melody: MelodyEvents, steps: Int, seed: UInt64 = 1) -> [AccompanimentEvent] {
    OfflineRenderer.run(engine, melody: melody, steps: steps, seed: seed)
}
