/// Chord charts: bars of chord symbols between `|` (docs/harmony.md, "Chord charts").
import Foundation
import MIDI
import SafeFiles

/// A malformed chart, or a chart that does not fit a bar length. `description` is one line:
/// `song.chart:3: cell 2 of bar 5 ("Cx7"): unknown chord quality "x7"`.
public struct ChartError: Error, Equatable, Sendable, CustomStringConvertible {
    public var file: String
    /// 1-based; nil for errors about the whole chart.
    public var line: Int?
    /// 1-based bar number, when the error is in a bar.
    public var bar: Int?
    /// 1-based cell number within the bar, and the cell's text, when the error is in a cell.
    public var cell: Int?
    public var cellText: String?
    /// What is wrong.
    public var message: String

    public init(file: String, line: Int?, bar: Int? = nil, cell: Int? = nil, cellText: String? = nil, message: String) {
        self.file = file
        self.line = line
        self.bar = bar
        self.cell = cell
        self.cellText = cellText
        self.message = message
    }

    /// Safe to print: the file name and the cell are escaped and cut (`Echo`).
    public var description: String {
        var s = Echo.path(file)
        if let line { s += ":\(line)" }
        s += ": "
        if let bar, let cell {
            s += "cell \(cell) of bar \(bar)"
            if let cellText { s += " (\"\(Echo.text(cellText))\")" }
            s += ": "
        } else if let bar {
            s += "bar \(bar): "
        }
        return s + message
    }
}

/// One chord change on the grid: `chord` holds from `step` until the next change.
public struct ChordChange: Hashable, Sendable {
    public var step: Int
    public var chord: ChartChord
    public init(step: Int, chord: ChartChord) { self.step = step; self.chord = chord }
}

/// A parsed chord chart. Repeats are resolved: a `%` bar holds a copy of the previous bar's
/// chords, a `/` cell the chord of the cell before it.
///
/// The format (docs/harmony.md):
/// ```
/// # comments after '#'; blank lines and line breaks are free
/// | C / Am / | F / G7 / | % | Dm7 G7 | Cmaj7 / / / | N.C. |
/// ```
/// - Bars lie between `|`. The closing `|` of a line and the opening `|` of a later line are one
///   bar line (only blank lines or comments may lie between them); `| |` on one line is an empty
///   bar, which is an error.
/// - Cells are separated by white space and divide their bar evenly. A cell is a chord symbol,
///   `/` (the chord of the previous cell, also across a bar line), `N.C.` (no chord), or `%`
///   alone in its bar (the previous bar again).
/// - `#` begins a comment only at the start of a word (so `C#m7` is a chord, `#` or `#x` a
///   comment), and the comment runs to the end of the line.
public struct ChordChart: Equatable, Sendable {
    public struct Bar: Equatable, Sendable {
        /// The resolved chord of each cell.
        public var cells: [ChartChord]
        /// The line where the bar's first cell is written.
        public var line: Int
        /// True for a `%` bar.
        public var isRepeat: Bool
        public init(cells: [ChartChord], line: Int, isRepeat: Bool = false) {
            self.cells = cells
            self.line = line
            self.isRepeat = isRepeat
        }
    }

    /// The name used in error messages (a path as the user gave it).
    public let file: String
    public let bars: [Bar]

    /// Reads a chart file; the error names `path` and says what is wrong in words ("is a
    /// directory", "is not UTF-8 text at byte 12, line 3").
    public init(contentsOfFile path: String) throws(ChartError) {
        let text: String
        do { text = try InputFile.readUTF8(path) } catch {
            throw ChartError(file: path, line: nil, message: error.reason)
        }
        try self.init(text: text, file: path)
    }

    public init(text: String, file: String = "<chart>") throws(ChartError) {
        self.file = file
        let tokens = Self.tokens(of: text)
        // Group the words into bars.
        var rawBars: [[(text: String, line: Int)]] = []
        var open = false
        var lastBarLine = 0
        var cells: [(text: String, line: Int)] = []
        for token in tokens {
            if token.text == "|" {
                if !open {
                    open = true
                } else if cells.isEmpty {
                    if token.line == lastBarLine {
                        throw ChartError(file: file, line: token.line, bar: rawBars.count + 1,
                                         message: "empty bar (\"| |\"): a bar needs at least one cell")
                    }
                    // A line's closing "|" and the next line's opening "|": one bar line.
                } else {
                    rawBars.append(cells)
                    cells = []
                }
                lastBarLine = token.line
            } else if !open {
                throw ChartError(file: file, line: token.line,
                                 message: "text outside bars: \"\(Echo.text(token.text))\" (a bar is written between two \"|\")")
            } else {
                cells.append(token)
            }
        }
        if let stray = cells.first {
            throw ChartError(file: file, line: stray.line,
                             message: "text outside bars: \"\(Echo.text(stray.text))\" is not closed by \"|\"")
        }
        if rawBars.isEmpty {
            throw ChartError(file: file, line: nil, message: "the chart has no bars (a bar is written between two \"|\")")
        }
        // Resolve symbols, "/" and "%".
        var bars: [Bar] = []
        var previous: ChartChord? = nil
        for (b, raw) in rawBars.enumerated() {
            let barNumber = b + 1
            if let i = raw.firstIndex(where: { $0.text == "%" }) {
                let cell = raw[i]
                if raw.count > 1 {
                    throw ChartError(file: file, line: cell.line, bar: barNumber, cell: i + 1, cellText: cell.text,
                                     message: "\"%\" must be alone in its bar")
                }
                guard let last = bars.last else {
                    throw ChartError(file: file, line: cell.line, bar: barNumber, cell: 1, cellText: cell.text,
                                     message: "\"%\" with no bar before it to repeat")
                }
                bars.append(Bar(cells: last.cells, line: cell.line, isRepeat: true))
                previous = last.cells.last
                continue
            }
            var chords: [ChartChord] = []
            for (i, cell) in raw.enumerated() {
                let chord: ChartChord
                if cell.text == "/" {
                    guard let p = previous else {
                        throw ChartError(file: file, line: cell.line, bar: barNumber, cell: i + 1, cellText: cell.text,
                                         message: "\"/\" with no chord before it")
                    }
                    chord = p
                } else {
                    do {
                        chord = try ChartChord(parsing: cell.text)
                    } catch {
                        throw ChartError(file: file, line: cell.line, bar: barNumber, cell: i + 1, cellText: cell.text,
                                         message: error.problem.description)
                    }
                }
                chords.append(chord)
                previous = chord
            }
            bars.append(Bar(cells: chords, line: raw[0].line))
        }
        self.bars = bars
    }

    /// The chord of every grid step, bar 1 beginning at step 0, for bars of `beatsPerBar` beats
    /// (8 steps each, docs/design.md). Throws when a bar's cells do not divide its steps evenly.
    public func steps(beatsPerBar: Int) throws(ChartError) -> [ChartChord] {
        guard beatsPerBar >= 1 else {
            throw ChartError(file: file, line: nil, message: "beats per bar must be at least 1, not \(beatsPerBar)")
        }
        let barSteps = Grid.stepsPerBeat * beatsPerBar
        var out: [ChartChord] = []
        out.reserveCapacity(barSteps * bars.count)
        for (b, bar) in bars.enumerated() {
            let n = bar.cells.count
            guard barSteps % n == 0 else {
                throw ChartError(file: file, line: bar.line, bar: b + 1,
                                 message: "\(n) cells cannot divide a bar of \(beatsPerBar) beats (\(barSteps) steps of a 32nd note) evenly")
            }
            for chord in bar.cells {
                for _ in 0..<(barSteps / n) { out.append(chord) }
            }
        }
        return out
    }

    /// The changes of `steps(beatsPerBar:)`: a chord restated (`| C | C |`, or `/`) is no change.
    /// The chart ends at `bars.count × 8 × beatsPerBar`.
    public func changes(beatsPerBar: Int) throws(ChartError) -> [ChordChange] {
        var out: [ChordChange] = []
        for (s, chord) in try steps(beatsPerBar: beatsPerBar).enumerated() where out.last?.chord != chord {
            out.append(ChordChange(step: s, chord: chord))
        }
        return out
    }

    /// Words and bar lines with their 1-based line numbers, comments removed.
    static func tokens(of text: String) -> [(text: String, line: Int)] {
        var out: [(text: String, line: Int)] = []
        var lineNumber = 0
        for line in text.split(omittingEmptySubsequences: false, whereSeparator: { $0.isNewline }) {
            lineNumber += 1
            var word = ""
            var inComment = false
            func flush() {
                if !word.isEmpty { out.append((word, lineNumber)); word = "" }
            }
            for c in line {
                if inComment { break }
                if c.isWhitespace {
                    flush()
                } else if c == "|" {
                    flush()
                    out.append(("|", lineNumber))
                } else if c == "#" && word.isEmpty {
                    inComment = true
                } else {
                    word.append(c)
                }
            }
            flush()
        }
        return out
    }
}
