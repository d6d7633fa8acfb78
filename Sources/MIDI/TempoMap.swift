/// Ticks ↔ seconds through a file's Set Tempo events. With no tempo event the SMF default,
/// 120 BPM, holds (or the tempo given to `init(ticksPerQuarter:bpm:)`).
public struct TempoMap: Equatable, Sendable {
    public struct Change: Equatable, Sendable {
        public var tick: Int
        public var microsecondsPerQuarter: Int
        public init(tick: Int, microsecondsPerQuarter: Int) {
            self.tick = tick
            self.microsecondsPerQuarter = microsecondsPerQuarter
        }
        public var bpm: Double { 60_000_000.0 / Double(microsecondsPerQuarter) }
    }

    public let ticksPerQuarter: Int
    /// Sorted by tick, the first at tick 0.
    public let changes: [Change]
    /// Seconds at each change's tick (same indices as `changes`).
    private let secondsAtChange: [Double]

    public init(ticksPerQuarter: Int, changes: [Change]) {
        self.ticksPerQuarter = max(1, ticksPerQuarter)
        var sorted = changes.filter { $0.microsecondsPerQuarter > 0 }.sorted { $0.tick < $1.tick }
        // Of several changes at one tick the last one wins, as a sequencer would play them.
        var dedup: [Change] = []
        for c in sorted {
            if let last = dedup.last, last.tick == c.tick { dedup[dedup.count - 1] = c } else { dedup.append(c) }
        }
        sorted = dedup
        if sorted.first?.tick != 0 { sorted.insert(Change(tick: 0, microsecondsPerQuarter: 500_000), at: 0) }
        self.changes = sorted
        var secs: [Double] = [0]
        for i in 1..<sorted.count {
            let dt = Double(sorted[i].tick - sorted[i - 1].tick) / Double(self.ticksPerQuarter)
            secs.append(secs[i - 1] + dt * Double(sorted[i - 1].microsecondsPerQuarter) / 1e6)
        }
        self.secondsAtChange = secs
    }

    /// A constant tempo.
    public init(ticksPerQuarter: Int, bpm: Double) {
        self.init(ticksPerQuarter: ticksPerQuarter,
                  changes: [Change(tick: 0, microsecondsPerQuarter: Int((60_000_000.0 / bpm).rounded()))])
    }

    private func segment(forTick tick: Int) -> Int {
        var lo = 0, hi = changes.count - 1
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if changes[mid].tick <= tick { lo = mid } else { hi = mid - 1 }
        }
        return lo
    }

    public func seconds(atTick tick: Int) -> Double {
        let i = segment(forTick: tick)
        let dt = Double(tick - changes[i].tick) / Double(ticksPerQuarter)
        return secondsAtChange[i] + dt * Double(changes[i].microsecondsPerQuarter) / 1e6
    }

    /// The tick at a time in seconds (fractional).
    public func tick(atSeconds s: Double) -> Double {
        var i = changes.count - 1
        while i > 0 && secondsAtChange[i] > s { i -= 1 }
        return Double(changes[i].tick) + (s - secondsAtChange[i]) * 1e6 / Double(changes[i].microsecondsPerQuarter) * Double(ticksPerQuarter)
    }

    /// The tempo in force at a tick.
    public func bpm(atTick tick: Int) -> Double { changes[segment(forTick: tick)].bpm }

    public func seconds(atStep step: Int) -> Double { seconds(atTick: Grid.tick(ofStep: step, ticksPerQuarter: ticksPerQuarter)) }
}

/// A time signature from the file (denominator as a note value: 4 = quarter).
public struct TimeSignature: Equatable, Sendable {
    public var tick: Int
    public var numerator: Int
    public var denominator: Int
    public init(tick: Int = 0, numerator: Int, denominator: Int) {
        self.tick = tick
        self.numerator = numerator
        self.denominator = denominator
    }

    /// Numerators 1–32 over a power of two from 1 to 64: what a real metre is. A file's 255/2^255
    /// is damage, not a metre of 15 beats.
    public var isPlausible: Bool {
        (1...32).contains(numerator) && (1...64).contains(denominator) && denominator & (denominator - 1) == 0
    }
}

/// The grid of docs/design.md ("The time grid"): 8 steps per beat, a beat being a quarter note in a MIDI file.
public enum Grid {
    public static let stepsPerBeat = 8

    /// The step a tick belongs to: round to nearest, halves up, in integers (docs/tokens.md).
    @inlinable
    public static func step(ofTick tick: Int, ticksPerQuarter ppq: Int) -> Int {
        let num = 16 * tick + ppq
        let den = 2 * ppq
        // floor division, also for negative ticks
        return num >= 0 ? num / den : -((-num + den - 1) / den)
    }

    /// The tick where a step begins (rounded to nearest when the PPQ is not a multiple of 8).
    @inlinable
    public static func tick(ofStep step: Int, ticksPerQuarter ppq: Int) -> Int {
        let num = 2 * step * ppq + stepsPerBeat
        let den = 2 * stepsPerBeat
        return num >= 0 ? num / den : -((-num + den - 1) / den)
    }

    /// Steps in a bar of a time signature: beats are counted in quarter notes, so 6/8 has
    /// 3 quarter notes = 24 steps, 3/4 has 24, 4/4 has 32.
    public static func stepsPerBar(_ ts: TimeSignature) -> Int {
        max(1, ts.numerator * stepsPerBeat * 4 / max(1, ts.denominator))
    }
}
