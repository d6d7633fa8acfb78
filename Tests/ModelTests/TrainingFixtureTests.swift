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
    /// Per position: the given chord's features [25], or nil for the model's own hearing
    /// (models with chord input only).
    var chordIn: [[Float]?]?     // [T]

    enum CodingKeys: String, CodingKey {
        case frames, meter, tokens, ptimes, enc, logits, tolerance
        case chordIn = "chord_in"
        case tokenMeter = "token_meter", chordLogits = "chord_logits"
    }

    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures/model")

    /// `name`: "tiny" (no chord input) or "tiny_chord" (chord input, given and heard chords).
    static func load(_ name: String = "tiny") throws -> (SafeTensorsFile, TrainingCase) {
        let file = try SafeTensorsFile(path: directory.appendingPathComponent("\(name).safetensors").path)
        let data = try Data(contentsOf: directory.appendingPathComponent("\(name)_case.json"))
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
    func run(_ precision: WeightPrecision, cache: WeightPrecision? = nil, name: String = "tiny") throws
        -> (enc: Float, chord: Float, logits: Float, tolerance: Float)
    {
        let (file, c) = try TrainingCase.load(name)
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
            let given = c.chordIn?[i]
            let logits = given.map { g in g.withUnsafeBufferPointer { m.decoderStep(token: c.tokens[i], ptime: c.ptimes[i], meter: c.tokenMeter[i], chord: $0.baseAddress!) } }
                ?? m.decoderStep(token: c.tokens[i], ptime: c.ptimes[i], meter: c.tokenMeter[i])
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

    /// A model with chord input (docs/model.md, "Chord input"): given chords at two positions of
    /// three, the chord head's own hearing at the third.
    @Test func parityWithChordInput() throws {
        let r = try run(.fp32, name: "tiny_chord")
        #expect(r.enc < r.tolerance && r.chord < r.tolerance && r.logits < r.tolerance)
        let (file, c) = try TrainingCase.load("tiny_chord")
        #expect(try StreamingModel(file: file).config.chordInput == 25)
        #expect(c.chordIn?.contains { $0 == nil } == true && c.chordIn?.contains { $0 != nil } == true)
    }

    /// The chord input is really used: other chords give other logits (so the parity above
    /// cannot pass by ignoring them).
    @Test func chordInputChangesLogits() throws {
        let (file, c) = try TrainingCase.load("tiny_chord")
        let a = try StreamingModel(file: file), b = try StreamingModel(file: file)
        var x = [Float](repeating: 0, count: ChordFeatures.count), y = x
        x.withUnsafeMutableBufferPointer { ChordFeatures.given(toneMask: 0b000010010001, bass: nil, into: $0.baseAddress!) }  // C
        y.withUnsafeMutableBufferPointer { ChordFeatures.given(toneMask: 0b001000100100, bass: 9, into: $0.baseAddress!) }   // Dm/A
        var differs = false
        for i in c.tokens.indices {
            for m in [a, b] {
                while m.encoderSteps < c.ptimes[i] {
                    let s = m.encoderSteps
                    m.encoderPush(pitch: c.frames[s][0], onset: c.frames[s][1], velocityBin: c.frames[s][2], meter: c.meter[s])
                }
            }
            let la = x.withUnsafeBufferPointer { Array(UnsafeBufferPointer(start: a.decoderStep(token: c.tokens[i], ptime: c.ptimes[i], meter: c.tokenMeter[i], chord: $0.baseAddress!), count: 323)) }
            let lb = y.withUnsafeBufferPointer { Array(UnsafeBufferPointer(start: b.decoderStep(token: c.tokens[i], ptime: c.ptimes[i], meter: c.tokenMeter[i], chord: $0.baseAddress!), count: 323)) }
            if zip(la, lb).contains(where: { abs($0 - $1) > 1e-3 }) { differs = true }
        }
        #expect(differs)
    }

    @Test func parityFP32WeightsFP16Caches() throws {
        let r = try run(.fp32, cache: .fp16)
        #expect(r.enc < r.tolerance && r.chord < r.tolerance && r.logits < 2e-3)
    }
}
