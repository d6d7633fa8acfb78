// Parity with the training side's fixture (Tests/Fixtures/model/, README there): a tiny random
// model run by the float64 numpy streaming reference. Encoder columns, chord logits and next-token
// logits at every step within the fixture's tolerance (1e-4, norm-wise relative per row).

import Foundation
import Testing
@testable import Model

struct TrainingCase: Decodable {
    var frames: [[Int]]          // [L][3]
    var meter: [Int]             // [L]
    var tokens: [Int]            // [T]
    var ptimes: [Int]            // [T]
    var tokenMeter: [Int]        // [T]
    var enc: [[Float]]           // [L][d]
    var chordLogits: [[Float]]   // [L][nChord]
    var logits: [[Float]]        // [T][V]
    var tolerance: Float

    enum CodingKeys: String, CodingKey {
        case frames, meter, tokens, ptimes, enc, logits, tolerance
        case tokenMeter = "token_meter", chordLogits = "chord_logits"
    }

    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures/model")

    static func load() throws -> (SafeTensorsFile, TrainingCase) {
        let file = try SafeTensorsFile(path: directory.appendingPathComponent("tiny.safetensors").path)
        let data = try Data(contentsOf: directory.appendingPathComponent("tiny_case.json"))
        return (file, try JSONDecoder().decode(TrainingCase.self, from: data))
    }
}

/// max |a - b| / max |b|
func rowError(_ a: UnsafePointer<Float>, _ b: [Float]) -> Float {
    var num: Float = 0, den: Float = 0
    for i in b.indices { num = max(num, abs(a[i] - b[i])); den = max(den, abs(b[i])) }
    return num.isNaN ? .infinity : num / max(den, .leastNormalMagnitude)
}

@Suite struct TrainingFixtureTests {
    func run(_ precision: WeightPrecision, cache: WeightPrecision? = nil) throws
        -> (enc: Float, chord: Float, logits: Float, tolerance: Float)
    {
        let (file, c) = try TrainingCase.load()
        let m = try StreamingModel(file: file, precision: precision, cachePrecision: cache)
        let chord = UnsafeMutablePointer<Float>.allocate(capacity: m.config.nChord)
        defer { chord.deallocate() }
        var encErr: Float = 0, chordErr: Float = 0, logitErr: Float = 0
        for i in c.tokens.indices {
            while m.encoderSteps < c.ptimes[i] {
                let s = m.encoderSteps
                m.encoderPush(pitch: c.frames[s][0], onset: c.frames[s][1], velocityBin: c.frames[s][2], meter: c.meter[s])
                encErr = max(encErr, rowError(m.lastEncoderColumn, c.enc[s]))
                m.encoderChordLogits(chord)
                chordErr = max(chordErr, rowError(chord, c.chordLogits[s]))
            }
            let logits = m.decoderStep(token: c.tokens[i], ptime: c.ptimes[i], meter: c.tokenMeter[i])
            logitErr = max(logitErr, rowError(logits, c.logits[i]))
        }
        print("training fixture \(precision) weights, \(m.cachePrecision) caches: enc \(encErr), chord \(chordErr), logits \(logitErr) over \(c.tokens.count) tokens")
        return (encErr, chordErr, logitErr, c.tolerance)
    }

    @Test func parityFP32() throws {
        let r = try run(.fp32)
        #expect(r.enc < r.tolerance && r.chord < r.tolerance && r.logits < r.tolerance)
    }

    /// fp16 storage: stated bound 2e-3.
    @Test func parityFP16() throws {
        let r = try run(.fp16)
        #expect(r.enc < 2e-3 && r.chord < 2e-3 && r.logits < 2e-3)
    }

    @Test func parityFP16WeightsFP32Caches() throws {
        let r = try run(.fp16, cache: .fp32)
        #expect(r.enc < 2e-3 && r.chord < 2e-3 && r.logits < 2e-3)
    }

    @Test func parityFP32WeightsFP16Caches() throws {
        let r = try run(.fp32, cache: .fp16)
        #expect(r.enc < r.tolerance && r.chord < r.tolerance && r.logits < 2e-3)
    }
}
