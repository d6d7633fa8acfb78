/// Keys for the rule-based accompanist: a Krumhansl–Kessler estimate from the melody, and the
/// diatonic chords (Harmony's `ChordSymbol`s) it chooses from.

/// A major or minor key.
public struct Key: Equatable, Hashable, Sendable, CustomStringConvertible {
    public var tonic: Int
    public var isMinor: Bool

    public init(tonic: Int, isMinor: Bool) {
        self.tonic = ((tonic % 12) + 12) % 12
        self.isMinor = isMinor
    }

    /// Pitch classes of the scale (natural minor plus the leading tone for minor keys).
    public var scaleMask: Int {
        let steps = isMinor ? [0, 2, 3, 5, 7, 8, 10, 11] : [0, 2, 4, 5, 7, 9, 11]
        return steps.reduce(0) { $0 | 1 << ((tonic + $1) % 12) }
    }

    /// The chords the rules choose from, with a prior weight (tonic, subdominant and dominant
    /// functions first).
    public var diatonicChords: [(chord: ChordSymbol, prior: Double)] {
        let t = tonic
        if isMinor {
            return [(ChordSymbol(root: t, quality: .minor), 0.30), (ChordSymbol(root: t + 5, quality: .minor), 0.15),
                    (ChordSymbol(root: t + 7, quality: .major), 0.15), (ChordSymbol(root: t + 8, quality: .major), 0.12),
                    (ChordSymbol(root: t + 3, quality: .major), 0.12), (ChordSymbol(root: t + 10, quality: .major), 0.10),
                    (ChordSymbol(root: t + 7, quality: .dominant7), 0.05)]
        }
        return [(ChordSymbol(root: t, quality: .major), 0.30), (ChordSymbol(root: t + 5, quality: .major), 0.18),
                (ChordSymbol(root: t + 7, quality: .major), 0.18), (ChordSymbol(root: t + 9, quality: .minor), 0.14),
                (ChordSymbol(root: t + 2, quality: .minor), 0.10), (ChordSymbol(root: t + 4, quality: .minor), 0.08),
                (ChordSymbol(root: t + 7, quality: .dominant7), 0.05)]
    }

    public var description: String {
        NoteName.pitchClass(tonic) + (isMinor ? " minor" : " major")
    }

    // Krumhansl–Kessler key profiles.
    static let majorProfile: [Double] = [6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88]
    static let minorProfile: [Double] = [6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17]

    /// The key whose profile correlates best with a pitch-class histogram (12 weights), or nil
    /// when the histogram is empty. Allocation-free.
    public static func estimate(_ histogram: UnsafePointer<Double>) -> Key? {
        var total = 0.0
        for i in 0..<12 { total += histogram[i] }
        if total <= 0 { return nil }
        let mean = total / 12
        var best: Key? = nil
        var bestScore = -Double.infinity
        for mode in 0..<2 {  // (no array literal: this runs on the engine thread)
            let minor = mode == 1
            let profile = minor ? minorProfile : majorProfile
            let pMean = profile.reduce(0, +) / 12
            for tonic in 0..<12 {
                var num = 0.0, dh = 0.0, dp = 0.0
                for i in 0..<12 {
                    let h = histogram[(tonic + i) % 12] - mean
                    let p = profile[i] - pMean
                    num += h * p
                    dh += h * h
                    dp += p * p
                }
                let score = num / ((dh * dp).squareRoot() + 1e-12)
                if score > bestScore + 1e-12 {
                    bestScore = score
                    best = Key(tonic: tonic, isMinor: minor)
                }
            }
        }
        return best
    }
}
