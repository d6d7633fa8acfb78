import Foundation
import XCTest
@testable import Live

final class DaemonConfigTests: XCTestCase {
    static let shipped = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Configs/accompanist.toml")

    /// The shipped file sets every key, to exactly the built-in defaults: so it documents them truly.
    func testShippedConfigIsTheDefaults() throws {
        let text = try String(contentsOf: Self.shipped, encoding: .utf8)
        XCTAssertEqual(try DaemonConfig.parse(text), DaemonConfig())
        XCTAssertEqual(try TOMLReader.parse(text).count, 36, "every key of the schema appears once")
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
    }

    func testEachProblemNamesItsKey() {
        let cases: [(String, String)] = [
            ("[tempo]\nbmp = 90", "tempo.bmp: unknown key"),
            ("[tempo]\nbpm = \"fast\"", "tempo.bpm: expected a number, got a string"),
            ("[tempo]\nbpm = 1000", "tempo.bpm: must be between 20.0 and 300.0, got 1000.0"),
            ("[engine]\nengine = \"jazz\"", "engine.engine: must be one of rules, model, got \"jazz\""),
            ("[alsa]\ninputs = \"all\"", "alsa.inputs: expected an array of strings, got a string"),
            ("[sound]\nenabled = 1", "sound.enabled: expected true or false, got an integer"),
            ("[engine]\nlowest_pitch = 80\nhighest_pitch = 60", "engine.lowest_pitch: must be below engine.highest_pitch (60), got 80"),
            ("[tempo]\nphase = \"count-in\"", "tempo.phase: \"count-in\" needs tempo.count_in_bars of at least 1"),
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
}
