import CSynapseKernels
import Testing
@testable import Synapse

/// The AVX-512 VNNI int8 kernels against plain Int32 arithmetic. They run only on CPUs with VNNI (the portable
/// kernels, tested through `QuantizedLinear` everywhere, take over elsewhere).
@Suite(.enabled(if: Int8VNNI.isAvailable, "needs AVX-512 VNNI"), .synapseRuntime)
struct Int8VNNITests {
    /// Shapes around every edge of the kernel: rows not a multiple of the 4-row tile, outputs not a multiple of the
    /// 16-output block or the 64-output tile, inputs not a multiple of 4; the last one is large enough to be split
    /// across threads.
    @Test(arguments: [(1, 1, 1), (1, 256, 784), (3, 17, 5), (4, 64, 8), (5, 65, 13), (9, 130, 37), (64, 200, 700)])
    func packedProductEqualsIntegerArithmetic(rows: Int, n: Int, k: Int) {
        var rng = RandomGenerator(seed: UInt64(rows * 1000 + n + k))
        // Extreme codes included: 255 × −128 is the largest product magnitude.
        let weights = (0..<(n * k)).map { i in i % 11 == 0 ? Int8.min : Int8(truncatingIfNeeded: Int(rng.next() % 256)) }
        let ldx = Int8VNNI.paddedInputs(k)
        var codes = [UInt8](repeating: 0, count: rows * ldx)
        for r in 0..<rows {
            for i in 0..<k { codes[r * ldx + i] = i % 7 == 0 ? 255 : UInt8(truncatingIfNeeded: rng.next()) }
            for i in k..<ldx { codes[r * ldx + i] = 255 }   // padding meets zero weights
        }
        guard let packed = Int8VNNI.pack(weights, n: n, k: k) else {
            Issue.record("pack returned nil on a VNNI machine")
            return
        }
        var acc = [Int32](repeating: -1, count: rows * n)
        let blocks = (n + 15) / 16
        synapse_int8_gemm_vnni(codes, rows, ldx, packed, n, k, 0, blocks, &acc)
        var mismatches = 0
        for r in 0..<rows {
            for o in 0..<n {
                var expected: Int32 = 0
                for i in 0..<k { expected += Int32(codes[r * ldx + i]) * Int32(weights[o * k + i]) }
                if acc[r * n + o] != expected { mismatches += 1 }
            }
        }
        #expect(mismatches == 0, "\(mismatches) of \(rows * n) sums differ for rows \(rows), n \(n), k \(k)")
    }

    /// The largest allowed input count with every product at its extreme still fits Int32.
    @Test func longestRowsDoNotOverflow() {
        let k = Int8VNNI.maximumInputs, n = 16
        let weights = [Int8](repeating: .min, count: n * k)
        let codes = [UInt8](repeating: 255, count: k)
        let packed = Int8VNNI.pack(weights, n: n, k: k)!
        var acc = [Int32](repeating: 0, count: n)
        synapse_int8_gemm_vnni(codes, 1, k, packed, n, k, 0, 1, &acc)
        #expect(acc == [Int32](repeating: Int32(-255 * 128 * k), count: n))
    }

    /// Through the layer: the VNNI path and the portable path accumulate the same integers, so a quantized layer's
    /// output does not depend on which kernel ran.
    @Test(arguments: Int8Scheme.allCases)
    func layerOutputMatchesThePortableKernels(scheme: Int8Scheme) {
        var rng = RandomGenerator(seed: 21)
        let (rows, k, n) = (6, 45, 33)
        let linear = Linear(k, n, generator: &rng)
        let x = Tensor.uniform([rows, k], low: -1, high: 2, generator: &rng)
        for activations: ActivationQuantization in [.dynamic, .static(scale: 3.0 / 255, zeroPoint: -43, scheme: .zeroPoint)] {
            let layer = QuantizedLinear(linear, scheme: scheme, granularity: .perChannel, activations: activations)
            let y = noGrad { layer(x) }
            // The portable kernels, called directly.
            let fixed: (scale: Float, zeroPoint: Int32, scheme: Int8Scheme)?
            if case let .static(s, z, sc) = activations { fixed = (s, z, sc) } else { fixed = nil }
            var codes = [Int16](repeating: 0, count: rows * k), acc = [Int32](repeating: 0, count: rows * n)
            var scales = [Float](repeating: 0, count: rows), zeros = [Int32](repeating: 0, count: rows)
            var sums = [Int32](repeating: 0, count: rows), out = [Float](repeating: 0, count: rows * n)
            let weightSums = (0..<n).map { o in layer.weight.values[(o * k)..<((o + 1) * k)].reduce(Int32(0)) { $0 + Int32($1) } }
            x.withUnsafeBufferPointer { xp in
                Int8Kernels.quantizeRows(xp.baseAddress!, rows: rows, k: k, fixed: fixed, codes: &codes, scales: &scales,
                                         zeroPoints: &zeros, sums: &sums)
            }
            Int8Kernels.gemm(codes, rows: rows, layer.weight.values, n: n, k: k, into: &acc)
            layer.bias!.withUnsafeBufferPointer { b in
                Int8Kernels.rescale(acc, rows: rows, n: n, k: k, rowScales: scales, rowZeroPoints: zeros, rowSums: sums,
                                    weightScales: layer.weight.scales, weightScaleCount: layer.weight.scales.count,
                                    weightZeroPoints: layer.weight.zeroPoints, weightSums: weightSums,
                                    bias: b.baseAddress, into: &out)
            }
            #expect(y.scalars == out, "\(scheme) \(activations)")
        }
    }
}
