import CFluidSynth
import Config
import Foundation
import OfflineAudio
import Synchronization

/// One note or controller for the synth, at a CLOCK_MONOTONIC time.
public struct SynthEvent: Sendable, Equatable, BitwiseCopyable {
    public enum Kind: UInt8, Sendable, BitwiseCopyable { case note, controller, allNotesOff }
    public var kind: Kind
    public var channel: UInt8
    public var a: UInt8
    /// Velocity (0 = note off) or controller value.
    public var b: UInt8
    public var time: Int64

    public init(kind: Kind, channel: UInt8, a: UInt8, b: UInt8, time: Int64) {
        self.kind = kind
        self.channel = channel
        self.a = a
        self.b = b
        self.time = time
    }
}

public enum LiveSynthError: Error, CustomStringConvertible {
    case setup(String)
    public var description: String { switch self { case .setup(let s): return s } }
}

/// In-process FluidSynth with an audio driver, fed by its own scheduler thread.
///
/// Threads: the engine thread pushes `SynthEvent`s into `ring` (it is the only producer); the
/// scheduler thread (the only consumer) waits until each event's time and hands it to the synth;
/// FluidSynth's audio driver thread renders. The control thread creates and destroys it.
public final class LiveSynth: @unchecked Sendable {
    // @unchecked Sendable: the FluidSynth objects are used by the scheduler thread only between
    // start() and stop(); the ring and the flags are the only shared state, and they are atomic.
    private let settings: OpaquePointer
    private let synth: OpaquePointer
    private var driver: OpaquePointer? = nil
    public let ring = SPSCRing<SynthEvent>(capacity: 4096)
    private let running = Atomic<Bool>(false)
    private var thread: RealtimeThread? = nil
    public let soundfont: String
    public let driverName: String

    public init(config: DaemonConfig, soundfont: String) throws {
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

    public var realtimeResult: RealtimeResult? { thread.flatMap { RealtimeResult(rawValue: $0.result.load(ordering: .acquiring)) } }

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

    /// The scheduler thread: no allocation, no lock of ours, no logging.
    private func schedulerLoop() {
        while running.load(ordering: .acquiring) {
            let now = monotonicNanoseconds()
            var next = now + 1_000_000  // look at the ring again within 1 ms
            while let e = ring.peek() {
                if e.time > now {
                    next = min(next, e.time)
                    break
                }
                _ = ring.pop()
                apply(e)
            }
            sleepUntil(monotonic: next)
        }
        // Drain what is left without playing it.
        while ring.pop() != nil {}
    }

    @inline(__always)
    private func apply(_ e: SynthEvent) {
        switch e.kind {
        case .note:
            if e.b > 0 { fluid_synth_noteon(synth, Int32(e.channel), Int32(e.a), Int32(e.b)) }
            else { fluid_synth_noteoff(synth, Int32(e.channel), Int32(e.a)) }
        case .controller:
            fluid_synth_cc(synth, Int32(e.channel), Int32(e.a), Int32(e.b))
        case .allNotesOff:
            fluid_synth_all_notes_off(synth, Int32(e.channel))
        }
    }
}
