// The AVX-512 block functions (16 floats) that vector_math_avx512.c and lstm_avx512.c share: the same reductions
// and polynomials as the Swift `VectorMath` blocks, with fused multiply-adds. Compiled for AVX-512 F only, so every
// kernel whose own target includes it can inline them.
#ifndef SYNAPSE_VECTOR_MATH_AVX512_BLOCKS_H
#define SYNAPSE_VECTOR_MATH_AVX512_BLOCKS_H

#if defined(__x86_64__)
#include <immintrin.h>
#include <stddef.h>

#define AVX512 __attribute__((target("avx512f,avx512dq,avx512bw,avx512vl")))
#define INLINE static inline __attribute__((always_inline)) AVX512

#define SET(v) _mm512_set1_ps(v)

// Copies the sign of `sign` onto the non-negative `magnitude`.
INLINE __m512 with_sign(__m512 sign, __m512 magnitude) {
    return _mm512_castsi512_ps(_mm512_or_si512(
        _mm512_castps_si512(magnitude),
        _mm512_and_si512(_mm512_castps_si512(sign), _mm512_set1_epi32((int)0x80000000))));
}

// 2^n for n in [−126, 127], straight into the exponent field.
INLINE __m512 exponent_scale(__m512i n) {
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(n, _mm512_set1_epi32(127)), 23));
}

// e^r for x = n·ln2 + r (Cody–Waite), with the integer n in `n_out`: the reduction and polynomial both exponentials
// below share. The Swift `VectorMath.expReduced` documents the constants.
INLINE __m512 exp_reduced(__m512 x, __m512i *n_out) {
    const float magic = 12582912.0f;
    __m512 shifted = _mm512_fmadd_ps(x, SET(1.4426950f), SET(magic));
    __m512 n = _mm512_sub_ps(shifted, SET(magic));
    __m512 r = _mm512_fnmadd_ps(n, SET(0.693359375f), x);
    r = _mm512_fnmadd_ps(n, SET(-2.1219444e-4f), r);
    __m512 p = _mm512_fmadd_ps(r, SET(1.3814189e-3f), SET(8.368914e-3f));
    p = _mm512_fmadd_ps(p, r, SET(4.1668408e-2f));
    p = _mm512_fmadd_ps(p, r, SET(0.1666652f));
    p = _mm512_fmadd_ps(p, r, SET(0.49999994f));
    *n_out = _mm512_sub_epi32(_mm512_castps_si512(shifted), _mm512_castps_si512(SET(magic)));
    return _mm512_add_ps(_mm512_fmadd_ps(p, _mm512_mul_ps(r, r), r), SET(1.0f));
}

// e^x: 2^n applied as two factors so overflow gives +inf and underflow a correctly rounded subnormal.
INLINE __m512 exp_block(__m512 x) {
    // min/max return their second operand for NaN, so NaN passes through.
    x = _mm512_min_ps(SET(88.8f), x);
    x = _mm512_max_ps(SET(-104.0f), x);
    __m512i ni;
    __m512 er = exp_reduced(x, &ni);
    __m512i n1 = _mm512_srai_epi32(ni, 1);
    __m512i n2 = _mm512_sub_epi32(ni, n1);
    return _mm512_mul_ps(_mm512_mul_ps(er, exponent_scale(n1)), exponent_scale(n2));
}

// e^x for x in [0, 20] (no overflow or subnormal to handle): one scale.
INLINE __m512 exp_normal_range(__m512 x) {
    __m512i ni;
    __m512 er = exp_reduced(x, &ni);
    return _mm512_mul_ps(er, exponent_scale(ni));
}

// tanh x: odd; a + a³·P(a²) below 0.625, 1 − 2 / (e^(2a) + 1) from there, a clamped at 10 (see the Swift
// `VectorMath.tanh` block). NaN: every comparison fails, so the exp branch carries it through.
INLINE __m512 tanh_block(__m512 x) {
    __m512 a = _mm512_abs_ps(x);
    __m512 z = _mm512_mul_ps(a, a);
    __m512 p = _mm512_fmadd_ps(z, SET(-5.7049906e-3f), SET(2.063909e-2f));
    p = _mm512_fmadd_ps(p, z, SET(-5.3739715e-2f));
    p = _mm512_fmadd_ps(p, z, SET(0.13331442f));
    p = _mm512_fmadd_ps(p, z, SET(-0.3333328f));
    __m512 small = _mm512_fmadd_ps(_mm512_mul_ps(a, z), p, a);
    __m512 clamped = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(a, SET(10.0f), _CMP_GT_OQ), a, SET(10.0f));
    __m512 e = exp_normal_range(_mm512_add_ps(clamped, clamped));
    __m512 large = _mm512_sub_ps(SET(1.0f), _mm512_div_ps(SET(2.0f), _mm512_add_ps(e, SET(1.0f))));
    __m512 r = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(a, SET(0.625f), _CMP_LT_OQ), large, small);
    return with_sign(x, r);
}

// σ(x) = 1 / (1 + e^−x) as the Swift `VectorMath.sigmoid` block computes it: e = e^−|x|, then e / (1 + e) for
// negative x and 1 / (1 + e) otherwise, so both tails keep their relative accuracy. NaN flows through exp.
INLINE __m512 sigmoid_block(__m512 x) {
    __m512 e = exp_block(_mm512_sub_ps(_mm512_setzero_ps(), _mm512_abs_ps(x)));
    __m512 numerator = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_LT_OQ), SET(1.0f), e);
    return _mm512_div_ps(numerator, _mm512_add_ps(SET(1.0f), e));
}

// The lanes of the block starting at element i: all 16, or the tail's. Masked loads and stores cost the same as
// plain ones, and masked-off lanes are neither read nor written, so one loop covers blocks and tail alike.
INLINE __mmask16 lanes_from(size_t i, size_t count) {
    return count - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (count - i)) - 1);
}

#endif

#endif
