#include "synapse_attention.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define TARGET __attribute__((target("avx2,fma")))

static inline __attribute__((always_inline)) TARGET float horizontal_sum8(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

TARGET void synapse_attention_scores_avx2(const float *q, size_t heads, const float *keys, size_t stride, size_t rows,
                                          size_t d, float scale, float *scores) {
    for (size_t j = 0; j < rows; j++) {
        const float *k = keys + j * stride;
        for (size_t g = 0; g < heads; g++) {
            const float *qg = q + g * d;
            __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
            size_t e = 0;
            for (; e + 16 <= d; e += 16) {
                a0 = _mm256_fmadd_ps(_mm256_loadu_ps(qg + e), _mm256_loadu_ps(k + e), a0);
                a1 = _mm256_fmadd_ps(_mm256_loadu_ps(qg + e + 8), _mm256_loadu_ps(k + e + 8), a1);
            }
            float total = horizontal_sum8(_mm256_add_ps(a0, a1));
            for (; e < d; e++) total += qg[e] * k[e];
            scores[g * rows + j] = total * scale;
        }
    }
}

TARGET void synapse_attention_values_avx2(const float *p, size_t heads, const float *values, size_t stride, size_t rows,
                                          size_t d, float *out, size_t ldo) {
    for (size_t g = 0; g < heads; g++)
        for (size_t e = 0; e < d; e++) out[g * ldo + e] = 0;
    for (size_t j = 0; j < rows; j++) {
        const float *v = values + j * stride;
        for (size_t g = 0; g < heads; g++) {
            float *o = out + g * ldo;
            __m256 w = _mm256_set1_ps(p[g * rows + j]);
            size_t e = 0;
            for (; e + 8 <= d; e += 8) _mm256_storeu_ps(o + e, _mm256_fmadd_ps(w, _mm256_loadu_ps(v + e), _mm256_loadu_ps(o + e)));
            for (; e < d; e++) o[e] += p[g * rows + j] * v[e];
        }
    }
}
#else
void synapse_attention_scores_avx2(const float *q, size_t heads, const float *keys, size_t stride, size_t rows,
                                   size_t d, float scale, float *scores) {}
void synapse_attention_values_avx2(const float *p, size_t heads, const float *values, size_t stride, size_t rows,
                                   size_t d, float *out, size_t ldo) {}
#endif
