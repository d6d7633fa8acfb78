// Checks shared by the targets whose errors echo their input (chart cells, take fields): an error
// message must be safe to print on a terminal or into the journal (SafeFiles.Echo).
import Foundation

/// The first C0 or C1 control character (a scalar below 0x20, or 0x7F-0x9F) in `text`, or nil.
public func firstControlScalar(_ text: String) -> Unicode.Scalar? {
    text.unicodeScalars.first { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) }
}

/// Traps when `message` (what `what` says) holds a control character or is longer than
/// `maximumLength` scalars: input echoed into an error must be escaped and cut.
public func requirePrintable(_ message: String, _ what: @autoclosure () -> String, maximumLength: Int = .max) {
    if let c = firstControlScalar(message) {
        fatalError("\(what()) holds control character U+\(String(c.value, radix: 16, uppercase: true)): \(message.debugDescription)")
    }
    let n = message.unicodeScalars.count
    if n > maximumLength {
        fatalError("\(what()) is \(n) characters long (at most \(maximumLength)): \(String(message.prefix(200)).debugDescription)…")
    }
}

/// FUZZ_VERBOSE=1 in the environment: the targets say on stderr what became of each input
/// (refused and why, or read), to check seeds and replay findings.
public let fuzzVerbose = getenv("FUZZ_VERBOSE").map { String(cString: $0) != "" && String(cString: $0) != "0" } ?? false

public func note(_ message: @autoclosure () -> String) {
    if fuzzVerbose { FileHandle.standardError.write(Data((message() + "\n").utf8)) }
}
