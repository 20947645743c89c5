#include "synapse_gemm.h"

#if defined(__x86_64__)
#include <immintrin.h>
#include "gemm_avx512_common.h"
#include <stdint.h>
#include <stdlib.h>
#include <pthread.h>

// Matrix products with bfloat16 operands and Float32 sums, as torch.autocast(dtype=bfloat16) runs them on CPUs with
// AVX512_BF16: `vdpbf16ps` multiplies 16 pairs of bfloat16 and adds both products of each pair to a Float32 lane, so
// one instruction does the work of two Float32 FMAs. The layout follows synapse_sgemm_avx512: a tile of up to 12 rows
// × 32 columns of C in 24 zmm accumulators; here each step covers two values of k. op(A) is packed once per product
// (rows of bfloat16 pairs, shared by every thread); op(B) one 32-column panel at a time, pairs interleaved so that a
// 64-byte load holds 16 columns × 2 steps of k.

#define MR 12
#define NR 32
#define BF16 __attribute__((target("avx512f,avx512dq,avx512bw,avx512vl,avx512bf16")))
#define INLINE static inline __attribute__((always_inline)) BF16

long synapse_bf16_pairs(long k) { return (k + 1) / 2; }

// 16 pairs (x0[i], x1[i]) as bfloat16, x0 in the low half of each 32-bit lane.
INLINE __m512i interleave(__m512 x0, __m512 x1) {
    static const uint16_t table[32] = {0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23,
                                       8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31};
    const __m512i order = _mm512_loadu_si512(table);
    return _mm512_permutexvar_epi16(order, (__m512i)_mm512_cvtne2ps_pbh(x1, x0));
}

// 16 consecutive pairs of one contiguous row: x[0..<32] as bfloat16, in order.
INLINE __m512i consecutive(const float *x, long count) {
    const __m512 lo = _mm512_maskz_loadu_ps(lanes_below(count), x);
    const __m512 hi = _mm512_maskz_loadu_ps(lanes_below(count - 16), x + 16);
    return (__m512i)_mm512_cvtne2ps_pbh(hi, lo);
}

BF16 void synapse_bf16_pack_a(int transposeA, long m, long k, const float *a, long lda, unsigned *packed) {
    const long kp = synapse_bf16_pairs(k);
    if (!transposeA) {  // rows of A are contiguous along k: pairs come out in order
        for (long i = 0; i < m; i++) {
            const float *row = a + i * lda;
            unsigned *dst = packed + i * kp;
            for (long p = 0; p < kp; p += 16) {
                const long left = k - 2 * p;
                _mm512_mask_storeu_epi32(dst + p, lanes_below(kp - p), consecutive(row + 2 * p, left));
            }
        }
        return;
    }
    // op(A)[i][q] = A[q][i]: rows 2p and 2p+1 of A give 16 pairs at once, written down a column of `packed`.
    uint32_t pairs[16];
    for (long p = 0; p < kp; p++) {
        const float *r0 = a + 2 * p * lda, *r1 = 2 * p + 1 < k ? r0 + lda : NULL;
        for (long i = 0; i < m; i += 16) {
            const __mmask16 lanes = lanes_below(m - i);
            const __m512 x0 = _mm512_maskz_loadu_ps(lanes, r0 + i);
            const __m512 x1 = r1 ? _mm512_maskz_loadu_ps(lanes, r1 + i) : _mm512_setzero_ps();
            _mm512_storeu_si512(pairs, interleave(x0, x1));
            const long n = m - i < 16 ? m - i : 16;
            for (long q = 0; q < n; q++) packed[(i + q) * kp + p] = pairs[q];
        }
    }
}

// panel[p][0..<32] = the pairs (op(B)[2p][j + q], op(B)[2p+1][j + q]), zero past column n and past k.
INLINE void pack_panel(int transposed, long k, long n, long j, const float *b, long ldb, uint32_t *panel) {
    const long kp = synapse_bf16_pairs(k);
    if (!transposed) {
        const __mmask16 m0 = lanes_below(n - j), m1 = lanes_below(n - j - 16);
        for (long p = 0; p < kp; p++) {
            const float *r0 = b + 2 * p * ldb + j;
            const int odd = 2 * p + 1 < k;
            const float *r1 = r0 + ldb;
            const __m512 a0 = _mm512_maskz_loadu_ps(m0, r0), a1 = _mm512_maskz_loadu_ps(m1, r0 + 16);
            const __m512 b0 = odd ? _mm512_maskz_loadu_ps(m0, r1) : _mm512_setzero_ps();
            const __m512 b1 = odd ? _mm512_maskz_loadu_ps(m1, r1 + 16) : _mm512_setzero_ps();
            _mm512_store_si512(panel + p * NR, interleave(a0, b0));
            _mm512_store_si512(panel + p * NR + 16, interleave(a1, b1));
        }
        return;
    }
    // op(B)[q][j + c] = B[j + c][q]: column c of the panel is row j + c of B, whose pairs are consecutive. Sixteen
    // such rows × 16 pairs are converted and transposed as 32-bit words in registers, for each half of the panel.
    // (Copying each pair to its place one word at a time made the packing cost more than the products it fed once
    // op(A) came in row blocks, which pack each panel again per block.)
    for (long p0 = 0; p0 < kp; p0 += 16) {
        const long count = kp - p0 < 16 ? kp - p0 : 16;
        for (int half = 0; half < 2; half++) {
            __m512 r[16];
            for (int q = 0; q < 16; q++) {
                const long col = j + half * 16 + q;
                r[q] = col < n ? (__m512)consecutive(b + col * ldb + 2 * p0, k - 2 * p0) : _mm512_setzero_ps();
            }
            transpose16(r);
            for (long c = 0; c < count; c++) _mm512_store_ps((float *)(panel + (p0 + c) * NR + half * 16), r[c]);
        }
    }
}

#define DECLARE(r) __m512 c##r##a = _mm512_setzero_ps(), c##r##b = _mm512_setzero_ps();
#define UPDATE(r) if (rows > r) { \
        const __m512bh av = (__m512bh)_mm512_set1_epi32((int)ap[r * kp]); \
        c##r##a = _mm512_dpbf16_ps(c##r##a, av, b0); \
        if (wide) c##r##b = _mm512_dpbf16_ps(c##r##b, av, b1); }
#define STORE(r) if (rows > r) { \
        store_vector(c + r * ldc, c##r##a, m0, alpha, beta); \
        if (wide) store_vector(c + r * ldc + 16, c##r##b, m1, alpha, beta); }

INLINE void tile(const int rows, const int wide, long kp, const uint32_t *a, const uint32_t *panel, float *c, long ldc,
                 __mmask16 m0, __mmask16 m1, float alpha, float beta) {
    DECLARE(0) DECLARE(1) DECLARE(2) DECLARE(3) DECLARE(4) DECLARE(5)
    DECLARE(6) DECLARE(7) DECLARE(8) DECLARE(9) DECLARE(10) DECLARE(11)
    for (long p = 0; p < kp; p++) {
        const __m512bh b0 = (__m512bh)_mm512_load_si512(panel + p * NR);
        const __m512bh b1 = wide ? (__m512bh)_mm512_load_si512(panel + p * NR + 16) : b0;
        const uint32_t *ap = a + p;
        UPDATE(0) UPDATE(1) UPDATE(2) UPDATE(3) UPDATE(4) UPDATE(5)
        UPDATE(6) UPDATE(7) UPDATE(8) UPDATE(9) UPDATE(10) UPDATE(11)
    }
    STORE(0) STORE(1) STORE(2) STORE(3) STORE(4) STORE(5)
    STORE(6) STORE(7) STORE(8) STORE(9) STORE(10) STORE(11)
}

// Each variant for any_tile in a function of its own, never inlined there (see sgemm_avx512.c: unoptimised, the
// inlined copies' stack slots add up to megabytes).
#define VARIANT(r, w) \
    static BF16 __attribute__((noinline)) void tile_##r##_##w(long kp, const uint32_t *a, const uint32_t *panel, \
        float *c, long ldc, __mmask16 m0, __mmask16 m1, float alpha, float beta) { \
        tile(r, w, kp, a, panel, c, ldc, m0, m1, alpha, beta); }
#define VARIANTS(r) VARIANT(r, 0) VARIANT(r, 1)
VARIANTS(1) VARIANTS(2) VARIANTS(3) VARIANTS(4) VARIANTS(5) VARIANTS(6)
VARIANTS(7) VARIANTS(8) VARIANTS(9) VARIANTS(10) VARIANTS(11) VARIANTS(12)

#define TILES(r) case r: if (wide) tile_##r##_1(kp, a, panel, c, ldc, m0, m1, alpha, beta); \
                         else tile_##r##_0(kp, a, panel, c, ldc, m0, m1, alpha, beta); break;

static BF16 void any_tile(int rows, int wide, long kp, const uint32_t *a, const uint32_t *panel, float *c, long ldc,
                          __mmask16 m0, __mmask16 m1, float alpha, float beta) {
    switch (rows) {
        TILES(1) TILES(2) TILES(3) TILES(4) TILES(5) TILES(6) TILES(7) TILES(8) TILES(9) TILES(10) TILES(11) TILES(12)
        default: break;
    }
}

// The packed op(A) of the calling thread's product, kept and grown rather than allocated per product (an activation
// of a few hundred KB would otherwise come back from mmap, page by page, on every call). It holds one row block
// (`synapse_bf16_block_rows`), not the whole of op(A): MiniLM's 1536-wide activations packed whole took 1.3 MB per
// core, which made BF16 inference need more memory than Float32.
static _Thread_local uint32_t *packedBuffer;
static _Thread_local long packedCapacity;
static pthread_key_t packedKey;
static pthread_once_t packedKeyOnce = PTHREAD_ONCE_INIT;
static void free_packed(void *buffer) { free(buffer); }
static void make_packed_key(void) { pthread_key_create(&packedKey, free_packed); }

unsigned *synapse_bf16_packed_buffer(long words) {
    if (words > packedCapacity) {
        pthread_once(&packedKeyOnce, make_packed_key);
        free(packedBuffer);
        packedBuffer = aligned_alloc(64, (size_t)((words + 15) / 16 * 16) * sizeof(uint32_t));
        if (!packedBuffer) abort();
        pthread_setspecific(packedKey, packedBuffer);
        packedCapacity = words;
    }
    return packedBuffer;
}

long synapse_bf16_block_rows(long k) {
    const long rows = SYNAPSE_BF16_PACKED_A_BYTES / (4 * synapse_bf16_pairs(k > 0 ? k : 1)) / MR * MR;
    return rows > MR ? rows : MR;
}

static _Thread_local uint32_t *panelBuffer;
static _Thread_local long panelCapacity;
static pthread_key_t panelKey;
static pthread_once_t panelKeyOnce = PTHREAD_ONCE_INIT;
static void free_panel(void *buffer) { free(buffer); }
static void make_panel_key(void) { pthread_key_create(&panelKey, free_panel); }

BF16 void synapse_bf16_gemm_columns(int transposeB, long m, long n, long k, float alpha, const unsigned *packedA,
                                    const float *b, long ldb, float beta, float *c, long ldc, long j0, long j1) {
    if (m <= 0 || j1 <= j0) return;
    const long kp = synapse_bf16_pairs(k);
    if (kp * NR > panelCapacity) {
        pthread_once(&panelKeyOnce, make_panel_key);
        free(panelBuffer);
        panelBuffer = aligned_alloc(64, (size_t)(kp * NR) * sizeof(uint32_t));
        if (!panelBuffer) abort();
        pthread_setspecific(panelKey, panelBuffer);
        panelCapacity = kp * NR;
    }
    for (long j = j0; j < j1; j += NR) {
        pack_panel(transposeB, k, n, j, b, ldb, panelBuffer);
        const long width = (j1 < n ? j1 : n) - j;
        const __mmask16 m0 = lanes_below(width), m1 = lanes_below(width - 16);
        const int wide = width > 16;
        for (long i = 0; i < m;) {
            const long left = m - i;
            const int rows = left >= 2 * MR ? MR : left > MR ? (int)((left + 1) / 2) : (int)left;
            const uint32_t *ai = packedA + i * kp;
            float *ci = c + i * ldc + j;
            if (rows == MR && wide) tile_12_1(kp, ai, panelBuffer, ci, ldc, m0, m1, alpha, beta);
            else any_tile(rows, wide, kp, ai, panelBuffer, ci, ldc, m0, m1, alpha, beta);
            i += rows;
        }
    }
}

BF16 void synapse_bf16_gemm(int transposeA, int transposeB, long m, long n, long k, float alpha, const float *a,
                            long lda, const float *b, long ldb, float beta, float *c, long ldc) {
    if (m <= 0 || n <= 0) return;
    const long kp = synapse_bf16_pairs(k), blockRows = synapse_bf16_block_rows(k);
    uint32_t *packed = synapse_bf16_packed_buffer((m < blockRows ? m : blockRows) * kp);
    for (long i0 = 0; i0 < m; i0 += blockRows) {
        const long rows = m - i0 < blockRows ? m - i0 : blockRows;
        synapse_bf16_pack_a(transposeA, rows, k, transposeA ? a + i0 : a + i0 * lda, lda, packed);
        synapse_bf16_gemm_columns(transposeB, rows, n, k, alpha, packed, b, ldb, beta, c + i0 * ldc, ldc, 0, n);
    }
}

#else

#include <stdlib.h>

long synapse_bf16_pairs(long k) { return (k + 1) / 2; }
unsigned *synapse_bf16_packed_buffer(long words) {
    (void)words;
    abort();
}
long synapse_bf16_block_rows(long k) {
    (void)k;
    abort();
}
void synapse_bf16_gemm(int transposeA, int transposeB, long m, long n, long k, float alpha, const float *a, long lda,
                       const float *b, long ldb, float beta, float *c, long ldc) {
    (void)transposeA; (void)transposeB; (void)m; (void)n; (void)k; (void)alpha; (void)a; (void)lda; (void)b;
    (void)ldb; (void)beta; (void)c; (void)ldc;
    abort();
}
void synapse_bf16_pack_a(int transposeA, long m, long k, const float *a, long lda, unsigned *packed) {
    (void)transposeA; (void)m; (void)k; (void)a; (void)lda; (void)packed;
    abort();
}
void synapse_bf16_gemm_columns(int transposeB, long m, long n, long k, float alpha, const unsigned *packedA,
                               const float *b, long ldb, float beta, float *c, long ldc, long j0, long j1) {
    (void)transposeB; (void)m; (void)n; (void)k; (void)alpha; (void)packedA; (void)b; (void)ldb; (void)beta;
    (void)c; (void)ldc; (void)j0; (void)j1;
    abort();
}

#endif
