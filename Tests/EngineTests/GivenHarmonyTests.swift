import Foundation
import XCTest
@testable import Engine
import Harmony
import MIDI

/// Engines follow the chord the player gives (docs/harmony.md, "What the engine does with a
/// chord"): a chart's chords are played, a change ends the notes outside the new chord at once,
/// and left-hand hints keep the melody's causality rule.
final class GivenHarmonyTests: XCTestCase {
    static let model = Fixtures.repository.appendingPathComponent("Models/accompanist.safetensors")

    func shippedEngine(seed: UInt64 = 0) throws -> NeuralEngine {
        guard FileManager.default.fileExists(atPath: Self.model.path) else { throw XCTSkip("no shipped model in Models/") }
        return try ShippedModel.engine(path: Self.model.path, precision: .fp32, configuration: NeuralConfiguration(), seed: seed)
    }

    /// C major and F# major alternate every two beats (no pitch class in common), N.C. in the last bar.
    func tritoneChart(bars: Int) -> ChordStream {
        var changes: [ChordChange] = []
        for half in 0..<(2 * (bars - 1)) {
            changes.append(ChordChange(step: half * 16, chord: .chord(ChordSymbol(root: half % 2 == 0 ? 0 : 6, quality: .major))))
        }
        changes.append(ChordChange(step: (bars - 1) * 32, chord: .noChord))
        return ChordStream(changes: changes, end: bars * 32)
    }

    /// Every onset is a tone of the chart's chord at its step; at each change, each sounding note
    /// outside the new chord ends at the change's step; under N.C. nothing begins.
    func checkFollowsChart(_ events: [AccompanimentEvent], chart: ChordStream, label: String) {
        var notes: [(pitch: Int, start: Int, end: Int)] = []
        var open: [Int: Int] = [:]   // pitch -> start
        for e in events {
            if e.isNoteOn {
                switch chart.known(before: e.step).chord {
                case .chord(let c)?: XCTAssertTrue(c.pitchClassMask & (1 << (Int(e.pitch) % 12)) != 0, "\(label): \(e.pitch) at \(e.step) is not in \(c)")
                case .noChord?: XCTFail("\(label): \(e.pitch) begins at \(e.step) under N.C.")
                case nil: break
                }
                open[Int(e.pitch)] = e.step
            } else if let start = open.removeValue(forKey: Int(e.pitch)) {
                notes.append((Int(e.pitch), start, e.step))
            }
        }
        XCTAssertTrue(open.isEmpty, "\(label): every note ends")
        XCTAssertGreaterThan(notes.count, 20, "\(label): the engine plays")
        var previous: ChartChord?
        for s in 0..<chart.chartEnd {
            guard let chord = chart.known(before: s).chord else { continue }
            defer { previous = chord }
            guard let previous, chord != previous else { continue }
            let tones: UInt16 = { if case .chord(let c) = chord { return c.pitchClassMask }; return 0 }()
            for n in notes where n.start < s && n.end > s && tones & (1 << (n.pitch % 12)) == 0 {
                XCTFail("\(label): pitch \(n.pitch) (\(n.start)..<\(n.end)) sounds on across the change to \(chord) at \(s)")
            }
        }
    }

    func testModelFollowsAChartAndEndsNotesOutsideEachNewChord() throws {
        let chart = tritoneChart(bars: 8)
        for seed in 0..<2 as Range<UInt64> {
            let engine = try shippedEngine()
            engine.setHarmony(chart)
            let events = OfflineRenderer.run(engine, melody: randomMelody(seed: seed, steps: 256), steps: 256, seed: seed)
            checkFollowsChart(events, chart: chart, label: "model, seed \(seed)")
        }
    }

    func testRulesFollowAChart() {
        let chart = tritoneChart(bars: 8)
        let engine = RulesEngine()
        engine.setHarmony(chart)
        let events = OfflineRenderer.run(engine, melody: randomMelody(seed: 4, steps: 256), steps: 256, seed: 4)
        checkFollowsChart(events, chart: chart, label: "rules")
    }

    /// The melody's causality rule with a left hand: a hint at step t changes nothing at steps ≤ t
    /// (the output of step s sees hints of steps < s), and the same hints and seed give the same
    /// output.
    func testLeftHandHintsAreCausalAndDeterministic() throws {
        let melody = randomMelody(seed: 9, steps: 320)
        let c = ChordSymbol(root: 0, quality: .major), fs = ChordSymbol(root: 6, quality: .major)
        // The left hand's keys: C held from step 3, then F# from step 100.
        let keys: MelodyEvents = [(3, 48, 80), (3, 52, 80), (3, 55, 80), (100, 48, 0), (100, 52, 0), (100, 55, 0),
                                  (100, 54, 80), (100, 58, 80), (100, 61, 80)]
        func render(_ keys: MelodyEvents) throws -> [AccompanimentEvent] {
            let engine = try shippedEngine()
            return OfflineRenderer.run(engine, melody: melody, steps: 320, seed: 2, leftHand: keys, reader: LeftHand())
        }
        let base = try render(keys)
        XCTAssertEqual(base, try render(keys), "same hints, same seed: same output")
        let reader = LeftHand()
        var hints: [ChordHint] = []
        for s in 0...320 {
            for k in keys where k.step == s - 1 { k.velocity > 0 ? reader.noteOn(pitch: k.pitch, step: k.step) : reader.noteOff(pitch: k.pitch, step: k.step) }
            if let h = reader.hint(before: s) { hints.append(h) }
        }
        XCTAssertEqual(hints, [ChordHint(step: 3, chord: c), ChordHint(step: 100, chord: fs)])
        // One more chord (G at step 200): identical up to step 200, different after.
        let more = try render(keys + [(200, 54, 0), (200, 58, 0), (200, 61, 0), (200, 55, 80), (200, 59, 80), (200, 62, 80)])
        XCTAssertEqual(base.filter { $0.step <= 200 }, more.filter { $0.step <= 200 }, "a hint at step 200 changed an earlier step")
        XCTAssertNotEqual(base.filter { $0.step > 200 }, more.filter { $0.step > 200 }, "the hint at step 200 changed nothing")
        // And the left hand's chords are played: the onsets in 108..<200 are F# major's.
        for e in base where e.isNoteOn && (108..<200).contains(e.step) {
            XCTAssertTrue(fs.pitchClassMask & (1 << (Int(e.pitch) % 12)) != 0, "\(e.pitch) at \(e.step)")
        }
    }
}
