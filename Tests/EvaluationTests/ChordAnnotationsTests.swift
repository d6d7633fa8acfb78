import Evaluation
import XCTest

/// POP909's chord labels and the note-in-chord measure of `accompanist evaluate`.
final class ChordAnnotationsTests: XCTestCase {
    func testChordLabels() throws {
        XCTAssertEqual(ChordAnnotations.pitchClassMask(of: "C:maj"), 1 << 0 | 1 << 4 | 1 << 7)
        XCTAssertEqual(ChordAnnotations.pitchClassMask(of: "A:min7"), 1 << 9 | 1 << 0 | 1 << 4 | 1 << 7)
        XCTAssertEqual(ChordAnnotations.pitchClassMask(of: "Bb:7/3"), 1 << 10 | 1 << 2 | 1 << 5 | 1 << 8)
        XCTAssertEqual(ChordAnnotations.pitchClassMask(of: "F#:sus4(b7)"), 1 << 6 | 1 << 11 | 1 << 1 | 1 << 4)
        XCTAssertEqual(ChordAnnotations.pitchClassMask(of: "N"), 0)
        let a = try ChordAnnotations(text: "0.0\t1.0\tC:maj\n1.0 2.0 N\n2.0\t3.0\tG:maj\n")
        XCTAssertEqual(a.mask(at: 0.5), 0b1001_0001)
        XCTAssertNil(a.mask(at: 1.5))
        XCTAssertNil(a.mask(at: 3.5))
        XCTAssertThrowsError(try ChordAnnotations(text: "zero one C:maj"))
        let fit = ChordFit(onsets: [(0.1, 60), (0.2, 61), (1.5, 60), (2.5, 67)], chords: a)
        XCTAssertEqual(fit.judged, 3)
        XCTAssertEqual(fit.inChord, 2)
    }
}
