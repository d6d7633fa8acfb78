import Foundation
import XCTest
@testable import Harmony

/// The chords of `cells`, each held for its number of beats, as 8 steps a beat.
func expand(_ cells: [(String, Int)]) throws -> [ChartChord] {
    var out: [ChartChord] = []
    for (text, beats) in cells {
        let chord: ChartChord = text == "N.C." ? .noChord : .chord(try ChordSymbol(parsing: text))
        out += Array(repeating: chord, count: beats * 8)
    }
    return out
}

let exampleChart = "| C / Am / | F / G7 / | % | Dm7 G7 | Cmaj7 / / / | N.C. |"

final class ChordChartTests: XCTestCase {
    func testTheExampleIn4_4() throws {
        let chart = try ChordChart(text: exampleChart, file: "song.chart")
        XCTAssertEqual(chart.bars.count, 6)
        XCTAssertEqual(chart.bars.map(\.isRepeat), [false, false, true, false, false, false])
        let steps = try chart.steps(beatsPerBar: 4)
        XCTAssertEqual(steps.count, 6 * 32)
        let want = try expand([("C", 2), ("Am", 2), ("F", 2), ("G7", 2), ("F", 2), ("G7", 2),
                               ("Dm7", 2), ("G7", 2), ("Cmaj7", 4), ("N.C.", 4)])
        XCTAssertEqual(want.count, 192)
        for s in 0..<192 { XCTAssertEqual(steps[s], want[s], "step \(s)") }
        // Spot checks by hand: the last step of bar 1, the first of the % bar, bar 4's halves.
        XCTAssertEqual(steps[31].description, "Am")
        XCTAssertEqual(steps[64].description, "F")
        XCTAssertEqual(steps[111].description, "Dm7")
        XCTAssertEqual(steps[112].description, "G7")
        XCTAssertEqual(steps[191], .noChord)
        let changes = try chart.changes(beatsPerBar: 4)
        XCTAssertEqual(changes.map(\.step), [0, 16, 32, 48, 64, 80, 96, 112, 128, 160])
        XCTAssertEqual(changes.map(\.chord.description), ["C", "Am", "F", "G7", "F", "G7", "Dm7", "G7", "Cmaj7", "N.C."])
    }

    func testLineBreaksCommentsAndBlankLinesAreFree() throws {
        let text = """
        # Example, written over lines
        | C / Am / | F / G7 / |   # two bars

        | % | Dm7
          G7 |
        # the ending
        |Cmaj7 / / /|N.C.|
        """
        let a = try ChordChart(text: text, file: "a.chart")
        let b = try ChordChart(text: exampleChart, file: "a.chart")
        XCTAssertEqual(try a.steps(beatsPerBar: 4), try b.steps(beatsPerBar: 4))
        XCTAssertEqual(a.bars.map(\.line), [2, 2, 4, 4, 7, 7])
        XCTAssertEqual(try ChordChart(text: "| C |\r\n| F |\r\n").bars.count, 2)
    }

    func testSharpIsNotAComment() throws {
        let chart = try ChordChart(text: "| C# F#m7 | Eb/G | # C | comment")
        XCTAssertEqual(chart.bars.map { $0.cells.map(\.description) }, [["Db", "F#m7"], ["Eb/G"]])
    }

    func testOtherMetresAndDivisions() throws {
        let chart = try ChordChart(text: "| C G7 D7 | F |")
        XCTAssertEqual(try chart.steps(beatsPerBar: 3), try expand([("C", 1), ("G7", 1), ("D7", 1), ("F", 3)]))
        // 16 cells of 4/4: 2 steps each; 32 cells: 1 step each.
        let sixteen = try ChordChart(text: "| " + Array(repeating: "C G", count: 8).joined(separator: " ") + " |")
        let s16 = try sixteen.steps(beatsPerBar: 4)
        XCTAssertEqual(s16.count, 32)
        XCTAssertEqual(s16[0 ..< 6].map(\.description), ["C", "C", "G", "G", "C", "C"])
        let thirtyTwo = try ChordChart(text: "| " + Array(repeating: "C", count: 32).joined(separator: " ") + " |")
        XCTAssertEqual(try thirtyTwo.steps(beatsPerBar: 4).count, 32)
        // "/" carries across a bar line; N.C. is a chord value that "/" repeats too.
        let carry = try ChordChart(text: "| C D | / | N.C. / |")
        XCTAssertEqual(try carry.steps(beatsPerBar: 2), try expand([("C", 1), ("D", 1), ("D", 2), ("N.C.", 2)]))
        // A chord restated is no change.
        XCTAssertEqual(try ChordChart(text: "| C | C | % | F |").changes(beatsPerBar: 4),
                       [ChordChange(step: 0, chord: .chord(ChordSymbol(root: 0, quality: .major))),
                        ChordChange(step: 96, chord: .chord(ChordSymbol(root: 5, quality: .major)))])
    }

    func expectError(_ text: String, beatsPerBar: Int? = nil, _ message: String,
                     file: StaticString = #filePath, line: UInt = #line) {
        do {
            let chart = try ChordChart(text: text, file: "song.chart")
            if let beatsPerBar { _ = try chart.steps(beatsPerBar: beatsPerBar) }
            XCTFail("no error for \(text)", file: file, line: line)
        } catch {
            XCTAssertEqual("\(error)", message, file: file, line: line)
            XCTAssertFalse("\(error)".contains("\n"), file: file, line: line)
        }
    }

    func testTheBriefsMessage() {
        expectError("""
        # a song
        | C | F | G |
        | Am | C Cx7 |
        """, "song.chart:3: cell 2 of bar 5 (\"Cx7\"): unknown chord quality \"x7\"")
    }

    func testBadCharts() {
        expectError("| / C |", "song.chart:1: cell 1 of bar 1 (\"/\"): \"/\" with no chord before it")
        expectError("\n\n| % | C |", "song.chart:3: cell 1 of bar 1 (\"%\"): \"%\" with no bar before it to repeat")
        expectError("| C | G % |", "song.chart:1: cell 2 of bar 2 (\"%\"): \"%\" must be alone in its bar")
        expectError("| C | % G |", "song.chart:1: cell 1 of bar 2 (\"%\"): \"%\" must be alone in its bar")
        expectError("| C | | G |", "song.chart:1: bar 2: empty bar (\"| |\"): a bar needs at least one cell")
        expectError("| |", "song.chart:1: bar 1: empty bar (\"| |\"): a bar needs at least one cell")
        expectError("", "song.chart: the chart has no bars (a bar is written between two \"|\")")
        expectError("# only a comment\n\n", "song.chart: the chart has no bars (a bar is written between two \"|\")")
        expectError("|\n|\n", "song.chart: the chart has no bars (a bar is written between two \"|\")")
        expectError("C | F |", "song.chart:1: text outside bars: \"C\" (a bar is written between two \"|\")")
        expectError("| C |\n| F | G", "song.chart:2: text outside bars: \"G\" is not closed by \"|\"")
        expectError("| C |\n\n| F |\nG7", "song.chart:4: text outside bars: \"G7\" is not closed by \"|\"")
        expectError("| C |\n| H7 |", "song.chart:2: cell 1 of bar 2 (\"H7\"): a chord symbol begins with a note letter A-G")
        expectError("| C\n  F/ |", "song.chart:2: cell 2 of bar 1 (\"F/\"): nothing after \"/\": the bass note is missing")
        expectError("| C D E | F |", beatsPerBar: 4,
                    "song.chart:1: bar 1: 3 cells cannot divide a bar of 4 beats (32 steps of a 32nd note) evenly")
        expectError("| C |\n| C D E F G |", beatsPerBar: 4,
                    "song.chart:2: bar 2: 5 cells cannot divide a bar of 4 beats (32 steps of a 32nd note) evenly")
        expectError("| C D E F G |", beatsPerBar: 0, "song.chart: beats per bar must be at least 1, not 0")
        // A % bar copies its cells, so 3/4 divides it as it divides the bar it repeats.
        XCTAssertEqual(try ChordChart(text: "| C D E |\n| % |").steps(beatsPerBar: 3),
                       try expand([("C", 1), ("D", 1), ("E", 1), ("C", 1), ("D", 1), ("E", 1)]))
        XCTAssertNoThrow(try ChordChart(text: "| C D E |").steps(beatsPerBar: 3))
        XCTAssertThrowsError(try ChordChart(text: "| " + Array(repeating: "C", count: 64).joined(separator: " ") + " |")
            .steps(beatsPerBar: 4))
    }

    func testReadingAFile() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("harmony-\(UInt64.random(in: 0 ... .max)).chart").path
        try "| C | Cx7 |\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        XCTAssertThrowsError(try ChordChart(contentsOfFile: path)) { error in
            XCTAssertEqual("\(error)", "\(path):1: cell 1 of bar 2 (\"Cx7\"): unknown chord quality \"x7\"")
        }
        XCTAssertThrowsError(try ChordChart(contentsOfFile: path + ".missing")) { error in
            XCTAssertEqual("\(error)", "\(path).missing: no such file")
        }
    }
}
