import Foundation

/// Why the offline synthesizer (or the soundfont lookup) failed, in one line.
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
