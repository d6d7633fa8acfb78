import Harmony
import Tokens

/// One accompaniment event at a grid step: a note-on (velocity 1…127) or a note-off (velocity 0).
public struct AccompanimentEvent: Equatable, Hashable, Sendable {
    public var step: Int
    public var pitch: UInt8
    /// 0 means note-off.
    public var velocity: UInt8

    public init(step: Int, pitch: UInt8, velocity: UInt8) {
        self.step = step
        self.pitch = pitch
        self.velocity = velocity
    }

    public var isNoteOn: Bool { velocity > 0 }
}

/// The streaming engine contract (docs/design.md).
///
/// The clock advances one grid step at a time. Melody note events go in with the step they belong
/// to (rounded to nearest), in the order they were heard; steps never decrease. `generate(step:)`
/// is called once for every step in order and emits the accompaniment that sounds at that step.
/// **Causality:** it sees only melody frames of steps `< step`; an event pushed with a later step
/// is held back until then. Live, `generate(step: s)` runs half a step before `s`; offline it runs
/// from a simulated clock, and both give the same output for the same input and seed.
///
/// Threading: one engine belongs to one thread (the live engine thread, or the render loop).
/// After `init`, implementations neither allocate nor lock in these methods.
public protocol AccompanimentEngine: AnyObject {
    /// Forgets everything heard and played, and reseeds the random generator.
    func reset(seed: UInt64)
    func melodyNoteOn(pitch: Int, velocity: Int, step: Int)
    func melodyNoteOff(pitch: Int, step: Int)
    /// Appends the events that sound at `step` to `out` (note-offs before note-ons).
    func generate(step: Int, into out: EventBuffer)
    /// Ends every sounding accompaniment note at `step` (stop, panic, end of a render).
    func allNotesOff(step: Int, into out: EventBuffer)
    /// Melody events lost because more were waiting than the engine holds (a flood), since reset.
    var droppedMelodyEvents: Int { get }
    /// The harmony the player gives (docs/harmony.md): a chord stream holding the chart, if any.
    /// Set before the performance (it allocates); `reset` keeps it and forgets the hints.
    func setHarmony(_ stream: ChordStream)
    /// A chord from the player's left hand at `step` (the step of its timestamp), seen by the
    /// output of steps `> step`, as a melody note is; nil: the left hand let go of its chord
    /// (when a release ends the chord). Hints come in the order heard.
    func chordHint(_ chord: ChordSymbol?, step: Int)
    /// The rehearsal memory's chord for the steps from `step` on (docs/memory.md): given before
    /// `generate(step:)` of that step, from what was played before it; nil: the memory says
    /// nothing from there. Steps ascend.
    func memoryChord(_ chord: ChartChord?, step: Int)
    /// The rehearsal memory's estimate for the steps from `step` on, where its take's chords are
    /// hindsight's: each pitch class's chord-tone probability (12, copied now; the model engine
    /// hears it in place of its own hearing); nil: none from there. No allocation: the engine
    /// thread calls it.
    func memoryHeard(_ pi: UnsafePointer<Float>?, step: Int)
}

/// A fixed-capacity list of events, allocated once. Appending past the capacity drops the event
/// and counts it, so a runaway engine cannot make the real-time thread allocate.
///
/// Owned by one thread at a time (the engine thread fills it, then the same thread drains it).
public final class EventBuffer: @unchecked Sendable {
    // @unchecked Sendable: the buffer is handed between threads only through the owner's own
    // synchronisation; it is never shared while in use.
    public let capacity: Int
    public private(set) var count = 0
    /// Events dropped because the buffer was full, since creation.
    public private(set) var dropped = 0
    private let storage: UnsafeMutablePointer<AccompanimentEvent>  // (capacity,)

    public init(capacity: Int = 512) {
        self.capacity = max(1, capacity)
        storage = .allocate(capacity: self.capacity)
    }

    deinit { storage.deallocate() }

    @inlinable public var isEmpty: Bool { count == 0 }

    public func append(_ e: AccompanimentEvent) {
        if count < capacity {
            storage[count] = e
            count += 1
        } else {
            dropped += 1
        }
    }

    public subscript(i: Int) -> AccompanimentEvent {
        precondition(i >= 0 && i < count)
        return storage[i]
    }

    public func removeAll() { count = 0 }

    /// A copy as an array (for tests and offline use; allocates).
    public var events: [AccompanimentEvent] { (0..<count).map { storage[$0] } }
}

extension AccompanimentEngine {
    /// An engine that hears no harmony but the melody's (test doubles) ignores the player's.
    public func setHarmony(_ stream: ChordStream) {}
    public func chordHint(_ chord: ChordSymbol?, step: Int) {}
    public func memoryChord(_ chord: ChartChord?, step: Int) {}
    public func memoryHeard(_ pi: UnsafePointer<Float>?, step: Int) {}
}
