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
    /// The engine's settings for a model that carries `modelSampling` (its metadata:
    /// `ModelSampling.values`): each expert key the user did not give takes the model's value,
    /// checked as a config value would be. An unknown name or a value out of range is a
    /// `Problem` naming it (the model file is at fault: exit 65).
    public func engineSettings(modelSampling: [String: Double]) throws -> EngineSettings {
        var c = self
        for (name, value) in modelSampling.sorted(by: { $0.key < $1.key }) {
            let key = "engine.\(name)"
            guard let s = Settings.byKey[key], s.audience == .expert else {
                throw Problem(key: "sampling.\(name)", message: "the model's metadata names no expert engine setting \(key)")
            }
            if expertKeysGiven.contains(key) { continue }
            do { try s.setFromModel(&c, value) } catch { throw Problem(key: "sampling.\(name)", message: "the model's value: \(error.message)") }
        }
        return c.engineSettings
    }

    /// The engine's settings for the model at `weights` (from `locateModel`; nil: the rules
    /// engine), with the sampling values it carries where the user gave none. A model whose
    /// sampling metadata is bad is `ShippedModel.Failure.unreadable`.
    public func engineSettings(forModelAt weights: String?) throws(ShippedModel.Failure) -> EngineSettings {
        guard let weights else { return engineSettings }
        do { return try engineSettings(modelSampling: ModelSampling.values(path: weights)) }
        catch let p as Problem { throw .unreadable(weights, "metadata \(p.key): \(p.message)") }
        catch { throw .unreadable(weights, "\(error)") }
    }

    /// The engine's settings from the `[engine]` keys and `tempo.beats_per_bar` (the model's
    /// own sampling values not applied: `engineSettings(modelSampling:)`).
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
