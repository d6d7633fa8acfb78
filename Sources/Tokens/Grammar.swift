/// Which accompaniment tokens may come next (docs/tokens.md "Grammar").
///
/// A value type with fixed-size storage: `apply` and `isLegal` never allocate, so the sampler may
/// use it on the real-time engine thread.
public struct Grammar: Sendable {
    /// Allowed NOTE_ON pitches.
    public var lowestPitch: Int
    public var highestPitch: Int
    /// At most this many accompaniment pitches sound at once.
    public var maxPolyphony: Int

    /// The clock: the step at which the next token sounds.
    public private(set) var time: Int = 0
    public private(set) var velocityBin: Int? = nil
    public private(set) var lastWasVelocity = false
    public private(set) var soundingCount = 0
    /// Start step of each sounding pitch, -1 when silent. (128,)
    private var starts: SIMD128Int

    public init(lowestPitch: Int = 0, highestPitch: Int = 127, maxPolyphony: Int = 128) {
        self.lowestPitch = max(0, min(127, lowestPitch))
        self.highestPitch = max(0, min(127, highestPitch))
        self.maxPolyphony = max(1, maxPolyphony)
        self.starts = SIMD128Int(repeating: -1)
    }

    public func isSounding(_ pitch: Int) -> Bool { starts[pitch] >= 0 }
    public func startOf(_ pitch: Int) -> Int? { starts[pitch] >= 0 ? starts[pitch] : nil }

    /// The largest time shift allowed now: up to the next beat boundary.
    public var maxTimeShift: Int { 8 - time % 8 }

    public func isLegal(_ id: Int) -> Bool {
        switch id {
        case 0..<128:
            return starts[id] < 0 && id >= lowestPitch && id <= highestPitch
                && soundingCount < maxPolyphony && velocityBin != nil
        case 128..<256:
            let s = starts[id - 128]
            return s >= 0 && s < time
        case 256..<288:
            return id - 255 <= maxTimeShift
        case 288..<320:
            return !lastWasVelocity
        default:
            return false
        }
    }

    /// Advances the state by a token (legal or not: an illegal token is applied as decode would).
    public mutating func apply(_ id: Int) {
        lastWasVelocity = false
        switch id {
        case 0..<128:
            if starts[id] < 0 { soundingCount += 1 }
            starts[id] = time
        case 128..<256:
            if starts[id - 128] >= 0 { soundingCount -= 1 }
            starts[id - 128] = -1
        case 256..<288:
            time += id - 255
        case 288..<320:
            velocityBin = id - 288
            lastWasVelocity = true
        default:
            break
        }
    }

    /// Sets the clock (a live engine whose time shift was cut short, or that joins late).
    public mutating func setTime(_ t: Int) { time = t }

    /// The pitches sounding now, ascending.
    public var soundingPitches: [Int] { (0..<128).filter { starts[$0] >= 0 } }
}

/// 128 Ints stored inline (no heap), indexed 0…127.
public struct SIMD128Int: Sendable {
    private var lo: SIMD64<Int>
    private var hi: SIMD64<Int>
    public init(repeating v: Int) {
        lo = SIMD64(repeating: v)
        hi = SIMD64(repeating: v)
    }
    public subscript(i: Int) -> Int {
        get { i < 64 ? lo[i] : hi[i - 64] }
        set { if i < 64 { lo[i] = newValue } else { hi[i - 64] = newValue } }
    }
}
