import Foundation
import SafeFiles

/// The rehearsal memory on disk (docs/memory.md): a directory of takes, one JSON file each
/// (`<id>.take.json`).
///
/// - Writes go to a temporary file in the same directory, synced, then renamed over the final
///   name: a reader sees the whole take or none of it.
/// - Each take has its own file with a unique id, so a daemon and a `render` writing to one
///   directory at once lose nothing; forgetting the oldest past `limit` tolerates a file another
///   process removed first.
/// - A damaged, truncated or foreign file is reported (one line) and skipped, never removed,
///   never fatal.
///
/// Used off the real-time path only (the control thread, `render`, the `memory` command).
public struct MemoryStore: Sendable {
    public let directory: URL
    /// The most takes kept; past it the oldest are forgotten first.
    public let limit: Int
    public static let defaultLimit = 500
    static let suffix = ".take.json"

    public init(directory: URL, limit: Int = MemoryStore.defaultLimit) {
        precondition(limit > 0)
        self.directory = directory
        self.limit = limit
    }

    /// Where the memory lives when none is named: `$STATE_DIRECTORY` (systemd's
    /// `StateDirectory=` of the system unit), else `$XDG_STATE_HOME/accompanist`, else
    /// `~/.local/state/accompanist`; the takes in its `memory` folder.
    public static func defaultDirectory(environment: [String: String] = ProcessInfo.processInfo.environment) -> URL {
        let base: URL
        if let s = environment["STATE_DIRECTORY"], !s.isEmpty {
            // systemd may pass several, colon-separated: the first is ours.
            base = URL(fileURLWithPath: String(s.split(separator: ":").first ?? Substring(s)))
        } else if let x = environment["XDG_STATE_HOME"], !x.isEmpty {
            base = URL(fileURLWithPath: x).appendingPathComponent("accompanist")
        } else {
            base = URL(fileURLWithPath: environment["HOME"] ?? NSHomeDirectory()).appendingPathComponent(".local/state/accompanist")
        }
        return base.appendingPathComponent("memory")
    }

    public struct Listing: Sendable {
        /// The readable takes, oldest first (by the store's sequence).
        public var takes: [Take]
        /// One line per file skipped: its name and why.
        public var problems: [String]
    }

    /// The largest take file read: a take of three hours is a few MB.
    public static let maximumTakeBytes = 64 << 20

    /// Checks that the memory directory is there and is a directory (for `memory list`, `show`,
    /// `forget`, which read an existing memory; `save` creates it).
    public func checkDirectory() throws(MemoryError) {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDir) else {
            throw .missing("\(Echo.path(directory.path)): no such memory directory")
        }
        guard isDir.boolValue else { throw .missing("\(Echo.path(directory.path)): is not a directory") }
        guard FileManager.default.isReadableFile(atPath: directory.path) else {
            throw .missing("\(Echo.path(directory.path)): permission denied")
        }
    }

    /// Every take, oldest first, and the files that could not be read. A missing directory is
    /// an empty memory.
    public func list() -> Listing {
        var takes: [Take] = []
        var problems: [String] = []
        for name in takeFileNames() {
            do { takes.append(try read(directory.appendingPathComponent(name))) }
            catch { problems.append("\(Echo.text(name, limit: Echo.pathLimit)): \(error)") }
        }
        takes.sort(by: Self.storedBefore)
        return Listing(takes: takes, problems: problems)
    }

    /// The store's order: by sequence (a take without one is older than any with one), then
    /// by recording time and id (two writers at once may give the same sequence).
    public static func storedBefore(_ a: Take, _ b: Take) -> Bool {
        (a.sequence ?? 0, a.recorded, a.id) < (b.sequence ?? 0, b.recorded, b.id)
    }

    /// The names of the take files, sorted.
    func takeFileNames() -> [String] {
        OutputFile.listDirectory(directory.path).filter { $0.hasSuffix(Self.suffix) && !$0.hasPrefix(".") }.sorted()
    }

    /// One take file, checked.
    public func read(_ url: URL) throws(MemoryError) -> Take {
        let bytes: [UInt8]
        do { bytes = try InputFile.read(url.path, limit: Self.maximumTakeBytes) } catch { throw .io(error.reason) }
        let data = Data(bytes)
        var take: Take
        do { take = try Self.decoder.decode(Take.self, from: data) }
        catch {
            // A JSON object that is not a take at all is foreign; anything else is damage.
            if let obj = try? JSONSerialization.jsonObject(with: data) as? [String: Any], (obj["format"] as? String) != Take.format {
                throw .foreign("format \((obj["format"] as? String).map { "\"\(Echo.text($0))\"" } ?? "missing")")
            }
            throw .corrupt("not a readable take (\(Echo.text(Self.reason(error), limit: 200)))")
        }
        // Whole seconds, as a take is saved: a fractional date read back equals itself saved.
        take.recorded = Date(timeIntervalSince1970: take.recorded.timeIntervalSince1970.rounded(.down))
        try take.validate()
        guard url.lastPathComponent == take.id + Self.suffix else { throw .corrupt("its id \(take.id) does not match its file name") }
        return take
    }

    /// The id of the one take file whose id is `prefix` or begins with it, damaged or not.
    public func id(matching prefix: String) throws(MemoryError) -> String {
        let ids = takeFileNames().map { String($0.dropLast(Self.suffix.count)) }
        if ids.contains(prefix) { return prefix }
        let found = prefix.isEmpty ? [] : ids.filter { $0.hasPrefix(prefix) }
        guard let first = found.first else { throw .missing("no take \(Echo.text(prefix)) in \(Echo.path(directory.path))") }
        guard found.count == 1 else { throw .missing("\(found.count) takes begin with \(Echo.text(prefix)): give more of the id") }
        return first
    }

    /// The take with this id (or the only one whose id begins with it). A damaged take file is
    /// an error that says what is wrong with it, not "no take".
    public func take(matching prefix: String) throws(MemoryError) -> Take {
        try take(id: try id(matching: prefix))
    }

    /// The take with exactly this id, read and checked.
    public func take(id: String) throws(MemoryError) -> Take {
        try read(directory.appendingPathComponent(id + Self.suffix))
    }

    /// Stores a take (atomically, with the next sequence), then forgets the oldest takes past
    /// `limit`, never the one just stored. Returns the ids forgotten. Writers in other processes
    /// (a daemon and a render) take turns on the directory's lock.
    @discardableResult
    public func save(_ take: Take) throws(MemoryError) -> [String] {
        try take.validate()
        do { try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true) }
        catch { throw .io("cannot create \(Echo.path(directory.path)): \(Self.words(error))") }
        let lock = open(directory.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard lock >= 0 else { throw .io("cannot open \(Echo.path(directory.path)): \(String(cString: strerror(errno)))") }
        defer { close(lock) }
        while flock(lock, LOCK_EX) != 0 && errno == EINTR {}
        let existing = list().takes
        var stored = take
        stored.sequence = (existing.compactMap(\.sequence).max() ?? 0) + 1
        let data: Data
        do { data = try Self.encoder.encode(stored) } catch { throw .io("cannot encode the take: \(error)") }
        let final = directory.appendingPathComponent(take.id + Self.suffix)
        do { try OutputFile.write([UInt8](data), to: final.path) } catch { throw .io(error.description) }
        // The oldest by sequence; the new take is not among `existing`.
        let excess = existing.count + 1 - limit
        guard excess > 0 else { return [] }
        let old = existing.prefix(excess).map(\.id).filter { $0 != take.id }
        for id in old { forget(id: id) }
        return old
    }

    /// Forgets one take. Returns false if it was not there.
    @discardableResult
    public func forget(id: String) -> Bool {
        let path = directory.appendingPathComponent(id + Self.suffix).path
        let gone = unlink(path) == 0
        if gone { OutputFile.syncDirectory(of: path) }
        return gone
    }

    /// Forgets takes by id (or the start of one): every id is checked first, and if any matches
    /// no take (or several) nothing is forgotten. Giving one take twice forgets it once. Returns
    /// the ids forgotten, in the order given.
    public func forget(ids: [String]) throws(MemoryError) -> [String] {
        var resolved: [String] = []
        var problems: [String] = []
        for prefix in ids {
            do {
                let id = try id(matching: prefix)
                if !resolved.contains(id) { resolved.append(id) }
            } catch { problems.append(error.description) }
        }
        guard problems.isEmpty else { throw .missing(problems.joined(separator: "; ") + "; nothing was forgotten") }
        return resolved.filter { forget(id: $0) }
    }

    /// Removes the temporary files of saves that were interrupted (the process that wrote them
    /// is gone): `.ID.take.json.PID.partial`, and `.ID.PID.tmp` of earlier versions. Returns how
    /// many; the callers log it. A save in progress in another process is left alone.
    @discardableResult
    public func removeLeftovers() -> Int {
        OutputFile.removeStale(in: directory.path) { name in
            guard name.hasPrefix(".") && (name.hasSuffix(".partial") || name.hasSuffix(".tmp")) else { return nil }
            let parts = name.split(separator: ".")
            return parts.count >= 3 ? Int32(parts[parts.count - 2]) : nil
        }
    }

    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.dateEncodingStrategy = .iso8601
        e.outputFormatting = [.sortedKeys]
        return e
    }()

    static let decoder: JSONDecoder = {
        let d = JSONDecoder()
        d.dateDecodingStrategy = .iso8601
        return d
    }()

    static func reason(_ error: Error) -> String {
        switch error {
        case DecodingError.dataCorrupted(let c): return c.debugDescription
        case DecodingError.keyNotFound(let k, _): return "no \"\(k.stringValue)\""
        case DecodingError.typeMismatch(_, let c), DecodingError.valueNotFound(_, let c):
            return "wrong value at \(c.codingPath.map(\.stringValue).joined(separator: "."))"
        default: return "\(error)"
        }
    }

    /// A Foundation error in words, without its domain and code.
    static func words(_ error: Error) -> String {
        if let e = error as? CocoaError, let underlying = e.userInfo[NSUnderlyingErrorKey] as? POSIXError {
            return String(cString: strerror(underlying.code.rawValue))
        }
        if let e = error as? POSIXError { return String(cString: strerror(e.code.rawValue)) }
        return "it cannot be created"
    }
}
