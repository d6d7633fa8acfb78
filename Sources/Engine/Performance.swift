import Harmony

/// What the code that drives a `Performance` adds to a step besides its clock and its output:
/// where the left hand's hints go besides the engine, and what is done last before the engine's
/// turn (the rehearsal memory's plan). Called on the performance's thread, inside `step`; the
/// live engine thread's hooks must not allocate, lock, log or wait.
public protocol PerformanceHooks {
    /// The left hand's hint for the step, just given to the engine (live: for the take's
    /// recorder; render: kept for the take).
    func hintGiven(_ hint: ChordHint)
    /// Last before the engine's `generate(step: s)`: the rehearsal memory applies its plan here.
    func willGenerate(step s: Int, engine: AccompanimentEngine)
}

extension PerformanceHooks {
    public func hintGiven(_ hint: ChordHint) {}
    public func willGenerate(step s: Int, engine: AccompanimentEngine) {}
}

/// One performance of an engine, advanced one grid step at a time: the one per-step driver that
/// `render` (`OfflineRenderer.run`), the live engine thread (`EngineLoop`) and `bench` share
/// (docs/design.md, "One performance driver"). Each of them supplies only a clock (when the
/// melody's and the left hand's keys come in, and when each step is computed) and an output
/// (where a step's events go), so that live equals render by construction.
///
/// Step `s` (`step(_:hooks:)`), in this order:
/// 1. the melody's keys of steps `< s` have reached the engine (`melodyNoteOn`/`Off`, as they
///    come: live when they are heard, render before the step);
/// 2. the left hand's keys of steps `< s` have reached the `LeftHand` (`leftHandKeyOn`/`Off`);
///    its hint from them goes to the engine, then to `hooks.hintGiven`;
/// 3. `hooks.willGenerate(step: s)`: the rehearsal memory's plan;
/// 4. `engine.generate(step: s)`;
/// 5. the `NoteLedger`: the maximum-duration rule, and no note-off for a silent pitch;
/// 6. the events out: returned, valid until the next call.
///
/// Owned by one thread (the render loop, or the live engine thread); allocates only in `init`.
public final class Performance: @unchecked Sendable {
    // @unchecked Sendable: created on one thread and handed to the thread that steps it before
    // its first use; never used by two threads at once (see above).
    public let engine: AccompanimentEngine
    /// Reads the left hand's keys (a split, a chord track or channel); nil: none.
    public let leftHand: LeftHand?
    private let ledger: NoteLedger
    /// The engine's events of one step, before the ledger. (1024,)
    private let engineEvents = EventBuffer(capacity: 1024)
    /// One step's events after the ledger: its own note-offs, then the engine's. (1024 + 128,)
    private let out = EventBuffer(capacity: 1024 + 128)

    /// - Parameter maxNoteSteps: the longest accompaniment note (`NoteLedger`); 0: no limit.
    public init(engine: AccompanimentEngine, leftHand: LeftHand? = nil, maxNoteSteps: Int) {
        self.engine = engine
        self.leftHand = leftHand
        ledger = NoteLedger(maxNoteSteps: maxNoteSteps)
    }

    /// A new performance: the engine forgets what it heard and played and is reseeded, the ledger
    /// forgets its notes, the left hand its keys and chord.
    public func reset(seed: UInt64) {
        engine.reset(seed: seed)
        ledger.reset()
        leftHand?.reset()
    }

    @inline(__always)
    public func melodyNoteOn(pitch: Int, velocity: Int, step: Int) { engine.melodyNoteOn(pitch: pitch, velocity: velocity, step: step) }

    @inline(__always)
    public func melodyNoteOff(pitch: Int, step: Int) { engine.melodyNoteOff(pitch: pitch, step: step) }

    /// A left-hand key at `step` (placed by `LeftHand.step(at:)`); nothing without a left hand.
    @inline(__always)
    public func leftHandKeyOn(pitch: Int, step: Int) { leftHand?.noteOn(pitch: pitch, step: step) }

    @inline(__always)
    public func leftHandKeyOff(pitch: Int, step: Int) { leftHand?.noteOff(pitch: pitch, step: step) }

    /// Computes step `s` (see the type's comment) and returns its events, valid until the next
    /// call on this performance.
    public func step<Hooks: PerformanceHooks>(_ s: Int, hooks: Hooks) -> EventBuffer {
        if let leftHand, let h = leftHand.hint(before: s) {
            engine.chordHint(h.chord, step: h.step)
            hooks.hintGiven(h)
        }
        hooks.willGenerate(step: s, engine: engine)
        engineEvents.removeAll()
        out.removeAll()
        engine.generate(step: s, into: engineEvents)
        ledger.apply(step: s, engineEvents: engineEvents, into: out)
        return out
    }

    /// The end of a render: the engine learns that its notes end at `step`, and a note-off at
    /// `step` for every note still sounding is returned (valid until the next call).
    public func end(step: Int) -> EventBuffer {
        engineEvents.removeAll()
        out.removeAll()
        engine.allNotesOff(step: step, into: engineEvents)
        ledger.endAll(step: step, into: out)
        return out
    }

    /// Whether the accompaniment's `pitch` sounds (live: which notes a silence must end).
    @inline(__always)
    public func isSounding(_ pitch: Int) -> Bool { ledger.isSounding(pitch) }

    /// A silence at `step` (panic, the clock's Stop, shutdown): the engine learns that its notes
    /// end, and the ledger forgets them; the caller sends the note-offs (`isSounding` first).
    public func silence(step: Int) {
        engineEvents.removeAll()
        engine.allNotesOff(step: step, into: engineEvents)
        ledger.reset()
    }

    /// Events the step buffers could not hold (a runaway engine), since creation.
    public var droppedEvents: Int { engineEvents.dropped + out.dropped }
}
