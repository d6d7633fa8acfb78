/// The accompaniment notes that sound, and the one maximum-duration rule that live and render
/// share (docs/design.md, "Maximum duration").
///
/// The rule: at step `s`, before the engine's own events of `s`, every note that began at step
/// `b` with `s − b ≥ maxNoteSteps` is ended at `s`. A note-off from the engine for a pitch that is
/// no longer sounding (already ended by the rule, or by a panic) is dropped, so every note-on gets
/// exactly one note-off. `OfflineRenderer.run` and the live `EngineLoop` pass every step through
/// the same ledger, so a render and a live performance of the same melody and seed end their notes
/// at the same steps.
///
/// Owned by one thread (the live engine thread, or the render loop); allocated once, never after.
public final class NoteLedger: @unchecked Sendable {
    // @unchecked Sendable: one owner thread at a time (see above); handed over only before use.
    /// Longest note in grid steps; 0: no limit.
    public let maxNoteSteps: Int
    /// Start step of each sounding pitch, -1 when silent. (128,)
    private let start: UnsafeMutablePointer<Int>

    public init(maxNoteSteps: Int) {
        self.maxNoteSteps = max(0, maxNoteSteps)
        start = .allocate(capacity: 128)
        start.initialize(repeating: -1, count: 128)
    }

    deinit { start.deallocate() }

    public func isSounding(_ pitch: Int) -> Bool { start[pitch & 127] >= 0 }

    public var soundingCount: Int { (0..<128).reduce(0) { $0 + (start[$1] >= 0 ? 1 : 0) } }

    /// Forgets every note (a new performance).
    public func reset() { start.update(repeating: -1, count: 128) }

    /// The events of step `s`: the notes the rule ends, then the engine's `events` (note-offs of
    /// silent pitches dropped), appended to `out` in the order they are to be played.
    public func apply(step s: Int, engineEvents events: EventBuffer, into out: EventBuffer) {
        if maxNoteSteps > 0 {
            for p in 0..<128 where start[p] >= 0 && s - start[p] >= maxNoteSteps {
                start[p] = -1
                out.append(AccompanimentEvent(step: s, pitch: UInt8(p), velocity: 0))
            }
        }
        for i in 0..<events.count {
            let e = events[i]
            let p = Int(e.pitch & 127)
            if e.isNoteOn {
                start[p] = s
            } else {
                guard start[p] >= 0 else { continue }
                start[p] = -1
            }
            out.append(AccompanimentEvent(step: s, pitch: UInt8(p), velocity: e.velocity))
        }
    }

    /// A note-off at step `s` for every sounding pitch, lowest first (stop, panic, end of render).
    public func endAll(step s: Int, into out: EventBuffer) {
        for p in 0..<128 where start[p] >= 0 {
            start[p] = -1
            out.append(AccompanimentEvent(step: s, pitch: UInt8(p), velocity: 0))
        }
    }
}
