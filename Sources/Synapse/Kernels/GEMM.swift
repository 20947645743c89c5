#if canImport(Accelerate)
import Accelerate
#else
import CBLAS
#endif
import CSynapseKernels
import Dispatch

/// Matrix products go to BLAS (OpenBLAS on Linux, Accelerate on Apple platforms), or to Synapse's AVX-512 kernel
/// when one core runs them on its own (`goesToSynapseSGEMM`).
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
        gemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha,
             a, lda: transposeA ? m : k, b, ldb: transposeB ? k : n, beta: beta, c, ldc: n)
    }

    /// C [m, n] = op(A) · op(B) + bias, `bias` [n] on every row (a dense layer). The AVX-512 kernel adds the bias as
    /// it stores each tile; elsewhere C starts at the bias and the product is added onto it (beta = 1).
    static func gemm(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, _ a: UnsafePointer<Float>,
                     _ b: UnsafePointer<Float>, bias: UnsafePointer<Float>, _ c: UnsafeMutablePointer<Float>) {
        if m == 0 || n == 0 { return }
        let (lda, ldb) = (transposeA ? m : k, transposeB ? k : n)
        if k > 0 && !goesToBF16(precision: Runtime.effectiveMatmulPrecision, accelerated: CPUFeatures.avx512BF16, m: m, n: n, k: k)
            && goesToSynapseSGEMM(transposeB: transposeB, m: m, n: n, k: k) {
            synapse_sgemm_bias_avx512(transposeA ? 1 : 0, transposeB ? 1 : 0, m, n, k, a, lda, b, ldb, bias, c, n)
            return
        }
        for r in 0..<m { (c + r * n).update(from: bias, count: n) }
        gemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, a, b, beta: 1, c)
    }

    /// The same with explicit leading dimensions (strided views such as one head's columns of a [T, H·D] matrix).
    @inline(__always)
    static func gemm(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                     _ a: UnsafePointer<Float>, lda: Int, _ b: UnsafePointer<Float>, ldb: Int,
                     beta: Float, _ c: UnsafeMutablePointer<Float>, ldc: Int) {
        if goesToBF16(precision: Runtime.effectiveMatmulPrecision, accelerated: CPUFeatures.avx512BF16, m: m, n: n, k: k) {
            bf16gemm(transposeA, transposeB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
            return
        }
        if goesToSynapseSGEMM(transposeB: transposeB, m: m, n: n, k: k) {
            synapse_sgemm_avx512(transposeA ? 1 : 0, transposeB ? 1 : 0, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
            return
        }
        sgemm(transposeA, transposeB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
    }

    /// Products that one core runs on its own go to Synapse's AVX-512 kernel (`synapse_sgemm_avx512`): the
    /// products inside a data-parallel shard or a per-core chunk, and any product small enough that OpenBLAS would not
    /// thread it (it splits above 2^18 multiply-adds). On a char-gpt shard's shapes (384 rows times 128–512) it beats
    /// cblas_sgemm because it packs only B and never zeroes C first (docs/BENCHMARKS.md, "Measurements behind design choices").
    ///
    /// The rest stays with OpenBLAS: products of fewer than 16 rows or a k below 16 (batch-1 inference, a 3×3
    /// convolution of one channel), where the tile's set-up is not repaid and OpenBLAS's small kernels win; a
    /// transposed B under 64 rows, whose transposed panel is used too few times; and k above 4096, whose panel
    /// (k × 32 floats) no longer fits the core's L2 cache.
    @inline(__always)
    static func goesToSynapseSGEMM(transposeB: Bool, m: Int, n: Int, k: Int) -> Bool {
        CPUFeatures.avx512 && m >= (transposeB ? 64 : 16) && (16...4096).contains(k)
            && (Parallel.isInsideWorker || m * n * k <= 1 << 18)
    }

    /// BF16 products need the instructions, and enough work to repay packing op(A) once more: products with fewer than
    /// 4 rows or a k below 8 (a single token's step, a 3×3 kernel of one channel) stay Float32, as autocast's would
    /// barely differ there.
    @inline(__always)
    static func goesToBF16(precision: Runtime.MatmulPrecision, accelerated: Bool, m: Int, n: Int, k: Int) -> Bool {
        precision == .bfloat16 && accelerated && m >= 4 && k >= 8 && n >= 1
    }

    /// C = alpha · op(A) · op(B) + beta · C with bfloat16 operands and Float32 sums. On one thread (inside a worker,
    /// or a small product) op(A) is packed one row block at a time (`synapse_bf16_gemm`). Split over the cores, an
    /// op(A) that fits one block is packed once and the columns of C are shared out in 32-column panels; a taller
    /// one is split by rows, each core packing its own blocks.
    static func bf16gemm(_ transposeA: Bool, _ transposeB: Bool, _ m: Int, _ n: Int, _ k: Int, _ alpha: Float,
                         _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>, _ ldb: Int,
                         _ beta: Float, _ c: UnsafeMutablePointer<Float>, _ ldc: Int) {
        let (ta, tb) = (transposeA ? Int32(1) : 0, transposeB ? Int32(1) : 0)
        let cores = Parallel.isInsideWorker || m * n * k < 1 << 20 ? 1 : Parallel.availableCores
        if cores <= 1 {
            synapse_bf16_gemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
            return
        }
        let blockRows = synapse_bf16_block_rows(k)
        if m > blockRows {
            // Row ranges on multiples of the 12-row tile, so each core's blocks are the ones one thread would run.
            let tiles = (m + 11) / 12
            let chunks = Swift.min(cores, tiles)
            let shared = UncheckedSendable((a, b, c))
            DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                let (a, b, c) = shared.value
                let first = tiles * chunk / chunks * 12, last = Swift.min(m, tiles * (chunk + 1) / chunks * 12)
                synapse_bf16_gemm(ta, tb, last - first, n, k, alpha, transposeA ? a + first : a + first * lda, lda,
                                  b, ldb, beta, c + first * ldc, ldc)
            }
            return
        }
        let packed = synapse_bf16_packed_buffer(m * synapse_bf16_pairs(k))!
        synapse_bf16_pack_a(ta, m, k, a, lda, packed)
        let panels = (n + 31) / 32
        let chunks = Swift.min(cores, panels)
        let shared = UncheckedSendable((UnsafePointer(packed), b, c))
        DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
            let (packed, b, c) = shared.value
            let first = panels * chunk / chunks * 32, last = min(n, panels * (chunk + 1) / chunks * 32)
            synapse_bf16_gemm_columns(tb, m, n, k, alpha, packed, b, ldb, beta, c, ldc, first, last)
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
