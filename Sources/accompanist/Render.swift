import ArgumentParser
import Config
import Engine
import Foundation
import Harmony

import Logging
import MIDI
import Rendering
import SafeFiles

/// `accompanist render IN.mid -o OUT.mid`: the engine over a melody file, from a simulated clock.
struct Render: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Accompany the melody of a MIDI file, offline.",
        discussion: """
            Runs the same engine as the live daemon over the melody track of IN.mid, with a simulated \
            clock, and writes OUT.mid (format 1): the input's tempo map and time signature, the melody \
            track unchanged, and a track named "Accompaniment". The same input and seed give a \
            byte-identical file. With --wav, FluidSynth also renders both tracks to a WAV file. \
            The engine's settings are the daemon's defaults, changed by these options or by \
            --set engine.NAME=VALUE; a value out of range exits 78 and names its key. What each does: \
            `accompanist settings`, or docs/config.md.

            \(SettingOptions.help(for: .render))
            """)

    /// The daemon's defaults, which the options start from (and set through the same keys).
    private static let defaults = DaemonConfig()

    @Option(name: .customLong("set"), parsing: .unconditionalSingleValue,
            help: ArgumentHelp("An engine setting by its config key (engine.listen_beats=4); the engine options in the description above are the same.",
                               valueName: "key=value"))
    var settingItems: [String] = []

    @Argument(help: "The MIDI file with the melody.")
    var input: String

    @Option(name: .shortAndLong, help: "Where to write the accompanied MIDI file.")
    var output: String

    @Option(name: .customLong("melody-track"), help: "The melody track: its name, or its number counting from 1 (default: the first track with notes).")
    var melodyTrack: String?

    @Option(help: ArgumentHelp("A chord chart: the chords the accompaniment plays, bar 1 at the first beat (docs/harmony.md).", valueName: "file"))
    var chart: String?

    @Flag(help: "Two passes (docs/hindsight.md): first the song's chords are estimated from its whole melody, looking ahead, then the accompaniment plays to them (--hindsight-mode). Not causal, so not what the live daemon plays.")
    var hindsight = false

    @Option(name: .customLong("hindsight-model"), help: ArgumentHelp("The hindsight chord model (default: Models/hindsight.safetensors, found as the model is).", valueName: "file"))
    var hindsightModel: String?

    @Option(name: .customLong("hindsight-mode"), help: "How the model engine uses the estimate: heard (the default: each beat's chord-tone probabilities replace its own causal hearing) or chart (follow the likeliest chord of each beat, as a chart). The rules engine always follows it as a chart.")
    var hindsightMode: HindsightMode = .heard

    enum HindsightMode: String, ExpressibleByArgument { case chart, heard }

    @Option(name: .customLong("hindsight-chart"), help: ArgumentHelp("With --hindsight, also write the estimated chords to this file as a chord chart (one chord a beat).", valueName: "file"))
    var hindsightChart: String?

    @Option(help: ArgumentHelp("A rehearsal memory directory (docs/memory.md): the takes in it that play this melody give the chords as they go, and this render is stored there as a take.", valueName: "dir"))
    var memory: String?

    @Flag(inversion: .prefixedNo, help: "Follow repetition within the melody (docs/memory.md, \"Within a take\"): where a passage comes back, the chords estimated for its earlier occurrence give the chords ahead of time. Causal, as the daemon plays it.")
    var repeats = true

    @Option(help: ArgumentHelp("Notes of the melody track below this note are the left hand's chords, not melody: a number, or a name like F#3 (C4 = 60).", valueName: "note"))
    var split: String?

    @Option(name: .customLong("chord-track"), help: ArgumentHelp("A track whose notes are the left hand's chords: its name, or its number counting from 1.", valueName: "track"))
    var chordTrack: String?

    @Flag(name: .customLong("release-ends-chord"), help: "Letting go of every left-hand key ends its chord (the melody decides again); otherwise a chord holds until the next.")
    var releaseEndsChord = false

    @Option(name: .customLong("left-hand-wait"), parsing: .unconditional, help: ArgumentHelp("How long, in grid steps (32nd notes), a left-hand chord may come after a step and still count for it: a chord struck on the beat is played on the beat; live, the accompaniment sounds that much later (-0.5 to 0.45; docs/harmony.md).", valueName: "steps"))
    var leftHandWait: Double = defaults.leftHandWait

    @Option(name: .customLong("chord-mode"), help: "How left-hand keys make a chord: fingered-on-bass (the lowest key is the bass: C/E) or fingered.")
    var chordMode: String = defaults.chordMode

    @Option(parsing: .unconditional, help: "Tempo in beats per minute, for a file that has no tempo (20…400).")
    var bpm: Double?

    @Option(name: .customLong("beats-per-bar"), parsing: .unconditional, help: "Beats (quarter notes) per bar, when the file's time signature is missing or wrong (2…16).")
    var beatsPerBar: Int?

    @Option(help: "Also render the melody and the accompaniment to this WAV file with FluidSynth.")
    var wav: String?

    @Option(help: "SoundFont 2 file for --wav (default: Debian's GM soundfont).")
    var soundfont: String?

    @Option(name: .customLong("sample-rate"), parsing: .unconditional, help: "Sample rate of the WAV file (8000…192000).")
    var sampleRate: Int = 44_100

    @Option(help: "Also write the accompaniment events as JSON lines (step, pitch, velocity; 0 = note off), as the engine emitted them.")
    var events: String?

    func validate() throws {
        if let bpm, !(20...400).contains(bpm) { throw ValidationError("--bpm must be between 20 and 400, got \(bpm)") }
        if let beatsPerBar, !(2...16).contains(beatsPerBar) { throw ValidationError("--beats-per-bar must be between 2 and 16, got \(beatsPerBar)") }
        if !(8000...192_000).contains(sampleRate) { throw ValidationError("--sample-rate must be between 8000 and 192000, got \(sampleRate)") }
        if soundfont != nil && wav == nil { throw ValidationError("--soundfont is only used with --wav") }
        if let t = melodyTrack, let i = Int(t), i < 1 { throw ValidationError("--melody-track numbers count from 1, got \(i)") }
        // A bad setting is reported when the render runs (exit 78, naming its key), not here.
        let engine = (try? config())?.engineSettings.kind ?? .model
        if settingItems.contains(where: { $0.hasPrefix("model=") || $0.hasPrefix("engine.model=") }) && engine != .model {
            throw ValidationError("--model is only used with --engine model")
        }
        if let split, NoteName.midiNote(parsing: split) == nil {
            throw ValidationError("--split must be a note name like F#3 (C4 = 60) or a number 0-127, got \"\(split)\"")
        }
        if let t = chordTrack, let i = Int(t), i < 1 { throw ValidationError("--chord-track numbers count from 1, got \(i)") }
        if !["fingered-on-bass", "fingered"].contains(chordMode) { throw ValidationError("--chord-mode must be fingered-on-bass or fingered, got \"\(chordMode)\"") }
        if releaseEndsChord && split == nil && chordTrack == nil { throw ValidationError("--release-ends-chord is only used with --split or --chord-track") }
        if hindsight && chart != nil { throw ValidationError("--hindsight estimates the chords itself: it cannot be used with --chart") }
        if !hindsight && hindsightChart != nil { throw ValidationError("--hindsight-chart is only used with --hindsight") }
        if !hindsight && memory == nil && !(repeats && engine == .model) && hindsightModel != nil {
            throw ValidationError("--hindsight-model is only used with --hindsight, --memory or the model engine's repeats")
        }
        if !LeftHand.waitRange.contains(leftHandWait) {
            throw ValidationError("--left-hand-wait must be between \(LeftHand.waitRange.lowerBound) and \(LeftHand.waitRange.upperBound), got \(leftHandWait)")
        }
        if leftHandWait != Self.defaults.leftHandWait && split == nil && chordTrack == nil {
            throw ValidationError("--left-hand-wait is only used with --split or --chord-track")
        }
    }

    /// The harmony's settings: the options set as the daemon's `[harmony]` keys.
    func harmonySettings() throws -> HarmonySettings {
        var c = DaemonConfig()
        try c.setOption("harmony.chart", chart.map { .string($0) })
        try c.setOption("harmony.split_note", split.map { .string($0) })
        try c.setOption("harmony.release_ends_chord", .boolean(releaseEndsChord))
        try c.setOption("harmony.chord_mode", .string(chordMode))
        try c.setOption("harmony.left_hand_wait", .float(leftHandWait))
        return c.harmonySettings
    }

    /// The daemon's defaults with this render's settings (`--set`, and the table's options
    /// rewritten into it: `SettingOptions`); a bad value exits 78 and names its key.
    func config() throws -> DaemonConfig {
        var c = DaemonConfig()
        try SettingOptions.apply(settingItems, to: &c, command: .render)
        do { try c.validate() } catch let p as DaemonConfig.Problem { throw CLIError(message: p.description, exitCode: DaemonConfig.exitCode) }
        return c
    }

    /// The engine's settings: this render's settings over the daemon's defaults, mapped as
    /// `accompanist run` maps its config.
    func engineSettings(beatsPerBar: Int) throws -> EngineSettings {
        var c = try config()
        c.beatsPerBar = beatsPerBar
        return c.engineSettings
    }

    /// This render as a library session (Rendering): the command line only parses flags.
    func session() throws -> RenderSession {
        var r = RenderSession(input: input, output: output)
        r.melodyTrack = melodyTrack
        r.config = try config()
        r.harmony = try harmonySettings()
        r.split = split
        r.chordTrack = chordTrack
        r.hindsight = hindsight
        r.hindsightModel = hindsightModel
        r.hindsightMode = hindsightMode == .chart ? .chart : .heard
        r.hindsightChart = hindsightChart
        r.memory = memory
        r.repeats = repeats
        r.bpm = bpm
        r.beatsPerBar = beatsPerBar
        r.wav = wav
        r.soundfont = soundfont
        r.sampleRate = sampleRate
        r.events = events
        return r
    }

    func run() throws {
        try session().run(log: Logger(label: "accompanist.render"))
    }
}
