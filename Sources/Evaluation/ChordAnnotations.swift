import Foundation
import SafeFiles

/// Chord annotations in POP909's chord_midi.txt format: `start end label` per line (seconds),
/// labels like `C:maj`, `A:min7`, `F#:sus4(b7)/5`, `N` for no chord.
public struct ChordAnnotations: Sendable {
    public struct Segment: Equatable, Sendable {
        public var start: Double
        public var end: Double
        /// Pitch classes of the chord (bit i = pitch class i); 0 for `N`.
        public var mask: Int
        public var label: String
    }

    public enum ParseError: Error, Equatable, CustomStringConvertible {
        case badLine(Int, String)
        /// A time that is not a finite number of seconds, or not ≥ 0.
        case badTime(Int, String)
        /// An interval that ends before it starts.
        case reversed(Int, start: Double, end: Double)
        public var description: String {
            switch self {
            case .badLine(let n, let text): return "chord annotations, line \(n): cannot read \"\(Echo.text(text))\" (expected: start end label)"
            case .badTime(let n, let text): return "chord annotations, line \(n): \"\(Echo.text(text))\" is not a time in seconds (a finite number, 0 or more)"
            case .reversed(let n, let start, let end): return "chord annotations, line \(n): the chord ends (\(end) s) before it starts (\(start) s)"
            }
        }
    }

    public var segments: [Segment]

    public init(text: String) throws {
        var segments: [Segment] = []
        for (i, raw) in text.split(whereSeparator: \.isNewline).enumerated() {
            let fields = raw.split(whereSeparator: { $0 == " " || $0 == "\t" })
            if fields.isEmpty { continue }
            guard fields.count >= 3 else { throw ParseError.badLine(i + 1, String(raw)) }
            var times: [Double] = []
            for f in fields[0...1] {
                guard let t = Double(f), t.isFinite, t >= 0 else { throw ParseError.badTime(i + 1, String(f)) }
                times.append(t)
            }
            let s = times[0], e = times[1]
            guard e >= s else { throw ParseError.reversed(i + 1, start: s, end: e) }
            let label = String(fields[2])
            segments.append(Segment(start: s, end: e, mask: Self.pitchClassMask(of: label), label: label))
        }
        self.segments = segments.sorted { $0.start < $1.start }
    }

    /// Reads an annotation file: a missing or non-UTF-8 file is a `FileProblem`, bad content a
    /// `ParseError`.
    public init(contentsOf url: URL) throws {
        try self.init(text: try InputFile.readUTF8(url.path))
    }

    /// The chord sounding at a time (nil outside every segment or on `N`).
    public func mask(at seconds: Double) -> Int? {
        var lo = 0, hi = segments.count - 1, found = -1
        while lo <= hi {
            let mid = (lo + hi) / 2
            if segments[mid].start <= seconds { found = mid; lo = mid + 1 } else { hi = mid - 1 }
        }
        guard found >= 0, seconds < segments[found].end, segments[found].mask != 0 else { return nil }
        return segments[found].mask
    }

    static let rootNames: [String: Int] = ["C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11]
    static let qualities: [String: [Int]] = [
        "maj": [0, 4, 7], "min": [0, 3, 7], "dim": [0, 3, 6], "aug": [0, 4, 8],
        "maj7": [0, 4, 7, 11], "min7": [0, 3, 7, 10], "7": [0, 4, 7, 10], "dim7": [0, 3, 6, 9],
        "hdim7": [0, 3, 6, 10], "minmaj7": [0, 3, 7, 11], "maj6": [0, 4, 7, 9], "min6": [0, 3, 7, 9],
        "9": [0, 4, 7, 10, 2], "maj9": [0, 4, 7, 11, 2], "min9": [0, 3, 7, 10, 2],
        "11": [0, 4, 7, 10, 2, 5], "13": [0, 4, 7, 10, 2, 9], "sus2": [0, 2, 7], "sus4": [0, 5, 7],
        "1": [0], "5": [0, 7],
    ]

    /// Chord tones of a Harte-style label: root, quality, added degrees in parentheses; the bass
    /// after `/` is ignored (it is a chord tone already or a passing bass).
    public static func pitchClassMask(of label: String) -> Int {
        if label == "N" || label == "X" { return 0 }
        let parts = label.split(separator: ":", maxSplits: 1)
        var rootText = String(parts[0])
        guard let letter = rootText.first, var root = rootNames[String(letter)] else { return 0 }
        rootText.removeFirst()
        for c in rootText { if c == "#" { root += 1 } else if c == "b" { root -= 1 } }
        var qualityText = parts.count > 1 ? String(parts[1]) : "maj"
        if let slash = qualityText.firstIndex(of: "/") { qualityText = String(qualityText[..<slash]) }
        var added: [Int] = []
        if let open = qualityText.firstIndex(of: "(") {
            let inner = qualityText[qualityText.index(after: open)...].dropLast(qualityText.hasSuffix(")") ? 1 : 0)
            for degree in inner.split(separator: ",") {
                var d = String(degree), shift = 0
                if d.hasPrefix("*") { continue }
                while d.hasPrefix("b") { shift -= 1; d.removeFirst() }
                while d.hasPrefix("#") { shift += 1; d.removeFirst() }
                let semis = [1: 0, 2: 2, 3: 4, 4: 5, 5: 7, 6: 9, 7: 11, 9: 2, 11: 5, 13: 9]
                if let n = Int(d), let s = semis[n] { added.append(s + shift) }
            }
            qualityText = String(qualityText[..<open])
        }
        let intervals = (qualities[qualityText.isEmpty ? "maj" : qualityText] ?? [0, 4, 7]) + added
        return intervals.reduce(0) { $0 | 1 << ((((root + $1) % 12) + 12) % 12) }
    }
}

/// Accompaniment statistics against chord annotations (Training/README.md, the evaluation), for a list of note onsets.
public struct ChordFit: Equatable, Sendable {
    /// Notes whose onset falls inside an annotated chord (not `N`).
    public var judged: Int
    /// Of those, notes whose pitch class is a chord tone.
    public var inChord: Int
    public var ratio: Double { judged == 0 ? 0 : Double(inChord) / Double(judged) }

    /// `onsets`: (seconds, pitch) of each accompaniment note.
    public init(onsets: [(seconds: Double, pitch: Int)], chords: ChordAnnotations) {
        judged = 0
        inChord = 0
        for o in onsets {
            guard let mask = chords.mask(at: o.seconds) else { continue }
            judged += 1
            if mask & (1 << (o.pitch % 12)) != 0 { inChord += 1 }
        }
    }
}
