import Harmony

/// Follows a take against the takes the memory keeps (docs/memory.md, "Following"): a beat
/// ahead of each beat it looks at the melody of the last `contextBeats` beats, finds where a
/// stored take played the same, and gives that take's chord for the beat after the next.
///
/// **Causal, a beat ahead**: the chord for beat `b` comes from the melody of steps
/// `< 8(b − lead)` (the caller passes only those) and from earlier takes. The lead of one beat
/// gives the live daemon's memory thread a whole beat to plan beat `b` while beat `b − 1` is
/// played, and `render --memory` plans the same way, so live equals render.
///
/// **Tolerant**: a context matches when, of the steps where either melody sounds, at least
/// `threshold` agree, each note a step early or late (`MelodyMatch.agreement`); so a few wrong,
/// dropped or ornamental notes do not break it, and a skipped or added intro only moves where it
/// matches. It keeps following the takes it found (every take of the song that agrees: they
/// merge, docs/memory.md "Takes of one song") while the melody agrees with them (at least
/// `keepThreshold`; a rest in both agrees), and searches again when it departs (a jump to another
/// section, or another song): the chord falls back to the melody at once. For `resumeBeats`
/// after that, the place it had wins the search unless another agrees `resumeMargin` better: a
/// song's repeated sections agree alike, and only where the song is tells them apart.
///
/// Off the real-time path (`render --memory`, the daemon's memory thread): it allocates, and
/// takes up to a few ms a beat with a full memory (docs/bench.md).
public final class MemoryFollower {
    struct Song {
        let take: Take
        /// The melody's pitch at each step, −1 for a rest. (steps,)
        let pitch: [Int]
        /// One chord a beat, nil where the take's chords say nothing. (beats,)
        let chords: [ChartChord?]
        /// Hindsight's chord-tone probabilities a beat, when its chords are an estimate. (beats, 12)
        let heard: [Float]?
    }

    /// What the memory says about a beat: a chord it knows (a chart or a left hand played it),
    /// or, where its chords are a hindsight estimate, each pitch class's probability of being a
    /// chord tone (12).
    public enum Guess: Equatable {
        case chord(ChartChord)
        case heard([Float])
    }

    public var contextBeats = 8
    /// Beats between the last melody heard and the beat planned (0: the beat right after it).
    public var lead = 1
    public var threshold = 0.8
    public var keepThreshold = 0.6
    /// Least sounding steps and notes in the context for a match: a few long notes are too
    /// little evidence (two random notes match somewhere in a song more often than not).
    public var minimumSounding = 16
    public var minimumNotes = 4
    /// A song is recognized anew only from a context of at least this many notes of this many
    /// different pitches (a place just lost is found again from less).
    public var recognitionNotes = 6
    public var recognitionPitches = 3
    let songs: [Song]
    let beatsPerBar: Int
    /// The takes being followed, the best-agreeing first (every stored take of the song that
    /// agrees: they merge), each with its beat aligned with the next beat to play.
    private var current: [(song: Int, beat: Int)] = []
    /// The places followed until the melody last departed from them, aligned with the next beat
    /// to play, and the plans since: for `resumeBeats` beats, they are found again first.
    private var lost: [(song: Int, beat: Int)] = []
    private var lostBeats = 0
    /// Beats a lost place is remembered, and how much better another place must agree to win
    /// over it (a song's repeated sections agree alike).
    public var resumeBeats = 16
    public var resumeMargin = 0.1

    /// Each time a song is recognized anew: the beat planned here, the take that agrees best and
    /// its beat there, and how many stored takes agree (the song's takes that merge).
    public private(set) var recognitions: [(beat: Int, take: Take, storedBeat: Int, takes: Int)] = []
    /// Beats planned from a stored take (a guess given), since `init`.
    public private(set) var followedBeats = 0

    /// Follows against `takes` whose chords are known (ground truth or estimated; takes without
    /// chords are left out). `beatsPerBar` of the take being played: takes of another metre are
    /// left out.
    public init(takes: [Take], beatsPerBar: Int) {
        self.beatsPerBar = beatsPerBar
        songs = takes.filter { $0.chordSource != .none && $0.beatsPerBar == beatsPerBar }.map { t in
            var pitch = [Int](repeating: -1, count: t.steps)
            for n in t.melody where n.start < t.steps {
                for s in n.start..<min(n.end, t.steps) where pitch[s] < n.pitch { pitch[s] = n.pitch }
            }
            let chords = t.chords.map { $0.isEmpty ? nil : try? ChartChord(parsing: $0) }
            let heard = t.chordSource == .hindsight ? t.heard.map { $0.map { Float($0) / 1000 } } : nil
            return Song(take: t, pitch: pitch, chords: chords, heard: heard)
        }
    }

    /// Takes it can follow.
    public var count: Int { songs.count }

    /// A new performance: it follows nothing until it recognizes a take again.
    public func restart() {
        current = []
        lost = []
    }

    /// The chord for beat `b` from the melody `lead` beats before it (`melody`: the pitch at each
    /// step `0 ..< 8(b − lead)`, −1 for a rest; longer is a caller's error), or nil to let the
    /// melody decide.
    public func chord(forBeat b: Int, melody: ArraySlice<Int>) -> ChartChord? {
        switch guess(forBeat: b, melody: melody) {
        case .chord(let c)?: return c
        default: return nil
        }
    }

    /// What the memory says about beat `b` from the melody `lead` beats before it (as
    /// `chord(forBeat:)`): nil to let the melody decide.
    public func guess(forBeat b: Int, melody: ArraySlice<Int>) -> Guess? {
        let e = b - lead    // the context ends where beat e begins; stored beat j + lead is planned
        precondition(melody.count <= 8 * max(0, e), "the follower may only see the melody `lead` beats before the beat")
        let c = contextBeats
        guard e >= c, !songs.isEmpty, melody.count == 8 * e else {
            current = []
            lost = []
            return nil
        }
        let ctx = melody[(melody.startIndex + 8 * (e - c))..<(melody.startIndex + 8 * e)]
        // The takes followed that still agree are followed on; through a rest too (an interlude,
        // a breath: both silent agree), but not where the stored take sounds and the player rests.
        let kept = current.filter {
            $0.beat + 1 <= songs[$0.song].chords.count && similarity(ctx, songs[$0.song], endingAt: $0.beat, silent: 1) >= keepThreshold
        }
        if !kept.isEmpty {
            current = kept.map { ($0.song, $0.beat + 1) }
            lost = []
            return counted(merged(kept.map { ($0.song, $0.beat + lead) }))
        }
        // Places just lost (a beat played wrong) are remembered a while, each kept aligned.
        if !current.isEmpty { lost = current; lostBeats = 0 } else if !lost.isEmpty {
            lostBeats += 1
            lost = lostBeats <= resumeBeats ? lost.map { ($0.song, $0.beat + 1) } : []
        }
        current = []
        guard ctx.count == 8 * c, MelodyMatch.isEvidence(ctx, sounding: minimumSounding, notes: minimumNotes) else { return nil }
        // A new recognition needs more: a few long or repeated notes recur in other songs.
        let strong = MelodyMatch.isEvidence(ctx, sounding: minimumSounding, notes: recognitionNotes)
            && MelodyMatch.pitches(in: ctx) >= recognitionPitches
        guard strong || !lost.isEmpty else { return nil }
        // Else each take's best place (at the same place in the bar); every take that agrees. A
        // place just lost, where it would be now, wins over others that agree no better by
        // `resumeMargin`: a song's repeated sections agree alike, and only the alignment it had
        // tells its second chorus from its first.
        var found: [(score: Double, song: Int, beat: Int)] = []
        for (k, song) in songs.enumerated() {
            var best = (score: -1.0, rank: -1.0, beat: -1)
            let beats = min(song.chords.count, song.pitch.count / 8)
            let resume = lost.first { $0.song == k }?.beat ?? -1
            var j = c
            while j < beats {
                if j % beatsPerBar == e % beatsPerBar && (strong || j == resume) {
                    let score = similarity(ctx, song, endingAt: j)
                    let rank = score + (j == resume ? resumeMargin : 0)
                    if rank > best.rank { best = (score, rank, j) }
                }
                j += 1
            }
            if best.score >= threshold { found.append((best.score, k, best.beat)) }
        }
        guard !found.isEmpty else { return nil }
        found.sort { ($0.score, -$0.song) > ($1.score, -$1.song) }   // the best first; ties: the older take
        let resumed = lost.contains { $0.song == found[0].song && $0.beat == found[0].beat }
        current = found.map { ($0.song, $0.beat + 1) }
        lost = []
        if !resumed { recognitions.append((b, songs[found[0].song].take, found[0].beat + lead, found.count)) }
        return counted(merged(found.map { ($0.song, $0.beat + lead) }))
    }

    private func counted(_ g: Guess?) -> Guess? {
        if g != nil { followedBeats += 1 }
        return g
    }

    /// What the takes followed say about the beat planned (`places`: each take and its beat
    /// there, the best-agreeing first), merged (docs/memory.md, "Takes of one song"): a chord a
    /// chart or a left hand gave is ground truth, and where takes differ the chord most of them
    /// give wins (ties: the best-agreeing take's); where none gave one, the hindsight estimates
    /// of those that have one are averaged (tones they agree on stay sure, the others do not).
    func merged(_ places: [(song: Int, beat: Int)]) -> Guess? {
        var votes: [(chord: ChartChord, count: Int)] = []
        for (k, j) in places where songs[k].heard == nil && j < songs[k].chords.count {
            guard let c = songs[k].chords[j] else { continue }
            if let i = votes.firstIndex(where: { $0.chord == c }) { votes[i].count += 1 } else { votes.append((c, 1)) }
        }
        if let most = votes.map(\.count).max(), let best = votes.first(where: { $0.count == most }) {
            return .chord(best.chord)   // votes are in the order of `places`: ties go to the best-agreeing take
        }
        var sum = [Float](repeating: 0, count: 12), n = 0
        for (k, j) in places where j < songs[k].chords.count {
            guard let h = songs[k].heard, h.count >= 12 * (j + 1) else { continue }
            for t in 0..<12 { sum[t] += h[12 * j + t] }
            n += 1
        }
        return n > 0 ? .heard(sum.map { $0 / Float(n) }) : nil
    }

    /// The log line of recognition `i`: `bar 3 recognized as take ID (source), its bar 3`, and
    /// `; 2 takes of the song agree` when several merge.
    public func describeRecognition(_ i: Int) -> String {
        let r = recognitions[i]
        return "bar \(r.beat / beatsPerBar + 1) recognized as take \(r.take.id) (\(r.take.source)), its bar \(r.storedBeat / beatsPerBar + 1)"
            + (r.takes > 1 ? "; \(r.takes) takes of the song agree" : "")
    }

    /// How well `ctx` agrees with the stored take's `contextBeats` beats before its beat `j`
    /// (`MelodyMatch.agreement`).
    func similarity(_ ctx: ArraySlice<Int>, _ song: Song, endingAt j: Int, silent: Double = 0) -> Double {
        MelodyMatch.agreement(ctx, song.pitch, endingAt: 8 * j, silent: silent)
    }
}
