#if canImport(Glibc)
import Glibc

/// OpenBLAS's small-matrix sgemm kernels for AVX-512 cores, called directly for products with few rows.
///
/// `cblas_sgemm` packs both operands into its own layout before multiplying. For the per-step products of a
/// recurrent layer (a [16, 256] state times a [256, 1024] weight, 64 times forward and 64 times backward) packing
/// the weight again every step cost more than the multiplication. OpenBLAS ships unpacked AVX-512 kernels for small
/// products but only uses them up to M·N·K = 10⁶; on the per-step shapes they beat `cblas_sgemm` (figures in
/// docs/BENCHMARKS.md, "Measurements behind design choices").
///
/// The kernels are looked up by OpenBLAS's name for the running core and only for cores whose kernels are written
/// with AVX-512 intrinsics; anywhere else (another BLAS, an older CPU) `available` is false and callers use sgemm.
enum SmallGEMM {
    /// Column-major C = alpha·op(A)·op(B) + beta·C (OpenBLAS's `sgemm_small_kernel_<ta><tb>`).
    private typealias Kernel = @convention(c) (Int, Int, Int, UnsafePointer<Float>?, Int, Float,
                                               UnsafePointer<Float>?, Int, Float, UnsafeMutablePointer<Float>?, Int) -> Int32
    /// The same with beta = 0 (`sgemm_small_kernel_b0_<ta><tb>`).
    private typealias KernelB0 = @convention(c) (Int, Int, Int, UnsafePointer<Float>?, Int, Float,
                                                 UnsafePointer<Float>?, Int, UnsafeMutablePointer<Float>?, Int) -> Int32

    /// Indexed by 2·transA + transB (column-major operands): nn, nt, tn, tt.
    private static let kernels: (general: [Kernel], zeroBeta: [KernelB0])? = {
        guard let handle = dlopen(nil, RTLD_NOW), let core = BLASSetup.coreName(handle)?.uppercased(),
              ["SKYLAKEX", "COOPERLAKE", "SAPPHIRERAPIDS"].contains(core) else { return nil }
        var general: [Kernel] = [], zeroBeta: [KernelB0] = []
        for variant in ["nn", "nt", "tn", "tt"] {
            guard let g = dlsym(handle, "sgemm_small_kernel_\(variant)_\(core)"),
                  let z = dlsym(handle, "sgemm_small_kernel_b0_\(variant)_\(core)") else { return nil }
            general.append(unsafeBitCast(g, to: Kernel.self))
            zeroBeta.append(unsafeBitCast(z, to: KernelB0.self))
        }
        return (general, zeroBeta)
    }()

    static var available: Bool { kernels != nil }

    /// Row-major C [m, n] = alpha·op(A)·op(B) + beta·C, like `cblas_sgemm(CblasRowMajor, …)`; false when the kernels
    /// are not available (nothing was computed).
    ///
    /// A row-major product is the column-major product of the transposes with the operands swapped, which is how
    /// the column-major kernels are called.
    @inline(__always)
    static func rowMajor(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                         _ a: UnsafePointer<Float>, lda: Int, _ b: UnsafePointer<Float>, ldb: Int,
                         beta: Float, _ c: UnsafeMutablePointer<Float>, ldc: Int) -> Bool {
        guard let kernels else { return false }
        let variant = (transposeB ? 2 : 0) + (transposeA ? 1 : 0)
        if beta == 0 {
            _ = kernels.zeroBeta[variant](n, m, k, b, ldb, alpha, a, lda, c, ldc)
        } else {
            _ = kernels.general[variant](n, m, k, b, ldb, alpha, a, lda, beta, c, ldc)
        }
        return true
    }
}
#else
/// Accelerate and other BLAS libraries: no direct small-matrix kernels; callers use sgemm.
enum SmallGEMM {
    static var available: Bool { false }

    @inline(__always)
    static func rowMajor(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                         _ a: UnsafePointer<Float>, lda: Int, _ b: UnsafePointer<Float>, ldb: Int,
                         beta: Float, _ c: UnsafeMutablePointer<Float>, ldc: Int) -> Bool { false }
}
#endif
