#include "synapse_pooling.h"

#if defined(__x86_64__)
#include "vector_math_avx512_blocks.h"

// One window by PyTorch's rule, used where a window holds NaN: in order a, b, c, d, a later element wins when it is
// greater or NaN.
static inline void window_with_nan(const float *top, const float *bottom, long i, long width, long rowBase,
                                   float *best, int32_t *index) {
    float b = top[i];
    long at = i;
    if (top[i + 1] > b || top[i + 1] != top[i + 1]) { b = top[i + 1]; at = i + 1; }
    if (bottom[i] > b || bottom[i] != bottom[i]) { b = bottom[i]; at = width + i; }
    if (bottom[i + 1] > b || bottom[i + 1] != bottom[i + 1]) { b = bottom[i + 1]; at = width + i + 1; }
    *best = b;
    *index = (int32_t)(rowBase + at);
}

AVX512 void synapse_maxpool2x2_avx512(const float *x, long planes, long width, long inPlane, long outH, long outW,
                                      long outPlane, float *out, int32_t *indices) {
    const __m512i evens = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i odds = _mm512_add_epi32(evens, _mm512_set1_epi32(1));
    const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const __m512i widthVector = _mm512_set1_epi32((int)width);
    for (long p = 0; p < planes; p++) {
        const float *src = x + p * inPlane;
        for (long oh = 0; oh < outH; oh++) {
            const float *top = src + 2 * oh * width, *bottom = top + width;
            float *dst = out + p * outPlane + oh * outW;
            int32_t *idx = indices + p * outPlane + oh * outW;
            const long rowBase = 2 * oh * width;
            for (long ow0 = 0; ow0 < outW; ow0 += 16) {
                const long count = outW - ow0 < 16 ? outW - ow0 : 16;
                const __mmask16 m = lanes_from(0, (size_t)count);
                const __mmask16 low = lanes_from(0, (size_t)(2 * count)), high = lanes_from(16, (size_t)(2 * count));
                const long i0 = 2 * ow0;
                const __m512 t0 = _mm512_maskz_loadu_ps(low, top + i0), t1 = _mm512_maskz_loadu_ps(high, top + i0 + 16);
                const __m512 b0 = _mm512_maskz_loadu_ps(low, bottom + i0), b1 = _mm512_maskz_loadu_ps(high, bottom + i0 + 16);
                const __m512 a = _mm512_permutex2var_ps(t0, evens, t1), b = _mm512_permutex2var_ps(t0, odds, t1);
                const __m512 c = _mm512_permutex2var_ps(b0, evens, b1), d = _mm512_permutex2var_ps(b0, odds, b1);
                if ((_mm512_cmp_ps_mask(a, b, _CMP_UNORD_Q) | _mm512_cmp_ps_mask(c, d, _CMP_UNORD_Q)) & m) {
                    for (long q = 0; q < count; q++)
                        window_with_nan(top, bottom, i0 + 2 * q, width, rowBase, dst + ow0 + q, idx + ow0 + q);
                    continue;
                }
                // The Swift loop's selects: strict comparisons, so the earlier element wins ties.
                const __mmask16 rightTop = _mm512_cmp_ps_mask(b, a, _CMP_GT_OQ);
                const __mmask16 rightBottom = _mm512_cmp_ps_mask(d, c, _CMP_GT_OQ);
                const __m512 topBest = _mm512_mask_blend_ps(rightTop, a, b);
                const __m512 bottomBest = _mm512_mask_blend_ps(rightBottom, c, d);
                const __mmask16 lower = _mm512_cmp_ps_mask(bottomBest, topBest, _CMP_GT_OQ);
                // Index of a: rowBase + 2·(ow0 + lane); +1 for the right column, + width for the bottom row.
                __m512i index = _mm512_add_epi32(_mm512_set1_epi32((int)(rowBase + i0)), _mm512_add_epi32(lane, lane));
                const __m512i one = _mm512_set1_epi32(1);
                const __m512i topIndex = _mm512_mask_add_epi32(index, rightTop, index, one);
                const __m512i bottomIndex = _mm512_add_epi32(_mm512_mask_add_epi32(index, rightBottom, index, one),
                                                             widthVector);
                _mm512_mask_storeu_ps(dst + ow0, m, _mm512_mask_blend_ps(lower, topBest, bottomBest));
                _mm512_mask_storeu_epi32(idx + ow0, m, _mm512_mask_blend_epi32(lower, topIndex, bottomIndex));
            }
        }
    }
}

#else

// Not called off x86-64 (`synapse_cpu_has_avx512()` is 0); defined so the package links everywhere.
void synapse_maxpool2x2_avx512(const float *x, long planes, long width, long inPlane, long outH, long outW,
                               long outPlane, float *out, int32_t *indices) {
    (void)x; (void)planes; (void)width; (void)inPlane; (void)outH; (void)outW; (void)outPlane; (void)out;
    (void)indices;
}

#endif
