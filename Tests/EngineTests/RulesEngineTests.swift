import Foundation
import XCTest
@testable import Engine
import Evaluation
import Harmony
import MIDI
import Tokens

final class RulesEngineTests: XCTestCase {
    func testSameSeedSameOutputOtherSeedOtherVelocities() {
        let melody = randomMelody(seed: 3, steps: 400)
        let a = drive(RulesEngine(), melody: melody, steps: 400, seed: 11)
        let b = drive(RulesEngine(), melody: melody, steps: 400, seed: 11)
        let c = drive(RulesEngine(), melody: melody, steps: 400, seed: 12)
        XCTAssertFalse(a.isEmpty)
        XCTAssertEqual(a, b)
        XCTAssertNotEqual(a, c)
        XCTAssertEqual(a.map { [$0.step, Int($0.pitch)] }, c.map { [$0.step, Int($0.pitch)] }, "the seed only humanises velocity")
    }

    /// Changing the melody at steps ≥ s leaves everything the engine emitted before step s — and
    /// at step s itself — unchanged.
    func testCausality() {
        for pattern in RulesConfiguration.Pattern.allCases {
            for seed in 0..<8 as Range<UInt64> {
                let steps = 320
                let melody = randomMelody(seed: seed, steps: steps)
                let cut = 40 + Int(seed) * 30
                var other = melody.filter { $0.step < cut }
                // A different future: other notes, from the cut on (closing what was open).
                for e in randomMelody(seed: seed + 100, steps: steps) where e.step >= cut { other.append(e) }
                let engineA = RulesEngine(configuration: RulesConfiguration(pattern: pattern))
                let engineB = RulesEngine(configuration: RulesConfiguration(pattern: pattern))
                let a = drive(engineA, melody: melody, steps: steps)
                let b = drive(engineB, melody: other, steps: steps)
                XCTAssertEqual(a.filter { $0.step <= cut }, b.filter { $0.step <= cut }, "\(pattern) seed \(seed)")
                XCTAssertNotEqual(a, b, "the future must matter at all, or this test proves nothing")
            }
        }
    }

    /// Every note-on is matched by a note-off, no pitch is struck twice without one, and events
    /// come in step order.
    func testNotesAreBalancedAndInRegister() {
        for pattern in RulesConfiguration.Pattern.allCases {
            let config = RulesConfiguration(pattern: pattern)
            let events = drive(RulesEngine(configuration: config), melody: randomMelody(seed: 9, steps: 600), steps: 600)
            var sounding = Set<UInt8>()
            var lastStep = 0
            for e in events {
                XCTAssertGreaterThanOrEqual(e.step, lastStep)
                lastStep = e.step
                if e.isNoteOn {
                    XCTAssertFalse(sounding.contains(e.pitch), "\(pattern): \(e.pitch) struck while sounding")
                    sounding.insert(e.pitch)
                    XCTAssertTrue((config.bassLow...config.highestChordPitch + 12).contains(Int(e.pitch)))
                } else {
                    sounding.remove(e.pitch)
                }
            }
            XCTAssertTrue(sounding.isEmpty, "\(pattern): \(sounding) left hanging")
        }
    }

    /// A melody entirely in C major gets only C-major pitch classes (diatonic chords), below it.
    func testStaysInTheKeyAndBelowTheMelody() throws {
        let file = try Fixtures.example("twinkle")
        let result = try OfflineRenderer.render(file: file, melodyTrack: 1, engine: RulesEngine(), seed: 0, beatsPerBar: 4)
        let ons = result.events.filter(\.isNoteOn)
        XCTAssertGreaterThan(ons.count, 50)
        let cMajor: Set<Int> = [0, 2, 4, 5, 7, 9, 11]
        XCTAssertTrue(ons.allSatisfy { cMajor.contains(Int($0.pitch) % 12) }, "\(ons.map(\.pitch))")
        // Below the melody note sounding at the same time.
        let melody = file.tracks[1].notes.map { GridNote($0, ticksPerQuarter: file.ticksPerQuarter) }
        let above = ons.filter { e in melody.contains { $0.start <= e.step && e.step < $0.end && Int(e.pitch) >= $0.pitch } }
        XCTAssertTrue(above.isEmpty, "\(above)")
        // On the grid: every onset on a 16th note.
        XCTAssertTrue(ons.allSatisfy { $0.step % 2 == 0 }, "on the 16th-note grid")
    }

    func testKeyEstimate() {
        var hist = [Double](repeating: 0, count: 12)
        for pc in [9, 11, 0, 2, 4, 5, 7, 9, 9, 4, 0, 9] { hist[pc] += 1 }  // A natural minor, A-heavy
        XCTAssertEqual(hist.withUnsafeBufferPointer { Key.estimate($0.baseAddress!) }, Key(tonic: 9, isMinor: true))
        hist = [Double](repeating: 0, count: 12)
        for pc in [7, 11, 2, 7, 9, 0, 6, 7, 2, 4] { hist[pc] += 1 }  // G major
        XCTAssertEqual(hist.withUnsafeBufferPointer { Key.estimate($0.baseAddress!) }, Key(tonic: 7, isMinor: false))
    }

    /// On POP909 songs the rules fit the annotated chords far better than chance (a random note
    /// per beat scores about 0.26). Skipped without the data set.
    func testNoteInChordOnPOP909() throws {
        guard let dir = Fixtures.pop909 else { throw XCTSkip("POP909 not found") }
        var judged = 0, inChord = 0
        for song in ["001", "004", "007", "012", "020"] {
            let folder = dir.appendingPathComponent(song)
            let file = try MIDIFile(contentsOf: folder.appendingPathComponent("\(song).mid"))
            let index = try OfflineRenderer.melodyTrackIndex(in: file, selector: .name("MELODY"))
            let result = try OfflineRenderer.render(file: file, melodyTrack: index, engine: RulesEngine(), seed: 0, beatsPerBar: 4)
            let chords = try ChordAnnotations(contentsOf: folder.appendingPathComponent("chord_midi.txt"))
            let tempo = result.file.tempoMap
            let fit = ChordFit(onsets: result.events.filter(\.isNoteOn).map { (tempo.seconds(atStep: $0.step), Int($0.pitch)) }, chords: chords)
            judged += fit.judged
            inChord += fit.inChord
        }
        let ratio = Double(inChord) / Double(judged)
        print("rules engine note-in-chord on 5 POP909 songs: \(ratio)")
        XCTAssertGreaterThan(ratio, 0.45)
    }
}
