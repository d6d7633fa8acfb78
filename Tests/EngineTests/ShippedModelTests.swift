import Foundation
import XCTest
@testable import Engine
import MIDI
import Model

/// The shipped model (Models/accompanist.safetensors): greedy on a fixed melody, the Swift engine
/// feeds exactly the tokens of the Python streaming reference
/// (`python -m accompanist_train.engine_fixture --model Models/accompanist.safetensors --midi
/// Examples/ode_to_joy.mid --chord-guidance 4 --out Tests/Fixtures/model/engine_shipped_ode_to_joy.json`:
/// the shipped default guidance).
final class ShippedModelTests: XCTestCase {
    static let model = Fixtures.repository.appendingPathComponent("Models/accompanist.safetensors")
    static let fixture = Fixtures.repository.appendingPathComponent("Tests/Fixtures/model/engine_shipped_ode_to_joy.json")

    func testGreedyTokensEqualThePythonReference() throws {
        // The shipped model is in the repository: a missing one is a failure, not a skip.
        guard FileManager.default.fileExists(atPath: Self.model.path) else { return XCTFail("no shipped model at \(Self.model.path)") }
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: Self.fixture)) as! [String: Any]
        let expected = json["tokens"] as! [Int]
        var c = NeuralConfiguration()
        c.temperature = 0
        c.chordGuidance = Float(json["chord_guidance"] as? Double ?? 0)
        // What the Python reference does not do: releases, the doubling penalty and the groove's
        // time-shift bias (the sampler's kind odds play no part in greedy decoding).
        c.offChordRelease = 0
        c.doublingPenalty = 0
        c.groove = 1
        c.aboveMelody = -1
        let engine = try ShippedModel.engine(path: Self.model.path, precision: .fp32, configuration: c, seed: 0)
        engine.recordsTokens = true
        let file = try Fixtures.example("ode_to_joy")
        let result = try OfflineRenderer.render(file: file, melodyTrack: 1, engine: engine, seed: 0, beatsPerBar: 4)
        XCTAssertEqual(result.endStep, json["steps"] as? Int)
        let got = engine.recordedTokens
        let firstDifference = zip(got, expected).enumerated().first { $0.element.0 != $0.element.1 }?.offset
        XCTAssertNil(firstDifference, "first difference at token \(firstDifference ?? -1) of \(got.count)")
        XCTAssertTrue(expected.count - got.count <= 1 && expected.count >= got.count, "\(got.count) vs \(expected.count)")
        XCTAssertGreaterThan(result.events.filter(\.isNoteOn).count, 50, "the trained model plays")
    }
}
