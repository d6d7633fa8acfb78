/// Encode and decode of docs/tokens.md: timed notes ↔ accompaniment tokens.
public enum TokenCodec {
    /// The tokens of an accompaniment, with their times, starting with BOS.
    ///
    /// - Parameters:
    ///   - accompaniment: notes on the grid (normalised here).
    ///   - melodyFrames: the melody frames; their onsets add cut points for time shifts.
    ///   - endStep: where the token stream stops; at least the last accompaniment event.
    public static func encode(accompaniment: [GridNote], melodyFrames: [MelodyFrame], endStep: Int) -> [TimedToken] {
        let notes = NoteNormalizer.normalize(accompaniment)
        var offsAt: [Int: [Int]] = [:]
        var onsAt: [Int: [GridNote]] = [:]
        for n in notes {
            offsAt[n.end, default: []].append(n.pitch)
            onsAt[n.start, default: []].append(n)
        }
        var eventTimes = Set(offsAt.keys).union(onsAt.keys).sorted()
        if endStep > (eventTimes.last ?? 0) { eventTimes.append(endStep) }
        let cuts = MelodyFrames.visibilitySteps(melodyFrames)

        var out: [TimedToken] = [TimedToken(id: Vocabulary.bos, time: 0)]
        var t = 0
        var velocityBin: Int? = nil
        for e in eventTimes {
            appendShifts(from: t, to: e, cuts: cuts, into: &out)
            t = e
            for p in (offsAt[e] ?? []).sorted() { out.append(TimedToken(id: Vocabulary.noteOff(p), time: e)) }
            for n in (onsAt[e] ?? []).sorted(by: { $0.pitch < $1.pitch }) {
                let b = Vocabulary.velocityBin(n.velocity)
                if b != velocityBin {
                    out.append(TimedToken(id: Vocabulary.velocity(bin: b), time: e))
                    velocityBin = b
                }
                out.append(TimedToken(id: Vocabulary.noteOn(n.pitch), time: e))
            }
        }
        return out
    }

    /// Whether a time shift must stop at step `c`: a beat boundary or a step where a melody note
    /// becomes visible.
    @inlinable
    public static func isCutPoint(_ c: Int, visibility: Set<Int>) -> Bool {
        c % 8 == 0 || visibility.contains(c)
    }

    static func appendShifts(from a: Int, to b: Int, cuts: Set<Int>, into out: inout [TimedToken]) {
        var t = a
        while t < b {
            var next = t + 1
            while next < b && next - t < Vocabulary.maxTimeShift && !isCutPoint(next, visibility: cuts) { next += 1 }
            out.append(TimedToken(id: Vocabulary.timeShift(next - t), time: t))
            t = next
        }
    }

    /// The notes a token stream plays (docs/tokens.md "Decode").
    public static func decode(_ tokens: [Int]) -> [GridNote] {
        var t = 0
        var velocity = 64
        var open: [Int: (start: Int, velocity: Int)] = [:]
        var notes: [GridNote] = []
        func close(_ p: Int, at end: Int) {
            if let o = open.removeValue(forKey: p) {
                notes.append(GridNote(pitch: p, start: o.start, end: max(end, o.start + 1), velocity: o.velocity))
            }
        }
        for id in tokens {
            guard let token = Token(id: id) else { continue }
            switch token {
            case .noteOn(let p):
                if let o = open[p] {
                    if o.start == t { continue }  // same-step duplicate
                    close(p, at: t)
                }
                open[p] = (t, velocity)
            case .noteOff(let p): close(p, at: t)
            case .timeShift(let n): t += n
            case .velocity(let b): velocity = Vocabulary.velocity(ofBin: b)
            case .pad, .bos, .eos: break
            }
        }
        for p in open.keys.sorted() { close(p, at: t) }
        return notes.sorted()
    }

    /// Each token's time, replayed from the ids alone (BOS at 0, shifts at their start).
    public static func times(_ tokens: [Int]) -> [Int] {
        var t = 0
        return tokens.map { id in
            defer { if case .timeShift(let n)? = Token(id: id) { t += n } }
            return t
        }
    }
}

import MIDI

/// A song as the model sees it: melody frames and accompaniment tokens on one grid.
public struct TokenizedSong: Equatable, Sendable {
    public var frames: [MelodyFrame]
    public var tokens: [TimedToken]
    /// One past the last step any note sounds.
    public var endStep: Int

    /// docs/tokens.md applied to MIDI notes (placed on the grid by their ticks).
    public init(melody: [Note], accompaniment: [Note], ticksPerQuarter ppq: Int) {
        let m = NoteNormalizer.normalize(melody.map { GridNote($0, ticksPerQuarter: ppq) })
        let a = NoteNormalizer.normalize(accompaniment.map { GridNote($0, ticksPerQuarter: ppq) })
        endStep = max(m.map(\.end).max() ?? 0, a.map(\.end).max() ?? 0)
        frames = MelodyFrames.frames(m, endStep: endStep)
        tokens = TokenCodec.encode(accompaniment: a, melodyFrames: frames, endStep: endStep)
    }
}
