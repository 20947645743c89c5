// Helpers shared by the Float32 and BF16 AVX-512 GEMM kernels (sgemm_avx512.c, sgemm_bf16_avx512.c). Compiled for
// AVX-512 F only, so both kernels — whose own targets include it — can inline them.
#ifndef SYNAPSE_GEMM_AVX512_COMMON_H
#define SYNAPSE_GEMM_AVX512_COMMON_H

#if defined(__x86_64__)
#include <immintrin.h>

#define SYNAPSE_GEMM_HELPER static inline __attribute__((always_inline, target("avx512f,avx512dq,avx512bw,avx512vl")))

// Lanes of a 16-float vector that hold columns below `count` (count may exceed 16 or be negative).
SYNAPSE_GEMM_HELPER __mmask16 lanes_below(long count) {
    return count >= 16 ? (__mmask16)0xFFFF : count <= 0 ? (__mmask16)0 : (__mmask16)((1u << count) - 1);
}

// Writes alpha·acc (+ beta·C) into up to 16 columns of one row of C; with beta = 0, C is not read.
SYNAPSE_GEMM_HELPER void store_vector(float *c, __m512 acc, __mmask16 lanes, float alpha, float beta) {
    __m512 x = _mm512_mul_ps(acc, _mm512_set1_ps(alpha));
    if (beta != 0) x = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(lanes, c), _mm512_set1_ps(beta), x);
    _mm512_mask_storeu_ps(c, lanes, x);
}

// r[c] becomes column c of the 16 × 16 block whose rows were r[0..<16]: pairs of rows interleaved, then pairs of
// pairs, then 128-bit lanes exchanged twice.
SYNAPSE_GEMM_HELPER void transpose16(__m512 r[16]) {
    __m512 t[16], u[16];
    for (int i = 0; i < 8; i++) {
        t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    // u[4i + m], 128-bit lane L: element 4L + m of rows 4i … 4i + 3.
    for (int i = 0; i < 4; i++) {
        const __m512d a = _mm512_castps_pd(t[4 * i]), b = _mm512_castps_pd(t[4 * i + 1]);
        const __m512d c = _mm512_castps_pd(t[4 * i + 2]), d = _mm512_castps_pd(t[4 * i + 3]);
        u[4 * i] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, c));
        u[4 * i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, c));
        u[4 * i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(b, d));
        u[4 * i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(b, d));
    }
    for (int m = 0; m < 4; m++) {
        const __m512 v = _mm512_shuffle_f32x4(u[m], u[4 + m], 0x88), v1 = _mm512_shuffle_f32x4(u[m], u[4 + m], 0xdd);
        const __m512 w = _mm512_shuffle_f32x4(u[8 + m], u[12 + m], 0x88);
        const __m512 w1 = _mm512_shuffle_f32x4(u[8 + m], u[12 + m], 0xdd);
        r[m] = _mm512_shuffle_f32x4(v, w, 0x88);
        r[8 + m] = _mm512_shuffle_f32x4(v, w, 0xdd);
        r[4 + m] = _mm512_shuffle_f32x4(v1, w1, 0x88);
        r[12 + m] = _mm512_shuffle_f32x4(v1, w1, 0xdd);
    }
}

#endif
#endif
