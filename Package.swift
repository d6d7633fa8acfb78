// swift-tools-version:6.1
// Accompanist: a real-time MIDI accompaniment daemon for Linux. Layout: docs/design.md.
import PackageDescription

// The default build targets x86-64-v3 (AVX2 + FMA: "haswell") on x86_64, so that the SIMD kernels
// compile to vector FMAs instead of `fmaf` calls (docs/kernels.md, "Build targets and the FMA check") and still run on
// any x86-64-v3 CPU. aarch64 has FMA in its baseline and needs no flag. ACCOMPANIST_NATIVE=1 at
// build time targets the build machine's own CPU instead (e.g. AVX-512); see README "Benchmarks".
import Foundation
let nativeBuild = ProcessInfo.processInfo.environment["ACCOMPANIST_NATIVE"] == "1"
#if arch(x86_64)
let cpuFlags: [SwiftSetting] = [.unsafeFlags(["-target-cpu", nativeBuild ? "native" : "haswell"])]
let cpuCFlags: [CSetting] = [.unsafeFlags([nativeBuild ? "-march=native" : "-march=x86-64-v3"])]
#else
let cpuFlags: [SwiftSetting] = nativeBuild ? [.unsafeFlags(["-target-cpu", "native"])] : []
let cpuCFlags: [CSetting] = []
#endif

let swift6: [SwiftSetting] = [.swiftLanguageMode(.v6)]
// Lets the kernels report which build they are (MachineProbe.buildTarget, accompanist bench).
let buildDefine: [SwiftSetting] = nativeBuild ? [.define("ACCOMPANIST_NATIVE_BUILD")] : []

let package = Package(
    name: "Accompanist",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "accompanist", targets: ["accompanist"]),
        // Kernels and the model as a library, for the malloc-counting benchmarks in
        // Benchmarks/Malloc (a separate package, so its dependency stays out of this build).
        .library(name: "AccompanistModel", targets: ["Kernels", "Model", "Tokens", "Engine"]),
        // Everything that reads input from outside, for the fuzz targets in Fuzz/ (a separate
        // package, built only by scripts/fuzz.sh).
        .library(name: "AccompanistCore", targets: ["MIDI", "Tokens", "Kernels", "Model", "Engine", "Config", "OfflineAudio", "Live", "Harmony", "Memory", "SafeFiles", "Realtime"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.0"),
    ],
    targets: [
        // System libraries (Debian: libasound2-dev, libfluidsynth-dev; scripts/setup.sh installs
        // them). Their headers are in /usr/include, so no pkg-config is needed: fluidsynth's
        // pkg-config flags (-pthread, -D_REENTRANT from glib) only make SwiftPM warn.
        .systemLibrary(name: "CALSA", providers: [.apt(["libasound2-dev"])]),
        .systemLibrary(name: "CFluidSynth", providers: [.apt(["libfluidsynth-dev"])]),
        // Header-only C helpers of the real-time module (thread ids and names, relaxed atomics on
        // allocated cells, mlockall and rlimits): glibc only, no library.
        .systemLibrary(name: "CRealtime"),

        // Files a user can trust: outputs that never destroy what is at the path, inputs checked
        // before they are read, and text echoed from input made safe to print (docs/files.md).
        .target(name: "SafeFiles", swiftSettings: swift6),
        // Notes and events, Standard MIDI File read/write, tempo map, grid.
        .target(name: "MIDI", dependencies: ["SafeFiles"], swiftSettings: swift6),
        // Melody frames, accompaniment vocabulary, encode/decode, grammar (docs/tokens.md).
        .target(name: "Tokens", dependencies: ["MIDI"], swiftSettings: swift6),
        // Chord symbols, left-hand chord recognition, chord charts, the per-step chord stream (docs/harmony.md).
        .target(name: "Harmony", dependencies: ["MIDI", "SafeFiles"], swiftSettings: swift6),
        // SIMD kernels with scalar reference twins.
        .target(name: "Kernels", swiftSettings: swift6 + cpuFlags + buildDefine),
        // Weights, streaming encoder, cached decoder, sampler.
        .target(name: "Model", dependencies: ["Kernels", "Tokens", "SafeFiles"], swiftSettings: swift6 + cpuFlags),
        // The streaming engine contract, the rule-based accompanist, offline rendering.
        .target(name: "Engine", dependencies: ["MIDI", "Tokens", "Model", "Harmony", "SafeFiles"], swiftSettings: swift6),
        // The daemon's config file (Configs/accompanist.toml) and its mapping to engine settings.
        .target(name: "Config", dependencies: ["MIDI", "Model", "Engine", "Harmony", "SafeFiles"], swiftSettings: swift6),
        // Hindsight harmony: a non-causal chord estimator over a whole melody (docs/hindsight.md).
        .target(name: "Hindsight", dependencies: ["Model", "Tokens", "Harmony"], swiftSettings: swift6),
        // The real-time building blocks, no I/O library: the lock-free SPSC ring, real-time
        // threads and their clock, latency histograms, mlockall (docs/internals.md).
        .target(name: "Realtime", dependencies: ["CRealtime"], swiftSettings: swift6),
        // The whole rehearsal memory (docs/memory.md): takes and their store on disk, the take
        // recorder, the followers and their planner, repetition within a take and its worker
        // thread, the hindsight model's lookup. Used by render and the daemon alike; no ALSA.
        .target(name: "Memory", dependencies: [
            "Harmony", "SafeFiles", "Tokens", "Engine", "Hindsight", "Realtime",
            .product(name: "Logging", package: "swift-log"),
        ], swiftSettings: swift6),
        // POP909's chord annotations and the note-in-chord measure (`accompanist evaluate`,
        // the rules engine's tests on POP909), not part of the engine.
        .target(name: "Evaluation", dependencies: ["SafeFiles"], swiftSettings: swift6),
        // `render` as a library (RenderSession, the twin of Live's LiveSession): no ALSA.
        .target(name: "Rendering", dependencies: [
            "Config", "Engine", "Harmony", "Hindsight", "MIDI", "Memory", "Model", "OfflineAudio", "SafeFiles", "Tokens",
            .product(name: "Logging", package: "swift-log"),
        ], swiftSettings: swift6),
        // `accompanist bench` as library code: the engine's cost per step and token, floors, long
        // runs, the memory's threads, the passthrough (docs/bench.md).
        .target(name: "Benchmarking", dependencies: [
            "Config", "Engine", "Harmony", "Hindsight", "Kernels", "Live", "MIDI", "Memory", "Model", "OfflineAudio", "Realtime",
            "Rendering", "Tokens", .product(name: "Logging", package: "swift-log"),
        ], swiftSettings: swift6),
        // FluidSynth offline: MIDI to WAV, the soundfont lookup (no ALSA client needed).
        .target(name: "OfflineAudio", dependencies: ["CFluidSynth", "MIDI", "SafeFiles"], swiftSettings: swift6),
        // Live I/O: ALSA sequencer client, real-time threads, live FluidSynth.
        .target(name: "Live", dependencies: [
            "CALSA", "CFluidSynth", "MIDI", "Harmony", "Engine", "Config", "OfflineAudio", "Memory", "Hindsight", "Tokens", "SafeFiles",
            "Realtime",
            .product(name: "Logging", package: "swift-log"),
        ], swiftSettings: swift6),
        // The command line.
        .executableTarget(
            name: "accompanist",
            dependencies: [
                "MIDI", "Tokens", "Engine", "Config", "OfflineAudio", "Live", "Kernels", "Model", "Hindsight", "Memory", "SafeFiles",
                "Realtime", "Harmony", "Rendering", "Evaluation", "Benchmarking",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swift6),

        // Kernel micro-benchmark (docs/kernels.md): swift run -c release kernels-bench
        .executableTarget(name: "kernels-bench", dependencies: ["Kernels", "Model"], path: "Benchmarks/KernelsBench",
                          swiftSettings: swift6 + cpuFlags),

        // A test client for the live tests in the VM (not installed).
        .executableTarget(name: "seq-probe", dependencies: ["CALSA"], path: "Tests/LiveVM/SeqProbe", swiftSettings: [.swiftLanguageMode(.v5)]),

        .testTarget(name: "SafeFilesTests", dependencies: ["SafeFiles"], swiftSettings: swift6),
        .testTarget(name: "MIDITests", dependencies: ["MIDI"], swiftSettings: swift6),
        .testTarget(name: "TokensTests", dependencies: ["Tokens", "MIDI"],
                    swiftSettings: swift6),
        .testTarget(name: "HarmonyTests", dependencies: ["Harmony", "MIDI", "Engine"], swiftSettings: swift6),
        .testTarget(name: "KernelsTests", dependencies: ["Kernels"], swiftSettings: swift6),
        .testTarget(name: "ModelTests", dependencies: ["Model", "Kernels", "Tokens"], swiftSettings: swift6),
        .testTarget(name: "EngineTests", dependencies: ["Engine", "MIDI", "Tokens", "Model", "Evaluation", "Harmony"], swiftSettings: swift6),
        .testTarget(name: "ConfigTests", dependencies: ["Config", "Engine", "Model"], swiftSettings: swift6),
        .testTarget(name: "HindsightTests", dependencies: ["Hindsight", "Harmony", "Model", "Tokens"], swiftSettings: swift6),
        .testTarget(name: "MemoryTests", dependencies: ["Memory", "Harmony", "Engine", "Hindsight", "Tokens"], swiftSettings: swift6),
        .testTarget(name: "EvaluationTests", dependencies: ["Evaluation"], swiftSettings: swift6),
        .testTarget(name: "RealtimeTests", dependencies: ["Realtime"], swiftSettings: swift6),
        .testTarget(name: "RenderingTests", dependencies: ["Rendering", "MIDI", .product(name: "Logging", package: "swift-log")],
                    swiftSettings: swift6),
        .testTarget(name: "OfflineAudioTests", dependencies: ["OfflineAudio", "MIDI", "SafeFiles"], swiftSettings: swift6),
        .testTarget(name: "LiveTests", dependencies: ["Live", "MIDI", "Harmony", "Engine", "Config", "Memory", "Tokens", "Hindsight", "Realtime",
                                                      .product(name: "Logging", package: "swift-log")], swiftSettings: swift6),
        .testTarget(name: "AccompanistTests", dependencies: ["accompanist", "Config", "MIDI"], swiftSettings: swift6),
    ]
)
