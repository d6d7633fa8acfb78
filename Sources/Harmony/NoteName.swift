import Foundation

/// MIDI note numbers from names, as a musician writes a split point: `F#3`, `Bb2`, `C4` (C4 = 60,
/// middle C, so C-1 = 0 and G9 = 127), or a number `0`…`127`.
public enum NoteName {
    /// The note `text` names, or nil: a letter A–G (either case), at most one `#`/`♯`/`b`/`♭`,
    /// an octave −1…9; or a plain number 0…127.
    public static func midiNote(parsing text: String) -> Int? {
        let t = text.trimmingCharacters(in: .whitespaces)
        if let n = Int(t) { return (0...127).contains(n) ? n : nil }
        var chars = Substring(t)
        guard let letter = chars.first?.uppercased(), let base = ["C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11][letter] else { return nil }
        chars = chars.dropFirst()
        var pc = base
        if let a = chars.first, "#♯b♭".contains(a) {
            pc += a == "#" || a == "♯" ? 1 : -1
            chars = chars.dropFirst()
        }
        guard let octave = Int(chars), (-1...9).contains(octave) else { return nil }
        let n = (octave + 1) * 12 + pc
        return (0...127).contains(n) ? n : nil
    }

    /// The one table of pitch-class names, for chord symbols, keys and notes alike: flats for
    /// the black keys, except F#, as lead sheets spell them.
    public static let pitchClassNames = ["C", "Db", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"]

    /// The name of pitch class `pc` (any integer, taken modulo 12).
    public static func pitchClass(_ pc: Int) -> String { pitchClassNames[((pc % 12) + 12) % 12] }

    /// `60` → `C4`, `61` → `Db4`, for messages.
    public static func name(of note: Int) -> String {
        pitchClass(note) + "\(Int((Double(note) / 12).rounded(.down)) - 1)"
    }
}
