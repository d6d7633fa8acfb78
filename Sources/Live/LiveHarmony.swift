import Config
import Foundation
import Harmony
import SafeFiles

/// The harmony `accompanist run` is given besides the melody (docs/harmony.md, "Live: split
/// point, chord channel and chart"): the chart's chord stream, loaded and checked at start before
/// anything opens, and the left hand's settings; and what to say about them at start.
///
/// Made and read on the control thread. Its `stream` goes to the engine once (`EngineLoop.init`),
/// its `makeLeftHand()` to the engine thread, which owns the reader from then on.
public struct LiveHarmony: Sendable {
    /// Why the chart could not be loaded, with the exit status `accompanist run` gives.
    public enum LoadError: Error, CustomStringConvertible, Equatable {
        /// No such file, a directory, or no permission: exit 66 (EX_NOINPUT).
        case missing(String)
        /// A malformed chart, or one whose cells do not divide the bar: exit 65 (EX_DATAERR).
        /// Its description is `ChartError`'s one line (file, line, bar and cell).
        case bad(ChartError)

        public var description: String {
            switch self {
            case .missing(let s): return s
            case .bad(let e): return e.description
            }
        }

        public var exitCode: Int32 {
            switch self {
            case .missing: return 66
            case .bad: return 65
            }
        }
    }

    public let settings: HarmonySettings
    /// The chart (bar 1 = step 0 of the performance), or an empty stream.
    public let stream: ChordStream
    public let beatsPerBar: Int
    public let leftHandSound: Bool

    public init(settings: HarmonySettings, stream: ChordStream, beatsPerBar: Int, leftHandSound: Bool) {
        self.settings = settings
        self.stream = stream
        self.beatsPerBar = beatsPerBar
        self.leftHandSound = leftHandSound
    }

    /// The `[harmony]` keys of `config`, with the chart read and laid on bars of
    /// `tempo.beats_per_bar`. A relative chart path is taken from the working directory, as
    /// `engine.model` is.
    public static func load(_ config: DaemonConfig) throws(LoadError) -> LiveHarmony {
        let settings = config.harmonySettings
        if let path = settings.chartPath {
            // Missing, a directory, a FIFO: named in words (exit 66), before it is read.
            do { try InputFile.check(path) } catch { throw .missing("harmony.chart: \(error.description)") }
        }
        let stream: ChordStream
        do { stream = try settings.loadStream(beatsPerBar: config.beatsPerBar) } catch { throw .bad(error) }
        return LiveHarmony(settings: settings, stream: stream, beatsPerBar: config.beatsPerBar, leftHandSound: config.leftHandSound)
    }

    /// Whether a left hand is read: a split point or a chord channel.
    public var readsLeftHand: Bool { settings.splitNote != nil || settings.chordChannel != nil }

    /// The left hand's reader for the engine thread; nil without a split or a chord channel.
    public func makeLeftHand() -> LeftHand? { readsLeftHand ? settings.makeLeftHand() : nil }

    /// The chart's length in bars; 0 without one.
    public var chartBars: Int { stream.hasChart ? stream.chartEnd / (beatsPerBar * 8) : 0 }

    /// One line for the log at start: what gives the chords, e.g.
    /// `harmony: chart song.chart (16 bars, bar 1 at the first key); left hand below F#3 (54) and on channel 2 (fingered on bass, a chord holds until the next, waits 0.25 step; keys not sounded)`.
    /// `barOne` says where bar 1 is (the tempo source's phase).
    public func describe(barOne: String) -> String {
        var parts: [String] = []
        if let path = settings.chartPath { parts.append("chart \(path) (\(chartBars) bars, bar 1 \(barOne))") }
        if readsLeftHand {
            let split = settings.splitNote.map { "below \(NoteName.name(of: $0)) (\($0))" }
            let channel = settings.chordChannel.map { "on channel \($0)" }
            let mode = settings.mode == .fingered ? "fingered" : "fingered on bass"
            let release = settings.releaseEndsChord ? "letting go ends the chord" : "a chord holds until the next"
            let sound = leftHandSound ? "keys sounded" : "keys not sounded"
            let wait = "waits \(String(format: "%.2f", settings.leftHandWait)) step"
            parts.append("left hand \([split, channel].compactMap { $0 }.joined(separator: " and ")) (\(mode), \(release), \(wait); \(sound))")
        }
        if parts.isEmpty { return "harmony: from the melody (no chart, no split, no chord channel)" }
        return "harmony: " + parts.joined(separator: "; ") + (stream.hasChart ? "" : "; the melody where the left hand gives no chord")
    }

    /// Where bar 1 of the chart (step 0 of the performance) lies, for `describe`.
    public static func barOne(_ config: DaemonConfig) -> String {
        if config.tempoSource == "midi-clock" { return "at the external clock's song position 0" }
        return config.countInBars > 0 ? "after the \(config.countInBars)-bar count-in" : "at the first key played"
    }

    /// Settings that are probably not what the player meant, one line each (warnings first:
    /// `warning` true), for the log at start. None stops the daemon: each is a working setup.
    public static func advice(_ config: DaemonConfig) -> [(warning: Bool, text: String)] {
        var lines: [(Bool, String)] = []
        let hs = config.harmonySettings
        let leftHand = hs.splitNote != nil || hs.chordChannel != nil
        if let c = hs.chordChannel {
            if c == 1 {
                lines.append((true, "harmony.chord_channel = 1: every note on channel 1 is a chord key; most keyboards send on channel 1, so if yours does, none of its notes is melody (set the chord keyboard or the DAW's chord track to another channel)"))
            }
            if c == config.accompanimentChannel {
                lines.append((true, "harmony.chord_channel = \(c) is also midi.accompaniment_channel: chord_channel is the input channel the chords come in on (a second keyboard, a DAW's chord track), not the one the accompaniment plays on; if the output comes back to the input, the accompaniment is read as chords"))
            }
        }
        if let n = hs.splitNote {
            if n == 0 {
                lines.append((true, "harmony.split_note = 0 (C-1): no key is below it, so no key is a chord key"))
            } else if n > 84 {
                lines.append((true, "harmony.split_note = \(NoteName.name(of: n)) (\(n)): every key below it is a chord key, so only the top of the keyboard plays melody"))
            }
            if config.panicNote >= 0 && config.panicNote < n {
                lines.append((false, "midi.panic_note \(NoteName.name(of: config.panicNote)) (\(config.panicNote)) is below the split: it stays the panic key, not a chord key"))
            }
        }
        if !leftHand {
            let unused = [config.releaseEndsChord ? "release_ends_chord" : nil,
                          config.chordMode != DaemonConfig().chordMode ? "chord_mode" : nil,
                          config.leftHandWait != DaemonConfig().leftHandWait ? "left_hand_wait" : nil,
                          config.leftHandSound ? "left_hand_sound" : nil].compactMap { $0 }
            for key in unused {
                lines.append((false, "harmony.\(key) has no effect without harmony.split_note or harmony.chord_channel"))
            }
        } else if !config.leftHandSound && config.melodyPassthrough {
            lines.append((false, "the left hand's keys are not passed through (harmony.left_hand_sound = false): the output port gets the melody only"))
        }
        return lines
    }
}
