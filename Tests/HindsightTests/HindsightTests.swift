import Foundation
import Harmony
@testable import Hindsight
import Model
import Tokens
import XCTest

/// The hindsight chord estimator (docs/hindsight.md) against the training side's float64
/// reference (Tests/Fixtures/hindsight: `python -m accompanist_train.hindsight fixture`), its
/// decoder, its chart, and its refusals.
final class HindsightTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/hindsight")

    struct Case: Decodable {
        var beats_per_bar: Int
        var frames: [[Int]]
        var features: [[Double]]
        var class_logits: [[Double]]
        var tone_logits: [[Double]]
        var decoded: [Int]
        var symbols: [String]
        var t4_log_probs: [[Double]]
        var t4_decoded: [Int]
        var t4_symbols: [String]
        var m2_log_probs: [[Double]]
        var m2_decoded: [Int]
    }

    func load() throws -> (HindsightModel, Case) {
        let model = try HindsightModel(path: Self.fixtures.appendingPathComponent("tiny.safetensors").path)
        let c = try JSONDecoder().decode(Case.self, from: Data(contentsOf: Self.fixtures.appendingPathComponent("tiny_case.json")))
        return (model, c)
    }

    func frames(_ c: Case) -> [MelodyFrame] {
        c.frames.map { MelodyFrame(pitch: Int8($0[0]), onset: $0[1] != 0, velocityBin: UInt8($0[2])) }
    }

    func testFeaturesLogitsAndDecodingMatchTheReference() throws {
        let (model, c) = try load()
        XCTAssertEqual(model.dModel, 16)
        XCTAssertEqual(model.dilations, [1, 2])
        XCTAssertEqual(model.penalty, [0, 1.5, 0.75, 1.5])
        let (n, f) = BeatFeatures.compute(frames(c), beatsPerBar: c.beats_per_bar)
        XCTAssertEqual(n, c.features.count, "154 steps make 20 beats, the last padded")
        for b in 0..<n {
            for k in 0..<BeatFeatures.count {
                XCTAssertEqual(Double(f[b * BeatFeatures.count + k]), c.features[b][k], accuracy: 1e-6, "feature \(k) of beat \(b)")
            }
        }
        let out = model.forward(features: f, beats: n)
        var worst = 0.0
        for b in 0..<n {
            for k in 0..<HindsightModel.classes { worst = max(worst, abs(Double(out.classes[b * 61 + k]) - c.class_logits[b][k])) }
            for k in 0..<12 { worst = max(worst, abs(Double(out.tones[b * 12 + k]) - c.tone_logits[b][k])) }
        }
        XCTAssertLessThan(worst, 2e-3, "largest difference from the float64 reference")
        let decoded = ChordDecoder.decode(logits: out.classes, beats: n, beatsPerBar: 4, penalty: model.penalty)
        XCTAssertEqual(decoded, c.decoded)
        XCTAssertEqual(model.transpositions, 1, "a file without the key averages nothing")
        let chords = HindsightChords(frames: frames(c), beatsPerBar: 4, model: model)
        XCTAssertEqual(chords.perBeat.map(\.description), c.symbols)
    }

    /// Test-time transposition: the posterior averaged over 4 transpositions of the melody, read
    /// back, equals the reference's; the chords come from it; one transposition is the plain
    /// posterior.
    func testTranspositionsAverageThePosteriorAsTheReferenceDoes() throws {
        let (plain, c) = try load()
        let model = try HindsightModel(path: Self.fixtures.appendingPathComponent("tiny_t4.safetensors").path)
        XCTAssertEqual(model.transpositions, 4)
        let (n, f) = BeatFeatures.compute(frames(c), beatsPerBar: c.beats_per_bar)
        let lp = model.classLogProbabilities(features: f, beats: n)
        var worst = 0.0
        for b in 0..<n {
            var mass = 0.0
            for k in 0..<HindsightModel.classes {
                worst = max(worst, abs(Double(lp[b * 61 + k]) - c.t4_log_probs[b][k]))
                mass += exp(Double(lp[b * 61 + k]))
            }
            XCTAssertEqual(mass, 1, accuracy: 1e-4, "beat \(b)'s averaged posterior sums to 1")
        }
        XCTAssertLessThan(worst, 2e-3, "largest difference from the float64 reference")
        XCTAssertNotEqual(c.t4_decoded, c.decoded, "the fixture's average changes the chords, so this test can tell")
        XCTAssertEqual(HindsightChords(frames: frames(c), beatsPerBar: 4, model: model).perBeat.map(\.description), c.t4_symbols)
        let one = plain.classLogProbabilities(features: f, beats: n)
        let raw = plain.forward(features: f, beats: n).classes
        XCTAssertEqual(ChordDecoder.decode(logits: one, beats: n, beatsPerBar: 4, penalty: plain.penalty),
                       ChordDecoder.decode(logits: raw, beats: n, beatsPerBar: 4, penalty: plain.penalty))
    }

    /// An ensemble of two networks in one file: the posterior is the average of the members',
    /// as the reference's; member 0 is the single model's network.
    func testAnEnsembleAveragesItsMembersAsTheReferenceDoes() throws {
        let (plain, c) = try load()
        let model = try HindsightModel(path: Self.fixtures.appendingPathComponent("tiny_m2.safetensors").path)
        XCTAssertEqual(model.members, 2)
        XCTAssertEqual(plain.members, 1, "a file without the key is one network")
        let (n, f) = BeatFeatures.compute(frames(c), beatsPerBar: c.beats_per_bar)
        XCTAssertEqual(model.forward(features: f, beats: n).classes, plain.forward(features: f, beats: n).classes)
        let lp = model.classLogProbabilities(features: f, beats: n)
        var worst = 0.0
        for b in 0..<n {
            for k in 0..<HindsightModel.classes { worst = max(worst, abs(Double(lp[b * 61 + k]) - c.m2_log_probs[b][k])) }
        }
        XCTAssertLessThan(worst, 2e-3, "largest difference from the float64 reference")
        XCTAssertNotEqual(c.m2_decoded, c.decoded, "the second member changes the chords, so this test can tell")
        XCTAssertEqual(ChordDecoder.decode(logits: lp, beats: n, beatsPerBar: 4, penalty: model.penalty), c.m2_decoded)
    }

    /// The penalty smooths: a beat that prefers another chord only a little keeps the chord
    /// around it, one that prefers it strongly changes; a change on beat 1 is free.
    func testDecoderPenalty() {
        func logits(_ rows: [(Int, Float)]) -> [Float] {
            var l = [Float](repeating: 0, count: rows.count * 61)
            for (t, r) in rows.enumerated() { l[t * 61 + r.0] = r.1 }
            return l
        }
        let c = 0, g = 35  // C major, G major
        let weak = logits([(c, 5), (c, 5), (g, 1), (c, 5)])
        XCTAssertEqual(ChordDecoder.decode(logits: weak, beats: 4, beatsPerBar: 4, penalty: [0, 2, 2, 2]), [c, c, c, c])
        XCTAssertEqual(ChordDecoder.decode(logits: weak, beats: 4, beatsPerBar: 4, penalty: [0, 0, 0, 0]), [c, c, g, c])
        let strong = logits([(c, 5), (c, 5), (g, 12), (c, 5)])
        XCTAssertEqual(ChordDecoder.decode(logits: strong, beats: 4, beatsPerBar: 4, penalty: [0, 2, 2, 2]), [c, c, g, c])
        // Bar 2's beat 1 (beat 4) changes for free where beat 3 of bar 1 (beat 2) would not.
        let moves = logits([(c, 5), (c, 5), (c, 5), (c, 5), (g, 1.5), (g, 1.5), (g, 1.5), (g, 1.5)])
        XCTAssertEqual(ChordDecoder.decode(logits: moves, beats: 8, beatsPerBar: 4, penalty: [0, 100, 100, 100]), [c, c, c, c, g, g, g, g])
        XCTAssertEqual(ChordDecoder.chord(ofClass: 60), .noChord)
        XCTAssertEqual(ChordDecoder.chord(ofClass: 9 * 5 + 1).description, "Am")
        XCTAssertEqual(ChordDecoder.chord(ofClass: 2 * 5 + 2).description, "Dsus4")
    }

    /// The chart the estimate writes reads back as the same chords, step by step.
    func testChartTextRoundTrips() throws {
        let (model, c) = try load()
        let chords = HindsightChords(frames: frames(c), beatsPerBar: 4, model: model)
        let reread = try ChordStream(chart: ChordChart(text: chords.chartText), beatsPerBar: 4)
        let stream = chords.stream
        XCTAssertEqual(reread.chartEnd, stream.chartEnd)
        for s in 0..<stream.chartEnd { XCTAssertEqual(reread.known(before: s).chord, stream.known(before: s).chord, "step \(s)") }
        XCTAssertTrue(chords.chartText.hasPrefix("| F# / / / | Dm / Ab Db |"), chords.chartText)
    }

    func testRefusesOtherFiles() throws {
        XCTAssertThrowsError(try HindsightModel(path: "/nonexistent/hindsight.safetensors")) { e in
            XCTAssertTrue("\(e)".contains("cannot read the hindsight model"), "\(e)")
        }
        let other = Self.fixtures.deletingLastPathComponent().appendingPathComponent("model/tiny.safetensors").path
        XCTAssertThrowsError(try HindsightModel(path: other)) { e in
            XCTAssertTrue("\(e)".contains("is not a hindsight chord model"), "\(e)")
        }
        let bytes = try Data(contentsOf: Self.fixtures.appendingPathComponent("tiny.safetensors"))
        let cut = FileManager.default.temporaryDirectory.appendingPathComponent("hindsight-cut-\(getpid()).safetensors")
        try bytes.prefix(bytes.count / 2).write(to: cut)
        defer { try? FileManager.default.removeItem(at: cut) }
        XCTAssertThrowsError(try HindsightModel(path: cut.path)) { e in
            XCTAssertTrue("\(e)".contains("cannot read the hindsight model"), "a truncated file: \(e)")
        }
        var t4 = try Data(contentsOf: Self.fixtures.appendingPathComponent("tiny_t4.safetensors"))
        let key = Data("\"transpositions\":\"4\"".utf8)
        let at = try XCTUnwrap(t4.range(of: key), "the fixture's header names its transpositions")
        t4[at.upperBound - 2] = UInt8(ascii: "5")
        let five = FileManager.default.temporaryDirectory.appendingPathComponent("hindsight-t5-\(getpid()).safetensors")
        try t4.write(to: five)
        defer { try? FileManager.default.removeItem(at: five) }
        XCTAssertThrowsError(try HindsightModel(path: five.path)) { e in
            XCTAssertTrue("\(e)".contains("transpositions 5 does not divide 12"), "\(e)")
        }
        // An ensemble that says it has more members than it holds names the missing tensor.
        var m2 = try Data(contentsOf: Self.fixtures.appendingPathComponent("tiny_m2.safetensors"))
        let members = try XCTUnwrap(m2.range(of: Data("\"members\":\"2\"".utf8)), "the fixture's header names its members")
        m2[members.upperBound - 2] = UInt8(ascii: "3")
        let three = FileManager.default.temporaryDirectory.appendingPathComponent("hindsight-m3-\(getpid()).safetensors")
        try m2.write(to: three)
        defer { try? FileManager.default.removeItem(at: three) }
        XCTAssertThrowsError(try HindsightModel(path: three.path)) { e in
            XCTAssertTrue("\(e)".contains("is not a hindsight chord model") && "\(e)".contains("m2."), "\(e)")
        }
    }
}
