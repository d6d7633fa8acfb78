import Foundation
import Harmony

/// Where the player's harmony comes from (docs/harmony.md): the one mapping from the `[harmony]`
/// keys, shared by `accompanist run` and `accompanist render`.
public struct HarmonySettings: Equatable, Sendable {
    /// A chord chart file; nil: none.
    public var chartPath: String?
    /// Keys below this note are the left hand; nil: no split.
    public var splitNote: Int?
    /// Notes on this channel (1-16) are the left hand; nil: none.
    public var chordChannel: Int?
    public var releaseEndsChord: Bool
    public var mode: ChordRecognizer.Mode
    /// Grid steps a left-hand key may come after a step's time and still count for it
    /// (`LeftHand.wait`).
    public var leftHandWait: Double = LeftHand.defaultWait

    /// A left hand reader with these settings.
    public func makeLeftHand() -> LeftHand {
        LeftHand(recognizer: ChordRecognizer(mode: mode), releaseEndsChord: releaseEndsChord, wait: leftHandWait)
    }

    /// The chord stream holding the chart (bar 1 = step 0), or an empty one without a chart.
    /// Throws `ChartError` (one line: file, line, bar and cell) for an unreadable or bad chart.
    public func loadStream(beatsPerBar: Int) throws(ChartError) -> ChordStream {
        guard let chartPath else { return ChordStream() }
        let chart = try ChordChart(contentsOfFile: chartPath)
        return try ChordStream(chart: chart, beatsPerBar: beatsPerBar)
    }

    /// Where the chart ends, as a bar number for messages.
    public static func describeEnd(_ step: Int, beatsPerBar: Int) -> String {
        "bar \(step / (beatsPerBar * 8) + 1)"
    }
}

extension DaemonConfig {
    /// The `[harmony]` keys.
    public var harmonySettings: HarmonySettings {
        HarmonySettings(chartPath: chart.isEmpty ? nil : chart, splitNote: splitNote,
                        chordChannel: chordChannel == 0 ? nil : chordChannel,
                        releaseEndsChord: releaseEndsChord, mode: chordMode == "fingered" ? .fingered : .fingeredOnBass,
                        leftHandWait: leftHandWait)
    }
}
