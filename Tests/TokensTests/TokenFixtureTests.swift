import Foundation
import XCTest
import MIDI
@testable import Tokens

/// The committed test vectors in Tests/Fixtures/tokens/ (MIDI in, frames and tokens out), which
/// the Python tokenizer checks too. `ACCOMPANIST_WRITE_FIXTURES=1 swift test --filter
/// TokenFixtureTests` rewrites them from the generators below.
final class TokenFixtureTests: XCTestCase {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/tokens")

    /// A tiny deterministic generator (the fixtures must not change between runs).
    struct LCG {
        var state: UInt64
        mutating func next(_ range: ClosedRange<Int>) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return range.lowerBound + Int((state >> 33) % UInt64(range.count))
        }
    }

    static func file(ppq: Int, melody: [Note], piano: [Note]) -> MIDIFile {
        func track(_ name: String, _ channel: UInt8, _ notes: [Note]) -> Track {
            var events: [(Int, Int, TrackEvent.Kind)] = []
            for (i, n) in notes.enumerated() {
                events.append((n.startTick, 2 * i + 1, .noteOn(channel: channel, key: n.key, velocity: n.velocity)))
                events.append((n.endTick, 2 * i, .noteOff(channel: channel, key: n.key, velocity: 0)))
            }
            events.sort { ($0.0, $0.1) < ($1.0, $1.1) }
            return Track(events: [TrackEvent(tick: 0, .trackName(name))] + events.map { TrackEvent(tick: $0.0, $0.2) })
        }
        return MIDIFile(format: 1, ticksPerQuarter: ppq, tracks: [
            Track(events: [TrackEvent(tick: 0, .tempo(microsecondsPerQuarter: 500_000)),
                           TrackEvent(tick: 0, .timeSignature(numerator: 4, denominatorPower: 2, clocksPerClick: 24, thirtySecondsPerQuarter: 8))]),
            track("MELODY", 0, melody), track("PIANO", 1, piano),
        ])
    }

    static var generators: [(String, () -> MIDIFile)] {
        [
            ("simple", {
                let q = 480
                let melody = [60, 62, 64, 65, 67, 65, 64, 62].enumerated().map { Note(key: UInt8($0.element + 12), velocity: 90, startTick: $0.offset * q, endTick: ($0.offset + 1) * q - 40) }
                let piano = [[48, 52, 55], [53, 57, 60]].enumerated().flatMap { (i, chord) in
                    chord.map { Note(key: UInt8($0), velocity: 70, startTick: i * 4 * q, endTick: (i + 1) * 4 * q) }
                }
                return file(ppq: q, melody: melody, piano: piano)
            }),
            ("offgrid_ppq96", {
                // 12 ticks a step: 6 ticks is exactly half a step and rounds up.
                let melody = [Note(key: 70, velocity: 100, startTick: 5, endTick: 50), Note(key: 72, velocity: 101, startTick: 54, endTick: 60),
                              Note(key: 74, velocity: 60, startTick: 101, endTick: 102), Note(key: 69, velocity: 30, startTick: 150, endTick: 400)]
                let piano = [Note(key: 50, velocity: 3, startTick: 6, endTick: 17), Note(key: 53, velocity: 127, startTick: 18, endTick: 100),
                             Note(key: 57, velocity: 64, startTick: 7, endTick: 8), Note(key: 45, velocity: 65, startTick: 200, endTick: 390)]
                return file(ppq: 96, melody: melody, piano: piano)
            }),
            ("overlaps", {
                // Polyphonic melody; same-pitch notes that touch; notes that merge or grow to one
                // step on the grid. No two notes of one pitch overlap in ticks (MIDI libraries pair
                // such notes differently, and that is not what these vectors test).
                let q = 480, s = 60
                let melody = [Note(key: 72, velocity: 80, startTick: 0, endTick: 6 * s), Note(key: 76, velocity: 90, startTick: 2 * s, endTick: 4 * s),
                              Note(key: 72, velocity: 85, startTick: 6 * s, endTick: 12 * s), Note(key: 79, velocity: 95, startTick: 10 * s, endTick: 11 * s)]
                let piano = [Note(key: 48, velocity: 70, startTick: 0, endTick: 4 * s), Note(key: 48, velocity: 75, startTick: 4 * s, endTick: 6 * s),
                             Note(key: 50, velocity: 60, startTick: 0, endTick: 10), Note(key: 50, velocity: 66, startTick: 20, endTick: 130),
                             Note(key: 52, velocity: 70, startTick: 3 * s, endTick: 3 * s + 5),
                             Note(key: 55, velocity: 72, startTick: 9 * s, endTick: 20 * s), Note(key: 55, velocity: 72, startTick: 20 * s, endTick: 24 * s),
                             Note(key: 57, velocity: 40, startTick: 9 * s, endTick: 40 * s)]
                return file(ppq: q, melody: melody, piano: piano)
            }),
            ("long_rests", {
                let s = 60
                let melody = [Note(key: 67, velocity: 80, startTick: 3 * s, endTick: 5 * s), Note(key: 69, velocity: 80, startTick: 45 * s, endTick: 50 * s),
                              Note(key: 71, velocity: 80, startTick: 77 * s, endTick: 130 * s)]
                let piano = [Note(key: 43, velocity: 50, startTick: 0, endTick: 2 * s), Note(key: 47, velocity: 50, startTick: 100 * s, endTick: 101 * s)]
                return file(ppq: 480, melody: melody, piano: piano)
            }),
            ("random_ppq100", {
                var r = LCG(state: 7)
                func notes(_ n: Int, _ pitches: ClosedRange<Int>, _ maxLength: Int) -> [Note] {
                    var lastEnd = [Int: Int]()  // per pitch: notes of one pitch never overlap in ticks
                    return (0..<n).map { _ in
                        let key = r.next(pitches)
                        let t = (lastEnd[key] ?? 0) + r.next(0...900)
                        let e = t + r.next(1...maxLength)
                        lastEnd[key] = e
                        return Note(key: UInt8(key), velocity: UInt8(r.next(1...127)), startTick: t, endTick: e)
                    }
                }
                return file(ppq: 100, melody: notes(40, 60...84, 300), piano: notes(120, 36...72, 800))
            }),
        ]
    }

    static func expected(for file: MIDIFile, midiName: String) -> [String: Any] {
        let melody = file.tracks.first { $0.name == "MELODY" }!.notes
        let piano = file.tracks.first { $0.name == "PIANO" }!.notes
        let song = TokenizedSong(melody: melody, accompaniment: piano, ticksPerQuarter: file.ticksPerQuarter)
        return ["midi": midiName, "ppq": file.ticksPerQuarter, "melody_track": "MELODY", "accompaniment_track": "PIANO",
                "beats_per_bar": 4, "end_step": song.endStep,
                "frames": song.frames.map { [Int($0.pitch), $0.onset ? 1 : 0, Int($0.velocityBin)] },
                "tokens": song.tokens.map { [$0.id, $0.time] }]
    }

    func testFixtures() throws {
        let fm = FileManager.default
        if ProcessInfo.processInfo.environment["ACCOMPANIST_WRITE_FIXTURES"] == "1" {
            try fm.createDirectory(at: Self.directory, withIntermediateDirectories: true)
            for (name, make) in Self.generators {
                let file = make()
                try file.write(to: Self.directory.appendingPathComponent(name + ".mid"))
                let json = try JSONSerialization.data(withJSONObject: Self.expected(for: file, midiName: name + ".mid"), options: [.sortedKeys])
                try json.write(to: Self.directory.appendingPathComponent(name + ".json"))
            }
        }
        let names = try fm.contentsOfDirectory(atPath: Self.directory.path).filter { $0.hasSuffix(".json") }.sorted()
        XCTAssertGreaterThanOrEqual(names.count, Self.generators.count, "fixtures missing: run with ACCOMPANIST_WRITE_FIXTURES=1")
        for name in names {
            let json = try JSONSerialization.jsonObject(with: Data(contentsOf: Self.directory.appendingPathComponent(name))) as! [String: Any]
            let midi = try MIDIFile(contentsOf: Self.directory.appendingPathComponent(json["midi"] as! String))
            let actual = Self.expected(for: midi, midiName: json["midi"] as! String)
            XCTAssertEqual(actual["end_step"] as? Int, json["end_step"] as? Int, name)
            XCTAssertEqual(actual["frames"] as? [[Int]], json["frames"] as? [[Int]], name)
            XCTAssertEqual(actual["tokens"] as? [[Int]], json["tokens"] as? [[Int]], name)
            // The fixture's tokens decode to its notes.
            let tokens = (json["tokens"] as! [[Int]]).map { $0[0] }
            let piano = midi.tracks.first { $0.name == "PIANO" }!.notes.map { GridNote($0, ticksPerQuarter: midi.ticksPerQuarter) }
            XCTAssertEqual(TokenCodec.decode(tokens).map { [$0.pitch, $0.start, $0.end] }, NoteNormalizer.normalize(piano).map { [$0.pitch, $0.start, $0.end] }, name)
        }
    }
}
