/// The accompaniment vocabulary of docs/tokens.md: 128 NOTE_ON, 128 NOTE_OFF, 32 TIME_SHIFT
/// (1…32 steps), 32 VELOCITY bins, then PAD, BOS, EOS.
public enum Vocabulary {
    public static let noteOnBase = 0
    public static let noteOffBase = 128
    public static let timeShiftBase = 255      // TIME_SHIFT n = 255 + n, n = 1…32
    public static let velocityBase = 288
    public static let maxTimeShift = 32
    public static let velocityBins = 32
    public static let pad = 320
    public static let bos = 321
    public static let eos = 322
    public static let size = 323

    @inlinable public static func noteOn(_ pitch: Int) -> Int { noteOnBase + pitch }
    @inlinable public static func noteOff(_ pitch: Int) -> Int { noteOffBase + pitch }
    @inlinable public static func timeShift(_ steps: Int) -> Int { timeShiftBase + steps }
    @inlinable public static func velocity(bin: Int) -> Int { velocityBase + bin }

    /// The velocity bin of a MIDI velocity (0…127 → 0…31).
    @inlinable public static func velocityBin(_ velocity: Int) -> Int { max(0, min(127, velocity)) >> 2 }
    /// The MIDI velocity a bin stands for.
    @inlinable public static func velocity(ofBin bin: Int) -> Int { 4 * bin + 2 }
}

/// A token id read as what it means.
public enum Token: Equatable, Hashable, Sendable, CustomStringConvertible {
    case noteOn(Int)
    case noteOff(Int)
    case timeShift(Int)
    case velocity(Int)
    case pad, bos, eos

    @inlinable
    public init?(id: Int) {
        switch id {
        case 0..<128: self = .noteOn(id)
        case 128..<256: self = .noteOff(id - 128)
        case 256..<288: self = .timeShift(id - 255)
        case 288..<320: self = .velocity(id - 288)
        case Vocabulary.pad: self = .pad
        case Vocabulary.bos: self = .bos
        case Vocabulary.eos: self = .eos
        default: return nil
        }
    }

    @inlinable
    public var id: Int {
        switch self {
        case .noteOn(let p): return Vocabulary.noteOn(p)
        case .noteOff(let p): return Vocabulary.noteOff(p)
        case .timeShift(let n): return Vocabulary.timeShift(n)
        case .velocity(let b): return Vocabulary.velocity(bin: b)
        case .pad: return Vocabulary.pad
        case .bos: return Vocabulary.bos
        case .eos: return Vocabulary.eos
        }
    }

    public var description: String {
        switch self {
        case .noteOn(let p): return "ON\(p)"
        case .noteOff(let p): return "OFF\(p)"
        case .timeShift(let n): return "SHIFT\(n)"
        case .velocity(let b): return "VEL\(b)"
        case .pad: return "PAD"
        case .bos: return "BOS"
        case .eos: return "EOS"
        }
    }
}

/// A token with its time: the grid step at which it sounds (docs/tokens.md, "Token time").
public struct TimedToken: Equatable, Hashable, Sendable {
    public var id: Int
    public var time: Int
    public init(id: Int, time: Int) {
        self.id = id
        self.time = time
    }
}
