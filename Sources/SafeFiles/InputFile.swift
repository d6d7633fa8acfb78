#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Reading a file the user named, with a clear one-line problem for everything that is not a
/// readable regular file of a sane size. The open does not block on a FIFO (O_NONBLOCK) and the
/// node is checked on the open descriptor, so a FIFO or a link to /dev/zero is refused instead of
/// hanging or reading forever.
public enum InputFile {
    /// The largest file read whole by default: 256 MiB (a MIDI file, a chart, a take or a config
    /// is kilobytes; the weights are memory-mapped, not read).
    public static let defaultLimit = 256 << 20

    /// The file's bytes. Throws a `FileProblem` (kind `.input`) naming the path.
    public static func read(_ path: String, limit: Int = defaultLimit) throws(FileProblem) -> [UInt8] {
        let (fd, size) = try open(path)
        defer { close(fd) }
        guard size <= limit else { throw FileProblem(path, "is too large (\(size) bytes; at most \(limit) are read)", kind: .input) }
        var bytes = [UInt8](repeating: 0, count: size)
        var done = 0
        while done < size {
            let n = bytes.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + done, size - done) }
            if n < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                throw FileProblem(path, "cannot read: \(words(errno: errno))", kind: .input)
            }
            if n == 0 { bytes.removeLast(size - done); break }  // shrank while read
            done += n
        }
        return bytes
    }

    /// The file's text, which must be UTF-8; else the problem names the first bad byte and its line.
    public static func readUTF8(_ path: String, limit: Int = defaultLimit) throws(FileProblem) -> String {
        let bytes = try read(path, limit: limit)
        if let bad = UTF8Check.firstInvalidByte(bytes) {
            let line = bytes[..<bad].reduce(1) { $1 == 0x0A ? $0 + 1 : $0 }
            throw FileProblem(path, "is not UTF-8 text at byte \(bad + 1), line \(line)", kind: .data)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Checks, without reading, that `path` is a readable regular file.
    public static func check(_ path: String) throws(FileProblem) {
        close(try open(path).fd)
    }

    /// Opens a regular file for reading, with its size, or throws what it is instead.
    static func open(_ path: String) throws(FileProblem) -> (fd: Int32, size: Int) {
        guard !path.isEmpty else { throw FileProblem(path, "an empty path", kind: .input) }
        let fd = Glibc.open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)
        guard fd >= 0 else {
            let e = errno
            // A directory opens read-only; anything else that fails is said in words.
            throw FileProblem(path, e == ENOENT ? "no such file" : words(errno: e), kind: .input)
        }
        var st = stat()
        guard fstat(fd, &st) == 0 else {
            let e = errno
            close(fd)
            throw FileProblem(path, words(errno: e), kind: .input)
        }
        guard st.st_mode & S_IFMT == S_IFREG else {
            close(fd)
            throw FileProblem(path, "is \(nodeKind(st.st_mode)), not a regular file", kind: .input)
        }
        // Reads from here on block as usual.
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
        return (fd, Int(st.st_size))
    }
}

/// UTF-8 validation that says where it fails (Swift's decoders repair instead).
public enum UTF8Check {
    /// The offset of the first byte that does not begin or continue a well-formed UTF-8 sequence
    /// (overlong forms, surrogates and code points past U+10FFFF are ill-formed), or nil.
    public static func firstInvalidByte(_ b: [UInt8]) -> Int? {
        var i = 0
        let n = b.count
        while i < n {
            let c = b[i]
            if c < 0x80 { i += 1; continue }
            let need: Int
            var lo: UInt8 = 0x80, hi: UInt8 = 0xBF
            switch c {
            case 0xC2...0xDF: need = 1
            case 0xE0: need = 2; lo = 0xA0
            case 0xE1...0xEC, 0xEE...0xEF: need = 2
            case 0xED: need = 2; hi = 0x9F
            case 0xF0: need = 3; lo = 0x90
            case 0xF1...0xF3: need = 3
            case 0xF4: need = 3; hi = 0x8F
            default: return i
            }
            for k in 1...need {
                guard i + k < n else { return i }
                let x = b[i + k]
                if k == 1 ? !(lo...hi).contains(x) : !(0x80...0xBF).contains(x) { return i }
            }
            i += need + 1
        }
        return nil
    }
}
