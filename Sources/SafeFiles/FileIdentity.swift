#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A file's identity (device and inode, links followed), so that an output that is an input under
/// another name (a symlink, a hard link, `./x.mid` for `x.mid`) is caught before anything is read.
public struct FileIdentity: Hashable, Sendable {
    public let device: UInt64
    public let inode: UInt64
    /// Regular files and directories are what an output could destroy; two names of one
    /// character device (`/dev/null` twice) are harmless.
    public let isDestroyable: Bool

    /// The identity of what `path` names, or nil if nothing is there.
    public init?(path: String) {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        device = UInt64(st.st_dev)
        inode = UInt64(st.st_ino)
        let type = st.st_mode & S_IFMT
        isDestroyable = type == S_IFREG || type == S_IFDIR
    }

    /// Refuses (`FileProblem` of kind `.sameFile`) an output that is the same file as an input, or
    /// as another output. `inputs` and `outputs` are (what it is, path) pairs, e.g. ("the input",
    /// "song.mid") and ("-o", "song.mid"); nil paths are skipped.
    public static func checkDistinct(inputs: [(role: String, path: String?)], outputs: [(role: String, path: String?)]) throws(FileProblem) {
        var seen: [(role: String, path: String, id: FileIdentity)] = []
        for (role, path) in inputs {
            guard let path, let id = FileIdentity(path: path) else { continue }
            seen.append((role, path, id))
        }
        // Outputs not there yet: two of them naming one new file (`-o x.mid --events x.mid`).
        var planned: [(role: String, path: String, name: String)] = []
        for (role, path) in outputs {
            guard let path else { continue }
            guard let id = FileIdentity(path: path) else {
                if let name = plannedName(path) {
                    if let other = planned.first(where: { $0.name == name }) {
                        throw FileProblem(path, "the output of \(role) is the same file as the output of \(other.role) (\(Echo.path(other.path)))", kind: .sameFile)
                    }
                    planned.append((role, path, name))
                }
                continue
            }
            guard id.isDestroyable else { continue }
            if let other = seen.first(where: { $0.id == id }) {
                throw FileProblem(path, "the output of \(role) is the same file as \(other.role) (\(Echo.path(other.path))): refusing to overwrite it", kind: .sameFile)
            }
            seen.append((role, path, id))
        }
    }

    /// A new file's canonical name: its directory with links resolved, and its own name.
    static func plannedName(_ path: String) -> String? {
        guard let real = realpath(OutputFile.directory(of: path), nil) else { return nil }
        defer { free(real) }
        return String(cString: real) + "/" + OutputFile.baseName(of: path)
    }
}
