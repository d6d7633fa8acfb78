import Harmony
import Tokens

/// Settings of the rule-based accompanist.
public struct RulesConfiguration: Equatable, Sendable {
    public enum Pattern: String, CaseIterable, Sendable {
        /// The chord on every beat, bass with it.
        case block
        /// Bass on the bar and half bar, chord tones one at a time in eighth notes.
        case broken
        /// Bass on the strong beats, the chord on the others ("oom-pah").
        case bassChord = "bass-chord"
    }

    public var pattern: Pattern = .bassChord
    /// Beats (quarter notes) per bar: 4 for 4/4, 3 for 3/4 and 6/8.
    public var beatsPerBar: Int = 4
    /// The chord register: voicings stay in lowestChordPitch…highestChordPitch and below the melody.
    public var lowestChordPitch: Int = 48
    public var highestChordPitch: Int = 67
    /// The bass plays the chord root in bassLow ..< bassLow + 12.
    public var bassLow: Int = 36
    /// Chord tones stay at least this many semitones below the lowest melody note of the last bar.
    public var gapBelowMelody: Int = 2
    public var velocity: Int = 70
    /// Steps between regular chord decisions (default: half a bar of 4/4).
    public var harmonicRhythm: Int = 16

    public init() {}

    public init(pattern: Pattern, beatsPerBar: Int = 4) {
        self.pattern = pattern
        self.beatsPerBar = max(1, beatsPerBar)
        self.harmonicRhythm = beatsPerBar % 2 == 0 ? beatsPerBar * 4 : beatsPerBar * 8
    }

    /// Why a configuration cannot be used, or nil when it can.
    public var problem: String? {
        if !(1...16).contains(beatsPerBar) { return "beats per bar must be 1…16, got \(beatsPerBar)" }
        if !(0...127).contains(lowestChordPitch) || !(0...127).contains(highestChordPitch) { return "chord register must be MIDI pitches 0…127" }
        if highestChordPitch - lowestChordPitch < 11 { return "chord register must span at least an octave" }
        if !(0...115).contains(bassLow) { return "bass low pitch must be 0…115" }
        if !(1...127).contains(velocity) { return "velocity must be 1…127" }
        if harmonicRhythm < 8 || harmonicRhythm % 8 != 0 { return "harmonic rhythm must be a whole number of beats (multiple of 8 steps)" }
        return nil
    }
}

/// The rule-based accompanist: the evaluation baseline and the engine that proves the contract.
///
/// Key: Krumhansl–Kessler correlation over a slowly decaying pitch-class histogram of the melody
/// heard so far. Chord: at every harmonic-rhythm boundary, the diatonic chord that best covers the
/// melody of the last beats (with a prior for tonic/subdominant/dominant and some inertia); and
/// when a new melody note outside the chord becomes visible, a chord that contains it, at most
/// once a beat. Pattern: block, broken or bass + chord, voiced below the melody.
///
/// Threading: owned by one thread. All tables are built in `init`; `generate` does not allocate.
public final class RulesEngine: AccompanimentEngine {
    public let configuration: RulesConfiguration
    private let tracker = MelodyTracker()
    private var rng = SplitMix64(seed: 0)

    private let histogram: UnsafeMutablePointer<Double>     // (12,) decayed pitch-class weights
    private let candidateMask: UnsafeMutablePointer<Int>    // (24 keys, 7 chords) chord pc masks
    private let candidateRoot: UnsafeMutablePointer<Int>    // (24, 7)
    private let candidatePrior: UnsafeMutablePointer<Double> // (24, 7)
    private let noteEnd: UnsafeMutablePointer<Int>          // (128,) end step of each sounding accompaniment pitch, -1 silent
    private static let chordsPerKey = 7

    private var heardMelody = false
    private var chordMask = 0
    /// The chart and the left hand: a chord given there replaces the chord chosen from the melody.
    private var harmony = GivenHarmony()
    private var chordRoot = -1
    private var lastReactiveBeat = -1
    private var lastOnsetStep = -1
    private var lastOnsetPitch = -1
    /// A chord change heard between grid points waits for the next 16th note to be struck.
    private var strikePending = false
    /// The lowest melody pitch of the last bar that had melody (keeps voicings below it in rests).
    private var lastLowestMelody = Int.max
    /// The last step at which a melody note sounded: after two silent bars the rules stop playing
    /// (and start again with the next melody note).
    private var lastMelodyStep = -1

    public init(configuration: RulesConfiguration = RulesConfiguration(), seed: UInt64 = 0) {
        self.configuration = configuration
        histogram = .allocate(capacity: 12)
        candidateMask = .allocate(capacity: 24 * Self.chordsPerKey)
        candidateRoot = .allocate(capacity: 24 * Self.chordsPerKey)
        candidatePrior = .allocate(capacity: 24 * Self.chordsPerKey)
        noteEnd = .allocate(capacity: 128)
        for k in 0..<24 {
            let key = Key(tonic: k % 12, isMinor: k >= 12)
            for (i, c) in key.diatonicChords.enumerated() {
                candidateMask[k * Self.chordsPerKey + i] = Int(c.chord.pitchClassMask)
                candidateRoot[k * Self.chordsPerKey + i] = c.chord.root
                candidatePrior[k * Self.chordsPerKey + i] = c.prior
            }
        }
        reset(seed: seed)
    }

    deinit {
        histogram.deallocate()
        candidateMask.deallocate()
        candidateRoot.deallocate()
        candidatePrior.deallocate()
        noteEnd.deallocate()
    }

    public func setHarmony(_ stream: ChordStream) { harmony.set(stream) }

    public func chordHint(_ chord: ChordSymbol?, step: Int) { harmony.hint(chord, step: step) }

    public func memoryChord(_ chord: ChartChord?, step: Int) { harmony.remember(chord, step: step) }

    public func reset(seed: UInt64) {
        harmony.reset()
        rng = SplitMix64(seed: seed)
        tracker.reset()
        histogram.update(repeating: 0, count: 12)
        noteEnd.update(repeating: -1, count: 128)
        heardMelody = false
        chordMask = 0
        chordRoot = -1
        lastReactiveBeat = -1
        lastOnsetStep = -1
        lastOnsetPitch = -1
        strikePending = false
        lastLowestMelody = Int.max
        lastMelodyStep = -1
    }

    /// Melody events dropped by a flood (more pending than the queue holds).
    public var droppedMelodyEvents: Int { tracker.droppedEvents }

    public func melodyNoteOn(pitch: Int, velocity: Int, step: Int) {
        tracker.push(pitch: pitch, velocity: max(1, velocity), step: step)
    }

    public func melodyNoteOff(pitch: Int, step: Int) {
        tracker.push(pitch: pitch, velocity: 0, step: step)
    }

    public func generate(step s: Int, into out: EventBuffer) {
        tracker.finalize(before: s) { f, frame in
            for i in 0..<12 { histogram[i] *= 0.999 }
            if frame.pitch >= 0 {
                let pc = Int(frame.pitch) % 12
                histogram[pc] += frame.onset ? 2 : 1
                heardMelody = true
                lastMelodyStep = f
                if frame.onset {
                    lastOnsetStep = f
                    lastOnsetPitch = Int(frame.pitch)
                }
            }
        }
        let config = configuration
        let stepsPerBar = config.beatsPerBar * 8
        // Notes whose time is up end first.
        for p in 0..<128 where noteEnd[p] >= 0 && noteEnd[p] <= s {
            out.append(AccompanimentEvent(step: s, pitch: UInt8(p), velocity: 0))
            noteEnd[p] = -1
        }
        let given = harmony.read(step: s)
        guard heardMelody, s - lastMelodyStep <= 2 * stepsPerBar else { return }

        var strike = false
        let beat = s / 8
        let keyIndex = estimateKeyIndex()
        if let given {
            // The player's chord, struck when it changes (its slash bass is the bass).
            let root: Int
            switch given {
            case .chord(let c): root = c.bass ?? c.root
            case .noChord: root = -1
            }
            if given.toneMask != chordMask || root != chordRoot || harmony.changeStep == s {
                strike = root >= 0
                if root < 0 {
                    // N.C.: what sounds ends, nothing new begins.
                    for p in 0..<128 where noteEnd[p] >= 0 {
                        out.append(AccompanimentEvent(step: s, pitch: UInt8(p), velocity: 0))
                        noteEnd[p] = -1
                    }
                }
            }
            chordMask = given.toneMask
            chordRoot = root
        } else if chordRoot < 0 {
            if s % 8 == 0 { strike = chooseChord(keyIndex: keyIndex, step: s, mustContain: -1) }
        } else if s % config.harmonicRhythm == 0 {
            strike = chooseChord(keyIndex: keyIndex, step: s, mustContain: -1)
        } else if lastOnsetStep == s - 1 && lastReactiveBeat != beat && (chordMask >> (lastOnsetPitch % 12)) & 1 == 0 {
            // A melody note outside the chord just became visible: follow it, once a beat.
            if chooseChord(keyIndex: keyIndex, step: s, mustContain: lastOnsetPitch % 12) {
                strikePending = true
                lastReactiveBeat = beat
            }
        }
        // Strikes stay on the 16th-note grid.
        if strikePending && s % 2 == 0 {
            strike = true
            strikePending = false
        } else if strike && s % 2 != 0 {
            strike = false
            strikePending = true
        }
        guard chordRoot >= 0 else { return }

        let posInBar = s % stepsPerBar
        let beatInBar = posInBar / 8
        let onBeat = posInBar % 8 == 0
        let accent = posInBar == 0 ? 8 : 0
        let ceiling = chordCeiling(step: s)
        var playBass = false, playChord = false, arpeggioIndex = -1
        var length = 8
        switch config.pattern {
        case .block:
            playBass = onBeat && (beatInBar == 0 || strike)
            playChord = onBeat || strike
            length = 8
        case .bassChord:
            let strong = config.beatsPerBar % 2 == 0 ? beatInBar % 2 == 0 : beatInBar == 0
            playBass = onBeat && strong || strike
            playChord = onBeat && !strong || strike
            length = strong ? 16 : 6
        case .broken:
            playBass = posInBar % (config.beatsPerBar % 2 == 0 ? stepsPerBar / 2 : stepsPerBar) == 0 || strike
            if posInBar % 4 == 0 { arpeggioIndex = (posInBar / 4) % 4 }
            if strike { playChord = true }
            length = 4
        }
        if strike {
            // New chord: release what no longer belongs to it.
            for p in 0..<128 where noteEnd[p] >= 0 && (chordMask >> (p % 12)) & 1 == 0 {
                out.append(AccompanimentEvent(step: s, pitch: UInt8(p), velocity: 0))
                noteEnd[p] = -1
            }
        }
        if playBass {
            let bass = config.bassLow + ((chordRoot - config.bassLow % 12) + 12) % 12
            play(bass, step: s, length: config.pattern == .bassChord ? 16 : (config.pattern == .broken ? 16 : 8),
                 velocity: config.velocity + 6 + accent, into: out)
        }
        if playChord {
            var pc = 0
            while pc < 12 {
                if (chordMask >> pc) & 1 != 0 { play(voice(pc, ceiling: ceiling), step: s, length: length, velocity: config.velocity + accent, into: out) }
                pc += 1
            }
        } else if arpeggioIndex >= 0 {
            // Chord tones from low to high, then back: 0 1 2 1.
            var t0 = 0, t1 = 0, t2 = 0, t3 = 0, n = 0
            var pc = 0
            while pc < 12 && n < 4 {
                if (chordMask >> pc) & 1 != 0 {
                    let v = voice(pc, ceiling: ceiling)
                    switch n { case 0: t0 = v; case 1: t1 = v; case 2: t2 = v; default: t3 = v }
                    n += 1
                }
                pc += 1
            }
            let rank = min(arpeggioIndex == 3 ? 1 : arpeggioIndex, n - 1)
            let pick = Self.kthSmallest(rank, t0, t1, t2, t3, count: n)
            play(pick, step: s, length: length, velocity: config.velocity - 4 + accent, into: out)
        }
    }

    /// The k-th smallest (0-based) of the first `count` values, without an array.
    static func kthSmallest(_ k: Int, _ a: Int, _ b: Int, _ c: Int, _ d: Int, count: Int) -> Int {
        for i in 0..<count {
            let v = i == 0 ? a : i == 1 ? b : i == 2 ? c : d
            var less = 0, equalBefore = 0
            for j in 0..<count {
                let w = j == 0 ? a : j == 1 ? b : j == 2 ? c : d
                if w < v { less += 1 } else if w == v && j < i { equalBefore += 1 }
            }
            if less + equalBefore == k { return v }
        }
        return a
    }

    public func allNotesOff(step: Int, into out: EventBuffer) {
        for p in 0..<128 where noteEnd[p] >= 0 {
            out.append(AccompanimentEvent(step: step, pitch: UInt8(p), velocity: 0))
            noteEnd[p] = -1
        }
    }

    // MARK: - Helpers (allocation-free)

    private func play(_ pitch: Int, step: Int, length: Int, velocity: Int, into out: EventBuffer) {
        guard (0..<128).contains(pitch) else { return }
        if noteEnd[pitch] >= 0 { out.append(AccompanimentEvent(step: step, pitch: UInt8(pitch), velocity: 0)) }
        let jitter = Int(rng.next() % 9) - 4
        out.append(AccompanimentEvent(step: step, pitch: UInt8(pitch), velocity: UInt8(max(1, min(127, velocity + jitter)))))
        noteEnd[pitch] = step + length
    }

    /// The highest pitch of pitch class `pc` at or below the ceiling, kept inside the register.
    private func voice(_ pc: Int, ceiling: Int) -> Int {
        var p = ceiling - ((ceiling % 12 - pc) % 12 + 12) % 12
        if p < configuration.lowestChordPitch { p += 12 }
        return p
    }

    private func chordCeiling(step s: Int) -> Int {
        var lowest = Int.max
        let window = configuration.beatsPerBar * 8
        var f = max(0, s - window)
        while f < s {
            if let fr = tracker.frame(at: f), fr.pitch >= 0 { lowest = min(lowest, Int(fr.pitch)) }
            f += 1
        }
        if lowest != Int.max { lastLowestMelody = lowest } else { lowest = lastLowestMelody }
        let limit = lowest == Int.max ? configuration.highestChordPitch : lowest - configuration.gapBelowMelody - 1
        return max(configuration.lowestChordPitch + 11, min(configuration.highestChordPitch, limit))
    }

    private func estimateKeyIndex() -> Int {
        guard let key = Key.estimate(UnsafePointer(histogram)) else { return 0 }
        return key.tonic + (key.isMinor ? 12 : 0)
    }

    /// Picks the chord for `step` from the melody of the last beats; returns whether it changed.
    private func chooseChord(keyIndex: Int, step s: Int, mustContain pc: Int) -> Bool {
        var bestScore = -Double.infinity
        var bestIndex = -1
        for i in 0..<Self.chordsPerKey {
            let idx = keyIndex * Self.chordsPerKey + i
            let mask = candidateMask[idx]
            if pc >= 0 && (mask >> pc) & 1 == 0 { continue }
            var score = 2 * candidatePrior[idx]
            if mask == chordMask { score += 0.5 }
            var weight = 1.0
            var k = 1
            while k <= 16 && s - k >= 0 {
                if let fr = tracker.frame(at: s - k), fr.pitch >= 0 {
                    let w = weight * (fr.onset ? 1.5 : 1.0)
                    score += (mask >> (Int(fr.pitch) % 12)) & 1 != 0 ? w : -0.6 * w
                }
                weight *= 0.9
                k += 1
            }
            if score > bestScore {
                bestScore = score
                bestIndex = idx
            }
        }
        guard bestIndex >= 0 else { return false }
        let changed = candidateMask[bestIndex] != chordMask
        chordMask = candidateMask[bestIndex]
        chordRoot = candidateRoot[bestIndex]
        return changed
    }
}
