import Foundation
import Realtime
import Synchronization

/// A request from the control thread to the reader thread.
public enum ReaderCommand: Sendable, Equatable, BitwiseCopyable {
    /// A source port went away (a keyboard unplugged): release the notes it held (melody notes
    /// and left-hand keys alike, each as its own note-off).
    case releaseSource(client: Int32, port: Int32)
}

/// The reader thread ("acc-reader"): takes every event from the sequencer's input as it
/// arrives, plays the player's own notes at once on the passthrough outputs (the synth, and the
/// output port with `midi.melody_passthrough`), and hands the events on: melody, left-hand keys,
/// panic and clock to the engine thread, port announcements to the control thread.
///
/// **Left hand** (docs/harmony.md, "Live: split point, chord channel and chart"): a note below
/// `harmony.split_note`, or on `harmony.chord_channel`, is a chord key, not melody: it goes to the
/// engine thread as `leftHandOn`/`leftHandOff` (for its `LeftHand` reader) and is passed through
/// only with `harmony.left_hand_sound`. A note-off goes where its note-on went (the held-note
/// table remembers), whatever the routing says by then.
///
/// Owns (no other thread touches): the sequencer's input side, `routing`, `held` and `heldFlags`
/// (which source holds which note, whether it is a left-hand key and whether it was passed
/// through: to release a vanished keyboard's notes, to end them on panic and stop, and to route
/// a note-off like its note-on), the passthrough latency histograms (it records, the control
/// thread reads). Produces `engineInput` and `announcements`; consumes `commands`. No
/// allocation, lock, log or await after init.
public final class InputReader: @unchecked Sendable {
    // @unchecked Sendable: created on the control thread, then used by the reader thread only
    // (above); what others see is atomic (counters, histograms, stopRequested) or an SPSC ring.
    public struct Settings: Sendable, Equatable {
        /// The controller number that means panic, -1 for none.
        public var panicController = 120
        /// A note that means panic, -1 for none. Checked before the left-hand routing: a panic
        /// note below the split is still panic.
        public var panicNote = -1
        /// Notes below this (0…127) are left-hand keys; -1: no split (`harmony.split_note`).
        public var splitNote = -1
        /// Notes on this 0-based channel are left-hand keys; -1: none (`harmony.chord_channel` − 1).
        public var chordChannel = -1
        /// Left-hand keys are passed through too (`harmony.left_hand_sound`).
        public var leftHandSound = false
        public init() {}

        /// Whether a note is a left-hand key by these settings.
        @inline(__always)
        func isLeftHand(channel: UInt8, pitch: UInt8) -> Bool {
            Int(channel) == chordChannel || Int(pitch) < splitNote
        }
    }

    /// A passthrough output and the latency from each note's kernel timestamp to the return of
    /// its call (for the synth: `fluid_synth_noteon` has been called).
    public struct Passthrough: Sendable {
        public let output: any LiveOutput
        public let latency: LatencyHistogram
        public init(_ output: any LiveOutput) {
            self.output = output
            latency = LatencyHistogram(name: "melody → \(output.name)")
        }
    }

    let settings: Settings
    /// The left-hand routing in force (reader thread). It starts as `settings`; nothing in the
    /// daemon changes it after start yet, but the tests do, to show that a note-off follows its
    /// note-on through `heldFlags` and not through the routing of the moment.
    var routing: Settings
    public let passthrough: [Passthrough]
    let clock: @Sendable () -> Int64
    /// Reader → engine thread: melody, panic, clock and transport events.
    public let engineInput: SPSCRing<InputEvent>
    /// Reader → control thread: ports that came or went.
    public let announcements = SPSCRing<InputEvent>(capacity: 256)
    /// Control thread → reader.
    public let commands = SPSCRing<ReaderCommand>(capacity: 64)
    public let stopRequested = Atomic<Bool>(false)
    /// Our own client (its announcements are not news).
    let ownClient: Int32
    /// Events the kernel dropped before we read them (ENOSPC: our input pool overflowed).
    public let overruns = Atomic<Int>(0)
    /// Events dropped because the engine's or the control thread's ring was full (a flood).
    public let dropped = Atomic<Int>(0)
    /// Source (client << 8 | port) of each held note, -1 when up. (16 channels × 128)
    private let held: UnsafeMutablePointer<Int32>
    /// For each held note: `leftHandFlag` (a left-hand key), `soundedFlag` (passed through). (16 × 128)
    private let heldFlags: UnsafeMutablePointer<UInt8>
    static let leftHandFlag: UInt8 = 1, soundedFlag: UInt8 = 2

    public init(settings: Settings, passthrough: [Passthrough], ownClient: Int32,
                engineInput: SPSCRing<InputEvent>, clock: @escaping @Sendable () -> Int64) {
        self.settings = settings
        routing = settings
        self.passthrough = passthrough
        self.ownClient = ownClient
        self.engineInput = engineInput
        self.clock = clock
        held = .allocate(capacity: 16 * 128)
        held.initialize(repeating: -1, count: 16 * 128)
        heldFlags = .allocate(capacity: 16 * 128)
        heldFlags.initialize(repeating: 0, count: 16 * 128)
    }

    deinit {
        held.deallocate()
        heldFlags.deallocate()
    }

    /// The thread's body: reads until `stopRequested`, then releases the notes still held.
    /// Waits in poll(2) at most 50 ms at a time, so commands and the stop are seen promptly.
    public func run(sequencer: Sequencer) {
        var event = InputEvent()
        while !stopRequested.load(ordering: .acquiring) {
            let r = sequencer.readInput(timeoutMs: 50, into: &event)
            if r == -ENOSPC { overruns.add(1, ordering: .relaxed) }
            if r == 0 { handle(event) }
            while let c = commands.pop() { handle(c, now: clock()) }
        }
        releaseAll()
    }

    /// One event from the sequencer (the reader thread; tests call it directly).
    public func handle(_ event: InputEvent) {
        var e = event
        switch e.kind {
        case .noteOn where Int(e.pitch) == settings.panicNote:
            e.kind = .panic
            panic()
            forward(e)
        case .noteOn, .noteOff:
            let i = Int(e.channel & 15) * 128 + Int(e.pitch & 127)
            // A note-on is routed by the routing in force; a note-off like the note-on it ends
            // (by the rule only when its note-on was never seen: a key held before we started).
            let flags: UInt8
            if e.kind == .noteOn {
                flags = route(e)
                held[i] = e.source
                heldFlags[i] = flags
            } else if held[i] >= 0 {
                flags = heldFlags[i]
                held[i] = -1
                heldFlags[i] = 0
            } else {
                flags = route(e)
            }
            if flags & Self.soundedFlag != 0 {
                let out = OutputEvent.note(channel: e.channel, pitch: e.pitch, velocity: e.kind == .noteOn ? e.velocity : 0)
                for p in passthrough {
                    p.output.passthrough(out)
                    if e.kind == .noteOn { p.latency.record(nanoseconds: clock() - e.time) }
                }
            }
            if flags & Self.leftHandFlag != 0 { e.kind = e.kind == .noteOn ? .leftHandOn : .leftHandOff }
            forward(e)
        case .controller where Int(e.controller) == settings.panicController:
            e.kind = .panic
            panic()
            forward(e)
        case .controller:
            // The player's pedals and wheels go with their notes (sustain on the synth, too).
            guard e.controller < 120, (0...127).contains(e.value) else { return }
            let out = OutputEvent.controller(channel: e.channel, number: UInt8(e.controller), value: UInt8(e.value))
            for p in passthrough { p.output.passthrough(out) }
        case .clock, .start, .stop, .continue, .songPosition:
            forward(e)
        case .portStart, .portExit, .clientExit:
            if e.client != ownClient && !announcements.push(e) { dropped.add(1, ordering: .relaxed) }
        case .panic, .other, .leftHandOn, .leftHandOff:
            break
        }
    }

    /// Where a note goes by the routing in force: `leftHandFlag` (a chord key) and `soundedFlag`
    /// (passed through).
    @inline(__always)
    private func route(_ e: InputEvent) -> UInt8 {
        let left = routing.isLeftHand(channel: e.channel, pitch: e.pitch)
        return (left ? Self.leftHandFlag : 0) | (!left || routing.leftHandSound ? Self.soundedFlag : 0)
    }

    /// A command from the control thread.
    public func handle(_ command: ReaderCommand, now: Int64) {
        switch command {
        case .releaseSource(let client, let port):
            let source = client << 8 | port
            for i in 0..<(16 * 128) where held[i] == source {
                // As if the keyboard had let go: the same note-off to the passthrough and the engine.
                handle(InputEvent.note(false, channel: UInt8(i / 128), pitch: UInt8(i % 128), time: now, client: client, port: port))
            }
        }
    }

    private func forward(_ e: InputEvent) {
        if !engineInput.push(e) { dropped.add(1, ordering: .relaxed) }
    }

    /// Ends the player's sounding notes on the passthrough outputs (the engine silences its own,
    /// and on the panic it forwards lets go of the left hand's keys: `LeftHand.releaseAll`).
    private func panic() {
        for i in 0..<(16 * 128) where held[i] >= 0 {
            held[i] = -1
            let sounded = heldFlags[i] & Self.soundedFlag != 0
            heldFlags[i] = 0
            guard sounded else { continue }  // a silent left-hand key: nothing sounds
            let off = OutputEvent.note(channel: UInt8(i / 128), pitch: UInt8(i % 128), velocity: 0)
            for p in passthrough { p.output.passthrough(off) }
        }
    }

    /// At stop: every held note that was passed through ended on the passthrough outputs.
    public func releaseAll() { panic() }
}
