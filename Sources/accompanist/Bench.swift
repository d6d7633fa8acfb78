import ArgumentParser
import Benchmarking
import Model

extension WeightPrecision: ExpressibleByArgument {}

/// `accompanist bench`: parses its options into a `BenchRun` (Benchmarking), which does the
/// work. Results and commands: docs/bench.md.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Benchmark the neural engine (per step, per token, floor, JAX ratio, long runs).",
        discussion: """
            Runs the neural engine over a melody (POP909 songs' MELODY tracks when the data set is \
            found, else Examples/) from a simulated clock, timing every grid step, then times the \
            model's decoder token and encoder column alone with full caches, and compares them with \
            the floor: bytes of weights and K/V caches touched per token over the read bandwidth \
            measured now, FLOPs per token over the measured FMA rate. One core; build with \
            `swift build -c release`.
            """)

    @Option(help: "Weights (default: the shipped model, as render finds it).")
    var model: String?

    @Flag(name: .customLong("random-base"), help: "Use random weights of the shipped shape (base-d128) instead of a trained model.")
    var randomBase = false

    @Option(help: "Weight storage to measure; repeat for several (default: fp32 and fp16).")
    var precision: [WeightPrecision] = [.fp32, .fp16]

    @Option(help: "Melody MIDI file (default: POP909 songs, else Examples/).")
    var melody: String?

    @Option(help: "POP909 folder (NNN/NNN.mid with a MELODY track).")
    var pop909 = "../shared/datasets/pop909"

    @Option(help: "POP909 songs concatenated for the per-step measurement.")
    var songs = 3

    @Option(name: .customLong("model-steps"), help: "Timed steps of the isolated decoder-token / encoder-column measurement.")
    var modelSteps = 2000

    @Option(help: "Also simulate a performance of this many hours at 120 BPM (POP909 melodies concatenated): RSS and per-step cost, first vs last 10 minutes.")
    var hours: Double?

    @Flag(name: .customLong("no-jax"), help: "Skip the JAX reference (Training/.venv).")
    var noJax = false

    @Option(help: "Training folder with .venv (for the JAX reference).")
    var training = "Training"

    @Option(name: .customLong("jax-tokens"), help: "Timed tokens of the JAX reference.")
    var jaxTokens = 2000

    @Option(help: "Run the measuring thread SCHED_FIFO at this priority, as the daemon's engine thread (needs the privilege).")
    var realtime: Int32?

    @Option(help: "Sampling seed.")
    var seed: UInt64 = 1

    @Option(name: .customLong("memory-takes"), help: "Also measure the rehearsal memory with this many stored takes (songs cut from the melody): the memory thread's work per beat, and the engine's per step while it follows a take (docs/memory.md).")
    var memoryTakes: Int?

    @Option(help: "Also time the player's-note passthrough to FluidSynth on this host over this many notes.")
    var passthrough: Int?

    func validate() throws {
        if randomBase && model != nil { throw ValidationError("--random-base and --model exclude each other") }
        if let hours, !(hours > 0 && hours <= 24) { throw ValidationError("--hours must be in (0, 24]") }
        if songs < 1 { throw ValidationError("--songs must be at least 1") }
        if precision.isEmpty { throw ValidationError("--precision needs fp32 or fp16") }
        if let passthrough, !(1...100_000).contains(passthrough) { throw ValidationError("--passthrough takes 1 to 100000 notes") }
        if let memoryTakes, !(1...10_000).contains(memoryTakes) { throw ValidationError("--memory-takes takes 1 to 10000 takes") }
    }

    func run() throws {
        var r = BenchRun()
        r.model = model
        r.randomBase = randomBase
        r.precision = precision
        r.melody = melody
        r.pop909 = pop909
        r.songs = songs
        r.modelSteps = modelSteps
        r.hours = hours
        r.noJax = noJax
        r.training = training
        r.jaxTokens = jaxTokens
        r.realtime = realtime
        r.seed = seed
        r.memoryTakes = memoryTakes
        r.passthrough = passthrough
        try r.run()
    }
}
