import Foundation
import Harmony
import Hindsight
import Realtime
import Tokens

/// Turns the engine thread's `TakeEvent`s into takes for the rehearsal memory, on the memory
/// thread (`LiveMemory`, which owns it; the control thread at shutdown): it allocates, and its
/// takes are stored with file I/O, never on the real-time path.
/// A take ends at the external clock's Stop, at a new Start, and at shutdown; one with no melody
/// note is not stored.
public final class TakeRecorder {
    public let store: MemoryStore
    let chart: ChordStream
    let beatsPerBar: Int
    let bpm: () -> Double
    let hindsightModel: HindsightModel?
    private var notes: [Take.Note] = []
    private var open: [Int: (start: Int, velocity: Int)] = [:]
    /// The take's melody frames of steps `0 ..< frames.count`, and their pitches (−1: rest),
    /// final: grown a beat at a time by `melodyFrames(before:)`, so that a beat's plan costs the
    /// same at minute 180 of a take as at minute 1. (frames.count,)
    private var frames: [MelodyFrame] = []
    private var pitches: [Int] = []
    /// Ended notes that may still sound at or after `frames.count` (the rest are in `frames`).
    private var recent: [GridNote] = []
    private var hints: [ChordHint] = []
    private var lastStep = 0
    /// The most melody notes a take keeps (a ten-minute song has about 2,000): past it the input
    /// is a flood, not music, and the rest is counted, not kept, so memory stays bounded.
    public static let maximumNotes = 20_000
    /// Notes past `maximumNotes` in the current take, and in the take `finish` last returned.
    public private(set) var notesDropped = 0
    public private(set) var lastNotesDropped = 0

    /// - Parameters:
    ///   - chart: the chart's stream (bar 1 = step 0), or an empty one.
    ///   - bpm: the tempo to write in the take (fixed, or the external clock's as measured).
    ///   - hindsightModel: for the chords of a take played without chart or left hand.
    public init(store: MemoryStore, chart: ChordStream, beatsPerBar: Int, bpm: @escaping () -> Double, hindsightModel: HindsightModel?) {
        self.store = store
        self.chart = chart
        self.beatsPerBar = beatsPerBar
        self.bpm = bpm
        self.hindsightModel = hindsightModel
    }

    /// Takes the engine thread's events; returns the takes that ended (not yet stored).
    public func drain(_ ring: SPSCRing<TakeEvent>) -> [Take] {
        var ended: [Take] = []
        while let e = ring.pop() {
            if let t = take(e) { ended.append(t) }
        }
        return ended
    }

    /// One event of the engine thread; returns the take it ended, if any (not yet stored).
    public func take(_ e: TakeEvent) -> Take? {
        let s = Int(e.step)
        switch e.kind {
        case .noteOn:
            if let o = open.removeValue(forKey: Int(e.pitch)) { close(Int(e.pitch), o, at: s) }
            guard notes.count < Self.maximumNotes else { notesDropped += 1; return nil }
            open[Int(e.pitch)] = (s, Int(e.velocity))
            lastStep = max(lastStep, s + 1)
        case .noteOff:
            if let o = open.removeValue(forKey: Int(e.pitch)) { close(Int(e.pitch), o, at: s) }
            lastStep = max(lastStep, s)
        case .hint, .hintWithdrawn:
            hints.append(ChordHint(step: s, chord: e.chord))
        case .start, .stop:
            return finish()
        case .beat:
            break
        }
        return nil
    }

    /// The melody frames of this take's steps `0 ..< s`, as `render` reads a file's
    /// (`MelodyFrames.frames`: the pitch and onsets; keys still down sound to `s`).
    ///
    /// Called with the first step of each beat (`LiveMemory.plan`), when every key of the steps
    /// before `s` has been heard: those steps' frames are then final. So only the steps since the
    /// last call are made, from the notes that sound in them; earlier steps are kept. Steps
    /// never go back within a take.
    public func melodyFrames(before s: Int) -> ArraySlice<MelodyFrame> {
        extendFrames(to: s)
        return frames[..<max(0, s)]
    }

    /// The melody's pitch at each step `0 ..< s` (−1: a rest), as `melodyFrames(before:)`.
    public func melodyPitches(before s: Int) -> ArraySlice<Int> {
        extendFrames(to: s)
        return pitches[..<max(0, s)]
    }

    private func extendFrames(to s: Int) {
        let from = frames.count
        guard s > from else { return }
        // Keys of step s or later may already be here (heard early): they are not before s.
        var sounding = recent.filter { $0.start < s }.map { GridNote(pitch: $0.pitch, start: $0.start, end: min($0.end, s), velocity: $0.velocity) }
        for (p, o) in open where o.start < s { sounding.append(GridNote(pitch: p, start: max(0, o.start), end: s, velocity: o.velocity)) }
        let new = MelodyFrames.frames(sounding, steps: from..<s)
        frames += new
        pitches += new.map { Int($0.pitch) }
        recent.removeAll { $0.end <= s }
    }

    /// The frames rebuilt from every note of the take (what `melodyFrames(before:)` keeps up
    /// incrementally; the tests compare them).
    func melodyFramesRebuilt(before s: Int) -> [MelodyFrame] {
        var grid = notes.filter { $0.start < s }.map { GridNote(pitch: $0.pitch, start: $0.start, end: min($0.end, s), velocity: 80) }
        for (p, o) in open where o.start < s { grid.append(GridNote(pitch: p, start: max(0, o.start), end: s, velocity: o.velocity)) }
        return MelodyFrames.frames(grid, endStep: s)
    }

    private func close(_ pitch: Int, _ o: (start: Int, velocity: Int), at s: Int) {
        let note = Take.Note(pitch: pitch, start: max(0, o.start), end: max(max(0, o.start) + 1, s))
        notes.append(note)
        if note.end > frames.count { recent.append(GridNote(pitch: pitch, start: note.start, end: note.end, velocity: o.velocity)) }
    }

    /// The take played so far (keys still down end at its last step), and a fresh start; nil when
    /// no melody note was played.
    public func finish() -> Take? {
        for (p, o) in open { close(p, o, at: lastStep) }
        open.removeAll()
        lastNotesDropped = notesDropped
        defer { notes = []; hints = []; lastStep = 0; notesDropped = 0; frames = []; pitches = []; recent = [] }
        guard !notes.isEmpty else { return nil }
        let bar = beatsPerBar * 8
        let steps = max(bar, (notes.map(\.end).max()! + bar - 1) / bar * bar)
        let c = Take.chords(beats: steps / 8, chart: chart, leftHand: hints) {
            hindsightModel.map { model in
                let grid = notes.map { GridNote(pitch: $0.pitch, start: $0.start, end: $0.end, velocity: 80) }
                return HindsightChords(frames: MelodyFrames.frames(grid, endStep: steps), beatsPerBar: beatsPerBar, model: model)
            }
        }
        let sorted = notes.sorted { ($0.start, $0.pitch) < ($1.start, $1.pitch) }
        return Take(source: "live", beatsPerBar: beatsPerBar, bpm: max(1, bpm()), steps: steps, melody: sorted,
                    chords: c.chords, chordSource: c.source, heard: c.heard)
    }
}
