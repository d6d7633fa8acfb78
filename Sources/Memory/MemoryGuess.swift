import Engine
import Harmony
import Realtime

/// A beat's chord from the rehearsal memory, planned by the memory thread for the engine thread
/// (docs/memory.md, "Live"). Trivial, so it goes through an `SPSCRing` without allocating.
public struct MemoryGuess: Sendable, BitwiseCopyable, Equatable {
    public enum Kind: UInt8, Sendable, BitwiseCopyable {
        /// The memory says nothing: the chords come from the melody (or a chart, a left hand).
        case none
        /// A chord a chart or a left hand gave in the stored take (`root`, `quality`, `bass`).
        case chord
        /// N.C. in the stored take.
        case noChord
        /// Hindsight's estimate in the stored take: each pitch class's chord-tone probability.
        case heard
    }
    public var beat: Int32
    /// The performance it was planned for (`TakeEvent.performance`).
    public var performance: UInt16 = 0
    public var kind: Kind
    public var root: Int8 = 0
    public var quality: UInt8 = 0
    public var bass: Int8 = -1
    /// `heard`: lanes 0..<12 are the chord-tone probabilities.
    public var heard = SIMD16<Float>()

    public init(beat: Int, performance: UInt16 = 0, guess: MemoryFollower.Guess?) {
        self.beat = Int32(clamping: beat)
        self.performance = performance
        switch guess {
        case .chord(.chord(let c))?:
            kind = .chord
            root = Int8(c.root)
            quality = c.quality.rawValue
            bass = Int8(c.bass ?? -1)
        case .chord(.noChord)?:
            kind = .noChord
        case .heard(let pi)?:
            kind = .heard
            for k in 0..<min(12, pi.count) { heard[k] = pi[k] }
        case nil:
            kind = .none
        }
    }

    /// Gives the engine this plan for the steps from `step` on: a known chord as a chart's
    /// would be, an estimate heard (the model engine), nothing otherwise. The same for render and
    /// the engine thread; no allocation (`scratch`: 12 floats).
    public func apply(to engine: AccompanimentEngine, step: Int, scratch: UnsafeMutablePointer<Float>) {
        engine.memoryChord(chord, step: step)
        if kind == .heard {
            for k in 0..<12 { scratch[k] = heard[k] }
            engine.memoryHeard(UnsafePointer(scratch), step: step)
        } else {
            engine.memoryHeard(nil, step: step)
        }
    }

    /// The chord of a `chord` or `noChord` guess.
    public var chord: ChartChord? {
        switch kind {
        case .chord:
            guard let q = ChordQuality(rawValue: quality) else { return nil }
            return .chord(ChordSymbol(root: Int(root), quality: q, bass: bass >= 0 ? Int(bass) : nil))
        case .noChord: return .noChord
        case .none, .heard: return nil
        }
    }
}
