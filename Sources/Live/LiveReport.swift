import Config
import Foundation
import Realtime

/// What the daemon says about itself: a snapshot of every counter of the live threads, the
/// `STATUS=` line that `systemctl status` shows, the warnings for what changed since the last
/// look, and the summary at stop. Control thread only (it formats strings).
public struct LiveSnapshot: Equatable, Sendable {
    public var state = EngineStatus.State.listening
    public var bpm = 0.0
    public var steps = 0
    public var notes = 0
    public var lateSteps = 0
    public var panics = 0
    public var worstStepMilliseconds = 0.0
    /// Events the kernel dropped before the reader saw them.
    public var inputOverruns = 0
    /// Events dropped between threads (a ring full) or by the engine (its buffers full).
    public var droppedInput = 0
    public var droppedEngine = 0
    /// Events an output could not take (a full ring, a failed send), by output name.
    public var lostOutput: [String: Int] = [:]
    /// The last step computed (-1 before the first).
    public var lastStep = -1
    /// Whether a left hand is read (a split or a chord channel); its chord hints and the key
    /// sets that made no chord.
    public var readsLeftHand = false
    public var leftHandChords = 0
    public var unrecognizedChords = 0

    public init() {}

    public init(loop: EngineLoop, reader: InputReader, outputs: [any LiveOutput]) {
        let s = loop.status
        state = EngineStatus.State(rawValue: s.state.load(ordering: .relaxed)) ?? .listening
        bpm = Double(s.bpmHundredths.load(ordering: .relaxed)) / 100
        steps = s.stepsGenerated.load(ordering: .relaxed)
        notes = s.notesPlayed.load(ordering: .relaxed)
        lateSteps = s.lateSteps.load(ordering: .relaxed)
        panics = s.panics.load(ordering: .relaxed)
        worstStepMilliseconds = Double(s.maxStepNanoseconds.load(ordering: .relaxed)) / 1e6
        inputOverruns = reader.overruns.load(ordering: .relaxed)
        droppedInput = reader.dropped.load(ordering: .relaxed) + s.droppedMelodyEvents.load(ordering: .relaxed)
            + s.droppedLeftHandEvents.load(ordering: .relaxed)
        droppedEngine = s.droppedEngineEvents.load(ordering: .relaxed)
        lastStep = s.lastStep.load(ordering: .relaxed)
        readsLeftHand = loop.readsLeftHand
        leftHandChords = s.leftHandHints.load(ordering: .relaxed)
        unrecognizedChords = s.unrecognizedChords.load(ordering: .relaxed)
        for o in outputs { lostOutput[o.name] = o.lostEvents }
    }

    var lost: Int { lostOutput.values.reduce(0, +) }

    /// One line for `STATUS=`: state, tempo, counts, and the player's-note latency.
    public func statusLine(melodyLatency: LatencyHistogram?) -> String {
        let state: String
        switch self.state {
        case .listening: state = "listening"
        case .playing: state = "playing"
        case .stopped: state = "stopped by the clock"
        }
        var parts = ["\(state), \(bpm > 0 ? String(format: "%.1f", bpm) : "?") BPM", "\(steps) steps", "\(notes) notes"]
        if readsLeftHand { parts.append("left hand \(leftHandChords) chords, \(unrecognizedChords) unrecognized") }
        if let h = melodyLatency, case let s = h.summary(), s.count > 0 {
            parts.append("\(h.name) p99 \(String(format: "%.2f", s.p99)) ms")
        }
        parts.append("late \(lateSteps), dropped \(inputOverruns + droppedInput + droppedEngine + lost)")
        return parts.joined(separator: "; ")
    }

    /// Warnings and notices for what changed since `before`, one line each.
    public func changes(since before: LiveSnapshot) -> [(warning: Bool, text: String)] {
        var lines: [(Bool, String)] = []
        if inputOverruns > before.inputOverruns { lines.append((true, "input overrun: some MIDI events were lost (\(inputOverruns) overruns so far)")) }
        if droppedInput > before.droppedInput { lines.append((true, "input flood: \(droppedInput - before.droppedInput) events dropped (\(droppedInput) in all)")) }
        if droppedEngine > before.droppedEngine { lines.append((true, "engine buffers full: \(droppedEngine) accompaniment events dropped in all")) }
        if lateSteps > before.lateSteps { lines.append((true, "\(lateSteps - before.lateSteps) steps computed late (\(lateSteps) in all)")) }
        for (name, n) in lostOutput.sorted(by: { $0.key < $1.key }) where n > before.lostOutput[name, default: 0] {
            lines.append((true, "\(name): \(n) events could not be delivered in all"))
        }
        if panics > before.panics { lines.append((false, "panic: all notes off")) }
        if state != before.state {
            switch state {
            case .playing: lines.append((false, "playing (\(String(format: "%.1f", bpm)) BPM)"))
            case .stopped: lines.append((false, "stopped by the external clock"))
            case .listening: break
            }
        }
        return lines
    }

    /// The summary at stop.
    public var summary: String {
        "stopped: \(steps) steps, \(notes) notes, worst step \(String(format: "%.3f", worstStepMilliseconds)) ms, \(lateSteps) late, "
            + "\(inputOverruns) input overruns, \(droppedInput + droppedEngine) events dropped, "
            + "\(lost) not delivered"
            + (readsLeftHand ? "; left hand: \(leftHandChords) chord changes, \(unrecognizedChords) key sets made no chord" : "")
    }
}

/// The chart's end, watched by the control thread: once the engine has computed a step past the
/// chart (`EngineStatus.lastStep`), it says so, once per run of the daemon (a DAW looping over
/// the end would otherwise repeat it every pass). The engine itself needs no message: past the
/// chart it follows the left hand, else the melody (docs/harmony.md, "The chord stream").
public struct ChartEndNotice: Sendable {
    /// The first step after the chart; nil: no chart, nothing to say.
    public let chartEnd: Int?
    public let beatsPerBar: Int
    /// Whether a left hand gives chords past the chart.
    public let leftHand: Bool
    public private(set) var said = false

    public init(chartEnd: Int?, beatsPerBar: Int, leftHand: Bool) {
        self.chartEnd = chartEnd
        self.beatsPerBar = beatsPerBar
        self.leftHand = leftHand
    }

    /// The notice, the first time `lastStep` is at or past the chart's end; else nil.
    public mutating func check(lastStep: Int) -> String? {
        guard !said, let chartEnd, lastStep >= chartEnd else { return nil }
        said = true
        let from = leftHand ? "the left hand, else from the melody" : "the melody"
        return "the performance ran past the chart's end (\(HarmonySettings.describeEnd(chartEnd, beatsPerBar: beatsPerBar))): from there the chords come from \(from)"
    }
}
