/// The documents generated from the settings table (`Settings.all`): the shipped config file
/// (Configs/accompanist.toml) and the config reference (docs/config.md). `accompanist settings
/// --toml` and `--markdown` print them; ConfigTests fail when the committed files differ, so a
/// setting cannot be added to the table and not to them.
public enum SettingsDocument {
    /// Configs/accompanist.toml: every key at its default, a musician's sections first, the
    /// engine's expert sampling constants last.
    public static func toml() -> String {
        var out = comment("""
            Accompanist configuration (`accompanist run --config PATH`; the systemd units read \
            /etc/accompanist/accompanist.toml). Every key is optional, and the values below are the defaults. \
            A key that is unknown, of the wrong type or out of range stops the daemon at start with exit \
            status 78 and one line naming the key. Command-line options override these \
            (`accompanist run --help`). Generated from the settings table (`accompanist settings --toml`); \
            the reference: docs/config.md.
            """)
        for (section, intro) in Settings.sections {
            out += "\n[\(section)]\n"
            out += comment(intro) + "\n"
            var expertSaid = false
            for s in Settings.all where s.section == section {
                if s.audience == .expert && !expertSaid {
                    out += "\n" + comment(Settings.expertNote)
                    expertSaid = true
                }
                out += comment(s.help + (s.kind.isChoiceOrNote ? "" : " (\(s.kind.summary))"))
                if !s.detail.isEmpty { out += comment(s.detail) }
                if let e = s.example { out += "# Example: \(s.name) = \(e)\n" }
                // An expert key set here would override the model's own value: left unset.
                out += (s.audience == .expert ? "# " : "") + "\(s.name) = \(tomlText(s.value(in: DaemonConfig())))\n"
            }
        }
        return out
    }

    /// docs/config.md: one table per section, then the longer notes.
    public static func markdown() -> String {
        var out = """
            # Configuration reference

            Generated from the settings table (`Sources/Config/Settings.swift`) by `accompanist settings --markdown`; \
            a test fails when this file or Configs/accompanist.toml falls behind it. Each key is set in the config \
            file (`[section]` then `name = value`), and where a command has an option for it, on that command's \
            line (`--option VALUE`, or `--set section.name=VALUE`). A value of the wrong type or out of range \
            exits 78 and names the key. *Expert* keys are the model engine's sampling constants: a model \
            carries the values it was tuned with in its weights file (the shipped one's were chosen on \
            validation songs, Models/README.md), and a key set in the config or on the command line \
            overrides the model's; the default column shows the built-in values, for a model that carries \
            none. A musician need not change them.

            """
        for (section, intro) in Settings.sections {
            out += "\n## [\(section)]\n\n\(intro)\n\n"
            out += "| key | value | default | option | what it does |\n|---|---|---|---|---|\n"
            var notes: [String] = []
            for s in Settings.all where s.section == section {
                let options = Setting.Command.allCases.compactMap { c in s.options[c].map { "`\(c.rawValue) --\($0)`" } }
                let who = s.audience == .expert ? " *Expert.*" : ""
                out += "| `\(s.name)` | \(cell(s.kind.summary)) | `\(tomlText(s.value(in: DaemonConfig())))` | \(options.joined(separator: ", ")) | \(cell(s.help))\(who) |\n"
                if !s.detail.isEmpty {
                    // Prose joined into one item; indented lines (an example) as a code block under it.
                    let lines = s.detail.split(separator: "\n", omittingEmptySubsequences: false)
                    var note = "- `\(s.key)`: " + lines.filter { !$0.hasPrefix(" ") }.joined(separator: " ")
                    let example = lines.filter { $0.hasPrefix(" ") }
                    if !example.isEmpty { note += "\n\n  ```toml\n" + example.map { "  \($0.dropFirst(2))" }.joined(separator: "\n") + "\n  ```" }
                    notes.append(note)
                }
            }
            if !notes.isEmpty { out += "\n" + notes.joined(separator: "\n") + "\n" }
        }
        return out
    }

    /// A value as the config file writes it.
    public static func tomlText(_ v: TOMLValue) -> String {
        switch v {
        case .string(let s):
            return "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        case .integer(let i): return String(i)
        case .float(let d): return d == d.rounded() && abs(d) < 1e15 ? "\(Int(d)).0" : String(d)
        case .boolean(let b): return b ? "true" : "false"
        case .array(let a): return "[" + a.map(tomlText).joined(separator: ", ") + "]"
        }
    }

    /// `text` as `#` comment lines of at most 98 characters; lines of `text` that begin with a
    /// space are kept as they are (examples).
    static func comment(_ text: String) -> String {
        var out = ""
        for paragraph in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if paragraph.hasPrefix(" ") { out += "# \(paragraph)\n"; continue }
            var line = "#"
            for word in paragraph.split(separator: " ") {
                if line.count + 1 + word.count > 98 && line != "#" {
                    out += line + "\n"
                    line = "#"
                }
                line += " " + word
            }
            out += line + "\n"
        }
        return out
    }

    /// Text safe in a Markdown table cell.
    static func cell(_ text: String) -> String { text.replacingOccurrences(of: "|", with: "\\|") }
}

extension Setting.Kind {
    /// Whether the help already names the values (a choice, a note).
    var isChoiceOrNote: Bool {
        switch self {
        case .choice, .note, .flag, .text, .list: return true
        case .number, .integer: return false
        }
    }
}
