import ArgumentParser
import Config

/// `accompanist settings`: every setting, from the one table that declares them
/// (`Settings.all`): its key, value, default and options; or the documents made from it.
struct SettingsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "settings",
        abstract: "List every setting: its config key, values, default and command-line option.",
        discussion: "--toml prints the shipped config file (Configs/accompanist.toml), --markdown the reference (docs/config.md); both are made from the same table.")

    @Flag(help: "Print the config file with every key at its default.")
    var toml = false

    @Flag(help: "Print the configuration reference in Markdown.")
    var markdown = false

    @Flag(help: "Also list the expert sampling constants.")
    var expert = false

    func validate() throws {
        if toml && markdown { throw ValidationError("--toml and --markdown print different documents: give one") }
    }

    func run() throws {
        if toml { print(SettingsDocument.toml(), terminator: ""); return }
        if markdown { print(SettingsDocument.markdown(), terminator: ""); return }
        for (section, _) in Settings.sections {
            let settings = Settings.all.filter { $0.section == section && (expert || $0.audience == .musician) }
            guard !settings.isEmpty else { continue }
            print("[\(section)]")
            for s in settings {
                let options = Setting.Command.allCases.compactMap { c in s.options[c].map { "\(c.rawValue) --\($0)" } }
                print("  \(s.name) = \(SettingsDocument.tomlText(s.value(in: DaemonConfig())))   (\(s.kind.summary)\(options.isEmpty ? "" : "; " + options.joined(separator: ", ")))")
                print("      \(s.help)")
            }
        }
        if !expert { print("(--expert also lists the \(Settings.all.filter { $0.audience == .expert }.count) expert sampling constants)") }
    }
}
