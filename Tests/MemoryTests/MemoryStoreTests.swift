import Foundation
@testable import Memory
import XCTest

/// The rehearsal memory on disk (docs/memory.md): takes round-trip, writes are atomic, the size is
/// bounded, bad files are skipped with one line each, and writers at once lose nothing.
final class MemoryStoreTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("memory-tests-\(getpid())-\(UUID().uuidString)")
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func take(_ n: Int, source: String = "song.mid", seconds: Double = 0) -> Take {
        Take(source: source, recorded: Date(timeIntervalSince1970: 1_800_000_000 + seconds), beatsPerBar: 4, bpm: 96, steps: 64,
             melody: [.init(pitch: 60 + n % 12, start: 0, end: 8), .init(pitch: 67, start: 8, end: 30)],
             chords: ["C", "C", "Am", "N.C.", "F", "G7", "C", "C"], chordSource: .chart)
    }

    func files() -> [String] { (try? FileManager.default.contentsOfDirectory(atPath: dir.path))?.sorted() ?? [] }

    func testRoundTripAndNothingElseWritten() throws {
        let store = MemoryStore(directory: dir)
        XCTAssertTrue(store.list().takes.isEmpty, "a missing directory is an empty memory")
        let t = take(1)
        XCTAssertEqual(try store.save(t), [])
        XCTAssertEqual(files(), [t.id + ".take.json"], "no temporary file left behind")
        let listing = store.list()
        var stored = t
        stored.sequence = 1   // the store's own order
        XCTAssertEqual(listing.takes, [stored])
        XCTAssertEqual(listing.problems, [])
        XCTAssertEqual(try store.take(matching: String(t.id.prefix(20))), stored)
        XCTAssertTrue(store.forget(id: t.id))
        XCTAssertFalse(store.forget(id: t.id))
        XCTAssertTrue(store.list().takes.isEmpty)
    }

    /// Retention follows the store's own sequence, not the clock: takes recorded out of time
    /// order (a clock set back) are forgotten in the order they were stored.
    func testTheOldestAreForgottenFirst() throws {
        let store = MemoryStore(directory: dir, limit: 3)
        let takes = (0..<5).map { take($0, seconds: Double([3, 0, 4, 1, 2][$0])) }   // saved out of time order
        var forgotten: [String] = []
        for t in takes { forgotten += try store.save(t) }
        XCTAssertEqual(forgotten, [takes[0].id, takes[1].id], "stored first, forgotten first")
        XCTAssertEqual(store.list().takes.map(\.id), [takes[2].id, takes[3].id, takes[4].id])
        XCTAssertEqual(store.list().takes.map(\.sequence), [3, 4, 5])
    }

    /// A box without a real-time clock: 500 takes dated in the future, then a new take. The new
    /// take is kept and the first stored is forgotten (0006f27 forgot the new one).
    func testAClockThatGoesBackwardsNeverLosesTheNewestTake() throws {
        let store = MemoryStore(directory: dir, limit: 5)
        let future = (0..<5).map { i in
            Take(id: Take.newID(at: Date(timeIntervalSince1970: 4_000_000_000 + Double(i))), source: "future.mid",
                 recorded: Date(timeIntervalSince1970: 4_000_000_000 + Double(i)), beatsPerBar: 4, bpm: 100, steps: 64,
                 melody: [.init(pitch: 60, start: 0, end: 8)], chords: ["C"], chordSource: .chart)
        }
        for t in future { try store.save(t) }
        let now = take(99, seconds: 0)
        let forgotten = try store.save(now)
        XCTAssertEqual(forgotten, [future[0].id])
        XCTAssertTrue(store.list().takes.contains { $0.id == now.id }, "the take just stored is kept")
        XCTAssertEqual(store.list().takes.last?.id, now.id, "and it is the newest")
        // Takes of an earlier version have no sequence: they are older than any that has one.
        let stored = try XCTUnwrap(store.list().takes.first { $0.id == future[1].id })
        XCTAssertNotNil(stored.sequence)
        let legacy = stored
        XCTAssertTrue(MemoryStore.storedBefore(Take(id: "a", source: "", recorded: Date(timeIntervalSince1970: 5e9), beatsPerBar: 4, bpm: 100,
                                                    steps: 0, melody: [], chords: [], chordSource: .none), legacy))
    }

    /// A store of limit 1 keeps exactly the take just stored.
    func testALimitOfOneKeepsTheNewTake() throws {
        let store = MemoryStore(directory: dir, limit: 1)
        let takes = (0..<3).map { take($0, seconds: Double(10 - $0)) }
        for t in takes { try store.save(t) }
        XCTAssertEqual(store.list().takes.map(\.id), [takes[2].id])
    }

    func testForgetChecksEveryIdFirst() throws {
        let store = MemoryStore(directory: dir)
        let a = take(1), b = take(2, seconds: 5)
        try store.save(a)
        try store.save(b)
        // A good id and a bad one: nothing is forgotten, and the error names the bad one.
        XCTAssertThrowsError(try store.forget(ids: [a.id, "20000101T000000Z-nothere"])) {
            XCTAssertTrue("\($0)".contains("no take 20000101T000000Z-nothere"), "\($0)")
            XCTAssertTrue("\($0)".contains("nothing was forgotten"), "\($0)")
        }
        XCTAssertEqual(store.list().takes.count, 2, "the good take is still there")
        // One take given twice (its full id and a prefix): forgotten once, no error.
        XCTAssertEqual(try store.forget(ids: [a.id, String(a.id.prefix(20))]), [a.id])
        XCTAssertEqual(store.list().takes.map(\.id), [b.id])
        // A damaged take can be forgotten by its id too.
        let damaged = dir.appendingPathComponent("20000101T000000Z-dddddd.take.json")
        try Data("{".utf8).write(to: damaged)
        XCTAssertEqual(try store.forget(ids: ["20000101T000000Z-dd"]), ["20000101T000000Z-dddddd"])
    }

    func testADamagedTakeIsNamedNotMissing() throws {
        let store = MemoryStore(directory: dir)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try Data(#"{"format": "accompanist-take", "version": 1}"#.utf8).write(to: dir.appendingPathComponent("20000101T000000Z-dddddd.take.json"))
        XCTAssertThrowsError(try store.take(matching: "20000101")) {
            guard case .corrupt(let why)? = $0 as? MemoryError else { return XCTFail("\($0)") }
            XCTAssertTrue(why.contains("no \"id\""), why)
        }
        XCTAssertThrowsError(try store.take(matching: "1999")) { XCTAssertEqual($0 as? MemoryError, .missing("no take 1999 in \(dir.path)")) }
    }

    func testTheDirectoryIsChecked() throws {
        XCTAssertThrowsError(try MemoryStore(directory: dir).checkDirectory()) { XCTAssertTrue("\($0)".contains("no such memory directory"), "\($0)") }
        try Data().write(to: dir)
        XCTAssertThrowsError(try MemoryStore(directory: dir).checkDirectory()) { XCTAssertTrue("\($0)".contains("is not a directory"), "\($0)") }
    }

    /// A FIFO or a link to /dev/zero in the memory is reported, without hanging or reading forever.
    func testTakesThatAreNotRegularFilesAreReported() throws {
        let store = MemoryStore(directory: dir)
        try store.save(take(1))
        XCTAssertEqual(mkfifo(dir.appendingPathComponent("20000101T000000Z-ffffff.take.json").path, 0o600), 0)
        XCTAssertEqual(symlink("/dev/zero", dir.appendingPathComponent("20000101T000000Z-zzzzzz.take.json").path), 0)
        let listing = store.list()
        XCTAssertEqual(listing.takes.count, 1)
        XCTAssertTrue(listing.problems.contains { $0.contains("ffffff") && $0.contains("is a FIFO") }, "\(listing.problems)")
        XCTAssertTrue(listing.problems.contains { $0.contains("zzzzzz") && $0.contains("is a character device") }, "\(listing.problems)")
    }

    /// A save killed between writing and renaming leaves a hidden temporary file; the next open
    /// removes it (its process is gone), and leaves alone one whose writer is still running.
    func testLeftoversOfAnInterruptedSaveAreRemoved() throws {
        let store = MemoryStore(directory: dir)
        try store.save(take(1))
        let dead = [".20000101T000000Z-aaaaaa.2147483600.tmp", ".20000101T000000Z-bbbbbb.take.json.2147483601.partial"]
        let live = ".20000101T000000Z-cccccc.take.json.\(getpid()).partial"
        for name in dead + [live] { try Data("{".utf8).write(to: dir.appendingPathComponent(name)) }
        XCTAssertEqual(store.removeLeftovers(), 2)
        XCTAssertEqual(files().filter { $0.hasPrefix(".") }, [live])
        XCTAssertEqual(store.list().takes.count, 1)
    }

    func testDamagedAndForeignFilesAreSkippedWithOneLineEach() throws {
        let store = MemoryStore(directory: dir)
        let good = take(1)
        try store.save(good)
        let bytes = try Data(contentsOf: dir.appendingPathComponent(good.id + ".take.json"))
        let cases: [(String, Data, String)] = [
            ("truncated", bytes.prefix(bytes.count / 2), "damaged"),
            ("empty", Data(), "damaged"),
            ("binary", Data([0xff, 0x00, 0x13, 0x37]), "damaged"),
            ("foreign", Data(#"{"format": "something-else", "x": 1}"#.utf8), "not a take"),
            ("future", String(decoding: bytes, as: UTF8.self).replacingOccurrences(of: "\"version\":1", with: "\"version\":9").data(using: .utf8)!, "version 9"),
            ("bad-note", String(decoding: bytes, as: UTF8.self).replacingOccurrences(of: "\"pitch\":61", with: "\"pitch\":300").data(using: .utf8)!, "bad melody note"),
        ]
        for (name, data, _) in cases { try data.write(to: dir.appendingPathComponent(name + ".take.json")) }
        try Data("not a take file".utf8).write(to: dir.appendingPathComponent("README.txt"))
        let listing = store.list()
        XCTAssertEqual(listing.takes.map(\.id), [good.id], "the good take is still read")
        XCTAssertEqual(listing.problems.count, cases.count, listing.problems.joined(separator: "\n"))
        for (name, _, fragment) in cases {
            let line = listing.problems.first { $0.hasPrefix(name + ".take.json") }
            XCTAssertNotNil(line, name)
            XCTAssertTrue(line?.contains(fragment) == true, "\(name): \(line ?? "")")
            XCTAssertFalse(line?.contains("\n") == true)
        }
        XCTAssertEqual(files().count, cases.count + 2, "nothing was removed")
        // A take renamed to another's name is caught too.
        try FileManager.default.copyItem(at: dir.appendingPathComponent(good.id + ".take.json"), to: dir.appendingPathComponent("20300101T000000Z-aaaaaa.take.json"))
        XCTAssertTrue(store.list().problems.contains { $0.contains("does not match its file name") })
    }

    /// Writers at once (a daemon and a render, here threads): every take is kept; with a limit,
    /// exactly the limit remains and no writer fails.
    func testConcurrentWritersLoseNothing() throws {
        let store = MemoryStore(directory: dir)
        let takes = (0..<40).map { take($0, seconds: Double($0)) }
        let failures = Failures()
        DispatchQueue.concurrentPerform(iterations: takes.count) { i in
            do { try store.save(takes[i]) } catch { failures.add("\(error)") }
        }
        XCTAssertEqual(failures.all, [])
        XCTAssertEqual(Set(store.list().takes.map(\.id)), Set(takes.map(\.id)))
        XCTAssertFalse(files().contains { $0.hasSuffix(".tmp") })

        let bounded = MemoryStore(directory: dir.appendingPathComponent("bounded"), limit: 5)
        DispatchQueue.concurrentPerform(iterations: takes.count) { i in
            do { try bounded.save(takes[i]) } catch { failures.add("\(error)") }
        }
        XCTAssertEqual(failures.all, [])
        XCTAssertEqual(bounded.list().takes.count, 5)
    }

    func testDefaultDirectory() {
        XCTAssertEqual(MemoryStore.defaultDirectory(environment: ["STATE_DIRECTORY": "/var/lib/accompanist", "HOME": "/root"]).path,
                       "/var/lib/accompanist/memory")
        XCTAssertEqual(MemoryStore.defaultDirectory(environment: ["STATE_DIRECTORY": "/var/lib/a:/var/lib/b"]).path, "/var/lib/a/memory")
        XCTAssertEqual(MemoryStore.defaultDirectory(environment: ["XDG_STATE_HOME": "/home/u/.st", "HOME": "/home/u"]).path,
                       "/home/u/.st/accompanist/memory")
        XCTAssertEqual(MemoryStore.defaultDirectory(environment: ["HOME": "/home/u"]).path, "/home/u/.local/state/accompanist/memory")
    }

    func testInvalidTakesAreNotSaved() {
        let store = MemoryStore(directory: dir)
        var t = take(1)
        t.chordSource = .none
        XCTAssertThrowsError(try store.save(t)) { XCTAssertTrue("\($0)".contains("disagree"), "\($0)") }
        XCTAssertEqual(files(), [])
    }
}

/// Errors collected from several threads.
final class Failures: @unchecked Sendable {
    // @unchecked Sendable: every access holds the lock.
    private let lock = NSLock()
    private var items: [String] = []
    func add(_ s: String) { lock.lock(); items.append(s); lock.unlock() }
    var all: [String] { lock.lock(); defer { lock.unlock() }; return items }
}

/// Take files with hostile content (found by the take fuzzer): messages echo nothing raw, and a
/// fractional date reads back as it is saved.
final class TakeContentTests: XCTestCase {
    func testIdAndFormatAreEscapedInMessages() {
        var t = Take(id: "x", source: "s", beatsPerBar: 4, bpm: 90, steps: 0, melody: [], chords: [], chordSource: .none)
        t.id = "\u{1B}[2J"
        XCTAssertThrowsError(try t.validate()) { XCTAssertEqual("\($0)", "damaged: bad id \"\\e[2J\"") }
        t.id = "abc"
        t.format = "x\n" + String(repeating: "y", count: 10_000)
        XCTAssertThrowsError(try t.validate()) {
            XCTAssertFalse("\($0)".contains("\n"))
            XCTAssertLessThan("\($0)".count, 200)
        }
    }

    func testAFractionalDateReadsBackAsSaved() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("frac-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let name = "20261201T000000Z-abcdef"
        try Data("""
            {"beatsPerBar":4,"bpm":90,"chordSource":"none","chords":[],"format":"accompanist-take","id":"\(name)",\
            "melody":[],"recorded":"2026-12-01T00:00:00.5Z","source":"","steps":0,"version":1}
            """.utf8).write(to: dir.appendingPathComponent(name + ".take.json"))
        let store = MemoryStore(directory: dir)
        let read = try store.read(dir.appendingPathComponent(name + ".take.json"))
        XCTAssertEqual(read.recorded.timeIntervalSince1970.rounded(.down), read.recorded.timeIntervalSince1970)
        let other = MemoryStore(directory: dir.appendingPathComponent("copy"))
        try other.save(read)
        var expected = read
        expected.sequence = 1
        XCTAssertEqual(other.list().takes, [expected])
    }
}
