import Foundation
import Model
import XCTest
@testable import Config

/// Sampling settings travel with the model (its metadata); the config and the command line
/// override them only where a user sets them.
final class ModelSamplingTests: XCTestCase {
    func testTheModelsValuesFillWhatTheUserDidNotGive() throws {
        var c = DaemonConfig()
        try c.set("engine.top_p", .float(0.8))                     // the user's: it wins
        let tuned = try c.engineSettings(modelSampling: ["temperature": 0.25, "top_p": 0.5, "above_melody": 7])
        XCTAssertEqual(tuned.neural.temperature, 0.25)
        XCTAssertEqual(tuned.neural.topP, 0.8)
        XCTAssertEqual(tuned.neural.aboveMelody, 7)
        XCTAssertEqual(c.expertKeysGiven, ["engine.top_p"])
        // None carried: the built-in values.
        XCTAssertEqual(try DaemonConfig().engineSettings(modelSampling: [:]), DaemonConfig().engineSettings)
        // A musician's key is not the model's to set, nor an unknown one; values are checked.
        for bad: [String: Double] in [["max_polyphony": 3], ["warmth": 1], ["temperature": 9], ["above_melody": 2.5]] {
            XCTAssertThrowsError(try DaemonConfig().engineSettings(modelSampling: bad), "\(bad)") { e in
                XCTAssertTrue((e as? DaemonConfig.Problem)?.key.hasPrefix("sampling.") ?? false, "\(e)")
            }
        }
    }

    func testMetadataIsAnObjectOfNumbers() throws {
        XCTAssertEqual(try ModelSampling.values(metadata: [:]), [:])
        XCTAssertEqual(try ModelSampling.values(metadata: ["sampling": "{\"temperature\": 0.5, \"above_melody\": -1}"]),
                       ["temperature": 0.5, "above_melody": -1])
        for bad in ["[1]", "{\"temperature\": \"hot\"}", "{\"temperature\": true}", "not json"] {
            XCTAssertThrowsError(try ModelSampling.values(metadata: ["sampling": bad]), bad)
        }
    }

    /// The shipped model carries a value for every expert setting: a model exported without them
    /// would silently play with the built-in ones.
    func testTheShippedModelCarriesEveryExpertSetting() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Models/accompanist.safetensors").path
        let carried = try ModelSampling.values(path: path)
        let expert = Set(Settings.all.filter { $0.audience == .expert }.map { String($0.name) })
        XCTAssertEqual(Set(carried.keys), expert)
        XCTAssertNoThrow(try DaemonConfig().engineSettings(modelSampling: carried))
    }
}
