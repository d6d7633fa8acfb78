import Config
import Foundation
import Harmony
@testable import Live
import Realtime
import XCTest

final class LiveReportTests: XCTestCase {
    func testStatusLineAndChanges() {
        var before = LiveSnapshot()
        before.bpm = 100
        var now = before
        now.state = .playing
        now.steps = 640
        now.notes = 210
        now.droppedInput = 3
        now.lostOutput = ["synth": 2]
        now.panics = 1
        let h = LatencyHistogram(name: "melody → synth")
        h.record(nanoseconds: 120_000)
        let line = now.statusLine(melodyLatency: h)
        XCTAssertTrue(line.hasPrefix("playing, 100.0 BPM; 640 steps; 210 notes; melody → synth p99 0.12 ms"), line)
        XCTAssertTrue(line.hasSuffix("late 0, dropped 5"), line)
        let changes = now.changes(since: before)
        XCTAssertEqual(changes.filter(\.warning).map(\.text), ["input flood: 3 events dropped (3 in all)", "synth: 2 events could not be delivered in all"])
        XCTAssertEqual(changes.filter { !$0.warning }.map(\.text), ["panic: all notes off", "playing (100.0 BPM)"])
        XCTAssertTrue(now.changes(since: now).isEmpty)
        XCTAssertTrue(now.summary.contains("3 events dropped, 2 not delivered"), now.summary)
    }

    func testTheLeftHandIsCountedInTheStatusLineAndTheSummary() {
        var now = LiveSnapshot()
        now.state = .playing
        now.bpm = 100
        XCTAssertFalse(now.statusLine(melodyLatency: nil).contains("left hand"), "nothing said without a left hand")
        XCTAssertFalse(now.summary.contains("left hand"))
        now.readsLeftHand = true
        now.leftHandChords = 12
        now.unrecognizedChords = 3
        XCTAssertEqual(now.statusLine(melodyLatency: nil), "playing, 100.0 BPM; 0 steps; 0 notes; left hand 12 chords, 3 unrecognized; late 0, dropped 0")
        XCTAssertTrue(now.summary.hasSuffix("; left hand: 12 chord changes, 3 key sets made no chord"), now.summary)
    }

    // MARK: - LiveHarmony: the chart at start, what is said about the harmony

    func temp(_ name: String, _ text: String) throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(UUID().uuidString)-\(name)")
        try Data(text.utf8).write(to: url)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url.path
    }

    func testTheChartIsLoadedOrRefusedWithItsExitStatus() throws {
        var c = DaemonConfig()
        c.chart = try temp("song.chart", "| C / Am / | F G7 |\n| C |\n")
        let h = try LiveHarmony.load(c)
        XCTAssertEqual(h.chartBars, 3)
        XCTAssertEqual(h.stream.chartEnd, 96)
        XCTAssertNil(h.makeLeftHand(), "no split, no chord channel: no left hand")
        c.chart = "/no/such/song.chart"
        XCTAssertThrowsError(try LiveHarmony.load(c)) { e in
            XCTAssertEqual(e as? LiveHarmony.LoadError, .missing("harmony.chart: /no/such/song.chart: no such file"))
            XCTAssertEqual((e as? LiveHarmony.LoadError)?.exitCode, 66)
        }
        c.chart = FileManager.default.temporaryDirectory.path
        XCTAssertThrowsError(try LiveHarmony.load(c)) { e in XCTAssertEqual((e as? LiveHarmony.LoadError)?.exitCode, 66) }
        let bad = try temp("bad.chart", "| C |\n| F Cx7 |\n")
        c.chart = bad
        XCTAssertThrowsError(try LiveHarmony.load(c)) { e in
            XCTAssertEqual("\(e)", "\(bad):2: cell 2 of bar 2 (\"Cx7\"): unknown chord quality \"x7\"")
            XCTAssertEqual((e as? LiveHarmony.LoadError)?.exitCode, 65)
        }
        // The chart is laid on tempo.beats_per_bar: three cells fit 3/4, not 4/4.
        c.chart = try temp("waltz.chart", "| C F G |")
        c.beatsPerBar = 3
        XCTAssertEqual(try LiveHarmony.load(c).chartBars, 1)
        c.beatsPerBar = 4
        XCTAssertThrowsError(try LiveHarmony.load(c)) { e in
            XCTAssertTrue("\(e)".hasSuffix(":1: bar 1: 3 cells cannot divide a bar of 4 beats (32 steps of a 32nd note) evenly"), "\(e)")
            XCTAssertEqual((e as? LiveHarmony.LoadError)?.exitCode, 65)
        }
    }

    func testWhatIsSaidAtStart() throws {
        var c = DaemonConfig()
        XCTAssertEqual(try LiveHarmony.load(c).describe(barOne: LiveHarmony.barOne(c)), "harmony: from the melody (no chart, no split, no chord channel)")
        XCTAssertTrue(LiveHarmony.advice(c).isEmpty)
        c.chart = try temp("song.chart", "| C | G |")
        c.splitNote = 54
        c.chordChannel = 3
        c.countInBars = 1
        let h = try LiveHarmony.load(c)
        XCTAssertEqual(h.describe(barOne: LiveHarmony.barOne(c)),
                       "harmony: chart \(c.chart) (2 bars, bar 1 after the 1-bar count-in); left hand below F#3 (54) and on channel 3 (fingered on bass, a chord holds until the next, waits 0.25 step; keys not sounded)")
        XCTAssertNotNil(h.makeLeftHand())
        c.chart = ""
        c.splitNote = nil
        c.releaseEndsChord = true
        c.chordMode = "fingered"
        c.leftHandSound = true
        c.leftHandWait = 0
        c.tempoSource = "midi-clock"
        XCTAssertEqual(try LiveHarmony.load(c).describe(barOne: LiveHarmony.barOne(c)),
                       "harmony: left hand on channel 3 (fingered, letting go ends the chord, waits 0.00 step; keys sounded); the melody where the left hand gives no chord")
        XCTAssertEqual(LiveHarmony.barOne(c), "at the external clock's song position 0")
        c.countInBars = 0
        c.tempoSource = "fixed"
        XCTAssertEqual(LiveHarmony.barOne(c), "at the first key played")
    }

    /// Settings a player probably did not mean are said at start, one line each.
    func testAdviceOnHarmonySettings() {
        func advice(_ change: (inout DaemonConfig) -> Void) -> [String] {
            var c = DaemonConfig()
            change(&c)
            return LiveHarmony.advice(c).map { ($0.warning ? "warning: " : "notice: ") + $0.text }
        }
        XCTAssertEqual(advice { $0.chordChannel = 1 }.count, 1)
        XCTAssertTrue(advice { $0.chordChannel = 1 }[0].hasPrefix("warning: harmony.chord_channel = 1: every note on channel 1 is a chord key"))
        XCTAssertTrue(advice { $0.chordChannel = 2 }[0].hasPrefix("warning: harmony.chord_channel = 2 is also midi.accompaniment_channel"), "the default accompaniment channel is 2")
        XCTAssertTrue(advice { $0.chordChannel = 5 }.isEmpty)
        XCTAssertEqual(advice { $0.splitNote = 0 }, ["warning: harmony.split_note = 0 (C-1): no key is below it, so no key is a chord key"])
        XCTAssertEqual(advice { $0.splitNote = 96 }, ["warning: harmony.split_note = C7 (96): every key below it is a chord key, so only the top of the keyboard plays melody"])
        XCTAssertTrue(advice { $0.splitNote = 54 }.isEmpty)
        XCTAssertEqual(advice { $0.splitNote = 54; $0.panicNote = 21 }, ["notice: midi.panic_note A0 (21) is below the split: it stays the panic key, not a chord key"])
        XCTAssertEqual(advice { $0.releaseEndsChord = true; $0.leftHandSound = true; $0.leftHandWait = 0.4 },
                       ["notice: harmony.release_ends_chord has no effect without harmony.split_note or harmony.chord_channel",
                        "notice: harmony.left_hand_wait has no effect without harmony.split_note or harmony.chord_channel",
                        "notice: harmony.left_hand_sound has no effect without harmony.split_note or harmony.chord_channel"])
        XCTAssertEqual(advice { $0.splitNote = 54; $0.melodyPassthrough = true },
                       ["notice: the left hand's keys are not passed through (harmony.left_hand_sound = false): the output port gets the melody only"])
        XCTAssertTrue(advice { $0.splitNote = 54; $0.melodyPassthrough = true; $0.leftHandSound = true }.isEmpty)
    }

    /// The config's [harmony] keys reach the reader as its routing.
    func testReaderSettingsFromTheConfig() throws {
        let c = try DaemonConfig.parse("[harmony]\nsplit_note = \"F#3\"\nchord_channel = 2\nleft_hand_sound = true")
        let s = InputReader.Settings(c)
        XCTAssertEqual(s.splitNote, 54)
        XCTAssertEqual(s.chordChannel, 1, "0-based")
        XCTAssertTrue(s.leftHandSound)
        let none = InputReader.Settings(DaemonConfig())
        XCTAssertEqual(none.splitNote, -1)
        XCTAssertEqual(none.chordChannel, -1)
        XCTAssertFalse(none.isLeftHand(channel: 0, pitch: 0))
    }
}
