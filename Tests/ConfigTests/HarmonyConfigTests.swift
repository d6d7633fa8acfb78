import XCTest
@testable import Config
import Harmony

/// The `[harmony]` keys (docs/harmony.md) and `engine.kind_temperature`: good values, bad values,
/// one line each naming the key and its line.
final class HarmonyConfigTests: XCTestCase {
    func testGoodValues() throws {
        let c = try DaemonConfig.parse("""
            [harmony]
            chart = "/etc/accompanist/song.chart"
            split_note = "F#3"
            chord_channel = 3
            release_ends_chord = true
            chord_mode = "fingered"
            left_hand_sound = true
            left_hand_wait = -0.5
            [engine]
            kind_temperature = 0.8
            """)
        XCTAssertEqual(c.chart, "/etc/accompanist/song.chart")
        XCTAssertEqual(c.splitNote, 54)
        XCTAssertEqual(c.chordChannel, 3)
        XCTAssertTrue(c.releaseEndsChord)
        XCTAssertEqual(c.chordMode, "fingered")
        XCTAssertTrue(c.leftHandSound)
        XCTAssertEqual(c.kindTemperature, 0.8)
        let h = c.harmonySettings
        XCTAssertEqual(h.chartPath, "/etc/accompanist/song.chart")
        XCTAssertEqual(h.splitNote, 54)
        XCTAssertEqual(h.chordChannel, 3)
        XCTAssertTrue(h.releaseEndsChord)
        XCTAssertEqual(h.mode, .fingered)
        XCTAssertEqual(h.leftHandWait, -0.5)
        XCTAssertEqual(h.makeLeftHand().wait, -0.5)
        XCTAssertEqual(DaemonConfig().harmonySettings.makeLeftHand().wait, LeftHand.defaultWait)
        XCTAssertEqual(c.engineSettings.neural.kindTemperature, 0.8)
    }

    /// A split point is a note name (either case, ♯/♭ too) or a number; "" or -1 is none.
    func testSplitNoteForms() throws {
        let cases: [(String, Int?)] = [
            ("\"C4\"", 60), ("\"c4\"", 60), ("\"Bb2\"", 46), ("\"F♯3\"", 54), ("\"C-1\"", 0), ("\"G9\"", 127),
            ("54", 54), ("0", 0), ("127", 127), ("\"60\"", 60), ("\"\"", nil), ("-1", nil),
        ]
        for (value, expected) in cases {
            XCTAssertEqual(try DaemonConfig.parse("harmony.split_note = \(value)").splitNote, expected, value)
        }
        XCTAssertNil(DaemonConfig().splitNote, "no split by default")
    }

    /// Defaults: no chart, no split, no chord channel: the harmony comes from the melody.
    func testDefaultsGiveNoHarmonySource() {
        let h = DaemonConfig().harmonySettings
        XCTAssertNil(h.chartPath)
        XCTAssertNil(h.splitNote)
        XCTAssertNil(h.chordChannel, "chord_channel 0 is none")
        XCTAssertFalse(h.releaseEndsChord)
        XCTAssertEqual(h.mode, .fingeredOnBass)
        XCTAssertFalse(DaemonConfig().leftHandSound)
        XCTAssertEqual(DaemonConfig().kindTemperature, 1)
    }

    func testBadValuesAreOneLineNamingTheKey() {
        let cases: [(String, String)] = [
            ("[harmony]\nsplit_note = \"H3\"", "line 2: harmony.split_note: expected a note name like \"F#3\" (C4 = 60) or a number 0-127, got \"H3\""),
            ("[harmony]\nsplit_note = \"C10\"", "line 2: harmony.split_note: expected a note name like \"F#3\" (C4 = 60) or a number 0-127, got \"C10\""),
            ("[harmony]\nsplit_note = 128", "line 2: harmony.split_note: must be between 0 and 127, got 128"),
            ("[harmony]\nsplit_note = 54.5", "line 2: harmony.split_note: expected a note name like \"F#3\" or a number 0-127, got a number"),
            ("[harmony]\nsplit_note = true", "line 2: harmony.split_note: expected a note name like \"F#3\" or a number 0-127, got true or false"),
            ("[harmony]\nchord_channel = 17", "line 2: harmony.chord_channel: must be between 0 and 16, got 17"),
            ("[harmony]\nchord_channel = -1", "line 2: harmony.chord_channel: must be between 0 and 16, got -1"),
            ("[harmony]\nchord_channel = \"2\"", "line 2: harmony.chord_channel: expected an integer, got a string"),
            ("[harmony]\nchart = 3", "line 2: harmony.chart: expected a string, got an integer"),
            ("[harmony]\nrelease_ends_chord = \"yes\"", "line 2: harmony.release_ends_chord: expected true or false, got a string"),
            ("[harmony]\nchord_mode = \"single-finger\"", "line 2: harmony.chord_mode: must be one of fingered-on-bass, fingered, got \"single-finger\""),
            ("[harmony]\nleft_hand_wait = 0.5", "line 2: harmony.left_hand_wait: must be between -0.5 and 0.45, got 0.5"),
            ("[harmony]\nleft_hand_sound = 1", "line 2: harmony.left_hand_sound: expected true or false, got an integer"),
            ("[harmony]\nsplit = \"F#3\"", "line 2: harmony.split: unknown key"),
            ("[engine]\nkind_temperature = 2.5", "line 2: engine.kind_temperature: must be between 0.0 and 2.0, got 2.5"),
            ("[engine]\nkind_temperature = \"warm\"", "line 2: engine.kind_temperature: expected a number, got a string"),
        ]
        for (text, expected) in cases {
            XCTAssertThrowsError(try DaemonConfig.parse(text), text) { error in
                XCTAssertEqual("\(error)", expected, text)
                XCTAssertFalse("\(error)".contains("\n"), "one line")
            }
        }
    }
}
