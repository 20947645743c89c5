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
        let work = m * n * k
        guard BLASSetup.splitsWork, work >= BLASSetup.splitThreshold, Parallel.coreCount > 1 else {
            sgemm(transposeA, transposeB, m, n, k, alpha, a, lda, b, ldb, beta, c, n)
            return
        }
        // Split C into one block of rows (or columns, when it is wide and short) per core; each block is an
        // independent single-threaded sgemm on sub-matrices addressed through the leading dimensions.
        let parts = Parallel.coreCount
        if m >= n || m >= 64 * parts {
            let per = (m + parts - 1) / parts
            Parallel.forRanges(parts, threshold: 1) { range in
                for part in range {
                    let r0 = part * per, rows = Swift.min(m, r0 + per) - r0
                    guard rows > 0 else { continue }
                    let aBlock = transposeA ? a + r0 : a + r0 * lda
                    sgemm(transposeA, transposeB, rows, n, k, alpha, aBlock, lda, b, ldb, beta, c + r0 * n, n)
                }
            }
        } else {
            let per = ((n + parts - 1) / parts + 15) & ~15
            Parallel.forRanges(parts, threshold: 1) { range in
                for part in range {
                    let c0 = part * per, columns = Swift.min(n, c0 + per) - c0
                    guard columns > 0 else { continue }
                    let bBlock = transposeB ? b + c0 * ldb : b + c0
                    sgemm(transposeA, transposeB, m, columns, k, alpha, a, lda, bBlock, ldb, beta, c + c0, n)
                }
            }
        }
    }

    @inline(__always)
    private static func sgemm(_ transposeA: Bool, _ transposeB: Bool, _ m: Int, _ n: Int, _ k: Int, _ alpha: Float,
                              _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>, _ ldb: Int,
                              _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int) {
        cblas_sgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }
}
