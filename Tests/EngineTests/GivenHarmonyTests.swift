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
        // The shipped model is in the repository: a missing one fails the test.
        guard FileManager.default.fileExists(atPath: Self.model.path) else { throw ShippedModelMissing(path: Self.model.path) }
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

/// The left hand's wait (docs/harmony.md, "The left hand's wait"): a chord struck on the beat is
/// played on that beat.
final class LeftHandWaitTests: XCTestCase {
    /// A file: the melody on track 1 and, on track 2, C and F# major alternating every two beats
    /// for seven bars, each struck exactly on its change's tick (480 ticks a quarter, 60 a step).
    func file(melody: MelodyEvents) -> MIDIFile {
        func track(_ keys: MelodyEvents) -> Track {
            Track(events: keys.map { k in
                TrackEvent(tick: k.step * 60, k.velocity > 0 ? .noteOn(channel: 0, key: UInt8(k.pitch), velocity: UInt8(k.velocity))
                                                              : .noteOff(channel: 0, key: UInt8(k.pitch), velocity: 0))
            })
        }
        var chords: MelodyEvents = []
        for half in 0..<14 {
            let keys = half % 2 == 0 ? [48, 52, 55] : [54, 58, 61]
            chords += keys.map { (half * 16, $0, 80) }
            chords += keys.map { (half * 16 + 16, $0, 0) }
        }
        // At one tick the keys let go come first.
        chords.sort { ($0.step, $0.velocity) < ($1.step, $1.velocity) }
        return MIDIFile(format: 1, ticksPerQuarter: 480, tracks: [track(melody), track(chords)])
    }

    /// The onsets at the chord changes (steps 16, 32, …, 208) and whether each is a tone of the
    /// chord struck there.
    func onsetsAtChanges(_ events: [AccompanimentEvent]) -> [Bool] {
        events.filter { $0.isNoteOn && $0.step % 16 == 0 && (16..<224).contains($0.step) }.map { e in
            let root = (e.step / 16) % 2 == 0 ? 0 : 6
            return ChordSymbol(root: root, quality: .major).pitchClassMask & (1 << (Int(e.pitch) % 12)) != 0
        }
    }

    func render(_ engine: AccompanimentEngine, wait: Double, melody: MelodyEvents) throws -> [AccompanimentEvent] {
        let r = try OfflineRenderer.render(file: file(melody: melody), melodyTrack: 0, engine: engine, seed: 1, beatsPerBar: 4,
                                           harmony: RenderHarmony(chordTrack: 1, leftHand: LeftHand(wait: wait)))
        XCTAssertEqual(r.leftHandHints, 14)
        return r.events.filter { $0.step < 224 }
    }

    /// With the default wait every note begun on a change is in the chord struck there; with the
    /// melody's rule (−0.5) the notes of the change's beat were chosen under the old chord.
    func testAChordStruckOnTheBeatIsPlayedOnTheBeat() throws {
        let melody = randomMelody(seed: 5, steps: 256)
        let rules = try onsetsAtChanges(render(RulesEngine(), wait: LeftHand.defaultWait, melody: melody))
        XCTAssertGreaterThan(rules.count, 20, "the rules engine strikes on the changes")
        XCTAssertTrue(rules.allSatisfy { $0 }, "with the wait, every onset on a change is in the new chord")
        let late = try onsetsAtChanges(render(RulesEngine(), wait: -0.5, melody: melody))
        XCTAssertGreaterThan(late.filter { !$0 }.count, 10, "without it the change's beat plays the old chord")

        let path = GivenHarmonyTests.model.path
        guard FileManager.default.fileExists(atPath: path) else { throw ShippedModelMissing(path: path) }
        let model = try onsetsAtChanges(render(try ShippedModel.engine(path: path, precision: .fp32, configuration: NeuralConfiguration(), seed: 1),
                                               wait: LeftHand.defaultWait, melody: melody))
        XCTAssertGreaterThan(model.count, 5, "the model strikes on some changes")
        XCTAssertTrue(model.allSatisfy { $0 }, "the model too: \(model.filter { !$0 }.count) of \(model.count) onsets on changes outside the new chord")
    }

    /// Where a key lands: `floor(position − wait)`; −0.5 is the melody's nearest step, halves up.
    func testStepPlacement() {
        let wait = LeftHand()
        XCTAssertEqual(wait.wait, 0.25)
        for (position, step) in [(8.0, 7), (8.249, 7), (8.25, 8), (7.3, 7), (7.2, 6), (0.0, -1)] as [(Double, Int)] {
            XCTAssertEqual(wait.step(at: position), step, "wait 0.25, position \(position)")
        }
        let melodyRule = LeftHand(wait: -0.5)
        for tick in [0, 29, 30, 31, 59, 60, 89, 90, 479, 480, 1000] {
            XCTAssertEqual(melodyRule.step(at: Double(8 * tick) / 480), Grid.step(ofTick: tick, ticksPerQuarter: 480), "tick \(tick)")
        }
    }
}

/// Offline heard chords (docs/hindsight.md, docs/memory.md): an estimate given per beat replaces
/// the model's own hearing, as its chord input and for guidance.
final class HeardChordsTests: XCTestCase {
    /// C major's tones certain, every other pitch class out.
    static let cMajor: [Float] = (0..<12).map { [0, 4, 7].contains($0) ? 1 : 0 }

    func engine(_ configuration: NeuralConfiguration = NeuralConfiguration()) throws -> NeuralEngine {
        let path = GivenHarmonyTests.model.path
        guard FileManager.default.fileExists(atPath: path) else { throw ShippedModelMissing(path: path) }
        return try ShippedModel.engine(path: path, precision: .fp32, configuration: configuration, seed: 1)
    }

    /// The estimate's own density, confidence density and stacking (NeuralConfiguration
    /// `estimate…`) apply where an estimate is heard, and nowhere else: with the melody's own
    /// hearing they change nothing; under an estimate a sure one is played fuller than an unsure
    /// one, and a lower estimate density plays less.
    func testTheEstimateSettingsApplyOnlyUnderAnEstimate() throws {
        let melody = randomMelody(seed: 14, steps: 256)
        var sparse = NeuralConfiguration()
        sparse.estimateDensity = 0.1
        sparse.estimateChordStacking = 1
        let free = OfflineRenderer.run(try engine(), melody: melody, steps: 256, seed: 1)
        XCTAssertEqual(OfflineRenderer.run(try engine(sparse), melody: melody, steps: 256, seed: 1), free,
                       "with no estimate heard the estimate settings change nothing")
        func notes(_ configuration: NeuralConfiguration, _ perBeat: [Float]) throws -> Int {
            let e = try engine(configuration)
            e.setHeardChords(Array(repeating: perBeat, count: 32).flatMap { $0 })
            return OfflineRenderer.run(e, melody: melody, steps: 256, seed: 1).filter(\.isNoteOn).count
        }
        // Unsure: five pitch classes at 0.6 (the mean of the three likeliest: 0.6, to the fifth power 0.08).
        let unsure: [Float] = (0..<12).map { [0, 2, 4, 7, 9].contains($0) ? 0.6 : 0 }
        let sure = try notes(NeuralConfiguration(), Self.cMajor)
        let doubtful = try notes(NeuralConfiguration(), unsure)
        let thin = try notes(sparse, Self.cMajor)
        XCTAssertGreaterThan(sure, 2 * doubtful, "a sure estimate is played fuller (\(sure) notes) than an unsure one (\(doubtful))")
        XCTAssertGreaterThan(sure, 2 * thin, "estimate density 0.1 plays less (\(thin) notes) than the default (\(sure))")
    }

    /// `estimateRelease`: a note sounding into a bar whose estimate gives its pitch class less
    /// than the release ends on the bar's first step (the pending time shift is cut there).
    /// Here C major is sure in odd bars, and in even bars F# major is, with C, E and G at 0.5:
    /// above the off-chord release (0.45), so without `estimateRelease` they may ring on.
    func testTheEstimateReleaseEndsNotesAtTheChangeItKnowsOf() throws {
        // A slow melody whose onsets fall between the bar lines (so none cuts a time shift there).
        var melody: MelodyEvents = []
        for t in stride(from: 4, to: 250, by: 16) { melody.append((t, 72 + (t / 16) % 5, 80)); melody.append((t + 12, 72 + (t / 16) % 5, 0)) }
        let fSharp: [Float] = (0..<12).map { [6, 10, 1].contains($0) ? 1 : [0, 4, 7].contains($0) ? 0.5 : 0 }
        let perBeat = (0..<32).flatMap { ($0 / 4) % 2 == 0 ? Self.cMajor : fSharp }
        func heldAcross(_ release: Float) throws -> (held: Int, notes: Int) {
            var c = NeuralConfiguration()
            c.estimateRelease = release
            let e = try engine(c)
            e.setHeardChords(perBeat)
            var held = 0, notes = 0
            var start = [Int: Int]()
            for ev in OfflineRenderer.run(e, melody: melody, steps: 256, seed: 1) {
                let p = Int(ev.pitch)
                if ev.isNoteOn { start[p] = ev.step; notes += 1; continue }
                guard let a = start.removeValue(forKey: p) else { continue }
                if a / 32 % 2 == 0, ev.step > (a / 32 + 1) * 32 { held += 1 }   // from a C bar past the F# bar's first step
            }
            return (held, notes)
        }
        let off = try heldAcross(0), on = try heldAcross(0.6)
        XCTAssertGreaterThan(off.held, 0, "without it some note of C major rings into the F# bar (\(off.notes) notes)")
        XCTAssertEqual(on.held, 0, "with it every one ends at the change (\(on.notes) notes)")
        XCTAssertGreaterThan(on.notes, 10)
    }

    /// `estimateFloor`: in the beats whose estimate is unsure (the mean of its three likeliest
    /// tones below the floor) nothing new is struck; in the sure ones the accompaniment plays on.
    /// Here C major is sure in bars 0, 2, 4, … (counted from 0); in bars 1, 3, … five pitch classes
    /// sit at 0.6.
    func testTheEstimateFloorStrikesNothingWhereTheEstimateIsUnsure() throws {
        let melody = randomMelody(seed: 14, steps: 256)
        let unsure: [Float] = (0..<12).map { [0, 2, 4, 7, 9].contains($0) ? 0.6 : 0 }
        let perBeat = (0..<32).flatMap { ($0 / 4) % 2 == 0 ? Self.cMajor : unsure }
        func onsets(_ floor: Float) throws -> (sure: Int, unsure: Int) {
            var c = NeuralConfiguration()
            c.estimateFloor = floor
            c.estimateConfidenceDensity = 0   // the floor alone decides where it is quiet
            let e = try engine(c)
            e.setHeardChords(perBeat)
            let on = OfflineRenderer.run(e, melody: melody, steps: 256, seed: 1).filter(\.isNoteOn)
            return (on.filter { $0.step / 32 % 2 == 0 }.count, on.filter { $0.step / 32 % 2 == 1 }.count)
        }
        let off = try onsets(0), on = try onsets(0.7)
        XCTAssertGreaterThan(off.unsure, 5, "without the floor the unsure bars are played too (\(off))")
        XCTAssertEqual(on.unsure, 0, "with a floor of 0.7 nothing is struck where the estimate is at 0.6 (\(on))")
        XCTAssertGreaterThan(on.sure, 10, "and the sure bars are played (\(on))")
    }

    func testHindsightHeardChordsAreFollowed() throws {
        let melody = randomMelody(seed: 12, steps: 256)
        let plain = try engine()
        let free = OfflineRenderer.run(plain, melody: melody, steps: 256, seed: 1).filter(\.isNoteOn)
        XCTAssertTrue(free.contains { ![0, 4, 7].contains(Int($0.pitch) % 12) }, "on its own the model strays from C major")
        let e = try engine()
        e.setHeardChords(Array(repeating: Self.cMajor, count: 32).flatMap { $0 })
        let heard = OfflineRenderer.run(e, melody: melody, steps: 256, seed: 1).filter(\.isNoteOn)
        XCTAssertGreaterThan(heard.count, 20)
        for n in heard { XCTAssertTrue([0, 4, 7].contains(Int(n.pitch) % 12), "\(n.pitch) at \(n.step)") }
    }

    func testTheMemorysHeardChordsCountFromTheirStep() throws {
        let melody = randomMelody(seed: 13, steps: 256)
        let e = try engine()
        let events = OfflineRenderer.run(e, melody: melody, steps: 256, seed: 1, beforeStep: { s in
            if s == 128 { Self.cMajor.withUnsafeBufferPointer { e.memoryHeard($0.baseAddress!, step: s) } }
            if s == 192 { e.memoryHeard(nil, step: s) }
        }).filter(\.isNoteOn)
        let inside = events.filter { (128..<192).contains($0.step) }
        XCTAssertGreaterThan(inside.count, 5)
        for n in inside { XCTAssertTrue([0, 4, 7].contains(Int(n.pitch) % 12), "\(n.pitch) at \(n.step)") }
        let plain = try engine()
        let free = OfflineRenderer.run(plain, melody: melody, steps: 256, seed: 1).filter(\.isNoteOn)
        XCTAssertEqual(events.filter { $0.step < 128 }, free.filter { $0.step < 128 }, "nothing changes before the memory speaks")
    }
}

/// The shipped model is missing: an error that fails the test (the model is in the repository).
struct ShippedModelMissing: Error, CustomStringConvertible {
    var path: String
    var description: String { "no shipped model at \(path): it is part of the repository" }
}
