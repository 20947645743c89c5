import CSynapseKernels
import Testing
@testable import Synapse

/// The GEMM kernels called around cblas_sgemm (OpenBLAS's small-matrix kernels, Synapse's AVX-512 kernel) against a
/// double-precision reference, for every transpose combination, both beta paths and leading dimensions wider than
/// the operands (as the recurrent ops use them on strided time steps). Shapes cross every tile edge: rows around
/// the 12-row tile, columns around the 16-float vector and the 32-column panel.
@Suite(.synapseRuntime) struct DirectGEMMTests {
    typealias Kernel = (_ transposeA: Bool, _ transposeB: Bool, _ m: Int, _ n: Int, _ k: Int, _ alpha: Float,
                        _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>, _ ldb: Int, _ beta: Float,
                        _ c: UnsafeMutablePointer<Float>, _ ldc: Int) -> Void

    static let transposes = [(false, false), (false, true), (true, false), (true, true)]

    /// `operand` is what the kernel multiplies for each stored value (the identity, or bfloat16 rounding for the BF16
    /// kernel); the reference sums those in double precision, so only the kernel's Float32 sums may differ.
    static func expectMatchesDefinition(transposeA: Bool, transposeB: Bool, shapes: [(Int, Int, Int)],
                                        operand: (Float) -> Float = { $0 }, tolerance: Double = 1e-6,
                                        kernel: Kernel) {
        var rng = RandomGenerator(seed: 7)
        for (m, n, k) in shapes {
            let (aRows, aCols) = transposeA ? (k, m) : (m, k)
            let (bRows, bCols) = transposeB ? (n, k) : (k, n)
            let (lda, ldb, ldc) = (aCols + 3, bCols + 5, n + 2)
            let a = (0..<(aRows * lda)).map { _ in Float.random(in: -1...1, using: &rng) }
            let b = (0..<(bRows * ldb)).map { _ in Float.random(in: -1...1, using: &rng) }
            let c0 = (0..<(m * ldc)).map { _ in Float.random(in: -1...1, using: &rng) }
            for (alpha, beta) in [(Float(1), Float(0)), (1, 1), (0.5, -2)] {
                // With beta = 0, C must not be read: NaN there would otherwise leak into the result.
                var c = beta == 0 ? c0.enumerated().map { $0.offset % ldc < n ? .nan : $0.element } : c0
                c.withUnsafeMutableBufferPointer { cp in
                    kernel(transposeA, transposeB, m, n, k, alpha, a, lda, b, ldb, beta, cp.baseAddress!, ldc)
                }
                var worst = 0.0
                for i in 0..<m {
                    for j in 0..<ldc {
                        guard j < n else {
                            #expect(c[i * ldc + j] == c0[i * ldc + j], "padding column \(j) untouched")
                            continue
                        }
                        var (sum, magnitude) = (0.0, 0.0)
                        for p in 0..<k {
                            let x = operand(transposeA ? a[p * lda + i] : a[i * lda + p])
                            let y = operand(transposeB ? b[j * ldb + p] : b[p * ldb + j])
                            sum += Double(x) * Double(y)
                            magnitude += abs(Double(x) * Double(y))
                        }
                        let old = beta == 0 ? 0 : Double(beta) * Double(c0[i * ldc + j])
                        let expected = Double(alpha) * sum + old
                        // Float32 rounding grows with the terms summed: measure against their magnitudes.
                        let scale = abs(Double(alpha)) * magnitude + abs(old)
                        let error = abs(Double(c[i * ldc + j]) - expected) / max(scale, 1e-30)
                        worst = max(worst, error.isNaN ? .infinity : error)
                    }
                }
                #expect(worst < tolerance, "m \(m) n \(n) k \(k) alpha \(alpha) beta \(beta): relative error \(worst)")
            }
        }
    }

    @Test(arguments: transposes)
    func smallMatrixKernelsMatchTheDefinition(transposeA: Bool, transposeB: Bool) {
        guard SmallGEMM.available else { return }  // another BLAS or CPU: callers use sgemm, nothing to check
        Self.expectMatchesDefinition(transposeA: transposeA, transposeB: transposeB,
                                     shapes: [(1, 1, 1), (3, 17, 5), (16, 1024, 256), (16, 256, 1024), (33, 65, 7)]) {
            #expect(SmallGEMM.rowMajor(transposeA: $0, transposeB: $1, m: $2, n: $3, k: $4, alpha: $5, $6, lda: $7, $8,
                                       ldb: $9, beta: $10, $11, ldc: $12))
        }
    }

    @Test(.enabled(if: synapse_cpu_has_avx512() != 0, "needs AVX-512"), arguments: transposes)
    func avx512KernelMatchesTheDefinition(transposeA: Bool, transposeB: Bool) {
        Self.expectMatchesDefinition(transposeA: transposeA, transposeB: transposeB,
                                     shapes: [(1, 1, 1), (12, 32, 3), (11, 15, 2), (13, 16, 9), (24, 17, 128),
                                              (25, 33, 7), (37, 65, 64), (49, 47, 5), (96, 128, 33)]) {
            synapse_sgemm_avx512($0 ? 1 : 0, $1 ? 1 : 0, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
        }
    }

    /// The bias entry (a dense layer's y = x·Wᵀ + b, the bias added as tiles are stored) gives the bits of the plain
    /// kernel run on C filled with the bias and beta = 1 — one rounding of acc + b either way — which the test above
    /// checks against the definition; C is only written (NaN there does not leak). `Kernels.gemm(…, bias:)` gives
    /// the same inside a worker (this kernel) and outside (BLAS on C filled with the bias), to rounding.
    @Test(.enabled(if: synapse_cpu_has_avx512() != 0, "needs AVX-512"), arguments: transposes)
    func biasKernelAddsTheBiasToEveryRow(transposeA: Bool, transposeB: Bool) {
        var rng = RandomGenerator(seed: 9)
        for (m, n, k) in [(1, 1, 1), (12, 32, 3), (11, 15, 2), (25, 33, 7), (37, 65, 64), (96, 128, 33)] {
            let a = (0..<(m * k)).map { _ in Float.random(in: -1...1, using: &rng) }
            let b = (0..<(k * n)).map { _ in Float.random(in: -1...1, using: &rng) }
            let bias = (0..<n).map { _ in Float.random(in: -1...1, using: &rng) }
            let (lda, ldb) = (transposeA ? m : k, transposeB ? k : n)
            var fused = [Float](repeating: .nan, count: m * n)
            synapse_sgemm_bias_avx512(transposeA ? 1 : 0, transposeB ? 1 : 0, m, n, k, a, lda, b, ldb, bias, &fused, n)
            var filled = (0..<(m * n)).map { bias[$0 % n] }
            synapse_sgemm_avx512(transposeA ? 1 : 0, transposeB ? 1 : 0, m, n, k, 1, a, lda, b, ldb, 1, &filled, n)
            #expect(fused.map(\.bitPattern) == filled.map(\.bitPattern), "m \(m) n \(n) k \(k)")
            var (outside, inside) = ([Float](repeating: .nan, count: m * n), [Float](repeating: .nan, count: m * n))
            Kernels.gemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, a, b, bias: bias, &outside)
            Parallel.$isInsideWorker.withValue(true) {
                Kernels.gemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, a, b, bias: bias, &inside)
            }
            for (x, y) in zip(outside, inside) { #expect(abs(x - y) <= 1e-5 * max(1, abs(x))) }
            for (x, y) in zip(inside, filled) { #expect(abs(x - y) <= 1e-5 * max(1, abs(x))) }
        }
    }

    /// `Kernels.gemm` sends single-core products to the AVX-512 kernel and the rest to BLAS; both give the same
    /// products (to rounding), so a model's results do not depend on which cores it ran on.
    @Test func routingKeepsTheProduct() {
        var rng = RandomGenerator(seed: 3)
        let (m, n, k) = (64, 96, 80)  // 491520 multiply-adds: BLAS outside a worker, the AVX-512 kernel inside
        let a = (0..<(m * k)).map { _ in Float.random(in: -1...1, using: &rng) }
        let b = (0..<(k * n)).map { _ in Float.random(in: -1...1, using: &rng) }
        var outside = [Float](repeating: 0, count: m * n), inside = outside
        Kernels.gemm(transposeA: false, transposeB: false, m: m, n: n, k: k, a, b, &outside)
        #expect(!Kernels.goesToSynapseSGEMM(transposeB: false, m: m, n: n, k: k))
        Parallel.$isInsideWorker.withValue(true) {
            #expect(Kernels.goesToSynapseSGEMM(transposeB: false, m: m, n: n, k: k) == CPUFeatures.avx512)
            Kernels.gemm(transposeA: false, transposeB: false, m: m, n: n, k: k, a, b, &inside)
        }
        for (x, y) in zip(outside, inside) { #expect(abs(x - y) <= 1e-5 * max(1, abs(x))) }
    }
}
