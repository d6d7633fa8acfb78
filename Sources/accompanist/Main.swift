import ArgumentParser
import Foundation
import Logging

/// `accompanist`: the command line. Subcommands live in their own files.
struct Accompanist: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "accompanist",
        abstract: "A real-time MIDI accompanist: hears a melody, plays a piano accompaniment to it.",
        version: "0.1.0",
        subcommands: [Run.self, Render.self, Ports.self, Evaluate.self, Bench.self, MemoryCommand.self])
}

/// Prints one line per error on stderr (not the usage text) and exits non-zero; `--help` and
/// `--version` still print in full.
@main
enum Main {
    static func main() {
        let level = ProcessInfo.processInfo.environment["ACCOMPANIST_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
        LoggingSystem.bootstrap { _ in PlainLogHandler(logLevel: level) }
        do {
            var command = try Accompanist.parseAsRoot()
            try command.run()
        } catch let error as CLIError {
            FileHandle.standardError.write(Data("accompanist: \(error.message)\n".utf8))
            Foundation.exit(error.exitCode)
        } catch {
            let code = Accompanist.exitCode(for: error)
            if code == .success { Accompanist.exit(withError: error) }  // help, version
            let message = Accompanist.message(for: error).split(separator: "\n").first.map(String.init) ?? "\(error)"
            let clean = message.hasPrefix("Error: ") ? String(message.dropFirst(7)) : message
            FileHandle.standardError.write(Data("accompanist: \(clean)\n".utf8))
            Foundation.exit(code.rawValue == 0 ? 1 : code.rawValue)
        }
    }
}

/// A failure with its one-line message and exit code (sysexits.h where one fits).
struct CLIError: Error {
    var message: String
    var exitCode: Int32 = 1

    static func input(_ message: String) -> CLIError { CLIError(message: message, exitCode: 65) }   // EX_DATAERR
    static func noInput(_ message: String) -> CLIError { CLIError(message: message, exitCode: 66) } // EX_NOINPUT
    static func cannotCreate(_ message: String) -> CLIError { CLIError(message: message, exitCode: 73) } // EX_CANTCREAT
    static func unavailable(_ message: String) -> CLIError { CLIError(message: message, exitCode: 69) } // EX_UNAVAILABLE
}
