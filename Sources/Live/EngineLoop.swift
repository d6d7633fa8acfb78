import Engine
import Harmony
import Memory
import Realtime
import Synchronization

/// Counters the engine thread publishes for the control thread (which logs and reports them).
public final class EngineStatus: Sendable {
    public enum State: Int, Sendable {
        /// Waiting for the first melody note, the count-in, or the external clock's Start.
        case listening = 0
        case playing = 1
        /// Stopped by the external clock.
        case stopped = 2
    }
    /// Moves every loop iteration: the watchdog's proof of life.
    public let heartbeat = Atomic<Int>(0)
    public let stepsGenerated = Atomic<Int>(0)
    /// The last step computed (-1 before the first).
    public let lastStep = Atomic<Int>(-1)
    public let notesPlayed = Atomic<Int>(0)
    /// Steps computed after their deadline had passed.
    public let lateSteps = Atomic<Int>(0)
    /// Accompaniment events the engine could not hold (its event buffers full).
    public let droppedEngineEvents = Atomic<Int>(0)
    /// Melody events the engine could not hold (its melody tracker full: a flood).
    public let droppedMelodyEvents = Atomic<Int>(0)
    /// Tempo in hundredths of a BPM (external clock: as measured), 0 while unknown.
    public let bpmHundredths = Atomic<Int>(0)
    public let state = Atomic<Int>(State.listening.rawValue)
    /// Worst engine work per step so far, nanoseconds.
    public let maxStepNanoseconds = Atomic<Int>(0)
    public let panics = Atomic<Int>(0)
    /// The left hand (docs/harmony.md, "Live"), since start: chord hints given to the engine
    /// (each a change of chord, or a release with `release_ends_chord`), key sets that made no
    /// chord (the chord before them held), and key events lost to a full `LeftHand` queue.
    public let leftHandHints = Atomic<Int>(0)
    public let unrecognizedChords = Atomic<Int>(0)
    public let droppedLeftHandEvents = Atomic<Int>(0)
    /// Events the rehearsal memory's recorder lost (its ring full).
    public let lostTakeEvents = Atomic<Int>(0)
    /// Beats the rehearsal memory planned after the engine had computed them (dropped).
    public let lateMemoryGuesses = Atomic<Int>(0)
    public init() {}
}

/// The engine thread ("acc-engine"): drains the reader's events, advances the grid from the
/// chosen clock, has its `Performance` (the per-step driver render shares: engine, left hand,
/// the rehearsal memory's plan, the `NoteLedger`) compute each step half a step ahead, and
/// schedules the step's events on every output at their grid times. Also plays the count-in, and silences everything on panic,
/// clock Stop and shutdown.
///
/// **Harmony** (docs/harmony.md, "Live: split point, chord channel and chart"): the chart's
/// chord stream goes to the engine once, in `init` (`setHarmony`); the left hand's keys go to
/// `leftHand` with the steps of their timestamps as they arrive, and the `Performance` gives the
/// engine its hint from the keys of steps `< s` before each `generate(step: s)`, as it does for
/// `OfflineRenderer.run`, so that live equals render. Steps are the
/// performance's: step 0 is beat 1 of bar 1 (after the count-in; the first key, melody or left
/// hand, without one; song position 0 of an external clock), and the chart's bar 1 begins there.
///
/// **The left hand's wait** (docs/harmony.md, "The left hand's wait"): the left hand's keys are
/// placed on steps by `LeftHand.step(at:)` from their grid positions (render: from their ticks),
/// and with a left hand each step is computed `wait` steps after its time (not half a step
/// before it), once every key that counts for it is in; its notes sound 2 ms later (the
/// engine's budget), so the accompaniment is `wait` steps and 2 ms late to the grid. Without a
/// left hand, or with `wait` −0.5, steps are computed half a step ahead and sound on the grid.
///
/// Owns (touches from no other thread): the performance (the engine, the ledger, the event
/// buffers, the `LeftHand`), the tempo state. Shares only the input ring (consumer), the memory's take ring
/// (producer) and guess ring (consumer), the outputs' engine-thread side, and the atomics of `status`. No allocation, lock, log or await in `run`, `poll` or `shutdown`.
/// Times are queue times (QueueClock); steps come from `FixedTempo` or `ExternalClock`.
public final class EngineLoop: @unchecked Sendable {
    // @unchecked Sendable: created on the control thread, then used by the engine thread only
    // (see above); the control thread reads `status` and sets `stopRequested`.
    public enum TempoSource: String, Sendable { case fixed, midiClock = "midi-clock" }

    public struct Settings: Sendable, Equatable {
        public var tempoSource: TempoSource = .fixed
        public var bpm: Double = 100
        public var beatsPerBar = 4
        public var countInBars = 0
        /// 0-based MIDI channels.
        public var metronomeChannel: UInt8 = 9
        public var accompanimentChannel: UInt8 = 1
        /// The longest accompaniment note (NoteLedger); 0: no limit.
        public var maxNoteSteps = 64
        public var seed: UInt64 = 0
        public init() {}
    }

    /// The engine, the left hand and the ledger, stepped by this thread.
    let performance: Performance
    var engine: AccompanimentEngine { performance.engine }
    public let settings: Settings
    let outputs: [any LiveOutput]
    let input: SPSCRing<InputEvent>
    public let status = EngineStatus()
    public let stopRequested = Atomic<Bool>(false)
    /// Reads the left hand's keys (a split or a chord channel); nil: none configured.
    var leftHand: LeftHand? { performance.leftHand }
    /// To the rehearsal memory's recorder on the control thread (producer side: this thread):
    /// the melody's keys with their steps, the left hand's hints, performances' starts and stops.
    /// nil: no memory. A full ring loses the event and counts it (`status.lostTakeEvents`).
    let takes: SPSCRing<TakeEvent>?
    /// From the memory thread (consumer side: this thread): each beat's chord from the rehearsal
    /// memory, planned a beat ahead (`LiveMemory`); nil: no memory.
    let guesses: SPSCRing<MemoryGuess>?
    /// Whether the last guess applied said something (so a missing one must say "nothing now").
    private var memorySpoke = false
    /// Performances begun by the external clock's Start (wrapping): beat markers carry it, and a
    /// plan for another performance is dropped.
    private var performanceNumber: UInt16 = 0
    /// A guess's chord-tone probabilities, for the engine. (12,)
    private let memoryPi: UnsafeMutablePointer<Float>
    /// Left-hand hints and dropped keys of performances before the last reset (the external
    /// clock's Start resets `leftHand`, whose own counts restart), so `status` keeps counting.
    private var earlierHints = 0, earlierDroppedKeys = 0

    /// Queue time of the last event scheduled for each pitch, accompaniment channel then
    /// metronome channel (Int64.min: none). A silence cancels what is still queued, so a
    /// note-off scheduled for the future may never play: every pitch touched recently gets its own
    /// note-off then, whatever the ledger says. (2 × 128)
    private let lastScheduled: UnsafeMutablePointer<Int64>
    /// How far back `lastScheduled` counts as "may still be queued": generous, since a late queue
    /// timer (an emulated or loaded machine) delivers events after their time, and an extra
    /// note-off for a silent pitch is harmless.
    static let queuedHorizon: Int64 = 1_000_000_000
    /// The queue time of the current poll (the time a silence happens at).
    private var now: Int64 = 0
    private var fixed: FixedTempo
    private var external = ExternalClock()
    /// When a step is computed, from its time: −half a step, or the left hand's wait (ns, fixed
    /// tempo). Clocks after a step's first clock it is due (external clock: −1, or more with a
    /// wait).
    private let computeOffset: Int64
    private let dueClocks: Int
    /// The left hand's wait in steps (−0.5 without a left hand).
    private let wait: Double
    /// How long after it is computed a step with a wait sounds: the engine's budget.
    static let budgetNanoseconds: Int64 = 2_000_000
    private var nextStep = 0
    private var playing = false
    /// The step the performance started at.
    private var firstStep = 0

    /// - Parameters:
    ///   - harmony: the chord stream with the chart (bar 1 = step 0), or an empty one; given to
    ///     the engine here, once (it allocates), as `render` gives it before its run.
    ///   - leftHand: the reader of the left hand's keys (`HarmonySettings.makeLeftHand`), when a
    ///     split or a chord channel is configured.
    ///   - takes: the ring to the rehearsal memory's thread (docs/memory.md, "Live"), or nil.
    ///   - guesses: the ring of its plans back, or nil.
    public init(engine: AccompanimentEngine, settings: Settings, outputs: [any LiveOutput], input: SPSCRing<InputEvent>,
                harmony: ChordStream = ChordStream(), leftHand: LeftHand? = nil, takes: SPSCRing<TakeEvent>? = nil,
                guesses: SPSCRing<MemoryGuess>? = nil) {
        self.takes = takes
        self.guesses = guesses
        memoryPi = .allocate(capacity: 12)
        memoryPi.initialize(repeating: 0, count: 12)
        self.settings = settings
        self.outputs = outputs
        self.input = input
        performance = Performance(engine: engine, leftHand: leftHand, maxNoteSteps: settings.maxNoteSteps)
        engine.setHarmony(harmony)
        fixed = FixedTempo(bpm: settings.bpm)
        wait = leftHand?.wait ?? -0.5
        computeOffset = wait > -0.5 ? Int64((wait * Double(fixed.stepNanoseconds)).rounded()) : -fixed.stepNanoseconds / 2
        dueClocks = max(-1, Int((Double(ExternalClock.clocksPerStep) * wait).rounded(.up)))
        lastScheduled = .allocate(capacity: 2 * 128)
        lastScheduled.initialize(repeating: .min, count: 2 * 128)
        performance.reset(seed: settings.seed)
    }

    deinit {
        lastScheduled.deallocate()
        memoryPi.deallocate()
    }

    var usesClock: Bool { settings.tempoSource == .midiClock }
    private var stopping: Bool { stopRequested.load(ordering: .relaxed) }

    /// The thread's body: returns after `stopRequested`, with every note ended.
    public func run(clock: QueueClock) {
        start(now: clock.now())
        while !stopRequested.load(ordering: .acquiring) {
            let wake = poll(now: clock.now())
            clock.sleep(until: wake)
        }
        shutdown(now: clock.now())
    }

    /// At start: the tempo, and the count-in scheduled.
    public func start(now: Int64) {
        guard !usesClock else { return }
        status.bpmHundredths.store(Int(settings.bpm * 100), ordering: .relaxed)
        guard settings.countInBars > 0 else { return }
        // Count-in on the metronome channel, from half a beat after now; beat 1 of bar 1 follows it.
        let beat = fixed.stepNanoseconds * 8
        let beats = settings.countInBars * settings.beatsPerBar
        for b in 0..<beats {
            let t = now + beat / 2 + Int64(b) * beat
            let pitch: UInt8 = b % settings.beatsPerBar == 0 ? 76 : 77  // high / low wood block
            for o in outputs {
                o.schedule(.note(channel: settings.metronomeChannel, pitch: pitch, velocity: 100), at: t)
                o.schedule(.note(channel: settings.metronomeChannel, pitch: pitch, velocity: 0), at: t + beat / 4)
            }
            lastScheduled[128 + Int(pitch)] = max(lastScheduled[128 + Int(pitch)], t + beat / 4)
        }
        fixed.origin = now + beat / 2 + Int64(beats) * beat
        setPlaying()
    }

    /// One look at the world at queue time `now`: input drained, every step now due computed.
    /// Returns the queue time to look again.
    public func poll(now: Int64) -> Int64 {
        self.now = now
        while let e = input.pop() { handle(e) }
        // Input carries the kernel's timestamps, so it need not be read at once: the player's own
        // notes do not come this way (InputReader). At a fixed tempo the thread sleeps to the next
        // deadline, at most 5 ms; waiting for the first note or following a clock, 1 ms.
        var wake = now + (playing && !usesClock ? 5_000_000 : 1_000_000)
        // A stop request ends a catch-up at once (an engine far behind the clock could otherwise
        // compute every overdue step before it looks).
        if usesClock {
            while playing && nextStep <= external.lastDueStep(dueClocks: dueClocks) && !stopping {
                let t = external.time(of: nextStep)
                generate(step: nextStep, at: wait > -0.5 ? max(t, t + Int64(wait * external.period * 3) + Self.budgetNanoseconds) : t, now: now)
            }
        } else if playing {
            while deadline(of: nextStep) <= now && !stopping { generate(step: nextStep, at: soundTime(of: nextStep), now: now) }
            wake = min(wake, deadline(of: nextStep))
        }
        status.heartbeat.add(1, ordering: .relaxed)
        return wake
    }

    /// At stop: every note ended.
    public func shutdown(now: Int64) {
        self.now = now
        silenceEverything()
    }

    // MARK: - Input

    private func setPlaying() {
        playing = true
        status.state.store(EngineStatus.State.playing.rawValue, ordering: .relaxed)
    }

    private func handle(_ e: InputEvent) {
        switch e.kind {
        case .noteOn:
            if !usesClock && !playing {
                fixed.origin = e.time  // the first note is beat 1 of bar 1
                setPlaying()
            }
            guard playing else { return }
            let s = stepOf(e.time)
            performance.melodyNoteOn(pitch: Int(e.pitch), velocity: Int(e.velocity), step: s)
            record(TakeEvent(kind: .noteOn, step: s, pitch: Int(e.pitch), velocity: Int(e.velocity)))
        case .noteOff:
            if playing {
                let s = stepOf(e.time)
                performance.melodyNoteOff(pitch: Int(e.pitch), step: s)
                record(TakeEvent(kind: .noteOff, step: s, pitch: Int(e.pitch)))
            }
        case .leftHandOn:
            // A left-hand chord starts a performance as a melody note does (an arranger's
            // "sync start"): with a fixed tempo and no count-in, the first key of either hand is
            // beat 1 of bar 1.
            if !usesClock && !playing {
                fixed.origin = e.time
                setPlaying()
            }
            guard playing, let leftHand else { return }
            performance.leftHandKeyOn(pitch: Int(e.pitch), step: leftHandStep(leftHand, e.time))
        case .leftHandOff:
            if playing, let leftHand { performance.leftHandKeyOff(pitch: Int(e.pitch), step: leftHandStep(leftHand, e.time)) }
        case .panic:
            status.panics.add(1, ordering: .relaxed)
            // The reader has let go of every key: so does the left hand (its chord holds unless
            // a release ends it).
            if playing, let leftHand { leftHand.releaseAll(step: leftHandStep(leftHand, e.time)) }
            silenceEverything()
        case .clock where usesClock:
            if case .started(let from) = external.clock(at: e.time) {
                countLeftHandBeforeReset()
                performance.reset(seed: settings.seed)
                performanceNumber &+= 1
                memorySpoke = false
                record(TakeEvent(kind: .start, step: from))
                nextStep = from
                firstStep = from
                setPlaying()
            }
            status.bpmHundredths.store(Int(external.bpm * 100), ordering: .relaxed)
        case .start where usesClock: _ = external.start()
        case .continue where usesClock: _ = external.continuePlaying()
        case .songPosition where usesClock: external.songPosition(Int(e.songPosition))
        case .stop where usesClock:
            if external.stop() == .stopped {
                record(TakeEvent(kind: .stop, step: nextStep))
                playing = false
                status.state.store(EngineStatus.State.stopped.rawValue, ordering: .relaxed)
                silenceEverything()
            }
        default:
            break
        }
    }

    /// Hands an event to the memory's recorder; a full ring loses it and counts it.
    @inline(__always)
    fileprivate func record(_ e: TakeEvent) {
        guard let takes else { return }
        if !takes.push(e) { status.lostTakeEvents.add(1, ordering: .relaxed) }
    }

    /// Before a new performance, whose reset restarts the left hand's own counts: they are kept
    /// for `status`.
    private func countLeftHandBeforeReset() {
        guard let leftHand else { return }
        earlierHints += leftHand.hints
        earlierDroppedKeys += leftHand.droppedEvents
    }

    @inline(__always)
    private func stepOf(_ t: Int64) -> Int { usesClock ? external.step(at: t) : fixed.step(at: t) }

    /// The step a left-hand key at time t is placed on: `LeftHand.step(at:)` of its grid position.
    @inline(__always)
    private func leftHandStep(_ leftHand: LeftHand, _ t: Int64) -> Int {
        leftHand.step(at: usesClock ? external.position(at: t) : fixed.position(at: t))
    }

    /// Fixed tempo: when step s is computed (half a step ahead, or the left hand's wait after).
    @inline(__always)
    private func deadline(of s: Int) -> Int64 { fixed.time(of: s) + computeOffset }

    /// Fixed tempo: when step s sounds (its time, or 2 ms after it is computed with a wait).
    @inline(__always)
    private func soundTime(of s: Int) -> Int64 { max(fixed.time(of: s), deadline(of: s) + Self.budgetNanoseconds) }

    /// Fixed tempo: how long after its grid time a step sounds (0 without a left-hand wait).
    public var soundDelay: Int64 { soundTime(of: 0) - fixed.time(of: 0) }

    // MARK: - Output

    private func generate(step s: Int, at time: Int64, now: Int64) {
        let t0 = monotonicNanoseconds()
        // Late: computed after the step should have sounded (`time`: when it sounds). (Step 0 of a performance that starts
        // on its first note is always computed after that note: it cannot be earlier.)
        if now > time && s != firstStep { status.lateSteps.add(1, ordering: .relaxed) }
        // The left hand's hint, the memory's plan, the engine and the ledger: as render steps.
        let step = performance.step(s, hooks: LiveHooks(loop: self))
        var notes = 0
        for i in 0..<step.count {
            let e = step[i]
            if e.isNoteOn { notes += 1 }
            lastScheduled[Int(e.pitch & 127)] = time
            for o in outputs { o.schedule(.note(channel: settings.accompanimentChannel, pitch: e.pitch, velocity: e.velocity), at: time) }
        }
        nextStep = s + 1
        status.stepsGenerated.add(1, ordering: .relaxed)
        status.lastStep.store(s, ordering: .relaxed)
        if notes > 0 { status.notesPlayed.add(notes, ordering: .relaxed) }
        publishDrops()
        let took = Int(monotonicNanoseconds() - t0)
        if took > status.maxStepNanoseconds.load(ordering: .relaxed) { status.maxStepNanoseconds.store(took, ordering: .relaxed) }
    }

    /// What the engine thread adds to a step of its performance: the left hand's hint goes to
    /// the take's recorder too, and at a beat's first step the memory thread hears that the beat
    /// begins and this beat's plan is applied (as render's follower applies it before the step).
    private struct LiveHooks: PerformanceHooks {
        // unowned(unsafe): a stack value made and used inside `generate`, while the loop runs it.
        unowned(unsafe) let loop: EngineLoop

        func hintGiven(_ hint: ChordHint) { loop.record(TakeEvent(hint: hint.chord, step: hint.step)) }

        func willGenerate(step s: Int, engine: AccompanimentEngine) {
            guard s % 8 == 0 else { return }
            var marker = TakeEvent(kind: .beat, step: s)
            marker.performance = loop.performanceNumber
            loop.record(marker)
            if let guesses = loop.guesses { loop.applyMemory(guesses, step: s) }
        }
    }

    /// The memory's plan for the beat beginning at step s; plans for earlier beats came too late
    /// and are dropped (counted). With no plan, a memory that spoke goes quiet.
    fileprivate func applyMemory(_ ring: SPSCRing<MemoryGuess>, step s: Int) {
        let beat = s / 8
        var applied = false
        while let g = ring.peek(), g.performance != performanceNumber || Int(g.beat) <= beat {
            _ = ring.pop()
            guard g.performance == performanceNumber else { continue }   // planned for an earlier performance
            guard Int(g.beat) == beat else { status.lateMemoryGuesses.add(1, ordering: .relaxed); continue }
            g.apply(to: engine, step: s, scratch: memoryPi)
            memorySpoke = g.kind != .none
            applied = true
        }
        if !applied && memorySpoke {
            engine.memoryChord(nil, step: s)
            engine.memoryHeard(nil, step: s)
            memorySpoke = false
        }
    }

    private func publishDrops() {
        status.droppedEngineEvents.store(performance.droppedEvents, ordering: .relaxed)
        status.droppedMelodyEvents.store(engine.droppedMelodyEvents, ordering: .relaxed)
        if let leftHand {
            status.leftHandHints.store(earlierHints + leftHand.hints, ordering: .relaxed)
            // The recognizer's count survives `LeftHand.reset` (it only forgets the chord).
            status.unrecognizedChords.store(leftHand.recognizer.unrecognized, ordering: .relaxed)
            status.droppedLeftHandEvents.store(earlierDroppedKeys + leftHand.droppedEvents, ordering: .relaxed)
        }
    }

    /// Whether a left hand (split or chord channel) is read.
    public var readsLeftHand: Bool { leftHand != nil }

    /// Every accompaniment note off, at once: what is scheduled is cancelled; each note that may
    /// sound gets its own note-off (sounding in the ledger, or touched by an event that may still
    /// have been queued: its scheduled note-off was just cancelled); then All Notes Off on the
    /// accompaniment and metronome channels.
    private func silenceEverything() {
        for o in outputs { o.cancelScheduled() }
        let recent = now - Self.queuedHorizon
        for p in 0..<128 {
            if performance.isSounding(p) || lastScheduled[p] >= recent {
                for o in outputs { o.sendNow(.note(channel: settings.accompanimentChannel, pitch: UInt8(p), velocity: 0)) }
            }
            if lastScheduled[128 + p] >= recent {
                for o in outputs { o.sendNow(.note(channel: settings.metronomeChannel, pitch: UInt8(p), velocity: 0)) }
            }
            lastScheduled[p] = .min
            lastScheduled[128 + p] = .min
        }
        // The engine learns that its notes ended; the ledger forgets the notes just ended.
        performance.silence(step: nextStep)
        for o in outputs {
            o.sendNow(.allNotesOff(channel: settings.accompanimentChannel))
            if settings.countInBars > 0 { o.sendNow(.allNotesOff(channel: settings.metronomeChannel)) }
        }
        publishDrops()
    }
}
