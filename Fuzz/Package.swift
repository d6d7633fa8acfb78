// swift-tools-version:6.1
// Fuzz targets (libFuzzer) for everything Accompanist reads from outside: MIDI files, the daemon's
// TOML config, safetensors weights, chord charts, rehearsal-memory takes. A separate package, so that the main build and the test suite
// never compile them. scripts/fuzz.sh builds them with -sanitize=fuzzer,address and runs them;
// built without the fuzzer (`swift build` here), each target is a replayer: it runs the inputs
// given as file arguments once each, so a crash found by the fuzzer can be replayed under lldb.
import PackageDescription

// A path dependency's identity is its directory name (the checkout's name, whatever it is).
let rootIdentity = Context.packageDirectory.split(separator: "/").dropLast(1).last.map(String.init) ?? "main"
let swift6: [SwiftSetting] = [.swiftLanguageMode(.v6)]

/// One libFuzzer target: its sources in Sources/NAME, the whole product under test.
func fuzzTarget(_ name: String) -> Target {
    .executableTarget(
        name: name,
        dependencies: ["FuzzSupport", .product(name: "AccompanistCore", package: rootIdentity)],
        path: "Sources/\(name)", swiftSettings: swift6)
}

let package = Package(
    name: "AccompanistFuzz",
    platforms: [.macOS(.v15)],
    dependencies: [.package(path: "..")],
    targets: [
        .target(name: "FuzzSupport", path: "Sources/FuzzSupport", swiftSettings: swift6),
    ] + ["FuzzMIDI", "FuzzConfig", "FuzzWeights", "FuzzChart", "FuzzTake"].map(fuzzTarget)
)

