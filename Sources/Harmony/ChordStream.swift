/// The chord at each grid step, from a chart, the player's left hand and the melody
/// (docs/harmony.md, "The chord stream").

/// Where a chord came from.
public enum ChordSource: Hashable, Sendable {
    case chart, leftHand, memory, melody
}

/// A source that gives hints as the music goes (a chart is given whole, in advance).
public enum HintSource: Hashable, Sendable {
    case leftHand, melody
}

/// A chord hint: `chord` from step `step` on; a nil chord withdraws the source's earlier hint
/// (a left hand let go, with `release_ends_chord`): from `step` on it says nothing.
public struct ChordHint: Hashable, Sendable {
    public var step: Int
    public var chord: ChordSymbol?
    public init(step: Int, chord: ChordSymbol?) { self.step = step; self.chord = chord }
}

/// Where a step lies in the chart.
public enum ChartPosition: Hashable, Sendable {
    /// The stream has no chart.
    case noChart
    /// Before step 0 (a count-in): the chart has not begun.
    case notStarted
    /// The chart's chord at this step, and the step where it began.
    case chord(ChartChord, since: Int)
    /// Past the chart's last bar: no chart chord (the caller falls back to the melody).
    case pastEnd
}

/// A chart's announcement of what comes next.
public struct ChordAnnouncement: Hashable, Sendable {
    /// The step of the next change.
    public var step: Int
    /// The chord from `step` on; nil when the chart ends at `step`.
    public var chord: ChartChord?
    public init(step: Int, chord: ChartChord?) { self.step = step; self.chord = chord }
}

/// What is known about the harmony when the output of a step is computed.
public struct ChordView: Hashable, Sendable {
    /// The step being computed.
    public var step: Int
    /// The chord for this step after the precedence rule; nil when nothing is known.
    public var chord: ChartChord?
    /// Where `chord` came from; nil with it.
    public var source: ChordSource?
    /// The step from which `chord` holds (a chart change or a hint's step).
    public var since: Int?
    /// The chart's next change, or its end; nil without a chart chord ahead. Only a chart
    /// announces: a left hand or a melody says nothing about what comes next.
    public var next: ChordAnnouncement?
    /// The chart at this step, whatever the precedence rule chose.
    public var chart: ChartPosition
    /// The latest left-hand and melody hints at steps before `step`.
    public var leftHand: ChordHint?
    public var melody: ChordHint?
    /// The rehearsal memory's chord for this step (`remember`), if it gives one.
    public var memory: ChartChord?
}

/// The per-step chord stream.
///
/// **Causality.** A hint is placed on the step of its timestamp (the nearest step, as melody
/// notes are, docs/design.md). `known(before: s)`, the one way to read the stream, sees only hints
/// of steps `< s`: a hint at step `s` is invisible to step `s` and visible to `s + 1`, wherever in
/// the sequence of calls it was given. A chart is the exception, by design: it is a plan known in
/// advance, so the view of step `s` holds the chart's chord **at** `s` and announces the next
/// change (`next`).
///
/// **Precedence.** Where the chart has a chord at `s` (N.C. included), it holds, unless the
/// player's left hand gave a chord at or after the step where that chart chord began: then the
/// left hand holds until the chart's next change. Where the chart has no chord (no chart, before
/// step 0, past its end), the latest left-hand hint holds if it came at or after the point where
/// the chart stopped covering (any, without a chart); else the rehearsal memory's chord for the
/// step; else the latest melody hint; else nothing.
///
/// **The rehearsal memory** (docs/memory.md) is a plan made as the music goes: `remember(_:at:)`
/// gives the chord for steps from `at` on, like a chart's, and must be called before the output
/// of step `at` is computed, from what was played before it (the follower's causality).
///
/// `known(before:)` allocates nothing (binary searches over arrays). `hint` appends to arrays,
/// which allocate as they grow; `reserveHints` reserves room beforehand.
public struct ChordStream: Sendable {
    let changes: [ChordChange]
    /// The first step after the chart; 0 without a chart.
    public let chartEnd: Int
    public let hasChart: Bool
    var leftHandHints: [ChordHint] = []
    var melodyHints: [ChordHint] = []
    /// The memory's plan: its chord from each step on (nil: it says nothing), ascending steps.
    var memoryPlan: [(step: Int, chord: ChartChord?)] = []

    /// A stream without a chart: only hints.
    public init() {
        changes = []
        chartEnd = 0
        hasChart = false
    }

    /// A stream over `chart` in bars of `beatsPerBar` beats; bar 1 begins at step 0.
    public init(chart: ChordChart, beatsPerBar: Int) throws(ChartError) {
        let steps = try chart.steps(beatsPerBar: beatsPerBar)
        self.init(changes: try chart.changes(beatsPerBar: beatsPerBar), end: steps.count)
    }

    /// A stream over any timeline of changes (ascending steps, the first at step 0) ending at `end`.
    public init(changes: [ChordChange], end: Int) {
        precondition(changes.first?.step == 0 && zip(changes, changes.dropFirst()).allSatisfy { $0.step < $1.step },
                     "chord changes must begin at step 0 and ascend")
        precondition(end > changes.last!.step, "the timeline must end after its last change")
        self.changes = changes
        chartEnd = end
        hasChart = true
    }

    /// Room for this many hints of each source.
    public mutating func reserveHints(_ n: Int) {
        leftHandHints.reserveCapacity(n)
        melodyHints.reserveCapacity(n)
        memoryPlan.reserveCapacity(n)
    }

    /// Forgets every hint, keeps the chart and the room reserved (a new performance).
    public mutating func clearHints() {
        leftHandHints.removeAll(keepingCapacity: true)
        melodyHints.removeAll(keepingCapacity: true)
        memoryPlan.removeAll(keepingCapacity: true)
    }

    /// The rehearsal memory's chord from step `step` on (nil: the memory says nothing from
    /// there). Steps ascend; a second plan for the same step replaces the first.
    public mutating func remember(_ chord: ChartChord?, at step: Int) {
        precondition(memoryPlan.last.map { $0.step <= step } ?? true, "the memory plans forward")
        if memoryPlan.last?.step == step { memoryPlan.removeLast() }
        if memoryPlan.last.map({ $0.chord == chord }) ?? (chord == nil) { return }
        memoryPlan.append((step, chord))
    }

    /// Forgets the hints no view of a step `>= step` can see any more (all but the latest before
    /// `step`), so that a stream fed for hours keeps within the room reserved. In place: no
    /// allocation.
    public mutating func forgetHints(before step: Int) {
        Self.forget(&leftHandHints, before: step)
        Self.forget(&melodyHints, before: step)
        var lo = 0
        while lo + 1 < memoryPlan.count && memoryPlan[lo + 1].step <= step { lo += 1 }
        if lo > 0 { memoryPlan.removeFirst(lo) }
    }

    static func forget(_ hints: inout [ChordHint], before step: Int) {
        var lo = 0, hi = hints.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if hints[mid].step < step { lo = mid + 1 } else { hi = mid }
        }
        if lo > 1 { hints.removeFirst(lo - 1) }
    }

    /// Hints held (both sources).
    public var hintCount: Int { leftHandHints.count + melodyHints.count + memoryPlan.count }

    /// Gives a hint at `step` (the step of its timestamp); nil withdraws the source's chord.
    /// Hints may come in any order; two at the same step: the later call wins.
    public mutating func hint(_ chord: ChordSymbol?, from source: HintSource, at step: Int) {
        let h = ChordHint(step: step, chord: chord)
        switch source {
        case .leftHand: Self.insert(h, into: &leftHandHints)
        case .melody: Self.insert(h, into: &melodyHints)
        }
    }

    /// What the output of step `s` may know: hints of steps `< s`, and the chart at `s` with its
    /// next change.
    public func known(before s: Int) -> ChordView {
        let leftHand = Self.latest(leftHandHints, before: s)
        let melody = Self.latest(melodyHints, before: s)
        var memory: (step: Int, chord: ChartChord?)?
        if let last = memoryPlan.last, last.step <= s {
            memory = last
        } else {
            var lo = 0, hi = memoryPlan.count
            while lo < hi {
                let mid = (lo + hi) / 2
                if memoryPlan[mid].step <= s { lo = mid + 1 } else { hi = mid }
            }
            memory = lo > 0 ? memoryPlan[lo - 1] : nil
        }
        var view = ChordView(step: s, chord: nil, source: nil, since: nil, next: nil, chart: .noChart,
                             leftHand: leftHand, melody: melody, memory: memory?.chord)
        // Where the chart stopped covering, for the no-chart-chord case (Int.min: never covered).
        var uncoveredSince = Int.min
        if hasChart {
            if s < 0 {
                view.chart = .notStarted
                view.next = ChordAnnouncement(step: 0, chord: changes[0].chord)
            } else if s >= chartEnd {
                view.chart = .pastEnd
                uncoveredSince = chartEnd
            } else {
                let i = Self.lastIndex(changes, atOrBefore: s)
                let change = changes[i]
                view.chart = .chord(change.chord, since: change.step)
                view.next = i + 1 < changes.count
                    ? ChordAnnouncement(step: changes[i + 1].step, chord: changes[i + 1].chord)
                    : ChordAnnouncement(step: chartEnd, chord: nil)
                // A hint at step h counts from h + 1 (LeftHand places a chord struck on the
                // change's beat at change − 1: it overrides the chart's new chord).
                if let lh = leftHand, let chord = lh.chord, lh.step + 1 >= change.step {
                    view.chord = .chord(chord); view.source = .leftHand; view.since = lh.step
                } else {
                    view.chord = change.chord; view.source = .chart; view.since = change.step
                }
                return view
            }
        }
        if let lh = leftHand, let chord = lh.chord, lh.step + 1 >= uncoveredSince {
            view.chord = .chord(chord); view.source = .leftHand; view.since = lh.step
        } else if let m = memory, let chord = m.chord {
            view.chord = chord; view.source = .memory; view.since = m.step
        } else if let m = melody, let chord = m.chord {
            view.chord = .chord(chord); view.source = .melody; view.since = m.step
        }
        return view
    }

    /// Keeps `hints` sorted by step, a new hint after those of the same step.
    static func insert(_ h: ChordHint, into hints: inout [ChordHint]) {
        if let last = hints.last, last.step > h.step {
            var lo = 0, hi = hints.count
            while lo < hi {
                let mid = (lo + hi) / 2
                if hints[mid].step <= h.step { lo = mid + 1 } else { hi = mid }
            }
            hints.insert(h, at: lo)
        } else {
            hints.append(h)
        }
    }

    /// The last hint with step `< s`.
    static func latest(_ hints: [ChordHint], before s: Int) -> ChordHint? {
        var lo = 0, hi = hints.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if hints[mid].step < s { lo = mid + 1 } else { hi = mid }
        }
        return lo > 0 ? hints[lo - 1] : nil
    }

    /// The index of the last change with step `<= s` (there is one: changes begin at 0 ≤ s).
    static func lastIndex(_ changes: [ChordChange], atOrBefore s: Int) -> Int {
        var lo = 0, hi = changes.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if changes[mid].step <= s { lo = mid + 1 } else { hi = mid }
        }
        return lo - 1
    }
}
