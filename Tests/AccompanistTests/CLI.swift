import Foundation

enum CLIPaths {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The `accompanist` binary built beside the test bundle, or `$ACCOMPANIST_TEST_BINARY`
    /// (to run these tests against another build, e.g. an older commit's, to see them fail).
    static var binary: URL {
        if let other = ProcessInfo.processInfo.environment["ACCOMPANIST_TEST_BINARY"], !other.isEmpty { return URL(fileURLWithPath: other) }
        var dir = Bundle.main.bundleURL
        if dir.pathExtension == "xctest" { dir.deleteLastPathComponent() }
        for candidate in [dir, URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()] {
            let url = candidate.appendingPathComponent("accompanist")
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        return repository.appendingPathComponent(".build/debug/accompanist")
    }
}

struct CLIResult { var status: Int32; var stdout: String; var stderr: String }

/// Runs the binary as a user does, with an optional environment.
func runAccompanist(_ args: [String], environment: [String: String]? = nil) throws -> CLIResult {
    let p = Process()
    p.executableURL = CLIPaths.binary
    p.arguments = args
    if let environment { p.environment = environment }
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    try p.run()
    // Both pipes are drained at once: a child that writes more than a pipe holds to stderr
    // (64 KB) while the test reads stdout would otherwise wait forever.
    let stderrData = PipeData()
    let reader = Thread {
        stderrData.data = err.fileHandleForReading.readDataToEndOfFile()
        stderrData.done.signal()
    }
    reader.start()
    let o = out.fileHandleForReading.readDataToEndOfFile()
    stderrData.done.wait()
    let e = stderrData.data
    p.waitUntilExit()
    return CLIResult(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
}

final class PipeData: @unchecked Sendable {
    // @unchecked Sendable: `data` is written by the reader thread before `done` is signalled and
    // read only after waiting on it.
    var data = Data()
    let done = DispatchSemaphore(value: 0)
}
