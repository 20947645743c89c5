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

#endif
#endif
