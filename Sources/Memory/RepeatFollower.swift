/// Repetition within a take (docs/memory.md, "Within a take"): when a melody passage comes back
/// in the same take (a chorus again, a verse repeated, possibly transposed or varied), the
/// chords estimated for its earlier occurrence give the chords of the beats that follow, a beat
/// ahead, until the melody departs from it.
///
/// **Causal, a beat ahead**, as `MemoryFollower`: beat `b` is planned from the melody of steps
/// `< 8(b − lead)`. The chords of the earlier occurrence are hindsight's estimate
/// (docs/hindsight.md) over the take so far, made at bar lines and read a bar late: the plan of
/// beat `b` reads the estimate that ends at `estimateEnd(forBeat: b)`, made over the melody
/// before that beat, so the daemon's memory thread has a whole bar to make it
/// (`LiveMemory`), and `render` makes the same one.
///
/// **Tolerant**: the last `contextBeats` beats are matched against every earlier place of the
/// take at the same place in the bar that ends before them, as played or transposed by the
/// commonest interval between the two (which must then agree at least `transposedThreshold`),
/// each note a step early or late (`MelodyMatch.agreement`); the best place that
/// agrees at least `threshold` is followed while it agrees at least `keepThreshold`; then it
/// searches again, and meanwhile the melody decides. Its last beat must agree too, so that where
/// the melody departs from the passage the chords fall back to the melody's at once.
///
/// Off the real-time path (it allocates); owned by one thread (the memory thread, or render's).
public final class RepeatFollower {
    public let beatsPerBar: Int
    public var contextBeats = 8
    public var lead = 1
    public var threshold = 0.7
    public var keepThreshold = 0.6
    /// A transposed repeat must agree this much: a diatonic sequence (the phrase a step higher
    /// in the scale, where the chords differ) agrees well short of it, a passage really played
    /// in another key almost wholly.
    public var transposedThreshold = 0.85
    /// The last beat heard must agree this much too (or both rest), so that a melody that
    /// departs from the passage falls back to the melody's own chords at once.
    public var lastBeatThreshold = 0.5
    public var minimumSounding = 16
    public var minimumNotes = 4
    /// The estimate is made over at most this many bars before its end; beats before them keep
    /// the estimate they had (its cost stays bounded in a long take).
    public static let windowBars = 32
    /// Earlier places are searched at most this many beats back (2,048: about 17 minutes at
    /// 120 BPM, longer than any song of POP909): a passage that comes back later than that is not
    /// followed, and a beat costs the same at minute 180 as at minute 1.
    public var searchBeats = 2048

    /// Hindsight's chord-tone probabilities, one row of 12 a beat, for beats `0 ..< estimatedBeats`.
    /// (estimatedBeats, 12)
    private var estimate: [Float] = []
    public private(set) var estimatedBeats = 0
    /// The earlier beat aligned with the next beat to plan, and the transposition to it.
    private var current: (beat: Int, transpose: Int)?
    /// The last beat planned from an earlier place.
    private var lastFollowed = Int.min / 2
    /// Each time a repeat is recognized anew: the beat planned, the earlier beat whose chords it
    /// takes, and the transposition (semitones from the earlier occurrence to now).
    public private(set) var recognitions: [(beat: Int, earlierBeat: Int, transpose: Int)] = []

    public init(beatsPerBar: Int) {
        self.beatsPerBar = max(1, beatsPerBar)
    }

    /// A new take: nothing estimated, nothing followed.
    public func restart() {
        estimate = []
        estimatedBeats = 0
        current = nil
        lastFollowed = Int.min / 2
    }

    /// Where the estimate read by beat `b`'s plan ends (a beat on a bar line): the last bar line
    /// at least a bar before the melody that plan hears ends (`8(b − lead)`); 0 at first.
    public func estimateEnd(forBeat b: Int) -> Int {
        let heard = b - lead
        guard heard >= 2 * beatsPerBar else { return 0 }
        return (heard / beatsPerBar - 1) * beatsPerBar
    }

    /// The first beat the estimate ending at `end` is made over (a bar line).
    public func estimateStart(end: Int) -> Int { Self.estimateStart(end: end, beatsPerBar: beatsPerBar) }

    /// The same, for bars of `beatsPerBar` beats.
    public static func estimateStart(end: Int, beatsPerBar: Int) -> Int { max(0, end - windowBars * max(1, beatsPerBar)) }

    /// Takes the estimate made over beats `estimateStart(end:) ..< end` (`heard`: 12 a beat,
    /// row-major). Beats before them keep their rows.
    public func setEstimate(_ heard: [Float], end: Int) {
        let start = estimateStart(end: end)
        precondition(end >= estimatedBeats && heard.count == 12 * (end - start), "an estimate of the take so far, in order")
        if estimate.count < 12 * end { estimate += [Float](repeating: 0, count: 12 * end - estimate.count) }
        for i in 0..<heard.count { estimate[12 * start + i] = heard[i] }
        estimatedBeats = end
    }

    /// The chord-tone probabilities for beat `b` from an earlier occurrence of the passage the
    /// melody is playing (`melody`: this take's pitch at each step `0 ..< 8(b − lead)`, −1 for a
    /// rest), or nil to let the melody decide. The estimate ending at `estimateEnd(forBeat: b)`
    /// must have been set.
    public func guess(forBeat b: Int, melody: ArraySlice<Int>) -> [Float]? {
        let e = b - lead, c = contextBeats
        precondition(melody.count <= 8 * max(0, e), "the repeat follower may only see the melody `lead` beats before the beat")
        let end = estimateEnd(forBeat: b)
        precondition(estimatedBeats == end, "the estimate beat \(b) reads ends at beat \(end), not \(estimatedBeats)")
        guard e >= 2 * c, melody.count == 8 * e else { current = nil; return nil }
        // The melody from step 0, as a slice: never copied (a long take's is long).
        let pitch = melody.startIndex == 0 ? melody : Array(melody)[...]
        let ctx = pitch[(8 * (e - c))..<(8 * e)]
        guard MelodyMatch.isEvidence(ctx, sounding: minimumSounding, notes: minimumNotes) else { current = nil; return nil }
        defer { if current != nil { lastFollowed = b } }
        // Its last beat agrees with the earlier place's (or both rest).
        func lastBeatAgrees(_ j: Int, _ t: Int) -> Bool {
            MelodyMatch.agreement(ctx.suffix(8), pitch, endingAt: 8 * j, transpose: t, silent: 1) >= lastBeatThreshold
        }
        // The earlier place followed, if the melody still agrees with it.
        if let (j, t) = current, j + 1 <= e - c,
           MelodyMatch.agreement(ctx, pitch, endingAt: 8 * (j + 1), transpose: t) >= keepThreshold, lastBeatAgrees(j + 1, t) {
            current = (j + 1, t)
            return heard(beat: j + 1 + lead, transpose: t, end: end)
        }
        // Else the best earlier place (ties: the latest) whose beats it would take are estimated,
        // its last beat agreeing too.
        var best = (score: -1.0, beat: -1, transpose: 0)
        var j = max(c, e - searchBeats)
        while j <= e - c && j + lead < end {
            if j % beatsPerBar == e % beatsPerBar {
                var place = (score: MelodyMatch.agreement(ctx, pitch, endingAt: 8 * j), transpose: 0)
                let t = MelodyMatch.transposition(ctx, pitch, endingAt: 8 * j)
                if t != 0 {
                    let moved = MelodyMatch.agreement(ctx, pitch, endingAt: 8 * j, transpose: t)
                    if moved >= transposedThreshold && moved > place.score { place = (moved, t) }
                }
                if place.score >= best.score && (place.score < threshold || lastBeatAgrees(j, place.transpose)) {
                    best = (place.score, j, place.transpose)
                }
            }
            j += 1
        }
        guard best.score >= threshold else { current = nil; return nil }
        current = (best.beat, best.transpose)
        // A place found again right after it was lost (the same alignment, within a bar) is not
        // a new recognition.
        let foundAgain = recognitions.last.map {
            $0.beat - $0.earlierBeat == b - (best.beat + lead) && $0.transpose == best.transpose && b - lastFollowed <= beatsPerBar
        } ?? false
        if !foundAgain { recognitions.append((b, best.beat + lead, best.transpose)) }
        return heard(beat: best.beat + lead, transpose: best.transpose, end: end)
    }

    /// The estimate of earlier beat `j`, transposed by `t` (nil past the estimate).
    private func heard(beat j: Int, transpose t: Int, end: Int) -> [Float]? {
        guard j < end else { return nil }
        var pi = [Float](repeating: 0, count: 12)
        for k in 0..<12 { pi[((k + t) % 12 + 12) % 12] = estimate[12 * j + k] }
        return pi
    }

    /// One line for the log of a whole take: how many repeats were recognized, and the first
    /// few (`3 repeats within the take recognized: bar 5 repeats bar 1 of this take; ...`).
    public var summary: String {
        let n = recognitions.count
        let shown = recognitions.indices.prefix(4).map(describeRecognition).joined(separator: "; ")
        return "\(n) repeat\(n == 1 ? "" : "s") within the take recognized: \(shown)\(n > 4 ? "; ..." : "")"
    }

    /// The log line of recognition `i`: `bar 9 repeats bar 1 of this take`, with the
    /// transposition when there is one.
    public func describeRecognition(_ i: Int) -> String {
        let r = recognitions[i]
        return "bar \(r.beat / beatsPerBar + 1) repeats bar \(r.earlierBeat / beatsPerBar + 1) of this take"
            + (r.transpose != 0 ? " (transposed \(r.transpose > 0 ? "+" : "")\(r.transpose))" : "")
    }
}
