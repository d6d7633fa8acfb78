import CFluidSynth
import Config
import Foundation
import OfflineAudio
import Realtime
import Synchronization

/// An event for the synth's scheduler, at a queue time.
public struct SynthEvent: Sendable, Equatable, BitwiseCopyable {
    public var event: OutputEvent
    /// Queue time in nanoseconds (QueueClock).
    public var time: Int64

    public init(_ event: OutputEvent, at time: Int64) {
        self.event = event
        self.time = time
    }
}

public enum LiveSynthError: Error, CustomStringConvertible {
    case setup(String)
    public var description: String { switch self { case .setup(let s): return s } }
}

/// In-process FluidSynth with an audio driver: the accompaniment through its own scheduler
/// thread, the player's notes at once.
///
/// Threads:
/// - the engine thread is the only producer of `scheduled` (`schedule`, `sendNow`) and the only
///   writer of `cancelMark` (`cancelScheduled`);
/// - the scheduler thread ("acc-synth", real-time) is the only consumer of `scheduled`: it waits
///   until each event's queue time, hands it to FluidSynth and records how late that was;
/// - the reader thread calls `passthrough`, which calls FluidSynth at once, so a key never waits
///   behind scheduled accompaniment; it also records that latency (InputReader);
/// - FluidSynth's audio driver thread renders; the control thread creates, starts and stops.
/// FluidSynth's API serialises the reader's and the scheduler thread's calls with its own mutex
/// (synth.threadsafe-api), held for the few microseconds of a note call; the audio thread takes
/// the resulting voice events from FluidSynth's own lock-free queue when it renders (FluidSynth
/// 2.x, fluid_synth_render_blocks). That mutex is the one lock on the live path, and not ours.
public final class LiveSynth: LiveOutput, @unchecked Sendable {
    // @unchecked Sendable: the FluidSynth objects are used as above (FluidSynth locks its API);
    // the ring, the cancel mark and the counters are the only other shared state, all atomic.
    private let settings: OpaquePointer
    private let synth: OpaquePointer
    private var driver: OpaquePointer? = nil
    public let name = "synth"
    /// Accompaniment and count-in events in queue-time order, engine thread → scheduler thread.
    private let scheduled = SPSCRing<SynthEvent>(capacity: 4096)
    /// `scheduled` events pushed before this position are dropped unplayed (cancelScheduled).
    private let cancelMark = Atomic<Int>(0)
    private let lost = Atomic<Int>(0)
    private let running = Atomic<Bool>(false)
    private let clock: QueueClock
    /// How late each scheduled event reached FluidSynth (scheduler thread records).
    public let lateness = LatencyHistogram(name: "accompaniment at the synth")
    public private(set) var thread: RealtimeThread? = nil
    public let soundfont: String
    public let driverName: String

    public init(config: DaemonConfig, soundfont: String, clock: QueueClock) throws {
        self.clock = clock
        FluidSynthLog.silence()
        guard let s = new_fluid_settings() else { throw LiveSynthError.setup("FluidSynth: cannot create settings") }
        settings = s
        fluid_settings_setnum(s, "synth.gain", config.gain)
        fluid_settings_setint(s, "synth.reverb.active", config.reverb ? 1 : 0)
        fluid_settings_setstr(s, "audio.driver", config.audioDriver)
        fluid_settings_setint(s, "audio.period-size", Int32(config.periodSize))
        fluid_settings_setint(s, "audio.periods", Int32(config.periods))
        if config.audioDriver == "file" { fluid_settings_setstr(s, "audio.file.name", config.audioFile) }
        if !config.audioDevice.isEmpty {
            fluid_settings_setstr(s, "audio.\(config.audioDriver == "pulseaudio" ? "pulseaudio" : "alsa").device", config.audioDevice)
        }
        guard let syn = new_fluid_synth(s) else {
            delete_fluid_settings(s)
            throw LiveSynthError.setup("FluidSynth: cannot create a synthesizer")
        }
        synth = syn
        self.soundfont = soundfont
        driverName = config.audioDriver
        if fluid_synth_sfload(syn, soundfont, 1) == FLUID_FAILED {
            delete_fluid_synth(syn)
            delete_fluid_settings(s)
            throw LiveSynthError.setup("FluidSynth could not load the soundfont \(soundfont)")
        }
    }

    deinit {
        stop()
        if let d = driver { delete_fluid_audio_driver(d) }
        delete_fluid_synth(synth)
        delete_fluid_settings(settings)
    }

    /// Starts the audio driver and the scheduler thread.
    public func start(realtimePriority: Int32) throws {
        guard let d = new_fluid_audio_driver(settings, synth) else {
            throw LiveSynthError.setup("FluidSynth could not start the \"\(driverName)\" audio driver (is the device there and free?)")
        }
        driver = d
        running.store(true, ordering: .releasing)
        let t = RealtimeThread(name: "acc-synth", priority: realtimePriority) { [self] in schedulerLoop() }
        thread = t
        try t.start()
    }

    /// Stops the scheduler thread and silences every channel.
    public func stop() {
        guard running.exchange(false, ordering: .acquiringAndReleasing) else { return }
        thread?.join()
        thread = nil
        for c in 0..<16 { fluid_synth_all_notes_off(synth, Int32(c)) }
    }

    public func setProgram(channel: Int, program: Int) {
        fluid_synth_program_change(synth, Int32(channel), Int32(program))
    }

    // MARK: LiveOutput

    public func schedule(_ event: OutputEvent, at queueTime: Int64) {
        if !scheduled.push(SynthEvent(event, at: queueTime)) { lost.add(1, ordering: .relaxed) }
    }

    public func cancelScheduled() {
        cancelMark.store(scheduled.produced, ordering: .releasing)
    }

    public func sendNow(_ event: OutputEvent) {
        if !scheduled.push(SynthEvent(event, at: .min)) { lost.add(1, ordering: .relaxed) }
    }

    public func passthrough(_ event: OutputEvent) { apply(event) }

    public var lostEvents: Int { lost.load(ordering: .relaxed) }

    /// The scheduler thread: no allocation, no lock of ours, no logging.
    private func schedulerLoop() {
        while running.load(ordering: .acquiring) {
            let mark = cancelMark.load(ordering: .acquiring)
            while scheduled.consumed < mark, scheduled.pop() != nil {}
            let now = clock.now()
            var next = now + 1_000_000  // look at the ring again within 1 ms
            while let e = scheduled.peek() {
                if e.time > now {
                    next = min(next, e.time)
                    break
                }
                _ = scheduled.pop()
                apply(e.event)
                if e.time != .min { lateness.record(nanoseconds: clock.now() - e.time) }
            }
            clock.sleep(until: next)
        }
        // Drain what is left without playing it.
        while scheduled.pop() != nil {}
    }

    @inline(__always)
    private func apply(_ e: OutputEvent) {
        switch e {
        case .note(let channel, let pitch, let velocity):
            if velocity > 0 { fluid_synth_noteon(synth, Int32(channel), Int32(pitch), Int32(velocity)) }
            else { fluid_synth_noteoff(synth, Int32(channel), Int32(pitch)) }
        case .controller(let channel, let number, let value):
            fluid_synth_cc(synth, Int32(channel), Int32(number), Int32(value))
        case .allNotesOff(let channel):
            fluid_synth_all_notes_off(synth, Int32(channel))
        }
    }
}
