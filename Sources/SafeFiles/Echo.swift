/// Text echoed from input (file names, chart cells, config keys, take sources) made safe to print
/// on a terminal or into the journal: control characters are escaped, so that a file name with a
/// newline cannot forge a line and an ANSI escape cannot reach the terminal, and long input is cut
/// to a sane length, so that a 100 KB chord symbol gives a short error line.
public enum Echo {
    /// The default length of an echoed piece of input, in characters.
    public static let defaultLimit = 80
    /// Paths are longer than chord symbols; `PATH_MAX` is 4096, a readable line far less.
    public static let pathLimit = 300
    /// The longest line a sink (the log, an error) prints, in characters.
    public static let lineLimit = 2000

    /// `text` with every control character escaped (`\n`, `\t`, `\r`, `\e`, else `\u{…}`) and cut
    /// to `limit` characters, with how much was left out: `Cmaj7…(+99990 characters)`.
    public static func text<S: StringProtocol>(_ text: S, limit: Int = defaultLimit) -> String {
        var out = ""
        var count = 0
        var left = 0
        for scalar in text.unicodeScalars {
            if count >= limit { left += 1; continue }
            let piece = escaped(scalar)
            out += piece
            count += piece.count
        }
        return left == 0 ? out : out + "…(+\(left) characters)"
    }

    /// A path as the user gave it, made safe to print (escaped, cut at `pathLimit`).
    public static func path(_ path: String) -> String { text(path, limit: pathLimit) }

    /// A whole line for a sink: escaped and cut at `lineLimit`. Pieces inside it should already
    /// be cut by `text` so that the end of the line (what is wrong) survives.
    public static func line(_ line: String) -> String { text(line, limit: lineLimit) }

    /// Whether a scalar must not reach a terminal as it is: C0 and C1 controls, DEL, and the
    /// invisible Unicode format characters that reorder or break lines (bidi overrides, line and
    /// paragraph separators).
    static func isUnsafe(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x00...0x1F, 0x7F...0x9F: return true
        case 0x200B...0x200F, 0x2028...0x202E, 0x2066...0x2069, 0xFEFF: return true
        default: return false
        }
    }

    static func escaped(_ s: Unicode.Scalar) -> String {
        guard isUnsafe(s) else { return String(Character(s)) }
        switch s {
        case "\n": return "\\n"
        case "\t": return "\\t"
        case "\r": return "\\r"
        case "\u{1B}": return "\\e"
        default: return "\\u{" + String(s.value, radix: 16) + "}"
        }
    }
}
