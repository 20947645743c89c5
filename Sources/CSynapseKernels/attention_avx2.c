#include "synapse_attention.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define TARGET_F16 __attribute__((target("avx2,fma,f16c")))

static inline __attribute__((always_inline)) TARGET_F16 __m256 load_half8(const unsigned short *p) {
    return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p));
}

static inline __attribute__((always_inline)) TARGET_F16 float horizontal_sum8(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

TARGET_F16 void synapse_attention_scores_f16_avx2(const float *q, size_t heads, const unsigned short *keys, size_t stride,
                                                  size_t rows, size_t d, float scale, float *scores) {
    // Each key row is widened once per group, in registers, for every query head of the group.
    for (size_t j = 0; j < rows; j++) {
        const unsigned short *k = keys + j * stride;
        for (size_t g = 0; g < heads; g++) {
            const float *qg = q + g * d;
            __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
            size_t e = 0;
            for (; e + 16 <= d; e += 16) {
                a0 = _mm256_fmadd_ps(_mm256_loadu_ps(qg + e), load_half8(k + e), a0);
                a1 = _mm256_fmadd_ps(_mm256_loadu_ps(qg + e + 8), load_half8(k + e + 8), a1);
            }
            float total = horizontal_sum8(_mm256_add_ps(a0, a1));
            for (; e < d; e++) total += qg[e] * _cvtsh_ss(k[e]);
            scores[g * rows + j] = total * scale;
        }
    }
}

TARGET_F16 void synapse_attention_values_f16_avx2(const float *p, size_t heads, const unsigned short *values, size_t stride,
                                                  size_t rows, size_t d, float *out, size_t ldo) {
    for (size_t g = 0; g < heads; g++)
        for (size_t e = 0; e < d; e++) out[g * ldo + e] = 0;
    for (size_t j = 0; j < rows; j++) {
        const unsigned short *v = values + j * stride;
        for (size_t g = 0; g < heads; g++) {
            float *o = out + g * ldo;
            __m256 w = _mm256_set1_ps(p[g * rows + j]);
            size_t e = 0;
            for (; e + 8 <= d; e += 8) _mm256_storeu_ps(o + e, _mm256_fmadd_ps(w, load_half8(v + e), _mm256_loadu_ps(o + e)));
            for (; e < d; e++) o[e] += p[g * rows + j] * _cvtsh_ss(v[e]);
        }
    }
}
#else
void synapse_attention_scores_f16_avx2(const float *q, size_t heads, const unsigned short *keys, size_t stride,
                                       size_t rows, size_t d, float scale, float *scores) {}
void synapse_attention_values_f16_avx2(const float *p, size_t heads, const unsigned short *values, size_t stride,
                                       size_t rows, size_t d, float *out, size_t ldo) {}
#endif
