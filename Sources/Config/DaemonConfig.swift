import Engine
import Foundation
import Harmony
import SafeFiles

/// Everything `accompanist run` can be told, with its defaults. Configs/accompanist.toml
/// documents every key; `DaemonConfig.load` validates a file against this schema. `render` starts
/// from the defaults and sets its options through the same keys; `engineSettings` maps either to
/// the engine.
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

    /// Sets one key; unknown keys and wrong types are problems.
    public mutating func set(_ key: String, _ v: TOMLValue, line: Int? = nil) throws {
        func fail(_ m: String) -> Problem { Problem(key: key, message: m, line: line) }
        func string() throws -> String { if case .string(let s) = v { return s }; throw fail("expected a string, got \(v.typeName)") }
        func int() throws -> Int { if case .integer(let i) = v { return i }; throw fail("expected an integer, got \(v.typeName)") }
        func double() throws -> Double {
            if case .float(let d) = v { return d }
            if case .integer(let i) = v { return Double(i) }
            throw fail("expected a number, got \(v.typeName)")
        }
        func bool() throws -> Bool { if case .boolean(let b) = v { return b }; throw fail("expected true or false, got \(v.typeName)") }
        func strings() throws -> [String] {
            guard case .array(let items) = v else { throw fail("expected an array of strings, got \(v.typeName)") }
            return try items.map { if case .string(let s) = $0 { return s }; throw fail("expected an array of strings") }
        }
        func range<T: Comparable>(_ x: T, _ r: ClosedRange<T>) throws -> T {
            guard r.contains(x) else { throw fail("must be between \(r.lowerBound) and \(r.upperBound), got \(x)") }
            return x
        }
        func oneOf(_ x: String, _ options: [String]) throws -> String {
            guard options.contains(x) else { throw fail("must be one of \(options.joined(separator: ", ")), got \"\(x)\"") }
            return x
        }
        switch key {
        case "alsa.client_name":
            let s = try string()
            guard !s.isEmpty, s.utf8.count < 64 else { throw fail("must be 1 to 63 bytes long") }
            clientName = s
        case "alsa.inputs": inputs = try strings()
        case "alsa.outputs": outputs = try strings()
        case "engine.engine": engine = try oneOf(try string(), ["rules", "model"])
        case "engine.model": model = try string()
        case "engine.precision": precision = try oneOf(try string(), ["fp32", "fp16"])
        case "engine.seed": seed = UInt64(try range(try int(), 0...Int.max))
        case "engine.pattern": pattern = try oneOf(try string(), ["block", "broken", "bass-chord"])
        case "engine.temperature": temperature = try range(try double(), 0...2.0)
        case "engine.top_p": topP = try range(try double(), 0.05...1.0)
        case "engine.chord_guidance": chordGuidance = try range(try double(), 0...20)
        case "engine.listen_beats": listenBeats = try range(try int(), 0...64)
        case "engine.lowest_pitch": lowestPitch = try range(try int(), 0...127)
        case "engine.highest_pitch": highestPitch = try range(try int(), 0...127)
        case "engine.max_polyphony": maxPolyphony = try range(try int(), 1...16)
        case "engine.max_note_beats": maxNoteBeats = try range(try int(), 1...64)
        case "engine.kind_temperature": kindTemperature = try range(try double(), 0...2)
        case "engine.chord_stacking": chordStacking = try range(try double(), 1...8)
        case "engine.density": density = try range(try double(), 0.1...8)
        case "engine.off_chord_release": offChordRelease = try range(try double(), 0...1)
        case "engine.doubling_penalty": doublingPenalty = try range(try double(), 0...10)
        case "engine.confidence_density": confidenceDensity = try range(try double(), 0...8)
        case "engine.groove": groove = try range(try double(), 1...10)
        case "engine.above_melody": aboveMelody = try range(try int(), -1...48)
        case "engine.estimate_density": estimateDensity = try range(try double(), 0.1...16)
        case "engine.estimate_confidence_density": estimateConfidenceDensity = try range(try double(), 0...16)
        case "engine.estimate_chord_stacking": estimateChordStacking = try range(try double(), 1...8)
        case "engine.estimate_release": estimateRelease = try range(try double(), 0...1)
        case "engine.estimate_floor": estimateFloor = try range(try double(), 0...1)
        case "harmony.chart": chart = try string()
        case "harmony.split_note":
            switch v {
            case .integer(let n): splitNote = n < 0 ? nil : try range(n, 0...127)
            case .string(let s):
                if s.isEmpty { splitNote = nil; break }
                guard let n = NoteName.midiNote(parsing: s) else {
                    throw fail("expected a note name like \"F#3\" (C4 = 60) or a number 0-127, got \"\(s)\"")
                }
                splitNote = n
            default: throw fail("expected a note name like \"F#3\" or a number 0-127, got \(v.typeName)")
            }
        case "harmony.chord_channel": chordChannel = try range(try int(), 0...16)
        case "harmony.release_ends_chord": releaseEndsChord = try bool()
        case "harmony.left_hand_wait": leftHandWait = try range(try double(), LeftHand.waitRange)
        case "harmony.chord_mode": chordMode = try oneOf(try string(), ["fingered-on-bass", "fingered"])
        case "harmony.left_hand_sound": leftHandSound = try bool()
        case "memory.enabled": memoryEnabled = try bool()
        case "memory.directory": memoryDirectory = try string()
        case "memory.max_takes": memoryMaxTakes = try range(try int(), 1...100_000)
        case "memory.repeats": memoryRepeats = try bool()
        case "tempo.source": tempoSource = try oneOf(try string(), ["fixed", "midi-clock"])
        case "tempo.bpm": bpm = try range(try double(), 20...300)
        case "tempo.beats_per_bar": beatsPerBar = try range(try int(), 2...16)
        case "tempo.count_in_bars": countInBars = try range(try int(), 0...8)
        case "tempo.phase":
            // Removed: it only repeated what count_in_bars says. Old files get a clear way out.
            throw fail("no longer a key: tempo.count_in_bars alone chooses (0: the first melody note is beat 1); delete this line")
        case "tempo.metronome_channel": metronomeChannel = try range(try int(), 1...16)
        case "midi.accompaniment_channel": accompanimentChannel = try range(try int(), 1...16)
        case "midi.melody_passthrough": melodyPassthrough = try bool()
        case "midi.panic_cc": panicCC = try range(try int(), -1...127)
        case "midi.panic_note": panicNote = try range(try int(), -1...127)
        case "sound.enabled": soundEnabled = try bool()
        case "sound.soundfont": soundfont = try string()
        case "sound.gain": gain = try range(try double(), 0...10)
        case "sound.reverb": reverb = try bool()
        case "sound.audio_driver": audioDriver = try oneOf(try string(), ["alsa", "pulseaudio", "jack", "pipewire", "file"])
        case "sound.audio_device": audioDevice = try string()
        case "sound.period_size": periodSize = try range(try int(), 32...8192)
        case "sound.periods": periods = try range(try int(), 2...64)
        case "sound.file": audioFile = try string()
        case "sound.melody": synthMelody = try bool()
        default:
            throw fail("unknown key")
        }
    }

    /// Checks between keys.
    public func validate() throws {
        if lowestPitch >= highestPitch {
            throw Problem(key: "engine.lowest_pitch", message: "must be below engine.highest_pitch (\(highestPitch)), got \(lowestPitch)")
        }
    }
}
