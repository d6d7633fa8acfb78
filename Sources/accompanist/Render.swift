import ArgumentParser
import Config
import Engine
import Foundation
import Harmony
import Hindsight

import Logging
import MIDI
import Memory
import Model
import OfflineAudio
import SafeFiles
import Tokens


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
        // A bad setting is reported by `run` (exit 78, naming its key), not here.
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

    /// The files this render reads, for the same-file check.
    var inputFiles: [(role: String, path: String?)] {
        [("the input", input), ("--chart", chart), ("--model", (try? config()).map(\.model).flatMap { $0.isEmpty ? nil : $0 }), ("--hindsight-model", hindsightModel), ("--soundfont", soundfont)]
    }

    /// The files this render writes.
    var outputFiles: [(role: String, path: String?)] {
        [("-o", output), ("--wav", wav), ("--hindsight-chart", hindsightChart), ("--events", events)]
    }

    func run() throws {
        let log = Logger(label: "accompanist.render")
        // Before anything is read: no output may be an input (or another output) under any
        // name, and every output must be one that can be written (docs/files.md), so that a
        // long render does not fail at its end.
        do {
            try FileIdentity.checkDistinct(inputs: inputFiles, outputs: outputFiles)
            for (_, path) in outputFiles { if let path { _ = try OutputFile.resolve(path) } }
        } catch { throw CLIError.file(error) }
        // Find the soundfont before any work, so a bad --soundfont fails fast.
        let soundfontPath: String? = try wav.map { _ in
            do { return try Soundfonts.resolve(soundfont) } catch let e as SynthError { throw CLIError.noInput(e.description) }
        }
        let file = try readMIDI(input)
        let index: Int
        do { index = try OfflineRenderer.melodyTrackIndex(in: file, selector: melodyTrack.map(TrackSelector.init)) }
        catch let e as RenderError { throw CLIError.input("\(input): \(e.description)") }

        let fileBars = OfflineRenderer.beatsPerBar(of: file)
        let bars = beatsPerBar ?? fileBars ?? 4
        let settings = try engineSettings(beatsPerBar: bars)
        // Then the model, before the render's work.
        let modelPath: String?
        do { modelPath = try settings.locateModel() } catch let e as ShippedModel.Failure { throw CLIError.noInput(e.description) }
        if beatsPerBar == nil && fileBars == nil && !file.timeSignatures.isEmpty {
            log.warning("ignoring the file's implausible time signature; assuming 4/4 (use --beats-per-bar)")
        }
        if bpm != nil && file.hasTempo { log.warning("the file has its own tempo map; --bpm is ignored") }
        do { try OfflineRenderer.checkLength(file: file, melodyTrack: index, beatsPerBar: bars) }
        catch { throw CLIError.input("\(input): \(error.description)") }
        // The harmony: a bad chart is one line (file, line, bar and cell), and nothing is written.
        let hs = try harmonySettings()
        var harmony = RenderHarmony(split: hs.splitNote, leftHand: hs.makeLeftHand())
        if let path = hs.chartPath {
            do { try InputFile.check(path) } catch { throw CLIError.noInput("chart \(error.description)") }
            do { harmony.stream = try hs.loadStream(beatsPerBar: bars) } catch { throw CLIError.input(error.description) }
        }
        // The melody as render reads it (above the split, if any), for hindsight and the memory.
        let melodyNotes = file.tracks[index].notes.filter { hs.splitNote == nil || Int($0.key) >= hs.splitNote! }
            .map { GridNote($0, ticksPerQuarter: file.ticksPerQuarter) }
        var hindsightChords: HindsightChords?
        if hindsight {
            // The first pass: the whole melody (above the split, if any), its chords estimated
            // at once, then heard by the model engine or followed as a chart (--hindsight-mode).
            let (model, path) = try loadHindsightModel()
            let frames = MelodyFrames.frames(melodyNotes, endStep: melodyNotes.map(\.end).max() ?? 0)
            let start = Date()
            let chords = HindsightChords(frames: frames, beatsPerBar: bars, model: model)
            hindsightChords = chords
            if hindsightMode == .chart || settings.kind != .model { harmony.stream = chords.stream }
            let changes = zip(chords.perBeat, chords.perBeat.dropFirst()).filter { $0 != $1 }.count + (chords.perBeat.isEmpty ? 0 : 1)
            log.info("hindsight: \(changes) chord changes over \(chords.perBeat.count) beats, estimated in \(String(format: "%.2f", Date().timeIntervalSince(start))) s with \(path)")
        }
        if let chordTrack {
            do { harmony.chordTrack = try OfflineRenderer.melodyTrackIndex(in: file, selector: TrackSelector(chordTrack), role: .chord) }
            catch let e as RenderError { throw CLIError.input("\(Echo.path(input)): chord track: \(e.description)") }
        }
        // The rehearsal memory: its takes, read before the render; damaged files are one warning each.
        let store = memory.map { MemoryStore(directory: URL(fileURLWithPath: $0)) }
        var follower: MemoryFollower?
        if let store {
            let leftovers = store.removeLeftovers()
            if leftovers > 0 { log.notice("memory: removed \(leftovers) temporary file\(leftovers == 1 ? "" : "s") left by an interrupted save") }
            let listing = store.list()
            for p in listing.problems { log.warning("memory: \(store.directory.path)/\(p): skipped") }
            let f = MemoryFollower(takes: listing.takes, beatsPerBar: bars)
            log.info("memory: \(listing.takes.count) takes in \(store.directory.path), \(f.count) with chords of \(bars) beats a bar")
            if f.count > 0 { follower = f }
        }
        let accompanist: AccompanimentEngine
        do { accompanist = try settings.makeEngine(weights: modelPath) }
        catch let e as ShippedModel.Failure { throw CLIError.input(e.description) }
        if let hindsightChords, hindsightMode == .heard, let neural = accompanist as? NeuralEngine {
            neural.setHeardChords(hindsightChords.heard)
        }
        // The follower hears the melody of the steps before the beat before each beat (its lead),
        // and plans that beat's chord, as the daemon's memory thread does live.
        // Repetition within the melody is followed the same way (its estimates made when the
        // daemon's memory thread would take them), when the hindsight model is found.
        let melodyFrames = MelodyFrames.frames(melodyNotes, endStep: melodyNotes.map(\.end).max() ?? 0)
        var repeatFollower: RepeatFollower?
        var repeatPlan: (RepeatFollower, HindsightModel)?
        // The rules engine follows chords, not estimates: repeats would give it nothing.
        if repeats && !hindsight && settings.kind == .model {
            // A model named with --hindsight-model must load; the shipped one may be missing.
            if let model = hindsightModel != nil ? try loadHindsightModel().model : HindsightModel.find() {
                let r = RepeatFollower(beatsPerBar: bars)
                repeatFollower = r
                repeatPlan = (r, model)
            } else {
                log.notice("no hindsight chord model found (\(HindsightModel.searchPath.joined(separator: ", "))): repetition within the melody is not followed")
            }
        }
        // A known chord is given as a chart's would be; an estimate is heard (the model engine;
        // the rules engine follows its likeliest tones only through its chord).
        let beforeStep: ((Int) -> Void)? = follower == nil && repeatPlan == nil ? nil
            : LiveMemory.renderPlan(follower: follower, repeats: repeatPlan, frames: melodyFrames, engine: accompanist)
        let start = Date()
        let result: RenderResult
        do {
            result = try OfflineRenderer.render(file: file, melodyTrack: index, engine: accompanist, seed: settings.seed, beatsPerBar: bars,
                                                bpm: bpm, maxNoteSteps: settings.maxNoteSteps, harmony: harmony, beforeStep: beforeStep)
        } catch { throw CLIError.input("\(input): \(error.description)") }
        if let follower {
            for i in follower.recognitions.indices { log.info("memory: \(follower.describeRecognition(i))") }
            if let first = follower.recognitions.first {
                let beats = (result.endStep + 7) / 8 - first.beat
                log.info("memory: \(follower.followedBeats) of the \(beats) beats from bar \(first.beat / bars + 1) on were planned from stored takes")
            }
        }
        let renderSeconds = Date().timeIntervalSince(start)
        if let hints = result.leftHandHints {
            let source = [split.map { "the notes below the split \($0)" }, chordTrack.map { "the chord track \($0)" }].compactMap { $0 }.joined(separator: " and ")
            if hints == 0 {
                log.warning("\(source) gave no chord (\(result.unrecognizedChords) key sets made none): the chords came from the melody")
            } else if result.unrecognizedChords > 0 {
                log.notice("\(source): \(hints) chord changes; \(result.unrecognizedChords) key sets made no chord, and the chord before them held")
            }
        }
        if !hindsight && harmony.stream.hasChart && harmony.stream.chartEnd < result.endStep {
            log.notice("the music runs past the chart's end (\(HarmonySettings.describeEnd(harmony.stream.chartEnd, beatsPerBar: bars))): from there the chords come from the melody")
        }

        // Audio first: if the soundfont turns out to be unusable, nothing is written.
        if let wav, let soundfontPath {
            var options = OfflineSynth.Options()
            options.sampleRate = sampleRate
            let start = Date()
            let frames: Int
            do { frames = try OfflineSynth.renderWAV(result.file, soundfont: soundfontPath, to: URL(fileURLWithPath: wav), options: options) }
            catch let e as SynthError { throw CLIError.cannotCreate(e.description) }
            catch let e as FileProblem { throw CLIError.file(e) }
            let seconds = Double(frames) / Double(sampleRate)
            let took = Date().timeIntervalSince(start)
            log.info("\(wav): \(String(format: "%.1f", seconds)) s of audio in \(String(format: "%.2f", took)) s (\(String(format: "%.0f", seconds / max(took, 1e-6)))x real time) with \(soundfontPath)")
        }
        do { try result.file.write(to: URL(fileURLWithPath: output)) } catch { throw CLIError.file(error) }
        if let hindsightChart, let chords = hindsightChords {
            let text = "# chords estimated by accompanist render --hindsight from \(input)\n" + chords.chartText
            do { try OutputFile.write(Array(text.utf8), to: hindsightChart) } catch { throw CLIError.file(error) }
        }
        if let store {
            let take = memoryTake(result: result, harmony: harmony, hindsight: hindsightChords, notes: melodyNotes, bars: bars, file: file)
            do {
                let forgotten = try store.save(take)
                log.info("memory: stored take \(take.id) (\(take.chordSource == .none ? "no chords: no hindsight model" : "chords from \(take.chordSource.rawValue)"))\(forgotten.isEmpty ? "" : "; forgot the \(forgotten.count) oldest")")
            } catch { log.warning("memory: could not store this take: \(error)") }
        }
        if let events {
            let lines = result.events.map { "{\"step\": \($0.step), \"pitch\": \($0.pitch), \"velocity\": \($0.velocity)}\n" }.joined()
            do { try OutputFile.write(Array(lines.utf8), to: events) } catch { throw CLIError.file(error) }
        }
        if let repeatFollower, !repeatFollower.recognitions.isEmpty {
            log.info("memory: \(repeatFollower.summary)")
        }
        let notes = result.events.filter(\.isNoteOn).count
        let musicSeconds = result.file.tempoMap.seconds(atStep: result.endStep)
        let engineText = modelPath.map { "model \($0), \(settings.precision.rawValue)" } ?? "rules (\(settings.rules.pattern.rawValue))"
        log.info("\(output): \(notes) accompaniment notes over \(result.endStep / (bars * 8)) bars (melody: track \(index + 1)\(file.tracks[index].name.map { " \"\($0)\"" } ?? ""), \(bars) beats per bar, engine \(engineText), seed \(settings.seed)); \(String(format: "%.0f", musicSeconds / max(renderSeconds, 1e-6)))x real time")
    }
}

extension Render {
    /// The hindsight model of --hindsight-model, else the first on the search path; a missing or
    /// foreign model is one line (exit 66 or 65).
    func loadHindsightModel() throws -> (model: HindsightModel, path: String) {
        let path: String
        let candidates = HindsightModel.searchPath
        do { path = try ShippedModel.locate(hindsightModel, candidates: candidates) }
        catch { throw CLIError.noInput("no hindsight chord model found (looked for \((hindsightModel.map { [$0] } ?? candidates).joined(separator: ", "))); pass --hindsight-model PATH") }
        do { return (try HindsightModel(path: path), path) } catch { throw CLIError.input(error.description) }
    }

    /// This render as a take for the memory: the melody, and one chord a beat from the chart or
    /// the left hand where they gave one (ground truth), else the hindsight estimate (made here
    /// if --hindsight did not, when the model is found), else none.
    func memoryTake(result: RenderResult, harmony: RenderHarmony, hindsight: HindsightChords?, notes: [GridNote], bars: Int, file: MIDIFile) -> Take {
        let c = Take.chords(beats: (result.endStep + 7) / 8, chart: harmony.stream, leftHand: result.leftHandChanges) {
            if let hindsight { return hindsight }
            guard let model = HindsightModel.find(hindsightModel) else { return nil }
            return HindsightChords(frames: MelodyFrames.frames(notes, endStep: notes.map(\.end).max() ?? 0), beatsPerBar: bars, model: model)
        }
        let tempo = file.hasTempo ? file.tempoMap.changes.first?.bpm ?? 120 : (bpm ?? 120)
        return Take(source: URL(fileURLWithPath: input).lastPathComponent, beatsPerBar: bars, bpm: tempo, steps: result.endStep,
                    melody: notes.filter { $0.start < result.endStep }.sorted { ($0.start, $0.pitch) < ($1.start, $1.pitch) }
                        .map { Take.Note(pitch: $0.pitch, start: $0.start, end: min($0.end, result.endStep)) },
                    chords: c.chords, chordSource: c.source, heard: c.heard)
    }
}

/// Reads a MIDI file, turning every failure into one clear line (66 for a file that cannot be
/// read: missing, a directory, a FIFO; 65 for one that is not MIDI).
func readMIDI(_ path: String) throws -> MIDIFile {
    let bytes: [UInt8]
    do { bytes = try InputFile.read(path) } catch { throw CLIError.file(error) }
    do { return try MIDIFile(data: Data(bytes)) }
    catch let e as MIDIFileError { throw CLIError.input("\(Echo.path(path)): \(e.description)") }
    catch { throw CLIError.input("\(Echo.path(path)): not a readable MIDI file") }
}
