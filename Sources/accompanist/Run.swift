import ArgumentParser
import Config
import Engine
import Foundation
import Live
import Logging
import SafeFiles

/// `accompanist run`: the live daemon.
struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Listen to a MIDI keyboard and play an accompaniment, live.",
        discussion: """
            Opens an ALSA sequencer client with an input port (connect your keyboard) and an output \
            port (connect a DAW or a synth), and plays through FluidSynth. Settings come from the \
            config file (Configs/accompanist.toml; every key: `accompanist settings`, or docs/config.md); \
            these options and --set KEY=VALUE override it. A bad config value exits with status 78 and \
            names the key. Stop with SIGTERM or Ctrl-C: every sounding note is ended first.

            \(SettingOptions.help(for: .run))
            """)

    @Option(name: .shortAndLong, help: "Config file (default: $ACCOMPANIST_CONFIG, /etc/accompanist/accompanist.toml, ./Configs/accompanist.toml, else built-in defaults).")
    var config: String?

    @Option(name: .customLong("set"), parsing: .unconditionalSingleValue,
            help: ArgumentHelp("A setting by its config key (tempo.bpm=92), over the config file; the options in the description above are the same.",
                               valueName: "key=value"))
    var settingItems: [String] = []
    @Option(name: .customLong("input"), help: "Input port to connect (name or client:port); repeat for more. Replaces the config's list.") var inputs: [String] = []
    @Option(name: .customLong("output"), help: "Destination port to connect; repeat for more. Replaces the config's list.") var outputs: [String] = []
    @Flag(name: .customLong("no-sound"), help: "No FluidSynth: MIDI out only.") var noSound = false
    @Flag(name: .customLong("melody-passthrough"), help: "Also send the melody to the output port.") var melodyPassthrough = false
    @Option(parsing: .unconditional, help: "Stop after this many seconds (for tests and benchmarks).") var duration: Double?

    func loadConfig() throws -> (DaemonConfig, String) {
        let env = ProcessInfo.processInfo.environment["ACCOMPANIST_CONFIG"]
        let candidates = [config, env, "/etc/accompanist/accompanist.toml", "Configs/accompanist.toml"].compactMap { $0 }
        var c = DaemonConfig()
        var source = "built-in defaults"
        if let path = config ?? env {
            guard FileManager.default.fileExists(atPath: path) else { throw CLIError(message: "config file \(Echo.path(path)) not found", exitCode: DaemonConfig.exitCode) }
            c = try parse(path)
            source = path
        } else if let path = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }) {
            c = try parse(path)
            source = path
        }
        try SettingOptions.apply(settingItems, to: &c, command: .run)
        try c.setOption("alsa.inputs", inputs.isEmpty ? nil : .array(inputs.map { .string($0) }))
        try c.setOption("alsa.outputs", outputs.isEmpty ? nil : .array(outputs.map { .string($0) }))
        if noSound { try c.setOption("sound.enabled", .boolean(false)) }
        if melodyPassthrough { try c.setOption("midi.melody_passthrough", .boolean(true)) }
        do { try c.validate() } catch let p as DaemonConfig.Problem { throw CLIError(message: p.description, exitCode: DaemonConfig.exitCode) }
        return (c, source)
    }

    private func parse(_ path: String) throws -> DaemonConfig {
        do { return try DaemonConfig.load(path: path) } catch let p as DaemonConfig.Problem {
            throw CLIError(message: "\(Echo.path(path)): \(p)", exitCode: DaemonConfig.exitCode)
        }
    }

    func validate() throws {
        if let d = duration, !(d > 0) { throw ValidationError("--duration must be positive") }
    }

    func run() throws {
        let log = Logger(label: "accompanist")
        let (config, source) = try loadConfig()
        // The chart, before the model and before anything opens: a bad chart is one line naming
        // the file, line and cell (exit 65), a missing one exit 66.
        let harmony: LiveHarmony
        do { harmony = try LiveHarmony.load(config) } catch { throw CLIError(message: error.description, exitCode: error.exitCode) }
        // The same settings as `accompanist render` with the same options, so that a live
        // performance and a render of the same melody give the same notes.
        let settings = config.engineSettings
        let weights: String?
        do { weights = try settings.locateModel() }
        catch let e as ShippedModel.Failure { throw CLIError(message: "engine.model: \(e.description)", exitCode: DaemonConfig.exitCode) }
        // Loaded here, before READY=1: every buffer of the model is allocated now.
        // With the sampling values the model carries, where the config gives none.
        let engine: AccompanimentEngine
        let tuned: EngineSettings
        do {
            tuned = try config.engineSettings(forModelAt: weights)
            engine = try tuned.makeEngine(weights: weights)
        } catch let e as ShippedModel.Failure { throw CLIError(message: e.description, exitCode: 66) }
        let description = weights.map {
            "model \($0) (\(config.precision)), temperature \(tuned.neural.temperature), top-p \(tuned.neural.topP), chord guidance \(tuned.neural.chordGuidance), seed \(config.seed)"
        } ?? "rules (\(config.pattern)), seed \(config.seed)"
        let session = LiveSession(config: config, logger: log, duration: duration)
        do {
            try session.run(engine: engine, engineDescription: description, configSource: source, harmony: harmony)
        } catch let f as LiveSession.Failure {
            if case .noSequencer = f { throw CLIError.unavailable(f.description) }
            throw CLIError(message: f.description)
        }
    }
}

/// `accompanist ports`: the sequencer's ports, like `aseqdump -l`.
struct Ports: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the ALSA sequencer ports (sources you can connect as inputs, and destinations).")

    func run() throws {
        let seq: Sequencer
        do { seq = try Sequencer(clientName: "accompanist-ports") } catch let e as ALSAError { throw CLIError.unavailable(e.description) }
        print(" Port    Client name                      Port name                        Direction")
        for p in seq.ports() where p.client != seq.clientID && (p.isReadable || p.isWritable) {
            let dir = [p.isReadable ? "source" : nil, p.isWritable ? "destination" : nil].compactMap { $0 }.joined(separator: ", ")
            func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }
            print(" \(pad(p.address, 7)) \(pad(p.clientName, 32)) \(pad(p.portName, 32)) \(dir)")
        }
    }
}
