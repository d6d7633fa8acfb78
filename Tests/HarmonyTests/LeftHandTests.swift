import XCTest
@testable import Harmony

/// The left hand read as an arranger reads it (docs/harmony.md, "The left hand").
final class LeftHandTests: XCTestCase {
    let c = ChordSymbol(root: 0, quality: .major), am = ChordSymbol(root: 9, quality: .minor)

    func testKeysOfAStepMakeOneChordSeenAfterIt() {
        let h = LeftHand()
        for p in [48, 52, 55] { h.noteOn(pitch: p, step: 10) }
        XCTAssertNil(h.hint(before: 10), "keys of step 10 are read before step 11, not 10")
        XCTAssertEqual(h.hint(before: 11), ChordHint(step: 10, chord: c))
        XCTAssertNil(h.hint(before: 12), "nothing changed")
        // Keys stamped with a later step wait for it (live, they arrive early).
        h.noteOff(pitch: 55, step: 20); h.noteOn(pitch: 45, step: 20)
        XCTAssertNil(h.hint(before: 20))
        XCTAssertEqual(h.held, NoteSet([48, 52, 55]), "not yet applied")
        XCTAssertEqual(h.hint(before: 21), ChordHint(step: 20, chord: am))
        XCTAssertEqual(h.held, NoteSet([45, 48, 52]))
        XCTAssertEqual(h.hints, 2)
    }

    func testReleaseKeepsTheChordUnlessTold() {
        let arranger = LeftHand()
        for p in [48, 52, 55] { arranger.noteOn(pitch: p, step: 0) }
        _ = arranger.hint(before: 1)
        for p in [48, 52, 55] { arranger.noteOff(pitch: p, step: 5) }
        XCTAssertNil(arranger.hint(before: 6), "a silent left hand keeps its chord")
        XCTAssertEqual(arranger.hinted, c)

        let ending = LeftHand(releaseEndsChord: true)
        for p in [48, 52, 55] { ending.noteOn(pitch: p, step: 0) }
        _ = ending.hint(before: 1)
        for p in [48, 52, 55] { ending.noteOff(pitch: p, step: 5) }
        XCTAssertEqual(ending.hint(before: 6), ChordHint(step: 5, chord: nil))
        ending.noteOn(pitch: 48, step: 8); ending.noteOn(pitch: 52, step: 8); ending.noteOn(pitch: 55, step: 8)
        XCTAssertEqual(ending.hint(before: 9), ChordHint(step: 8, chord: c), "the same chord again after a release is a hint")
        ending.releaseAll(step: 12)
        XCTAssertEqual(ending.hint(before: 13), ChordHint(step: 12, chord: nil))
    }

    func testClustersKeepTheChordAndAreCounted() {
        let h = LeftHand()
        for p in [48, 52, 55] { h.noteOn(pitch: p, step: 0) }
        _ = h.hint(before: 1)
        for p in [49, 50, 51] { h.noteOn(pitch: p, step: 4) }
        XCTAssertNil(h.hint(before: 5))
        XCTAssertEqual(h.recognizer.unrecognized, 1)
        XCTAssertEqual(h.hinted, c)
    }

    func testAFloodIsCountedNotStored() {
        let h = LeftHand()
        for i in 0..<300 { h.noteOn(pitch: 40 + i % 20, step: 50) }
        XCTAssertEqual(h.droppedEvents, 300 - 256)
        h.reset()
        XCTAssertEqual(h.droppedEvents, 0)
        XCTAssertTrue(h.held.isEmpty)
    }

    func testNoteNames() {
        let table: [(String, Int?)] = [("C4", 60), ("F#3", 54), ("Bb2", 46), ("c-1", 0), ("G9", 127), ("Ab9", nil), ("C♯4", 61),
                                       ("E♭3", 51), ("54", 54), ("128", nil), ("-1", nil), ("H3", nil), ("C", nil), ("C#x", nil), ("", nil)]
        for (text, want) in table { XCTAssertEqual(NoteName.midiNote(parsing: text), want, text) }
        XCTAssertEqual(NoteName.name(of: 54), "F#3")
        XCTAssertEqual(NoteName.name(of: 60), "C4")
    }
}
