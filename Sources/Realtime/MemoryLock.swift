import CRealtime

/// Locking the process's pages in RAM (mlockall), so that no page fault on a real-time thread
/// waits for the disk. Control thread only, at start.
public enum MemoryLock {
    /// RLIMIT_MEMLOCK's soft limit in bytes; nil when unlimited.
    public static var limitBytes: Int64? {
        let l = acc_memlock_limit()
        return l < 0 ? nil : Int64(l)
    }

    /// mlockall(MCL_CURRENT | MCL_FUTURE): 0, or the errno it failed with.
    public static func lockAll() -> Int32 { acc_lock_memory() }
}
