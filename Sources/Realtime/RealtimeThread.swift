import CRealtime
import Foundation
import Synchronization

/// Monotonic time in nanoseconds (CLOCK_MONOTONIC: no allocation, no lock).
@inline(__always)
public func monotonicNanoseconds() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
}

/// Sleeps until a CLOCK_MONOTONIC time (absolute, so wake-ups do not drift).
@inline(__always)
public func sleepUntil(monotonic ns: Int64) {
    var ts = timespec(tv_sec: Int(ns / 1_000_000_000), tv_nsec: Int(ns % 1_000_000_000))
    while clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nil) == EINTR {}
}

/// How a thread's real-time request went; read by the control thread, which logs it once.
public enum RealtimeResult: Int, Sendable {
    case pending = 0, fifo = 1, denied = 2
}

/// Starts the daemon's dedicated threads. Real-time priority is best effort: SCHED_FIFO at the
/// given priority, and if that is not allowed (no CAP_SYS_NICE, no rtprio limit) the thread runs
/// at normal priority and the result says so, for the control thread to log one warning.
///
/// When SCHED_FIFO is refused, the control thread may ask rtkit (`RealtimeKit.request`), the
/// desktop's way to grant it over D-Bus, before it logs one warning.
public final class RealtimeThread: @unchecked Sendable {
    // @unchecked Sendable: `result` and `threadID` are atomic; the body runs on the new thread only.
    public let name: String
    public let result = Atomic<Int>(RealtimeResult.pending.rawValue)
    /// The kernel's id of the thread (gettid), once it runs; 0 before.
    public let threadID = Atomic<Int>(0)
    public let priority: Int32
    private var thread = pthread_t()
    private let body: @Sendable () -> Void

    public init(name: String, priority: Int32, body: @escaping @Sendable () -> Void) {
        self.name = name
        self.priority = priority
        self.body = body
    }

    /// Stack of each real-time thread. Their work lives in buffers allocated up front, so 2 MiB is
    /// ample; the default 8 MiB would be locked in RAM whole by mlockall(MCL_FUTURE).
    public static let stackBytes = 2 << 20

    public func start() throws {
        let unmanaged = Unmanaged.passRetained(self)
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        pthread_attr_setstacksize(&attributes, Self.stackBytes)
        let r = pthread_create(&thread, &attributes, { raw in
            let me = Unmanaged<RealtimeThread>.fromOpaque(raw!).takeRetainedValue()
            me.run()
            return nil
        }, unmanaged.toOpaque())
        if r != 0 {
            unmanaged.release()
            throw NSError(domain: "accompanist", code: Int(r), userInfo: [NSLocalizedDescriptionKey: "cannot start thread \(name): \(String(cString: strerror(r)))"])
        }
    }

    private func run() {
        _ = acc_set_thread_name(name)
        threadID.store(Int(acc_gettid()), ordering: .releasing)
        var param = sched_param()
        param.sched_priority = priority
        let ok = priority > 0 && pthread_setschedparam(pthread_self(), SCHED_FIFO, &param) == 0
        result.store(ok ? RealtimeResult.fifo.rawValue : RealtimeResult.denied.rawValue, ordering: .releasing)
        body()
    }

    public func join() {
        pthread_join(thread, nil)
    }
}

/// rtkit (org.freedesktop.RealtimeKit1 on the system bus) grants SCHED_FIFO to an unprivileged
/// desktop process. It is asked through `busctl`, so no D-Bus library is linked; it requires
/// RLIMIT_RTTIME to be set, which is done here. Control thread only (it starts a process).
public enum RealtimeKit {
    /// Asks rtkit to make the given threads of this process real-time; returns whether all
    /// requests succeeded.
    public static func request(threads: [(tid: Int, priority: Int32)]) -> Bool {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/busctl") else { return false }
        // rtkit refuses processes without a CPU-time limit for real-time threads (200 ms here).
        _ = acc_set_rttime_limit(200_000)
        for t in threads {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/busctl")
            p.arguments = ["call", "--system", "--timeout=2", "org.freedesktop.RealtimeKit1", "/org/freedesktop/RealtimeKit1",
                           "org.freedesktop.RealtimeKit1", "MakeThreadRealtimeWithPID", "ttu",
                           "\(getpid())", "\(t.tid)", "\(min(t.priority, 20))"]
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            do { try p.run() } catch { return false }
            p.waitUntilExit()
            if p.terminationStatus != 0 { return false }
        }
        return true
    }
}
