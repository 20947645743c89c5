import Testing
@testable import Synapse

/// The direct small-matrix kernels against a double-precision reference, for every transpose combination, both
/// beta paths and leading dimensions wider than the operands (as the recurrent ops use them on strided time steps).
@Suite struct SmallGEMMTests {
    @Test(arguments: [(false, false), (false, true), (true, false), (true, true)])
    func rowMajorProductsMatchTheDefinition(transposeA: Bool, transposeB: Bool) throws {
        guard SmallGEMM.available else { return }  // another BLAS or CPU: callers use sgemm, nothing to check
        var rng = RandomGenerator(seed: 7)
        for (m, n, k) in [(1, 1, 1), (3, 17, 5), (16, 1024, 256), (16, 256, 1024), (33, 65, 7)] {
            let (aRows, aCols) = transposeA ? (k, m) : (m, k)
            let (bRows, bCols) = transposeB ? (n, k) : (k, n)
            let (lda, ldb, ldc) = (aCols + 3, bCols + 5, n + 2)
            let a = (0..<(aRows * lda)).map { _ in Float.random(in: -1...1, using: &rng) }
            let b = (0..<(bRows * ldb)).map { _ in Float.random(in: -1...1, using: &rng) }
            let c0 = (0..<(m * ldc)).map { _ in Float.random(in: -1...1, using: &rng) }
            for (alpha, beta) in [(Float(1), Float(0)), (1, 1), (0.5, -2)] {
                var c = c0
                let ran = c.withUnsafeMutableBufferPointer { cp in
                    SmallGEMM.rowMajor(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha,
                                       a, lda: lda, b, ldb: ldb, beta: beta, cp.baseAddress!, ldc: ldc)
                }
                #expect(ran)
                var worst = 0.0
                for i in 0..<m {
                    for j in 0..<(ldc) {
                        guard j < n else {
                            #expect(c[i * ldc + j] == c0[i * ldc + j], "padding column \(j) untouched")
                            continue
                        }
                        var (sum, magnitude) = (0.0, 0.0)
                        for p in 0..<k {
                            let x = transposeA ? a[p * lda + i] : a[i * lda + p]
                            let y = transposeB ? b[j * ldb + p] : b[p * ldb + j]
                            sum += Double(x) * Double(y)
                            magnitude += abs(Double(x) * Double(y))
                        }
                        let old = Double(beta) * Double(c0[i * ldc + j])
                        let expected = Double(alpha) * sum + old
                        // Float32 rounding grows with the terms summed: measure against their magnitudes.
                        let scale = abs(Double(alpha)) * magnitude + abs(old)
                        worst = max(worst, abs(Double(c[i * ldc + j]) - expected) / max(scale, 1e-30))
                    }
                }
                #expect(worst < 1e-6, "m \(m) n \(n) k \(k) alpha \(alpha) beta \(beta): relative error \(worst)")
            }
        }
    }
}
