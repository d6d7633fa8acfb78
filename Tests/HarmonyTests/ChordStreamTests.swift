import Engine
import XCTest
@testable import Harmony

func sym(_ text: String) -> ChordSymbol { try! ChordSymbol(parsing: text) }

final class ChordStreamTests: XCTestCase {
    func exampleStream() throws -> ChordStream {
        try ChordStream(chart: ChordChart(text: exampleChart, file: "song.chart"), beatsPerBar: 4)
    }

    func testTheChartAtEveryStepWithItsAnnouncement() throws {
        let stream = try exampleStream()
        let want = try expand([("C", 2), ("Am", 2), ("F", 2), ("G7", 2), ("F", 2), ("G7", 2),
                               ("Dm7", 2), ("G7", 2), ("Cmaj7", 4), ("N.C.", 4)])
        // The changes, by hand: every 2 beats up to bar 4, then Cmaj7 at 128, N.C. at 160, end 192.
        let changeSteps = [0, 16, 32, 48, 64, 80, 96, 112, 128, 160]
        for s in 0..<192 {
            let v = stream.known(before: s)
            XCTAssertEqual(v.chord, want[s], "step \(s)")
            XCTAssertEqual(v.source, .chart)
            let since = changeSteps.last { $0 <= s }!
            XCTAssertEqual(v.since, since)
            XCTAssertEqual(v.chart, .chord(want[s], since: since))
            let nextStep = changeSteps.first { $0 > s } ?? 192
            XCTAssertEqual(v.next, ChordAnnouncement(step: nextStep, chord: nextStep < 192 ? want[nextStep] : nil), "step \(s)")
        }
        XCTAssertEqual(stream.known(before: 0).next, ChordAnnouncement(step: 16, chord: .chord(sym("Am"))))
        XCTAssertEqual(stream.known(before: 50).next, ChordAnnouncement(step: 64, chord: .chord(sym("F"))))
        XCTAssertEqual(stream.known(before: 150).next, ChordAnnouncement(step: 160, chord: .noChord))
        XCTAssertEqual(stream.known(before: 170).next, ChordAnnouncement(step: 192, chord: nil))
        // Before bar 1 (a count-in) and past the end.
        let before = stream.known(before: -4)
        XCTAssertEqual(before.chart, .notStarted)
        XCTAssertNil(before.chord)
        XCTAssertEqual(before.next, ChordAnnouncement(step: 0, chord: .chord(sym("C"))))
        for s in [192, 193, 10_000] {
            let past = stream.known(before: s)
            XCTAssertEqual(past.chart, .pastEnd)
            XCTAssertNil(past.chord)
            XCTAssertNil(past.source)
            XCTAssertNil(past.next)
        }
    }

    func testAHintAtStepSIsInvisibleToSAndVisibleToSPlusOne() {
        for source in [HintSource.leftHand, .melody] {
            var stream = ChordStream()
            stream.hint(sym("G7"), from: source, at: 10)
            XCTAssertNil(stream.known(before: 10).chord)
            XCTAssertNil(stream.known(before: 10).leftHand)
            XCTAssertNil(stream.known(before: 10).melody)
            let v = stream.known(before: 11)
            XCTAssertEqual(v.chord, .chord(sym("G7")))
            XCTAssertEqual(v.source, source == .leftHand ? .leftHand : .melody)
            XCTAssertEqual(v.since, 10)
            XCTAssertNil(v.next, "a hint announces nothing")
            XCTAssertEqual(v.chart, .noChart)
        }
        // The same with a chart: a left hand at step 40 (inside F, 32..<48).
        var stream = try! exampleStream()
        stream.hint(sym("Bb"), from: .leftHand, at: 40)
        XCTAssertEqual(stream.known(before: 40).chord, .chord(sym("F")))
        XCTAssertEqual(stream.known(before: 41).chord, .chord(sym("Bb")))
        XCTAssertEqual(stream.known(before: 41).source, .leftHand)
    }

    /// design.md's property for the melody, for hints: changing the hints at steps >= s leaves
    /// every view up to step s unchanged, whatever order the hints were given in.
    func testLaterHintsNeverChangeEarlierViews() throws {
        var rng = SplitMix64(seed: 7)
        let chords = ["C", "Dm", "G7", "Am/E", "F#m7b5", "Bbmaj7"].map(sym)
        for trial in 0..<60 {
            let withChart = trial % 2 == 0
            let base = withChart ? try exampleStream() : ChordStream()
            var hints: [(ChordSymbol, HintSource, Int)] = []
            for _ in 0..<Int.random(in: 0...12, using: &rng) {
                hints.append((chords.randomElement(using: &rng)!, Bool.random(using: &rng) ? .leftHand : .melody,
                              Int.random(in: -8...220, using: &rng)))
            }
            let s = Int.random(in: -8...220, using: &rng)
            // a: the hints before s only; b: those plus other hints at s and later, shuffled in.
            var a = base
            for (c, src, step) in hints where step < s { a.hint(c, from: src, at: step) }
            var b = base
            var all = hints
            for _ in 0..<Int.random(in: 1...8, using: &rng) {
                all.append((chords.randomElement(using: &rng)!, Bool.random(using: &rng) ? .leftHand : .melody,
                            Int.random(in: s...(s + 40), using: &rng)))
            }
            all.shuffle(using: &rng)
            // Keep the relative order of the hints before s (same step: the later call wins).
            let early = hints.filter { $0.2 < s }
            var e = 0
            for h in all {
                if h.2 < s { let x = early[e]; e += 1; b.hint(x.0, from: x.1, at: x.2) } else { b.hint(h.0, from: h.1, at: h.2) }
            }
            for t in (s - 10)...s {
                XCTAssertEqual(a.known(before: t), b.known(before: t), "trial \(trial), s \(s), t \(t)")
            }
            // And the views can differ after s (the test can see a difference at all).
            if let later = all.filter({ $0.2 >= s }).max(by: { $0.2 < $1.2 }) {
                let v = b.known(before: later.2 + 1)
                XCTAssertTrue(v.leftHand?.step == later.2 || v.melody?.step == later.2)
            }
        }
    }

    func testPrecedence() throws {
        var stream = try exampleStream()
        // A left hand inside the chart's C (0..<16) holds until the chart's next change, which
        // stays announced.
        stream.hint(sym("Dm"), from: .leftHand, at: 5)
        stream.hint(sym("E7"), from: .melody, at: 6)
        var v = stream.known(before: 8)
        XCTAssertEqual(v.chord, .chord(sym("Dm")))
        XCTAssertEqual(v.source, .leftHand)
        XCTAssertEqual(v.next, ChordAnnouncement(step: 16, chord: .chord(sym("Am"))))
        XCTAssertEqual(v.chart, .chord(.chord(sym("C")), since: 0))
        XCTAssertEqual(v.melody, ChordHint(step: 6, chord: sym("E7")))
        v = stream.known(before: 16)
        XCTAssertEqual(v.chord, .chord(sym("Am")))
        XCTAssertEqual(v.source, .chart)
        // A left hand counts from the step after its own: two steps before the change it belongs
        // to the chart's C, and the change wins; one step before (a chord struck on the change's
        // beat, placed there by the left hand's wait) it overrides the chart's Am from the change.
        stream.hint(sym("A7"), from: .leftHand, at: 14)
        XCTAssertEqual(stream.known(before: 15).chord, .chord(sym("A7")))
        XCTAssertEqual(stream.known(before: 16).chord, .chord(sym("Am")))
        stream.hint(sym("A9"), from: .leftHand, at: 15)
        XCTAssertEqual(stream.known(before: 15).chord, .chord(sym("A7")))
        XCTAssertEqual(stream.known(before: 16).chord, .chord(sym("A9")))
        XCTAssertEqual(stream.known(before: 16).source, .leftHand)
        // The chart's N.C. is a chord value from the chart, not "nothing known".
        v = stream.known(before: 170)
        XCTAssertEqual(v.chord, .noChord)
        XCTAssertEqual(v.source, .chart)
        // Past the end: the old left hand (step 15) does not hold; the melody does.
        v = stream.known(before: 200)
        XCTAssertEqual(v.chart, .pastEnd)
        XCTAssertEqual(v.chord, .chord(sym("E7")))
        XCTAssertEqual(v.source, .melody)
        // A left hand that counts from the end step or later (a hint at 191 or later) holds past
        // the end, over the melody.
        stream.hint(sym("Fm"), from: .melody, at: 195)
        stream.hint(sym("Gm"), from: .leftHand, at: 191)
        XCTAssertEqual(stream.known(before: 191).chord, .noChord)
        XCTAssertEqual(stream.known(before: 192).chord, .chord(sym("Gm")))
        XCTAssertEqual(stream.known(before: 193).chord, .chord(sym("Gm")))
        XCTAssertEqual(stream.known(before: 200).chord, .chord(sym("Gm")))
        XCTAssertEqual(stream.known(before: 200).melody, ChordHint(step: 195, chord: sym("Fm")))
    }

    func testWithoutAChart() {
        var stream = ChordStream()
        XCTAssertEqual(stream.known(before: 0).chart, .noChart)
        XCTAssertNil(stream.known(before: 0).chord)
        stream.hint(sym("C"), from: .melody, at: 0)
        stream.hint(sym("F"), from: .melody, at: 8)
        XCTAssertEqual(stream.known(before: 8).chord, .chord(sym("C")))
        XCTAssertEqual(stream.known(before: 9).chord, .chord(sym("F")))
        // A left hand, at any step, wins over the melody (the arranger's chord memory).
        stream.hint(sym("Am"), from: .leftHand, at: 3)
        XCTAssertEqual(stream.known(before: 3).chord, .chord(sym("C")))
        XCTAssertEqual(stream.known(before: 4).chord, .chord(sym("Am")))
        XCTAssertEqual(stream.known(before: 50).chord, .chord(sym("Am")))
        XCTAssertEqual(stream.known(before: 50).source, .leftHand)
        // Two hints on one step: the later call wins; hints given out of order are sorted.
        stream.hint(sym("D"), from: .leftHand, at: 20)
        stream.hint(sym("E"), from: .leftHand, at: 20)
        stream.hint(sym("Bb"), from: .leftHand, at: 12)
        XCTAssertEqual(stream.known(before: 13).chord, .chord(sym("Bb")))
        XCTAssertEqual(stream.known(before: 20).chord, .chord(sym("Bb")))
        XCTAssertEqual(stream.known(before: 21).chord, .chord(sym("E")))
    }

    func testAStreamFromChartErrors() {
        XCTAssertThrowsError(try ChordStream(chart: ChordChart(text: "| C D E |", file: "x.chart"), beatsPerBar: 4)) { error in
            XCTAssertEqual("\(error)", "x.chart:1: bar 1: 3 cells cannot divide a bar of 4 beats (32 steps of a 32nd note) evenly")
        }
    }
}
