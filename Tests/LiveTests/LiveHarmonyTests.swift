import Config
import Engine
import Foundation
import Harmony
@testable import Live
import MIDI
import Synchronization
import XCTest

/// The live loop with the player's harmony (docs/harmony.md, "Live: split point, chord channel
/// and chart"), on a simulated clock: the same notes as `render` with the same harmony, the left
/// hand's hints at the steps render gives them, and what the control thread says.
final class LiveHarmonyTests: XCTestCase {
    let bpm = 120.0
    var stepNs: Int64 { FixedTempo(bpm: bpm).stepNanoseconds }
    typealias Key = (step: Int, pitch: Int, velocity: Int)

    func settings(maxNoteSteps: Int = 12, countIn: Int = 0) -> EngineLoop.Settings {
        loopSettings(bpm: bpm, maxNoteSteps: maxNoteSteps, countIn: countIn)
    }

    static let melody: [Key] = [(0, 72, 90), (6, 72, 0), (8, 74, 80), (30, 74, 0), (32, 76, 85),
                                (70, 76, 0), (72, 79, 70), (100, 79, 0), (104, 77, 80), (124, 77, 0)]
    /// A left hand under that melody: C, a rolled Am (A, then Am), F, then F A C C# (no chord:
    /// F holds), G7.
    static let leftHand: [Key] = [(0, 48, 70), (0, 52, 70), (0, 55, 70), (30, 48, 0), (30, 52, 0), (30, 55, 0),
                                  (32, 45, 70), (33, 48, 70), (34, 52, 70), (62, 45, 0), (62, 48, 0), (62, 52, 0),
                                  (64, 41, 70), (64, 45, 70), (64, 48, 70), (80, 49, 70),
                                  (94, 41, 0), (94, 45, 0), (94, 48, 0), (94, 49, 0),
                                  (96, 43, 70), (96, 47, 70), (96, 50, 70), (96, 53, 70), (126, 43, 0), (126, 47, 0), (126, 50, 0), (126, 53, 0)]
    static let chartText = "| C / Am / | F | Dm7 G7 | C |"

    /// A track of `keys` on `channel` (480 ticks a quarter: a step is 60 ticks).
    func track(_ keys: [Key], channel: UInt8) -> Track {
        Track(events: keys.map { k in
            TrackEvent(tick: k.step * 60, k.velocity > 0 ? .noteOn(channel: channel, key: UInt8(k.pitch), velocity: UInt8(k.velocity))
                                                          : .noteOff(channel: channel, key: UInt8(k.pitch), velocity: 0))
        })
    }

    /// Keys heard live at their grid times from `origin`, on their channels, in time order (a
    /// stable sort: keys of one step keep their order).
    func liveInput(_ keys: [(key: Key, channel: UInt8)], origin: Int64) -> [InputEvent] {
        keys.enumerated().sorted { ($0.element.key.step, $0.offset) < ($1.element.key.step, $1.offset) }.map { $0.element }.map {
            .note($0.key.velocity > 0, channel: $0.channel, pitch: UInt8($0.key.pitch), velocity: UInt8($0.key.velocity),
                  time: origin + Int64($0.key.step) * stepNs, client: 20)
        }
    }

    enum Source { case split, chordChannel, chart, chartAndSplit }

    /// Live equals render for one harmony source: the render of a file (melody track, with the
    /// left hand below the split in it, or a chord track) against the live loop fed the same keys
    /// through the reader (one channel with a split, or the chords on channel 2).
    func assertReplay(_ source: Source, _ makeEngine: () throws -> AccompanimentEngine, maxNoteSteps: Int,
                      countIn: Int = 0, file: StaticString = #filePath, line: UInt = #line) throws {
        let split = 60
        var readerSettings = InputReader.Settings()
        var harmony = RenderHarmony(leftHand: LeftHand())
        var tracks: [Track]
        var keys = Self.melody.map { (key: $0, channel: UInt8(0)) }
        var stream = ChordStream()
        switch source {
        case .split, .chartAndSplit:
            readerSettings.splitNote = split
            harmony.split = split
            // One track, as a keyboard sends both hands on one channel.
            let both = (Self.melody + Self.leftHand).enumerated().sorted { ($0.element.step, $0.offset) < ($1.element.step, $1.offset) }.map(\.element)
            tracks = [track(both, channel: 0)]
            keys = both.map { (key: $0, channel: UInt8(0)) }
        case .chordChannel:
            readerSettings.chordChannel = 1
            harmony.chordTrack = 1
            let chords: [Key] = Self.leftHand.map { (step: $0.step, pitch: $0.pitch + 12, velocity: $0.velocity) }
            tracks = [track(Self.melody, channel: 0), track(chords, channel: 1)]
            keys += chords.map { (key: $0, channel: UInt8(1)) }
        case .chart:
            tracks = [track(Self.melody, channel: 0)]
        }
        if source == .chart || source == .chartAndSplit {
            stream = try ChordStream(chart: ChordChart(text: Self.chartText), beatsPerBar: 4)
            harmony.stream = stream
        }
        let midi = MIDIFile(format: 1, ticksPerQuarter: 480, tracks: tracks)
        let rendered = try OfflineRenderer.render(file: midi, melodyTrack: 0, engine: try makeEngine(), seed: 3, beatsPerBar: 4,
                                                  maxNoteSteps: maxNoteSteps, harmony: harmony)
        let steps = rendered.endStep
        XCTAssertEqual(steps, 128, file: file, line: line)
        let offline = rendered.events.filter { $0.step < steps }
        // The harmony changes what is played (else this test could not tell a live loop that
        // ignores it), and the left hand gave its chords.
        let melodyOnly = try OfflineRenderer.render(file: MIDIFile(format: 1, ticksPerQuarter: 480, tracks: [track(Self.melody, channel: 0)]),
                                                    melodyTrack: 0, engine: try makeEngine(), seed: 3, beatsPerBar: 4, maxNoteSteps: maxNoteSteps)
        XCTAssertNotEqual(offline, melodyOnly.events.filter { $0.step < steps }, "the harmony changed nothing", file: file, line: line)
        if source != .chart { XCTAssertEqual(rendered.leftHandHints, 5, "C, A, Am, F, G7", file: file, line: line) }

        let live = LiveHarness(engine: try makeEngine(), settings: settings(maxNoteSteps: maxNoteSteps, countIn: countIn), harmony: stream,
                               leftHand: source == .chart ? nil : DaemonConfig().harmonySettings.makeLeftHand(),
                               reader: readerSettings)
        var origin: Int64 = 5_000_000_000
        if countIn > 0 {
            // Beat 1 of bar 1 is one beat after the last click, the first half a beat after start.
            live.clock.now = origin
            live.loop.start(now: origin)
            origin += stepNs * 4 + Int64(countIn * 4) * stepNs * 8
        }
        var input = liveInput(keys, origin: origin)
        // Run a whole step past the last one compared: with a left hand, step s is computed its
        // wait later, so the last step's events come after the window the melody needs.
        live.run(until: origin + Int64(steps) * stepNs, feeding: &input)
        // With a left hand the accompaniment sounds its wait (and the engine's 2 ms) late.
        let delay = live.loop.soundDelay
        XCTAssertEqual(delay, source == .chart ? 0 : stepNs / 4 + EngineLoop.budgetNanoseconds, file: file, line: line)
        let played = live.scheduledNotes(origin: origin + delay, stepNanoseconds: stepNs, channel: 1).filter { $0.step < steps }
        XCTAssertFalse(offline.isEmpty, "the engine played nothing", file: file, line: line)
        XCTAssertEqual(played, offline, "live and render differ", file: file, line: line)
        let status = live.loop.status
        XCTAssertEqual(status.leftHandHints.load(ordering: .relaxed), source == .chart ? 0 : 5, file: file, line: line)
        XCTAssertEqual(status.unrecognizedChords.load(ordering: .relaxed), rendered.unrecognizedChords, file: file, line: line)
        if source != .chart { XCTAssertEqual(rendered.unrecognizedChords, 1, "G A C makes no chord", file: file, line: line) }
        // The left hand's keys are not melody and, by default, not passed through.
        let sounded = live.passthrough.records.compactMap { r -> UInt8? in if case .note(_, let p, let v) = r.event, v > 0 { return p } else { return nil } }
        XCTAssertEqual(sounded, Self.melody.filter { $0.velocity > 0 }.map { UInt8($0.pitch) }, file: file, line: line)
    }

    static func rules() -> AccompanimentEngine { RulesEngine(configuration: RulesConfiguration(pattern: .block), seed: 3) }

    func model() throws -> () throws -> AccompanimentEngine {
        let path: String
        // The shipped model is in the repository: a missing one fails the test.
        path = try ShippedModel.locate(nil)
        var c = NeuralConfiguration()
        c.maxNoteSteps = 24
        return { try ShippedModel.engine(path: path, precision: .fp16, configuration: c, seed: 3) }
    }

    func testReplayWithALeftHandBelowASplitRules() throws { try assertReplay(.split, Self.rules, maxNoteSteps: 12) }
    func testReplayWithAChordChannelRules() throws { try assertReplay(.chordChannel, Self.rules, maxNoteSteps: 12) }
    func testReplayWithAChartRules() throws { try assertReplay(.chart, Self.rules, maxNoteSteps: 12) }
    func testReplayWithAChartAndASplitRules() throws { try assertReplay(.chartAndSplit, Self.rules, maxNoteSteps: 12) }
    // The shipped model (about 35 s each in a debug build): a chart, and a chart with a left hand
    // below a split (the chord channel differs from the split only in the reader's routing,
    // which the rules tests cover).
    func testReplayWithAChartModel() throws { try assertReplay(.chart, try model(), maxNoteSteps: 24) }
    func testReplayWithAChartAndASplitModel() throws { try assertReplay(.chartAndSplit, try model(), maxNoteSteps: 24) }
    /// Bar 1 of the chart is bar 1 of the performance, after the count-in.
    func testReplayWithAChartAfterACountIn() throws { try assertReplay(.chart, Self.rules, maxNoteSteps: 12, countIn: 1) }

    // MARK: - The left hand on the engine thread

    /// An engine that records what the loop tells it about harmony.
    final class HarmonyProbe: AccompanimentEngine {
        var stream = ChordStream()
        /// Each hint, and the last step generated before it came.
        var hints: [(hint: ChordHint, after: Int?)] = []
        var melodySteps: [Int] = []
        var generated: [Int] = []
        /// The chord the stream gives each generated step (the chart's, without hints here).
        var chords: [ChartChord?] = []
        var resets = 0
        func reset(seed: UInt64) { resets += 1 }
        func melodyNoteOn(pitch: Int, velocity: Int, step: Int) { melodySteps.append(step) }
        func melodyNoteOff(pitch: Int, step: Int) {}
        func generate(step: Int, into out: EventBuffer) {
            generated.append(step)
            chords.append(stream.known(before: step).chord)
        }
        func allNotesOff(step: Int, into out: EventBuffer) {}
        var droppedMelodyEvents: Int { 0 }
        func setHarmony(_ stream: ChordStream) { self.stream = stream }
        func chordHint(_ chord: ChordSymbol?, step: Int) { hints.append((ChordHint(step: step, chord: chord), generated.last)) }
    }

    func chord(_ text: String) -> ChordSymbol { try! ChordSymbol(parsing: text) }

    /// A chord channel that goes silent keeps its last chord (LeftHand's default); with
    /// `release_ends_chord` letting go withdraws it. A cluster makes no chord and is counted.
    func testAChordChannelThatGoesSilentKeepsTheLastChord() throws {
        for releaseEnds in [false, true] {
            let probe = HarmonyProbe()
            var reader = InputReader.Settings()
            reader.chordChannel = 1
            let live = LiveHarness(engine: probe, settings: settings(), leftHand: LeftHand(releaseEndsChord: releaseEnds), reader: reader)
            let origin: Int64 = 1_000_000_000
            var keys: [(key: Key, channel: UInt8)] = [((0, 72, 90), 0), ((40, 72, 0), 0)]
            let chordKeys: [Key] = [(4, 60, 80), (4, 64, 80), (4, 67, 80), (12, 60, 0), (12, 64, 0), (12, 67, 0),
                                    (20, 60, 80), (20, 61, 80), (20, 62, 80)]
            keys += chordKeys.map { (key: $0, channel: UInt8(1)) }
            var input = liveInput(keys, origin: origin)
            live.run(until: origin + 64 * stepNs, feeding: &input)
            // Keys on the grid times of steps 4 and 12 count for those steps (the left hand's
            // wait): their hints are at 3 and 11, given after 3 and 11 are computed.
            let expected: [ChordHint] = releaseEnds ? [ChordHint(step: 3, chord: chord("C")), ChordHint(step: 11, chord: nil)]
                                                    : [ChordHint(step: 3, chord: chord("C"))]
            XCTAssertEqual(probe.hints.map(\.hint), expected, "release ends the chord: \(releaseEnds)")
            XCTAssertEqual(probe.hints.map(\.after), releaseEnds ? [3, 11] : [3], "a hint at step t is given after step t is computed, before t + 1")
            XCTAssertEqual(live.loop.status.leftHandHints.load(ordering: .relaxed), expected.count)
            XCTAssertEqual(live.loop.status.unrecognizedChords.load(ordering: .relaxed), 1, "C C# D")
            XCTAssertEqual(probe.melodySteps, [0], "chord-channel keys are not melody")
        }
    }

    /// The left hand's wait on the engine thread: a chord struck a fifth of a step after step 16's
    /// time counts for step 16 (so step 16 is computed after it arrives), one struck 0.3 step
    /// after step 32's time counts for 33; with the melody's rule (−0.5) a chord counts for a
    /// step only when struck half a step before it.
    func testAChordStruckJustAfterTheBeatCountsForThatBeat() {
        for wait in [LeftHand.defaultWait, -0.5] {
            let probe = HarmonyProbe()
            var reader = InputReader.Settings()
            reader.chordChannel = 1
            let live = LiveHarness(engine: probe, settings: settings(), leftHand: LeftHand(wait: wait), reader: reader)
            let origin: Int64 = 1_000_000_000
            var input = liveInput([((0, 72, 90), 0)], origin: origin)
            for (step, fraction, keys) in [(16, 0.2, [48, 52, 55]), (32, 0.3, [53, 57, 60])] as [(Int, Double, [UInt8])] {
                let t = origin + Int64(step) * stepNs + Int64(fraction * Double(stepNs))
                input += keys.map { .note(true, channel: 1, pitch: $0, velocity: 80, time: t, client: 20) }
            }
            // C is let go at step 24, between the two.
            input.insert(contentsOf: [48, 52, 55].map { .note(false, channel: 1, pitch: $0, time: origin + 24 * stepNs, client: 20) }, at: 4)
            live.run(until: origin + 48 * stepNs, feeding: &input)
            XCTAssertEqual(probe.hints.map(\.hint.chord), [chord("C"), chord("F")])
            if wait == LeftHand.defaultWait {
                XCTAssertEqual(probe.hints.map(\.hint.step), [15, 32])
                XCTAssertEqual(probe.hints.map(\.after), [15, 32], "given before steps 16 and 33 are computed")
                XCTAssertEqual(live.loop.soundDelay, stepNs / 4 + EngineLoop.budgetNanoseconds)
            } else {
                XCTAssertEqual(probe.hints.map(\.hint.step), [16, 32])
                XCTAssertEqual(probe.hints.map(\.after), [16, 32], "given before steps 17 and 33 are computed")
                XCTAssertEqual(live.loop.soundDelay, 0)
            }
            XCTAssertEqual(live.loop.status.lateSteps.load(ordering: .relaxed), 0, "no step is late: it sounds after it is computed")
        }
    }

    /// Panic lets go of the left hand's keys (LeftHand.releaseAll): with `release_ends_chord` the
    /// chord ends at the panic's step.
    func testPanicLetsGoOfTheLeftHand() {
        let probe = HarmonyProbe()
        var reader = InputReader.Settings()
        reader.splitNote = 60
        let live = LiveHarness(engine: probe, settings: settings(), leftHand: LeftHand(releaseEndsChord: true), reader: reader)
        let origin: Int64 = 1_000_000_000
        var input = liveInput([((0, 72, 90), 0), ((2, 50, 80), 0), ((2, 54, 80), 0), ((2, 57, 80), 0)], origin: origin)
        input.append(.controller(120, value: 0, channel: 0, time: origin + 10 * stepNs))
        live.run(until: origin + 16 * stepNs, feeding: &input)
        XCTAssertEqual(probe.hints.map(\.hint), [ChordHint(step: 1, chord: chord("D")), ChordHint(step: 9, chord: nil)],
                       "keys and the panic on the times of steps 2 and 10 count for them (the wait)")
        XCTAssertEqual(live.loop.status.panics.load(ordering: .relaxed), 1)
    }

    /// The external clock's Start begins a new performance: the left hand forgets its chord as
    /// the engine does, so the same chord played again is a new hint; the counts go on.
    func testClockStartResetsTheLeftHand() {
        let probe = HarmonyProbe()
        var s = settings()
        s.tempoSource = .midiClock
        var reader = InputReader.Settings()
        reader.splitNote = 60
        let live = LiveHarness(engine: probe, settings: s, leftHand: LeftHand(), reader: reader)
        let period: Int64 = 20_833_333  // 24 PPQN at 120 BPM
        var events: [InputEvent] = []
        var t: Int64 = 1_000_000
        for _ in 0..<2 {
            events.append(.transport(.start, time: t))
            for k in 0..<48 {
                t += period
                events.append(.transport(.clock, time: t))
                if k == 6 { for p: UInt8 in [48, 52, 55] { events.append(.note(true, channel: 0, pitch: p, velocity: 80, time: t + 1000, client: 20)) } }
                if k == 30 { for p: UInt8 in [48, 52, 55] { events.append(.note(false, channel: 0, pitch: p, time: t + 1000, client: 20)) } }
            }
            t += period
            events.append(.transport(.stop, time: t))
        }
        live.run(until: t + period, feeding: &events)
        XCTAssertEqual(probe.hints.map(\.hint.chord), [chord("C"), chord("C")], "the second performance hears its chord anew")
        XCTAssertEqual(probe.hints.map(\.hint.step), [1, 1], "each performance counts steps from its Start (a key at 2.00002 counts for step 2: the wait)")
        XCTAssertEqual(probe.resets, 3, "init, and each Start")
        XCTAssertEqual(live.loop.status.leftHandHints.load(ordering: .relaxed), 2, "counted across performances")
    }

    /// With a fixed tempo and no count-in, the first key of either hand is beat 1 of bar 1 (an
    /// arranger's sync start): a chord played first places the melody after it.
    func testALeftHandChordStartsThePerformance() {
        let probe = HarmonyProbe()
        var reader = InputReader.Settings()
        reader.splitNote = 60
        let live = LiveHarness(engine: probe, settings: settings(), leftHand: LeftHand(), reader: reader)
        let origin: Int64 = 3_000_000_000
        var input = liveInput([((0, 48, 80), 0), ((0, 55, 80), 0), ((8, 72, 90), 0)], origin: origin)
        live.run(until: origin + 16 * stepNs, feeding: &input)
        XCTAssertEqual(probe.melodySteps, [8])
        XCTAssertEqual(probe.generated.first, 0)
        // The first chord counts for step 0 (the wait places it at −1): the accompaniment's
        // first step plays it.
        XCTAssertEqual(probe.hints.map(\.hint), [ChordHint(step: -1, chord: chord("C"))])
        XCTAssertEqual(probe.hints.first?.after, nil, "given before step 0 is computed")
    }

    /// An external clock's song position places the chart: a DAW that continues from bar 3 plays
    /// the chart's bar 3 (step 0 is song position 0).
    func testTheChartFollowsTheClocksSongPosition() throws {
        let probe = HarmonyProbe()
        var s = settings()
        s.tempoSource = .midiClock
        let stream = try ChordStream(chart: ChordChart(text: "| C | F | G | Am |"), beatsPerBar: 4)
        let live = LiveHarness(engine: probe, settings: s, harmony: stream)
        let period: Int64 = 20_833_333
        var events: [InputEvent] = [.transport(.songPosition, time: 1_000_000, songPosition: 32), .transport(.continue, time: 2_000_000)]
        for k in 0..<60 { events.append(.transport(.clock, time: 3_000_000 + Int64(k) * period)) }
        live.run(until: 3_000_000 + 60 * period, feeding: &events)
        XCTAssertEqual(probe.generated.first, 64, "song position 32 sixteenths: bar 3, step 64")
        XCTAssertEqual(probe.chords.first, .chord(chord("G")))
        XCTAssertEqual(probe.chords.last, .chord(chord("G")))
        XCTAssertTrue(probe.stream.hasChart, "the loop gave the engine the chart")
    }

    /// The control thread says once that the performance ran past the chart's end.
    func testPastTheChartsEndIsSaidOnce() throws {
        let stream = try ChordStream(chart: ChordChart(text: "| C | G7 |"), beatsPerBar: 4)
        let live = LiveHarness(engine: Self.rules(), settings: settings(), harmony: stream)
        var notice = ChartEndNotice(chartEnd: stream.chartEnd, beatsPerBar: 4, leftHand: false)
        let origin: Int64 = 1_000_000_000
        var input = liveInput(Self.melody.map { (key: $0, channel: UInt8(0)) }, origin: origin)
        var said: [(line: String, lastStep: Int)] = []
        while live.clock.now < origin + 128 * stepNs {
            live.run(until: live.clock.now + 1_000_000, feeding: &input)
            let last = live.loop.status.lastStep.load(ordering: .relaxed)
            if let line = notice.check(lastStep: last) { said.append((line, last)) }
        }
        XCTAssertEqual(said.map(\.line), ["the performance ran past the chart's end (bar 3): from there the chords come from the melody"])
        XCTAssertEqual(said.first?.lastStep, 64, "said when step 64, the first past the chart, is computed")
        XCTAssertGreaterThan(live.loop.status.lastStep.load(ordering: .relaxed), 120)
        var none = ChartEndNotice(chartEnd: nil, beatsPerBar: 4, leftHand: false)
        XCTAssertNil(none.check(lastStep: 10_000), "no chart, nothing to say")
        var withLeftHand = ChartEndNotice(chartEnd: 32, beatsPerBar: 3, leftHand: true)
        XCTAssertEqual(withLeftHand.check(lastStep: 32), "the performance ran past the chart's end (bar 2): from there the chords come from the left hand, else from the melody")
    }
}
