import Harmony

/// The harmony the player gives an engine (docs/harmony.md): the chord stream with the chart and
/// the left hand's hints, read once per step, and the chord changes it brings.
///
/// Owned by the engine, on the engine's thread. After `set` (which reserves room) nothing here
/// allocates: hints beyond the reserve push out those no later step can see.
struct GivenHarmony {
    private(set) var stream = ChordStream()
    /// The given chord in force at the last step read (nil: none given).
    private(set) var current: ChartChord?
    /// The step at which the given chord last changed (−1: not since reset).
    private(set) var changeStep = -1
    /// The last step read: views of earlier steps are never asked for again.
    private var lastRead = Int.min

    static let reserve = 4096

    init() { stream.reserveHints(Self.reserve) }

    mutating func set(_ s: ChordStream) {
        stream = s
        stream.reserveHints(Self.reserve)
        reset()
    }

    mutating func reset() {
        stream.clearHints()
        current = nil
        changeStep = -1
        lastRead = Int.min
    }

    mutating func hint(_ chord: ChordSymbol?, step: Int) {
        if stream.hintCount >= Self.reserve - 1 && lastRead > Int.min { stream.forgetHints(before: lastRead) }
        stream.hint(chord, from: .leftHand, at: step)
    }

    /// The rehearsal memory's chord from `step` on (docs/memory.md), planned before that step.
    mutating func remember(_ chord: ChartChord?, step: Int) {
        if stream.hintCount >= Self.reserve - 1 && lastRead > Int.min { stream.forgetHints(before: lastRead) }
        stream.remember(chord, at: step)
    }

    /// Reads the stream for the output of step `s` (steps in order): the chord given by the
    /// chart or the left hand (nil when neither gives one and the melody decides). A given chord
    /// that differs from the one before (the first included) is a change at `s`.
    mutating func read(step s: Int) -> ChartChord? {
        lastRead = s
        let view = stream.known(before: s)
        let given = view.source == .chart || view.source == .leftHand || view.source == .memory ? view.chord : nil
        if let g = given, g != current { changeStep = s }
        current = given
        return given
    }
}

extension ChartChord {
    /// The chord's pitch classes (bit k = pitch class k); 0 for N.C.
    var toneMask: Int {
        switch self {
        case .chord(let c): return Int(c.pitchClassMask)
        case .noChord: return 0
        }
    }
}
