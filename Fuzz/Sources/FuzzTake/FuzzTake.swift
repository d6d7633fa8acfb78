// Fuzz target: a rehearsal-memory take file (`<id>.take.json`, docs/memory.md). The bytes are
// written to a file named like a take in a temporary directory, and MemoryStore.read must either
// throw a MemoryError or return a take that passes validate(). A take that reads must be stored
// again (MemoryStore.save into a second directory) and read back equal, with the sequence save
// gives it. Every MemoryError's description must be printable: errors echo input (Echo). A trap
// is a bug.
//
// File I/O per input is kept small: one write to the same file name, the store's read, and for a
// take that reads, one unlink, the save (temporary file, fsync, rename) and one listing. The
// directories are made once per process (accompanist-fuzz-take-<pid>, in /dev/shm where there is
// one: fsync there is cheap) and removed at exit.
import Foundation
import FuzzSupport
import Memory

let takeID = "20261201T000000Z-abcdef"
let takeName = takeID + ".take.json"

/// Where the directories go: /dev/shm where there is one, else the temporary directory.
let scratchBase: String = {
    var isDir: ObjCBool = false
    return FileManager.default.fileExists(atPath: "/dev/shm", isDirectory: &isDir) && isDir.boolValue
        && access("/dev/shm", W_OK) == 0 ? "/dev/shm" : NSTemporaryDirectory()
}()
let scratchPrefix = "accompanist-fuzz-take-"

struct Scratch {
    let root: URL
    let inputFile: URL
    let inputPath: String
    let reader: MemoryStore
    let store: MemoryStore
    let storedPath: String
}

/// This process's directory, `accompanist-fuzz-take-<pid>`, with `in` (the input) and `store`
/// (the store saved into). Those of processes that are gone (a crash, a fork-mode job ended
/// without exit handlers) are removed first.
let scratch: Scratch = {
    for name in (try? FileManager.default.contentsOfDirectory(atPath: scratchBase)) ?? [] where name.hasPrefix(scratchPrefix) {
        guard let pid = Int32(name.dropFirst(scratchPrefix.count)), pid != getpid(),
              kill(pid, 0) != 0 && errno == ESRCH else { continue }
        try? FileManager.default.removeItem(atPath: scratchBase + "/" + name)
    }
    let root = URL(fileURLWithPath: scratchBase + "/" + scratchPrefix + "\(getpid())", isDirectory: true)
    try? FileManager.default.removeItem(at: root)
    let input = root.appendingPathComponent("in", isDirectory: true)
    let stored = root.appendingPathComponent("store", isDirectory: true)
    do {
        try FileManager.default.createDirectory(at: input, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: stored, withIntermediateDirectories: true)
    } catch { fatalError("cannot create \(root.path): \(error)") }
    let inputFile = input.appendingPathComponent(takeName)
    return Scratch(root: root, inputFile: inputFile, inputPath: inputFile.path, reader: MemoryStore(directory: input),
                   store: MemoryStore(directory: stored, limit: 3),
                   storedPath: stored.appendingPathComponent(takeName).path)
}()

func writeInput(_ bytes: UnsafeRawBufferPointer) {
    let fd = open(scratch.inputPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
    guard fd >= 0 else { fatalError("cannot write \(scratch.inputPath): \(String(cString: strerror(errno)))") }
    defer { close(fd) }
    var done = 0
    while done < bytes.count {
        let n = write(fd, bytes.baseAddress! + done, bytes.count - done)
        if n < 0 && errno == EINTR { continue }
        guard n > 0 else { fatalError("cannot write \(scratch.inputPath): \(String(cString: strerror(errno)))") }
        done += n
    }
}

func check(_ error: MemoryError, _ context: String) {
    requirePrintable(error.description, "MemoryError (\(context))")
}

func fuzzTake(_ bytes: UnsafeRawBufferPointer) {
    writeInput(bytes)
    let take: Take
    do { take = try scratch.reader.read(scratch.inputFile) } catch {
        check(error, "read")
        note("refused: \(error)")
        return
    }
    do { try take.validate() } catch { fatalError("a take that reads does not validate: \(error)") }
    guard take.id == takeID else { fatalError("a take read from \(takeName) has id \(take.id.debugDescription)") }
    // Stored again, alone in its directory (so that its sequence is 1), it must read back equal.
    unlink(scratch.storedPath)
    do { try scratch.store.save(take) } catch {
        check(error, "save")
        fatalError("a take that reads cannot be saved: \(error)")
    }
    let listing = scratch.store.list()
    for problem in listing.problems { requirePrintable(problem, "a listing problem") }
    var expected = take
    expected.sequence = 1
    guard listing.problems.isEmpty, listing.takes.count == 1 else {
        fatalError("a take saved does not list: problems \(listing.problems), \(listing.takes.count) takes")
    }
    let back = listing.takes[0]
    guard back == expected else {
        fatalError("a take saved does not read back equal: \(differences(expected, back).joined(separator: "; "))")
    }
    note("read, saved and read back: \(take.melody.count) notes, \(take.chords.count) chords (\(take.chordSource.rawValue))")
}

/// What differs between a take saved and the take read back, field by field (a Date prints
/// without its fraction of a second, so it is given in seconds since 1970).
func differences(_ a: Take, _ b: Take) -> [String] {
    var out: [String] = []
    func field<T: Equatable>(_ name: String, _ key: KeyPath<Take, T>, _ show: (T) -> String = { "\($0)" }) {
        if a[keyPath: key] != b[keyPath: key] { out.append("\(name): saved \(show(a[keyPath: key])), read back \(show(b[keyPath: key]))") }
    }
    field("format", \.format); field("version", \.version); field("id", \.id); field("source", \.source)
    field("recorded", \.recorded) { String(format: "%.6f", $0.timeIntervalSince1970) }
    field("sequence", \.sequence); field("beatsPerBar", \.beatsPerBar)
    field("bpm", \.bpm) { String($0.bitPattern, radix: 16) + " (\($0))" }
    field("steps", \.steps); field("melody", \.melody); field("chords", \.chords)
    field("chordSource", \.chordSource); field("heard", \.heard)
    return out.isEmpty ? ["no field differs, yet the takes are unequal"] : out
}

func fuzzEntry(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    fuzzTake(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}

/// Removes the directory at exit; one a crash leaves (a few KB) goes at the next start.
func removeScratch() { try? FileManager.default.removeItem(at: scratch.root) }

@main struct Main {
    static func main() {
        _ = scratch
        atexit { removeScratch() }
        fuzzMain { data, size in fuzzEntry(data, size) }
    }
}
