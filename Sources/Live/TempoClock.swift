/// Where the grid is in time (queue real time, nanoseconds), for the two tempo sources of
/// docs/design.md ("The time grid"). Value types, owned by the engine thread; no allocation.

/// A fixed tempo: step s begins at `origin + s * stepNanoseconds`.
public struct FixedTempo: Sendable, Equatable {
    public let bpm: Double
    public let stepNanoseconds: Int64
    /// Queue time of step 0 (beat 1 of bar 1); nil until the phase is known.
    public var origin: Int64?

    public init(bpm: Double, origin: Int64? = nil) {
        self.bpm = bpm
        stepNanoseconds = Int64((60e9 / bpm / 8).rounded())
        self.origin = origin
    }

    /// The step an event at time t belongs to: nearest, halves up.
    @inline(__always)
    public func step(at t: Int64) -> Int {
        guard let o = origin else { return 0 }
        let x = t - o + stepNanoseconds / 2
        return Int(x >= 0 ? x / stepNanoseconds : -((-x + stepNanoseconds - 1) / stepNanoseconds))
    }

    @inline(__always)
    public func time(of step: Int) -> Int64 { (origin ?? 0) + Int64(step) * stepNanoseconds }

    /// Where time t lies on the grid, in steps from step 0 (fractional).
    @inline(__always)
    public func position(at t: Int64) -> Double {
        guard let o = origin else { return 0 }
        return Double(t - o) / Double(stepNanoseconds)
    }

    /// When the output of `step` must be computed: half a step before it sounds, once every
    /// melody note of the step before it is known.
    @inline(__always)
    public func deadline(of step: Int) -> Int64 { time(of: step) - stepNanoseconds / 2 }
}

/// An external MIDI clock: 24 clocks per quarter note, so one grid step is 3 clocks. Start,
/// Stop, Continue and Song Position Pointer as a DAW sends them.
public struct ExternalClock: Sendable, Equatable {
    public static let clocksPerStep = 3

    public private(set) var running = false
    /// Clocks since song position 0 at the last clock received (-1 before the first one).
    public private(set) var position = -1
    public private(set) var lastClockTime: Int64 = 0
    /// Smoothed clock period in nanoseconds (0 until two clocks have come).
    public private(set) var period: Double = 0
    /// Set by Start: the next clock is position 0.
    private var startPending = false
    /// Song position set while stopped (in clocks), applied at Continue.
    private var cuePosition = 0

    public init() {}

    public var bpm: Double { period > 0 ? 60e9 / (period * 24) : 0 }

    public enum Change: Equatable, Sendable { case none, started(fromStep: Int), stopped, tick }

    public mutating func start() -> Change {
        startPending = true
        running = false
        cuePosition = 0
        return .none
    }

    public mutating func stop() -> Change {
        let was = running
        running = false
        return was ? .stopped : .none
    }

    public mutating func continuePlaying() -> Change {
        startPending = true
        return .none
    }

    /// Song Position Pointer: in 16th notes (6 clocks each).
    public mutating func songPosition(_ sixteenths: Int) {
        cuePosition = max(0, sixteenths) * 6
    }

    public mutating func clock(at t: Int64) -> Change {
        if startPending {
            startPending = false
            running = true
            position = cuePosition
            lastClockTime = t
            return .started(fromStep: (cuePosition + Self.clocksPerStep - 1) / Self.clocksPerStep)
        }
        guard running else { return .none }
        let dt = Double(t - lastClockTime)
        if dt > 0 { period = period == 0 ? dt : period * 0.9 + dt * 0.1 }
        position += 1
        lastClockTime = t
        return .tick
    }

    /// The step an event at time t belongs to (nearest).
    public func step(at t: Int64) -> Int {
        guard position >= 0 else { return 0 }
        let clocks = Double(position) + (period > 0 ? Double(t - lastClockTime) / period : 0)
        return Int((clocks / Double(Self.clocksPerStep)).rounded(.toNearestOrAwayFromZero))
    }

    /// Where time t lies on the grid, in steps from song position 0 (fractional).
    public func position(at t: Int64) -> Double {
        guard position >= 0 else { return 0 }
        return (Double(position) + (period > 0 ? Double(t - lastClockTime) / period : 0)) / Double(Self.clocksPerStep)
    }

    /// The estimated time of a step from the last clock and the smoothed period.
    public func time(of step: Int) -> Int64 {
        lastClockTime + Int64(Double(step * Self.clocksPerStep - position) * period)
    }

    /// Steps up to this one may be computed now: step s is due once clock 3s-1 has come (a third
    /// of a step before it sounds; the melody of step s-1 is final half a step before).
    public var lastDueStep: Int { lastDueStep(dueClocks: -1) }

    /// Steps up to this one may be computed now when step s is due at clock 3s + `dueClocks`
    /// (−1: `lastDueStep`; a left hand's wait makes it later).
    public func lastDueStep(dueClocks: Int) -> Int {
        guard running && period > 0 else { return -1 }
        let x = position - dueClocks
        return x >= 0 ? x / Self.clocksPerStep : -((-x + Self.clocksPerStep - 1) / Self.clocksPerStep)
    }
}
