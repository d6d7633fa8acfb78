import Config
import Engine
import Model
import XCTest

final class EngineSettingsTests: XCTestCase {
    /// The daemon's defaults are the engines' own.
    func testDefaultsAreTheEnginesDefaults() {
        let s = DaemonConfig().engineSettings
        XCTAssertEqual(s.neural, NeuralConfiguration())
        XCTAssertEqual(s.rules, RulesConfiguration(pattern: .bassChord, beatsPerBar: 4))
        XCTAssertEqual(s.kind, .model)
        XCTAssertNil(s.modelPath, "no model configured: the shipped one is searched for")
        XCTAssertEqual(s.precision, .fp16)
        XCTAssertEqual(s.maxNoteSteps, 64)
    }

    /// Every `[engine]` key, and the metre, reaches the engine.
    func testEveryKeyIsMapped() throws {
        let s = try DaemonConfig.parse("""
            [engine]
            engine = "rules"
            model = "m.safetensors"
            precision = "fp32"
            seed = 9
            pattern = "broken"
            temperature = 0.8
            top_p = 0.9
            chord_guidance = 2.5
            listen_beats = 2
            lowest_pitch = 30
            highest_pitch = 90
            max_polyphony = 6
            max_note_beats = 3
            estimate_density = 2.5
            estimate_confidence_density = 4
            estimate_chord_stacking = 1.25
            estimate_release = 0.55
            estimate_floor = 0.65
            [tempo]
            beats_per_bar = 3
            """).engineSettings
        XCTAssertEqual(s.kind, .rules)
        XCTAssertEqual(s.modelPath, "m.safetensors")
        XCTAssertEqual(s.precision, .fp32)
        XCTAssertEqual(s.seed, 9)
        XCTAssertEqual(s.beatsPerBar, 3)
        XCTAssertEqual(s.maxNoteSteps, 24)
        XCTAssertEqual(s.rules, RulesConfiguration(pattern: .broken, beatsPerBar: 3))
        var n = NeuralConfiguration()
        n.temperature = 0.8
        n.topP = 0.9
        n.chordGuidance = 2.5
        n.listenSteps = 16
        n.lowestPitch = 30
        n.highestPitch = 90
        n.maxPolyphony = 6
        n.maxNoteSteps = 24
        n.beatsPerBar = 3
        n.estimateDensity = 2.5
        n.estimateConfidenceDensity = 4
        n.estimateChordStacking = 1.25
        n.estimateRelease = 0.55
        n.estimateFloor = 0.65
        XCTAssertEqual(s.neural, n)
    }

    func testRulesEngineIsBuiltWithoutAModel() throws {
        var c = DaemonConfig()
        try c.set("engine.engine", .string("rules"))
        let s = c.engineSettings
        XCTAssertNil(try s.locateModel())
        XCTAssertTrue(try s.makeEngine(weights: nil) is RulesEngine)
    }
}
