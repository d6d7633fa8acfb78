import Foundation

/// systemd's notify protocol (sd_notify(3)) without libsystemd: one datagram per message to the
/// unix socket named by $NOTIFY_SOCKET. Outside systemd (no $NOTIFY_SOCKET) every call is a no-op.
/// Used from the control thread only.
public final class SystemdNotifier: @unchecked Sendable {
    // @unchecked Sendable: immutable after init; sendto on one fd is thread-safe anyway.
    private let fd: Int32
    private var address = sockaddr_un()
    private let addressLength: socklen_t
    /// The watchdog interval systemd asked for ($WATCHDOG_USEC), if any.
    public let watchdogInterval: Double?

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        if let usec = environment["WATCHDOG_USEC"].flatMap(Double.init),
           environment["WATCHDOG_PID"].flatMap(Int32.init).map({ $0 == getpid() }) ?? true {
            watchdogInterval = usec / 1e6
        } else {
            watchdogInterval = nil
        }
        guard let path = environment["NOTIFY_SOCKET"], !path.isEmpty,
              path.utf8.count < MemoryLayout.size(ofValue: address.sun_path) else {
            fd = -1
            addressLength = 0
            return
        }
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        address.sun_family = sa_family_t(AF_UNIX)
        var bytes = Array(path.utf8)
        if bytes.first == UInt8(ascii: "@") { bytes[0] = 0 }  // abstract namespace
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, b) in bytes.enumerated() { raw[i] = b }
        }
        addressLength = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count)
    }

    deinit { if fd >= 0 { close(fd) } }

    public var isActive: Bool { fd >= 0 }

    /// Sends "KEY=VALUE\n..." lines; returns whether the datagram went out.
    @discardableResult
    public func notify(_ state: String) -> Bool {
        guard fd >= 0 else { return false }
        let sent = state.withCString { text in
            withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(fd, text, strlen(text), Int32(MSG_NOSIGNAL), $0, addressLength)
                }
            }
        }
        return sent >= 0
    }

    public func ready(status: String) { notify("READY=1\nSTATUS=\(status)") }
    public func status(_ s: String) { notify("STATUS=\(s)") }
    public func watchdog() { notify("WATCHDOG=1") }
    public func stopping() { notify("STOPPING=1\nSTATUS=stopping") }
}
