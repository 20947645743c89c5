#include "synapse_optim.h"

#if defined(__x86_64__)
#include <float.h>
#include <immintrin.h>

#define AVX512 __attribute__((target("avx512f,avx512dq,avx512bw,avx512vl")))
#define INLINE static inline __attribute__((always_inline)) AVX512

// Zero where |x| < FLT_MIN: decaying optimizer state would otherwise sit on x86's slow subnormal path.
INLINE __m512 flush_subnormals(__m512 x) {
    __mmask16 tiny = _mm512_cmp_ps_mask(_mm512_abs_ps(x), _mm512_set1_ps(FLT_MIN), _CMP_LT_OQ);
    return _mm512_mask_mov_ps(x, tiny, _mm512_setzero_ps());
}

INLINE void adam_lanes(float *p, const float *g, float *m, float *v, __mmask16 lanes, float shrink, float l2,
                       float beta1, float beta2, float stepSize, float inverseCorrection2Sqrt, float epsilon) {
    __m512 w = _mm512_mul_ps(_mm512_maskz_loadu_ps(lanes, p), _mm512_set1_ps(shrink));
    __m512 gi = _mm512_add_ps(_mm512_maskz_loadu_ps(lanes, g), _mm512_mul_ps(_mm512_set1_ps(l2), w));
    __m512 mOld = _mm512_maskz_loadu_ps(lanes, m);
    __m512 mi = flush_subnormals(_mm512_add_ps(mOld, _mm512_mul_ps(_mm512_set1_ps(1 - beta1), _mm512_sub_ps(gi, mOld))));
    __m512 vi = flush_subnormals(_mm512_add_ps(_mm512_mul_ps(_mm512_set1_ps(beta2), _mm512_maskz_loadu_ps(lanes, v)),
                                               _mm512_mul_ps(_mm512_mul_ps(_mm512_set1_ps(1 - beta2), gi), gi)));
    __m512 denominator = _mm512_add_ps(_mm512_mul_ps(_mm512_sqrt_ps(vi), _mm512_set1_ps(inverseCorrection2Sqrt)),
                                       _mm512_set1_ps(epsilon));
    __m512 updated = _mm512_sub_ps(w, _mm512_mul_ps(_mm512_set1_ps(stepSize), _mm512_div_ps(mi, denominator)));
    _mm512_mask_storeu_ps(m, lanes, mi);
    _mm512_mask_storeu_ps(v, lanes, vi);
    _mm512_mask_storeu_ps(p, lanes, updated);
}

AVX512 void synapse_adam_step_avx512(float *parameter, const float *gradient, float *m, float *v, size_t count,
                                     float shrink, float l2, float beta1, float beta2, float stepSize,
                                     float inverseCorrection2Sqrt, float epsilon) {
    // One loop for blocks and tail: the last block's mask covers only the elements that exist.
    for (size_t i = 0; i < count; i += 16) {
        __mmask16 lanes = count - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (count - i)) - 1);
        adam_lanes(parameter + i, gradient + i, m + i, v + i, lanes, shrink, l2, beta1, beta2, stepSize,
                   inverseCorrection2Sqrt, epsilon);
    }
}

#else

void synapse_adam_step_avx512(float *parameter, const float *gradient, float *m, float *v, size_t count,
                              float shrink, float l2, float beta1, float beta2, float stepSize,
                              float inverseCorrection2Sqrt, float epsilon) {
    (void)parameter; (void)gradient; (void)m; (void)v; (void)count; (void)shrink; (void)l2; (void)beta1; (void)beta2;
    (void)stepSize; (void)inverseCorrection2Sqrt; (void)epsilon;
}

#endif
