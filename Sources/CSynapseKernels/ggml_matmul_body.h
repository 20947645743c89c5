// The body of the block-quantised matrix products, built once per instruction set: the including file defines
// TARGET (a function attribute), DPWSSD(acc, w0, a0, w1, a1) (acc plus eight Int32 sums of the
// pairs of Int16 products of w0·a0 and of w1·a1) and
// KERNEL_NAME (and optionally KERNEL_STATIC). Included only from ggml_matmul_*.c.

#include <immintrin.h>
#include <string.h>

static inline __attribute__((always_inline)) TARGET float half_to_float(const uint8_t *p) {
    uint16_t h;
    memcpy(&h, p, 2);
    return _cvtsh_ss(h);
}

static inline __attribute__((always_inline)) TARGET float horizontal_sum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

// One weight row against NT tokens (NT and TYPE are constants at every call, so the loops unroll). Per block: the
// weights are widened to 32 Int16 once and dotted with each token's 32 Int16 codes; the Int32 sums are scaled by the
// two blocks' scales into float lanes, and the minimum term m·s (Q4_0: m = −8d) is kept apart.
static inline __attribute__((always_inline)) TARGET void row_tokens(const int TYPE, const int NT, const uint8_t *row,
                                                                   size_t blocks, const synapse_q16_block *x,
                                                                   size_t xStride, float *out, size_t ldo,
                                                                   int accumulate) {
    __m256 acc[4];
    float mins[4];
    for (int t = 0; t < NT; t++) { acc[t] = _mm256_setzero_ps(); mins[t] = 0; }
    const __m128i low4 = _mm_set1_epi8(0x0F);
    for (size_t b = 0; b < blocks; b++) {
        if (TYPE == 8) {
            const uint8_t *blk = row + b * 34;
            float dw = half_to_float(blk);
            __m256i w0 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(blk + 2)));
            __m256i w1 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(blk + 18)));
            for (int t = 0; t < NT; t++) {
                const synapse_q16_block *a = x + t * xStride + b;
                __m256i p = DPWSSD(_mm256_setzero_si256(), w0, _mm256_loadu_si256((const __m256i *)a->qs), w1,
                                   _mm256_loadu_si256((const __m256i *)(a->qs + 16)));
                acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_set1_ps(dw * a->d), acc[t]);
            }
        } else {
            const size_t size = TYPE == 3 ? 20 : 18, codes = TYPE == 3 ? 4 : 2;
            const uint8_t *blk = row + b * size;
            float dw = half_to_float(blk), mw = TYPE == 3 ? half_to_float(blk + 2) : -8.0f * dw;
            __m128i bytes = _mm_loadu_si128((const __m128i *)(blk + codes));
            // Low nibbles are elements 0–15, high nibbles 16–31.
            __m256i w0 = _mm256_cvtepu8_epi16(_mm_and_si128(bytes, low4));
            __m256i w1 = _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(bytes, 4), low4));
            for (int t = 0; t < NT; t++) {
                const synapse_q16_block *a = x + t * xStride + b;
                __m256i p = DPWSSD(_mm256_setzero_si256(), w0, _mm256_loadu_si256((const __m256i *)a->qs), w1,
                                   _mm256_loadu_si256((const __m256i *)(a->qs + 16)));
                acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_set1_ps(dw * a->d), acc[t]);
                mins[t] += mw * a->s;
            }
        }
    }
    for (int t = 0; t < NT; t++) {
        float v = horizontal_sum(acc[t]) + mins[t];
        out[t * ldo] = accumulate ? out[t * ldo] + v : v;
    }
}

// Rows in panels of 16 (a panel's weights stay in L1 while every group of four tokens passes over them).
static inline __attribute__((always_inline)) TARGET void panels(const int TYPE, const uint8_t *weight,
                                                               size_t rowBytes, size_t firstRow, size_t lastRow,
                                                               size_t blocks, const synapse_q16_block *x, size_t tokens,
                                                               size_t xStride, float *out, size_t ldo, int accumulate) {
    for (size_t p = firstRow; p < lastRow; p += 16) {
        size_t end = lastRow - p < 16 ? lastRow : p + 16;
        for (size_t t = 0; t < tokens; t += 4) {
            size_t nt = tokens - t < 4 ? tokens - t : 4;
            const synapse_q16_block *xt = x + t * xStride;
            for (size_t r = p; r < end; r++) {
                const uint8_t *row = weight + r * rowBytes;
                float *o = out + t * ldo + (r - firstRow);
                switch (nt) {
                case 4: row_tokens(TYPE, 4, row, blocks, xt, xStride, o, ldo, accumulate); break;
                case 3: row_tokens(TYPE, 3, row, blocks, xt, xStride, o, ldo, accumulate); break;
                case 2: row_tokens(TYPE, 2, row, blocks, xt, xStride, o, ldo, accumulate); break;
                default: row_tokens(TYPE, 1, row, blocks, xt, xStride, o, ldo, accumulate); break;
                }
            }
        }
    }
}

#ifndef KERNEL_STATIC
#define KERNEL_STATIC
#endif
KERNEL_STATIC TARGET void KERNEL_NAME(int type, const uint8_t *weight, size_t rowBytes, size_t firstRow, size_t lastRow,
                        size_t blocks, const synapse_q16_block *x, size_t tokens, size_t xStride, float *out,
                        size_t ldo, int accumulate) {
    switch (type) {
    case 2: panels(2, weight, rowBytes, firstRow, lastRow, blocks, x, tokens, xStride, out, ldo, accumulate); break;
    case 3: panels(3, weight, rowBytes, firstRow, lastRow, blocks, x, tokens, xStride, out, ldo, accumulate); break;
    case 8: panels(8, weight, rowBytes, firstRow, lastRow, blocks, x, tokens, xStride, out, ldo, accumulate); break;
    default: break;
    }
}
