import Foundation
import Logging
import SafeFiles

/// One line per message on stderr, `level: message [key=value …]`, no timestamp: journald and a
/// terminal both add their own. Under systemd (stderr connected to the journal, $JOURNAL_STREAM)
/// each line starts with its syslog priority, `<4>`, which journald reads as the entry's level.
/// (Never used on a real-time thread.)
struct PlainLogHandler: LogHandler {
    static let toJournal = ProcessInfo.processInfo.environment["JOURNAL_STREAM"] != nil

    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let all = metadata.merging(event.metadata ?? [:]) { $1 }
        let tail = all.isEmpty ? "" : " " + all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        let prefix = Self.toJournal ? "<\(Self.syslogPriority(event.level))>" : ""
        // Escaped and cut: a message may echo a file name or a chart cell (`Echo.line`).
        FileHandle.standardError.write(Data("\(prefix)\(event.level): \(Echo.line("\(event.message)\(tail)"))\n".utf8))
    }

    static func syslogPriority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: return 7
        case .info: return 6
        case .notice: return 5
        case .warning: return 4
        case .error: return 3
        case .critical: return 2
        }
    }
}
