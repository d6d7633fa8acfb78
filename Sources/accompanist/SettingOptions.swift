import Config

/// The settings on the command line: each setting that `Settings.all` gives an option for
/// `run` or `render` (`--temperature 0.7`, `--seed=3`), and `--set KEY=VALUE` for any other key
/// a command takes. None of them is declared again here: `rewrite` turns the table's options
/// into `--set OPTION=VALUE` items before ArgumentParser reads the command line, and `apply`
/// sets them through the table, so a bad value exits 78 and names the option and the key, as a
/// bad config file does.
enum SettingOptions {
    /// Turns `--OPTION VALUE` and `--OPTION=VALUE` of `command`'s settings into
    /// `--set OPTION=VALUE`; everything else is kept, in order. Nothing after `--` is touched.
    static func rewrite(_ arguments: [String], command: Setting.Command) -> [String] {
        var out: [String] = []
        var i = 0
        while i < arguments.count {
            let a = arguments[i]
            if a == "--" { out += arguments[i...]; break }
            if a.hasPrefix("--") {
                let body = a.dropFirst(2)
                let name = body.split(separator: "=", maxSplits: 1).first.map(String.init) ?? ""
                if Settings.setting(option: name, of: command) != nil {
                    if body.contains("=") {
                        out += ["--set", String(body)]
                    } else if i + 1 < arguments.count {
                        out += ["--set", "\(name)=\(arguments[i + 1])"]
                        i += 1
                    } else {
                        out += ["--set", name]  // no value: `apply` says so
                    }
                    i += 1
                    continue
                }
            }
            out.append(a)
            i += 1
        }
        return out
    }

    /// Sets each `--set` item (`OPTION=VALUE` of the command's options, or `KEY=VALUE` of a
    /// config key it takes: any for `run`, the engine's for `render`) on `config`, in order.
    static func apply(_ items: [String], to config: inout DaemonConfig, command: Setting.Command) throws {
        for item in items {
            let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = String(parts[0])
            let byOption = Settings.setting(option: name, of: command)
            let label = byOption != nil ? "--\(name) (\(byOption!.key))" : name
            guard let setting = byOption ?? Settings.byKey[name].flatMap({ takes($0, command) ? $0 : nil }) else {
                let keys = command == .render ? "an engine key (engine.NAME)" : "a config key (section.name)"
                throw CLIError.usage("--set \(name): not an option of \(command.rawValue) or \(keys); see docs/config.md")
            }
            guard parts.count == 2 else { throw CLIError(message: "\(label) needs a value", exitCode: DaemonConfig.exitCode) }
            do {
                try setting.set(&config, try setting.value(commandLine: String(parts[1])))
            } catch {
                throw CLIError(message: "\(label): \(error.message)", exitCode: DaemonConfig.exitCode)
            }
        }
    }

    /// Whether `--set KEY=VALUE` may name `setting` on `command`'s command line.
    static func takes(_ setting: Setting, _ command: Setting.Command) -> Bool {
        command == .run || setting.section == "engine"
    }

    /// The command's setting options, one short line each (for its `--help`; what each does is
    /// in `accompanist settings` and docs/config.md).
    static func help(for command: Setting.Command) -> String {
        Settings.all.compactMap { s -> String? in
            guard let option = s.options[command] else { return nil }
            let range: String
            switch s.kind {
            case .number(let r): range = "\(Setting.trimmed(r.lowerBound))…\(Setting.trimmed(r.upperBound))"
            case .integer(let r): range = r.upperBound == Int.max ? "≥ \(r.lowerBound)" : "\(r.lowerBound)…\(r.upperBound)"
            case .choice(let options): range = options.joined(separator: "|")
            case .note: range = "note"
            case .flag: range = "true|false"
            case .text, .list: range = "text"
            }
            let value = s.value(in: DaemonConfig())
            let shown: String
            switch value {
            case .string(let t): shown = t.isEmpty ? "" : ", default \(t)"
            case .float(let d): shown = ", default \(Setting.trimmed(d))"
            default: shown = ", default \(value)"
            }
            return "--\(option) \(range)\(shown) (\(s.key))"
        }.joined(separator: "\n")
    }
}
