// One step of a causal depthwise long convolution (the streaming encoder's time mixing):
//   y[c] = sum_{j=0}^{taps-1} h[j][c] * x[t-j][c]  (+ bias[c])
// over a ring of the last `width` input columns. Both the ring and the filter are stored
// channel-contiguous, so the inner loop runs over channels in vectors: no horizontal sums.
//
//   ring   [width][channels]  row (t % width) holds input column x[t]
//   filter [width][channels]  row j multiplies x[t - j]

extension SIMDKernels {
    /// - Parameters:
    ///   - ring: [width][channels] fp32
    ///   - newest: ring row of x[t]
    ///   - filter: [width][channels]
    ///   - taps: terms to sum, 1...width (min(t + 1, width) while the ring fills, or width
    ///     over a zeroed ring)
    ///   - bias: [channels] or nil
    ///   - y: [channels]
    public static func causalConvStep(
        ring: UnsafePointer<Float>, newest: Int, filter: UnsafePointer<Float>, taps: Int,
        bias: UnsafePointer<Float>?, _ y: UnsafeMutablePointer<Float>, width: Int, channels: Int
    ) {
        convCore(ring, newest, filter, taps, bias, y, width, channels)
    }

    /// fp16 filter. Shapes as the fp32 version.
    public static func causalConvStep(
        ring: UnsafePointer<Float>, newest: Int, filter: UnsafePointer<Float16>, taps: Int,
        bias: UnsafePointer<Float>?, _ y: UnsafeMutablePointer<Float>, width: Int, channels: Int
    ) {
        convCore(ring, newest, filter, taps, bias, y, width, channels)
    }
}

@inline(__always)
func convCore<E: KernelElement>(
    _ ring: UnsafePointer<Float>, _ newest: Int, _ filter: UnsafePointer<E>, _ taps: Int,
    _ bias: UnsafePointer<Float>?, _ y: UnsafeMutablePointer<Float>, _ width: Int, _ channels: Int
) {
    let n = channels
    var c0 = 0
    // 64 channels at a time: 4 accumulators, each fed by 2 loads per FMA.
    while c0 &+ 64 <= n {
        var a0 = SIMD16<Float>(), a1 = SIMD16<Float>(), a2 = SIMD16<Float>(), a3 = SIMD16<Float>()
        var slot = newest
        var j = 0
        while j < taps {
            let x = ring + (slot &* n &+ c0)
            let h = filter + (j &* n &+ c0)
            a0 = a0.addingProduct(E.load16(h), load16(x))
            a1 = a1.addingProduct(E.load16(h + 16), load16(x + 16))
            a2 = a2.addingProduct(E.load16(h + 32), load16(x + 32))
            a3 = a3.addingProduct(E.load16(h + 48), load16(x + 48))
            slot = slot == 0 ? width &- 1 : slot &- 1
            j &+= 1
        }
        if let bias {
            a0 += load16(bias + c0); a1 += load16(bias + (c0 &+ 16))
            a2 += load16(bias + (c0 &+ 32)); a3 += load16(bias + (c0 &+ 48))
        }
        store16(a0, y + c0); store16(a1, y + (c0 &+ 16))
        store16(a2, y + (c0 &+ 32)); store16(a3, y + (c0 &+ 48))
        c0 &+= 64
    }
    while c0 &+ 16 <= n {
        var a0 = SIMD16<Float>(), b0 = SIMD16<Float>()
        var slot = newest
        var j = 0
        while j &+ 2 <= taps {
            let s1 = slot == 0 ? width &- 1 : slot &- 1
            a0 = a0.addingProduct(E.load16(filter + (j &* n &+ c0)), load16(ring + (slot &* n &+ c0)))
            b0 = b0.addingProduct(E.load16(filter + ((j &+ 1) &* n &+ c0)), load16(ring + (s1 &* n &+ c0)))
            slot = s1 == 0 ? width &- 1 : s1 &- 1
            j &+= 2
        }
        if j < taps {
            a0 = a0.addingProduct(E.load16(filter + (j &* n &+ c0)), load16(ring + (slot &* n &+ c0)))
        }
        a0 += b0
        if let bias { a0 += load16(bias + c0) }
        store16(a0, y + c0)
        c0 &+= 16
    }
    while c0 < n {
        var a: Float = bias?[c0] ?? 0
        var slot = newest
        for j in 0..<taps {
            a = a.addingProduct(E.load1(filter + (j &* n &+ c0)), ring[slot &* n &+ c0])
            slot = slot == 0 ? width &- 1 : slot &- 1
        }
        y[c0] = a
        c0 &+= 1
    }
}

extension ScalarKernels {
    public static func causalConvStep<E: KernelElement>(
        ring: UnsafePointer<Float>, newest: Int, filter: UnsafePointer<E>, taps: Int,
        bias: UnsafePointer<Float>?, _ y: UnsafeMutablePointer<Float>, width: Int, channels: Int
    ) {
        for c in 0..<channels {
            var a: Float = bias?[c] ?? 0
            for j in 0..<taps {
                let slot = ((newest - j) % width + width) % width
                a += filter[j * channels + c].floatValue * ring[slot * channels + c]
            }
            y[c] = a
        }
    }
}
