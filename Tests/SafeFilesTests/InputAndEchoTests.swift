import Foundation
import SafeFiles
import XCTest

final class InputFileTests: XCTestCase {
    func testEveryKindOfNonFileIsNamedInWords() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("in-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        XCTAssertEqual(mkfifo(dir + "/fifo", 0o600), 0)
        XCTAssertEqual(symlink("/dev/zero", dir + "/zero"), 0)
        let cases: [(String, String)] = [
            (dir, "is a directory, not a regular file"),
            (dir + "/fifo", "is a FIFO, not a regular file"),          // must not hang
            (dir + "/zero", "is a character device, not a regular file"),  // must not read forever
            (dir + "/missing", "no such file"),
        ]
        for (path, words) in cases {
            XCTAssertThrowsError(try InputFile.read(path)) {
                let p = $0 as? FileProblem
                XCTAssertEqual(p?.kind, .input, path)
                XCTAssertTrue(p?.description.hasSuffix(words) == true, "\(path): \($0)")
                XCTAssertFalse("\($0)".contains("Domain"), "no Foundation error domain")
            }
        }
        _ = FileManager.default.createFile(atPath: dir + "/big", contents: Data(count: 100))
        XCTAssertThrowsError(try InputFile.read(dir + "/big", limit: 10)) { XCTAssertTrue("\($0)".contains("too large"), "\($0)") }
        XCTAssertEqual(try InputFile.read(dir + "/big").count, 100)
    }

    func testInvalidUTF8IsLocatedByByteAndLine() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("bad-\(UUID().uuidString).chart").path
        defer { unlink(path) }
        _ = FileManager.default.createFile(atPath: path, contents: Data("| C |\n| Dm ".utf8) + Data([0xC3, 0x28]) + Data(" |\n".utf8))
        XCTAssertThrowsError(try InputFile.readUTF8(path)) {
            XCTAssertTrue("\($0)".hasSuffix("is not UTF-8 text at byte 12, line 2"), "\($0)")
            XCTAssertEqual(($0 as? FileProblem)?.kind, .data)
        }
    }

    func testUTF8CheckAgreesWithTheStandardLibrary() {
        var rng = SystemRandomNumberGenerator()
        let samples: [[UInt8]] = [Array("Cmaj7 – F♯m7♭5 🎹".utf8), [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xC0, 0xAF], [0xE2, 0x82]]
            + (0..<2000).map { _ in (0..<Int.random(in: 0..<8, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) } }
        for s in samples {
            let valid = String(validating: s, as: UTF8.self) != nil
            XCTAssertEqual(UTF8Check.firstInvalidByte(s) == nil, valid, "\(s)")
        }
        XCTAssertEqual(UTF8Check.firstInvalidByte([0x41, 0xC3, 0x28]), 1)
    }
}

final class EchoTests: XCTestCase {
    func testControlCharactersAreEscaped() {
        XCTAssertEqual(Echo.text("a\nb\tc\u{1B}[31md\r\u{7F}\u{9B}"), "a\\nb\\tc\\e[31md\\r\\u{7f}\\u{9b}")
        XCTAssertEqual(Echo.text("C#m7/G♯ Übung"), "C#m7/G♯ Übung", "printable text is kept as it is")
        XCTAssertEqual(Echo.text("x\u{202E}y"), "x\\u{202e}y", "a bidi override cannot reorder the line")
        XCTAssertFalse(Echo.line(String(repeating: "\n", count: 10)).contains("\n"))
    }

    func testLongInputIsCut() {
        let chord = String(repeating: "C", count: 100_000)
        let e = Echo.text(chord)
        XCTAssertLessThan(e.count, 120)
        XCTAssertTrue(e.hasSuffix("…(+99920 characters)"), e)
        XCTAssertLessThanOrEqual(Echo.line(chord).count, Echo.lineLimit + 30)
    }
}
