/// Chord recognition from held keys, as arranger keyboards do it in their "Fingered" and
/// "Fingered on Bass" modes (docs/harmony.md, "Recognition from held notes").

/// A set of MIDI notes 0…127 in two words: inserting, removing and reading it never allocates.
public struct NoteSet: Hashable, Sendable {
    /// Notes 0…63 (bit n = note n) and 64…127 (bit n = note 64 + n).
    public private(set) var low: UInt64 = 0
    public private(set) var high: UInt64 = 0

    public init() {}

    /// Convenience for tests and tools (not for the live path: the sequence may allocate).
    public init<S: Sequence>(_ notes: S) where S.Element == Int {
        for n in notes { insert(n) }
    }

    /// Notes outside 0…127 are ignored.
    public mutating func insert(_ note: Int) {
        guard note >= 0 && note < 128 else { return }
        if note < 64 { low |= 1 << UInt64(note) } else { high |= 1 << UInt64(note - 64) }
    }

    public mutating func remove(_ note: Int) {
        guard note >= 0 && note < 128 else { return }
        if note < 64 { low &= ~(1 << UInt64(note)) } else { high &= ~(1 << UInt64(note - 64)) }
    }

    public func contains(_ note: Int) -> Bool {
        guard note >= 0 && note < 128 else { return false }
        return note < 64 ? low & (1 << UInt64(note)) != 0 : high & (1 << UInt64(note - 64)) != 0
    }

    public mutating func removeAll() { low = 0; high = 0 }

    public var isEmpty: Bool { low == 0 && high == 0 }
    public var count: Int { low.nonzeroBitCount + high.nonzeroBitCount }

    /// The lowest held note.
    public var lowest: Int? {
        if low != 0 { return low.trailingZeroBitCount }
        if high != 0 { return 64 + high.trailingZeroBitCount }
        return nil
    }

    /// Bit i set when some held note has pitch class i.
    public var pitchClassMask: UInt16 {
        var mask: UInt16 = 0
        var w = low
        while w != 0 {
            let n = w.trailingZeroBitCount
            mask |= 1 << UInt16(n % 12)
            w &= w - 1
        }
        w = high
        while w != 0 {
            let n = 64 + w.trailingZeroBitCount
            mask |= 1 << UInt16(n % 12)
            w &= w - 1
        }
        return mask
    }
}

/// Recognises the chord of a left hand and remembers it (an arranger's chord memory).
///
/// `recognize(_:)` allocates nothing: it reads the two words of a `NoteSet`, loops over fixed
/// masks and returns a `ChordSymbol` of plain integers, so the live reader or engine may call it.
///
/// The rules (docs/harmony.md):
/// - Notes count by pitch class; doubled notes and octaves change nothing.
/// - One pitch class: the major triad on it.
/// - Two pitch classes (when `twoKeyChords`): root and fifth above it = major; root and minor
///   third above it = minor, whatever the octaves. Any other pair is unrecognised.
/// - Three or more: the pitch-class set must equal a quality's exactly, on some root among the
///   held notes. If none does, the forms with the fifth left out are tried: `7`, `maj7`, `m7`, `9`.
/// - When several readings fit (`C6` = `Am7`, `Cm6` = `Am7b5`, `Csus2` = `Gsus4`, and every note
///   of `dim7` and `aug`), the reading whose root is the lowest note wins; if none, the one whose
///   quality comes first in `ChordQuality`'s order (so `m7` before `6`, `m7b5` before `m6`,
///   `sus4` before `sus2`).
/// - Fingered on bass: the lowest note becomes the slash bass when it is not the root. When all
///   the keys make no chord, and the lowest key's pitch class is held nowhere above it, the keys
///   above it (three pitch classes or more) are read by the rules above and the lowest key is the
///   bass: G + D F A C is `Dm7/G`. (Fingered mode has no such rule: its chords are made of the
///   held pitch classes alone.)
/// - No keys: the previous chord stays, not counted. Unrecognised keys: the previous chord stays,
///   and `unrecognized` counts one.
public struct ChordRecognizer: Sendable {
    public enum Mode: Sendable {
        /// The chord without a slash bass.
        case fingered
        /// The lowest key is the bass: `C/E`, `Dm7/G`.
        case fingeredOnBass
    }

    /// What a set of keys is, by itself, without memory.
    public enum Outcome: Hashable, Sendable {
        case chord(ChordSymbol)
        /// No key held.
        case noKeys
        /// Keys held that make no chord we know (or that could be two chords, for a pair).
        case unrecognized
    }

    public var mode: Mode
    /// One key gives a major triad regardless; this switches the two-key rules on.
    public var twoKeyChords: Bool
    /// The chord in memory: the last one recognised (nil before any).
    public private(set) var chord: ChordSymbol?
    /// How many calls held keys that made no chord (the chord in memory stayed).
    public private(set) var unrecognized: Int = 0

    public init(mode: Mode = .fingeredOnBass, twoKeyChords: Bool = true, chord: ChordSymbol? = nil) {
        self.mode = mode
        self.twoKeyChords = twoKeyChords
        self.chord = chord
    }

    /// Recognises `held` and returns the chord in memory afterwards. Allocation-free.
    @discardableResult
    public mutating func recognize(_ held: NoteSet) -> ChordSymbol? {
        switch Self.identify(held, mode: mode, twoKeyChords: twoKeyChords) {
        case .chord(let c): chord = c
        case .noKeys: break
        case .unrecognized: unrecognized &+= 1
        }
        return chord
    }

    /// Forgets the chord in memory (the counter stays).
    public mutating func clear() { chord = nil }

    /// The chord `held` makes by itself. Allocation-free.
    public static func identify(_ held: NoteSet, mode: Mode, twoKeyChords: Bool = true) -> Outcome {
        guard let lowest = held.lowest else { return .noKeys }
        let bass = lowest % 12
        let set = held.pitchClassMask
        var found: (root: Int, quality: ChordQuality)? = nil
        switch set.nonzeroBitCount {
        case 1:
            found = (bass, .major)
        case 2:
            guard twoKeyChords else { return .unrecognized }
            for r in 0..<12 where set & (1 << UInt16(r)) != 0 {
                let shape = rotateDown(set, by: r)
                if shape == ChordQuality.mask(0, 7, 0) { found = (r, .major) }
                else if shape == ChordQuality.mask(0, 3, 0) { found = (r, .minor) }
            }
        default:
            found = match(set, bass: bass, reduced: false) ?? match(set, bass: bass, reduced: true)
            if found == nil && mode == .fingeredOnBass {
                // A bass outside the chord (Dm7/G): the keys above the lowest make the chord,
                // when the bass's pitch class is not among them.
                var upper = held
                upper.remove(lowest)
                let upperSet = upper.pitchClassMask
                if upperSet & (1 << UInt16(bass)) == 0 && upperSet.nonzeroBitCount >= 3, let upperLowest = upper.lowest {
                    found = match(upperSet, bass: upperLowest % 12, reduced: false)
                        ?? match(upperSet, bass: upperLowest % 12, reduced: true)
                }
            }
        }
        guard let (root, quality) = found else { return .unrecognized }
        let symbol = ChordSymbol(root: root, quality: quality, bass: mode == .fingeredOnBass ? bass : nil)
        return .chord(symbol)
    }

    /// The mask of a quality's form with the fifth left out, for the qualities that have one.
    @inline(__always)
    static func reducedMask(_ q: ChordQuality) -> UInt16? {
        switch q {
        case .dominant7: return ChordQuality.mask(0, 4, 10)
        case .major7: return ChordQuality.mask(0, 4, 11)
        case .minor7: return ChordQuality.mask(0, 3, 10)
        case .dominant9: return ChordQuality.mask(0, 2, 4, 10)
        default: return nil
        }
    }

    /// The reading of `set`: root on the bass first, else the first quality in order.
    static func match(_ set: UInt16, bass: Int, reduced: Bool) -> (root: Int, quality: ChordQuality)? {
        var first: (root: Int, quality: ChordQuality)? = nil
        for raw in 0..<UInt8(ChordQuality.count) {
            let q = ChordQuality(rawValue: raw)!
            let target: UInt16
            if reduced {
                guard let m = reducedMask(q) else { continue }
                target = m
            } else {
                target = q.intervalMask
            }
            guard target.nonzeroBitCount == set.nonzeroBitCount else { continue }
            for r in 0..<12 where set & (1 << UInt16(r)) != 0 && rotateDown(set, by: r) == target {
                if r == bass { return (r, q) }
                if first == nil { first = (r, q) }
            }
        }
        return first
    }

    /// The 12-bit set transposed down by `r` semitones (pitch class r becomes bit 0).
    @inline(__always)
    static func rotateDown(_ set: UInt16, by r: Int) -> UInt16 {
        let s = UInt32(set)
        return UInt16(((s >> UInt32(r)) | (s << UInt32(12 - r))) & 0xFFF)
    }
}
