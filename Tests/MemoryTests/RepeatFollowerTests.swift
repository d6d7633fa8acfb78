@testable import Memory
import XCTest

/// Repetition within a take (docs/memory.md, "Within a take").
final class RepeatFollowerTests: XCTestCase {
    /// A 4-bar phrase (128 steps): notes of 2 to 4 steps, pitches from a seeded generator.
    func phrase(seed: UInt64, transpose: Int = 0) -> [Int] {
        var state = seed &* 6364136223846793005 &+ 1442695040888963407
        func next(_ n: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % UInt64(n))
        }
        var out: [Int] = []
        while out.count < 128 {
            let p = 60 + next(12) + transpose, length = 2 + next(3)
            out += [Int](repeating: p, count: length - 1) + [-1]
        }
        return Array(out.prefix(128))
    }

    /// The estimate a test gives: beat j's row is one-hot on pitch class j mod 12, so a guess
    /// says which earlier beat it came from (and how far it was transposed).
    func oneHot(_ j: Int) -> [Float] { (0..<12).map { $0 == j % 12 ? 1 : 0 } }

    /// Plans every beat of `melody` as render does: the estimate set when the plan reads a new
    /// one (its rows: `oneHot` of the beat), then the guess from the melody `lead` beats before.
    func plans(_ melody: [Int], follower f: RepeatFollower = RepeatFollower(beatsPerBar: 4)) -> [[Float]?] {
        (0..<(melody.count / 8)).map { b in
            let end = f.estimateEnd(forBeat: b)
            if end != f.estimatedBeats {
                f.setEstimate((f.estimateStart(end: end)..<end).flatMap(oneHot), end: end)
            }
            return f.guess(forBeat: b, melody: melody[..<(8 * max(0, b - f.lead))])
        }
    }

    func testARepeatedPassageGivesTheChordsOfItsEarlierOccurrence() {
        let a = phrase(seed: 1), b = phrase(seed: 2), c = phrase(seed: 3)
        let g = plans(a + b + a + c)
        XCTAssertTrue(g[0..<40].allSatisfy { $0 == nil }, "nothing repeats before the second A")
        // The second A (beats 32..<48) is recognized once its context lies in it.
        let followed = (32..<48).filter { g[$0] != nil }
        XCTAssertGreaterThanOrEqual(followed.count, 6, "the repeat followed: \(followed)")
        for b in followed { XCTAssertEqual(g[b], oneHot(b - 32), "beat \(b) takes the chords of beat \(b - 32)") }
        let f = RepeatFollower(beatsPerBar: 4)
        _ = plans(a + b + a + c, follower: f)
        XCTAssertEqual(f.recognitions.map(\.earlierBeat), [f.recognitions.first!.beat - 32], "one recognition")
        // After the second A the melody departs (C from beat 48): it falls back at once, by the
        // plan that hears the first beat of C (beat 50's).
        XCTAssertEqual((50..<g.count).filter { g[$0] != nil }, [], "the follower let go of the passage")
    }

    /// A beat of the repeat played wrong lets go of the passage for the beats that hear it, and
    /// it is taken up again after, at the same place: one recognition, not two.
    func testABeatPlayedWrongIsOneRecognition() {
        let a = phrase(seed: 8), b = phrase(seed: 9)
        var again = a
        for s in 64..<72 where again[s] >= 0 { again[s] += 3 }   // beat 8 of the phrase, wrong
        let f = RepeatFollower(beatsPerBar: 4)
        let g = plans(a + b + again + b, follower: f)
        XCTAssertEqual(g[41], oneHot(41 - 32), "followed before it")
        XCTAssertNil(g[42], "the plan that hears the wrong beat (beat 40) lets go")
        XCTAssertEqual(g[46], oneHot(46 - 32), "and the passage is followed again after it")
        XCTAssertEqual(f.recognitions.count, 1, "\(f.recognitions)")
    }

    func testATransposedRepeatGivesTheChordsTransposed() {
        let a = phrase(seed: 4), b = phrase(seed: 5)
        let g = plans(a + b + phrase(seed: 4, transpose: 2) + b)
        let followed = (32..<48).filter { g[$0] != nil }
        XCTAssertGreaterThanOrEqual(followed.count, 6)
        for b in followed { XCTAssertEqual(g[b], oneHot(b - 32 + 2), "beat \(b): beat \(b - 32)'s chords, up a tone") }
    }

    func testAVariedRepeatIsStillFollowed() {
        let a = phrase(seed: 6), b = phrase(seed: 7)
        var varied = a
        for s in stride(from: 5, to: 128, by: 23) where varied[s] >= 0 { varied[s] += 1 }   // a wrong note now and then
        varied = [-1] + varied.dropLast()                                                   // played a step late
        let g = plans(a + b + varied + b)
        XCTAssertGreaterThanOrEqual((32..<48).filter { g[$0] == oneHot($0 - 32) }.count, 6)
    }

    func testAMelodyThatNeverRepeatsGetsNoGuess() {
        let melody = (10..<18).flatMap { phrase(seed: UInt64($0)) }
        XCTAssertTrue(plans(melody).allSatisfy { $0 == nil })
        let f = RepeatFollower(beatsPerBar: 4)
        _ = plans(melody, follower: f)
        XCTAssertTrue(f.recognitions.isEmpty)
    }

    /// Causality: the plan of beat b hears the melody before beat b − lead, and the estimate it
    /// reads was made from the melody a bar before that at least (so the daemon's worker has a
    /// bar to make it); the estimate's end only moves forward, at bar lines.
    func testTheEstimateReadIsABarBehindTheMelodyHeard() {
        for bpb in [3, 4, 6] {
            let f = RepeatFollower(beatsPerBar: bpb)
            var last = 0
            for b in 0..<400 {
                let end = f.estimateEnd(forBeat: b)
                XCTAssertLessThanOrEqual(end, max(0, b - f.lead - bpb))
                XCTAssertEqual(end % bpb, 0)
                XCTAssertGreaterThanOrEqual(end, last)
                last = end
            }
            XCTAssertEqual(f.estimateStart(end: 1000 * bpb), (1000 - RepeatFollower.windowBars) * bpb)
        }
    }

    func testTheLogLineSaysWhichBarRepeats() {
        let a = phrase(seed: 1), b = phrase(seed: 2)
        let f = RepeatFollower(beatsPerBar: 4)
        _ = plans(a + b + phrase(seed: 1, transpose: -3) + b, follower: f)
        XCTAssertFalse(f.recognitions.isEmpty)
        XCTAssertTrue(f.describeRecognition(0).hasPrefix("bar 1"), f.describeRecognition(0))
        XCTAssertTrue(f.describeRecognition(0).contains("repeats bar"), f.describeRecognition(0))
        XCTAssertTrue(f.describeRecognition(0).hasSuffix("(transposed -3)"), f.describeRecognition(0))
    }

    /// Earlier places are searched `searchBeats` back at most, so a beat's cost stays flat in a
    /// long take: a passage that comes back within the window is followed, one from before it is
    /// not (the window made small here; 2,048 beats by default).
    func testEarlierPlacesAreSearchedWithinAWindow() {
        let a = phrase(seed: 1), filler = (20..<24).flatMap { phrase(seed: UInt64($0)) }   // 4 phrases: 64 beats
        let near = RepeatFollower(beatsPerBar: 4)
        near.searchBeats = 128
        let g = plans(a + filler + a, follower: near)
        XCTAssertGreaterThanOrEqual((80..<96).filter { g[$0] == oneHot($0 - 80) }.count, 6, "A again 80 beats later: within the window")
        let far = RepeatFollower(beatsPerBar: 4)
        far.searchBeats = 64
        let h = plans(a + filler + a, follower: far)
        XCTAssertTrue(h.allSatisfy { $0 == nil }, "A again 80 beats later: past a window of 64 beats, not followed")
        XCTAssertEqual(RepeatFollower(beatsPerBar: 4).searchBeats, 2048)
    }
}
