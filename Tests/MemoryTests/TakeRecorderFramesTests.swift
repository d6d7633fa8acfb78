import Engine
import Foundation
import Harmony
@testable import Memory
import Tokens
import XCTest

/// The take recorder grows its melody frames a beat at a time (so a plan at minute 180 costs what
/// it costs at minute 1); they must be the frames rebuilt from every note, at every beat.
final class TakeRecorderFramesTests: XCTestCase {
    func testGrownFramesAreTheRebuiltFrames() {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("frames-\(UUID().uuidString)")
        let recorder = TakeRecorder(store: MemoryStore(directory: dir), chart: ChordStream(), beatsPerBar: 4, bpm: { 100 }, hindsightModel: nil)
        var rng = SplitMix64(seed: 7)  // the engine's seeded generator: the same keys every run
        var held = Set<Int>()
        var compared = 0
        for beat in 1...600 {
            let s = 8 * beat
            // The keys heard before the engine computes step s: those of steps < s, and now and
            // then one of step s itself, heard early (rounded to the nearest step).
            var keys: [TakeEvent] = []
            for step in (s - 8)..<s {
                if Int.random(in: 0..<3, using: &rng) == 0 {
                    let pitch = [60, 62, 64, 65, 67, 72][Int.random(in: 0..<6, using: &rng)]
                    if held.contains(pitch) && Bool.random(using: &rng) {
                        keys.append(TakeEvent(kind: .noteOff, step: step, pitch: pitch)); held.remove(pitch)
                    } else {
                        // A held key struck again (the recorder closes it), or a new one; chords too.
                        keys.append(TakeEvent(kind: .noteOn, step: step, pitch: pitch, velocity: Int.random(in: 1...127, using: &rng))); held.insert(pitch)
                    }
                }
                if Int.random(in: 0..<7, using: &rng) == 0, let p = held.randomElement(using: &rng) {
                    keys.append(TakeEvent(kind: .noteOff, step: step, pitch: p)); held.remove(p)  // some notes one step long
                }
            }
            if Int.random(in: 0..<5, using: &rng) == 0 {
                keys.append(TakeEvent(kind: .noteOn, step: s, pitch: 70, velocity: 90)); held.insert(70)
            }
            for k in keys { XCTAssertNil(recorder.take(k)) }
            let grown = recorder.melodyFrames(before: s)
            let rebuilt = recorder.melodyFramesRebuilt(before: s)
            // Pitch and onset are what the plans and hindsight read (velocity is not).
            XCTAssertEqual(grown.map { [$0.pitch, $0.onset ? 1 : 0] }, rebuilt.map { [$0.pitch, $0.onset ? 1 : 0] }, "beat \(beat)")
            XCTAssertEqual(Array(recorder.melodyPitches(before: s)), rebuilt.map { Int($0.pitch) }, "beat \(beat)")
            compared += 1
        }
        XCTAssertEqual(compared, 600)
        // A new performance starts from nothing.
        _ = recorder.take(TakeEvent(kind: .stop, step: 8 * 601))
        XCTAssertEqual(recorder.melodyFrames(before: 8).count, 8)
        XCTAssertTrue(recorder.melodyFrames(before: 8).allSatisfy { $0 == .rest })
    }
}
