#include "synapse_ggml.h"

#if defined(__x86_64__)
#define TARGET __attribute__((target("avx2,fma,f16c")))
// Pairs of Int16 products summed to Int32 (no overflow: |w| ≤ 128 and |a| ≤ 32767, 32 of them).
#define DPWSSD(acc, w0, a0, w1, a1) \
    _mm256_add_epi32((acc), _mm256_add_epi32(_mm256_madd_epi16((w0), (a0)), _mm256_madd_epi16((w1), (a1))))
#define KERNEL_NAME synapse_ggml_matmul_avx2
#include "ggml_matmul_body.h"

TARGET void synapse_ggml_quantize_avx2(const float *x, size_t count, synapse_q16_block *out) {
    const __m256 signBit = _mm256_set1_ps(-0.0f);
    for (size_t b = 0; b < count / 32; b++) {
        const float *v = x + 32 * b;
        __m256 m = _mm256_setzero_ps();
        for (int j = 0; j < 32; j += 8) m = _mm256_max_ps(m, _mm256_andnot_ps(signBit, _mm256_loadu_ps(v + j)));
        __m128 h = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
        h = _mm_max_ps(h, _mm_movehl_ps(h, h));
        h = _mm_max_ss(h, _mm_movehdup_ps(h));
        float amax = _mm_cvtss_f32(h);
        float d = amax / 32767.0f, id = d != 0.0f ? 1.0f / d : 0.0f;
        __m256 scale = _mm256_set1_ps(id);
        __m256i q[4];
        // Round to nearest even (the default MXCSR mode), as the Swift reference does.
        for (int j = 0; j < 4; j++) q[j] = _mm256_cvtps_epi32(_mm256_mul_ps(_mm256_loadu_ps(v + 8 * j), scale));
        // Int32 → Int16 packs (saturating, as the reference clamps) work within 128-bit lanes; the permute puts the
        // codes back in order.
        __m256i p0 = _mm256_permute4x64_epi64(_mm256_packs_epi32(q[0], q[1]), 0xD8);
        __m256i p1 = _mm256_permute4x64_epi64(_mm256_packs_epi32(q[2], q[3]), 0xD8);
        _mm256_storeu_si256((__m256i *)out[b].qs, p0);
        _mm256_storeu_si256((__m256i *)(out[b].qs + 16), p1);
        // The sum of the stored (clamped) codes.
        __m256i ones = _mm256_set1_epi16(1);
        __m256i sum = _mm256_add_epi32(_mm256_madd_epi16(p0, ones), _mm256_madd_epi16(p1, ones));
        __m128i s4 = _mm_add_epi32(_mm256_castsi256_si128(sum), _mm256_extracti128_si256(sum, 1));
        s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0x4E));
        s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0xB1));
        out[b].d = d;
        out[b].s = d * (float)_mm_cvtsi128_si32(s4);
    }
}
#else
void synapse_ggml_quantize_avx2(const float *x, size_t count, synapse_q16_block *out) {}
void synapse_ggml_matmul_avx2(int type, const uint8_t *weight, size_t rowBytes, size_t firstRow, size_t lastRow,
                              size_t blocks, const synapse_q16_block *x, size_t tokens, size_t xStride, float *out,
                              size_t ldo, int accumulate) {}
#endif
