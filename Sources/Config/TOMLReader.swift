/// The part of TOML that Configs/accompanist.toml uses: `[table]` headers, `key = value` lines,
/// `#` comments; values are basic strings, integers, floats, booleans and arrays of those, which
/// may run over several lines (with comments, and a comma after the last item). Anything else is
/// an error that names the line.
///
/// Why not TOMLKit (LebJe/TOMLKit 0.6.0, toml++ underneath; it builds here in Swift 6 mode without
/// warnings): it gives no source position for a value, only for a syntax error, so a wrong type or
/// an out-of-range value could no longer name its line; its tables come back in key order, not
/// file order; and it never frees a parsed document (`TOMLTable` has no deinit, and the key lists
/// and error texts it gets from C++ are not freed either: about 10 KB per parse of the shipped
/// file), which the fuzz target's leak detection (scripts/fuzz.sh, AddressSanitizer) would report
/// on every input.
public enum TOMLValue: Equatable, Sendable, CustomStringConvertible {
    case string(String)
    case integer(Int)
    case float(Double)
    case boolean(Bool)
    case array([TOMLValue])

    public var typeName: String {
        switch self {
        case .string: return "a string"
        case .integer: return "an integer"
        case .float: return "a number"
        case .boolean: return "true or false"
        case .array: return "an array"
        }
    }

    public var description: String {
        switch self {
        case .string(let s): return "\"\(s)\""
        case .integer(let i): return "\(i)"
        case .float(let d): return "\(d)"
        case .boolean(let b): return "\(b)"
        case .array(let a): return "[" + a.map(\.description).joined(separator: ", ") + "]"
        }
    }
}

public struct TOMLError: Error, Equatable, CustomStringConvertible {
    public var line: Int
    public var message: String
    public var description: String { "line \(line): \(message)" }
}

/// One `key = value` with where it was: `table.key`.
public struct TOMLEntry: Equatable, Sendable {
    public var table: String
    public var key: String
    public var value: TOMLValue
    public var line: Int
    /// `table.key`; a dotted key (`tempo.bpm = 90`) names its table itself.
    public var path: String { table.isEmpty ? key : "\(table).\(key)" }
}

public enum TOMLReader {
    public static func parse(_ text: String) throws -> [TOMLEntry] {
        var entries: [TOMLEntry] = []
        var table = ""
        var seen = Set<String>()
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { stripComment(String($0)) }
        var next = 0
        while next < lines.count {
            let n = next + 1
            var line = Substring(lines[next]).trimmingWhitespace()
            next += 1
            if line.isEmpty { continue }
            if line.hasPrefix("[") {
                guard line.hasSuffix("]"), !line.hasPrefix("[[") else { throw TOMLError(line: n, message: "a table header must look like [name]") }
                line = line.dropFirst().dropLast().trimmingWhitespace()
                guard !line.isEmpty, line.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" || $0 == "." }) else {
                    throw TOMLError(line: n, message: "bad table name [\(line)]")
                }
                table = String(line)
                continue
            }
            guard let eq = line.firstIndex(of: "=") else { throw TOMLError(line: n, message: "expected key = value") }
            let key = line[..<eq].trimmingWhitespace()
            guard !key.isEmpty, !key.hasPrefix("."), !key.hasSuffix("."),
                  key.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" || $0 == "." }) else {
                throw TOMLError(line: n, message: "bad key \"\(key)\"")
            }
            // An array left open continues on the following lines, until its brackets close.
            var valueText = String(line[line.index(after: eq)...])
            var open = openBrackets(valueText)
            while open > 0, next < lines.count {
                valueText += "\n" + lines[next]
                open += openBrackets(lines[next])
                next += 1
            }
            var cursor = Cursor(rest: Substring(valueText), line: n)
            let value = try parseValue(&cursor)
            cursor.skipWhitespace()
            guard cursor.rest.isEmpty else {
                throw TOMLError(line: cursor.line, message: "unexpected text after the value: \(cursor.rest.prefix { $0 != "\n" })")
            }
            let entry = TOMLEntry(table: table, key: String(key), value: value, line: n)
            guard seen.insert(entry.path).inserted else { throw TOMLError(line: n, message: "\(entry.path) is set twice") }
            entries.append(entry)
        }
        return entries
    }

    /// Drops a `#` comment that is not inside a string.
    static func stripComment(_ s: String) -> String {
        var inString = false, escaped = false
        var out = ""
        for c in s {
            if inString {
                if escaped { escaped = false } else if c == "\\" { escaped = true } else if c == "\"" { inString = false }
            } else if c == "\"" {
                inString = true
            } else if c == "#" {
                break
            }
            out.append(c)
        }
        return out
    }

    /// `[` minus `]` outside strings, on one line (comments are already gone; a string ends at
    /// the end of its line).
    static func openBrackets(_ s: String) -> Int {
        var depth = 0
        var inString = false, escaped = false
        for c in s {
            if inString {
                if escaped { escaped = false } else if c == "\\" { escaped = true } else if c == "\"" { inString = false }
            } else if c == "\"" {
                inString = true
            } else if c == "[" {
                depth += 1
            } else if c == "]" {
                depth -= 1
            }
        }
        return depth
    }

    /// The text of a value still to read, and the line it is on.
    struct Cursor {
        var rest: Substring
        var line: Int

        mutating func skipWhitespace() {
            while let c = rest.first, c.isWhitespace {
                if c == "\n" { line += 1 }
                rest.removeFirst()
            }
        }
    }

    /// Arrays nest at most this deep (the reader recurses once per level).
    static let maximumNesting = 16

    static func parseValue(_ s: inout Cursor, nesting: Int = 0) throws -> TOMLValue {
        s.skipWhitespace()
        guard let first = s.rest.first else { throw TOMLError(line: s.line, message: "missing value") }
        if first == "\"" {
            s.rest.removeFirst()
            var out = ""
            while let c = s.rest.first, c != "\n" {
                s.rest.removeFirst()
                if c == "\"" { return .string(out) }
                if c == "\\" {
                    guard let e = s.rest.first, e != "\n" else { break }
                    s.rest.removeFirst()
                    switch e {
                    case "n": out.append("\n")
                    case "t": out.append("\t")
                    case "\"": out.append("\"")
                    case "\\": out.append("\\")
                    default: throw TOMLError(line: s.line, message: "unknown escape \\\(e) in a string")
                    }
                } else {
                    out.append(c)
                }
            }
            throw TOMLError(line: s.line, message: "unterminated string")
        }
        if first == "[" {
            guard nesting < maximumNesting else { throw TOMLError(line: s.line, message: "arrays nested more than \(maximumNesting) deep") }
            let opened = s.line
            s.rest.removeFirst()
            var items: [TOMLValue] = []
            while true {
                s.skipWhitespace()
                if s.rest.isEmpty { throw TOMLError(line: opened, message: "unterminated array") }
                if s.rest.first == "]" { s.rest.removeFirst(); return .array(items) }
                items.append(try parseValue(&s, nesting: nesting + 1))
                s.skipWhitespace()
                if s.rest.first == "," { s.rest.removeFirst(); continue }
                if s.rest.first == "]" { s.rest.removeFirst(); return .array(items) }
                if s.rest.isEmpty { throw TOMLError(line: opened, message: "unterminated array") }
                throw TOMLError(line: s.line, message: "expected , or ] in an array")
            }
        }
        let token = s.rest.prefix { !$0.isWhitespace && $0 != "," && $0 != "]" }
        s.rest = s.rest.dropFirst(token.count)
        switch token {
        case "true": return .boolean(true)
        case "false": return .boolean(false)
        default: break
        }
        let digits = token.replacingOccurrences(of: "_", with: "")
        if let i = Int(digits) { return .integer(i) }
        if let d = Double(digits), d.isFinite { return .float(d) }
        throw TOMLError(line: s.line, message: "cannot read the value \(token) (strings need double quotes)")
    }
}

extension Substring {
    func trimmingWhitespace() -> Substring {
        var s = self
        while let f = s.first, f.isWhitespace { s.removeFirst() }
        while let l = s.last, l.isWhitespace { s.removeLast() }
        return s
    }
}

extension Substring {
    fileprivate func replacingOccurrences(of a: String, with b: String) -> String {
        String(self).split(separator: Character(a), omittingEmptySubsequences: false).joined(separator: b)
    }
}
