import Tokens

/// What the hindsight estimator reads of the melody: one row of 89 features a beat (8 grid
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
/// | 53..<65 | 1 for each pitch class of a note begun in the beat that is leapt to: the first note, one after a rest, or `leap` semitones or more from the note before |
/// | 65..<77 | 1 for each pitch class of a note begun in the beat that is left by leap: the last note, one before a rest, or `leap` semitones or more to the next |
/// | 77..<89 | the share of the beat's steps each pitch class sounds in a note a beat long or longer |
///
/// Columns 53 on are how each note moves, what a musician tells chord tones from passing and
/// neighbour tones by. The first models read columns 0..<53 only (`HindsightModel.features`).
public enum BeatFeatures {
    public static let count = 89
    /// The widths a model may read (its metadata `features`): the first `w` columns.
    public static let widths = [53, 89]
    /// The first column of each 12-wide pitch-class block (rotated to transpose a melody).
    public static let pitchClassBlocks = [0, 12, 24, 36, 53, 65, 77]
    /// A melodic interval of this many semitones or more is a leap.
    public static let leap = 3
    public static let stepsPerBeat = 8

    /// Row-major (beats, 89) features of `frames` (one per step from step 0, which is beat 1 of
    /// bar 1), in bars of `beatsPerBar` beats; the last beat is padded with rests.
    public static func compute(_ frames: [MelodyFrame], beatsPerBar: Int) -> (beats: Int, values: [Float]) {
        let beats = (frames.count + stepsPerBeat - 1) / stepsPerBeat
        var f = [Float](repeating: 0, count: beats * count)   // (beats, 89)
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
        let notes = Self.notes(frames)
        for (i, n) in notes.enumerated() {
            let row = (n.start / stepsPerBeat) * count, pc = n.pitch % 12
            if i == 0 || notes[i - 1].end < n.start || abs(n.pitch - notes[i - 1].pitch) >= leap { f[row + 53 + pc] = 1 }
            if i + 1 == notes.count || notes[i + 1].start > n.end || abs(notes[i + 1].pitch - n.pitch) >= leap { f[row + 65 + pc] = 1 }
            if n.end - n.start >= stepsPerBeat {
                for s in n.start..<n.end { f[(s / stepsPerBeat) * count + 77 + pc] += 1 / Float(stepsPerBeat) }
            }
        }
        return (beats, f)
    }

    /// The melody's notes, steps `start..<end`: a note begins at an onset, after a rest or where
    /// the pitch changes, and lasts while the same pitch sounds without a new onset
    /// (`hindsight.melody_notes`).
    static func notes(_ frames: [MelodyFrame]) -> [(start: Int, end: Int, pitch: Int)] {
        var out: [(start: Int, end: Int, pitch: Int)] = []
        var i = 0
        while i < frames.count {
            if frames[i].isRest { i += 1; continue }
            var j = i + 1
            while j < frames.count, !frames[j].isRest, frames[j].pitch == frames[i].pitch, !frames[j].onset { j += 1 }
            out.append((i, j, Int(frames[i].pitch)))
            i = j
        }
        return out
    }
}
