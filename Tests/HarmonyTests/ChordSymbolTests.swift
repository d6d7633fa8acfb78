import XCTest
@testable import Harmony

/// The qualities as a music theory book writes them, typed here independently of the module.
let qualityTable: [(quality: ChordQuality, suffix: String, intervals: [Int])] = [
    (.major, "", [0, 4, 7]),
    (.minor, "m", [0, 3, 7]),
    (.dominant7, "7", [0, 4, 7, 10]),
    (.major7, "maj7", [0, 4, 7, 11]),
    (.minor7, "m7", [0, 3, 7, 10]),
    (.diminished, "dim", [0, 3, 6]),
    (.diminished7, "dim7", [0, 3, 6, 9]),
    (.halfDiminished7, "m7b5", [0, 3, 6, 10]),
    (.augmented, "aug", [0, 4, 8]),
    (.sus2, "sus2", [0, 2, 7]),
    (.sus4, "sus4", [0, 5, 7]),
    (.dominant7sus4, "7sus4", [0, 5, 7, 10]),
    (.major6, "6", [0, 4, 7, 9]),
    (.minor6, "m6", [0, 3, 7, 9]),
    (.dominant9, "9", [0, 4, 7, 10, 14]),   // the ninth an octave up
    (.add9, "add9", [0, 4, 7, 14]),
    (.minorMajor7, "m(maj7)", [0, 3, 7, 11]),
]

final class ChordSymbolTests: XCTestCase {
    func testTableCoversEveryQuality() {
        XCTAssertEqual(Set(qualityTable.map(\.quality)), Set(ChordQuality.allCases))
        XCTAssertEqual(ChordQuality.allCases.count, ChordQuality.count)
        for (i, q) in ChordQuality.allCases.enumerated() { XCTAssertEqual(Int(q.rawValue), i) }
    }

    func testIntervalsAndCanonicalSuffixes() throws {
        for (q, suffix, intervals) in qualityTable {
            XCTAssertEqual(q.suffix, suffix)
            XCTAssertEqual(q.intervals, intervals.map { $0 % 12 }.sorted(), "\(q)")
            let parsed = try ChordSymbol(parsing: "C" + suffix)
            XCTAssertEqual(parsed, ChordSymbol(root: 0, quality: q))
            XCTAssertEqual(parsed.description, "C" + suffix)
            // D + quality: the pitch classes are the intervals moved up 2 semitones.
            let d = try ChordSymbol(parsing: "D" + suffix)
            let expected = intervals.reduce(UInt16(0)) { $0 | 1 << UInt16((2 + $1) % 12) }
            XCTAssertEqual(d.pitchClassMask, expected, "D\(suffix)")
        }
    }

    func testRoundTripEveryRootQualityAndBass() throws {
        var count = 0
        for root in 0..<12 {
            for q in ChordQuality.allCases {
                for bass in [nil] + Array(0..<12) {
                    let symbol = ChordSymbol(root: root, quality: q, bass: bass)
                    let text = symbol.description
                    XCTAssertEqual(try ChordSymbol(parsing: text), symbol, text)
                    XCTAssertEqual(try ChordSymbol(parsing: text).description, text)
                    count += 1
                }
            }
        }
        XCTAssertEqual(count, 12 * 17 * 13)
    }

    func testAccidentals() throws {
        let names: [(String, Int)] = [
            ("C", 0), ("C#", 1), ("Db", 1), ("D", 2), ("D#", 3), ("Eb", 3), ("E", 4), ("Fb", 4), ("E#", 5),
            ("F", 5), ("F#", 6), ("Gb", 6), ("G", 7), ("G#", 8), ("Ab", 8), ("A", 9), ("A#", 10), ("Bb", 10),
            ("B", 11), ("Cb", 11), ("B#", 0), ("C♯", 1), ("B♭", 10),
        ]
        let printed = ["C", "Db", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"]
        for (name, pc) in names {
            for (_, suffix, _) in qualityTable {
                let s = try ChordSymbol(parsing: name + suffix)
                XCTAssertEqual(s.root, pc, name + suffix)
                XCTAssertNil(s.bass)
                XCTAssertEqual(s.description, printed[pc] + suffix)
            }
            let slash = try ChordSymbol(parsing: "Am7/" + name)
            XCTAssertEqual(slash.root, 9)
            XCTAssertEqual(slash.bass, pc == 9 ? nil : pc)
            XCTAssertEqual(slash.description, pc == 9 ? "Am7" : "Am7/" + printed[pc])
        }
    }

    func testSpellingsMusiciansWrite() throws {
        let cases: [(String, String)] = [
            ("Cmin", "Cm"), ("C-", "Cm"), ("Cmi", "Cm"), ("Cmaj", "C"), ("CM", "C"),
            ("C-7", "Cm7"), ("Cmin7", "Cm7"),
            ("CM7", "Cmaj7"), ("CΔ7", "Cmaj7"), ("CΔ", "Cmaj7"), ("Cma7", "Cmaj7"),
            ("Bø", "Bm7b5"), ("Bø7", "Bm7b5"), ("Bm7(b5)", "Bm7b5"), ("Bm7♭5", "Bm7b5"), ("B-7b5", "Bm7b5"),
            ("C°", "Cdim"), ("Co", "Cdim"), ("C°7", "Cdim7"), ("Co7", "Cdim7"),
            ("C+", "Caug"), ("Csus", "Csus4"), ("G7sus", "G7sus4"),
            ("CM6", "C6"), ("Cmin6", "Cm6"), ("C-6", "Cm6"),
            ("C(add9)", "Cadd9"), ("Cadd2", "Cadd9"),
            ("CmMaj7", "Cm(maj7)"), ("CmM7", "Cm(maj7)"), ("C-Δ7", "Cm(maj7)"), ("Cmin(maj7)", "Cm(maj7)"),
            ("C#m7/G#", "Dbm7/Ab"), ("F♯m7♭5", "F#m7b5"), ("Dm7/G", "Dm7/G"), ("C/E", "C/E"),
            ("C/C", "C"), ("  G7  ", "G7"), ("A#dim7/E", "Bbdim7/E"),
        ]
        for (input, canonical) in cases {
            XCTAssertEqual(try ChordSymbol(parsing: input).description, canonical, input)
        }
        // Case matters: M7 is major, m7 minor.
        XCTAssertNotEqual(try ChordSymbol(parsing: "CM7"), try ChordSymbol(parsing: "Cm7"))
    }

    func testBadSymbols() {
        let cases: [(String, ChordSymbol.ParseError.Problem, String)] = [
            ("", .empty, "\"\": empty chord symbol"),
            ("   ", .empty, "\"   \": empty chord symbol"),
            ("H7", .noRoot, "\"H7\": a chord symbol begins with a note letter A-G"),
            ("c", .noRoot, "\"c\": a chord symbol begins with a note letter A-G"),
            ("7", .noRoot, "\"7\": a chord symbol begins with a note letter A-G"),
            ("Cx7", .unknownQuality("x7"), "\"Cx7\": unknown chord quality \"x7\""),
            ("C##", .unknownQuality("#"), "\"C##\": unknown chord quality \"#\""),
            ("C m", .unknownQuality(" m"), "\"C m\": unknown chord quality \" m\""),
            ("Cmaj13", .unknownQuality("maj13"), "\"Cmaj13\": unknown chord quality \"maj13\""),
            ("C/", .badBass(""), "\"C/\": nothing after \"/\": the bass note is missing"),
            ("C/X", .badBass("X"), "\"C/X\": slash bass \"X\" is not a note name (A-G with at most one # or b)"),
            ("Cm7/Eb7", .badBass("Eb7"), "\"Cm7/Eb7\": slash bass \"Eb7\" is not a note name (A-G with at most one # or b)"),
            ("C6/9", .badBass("9"), "\"C6/9\": slash bass \"9\" is not a note name (A-G with at most one # or b)"),
        ]
        for (text, problem, message) in cases {
            XCTAssertThrowsError(try ChordSymbol(parsing: text), text) { error in
                let e = error as? ChordSymbol.ParseError
                XCTAssertEqual(e?.problem, problem, text)
                XCTAssertEqual(e?.text, text)
                XCTAssertEqual("\(error)", message)
            }
        }
    }

    func testSlashBassAndMask() throws {
        let s = try ChordSymbol(parsing: "Dm7/G")
        XCTAssertEqual(s.root, 2)
        XCTAssertEqual(s.quality, .minor7)
        XCTAssertEqual(s.bass, 7)
        // D F A C, plus G in the bass.
        XCTAssertEqual(s.pitchClassMask, (1 << 2) | (1 << 5) | (1 << 9) | (1 << 0) | (1 << 7))
        XCTAssertEqual(s.withoutBass.description, "Dm7")
        XCTAssertEqual(ChordSymbol(root: -1, quality: .major, bass: 23).description, "B")
        XCTAssertEqual(ChordSymbol(root: 14, quality: .minor, bass: -8).description, "Dm/E")
    }

    func testNoChord() throws {
        for text in ["N.C.", "NC", "N.C", " N.C. "] {
            XCTAssertEqual(try ChartChord(parsing: text), .noChord, text)
        }
        XCTAssertEqual(ChartChord.noChord.description, "N.C.")
        XCTAssertNil(ChartChord.noChord.symbol)
        XCTAssertEqual(try ChartChord(parsing: "G7"), .chord(ChordSymbol(root: 7, quality: .dominant7)))
        XCTAssertThrowsError(try ChartChord(parsing: "N.D."))
    }
}
