// ChordFeatures: the chord input of a decoder position (docs/model.md, "Chord input"), and the
// pitch classes of the chord head's classes. Pure functions over caller-owned buffers: nothing
// here allocates, so the engine thread may call them.

public enum ChordFeatures {
    /// Features per position: 12 chord tones, 12 bass (one-hot), the "given" flag.
    public static let count = 25

    /// The features of a chord given by a chart or a left hand: tone k is 1 where bit k of
    /// `toneMask` is set, the bass one-hot (nil: root position), the flag 1. N.C. is mask 0.
    /// - Parameters: out: [count]
    public static func given(toneMask: Int, bass: Int?, into out: UnsafeMutablePointer<Float>) {
        for k in 0..<12 { out[k] = Float((toneMask >> k) & 1) }
        for k in 0..<12 { out[12 + k] = 0 }
        if let b = bass { out[12 + ((b % 12) + 12) % 12] = 1 }
        out[24] = 1
    }

    /// The pitch classes of chord-head class `c` (bit k = pitch class k): root c / 5, quality
    /// c % 5 (maj, min, sus, dim, aug); the last class (N) has none. As model.chord_class_tones.
    public static func classTones(_ c: Int, classes: Int) -> Int {
        guard c >= 0 && c < classes - 1 else { return 0 }
        let root = c / 5
        let intervals: (Int, Int, Int, Int)
        switch c % 5 {
        case 0: intervals = (0, 4, 7, 0)
        case 1: intervals = (0, 3, 7, 0)
        case 2: intervals = (0, 2, 5, 7)
        case 3: intervals = (0, 3, 6, 0)
        default: intervals = (0, 4, 8, 0)
        }
        return 1 << ((root + intervals.0) % 12) | 1 << ((root + intervals.1) % 12)
            | 1 << ((root + intervals.2) % 12) | 1 << ((root + intervals.3) % 12)
    }
}
