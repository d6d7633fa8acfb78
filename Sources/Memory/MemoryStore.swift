import Foundation

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
        /// The readable takes, oldest first.
        public var takes: [Take]
        /// One line per file skipped: its name and why.
        public var problems: [String]
    }

    /// Every take, oldest first, and the files that could not be read. A missing directory is
    /// an empty memory.
    public func list() -> Listing {
        let fm = FileManager.default
        guard let names = try? fm.contentsOfDirectory(atPath: directory.path) else { return Listing(takes: [], problems: []) }
        var takes: [Take] = []
        var problems: [String] = []
        for name in names.sorted() where name.hasSuffix(Self.suffix) {
            do { takes.append(try read(directory.appendingPathComponent(name))) }
            catch { problems.append("\(name): \(error)") }
        }
        takes.sort { ($0.recorded, $0.id) < ($1.recorded, $1.id) }
        return Listing(takes: takes, problems: problems)
    }

    /// One take file, checked.
    public func read(_ url: URL) throws(MemoryError) -> Take {
        let data: Data
        do { data = try Data(contentsOf: url) } catch { throw .io("cannot read: \(error.localizedDescription)") }
        let take: Take
        do { take = try Self.decoder.decode(Take.self, from: data) }
        catch {
            // A JSON object that is not a take at all is foreign; anything else is damage.
            if let obj = try? JSONSerialization.jsonObject(with: data) as? [String: Any], (obj["format"] as? String) != Take.format {
                throw .foreign("format \((obj["format"] as? String).map { "\"\($0)\"" } ?? "missing")")
            }
            throw .corrupt("not a readable take (\(Self.reason(error)))")
        }
        try take.validate()
        guard url.lastPathComponent == take.id + Self.suffix else { throw .corrupt("its id \(take.id) does not match its file name") }
        return take
    }

    /// The take with this id (or the only one whose id begins with it).
    public func take(matching prefix: String) throws(MemoryError) -> Take {
        let found = list().takes.filter { $0.id == prefix || $0.id.hasPrefix(prefix) }
        guard let first = found.first else { throw .io("no take \(prefix) in \(directory.path)") }
        guard found.count == 1 || first.id == prefix else { throw .io("\(found.count) takes begin with \(prefix): give more of the id") }
        return first
    }

    /// Stores a take (atomically), then forgets the oldest takes past `limit`. Returns the ids
    /// forgotten.
    @discardableResult
    public func save(_ take: Take) throws(MemoryError) -> [String] {
        try take.validate()
        let fm = FileManager.default
        do { try fm.createDirectory(at: directory, withIntermediateDirectories: true) }
        catch { throw .io("cannot create \(directory.path): \(error.localizedDescription)") }
        let data: Data
        do { data = try Self.encoder.encode(take) } catch { throw .io("cannot encode the take: \(error)") }
        let final = directory.appendingPathComponent(take.id + Self.suffix)
        let temp = directory.appendingPathComponent(".\(take.id).\(getpid()).tmp")
        guard fm.createFile(atPath: temp.path, contents: nil) else { throw .io("cannot write in \(directory.path)") }
        do {
            let h = try FileHandle(forWritingTo: temp)
            try h.write(contentsOf: data)
            try h.synchronize()
            try h.close()
            guard rename(temp.path, final.path) == 0 else { throw MemoryError.io("cannot rename into \(final.path): \(String(cString: strerror(errno)))") }
        } catch {
            try? fm.removeItem(at: temp)
            throw error as? MemoryError ?? .io("cannot write \(final.path): \(error.localizedDescription)")
        }
        return forgetOldest()
    }

    /// Forgets one take. Returns false if it was not there.
    @discardableResult
    public func forget(id: String) -> Bool {
        (try? FileManager.default.removeItem(at: directory.appendingPathComponent(id + Self.suffix))) != nil
    }

    /// Forgets the oldest readable takes past `limit` (another process may have removed some
    /// first: that is not an error).
    func forgetOldest() -> [String] {
        let takes = list().takes
        guard takes.count > limit else { return [] }
        let old = takes.prefix(takes.count - limit).map(\.id)
        for id in old { forget(id: id) }
        return old
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
}
