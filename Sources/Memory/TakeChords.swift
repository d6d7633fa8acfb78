import Harmony
import Hindsight

extension Take {
    /// A take's chords, one a beat from step 0 (`render --memory` and the live recorder): the
    /// chart's and the left hand's (`hints`) where they gave one, ground truth; else, when neither
    /// gave any, `estimate()`'s (hindsight), with each beat's chord-tone probabilities in
    /// thousandths; else none.
    public static func chords(beats: Int, chart: ChordStream, leftHand hints: [ChordHint],
                              estimate: () -> HindsightChords?) -> (chords: [String], source: ChordSource, heard: [Int]?) {
        var stream = chart
        for h in hints { stream.hint(h.chord, from: .leftHand, at: h.step) }
        let given: [ChartChord?] = (0..<beats).map { b in
            let v = stream.known(before: 8 * b)
            return v.source == .chart || v.source == .leftHand ? v.chord : nil
        }
        let source: ChordSource = !hints.isEmpty ? .leftHand : (chart.hasChart ? .chart : .none)
        if source != .none && given.contains(where: { $0 != nil }) {
            return (given.map { $0?.description ?? "" }, source, nil)
        }
        guard let e = estimate() else { return ([], .none, nil) }
        let chords = (0..<beats).map { $0 < e.perBeat.count ? e.perBeat[$0].description : "" }
        let heard = (0..<(beats * 12)).map { i in i < e.heard.count ? min(1000, max(0, Int((e.heard[i] * 1000).rounded()))) : 0 }
        return (chords, .hindsight, heard)
    }
}
