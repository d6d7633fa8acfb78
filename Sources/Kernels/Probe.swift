// Machine probes for the floors in `accompanist bench` (docs/bench.md): the read bandwidth of a
// working set and the vector FMA rate of one core. Compiled here, with the kernels' CPU flags, so
// they measure the same vector code the kernels run (a caller built without the flags would get
// narrower vectors or fmaf calls).

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public enum MachineProbe {
    /// The CPU the kernels were compiled for (Package.swift: ACCOMPANIST_NATIVE=1 at build time).
    public static var buildTarget: String {
        #if ACCOMPANIST_NATIVE_BUILD
        return "native (ACCOMPANIST_NATIVE=1, -target-cpu native)"
        #elseif arch(x86_64)
        return "default (x86-64-v3, -target-cpu haswell)"
        #else
        return "default (baseline of this architecture)"
        #endif
    }

    /// Seconds on the monotonic clock.
    @inline(__always)
    public static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }

    /// Median seconds of `reps` timed calls of `body`, after 3 untimed ones. Allocates its times.
    public static func median(_ reps: Int, _ body: () -> Void) -> Double {
        for _ in 0..<3 { body() }
        var times = [Double](repeating: 0, count: max(1, reps))
        for r in 0..<times.count {
            let t0 = now()
            body()
            times[r] = now() - t0
        }
        times.sort()
        return times[times.count / 2]
    }

    /// Read bandwidth (bytes/s, median of `reps` passes) over a working set of `bytes`, read again
    /// and again with 64-byte vector loads into 4 independent sums: the access pattern of the
    /// packed GEMV (the same measurement as kernels-bench --model).
    public static func readBandwidth(bytes: Int, reps: Int = 200) -> Double {
        let n = max(64, bytes / 256 * 64)                  // floats, a multiple of 64
        let buf = UnsafeMutablePointer<Float>.allocate(capacity: n)
        defer { buf.deallocate() }
        for i in 0..<n { buf[i] = Float(i % 7) }
        var sink: Float = 0
        let t = median(reps) {
            var a0 = SIMD16<Float>(), a1 = SIMD16<Float>(), a2 = SIMD16<Float>(), a3 = SIMD16<Float>()
            var i = 0
            let raw = UnsafeRawPointer(buf)
            while i + 64 <= n {
                a0 += raw.loadUnaligned(fromByteOffset: 4 * i, as: SIMD16<Float>.self)
                a1 += raw.loadUnaligned(fromByteOffset: 4 * (i + 16), as: SIMD16<Float>.self)
                a2 += raw.loadUnaligned(fromByteOffset: 4 * (i + 32), as: SIMD16<Float>.self)
                a3 += raw.loadUnaligned(fromByteOffset: 4 * (i + 48), as: SIMD16<Float>.self)
                i += 64
            }
            sink += ((a0 + a1) + (a2 + a3)).sum()
        }
        if sink == .infinity { print("") }                 // keeps the loads
        return Double(n * 4) / t
    }

    /// Peak vector FMA rate of one core (FLOP/s, 2 per lane per FMA): many independent FMA chains
    /// on registers, no memory traffic. The best of 8-lane (ymm) and 16-lane vectors (zmm on an
    /// AVX-512 build, two ymm on x86-64-v3), so each build sees its own peak.
    public static func fmaRate(iterations: Int = 200_000, reps: Int = 15) -> Double {
        let x8 = SIMD8<Float>(repeating: 0.999_999), y8 = SIMD8<Float>(repeating: 1e-7)
        let x16 = SIMD16<Float>(repeating: 0.999_999), y16 = SIMD16<Float>(repeating: 1e-7)
        var sink: Float = 0
        let n = opaque(iterations)
        let t8 = median(reps) {
            var a0 = y8, a1 = y8 + 1, a2 = y8 + 2, a3 = y8 + 3, a4 = y8 + 4
            var a5 = y8 + 5, a6 = y8 + 6, a7 = y8 + 7, a8 = y8 + 8, a9 = y8 + 9
            for _ in 0..<n {
                a0 = a0.addingProduct(a0, x8); a1 = a1.addingProduct(a1, x8)
                a2 = a2.addingProduct(a2, x8); a3 = a3.addingProduct(a3, x8)
                a4 = a4.addingProduct(a4, x8); a5 = a5.addingProduct(a5, x8)
                a6 = a6.addingProduct(a6, x8); a7 = a7.addingProduct(a7, x8)
                a8 = a8.addingProduct(a8, x8); a9 = a9.addingProduct(a9, x8)
            }
            sink += (a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9).sum()
        }
        let t16 = median(reps) {
            // 12 chains: enough to cover FMA latency x 2 pipes on zmm (spills on ymm-only builds,
            // where the 8-lane loop above is the peak).
            var a0 = y16, a1 = y16 + 1, a2 = y16 + 2, a3 = y16 + 3, a4 = y16 + 4, a5 = y16 + 5
            var a6 = y16 + 6, a7 = y16 + 7, a8 = y16 + 8, a9 = y16 + 9, a10 = y16 + 10, a11 = y16 + 11
            for _ in 0..<n {
                a0 = a0.addingProduct(a0, x16); a1 = a1.addingProduct(a1, x16)
                a2 = a2.addingProduct(a2, x16); a3 = a3.addingProduct(a3, x16)
                a4 = a4.addingProduct(a4, x16); a5 = a5.addingProduct(a5, x16)
                a6 = a6.addingProduct(a6, x16); a7 = a7.addingProduct(a7, x16)
                a8 = a8.addingProduct(a8, x16); a9 = a9.addingProduct(a9, x16)
                a10 = a10.addingProduct(a10, x16); a11 = a11.addingProduct(a11, x16)
            }
            sink += (a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11).sum()
        }
        if sink == .infinity { print("") }
        let flops8 = Double(n) * 10 * 8 * 2, flops16 = Double(n) * 12 * 16 * 2
        return max(flops8 / t8, flops16 / t16)
    }

    @inline(never)
    static func opaque(_ n: Int) -> Int { n }
}
