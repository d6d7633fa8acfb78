import Config
/// The one mapping from the daemon's configuration to the live threads' settings (the engine's
/// own settings come from `DaemonConfig`'s engine mapping, shared with `render`).
extension EngineLoop.Settings {
    public init(_ config: DaemonConfig) {
        self.init()
        tempoSource = EngineLoop.TempoSource(rawValue: config.tempoSource) ?? .fixed
        bpm = config.bpm
        beatsPerBar = config.beatsPerBar
        countInBars = config.countInBars
        metronomeChannel = UInt8(clamping: config.metronomeChannel - 1)
        accompanimentChannel = UInt8(clamping: config.accompanimentChannel - 1)
        maxNoteSteps = config.engineSettings.maxNoteSteps  // the same limit render passes to OfflineRenderer
        seed = config.engineSettings.seed
    }
}

extension InputReader.Settings {
    public init(_ config: DaemonConfig) {
        self.init()
        panicController = config.panicCC
        panicNote = config.panicNote
        splitNote = config.splitNote ?? -1
        chordChannel = config.chordChannel - 1  // 0 (none) becomes -1
        leftHandSound = config.leftHandSound
    }
}
