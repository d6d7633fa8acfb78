import Foundation
import MIDI
import XCTest

/// Issue #27's probes, run as a user runs the binary: every defect it lists has a test here that
/// failed on 0006f27 (run them against another build with ACCOMPANIST_TEST_BINARY=path). The
/// tests that need root (another user's file, /dev/null) run as root in the test suite, on
/// throw-away paths; /dev/null and /dev/full are only written through, never replaced.
final class FileSafetyCommandTests: XCTestCase {
    static let repository = CLIPaths.repository
    var temp: String!

    override func setUpWithError() throws {
        temp = FileManager.default.temporaryDirectory.appendingPathComponent("file-safety-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: temp, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: temp) }

    var ode: String { Self.repository.appendingPathComponent("Examples/ode_to_joy.mid").path }
    var tinyModel: String { Self.repository.appendingPathComponent("Tests/Fixtures/model/tiny.safetensors").path }

    func run(_ args: [String]) throws -> CLIResult { try runAccompanist(args) }
    /// A render with the rules engine (fast, and no model needed) of the ode to `output`.
    func render(_ output: String, _ more: [String] = []) throws -> CLIResult { try run(["render", ode, "-o", output, "--engine", "rules"] + more) }
    func path(_ name: String) -> String { temp + "/" + name }
    func bytes(_ p: String) -> [UInt8] { [UInt8](FileManager.default.contents(atPath: p) ?? Data()) }
    func lstatOf(_ p: String) -> stat { var s = stat(); XCTAssertEqual(lstat(p, &s), 0, p); return s }
    func put(_ p: String, _ text: String) throws { try Data(text.utf8).write(to: URL(fileURLWithPath: p)) }
    func hidden() -> [String] { ((try? FileManager.default.contentsOfDirectory(atPath: temp)) ?? []).filter { $0.hasPrefix(".") } }

    // MARK: 1. -o and --wav never destroy what is at the path

    func testOutputToACharacterDeviceIsWrittenThroughAndTheDeviceStays() throws {
        let before = lstatOf("/dev/null")
        let r = try render("/dev/null")
        XCTAssertEqual(r.status, 0, r.stderr)
        let after = lstatOf("/dev/null")
        XCTAssertEqual(after.st_mode & S_IFMT, S_IFCHR, "/dev/null is still a character device")
        XCTAssertEqual(after.st_rdev, before.st_rdev)
        XCTAssertEqual(after.st_ino, before.st_ino)
        let full = try render("/dev/full")
        XCTAssertEqual(full.status, 73, full.stderr)
        XCTAssertTrue(full.stderr.contains("/dev/full: cannot write: no space left on the device"), full.stderr)
        XCTAssertEqual(lstatOf("/dev/full").st_mode & S_IFMT, S_IFCHR, "/dev/full is still a character device")
    }

    func testOutputToAFIFOIsWrittenThroughToItsReader() throws {
        let fifo = path("pipe.mid")
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        let got = PipeData()
        let reader = Thread {
            if let handle = FileHandle(forReadingAtPath: fifo) { got.data = handle.readDataToEndOfFile() }
            got.done.signal()
        }
        reader.start()
        let r = try render(fifo)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(got.done.wait(timeout: .now() + 300), .success, "the reader reached the end of the FIFO")
        XCTAssertNoThrow(try MIDIFile(data: got.data), "the reader got the whole MIDI file")
        XCTAssertEqual(lstatOf(fifo).st_mode & S_IFMT, S_IFIFO, "still a FIFO")
    }

    func testOutputThroughASymlinkWritesItsTargetAndKeepsTheLink() throws {
        let target = path("real.mid"), link = path("link.mid")
        try put(target, "old")
        XCTAssertEqual(symlink("real.mid", link), 0)
        let r = try render(link)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(lstatOf(link).st_mode & S_IFMT, S_IFLNK, "the link is still a link")
        XCTAssertEqual(hidden(), [], "no temporary file left")
        XCTAssertNoThrow(try MIDIFile(data: Data(bytes(target))), "its target holds the output")
    }

    func testAReadOnlyOutputIsRefusedAndKept() throws {
        let p = path("keep.mid")
        try put(p, "precious")
        chmod(p, 0o444)
        let r = try render(p)
        XCTAssertEqual(r.status, 73, r.stderr)
        XCTAssertTrue(r.stderr.contains("is read-only (mode 444)"), r.stderr)
        XCTAssertEqual(String(decoding: bytes(p), as: UTF8.self), "precious")
        XCTAssertEqual(lstatOf(p).st_mode & 0o7777, 0o444)
        XCTAssertEqual(hidden(), [], "no temporary file left")
    }

    func testAnotherUsersFileKeepsItsOwnerAndMode() throws {
        try XCTSkipUnless(geteuid() == 0, "needs root to make a file of another user (the test suite runs as root)")
        for p in [path("theirs.mid"), path("theirs.wav")] {
            try put(p, "theirs")
            XCTAssertEqual(chown(p, 1234, 2345), 0)
            XCTAssertEqual(chmod(p, 0o600), 0)
        }
        // --wav too, where a soundfont is installed (scripts/setup.sh installs one).
        let soundfont = ["/usr/share/sounds/sf2/default-GM.sf2", "/usr/share/sounds/sf2/TimGM6mb.sf2"].contains { FileManager.default.fileExists(atPath: $0) }
        let r = try render(path("theirs.mid"), soundfont ? ["--wav", path("theirs.wav")] : [])
        XCTAssertEqual(r.status, 0, r.stderr)
        for p in [path("theirs.mid")] + (soundfont ? [path("theirs.wav")] : []) {
            let s = lstatOf(p)
            XCTAssertEqual(s.st_uid, 1234, p)
            XCTAssertEqual(s.st_gid, 2345, p)
            XCTAssertEqual(s.st_mode & 0o7777, 0o600, p)
        }
        XCTAssertNoThrow(try MIDIFile(data: Data(bytes(path("theirs.mid")))))
        if soundfont { XCTAssertEqual(Array(bytes(path("theirs.wav")).prefix(4)), Array("RIFF".utf8)) }
        XCTAssertEqual(hidden(), [], "no temporary file left")
    }

    // MARK: 2. An output that is the input is refused before anything is read

    func testAnOutputThatIsTheInputIsRefusedWithExit64() throws {
        let input = path("song.mid")
        let original = bytes(ode)
        try Data(original).write(to: URL(fileURLWithPath: input))
        XCTAssertEqual(link(input, path("hard.mid")), 0)
        XCTAssertEqual(symlink("song.mid", path("soft.mid")), 0)
        for out in [input, path("hard.mid"), path("soft.mid"), temp + "/./song.mid"] {
            let r = try run(["render", input, "-o", out, "--engine", "rules"])
            XCTAssertEqual(r.status, 64, "\(out): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains("is the same file as the input"), r.stderr)
            XCTAssertEqual(bytes(input), original, "the input is untouched")
        }
        let wav = try run(["render", input, "-o", path("out.mid"), "--wav", input, "--engine", "rules"])
        XCTAssertEqual(wav.status, 64, wav.stderr)
        let chart = path("song.chart")
        try put(chart, "| C | G | C | G |")
        let r = try run(["render", input, "-o", path("out.mid"), "--chart", chart, "--events", chart, "--engine", "rules"])
        XCTAssertEqual(r.status, 64, r.stderr)
        XCTAssertEqual(String(decoding: bytes(chart), as: UTF8.self), "| C | G | C | G |")
        // Before reading anything: even an input that is no MIDI file is refused for this first.
        try put(path("junk.mid"), "junk")
        XCTAssertEqual(try run(["render", path("junk.mid"), "-o", path("junk.mid")]).status, 64)
        XCTAssertEqual(String(decoding: bytes(path("junk.mid")), as: UTF8.self), "junk")
        XCTAssertFalse(FileManager.default.fileExists(atPath: path("out.mid")))
    }

    // MARK: 3, 4. The memory: forget checks every id first; retention keeps the newest take

    func memory() -> String { path("memory") }

    /// A take file written as an earlier version wrote it (no sequence), dated `date`.
    func writeTake(id: String, date: String, in dir: String) throws {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try put(dir + "/\(id).take.json", """
            {"beatsPerBar":4,"bpm":100,"chordSource":"chart","chords":["C","C","G","G"],"format":"accompanist-take","id":"\(id)",\
            "melody":[{"end":8,"pitch":64,"start":0}],"recorded":"\(date)","source":"old.mid","steps":32,"version":1}
            """)
    }

    func testForgetOfAGoodAndABadIdForgetsNothing() throws {
        try writeTake(id: "20260101T000000Z-aaaaaa", date: "2026-01-01T00:00:00Z", in: memory())
        try writeTake(id: "20260102T000000Z-bbbbbb", date: "2026-01-02T00:00:00Z", in: memory())
        let r = try run(["memory", "forget", "20260101T000000Z-aaaaaa", "20269999", "--memory", memory()])
        XCTAssertEqual(r.status, 66, r.stderr)
        XCTAssertTrue(r.stderr.contains("no take 20269999") && r.stderr.contains("nothing was forgotten"), r.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: memory() + "/20260101T000000Z-aaaaaa.take.json"), "the good take is kept")
        // One take by its full and its short id: forgotten once, reported, exit 0.
        let twice = try run(["memory", "forget", "20260101T000000Z-aaaaaa", "20260101T", "--memory", memory()])
        XCTAssertEqual(twice.status, 0, twice.stderr)
        XCTAssertTrue(twice.stdout.contains("forgot 20260101T000000Z-aaaaaa"), twice.stdout)
        XCTAssertFalse(FileManager.default.fileExists(atPath: memory() + "/20260101T000000Z-aaaaaa.take.json"))
    }

    func testAClockSetBackDoesNotLoseTheNewTake() throws {
        // 500 takes (the default limit) dated in 2099, as a box whose clock ran ahead wrote them.
        for i in 0..<500 { try writeTake(id: String(format: "20990101T%06dZ-aaaaaa", i), date: "2099-01-01T00:00:00Z", in: memory()) }
        let r = try render(path("out.mid"), ["--memory", memory()])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("forgot the 1 oldest"), r.stderr)
        let list = try run(["memory", "list", "--memory", memory()])
        XCTAssertEqual(list.status, 0, list.stderr)
        let lines = list.stdout.split(separator: "\n")
        XCTAssertEqual(lines.count, 500)
        XCTAssertTrue(lines.last?.contains("ode_to_joy.mid") == true, "the new take is kept, and listed last: \(lines.last ?? "")")
        XCTAssertFalse(FileManager.default.fileExists(atPath: memory() + "/20990101T000000Z-aaaaaa.take.json"), "the first stored is forgotten")
    }

    // MARK: 5. Weights with NaN or Inf are refused

    func testWeightsWithANaNAreRefusedNamingTheTensor() throws {
        var file = bytes(tinyModel)
        let headerLength = Int(file[0..<8].enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) })
        let header = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(file[8..<8 + headerLength])) as? [String: Any])
        // The first F32 tensor in the data area gets a NaN as its third element.
        let (name, begin) = try XCTUnwrap(header.compactMap { (key, value) -> (String, Int)? in
            guard let entry = value as? [String: Any], entry["dtype"] as? String == "F32", let offsets = entry["data_offsets"] as? [Int],
                  offsets[1] - offsets[0] >= 12 else { return nil }
            return (key, offsets[0])
        }.min { $0.1 < $1.1 })
        let at = 8 + headerLength + begin + 8
        withUnsafeBytes(of: Float.nan.bitPattern.littleEndian) { for i in 0..<4 { file[at + i] = $0[i] } }
        let damaged = path("nan.safetensors")
        try Data(file).write(to: URL(fileURLWithPath: damaged))
        let r = try run(["render", ode, "-o", path("out.mid"), "--engine", "model", "--model", damaged])
        XCTAssertEqual(r.status, 65, r.stderr)
        XCTAssertTrue(r.stderr.contains("tensor \(name) holds nan (element 2)"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: path("out.mid")))
    }

    // MARK: 6. Echoed input is escaped and cut

    func testAFileNameWithANewlineCannotForgeALineOfMemoryList() throws {
        let odd = path("a\nforged 20990101T000000Z-ffffff line.mid")
        try Data(bytes(ode)).write(to: URL(fileURLWithPath: odd))
        XCTAssertEqual(try run(["render", odd, "-o", path("out.mid"), "--engine", "rules", "--memory", memory()]).status, 0)
        let list = try run(["memory", "list", "--memory", memory()])
        XCTAssertEqual(list.stdout.split(separator: "\n").count, 1, list.stdout)
        XCTAssertTrue(list.stdout.contains("a\\nforged"), list.stdout)
    }

    func testEscapesAndHugeCellsDoNotReachTheTerminal() throws {
        let chart = path("evil.chart")
        try put(chart, "| C | \u{1B}[2J\u{1B}[31mRED | G |\n")
        let r = try run(["render", ode, "-o", path("out.mid"), "--engine", "rules", "--chart", chart])
        XCTAssertEqual(r.status, 65, r.stderr)
        XCTAssertFalse(r.stderr.contains("\u{1B}"), r.stderr)
        XCTAssertTrue(r.stderr.contains("\\e[2J"), r.stderr)

        try put(chart, "| C | " + String(repeating: "C", count: 100_000) + "x | G |\n")
        let huge = try run(["render", ode, "-o", path("out.mid"), "--engine", "rules", "--chart", chart])
        XCTAssertEqual(huge.status, 65, huge.stderr)
        XCTAssertLessThan(huge.stderr.utf8.count, 1000, "one short line, not 200 KB")
        XCTAssertEqual(huge.stderr.split(separator: "\n").count, 1)

        let config = path("evil.toml")
        try put(config, "[tempo]\n\"b\u{1B}]0;pwned\u{07}pm\" = 3\n")
        let c = try run(["run", "--config", config, "--duration", "1"])
        XCTAssertEqual(c.status, 78, c.stderr)
        XCTAssertFalse(c.stderr.contains("\u{1B}") || c.stderr.contains("\u{07}"), c.stderr)
    }

    // MARK: 7. Temporary files of an interrupted save are cleaned up

    func testLeftoversOfAKilledSaveAreRemovedAtTheNextOpen() throws {
        try writeTake(id: "20260101T000000Z-aaaaaa", date: "2026-01-01T00:00:00Z", in: memory())
        // A process id beyond pid_max: no such process runs.
        try put(memory() + "/.20260102T000000Z-bbbbbb.2147483600.tmp", "{")
        try put(memory() + "/.20260103T000000Z-cccccc.take.json.2147483600.partial", "{")
        let r = try run(["memory", "list", "--memory", memory()])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("removed 2 temporary files left by an interrupted save"), r.stderr)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: memory()), ["20260101T000000Z-aaaaaa.take.json"])
        // The same for an output file: a killed render's partial file goes at the next render.
        try put(path(".out.mid.2147483600.partial"), "partial")
        XCTAssertEqual(try render(path("out.mid")).status, 0)
        XCTAssertEqual(hidden(), [])
    }

    // MARK: 8. Clear messages and exit codes

    func testDirectoriesFIFOsAndDevicesAreNamedInWords() throws {
        try FileManager.default.createDirectory(atPath: path("dir"), withIntermediateDirectories: true)
        let asChart = try run(["render", ode, "-o", path("out.mid"), "--engine", "rules", "--chart", path("dir")])
        XCTAssertEqual(asChart.status, 66, asChart.stderr)
        XCTAssertTrue(asChart.stderr.contains("is a directory, not a regular file"), asChart.stderr)
        let asOutput = try render(path("dir"))
        XCTAssertEqual(asOutput.status, 73, asOutput.stderr)
        XCTAssertTrue(asOutput.stderr.contains("is a directory"), asOutput.stderr)
        for r in [asChart, asOutput] { XCTAssertFalse(r.stderr.contains("Domain") || r.stderr.contains("error 256"), r.stderr) }
        // Takes that are a directory, a FIFO, a link to /dev/zero: named, and nothing hangs.
        try writeTake(id: "20260101T000000Z-aaaaaa", date: "2026-01-01T00:00:00Z", in: memory())
        try FileManager.default.createDirectory(atPath: memory() + "/20260102T000000Z-dddddd.take.json", withIntermediateDirectories: true)
        XCTAssertEqual(mkfifo(memory() + "/20260103T000000Z-ffffff.take.json", 0o600), 0)
        XCTAssertEqual(symlink("/dev/zero", memory() + "/20260104T000000Z-zzzzzz.take.json"), 0)
        let list = try run(["memory", "list", "--memory", memory()])
        XCTAssertEqual(list.status, 0, list.stderr)
        XCTAssertTrue(list.stderr.contains("dddddd.take.json: is a directory"), list.stderr)
        XCTAssertTrue(list.stderr.contains("ffffff.take.json: is a FIFO"), list.stderr)
        XCTAssertTrue(list.stderr.contains("zzzzzz.take.json: is a character device"), list.stderr)
        let show = try run(["memory", "show", "20260103", "--memory", memory()])
        XCTAssertEqual(show.status, 66, show.stderr)
        XCTAssertTrue(show.stderr.contains("is a FIFO"), show.stderr)
    }

    func testMemoryOfAMissingOrWrongDirectoryAndADamagedTake() throws {
        let missing = try run(["memory", "list", "--memory", path("nowhere")])
        XCTAssertEqual(missing.status, 66, missing.stderr)
        XCTAssertTrue(missing.stderr.contains("no such memory directory"), missing.stderr)
        try put(path("file"), "x")
        let file = try run(["memory", "list", "--memory", path("file")])
        XCTAssertEqual(file.status, 66, file.stderr)
        XCTAssertTrue(file.stderr.contains("is not a directory"), file.stderr)
        try FileManager.default.createDirectory(atPath: memory(), withIntermediateDirectories: true)
        try put(memory() + "/20260101T000000Z-aaaaaa.take.json", #"{"format": "accompanist-take", "version": 1, "id": "x"}"#)
        let show = try run(["memory", "show", "20260101", "--memory", memory()])
        XCTAssertEqual(show.status, 65, show.stderr)
        XCTAssertTrue(show.stderr.contains("take 20260101T000000Z-aaaaaa: damaged"), show.stderr)
    }

    func testTheConductorTrackIsNamedAsSuch() throws {
        let r = try render(path("out.mid"), ["--chord-track", "1"])
        XCTAssertEqual(r.status, 65, r.stderr)
        XCTAssertTrue(r.stderr.contains("track 1 is the file's conductor track"), r.stderr)
        XCTAssertFalse(r.stderr.contains("melody"), r.stderr)
    }

    func testAnInvalidUTF8ChartIsLocated() throws {
        let chart = path("latin1.chart")
        try Data("| C | G |\n| Am | ".utf8 + [0xC4] + " |\n".utf8).write(to: URL(fileURLWithPath: chart))
        let r = try run(["render", ode, "-o", path("out.mid"), "--engine", "rules", "--chart", chart])
        XCTAssertEqual(r.status, 65, r.stderr)
        XCTAssertTrue(r.stderr.contains("is not UTF-8 text at byte 18, line 2"), r.stderr)
    }

    func testNegativeOptionValuesNeedNoEqualsSign() throws {
        let ok = try render(path("out.mid"), ["--split", "C4", "--left-hand-wait", "-0.25"])
        XCTAssertEqual(ok.status, 0, ok.stderr)
        let bad = try render(path("out.mid"), ["--bpm", "-5"])
        XCTAssertEqual(bad.status, 64, bad.stderr)
        XCTAssertTrue(bad.stderr.contains("--bpm must be between 20 and 400, got -5"), bad.stderr)
    }

    func testAnImplausibleTimeSignatureWarnsAndIs44() throws {
        var file = try MIDIFile(contentsOf: URL(fileURLWithPath: ode))
        for t in file.tracks.indices {
            file.tracks[t].events.removeAll { if case .timeSignature = $0.kind { return true } else { return false } }
        }
        file.tracks[0].events.insert(TrackEvent(tick: 0, .timeSignature(numerator: 255, denominatorPower: 255, clocksPerClick: 24, thirtySecondsPerQuarter: 8)), at: 0)
        let input = path("odd-metre.mid")
        try Data(file.serialized()).write(to: URL(fileURLWithPath: input))
        let r = try run(["render", input, "-o", path("out.mid"), "--engine", "rules"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("implausible time signature; assuming 4/4"), r.stderr)
        XCTAssertTrue(r.stderr.contains("4 beats per bar"), r.stderr)
    }

    func testEvaluateRefusesNaNAndReversedIntervals() throws {
        let out = path("out.mid")
        XCTAssertEqual(try render(out).status, 0)
        for (text, words) in [("0 nan C:maj\n", "is not a time in seconds"), ("4.0 2.0 C:maj\n", "ends (2.0 s) before it starts (4.0 s)"),
                              ("0 inf C:maj\n", "is not a time in seconds")] {
            try put(path("chords.txt"), text)
            let r = try run(["evaluate", out, "--chords", path("chords.txt")])
            XCTAssertEqual(r.status, 65, "\(text): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains(words), r.stderr)
        }
    }
}
