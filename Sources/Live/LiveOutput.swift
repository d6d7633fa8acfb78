import Synchronization

/// One MIDI event for an output: a note (velocity 0 ends it), a controller, or All Notes Off.
public enum OutputEvent: Sendable, Equatable, BitwiseCopyable {
    case note(channel: UInt8, pitch: UInt8, velocity: UInt8)
    case controller(channel: UInt8, number: UInt8, value: UInt8)
    case allNotesOff(channel: UInt8)
}

/// Where the live path's notes go: the ALSA output port (`Sequencer`), the in-process synth
/// (`LiveSynth`), or a recording (`RecordingOutput`, for tests and the malloc benchmark). The
/// seam that lets count-in, panic, passthrough and the maximum duration be tested on a host
/// without a sequencer.
///
/// Threads: the engine thread calls `schedule`, `cancelScheduled` and `sendNow`; the reader
/// thread calls `passthrough`. No method allocates, locks a lock of ours, logs or waits.
public protocol LiveOutput: AnyObject, Sendable {
    /// For the report: "synth", "output port".
    var name: String { get }
    /// Engine thread: an accompaniment or count-in event, to sound at a queue time (ns).
    func schedule(_ event: OutputEvent, at queueTime: Int64)
    /// Engine thread: forget every event scheduled and not yet played (panic, clock Stop,
    /// shutdown). Events scheduled or sent after this call are kept.
    func cancelScheduled()
    /// Engine thread: an event now, after anything cancelled (a panic's note-offs).
    func sendNow(_ event: OutputEvent)
    /// Reader thread: the player's own note, now, never behind scheduled accompaniment.
    func passthrough(_ event: OutputEvent)
    /// Events that could not be delivered (a full ring, a failed send), since start.
    var lostEvents: Int { get }
}
