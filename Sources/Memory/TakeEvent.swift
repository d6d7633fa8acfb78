import Harmony
import Realtime

/// What the engine thread tells the memory thread about a performance (docs/memory.md, "Live"):
/// melody keys with their steps, the left hand's chord hints, where performances begin and end,
/// and each beat's first step as it is computed (`beat`: every melody key of the steps before it
/// has been sent). Trivial, so it goes through an `SPSCRing` without allocating.
public struct TakeEvent: Sendable, BitwiseCopyable, Equatable {
    public enum Kind: UInt8, Sendable, BitwiseCopyable { case noteOn, noteOff, hint, hintWithdrawn, start, stop, beat }
    public var kind: Kind
    public var step: Int32
    public var pitch: UInt8 = 0
    public var velocity: UInt8 = 0
    /// A hint's chord: root 0-11, quality raw value, bass 0-11 or -1.
    public var root: Int8 = 0
    public var quality: UInt8 = 0
    public var bass: Int8 = -1
    /// A beat marker's performance (the engine thread counts the external clock's Starts), so a
    /// plan made for an earlier performance is never applied to a later one.
    public var performance: UInt16 = 0

    public init(kind: Kind, step: Int, pitch: Int = 0, velocity: Int = 0) {
        self.kind = kind
        self.step = Int32(clamping: step)
        self.pitch = UInt8(clamping: pitch)
        self.velocity = UInt8(clamping: velocity)
    }

    public init(hint chord: ChordSymbol?, step: Int) {
        self.init(kind: chord == nil ? .hintWithdrawn : .hint, step: step)
        if let chord {
            root = Int8(chord.root)
            quality = chord.quality.rawValue
            bass = Int8(chord.bass ?? -1)
        }
    }

    var chord: ChordSymbol? {
        guard kind == .hint, let q = ChordQuality(rawValue: quality) else { return nil }
        return ChordSymbol(root: Int(root), quality: q, bass: bass >= 0 ? Int(bass) : nil)
    }
}
