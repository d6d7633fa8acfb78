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

/// A failure of a render: one line, and the exit status the command line exits with (sysexits.h).
public struct RenderFailure: Error, Equatable {
    public var message: String
    public var exitCode: Int32

    public init(message: String, exitCode: Int32) {
        self.message = message
        self.exitCode = exitCode
    }

    static func input(_ message: String) -> RenderFailure { RenderFailure(message: message, exitCode: 65) }        // EX_DATAERR
    static func noInput(_ message: String) -> RenderFailure { RenderFailure(message: message, exitCode: 66) }      // EX_NOINPUT
    static func cannotCreate(_ message: String) -> RenderFailure { RenderFailure(message: message, exitCode: 73) } // EX_CANTCREAT
    static func file(_ problem: FileProblem) -> RenderFailure { RenderFailure(message: problem.description, exitCode: problem.exitCode) }
}

/// `accompanist render` as a library, the twin of the daemon's `LiveSession`: the engine over the
/// melody of a MIDI file from a simulated clock (`OfflineRenderer`, through the `Performance`
/// the daemon shares), with the chart, left hand, hindsight, the rehearsal memory and repeats
/// as asked, then the files written. The command line (Render.swift) only parses its flags into
/// one of these. No ALSA: it uses no `Live`.
public struct RenderSession {
    /// How the model engine uses a hindsight estimate.
    public enum HindsightMode: String, Sendable { case chart, heard }

    public var input: String
    public var output: String
    /// The melody track's name or number (from 1); nil: the first track with notes.
    public var melodyTrack: String?
    /// The engine's settings: the daemon's defaults with the render's options (validated).
    public var config = DaemonConfig()
    /// The chart, split point and left hand's reading.
    public var harmony = DaemonConfig().harmonySettings
    /// The split as given (for messages), and the chord track's name or number.
    public var split: String?
    public var chordTrack: String?
    public var hindsight = false
    public var hindsightModel: String?
    public var hindsightMode = HindsightMode.heard
    public var hindsightChart: String?
    public var memory: String?
    public var repeats = true
    /// The tempo of a file without one; beats per bar over a missing or wrong time signature.
    public var bpm: Double?
    public var beatsPerBar: Int?
    public var wav: String?
    public var soundfont: String?
    public var sampleRate = 44_100
    public var events: String?

    public init(input: String, output: String) {
        self.input = input
        self.output = output
    }

    /// The files this render reads, for the same-file check.
    public var inputFiles: [(role: String, path: String?)] {
        [("the input", input), ("--chart", harmony.chartPath), ("--model", config.model.isEmpty ? nil : config.model),
         ("--hindsight-model", hindsightModel), ("--soundfont", soundfont)]
    }

    /// The files this render writes.
    public var outputFiles: [(role: String, path: String?)] {
        [("-o", output), ("--wav", wav), ("--hindsight-chart", hindsightChart), ("--events", events)]
    }

    public func run(log: Logger) throws {
        // Before anything is read: no output may be an input (or another output) under any
        // name, and every output must be one that can be written (docs/files.md), so that a
        // long render does not fail at its end.
        do {
            try FileIdentity.checkDistinct(inputs: inputFiles, outputs: outputFiles)
            for (_, path) in outputFiles { if let path { _ = try OutputFile.resolve(path) } }
        } catch { throw RenderFailure.file(error) }
        // Find the soundfont before any work, so a bad --soundfont fails fast.
        let soundfontPath: String? = try wav.map { _ in
            do { return try Soundfonts.resolve(soundfont) } catch let e as SynthError { throw RenderFailure.noInput(e.description) }
        }
        let file = try readMIDI(input)
        let index: Int
        do { index = try OfflineRenderer.melodyTrackIndex(in: file, selector: melodyTrack.map(TrackSelector.init)) }
        catch let e as RenderError { throw RenderFailure.input("\(input): \(e.description)") }

        let fileBars = OfflineRenderer.beatsPerBar(of: file)
        let bars = beatsPerBar ?? fileBars ?? 4
        var engineConfig = config
        engineConfig.beatsPerBar = bars
        let located = engineConfig.engineSettings
        // Then the model, before the render's work.
        let modelPath: String?
        do { modelPath = try located.locateModel() } catch let e as ShippedModel.Failure { throw RenderFailure.noInput(e.description) }
        // With the sampling values the model carries, where this render's options give none.
        let settings: EngineSettings
        do { settings = try engineConfig.engineSettings(forModelAt: modelPath) } catch { throw RenderFailure.input(error.description) }
        if beatsPerBar == nil && fileBars == nil && !file.timeSignatures.isEmpty {
            log.warning("ignoring the file's implausible time signature; assuming 4/4 (use --beats-per-bar)")
        }
        if bpm != nil && file.hasTempo { log.warning("the file has its own tempo map; --bpm is ignored") }
        do { try OfflineRenderer.checkLength(file: file, melodyTrack: index, beatsPerBar: bars) }
        catch { throw RenderFailure.input("\(input): \(error.description)") }
        // The harmony: a bad chart is one line (file, line, bar and cell), and nothing is written.
        let hs = harmony
        var harmony = RenderHarmony(split: hs.splitNote, leftHand: hs.makeLeftHand())
        if let path = hs.chartPath {
            do { try InputFile.check(path) } catch { throw RenderFailure.noInput("chart \(error.description)") }
            do { harmony.stream = try hs.loadStream(beatsPerBar: bars) } catch { throw RenderFailure.input(error.description) }
        }
        // The melody as render reads it (above the split, if any), for hindsight and the memory.
        let melodyNotes = file.tracks[index].notes.filter { hs.splitNote == nil || Int($0.key) >= hs.splitNote! }
            .map { GridNote($0, ticksPerQuarter: file.ticksPerQuarter) }
        // Its frames, once: hindsight, the memory's and the repeats' plans and the take's
        // estimate all read them.
        let melodyFrames = MelodyFrames.frames(melodyNotes, endStep: melodyNotes.map(\.end).max() ?? 0)
        var hindsightChords: HindsightChords?
        if hindsight {
            // The first pass: the whole melody (above the split, if any), its chords estimated
            // at once, then heard by the model engine or followed as a chart (--hindsight-mode).
            let (model, path) = try loadHindsightModel()
            let start = Date()
            let chords = HindsightChords(frames: melodyFrames, beatsPerBar: bars, model: model)
            hindsightChords = chords
            if hindsightMode == .chart || settings.kind != .model { harmony.stream = chords.stream }
            let changes = zip(chords.perBeat, chords.perBeat.dropFirst()).filter { $0 != $1 }.count + (chords.perBeat.isEmpty ? 0 : 1)
            log.info("hindsight: \(changes) chord changes over \(chords.perBeat.count) beats, estimated in \(String(format: "%.2f", Date().timeIntervalSince(start))) s with \(path)")
        }
        if let chordTrack {
            do { harmony.chordTrack = try OfflineRenderer.melodyTrackIndex(in: file, selector: TrackSelector(chordTrack), role: .chord) }
            catch let e as RenderError { throw RenderFailure.input("\(Echo.path(input)): chord track: \(e.description)") }
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
        catch let e as ShippedModel.Failure { throw RenderFailure.input(e.description) }
        if let hindsightChords, hindsightMode == .heard, let neural = accompanist as? NeuralEngine {
            neural.setHeardChords(hindsightChords.heard)
        }
        // The follower hears the melody of the steps before the beat before each beat (its lead),
        // and plans that beat's chord, as the daemon's memory thread does live.
        // Repetition within the melody is followed the same way (its estimates made when the
        // daemon's memory thread would take them), when the hindsight model is found.
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
        } catch { throw RenderFailure.input("\(input): \(error.description)") }
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
            catch let e as SynthError { throw RenderFailure.cannotCreate(e.description) }
            catch let e as FileProblem { throw RenderFailure.file(e) }
            let seconds = Double(frames) / Double(sampleRate)
            let took = Date().timeIntervalSince(start)
            log.info("\(wav): \(String(format: "%.1f", seconds)) s of audio in \(String(format: "%.2f", took)) s (\(String(format: "%.0f", seconds / max(took, 1e-6)))x real time) with \(soundfontPath)")
        }
        do { try result.file.write(to: URL(fileURLWithPath: output)) } catch { throw RenderFailure.file(error) }
        if let hindsightChart, let chords = hindsightChords {
            let text = "# chords estimated by accompanist render --hindsight from \(input)\n" + chords.chartText
            do { try OutputFile.write(Array(text.utf8), to: hindsightChart) } catch { throw RenderFailure.file(error) }
        }
        if let store {
            let take = memoryTake(result: result, harmony: harmony, hindsight: hindsightChords, notes: melodyNotes, frames: melodyFrames, bars: bars, file: file)
            do {
                let forgotten = try store.save(take)
                log.info("memory: stored take \(take.id) (\(take.chordSource == .none ? "no chords: no hindsight model" : "chords from \(take.chordSource.rawValue)"))\(forgotten.isEmpty ? "" : "; forgot the \(forgotten.count) oldest")")
            } catch { log.warning("memory: could not store this take: \(error)") }
        }
        if let events {
            let lines = result.events.map { "{\"step\": \($0.step), \"pitch\": \($0.pitch), \"velocity\": \($0.velocity)}\n" }.joined()
            do { try OutputFile.write(Array(lines.utf8), to: events) } catch { throw RenderFailure.file(error) }
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

extension RenderSession {
    /// The hindsight model of --hindsight-model, else the first on the search path; a missing or
    /// foreign model is one line (exit 66 or 65).
    func loadHindsightModel() throws -> (model: HindsightModel, path: String) {
        let path: String
        let candidates = HindsightModel.searchPath
        do { path = try ShippedModel.locate(hindsightModel, candidates: candidates) }
        catch { throw RenderFailure.noInput("no hindsight chord model found (looked for \((hindsightModel.map { [$0] } ?? candidates).joined(separator: ", "))); pass --hindsight-model PATH") }
        do { return (try HindsightModel(path: path), path) } catch { throw RenderFailure.input(error.description) }
    }

    /// This render as a take for the memory: the melody, and one chord a beat from the chart or
    /// the left hand where they gave one (ground truth), else the hindsight estimate (made here
    /// if --hindsight did not, when the model is found), else none.
    func memoryTake(result: RenderResult, harmony: RenderHarmony, hindsight: HindsightChords?, notes: [GridNote], frames: [MelodyFrame], bars: Int, file: MIDIFile) -> Take {
        let c = Take.chords(beats: (result.endStep + 7) / 8, chart: harmony.stream, leftHand: result.leftHandChanges) {
            if let hindsight { return hindsight }
            guard let model = HindsightModel.find(hindsightModel) else { return nil }
            return HindsightChords(frames: frames, beatsPerBar: bars, model: model)
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
public func readMIDI(_ path: String) throws(RenderFailure) -> MIDIFile {
    let bytes: [UInt8]
    do { bytes = try InputFile.read(path) } catch { throw .file(error) }
    do { return try MIDIFile(data: Data(bytes)) }
    catch let e as MIDIFileError { throw .input("\(Echo.path(path)): \(e.description)") }
    catch { throw .input("\(Echo.path(path)): not a readable MIDI file") }
}
