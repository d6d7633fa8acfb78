// swift-tools-version:6.1
// Malloc-counting benchmarks of the kernels, one model step and the live loop (package-benchmark), kept in their
// own package so that the main build does not fetch or compile package-benchmark.
//
//   cd Benchmarks/Malloc && swift package --allow-writing-to-package-directory benchmark
// (the plugin finds benchmark targets under this package's own Benchmarks/ folder)
//
// Every benchmark here must show Malloc (total) = 0: the real-time path never allocates.
import PackageDescription

// A path dependency's identity is its directory name (the checkout's name, whatever it is).
let rootIdentity = Context.packageDirectory.split(separator: "/").dropLast(2).last.map(String.init) ?? "main"

let package = Package(
    name: "AccompanistMallocBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: "../.."),
        .package(url: "https://github.com/ordo-one/package-benchmark", exact: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "ModelSteps",
            dependencies: [
                .product(name: "AccompanistModel", package: rootIdentity),
                .product(name: "Benchmark", package: "package-benchmark"),
            ],
            path: "Benchmarks/ModelSteps",
            swiftSettings: [.swiftLanguageMode(.v6)],
            plugins: [.plugin(name: "BenchmarkPlugin", package: "package-benchmark")]),
        // The live loop (reader, engine loop, outputs) on a simulated clock; scripts/test.sh runs
        // it and fails on any allocation (scripts/check-malloc.sh).
        .executableTarget(
            name: "LiveLoop",
            dependencies: [
                .product(name: "AccompanistCore", package: rootIdentity),
                .product(name: "Benchmark", package: "package-benchmark"),
            ],
            path: "Benchmarks/LiveLoop",
            swiftSettings: [.swiftLanguageMode(.v6)],
            plugins: [.plugin(name: "BenchmarkPlugin", package: "package-benchmark")]),
    ]
)
