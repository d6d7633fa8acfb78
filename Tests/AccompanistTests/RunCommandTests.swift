import Foundation
import XCTest

/// `accompanist run` failures that need no sequencer (the live behaviour is tested in the VM,
/// Tests/LiveVM).
final class RunCommandTests: XCTestCase {
    func temp(_ text: String) throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("cfg-\(UUID().uuidString).toml")
        try Data(text.utf8).write(to: url)
        return url.path
    }

    func testBadConfigExits78NamingTheKey() throws {
        let cases: [(String, String)] = [
            ("[tempo]\nbpm = 900\n", "tempo.bpm: must be between 20.0 and 300.0, got 900.0"),
            ("[sound]\naudio_driver = \"oss\"\n", "sound.audio_driver: must be one of"),
            ("[alsa]\nnonsense = 1\n", "alsa.nonsense: unknown key"),
        ]
        for (text, fragment) in cases {
            let path = try temp(text)
            defer { try? FileManager.default.removeItem(atPath: path) }
            let r = try runAccompanist(["run", "--config", path])
            XCTAssertEqual(r.status, 78, r.stderr)
            XCTAssertEqual(r.stderr.split(separator: "\n").count, 1, r.stderr)
            XCTAssertTrue(r.stderr.contains(fragment), r.stderr)
        }
        let flag = try runAccompanist(["run", "--bpm", "7"])
        XCTAssertEqual(flag.status, 78)
        XCTAssertTrue(flag.stderr.contains("tempo.bpm"), flag.stderr)
        let missing = try runAccompanist(["run", "--config", "/no/such.toml"])
        XCTAssertEqual(missing.status, 78)
        XCTAssertTrue(missing.stderr.contains("/no/such.toml"), missing.stderr)
    }

    /// The chart is read before anything opens (the model, the sequencer): a bad chart is one line
    /// naming the file, line and cell, exit 65; a missing one exit 66. (On this host there is no
    /// sequencer: a chart read after opening it would exit 69 instead.)
    func testABadOrMissingChartStopsTheDaemonBeforeAnythingOpens() throws {
        let chart = try temp("| C | G7 |\n| F Hm |\n")
        let config = try temp("[engine]\nengine = \"rules\"\n[harmony]\nchart = \"\(chart)\"\n")
        defer { for p in [chart, config] { try? FileManager.default.removeItem(atPath: p) } }
        let bad = try runAccompanist(["run", "--config", config, "--no-sound"])
        XCTAssertEqual(bad.status, 65, bad.stderr)
        XCTAssertEqual(bad.stderr, "accompanist: \(chart):2: cell 2 of bar 3 (\"Hm\"): a chord symbol begins with a note letter A-G\n")
        let missingConfig = try temp("[harmony]\nchart = \"/no/such/song.chart\"\n")
        defer { try? FileManager.default.removeItem(atPath: missingConfig) }
        let missing = try runAccompanist(["run", "--config", missingConfig, "--no-sound"])
        XCTAssertEqual(missing.status, 66, missing.stderr)
        XCTAssertEqual(missing.stderr, "accompanist: harmony.chart: /no/such/song.chart: no such file\n")
    }

    func testNoSequencerIsOneLineAndExit69() throws {
        guard !FileManager.default.fileExists(atPath: "/dev/snd/seq") else { throw XCTSkip("this machine has a sequencer") }
        let path = try temp("[tempo]\nbpm = 90\n")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let r = try runAccompanist(["run", "--config", path, "--no-sound"])
        XCTAssertEqual(r.status, 69, r.stderr)
        let errors = r.stderr.split(separator: "\n").filter { $0.hasPrefix("accompanist:") }
        XCTAssertEqual(errors.count, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("/dev/snd/seq is missing"), r.stderr)
        XCTAssertFalse(r.stderr.contains("ALSA lib"), "libasound's own message is not shown")
        let ports = try runAccompanist(["ports"])
        XCTAssertEqual(ports.status, 69)
    }
}
