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
        XCTAssertEqual(listing.takes, [t])
        XCTAssertEqual(listing.problems, [])
        XCTAssertEqual(try store.take(matching: String(t.id.prefix(20))), t)
        XCTAssertTrue(store.forget(id: t.id))
        XCTAssertFalse(store.forget(id: t.id))
        XCTAssertTrue(store.list().takes.isEmpty)
    }

    func testTheOldestAreForgottenFirst() throws {
        let store = MemoryStore(directory: dir, limit: 3)
        let takes = (0..<5).map { take($0, seconds: Double([3, 0, 4, 1, 2][$0])) }   // saved out of time order
        var forgotten: [String] = []
        for t in takes { forgotten += try store.save(t) }
        XCTAssertEqual(Set(forgotten), Set([takes[1].id, takes[3].id]), "recorded first, forgotten first")
        XCTAssertEqual(store.list().takes.map(\.id), [takes[4].id, takes[0].id, takes[2].id])
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
        XCTAssertEqual(listing.takes, [good], "the good take is still read")
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
