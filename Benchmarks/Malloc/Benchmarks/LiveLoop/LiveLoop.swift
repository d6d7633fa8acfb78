// The live loop with malloc counts (must be 0): the reader's work (passthrough, panic, a
// vanished keyboard, the left hand's routing), the engine thread's steps with the neural engine at
// the shipped shape, given a chord chart and a left hand's chord changes (LeftHand, ChordStream),
// the count-in, a panic, an external clock's Start and Stop, and the shutdown, on a simulated
// clock with recording outputs (the seam the daemon's sequencer and synth implement).
//
// Every buffer is made in `init` (as the daemon makes them before READY=1); one iteration is a
// bar of music through both loops and must not allocate.

import Benchmark
import Engine
import Harmony
import Live
import Memory
import Model
import Realtime
import Synchronization

final class Clock: @unchecked Sendable {
    // @unchecked Sendable: the benchmark drives everything from one thread.
    var now: Int64 = 1_000_000_000
}

/// One live setup: reader → ring → engine loop → outputs, as LiveSession wires them.
final class LiveRig: @unchecked Sendable {
    // @unchecked Sendable: one thread (the benchmark's) plays every role in turn.
    let clock = Clock()
    let accompaniment: RecordingOutput
    let synth: RecordingOutput
    let port: RecordingOutput
    let ring = SPSCRing<InputEvent>(capacity: 8192)
    let reader: InputReader
    let loop: EngineLoop
    /// The rehearsal memory's ring (the engine thread pushes the melody's keys and the left
    /// hand's hints); the rig drains it as the control thread would.
    let takes = SPSCRing<TakeEvent>(capacity: 1 << 16)
    /// Events drained from `takes`.
    var fed = 0
    /// The memory thread's plans back to the engine thread: the rig plans each bar's beats before
    /// the bar (a known chord, an estimate heard, N.C., nothing), as the memory thread would.
    let guesses = SPSCRing<MemoryGuess>(capacity: 1024)
    let plans: [MemoryGuess]
    let stepNs: Int64
    var pitch: UInt8 = 67
    /// The left hand's chord (below the split, 55) changes twice a bar, among these.
    static let chords: [[UInt8]] = [[43, 48, 52], [45, 48, 52], [41, 45, 48], [43, 47, 50, 53]]
    var chord = 0
    var chordChannel: UInt8 = 0
    /// The chart: the four bars of a turnaround, over and over for 4000 bars, longer than any run
    /// of the benchmark, so that every bar reads a chart chord (and the left hand's, which wins).
    static let chart = String(repeating: "| C Am | F G7 | Em A7 | Dm7 G7 |\n", count: 1000)

    init(tempo: EngineLoop.TempoSource) {
        let c = clock
        accompaniment = RecordingOutput(name: "accompaniment", capacity: 1 << 16, clock: { c.now })
        synth = RecordingOutput(name: "synth", capacity: 1 << 16, clock: { c.now })
        port = RecordingOutput(name: "output port", capacity: 1 << 16, clock: { c.now })
        let file = try! SafeTensorsFile(bytes: SafeTensorsWriter.randomModel(.baseD128).serialize())
        let engine = NeuralEngine(model: try! StreamingModel(file: file, precision: .fp16), configuration: NeuralConfiguration(), seed: 7)
        var s = EngineLoop.Settings()
        s.tempoSource = tempo
        s.bpm = 120
        s.countInBars = tempo == .fixed ? 1 : 0
        s.maxNoteSteps = 12
        stepNs = FixedTempo(bpm: 120).stepNanoseconds
        let stream = try! ChordStream(chart: ChordChart(text: Self.chart), beatsPerBar: 4)
        loop = EngineLoop(engine: engine, settings: s, outputs: [accompaniment, synth], input: ring,
                          harmony: stream, leftHand: LeftHand(releaseEndsChord: tempo == .midiClock), takes: takes, guesses: guesses)
        plans = [MemoryGuess(beat: 0, guess: .chord(.chord(ChordSymbol(root: 2, quality: .minor7, bass: nil)))),
                 MemoryGuess(beat: 0, guess: .heard((0..<12).map { Float($0 % 3) / 2 })),
                 MemoryGuess(beat: 0, guess: .chord(.noChord)), MemoryGuess(beat: 0, guess: nil)]
        var r = InputReader.Settings()
        r.splitNote = 55
        r.chordChannel = 1  // a second keyboard's chords, on channel 2
        reader = InputReader(settings: r, passthrough: [.init(synth), .init(port)], ownClient: 128,
                             engineInput: ring, clock: { c.now })
        loop.start(now: clock.now)
        for _ in 0..<20 { bar() }  // caches, buffers and histograms warm
        // The rig reads what it should: the left hand's chords reached the engine.
        precondition(tempo == .midiClock || loop.status.leftHandHints.load(ordering: .relaxed) >= 20, "no left-hand hints")
        precondition((tempo == .midiClock || fed > 0) && loop.status.lostTakeEvents.load(ordering: .relaxed) == 0, "the memory's ring is fed, and keeps up")
    }

    /// The player holds a note per beat and changes the left hand's chord every two beats (below
    /// the split, and on beat 3 on the chord channel as well); the loop polls every millisecond
    /// of simulated time.
    func bar() {
        let next = loop.status.lastStep.load(ordering: .relaxed) / 8 + 1
        for k in 0..<4 {
            var g = plans[k]
            g.beat = Int32(next + k)
            _ = guesses.push(g)
        }
        for beat in 0..<4 {
            let off = InputEvent.note(false, channel: 0, pitch: pitch, time: clock.now, client: 20)
            reader.handle(off)
            pitch = 60 + (pitch &* 5 &+ UInt8(beat)) % 24
            reader.handle(.note(true, channel: 0, pitch: pitch, velocity: 90, time: clock.now, client: 20))
            reader.handle(.controller(64, value: beat % 2 == 0 ? 127 : 0, channel: 0, time: clock.now))
            if beat % 2 == 0 { changeChord(channel: beat == 2 ? 1 : 0) }
            for _ in 0..<8 * Int(stepNs / 1_000_000) {
                clock.now += 1_000_000
                _ = loop.poll(now: clock.now)
            }
        }
        while takes.pop() != nil { fed += 1 }
        accompaniment.removeAll()
        synth.removeAll()
        port.removeAll()
    }

    /// The left hand lets go of its chord and plays the next one.
    func changeChord(channel: UInt8) {
        for p in Self.chords[chord] { reader.handle(.note(false, channel: chordChannel, pitch: p, time: clock.now, client: 21)) }
        chord = (chord + 1) % Self.chords.count
        chordChannel = channel
        for p in Self.chords[chord] { reader.handle(.note(true, channel: channel, pitch: p, velocity: 70, time: clock.now, client: 21)) }
    }

    /// An external clock: Start, a bar of clocks with a melody note and two chords (the second
    /// let go: this rig's left hand ends a chord on release), Stop.
    func clockedBar() {
        reader.handle(.transport(.start, time: clock.now))
        for k in 0..<96 {
            clock.now += 20_833_333
            reader.handle(.transport(.clock, time: clock.now))
            if k == 24 { reader.handle(.note(true, channel: 0, pitch: 72, velocity: 80, time: clock.now, client: 20)) }
            if k == 12 || k == 48 { changeChord(channel: 0) }
            if k == 72 { for p in Self.chords[chord] { reader.handle(.note(false, channel: chordChannel, pitch: p, time: clock.now, client: 21)) } }
            _ = loop.poll(now: clock.now)
        }
        reader.handle(.transport(.stop, time: clock.now))
        _ = loop.poll(now: clock.now)
        reader.handle(.note(false, channel: 0, pitch: 72, time: clock.now, client: 20))
        while takes.pop() != nil { fed += 1 }
        accompaniment.removeAll()
        synth.removeAll()
        port.removeAll()
    }

    /// Panic (the controller), a keyboard that vanishes (with a chord key held), and the
    /// shutdown's silence.
    func panicAndStop() {
        reader.handle(.note(true, channel: 0, pitch: 64, velocity: 90, time: clock.now, client: 21))
        reader.handle(.note(true, channel: 0, pitch: 50, velocity: 90, time: clock.now, client: 21))
        reader.handle(.controller(120, value: 0, channel: 0, time: clock.now))
        _ = loop.poll(now: clock.now)
        reader.handle(.note(true, channel: 0, pitch: 65, velocity: 90, time: clock.now, client: 22))
        reader.handle(.note(true, channel: 0, pitch: 43, velocity: 90, time: clock.now, client: 22))
        reader.handle(.releaseSource(client: 22, port: 0), now: clock.now)
        loop.shutdown(now: clock.now)
        reader.releaseAll()
        accompaniment.removeAll()
        synth.removeAll()
        port.removeAll()
    }
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(metrics: [.wallClock, .mallocCountTotal], maxDuration: .seconds(2), maxIterations: 200)

    let fixed = LiveRig(tempo: .fixed)
    Benchmark("Live loop: a bar at 120 BPM (reader, engine, neural model)") { benchmark in
        for _ in benchmark.scaledIterations { fixed.bar() }
    }
    Benchmark("Live loop: panic, a vanished keyboard, shutdown") { benchmark in
        for _ in benchmark.scaledIterations { fixed.panicAndStop() }
    }
    let clocked = LiveRig(tempo: .midiClock)
    clocked.clockedBar()
    Benchmark("Live loop: external clock Start, a bar, Stop") { benchmark in
        for _ in benchmark.scaledIterations { clocked.clockedBar() }
    }
}
