import CSynapseKernels
import Testing
@testable import Synapse

/// The AVX-512 C kernels (used when the CPU has them) against the Swift block functions they mirror: same
/// reductions and polynomials, so they may differ only by the roundings that fused multiply-adds skip. The accuracy
/// tests in `VectorMathTests` run whichever path the machine takes; this suite keeps the other one honest.
@Suite(.enabled(if: synapse_cpu_has_avx512() != 0, "needs AVX-512"), .synapseRuntime)
struct AVX512KernelTests {
    static let specials: [Float] = [0, -0, 1, -1, .infinity, -.infinity, .nan, 88.7, 88.8, 89, -87, -103.9, -104, -200,
                                    3.91, 3.92, -3.92, 1e-30, -1e-30, .leastNonzeroMagnitude, 1e6, -1e6,
                                    0.6249999, 0.625, -0.625, 9.01, 10, 10.000001, -10.5]
    static let xs = VectorMathTests.sweep(-110, 90, stride: 4099) + specials

    /// Values agree within `ulps` units in the last place (of the larger) plus `absolute(i)`, NaN with NaN and
    /// infinities exactly.
    static func expectAgree(_ name: String, _ a: [Float], _ b: [Float], ulps: Float,
                            absolute: (Int) -> Float = { _ in 0 }) {
        var worst: (Float, Int) = (0, -1)
        for (i, (u, v)) in zip(a, b).enumerated() {
            if u.isNaN || v.isNaN || u.isInfinite || v.isInfinite {
                if !(u.isNaN && v.isNaN) && u != v { worst = (.infinity, i) }
                continue
            }
            let spacing = max(u.magnitude, v.magnitude).ulp
            let error = max(0, (u - v).magnitude - absolute(i)) / spacing
            if error > worst.0 { worst = (error, i) }
        }
        #expect(worst.0 <= ulps, "\(name): \(worst.0) ulp apart at x = \(worst.1 >= 0 ? xs[worst.1] : 0)")
    }

    static func swift(_ block: (SIMD16<Float>) -> SIMD16<Float>) -> [Float] {
        var ys = [Float](repeating: 0, count: xs.count)
        xs.withUnsafeBufferPointer { x in
            ys.withUnsafeMutableBufferPointer { y in VectorMath.map(x.baseAddress!, y.baseAddress!, xs.count, block) }
        }
        return ys
    }

    static func c(_ kernel: (UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void) -> [Float] {
        var ys = [Float](repeating: 0, count: xs.count)
        xs.withUnsafeBufferPointer { x in ys.withUnsafeMutableBufferPointer { y in kernel(x.baseAddress!, y.baseAddress!, xs.count) } }
        return ys
    }

    @Test func expTanhAndErfMatchTheSwiftBlocks() {
        Self.expectAgree("exp", Self.c { synapse_exp_avx512($0, $1, $2) }, Self.swift { VectorMath.exp($0) }, ulps: 2)
        Self.expectAgree("erf", Self.c { synapse_erf_avx512($0, $1, $2) }, Self.swift { VectorMath.erf($0) }, ulps: 2)
        Self.expectAgree("tanh", Self.c { synapse_tanh_avx512($0, $1, $2) }, Self.swift { VectorMath.tanh($0) }, ulps: 2)
        Self.expectAgree("sigmoid", Self.c { synapse_sigmoid_avx512($0, $1, $2) }, Self.swift { VectorMath.sigmoid($0) },
                         ulps: 2)
    }

    /// One LSTM step on both paths, over hidden sizes with and without a partial last block, pre-activations from
    /// saturated to small (so σ underflows and the gradients go subnormal and are flushed), with and without c_{t−1}.
    @Test func lstmCellAndGateGradientsMatchTheSwiftLoops() {
        var rng = RandomGenerator(seed: 21)
        for h in [1, 16, 37, 256] {
            let preactivations = (0..<(4 * h)).map { j in j % 11 == 0 ? Float(j % 2 == 0 ? 95 : -95) : rng.nextNormal() * 4 }
            let previous = (0..<h).map { _ in rng.nextNormal() }
            for hasPrevious in [true, false] {
                func forward(_ avx512: Bool) -> [[Float]] {
                    var (gates, cell, tanhCell, y) = (preactivations, [Float](repeating: 0, count: h),
                                                      [Float](repeating: 0, count: h), [Float](repeating: 0, count: h))
                    previous.withUnsafeBufferPointer { p in
                        RecurrentKernels.lstmCell(hidden: h, gates: &gates, previousCell: hasPrevious ? p.baseAddress! : nil,
                                                  cell: &cell, tanhCell: &tanhCell, output: &y, allowAVX512: avx512)
                    }
                    return [gates, cell, tanhCell, y]
                }
                let (fast, portable) = (forward(true), forward(false))
                // σ, tanh and the products built on them: a few ulp from the two exp roundings.
                for (name, (a, b)) in zip(["gates", "cell", "tanh cell", "output"], zip(fast, portable)) {
                    Self.expectAgree("lstm \(name), H = \(h)", a, b, ulps: 4) { _ in 1e-30 }
                }
                let outputGrad = (0..<h).map { _ in rng.nextNormal() }, hiddenGrad = (0..<h).map { _ in rng.nextNormal() }
                let carried = (0..<h).map { _ in rng.nextNormal() * 1e-37 }          // products of it go subnormal
                func backward(_ avx512: Bool) -> [[Float]] {
                    var (cellGrad, d) = (carried, [Float](repeating: 0, count: 4 * h))
                    RecurrentKernels.lstmGateGradients(hidden: h, gates: portable[0], tanhCell: portable[2],
                                                       previousCell: previous, outputGrad: outputGrad,
                                                       hiddenGrad: hiddenGrad, cellGrad: &cellGrad, gateGrads: &d,
                                                       allowAVX512: avx512)
                    return [d, cellGrad]
                }
                let (fastGrads, portableGrads) = (backward(true), backward(false))
                #expect(fastGrads[0].map(\.bitPattern) == portableGrads[0].map(\.bitPattern), "gate gradients, H = \(h)")
                #expect(fastGrads[1].map(\.bitPattern) == portableGrads[1].map(\.bitPattern), "cell gradient, H = \(h)")
                #expect(fastGrads[0].allSatisfy { $0 == 0 || $0.isNormal || !$0.isFinite }, "subnormals flushed")
            }
        }
    }

    @Test func geluForwardAndBackwardMatchTheSwiftBlocks() {
        let n = Self.xs.count
        var (y, cdf) = ([Float](repeating: 0, count: n), [Float](repeating: 0, count: n))
        synapse_gelu_exact_avx512(Self.xs, &y, &cdf, n)
        // Where Φ(x) = (1 + erf)/2 cancels (x ≪ 0), one ulp of erf near −1 is 6e-8 absolute in Φ, so x·Φ may differ
        // by that much times |x| between the two roundings.
        let phiUlp = Float(1).ulp
        Self.expectAgree("gelu", y, Self.swift { VectorMath.geluExact($0) }, ulps: 4) { phiUlp * Self.xs[$0].magnitude }
        // The plain forward writes the same y as the one that keeps Φ.
        var plain = [Float](repeating: 0, count: n)
        synapse_gelu_exact_avx512(Self.xs, &plain, nil, n)
        #expect(zip(plain, y).allSatisfy { $0.bitPattern == $1.bitPattern })
        let g: [Float] = (0..<n).map { Float($0 % 13) - 6 }
        var grad = [Float](repeating: 0, count: n)
        synapse_gelu_exact_backward_avx512(Self.xs, cdf, g, &grad, n)
        var expected = [Float](repeating: 0, count: n)
        Self.xs.withUnsafeBufferPointer { x in
            g.withUnsafeBufferPointer { gp in
                expected.withUnsafeMutableBufferPointer { e in
                    VectorMath.map(x.baseAddress!, gp.baseAddress!, e.baseAddress!, n) { v, gv in
                        let c = 0.5 * (1 + VectorMath.erf(v * VectorMath.sqrtHalf))
                        return gv * (c + v * (VectorMath.exp(-0.5 * (v * v)) * VectorMath.inverseSqrtTwoPi))
                    }
                }
            }
        }
        // The same cancellation in Φ, scaled by |g| ≤ 6.
        Self.expectAgree("gelu backward", grad, expected, ulps: 8) { 6 * phiUlp * (1 + Self.xs[$0].magnitude) }
    }

    /// im2col and col2im's AVX-512 plane kernels against the Swift loops, bit for bit (im2col copies; col2im adds in
    /// the same order): planes narrower and wider than a vector, padding on either side and wider than the kernel,
    /// several images and channels (so the column offsets of each plane are exercised).
    @Test func im2colAndCol2imPlaneKernelsMatchTheSwiftLoops() {
        var rng = RandomGenerator(seed: 4)
        // (batch, channels, height, width, kernel, padding)
        for (n, c, h, w, k, p) in [(2, 3, 13, 13, 3, 0), (1, 2, 5, 40, 3, 1), (3, 1, 28, 28, 5, 2), (1, 1, 4, 4, 3, 4),
                                   (2, 2, 7, 17, 1, 0), (1, 3, 9, 33, 2, 1)] {
            let (outH, outW) = (h + 2 * p - k + 1, w + 2 * p - k + 1)
            let g = ConvGeometry(batch: n, channels: c, height: h, width: w, kernelH: k, kernelW: k, strideH: 1,
                                 strideW: 1, padTop: p, padLeft: p, dilationH: 1, dilationW: 1, outH: outH, outW: outW)
            #expect(Kernels.usesAVX512PlaneKernels(g, allowAVX512: true))
            let x = (0..<(n * c * h * w)).map { _ in rng.nextNormal() }
            let rows = c * k * k
            func lower(_ avx512: Bool) -> [Float] {
                var col = [Float](repeating: .nan, count: rows * g.columns)
                Kernels.im2col(x, g, &col, parallel: false, allowAVX512: avx512)
                return col
            }
            let (fast, portable) = (lower(true), lower(false))
            #expect(fast.map(\.bitPattern) == portable.map(\.bitPattern), "im2col \(n)×\(c)×\(h)×\(w), k \(k), pad \(p)")
            let grads = (0..<(rows * g.columns)).map { _ in rng.nextNormal() }
            func scatter(_ avx512: Bool) -> [Float] {
                var dx = [Float](repeating: .nan, count: x.count)
                Kernels.col2im(grads, g, &dx, parallel: false, allowAVX512: avx512)
                return dx
            }
            #expect(scatter(true).map(\.bitPattern) == scatter(false).map(\.bitPattern),
                    "col2im \(n)×\(c)×\(h)×\(w), k \(k), pad \(p)")
        }
    }

    /// The elementwise add kernel against the Swift loop it replaces (`Kernels.add(…, allowAVX512: false)`): the same
    /// bits at every length around the 32- and 16-float steps, with special values, into a third buffer and in place.
    @Test func addMatchesTheSwiftLoop() {
        var rng = RandomGenerator(seed: 9)
        for count in [0, 1, 15, 16, 17, 31, 32, 33, 47, 1000, 50_001] {
            var a = (0..<count).map { _ in Float.random(in: -4...4, using: &rng) }
            let b = (0..<count).map { _ in Float.random(in: -4...4, using: &rng) }
            for (i, v) in Self.specials.enumerated() where count > 0 { a[(i * 7919) % count] = v }
            func sum(_ avx512: Bool, inPlace: Bool) -> [Float] {
                var y = inPlace ? a : [Float](repeating: 7, count: count)
                a.withUnsafeBufferPointer { a in
                    b.withUnsafeBufferPointer { b in
                        y.withUnsafeMutableBufferPointer { y in
                            guard count > 0 else { return }
                            Kernels.add(inPlace ? UnsafePointer(y.baseAddress!) : a.baseAddress!, b.baseAddress!,
                                        y.baseAddress!, count, allowAVX512: avx512)
                        }
                    }
                }
                return y
            }
            for inPlace in [false, true] {
                let (fast, portable) = (sum(true, inPlace: inPlace), sum(false, inPlace: inPlace))
                #expect(fast.map(\.bitPattern) == portable.map(\.bitPattern), "count \(count), in place: \(inPlace)")
                #expect(portable == zip(a, b).map { $0 + $1 } || portable.contains { $0.isNaN })
            }
        }
    }

    /// The 2×2 max-pool kernel against the Swift loop: same maxima and winners, bit for bit, over odd and even
    /// planes, rows past one vector, ties (the earlier element wins), infinities and NaN windows (PyTorch's rule).
    @Test func maxPool2x2KernelMatchesTheSwiftLoop() {
        var rng = RandomGenerator(seed: 8)
        for (n, c, h, w) in [(2, 3, 26, 26), (1, 2, 11, 11), (1, 1, 4, 70), (3, 2, 9, 33), (1, 1, 2, 2)] {
            var x = (0..<(n * c * h * w)).map { _ in Float(Int.random(in: -4...4, using: &rng)) }   // many ties
            let specials: [Float] = [.nan, .infinity, -.infinity, .nan, -0.0]
            for (i, v) in specials.enumerated() { x[(i * 7919 + 13) % x.count] = v }
            let g = ConvGeometry(batch: n, channels: c, height: h, width: w, kernelH: 2, kernelW: 2, strideH: 2,
                                 strideW: 2, padTop: 0, padLeft: 0, dilationH: 1, dilationW: 1, outH: h / 2, outW: w / 2)
            func pool(_ avx512: Bool) -> ([Float], [Int32]) {
                var out = [Float](repeating: 7, count: n * c * g.outPlane)
                var indices = [Int32](repeating: -1, count: out.count)
                Kernels.maxPool2x2(x, g, &out, &indices, allowAVX512: avx512)
                return (out, indices)
            }
            let (fast, portable) = (pool(true), pool(false))
            #expect(fast.0.map(\.bitPattern) == portable.0.map(\.bitPattern), "maxima \(n)×\(c)×\(h)×\(w)")
            #expect(fast.1 == portable.1, "winners \(n)×\(c)×\(h)×\(w)")
            #expect(portable.0.contains { $0.isNaN })
        }
    }

    /// The Adam kernel does the Swift loop's operations in the same order without fusing any (IEEE sqrt and divide
    /// are exactly rounded in both), so the results are bit for bit the same, subnormal flushing included.
    @Test func adamStepIsBitIdenticalToTheScalarFormula() {
        let n = 1_000
        var rng = RandomGenerator(seed: 3)
        var p = (0..<n).map { _ in rng.nextNormal() }
        let g = (0..<n).map { i in i % 17 == 0 ? Float.leastNormalMagnitude / 16 : rng.nextNormal() * 0.01 }   // subnormal gradients too
        var m = (0..<n).map { i in i % 5 == 0 ? 2e-38 : rng.nextNormal() * 1e-3 }
        var v = (0..<n).map { _ in rng.nextUniform() * 1e-4 }
        let (shrink, l2, b1, b2, stepSize, c2, eps): (Float, Float, Float, Float, Float, Float, Float) =
            (0.9999, 0.01, 0.9, 0.99, 1e-3, 1.7, 1e-8)
        var (pe, me, ve) = (p, m, v)
        func flush(_ x: Float) -> Float { abs(x) < Float.leastNormalMagnitude ? 0 : x }
        for i in 0..<n {
            let w = pe[i] * shrink
            let gi = g[i] + l2 * w
            let mi = flush(me[i] + (1 - b1) * (gi - me[i]))
            let vi = flush(b2 * ve[i] + (1 - b2) * gi * gi)
            (me[i], ve[i]) = (mi, vi)
            pe[i] = w - stepSize * (mi / (vi.squareRoot() * c2 + eps))
        }
        synapse_adam_step_avx512(&p, g, &m, &v, n, shrink, l2, b1, b2, stepSize, c2, eps)
        #expect(p.map(\.bitPattern) == pe.map(\.bitPattern))
        #expect(m.map(\.bitPattern) == me.map(\.bitPattern))
        #expect(v.map(\.bitPattern) == ve.map(\.bitPattern))
    }

    /// `Kernels.adamStep` picks the AVX-512 kernel when it may; its portable FusedLoop path gives the same bits.
    @Test func adamStepPathsAreBitIdentical() {
        let n = 1_037                                              // not a multiple of 16: a padded last block
        var rng = RandomGenerator(seed: 5)
        let start = (0..<4).map { _ in (0..<n).map { _ in rng.nextNormal() * 0.1 } }
        let scalars = Kernels.AdamScalars(shrink: 0.999, l2: 0.01, beta1: 0.9, beta2: 0.999, stepSize: 2e-3,
                                          inverseCorrection2Sqrt: 3.2, epsilon: 1e-8)
        func run(avx512: Bool) -> [[Float]] {
            var (p, m, v) = (start[0], start[2], start[3].map { $0 * $0 })
            Kernels.adamStep(parameter: &p, gradient: start[1], count: n, m: &m, v: &v, peak: nil, scalars,
                             allowAVX512: avx512)
            return [p, m, v]
        }
        let (fast, portable) = (run(avx512: true), run(avx512: false))
        for (name, (a, b)) in zip(["parameter", "m", "v"], zip(fast, portable)) {
            #expect(a.map(\.bitPattern) == b.map(\.bitPattern), "adam \(name)")
        }
    }

    /// The int8 activation row kernels give the Swift loops' results bit for bit: the same (min, max) with NaNs
    /// ignored, and the same codes (rounding halves to even, clamping, NaN to the lowest code) and code sum.
    @Test func int8RowKernelsMatchTheSwiftLoops() {
        var rng = RandomGenerator(seed: 11)
        for count in [1, 7, 16, 17, 288, 1000] {
            var x = (0..<count).map { _ in Float.random(in: -3...3, using: &rng) }
            // Exact halves (ties), values past the clamp, zeros of both signs, NaN and infinities.
            let specials: [Float] = [0.5, 1.5, -2.5, 100, -100, 0, -0, .nan, .infinity, -.infinity]
            for (i, v) in specials.enumerated() where i < count && count > 1 { x[(i * 7919) % count] = v }
            let (low, high) = x.withUnsafeBufferPointer { Int8Kernels.range($0.baseAddress!, count: count) }
            let expected = x.withUnsafeBufferPointer { Int8Kernels.portableRange($0.baseAddress!, count: count) }
            #expect(low.bitPattern == expected.minimum.bitPattern && high.bitPattern == expected.maximum.bitPattern,
                    "range of \(count): (\(low), \(high)) vs \(expected)")
            for (scheme, inverseScale, zeroPoint) in [(Int8Scheme.absmax, Float(127) / 3, Int32(0)), (.zeroPoint, 40, -5)] {
                let range = scheme.codeRange
                var codes = [UInt8](repeating: 0, count: count), signed = [Int32](repeating: 0, count: count)
                let sum = synapse_quantize_u8_avx512(x, count, inverseScale, Float(zeroPoint), Float(range.lowerBound),
                                                     Float(range.upperBound), 128, &codes)
                x.withUnsafeBufferPointer { xp in
                    signed.withUnsafeMutableBufferPointer {
                        Int8Kernels.quantize(xp.baseAddress!, count: count, inverseScale: inverseScale,
                                             zeroPoint: zeroPoint, range: range, into: $0.baseAddress!)
                    }
                }
                let reference = signed.map { UInt8($0 + 128) }
                #expect(codes == reference, "codes of \(count) values, \(scheme)")
                #expect(sum == reference.reduce(0) { $0 + Int32($1) })
            }
        }
    }
}
