import Foundation
import Logging
import MIDI
import Rendering
import XCTest

/// `RenderSession`, the library behind `accompanist render`, used without the command line.
final class RenderSessionTests: XCTestCase {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    func temporary(_ name: String) -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("render-session-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        return dir.appendingPathComponent(name).path
    }

    /// A render writes the accompanied file and the engine's events; the same session again
    /// writes the same bytes.
    func testARenderWritesItsFilesAndRepeatsItself() throws {
        let input = Self.repository.appendingPathComponent("Examples/twinkle.mid").path
        var session = RenderSession(input: input, output: temporary("a.mid"))
        session.config.engine = "rules"
        session.events = temporary("a.jsonl")
        try session.run(log: Logger(label: "test"))
        let first = try Data(contentsOf: URL(fileURLWithPath: session.output))
        let file = try MIDIFile(data: first)
        XCTAssertEqual(file.tracks.last?.name, "Accompaniment")
        XCTAssertFalse(file.tracks.last!.notes.isEmpty, "it played")
        let events = try String(contentsOfFile: session.events!, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(events.filter { !$0.contains("\"velocity\": 0}") }.count, file.tracks.last!.notes.count)
        session.output = temporary("b.mid")
        session.events = nil
        try session.run(log: Logger(label: "test"))
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: session.output)), first)
    }

    /// Failures are one line with their exit status, and write nothing.
    func testFailuresCarryTheirExitStatus() throws {
        let input = Self.repository.appendingPathComponent("Examples/twinkle.mid").path
        var session = RenderSession(input: input, output: temporary("x.mid"))
        session.config.engine = "rules"
        session.melodyTrack = "Strings"
        XCTAssertThrowsError(try session.run(log: Logger(label: "test"))) { e in
            XCTAssertEqual((e as? RenderFailure)?.exitCode, 65)
            XCTAssertTrue((e as? RenderFailure)?.message.contains("no track \"Strings\"") ?? false, "\(e)")
        }
        session.input = temporary("missing.mid")
        session.melodyTrack = nil
        XCTAssertThrowsError(try session.run(log: Logger(label: "test"))) { XCTAssertEqual(($0 as? RenderFailure)?.exitCode, 66) }
        XCTAssertFalse(FileManager.default.fileExists(atPath: session.output))
    }
}
