import Hindsight
import Realtime
import Synchronization
import Tokens

/// Hindsight's estimates of the take so far, for the repeat follower (docs/memory.md, "Within a
/// take"). `estimate` makes one at once (render; the memory thread when it must); the worker
/// thread (`acc-repeats`, normal priority) makes the next while the memory thread goes on
/// planning: the memory thread submits the estimate ending at a bar line when it reaches that
/// bar line, and takes it a bar later, when plans first read it.
///
/// Threads: `submit`, `take`, `restart` and `stop` are the memory thread's (the control thread's
/// after `stop`); the worker only runs `estimate`. What they share is guarded by `state`.
public final class RepeatEstimator: Sendable {
    let model: HindsightModel
    let beatsPerBar: Int
    private struct State {
        /// The performance (`restart` counts them): a result of an earlier one is never taken.
        var generation = 0
        /// `window`: the take's frames from step `8·estimateStart(end)` (only what the estimate reads).
        var job: (generation: Int, end: Int, window: [MelodyFrame])?
        var running: (generation: Int, end: Int)?
        var done: (generation: Int, end: Int, heard: [Float])?
        var working = false
        var stopping = false
    }
    private let state = Mutex(State())
    /// The worker (both sides poll the state: neither is urgent).
    private let thread = Mutex<RealtimeThread?>(nil)

    public init(model: HindsightModel, beatsPerBar: Int) {
        self.model = model
        self.beatsPerBar = max(1, beatsPerBar)
    }

    /// The estimate over beats `start ..< end` of a take (`frames`: its melody from step 0, at
    /// least to `8·start`; rests past its end): 12 chord-tone probabilities a beat, row-major.
    public static func estimate(frames: ArraySlice<MelodyFrame>, start: Int, end: Int, beatsPerBar: Int, model: HindsightModel) -> [Float] {
        let from = frames.startIndex + 8 * start, to = frames.startIndex + 8 * end
        var window = Array(frames[from..<min(to, frames.endIndex)])
        window += [MelodyFrame](repeating: .rest, count: 8 * (end - start) - window.count)
        return HindsightChords(frames: window, beatsPerBar: beatsPerBar, model: model).heard
    }

    /// Starts the worker thread.
    public func start() throws {
        let t = RealtimeThread(name: "acc-repeats", priority: 0) { [self] in work() }
        state.withLock { $0.working = true }
        do { try t.start() } catch {
            state.withLock { $0.working = false }
            throw error
        }
        thread.withLock { $0 = t }
    }

    private func work() {
        while true {
            let next: (generation: Int, end: Int, window: [MelodyFrame])? = state.withLock { s in
                guard !s.stopping, let j = s.job else { return nil }
                s.job = nil
                s.running = (j.generation, j.end)
                return j
            }
            guard let j = next else {
                if state.withLock({ $0.stopping }) { return }
                sleepUntil(monotonic: monotonicNanoseconds() + 2_000_000)
                continue
            }
            let start = RepeatFollower.estimateStart(end: j.end, beatsPerBar: beatsPerBar)
            let heard = Self.estimate(frames: j.window[...], start: 0, end: j.end - start, beatsPerBar: beatsPerBar, model: model)
            state.withLock { s in
                s.running = nil
                if j.generation == s.generation { s.done = (j.generation, j.end, heard) }
            }
        }
    }

    /// Asks the worker for the estimate ending at beat `end` (`frames`: the take's melody from
    /// step 0, before step `8·end`); a job not yet begun is replaced. Only the window the estimate
    /// reads is copied, so a job costs the same at any point of a long take.
    public func submit(end: Int, frames: ArraySlice<MelodyFrame>) {
        let from = frames.startIndex + 8 * RepeatFollower.estimateStart(end: end, beatsPerBar: beatsPerBar)
        let window = Array(frames[min(from, frames.endIndex)..<min(frames.startIndex + 8 * end, frames.endIndex)])
        state.withLock { $0.job = ($0.generation, end, window) }
    }

    /// The estimate ending at `end`, waiting while the worker makes it; nil if it was not asked
    /// for in this performance, or no worker runs (the caller makes it itself).
    public func take(end: Int) -> [Float]? {
        while true {
            enum Answer { case ready([Float]), wait, absent }
            let a: Answer = state.withLock { s in
                if let d = s.done, d.generation == s.generation, d.end == end { return .ready(d.heard) }
                guard s.working && !s.stopping else { return .absent }
                if let r = s.running, r.generation == s.generation, r.end == end { return .wait }
                if let j = s.job, j.generation == s.generation, j.end == end { return .wait }
                return .absent
            }
            switch a {
            case .ready(let h): return h
            case .absent: return nil
            case .wait: sleepUntil(monotonic: monotonicNanoseconds() + 1_000_000)
            }
        }
    }

    /// A new performance: what was asked for before is dropped.
    public func restart() {
        state.withLock { s in
            s.generation += 1
            s.job = nil
            s.done = nil
        }
    }

    /// Stops the worker and waits for it.
    public func stop() {
        state.withLock { $0.stopping = true }
        let t = thread.withLock { t -> RealtimeThread? in defer { t = nil }; return t }
        t?.join()
    }
}
