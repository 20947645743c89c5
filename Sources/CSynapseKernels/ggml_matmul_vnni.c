#include "synapse_ggml.h"

#if defined(__x86_64__)
#define TARGET __attribute__((target("avx2,fma,f16c,avx512f,avx512vl,avx512bw,avx512vnni")))
#define ALWAYS static inline __attribute__((always_inline)) TARGET
#define DPWSSD(acc, w0, a0, w1, a1) _mm256_dpwssd_epi32(_mm256_dpwssd_epi32((acc), (w0), (a0)), (w1), (a1))
#define KERNEL_NAME matmul_direct
#define KERNEL_STATIC static
#include "ggml_matmul_body.h"

// Many tokens (a prompt): the weights are compute-bound there, so a panel of rows is first widened to Int16 codes
// and Float scales in a stack buffer that stays in L1, and every token then meets it in tiles of 4 rows × 4 tokens
// on 512-bit registers — one block (32 Int16 codes) per register, so per block and tile each weight and each token's
// codes are loaded once and do four multiply-adds (`vpmaddwd`, pairs summed to Int32). The minimum terms m·s are a
// small Float product of their own (rows × blocks by blocks × tokens), 16 tokens per register.

// Below DIRECT_BELOW tokens the rows are read straight from their blocks, a few tokens at a time (the decode step of
// one to eight streams): widening a panel to Int16 in memory and reading it back cost more than 8 tokens repay (4 and
// 8 streams decoded together: 203 → 263–349 and 266–277 → 314–333 tokens/s; prompts of 16 tokens were slower direct).
enum { PANEL_BYTES = 24 * 1024, TILE = 4, TOKEN_GROUP = 64, DIRECT_BELOW = 9 };

// The weights' blocks of rows [first, first + rows) to codes (32 Int16 per block), scales and minimums.
ALWAYS void widen_panel(const int TYPE, const uint8_t *weight, size_t rowBytes, size_t first, size_t rows,
                        size_t blocks, int16_t *codes, float *scales, float *mins) {
    const __m128i low4 = _mm_set1_epi8(0x0F);
    for (size_t r = 0; r < rows; r++) {
        const uint8_t *row = weight + (first + r) * rowBytes;
        for (size_t b = 0; b < blocks; b++) {
            __m512i w;
            float d, m;
            if (TYPE == 8) {
                const uint8_t *blk = row + b * 34;
                d = half_to_float(blk);
                m = 0;
                w = _mm512_cvtepi8_epi16(_mm256_loadu_si256((const __m256i *)(blk + 2)));
            } else {
                const uint8_t *blk = row + b * (TYPE == 3 ? 20 : 18);
                d = half_to_float(blk);
                m = TYPE == 3 ? half_to_float(blk + 2) : -8.0f * d;
                __m128i bytes = _mm_loadu_si128((const __m128i *)(blk + (TYPE == 3 ? 4 : 2)));
                // Low nibbles are elements 0–15, high nibbles 16–31.
                __m256i both = _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(bytes, 4), low4), _mm_and_si128(bytes, low4));
                w = _mm512_cvtepu8_epi16(both);
            }
            _mm512_store_si512((__m512i *)(codes + (r * blocks + b) * 32), w);
            scales[r * blocks + b] = d;
            mins[r * blocks + b] = m;
        }
    }
}

// The sums of the lanes of 16 registers, as the 16 lanes of one (a transposing tree: 45 instructions, not 16 × 8).
ALWAYS __m512 sum_lanes_16(const __m512 *v) {
    __m512 pairs[8], quads[4], halves[2];
    for (int i = 0; i < 8; i++)   // per 128-bit chunk: [a0+a2, b0+b2, a1+a3, b1+b3]
        pairs[i] = _mm512_add_ps(_mm512_unpacklo_ps(v[2 * i], v[2 * i + 1]), _mm512_unpackhi_ps(v[2 * i], v[2 * i + 1]));
    for (int j = 0; j < 4; j++)   // per 128-bit chunk: [a, b, c, d] partial sums
        quads[j] = _mm512_add_ps(_mm512_shuffle_ps(pairs[2 * j], pairs[2 * j + 1], 0x44),
                                 _mm512_shuffle_ps(pairs[2 * j], pairs[2 * j + 1], 0xEE));
    for (int k = 0; k < 2; k++)   // chunks summed in pairs across registers
        halves[k] = _mm512_add_ps(_mm512_shuffle_f32x4(quads[2 * k], quads[2 * k + 1], 0x88),
                                  _mm512_shuffle_f32x4(quads[2 * k], quads[2 * k + 1], 0xDD));
    return _mm512_add_ps(_mm512_shuffle_f32x4(halves[0], halves[1], 0x88),
                         _mm512_shuffle_f32x4(halves[0], halves[1], 0xDD));
}

// R widened rows × NT tokens; `minTerms` (row-major, `minStride` per row; NULL for Q8_0) holds Σ m·s.
ALWAYS void tile(const int R, const int NT, const int16_t *codes, const float *scales, size_t blocks,
                 const synapse_q16_block *x, size_t xStride, const float *minTerms, size_t minStride, float *out,
                 size_t ldo, int accumulate) {
    __m512 acc[TILE * TILE];
    for (int i = 0; i < R * NT; i++) acc[i] = _mm512_setzero_ps();
    for (size_t b = 0; b < blocks; b++) {
        __m512i a[TILE];
        __m512 da[TILE];
        for (int t = 0; t < NT; t++) {
            const synapse_q16_block *blk = x + t * xStride + b;
            a[t] = _mm512_loadu_si512((const void *)blk->qs);
            da[t] = _mm512_set1_ps(blk->d);
        }
        for (int r = 0; r < R; r++) {
            __m512i w = _mm512_load_si512((const void *)(codes + (r * blocks + b) * 32));
            __m512 dw = _mm512_set1_ps(scales[r * blocks + b]);
            for (int t = 0; t < NT; t++)
                acc[r * NT + t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_madd_epi16(w, a[t])),
                                                  _mm512_mul_ps(dw, da[t]), acc[r * NT + t]);
        }
    }
    float sums[TILE * TILE];
    if (R * NT == 16) {
        _mm512_storeu_ps(sums, sum_lanes_16(acc));
    } else {
        for (int i = 0; i < R * NT; i++) sums[i] = _mm512_reduce_add_ps(acc[i]);
    }
    for (int r = 0; r < R; r++)
        for (int t = 0; t < NT; t++) {
            float v = sums[r * NT + t] + (minTerms ? minTerms[r * minStride + t] : 0.0f);
            float *o = out + t * ldo + r;
            *o = accumulate ? *o + v : v;
        }
}

ALWAYS void tiles_for_tokens(const int NT, size_t rows, const int16_t *codes, const float *scales, size_t blocks,
                             const synapse_q16_block *x, size_t xStride, const float *minTerms, size_t minStride,
                             float *out, size_t ldo, int accumulate) {
    size_t r = 0;
    for (; r + TILE <= rows; r += TILE)
        tile(TILE, NT, codes + r * blocks * 32, scales + r * blocks, blocks, x, xStride,
             minTerms ? minTerms + r * minStride : NULL, minStride, out + r, ldo, accumulate);
    for (; r < rows; r++)
        tile(1, NT, codes + r * blocks * 32, scales + r * blocks, blocks, x, xStride,
             minTerms ? minTerms + r * minStride : NULL, minStride, out + r, ldo, accumulate);
}

// minTerms[r][t] = Σ_b mins[r][b] · s[t][b] for the panel's rows and `tokens` ≤ TOKEN_GROUP tokens, 16 tokens per
// register (`sT` is the tokens' s values, block-major).
ALWAYS void min_terms(const float *mins, size_t rows, size_t blocks, const float *sT, size_t tokens, float *minTerms) {
    for (size_t r = 0; r < rows; r++)
        for (size_t t = 0; t < tokens; t += 16) {
            __mmask16 k = tokens - t >= 16 ? 0xFFFF : (__mmask16)((1u << (tokens - t)) - 1);
            __m512 acc = _mm512_setzero_ps();
            for (size_t b = 0; b < blocks; b++)
                acc = _mm512_fmadd_ps(_mm512_set1_ps(mins[r * blocks + b]),
                                      _mm512_maskz_loadu_ps(k, sT + b * TOKEN_GROUP + t), acc);
            _mm512_mask_storeu_ps(minTerms + r * TOKEN_GROUP + t, k, acc);
        }
}

ALWAYS void matmul_panels(const int TYPE, const uint8_t *weight, size_t rowBytes, size_t firstRow, size_t lastRow,
                          size_t blocks, const synapse_q16_block *x, size_t tokens, size_t xStride, float *out,
                          size_t ldo, int accumulate) {
    size_t panelRows = PANEL_BYTES / (blocks * 64);
    panelRows = panelRows < TILE ? TILE : panelRows / TILE * TILE;
    int16_t codes[panelRows * blocks * 32] __attribute__((aligned(64)));
    float scales[panelRows * blocks], mins[panelRows * blocks];
    float sT[blocks * TOKEN_GROUP], minTerms[panelRows * TOKEN_GROUP];
    for (size_t p = firstRow; p < lastRow; p += panelRows) {
        size_t rows = lastRow - p < panelRows ? lastRow - p : panelRows;
        widen_panel(TYPE, weight, rowBytes, p, rows, blocks, codes, scales, mins);
        for (size_t g = 0; g < tokens; g += TOKEN_GROUP) {
            size_t groupTokens = tokens - g < TOKEN_GROUP ? tokens - g : TOKEN_GROUP;
            const synapse_q16_block *xg = x + g * xStride;
            if (TYPE != 8) {
                for (size_t t = 0; t < groupTokens; t++)
                    for (size_t b = 0; b < blocks; b++) sT[b * TOKEN_GROUP + t] = xg[t * xStride + b].s;
                min_terms(mins, rows, blocks, sT, groupTokens, minTerms);
            }
            for (size_t t = 0; t < groupTokens; t += TILE) {
                size_t nt = groupTokens - t < TILE ? groupTokens - t : TILE;
                const synapse_q16_block *xt = xg + t * xStride;
                const float *m = TYPE != 8 ? minTerms + t : NULL;
                float *o = out + (g + t) * ldo + (p - firstRow);
                switch (nt) {
                case 4: tiles_for_tokens(4, rows, codes, scales, blocks, xt, xStride, m, TOKEN_GROUP, o, ldo, accumulate); break;
                case 3: tiles_for_tokens(3, rows, codes, scales, blocks, xt, xStride, m, TOKEN_GROUP, o, ldo, accumulate); break;
                case 2: tiles_for_tokens(2, rows, codes, scales, blocks, xt, xStride, m, TOKEN_GROUP, o, ldo, accumulate); break;
                default: tiles_for_tokens(1, rows, codes, scales, blocks, xt, xStride, m, TOKEN_GROUP, o, ldo, accumulate); break;
                }
            }
        }
    }
}

TARGET void synapse_ggml_matmul_vnni(int type, const uint8_t *weight, size_t rowBytes, size_t firstRow, size_t lastRow,
                                     size_t blocks, const synapse_q16_block *x, size_t tokens, size_t xStride,
                                     float *out, size_t ldo, int accumulate) {
    // A few tokens do not repay the widening (see DIRECT_BELOW). Rows wider than 4096 values would not leave a panel
    // of four rows in the stack buffer's budget.
    if (tokens < DIRECT_BELOW || blocks > 128) {
        matmul_direct(type, weight, rowBytes, firstRow, lastRow, blocks, x, tokens, xStride, out, ldo, accumulate);
        return;
    }
    switch (type) {
    case 2: matmul_panels(2, weight, rowBytes, firstRow, lastRow, blocks, x, tokens, xStride, out, ldo, accumulate); break;
    case 3: matmul_panels(3, weight, rowBytes, firstRow, lastRow, blocks, x, tokens, xStride, out, ldo, accumulate); break;
    case 8: matmul_panels(8, weight, rowBytes, firstRow, lastRow, blocks, x, tokens, xStride, out, ldo, accumulate); break;
    default: break;
    }
}
#else
void synapse_ggml_matmul_vnni(int type, const uint8_t *weight, size_t rowBytes, size_t firstRow, size_t lastRow,
                              size_t blocks, const synapse_q16_block *x, size_t tokens, size_t xStride, float *out,
                              size_t ldo, int accumulate) {}
#endif
