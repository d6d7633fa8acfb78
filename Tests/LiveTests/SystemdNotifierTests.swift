import Foundation
import XCTest
@testable import Live

final class SystemdNotifierTests: XCTestCase {
    func testSendsDatagramsToNotifySocket() throws {
        let path = "/tmp/acc-notify-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).sock"
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        XCTAssertGreaterThanOrEqual(fd, 0)
        defer { close(fd); unlink(path) }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in for (i, b) in path.utf8.enumerated() { raw[i] = b } }
        let bound = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }
        XCTAssertEqual(bound, 0)

        let n = SystemdNotifier(environment: ["NOTIFY_SOCKET": path, "WATCHDOG_USEC": "4000000"])
        XCTAssertTrue(n.isActive)
        XCTAssertEqual(n.watchdogInterval, 4)
        n.ready(status: "listening")
        n.watchdog()
        n.stopping()
        var received: [String] = []
        var buffer = [UInt8](repeating: 0, count: 512)
        for _ in 0..<3 {
            let got = recv(fd, &buffer, buffer.count, 0)
            XCTAssertGreaterThan(got, 0)
            received.append(String(decoding: buffer[0..<max(0, got)], as: UTF8.self))
        }
        XCTAssertEqual(received, ["READY=1\nSTATUS=listening", "WATCHDOG=1", "STOPPING=1\nSTATUS=stopping"])
    }

    func testOutsideSystemdItDoesNothing() {
        let n = SystemdNotifier(environment: [:])
        XCTAssertFalse(n.isActive)
        XCTAssertNil(n.watchdogInterval)
        XCTAssertFalse(n.notify("READY=1"))
        // A watchdog meant for another process is not ours.
        XCTAssertNil(SystemdNotifier(environment: ["WATCHDOG_USEC": "1000", "WATCHDOG_PID": "1"]).watchdogInterval)
    }
}
