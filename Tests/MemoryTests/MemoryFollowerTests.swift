import Engine
import Foundation
import Harmony
@testable import Memory
import XCTest

/// Following a take against the memory (docs/memory.md, "Following"): a second take with
/// variations is recognized and gets take 1's chords; an unknown song is not; a jump to another
/// section re-aligns, a departure and return finds the same place again; a rest in both is
/// followed through; an estimate is handed on as heard chord tones.
final class MemoryFollowerTests: XCTestCase {
    /// A song of `bars` 4/4 bars: a random melody of notes 2..8 steps long (a few of one step:
    /// grace notes) and one chord a beat, changing every two beats among four.
    func song(seed: UInt64, bars: Int = 24) -> (notes: [Take.Note], chords: [String]) {
        var rng = SplitMix64(seed: seed)
        var notes: [Take.Note] = []
        var t = 0
        while t < bars * 32 {
            let grace = rng.next() % 8 == 0
            let d = grace ? 1 : 2 + Int(rng.next() % 7)
            notes.append(.init(pitch: 60 + Int(rng.next() % 15), start: t, end: min(t + d, bars * 32)))
            t += d + Int(rng.next() % 2)
        }
        let pool = ["C", "Am", "F", "G7", "Dm", "Em"]
        let chords = (0..<(bars * 4)).map { pool[Int((UInt64($0 / 2) &* 2654435761 &+ seed) % UInt64(pool.count))] }
        return (notes, chords)
    }

    func take(_ s: (notes: [Take.Note], chords: [String]), source: Take.ChordSource = .chart, heard: [Int]? = nil) -> Take {
        Take(source: "test", beatsPerBar: 4, bpm: 100, steps: s.chords.count * 8, melody: s.notes, chords: s.chords, chordSource: source, heard: heard)
    }

    /// Take 2: grace notes dropped, one note in 20 a tone away, one start in four a step off.
    func vary(_ notes: [Take.Note], seed: UInt64) -> [Take.Note] {
        var rng = SplitMix64(seed: seed)
        return notes.compactMap { n in
            if n.end - n.start <= 1 { return nil }
            var m = n
            if rng.next() % 20 == 0 { m.pitch += 2 }
            if rng.next() % 4 == 0 { m.start = max(0, m.start + (rng.next() % 2 == 0 ? -1 : 1)) }
            return m.end > m.start ? m : nil
        }
    }

    func pitches(_ notes: [Take.Note], steps: Int) -> [Int] {
        var p = [Int](repeating: -1, count: steps)
        for n in notes where n.start < steps { for s in n.start..<min(n.end, steps) where p[s] < n.pitch { p[s] = n.pitch } }
        return p
    }

    /// Guesses for every beat, each from the melody before it only.
    func follow(_ f: MemoryFollower, _ melody: [Int], beats: Int) -> [MemoryFollower.Guess?] {
        (0..<beats).map { b in f.guess(forBeat: b, melody: melody.prefix(8 * max(0, b - f.lead))) }
    }

    func testASecondTakeWithVariationsGetsTheFirstTakesChords() {
        let one = song(seed: 1)
        let first = take(one)
        let f = MemoryFollower(takes: [first, take(song(seed: 2))], beatsPerBar: 4)
        let beats = one.chords.count
        let guesses = follow(f, pitches(vary(one.notes, seed: 7), steps: beats * 8), beats: beats)
        let known = (8..<beats).filter { guesses[$0] != nil }
        XCTAssertGreaterThan(known.count, (beats - 8) * 8 / 10, "recognized early, and kept")
        XCTAssertEqual(f.followedBeats, known.count, "every beat planned from take 1 is counted")
        for b in known { XCTAssertEqual(guesses[b], .chord(try! ChartChord(parsing: one.chords[b])), "beat \(b)") }
        XCTAssertEqual(f.recognitions.first?.take.id, first.id)
        XCTAssertLessThanOrEqual(f.recognitions.first?.beat ?? 99, 16, "recognized within the first four bars")
        XCTAssertEqual(f.recognitions.first?.storedBeat, f.recognitions.first?.beat, "at the same place in take 1")
        XCTAssertTrue(guesses[0..<8].allSatisfy { $0 == nil }, "nothing before two bars are heard")
    }

    func testAnUnknownSongIsNotRecognized() {
        let f = MemoryFollower(takes: (1...10).map { take(song(seed: $0)) }, beatsPerBar: 4)
        let other = song(seed: 99)
        let guesses = follow(f, pitches(other.notes, steps: other.chords.count * 8), beats: other.chords.count)
        XCTAssertTrue(guesses.allSatisfy { $0 == nil })
        XCTAssertTrue(f.recognitions.isEmpty)
    }

    /// Rests agreeing with rests prove nothing, and a few long notes are too little evidence: a
    /// sparse melody (a note a bar) is not taken for another, nor even recognized as itself.
    func testSparseMelodiesAreNotConfused() {
        func sparse(_ seed: UInt64) -> (notes: [Take.Note], chords: [String]) {
            var rng = SplitMix64(seed: seed)
            return ((0..<24).map { .init(pitch: 60 + Int(rng.next() % 24), start: $0 * 32, end: $0 * 32 + 10) }, Array(repeating: "C", count: 96))
        }
        let f = MemoryFollower(takes: [take(sparse(60))], beatsPerBar: 4)
        let other = sparse(61)
        let guesses = follow(f, pitches(other.notes, steps: 24 * 32), beats: 96)
        XCTAssertTrue(guesses.allSatisfy { $0 == nil }, "\(f.recognitions.count) false recognitions")
        let same = follow(MemoryFollower(takes: [take(sparse(60))], beatsPerBar: 4), pitches(sparse(60).notes, steps: 24 * 32), beats: 96)
        XCTAssertTrue(same.allSatisfy { $0 == nil }, "two notes in two bars: fewer than 4")
        XCTAssertEqual(MelodyMatch.notes(in: [-1, 60, 60, 62, -1, 62, 64, 64][...]), 4)
        XCTAssertEqual(MelodyMatch.pitches(in: [-1, 60, 60, 62, -1, 62, 64, 64][...]), 3)
        // Two pitches alternating (a trill, a repeated figure) recur in many songs: never
        // recognized, even as itself.
        let trill = ((0..<96).map { Take.Note(pitch: $0 % 2 == 0 ? 67 : 69, start: $0 * 8, end: $0 * 8 + 6) }, Array(repeating: "C", count: 96))
        let t = MemoryFollower(takes: [take(trill)], beatsPerBar: 4)
        XCTAssertTrue(follow(t, pitches(trill.0, steps: 96 * 8), beats: 96).allSatisfy { $0 == nil })
    }

    /// Take 2 plays bars 13-24 first, then bars 1-12: it is found in each section, and the chord
    /// after the jump comes from the new place within a few beats.
    func testAJumpReAligns() {
        let one = song(seed: 3)
        let f = MemoryFollower(takes: [take(one)], beatsPerBar: 4)
        var notes: [Take.Note] = []
        for n in one.notes where n.start >= 12 * 32 { notes.append(.init(pitch: n.pitch, start: n.start - 12 * 32, end: n.end - 12 * 32)) }
        for n in one.notes where n.end <= 12 * 32 { notes.append(.init(pitch: n.pitch, start: n.start + 12 * 32, end: n.end + 12 * 32)) }
        let guesses = follow(f, pitches(notes, steps: 24 * 32), beats: 96)
        for b in 9..<48 { XCTAssertEqual(guesses[b], .chord(try! ChartChord(parsing: one.chords[b + 48])), "beat \(b), first section") }
        for b in 57..<96 { XCTAssertEqual(guesses[b], .chord(try! ChartChord(parsing: one.chords[b - 48])), "beat \(b), after the jump") }
        XCTAssertEqual(f.recognitions.count, 2)
    }

    /// Takes of one song merge (docs/memory.md, "Takes of one song"): two hindsight estimates
    /// are averaged; a chart's chord wins over an estimate; where charts differ, the chord most
    /// of them give wins.
    func testTakesOfOneSongMerge() {
        let one = song(seed: 6)
        let melody = pitches(one.notes, steps: 19 * 8)[...]
        let ha = (0..<(one.chords.count * 12)).map { ($0 * 37) % 1001 }
        let hb = (0..<(one.chords.count * 12)).map { ($0 * 53 + 11) % 1001 }
        let estimates = MemoryFollower(takes: [take(one, source: .hindsight, heard: ha), take(one, source: .hindsight, heard: hb)], beatsPerBar: 4)
        XCTAssertEqual(estimates.guess(forBeat: 20, melody: melody),
                       .heard((0..<12).map { (Float(ha[20 * 12 + $0]) / 1000 + Float(hb[20 * 12 + $0]) / 1000) / 2 }))
        XCTAssertEqual(estimates.recognitions.first?.takes, 2)
        XCTAssertTrue(estimates.describeRecognition(0).hasSuffix("; 2 takes of the song agree"), estimates.describeRecognition(0))

        let withChart = MemoryFollower(takes: [take(one, source: .hindsight, heard: ha), take(one)], beatsPerBar: 4)
        XCTAssertEqual(withChart.guess(forBeat: 20, melody: melody), .chord(try! ChartChord(parsing: one.chords[20])))

        var other = one
        other.chords[20] = other.chords[20] == "Bb" ? "Eb" : "Bb"
        // The odd chart first (it agrees as well as the others, and is older): two charts outvote it.
        let charts = MemoryFollower(takes: [take(other), take(one), take(one)], beatsPerBar: 4)
        XCTAssertEqual(charts.guess(forBeat: 20, melody: melody), .chord(try! ChartChord(parsing: one.chords[20])))
        let tie = MemoryFollower(takes: [take(other), take(one)], beatsPerBar: 4)
        XCTAssertEqual(tie.guess(forBeat: 20, melody: melody), .chord(try! ChartChord(parsing: other.chords[20])), "a tie: the older take's")
    }

    /// A take whose chords are hindsight's estimate gives its chord-tone probabilities.
    func testAnEstimateIsHeard() {
        let one = song(seed: 4)
        let heard = (0..<(one.chords.count * 12)).map { ($0 * 37) % 1001 }
        let f = MemoryFollower(takes: [take(one, source: .hindsight, heard: heard)], beatsPerBar: 4)
        let g = f.guess(forBeat: 20, melody: pitches(one.notes, steps: 19 * 8)[...])
        XCTAssertEqual(g, .heard((0..<12).map { Float(heard[20 * 12 + $0]) / 1000 }))
        let none = MemoryFollower(takes: [take((one.notes, []), source: .none)], beatsPerBar: 4)
        XCTAssertEqual(none.count, 0, "a take without chords is not followed")
    }

    /// A song whose melody comes back over other chords (a chorus played twice, modulated in its
    /// harmony): where take 2 departs for a while in the second occurrence and comes back, it is
    /// found again where it was, not at the first occurrence, which agrees as well.
    func testARepeatedSectionIsFoundAgainWhereTheSongIs() {
        let a = song(seed: 4, bars: 8)
        var notes = a.notes
        notes += a.notes.map { .init(pitch: $0.pitch, start: $0.start + 8 * 32, end: $0.end + 8 * 32) }
        let pool = ["Bb", "Eb", "Ab", "Db"]
        let chords = a.chords + (0..<32).map { pool[($0 / 2) % 4] }
        let f = MemoryFollower(takes: [take((notes, chords))], beatsPerBar: 4)
        // Take 2: beats 44-49 (bar 12 and half of 13) played an octave and a half away.
        let two = notes.map { n in n.start >= 44 * 8 && n.start < 50 * 8 ? Take.Note(pitch: n.pitch + 18, start: n.start, end: n.end) : n }
        let guesses = follow(f, pitches(two, steps: 64 * 8), beats: 64)
        XCTAssertTrue((46..<56).contains { guesses[$0] == nil }, "the departure is heard: the melody decides")
        for b in 58..<64 { XCTAssertEqual(guesses[b], .chord(try! ChartChord(parsing: chords[b])), "beat \(b): the second occurrence's chord") }
        XCTAssertEqual(f.recognitions.count, 1, "found again, not recognized anew")
    }

    /// An interlude where neither take plays the melody is followed through (the stored chords go
    /// on); where take 2 stops but take 1 went on, it is not.
    func testARestInBothIsFollowedThrough() {
        let one = song(seed: 5)
        let gap = 12 * 32..<16 * 32                      // bars 13-16: no melody
        let notes = one.notes.filter { $0.end <= gap.lowerBound || $0.start >= gap.upperBound }
        let f = MemoryFollower(takes: [take((notes, one.chords))], beatsPerBar: 4)
        let guesses = follow(f, pitches(notes, steps: 96 * 8), beats: 96)
        for b in 20..<96 { XCTAssertEqual(guesses[b], .chord(try! ChartChord(parsing: one.chords[b])), "beat \(b)") }
        let stops = MemoryFollower(takes: [take(one)], beatsPerBar: 4)
        let g2 = follow(stops, pitches(notes, steps: 96 * 8), beats: 96)
        XCTAssertEqual(g2[40], .chord(try! ChartChord(parsing: one.chords[40])))
        XCTAssertTrue(g2[56..<64].allSatisfy { $0 == nil }, "take 1 plays on where take 2 rests: not followed")
    }

    /// Every note of take 2 starts and ends a step early or late, each its own way (a player's
    /// timing, not a shifted clock): it still agrees, and is followed throughout.
    func testNoteByNoteTimingIsTolerated() {
        let one = song(seed: 8)
        var rng = SplitMix64(seed: 9)
        let loose = one.notes.map { n -> Take.Note in
            let a = max(0, n.start + (rng.next() % 2 == 0 ? -1 : 1)), b = n.end + (rng.next() % 2 == 0 ? -1 : 1)
            return .init(pitch: n.pitch, start: a, end: max(a + 1, b))
        }
        let beats = one.chords.count
        let melody = pitches(loose, steps: beats * 8)
        let f = MemoryFollower(takes: [take(one)], beatsPerBar: 4)
        let guesses = follow(f, melody, beats: beats)
        let known = (12..<beats).filter { guesses[$0] == .chord(try! ChartChord(parsing: one.chords[$0])) }
        XCTAssertGreaterThan(known.count, (beats - 12) * 95 / 100)
        let exact = pitches(one.notes, steps: beats * 8)
        XCTAssertGreaterThan(MelodyMatch.agreement(melody[(40 * 8)..<(48 * 8)], exact, endingAt: 48 * 8), 0.9)
        XCTAssertLessThan(MelodyMatch.agreement(melody[(40 * 8)..<(48 * 8)], exact, endingAt: 47 * 8), 0.5, "a beat off is not the same place")
    }
}
