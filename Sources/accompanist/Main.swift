import ArgumentParser
import Benchmarking
import Config
import Foundation
import Logging
import Rendering
import SafeFiles

/// `accompanist`: the command line. Subcommands live in their own files.
struct Accompanist: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "accompanist",
        abstract: "A real-time MIDI accompanist: hears a melody, plays a piano accompaniment to it.",
        version: "0.1.0",
        subcommands: [Run.self, Render.self, Ports.self, Evaluate.self, Bench.self, MemoryCommand.self, SettingsCommand.self])
}

/// Prints one line per error on stderr (not the usage text) and exits non-zero; `--help` and
/// `--version` still print in full.
@main
enum Main {
    static func main() {
        let level = ProcessInfo.processInfo.environment["ACCOMPANIST_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
        LoggingSystem.bootstrap { _ in PlainLogHandler(logLevel: level) }
        do {
            var command = try Accompanist.parseAsRoot(arguments(Array(CommandLine.arguments.dropFirst())))
            try command.run()
        } catch let error as CLIError {
            printError(error.message)
            Foundation.exit(error.exitCode)
        } catch let failure as BenchFailure {
            printError(failure.message)
            Foundation.exit(failure.exitCode)
        } catch let failure as RenderFailure {
            printError(failure.message)
            Foundation.exit(failure.exitCode)
        } catch let problem as FileProblem {
            printError(problem.description)
            Foundation.exit(problem.exitCode)
        } catch {
            let code = Accompanist.exitCode(for: error)
            if code == .success { Accompanist.exit(withError: error) }  // help, version
            let message = Accompanist.message(for: error).split(separator: "\n").first.map(String.init) ?? "\(error)"
            let clean = message.hasPrefix("Error: ") ? String(message.dropFirst(7)) : message
            printError(clean)
            Foundation.exit(code.rawValue == 0 ? 1 : code.rawValue)
        }
    }

    /// The command line with the settings' options of `run` and `render` rewritten for
    /// ArgumentParser (`SettingOptions.rewrite`).
    static func arguments(_ args: [String]) -> [String] {
        guard let first = args.first, let command = Setting.Command(rawValue: first) else { return args }
        return [first] + SettingOptions.rewrite(Array(args.dropFirst()), command: command)
    }

    /// One line on stderr, safe to print: whatever input it echoes, no control character
    /// reaches the terminal and the line stays short (`Echo.line`).
    static func printError(_ message: String) {
        FileHandle.standardError.write(Data("accompanist: \(Echo.line(message))\n".utf8))
    }
}

/// A failure with its one-line message and exit code (sysexits.h where one fits).
struct CLIError: Error {
    var message: String
    var exitCode: Int32 = 1

    static func input(_ message: String) -> CLIError { CLIError(message: message, exitCode: 65) }   // EX_DATAERR
    static func noInput(_ message: String) -> CLIError { CLIError(message: message, exitCode: 66) } // EX_NOINPUT
    static func cannotCreate(_ message: String) -> CLIError { CLIError(message: message, exitCode: 73) } // EX_CANTCREAT
    static func usage(_ message: String) -> CLIError { CLIError(message: message, exitCode: 64) }        // EX_USAGE
    /// A file problem with its own exit status (66, 65, 73 or 64, by kind).
    static func file(_ problem: FileProblem) -> CLIError { CLIError(message: problem.description, exitCode: problem.exitCode) }
    static func unavailable(_ message: String) -> CLIError { CLIError(message: message, exitCode: 69) } // EX_UNAVAILABLE
}
