import CALSA

/// What the reader thread takes from the sequencer and hands to the engine thread (through an
/// SPSC ring) or to the control thread (announcements): a trivially copyable summary of one
/// sequencer event, with its kernel timestamp in queue time.
public struct InputEvent: Sendable, Equatable, BitwiseCopyable {
    public enum Kind: UInt8, Sendable, BitwiseCopyable {
        case noteOn, noteOff, controller, clock, start, stop, `continue`, songPosition
        /// The configured panic controller or note (the reader decides; the engine silences).
        case panic
        case portStart, portExit, clientExit, other
        /// A key of the player's left hand (below `harmony.split_note`, or on
        /// `harmony.chord_channel`): a chord key for the engine thread's `LeftHand`, not melody.
        /// The reader retags `noteOn`/`noteOff` so; the sequencer never delivers these kinds.
        case leftHandOn, leftHandOff
    }
    public var kind: Kind = .other
    public var channel: UInt8 = 0
    /// Note events.
    public var pitch: UInt8 = 0
    public var velocity: UInt8 = 0
    /// Controller events: the controller number and its value.
    public var controller: UInt32 = 0
    public var value: Int32 = 0
    /// Song Position Pointer, in 16th notes.
    public var songPosition: Int32 = 0
    /// Queue time in nanoseconds, stamped by the kernel when the event reached our port.
    public var time: Int64 = 0
    /// The sender; for announcements, the port that came or went.
    public var client: Int32 = 0
    public var port: Int32 = 0

    public init() {}

    public static func note(_ on: Bool, channel: UInt8, pitch: UInt8, velocity: UInt8 = 0, time: Int64,
                            client: Int32 = 0, port: Int32 = 0) -> InputEvent {
        var e = InputEvent()
        e.kind = on && velocity > 0 ? .noteOn : .noteOff
        e.channel = channel & 15
        e.pitch = pitch & 127
        e.velocity = on ? velocity : 0
        e.time = time
        e.client = client
        e.port = port
        return e
    }

    public static func controller(_ number: UInt32, value: Int32, channel: UInt8, time: Int64) -> InputEvent {
        var e = InputEvent()
        e.kind = .controller
        e.channel = channel & 15
        e.controller = number
        e.value = value
        e.time = time
        return e
    }

    public static func transport(_ kind: Kind, time: Int64, songPosition: Int32 = 0) -> InputEvent {
        var e = InputEvent()
        e.kind = kind
        e.time = time
        e.songPosition = songPosition
        return e
    }

    /// The sender as one number (client << 8 | port), as the reader's held-note table keeps it.
    var source: Int32 { client << 8 | port }

    init(_ e: snd_seq_event_t) {
        time = Int64(e.time.time.tv_sec) * 1_000_000_000 + Int64(e.time.time.tv_nsec)
        client = Int32(e.source.client)
        port = Int32(e.source.port)
        switch Int32(e.type) {
        case Int32(SND_SEQ_EVENT_NOTEON.rawValue):
            kind = e.data.note.velocity == 0 ? .noteOff : .noteOn
            channel = e.data.note.channel & 15
            pitch = e.data.note.note & 127
            velocity = e.data.note.velocity & 127
        case Int32(SND_SEQ_EVENT_NOTEOFF.rawValue):
            kind = .noteOff
            channel = e.data.note.channel & 15
            pitch = e.data.note.note & 127
        case Int32(SND_SEQ_EVENT_CONTROLLER.rawValue):
            kind = .controller
            channel = UInt8(truncatingIfNeeded: e.data.control.channel) & 15
            controller = e.data.control.param
            value = e.data.control.value
        case Int32(SND_SEQ_EVENT_CLOCK.rawValue): kind = .clock
        case Int32(SND_SEQ_EVENT_START.rawValue): kind = .start
        case Int32(SND_SEQ_EVENT_STOP.rawValue): kind = .stop
        case Int32(SND_SEQ_EVENT_CONTINUE.rawValue): kind = .continue
        case Int32(SND_SEQ_EVENT_SONGPOS.rawValue):
            kind = .songPosition
            songPosition = e.data.control.value
        case Int32(SND_SEQ_EVENT_PORT_START.rawValue), Int32(SND_SEQ_EVENT_PORT_EXIT.rawValue), Int32(SND_SEQ_EVENT_CLIENT_EXIT.rawValue):
            kind = Int32(e.type) == Int32(SND_SEQ_EVENT_PORT_START.rawValue) ? .portStart
                 : Int32(e.type) == Int32(SND_SEQ_EVENT_PORT_EXIT.rawValue) ? .portExit : .clientExit
            client = Int32(e.data.addr.client)
            port = Int32(e.data.addr.port)
        default:
            kind = .other
        }
    }
}
