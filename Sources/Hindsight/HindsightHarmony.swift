import Harmony
import Tokens

/// Hindsight harmony (docs/hindsight.md): the chords of a whole melody, estimated at once by
/// `HindsightModel` and `ChordDecoder`, one a beat, as a chart would give them.
public struct HindsightChords: Sendable, Equatable {
    /// One chord a beat from step 0 (beat 1 of bar 1).
    public let perBeat: [ChartChord]
    public let beatsPerBar: Int

    public static func == (a: HindsightChords, b: HindsightChords) -> Bool { a.perBeat == b.perBeat && a.beatsPerBar == b.beatsPerBar }

    public init(perBeat: [ChartChord], beatsPerBar: Int) {
        self.perBeat = perBeat
        self.beatsPerBar = beatsPerBar
    }

    /// Per beat, each pitch class's probability of being a chord tone: the class posterior
    /// times the classes' tones, as the model's chord head hears. Row-major (beats, 12).
    public var heard: [Float] = []

    /// Estimates the chords of `frames` (one per step from beat 1 of bar 1).
    public init(frames: [MelodyFrame], beatsPerBar: Int, model: HindsightModel) {
        let (n, f) = BeatFeatures.compute(frames, beatsPerBar: beatsPerBar)
        let logits = model.classLogProbabilities(features: f, beats: n)
        let classes = ChordDecoder.decode(logits: logits, beats: n, beatsPerBar: beatsPerBar, penalty: model.penalty)
        self.init(perBeat: classes.map(ChordDecoder.chord(ofClass:)), beatsPerBar: beatsPerBar)
        heard = ChordDecoder.toneProbabilities(logits: logits, beats: n)
    }

    /// The chords as a chord stream with a chart (bar 1 = step 0), the last chord held to the end
    /// of its bar: what `render --chart` reads from `chartText`.
    public var stream: ChordStream {
        var changes: [ChordChange] = []
        for (b, c) in perBeat.enumerated() where changes.last?.chord != c {
            changes.append(ChordChange(step: b * BeatFeatures.stepsPerBeat, chord: c))
        }
        if changes.isEmpty { changes = [ChordChange(step: 0, chord: .noChord)] }
        let bars = max(1, (perBeat.count + beatsPerBar - 1) / beatsPerBar)
        return ChordStream(changes: changes, end: bars * beatsPerBar * BeatFeatures.stepsPerBeat)
    }

    /// The chords as chart text (docs/harmony.md's format): one cell a beat, `/` for a repeat,
    /// four bars a line; the last bar filled with `/`.
    public var chartText: String {
        var lines: [String] = []
        var bars: [String] = []
        var previous: ChartChord?
        let n = (perBeat.count + beatsPerBar - 1) / beatsPerBar * beatsPerBar
        for b in 0..<n {
            let c = b < perBeat.count ? perBeat[b] : previous
            let cell: String
            if let c, c == previous { cell = "/" } else { cell = (c ?? .noChord).description }
            previous = c
            if b % beatsPerBar == 0 { bars.append(cell) } else { bars[bars.count - 1] += " " + cell }
            if bars.count == 4 && b % beatsPerBar == beatsPerBar - 1 {
                lines.append("| " + bars.joined(separator: " | ") + " |")
                bars = []
            }
        }
        if !bars.isEmpty { lines.append("| " + bars.joined(separator: " | ") + " |") }
        return lines.joined(separator: "\n") + "\n"
    }
}
