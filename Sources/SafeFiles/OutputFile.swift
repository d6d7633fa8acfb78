#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An output file that a user can trust (docs/files.md). What happens depends on what is at the
/// path when the output is opened:
///
/// | at the path | what is done |
/// |---|---|
/// | nothing (its directory exists) | a new file: written to a temporary file beside it, synced, renamed into place, the directory synced |
/// | a regular file | replaced the same way, keeping its owner, group and mode; refused if it is read-only (no write bit) or, for a user other than root, if it belongs to someone else or cannot be written |
/// | a symbolic link | followed: the rules above or below apply to its target, and the link stays a link; a dangling link is refused |
/// | a character device or a FIFO | written through (`/dev/null`, `/dev/stdout`, a pipe to another program), never replaced; a FIFO waits for its reader |
/// | a directory, a block device, a socket | refused |
///
/// A failure before `commit` leaves what was at the path as it was, and removes the temporary
/// file. A temporary file that a killed process left behind (`.NAME.PID.partial`, the PID no
/// longer running) is removed the next time the same output is opened, and counted in
/// `leftoversRemoved`.
///
/// Used off the real-time path only (`render`, the memory store, the command line).
public final class OutputFile {
    public enum Target: Equatable, Sendable {
        /// A new file at this (resolved) path.
        case create(String)
        /// An existing regular file, replaced atomically keeping `uid`, `gid` and `mode`.
        case replace(String, uid: UInt32, gid: UInt32, mode: UInt32)
        /// A character device or FIFO, written through.
        case through(String)
    }

    /// The path as the user gave it (for messages).
    public let path: String
    public let target: Target
    /// Temporary files of earlier interrupted writes to this output, removed when it was opened.
    public private(set) var leftoversRemoved = 0
    private var fd: Int32 = -1
    private var temporary: String?
    private var finished = false

    /// Decides what writing to `path` would do, without writing: throws if it would be refused.
    public static func resolve(_ path: String) throws(FileProblem) -> Target {
        guard !path.isEmpty else { throw FileProblem(path, "an empty path", kind: .output) }
        var st = stat()
        if lstat(path, &st) != 0 {
            let e = errno
            guard e == ENOENT else { throw FileProblem(path, "cannot write: \(words(errno: e))", kind: .output) }
            let dir = directory(of: path)
            var ds = stat()
            guard stat(dir, &ds) == 0 else { throw FileProblem(path, "cannot create it: its directory \(Echo.path(dir)) does not exist", kind: .output) }
            guard ds.st_mode & S_IFMT == S_IFDIR else { throw FileProblem(path, "cannot create it: \(Echo.path(dir)) is not a directory", kind: .output) }
            guard access(dir, W_OK) == 0 else { throw FileProblem(path, "cannot create it: permission denied in \(Echo.path(dir))", kind: .output) }
            return .create(path)
        }
        if st.st_mode & S_IFMT == S_IFLNK {
            guard let real = realpath(path, nil) else {
                throw FileProblem(path, "is a symbolic link to a file that does not exist (\(Echo.path(readLink(path))))", kind: .output)
            }
            defer { free(real) }
            let resolved = String(cString: real)
            guard lstat(resolved, &st) == 0 else { throw FileProblem(path, "cannot write: \(words(errno: errno))", kind: .output) }
            return try classify(path, resolved, st)
        }
        return try classify(path, path, st)
    }

    private static func classify(_ path: String, _ resolved: String, _ st: stat) throws(FileProblem) -> Target {
        switch st.st_mode & S_IFMT {
        case S_IFREG:
            if st.st_mode & 0o222 == 0 {
                throw FileProblem(path, "is read-only (mode \(String(st.st_mode & 0o7777, radix: 8))): make it writable, or remove it, to replace it", kind: .output)
            }
            if geteuid() != 0 {
                guard access(resolved, W_OK) == 0 else { throw FileProblem(path, "cannot replace it: permission denied", kind: .output) }
                guard st.st_uid == geteuid() else {
                    throw FileProblem(path, "belongs to another user (uid \(st.st_uid)): it cannot be replaced keeping its owner", kind: .output)
                }
            }
            guard access(directory(of: resolved), W_OK) == 0 || geteuid() == 0 else {
                throw FileProblem(path, "cannot replace it: permission denied in its directory", kind: .output)
            }
            return .replace(resolved, uid: UInt32(st.st_uid), gid: UInt32(st.st_gid), mode: UInt32(st.st_mode & 0o7777))
        case S_IFCHR, S_IFIFO:
            return .through(resolved)
        default:
            throw FileProblem(path, "is \(nodeKind(st.st_mode)): refusing to write to it", kind: .output)
        }
    }

    /// Opens the output: a temporary file beside the target, or the device itself.
    public init(path: String) throws(FileProblem) {
        self.path = path
        target = try Self.resolve(path)
        switch target {
        case .through(let p):
            // O_NOCTTY: a terminal named as output never becomes our controlling terminal.
            fd = open(p, O_WRONLY | O_CLOEXEC | O_NOCTTY)
            guard fd >= 0 else { throw FileProblem(path, "cannot open it for writing: \(words(errno: errno))", kind: .output) }
        case .create(let p), .replace(let p, _, _, _):
            leftoversRemoved = Self.removeLeftovers(of: p)
            let temp = Self.temporaryName(for: p)
            fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
            if fd < 0 && errno == EEXIST {
                // A file of our own PID: left by an earlier process that had this PID and was
                // killed (one process writes one output once). Stale, so it goes.
                unlink(temp)
                fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
            }
            guard fd >= 0 else { throw FileProblem(path, "cannot create a temporary file beside it: \(words(errno: errno))", kind: .output) }
            temporary = temp
            if case .replace(_, let uid, let gid, let mode) = target {
                // Owner first: fchown clears set-id bits, which the mode then restores.
                let owned = (uid == UInt32(geteuid()) && gid == UInt32(getegid())) || fchown(fd, uid_t(uid), gid_t(gid)) == 0
                guard owned, fchmod(fd, mode_t(mode)) == 0 else {
                    let e = errno
                    abandon()
                    throw FileProblem(path, "cannot replace it keeping its owner and mode: \(words(errno: e))", kind: .output)
                }
            }
        }
    }

    deinit { if !finished { abandon() } }

    /// Appends bytes.
    public func write(_ bytes: UnsafeRawBufferPointer) throws(FileProblem) {
        precondition(!finished, "OutputFile: write after commit or abandon")
        var done = 0
        while done < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + done, bytes.count - done)
            if n < 0 {
                if errno == EINTR { continue }
                let e = errno
                abandon()
                throw FileProblem(path, "cannot write: \(words(errno: e))", kind: .output)
            }
            done += n
        }
    }

    public func write(_ bytes: [UInt8]) throws(FileProblem) {
        var problem: FileProblem?
        bytes.withUnsafeBytes { raw in
            do throws(FileProblem) { try write(raw) } catch { problem = error }
        }
        if let problem { throw problem }
    }

    /// Makes the output final: syncs the temporary file, renames it over the target and syncs the
    /// directory (a device or FIFO is only closed).
    public func commit() throws(FileProblem) {
        precondition(!finished, "OutputFile: commit twice")
        guard let temporary else {
            finished = true
            if close(fd) != 0 && errno != EINTR { throw FileProblem(path, "cannot write: \(words(errno: errno))", kind: .output) }
            return
        }
        let final: String
        switch target {
        case .create(let p), .replace(let p, _, _, _): final = p
        case .through: preconditionFailure("a device has no temporary file")
        }
        guard fsync(fd) == 0 else {
            let e = errno
            abandon()
            throw FileProblem(path, "cannot write: \(words(errno: e))", kind: .output)
        }
        close(fd)
        fd = -1
        guard rename(temporary, final) == 0 else {
            let e = errno
            abandon()
            throw FileProblem(path, "cannot move the finished file into place: \(words(errno: e))", kind: .output)
        }
        finished = true
        self.temporary = nil
        Self.syncDirectory(of: final)
    }

    /// Closes and removes the temporary file; the target is untouched.
    public func abandon() {
        if fd >= 0 { close(fd); fd = -1 }
        if let temporary { unlink(temporary); self.temporary = nil }
        finished = true
    }

    /// Writes `bytes` to `path` whole: open, write, commit.
    @discardableResult
    public static func write(_ bytes: [UInt8], to path: String) throws(FileProblem) -> OutputFile {
        let out = try OutputFile(path: path)
        try out.write(bytes)
        try out.commit()
        return out
    }

    // MARK: Temporary files

    static let temporarySuffix = ".partial"

    /// `dir/.NAME.PID.partial`: hidden, and naming the process that writes it.
    static func temporaryName(for path: String) -> String {
        directory(of: path) + "/." + baseName(of: path) + ".\(getpid())" + temporarySuffix
    }

    /// Removes `dir/.NAME.PID.partial` files whose process is gone (killed during a write).
    /// Returns how many.
    public static func removeLeftovers(of path: String) -> Int {
        let prefix = "." + baseName(of: path) + "."
        return removeStale(in: directory(of: path)) { name in
            guard name.hasPrefix(prefix) && name.hasSuffix(temporarySuffix) else { return nil }
            return Int32(name.dropFirst(prefix.count).dropLast(temporarySuffix.count))
        }
    }

    /// Removes the files of `dir` for which `writer` names a process that is gone (the
    /// temporary files of killed writers; `writer` returns nil for any other name). Returns how
    /// many.
    public static func removeStale(in dir: String, writer: (String) -> Int32?) -> Int {
        var removed = 0
        for name in listDirectory(dir) {
            guard let pid = writer(name), pid > 0, !isRunning(pid) else { continue }
            if unlink(dir + "/" + name) == 0 { removed += 1 }
        }
        return removed
    }

    /// Whether a process with this id exists (ours counts: a leftover of our own pid is a file we
    /// are writing).
    public static func isRunning(_ pid: Int32) -> Bool {
        kill(pid, 0) == 0 || errno == EPERM
    }

    /// The names in a directory (no "." and ".."); empty if it cannot be read.
    public static func listDirectory(_ dir: String) -> [String] {
        guard let d = opendir(dir) else { return [] }
        defer { closedir(d) }
        var names: [String] = []
        while let entry = readdir(d) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.baseAddress!.assumingMemoryBound(to: CChar.self))
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// fsync of a directory, so that a rename into it survives a power cut. Best effort: some
    /// file systems refuse it, and the file itself is already synced.
    public static func syncDirectory(of path: String) {
        let d = open(directory(of: path), O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard d >= 0 else { return }
        _ = fsync(d)
        close(d)
    }

    static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        let d = String(path[..<slash])
        return d.isEmpty ? "/" : d
    }

    static func baseName(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }

    static func readLink(_ path: String) -> String {
        var buf = [CChar](repeating: 0, count: 4097)
        let n = readlink(path, &buf, 4096)
        guard n >= 0 else { return "?" }
        return String(decoding: buf[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
