import Config
import Foundation
import Live
import OfflineAudio
import Realtime

extension BenchRun {
    /// The player's-note path on this host, without a sequencer: from the moment an event reaches
    /// the reader's code to the return of `fluid_synth_noteon`, with FluidSynth's file driver
    /// rendering in real time beside it (its audio thread takes the same API mutex, as a sound
    /// card's would). The daemon measures the whole path, from the kernel's timestamp, into the
    /// same histogram and logs it at stop; this is the part that is ours.
    static func passthrough(notes: Int) throws {
        print("\n[passthrough: a key to FluidSynth on the reader thread, this host (no kernel hop)]")
        var config = DaemonConfig()
        config.audioDriver = "file"
        let wav = FileManager.default.temporaryDirectory.appendingPathComponent("accompanist-bench-\(getpid()).wav").path
        config.audioFile = wav
        defer { try? FileManager.default.removeItem(atPath: wav) }
        let font: String
        do { font = try Soundfonts.resolve(nil) } catch { print("  skipped: \(error)"); return }
        let clock = QueueClock(offset: monotonicNanoseconds())
        let synth = try LiveSynth(config: config, soundfont: font, clock: clock)
        try synth.start(realtimePriority: 0)
        defer { synth.stop() }
        let engineInput = SPSCRing<InputEvent>(capacity: 64)
        let reader = InputReader(settings: InputReader.Settings(), passthrough: [.init(synth)], ownClient: -1,
                                 engineInput: engineInput, clock: { clock.now() })
        for i in 0..<notes {
            let pitch = UInt8(48 + i % 36)
            reader.handle(.note(true, channel: 0, pitch: pitch, velocity: 90, time: clock.now()))
            usleep(2_000)
            reader.handle(.note(false, channel: 0, pitch: pitch, time: clock.now()))
            while engineInput.pop() != nil {}
        }
        print("  reader → fluid_synth_noteon returned: \(reader.passthrough[0].latency.describe(unit: "notes"))")
    }
}
