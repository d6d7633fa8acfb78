// Fuzz target: a chord chart file (`[harmony] chart`, `render --chart`). The bytes are decoded as
// the real reader does (SafeFiles.InputFile.readUTF8): either UTF8Check finds a bad byte, or the
// text parses with ChordChart(text:file:), which throws a ChartError or returns a chart. A chart
// that parses must become a chord stream as the product makes it (HarmonySettings.loadStream:
// ChordStream(chart:beatsPerBar:)), here for 3 and 4 beats a bar, and the stream's view of a few
// steps must agree with the chart's steps. Every ChartError's description must be one printable
// line of sane length: errors echo input, which Echo escapes and cuts. A trap is a bug.
import Foundation
import FuzzSupport
import Harmony
import MIDI
import SafeFiles

/// The longest a ChartError's description may be (the file name is cut at 300 characters, a cell
/// at 80; the rest is words).
let maximumErrorLength = 1000

func check(_ error: ChartError, _ context: String) {
    requirePrintable(error.description, "ChartError (\(context))", maximumLength: maximumErrorLength)
}

func fuzzChart(_ bytes: [UInt8]) {
    // The reader's UTF-8 check, against the standard library's own validation.
    let bad = UTF8Check.firstInvalidByte(bytes)
    let valid = String(validating: bytes, as: UTF8.self)
    guard let bad else {
        guard let text = valid else { fatalError("UTF8Check accepts bytes the standard library refuses") }
        fuzzChartText(text)
        return
    }
    note("not UTF-8 at byte \(bad)")
    guard valid == nil else { fatalError("UTF8Check refuses at byte \(bad) bytes the standard library accepts") }
    guard bad < bytes.count, UTF8Check.firstInvalidByte(Array(bytes[..<bad])) == nil else {
        fatalError("UTF8Check: first invalid byte \(bad) of \(bytes.count), but the bytes before it are not valid")
    }
}

func fuzzChartText(_ text: String) {
    let chart: ChordChart
    do { chart = try ChordChart(text: text, file: "fuzz.chart") } catch {
        check(error, "parse")
        note("refused: \(error)")
        return
    }
    guard !chart.bars.isEmpty, chart.bars.allSatisfy({ !$0.cells.isEmpty }) else {
        fatalError("a chart parsed with no bars or an empty bar")
    }
    for beatsPerBar in [3, 4] {
        let stream: ChordStream
        do { stream = try ChordStream(chart: chart, beatsPerBar: beatsPerBar) } catch {
            check(error, "stream, \(beatsPerBar) beats")
            note("\(beatsPerBar) beats a bar: refused: \(error)")
            continue
        }
        let steps: [ChartChord]
        do { steps = try chart.steps(beatsPerBar: beatsPerBar) } catch {
            fatalError("steps(beatsPerBar: \(beatsPerBar)) throws after the stream was made: \(error)")
        }
        let barSteps = Grid.stepsPerBeat * beatsPerBar
        guard stream.hasChart, stream.chartEnd == steps.count, steps.count == barSteps * chart.bars.count else {
            fatalError("stream end \(stream.chartEnd), \(steps.count) steps, \(chart.bars.count) bars of \(barSteps)")
        }
        // Before the chart: a count-in announcing the first chord.
        let before = stream.known(before: -1)
        guard before.chart == .notStarted, before.next == ChordAnnouncement(step: 0, chord: steps[0]), before.chord == nil
        else { fatalError("the view before step 0 is \(before)") }
        // Inside: the chart's chord at the step, since the step where it began (the step before
        // holds another chord), announcing the next change (the step before it still holds this
        // chord). Only the ends are checked: a chart of 64 KB has a million steps.
        let end = stream.chartEnd
        for s in Set([0, 1, barSteps - 1, barSteps, end / 2, end - barSteps, end - 2, end - 1]) where s >= 0 && s < end {
            let view = stream.known(before: s)
            guard case .chord(let chord, let since) = view.chart, chord == steps[s], since <= s, since >= 0,
                  steps[since] == chord, since == 0 || steps[since - 1] != chord,
                  view.chord == chord, view.source == .chart, view.since == since, let next = view.next,
                  next.step > s, next.step <= end, steps[next.step - 1] == chord,
                  next.step == end ? next.chord == nil : (next.chord == steps[next.step] && steps[next.step] != chord)
            else { fatalError("the view of step \(s) (\(beatsPerBar) beats) is \(view); the chart says \(steps[s])") }
        }
        // Past the end: no chart chord, nothing else known.
        let after = stream.known(before: end)
        guard after.chart == .pastEnd, after.chord == nil, after.next == nil
        else { fatalError("the view of step \(end), the chart's end, is \(after)") }
        note("\(beatsPerBar) beats a bar: \(chart.bars.count) bars, \(end) steps")
    }
}

func fuzzEntry(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    fuzzChart(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}

@main struct Main { static func main() { fuzzMain { data, size in fuzzEntry(data, size) } } }
