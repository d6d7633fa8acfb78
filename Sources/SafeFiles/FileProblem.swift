/// What is wrong with a file the user named: one line that names the path and says what is wrong
/// in words ("is a directory", "is not UTF-8 at byte 12, line 3"), safe to print (the path is
/// escaped and shortened by `Echo`). The command line maps `kind` to an exit status.
public struct FileProblem: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// A file to read is missing, unreadable or not a regular file (EX_NOINPUT, 66).
        case input
        /// Its content is not what it should be (EX_DATAERR, 65).
        case data
        /// An output cannot be created or written (EX_CANTCREAT, 73).
        case output
        /// An output names the same file as an input (EX_USAGE, 64): refused before reading.
        case sameFile
    }

    /// The path as the user gave it.
    public var path: String
    public var reason: String
    public var kind: Kind

    public init(_ path: String, _ reason: String, kind: Kind) {
        self.path = path
        self.reason = reason
        self.kind = kind
    }

    public var description: String { "\(Echo.path(path)): \(reason)" }

    /// The exit status sysexits.h gives this kind of problem.
    public var exitCode: Int32 {
        switch kind {
        case .input: return 66
        case .data: return 65
        case .output: return 73
        case .sameFile: return 64
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Words for an errno, as a user reads them (not Foundation's error domains).
func words(errno e: Int32) -> String {
    switch e {
    case ENOENT: return "no such file or directory"
    case EACCES, EPERM: return "permission denied"
    case EISDIR: return "is a directory"
    case ENOTDIR: return "a part of the path is not a directory"
    case ELOOP: return "too many levels of symbolic links"
    case ENOSPC: return "no space left on the device"
    case EROFS: return "the file system is read-only"
    case EDQUOT: return "over the disk quota"
    case ENAMETOOLONG: return "the name is too long"
    case EXDEV: return "the temporary file and the target are on different file systems"
    default: return String(cString: strerror(e)).lowercased()
    }
}

/// What kind of node a stat mode is, in words: "a directory", "a FIFO", ...
public func nodeKind(_ mode: mode_t) -> String {
    switch mode & S_IFMT {
    case S_IFREG: return "a regular file"
    case S_IFDIR: return "a directory"
    case S_IFCHR: return "a character device"
    case S_IFBLK: return "a block device"
    case S_IFIFO: return "a FIFO"
    case S_IFSOCK: return "a socket"
    case S_IFLNK: return "a symbolic link"
    default: return "not a regular file"
    }
}
