import Engine
import MIDI
import Model

/// What the accompaniment engine is built from: the one mapping from a `DaemonConfig`, shared by
/// `accompanist run` and `accompanist render`, so that both play the same notes for the same
/// settings.
public struct EngineSettings: Equatable, Sendable {
    public enum Kind: String, CaseIterable, Sendable {
        /// The neural accompanist (Models/).
        case model
        /// The rule-based accompanist.
        case rules
    }

    public var kind: Kind
    /// The model's weights as configured; nil: the shipped model (`ShippedModel.searchPath`).
    public var modelPath: String?
    public var precision: WeightPrecision
    public var seed: UInt64
    /// Beats (quarter notes) per bar, for either engine.
    public var beatsPerBar: Int
    /// Grid steps after which any accompaniment note is ended.
    public var maxNoteSteps: Int
    /// The rules engine: its pattern and metre.
    public var rules: RulesConfiguration
    /// The model engine: sampler, pitch range, polyphony, listening, metre, note length.
    public var neural: NeuralConfiguration

    /// The model's weights: the configured file (which must exist) or the shipped model; nil for
    /// the rules engine. Throws `ShippedModel.Failure`.
    public func locateModel() throws -> String? {
        kind == .model ? try ShippedModel.locate(modelPath) : nil
    }

    /// The engine these settings describe. The model engine loads `weights` (from `locateModel`;
    /// nil: located now) and allocates all its memory here. Throws `ShippedModel.Failure`.
    public func makeEngine(weights: String?) throws -> AccompanimentEngine {
        switch kind {
        case .rules:
            return RulesEngine(configuration: rules, seed: seed)
        case .model:
            return try ShippedModel.engine(path: weights ?? ShippedModel.locate(modelPath), precision: precision, configuration: neural, seed: seed)
        }
    }
}

extension DaemonConfig {
    /// The engine's settings from the `[engine]` keys and `tempo.beats_per_bar`.
    public var engineSettings: EngineSettings {
        var neural = NeuralConfiguration()
        neural.temperature = Float(temperature)
        neural.topP = Float(topP)
        neural.chordGuidance = Float(chordGuidance)
        neural.kindTemperature = Float(kindTemperature)
        neural.chordStacking = Float(chordStacking)
        neural.density = Float(density)
        neural.offChordRelease = Float(offChordRelease)
        neural.doublingPenalty = Float(doublingPenalty)
        neural.confidenceDensity = Float(confidenceDensity)
        neural.groove = Float(groove)
        neural.aboveMelody = aboveMelody
        neural.estimateDensity = Float(estimateDensity)
        neural.estimateConfidenceDensity = Float(estimateConfidenceDensity)
        neural.estimateChordStacking = Float(estimateChordStacking)
        neural.estimateRelease = Float(estimateRelease)
        neural.estimateFloor = Float(estimateFloor)
        neural.lowestPitch = lowestPitch
        neural.highestPitch = highestPitch
        neural.maxPolyphony = maxPolyphony
        neural.maxNoteSteps = maxNoteBeats * Grid.stepsPerBeat
        neural.listenSteps = listenBeats * Grid.stepsPerBeat
        neural.beatsPerBar = beatsPerBar
        return EngineSettings(
            kind: EngineSettings.Kind(rawValue: engine) ?? .model,
            modelPath: model.isEmpty ? nil : model,
            precision: WeightPrecision(rawValue: precision) ?? .fp16,
            seed: seed,
            beatsPerBar: beatsPerBar,
            maxNoteSteps: neural.maxNoteSteps,
            rules: RulesConfiguration(pattern: RulesConfiguration.Pattern(rawValue: pattern) ?? .bassChord, beatsPerBar: beatsPerBar),
            neural: neural)
    }
}
