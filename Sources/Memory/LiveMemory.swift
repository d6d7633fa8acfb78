import Engine
import Foundation
import Harmony
import Hindsight
import Logging
import Realtime
import Synchronization
import Tokens

/// The rehearsal memory live (docs/memory.md, "Live"), on its own thread (`acc-memory`, normal
/// priority), which owns it until `stop()` returns; then the control thread finishes the last
/// take.
///
/// - It turns the engine thread's `TakeEvent`s into takes (`TakeRecorder`), stores each one that
///   ends, and follows it from the next performance on.
/// - It follows the takes the memory keeps (`MemoryFollower`): when the engine thread says it
///   computes the first step `s` of a beat (`TakeEvent.beat`), it plans beat `s/8 + 1` from the
///   melody of the steps before `s` and hands the guess back through `guesses`; the engine thread
///   applies it at that beat's first step. That is one beat of time for the plan, and exactly
///   what `render --memory` does, so live equals render. A plan that comes too late is dropped
///   and counted (`EngineStatus.lateMemoryGuesses`).
public final class LiveMemory: @unchecked Sendable {
    // @unchecked Sendable: created on the control thread, then used by the memory thread only
    // until `stop()` has joined it; `stopRequested` is atomic.
    public let recorder: TakeRecorder
    let beatsPerBar: Int
    let log: Logger
    /// To the engine thread (producer side: this thread).
    public let guesses: SPSCRing<MemoryGuess>
    /// The takes followed: those in the store at start, then each stored here (at most the
    /// store's limit, the oldest forgotten first).
    private var takes: [Take]
    private var follower: MemoryFollower?
    private var recognitionsLogged = 0
    /// Repetition within the take being played (docs/memory.md, "Within a take"), with the
    /// worker that makes its estimates; nil when off or without a hindsight model.
    let repeats: RepeatFollower?
    let estimator: RepeatEstimator?
    private var repeatsLogged = 0
    private let stopRequested = Atomic<Bool>(false)
    private var thread: RealtimeThread?
    /// Guesses the engine's ring had no room for (it reads one a beat: never in practice).
    public private(set) var lostGuesses = 0
    /// Takes that end are stored (false: the memory is off, only repeats within a take are
    /// followed).
    public var storesTakes = true

    /// - Parameter repeats: the hindsight model for repetition within a take, or nil for none.
    public init(recorder: TakeRecorder, takes: [Take], beatsPerBar: Int, guesses: SPSCRing<MemoryGuess>, log: Logger,
                repeats model: HindsightModel? = nil) {
        self.recorder = recorder
        self.takes = takes
        self.beatsPerBar = beatsPerBar
        self.guesses = guesses
        self.log = log
        repeats = model.map { _ in RepeatFollower(beatsPerBar: beatsPerBar) }
        estimator = model.map { RepeatEstimator(model: $0, beatsPerBar: beatsPerBar) }
        rebuildFollower()
    }

    /// Whether repetition within a take is followed.
    public var followsRepeats: Bool { repeats != nil }

    /// What the memory says about beat `b`, the same for render and live: the takes it keeps
    /// first, else an earlier passage of this take. Both followers see every beat (they track
    /// the places they follow). `melody`: the pitch of the steps before `8(b − lead)`.
    static func guess(memory: MemoryFollower?, repeats: RepeatFollower?, beat b: Int, melody: ArraySlice<Int>) -> MemoryFollower.Guess? {
        let remembered = memory?.guess(forBeat: b, melody: melody)
        let repeated = repeats?.guess(forBeat: b, melody: melody)
        return remembered ?? repeated.map { .heard($0) }
    }

    /// Makes sure the repeat follower holds the estimate beat `b`'s plan reads: from `ready`
    /// when it has it, else made at once from `frames` (the take's melody from step 0, at least
    /// to the estimate's end).
    static func updateEstimate(_ repeats: RepeatFollower, beat b: Int, model: HindsightModel, frames: () -> ArraySlice<MelodyFrame>,
                               ready: (Int) -> [Float]? = { _ in nil }) {
        let end = repeats.estimateEnd(forBeat: b)
        guard end != repeats.estimatedBeats else { return }
        let heard = ready(end) ?? RepeatEstimator.estimate(frames: frames(), start: repeats.estimateStart(end: end), end: end,
                                                          beatsPerBar: repeats.beatsPerBar, model: model)
        repeats.setEstimate(heard, end: end)
    }

    /// `render --memory`'s plan (OfflineRenderer's `beforeStep`), the same as live: at each
    /// beat's first step s the follower plans beat s/8 from the melody of the steps before
    /// s − 8·lead (rests past its end, as live), and the plan is applied to the engine.
    /// With `repeats` (a follower and the hindsight model), repetition within the file's melody
    /// is followed too, its estimates made when the memory thread would take them.
    /// `frames`: the file's melody, one frame a step.
    public static func renderPlan(follower f: MemoryFollower?, repeats: (RepeatFollower, HindsightModel)?, frames: [MelodyFrame],
                                  engine: AccompanimentEngine) -> (Int) -> Void {
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: 12)
        scratch.initialize(repeating: 0, count: 12)
        let holder = ScratchHolder(scratch)
        let melodyPitch = frames.map { Int($0.pitch) }
        let lead = f?.lead ?? repeats?.0.lead ?? 1
        precondition(f == nil || repeats == nil || f!.lead == repeats!.0.lead, "one lead for both followers")
        return { s in
            guard s % 8 == 0 else { return }
            if let (r, model) = repeats { updateEstimate(r, beat: s / 8, model: model, frames: { frames[...] }) }
            let heard = max(0, s - 8 * lead)
            let melody = heard <= melodyPitch.count ? melodyPitch[..<heard]
                : (melodyPitch + [Int](repeating: -1, count: heard - melodyPitch.count))[...]
            let guess = Self.guess(memory: f, repeats: repeats?.0, beat: s / 8, melody: melody)
            MemoryGuess(beat: s / 8, guess: guess).apply(to: engine, step: s, scratch: holder.pointer)
        }
    }

    /// Owns a scratch buffer for as long as a closure holds it.
    private final class ScratchHolder {
        let pointer: UnsafeMutablePointer<Float>
        init(_ p: UnsafeMutablePointer<Float>) { pointer = p }
        deinit { pointer.deallocate() }
    }

    /// Takes it can follow now.
    public var followed: Int { follower?.count ?? 0 }

    private func rebuildFollower() {
        let f = MemoryFollower(takes: takes, beatsPerBar: beatsPerBar)
        follower = f.count > 0 ? f : nil
        recognitionsLogged = 0
    }

    /// Starts the memory thread, which reads `events` every 5 ms until `stop()`.
    public func start(events: SPSCRing<TakeEvent>) throws {
        try estimator?.start()
        let t = RealtimeThread(name: "acc-memory", priority: 0) { [self] in
            while !stopRequested.load(ordering: .acquiring) {
                process(events)
                sleepUntil(monotonic: monotonicNanoseconds() + 5_000_000)
            }
        }
        try t.start()
        thread = t
    }

    /// Stops the memory thread and waits for it; the caller owns this object again.
    public func stop() {
        stopRequested.store(true, ordering: .releasing)
        thread?.join()
        thread = nil
        estimator?.stop()
    }

    /// Every event waiting: takes recorded and stored, beats planned.
    public func process(_ events: SPSCRing<TakeEvent>) {
        while let e = events.pop() {
            if e.kind == .beat {
                plan(firstStep: Int(e.step), performance: e.performance)
                continue
            }
            if e.kind == .start || e.kind == .stop {
                if e.kind == .start { follower?.restart() }
                repeats?.restart()
                estimator?.restart()
            }
            if let t = recorder.take(e) { store([t]) }
        }
    }

    /// The engine computes step `s`, the first of its beat: beat s/8 + lead is planned from the
    /// melody of the steps before s.
    /// Within a take, the estimate the plan reads was asked of the worker a bar before (at
    /// each bar line, the estimate ending there); it is made here only if it was not.
    func plan(firstStep s: Int, performance: UInt16) {
        guard follower != nil || repeats != nil, s >= 0, s % 8 == 0 else { return }
        let m = s / 8
        let b = m + (follower?.lead ?? repeats?.lead ?? 1)
        // The take's melody before s (grown a beat at a time, never rebuilt): the plan hears
        // its pitch, estimates read a window of its frames.
        let frames = recorder.melodyFrames(before: s)
        if let repeats, let estimator {
            Self.updateEstimate(repeats, beat: b, model: estimator.model, frames: { frames }, ready: { estimator.take(end: $0) })
            if m % beatsPerBar == 0 && m >= beatsPerBar { estimator.submit(end: m, frames: frames) }
        }
        let guess = Self.guess(memory: follower, repeats: repeats, beat: b, melody: recorder.melodyPitches(before: s))
        if !guesses.push(MemoryGuess(beat: b, performance: performance, guess: guess)) { lostGuesses += 1 }
        if let follower {
            while recognitionsLogged < follower.recognitions.count {
                log.info("memory: \(follower.describeRecognition(recognitionsLogged))")
                recognitionsLogged += 1
            }
        }
        if let repeats {
            while repeatsLogged < repeats.recognitions.count {
                log.info("memory: \(repeats.describeRecognition(repeatsLogged))")
                repeatsLogged += 1
            }
        }
    }

    /// Stores takes that ended, one line each (a failure is a warning), and follows them from
    /// the next performance on.
    public func store(_ ended: [Take]) {
        guard storesTakes else { return }
        for t in ended {
            do {
                let forgotten = try recorder.store.save(t)
                log.info("memory: stored take \(t.id) (\(t.melody.count) melody notes, \(t.chordSource == .none ? "no chords" : "chords from \(t.chordSource.rawValue)"))\(forgotten.isEmpty ? "" : "; forgot the \(forgotten.count) oldest")")
                if recorder.lastNotesDropped > 0 {
                    log.warning("memory: that take kept its first \(TakeRecorder.maximumNotes) melody notes; \(recorder.lastNotesDropped) more (a flood) were not kept")
                }
                takes.append(t)
                if takes.count > recorder.store.limit { takes.removeFirst(takes.count - recorder.store.limit) }
                rebuildFollower()
            } catch {
                log.warning("memory: could not store a take in \(recorder.store.directory.path): \(error)")
            }
        }
    }
}
