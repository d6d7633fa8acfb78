import Config
import Foundation
import XCTest
@testable import accompanist

/// `run` (from its config file) and `render` (from its options) reach the engine through the same
/// keys and the same mapping: the same settings give the same engine.
final class EngineSettingsAgreementTests: XCTestCase {
    func config(_ text: String) throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("cfg-\(UUID().uuidString).toml")
        try Data(text.utf8).write(to: url)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url.path
    }

    func testSameSettingsSameEngine() throws {
        let path = try config("""
            [engine]
            engine = "rules"
            precision = "fp32"
            seed = 11
            pattern = "broken"
            temperature = 0.8
            top_p = 0.9
            chord_guidance = 2.5
            max_note_beats = 3
            above_melody = 5
            estimate_density = 2.5
            estimate_confidence_density = 4.0
            estimate_chord_stacking = 1.5
            estimate_release = 0.55
            estimate_floor = 0.65
            [tempo]
            beats_per_bar = 3
            """)
        let (runConfig, _) = try Run.parse(["--config", path]).loadConfig()
        let render = try Render.parse(Main.arguments(["render", "in.mid", "-o", "out.mid", "--engine", "rules", "--precision", "fp32", "--seed", "11",
                                       "--pattern", "broken", "--temperature", "0.8", "--top-p", "0.9",
                                       "--chord-guidance", "2.5", "--max-note-beats", "3", "--above-melody", "5",
                                       "--estimate-density", "2.5", "--estimate-confidence-density", "4", "--estimate-chord-stacking", "1.5",
                                       "--estimate-release", "0.55", "--estimate-floor", "0.65"]).dropFirst().map { $0 })
        let rendered = try render.engineSettings(beatsPerBar: 3)
        XCTAssertEqual(rendered.neural, runConfig.engineSettings.neural)
        XCTAssertEqual(rendered, runConfig.engineSettings)
        XCTAssertEqual(rendered.neural.aboveMelody, 5)
        XCTAssertEqual(rendered.neural.estimateChordStacking, 1.5)
        XCTAssertEqual(rendered.neural.estimateRelease, 0.55)
        XCTAssertEqual(rendered.neural.estimateFloor, 0.65)
        // -1 (off) is a value, not an option.
        let off = try Render.parse(Main.arguments(["render", "in.mid", "-o", "out.mid", "--above-melody", "-1"]).dropFirst().map { $0 })
            .engineSettings(beatsPerBar: 4)
        XCTAssertEqual(off.neural.aboveMelody, -1)
    }

    /// Without options, render plays with the daemon's defaults: pitch range, polyphony,
    /// listening and note length included.
    func testDefaultsAgree() throws {
        let (runConfig, _) = try Run.parse(["--config", try config("")]).loadConfig()
        let rendered = try Render.parse(["in.mid", "-o", "out.mid"]).engineSettings(beatsPerBar: 4)
        XCTAssertEqual(rendered, runConfig.engineSettings)
        XCTAssertEqual(rendered, DaemonConfig().engineSettings)
    }

    /// Every setting the table gives a command-line option reaches the engine's settings (or the
    /// daemon's config) through that option, and a value out of range exits 78 naming the option
    /// and its key: the options are the table's, not declared again.
    func testEveryTableOptionIsACommandLineOption() throws {
        for command in Setting.Command.allCases {
            for s in Settings.all {
                guard let option = s.options[command] else { continue }
                let value: String
                switch s.kind {
                case .number(let r): value = Setting.trimmed(r.upperBound)
                case .integer(let r): value = String(min(r.upperBound, 5_000))
                case .choice(let options): value = options.last!
                case .text, .list, .note: value = "x"
                case .flag: value = "true"
                }
                let args = Main.arguments([command.rawValue, "--\(option)", value]).dropFirst().map { $0 }
                XCTAssertEqual(args, ["--set", "\(option)=\(value)"], "\(command) --\(option)")
                var c = DaemonConfig()
                try SettingOptions.apply(["\(option)=\(value)"], to: &c, command: command)
                XCTAssertEqual(c, { var d = DaemonConfig(); try! s.set(&d, try! s.value(commandLine: value)); return d }(), s.key)
                if case .number(let r) = s.kind {
                    XCTAssertThrowsError(try SettingOptions.apply(["\(option)=\(r.upperBound + 1)"], to: &c, command: command)) { e in
                        let cli = e as? CLIError
                        XCTAssertEqual(cli?.exitCode, 78)
                        XCTAssertTrue(cli?.message.contains("--\(option) (\(s.key)): must be between") ?? false, "\(String(describing: cli))")
                    }
                }
            }
            // The help lists each of them.
            let help = command == .render ? Render.helpMessage() : Run.helpMessage()
            for s in Settings.all { if let o = s.options[command] { XCTAssertTrue(help.contains("--\(o) "), "\(command) --help lists --\(o)") } }
        }
        // --set takes a config key too (render: the engine's only), and says which keys it takes.
        var c = DaemonConfig()
        try SettingOptions.apply(["engine.listen_beats=4"], to: &c, command: .render)
        XCTAssertEqual(c.listenBeats, 4)
        XCTAssertThrowsError(try SettingOptions.apply(["tempo.bpm=90"], to: &c, command: .render)) { XCTAssertEqual(($0 as? CLIError)?.exitCode, 64) }
        try SettingOptions.apply(["tempo.bpm=90"], to: &c, command: .run)
        XCTAssertEqual(c.bpm, 90)
        XCTAssertThrowsError(try SettingOptions.apply(["temperature"], to: &c, command: .render)) {
            XCTAssertEqual(($0 as? CLIError)?.message, "--temperature (engine.temperature) needs a value")
        }
        // Negative values, `=` forms, and nothing after `--` rewritten.
        XCTAssertEqual(SettingOptions.rewrite(["--above-melody", "-1", "--seed=3", "--", "--seed", "4"], command: .render),
                       ["--set", "above-melody=-1", "--set", "seed=3", "--", "--seed", "4"])
        // A render option that is not run's stays as it is for ArgumentParser to refuse.
        XCTAssertEqual(SettingOptions.rewrite(["--temperature", "1"], command: .run), ["--temperature", "1"])
    }
}
