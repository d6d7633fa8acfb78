import Engine
import Foundation
import Harmony
import SafeFiles

/// Everything `accompanist run` can be told, with its defaults (each property's initial value).
/// Each key is declared once, in `Settings.all`, which gives its type, range, help and options;
/// Configs/accompanist.toml and docs/config.md are generated from it. `DaemonConfig.load`
/// validates a file against it; `render` starts from the defaults and sets its options through
/// the same keys; `engineSettings` maps either to the engine.
public struct DaemonConfig: Equatable, Sendable {
    // [alsa]
    public var clientName = "Accompanist"
    /// Input sources to connect: "all-hardware", or names matched against "client:port",
    /// "client" or "port" (case-insensitive substring), or "client:port" numbers.
    public var inputs: [String] = ["all-hardware"]
    /// Destinations for the output port, matched the same way.
    public var outputs: [String] = []

    // [engine]
    public var engine = "model"
    public var model = ""
    /// Storage of the model's weights: "fp32" or "fp16".
    public var precision = "fp16"
    public var seed: UInt64 = 0
    public var pattern = "bass-chord"
    /// Sampling temperature; 0 samples greedily (as `render --temperature 0`).
    public var temperature = 0.5
    public var topP = 0.95
    public var chordGuidance = Double(NeuralConfiguration.defaultChordGuidance)
    public var listenBeats = 0
    public var lowestPitch = 21
    public var highestPitch = 108
    public var maxPolyphony = 10
    public var maxNoteBeats = 8
    public var kindTemperature = Double(NeuralConfiguration.defaultKindTemperature)
    public var chordStacking = Double(NeuralConfiguration.defaultChordStacking)
    public var density = 1.35  // NeuralConfiguration.defaultDensity (a Float: written out so the TOML value compares equal)
    public var offChordRelease = 0.45  // NeuralConfiguration.defaultOffChordRelease (a Float: written out so the TOML value compares equal)
    public var doublingPenalty = Double(NeuralConfiguration.defaultDoublingPenalty)
    public var confidenceDensity = Double(NeuralConfiguration.defaultConfidenceDensity)
    public var groove = Double(NeuralConfiguration.defaultGroove)
    public var aboveMelody = NeuralConfiguration.defaultAboveMelody
    public var estimateDensity = Double(NeuralConfiguration.defaultEstimateDensity)
    public var estimateConfidenceDensity = Double(NeuralConfiguration.defaultEstimateConfidenceDensity)
    public var estimateChordStacking = Double(NeuralConfiguration.defaultEstimateChordStacking)
    public var estimateRelease = Double(NeuralConfiguration.defaultEstimateRelease)
    public var estimateFloor = 0.55  // NeuralConfiguration.defaultEstimateFloor (a Float: written out so the TOML value compares equal)

    // [tempo]
    /// "fixed" or "midi-clock".
    public var tempoSource = "fixed"
    public var bpm = 100.0
    public var beatsPerBar = 4
    public var countInBars = 0
    public var metronomeChannel = 10

    // [midi]
    public var accompanimentChannel = 2
    public var melodyPassthrough = false
    /// The controller number that silences everything (panic), or -1 for none.
    public var panicCC = 120  // "All Sound Off"
    /// A note that triggers panic, or -1 for none.
    public var panicNote = -1

    // [sound]
    public var soundEnabled = true
    public var soundfont = ""
    public var gain = 0.5
    public var reverb = true
    public var audioDriver = "alsa"
    public var audioDevice = ""
    public var periodSize = 256
    public var periods = 2
    public var audioFile = "accompanist.wav"
    public var synthMelody = true

    // [harmony] (docs/harmony.md)
    /// A chord chart file; empty: none.
    public var chart = ""
    /// Keys of the input below this note are the left hand's chord, not melody; nil: no split.
    public var splitNote: Int?
    /// A MIDI channel (1-16) whose notes are the left hand's chord (a second keyboard, a DAW's
    /// chord track); 0: none.
    public var chordChannel = 0
    /// Letting go of every left-hand key ends its chord (the melody decides again); otherwise a
    /// chord holds until the next, as on an arranger.
    public var releaseEndsChord = false
    /// Grid steps a left-hand key may come after a step's time and still count for that step:
    /// the accompaniment of a left hand sounds that much later (docs/harmony.md, "The left
    /// hand's wait"). −0.5: no wait, the melody's rule.
    public var leftHandWait = LeftHand.defaultWait
    /// "fingered-on-bass" (the lowest key is the bass: C/E) or "fingered".
    public var chordMode = "fingered-on-bass"
    /// The left hand's keys sound too (passed through to the synth and the output port).
    public var leftHandSound = false

    // [memory] (docs/memory.md)
    /// Every performance is stored as a take in the rehearsal memory.
    public var memoryEnabled = true
    /// The memory's directory; empty: the state directory (`MemoryStore.defaultDirectory`).
    public var memoryDirectory = ""
    /// The most takes kept; the oldest are forgotten first.
    public var memoryMaxTakes = 500
    /// Repetition within a take is followed (docs/memory.md, "Within a take"), with the memory
    /// enabled or not.
    public var memoryRepeats = true

    /// The expert keys (the sampling constants) a user gave, in the config file or on the
    /// command line: they override the values the model carries (`ModelSampling`); the others
    /// come from the model, else from the defaults above (`engineSettings(modelSampling:)`).
    /// Not a setting itself.
    public var expertKeysGiven: Set<String> = []

    public init() {}

    /// Exit code for a bad configuration (sysexits.h EX_CONFIG).
    public static let exitCode: Int32 = 78

    public struct Problem: Error, Equatable, CustomStringConvertible {
        public var key: String
        public var message: String
        public var line: Int?
        /// Safe to print: the key and the message (which may quote a value) are escaped and cut.
        public var description: String { (line.map { "line \($0): " } ?? "") + "\(Echo.text(key)): \(Echo.text(message, limit: 400))" }
    }

    /// Reads and validates a config file: the first problem is thrown.
    public static func load(path: String) throws -> DaemonConfig {
        let text: String
        do { text = try InputFile.readUTF8(path, limit: 1 << 20) } catch {
            throw Problem(key: "config file", message: error.reason)
        }
        return try parse(text)
    }

    public static func parse(_ text: String) throws -> DaemonConfig {
        let entries: [TOMLEntry]
        do { entries = try TOMLReader.parse(text) } catch let e as TOMLError {
            throw Problem(key: "syntax", message: e.message, line: e.line)
        }
        var c = DaemonConfig()
        for e in entries { try c.set(e.path, e.value, line: e.line) }
        try c.validate()
        return c
    }

    /// Sets one key through its declaration (`Settings.all`); unknown keys, wrong types and
    /// values out of range are problems that name the key.
    public mutating func set(_ key: String, _ v: TOMLValue, line: Int? = nil) throws {
        if let way = Settings.retired[key] { throw Problem(key: key, message: way, line: line) }
        guard let setting = Settings.byKey[key] else { throw Problem(key: key, message: "unknown key", line: line) }
        do { try setting.set(&self, v) } catch { throw Problem(key: key, message: error.message, line: line) }
    }

    /// Checks between keys.
    public func validate() throws {
        if lowestPitch >= highestPitch {
            throw Problem(key: "engine.lowest_pitch", message: "must be below engine.highest_pitch (\(highestPitch)), got \(lowestPitch)")
        }
    }
}
