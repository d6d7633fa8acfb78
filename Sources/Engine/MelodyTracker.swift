import Tokens

/// Turns melody note events into melody frames, one per step, as docs/tokens.md defines them, holding
/// back events until their step is final. No allocation after `init`.
///
/// Note events of one pitch pair first-in first-out, as `Track.notes` does: a note-on on a pitch
/// that is already sounding restarts it there (the older note is cut), and the note-off that
/// belonged to the older note is then ignored.
public final class MelodyTracker {
    private struct Pending {
        var step: Int
        var pitch: Int
        var velocity: Int  // 0 = note-off
    }

    /// Capacity of the pending-event queue and of the frame history.
    public let pendingCapacity: Int
    public let historyCapacity: Int
    /// Events dropped because more than `pendingCapacity` were waiting (a flood).
    public private(set) var droppedEvents = 0
    /// The next frame to be finalised: frames `< nextFrame` are final.
    public private(set) var nextFrame = 0

    private let pending: UnsafeMutablePointer<Pending>     // (pendingCapacity,) ring
    private var pendingHead = 0
    private var pendingCount = 0
    private let history: UnsafeMutablePointer<MelodyFrame> // (historyCapacity,) ring by step
    private let noteStart: UnsafeMutablePointer<Int>       // (128,) start step, -1 when silent
    private let noteEnd: UnsafeMutablePointer<Int>         // (128,) end step, Int.max while held
    private let noteVelocity: UnsafeMutablePointer<Int>    // (128,)
    private let unmatchedOns: UnsafeMutablePointer<Int>    // (128,) note-ons waiting for their off

    public init(pendingCapacity: Int = 4096, historyCapacity: Int = 4096) {
        self.pendingCapacity = pendingCapacity
        self.historyCapacity = historyCapacity
        pending = .allocate(capacity: pendingCapacity)
        history = .allocate(capacity: historyCapacity)
        history.initialize(repeating: .rest, count: historyCapacity)
        noteStart = .allocate(capacity: 128)
        noteEnd = .allocate(capacity: 128)
        noteVelocity = .allocate(capacity: 128)
        unmatchedOns = .allocate(capacity: 128)
        reset()
    }

    deinit {
        pending.deallocate()
        history.deallocate()
        noteStart.deallocate()
        noteEnd.deallocate()
        noteVelocity.deallocate()
        unmatchedOns.deallocate()
    }

    public func reset() {
        pendingHead = 0
        pendingCount = 0
        nextFrame = 0
        droppedEvents = 0
        noteStart.update(repeating: -1, count: 128)
        noteEnd.update(repeating: Int.max, count: 128)
        noteVelocity.update(repeating: 0, count: 128)
        unmatchedOns.update(repeating: 0, count: 128)
        history.update(repeating: .rest, count: historyCapacity)
    }

    /// Queues a note event (velocity 0 = note-off). Events for steps already final are applied
    /// to the next frame (a late event is not lost, only late).
    public func push(pitch: Int, velocity: Int, step: Int) {
        guard (0..<128).contains(pitch) else { return }
        guard pendingCount < pendingCapacity else {
            droppedEvents += 1
            return
        }
        pending[(pendingHead + pendingCount) % pendingCapacity] = Pending(step: max(step, nextFrame), pitch: pitch, velocity: velocity)
        pendingCount += 1
    }

    /// Finalises every frame before `step`, calling `body` with each new frame and its step.
    public func finalize(before step: Int, _ body: (Int, MelodyFrame) -> Void) {
        while nextFrame < step {
            let f = nextFrame
            while pendingCount > 0 && pending[pendingHead].step <= f {
                apply(pending[pendingHead], at: f)
                pendingHead = (pendingHead + 1) % pendingCapacity
                pendingCount -= 1
            }
            var frame = MelodyFrame.rest
            var p = 127
            while p >= 0 {
                if noteStart[p] >= 0 && noteStart[p] <= f && f < noteEnd[p] {
                    frame = MelodyFrame(pitch: Int8(p), onset: noteStart[p] == f,
                                        velocityBin: UInt8(Vocabulary.velocityBin(noteVelocity[p])))
                    break
                }
                p -= 1
            }
            for q in 0..<128 where noteStart[q] >= 0 && noteEnd[q] <= f + 1 {
                noteStart[q] = -1
                noteEnd[q] = Int.max
            }
            history[f % historyCapacity] = frame
            nextFrame = f + 1
            body(f, frame)
        }
    }

    private func apply(_ e: Pending, at f: Int) {
        let p = e.pitch
        let step = max(e.step, 0)
        if e.velocity > 0 {
            if noteStart[p] >= 0 && noteStart[p] == step && noteEnd[p] == Int.max {
                noteVelocity[p] = max(noteVelocity[p], e.velocity)  // same pitch, same step: one note
            } else {
                noteStart[p] = step
                noteVelocity[p] = e.velocity
            }
            noteEnd[p] = Int.max
            unmatchedOns[p] += 1
        } else {
            if unmatchedOns[p] > 1 {
                unmatchedOns[p] -= 1  // the off of an older note that a newer one already cut
            } else if noteStart[p] >= 0 && noteEnd[p] == Int.max {
                unmatchedOns[p] = 0
                noteEnd[p] = max(step, noteStart[p] + 1)
            }
        }
    }

    /// A final frame, if it is still in the history (the last `historyCapacity` steps).
    public func frame(at step: Int) -> MelodyFrame? {
        guard step >= 0, step < nextFrame, step >= nextFrame - historyCapacity else { return nil }
        return history[step % historyCapacity]
    }
}
