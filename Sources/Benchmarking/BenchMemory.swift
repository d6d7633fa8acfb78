import Config
import Engine
import Foundation
import Harmony
import Hindsight
import Kernels
import Logging
import Memory
import Model
import Realtime

extension BenchRun {
    /// The rehearsal memory with `count` stored takes (issue #11: "per-step p99 < 1 ms with a
    /// memory of 200 songs loaded"). The takes are songs cut from the bench melody (a window of
    /// 2,800 steps, about 3.5 minutes at 100 BPM, from a different place each, transposed by the
    /// take's number mod 12, with a chart's chords); the performance is the first take's melody.
    /// It measures, as the daemon's threads do the work:
    /// - the memory thread (`LiveMemory.process`) per beat: the take's melody rebuilt and the
    ///   follower's plan for the next beat, against a beat's time; with repeats within the take
    ///   (the hindsight model found), the estimate of the take so far is made on this thread at
    ///   each bar line (the daemon's worker thread makes it a bar ahead), timed apart;
    /// - the engine thread per grid step while it follows, each beat's plan applied in the step.
    func memoryRun(takes count: Int, precision p: WeightPrecision, modelPath: String, events: [Event], steps: Int) throws {
        let songSteps = Swift.min(2800, steps)
        var takes: [Take] = []
        takes.reserveCapacity(count)
        let symbols = ["C", "Am", "F", "G", "Dm", "E7", "Bb", "Cmaj7"]
        for k in 0..<count {
            let start = steps > songSteps ? (k * 797) % (steps - songSteps) : 0
            var open: [Int: Int] = [:]
            var notes: [Take.Note] = []
            for e in events where Int(e.step) >= start && Int(e.step) < start + songSteps {
                let pitch = Int(e.pitch) + k % 12, s = Int(e.step) - start
                if e.velocity > 0 { open[pitch] = s } else if let b = open.removeValue(forKey: pitch), s > b { notes.append(.init(pitch: pitch, start: b, end: s)) }
            }
            let chords = (0..<(songSteps / 8)).map { symbols[($0 / 4 + k) % symbols.count] }
            takes.append(Take(source: "bench \(k)", beatsPerBar: 4, bpm: 100, steps: songSteps, melody: notes.sorted { ($0.start, $0.pitch) < ($1.start, $1.pitch) },
                              chords: chords, chordSource: .chart))
        }
        let performance = takes[0]
        print(String(format: "\n[rehearsal memory, %@]: %d takes of %d steps (%d melody notes in all), the performance is take 1 again",
                     p.rawValue, count, songSteps, takes.reduce(0) { $0 + $1.melody.count }))

        // The memory thread: its ring fed as the engine thread feeds it, one beat at a time.
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("accompanist-bench-memory-\(getpid())")
        defer { try? FileManager.default.removeItem(at: dir) }
        let recorder = TakeRecorder(store: MemoryStore(directory: dir), chart: ChordStream(), beatsPerBar: 4, bpm: { 100 }, hindsightModel: nil)
        let guesses = SPSCRing<MemoryGuess>(capacity: 1 << 14)
        let t0 = MachineProbe.now()
        let hindsight = HindsightModel.find()
        let memory = LiveMemory(recorder: recorder, takes: takes, beatsPerBar: 4, guesses: guesses,
                                log: Logger(label: "bench", factory: { _ in SwiftLogNoOpLogHandler() }), repeats: hindsight)
        let loadSeconds = MachineProbe.now() - t0
        let ring = SPSCRing<TakeEvent>(capacity: 1 << 16)
        var keys: [(step: Int, pitch: Int, velocity: Int)] = []
        for n in performance.melody { keys.append((n.start, n.pitch, 80)); keys.append((n.end, n.pitch, 0)) }
        keys.sort { ($0.step, $0.velocity) < ($1.step, $1.velocity) }
        var perBeat: [Double] = [], atBarLines: [Double] = []
        var next = 0
        for b in 0..<(songSteps / 8) {
            while next < keys.count && keys[next].step < 8 * b {
                let k = keys[next]
                _ = ring.push(TakeEvent(kind: k.velocity > 0 ? .noteOn : .noteOff, step: k.step, pitch: k.pitch, velocity: k.velocity))
                next += 1
            }
            _ = ring.push(TakeEvent(kind: .beat, step: 8 * b))
            let t = MachineProbe.now()
            memory.process(ring)
            // A bar line's plan reads a new estimate: made here, as the worker would.
            if hindsight != nil && b % 4 == 0 { atBarLines.append(MachineProbe.now() - t) } else { perBeat.append(MachineProbe.now() - t) }
        }
        var plans: [MemoryGuess] = []
        while let g = guesses.pop() { plans.append(g) }
        let followed = plans.filter { $0.kind != .none }.count
        let beat = Stats(perBeat)
        print(String(format: "  memory thread per beat (the melody so far rebuilt, the next beat planned%@): p50 %.2f ms  p99 %.2f ms  max %.2f ms   (%d beats; a beat is 500 ms at 120 BPM)",
                     hindsight == nil ? "" : ", the take followed against itself", beat.p50 * 1e3, beat.p99 * 1e3, beat.max * 1e3, perBeat.count))
        if !atBarLines.isEmpty {
            let bar = Stats(atBarLines)
            print(String(format: "  the same at bar lines, with hindsight's estimate of the take so far (up to 32 bars; the daemon's worker makes it a bar ahead): p50 %.1f ms  p99 %.1f ms  max %.1f ms   (%d bars; a bar is 2 s at 120 BPM)",
                         bar.p50 * 1e3, bar.p99 * 1e3, bar.max * 1e3, atBarLines.count))
        } else {
            print("  (no hindsight model found: repeats within the take not measured)")
        }
        print(String(format: "  takes loaded into the follower in %.2f s; beats planned from the memory: %d of %d", loadSeconds, followed, plans.count))

        // The engine thread, following: each beat's plan applied in its first step.
        let engine = try ShippedModel.engine(path: modelPath, precision: p, configuration: try DaemonConfig().engineSettings(forModelAt: modelPath).neural, seed: seed)
        let melody: [Event] = keys.map { Event(step: Int32($0.step), pitch: Int16($0.pitch), velocity: Int16($0.velocity)) }
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: 12)
        defer { scratch.deallocate() }
        var planIndex = 0
        let r = BenchRun.drive(engine, events: melody, steps: songSteps, seed: seed) { s in
            guard s % 8 == 0 else { return }
            while planIndex < plans.count && Int(plans[planIndex].beat) < s / 8 { planIndex += 1 }
            if planIndex < plans.count && Int(plans[planIndex].beat) == s / 8 { plans[planIndex].apply(to: engine, step: s, scratch: scratch) }
        }
        let st = Stats(r.times)
        print(String(format: "  engine work per grid step, following the memory: p50 %.1f µs  p99 %.1f µs  max %.1f µs   (%d steps; target p99 < 1000 µs)",
                     st.p50 * 1e6, st.p99 * 1e6, st.max * 1e6, songSteps))
    }

    /// The memory thread over a long take (issue #26: "the same per bar at minute 180 as at
    /// minute 1"): the performance's melody keys and beat markers fed to `LiveMemory` as the
    /// engine thread feeds them, repetition within the take followed (the hindsight model found),
    /// no stored takes. Each bar's work is timed: the plans of its beats (the take's melody
    /// grown, the followers' search) and the estimate the bar line reads, made here on this
    /// thread (the daemon's worker makes it a bar ahead). First and last 10 minutes compared.
    func memoryLongTake(events: [Event], steps: Int, hours: Double) {
        guard let hindsight = HindsightModel.find() else {
            print("  (no hindsight model found: the memory thread over the long take is not measured)")
            return
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("accompanist-bench-longtake-\(getpid())")
        defer { try? FileManager.default.removeItem(at: dir) }
        let recorder = TakeRecorder(store: MemoryStore(directory: dir), chart: ChordStream(), beatsPerBar: 4, bpm: { 120 }, hindsightModel: nil)
        let guesses = SPSCRing<MemoryGuess>(capacity: 1 << 10)
        let memory = LiveMemory(recorder: recorder, takes: [], beatsPerBar: 4, guesses: guesses,
                                log: Logger(label: "bench", factory: { _ in SwiftLogNoOpLogHandler() }), repeats: hindsight)
        memory.storesTakes = false
        let ring = SPSCRing<TakeEvent>(capacity: 1 << 16)
        var perBar: [Double] = []
        perBar.reserveCapacity(steps / 32 + 1)
        var barTime = 0.0
        var next = 0
        var followed = 0
        let rss0 = BenchRun.rssKB()
        for b in 0..<(steps / 8) {
            while next < events.count && Int(events[next].step) < 8 * b {
                let e = events[next]
                _ = ring.push(TakeEvent(kind: e.velocity > 0 ? .noteOn : .noteOff, step: Int(e.step), pitch: Int(e.pitch), velocity: Int(e.velocity)))
                next += 1
            }
            _ = ring.push(TakeEvent(kind: .beat, step: 8 * b))
            let t = MachineProbe.now()
            memory.process(ring)
            barTime += MachineProbe.now() - t
            while let g = guesses.pop() { if g.kind != .none { followed += 1 } }
            if b % 4 == 3 { perBar.append(barTime); barTime = 0 }
        }
        let tenMinutes = 10 * 60 * 2 / 4   // bars at 120 BPM in 4/4
        let first = Stats(perBar.prefix(Swift.min(tenMinutes, perBar.count))), last = Stats(perBar.suffix(Swift.min(tenMinutes, perBar.count)))
        print(String(format: "  memory thread per bar over the %g-hour take (plans of its 4 beats + the estimate its bar line reads), first 10 min: mean %.2f ms  p99 %.2f ms  max %.2f ms; last 10 min: mean %.2f ms  p99 %.2f ms  max %.2f ms   (a bar is 2000 ms at 120 BPM)",
                     hours, first.mean * 1e3, first.p99 * 1e3, first.max * 1e3, last.mean * 1e3, last.p99 * 1e3, last.max * 1e3))
        print(String(format: "  beats planned from repeats within the take: %d of %d; RSS %.1f MB before, %.1f MB after",
                     followed, steps / 8, Double(rss0) / 1024, Double(BenchRun.rssKB()) / 1024))
    }
}
