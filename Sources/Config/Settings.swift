import Harmony

/// Every setting of Accompanist, declared once (see `Setting`). The order is the config file's:
/// a musician's sections first (ports, tempo, MIDI, sound, harmony, memory), then the engine,
/// whose expert sampling constants come last.
public enum Settings {
    /// What a section of the config file is for, printed above it (Configs/accompanist.toml,
    /// docs/config.md).
    public static let sections: [(name: String, intro: String)] = [
        ("alsa", "The ALSA sequencer client: its name, and the ports it connects to."),
        ("tempo", "Where the beat comes from, and how bars are counted."),
        ("midi", "MIDI channels and the panic controls."),
        ("sound", "The in-process FluidSynth."),
        ("harmony", """
            The chords the accompaniment follows besides the melody (docs/harmony.md, "Live: split point, \
            chord channel and chart"). With none of chart, split_note or chord_channel set, the chords come \
            from the melody alone.
            """),
        ("memory", """
            The rehearsal memory (docs/memory.md): every performance is stored as a take (its melody, the \
            chords the chart or left hand gave, else those hindsight hears in it), to be recognized when the \
            song comes back: then the daemon follows the chords it learned (a chart or left hand played now \
            still wins), planning each beat a beat ahead, as `accompanist render --memory DIR` does. Manage \
            the takes with `accompanist memory list|show|forget`.
            """),
        ("engine", "The accompanist itself: which engine, its model, its seed and its limits."),
    ]

    /// Said above the first expert setting of the config file.
    public static let expertNote = """
        Expert: the model engine's sampling constants. A model carries the values it was tuned with \
        (the shipped one: chosen on validation songs, Models/README.md, "Sampling settings"), and a \
        musician need not change them. A key set here overrides the model's value; the values shown \
        (commented out) are the built-in ones, for a model that carries none.
        """

    /// Keys that were removed, with what to do instead (an old config file gets a clear way out).
    public static let retired: [String: String] = [
        "tempo.phase": "no longer a key: tempo.count_in_bars alone chooses (0: the first melody note is beat 1); delete this line",
    ]

    /// The table.
    public static let all: [Setting] = [
        // [alsa]
        Setting(key: "alsa.client_name", kind: .text, audience: .musician,
                help: "Name of the ALSA sequencer client, as `aconnect -l` and DAWs show it (1 to 63 bytes).",
                detail: "", example: nil, options: Setting.options(render: nil, run: "client-name"),
                assign: { (c: inout DaemonConfig, v: TOMLValue) throws(Setting.Invalid) in
                    let s = try Setting.string(v)
                    guard !s.isEmpty, s.utf8.count < 64 else { throw Setting.Invalid(message: "must be 1 to 63 bytes long") }
                    c.clientName = s
                },
                read: { .string($0.clientName) }),
        .list("alsa.inputs", \.inputs, .musician, "Keyboards to connect to the input port.", detail: """
            By name: "client:port" names or numbers, a client or port name, or a case-insensitive part of \
            "client name:port name". "all-hardware" connects every hardware MIDI source (not Midi Through). \
            Matching ports that appear later (a keyboard plugged in) are connected then. A list may run over \
            several lines, with comments and a comma after the last item:
              inputs = [
                  "Keystation",  # the big one
                  "nanoKEY",
              ]
            """),
        .list("alsa.outputs", \.outputs, .musician, "Destinations for the output port (a DAW's input, a synth), matched the same way."),

        // [tempo]
        .choice("tempo.source", \.tempoSource, ["fixed", "midi-clock"], .musician,
                "Where the beat comes from: \"fixed\" (bpm below) or \"midi-clock\".", detail: """
                "midi-clock": a 24 PPQN clock, Start/Stop/Continue and Song Position Pointer on the input port, \
                as a DAW sends it.
                """, run: "tempo-source"),
        .number("tempo.bpm", \.bpm, 20...300, .musician, "Fixed tempo in beats (quarter notes) per minute.", run: "bpm"),
        .integer("tempo.beats_per_bar", \.beatsPerBar, 2...16, .musician, "Beats per bar: 4 for 4/4, 3 for 3/4 and 6/8.",
                 run: "beats-per-bar"),
        .integer("tempo.count_in_bars", \.countInBars, 0...8, .musician,
                 "Bars of count-in on the metronome channel before beat 1; 0: the first melody note is beat 1 of bar 1.",
                 run: "count-in"),
        .integer("tempo.metronome_channel", \.metronomeChannel, 1...16, .musician,
                 "MIDI channel of the count-in clicks (10 is General MIDI percussion)."),

        // [midi]
        .integer("midi.accompaniment_channel", \.accompanimentChannel, 1...16, .musician,
                 "MIDI channel of the accompaniment on the output port and in the synth."),
        .flag("midi.melody_passthrough", \.melodyPassthrough, .musician, "Also send the melody to the output port (for a DAW recording both)."),
        .integer("midi.panic_cc", \.panicCC, -1...127, .musician, "Controller number that silences everything (120 is \"All Sound Off\"); -1: none."),
        .integer("midi.panic_note", \.panicNote, -1...127, .musician, "A note number that silences everything; -1: none."),

        // [sound]
        .flag("sound.enabled", \.soundEnabled, .musician, "Play through the in-process FluidSynth (false: MIDI out only)."),
        .text("sound.soundfont", \.soundfont, .musician, "SoundFont 2 file; empty: Debian's General MIDI soundfont.", detail: """
            The default is /usr/share/sounds/sf2/default-GM.sf2 (TimGM6mb or FluidR3_GM). If the file cannot be \
            loaded the daemon runs on with MIDI out only, and says so.
            """, run: "soundfont"),
        .number("sound.gain", \.gain, 0...10, .musician, "Output gain."),
        .flag("sound.reverb", \.reverb, .musician, "FluidSynth's reverb."),
        .choice("sound.audio_driver", \.audioDriver, ["alsa", "pulseaudio", "jack", "pipewire", "file"], .musician,
                "FluidSynth's audio driver.", run: "audio-driver"),
        .text("sound.audio_device", \.audioDevice, .musician, "Device for the alsa or pulseaudio driver; empty: the default device."),
        .integer("sound.period_size", \.periodSize, 32...8192, .musician, "Audio period size in frames: latency against safety."),
        .integer("sound.periods", \.periods, 2...64, .musician, "Number of audio periods."),
        .text("sound.file", \.audioFile, .musician, "Output file of the \"file\" driver.", run: "audio-file"),
        .flag("sound.melody", \.synthMelody, .musician, "Also play the melody through the synth."),

        // [harmony]
        .text("harmony.chart", \.chart, .musician, "A chord chart file (docs/harmony.md); empty: no chart.", detail: """
            Bars of chord symbols between "|", laid on tempo.beats_per_bar. Bar 1 of the chart is bar 1 of the \
            performance: the first key played (fixed tempo, no count-in), the beat after the count-in, or song \
            position 0 of an external MIDI clock. Past its last bar the chords come from the left hand, else the \
            melody (the log says when). Read at start: a bad chart stops the daemon with one line naming the \
            file, line and cell (exit 65), a missing one with exit 66. A relative path is taken from the \
            daemon's working directory (the systemd units: /), so give an absolute one.
            """, example: "\"/etc/accompanist/charts/autumn-leaves.chart\""),
        Setting(key: "harmony.split_note", kind: .note, audience: .musician,
                help: "Split point: keys below this note are the left hand, read as chords, not melody; \"\" or -1: no split.",
                detail: "A note name (C4 = middle C = 60; \"F#3\", \"Bb2\") or a number 0-127, as an arranger keyboard splits.",
                example: "\"F#3\"", options: [:],
                assign: { (c: inout DaemonConfig, v: TOMLValue) throws(Setting.Invalid) in
                    switch v {
                    case .integer(let n): c.splitNote = n < 0 ? nil : try Setting.within(n, 0...127)
                    case .string(let s):
                        if s.isEmpty { c.splitNote = nil; return }
                        guard let n = NoteName.midiNote(parsing: s) else {
                            throw Setting.Invalid(message: "expected a note name like \"F#3\" (C4 = 60) or a number 0-127, got \"\(s)\"")
                        }
                        c.splitNote = n
                    default: throw Setting.Invalid(message: "expected a note name like \"F#3\" or a number 0-127, got \(v.typeName)")
                    }
                },
                read: { c in c.splitNote.map { .integer($0) } ?? .string("") }),
        .integer("harmony.chord_channel", \.chordChannel, 0...16, .musician,
                 "A MIDI channel whose notes are all left hand (a second keyboard, a DAW's chord track); 0: none.", detail: """
                 It is an input channel, not the accompaniment's (midi.accompaniment_channel). With split_note too, \
                 a key is left hand if either says so.
                 """, example: "3"),
        .flag("harmony.release_ends_chord", \.releaseEndsChord, .musician,
              "Letting go of every left-hand key ends its chord (the melody decides again).", detail: """
              false: a chord holds until the next one, as on an arranger, and a chord channel that goes silent \
              keeps its last chord.
              """, example: "true"),
        .number("harmony.left_hand_wait", \.leftHandWait, LeftHand.waitRange, .musician,
                "How long the accompaniment waits for the left hand, in grid steps (32nd notes).", detail: """
                A chord struck on the beat, or up to this long after it, is played on that beat; the accompaniment \
                (not the melody) of a left hand sounds this much later: 0.25 is 16 ms at 120 BPM, 23 ms at 80 \
                (docs/harmony.md, "The left hand's wait"). 0: on time, but a chord struck the slightest bit late is \
                heard a step late; -0.5: computed half a step ahead, as for the melody, so a chord must come half a \
                step early to be played on its beat.
                """, example: "0.4"),
        .choice("harmony.chord_mode", \.chordMode, ["fingered-on-bass", "fingered"], .musician,
                "How left-hand keys make a chord: \"fingered-on-bass\" (the lowest key is the bass: E G C is C/E) or \"fingered\".",
                example: "\"fingered\""),
        .flag("harmony.left_hand_sound", \.leftHandSound, .musician,
              "The left hand's keys also sound (through the synth and, with midi.melody_passthrough, the output port).",
              detail: "false: they only choose the chords, as on an arranger whose left-hand voice is off.", example: "true"),

        // [memory]
        .flag("memory.enabled", \.memoryEnabled, .musician,
              "Store every performance as a take, and follow the takes stored (false: neither; the daemon plays what a plain `render` plays)."),
        .text("memory.directory", \.memoryDirectory, .musician, "The memory's directory; empty: the state directory.", detail: """
            $STATE_DIRECTORY/memory (the system unit's StateDirectory=), else $XDG_STATE_HOME/accompanist/memory, \
            else ~/.local/state/accompanist/memory.
            """, example: "\"/var/lib/accompanist/memory\""),
        .integer("memory.max_takes", \.memoryMaxTakes, 1...100_000, .musician, "The most takes kept; past it the oldest are forgotten first."),
        .flag("memory.repeats", \.memoryRepeats, .musician,
              "Follow repetition within a take (docs/memory.md, \"Within a take\"), with the memory enabled or not.", detail: """
              Where a passage of the melody comes back in the same performance (a chorus again, perhaps transposed), \
              the chords hindsight heard for its earlier occurrence give the chords ahead of time, as `accompanist \
              render` does by default. Needs Models/hindsight.safetensors. false: off, as `render --no-repeats`.
              """),

        // [engine], a musician's part
        .choice("engine.engine", \.engine, ["rules", "model"], .musician,
                "\"model\" (the neural accompanist, Models/) or \"rules\" (rule-based).", render: "engine", run: "engine"),
        .text("engine.model", \.model, .musician, "Weights of the model engine; empty: the shipped Models/accompanist.safetensors.",
              render: "model", run: "model"),
        .choice("engine.precision", \.precision, ["fp32", "fp16"], .musician,
                "Storage of the model's weights: \"fp16\" (half the memory traffic, ~1e-3 relative error) or \"fp32\".",
                render: "precision"),
        Setting(key: "engine.seed", kind: .integer(0...Int.max), audience: .musician,
                help: "Random seed: the same melody, tempo and seed give the same accompaniment.",
                detail: "", example: nil, options: Setting.options(render: "seed", run: "seed"),
                assign: { (c: inout DaemonConfig, v: TOMLValue) throws(Setting.Invalid) in
                    c.seed = UInt64(try Setting.within(try Setting.int(v), 0...Int.max))
                },
                read: { .integer(Int(clamping: $0.seed)) }),
        .choice("engine.pattern", \.pattern, ["block", "broken", "bass-chord"], .musician, "The rules engine's pattern.",
                render: "pattern", run: "pattern"),
        .integer("engine.max_note_beats", \.maxNoteBeats, 1...64, .musician, "Any accompaniment note is ended after this many beats.",
                 render: "max-note-beats"),
        .integer("engine.listen_beats", \.listenBeats, 0...64, .musician, "Model engine: beats to listen before joining in.",
                 render: "listen-beats"),
        .integer("engine.lowest_pitch", \.lowestPitch, 0...127, .musician,
                 "Model engine: the accompaniment's lowest note (MIDI number; the default is the piano's, as in training).",
                 render: "lowest-pitch"),
        .integer("engine.highest_pitch", \.highestPitch, 0...127, .musician, "Model engine: the accompaniment's highest note.",
                 render: "highest-pitch"),
        .integer("engine.max_polyphony", \.maxPolyphony, 1...16, .musician, "Model engine: the most notes at once.",
                 render: "max-polyphony"),

        // [engine], an expert's part: sampling constants tuned for the shipped model
        .number("engine.temperature", \.temperature, 0...2, .expert, "Sampling temperature of the model engine; 0 samples greedily.",
                render: "temperature"),
        .number("engine.top_p", \.topP, 0.05...1, .expert, "Nucleus sampling mass of the model engine.", render: "top-p"),
        .number("engine.chord_guidance", \.chordGuidance, 0...20, .expert,
                "How strongly the chord steers the choice of notes (0: off).", detail: """
                A chord given by [harmony] (its tones), else the chord the model hears in the melody: the chord \
                head's prior is added to the note logits (docs/model.md).
                """, render: "chord-guidance"),
        .number("engine.kind_temperature", \.kindTemperature, 0...2, .expert,
                "Two-level sampling: the kind of the next token is drawn at this temperature from the model's own odds (0: off).",
                detail: """
                Then the token of that kind is drawn at `temperature`, so a low `temperature` sharpens which notes \
                sound without thinning the chords. 1: the kinds as the model says.
                """, example: "0.8", render: "kind-temperature"),
        .number("engine.chord_stacking", \.chordStacking, 1...8, .expert,
                "Two-level sampling: once a note is struck, the odds that another joins it at the same moment are multiplied by this.",
                render: "chord-stacking"),
        .number("engine.density", \.density, 0.1...8, .expert,
                "Two-level sampling: the odds of striking where nothing has been struck yet are multiplied by this.",
                example: "0.7", render: "density"),
        .number("engine.groove", \.groove, 1...10, .expert,
                "How strongly the accompaniment keeps to the rhythm of its last bar (1: off).", render: "groove"),
        .number("engine.confidence_density", \.confidenceDensity, 0...8, .expert,
                "With no chord given, the density is scaled by how sure the model is of the chord it hears, to this power (0: off).",
                render: "confidence-density"),
        .number("engine.off_chord_release", \.offChordRelease, 0...1, .expert,
                "With no chord given, a sounding note ends when the model hears its pitch class as a chord tone with less than this probability (0: off).",
                render: "off-chord-release"),
        .number("engine.doubling_penalty", \.doublingPenalty, 0...10, .expert,
                "How much less likely (in logits) a note of the melody's pitch class is (0: off).", render: "doubling-penalty"),
        .number("engine.estimate_density", \.estimateDensity, 0.1...16, .expert,
                "Chords from a whole-song estimate (--hindsight, the memory, a passage that comes back): the density there.",
                render: "estimate-density"),
        .number("engine.estimate_confidence_density", \.estimateConfidenceDensity, 0...16, .expert,
                "Chords from a whole-song estimate: the confidence density there (0: off).", render: "estimate-confidence-density"),
        .number("engine.estimate_chord_stacking", \.estimateChordStacking, 1...8, .expert,
                "Chords from a whole-song estimate: the chord stacking there.", render: "estimate-chord-stacking"),
        .number("engine.estimate_release", \.estimateRelease, 0...1, .expert,
                "Chords from a whole-song estimate: at each beat, a sounding note whose pitch class it gives less than this ends (0: off).",
                render: "estimate-release"),
        .number("engine.estimate_floor", \.estimateFloor, 0...1, .expert,
                "Chords from a whole-song estimate: where its confidence for a beat is below this, nothing new is struck (0: off).",
                detail: "Its confidence: the mean probability of the beat's three likeliest chord tones. What sounds rings on.",
                render: "estimate-floor"),
        .integer("engine.above_melody", \.aboveMelody, -1...48, .expert,
                 "A note may begin at most this many semitones above the last melody note (-1: off).", example: "5",
                 render: "above-melody"),
    ]

    /// The settings by key.
    public static let byKey: [String: Setting] = Dictionary(uniqueKeysWithValues: all.map { ($0.key, $0) })

    /// The setting whose option on `command`'s command line is `option` (without "--").
    public static func setting(option: String, of command: Setting.Command) -> Setting? {
        all.first { $0.options[command] == option }
    }
}
