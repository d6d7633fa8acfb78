import XCTest
@testable import Tokens

final class TokenCodecTests: XCTestCase {
    func ids(_ tokens: [TimedToken]) -> [Token] { tokens.map { Token(id: $0.id)! } }

    func testVocabularyLayout() {
        XCTAssertEqual(Vocabulary.size, 323)
        XCTAssertEqual(Token(id: 0), .noteOn(0))
        XCTAssertEqual(Token(id: 255), .noteOff(127))
        XCTAssertEqual(Token(id: 256), .timeShift(1))
        XCTAssertEqual(Token(id: 287), .timeShift(32))
        XCTAssertEqual(Token(id: 319), .velocity(31))
        XCTAssertNil(Token(id: 323))
        for id in 0..<Vocabulary.size { XCTAssertEqual(Token(id: id)!.id, id) }
        XCTAssertEqual(Vocabulary.velocityBin(127), 31)
        XCTAssertEqual(Vocabulary.velocity(ofBin: 0), 2)
    }

    func testEncodeSplitsShiftsAtBeatsAndMelodyVisibility() {
        // Melody onset at step 2 → visible at 3. Accompaniment: C4 from 0 to 12, E4 from 12 to 13.
        var frames = [MelodyFrame](repeating: .rest, count: 14)
        frames[2] = MelodyFrame(pitch: 72, onset: true, velocityBin: 20)
        let acc = [GridNote(pitch: 60, start: 0, end: 12, velocity: 80), GridNote(pitch: 64, start: 12, end: 13, velocity: 81)]
        let tokens = TokenCodec.encode(accompaniment: acc, melodyFrames: frames, endStep: 14)
        XCTAssertEqual(ids(tokens), [.bos, .velocity(20), .noteOn(60), .timeShift(3), .timeShift(5), .timeShift(4),
                                     .noteOff(60), .noteOn(64), .timeShift(1), .noteOff(64), .timeShift(1)])
        XCTAssertEqual(tokens.map(\.time), [0, 0, 0, 0, 3, 8, 12, 12, 12, 13, 13])
        XCTAssertEqual(TokenCodec.times(tokens.map(\.id)), tokens.map(\.time))
    }

    func testNormalisationMergesAndCutsSamePitch() {
        let notes = [GridNote(pitch: 60, start: 0, end: 10, velocity: 50), GridNote(pitch: 60, start: 0, end: 4, velocity: 90),
                     GridNote(pitch: 60, start: 6, end: 8, velocity: 10), GridNote(pitch: 61, start: 3, end: 3, velocity: 5),
                     GridNote(pitch: 62, start: -1, end: 3, velocity: 5)]
        XCTAssertEqual(NoteNormalizer.normalize(notes), [GridNote(pitch: 60, start: 0, end: 6, velocity: 90),
                                                         GridNote(pitch: 61, start: 3, end: 4, velocity: 5),
                                                         GridNote(pitch: 60, start: 6, end: 8, velocity: 10)])
    }

    func testMelodyFramesTakeTheHighestNote() {
        let frames = MelodyFrames.frames([GridNote(pitch: 60, start: 0, end: 4, velocity: 40), GridNote(pitch: 67, start: 2, end: 3, velocity: 100)], endStep: 6)
        XCTAssertEqual(frames.map(\.pitch), [60, 60, 67, 60, -1, -1])
        XCTAssertEqual(frames.map(\.onset), [true, false, true, false, false, false])
        XCTAssertEqual(frames.map(\.velocityBin), [10, 10, 25, 10, 0, 0])
        XCTAssertEqual(MelodyFrames.visibilitySteps(frames), [1, 3])
    }

    /// decode(encode(notes)) gives back the normalised notes, on many random note sets.
    func testRandomRoundTrips() {
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<300 {
            let count = Int.random(in: 0...60, using: &rng)
            let notes = (0..<count).map { _ -> GridNote in
                let s = Int.random(in: 0...200, using: &rng)
                return GridNote(pitch: Int.random(in: 30...90, using: &rng), start: s, end: s + Int.random(in: 0...40, using: &rng),
                                velocity: Int.random(in: 1...127, using: &rng))
            }
            let melody = MelodyFrames.frames((0..<20).map { _ in
                let s = Int.random(in: 0...240, using: &rng)
                return GridNote(pitch: Int.random(in: 60...90, using: &rng), start: s, end: s + Int.random(in: 1...12, using: &rng), velocity: 80)
            }, endStep: 260)
            let tokens = TokenCodec.encode(accompaniment: notes, melodyFrames: melody, endStep: 260)
            let expected = NoteNormalizer.normalize(notes).map {
                GridNote(pitch: $0.pitch, start: $0.start, end: $0.end, velocity: Vocabulary.velocity(ofBin: Vocabulary.velocityBin($0.velocity)))
            }
            XCTAssertEqual(TokenCodec.decode(tokens.map(\.id)), expected.sorted())
            // Every shift stays inside a beat and stops where a melody note becomes visible.
            let visible = MelodyFrames.visibilitySteps(melody)
            for t in tokens {
                if case .timeShift(let n)? = Token(id: t.id) {
                    XCTAssertLessThanOrEqual(t.time % 8 + n, 8)
                    for c in (t.time + 1)..<(t.time + n) { XCTAssertFalse(visible.contains(c)) }
                }
            }
            // Encoded streams obey the grammar.
            var g = Grammar()
            for t in tokens.dropFirst() {
                XCTAssertTrue(g.isLegal(t.id), "\(Token(id: t.id)!) at \(g.time)")
                XCTAssertEqual(g.time, t.time)
                g.apply(t.id)
            }
        }
    }

    func testGrammar() {
        var g = Grammar(lowestPitch: 40, highestPitch: 80, maxPolyphony: 2)
        XCTAssertFalse(g.isLegal(Vocabulary.noteOn(60)), "no velocity yet")
        XCTAssertFalse(g.isLegal(Vocabulary.bos))
        XCTAssertFalse(g.isLegal(Vocabulary.pad))
        g.apply(Vocabulary.velocity(bin: 10))
        XCTAssertFalse(g.isLegal(Vocabulary.velocity(bin: 11)), "velocity right after velocity")
        XCTAssertTrue(g.isLegal(Vocabulary.noteOn(60)))
        XCTAssertFalse(g.isLegal(Vocabulary.noteOn(39)))
        XCTAssertFalse(g.isLegal(Vocabulary.noteOn(81)))
        g.apply(Vocabulary.noteOn(60))
        XCTAssertFalse(g.isLegal(Vocabulary.noteOn(60)), "already sounding")
        XCTAssertFalse(g.isLegal(Vocabulary.noteOff(60)), "zero-length note")
        XCTAssertFalse(g.isLegal(Vocabulary.noteOff(61)), "silent pitch")
        g.apply(Vocabulary.noteOn(64))
        XCTAssertFalse(g.isLegal(Vocabulary.noteOn(67)), "polyphony 2")
        XCTAssertTrue(g.isLegal(Vocabulary.timeShift(8)))
        XCTAssertFalse(g.isLegal(Vocabulary.timeShift(9)), "crosses the beat")
        g.apply(Vocabulary.timeShift(3))
        XCTAssertTrue(g.isLegal(Vocabulary.timeShift(5)))
        XCTAssertFalse(g.isLegal(Vocabulary.timeShift(6)))
        XCTAssertTrue(g.isLegal(Vocabulary.noteOff(60)))
        g.apply(Vocabulary.noteOff(60))
        XCTAssertEqual(g.soundingPitches, [64])
        XCTAssertTrue(g.isLegal(Vocabulary.noteOn(67)))
    }
}
