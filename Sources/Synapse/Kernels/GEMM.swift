#if canImport(Accelerate)
import Accelerate
#else
import CBLAS
#endif

/// Matrix products go to BLAS: OpenBLAS on Linux, Accelerate on Apple platforms.
extension Kernels {
    /// C = alpha · op(A) · op(B) + beta · C, all row-major; op transposes when the flag is set, without copying.
    /// op(A) is m×k, op(B) is k×n, C is m×n.
    static func gemm(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
                     alpha: Float = 1, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                     beta: Float = 0, _ c: UnsafeMutablePointer<Float>) {
        if m == 0 || n == 0 { return }
        if k == 0 {
            if beta == 0 { c.update(repeating: 0, count: m * n) } else if beta != 1 {
                for i in 0..<(m * n) { c[i] *= beta }
            }
            return
        }
        _ = BLASSetup.configured
        let lda = transposeA ? m : k
        let ldb = transposeB ? k : n
        sgemm(transposeA, transposeB, m, n, k, alpha, a, lda, b, ldb, beta, c, n)
    }

    @inline(__always)
    private static func sgemm(_ transposeA: Bool, _ transposeB: Bool, _ m: Int, _ n: Int, _ k: Int, _ alpha: Float,
                              _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>, _ ldb: Int,
                              _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int) {
        cblas_sgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
}
