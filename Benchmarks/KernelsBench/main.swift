// kernels-bench: GEMV throughput on an L3-resident weight set, fp32 vs fp16, and the other
// kernels at the decoder's shapes. Results and the commands: docs/kernels.md.
//
//   swift run -c release --scratch-path .build-kernels kernels-bench [--reps N]
//   ACCOMPANIST_NATIVE=1 swift run -c release --scratch-path .build-kernels-native kernels-bench
//   ... kernels-bench --model [--model-steps N]   the streaming model per step (ModelBench.swift)

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Kernels

func now() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
}

/// Median seconds per call of `body` over `reps` timed calls (after a few warm-up calls).
func median(_ reps: Int, _ body: () -> Void) -> Double {
    for _ in 0..<3 { body() }
    var times = [Double](repeating: 0, count: reps)
    for r in 0..<reps {
        let t0 = now()
        body()
        times[r] = now() - t0
    }
    times.sort()
    return times[reps / 2]
}

var reps = 200
var modelSteps = 0
var args = CommandLine.arguments.dropFirst()
while let a = args.popFirst() {
    if a == "--reps", let v = args.popFirst(), let n = Int(v) { reps = n }
    if a == "--model" { modelSteps = 2000 }
    if a == "--model-steps", let v = args.popFirst(), let n = Int(v) { modelSteps = n }
}
if modelSteps > 0 {
    try runModelBench(steps: modelSteps)
    exit(0)
}

// A decoder-like weight set: d_model 256, FFN 1024, 3 layers; per layer
// self-attention QKV 768x256 and out 256x256, cross-attention Q 256x256 and out 256x256,
// FFN 1024x256 and 256x1024. 2.36 M weights: 9.4 MB fp32, 4.7 MB fp16 (L3 is 32 MB, L2 1 MB).
let layerShapes: [(rows: Int, cols: Int)] = [(768, 256), (256, 256), (256, 256), (256, 256), (1024, 256), (256, 1024)]
let shapes = Array(repeating: layerShapes, count: 3).flatMap { $0 }
let weights = shapes.reduce(0) { $0 + $1.rows * $1.cols }

/// A small LCG: uniform values in [-1, 1).
struct LCG {
    var state: UInt64 = 1
    mutating func next() -> Float {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return Float(Int32(truncatingIfNeeded: state >> 32)) / Float(Int32.max)
    }
}
nonisolated(unsafe) var lcg = LCG()
func rand() -> Float { lcg.next() }

let w32 = shapes.map { s -> UnsafeMutablePointer<Float> in
    let src = UnsafeMutablePointer<Float>.allocate(capacity: s.rows * s.cols)
    for i in 0..<(s.rows * s.cols) { src[i] = rand() }
    let p = UnsafeMutablePointer<Float>.allocate(capacity: packedCount(rows: s.rows, cols: s.cols))
    packPanels(src, rows: s.rows, cols: s.cols, into: p)
    src.deallocate()
    return p
}
let w16 = zip(shapes, w32).map { s, p32 -> UnsafeMutablePointer<Float16> in
    let n = packedCount(rows: s.rows, cols: s.cols)
    let p = UnsafeMutablePointer<Float16>.allocate(capacity: n)
    for i in 0..<n { p[i] = Float16(p32[i]) }
    return p
}
let x = UnsafeMutablePointer<Float>.allocate(capacity: 1024)
let y = UnsafeMutablePointer<Float>.allocate(capacity: 1024)
let bias = UnsafeMutablePointer<Float>.allocate(capacity: 1024)
for i in 0..<1024 { x[i] = rand(); bias[i] = rand() }

func report(_ name: String, _ seconds: Double, flops: Double, bytes: Double) {
    let us = seconds * 1e6
    print(name.padding(toLength: 44, withPad: " ", startingAt: 0)
          + String(format: "%9.2f µs  %7.1f GFLOP/s  %7.1f GB/s", us, flops / seconds / 1e9, bytes / seconds / 1e9))
}

print("kernels-bench: \(shapes.count) matrices, \(weights) weights (\(weights * 4 / 1_000_000) MB fp32), median of \(reps)")
let flops = Double(2 * weights)
let t32 = median(reps) {
    for (i, s) in shapes.enumerated() {
        SIMDKernels.gemv(UnsafePointer(w32[i]), x, bias: bias, residual: nil, y, rows: s.rows, cols: s.cols)
    }
}
report("gemv set fp32 (SIMD)", t32, flops: flops, bytes: Double(4 * weights))
let t16 = median(reps) {
    for (i, s) in shapes.enumerated() {
        SIMDKernels.gemv(UnsafePointer(w16[i]), x, bias: bias, residual: nil, y, rows: s.rows, cols: s.cols)
    }
}
report("gemv set fp16 (SIMD)", t16, flops: flops, bytes: Double(2 * weights))
let ts = median(max(reps / 20, 5)) {
    for (i, s) in shapes.enumerated() {
        ScalarKernels.gemv(UnsafePointer(w32[i]), x, bias: bias, residual: nil, y, rows: s.rows, cols: s.cols)
    }
}
report("gemv set fp32 (scalar twin)", ts, flops: flops, bytes: Double(4 * weights))
print(String(format: "fp16 / fp32 speed-up %.2fx, SIMD / scalar %.1fx", t32 / t16, ts / t32))

// One L2-resident matrix, repeated: the compute side.
let l2 = median(reps * 10) {
    SIMDKernels.gemv(UnsafePointer(w32[4]), x, bias: nil, residual: nil, y, rows: 1024, cols: 256)
}
report("gemv 1024x256 fp32, L2-resident (1 MB)", l2, flops: 2 * 1024 * 256, bytes: 4 * 1024 * 256)

// Batched: 4 rows of X per pass over the set.
let xb = UnsafeMutablePointer<Float>.allocate(capacity: 8 * 1024)
let yb = UnsafeMutablePointer<Float>.allocate(capacity: 8 * 1024)
for i in 0..<(8 * 1024) { xb[i] = rand() }
let tb = median(reps) {
    for (i, s) in shapes.enumerated() {
        SIMDKernels.gemm(UnsafePointer(w32[i]), xb, bias: bias, residual: nil, yb, n: 8, rows: s.rows, cols: s.cols)
    }
}
report("gemm set fp32, 8 rows", tb, flops: 8 * flops, bytes: Double(4 * weights))

// Attention: 4 heads of 64 over a 512-slot cache, fp32 and fp16.
let capacity = 512, dim = 64, heads = 4
let keys32 = UnsafeMutablePointer<Float>.allocate(capacity: heads * capacity * dim)
let vals32 = UnsafeMutablePointer<Float>.allocate(capacity: heads * capacity * dim)
let keys16 = UnsafeMutablePointer<Float16>.allocate(capacity: heads * capacity * dim)
let vals16 = UnsafeMutablePointer<Float16>.allocate(capacity: heads * capacity * dim)
for i in 0..<(heads * capacity * dim) {
    keys32[i] = rand(); vals32[i] = rand(); keys16[i] = Float16(keys32[i]); vals16[i] = Float16(vals32[i])
}
let scores = UnsafeMutablePointer<Float>.allocate(capacity: capacity)
let attnBytes = Double(2 * heads * capacity * dim)
let ta32 = median(reps * 5) {
    for h in 0..<heads {
        SIMDKernels.attend(x + h * dim, keys: keys32 + h * capacity * dim, values: vals32 + h * capacity * dim,
                           capacity: capacity, newest: 300, count: capacity, scale: 0.125, slope: 0.01,
                           scores: scores, y + h * dim, dim: dim)
    }
}
report("attend 4 heads x 64, 512 positions, fp32", ta32, flops: 4 * attnBytes, bytes: 4 * attnBytes)
let ta16 = median(reps * 5) {
    for h in 0..<heads {
        SIMDKernels.attend(x + h * dim, keys: keys16 + h * capacity * dim, values: vals16 + h * capacity * dim,
                           capacity: capacity, newest: 300, count: capacity, scale: 0.125, slope: 0.01,
                           scores: scores, y + h * dim, dim: dim)
    }
}
report("attend 4 heads x 64, 512 positions, fp16", ta16, flops: 4 * attnBytes, bytes: 2 * attnBytes)

// Causal convolution step: 256 channels, 256 taps.
let width = 256, channels = 256
let ring = UnsafeMutablePointer<Float>.allocate(capacity: width * channels)
let filt = UnsafeMutablePointer<Float>.allocate(capacity: width * channels)
for i in 0..<(width * channels) { ring[i] = rand(); filt[i] = rand() }
let tc = median(reps * 5) {
    SIMDKernels.causalConvStep(ring: ring, newest: 100, filter: filt, taps: width, bias: bias, y,
                               width: width, channels: channels)
}
report("causal conv step 256 ch x 256 taps, fp32", tc, flops: Double(2 * width * channels),
       bytes: Double(8 * width * channels))

// Small ones at d_model 256 / vocab 300.
let tl = median(reps * 50) { SIMDKernels.layerNorm(x, gamma: bias, beta: bias, y, count: 256, eps: 1e-5) }
report("layer norm 256", tl, flops: 5 * 256, bytes: 3 * 4 * 256)
let tg = median(reps * 50) { SIMDKernels.gelu(x, y, count: 1024) }
report("gelu 1024", tg, flops: 20 * 1024, bytes: 2 * 4 * 1024)
let tsm = median(reps * 50) { SIMDKernels.softmax(x, y, count: 300) }
report("softmax 300", tsm, flops: 20 * 300, bytes: 2 * 4 * 300)

// Attention at the shipped model's shape: head 32, self window 256 (cross 128 is half of it).
let ta32s = median(reps * 20) {
    SIMDKernels.attend(x, keys: keys32, values: vals32, capacity: 256, newest: 100, count: 256, scale: 0.18,
                       slope: 0.25, scores: scores, y, dim: 32)
}
report("attend 1 head x 32, 256 positions, fp32", ta32s, flops: 4 * 256 * 32, bytes: 2 * 4 * 256 * 32)
let ta16s = median(reps * 20) {
    SIMDKernels.attend(x, keys: keys16, values: vals16, capacity: 256, newest: 100, count: 256, scale: 0.18,
                       slope: 0.25, scores: scores, y, dim: 32)
}
report("attend 1 head x 32, 256 positions, fp16", ta16s, flops: 4 * 256 * 32, bytes: 2 * 2 * 256 * 32)
