import Config
import Foundation
import XCTest
@testable import accompanist

/// `run` (from its config file) and `render` (from its options) reach the engine through the same
/// keys and the same mapping: the same settings give the same engine.
final class EngineSettingsAgreementTests: XCTestCase {
    func config(_ text: String) throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("cfg-\(UUID().uuidString).toml")
        try Data(text.utf8).write(to: url)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url.path
    }

    func testSameSettingsSameEngine() throws {
        let path = try config("""
            [engine]
            engine = "rules"
            precision = "fp32"
            seed = 11
            pattern = "broken"
            temperature = 0.8
            top_p = 0.9
            chord_guidance = 2.5
            max_note_beats = 3
            above_melody = 5
            estimate_density = 2.5
            estimate_confidence_density = 4.0
            estimate_chord_stacking = 1.5
            estimate_release = 0.55
            estimate_floor = 0.65
            [tempo]
            beats_per_bar = 3
            """)
        let (runConfig, _) = try Run.parse(["--config", path]).loadConfig()
        let render = try Render.parse(["in.mid", "-o", "out.mid", "--engine", "rules", "--precision", "fp32", "--seed", "11",
                                       "--pattern", "broken", "--temperature", "0.8", "--top-p", "0.9",
                                       "--chord-guidance", "2.5", "--max-note-beats", "3", "--above-melody", "5",
                                       "--estimate-density", "2.5", "--estimate-confidence-density", "4", "--estimate-chord-stacking", "1.5",
                                       "--estimate-release", "0.55", "--estimate-floor", "0.65"])
        let rendered = try render.engineSettings(beatsPerBar: 3)
        XCTAssertEqual(rendered.neural, runConfig.engineSettings.neural)
        XCTAssertEqual(rendered, runConfig.engineSettings)
        XCTAssertEqual(rendered.neural.aboveMelody, 5)
        XCTAssertEqual(rendered.neural.estimateChordStacking, 1.5)
        XCTAssertEqual(rendered.neural.estimateRelease, 0.55)
        XCTAssertEqual(rendered.neural.estimateFloor, 0.65)
        // -1 (off) is a value, not an option.
        let off = try Render.parse(["in.mid", "-o", "out.mid", "--above-melody", "-1"]).engineSettings(beatsPerBar: 4)
        XCTAssertEqual(off.neural.aboveMelody, -1)
    }

    /// Without options, render plays with the daemon's defaults: pitch range, polyphony,
    /// listening and note length included.
    func testDefaultsAgree() throws {
        let (runConfig, _) = try Run.parse(["--config", try config("")]).loadConfig()
        let rendered = try Render.parse(["in.mid", "-o", "out.mid"]).engineSettings(beatsPerBar: 4)
        XCTAssertEqual(rendered, runConfig.engineSettings)
        XCTAssertEqual(rendered, DaemonConfig().engineSettings)
    }
}
