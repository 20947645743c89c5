#include "synapse_vector_math.h"

#if defined(__x86_64__)
#include "vector_math_avx512_blocks.h"

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

// Φ(x) = 0.5 · (1 + erf(x · (1/√2))), in PyTorch's float formula.
INLINE __m512 normal_cdf(__m512 x) {
    return _mm512_mul_ps(SET(0.5f), _mm512_add_ps(SET(1.0f), erf_block(_mm512_mul_ps(x, SET(0.70710677f)))));
}

AVX512 void synapse_exp_avx512(const float *x, float *y, size_t count) {
    for (size_t i = 0; i < count; i += 16) {
        __mmask16 m = lanes_from(i, count);
        _mm512_mask_storeu_ps(y + i, m, exp_block(_mm512_maskz_loadu_ps(m, x + i)));
    }
}

AVX512 void synapse_sigmoid_avx512(const float *x, float *y, size_t count) {
    for (size_t i = 0; i < count; i += 16) {
        __mmask16 m = lanes_from(i, count);
        _mm512_mask_storeu_ps(y + i, m, sigmoid_block(_mm512_maskz_loadu_ps(m, x + i)));
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

// Residual connections and gradient accumulation: a few hundred KB per call, from L2. The Swift loop compiled to SSE
// at the default target (4 floats per instruction), which left the loads and stores as the bottleneck.
AVX512 void synapse_add_avx512(const float *a, const float *b, float *y, size_t count) {
    size_t i = 0;
    for (; i + 32 <= count; i += 32) {
        _mm512_storeu_ps(y + i, _mm512_add_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i)));
        _mm512_storeu_ps(y + i + 16, _mm512_add_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16)));
    }
    for (; i < count; i += 16) {
        const __mmask16 m = lanes_from(i, count);
        const __m512 x = _mm512_add_ps(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i));
        _mm512_mask_storeu_ps(y + i, m, x);
    }
}

#else

// Not called off x86-64 (`synapse_cpu_has_avx512()` is 0); defined so the package links everywhere.
void synapse_exp_avx512(const float *x, float *y, size_t count) { (void)x; (void)y; (void)count; }
void synapse_sigmoid_avx512(const float *x, float *y, size_t count) { (void)x; (void)y; (void)count; }
void synapse_erf_avx512(const float *x, float *y, size_t count) { (void)x; (void)y; (void)count; }
void synapse_tanh_avx512(const float *x, float *y, size_t count) { (void)x; (void)y; (void)count; }
void synapse_gelu_exact_avx512(const float *x, float *y, float *cdf, size_t count) {
    (void)x; (void)y; (void)cdf; (void)count;
}
void synapse_gelu_exact_backward_avx512(const float *x, const float *cdf, const float *gradOutput, float *gradInput,
                                        size_t count) {
    (void)x; (void)cdf; (void)gradOutput; (void)gradInput; (void)count;
}
void synapse_add_avx512(const float *a, const float *b, float *y, size_t count) {
    (void)a; (void)b; (void)y; (void)count;
}

#endif
