/// The part of TOML that Configs/accompanist.toml uses: `[table]` headers, `key = value` lines,
/// `#` comments; values are basic strings, integers, floats, booleans and one-line arrays of
/// those. Anything else is an error that names the line.
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
        for (i, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let n = i + 1
            var line = Substring(stripComment(String(raw))).trimmingWhitespace()
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
            var rest = line[line.index(after: eq)...].trimmingWhitespace()
            let value = try parseValue(&rest, line: n)
            guard rest.trimmingWhitespace().isEmpty else { throw TOMLError(line: n, message: "unexpected text after the value: \(rest)") }
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

    static func parseValue(_ s: inout Substring, line: Int) throws -> TOMLValue {
        s = s.trimmingWhitespace()
        guard let first = s.first else { throw TOMLError(line: line, message: "missing value") }
        if first == "\"" {
            s.removeFirst()
            var out = ""
            while let c = s.first {
                s.removeFirst()
                if c == "\"" { return .string(out) }
                if c == "\\" {
                    guard let e = s.first else { break }
                    s.removeFirst()
                    switch e {
                    case "n": out.append("\n")
                    case "t": out.append("\t")
                    case "\"": out.append("\"")
                    case "\\": out.append("\\")
                    default: throw TOMLError(line: line, message: "unknown escape \\\(e) in a string")
                    }
                } else {
                    out.append(c)
                }
            }
            throw TOMLError(line: line, message: "unterminated string")
        }
        if first == "[" {
            s.removeFirst()
            var items: [TOMLValue] = []
            while true {
                s = s.trimmingWhitespace()
                if s.first == "]" { s.removeFirst(); return .array(items) }
                items.append(try parseValue(&s, line: line))
                s = s.trimmingWhitespace()
                if s.first == "," { s.removeFirst(); continue }
                if s.first == "]" { s.removeFirst(); return .array(items) }
                throw TOMLError(line: line, message: "expected , or ] in an array")
            }
        }
        let token = s.prefix { !$0.isWhitespace && $0 != "," && $0 != "]" }
        s = s.dropFirst(token.count)
        switch token {
        case "true": return .boolean(true)
        case "false": return .boolean(false)
        default: break
        }
        let digits = token.replacingOccurrences(of: "_", with: "")
        if let i = Int(digits) { return .integer(i) }
        if let d = Double(digits), d.isFinite { return .float(d) }
        throw TOMLError(line: line, message: "cannot read the value \(token) (strings need double quotes)")
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
