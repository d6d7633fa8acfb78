import CFluidSynth
import Foundation
import MIDI

public enum SynthError: Error, Equatable, CustomStringConvertible {
    case soundfontNotFound(String)
    case soundfontUnreadable(String)
    case noDefaultSoundfont(searched: [String])
    case fluidsynth(String)
    case cannotWrite(String, String)
    /// The audio would not fit in a WAV file (its sizes are 32-bit: 4 GiB of samples).
    case tooLongForWAV(seconds: Double, sampleRate: Int)

    public var description: String {
        switch self {
        case .soundfontNotFound(let p): return "soundfont not found: \(p)"
        case .soundfontUnreadable(let p): return "could not load the soundfont \(p): not a readable SoundFont 2 file"
        case .noDefaultSoundfont(let searched):
            return "no soundfont given and none of the default ones exists (\(searched.joined(separator: ", "))); install timgm6mb-soundfont (scripts/setup.sh does) or pass --soundfont PATH"
        case .fluidsynth(let what): return "FluidSynth: \(what)"
        case .cannotWrite(let p, let why): return "cannot write \(p): \(why)"
        case .tooLongForWAV(let seconds, let rate):
            return String(format: "%.1f hours of audio at %d Hz do not fit in a WAV file (4 GiB at most: %.1f hours); use a lower --sample-rate or leave out --wav",
                          seconds / 3600, rate, Double(WAVWriter.maximumDataBytes) / Double(rate * 4) / 3600)
        }
    }
}

/// Where a General MIDI soundfont is found on Debian, in order of preference.
public enum Soundfonts {
    public static let defaultPaths = [
        "/usr/share/sounds/sf2/default-GM.sf2",   // Debian's alternatives link
        "/usr/share/sounds/sf2/TimGM6mb.sf2",     // timgm6mb-soundfont (installed by scripts/setup.sh)
        "/usr/share/sounds/sf2/FluidR3_GM.sf2",   // fluid-soundfont-gm
    ]

    /// The given path (which must exist), or the first default that exists.
    public static func resolve(_ path: String?) throws -> String {
        if let path {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDir), !isDir.boolValue else {
                throw SynthError.soundfontNotFound(path)
            }
            try checkHeader(path)
            return path
        }
        guard let found = defaultPaths.first(where: { FileManager.default.fileExists(atPath: $0) }) else {
            throw SynthError.noDefaultSoundfont(searched: defaultPaths)
        }
        try checkHeader(found)
        return found
    }

    /// A SoundFont 2 file is a RIFF file of form `sfbk` (FluidSynth's loader, handed anything
    /// else, prints assertion failures of its own before it fails).
    static func checkHeader(_ path: String) throws {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw SynthError.soundfontUnreadable(path) }
        defer { try? handle.close() }
        let head = (try? handle.read(upToCount: 12)) ?? Data()
        guard head.count == 12, head.prefix(4) == Data("RIFF".utf8), head.suffix(4) == Data("sfbk".utf8) else {
            throw SynthError.soundfontUnreadable(path)
        }
    }
}

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

/// Writes a 16-bit PCM RIFF/WAVE file of a known length a piece at a time, into a temporary file
/// beside the destination that replaces it only when complete: a failure (a full disk) leaves
/// any earlier file at the destination as it was.
final class WAVWriter {
    /// The data chunk's size is a UInt32, and the RIFF size (data + 36) too.
    static let maximumDataBytes = Int(UInt32.max) - 36

    private let url: URL
    private let temporary: URL
    private let handle: FileHandle
    private let expectedBytes: Int
    private var bytesWritten = 0

    init(url: URL, channels: Int, sampleRate: Int, frames: Int) throws {
        let dataBytes = frames * channels * 2
        guard dataBytes <= WAVWriter.maximumDataBytes else {
            throw SynthError.tooLongForWAV(seconds: Double(frames) / Double(sampleRate), sampleRate: sampleRate)
        }
        self.url = url
        expectedBytes = dataBytes
        temporary = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).partial-\(getpid())")
        guard FileManager.default.createFile(atPath: temporary.path, contents: nil),
              let handle = FileHandle(forWritingAtPath: temporary.path)
        else { throw SynthError.cannotWrite(url.path, String(cString: strerror(errno))) }
        self.handle = handle
        var header = Data(capacity: 44)
        func u32(_ v: Int) { withUnsafeBytes(of: UInt32(v).littleEndian) { header.append(contentsOf: $0) } }
        func u16(_ v: Int) { withUnsafeBytes(of: UInt16(v).littleEndian) { header.append(contentsOf: $0) } }
        header.append(contentsOf: Array("RIFF".utf8)); u32(36 + dataBytes)
        header.append(contentsOf: Array("WAVE".utf8))
        header.append(contentsOf: Array("fmt ".utf8)); u32(16); u16(1); u16(channels); u32(sampleRate)
        u32(sampleRate * channels * 2); u16(channels * 2); u16(16)
        header.append(contentsOf: Array("data".utf8)); u32(dataBytes)
        do { try handle.write(contentsOf: header) } catch {
            abandon()
            throw SynthError.cannotWrite(url.path, error.localizedDescription)
        }
    }

    /// Appends samples (host order; written little-endian).
    func append(_ samples: UnsafeBufferPointer<Int16>) throws {
        var bytes = Data(count: samples.count * 2)
        bytes.withUnsafeMutableBytes { raw in
            let out = raw.bindMemory(to: Int16.self)
            for i in 0..<samples.count { out[i] = samples[i].littleEndian }
        }
        do { try handle.write(contentsOf: bytes) } catch {
            throw SynthError.cannotWrite(url.path, error.localizedDescription)
        }
        bytesWritten += bytes.count
    }

    /// Closes the file and moves it to the destination.
    func finish() throws {
        precondition(bytesWritten == expectedBytes, "WAVWriter: \(bytesWritten) bytes of samples written, the header says \(expectedBytes)")
        do {
            try handle.synchronize()
            try handle.close()
            if rename(temporary.path, url.path) != 0 { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        } catch {
            abandon()
            throw SynthError.cannotWrite(url.path, error.localizedDescription)
        }
    }

    /// Closes and deletes the temporary file (the destination is untouched).
    func abandon() {
        try? handle.close()
        unlink(temporary.path)
    }
}

/// FluidSynth prints its own messages to stderr; our errors already say what went wrong, in one
/// line, so its messages are dropped.
enum FluidSynthLog {
    static func silence() {
        let drop: fluid_log_function_t = { _, _, _ in }
        for level in [FLUID_PANIC, FLUID_ERR, FLUID_WARN, FLUID_INFO, FLUID_DBG] {
            _ = fluid_set_log_function(Int32(level.rawValue), drop, nil)
        }
    }
}
