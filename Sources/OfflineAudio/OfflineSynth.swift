import CFluidSynth
import Foundation
import MIDI

/// Renders a MIDI file to a WAV file with libfluidsynth, offline (as fast as the CPU allows).
public enum OfflineSynth {
    public struct Options: Sendable {
        public var sampleRate: Int = 44_100
        public var gain: Double = 0.5
        /// Seconds rendered after the last event, for release and reverb tails.
        public var tail: Double = 2.0
        public init() {}
    }

    /// Returns the number of sample frames written.
    @discardableResult
    public static func renderWAV(_ file: MIDIFile, soundfont: String, to url: URL, options: Options = Options()) throws -> Int {
        try Soundfonts.checkHeader(soundfont)
        FluidSynthLog.silence()
        guard let settings = new_fluid_settings() else { throw SynthError.fluidsynth("cannot create settings") }
        defer { delete_fluid_settings(settings) }
        fluid_settings_setnum(settings, "synth.sample-rate", Double(options.sampleRate))
        fluid_settings_setnum(settings, "synth.gain", options.gain)
        // Offline rendering must not depend on the machine's speed: render every voice.
        fluid_settings_setint(settings, "synth.cpu-cores", 1)
        guard let synth = new_fluid_synth(settings) else { throw SynthError.fluidsynth("cannot create a synthesizer") }
        defer { delete_fluid_synth(synth) }
        if fluid_synth_sfload(synth, soundfont, 1) == FLUID_FAILED { throw SynthError.soundfontUnreadable(soundfont) }

        // Every channel event of every track, in time order (stable across tracks).
        let tempo = file.tempoMap
        var events: [(seconds: Double, order: Int, kind: TrackEvent.Kind)] = []
        var order = 0
        for t in file.tracks {
            for e in t.events {
                switch e.kind {
                case .noteOn, .noteOff, .programChange, .controlChange, .pitchBend:
                    events.append((tempo.seconds(atTick: e.tick), order, e.kind))
                    order += 1
                default: break
                }
            }
        }
        events.sort { ($0.seconds, $0.order) < ($1.seconds, $1.order) }
        let totalSeconds = (events.last?.seconds ?? 0) + options.tail
        let frameCount = (totalSeconds * Double(options.sampleRate)).rounded(.up)
        guard frameCount.isFinite, frameCount <= Double(WAVWriter.maximumDataBytes / 4) else {
            throw SynthError.tooLongForWAV(seconds: totalSeconds, sampleRate: options.sampleRate)
        }
        let totalFrames = Int(frameCount)

        // Rendered and written a chunk at a time: memory stays flat however long the music is.
        let out = try WAVWriter(url: url, channels: 2, sampleRate: options.sampleRate, frames: totalFrames)
        let chunkFrames = 4096
        var chunk = [Int16](repeating: 0, count: chunkFrames * 2)  // (chunkFrames, 2) interleaved stereo
        var written = 0
        func renderUntil(_ frame: Int) throws {
            let target = min(frame, totalFrames)
            while written < target {
                let n = min(chunkFrames, target - written)
                try chunk.withUnsafeMutableBufferPointer { buf in
                    let base = UnsafeMutableRawPointer(buf.baseAddress!)
                    _ = fluid_synth_write_s16(synth, Int32(n), base, 0, 2, base, 1, 2)
                    try out.append(UnsafeBufferPointer(rebasing: buf[0..<(n * 2)]))
                }
                written += n
            }
        }
        do {
            for e in events {
                try renderUntil(Int((e.seconds * Double(options.sampleRate)).rounded()))
                switch e.kind {
                case .noteOn(let c, let k, let v): fluid_synth_noteon(synth, Int32(c), Int32(k), Int32(v))
                case .noteOff(let c, let k, _): fluid_synth_noteoff(synth, Int32(c), Int32(k))
                case .programChange(let c, let p): fluid_synth_program_change(synth, Int32(c), Int32(p))
                case .controlChange(let c, let n, let v): fluid_synth_cc(synth, Int32(c), Int32(n), Int32(v))
                case .pitchBend(let c, let v): fluid_synth_pitch_bend(synth, Int32(c), Int32(v))
                default: break
                }
            }
            try renderUntil(totalFrames)
            try out.finish()
        } catch {
            out.abandon()
            throw error
        }
        return totalFrames
    }

    /// A 16-bit PCM RIFF/WAVE file of `samples` (interleaved by channel).
    static func writeWAV(_ samples: [Int16], channels: Int, sampleRate: Int, to url: URL) throws {
        let out = try WAVWriter(url: url, channels: channels, sampleRate: sampleRate, frames: samples.count / channels)
        do {
            try samples.withUnsafeBufferPointer { try out.append($0) }
            try out.finish()
        } catch {
            out.abandon()
            throw error
        }
    }
}
