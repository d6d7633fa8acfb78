import Foundation
import Harmony
import Model
import Tokens

/// Settings of the neural accompanist (the sampler and the safety limits).
public struct NeuralConfiguration: Equatable, Sendable {
    /// Softmax temperature; 0 samples greedily.
    public var temperature: Float = 0.5
    /// Nucleus mass (0, 1].
    public var topP: Float = 0.95
    /// NOTE_ON pitches allowed, and the most pitches sounding at once (the grammar's limits).
    public var lowestPitch = 21
    public var highestPitch = 108
    public var maxPolyphony = 10
    /// A note that has sounded this many steps gets a NOTE_OFF, fed to the model like a sampled one,
    /// at the next step the decoder decides (at least every beat). 0: no limit.
    public var maxNoteSteps = 64
    /// Steps the accompaniment listens before it joins (whole time shifts, as in the data when
    /// the piano enters late).
    public var listenSteps = 0
    /// Beats (quarter notes) per bar: metrical positions are steps within a bar of 8×this.
    public var beatsPerBar = 4
    /// Chord guidance (docs/model.md): every NOTE_ON logit gets `g · ln π(pitch class)`, where π is
    /// the probability that the pitch class is a chord tone: 1 or 0 for a chord the player gives
    /// (chart, left hand), else the chord head's at the newest visible column. 0: off.
    public var chordGuidance: Float = NeuralConfiguration.defaultChordGuidance
    /// The strength `render` and `run` use unless told otherwise (chosen on validation songs,
    /// Models/README.md).
    public static let defaultChordGuidance: Float = 20
    /// Two-level sampling (TokenSampler.kindTemperature): the kind of token from the model's own
    /// odds at this temperature, then the token at `temperature`. 0: off (single level).
    public var kindTemperature: Float = NeuralConfiguration.defaultKindTemperature
    public static let defaultKindTemperature: Float = 1
    /// Chord stacking (two-level sampling only): once a note has been struck at a step, the odds
    /// that another note (or the velocity before one) follows at the same step are multiplied
    /// by this, up to `stackingLimit` notes. 1: the model's own odds.
    public var chordStacking: Float = NeuralConfiguration.defaultChordStacking
    public static let defaultChordStacking: Float = 1.5
    public var stackingLimit = 4
    /// With no chord given: when the decoder decides, a sounding note whose pitch class the model
    /// hears as a chord tone with probability below this ends (a note held across a chord change
    /// it did not foresee). 0: off.
    public var offChordRelease: Float = NeuralConfiguration.defaultOffChordRelease
    public static let defaultOffChordRelease: Float = 0.45
    /// The NOTE_ON logits of the pitch class of the melody note sounding (at the last step
    /// heard) are lowered by this: a pianist seldom doubles the tune. 0: off.
    public var doublingPenalty: Float = NeuralConfiguration.defaultDoublingPenalty
    public static let defaultDoublingPenalty: Float = 3.5
    /// With no chord given, the density is scaled by the chord head's confidence to this power:
    /// where the model is unsure of the chord it strikes less. 0: off.
    public var confidenceDensity: Float = NeuralConfiguration.defaultConfidenceDensity
    public static let defaultConfidenceDensity: Float = 1.5
    /// Groove: the accompaniment keeps to the rhythm of its last bar. Where that bar struck at
    /// this step, the odds of striking are multiplied by this, else divided; and a time shift
    /// that lands where it struck gets ln(this) on its logit. 1: off.
    public var groove: Float = NeuralConfiguration.defaultGroove
    public static let defaultGroove: Float = 3
    /// Density (two-level sampling only): at a step where nothing has been struck yet, the odds
    /// of striking (a note, or the velocity before one) are multiplied by this. 1: the model's
    /// own odds; below 1 the accompaniment strikes less often.
    public var density: Float = NeuralConfiguration.defaultDensity
    public static let defaultDensity: Float = 1.35
    /// Where a whole-song estimate replaces the model's own hearing (render `--hindsight`, the
    /// rehearsal memory, a passage that comes back within the take: `heardOverride`), density,
    /// confidence density and chord stacking are these instead: such an estimate knows well
    /// where it is sure, so the accompaniment plays fuller there and sparser where it is not
    /// (Models/README.md, "Sampling settings").
    public var estimateDensity: Float = NeuralConfiguration.defaultEstimateDensity
    public static let defaultEstimateDensity: Float = 16
    public var estimateConfidenceDensity: Float = NeuralConfiguration.defaultEstimateConfidenceDensity
    public static let defaultEstimateConfidenceDensity: Float = 12
    public var estimateChordStacking: Float = NeuralConfiguration.defaultEstimateChordStacking
    public static let defaultEstimateChordStacking: Float = 4
    /// Where a whole-song estimate replaces the model's own hearing, the off-chord release is
    /// this instead, and it acts on every beat: at a beat's first step a pending time shift is cut
    /// short when a sounding note's pitch class is below it in that beat's estimate, so the note
    /// ends at the change the estimate knows of rather than when the decoder next decides.
    /// 0: off (the estimate uses `offChordRelease`, when the decoder decides). The default, 0.5,
    /// was chosen on validation songs (Models/README.md, "Sampling settings of 2026-12-06").
    public var estimateRelease: Float = NeuralConfiguration.defaultEstimateRelease
    public static let defaultEstimateRelease: Float = 0.5
    /// Where a whole-song estimate replaces the model's own hearing and its confidence for the
    /// beat (the mean π of its three likeliest chord tones, as for the confidence density) is
    /// below this, nothing new is struck there: notes sounding ring on (or end at the release),
    /// and the accompaniment waits for a beat the estimate is surer of. Two-level sampling only
    /// (it acts on the odds of striking). 0: off.
    public var estimateFloor: Float = NeuralConfiguration.defaultEstimateFloor
    public static let defaultEstimateFloor: Float = 0.55
    /// The melody stays on top: a note may begin at most this many semitones above the last
    /// melody pitch heard (the grammar's highest pitch follows it, never below `lowestPitch`).
    /// −1: off (only `highestPitch`).
    public var aboveMelody = NeuralConfiguration.defaultAboveMelody
    public static let defaultAboveMelody = -1
    /// A guard that the grammar makes unreachable: at most this many tokens at one step.
    public var maxTokensPerStep = 96

    public init() {}
}

/// The neural accompanist: the streaming model of docs/model.md run by the engine contract.
///
/// Step `s` (called once melody frame `s−1` is final): the encoder takes the new frames; if a
/// sampled time shift is pending, it ends at its step, or is cut short where a melody onset has
/// just become visible (`o + 1`), and is fed to the decoder with the steps really waited; then the
/// decoder samples tokens at `s` — NOTE_ON/NOTE_OFF become events at `s`, VELOCITY sets the
/// velocity — until it samples the next time shift. Exactly the loop of the Python reference
/// (`evaluate.generate`), so a greedy run gives the same tokens.
///
/// Threading: one engine thread owns it (with its model and sampler); nothing here allocates
/// after `init`.
public final class NeuralEngine: AccompanimentEngine {
    public let configuration: NeuralConfiguration
    public let model: StreamingModel
    private let sampler: TokenSampler
    private let tracker = MelodyTracker()
    private var grammar: Grammar
    /// The last melody pitch heard (the top of the last frame that sounded), −1 before any.
    private var lastMelodyPitch = -1
    private var rng = SplitMix64(seed: 0)
    private let stepsPerBar: Int

    /// The token to feed next, and its prediction time.
    private var token = Vocabulary.bos
    private var ptime = 0
    private var started = false
    /// A sampled TIME_SHIFT waiting for its steps to pass: it began at `shiftStart`, `shiftLength` long.
    private var shiftPending = false
    /// Steps of the last whole bar and of this one where notes began (bit = step in the bar;
    /// bars of up to 64 steps), and the bar they belong to.
    private var lastBarOnsets: UInt64 = 0
    private var barOnsets: UInt64 = 0
    private var onsetBar = 0
    /// Groove bias of each time shift length (index n = TIME_SHIFT n). (Vocabulary.maxTimeShift + 1,)
    private let shiftBias: UnsafeMutablePointer<Float>
    private var shiftStart = 0
    private var shiftLength = 0
    /// The chord the player gives for the step being decided (nil: the melody decides).
    private var givenChord: ChartChord?
    /// What the model hears at the step being decided, when no chord is given ((12,) chord-tone
    /// probabilities, `StreamingModel.heardChord`), for guidance and releases; nil otherwise.
    private var heard: UnsafePointer<Float>?
    /// Pitches already sent a note-off by allNotesOff, still to be fed to the model. (128,)
    private let silenced: UnsafeMutablePointer<Bool>
    /// The chord guidance bias per pitch class. (12,)
    private let guidanceBias: UnsafeMutablePointer<Float>
    /// Kind odds for the sampler while stacking a chord (NOTE_ON, VELOCITY raised), then before
    /// the first note of a step (NOTE_ON, VELOCITY times the density). (2, 5)
    private let stackOdds: UnsafeMutablePointer<Float>
    /// The chord features of a given chord, for the model's chord input. (ChordFeatures.count,)
    private let givenFeatures: UnsafeMutablePointer<Float>
    /// The chart and the left hand (docs/harmony.md).
    private var harmony = GivenHarmony()
    /// Chords heard in hindsight (`setHeardChords`, offline only): per beat, each pitch class's
    /// probability of being a chord tone, used where the model would use its own hearing.
    /// (heardBeats, 12); nil: none.
    private var hindsightHeard: UnsafeMutablePointer<Float>?
    private var hindsightBeats = 0
    /// The rehearsal memory's estimate for the steps from `memoryHeardFrom` (`memoryHeard`):
    /// chord-tone probabilities (12,), used as `hindsightHeard` is; off while `memoryHeardFrom`
    /// is nil.
    private let memoryHeard: UnsafeMutablePointer<Float>
    private var memoryHeardFrom: Int?
    /// Every token fed, in order, when recording (tests and parity); off on the live path.
    public private(set) var recordedTokens: [Int] = []
    public var recordsTokens = false

    public init(model: StreamingModel, configuration: NeuralConfiguration = NeuralConfiguration(), seed: UInt64 = 0) {
        self.model = model
        self.configuration = configuration
        sampler = TokenSampler(vocabSize: model.config.vocabSize, temperature: configuration.temperature, topP: configuration.topP)
        sampler.kindTemperature = configuration.kindTemperature
        grammar = Grammar(lowestPitch: configuration.lowestPitch, highestPitch: configuration.highestPitch, maxPolyphony: configuration.maxPolyphony)
        stepsPerBar = max(1, configuration.beatsPerBar) * 8
        silenced = .allocate(capacity: 128)
        silenced.initialize(repeating: false, count: 128)
        guidanceBias = .allocate(capacity: 12)
        guidanceBias.initialize(repeating: 0, count: 12)
        shiftBias = .allocate(capacity: Vocabulary.maxTimeShift + 1)
        shiftBias.initialize(repeating: 0, count: Vocabulary.maxTimeShift + 1)
        stackOdds = .allocate(capacity: 10)
        stackOdds.initialize(repeating: 1, count: 10)   // entries 0, 3, 5 and 8 are set per decode
        givenFeatures = .allocate(capacity: ChordFeatures.count)
        givenFeatures.initialize(repeating: 0, count: ChordFeatures.count)
        memoryHeard = .allocate(capacity: 12)
        memoryHeard.initialize(repeating: 0, count: 12)
        reset(seed: seed)
    }

    deinit {
        silenced.deallocate()
        guidanceBias.deallocate()
        stackOdds.deallocate()
        shiftBias.deallocate()
        givenFeatures.deallocate()
        hindsightHeard?.deallocate()
        memoryHeard.deallocate()
    }

    /// The rehearsal memory's estimate of the chord (docs/memory.md): from step `step` on, these
    /// 12 chord-tone probabilities replace the model's own hearing where no chord is given, as
    /// `setHeardChords` does; nil: off from there. Given before `generate(step:)` of that step.
    public func memoryHeard(_ pi: UnsafePointer<Float>?, step: Int) {
        guard let pi else { memoryHeardFrom = nil; return }
        for k in 0..<12 { memoryHeard[k] = pi[k] }
        memoryHeardFrom = step
    }

    /// What replaces the model's hearing at step s: the memory's estimate, else hindsight's.
    private func heardOverride(at s: Int) -> UnsafePointer<Float>? {
        if let from = memoryHeardFrom, s >= from { return UnsafePointer(memoryHeard) }
        if let h = hindsightHeard, s / 8 < hindsightBeats { return UnsafePointer(h + (s / 8) * 12) }
        return nil
    }

    /// Offline only (`render --hindsight`, docs/hindsight.md): chords heard from the whole melody,
    /// one row of 12 chord-tone probabilities a beat (row-major (beats, 12)), replace the chord
    /// head's causal hearing wherever no chord is given: as the model's chord input, for
    /// guidance, releases and density. Allocates; not causal, so never for the live loop.
    public func setHeardChords(_ perBeat: [Float]) {
        precondition(perBeat.count % 12 == 0)
        hindsightHeard?.deallocate()
        hindsightBeats = perBeat.count / 12
        let p = UnsafeMutablePointer<Float>.allocate(capacity: max(1, perBeat.count))
        p.initialize(from: perBeat, count: perBeat.count)
        hindsightHeard = p
    }

    /// With `estimateRelease` and no chord given: at a beat's first step, whether a note sounding
    /// since before it has a pitch class the beat's estimate gives less than the release.
    private func estimateLeavesOut(at s: Int) -> Bool {
        let release = configuration.estimateRelease
        guard release > 0, s % 8 == 0, givenChord == nil, let pi = heardOverride(at: s) else { return false }
        for p in 0..<128 {
            if let start = grammar.startOf(p), start < s, !silenced[p], pi[p % 12] < release { return true }
        }
        return false
    }

    /// The chord-guidance bias per pitch class (docs/model.md, "Chord guidance"): from π, the
    /// probability of each pitch class being a chord tone (12,), as `g · ln((π + 0.001) / max)`.
    private func computeGuidance(_ pi: UnsafePointer<Float>) {
        var top: Float = 0
        for k in 0..<12 { top = max(top, pi[k] + 1e-3) }
        for k in 0..<12 { guidanceBias[k] = configuration.chordGuidance * logf((pi[k] + 1e-3) / top) }
    }

    public func setHarmony(_ stream: ChordStream) { harmony.set(stream) }

    public func chordHint(_ chord: ChordSymbol?, step: Int) { harmony.hint(chord, step: step) }

    public func memoryChord(_ chord: ChartChord?, step: Int) { harmony.remember(chord, step: step) }

    public func reset(seed: UInt64) {
        memoryHeardFrom = nil
        model.reset()
        tracker.reset()
        lastMelodyPitch = -1
        grammar = Grammar(lowestPitch: configuration.lowestPitch, highestPitch: configuration.highestPitch, maxPolyphony: configuration.maxPolyphony)
        rng = SplitMix64(seed: seed)
        token = Vocabulary.bos
        ptime = 0
        started = false
        shiftPending = false
        lastBarOnsets = 0
        barOnsets = 0
        onsetBar = 0
        silenced.update(repeating: false, count: 128)
        harmony.reset()
        givenChord = nil
        recordedTokens.removeAll(keepingCapacity: true)
    }

    public var droppedMelodyEvents: Int { tracker.droppedEvents }

    public func melodyNoteOn(pitch: Int, velocity: Int, step: Int) {
        tracker.push(pitch: pitch, velocity: max(1, velocity), step: step)
    }

    public func melodyNoteOff(pitch: Int, step: Int) {
        tracker.push(pitch: pitch, velocity: 0, step: step)
    }

    @inline(__always)
    private func meter(_ s: Int) -> Int { ((s % stepsPerBar) + stepsPerBar) % stepsPerBar }

    public func generate(step s: Int, into out: EventBuffer) {
        tracker.finalize(before: s) { f, frame in
            if frame.pitch >= 0 { lastMelodyPitch = Int(frame.pitch) }
            model.encoderPush(pitch: Int(frame.pitch), onset: frame.onset ? 1 : 0, velocityBin: Int(frame.velocityBin), meter: meter(f))
        }
        givenChord = harmony.read(step: s)
        if !started {
            started = true
            token = Vocabulary.bos
            ptime = s
            grammar.setTime(s)
            if recordsTokens { recordedTokens.append(token) }
        } else if shiftPending {
            var length = shiftLength
            if s < shiftStart + shiftLength {
                // Cut short where a melody note has just become visible (its onset was at s−1),
                // or the chord the player gives changes here, or a beat's estimate leaves a
                // sounding note out (`estimateRelease`).
                let onset = tracker.frame(at: s - 1)?.onset ?? false
                guard s > shiftStart, onset || harmony.changeStep == s || estimateLeavesOut(at: s) else { return }
                length = s - shiftStart
            } else if s > shiftStart + shiftLength {
                return  // cannot happen: generate is called for every step
            }
            shiftPending = false
            token = Vocabulary.timeShift(length)
            grammar.apply(token)
            ptime = shiftStart + length
            if recordsTokens { recordedTokens.append(token) }
        }
        guard ptime == s else { return }
        decode(at: s, into: out)
    }

    /// Feeds tokens at step s until a time shift is sampled.
    private func decode(at s: Int, into out: EventBuffer) {
        var count = 0
        // The chord: given (chart, left hand) or heard by the model itself.
        var chordInput: UnsafePointer<Float>? = nil
        heard = nil
        var guided = configuration.chordGuidance != 0
        var estimated = false   // the chord input is a whole-song estimate (heardOverride)
        switch givenChord {
        case .chord(let c)?:
            ChordFeatures.given(toneMask: Int(c.pitchClassMask), bass: c.bass, into: givenFeatures)
            chordInput = UnsafePointer(givenFeatures)
            if guided { computeGuidance(chordInput!) }
        case .noChord?:
            ChordFeatures.given(toneMask: 0, bass: nil, into: givenFeatures)
            chordInput = UnsafePointer(givenFeatures)
            guided = false   // N.C.: no chord tones to prefer
        case nil:
            if let pi = heardOverride(at: s) {
                // Hindsight or the memory: the estimate at this step's beat, as the chord input
                // (tones, no bass, not given) and for guidance.
                for k in 0..<ChordFeatures.count { givenFeatures[k] = k < 12 ? pi[k] : 0 }
                chordInput = UnsafePointer(givenFeatures)
                heard = pi
                estimated = true
                if guided { computeGuidance(pi) }
                break
            }
            guided = guided && s > 0
            if guided || configuration.offChordRelease > 0 || configuration.confidenceDensity > 0 { heard = model.heardChord(ptime: s) }
            if guided { computeGuidance(heard!) }
        }
        // Density follows confidence: with no chord given, the odds of striking are scaled by the
        // confidence of what is heard (the mean π of its three likeliest chord tones) to the power
        // `confidenceDensity` (`estimateConfidenceDensity` for an estimate, with its own density
        // and stacking).
        let stacking = estimated ? configuration.estimateChordStacking : configuration.chordStacking
        let release = estimated && configuration.estimateRelease > 0 ? configuration.estimateRelease : configuration.offChordRelease
        stackOdds[0] = stacking
        stackOdds[3] = stacking
        stackOdds[5] = estimated ? configuration.estimateDensity : configuration.density
        let confidencePower = estimated ? configuration.estimateConfidenceDensity : configuration.confidenceDensity
        let floor = estimated ? configuration.estimateFloor : 0
        if confidencePower > 0 || floor > 0, let heard {
            var a: Float = 0, b: Float = 0, c: Float = 0
            for k in 0..<12 {
                let x = heard[k]
                if x > a { c = b; b = a; a = x } else if x > b { c = b; b = x } else if x > c { c = x }
            }
            let confidence = (a + b + c) / 3
            if confidence < floor {
                stackOdds[5] = 0   // unsure: strike nothing new (the floor)
            } else if confidencePower > 0 {
                stackOdds[5] *= powf(max(confidence, 1e-3), confidencePower)
            }
        }
        // Groove: the rhythm of the last bar (which struck at least once).
        var grooved = false
        if configuration.groove != 1 && stepsPerBar <= 64 {
            let bar = s / stepsPerBar
            if bar != onsetBar {
                lastBarOnsets = bar == onsetBar + 1 ? barOnsets : 0
                barOnsets = 0
                onsetBar = bar
            }
            if lastBarOnsets != 0 {
                grooved = true
                let pos = s % stepsPerBar, g = configuration.groove, lg = logf(g)
                stackOdds[5] *= (lastBarOnsets >> UInt64(pos)) & 1 != 0 ? g : 1 / g
                for n in 1...Vocabulary.maxTimeShift {
                    shiftBias[n] = (lastBarOnsets >> UInt64((pos + n) % stepsPerBar)) & 1 != 0 ? lg : 0
                }
            }
        }
        stackOdds[8] = stackOdds[5]
        // Doubling: the pitch class of the melody note sounding at s−1 is made less likely.
        if configuration.doublingPenalty > 0, s > 0, let f = tracker.frame(at: s - 1), f.pitch >= 0 {
            if !guided { guidanceBias.update(repeating: 0, count: 12); guided = true }
            guidanceBias[Int(f.pitch) % 12] -= configuration.doublingPenalty
        }
        // The melody on top: no note begins above the last melody pitch + `aboveMelody`.
        grammar.highestPitch = configuration.highestPitch
        if configuration.aboveMelody >= 0 && lastMelodyPitch >= 0 {
            grammar.highestPitch = max(configuration.lowestPitch, min(configuration.highestPitch, lastMelodyPitch + configuration.aboveMelody))
        }
        var struck = 0   // notes begun at this step
        let stacked = stacking != 1, sparse = stackOdds[5] != 1
        let shiftBiasing: UnsafePointer<Float>? = grooved ? UnsafePointer(shiftBias) : nil
        while true {
            let logits = model.decoderStep(token: token, ptime: s, meter: meter(s), chord: chordInput)
            var next: Int
            var emit = true
            if let p = nextForcedOff(at: s, heard: heard, release: release) {
                next = Vocabulary.noteOff(p.pitch)
                emit = !p.silenced
            } else if s < configuration.listenSteps {
                next = Vocabulary.timeShift(min(grammar.maxTimeShift, configuration.listenSteps - s))
            } else if case .noChord? = givenChord {
                // N.C.: the music says no harmony sounds; wait (cut short when the chord changes).
                next = Vocabulary.timeShift(max(1, grammar.maxTimeShift))
            } else if count >= configuration.maxTokensPerStep {
                next = Vocabulary.timeShift(1)
            } else {
                let odds: UnsafePointer<Float>? = struck == 0 ? (sparse ? UnsafePointer(stackOdds + 5) : nil)
                    : (stacked && struck < configuration.stackingLimit ? UnsafePointer(stackOdds) : nil)
                next = sampler.sample(logits, noteOnBias: guided ? UnsafePointer(guidanceBias) : nil, shiftBias: shiftBiasing,
                                      kindOdds: odds, grammar: grammar, using: &rng)
                    ?? Vocabulary.timeShift(1)
            }
            count += 1
            if case .timeShift(let n)? = Token(id: next) {
                shiftPending = true
                shiftStart = s
                shiftLength = n
                token = next
                return  // fed (with the steps really waited) when the shift ends or is cut
            }
            if recordsTokens { recordedTokens.append(next) }
            switch Token(id: next) {
            case .noteOn(let p)?:
                struck += 1
                if stepsPerBar <= 64 { barOnsets |= 1 << UInt64(s % stepsPerBar) }
                if emit { out.append(AccompanimentEvent(step: s, pitch: UInt8(p), velocity: UInt8(Vocabulary.velocity(ofBin: grammar.velocityBin ?? 16)))) }
            case .noteOff(let p)?: if emit { out.append(AccompanimentEvent(step: s, pitch: UInt8(p), velocity: 0)) }
            default: break
            }
            grammar.apply(next)
            token = next
        }
    }

    /// The lowest pitch that must get its NOTE_OFF now: silenced by allNotesOff, sounding for
    /// `maxNoteSteps`, outside the chord the player gives (it ends when the chord changes, or
    /// when the decoder next decides under it), or, with no chord given, a pitch class the model
    /// hears as a chord tone with probability below `offChordRelease` (`heard`: (12,) or nil).
    private func nextForcedOff(at s: Int, heard: UnsafePointer<Float>?, release: Float) -> (pitch: Int, silenced: Bool)? {
        let chordTones = givenChord?.toneMask ?? 0
        for p in 0..<128 {
            guard let start = grammar.startOf(p) else { silenced[p] = false; continue }
            if silenced[p] && start < s { silenced[p] = false; return (p, true) }
            if configuration.maxNoteSteps > 0 && s - start >= configuration.maxNoteSteps { return (p, false) }
            guard start < s else { continue }
            if givenChord != nil {
                if (chordTones >> (p % 12)) & 1 == 0 { return (p, false) }
            } else if let heard, heard[p % 12] < release {
                return (p, false)
            }
        }
        return nil
    }

    public func allNotesOff(step: Int, into out: EventBuffer) {
        for p in 0..<128 where grammar.isSounding(p) && !silenced[p] {
            out.append(AccompanimentEvent(step: step, pitch: UInt8(p), velocity: 0))
            silenced[p] = true
        }
    }
}
