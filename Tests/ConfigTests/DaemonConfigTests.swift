import Foundation
import XCTest
@testable import Config

final class DaemonConfigTests: XCTestCase {
    static let shipped = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Configs/accompanist.toml")

    /// The shipped file sets every musician's key, to exactly the built-in defaults, so it
    /// documents them truly; the expert keys are shown commented out (set, they would override
    /// the model's own values).
    func testShippedConfigIsTheDefaults() throws {
        let text = try String(contentsOf: Self.shipped, encoding: .utf8)
        XCTAssertEqual(try DaemonConfig.parse(text), DaemonConfig())
        let set = try TOMLReader.parse(text).map { $0.path }
        XCTAssertEqual(Set(set).count, set.count, "no key twice")
        XCTAssertEqual(Set(set), Set(Settings.all.filter { $0.audience == .musician }.map(\.key)))
    }

    func testValuesAndOverrides() throws {
        let c = try DaemonConfig.parse("""
            # comment
            [tempo]
            bpm = 92 # an integer is a number too
            source = "midi-clock"
            [alsa]
            inputs = ["Keystation", "20:0"]
            client_name = "Band \\"A\\""
            """)
        XCTAssertEqual(c.bpm, 92)
        XCTAssertEqual(c.tempoSource, "midi-clock")
        XCTAssertEqual(c.inputs, ["Keystation", "20:0"])
        XCTAssertEqual(c.clientName, "Band \"A\"")
        XCTAssertEqual(try DaemonConfig.parse("engine.seed = 7\ntempo.beats_per_bar = 3").seed, 7, "dotted keys name their table")
        XCTAssertTrue(DaemonConfig().memoryRepeats)
        XCTAssertFalse(try DaemonConfig.parse("[memory]\nrepeats = false").memoryRepeats)
    }

    func testEachProblemNamesItsKey() {
        let cases: [(String, String)] = [
            ("[tempo]\nbmp = 90", "tempo.bmp: unknown key"),
            ("[tempo]\nbpm = \"fast\"", "tempo.bpm: expected a number, got a string"),
            ("[tempo]\nbpm = 1000", "tempo.bpm: must be between 20.0 and 300.0, got 1000.0"),
            ("[engine]\nengine = \"jazz\"", "engine.engine: must be one of rules, model, got \"jazz\""),
            ("[engine]\nestimate_density = 0", "engine.estimate_density: must be between 0.1 and 16.0, got 0.0"),
            ("[engine]\nestimate_release = 1.5", "engine.estimate_release: must be between 0.0 and 1.0, got 1.5"),
            ("[engine]\nestimate_floor = -0.1", "engine.estimate_floor: must be between 0.0 and 1.0, got -0.1"),
            ("[engine]\nchord_guidance = 21", "engine.chord_guidance: must be between 0.0 and 20.0, got 21.0"),
            ("[alsa]\ninputs = \"all\"", "alsa.inputs: expected an array of strings, got a string"),
            ("[sound]\nenabled = 1", "sound.enabled: expected true or false, got an integer"),
            ("[engine]\nlowest_pitch = 80\nhighest_pitch = 60", "engine.lowest_pitch: must be below engine.highest_pitch (60), got 80"),
            ("[tempo]\nphase = \"count-in\"", "tempo.phase: no longer a key: tempo.count_in_bars alone chooses (0: the first melody note is beat 1); delete this line"),
            ("[tempo\nbpm = 3", "syntax: a table header must look like [name]"),
            ("[tempo]\nbpm = 90\nbpm = 91", "syntax: tempo.bpm is set twice"),
            ("[alsa]\nclient_name = \"unterminated", "syntax: unterminated string"),
            ("[alsa]\nengine.seed = 1", "alsa.engine.seed: unknown key"),
        ]
        for (text, expected) in cases {
            XCTAssertThrowsError(try DaemonConfig.parse(text), text) { error in
                XCTAssertTrue("\(error)".hasSuffix(expected), "\(text): \(error)")
                if !expected.contains(" must be below ") && !expected.contains("needs tempo") {
                    XCTAssertTrue("\(error)".hasPrefix("line "), "\(error) names its line")
                }
            }
        }
    }

    /// An array may run over several lines, with comments and a comma after the last item.
    func testMultiLineArray() throws {
        let c = try DaemonConfig.parse("""
            [alsa]
            inputs = [
                "Keystation",  # the big one
                # a comment line inside the array
                "nanoKEY",
            ]
            outputs = [ "FLUID Synth:0",
                        "20:0" ]
            [tempo]
            bpm = 90
            """)
        XCTAssertEqual(c.inputs, ["Keystation", "nanoKEY"])
        XCTAssertEqual(c.outputs, ["FLUID Synth:0", "20:0"])
        XCTAssertEqual(c.bpm, 90, "the keys after the array are read too")
        XCTAssertEqual(try TOMLReader.parse("a = [\n  1,\n  2\n]\nb = 3").map(\.line), [1, 5], "an entry's line is its key's")
    }

    /// A syntax error names its line, in a multi-line array the line of the error itself.
    func testSyntaxErrorNamesTheLine() {
        let cases: [(String, String)] = [
            ("[tempo]\nbpm = 90\nbeats_per_bar 3", "line 3: syntax: expected key = value"),
            ("[alsa]\ninputs = [\n  \"a\",\n  b,\n]", "line 4: syntax: cannot read the value b (strings need double quotes)"),
            ("[alsa]\ninputs = [\n  \"a\"\n  \"b\"\n]", "line 4: syntax: expected , or ] in an array"),
            ("[alsa]\ninputs = [\n  \"a,\n]", "line 3: syntax: unterminated string"),
            ("[alsa]\ninputs = [\n  \"a\",\n\n[tempo]\nbpm = 90", "line 5: syntax: cannot read the value tempo (strings need double quotes)"),
            ("[alsa]\ninputs = [\n  \"a\",", "line 2: syntax: unterminated array"),
            ("[alsa]\ninputs = [\n  \"a\"] x", "line 3: syntax: unexpected text after the value: x"),
            ("\n" + "a = " + String(repeating: "[", count: 100_000), "line 2: syntax: arrays nested more than 16 deep"),
            ("a = [" + String(repeating: "\n", count: 100_000), "line 1: syntax: unterminated array"),  // in linear time
        ]
        for (text, expected) in cases {
            XCTAssertThrowsError(try DaemonConfig.parse(text), text) { error in
                XCTAssertEqual("\(error)", expected, text)
            }
        }
    }

    /// A value of the wrong type is refused with its key named (and its line).
    func testWrongTypeNamesTheKey() {
        let cases: [(String, String)] = [
            ("[engine]\nseed = 1.5", "line 2: engine.seed: expected an integer, got a number"),
            ("[engine]\nmodel = 3", "line 2: engine.model: expected a string, got an integer"),
            ("[midi]\nmelody_passthrough = \"yes\"", "line 2: midi.melody_passthrough: expected true or false, got a string"),
            ("[alsa]\ninputs = [\n  \"a\",\n  2,\n]", "line 2: alsa.inputs: expected an array of strings"),
            ("tempo.bpm = [90]", "line 1: tempo.bpm: expected a number, got an array"),
        ]
        for (text, expected) in cases {
            XCTAssertThrowsError(try DaemonConfig.parse(text), text) { error in
                XCTAssertEqual("\(error)", expected, text)
            }
        }
    }

    func testTemperatureZeroIsGreedy() throws {
        XCTAssertEqual(try DaemonConfig.parse("engine.temperature = 0").temperature, 0)
        XCTAssertThrowsError(try DaemonConfig.parse("engine.temperature = 2.5"))
    }
}
