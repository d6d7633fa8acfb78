/// How two melodies on the grid are compared, by the rehearsal memory across takes
/// (`MemoryFollower`) and within one (`RepeatFollower`): docs/memory.md, "Following".
/// Melodies are the pitch at each grid step, −1 for a rest.
enum MelodyMatch {
    /// Notes begun in a context: sounding steps whose pitch differs from the step before.
    static func notes(in ctx: ArraySlice<Int>) -> Int {
        var n = 0, previous = -1
        for p in ctx {
            if p >= 0 && p != previous { n += 1 }
            previous = p
        }
        return n
    }

    /// Different pitches sounding in a context.
    static func pitches(in ctx: ArraySlice<Int>) -> Int {
        Set(ctx.filter { $0 >= 0 }).count
    }

    /// Whether a context holds enough to be matched: at least `sounding` sounding steps and
    /// `notes` notes (a few long notes are too little evidence: two random notes match somewhere
    /// in a song more often than not).
    static func isEvidence(_ ctx: ArraySlice<Int>, sounding: Int, notes minimum: Int) -> Bool {
        ctx.filter { $0 >= 0 }.count >= sounding && notes(in: ctx) >= minimum
    }

    /// How well `ctx` agrees with `pitch`'s `ctx.count` steps before step `end`, with `transpose`
    /// semitones added to `pitch`: of the steps where either melody sounds, the share where they
    /// agree (rests agreeing with rests prove nothing); `silent` where neither sounds at all.
    /// Each note may start or end a step early or late (timing jitter, note by note): a step
    /// agrees when `ctx` there sounds the pitch `pitch` sounds on that step or a step next to it,
    /// or rests where `pitch` rests on a step next to it.
    static func agreement(_ ctx: ArraySlice<Int>, _ pitch: [Int], endingAt end: Int, transpose: Int = 0, silent: Double = 0) -> Double {
        agreement(ctx, pitch[...], endingAt: end, transpose: transpose, silent: silent)
    }

    /// The same over a slice that begins at step 0 (`pitch.startIndex == 0`): no copy of a long
    /// take's melody at each beat.
    static func agreement(_ ctx: ArraySlice<Int>, _ pitch: ArraySlice<Int>, endingAt end: Int, transpose: Int = 0, silent: Double = 0) -> Double {
        precondition(pitch.startIndex == 0, "a melody from step 0")
        let n = ctx.count, start = end - n
        guard start >= 0, end <= pitch.count else { return 0 }
        var same = 0, sounding = 0
        var i = ctx.startIndex
        for t in start..<end {
            let a = pitch[t], b = ctx[i]
            i += 1
            guard a >= 0 || b >= 0 else { continue }
            sounding += 1
            for u in max(0, t - 1)...min(pitch.count - 1, t + 1) {
                let p = pitch[u]
                if (b >= 0 && p >= 0 && p + transpose == b) || (b < 0 && p < 0) { same += 1; break }
            }
        }
        return sounding > 0 ? Double(same) / Double(sounding) : silent
    }

    /// The transposition that makes `pitch`'s `ctx.count` steps before `end` sound most like
    /// `ctx`: the commonest difference (ctx − pitch) where both sound, within an octave either
    /// way; 0 when they never sound together.
    static func transposition(_ ctx: ArraySlice<Int>, _ pitch: ArraySlice<Int>, endingAt end: Int) -> Int {
        precondition(pitch.startIndex == 0, "a melody from step 0")
        let start = end - ctx.count
        guard start >= 0, end <= pitch.count else { return 0 }
        var count = [Int](repeating: 0, count: 25)   // differences −12 ... 12
        var i = ctx.startIndex
        for t in start..<end {
            let a = pitch[t], b = ctx[i]
            if a >= 0 && b >= 0 && abs(b - a) <= 12 { count[b - a + 12] += 1 }
            i += 1
        }
        var best = 12
        for d in 0..<25 where count[d] > count[best] { best = d }
        return best - 12
    }
}
