import SafeFiles
/// Chord symbols as musicians write them: a root, a quality, an optional slash bass
/// (docs/harmony.md, "Chord symbols").

/// The qualities Accompanist knows. The raw value is a dense index (0 ..< `count`), so a loop over
/// qualities needs no array.
public enum ChordQuality: UInt8, CaseIterable, Sendable, CustomStringConvertible {
    case major, minor, dominant7, major7, minor7, diminished, diminished7, halfDiminished7
    case augmented, sus4, sus2, dominant7sus4, major6, minor6, dominant9, add9, minorMajor7

    /// The number of qualities; raw values are `0 ..< count`.
    public static let count = 17

    /// The canonical suffix printed after the root: `""` for major (`C`), `"m"`, `"7"`, `"maj7"`,
    /// `"m7"`, `"dim"`, `"dim7"`, `"m7b5"`, `"aug"`, `"sus2"`, `"sus4"`, `"7sus4"`, `"6"`, `"m6"`,
    /// `"9"`, `"add9"`, `"m(maj7)"`.
    public var suffix: String {
        switch self {
        case .major: return ""
        case .minor: return "m"
        case .dominant7: return "7"
        case .major7: return "maj7"
        case .minor7: return "m7"
        case .diminished: return "dim"
        case .diminished7: return "dim7"
        case .halfDiminished7: return "m7b5"
        case .augmented: return "aug"
        case .sus2: return "sus2"
        case .sus4: return "sus4"
        case .dominant7sus4: return "7sus4"
        case .major6: return "6"
        case .minor6: return "m6"
        case .dominant9: return "9"
        case .add9: return "add9"
        case .minorMajor7: return "m(maj7)"
        }
    }

    public var description: String { suffix.isEmpty ? "maj" : suffix }

    /// Bit i set when the pitch class `i` semitones above the root is a chord tone (the root is
    /// bit 0; a ninth is written as its pitch class, 2).
    public var intervalMask: UInt16 {
        switch self {
        case .major: return Self.mask(0, 4, 7)
        case .minor: return Self.mask(0, 3, 7)
        case .dominant7: return Self.mask(0, 4, 7, 10)
        case .major7: return Self.mask(0, 4, 7, 11)
        case .minor7: return Self.mask(0, 3, 7, 10)
        case .diminished: return Self.mask(0, 3, 6)
        case .diminished7: return Self.mask(0, 3, 6, 9)
        case .halfDiminished7: return Self.mask(0, 3, 6, 10)
        case .augmented: return Self.mask(0, 4, 8)
        case .sus2: return Self.mask(0, 2, 7)
        case .sus4: return Self.mask(0, 5, 7)
        case .dominant7sus4: return Self.mask(0, 5, 7, 10)
        case .major6: return Self.mask(0, 4, 7, 9)
        case .minor6: return Self.mask(0, 3, 7, 9)
        case .dominant9: return Self.mask(0, 2, 4, 7, 10)
        case .add9: return Self.mask(0, 2, 4, 7)
        case .minorMajor7: return Self.mask(0, 3, 7, 11)
        }
    }

    /// Semitones above the root, ascending, within one octave (the ninth of `9` and `add9` is 2).
    public var intervals: [Int] { (0..<12).filter { intervalMask & (1 << $0) != 0 } }

    /// Fixed arity, not variadic: a variadic call would build an array, and recognition reads
    /// these masks on the live path.
    @inline(__always)
    static func mask(_ a: Int, _ b: Int, _ c: Int, _ d: Int = -1, _ e: Int = -1) -> UInt16 {
        var m: UInt16 = (1 << UInt16(a)) | (1 << UInt16(b)) | (1 << UInt16(c))
        if d >= 0 { m |= 1 << UInt16(d) }
        if e >= 0 { m |= 1 << UInt16(e) }
        return m
    }

    /// Every spelling `ChordSymbol(parsing:)` accepts, mapped to its quality (after `♭`/`♯` in the
    /// suffix are read as `b`/`#`). Case matters: `M7` is major seventh, `m7` minor seventh.
    public static let spellings: [String: ChordQuality] = [
        "": .major, "maj": .major, "M": .major, "major": .major,
        "m": .minor, "min": .minor, "mi": .minor, "-": .minor, "minor": .minor,
        "7": .dominant7, "dom7": .dominant7,
        "maj7": .major7, "M7": .major7, "Maj7": .major7, "ma7": .major7, "Δ7": .major7, "Δ": .major7, "∆7": .major7, "∆": .major7,
        "m7": .minor7, "min7": .minor7, "mi7": .minor7, "-7": .minor7,
        "dim": .diminished, "°": .diminished, "o": .diminished,
        "dim7": .diminished7, "°7": .diminished7, "o7": .diminished7,
        "m7b5": .halfDiminished7, "m7(b5)": .halfDiminished7, "min7b5": .halfDiminished7, "-7b5": .halfDiminished7,
        "ø": .halfDiminished7, "ø7": .halfDiminished7, "Ø": .halfDiminished7, "Ø7": .halfDiminished7,
        "aug": .augmented, "+": .augmented,
        "sus2": .sus2,
        "sus4": .sus4, "sus": .sus4,
        "7sus4": .dominant7sus4, "7sus": .dominant7sus4,
        "6": .major6, "maj6": .major6, "M6": .major6,
        "m6": .minor6, "min6": .minor6, "-6": .minor6,
        "9": .dominant9,
        "add9": .add9, "(add9)": .add9, "add2": .add9,
        "m(maj7)": .minorMajor7, "mMaj7": .minorMajor7, "mM7": .minorMajor7, "m(M7)": .minorMajor7,
        "min(maj7)": .minorMajor7, "-(maj7)": .minorMajor7, "-Δ7": .minorMajor7, "-∆7": .minorMajor7,
    ]
}

/// A chord symbol: root pitch class, quality, and a slash bass pitch class when the bass is not
/// the root. Only pitch classes are kept, so `C#` and `Db` are the same symbol; printing spells
/// them one way (`pitchClassNames`).
public struct ChordSymbol: Hashable, Sendable, CustomStringConvertible {
    /// 0 = C … 11 = B.
    public let root: Int
    public let quality: ChordQuality
    /// The slash bass, 0…11; nil when the bass is the root (`C/C` is `C`).
    public let bass: Int?

    /// Pitch classes are taken modulo 12; a bass equal to the root is dropped.
    public init(root: Int, quality: ChordQuality, bass: Int? = nil) {
        let r = ((root % 12) + 12) % 12
        self.root = r
        self.quality = quality
        if let b = bass.map({ (($0 % 12) + 12) % 12 }), b != r { self.bass = b } else { self.bass = nil }
    }

    /// How pitch classes are printed: `NoteName`'s one table.
    public static var pitchClassNames: [String] { NoteName.pitchClassNames }

    /// The canonical spelling: root, canonical quality suffix, `/bass` if any (`Dm7/G`, `F#m7b5`).
    public var description: String {
        var s = Self.pitchClassNames[root] + quality.suffix
        if let b = bass { s += "/" + Self.pitchClassNames[b] }
        return s
    }

    /// Bit i set when pitch class i is a chord tone (the slash bass included).
    public var pitchClassMask: UInt16 {
        let q = UInt32(quality.intervalMask)
        let rotated = ((q << UInt32(root)) | (q >> UInt32(12 - root))) & 0xFFF
        return UInt16(rotated) | (bass.map { UInt16(1) << UInt16($0) } ?? 0)
    }

    /// The same chord without its slash bass.
    public var withoutBass: ChordSymbol { ChordSymbol(root: root, quality: quality) }
}

// MARK: - Parsing

extension ChordSymbol {
    /// Why a text is not a chord symbol. `description` is one line naming the text.
    public struct ParseError: Error, Equatable, Sendable, CustomStringConvertible {
        public enum Problem: Equatable, Sendable, CustomStringConvertible {
            /// Nothing to parse (only white space).
            case empty
            /// The text does not begin with a note letter A–G.
            case noRoot
            /// The text after the root is no quality we know.
            case unknownQuality(String)
            /// The text after `/` is not a note name (a letter A–G with at most one `#` or `b`).
            case badBass(String)

            public var description: String {
                switch self {
                case .empty: return "empty chord symbol"
                case .noRoot: return "a chord symbol begins with a note letter A-G"
                case .unknownQuality(let q): return "unknown chord quality \"\(Echo.text(q))\""
                case .badBass(let b): return b.isEmpty ? "nothing after \"/\": the bass note is missing"
                    : "slash bass \"\(Echo.text(b))\" is not a note name (A-G with at most one # or b)"
                }
            }
        }
        /// The text as given.
        public var text: String
        public var problem: Problem
        public init(text: String, problem: Problem) { self.text = text; self.problem = problem }
        public var description: String { "\"\(Echo.text(text))\": \(problem)" }
    }

    /// Parses a chord symbol: a root (`A`–`G`, then at most one `#`, `♯`, `b` or `♭`), a quality
    /// (canonical or one of `ChordQuality.spellings`), and optionally `/` and a bass note.
    /// Surrounding white space is ignored; inner white space is an error (an unknown quality).
    public init(parsing text: String) throws(ParseError) {
        let trimmed = Substring(text).trimmingWhitespace()
        func fail(_ p: ParseError.Problem) -> ParseError { ParseError(text: text, problem: p) }
        if trimmed.isEmpty { throw fail(.empty) }
        guard let (root, afterRoot) = Self.noteName(prefixOf: trimmed) else { throw fail(.noRoot) }
        var qualityText = afterRoot
        var bass: Int? = nil
        // The slash bass: the last "/" (no quality spelling contains one).
        if let slash = afterRoot.lastIndex(of: "/") {
            qualityText = afterRoot[afterRoot.startIndex..<slash]
            let bassText = afterRoot[afterRoot.index(after: slash)...]
            guard let (b, rest) = Self.noteName(prefixOf: bassText), rest.isEmpty else {
                throw fail(.badBass(String(bassText)))
            }
            bass = b
        }
        let normalised = String(qualityText).replacingAll("♭", with: "b").replacingAll("♯", with: "#")
        guard let quality = ChordQuality.spellings[normalised] else {
            throw fail(.unknownQuality(String(qualityText)))
        }
        self.init(root: root, quality: quality, bass: bass)
    }

    /// A note name at the start of `text`: its pitch class and the rest of the text.
    static func noteName(prefixOf text: Substring) -> (Int, Substring)? {
        guard let first = text.first else { return nil }
        let natural: Int
        switch first {
        case "C": natural = 0
        case "D": natural = 2
        case "E": natural = 4
        case "F": natural = 5
        case "G": natural = 7
        case "A": natural = 9
        case "B": natural = 11
        default: return nil
        }
        var rest = text.dropFirst()
        var pc = natural
        if let a = rest.first {
            if a == "#" || a == "♯" { pc += 1; rest = rest.dropFirst() }
            else if a == "b" || a == "♭" { pc += 11; rest = rest.dropFirst() }
        }
        return (pc % 12, rest)
    }
}

extension Substring {
    func trimmingWhitespace() -> Substring {
        var s = self
        while let c = s.first, c.isWhitespace { s = s.dropFirst() }
        while let c = s.last, c.isWhitespace { s = s.dropLast() }
        return s
    }
}

extension String {
    func replacingAll(_ target: Character, with replacement: String) -> String {
        var out = ""
        for c in self { if c == target { out += replacement } else { out.append(c) } }
        return out
    }
}

/// What a chart cell or a chord stream holds: a chord, or `N.C.` (no chord: the music says
/// explicitly that nothing harmonic should sound). "Nothing known" is not a `ChartChord`; APIs
/// that may know nothing use an optional or their own case.
public enum ChartChord: Hashable, Sendable, CustomStringConvertible {
    case chord(ChordSymbol)
    case noChord

    /// `N.C.` (also accepted: `NC`, `N.C`) or a chord symbol.
    public init(parsing text: String) throws(ChordSymbol.ParseError) {
        let t = Substring(text).trimmingWhitespace()
        if t == "N.C." || t == "NC" || t == "N.C" { self = .noChord; return }
        self = .chord(try ChordSymbol(parsing: text))
    }

    public var description: String {
        switch self {
        case .chord(let c): return c.description
        case .noChord: return "N.C."
        }
    }

    /// The chord, or nil for `N.C.`.
    public var symbol: ChordSymbol? {
        if case .chord(let c) = self { return c }
        return nil
    }
}
