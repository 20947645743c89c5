#include "synapse_vector_math.h"

#if defined(__x86_64__)
#include <immintrin.h>

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

// erf x: odd; a·P(a²) below 1, Q(a − 2.4) up to 3.92, exactly 1 beyond (see the Swift `VectorMath.erf` block).
INLINE __m512 erf_block(__m512 x) {
    __m512 a = _mm512_abs_ps(x);
    __m512 z = _mm512_mul_ps(a, a);
    __m512 p = _mm512_fmadd_ps(z, SET(7.854025e-5f), SET(-8.0102473e-4f));
    p = _mm512_fmadd_ps(p, z, SET(5.1883343e-3f));
    p = _mm512_fmadd_ps(p, z, SET(-2.6853817e-2f));
    p = _mm512_fmadd_ps(p, z, SET(0.112835854f));
    p = _mm512_fmadd_ps(p, z, SET(-0.37612626f));
    p = _mm512_fmadd_ps(p, z, SET(1.1283791f));
    __m512 small = _mm512_mul_ps(a, p);

    __m512 t = _mm512_sub_ps(a, SET(2.4f));
    __m512 q = _mm512_fmadd_ps(t, SET(1.1979212e-6f), SET(-9.683988e-7f));
    q = _mm512_fmadd_ps(q, t, SET(-1.769964e-5f));
    q = _mm512_fmadd_ps(q, t, SET(3.79973e-5f));
    q = _mm512_fmadd_ps(q, t, SET(5.7010857e-5f));
    q = _mm512_fmadd_ps(q, t, SET(-3.4141098e-4f));
    q = _mm512_fmadd_ps(q, t, SET(5.2706053e-4f));
    q = _mm512_fmadd_ps(q, t, SET(2.5002714e-4f));
    q = _mm512_fmadd_ps(q, t, SET(-3.0874095e-3f));
    q = _mm512_fmadd_ps(q, t, SET(7.8856843e-3f));
    q = _mm512_fmadd_ps(q, t, SET(-1.2116112e-2f));
    q = _mm512_fmadd_ps(q, t, SET(1.2469782e-2f));
    q = _mm512_fmadd_ps(q, t, SET(-8.5337386e-3f));
    q = _mm512_fmadd_ps(q, t, SET(3.5555745e-3f));
    q = _mm512_fmadd_ps(q, t, SET(0.9993115f));

    __m512 r = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(a, SET(1.0f), _CMP_LT_OQ), q, small);
    // Saturate (also when the polynomial rounds just above 1); NaN fails every comparison.
    __mmask16 saturated = _mm512_cmp_ps_mask(a, SET(3.92f), _CMP_GE_OQ) | _mm512_cmp_ps_mask(r, SET(1.0f), _CMP_GT_OQ);
    r = _mm512_mask_blend_ps(saturated, r, SET(1.0f));
    return with_sign(x, r);
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

// Φ(x) = 0.5 · (1 + erf(x · (1/√2))), in PyTorch's float formula.
INLINE __m512 normal_cdf(__m512 x) {
    return _mm512_mul_ps(SET(0.5f), _mm512_add_ps(SET(1.0f), erf_block(_mm512_mul_ps(x, SET(0.70710677f)))));
}

// The lanes of the block starting at element i: all 16, or the tail's. Masked loads and stores cost the same as
// plain ones, and masked-off lanes are neither read nor written, so one loop covers blocks and tail alike.
INLINE __mmask16 lanes_from(size_t i, size_t count) {
    return count - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (count - i)) - 1);
}

AVX512 void synapse_exp_avx512(const float *x, float *y, size_t count) {
    for (size_t i = 0; i < count; i += 16) {
        __mmask16 m = lanes_from(i, count);
        _mm512_mask_storeu_ps(y + i, m, exp_block(_mm512_maskz_loadu_ps(m, x + i)));
    }
}

AVX512 void synapse_erf_avx512(const float *x, float *y, size_t count) {
    for (size_t i = 0; i < count; i += 16) {
        __mmask16 m = lanes_from(i, count);
        _mm512_mask_storeu_ps(y + i, m, erf_block(_mm512_maskz_loadu_ps(m, x + i)));
    }
}

AVX512 void synapse_tanh_avx512(const float *x, float *y, size_t count) {
    for (size_t i = 0; i < count; i += 16) {
        __mmask16 m = lanes_from(i, count);
        _mm512_mask_storeu_ps(y + i, m, tanh_block(_mm512_maskz_loadu_ps(m, x + i)));
    }
}

AVX512 void synapse_gelu_exact_avx512(const float *x, float *y, float *cdf, size_t count) {
    for (size_t i = 0; i < count; i += 16) {
        __mmask16 m = lanes_from(i, count);
        __m512 v = _mm512_maskz_loadu_ps(m, x + i), c = normal_cdf(v);
        _mm512_mask_storeu_ps(y + i, m, _mm512_mul_ps(v, c));
        if (cdf) _mm512_mask_storeu_ps(cdf + i, m, c);
    }
}

AVX512 void synapse_gelu_exact_backward_avx512(const float *x, const float *cdf, const float *gradOutput,
                                               float *gradInput, size_t count) {
    for (size_t i = 0; i < count; i += 16) {
        __mmask16 m = lanes_from(i, count);
        __m512 v = _mm512_maskz_loadu_ps(m, x + i), c = _mm512_maskz_loadu_ps(m, cdf + i);
        __m512 pdf = _mm512_mul_ps(exp_block(_mm512_mul_ps(SET(-0.5f), _mm512_mul_ps(v, v))), SET(0.3989423f));
        __m512 g = _mm512_maskz_loadu_ps(m, gradOutput + i);
        _mm512_mask_storeu_ps(gradInput + i, m, _mm512_mul_ps(g, _mm512_fmadd_ps(v, pdf, c)));
    }
}

#else

// Not called off x86-64 (`synapse_cpu_has_avx512()` is 0); defined so the package links everywhere.
void synapse_exp_avx512(const float *x, float *y, size_t count) { (void)x; (void)y; (void)count; }
void synapse_erf_avx512(const float *x, float *y, size_t count) { (void)x; (void)y; (void)count; }
void synapse_tanh_avx512(const float *x, float *y, size_t count) { (void)x; (void)y; (void)count; }
void synapse_gelu_exact_avx512(const float *x, float *y, float *cdf, size_t count) {
    (void)x; (void)y; (void)cdf; (void)count;
}
void synapse_gelu_exact_backward_avx512(const float *x, const float *cdf, const float *gradOutput, float *gradInput,
                                        size_t count) {
    (void)x; (void)cdf; (void)gradOutput; (void)gradInput; (void)count;
}

#endif
