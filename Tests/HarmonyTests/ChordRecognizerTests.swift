import XCTest
@testable import Harmony

final class ChordRecognizerTests: XCTestCase {
    /// A close voicing of `intervals` on `root` (pitch class) with chord tone `inversion` lowest,
    /// starting in the octave of MIDI note 48.
    func voicing(root: Int, intervals: [Int], inversion: Int) -> [Int] {
        let tones = intervals.map { 48 + root + $0 }
        let bass = tones[inversion]
        return tones.map { n in var n = n; while n < bass { n += 12 }; return n }.sorted()
    }

    /// What the documented rule says `quality` on `root` with tone `inversion` in the bass is.
    /// Written from the rule in docs/harmony.md, not from the code: the lowest note is the root if
    /// some reading has it there, else m7 beats 6, m7b5 beats m6, sus4 beats sus2; dim7 and aug
    /// take the lowest note as root.
    func expected(root r: Int, quality q: ChordQuality, intervals: [Int], inversion k: Int) -> ChordSymbol {
        let bass = (r + intervals[k]) % 12
        switch (q, k) {
        case (.major6, 1), (.major6, 2), (.major6, 3):
            // C6 = Am7: A is a 6th above C. With A lowest: Am7; with E or G lowest: Am7/E, Am7/G.
            return ChordSymbol(root: r + 9, quality: .minor7, bass: bass)
        case (.minor6, 1), (.minor6, 2), (.minor6, 3):
            return ChordSymbol(root: r + 9, quality: .halfDiminished7, bass: bass)
        case (.minor7, 1):
            // Am7/C is C6 (C is the root of a reading).
            return ChordSymbol(root: r + 3, quality: .major6)
        case (.halfDiminished7, 1):
            // Am7b5/C is Cm6.
            return ChordSymbol(root: r + 3, quality: .minor6)
        case (.sus2, 1):
            // Csus2 over D: Csus2/D or Gsus4/D; sus4 first.
            return ChordSymbol(root: r + 7, quality: .sus4, bass: bass)
        case (.sus2, 2):
            // G C D: Gsus4.
            return ChordSymbol(root: r + 7, quality: .sus4)
        case (.sus4, 1):
            // F G C: Fsus2.
            return ChordSymbol(root: r + 5, quality: .sus2)
        case (.diminished7, _), (.augmented, _):
            return ChordSymbol(root: bass, quality: q)
        default:
            return ChordSymbol(root: r, quality: q, bass: bass)
        }
    }

    func testEveryQualityAndInversionInSeveralKeys() {
        var checked = 0
        for root in [0, 2, 6, 10] {
            for (q, _, intervals) in qualityTable {
                for k in 0..<intervals.count {
                    let notes = voicing(root: root, intervals: intervals, inversion: k)
                    XCTAssertEqual(notes.count, intervals.count)
                    XCTAssertEqual(notes.min().map { $0 % 12 }, (root + intervals[k]) % 12)
                    let want = expected(root: root, quality: q, intervals: intervals, inversion: k)
                    let held = NoteSet(notes)
                    XCTAssertEqual(ChordRecognizer.identify(held, mode: .fingeredOnBass), .chord(want),
                                   "\(ChordSymbol(root: root, quality: q)) inversion \(k): \(notes)")
                    XCTAssertEqual(ChordRecognizer.identify(held, mode: .fingered), .chord(want.withoutBass),
                                   "\(ChordSymbol(root: root, quality: q)) inversion \(k), fingered")
                    checked += 1
                }
            }
        }
        // 4 keys × (6 triads × 3 + 10 four-note chords × 4 + one five-note chord × 5).
        XCTAssertEqual(checked, 4 * (6 * 3 + 10 * 4 + 5))
    }

    func testSomeByName() throws {
        func check(_ notes: [Int], _ symbol: String, file: StaticString = #filePath, line: UInt = #line) throws {
            XCTAssertEqual(ChordRecognizer.identify(NoteSet(notes), mode: .fingeredOnBass),
                           .chord(try ChordSymbol(parsing: symbol)), file: file, line: line)
        }
        try check([60, 64, 67], "C")
        try check([52, 60, 67], "C/E")                  // open voicing
        try check([43, 53, 62, 72], "G7sus4")           // G F D C: no A, so not Dm7/G
        try check([43, 50, 53, 57, 60], "Dm7/G")        // G under D F A C: a bass outside the chord
        try check([47, 57, 60, 64], "Am/B")             // B under A C E
        try check([46, 56, 60, 63], "Abadd9/Bb")        // Ab/Bb has the pitch classes of Abadd9
        try check([38, 60, 64, 67], "Cadd9/D")          // D under C E G: D is the ninth, a chord tone
        try check([57, 60, 64, 67], "Am7")
        try check([60, 64, 67, 69], "C6")
        try check([48, 55, 64, 72, 76], "C")            // doubled root and third
        try check([36, 60, 64, 70], "C7")              // C E Bb: the fifth left out
        try check([40, 60, 70], "C7/E")
        try check([60, 64, 71], "Cmaj7")
        try check([60, 63, 70], "Cm7")
        try check([62, 72, 76, 82], "C9/D")            // D C E Bb: a 9 without its fifth
        try check([59, 62, 65, 68], "Bdim7")
        try check([62, 65, 68, 71], "Ddim7")
        try check([56, 60, 64], "Abaug")
        try check([54, 57, 60, 64], "F#m7b5")
    }

    func testSingleKeysAndPairs() throws {
        for note in [21, 47, 60, 61, 66, 108] {
            XCTAssertEqual(ChordRecognizer.identify(NoteSet([note]), mode: .fingeredOnBass),
                           .chord(ChordSymbol(root: note % 12, quality: .major)), "\(note)")
        }
        // The same pitch class in two octaves is still one key's chord.
        XCTAssertEqual(ChordRecognizer.identify(NoteSet([50, 62]), mode: .fingeredOnBass),
                       .chord(try ChordSymbol(parsing: "D")))
        let pairs: [([Int], String?)] = [
            ([60, 67], "C"), ([55, 60], "C/G"), ([48, 79], "C"),
            ([60, 63], "Cm"), ([51, 60], "Cm/Eb"), ([61, 64], "Dbm"),
            ([60, 64], nil), ([60, 66], nil), ([60, 62], nil), ([60, 61], nil), ([60, 70], nil),
        ]
        for (notes, symbol) in pairs {
            let want: ChordRecognizer.Outcome = try symbol.map { .chord(try ChordSymbol(parsing: $0)) } ?? .unrecognized
            XCTAssertEqual(ChordRecognizer.identify(NoteSet(notes), mode: .fingeredOnBass), want, "\(notes)")
        }
        XCTAssertEqual(ChordRecognizer.identify(NoteSet([60, 67]), mode: .fingeredOnBass, twoKeyChords: false), .unrecognized)
        XCTAssertEqual(ChordRecognizer.identify(NoteSet([60]), mode: .fingeredOnBass, twoKeyChords: false),
                       .chord(ChordSymbol(root: 0, quality: .major)))
    }

    func testUnrecognisedKeepsThePreviousChordAndCounts() throws {
        var r = ChordRecognizer()
        XCTAssertNil(r.recognize(NoteSet()))
        XCTAssertEqual(r.unrecognized, 0)
        XCTAssertNil(r.recognize(NoteSet([60, 61, 62])))            // a cluster before any chord
        XCTAssertEqual(r.unrecognized, 1)
        XCTAssertEqual(r.recognize(NoteSet([57, 60, 64])), try ChordSymbol(parsing: "Am"))
        let clusters: [[Int]] = [
            [60, 61, 62],               // chromatic
            [60, 62, 64],               // C D E
            [60, 61, 62, 67],           // C Db D G; above C: Db D G, no chord either
            [60, 65, 71],               // C F B
            [60, 64],                   // a major third: C or Am?
            Array(48...59),             // every pitch class
        ]
        for (i, c) in clusters.enumerated() {
            XCTAssertEqual(r.recognize(NoteSet(c)), try ChordSymbol(parsing: "Am"), "\(c)")
            XCTAssertEqual(r.unrecognized, 2 + i)
        }
        // Letting go keeps the chord (memory) and is not counted.
        XCTAssertEqual(r.recognize(NoteSet()), try ChordSymbol(parsing: "Am"))
        XCTAssertEqual(r.unrecognized, 1 + clusters.count)
        XCTAssertEqual(r.recognize(NoteSet([53, 57, 62])), try ChordSymbol(parsing: "Dm/F"))
        r.mode = .fingered
        XCTAssertEqual(r.recognize(NoteSet([53, 57, 62])), try ChordSymbol(parsing: "Dm"))
        r.clear()
        XCTAssertNil(r.chord)
        XCTAssertEqual(r.unrecognized, 1 + clusters.count)
    }

    func testFingeredModeReadsOnlyTheHeldPitchClasses() {
        // G under D F A C: on bass, Dm7/G; fingered, G is part of the set, which is no chord.
        XCTAssertEqual(ChordRecognizer.identify(NoteSet([43, 50, 53, 57, 60]), mode: .fingered), .unrecognized)
        // Cmaj9 and C7b9 are no qualities of ours; on bass the keys above C read Em7 and Edim7.
        XCTAssertEqual(ChordRecognizer.identify(NoteSet([60, 64, 67, 71, 74]), mode: .fingered), .unrecognized)
        XCTAssertEqual(ChordRecognizer.identify(NoteSet([60, 64, 67, 71, 74]), mode: .fingeredOnBass),
                       .chord(ChordSymbol(root: 4, quality: .minor7, bass: 0)))
        XCTAssertEqual(ChordRecognizer.identify(NoteSet([60, 64, 67, 70, 73]), mode: .fingered), .unrecognized)
        XCTAssertEqual(ChordRecognizer.identify(NoteSet([60, 64, 67, 70, 73]), mode: .fingeredOnBass),
                       .chord(ChordSymbol(root: 4, quality: .diminished7, bass: 0)))
        // The bass's pitch class held again above it: no bass-outside reading (C3 + C4 D4 E4 is C D E).
        XCTAssertEqual(ChordRecognizer.identify(NoteSet([48, 60, 62, 64]), mode: .fingeredOnBass), .unrecognized)
        // Two keys above a foreign bass are not enough.
        XCTAssertEqual(ChordRecognizer.identify(NoteSet([49, 60, 67]), mode: .fingeredOnBass), .unrecognized)
    }

    /// The readings that share a pitch-class set are exactly the ones docs/harmony.md lists.
    func testAmbiguitiesAreTheDocumentedOnes() {
        var byMask: [UInt16: [ChordSymbol]] = [:]
        for root in 0..<12 {
            for q in ChordQuality.allCases {
                let s = ChordSymbol(root: root, quality: q)
                byMask[s.pitchClassMask, default: []].append(s)
            }
        }
        var families = Set<Set<ChordQuality>>()
        for (_, readings) in byMask where readings.count > 1 {
            families.insert(Set(readings.map(\.quality)))
        }
        XCTAssertEqual(families, [[.major6, .minor7], [.minor6, .halfDiminished7], [.sus2, .sus4],
                                  [.diminished7], [.augmented]])
        // And no form without its fifth is the pitch-class set of a full chord.
        for root in 0..<12 {
            for q in [ChordQuality.dominant7, .major7, .minor7, .dominant9] {
                let m = ChordRecognizer.reducedMask(q)!
                let rotated = UInt16(((UInt32(m) << UInt32(root)) | (UInt32(m) >> UInt32(12 - root))) & 0xFFF)
                XCTAssertNil(byMask[rotated], "\(q) without fifth on \(root)")
            }
        }
    }

    func testNoteSet() {
        var s = NoteSet()
        XCTAssertTrue(s.isEmpty)
        XCTAssertNil(s.lowest)
        for n in [127, 0, 63, 64, -1, 128] { s.insert(n) }
        XCTAssertEqual(s.count, 4)
        XCTAssertEqual(s.lowest, 0)
        XCTAssertTrue(s.contains(127) && s.contains(64) && s.contains(63))
        XCTAssertFalse(s.contains(128) || s.contains(-1) || s.contains(1))
        // 0 = C, 63 = Eb, 64 = E, 127 = G.
        XCTAssertEqual(s.pitchClassMask, (1 << 0) | (1 << 3) | (1 << 4) | (1 << 7))
        s.remove(0)
        s.remove(63)
        XCTAssertEqual(s.lowest, 64)
        s.remove(64)
        XCTAssertEqual(s.lowest, 127)
        s.removeAll()
        XCTAssertTrue(s.isEmpty)
    }
}
