import Harmony
import MIDI
import Tokens

/// Which track of a file holds the melody.
public enum TrackSelector: Equatable, Sendable, CustomStringConvertible {
    /// 1-based, as a DAW numbers tracks.
    case index(Int)
    /// A track name, compared without case.
    case name(String)

    /// "3" is an index, anything else a name.
    public init(_ text: String) {
        if let i = Int(text) { self = .index(i) } else { self = .name(text) }
    }

    public var description: String {
        switch self {
        case .index(let i): return "track \(i)"
        case .name(let n): return "track \"\(n)\""
        }
    }
}

public enum RenderError: Error, Equatable, CustomStringConvertible {
    case noTrackWithNotes
    case trackNotFound(TrackSelector, available: [String])
    case emptyMelodyTrack(TrackSelector)
    /// The chord track is the melody track.
    case chordTrackIsMelody(TrackSelector)
    /// The chord track has no notes.
    case emptyChordTrack(TrackSelector)
    /// The track named is the conductor track of a format-1 file (tempo, time signature, no
    /// notes), named for `role` ("melody", "chord", "scored").
    case conductorTrack(TrackSelector, role: String)
    /// The track chosen for `role` has no notes (other than the melody and chord tracks).
    case emptyTrack(TrackSelector, role: String)
    /// Every note of the melody track lies below the split: nothing is left for the melody.
    case nothingAboveSplit(Int)
    /// The melody runs past `limit` grid steps (OfflineRenderer.maximumSteps).
    case tooLong(steps: Int, limit: Int, beatsPerBar: Int)

    public var description: String {
        switch self {
        case .noTrackWithNotes: return "the file has no track with notes, so there is no melody to accompany"
        case .trackNotFound(let sel, let available):
            return "no \(sel) in the file (tracks: \(available.isEmpty ? "none" : available.joined(separator: ", ")))"
        case .emptyMelodyTrack(let sel): return "the melody \(sel) has no notes"
        case .chordTrackIsMelody(let sel): return "the chord \(sel) is the melody track; name another track for the chords (or use --split)"
        case .emptyChordTrack(let sel): return "the chord \(sel) has no notes, so it gives no chord"
        case .emptyTrack(let sel, let role): return "the \(role) \(sel) has no notes"
        case .conductorTrack(let sel, let role):
            return "\(sel) is the file's conductor track (tempo and time signature, no notes): name the \(role) track by its name or number (see the tracks with notes)"
        case .nothingAboveSplit(let n): return "every note of the melody track is below the split \(NoteName.name(of: n)) (\(n)): nothing is left for the melody"
        case .tooLong(let steps, let limit, let beatsPerBar):
            let bars = steps / (beatsPerBar * Grid.stepsPerBeat)
            return "the melody runs to bar \(bars) (grid step \(steps)), past the \(limit) steps render takes "
                + "(\(limit / Grid.stepsPerBeat) beats, about \((limit / Grid.stepsPerBeat + 1800) / 3600) hours at 60 BPM): "
                + "the file is probably damaged (an event far after the music)"
        }
    }
}

/// The result of an offline render.
public struct RenderResult: Sendable {
    /// Format 1: conductor (tempo map, time signature), the melody track unchanged, the chord track
    /// if one was given, "Accompaniment".
    public var file: MIDIFile
    /// The accompaniment as the engine emitted it, in order.
    public var events: [AccompanimentEvent]
    /// 0-based index of the melody track in the input.
    public var melodyTrackIndex: Int
    /// The step at which the render stopped (all notes off there).
    public var endStep: Int
    public var beatsPerBar: Int
    /// Chord hints the left hand (split or chord track) gave; nil without one.
    public var leftHandHints: Int?
    /// Left-hand key sets that made no chord (the chord before them held).
    public var unrecognizedChords = 0
    /// The left hand's hints in order (each a change of chord, or a release), as the engine got them.
    public var leftHandChanges: [ChordHint] = []
}

/// The harmony a render is given besides the melody (docs/harmony.md): a chart, a left hand
/// below a split point of the melody track, a chord track.
public struct RenderHarmony {
    /// The chord stream with the chart (bar 1 = step 0), or an empty one.
    public var stream: ChordStream
    /// Melody-track notes below this are the left hand; nil: no split.
    public var split: Int?
    /// 0-based index of the track whose notes are the left hand; nil: none.
    public var chordTrack: Int?
    /// Reads the left hand (split or chord track).
    public var leftHand: LeftHand

    public init(stream: ChordStream = ChordStream(), split: Int? = nil, chordTrack: Int? = nil, leftHand: LeftHand = LeftHand()) {
        self.stream = stream
        self.split = split
        self.chordTrack = chordTrack
        self.leftHand = leftHand
    }

    /// No harmony but the melody's.
    public static var melodyOnly: RenderHarmony { RenderHarmony() }
}

/// Runs an engine over a melody from a MIDI file with a simulated clock: the same calls, in the
/// same order, as the live daemon makes from the wall clock.
public enum OfflineRenderer {
    /// The 0-based index of the melody track: the selected one, or the first track with notes.
    /// What a track is chosen for, for the messages.
    public enum TrackRole: String, Sendable { case melody, chord, scored }

    public static func melodyTrackIndex(in file: MIDIFile, selector: TrackSelector?, role: TrackRole = .melody) throws -> Int {
        let names = file.tracks.enumerated().map { "\($0.offset + 1)" + ($0.element.name.map { " \"\($0)\"" } ?? "") }
        guard let selector else {
            guard let i = file.tracks.firstIndex(where: { t in t.events.contains { if case .noteOn = $0.kind { return true } else { return false } } })
            else { throw RenderError.noTrackWithNotes }
            return i
        }
        let index: Int?
        switch selector {
        case .index(let i): index = (1...max(1, file.tracks.count)).contains(i) && i <= file.tracks.count ? i - 1 : nil
        case .name(let n): index = file.tracks.firstIndex { $0.name?.lowercased() == n.lowercased() }
        }
        guard let index else { throw RenderError.trackNotFound(selector, available: names) }
        if file.tracks[index].notes.isEmpty {
            if isConductor(file, index) { throw RenderError.conductorTrack(selector, role: role.rawValue) }
            switch role {
            case .melody: throw RenderError.emptyMelodyTrack(selector)
            case .chord: throw RenderError.emptyChordTrack(selector)
            case .scored: throw RenderError.emptyTrack(selector, role: role.rawValue)
            }
        }
        return index
    }

    /// Whether track `i` is a format-1 file's first track holding tempo or time signature and no
    /// channel events: the conductor track.
    static func isConductor(_ file: MIDIFile, _ i: Int) -> Bool {
        guard i == 0, file.format == 1, file.tracks.count > 1 else { return false }
        var meta = false
        for e in file.tracks[0].events {
            switch e.kind {
            case .tempo, .timeSignature: meta = true
            case .noteOn, .noteOff, .polyPressure, .controlChange, .programChange, .channelPressure, .pitchBend: return false
            default: break
            }
        }
        return meta
    }

    /// Beats per bar from the file's first time signature, counted in quarter notes; a missing or
    /// implausible one (POP909 files often carry a bogus 1/4) gives nil.
    public static func beatsPerBar(of file: MIDIFile) -> Int? {
        guard let ts = file.timeSignatures.first, ts.isPlausible else { return nil }
        let beats = Grid.stepsPerBar(ts) / Grid.stepsPerBeat
        return beats >= 2 && beats <= 16 ? beats : nil
    }

    /// The longest melody `render` takes, in grid steps: 125,000 beats, about 35 hours at 60 BPM
    /// or 8.7 at 240. A real melody is minutes long; one past this is a damaged file (one stray
    /// event far after the music), which would otherwise keep render busy for hours.
    public static let maximumSteps = 1_000_000

    /// The melody's note events in file order, with their grid steps (velocity 0 = note-off).
    static func melodyInput(_ track: Track, ticksPerQuarter ppq: Int) -> [(step: Int, pitch: Int, velocity: Int)] {
        noteEvents(track) { Grid.step(ofTick: $0, ticksPerQuarter: ppq) }
    }

    /// A left hand's key events in file order, placed on steps by `reader` (`LeftHand.step(at:)`,
    /// its wait) from their ticks' grid positions (velocity 0 = key up).
    static func leftHandInput(_ track: Track, ticksPerQuarter ppq: Int, reader: LeftHand) -> [(step: Int, pitch: Int, velocity: Int)] {
        noteEvents(track) { reader.step(at: Double(Grid.stepsPerBeat * $0) / Double(ppq)) }
    }

    /// The note events of `track` in file order, each at `step(tick)` (velocity 0 = note-off).
    static func noteEvents(_ track: Track, step: (Int) -> Int) -> [(step: Int, pitch: Int, velocity: Int)] {
        var input: [(step: Int, pitch: Int, velocity: Int)] = []
        for e in track.events {
            switch e.kind {
            case .noteOn(_, let k, let v): input.append((step(e.tick), Int(k), Int(v)))
            case .noteOff(_, let k, _): input.append((step(e.tick), Int(k), 0))
            default: break
            }
        }
        return input
    }

    /// Where a render of `melody` stops: the bar line at or after its last event (at least one bar).
    static func endStep(of melody: [(step: Int, pitch: Int, velocity: Int)], stepsPerBar: Int) -> Int {
        let lastStep = melody.map(\.step).max() ?? 0
        return max(stepsPerBar, (lastStep + stepsPerBar - 1) / stepsPerBar * stepsPerBar)
    }

    /// Throws `RenderError.tooLong` when the melody track of `file` runs past `limit` grid steps.
    public static func checkLength(file: MIDIFile, melodyTrack index: Int, beatsPerBar: Int,
                                   limit: Int = maximumSteps) throws(RenderError) {
        let melody = melodyInput(file.tracks[index], ticksPerQuarter: file.ticksPerQuarter)
        let end = endStep(of: melody, stepsPerBar: beatsPerBar * Grid.stepsPerBeat)
        if end > limit { throw .tooLong(steps: end, limit: limit, beatsPerBar: beatsPerBar) }
    }

    /// Renders the accompaniment of `file`'s melody track with `engine`.
    ///
    /// - Parameters:
    ///   - bpm: the tempo written when the file has none (otherwise the file's tempo map is kept).
    ///   - maxNoteSteps: the longest accompaniment note (NoteLedger), as the live daemon's
    ///     `engine.max_note_beats` × 8.
    ///   - harmony: a chart, split or chord track (docs/harmony.md); the engine's harmony is set
    ///     from it. Throws `RenderError` for a split or chord track that leaves nothing to play.
    public static func render(file: MIDIFile, melodyTrack index: Int, engine: AccompanimentEngine,
                              seed: UInt64, beatsPerBar: Int, bpm: Double? = nil,
                              maxNoteSteps: Int = defaultMaxNoteSteps,
                              harmony: RenderHarmony = .melodyOnly,
                              beforeStep: ((Int) -> Void)? = nil) throws(RenderError) -> RenderResult {
        let ppq = file.ticksPerQuarter
        var input = melodyInput(file.tracks[index], ticksPerQuarter: ppq)
        var left: [(step: Int, pitch: Int, velocity: Int)] = []
        // The left hand's keys are placed with its wait (LeftHand.step(at:)), the melody's on
        // the nearest step.
        if let split = harmony.split {
            left = leftHandInput(file.tracks[index], ticksPerQuarter: ppq, reader: harmony.leftHand).filter { $0.pitch < split }
            input = input.filter { $0.pitch >= split }
            if input.isEmpty { throw .nothingAboveSplit(split) }
        }
        if let t = harmony.chordTrack {
            let sel = TrackSelector.index(t + 1)
            if t == index { throw .chordTrackIsMelody(sel) }
            let chords = leftHandInput(file.tracks[t], ticksPerQuarter: ppq, reader: harmony.leftHand)
            if !chords.contains(where: { $0.velocity > 0 }) { throw .emptyChordTrack(sel) }
            // Merged in time order; at one step, the split's keys first (stable).
            left = (left + chords).enumerated().sorted { ($0.element.step, $0.offset) < ($1.element.step, $1.offset) }.map(\.element)
        }
        let end = endStep(of: input, stepsPerBar: beatsPerBar * Grid.stepsPerBeat)
        engine.setHarmony(harmony.stream)
        let reader: LeftHand? = harmony.split != nil || harmony.chordTrack != nil ? harmony.leftHand : nil
        var changes: [ChordHint] = []
        let events = run(engine, melody: input, steps: end, seed: seed, maxNoteSteps: maxNoteSteps, leftHand: left, reader: reader,
                         onHint: { changes.append($0) }, beforeStep: beforeStep)
        var result = RenderResult(file: assemble(file: file, melodyIndex: index, events: events, endStep: end, bpm: bpm,
                                                 chordTrack: harmony.chordTrack),
                                  events: events, melodyTrackIndex: index, endStep: end, beatsPerBar: beatsPerBar)
        if let reader {
            result.leftHandHints = reader.hints
            result.unrecognizedChords = reader.recognizer.unrecognized
            result.leftHandChanges = changes
        }
        return result
    }

    /// Drives an engine over `steps` grid steps from a simulated clock, through a `Performance`
    /// (the per-step driver the live daemon shares): before step s, the melody events of steps
    /// < s (in the order heard, velocity 0 = note-off) go to the engine and the left hand's keys
    /// of steps < s (`leftHand`, velocity 0 = up) to `reader`; then the performance computes step
    /// s (the reader's hint, `onHint`, `beforeStep(s)`, `generate`, the ledger); at the end, every
    /// note off at `steps`. The live daemon makes the same calls from the wall clock.
    public static func run(_ engine: AccompanimentEngine, melody: [(step: Int, pitch: Int, velocity: Int)],
                           steps endStep: Int, seed: UInt64, maxNoteSteps: Int = defaultMaxNoteSteps,
                           leftHand: [(step: Int, pitch: Int, velocity: Int)] = [], reader: LeftHand? = nil,
                           onHint: ((ChordHint) -> Void)? = nil, beforeStep: ((Int) -> Void)? = nil) -> [AccompanimentEvent] {
        let performance = Performance(engine: engine, leftHand: reader, maxNoteSteps: maxNoteSteps)
        performance.reset(seed: seed)
        let hooks = RenderHooks(onHint: onHint, beforeStep: beforeStep)
        var nextKey = 0
        var events: [AccompanimentEvent] = []
        var next = 0
        for s in 0..<endStep {
            while next < melody.count && melody[next].step < s {
                let e = melody[next]
                if e.velocity > 0 { performance.melodyNoteOn(pitch: e.pitch, velocity: e.velocity, step: e.step) }
                else { performance.melodyNoteOff(pitch: e.pitch, step: e.step) }
                next += 1
            }
            if reader != nil {
                while nextKey < leftHand.count && leftHand[nextKey].step < s {
                    let k = leftHand[nextKey]
                    if k.velocity > 0 { performance.leftHandKeyOn(pitch: k.pitch, step: k.step) }
                    else { performance.leftHandKeyOff(pitch: k.pitch, step: k.step) }
                    nextKey += 1
                }
            }
            events += performance.step(s, hooks: hooks).events
        }
        return events + performance.end(step: endStep).events
    }

    /// Render's hooks: the closures `run` was given.
    struct RenderHooks: PerformanceHooks {
        let onHint: ((ChordHint) -> Void)?
        let beforeStep: ((Int) -> Void)?
        func hintGiven(_ hint: ChordHint) { onHint?(hint) }
        func willGenerate(step s: Int, engine: AccompanimentEngine) { beforeStep?(s) }
    }

    /// The longest accompaniment note when nothing else is said: 8 beats (the config's
    /// `engine.max_note_beats` default).
    public static let defaultMaxNoteSteps = 8 * Grid.stepsPerBeat

    /// The output file: conductor track, melody track unchanged, accompaniment track.
    static func assemble(file: MIDIFile, melodyIndex: Int, events: [AccompanimentEvent], endStep: Int, bpm: Double?,
                         chordTrack: Int? = nil) -> MIDIFile {
        let ppq = file.ticksPerQuarter
        var conductor: [TrackEvent] = [TrackEvent(tick: 0, .trackName("Conductor"))]
        var timed: [TrackEvent] = []
        for t in file.tracks {
            for e in t.events {
                switch e.kind {
                case .tempo, .timeSignature: timed.append(e)
                case .meta(let type, _) where type == 0x59: timed.append(e)  // key signature
                default: break
                }
            }
        }
        if !file.hasTempo, let bpm {
            timed.append(TrackEvent(tick: 0, .tempo(microsecondsPerQuarter: Int((60_000_000 / bpm).rounded()))))
        }
        // Stable by tick: equal ticks keep their file order.
        conductor += timed.enumerated().sorted { ($0.element.tick, $0.offset) < ($1.element.tick, $1.offset) }.map(\.element)
        let endTick = Grid.tick(ofStep: endStep, ticksPerQuarter: ppq)
        conductor.append(TrackEvent(tick: max(endTick, conductor.last?.tick ?? 0), .endOfTrack))

        // The accompaniment plays on the first channel the melody does not use (never drums, 10).
        var used = Set<UInt8>()
        for e in file.tracks[melodyIndex].events + (chordTrack.map { file.tracks[$0].events } ?? []) {
            switch e.kind {
            case .noteOn(let c, _, _), .noteOff(let c, _, _), .programChange(let c, _), .controlChange(let c, _, _): used.insert(c)
            default: break
            }
        }
        let free: UInt8? = (UInt8(0)..<16).first(where: { $0 != 9 && !used.contains($0) })
        let channel: UInt8 = free ?? 1
        var acc: [TrackEvent] = [TrackEvent(tick: 0, .trackName("Accompaniment")),
                                 TrackEvent(tick: 0, .programChange(channel: channel, program: 0))]
        for e in events {
            let tick = Grid.tick(ofStep: e.step, ticksPerQuarter: ppq)
            acc.append(TrackEvent(tick: tick, e.isNoteOn ? .noteOn(channel: channel, key: e.pitch, velocity: e.velocity)
                                                        : .noteOff(channel: channel, key: e.pitch, velocity: 0)))
        }
        acc.append(TrackEvent(tick: max(endTick, acc.last?.tick ?? 0), .endOfTrack))
        return MIDIFile(format: 1, ticksPerQuarter: ppq,
                        tracks: [Track(events: conductor), file.tracks[melodyIndex]] + (chordTrack.map { [file.tracks[$0]] } ?? [])
                            + [Track(events: acc)])
    }
}
