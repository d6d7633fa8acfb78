import Foundation
import SafeFiles

/// One take as the rehearsal memory keeps it (docs/memory.md): the melody on the grid, the
/// chords a beat with where they came from, the metre and tempo. Stored as one JSON file.
public struct Take: Codable, Equatable, Sendable {
    public static let format = "accompanist-take"
    public static let version = 1

    /// Where a take's chords came from. A chart or a left hand is ground truth; hindsight is an
    /// estimate (docs/hindsight.md).
    public enum ChordSource: String, Codable, Sendable { case chart, leftHand = "left-hand", hindsight, none }

    public struct Note: Codable, Equatable, Sendable {
        public var pitch: Int, start: Int, end: Int
        public init(pitch: Int, start: Int, end: Int) { self.pitch = pitch; self.start = start; self.end = end }
    }

    public var format = Take.format
    public var version = Take.version
    /// Unique within a memory: the recording time and a random suffix.
    public var id: String
    /// What was played: a file name for `render`, "live" for the daemon.
    public var source: String
    public var recorded: Date
    /// The store's own order: 1 + the highest sequence in the memory when the take was stored
    /// (`MemoryStore.save` sets it). Retention and "oldest first" follow it, not the clock, which
    /// a box without a real-time clock may set backwards. Nil in takes stored before it existed,
    /// which count as older than any that has one.
    public var sequence: Int?
    public var beatsPerBar: Int
    public var bpm: Double
    /// Grid steps (8 a beat) of the take.
    public var steps: Int
    /// The melody, notes on the grid (steps), ordered by start.
    public var melody: [Note]
    /// One chord symbol a beat (docs/harmony.md's chart cells, `N.C.` included; "" where the
    /// take's chords say nothing, e.g. past the end of its chart); empty with source `none`.
    public var chords: [String]
    public var chordSource: ChordSource
    /// With hindsight chords: per beat, each pitch class's probability of being a chord tone, in
    /// thousandths (beats × 12, row-major); nil otherwise.
    public var heard: [Int]?

    public init(id: String = Take.newID(), source: String, recorded: Date = Date(), beatsPerBar: Int, bpm: Double, steps: Int,
                melody: [Note], chords: [String], chordSource: ChordSource, heard: [Int]? = nil) {
        self.id = id
        self.source = source
        // Whole seconds: what the file keeps (ISO 8601), so a take read back equals the one saved.
        self.recorded = Date(timeIntervalSince1970: recorded.timeIntervalSince1970.rounded(.down))
        self.beatsPerBar = beatsPerBar
        self.bpm = bpm
        self.steps = steps
        self.melody = melody
        self.chords = chords
        self.chordSource = chordSource
        self.heard = heard
    }

    /// `20261201T213912Z-3f9a1c`: sortable by time, unique across processes writing at once.
    public static func newID(at date: Date = Date()) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        let random = (0..<6).map { _ in "0123456789abcdef".randomElement()! }
        return f.string(from: date) + "-" + String(random)
    }

    /// Checks what JSON decoding cannot: the format and version, and sane values. Throws a
    /// one-line reason.
    public func validate() throws(MemoryError) {
        guard format == Take.format else { throw .foreign("format \"\(Echo.text(format))\", not \(Take.format)") }
        guard version == Take.version else { throw .foreign("version \(version); this build reads version \(Take.version)") }
        guard !id.isEmpty, id.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" }) else { throw .corrupt("bad id \"\(Echo.text(id))\"") }
        guard (1...16).contains(beatsPerBar), bpm > 0, bpm < 1000, steps >= 0 else { throw .corrupt("bad metre, tempo or length") }
        for n in melody where !(0..<128).contains(n.pitch) || n.start < 0 || n.end <= n.start {
            throw .corrupt("bad melody note \(n.pitch) \(n.start)..<\(n.end)")
        }
        if chordSource == .none ? !chords.isEmpty : chords.isEmpty { throw .corrupt("chords and their source disagree") }
        if let sequence, sequence < 1 { throw .corrupt("bad sequence \(sequence)") }
        if let heard, heard.count != 12 * chords.count || heard.contains(where: { !(0...1000).contains($0) }) {
            throw .corrupt("heard chord tones: \(heard.count) values for \(chords.count) beats, or out of 0...1000")
        }
    }
}

/// Why a memory file or directory could not be used: one line each.
public enum MemoryError: Error, Equatable, CustomStringConvertible {
    /// Not valid JSON of a take, or values that make no sense (a truncated or damaged file).
    case corrupt(String)
    /// Another program's file, or a take of another version.
    case foreign(String)
    case io(String)
    /// No such directory or take (the command line exits 66).
    case missing(String)

    public var description: String {
        switch self {
        case .corrupt(let s): return "damaged: \(s)"
        case .foreign(let s): return "not a take of this version: \(s)"
        case .io(let s), .missing(let s): return s
        }
    }
}
