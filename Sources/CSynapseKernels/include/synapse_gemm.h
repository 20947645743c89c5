#ifndef SYNAPSE_GEMM_H
#define SYNAPSE_GEMM_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Row-major C[m, n] = alpha · op(A) · op(B) + beta · C with AVX-512 (call only when `synapse_cpu_has_avx512()`),
/// like `cblas_sgemm(CblasRowMajor, …)`: op(A) is m×k (A stored k×m when `transposeA`), op(B) is k×n (B stored n×k
/// when `transposeB`). With beta = 0, C is only written, never read. One thread; the caller splits the work.
/// Needs 15·ldb < 2³¹ when `transposeB` (the packing gathers with 32-bit offsets).
void synapse_sgemm_avx512(int transposeA, int transposeB, long m, long n, long k, float alpha,
                          const float *a, long lda, const float *b, long ldb, float beta, float *c, long ldc);

#ifdef __cplusplus
}
#endif

#endif
