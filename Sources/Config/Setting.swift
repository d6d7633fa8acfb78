import Harmony

/// One setting of Accompanist: a key of the config file (`section.name`), its type and range,
/// who sets it, one line of help, and the command-line option that sets it in `run` or `render`.
/// Every setting is declared once, in `Settings.all`; the config file's parsing, its range errors
/// (exit 78, naming the key), the command-line options of `run` and `render`, the shipped
/// Configs/accompanist.toml and docs/config.md all derive from that table (docs/design.md,
/// "Settings").
///
/// The default is the `DaemonConfig` property's initial value, read through the setting.
public struct Setting: Sendable {
    /// Who is expected to set it: a musician (ports, tempo, sound, harmony, memory, the engine's
    /// choice and seed), or an expert (the sampling constants tuned for the shipped model).
    public enum Audience: String, Sendable { case musician, expert }

    /// The commands whose command line may set a setting.
    public enum Command: String, Sendable, CaseIterable { case run, render }

    /// The value's type and range.
    public enum Kind: Sendable, Equatable {
        case number(ClosedRange<Double>)
        case integer(ClosedRange<Int>)
        case choice([String])
        case text
        case flag
        case list
        /// A note name ("F#3", C4 = 60) or a number 0-127; "" or -1: none.
        case note

        /// How docs and help describe the type and range.
        public var summary: String {
            switch self {
            case .number(let r): return "number \(Setting.trimmed(r.lowerBound))…\(Setting.trimmed(r.upperBound))"
            case .integer(let r): return r.upperBound == Int.max ? "integer ≥ \(r.lowerBound)" : "integer \(r.lowerBound)…\(r.upperBound)"
            case .choice(let options): return options.map { "\"\($0)\"" }.joined(separator: ", ")
            case .text: return "string"
            case .flag: return "true or false"
            case .list: return "list of strings"
            case .note: return "note name or 0…127"
            }
        }
    }

    /// The problem with a value, without the key (the caller adds it).
    public struct Invalid: Error, Equatable { public var message: String }

    public let key: String
    public let kind: Kind
    public let audience: Audience
    /// One line.
    public let help: String
    /// More, for the config file and docs/config.md (may hold line breaks); "" for none.
    public let detail: String
    /// A value worth showing as an example in the config file (TOML text), or nil.
    public let example: String?
    /// The long option (without "--") that sets it on each command's command line.
    public let options: [Command: String]
    let assign: @Sendable (inout DaemonConfig, TOMLValue) throws(Invalid) -> Void
    let read: @Sendable (DaemonConfig) -> TOMLValue

    /// The config file's section (`alsa`, `engine`, ...) and the key within it.
    public var section: Substring { key.split(separator: ".").first ?? "" }
    public var name: Substring { key.split(separator: ".").dropFirst().first ?? "" }

    /// Sets this setting of `config` from a value of the config file (or the command line); an
    /// expert key is recorded as given, so that it overrides the model's own value. Throws `Invalid`.
    public func set(_ config: inout DaemonConfig, _ value: TOMLValue) throws(Invalid) {
        try assign(&config, value)
        if audience == .expert { config.expertKeysGiven.insert(key) }
    }

    /// Sets it from the model's sampling metadata: the same checks, not recorded as given.
    func setFromModel(_ config: inout DaemonConfig, _ value: Double) throws(Invalid) {
        if case .integer = kind {
            guard value == value.rounded(), abs(value) < 1e15 else { throw Invalid(message: "expected an integer, got \(value)") }
            try assign(&config, .integer(Int(value)))
        } else {
            try assign(&config, .float(value))
        }
    }

    /// This setting's value in `config` (`DaemonConfig()`: the default).
    public func value(in config: DaemonConfig) -> TOMLValue { read(config) }

    /// The value of a command-line option, read as the config file would read it.
    public func value(commandLine text: String) throws(Invalid) -> TOMLValue {
        switch kind {
        case .number:
            guard let d = Double(text), d.isFinite else { throw Invalid(message: "expected a number, got \"\(text)\"") }
            return .float(d)
        case .integer:
            guard let i = Int(text) else {
                if case .integer(let r) = kind, let big = Double(text), big.rounded() == big {
                    throw Invalid(message: "must be between \(r.lowerBound) and \(r.upperBound), got \(text)")
                }
                throw Invalid(message: "expected an integer, got \"\(text)\"")
            }
            return .integer(i)
        case .flag:
            guard let b = Bool(text) else { throw Invalid(message: "expected true or false, got \"\(text)\"") }
            return .boolean(b)
        case .list:
            return .array(text.split(separator: ",").map { .string(String($0)) })
        case .note:
            if let i = Int(text) { return .integer(i) }
            return .string(text)
        case .choice, .text:
            return .string(text)
        }
    }

    /// `x` without a trailing ".0".
    public static func trimmed(_ x: Double) -> String { x == x.rounded() && abs(x) < 1e15 ? String(Int(x)) : String(x) }
}

// MARK: - Declaring settings

extension Setting {
    typealias Path<T> = WritableKeyPath<DaemonConfig, T> & Sendable

    private static func fail<T>(_ message: String) throws(Invalid) -> T { throw Invalid(message: message) }

    static func double(_ v: TOMLValue) throws(Invalid) -> Double {
        if case .float(let d) = v { return d }
        if case .integer(let i) = v { return Double(i) }
        return try fail("expected a number, got \(v.typeName)")
    }

    static func int(_ v: TOMLValue) throws(Invalid) -> Int {
        if case .integer(let i) = v { return i }
        return try fail("expected an integer, got \(v.typeName)")
    }

    static func string(_ v: TOMLValue) throws(Invalid) -> String {
        if case .string(let s) = v { return s }
        return try fail("expected a string, got \(v.typeName)")
    }

    static func bool(_ v: TOMLValue) throws(Invalid) -> Bool {
        if case .boolean(let b) = v { return b }
        return try fail("expected true or false, got \(v.typeName)")
    }

    static func within<T: Comparable>(_ x: T, _ r: ClosedRange<T>) throws(Invalid) -> T {
        guard r.contains(x) else { return try fail("must be between \(r.lowerBound) and \(r.upperBound), got \(x)") }
        return x
    }

    static func options(render: String?, run: String?) -> [Command: String] {
        var o: [Command: String] = [:]
        if let render { o[.render] = render }
        if let run { o[.run] = run }
        return o
    }

    static func number(_ key: String, _ path: Path<Double>, _ range: ClosedRange<Double>, _ audience: Audience, _ help: String,
                       detail: String = "", example: String? = nil, render: String? = nil, run: String? = nil) -> Setting {
        Setting(key: key, kind: .number(range), audience: audience, help: help, detail: detail, example: example,
                options: options(render: render, run: run),
                assign: { (c: inout DaemonConfig, v: TOMLValue) throws(Invalid) in c[keyPath: path] = try within(try double(v), range) },
                read: { .float($0[keyPath: path]) })
    }

    static func integer(_ key: String, _ path: Path<Int>, _ range: ClosedRange<Int>, _ audience: Audience, _ help: String,
                        detail: String = "", example: String? = nil, render: String? = nil, run: String? = nil) -> Setting {
        Setting(key: key, kind: .integer(range), audience: audience, help: help, detail: detail, example: example,
                options: options(render: render, run: run),
                assign: { (c: inout DaemonConfig, v: TOMLValue) throws(Invalid) in c[keyPath: path] = try within(try int(v), range) },
                read: { .integer($0[keyPath: path]) })
    }

    static func choice(_ key: String, _ path: Path<String>, _ choices: [String], _ audience: Audience, _ help: String,
                       detail: String = "", example: String? = nil, render: String? = nil, run: String? = nil) -> Setting {
        Setting(key: key, kind: .choice(choices), audience: audience, help: help, detail: detail, example: example,
                options: options(render: render, run: run),
                assign: { (c: inout DaemonConfig, v: TOMLValue) throws(Invalid) in
                    let s = try string(v)
                    guard choices.contains(s) else {
                        throw Invalid(message: "must be one of \(choices.joined(separator: ", ")), got \"\(s)\"")
                    }
                    c[keyPath: path] = s
                },
                read: { .string($0[keyPath: path]) })
    }

    static func text(_ key: String, _ path: Path<String>, _ audience: Audience, _ help: String,
                     detail: String = "", example: String? = nil, render: String? = nil, run: String? = nil) -> Setting {
        Setting(key: key, kind: .text, audience: audience, help: help, detail: detail, example: example,
                options: options(render: render, run: run),
                assign: { (c: inout DaemonConfig, v: TOMLValue) throws(Invalid) in c[keyPath: path] = try string(v) },
                read: { .string($0[keyPath: path]) })
    }

    static func flag(_ key: String, _ path: Path<Bool>, _ audience: Audience, _ help: String,
                     detail: String = "", example: String? = nil) -> Setting {
        Setting(key: key, kind: .flag, audience: audience, help: help, detail: detail, example: example, options: [:],
                assign: { (c: inout DaemonConfig, v: TOMLValue) throws(Invalid) in c[keyPath: path] = try bool(v) },
                read: { .boolean($0[keyPath: path]) })
    }

    static func list(_ key: String, _ path: Path<[String]>, _ audience: Audience, _ help: String, detail: String = "") -> Setting {
        Setting(key: key, kind: .list, audience: audience, help: help, detail: detail, example: nil, options: [:],
                assign: { (c: inout DaemonConfig, v: TOMLValue) throws(Invalid) in
                    guard case .array(let items) = v else { throw Invalid(message: "expected an array of strings, got \(v.typeName)") }
                    var strings: [String] = []
                    for item in items {
                        guard case .string(let s) = item else { throw Invalid(message: "expected an array of strings") }
                        strings.append(s)
                    }
                    c[keyPath: path] = strings
                },
                read: { .array($0[keyPath: path].map { .string($0) }) })
    }
}
