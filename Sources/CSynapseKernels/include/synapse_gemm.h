#ifndef SYNAPSE_GEMM_H
#define SYNAPSE_GEMM_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Row-major C[m, n] = alpha · op(A) · op(B) + beta · C with AVX-512 (call only when `synapse_cpu_has_avx512()`),
/// like `cblas_sgemm(CblasRowMajor, …)`: op(A) is m×k (A stored k×m when `transposeA`), op(B) is k×n (B stored n×k
/// when `transposeB`). With beta = 0, C is only written, never read. One thread; the caller splits the work.
void synapse_sgemm_avx512(int transposeA, int transposeB, long m, long n, long k, float alpha,
                          const float *a, long lda, const float *b, long ldb, float beta, float *c, long ldc);

/// The same with C = op(A) · op(B) + bias, `bias` [n] added to every row as the tiles are stored (a dense layer's
/// y = x·Wᵀ + b without first filling C with the bias and reading it back).
void synapse_sgemm_bias_avx512(int transposeA, int transposeB, long m, long n, long k, const float *a, long lda,
                               const float *b, long ldb, const float *bias, float *c, long ldc);

/// BF16 mixed-precision products (call only when `synapse_cpu_has_avx512_bf16()`): the operands are rounded to
/// bfloat16 (round to nearest even) as they are packed, the products summed in Float32 by `vdpbf16ps`, two steps of
/// k per instruction. First `synapse_bf16_pack_a` writes op(A) (m×k) as bfloat16 pairs along k, row after row
/// (`synapse_bf16_pairs(k)` words per row, the last pair padded with zero); then any number of threads may each call
/// `synapse_bf16_gemm_columns` for their own columns [j0, j1) of C = alpha · op(A) · op(B) + beta · C. With beta = 0,
/// C is only written.
long synapse_bf16_pairs(long k);
/// The calling thread's buffer for a packed op(A) of `words` words (m · pairs), grown as needed and kept; valid until
/// the thread's next call.
unsigned *synapse_bf16_packed_buffer(long words);
void synapse_bf16_pack_a(int transposeA, long m, long k, const float *a, long lda, unsigned *packed);
void synapse_bf16_gemm_columns(int transposeB, long m, long n, long k, float alpha, const unsigned *packedA,
                               const float *b, long ldb, float beta, float *c, long ldc, long j0, long j1);
/// At most this many bytes of packed op(A) per thread: `synapse_bf16_gemm` packs op(A) in blocks of
/// `synapse_bf16_block_rows(k)` rows (a multiple of the 12-row tile) and runs each block over all of C's columns.
#define SYNAPSE_BF16_PACKED_A_BYTES (256L << 10)
long synapse_bf16_block_rows(long k);
/// C = alpha · op(A) · op(B) + beta · C on the calling thread, op(A) packed one row block at a time.
void synapse_bf16_gemm(int transposeA, int transposeB, long m, long n, long k, float alpha, const float *a, long lda,
                       const float *b, long ldb, float beta, float *c, long ldc);

#ifdef __cplusplus
}
#endif

#endif
