#include "synapse_gemm.h"

#if defined(__x86_64__)
#include <immintrin.h>
#include "gemm_avx512_common.h"
#include <stdlib.h>
#include <pthread.h>

// A single-threaded sgemm for the products one core runs inside a data-parallel shard (a few hundred rows times
// weights of 128–512). cblas_sgemm packs both operands for every call, and on these shapes packing and zeroing C
// were a fifth of its time. Here only op(B) is packed, one 32-column panel at a time (k × 32 floats, 16–64 KB,
// reused by every row of A), and A is read in place: a 12-row tile broadcasts one element of each of its rows per
// step of k, which is a contiguous read when A is transposed and 12 short row streams when it is not.
// With only a few rows of A, a panel would be used too few times to pay for its copy, so B (untransposed) is read
// where it is.
//
// The tile keeps 12 × 2 accumulators of 16 floats in registers (24 of the 32 zmm, plus 2 for the B row and 1 for
// the broadcast), so each step of k is 24 FMAs against 2 loads of B and 12 broadcasts. A panel of at most 16
// columns (the last one of n = 65 or 196) uses a tile half as wide rather than multiply zeros.

#define MR 12
#define NR 32
#define AVX512 __attribute__((target("avx512f,avx512dq,avx512bw,avx512vl")))
#define INLINE static inline __attribute__((always_inline)) AVX512

#define DECLARE(r) __m512 c##r##a = _mm512_setzero_ps(), c##r##b = _mm512_setzero_ps();
#define UPDATE(r) if (rows > r) { \
        __m512 av = _mm512_set1_ps(ap[r * rowStep]); \
        c##r##a = _mm512_fmadd_ps(av, b0, c##r##a); \
        if (wide) c##r##b = _mm512_fmadd_ps(av, b1, c##r##b); }
#define STORE(r) if (rows > r) { \
        if (bias) { \
            _mm512_mask_storeu_ps(c + r * ldc, m0, _mm512_fmadd_ps(c##r##a, alphaVector, bias0)); \
            if (wide) _mm512_mask_storeu_ps(c + r * ldc + 16, m1, _mm512_fmadd_ps(c##r##b, alphaVector, bias1)); \
        } else { \
            store_vector(c + r * ldc, c##r##a, m0, alpha, beta); \
            if (wide) store_vector(c + r * ldc + 16, c##r##b, m1, alpha, beta); } }

// C[0..<rows, 0..<32 (or 16 when not wide)] from rows of A and the matching columns of op(B), which sit at
// `panel + p·panelStride` for step p (a packed panel, or B itself). `rows`, `transposed`, `wide` and `packed` are
// constants at every call site, so the compiler drops the unused accumulators and keeps the rest in registers.
// A packed panel is aligned and zero-padded, so it is read with plain loads. With `bias` (the tile's columns of a
// row vector), C = alpha·acc + bias instead of alpha·acc + beta·C.
INLINE void tile(const int rows, const int transposed, const int wide, const int packed, long k, const float *a,
                 long lda, const float *panel, long panelStride, float *c, long ldc, __mmask16 m0, __mmask16 m1,
                 float alpha, float beta, const float *bias) {
    DECLARE(0) DECLARE(1) DECLARE(2) DECLARE(3) DECLARE(4) DECLARE(5)
    DECLARE(6) DECLARE(7) DECLARE(8) DECLARE(9) DECLARE(10) DECLARE(11)
    const long kStep = transposed ? lda : 1, rowStep = transposed ? 1 : lda;
    for (long p = 0; p < k; p++) {
        const float *bp = panel + p * panelStride;
        const __m512 b0 = packed ? _mm512_load_ps(bp) : _mm512_maskz_loadu_ps(m0, bp);
        const __m512 b1 = !wide ? b0 : packed ? _mm512_load_ps(bp + 16) : _mm512_maskz_loadu_ps(m1, bp + 16);
        const float *ap = a + p * kStep;
        UPDATE(0) UPDATE(1) UPDATE(2) UPDATE(3) UPDATE(4) UPDATE(5)
        UPDATE(6) UPDATE(7) UPDATE(8) UPDATE(9) UPDATE(10) UPDATE(11)
    }
    const __m512 alphaVector = _mm512_set1_ps(alpha);
    const __m512 bias0 = bias ? _mm512_maskz_loadu_ps(m0, bias) : alphaVector;
    const __m512 bias1 = bias && wide ? _mm512_maskz_loadu_ps(m1, bias + 16) : alphaVector;
    STORE(0) STORE(1) STORE(2) STORE(3) STORE(4) STORE(5)
    STORE(6) STORE(7) STORE(8) STORE(9) STORE(10) STORE(11)
}

// Each variant for any_tile in a function of its own, never inlined there: without optimisation (debug builds) every
// inlined copy keeps its own stack slots, and the 48 copies made any_tile's frame 4 MB, past the end of a thread's
// stack (the debug test process crashed with SIGSEGV). Optimised, a call per tile is nothing beside its k steps.
#define VARIANT(r, t, w) \
    static AVX512 __attribute__((noinline)) void tile_##r##_##t##_##w(long k, const float *a, long lda, \
        const float *panel, long panelStride, float *c, long ldc, __mmask16 m0, __mmask16 m1, float alpha, \
        float beta, const float *bias) { \
        tile(r, t, w, 0, k, a, lda, panel, panelStride, c, ldc, m0, m1, alpha, beta, bias); }
#define VARIANTS(r) VARIANT(r, 0, 0) VARIANT(r, 0, 1) VARIANT(r, 1, 0) VARIANT(r, 1, 1)
VARIANTS(1) VARIANTS(2) VARIANTS(3) VARIANTS(4) VARIANTS(5) VARIANTS(6)
VARIANTS(7) VARIANTS(8) VARIANTS(9) VARIANTS(10) VARIANTS(11) VARIANTS(12)

// The full tiles over a packed panel, for either layout of A: in functions of their own for the same reason.
#define PACKED(t) \
    static AVX512 __attribute__((noinline)) void packed_tile_##t(long k, const float *a, long lda, const float *panel, \
        long panelStride, float *c, long ldc, __mmask16 m0, __mmask16 m1, float alpha, float beta, \
        const float *bias) { \
        tile(MR, t, 1, 1, k, a, lda, panel, panelStride, c, ldc, m0, m1, alpha, beta, bias); }
PACKED(0) PACKED(1)

#define TILE(r, t, w) tile_##r##_##t##_##w(k, a, lda, panel, panelStride, c, ldc, m0, m1, alpha, beta, bias)
#define TILES(r) case r: \
    if (transposed) { if (wide) TILE(r, 1, 1); else TILE(r, 1, 0); } \
    else { if (wide) TILE(r, 0, 1); else TILE(r, 0, 0); } \
    break;

// One tile of any height up to 12, for either layout of A and either panel width.
static AVX512 void any_tile(int rows, int transposed, int wide, long k, const float *a, long lda, const float *panel,
                            long panelStride, float *c, long ldc, __mmask16 m0, __mmask16 m1, float alpha,
                            float beta, const float *bias) {
    switch (rows) {
        TILES(1) TILES(2) TILES(3) TILES(4) TILES(5) TILES(6) TILES(7) TILES(8) TILES(9) TILES(10) TILES(11) TILES(12)
        default: break;
    }
}

// panel[p][0..<32] = op(B)[p][j..<j+32], zero past column n.
INLINE void pack_panel(int transposed, long k, long n, long j, const float *b, long ldb, float *panel) {
    const __mmask16 m0 = lanes_below(n - j), m1 = lanes_below(n - j - 16);
    if (!transposed) {
        for (long p = 0; p < k; p++) {
            const float *row = b + p * ldb + j;
            _mm512_store_ps(panel + p * NR, _mm512_maskz_loadu_ps(m0, row));
            _mm512_store_ps(panel + p * NR + 16, _mm512_maskz_loadu_ps(m1, row + 16));
        }
        return;
    }
    // op(B)[p][j + q] = B[j + q][p]: 16 rows × 16 steps of k loaded and transposed in registers, for each half of
    // the panel. (Gathering one column of 16 rows per instruction made a dense layer's product, x·Wᵀ, 10% slower
    // than the same product with W stored transposed.)
    for (long p0 = 0; p0 < k; p0 += 16) {
        const __mmask16 steps = lanes_below(k - p0);
        const long count = k - p0 < 16 ? k - p0 : 16;
        for (int half = 0; half < 2; half++) {
            const __mmask16 rows = half ? m1 : m0;
            __m512 r[16];
            for (int q = 0; q < 16; q++)
                r[q] = (rows >> q) & 1 ? _mm512_maskz_loadu_ps(steps, b + (j + half * 16 + q) * ldb + p0)
                                       : _mm512_setzero_ps();
            transpose16(r);
            for (long c = 0; c < count; c++) _mm512_store_ps(panel + (p0 + c) * NR + half * 16, r[c]);
        }
    }
}

// One panel buffer per thread, grown to the largest k seen. The thread-local pointer is the fast path; a pthread
// key holding the same pointer frees it when the thread exits (Dispatch retires idle workers).
static _Thread_local float *panelBuffer;
static _Thread_local long panelCapacity;
static pthread_key_t panelKey;
static pthread_once_t panelKeyOnce = PTHREAD_ONCE_INIT;
static void free_panel(void *buffer) { free(buffer); }
static void make_panel_key(void) { pthread_key_create(&panelKey, free_panel); }

// C = alpha·op(A)·op(B) + (bias ? bias broadcast over the rows : beta·C).
static AVX512 void sgemm(int transposeA, int transposeB, long m, long n, long k, float alpha, const float *a, long lda,
                         const float *b, long ldb, float beta, const float *bias, float *c, long ldc) {
    if (m <= 0 || n <= 0) return;
    if (k <= 0) {  // an empty sum: C = beta·C or the bias
        for (long i = 0; i < m; i++)
            for (long j = 0; j < n; j++) c[i * ldc + j] = bias ? bias[j] : beta == 0 ? 0 : beta * c[i * ldc + j];
        return;
    }
    const int packs = transposeB || m > 4 * MR;
    if (packs && k * NR > panelCapacity) {
        pthread_once(&panelKeyOnce, make_panel_key);
        free(panelBuffer);
        panelBuffer = aligned_alloc(64, (size_t)(k * NR) * sizeof(float));
        if (!panelBuffer) abort();
        pthread_setspecific(panelKey, panelBuffer);
        panelCapacity = k * NR;
    }
    for (long j = 0; j < n; j += NR) {
        const float *panel = b + j;
        long panelStride = ldb;
        if (packs) {
            pack_panel(transposeB, k, n, j, b, ldb, panelBuffer);
            panel = panelBuffer;
            panelStride = NR;
        }
        const __mmask16 m0 = lanes_below(n - j), m1 = lanes_below(n - j - 16);
        const int wide = n - j > 16;
        const long step = transposeA ? 1 : lda;  // from one row of A to the next
        // Full 12-row tiles, except that the last 13–23 rows are split into two tiles of about equal height: a tile
        // of 4 rows does 8 FMAs per 2 loads of B, one of 8 rows 16 (attention's 64 rows per head: 12·5 + 4 became
        // 12·4 + 8 + 8).
        for (long i = 0; i < m;) {
            const long left = m - i;
            const int rows = left >= 2 * MR ? MR : left > MR ? (int)((left + 1) / 2) : (int)left;
            const float *ai = a + i * step;
            float *ci = c + i * ldc + j;
            const float *bj = bias ? bias + j : NULL;
            if (rows == MR && wide && packs && transposeA) {
                packed_tile_1(k, ai, lda, panel, panelStride, ci, ldc, m0, m1, alpha, beta, bj);
            } else if (rows == MR && wide && packs) {
                packed_tile_0(k, ai, lda, panel, panelStride, ci, ldc, m0, m1, alpha, beta, bj);
            } else {
                any_tile(rows, transposeA, wide, k, ai, lda, panel, panelStride, ci, ldc, m0, m1, alpha, beta, bj);
            }
            i += rows;
        }
    }
}

AVX512 void synapse_sgemm_avx512(int transposeA, int transposeB, long m, long n, long k, float alpha,
                                 const float *a, long lda, const float *b, long ldb, float beta, float *c, long ldc) {
    sgemm(transposeA, transposeB, m, n, k, alpha, a, lda, b, ldb, beta, NULL, c, ldc);
}

AVX512 void synapse_sgemm_bias_avx512(int transposeA, int transposeB, long m, long n, long k, const float *a, long lda,
                                      const float *b, long ldb, const float *bias, float *c, long ldc) {
    sgemm(transposeA, transposeB, m, n, k, 1, a, lda, b, ldb, 0, bias, c, ldc);
}

#else

#include <stdlib.h>

void synapse_sgemm_avx512(int transposeA, int transposeB, long m, long n, long k, float alpha,
                          const float *a, long lda, const float *b, long ldb, float beta, float *c, long ldc) {
    (void)transposeA; (void)transposeB; (void)m; (void)n; (void)k; (void)alpha; (void)a; (void)lda; (void)b;
    (void)ldb; (void)beta; (void)c; (void)ldc;
    abort();
}

void synapse_sgemm_bias_avx512(int transposeA, int transposeB, long m, long n, long k, const float *a, long lda,
                               const float *b, long ldb, const float *bias, float *c, long ldc) {
    (void)transposeA; (void)transposeB; (void)m; (void)n; (void)k; (void)a; (void)lda; (void)b; (void)ldb; (void)bias;
    (void)c; (void)ldc;
    abort();
}

#endif
