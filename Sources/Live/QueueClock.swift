import Realtime
/// The live path's one time convention (docs/design.md, "Time"): every time that moves between
/// the threads is **queue time**, nanoseconds of our ALSA queue's real-time clock, which started
/// with the queue. The kernel stamps input events with it, the ALSA output is scheduled in it, the
/// tempo maps grid steps to it (FixedTempo, ExternalClock), and the latency histograms measure in
/// it. CLOCK_MONOTONIC appears only where a thread sleeps, converted here.
public struct QueueClock: Sendable {
    /// CLOCK_MONOTONIC minus queue time, fixed when the queue starts.
    public let offset: Int64

    public init(offset: Int64) { self.offset = offset }

    /// Queue time now.
    @inline(__always)
    public func now() -> Int64 { monotonicNanoseconds() - offset }

    /// The CLOCK_MONOTONIC time of a queue time (to sleep until it).
    @inline(__always)
    public func monotonic(_ queueTime: Int64) -> Int64 { queueTime + offset }

    /// Sleeps until a queue time (absolute, so wake-ups do not drift).
    @inline(__always)
    public func sleep(until queueTime: Int64) { sleepUntil(monotonic: queueTime + offset) }
}
