#if canImport(Glibc)
import Glibc
#endif
import Config
import Engine
import Foundation
import Kernels
import MIDI
import Model
import Rendering
import Tokens

/// A failure of a benchmark: one line, and the exit status the command line exits with.
public struct BenchFailure: Error, CustomStringConvertible {
    public var message: String
    public var exitCode: Int32
    public var description: String { message }
    static func unavailable(_ m: String) -> BenchFailure { BenchFailure(message: m, exitCode: 69) }
    static func cannotCreate(_ m: String) -> BenchFailure { BenchFailure(message: m, exitCode: 73) }
    static func noInput(_ m: String) -> BenchFailure { BenchFailure(message: m, exitCode: 66) }
    static func input(_ m: String) -> BenchFailure { BenchFailure(message: m, exitCode: 65) }
}

/// `accompanist bench` as library code (the command line only parses its options into one of
/// these): the neural engine's cost per grid step and per token, render speed, the memory and
/// compute floors, the JAX reference in the same run, and (with `hours`) a long simulated
/// performance for flat memory and cost; the rehearsal memory's threads (`memoryTakes`, and over
/// the long take), and the player's-note passthrough (`passthrough`). Results: docs/bench.md.
public struct BenchRun {
    public var model: String?
    public var randomBase: Bool = false
    public var precision: [WeightPrecision] = [.fp32, .fp16]
    public var melody: String?
    public var pop909: String = "../shared/datasets/pop909"
    public var songs: Int = 3
    public var modelSteps: Int = 2000
    public var hours: Double?
    public var noJax: Bool = false
    public var training: String = "Training"
    public var jaxTokens: Int = 2000
    public var realtime: Int32?
    public var seed: UInt64 = 1
    public var memoryTakes: Int?
    public var passthrough: Int?

    public init() {}

    public func run() throws {
        if let realtime {
            guard BenchRun.makeRealtime(priority: realtime) else { throw BenchFailure.unavailable("cannot switch to SCHED_FIFO \(realtime) (no privilege?)") }
        }
        let modelPath = try resolveModel()
        let header = try StreamingModel(path: modelPath, precision: .fp32).config
        print("accompanist bench: \(modelPath)")
        print("  model: d \(header.dModel), \(header.nHeads) heads, FFN \(header.dFF), \(header.encLayers)+\(header.decLayers) layers, windows conv \(header.convWindow) / self \(header.selfWindow) / cross \(header.crossWindow)")
        print("  machine: \(cpuName()), \(ProcessInfo.processInfo.activeProcessorCount) cores, load average \(loadAverage()); build: \(buildName)")
        print("  scheduling: \(realtime.map { "SCHED_FIFO \($0) (as the daemon's engine thread)" } ?? "normal (SCHED_OTHER)")")
        print("  times are one core, wall clock; p50/p99/max over the samples (medians are the robust numbers on a shared machine)")

        let (events, steps, songSeconds, source) = try loadMelody(minSteps: 4000)
        print("  melody: \(source): \(events.count) note events, \(steps) grid steps (\(String(format: "%.1f", Double(steps) / 16 / 60)) min at 120 BPM, \(String(format: "%.1f", songSeconds / 60)) min at the songs' own tempi)")

        let fma = MachineProbe.fmaRate()
        print(String(format: "  FMA rate, one core (measured): %.0f GFLOP/s", fma / 1e9))

        var swiftFP32TokenP50: Double?
        var swiftTokenP50: [WeightPrecision: Double] = [:]
        for p in precision {
            print("\n[\(p.rawValue) weights and caches]")
            let engine = try ShippedModel.engine(path: modelPath, precision: p, configuration: try DaemonConfig().engineSettings(forModelAt: modelPath).neural, seed: seed)
            let m = engine.model
            let r = BenchRun.drive(engine, events: events, steps: steps, seed: seed)
            let st = Stats(r.times), sc = Stats(r.cpu)
            print(String(format: "  engine work per grid step, wall:       p50 %.1f µs  p99 %.1f µs  max %.1f µs   (%d steps; target p99 < 1000 µs)",
                         st.p50 * 1e6, st.p99 * 1e6, st.max * 1e6, steps))
            print(String(format: "  engine work per grid step, thread CPU: p50 %.1f µs  p99 %.1f µs  max %.1f µs   (without time preempted by other processes)",
                         sc.p50 * 1e6, sc.p99 * 1e6, sc.max * 1e6))
            print(String(format: "  tokens per step: %.2f (%d tokens), accompaniment notes: %d", Double(m.tokenCount) / Double(steps), m.tokenCount, r.notes))
            let music = Double(steps) / 16
            let cpuTotal = r.cpu.reduce(0, +)
            print(String(format: "  render speed: %.0fx real time at 120 BPM (%.1f min of music in %.2f s of engine work, wall), %.0fx at the songs' own tempi (as render reports it); target >= 500x",
                         music / r.wall, music / 60, r.wall, songSeconds / r.wall))
            print(String(format: "  render speed by thread CPU time (%.2f s): %.0fx at 120 BPM, %.0fx at the songs' own tempi",
                         cpuTotal, music / cpuTotal, songSeconds / cpuTotal))

            // The model alone, caches full (the engine's run filled them).
            let (dec, enc, decCPU, encCPU) = BenchRun.timeModel(m, steps: modelSteps)
            let ds = Stats(dec), es = Stats(enc), dc = Stats(decCPU), ec = Stats(encCPU)
            let c = m.config
            let e = m.cachePrecision == .fp16 ? 2 : 4
            let cacheBytes = c.decLayers * 2 * (c.selfWindow + c.crossWindow) * c.dModel * e
            let bytes = m.decoderWeightBytes + cacheBytes
            let bandwidth = MachineProbe.readBandwidth(bytes: bytes)
            let flops = BenchRun.flopsPerToken(c)
            let memFloor = Double(bytes) / bandwidth, flopFloor = Double(flops) / fma
            let floor = max(memFloor, flopFloor)
            print(String(format: "  decoder per token: p50 %.1f µs  p99 %.1f µs  max %.1f µs   (%d tokens, full caches)",
                         ds.p50 * 1e6, ds.p99 * 1e6, ds.max * 1e6, dec.count))
            print(String(format: "  encoder column:    p50 %.1f µs  p99 %.1f µs  max %.1f µs", es.p50 * 1e6, es.p99 * 1e6, es.max * 1e6))
            print(String(format: "  (thread CPU: decoder p50 %.1f µs  p99 %.1f µs; encoder p50 %.1f µs  p99 %.1f µs)",
                         dc.p50 * 1e6, dc.p99 * 1e6, ec.p50 * 1e6, ec.p99 * 1e6))
            print(String(format: "  floor: %.2f MB of weights (%.2f) + K/V caches (%.2f) per token over %.0f GB/s read bandwidth (measured now, same working-set size) = %.1f µs;",
                         Double(bytes) / 1e6, Double(m.decoderWeightBytes) / 1e6, Double(cacheBytes) / 1e6, bandwidth / 1e9, memFloor * 1e6))
            print(String(format: "         %.2f MFLOP per token over %.0f GFLOP/s (FMA rate above) = %.1f µs.",
                         Double(flops) / 1e6, fma / 1e9, flopFloor * 1e6))
            print(String(format: "  decoder p50 / memory floor = %.2fx, / max(memory, FLOP floor) = %.2fx   (target: 1.5x of the memory floor in the fast build, 2x in the default build)",
                         ds.p50 / memFloor, ds.p50 / floor))
            swiftTokenP50[p] = ds.p50
            if p == .fp32 { swiftFP32TokenP50 = ds.p50 }
        }

        if !noJax {
            print("\n[JAX reference: the same file, decoder one token at a time, jax.jit, float32, one thread, SCHED_OTHER]")
            if realtime != nil { _ = BenchRun.makeNormal() }      // the subprocess would inherit SCHED_FIFO
            defer { if let realtime { _ = BenchRun.makeRealtime(priority: realtime) } }
            switch runJAX(model: modelPath) {
            case .success(let j):
                let p50 = (j["us_per_token_p50"] as? Double ?? .nan) * 1e-6
                let p99 = (j["us_per_token_p99"] as? Double ?? .nan) * 1e-6
                print(String(format: "  JAX %@ (%@): per token p50 %.1f µs  p99 %.1f µs  (%d tokens, full caches)",
                             j["jax"] as? String ?? "?", j["device"] as? String ?? "?", p50 * 1e6, p99 * 1e6, j["tokens"] as? Int ?? 0))
                for p in precision {
                    if let s = swiftTokenP50[p] {
                        print(String(format: "  Swift %@ / JAX per token p50: %.3f  (Swift %.1fx faster; target >= 4x)", p.rawValue, s / p50, p50 / s))
                    }
                }
                _ = swiftFP32TokenP50
            case .failure(let why):
                print("  skipped: \(why)")
            }
        }

        if let hours {
            for p in precision { try longRun(hours: hours, precision: p, modelPath: modelPath) }
        }
        if let memoryTakes {
            for p in precision { try memoryRun(takes: memoryTakes, precision: p, modelPath: modelPath, events: events, steps: steps) }
        }
        if let passthrough { try BenchRun.passthrough(notes: passthrough) }
    }

    // MARK: - Model and melody

    func resolveModel() throws -> String {
        if randomBase {
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("accompanist-bench-random-base-d128.safetensors").path
            do { try SafeTensorsWriter.randomModel(.baseD128).write(to: path) }
            catch { throw BenchFailure.cannotCreate("cannot write \(path): \(error)") }
            return path
        }
        do { return try ShippedModel.locate(model) } catch let e as ShippedModel.Failure { throw BenchFailure.noInput(e.description + " (or --random-base)") }
    }

    /// One melody event: a note-on (velocity > 0) or note-off at a grid step.
    struct Event { var step: Int32; var pitch: Int16; var velocity: Int16 }

    static func events(of file: MIDIFile, track: Int) -> (events: [Event], end: Int) {
        var out: [Event] = []
        for e in file.tracks[track].events {
            let s = Grid.step(ofTick: e.tick, ticksPerQuarter: file.ticksPerQuarter)
            switch e.kind {
            case .noteOn(_, let k, let v): out.append(Event(step: Int32(s), pitch: Int16(k), velocity: Int16(v)))
            case .noteOff(_, let k, _): out.append(Event(step: Int32(s), pitch: Int16(k), velocity: 0))
            default: break
            }
        }
        let last = Int(out.map(\.step).max() ?? 0)
        return (out, (last + 32) / 32 * 32)           // the bar line after the last event
    }

    /// POP909 song folders, in order.
    func pop909Songs() -> [String] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: pop909) else { return [] }
        return names.filter { n in FileManager.default.fileExists(atPath: "\(pop909)/\(n)/\(n).mid") }.sorted()
            .map { "\(pop909)/\($0)/\($0).mid" }
    }

    /// Melodies appended one after another (a bar of rest between): `count` files (cycling the
    /// list), and more until `minSteps` are covered; with `exactSteps`, files until then and the
    /// last one cut there. Also returns the music's duration by each file's own tempo map.
    static func concatenate(_ files: [String], minSteps: Int, count: Int, exactSteps: Int? = nil) throws
        -> (events: [Event], steps: Int, used: Int, seconds: Double) {
        var all: [Event] = []
        var offset = 0, used = 0
        var seconds = 0.0
        while exactSteps.map({ offset < $0 }) ?? (used < count || offset < minSteps) {
            let file = try readMIDI(files[used % files.count])
            used += 1
            let named = try? OfflineRenderer.melodyTrackIndex(in: file, selector: .name("MELODY"))
            let track = try named ?? OfflineRenderer.melodyTrackIndex(in: file, selector: nil)
            let (ev, end) = events(of: file, track: track)
            for var e in ev {
                e.step += Int32(offset)
                all.append(e)
            }
            offset += end + 32
            seconds += file.tempoMap.seconds(atStep: end + 32)
        }
        if let exactSteps {
            // Cut at the end: events at or past it dropped, notes still sounding released there.
            all = all.filter { Int($0.step) < exactSteps - 1 }
            var on = Set<Int16>()
            for e in all { if e.velocity > 0 { on.insert(e.pitch) } else { on.remove(e.pitch) } }
            for p in on.sorted() { all.append(Event(step: Int32(exactSteps - 1), pitch: p, velocity: 0)) }
            offset = exactSteps
        }
        return (all, offset, used, seconds)
    }

    func loadMelody(minSteps: Int) throws -> (events: [Event], steps: Int, seconds: Double, source: String) {
        if let melody {
            let r = try BenchRun.concatenate([melody], minSteps: 0, count: 1)
            return (r.events, r.steps, r.seconds, melody)
        }
        let songs = pop909Songs()
        if !songs.isEmpty {
            let r = try BenchRun.concatenate(songs, minSteps: minSteps, count: self.songs)
            let names = songs.prefix(r.used).map { URL(fileURLWithPath: $0).deletingPathExtension().lastPathComponent }
            return (r.events, r.steps, r.seconds, "POP909 MELODY tracks of songs \(names.joined(separator: ", ")), concatenated")
        }
        let examples = ((try? FileManager.default.contentsOfDirectory(atPath: "Examples")) ?? []).filter { $0.hasSuffix(".mid") }.sorted().map { "Examples/\($0)" }
        guard !examples.isEmpty else { throw BenchFailure.noInput("no melody: pass --melody FILE (no POP909 at \(pop909), no Examples/)") }
        let r = try BenchRun.concatenate(examples, minSteps: minSteps, count: examples.count)
        return (r.events, r.steps, r.seconds, "Examples/*.mid (\(r.used) files, cycled)")
    }

    // MARK: - Measurements

    /// Runs the engine over the events from a simulated clock through a `Performance` (the
    /// per-step driver render and the daemon share, with the daemon's maximum note length),
    /// timing each step (melody events pushed + the step). `times` gets one entry per step.
    /// `every`/`probe` run between steps, outside the timed part.
    /// `beforeStep(s)` runs inside the timed work of step s, before `generate` (the memory's plan).
    static func drive(_ engine: NeuralEngine, events: [Event], steps: Int, seed: UInt64,
                      every: Int = 0, probe: ((Int) -> Void)? = nil,
                      beforeStep: ((Int) -> Void)? = nil) -> (times: [Double], cpu: [Double], wall: Double, notes: Int) {
        let performance = Performance(engine: engine, maxNoteSteps: DaemonConfig().maxNoteBeats * Grid.stepsPerBeat)
        performance.reset(seed: seed)
        let hooks = BenchHooks(beforeStep: beforeStep)
        var times = [Double](repeating: 0, count: steps)
        var cpu = [Double](repeating: 0, count: steps)
        var notes = 0
        var next = 0
        var wall = 0.0
        if every > 0 { probe?(0) }                       // after every buffer of the run exists
        times.withUnsafeMutableBufferPointer { t in
          cpu.withUnsafeMutableBufferPointer { c in
            events.withUnsafeBufferPointer { ev in
                for s in 0..<steps {
                    let c0 = cpuNow()
                    let t0 = MachineProbe.now()
                    while next < ev.count && Int(ev[next].step) < s {
                        let e = ev[next]
                        if e.velocity > 0 { performance.melodyNoteOn(pitch: Int(e.pitch), velocity: Int(e.velocity), step: Int(e.step)) }
                        else { performance.melodyNoteOff(pitch: Int(e.pitch), step: Int(e.step)) }
                        next += 1
                    }
                    let out = performance.step(s, hooks: hooks)
                    let dt = MachineProbe.now() - t0
                    c[s] = cpuNow() - c0
                    t[s] = dt
                    wall += dt
                    for i in 0..<out.count where out[i].isNoteOn { notes += 1 }
                    if every > 0, (s + 1) % every == 0 { probe?(s + 1) }
                }
            }
          }
        }
        _ = performance.end(step: steps)
        return (times, cpu, wall, notes)
    }

    /// Bench's hook: the memory's plan, timed with the step.
    struct BenchHooks: PerformanceHooks {
        let beforeStep: ((Int) -> Void)?
        func willGenerate(step s: Int, engine: AccompanimentEngine) { beforeStep?(s) }
    }

    /// Decoder token and encoder column alone, on the (already filled) model: one column and one
    /// token per step, at the newest prediction time (every window full).
    static func timeModel(_ m: StreamingModel, steps: Int) -> (dec: [Double], enc: [Double], decCPU: [Double], encCPU: [Double]) {
        let v = m.config.vocabSize
        var token = 0
        func one() -> (Double, Double, Double, Double) {
            let s = m.encoderSteps
            let c0 = cpuNow()
            let t0 = MachineProbe.now()
            m.encoderPush(pitch: 60 + s % 12, onset: s % 4 == 0 ? 1 : 0, velocityBin: 20, meter: s % 32)
            let t1 = MachineProbe.now()
            let c1 = cpuNow()
            let t1b = MachineProbe.now()
            _ = m.decoderStep(token: token, ptime: m.encoderSteps, meter: m.encoderSteps % 32)
            let t2 = MachineProbe.now()
            let c2 = cpuNow()
            token = (token * 7 + 3) % v
            return (t2 - t1b, t1 - t0, c2 - c1, c1 - c0)
        }
        // Warm-up also fills the windows when the engine run was short.
        for _ in 0..<(max(m.config.selfWindow, m.config.crossWindow) + 50) { _ = one() }
        var dec = [Double](repeating: 0, count: steps), enc = dec, decCPU = dec, encCPU = dec
        for i in 0..<steps { (dec[i], enc[i], decCPU[i], encCPU[i]) = one() }
        return (dec, enc, decCPU, encCPU)
    }

    /// 2 FLOPs per weight of the decoder matrices, plus QK and PV over full windows.
    static func flopsPerToken(_ c: ModelConfig) -> Int {
        2 * (c.decLayers * (6 * c.dModel * c.dModel + 2 * c.dModel * c.dFF) + c.dModel * c.dModel + c.vocabSize * c.dModel)
            + c.decLayers * 4 * (c.selfWindow + c.crossWindow) * c.dModel
    }

    struct Stats {
        var p50 = 0.0, p99 = 0.0, max = 0.0, mean = 0.0
        init(_ values: ArraySlice<Double>) {
            guard !values.isEmpty else { return }
            let s = values.sorted()
            p50 = s[s.count / 2]
            p99 = s[Swift.min(s.count - 1, Int(Double(s.count) * 0.99))]
            max = s[s.count - 1]
            mean = s.reduce(0, +) / Double(s.count)
        }
        init(_ values: [Double]) { self.init(values[...]) }
    }

    /// CPU time of this thread, seconds: the work itself, without the time the scheduler gave
    /// the core to another process (the machine is shared).
    @inline(__always)
    static func cpuNow() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }

    /// SCHED_FIFO at `priority` for the calling thread, as the daemon's engine thread runs.
    static func makeRealtime(priority: Int32) -> Bool {
        #if canImport(Glibc)
        var param = sched_param()
        param.sched_priority = priority
        return pthread_setschedparam(pthread_self(), SCHED_FIFO, &param) == 0
        #else
        return false
        #endif
    }

    static func makeNormal() -> Bool {
        #if canImport(Glibc)
        var param = sched_param()
        param.sched_priority = 0
        return pthread_setschedparam(pthread_self(), SCHED_OTHER, &param) == 0
        #else
        return false
        #endif
    }

    // MARK: - Long run

    func longRun(hours: Double, precision p: WeightPrecision, modelPath: String) throws {
        let steps = Int(hours * 3600 * 16)                 // 120 BPM: 2 beats/s, 8 steps per beat
        let songs = pop909Songs()
        let files: [String]
        if let melody { files = [melody] }
        else if !songs.isEmpty { files = songs }
        else { files = ((try? FileManager.default.contentsOfDirectory(atPath: "Examples")) ?? []).filter { $0.hasSuffix(".mid") }.sorted().map { "Examples/\($0)" } }
        guard !files.isEmpty else { throw BenchFailure.noInput("no melody for --hours") }
        let (events, _, used, _) = try BenchRun.concatenate(files, minSteps: steps, count: 1, exactSteps: steps)
        let kind = melody != nil ? "--melody, repeated" : songs.isEmpty ? "Examples/, cycled" : "POP909 MELODY tracks"
        print(String(format: "\n[%g-hour performance, %@]: %d grid steps at 120 BPM, %d melodies concatenated (%@), %d note events",
                     hours, p.rawValue, steps, used, kind, events.count))
        let engine = try ShippedModel.engine(path: modelPath, precision: p, configuration: try DaemonConfig().engineSettings(forModelAt: modelPath).neural, seed: seed)
        let tenMinutes = 10 * 60 * 16
        var samples: [(Int, Int)] = []
        samples.reserveCapacity(64)
        let rssLoaded = BenchRun.rssKB()
        let r = BenchRun.drive(engine, events: events, steps: steps, seed: seed, every: tenMinutes) { s in samples.append((s, BenchRun.rssKB())) }
        let rssEnd = BenchRun.rssKB()
        let rssStart = samples.first?.1 ?? rssLoaded
        let first = Stats(r.times.prefix(Swift.min(tenMinutes, steps)))
        let last = Stats(r.times.suffix(Swift.min(tenMinutes, steps)))
        let all = Stats(r.times)
        let firstCPU = Stats(r.cpu.prefix(Swift.min(tenMinutes, steps))), lastCPU = Stats(r.cpu.suffix(Swift.min(tenMinutes, steps)))
        print(String(format: "  RSS (VmRSS): %.1f MB after loading the model and the melody; %.1f MB at the start of the run (its timing arrays allocated), %.1f MB at the end",
                     Double(rssLoaded) / 1024, Double(rssStart) / 1024, Double(rssEnd) / 1024))
        print("  RSS every 10 min (MB): " + samples.map { String(format: "%.1f", Double($0.1) / 1024) }.joined(separator: " "))
        print(String(format: "  per step, first 10 min: p50 %.1f µs  p99 %.1f µs  max %.1f µs  mean %.1f µs", first.p50 * 1e6, first.p99 * 1e6, first.max * 1e6, first.mean * 1e6))
        print(String(format: "  per step, last 10 min:  p50 %.1f µs  p99 %.1f µs  max %.1f µs  mean %.1f µs", last.p50 * 1e6, last.p99 * 1e6, last.max * 1e6, last.mean * 1e6))
        print(String(format: "  thread CPU per step, first 10 min: p50 %.1f µs  p99 %.1f µs  mean %.1f µs; last 10 min: p50 %.1f µs  p99 %.1f µs  mean %.1f µs",
                     firstCPU.p50 * 1e6, firstCPU.p99 * 1e6, firstCPU.mean * 1e6, lastCPU.p50 * 1e6, lastCPU.p99 * 1e6, lastCPU.mean * 1e6))
        print(String(format: "  per step, whole run:    p50 %.1f µs  p99 %.1f µs  max %.1f µs; %.2f tokens per step; %d notes; %.0fx real time (%.1f s)",
                     all.p50 * 1e6, all.p99 * 1e6, all.max * 1e6, Double(engine.model.tokenCount) / Double(steps), r.notes,
                     Double(steps) / 16 / r.wall, r.wall))
        print("  dropped melody events: \(engine.droppedMelodyEvents)")
        // The memory thread over the same take, once (it does not depend on the precision).
        if p == precision.first { memoryLongTake(events: events, steps: steps, hours: hours) }
    }

    /// VmRSS of this process, kB (Linux; 0 elsewhere).
    static func rssKB() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in text.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "0") ?? 0
        }
        return 0
    }

    // MARK: - JAX

    func runJAX(model: String) -> Result<[String: Any], BenchError> {
        let python = "\(training)/.venv/bin/python"
        guard FileManager.default.isExecutableFile(atPath: python) else { return .failure(BenchError("no \(python) (run Training/setup.sh, or pass --no-jax)")) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python).absoluteURL
        process.currentDirectoryURL = URL(fileURLWithPath: training).absoluteURL
        process.arguments = ["-m", "accompanist_train.bench_jax", URL(fileURLWithPath: model).absoluteURL.path, "--tokens", "\(jaxTokens)"]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return .failure(BenchError("cannot start \(python): \(error)")) }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let line = String(decoding: data, as: UTF8.self).split(separator: "\n").last.map(String.init) ?? ""
        guard let obj = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
            return .failure(BenchError("bench_jax printed no JSON (exit \(process.terminationStatus))"))
        }
        if let e = obj["error"] as? String { return .failure(BenchError("bench_jax: \(e)")) }
        return .success(obj)
    }

    struct BenchError: Error, CustomStringConvertible {
        var description: String
        init(_ d: String) { description = d }
    }

    // MARK: - Machine

    var buildName: String { MachineProbe.buildTarget }

    func cpuName() -> String {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return "unknown CPU" }
        for line in text.split(separator: "\n") where line.hasPrefix("model name") {
            return line.split(separator: ":", maxSplits: 1).last.map { $0.trimmingCharacters(in: .whitespaces) } ?? "unknown CPU"
        }
        return "unknown CPU"
    }

    func loadAverage() -> String {
        (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)).map { $0.split(separator: " ").prefix(3).joined(separator: " ") } ?? "?"
    }
}
