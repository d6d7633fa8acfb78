import Tokens

/// What the hindsight estimator reads of the melody: one row of 53 features a beat (8 grid
/// steps). The layout is `hindsight.beat_features` in Training/accompanist_train/hindsight.py,
/// which the parity test holds this to:
///
/// | columns | feature |
/// |---|---|
/// | 0..<12 | the share of the beat's 8 steps each melody pitch class sounds |
/// | 12..<24 | 1 for each pitch class struck (an onset) in the beat |
/// | 24..<36 | one-hot: the pitch class sounding on the beat's first step |
/// | 36..<48 | the whole melody's pitch-class histogram (columns 0..<12 summed over beats), normalised to sum 1: a key cue |
/// | 48 | the share of the beat that is rest |
/// | 49..<53 | one-hot: the beat's place in the bar, mod 4 |
public enum BeatFeatures {
    public static let count = 53
    public static let stepsPerBeat = 8

    /// Row-major (beats, 53) features of `frames` (one per step from step 0, which is beat 1 of
    /// bar 1), in bars of `beatsPerBar` beats; the last beat is padded with rests.
    public static func compute(_ frames: [MelodyFrame], beatsPerBar: Int) -> (beats: Int, values: [Float]) {
        let beats = (frames.count + stepsPerBeat - 1) / stepsPerBeat
        var f = [Float](repeating: 0, count: beats * count)   // (beats, 53)
        var histogram = [Float](repeating: 0, count: 12)
        for b in 0..<beats {
            let row = b * count
            var sounding = 0
            for k in 0..<stepsPerBeat {
                let s = b * stepsPerBeat + k
                guard s < frames.count, !frames[s].isRest else { continue }
                let pc = Int(frames[s].pitch) % 12
                sounding += 1
                f[row + pc] += 1 / Float(stepsPerBeat)
                if frames[s].onset { f[row + 12 + pc] = 1 }
                if k == 0 { f[row + 24 + pc] = 1 }
            }
            for pc in 0..<12 { histogram[pc] += f[row + pc] }
            f[row + 48] = 1 - Float(sounding) / Float(stepsPerBeat)
            f[row + 49 + (b % max(1, beatsPerBar)) % 4] = 1
        }
        let total = histogram.reduce(0, +)
        if total > 0 {
            for b in 0..<beats { for pc in 0..<12 { f[b * count + 36 + pc] = histogram[pc] / total } }
        }
        return (beats, f)
    }
}
