import Synchronization

/// A `LiveOutput` that keeps what it is given, in order, in storage allocated once: the live
/// loop's outputs in unit tests and in the malloc benchmark. Not used by the daemon.
///
/// Threads: like every output, the engine thread schedules and the reader passes through; each
/// record takes a slot with an atomic counter, so both may record at once.
public final class RecordingOutput: LiveOutput, @unchecked Sendable {
    // @unchecked Sendable: each slot is written by the thread that claimed it (atomic counter);
    // `records` is read only after the writers are done (tests join or stop them first).
    public enum Path: UInt8, Sendable, BitwiseCopyable { case scheduled, now, passthrough, cancel }
    public struct Record: Equatable, Sendable, BitwiseCopyable {
        public var path: Path
        public var event: OutputEvent
        /// The scheduled queue time; for `now`, `passthrough` and `cancel`, the clock's reading.
        public var time: Int64
    }

    public let name: String
    public let capacity: Int
    private let storage: UnsafeMutablePointer<Record>  // (capacity,)
    private let used = Atomic<Int>(0)
    private let lost = Atomic<Int>(0)
    /// Queue time of `now`, `passthrough` and `cancel` records (tests set a simulated clock).
    public let clock: @Sendable () -> Int64

    public init(name: String = "recording", capacity: Int = 65_536, clock: @escaping @Sendable () -> Int64 = { 0 }) {
        self.name = name
        self.capacity = capacity
        self.clock = clock
        storage = .allocate(capacity: capacity)
    }

    deinit { storage.deallocate() }

    private func record(_ path: Path, _ event: OutputEvent, _ time: Int64) {
        let i = used.add(1, ordering: .relaxed).oldValue
        if i < capacity { storage[i] = Record(path: path, event: event, time: time) } else { lost.add(1, ordering: .relaxed) }
    }

    public func schedule(_ event: OutputEvent, at queueTime: Int64) { record(.scheduled, event, queueTime) }
    public func cancelScheduled() { record(.cancel, .allNotesOff(channel: 0), clock()) }
    public func sendNow(_ event: OutputEvent) { record(.now, event, clock()) }
    public func passthrough(_ event: OutputEvent) { record(.passthrough, event, clock()) }
    public var lostEvents: Int { lost.load(ordering: .relaxed) }

    /// Forgets what was recorded (between benchmark iterations; no allocation).
    public func removeAll() {
        used.store(0, ordering: .relaxed)
        lost.store(0, ordering: .relaxed)
    }

    public var count: Int { min(capacity, used.load(ordering: .relaxed)) }

    /// Everything recorded, in order (allocates: tests only).
    public var records: [Record] { (0..<count).map { storage[$0] } }
}
