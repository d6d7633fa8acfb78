/// The player's left hand read as an arranger keyboard reads it (docs/harmony.md, "The left
/// hand"): the keys held below the split point (or on the chord channel, or in the chord track)
/// make chord hints for the chord stream.
///
/// The same calls, in the same order, give the same hints in `render` and live: key events go in
/// with the step of their timestamp, in the order heard; before the output of step `s` is
/// computed, `hint(before: s)` recognises the keys as they stand after every event of steps
/// `< s`, and gives a hint at the step of the last key change when the chord changed. Keys
/// struck together (on one step) make one chord; a chord rolled across steps is read at each.
///
/// **The wait** (docs/harmony.md, "The left hand's wait"): a player strikes a chord on the beat,
/// with the accompaniment, so a key is placed on a step by `step(at:)` with `wait`: a key up to
/// `wait` steps after a step's time counts for that step's output (it is placed on the step
/// before), and the accompaniment of a left hand is computed, and sounds, that much after its
/// step's time. `wait` −0.5 is the melody's rule (nearest step, computed half a step ahead).
///
/// Key events may come before their step's output is computed (live, a key stamped in the next
/// step arrives while this one is computed): they wait in a fixed queue until then, as melody
/// notes wait in the engine's MelodyTracker, so live and render read the same keys at each step.
///
/// Owned by the thread that feeds the engine (the engine thread live). Nothing allocates after init.
public final class LeftHand {
    public var recognizer: ChordRecognizer
    /// A chord ends when every key is let go (the stream then falls back to the melody);
    /// otherwise it holds until the next chord, as on an arranger.
    public var releaseEndsChord: Bool
    /// Grid steps (−0.5 ..< 0.5) a key may come after a step's time and still count for that
    /// step's output (`step(at:)`).
    public let wait: Double
    /// The default wait: a quarter of a grid step (16 ms at 120 BPM, 23 ms at 80).
    public static let defaultWait = 0.25
    /// The range `wait` may take.
    public static let waitRange = -0.5...0.45
    public private(set) var held = NoteSet()
    /// The step of the latest key event applied and not yet read (nil: none).
    private var changedAt: Int?
    /// Key events waiting for their step: (pitch, or −1 for every key up; down; step), oldest
    /// first, in a ring of `capacity`. (capacity,)
    private let pending: UnsafeMutablePointer<(pitch: Int16, down: Bool, step: Int)>
    private let capacity = 256
    private var head = 0, count = 0
    /// Key events lost because more were waiting than the queue holds (a flood), since reset.
    public private(set) var droppedEvents = 0
    /// The chord last hinted (nil: none, or withdrawn).
    public private(set) var hinted: ChordSymbol?
    /// Hints given since reset (each a change of chord or a release).
    public private(set) var hints = 0

    public init(recognizer: ChordRecognizer = ChordRecognizer(), releaseEndsChord: Bool = false, wait: Double = LeftHand.defaultWait) {
        precondition(Self.waitRange.contains(wait), "LeftHand wait \(wait) outside \(Self.waitRange)")
        self.recognizer = recognizer
        self.releaseEndsChord = releaseEndsChord
        self.wait = wait
        pending = .allocate(capacity: capacity)
        pending.initialize(repeating: (0, false, 0), count: capacity)
    }

    deinit { pending.deallocate() }

    public func reset() {
        held.removeAll()
        changedAt = nil
        hinted = nil
        hints = 0
        head = 0
        count = 0
        droppedEvents = 0
        recognizer.clear()
    }

    /// The step a key at grid position `position` (in steps from step 0, fractional: its
    /// timestamp, or its tick, on the grid) is placed on: `floor(position − wait)`, so the output
    /// of step `s` reads the keys at positions `< s + wait`. With `wait` −0.5 this is the
    /// melody's nearest step, halves up.
    @inline(__always)
    public func step(at position: Double) -> Int { Int((position - wait).rounded(.down)) }

    public func noteOn(pitch: Int, step: Int) {
        guard (0..<128).contains(pitch) else { return }
        enqueue(pitch, down: true, step: step)
    }

    public func noteOff(pitch: Int, step: Int) {
        guard (0..<128).contains(pitch) else { return }
        enqueue(pitch, down: false, step: step)
    }

    /// Every key up (a panic, a vanished keyboard), at `step`.
    public func releaseAll(step: Int) { enqueue(-1, down: false, step: step) }

    private func enqueue(_ pitch: Int, down: Bool, step: Int) {
        guard count < capacity else { droppedEvents &+= 1; return }
        pending[(head + count) % capacity] = (Int16(pitch), down, step)
        count += 1
    }

    /// Applies the key events of steps `< s` and reads the keys: the hint to give, if the chord
    /// changed (`chord` nil: withdrawn by a release, with `releaseEndsChord`), at the step of
    /// the last change.
    public func hint(before s: Int) -> ChordHint? {
        while count > 0 && pending[head].step < s {
            let e = pending[head]
            head = (head + 1) % capacity
            count -= 1
            if e.pitch < 0 {
                guard !held.isEmpty else { continue }
                held.removeAll()
            } else if e.down {
                held.insert(Int(e.pitch))
            } else {
                guard held.contains(Int(e.pitch)) else { continue }
                held.remove(Int(e.pitch))
            }
            changedAt = e.step
        }
        guard let t = changedAt else { return nil }
        changedAt = nil
        if held.isEmpty {
            guard releaseEndsChord, hinted != nil else { return nil }
            hinted = nil
            recognizer.clear()
            hints += 1
            return ChordHint(step: t, chord: nil)
        }
        let chord = recognizer.recognize(held)
        guard let chord, chord != hinted else { return nil }
        hinted = chord
        hints += 1
        return ChordHint(step: t, chord: chord)
    }
}
