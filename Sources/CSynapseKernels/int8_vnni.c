#include "synapse_int8.h"

#include <string.h>

static size_t round_up(size_t value, size_t multiple) { return (value + multiple - 1) / multiple * multiple; }

size_t synapse_int8_packed_bytes(size_t n, size_t k) {
    return round_up(n, SYNAPSE_INT8_BLOCK) * round_up(k, SYNAPSE_INT8_K_ALIGNMENT);
}

void synapse_int8_pack(const int8_t *weight, size_t n, size_t k, int8_t *packed) {
    size_t kp = round_up(k, SYNAPSE_INT8_K_ALIGNMENT), blocks = round_up(n, SYNAPSE_INT8_BLOCK) / SYNAPSE_INT8_BLOCK;
    memset(packed, 0, synapse_int8_packed_bytes(n, k));
    for (size_t b = 0; b < blocks; b++) {
        int8_t *block = packed + b * SYNAPSE_INT8_BLOCK * kp;
        for (size_t lane = 0; lane < SYNAPSE_INT8_BLOCK; lane++) {
            size_t o = b * SYNAPSE_INT8_BLOCK + lane;
            if (o >= n) break;
            for (size_t i = 0; i < k; i++) {
                // Group i / 4, lane, position i % 4.
                block[(i / 4) * 64 + lane * 4 + (i % 4)] = weight[o * k + i];
            }
        }
    }
}

#if defined(__x86_64__)
#include <immintrin.h>

#define VNNI __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni")))

// One register tile: R activation rows × C blocks of 16 outputs, R·C accumulators, over every group of 4 inputs.
// Per group: C weight loads, R four-byte broadcasts, R·C vpdpbusd. R and C are constants at every call site, so the
// loops unroll and the accumulators stay in registers.
static inline __attribute__((always_inline)) VNNI void tile(const uint8_t *x, size_t ldx, const int8_t *w,
                                                           size_t blockStride, size_t groups, int32_t *acc, size_t n,
                                                           const int R, const int C, __mmask16 lastMask) {
    __m512i sums[4][4];
    for (int r = 0; r < R; r++)
        for (int c = 0; c < C; c++) sums[r][c] = _mm512_setzero_si512();
    for (size_t g = 0; g < groups; g++) {
        __m512i weights[4];
        for (int c = 0; c < C; c++) weights[c] = _mm512_loadu_si512(w + c * blockStride + g * 64);
        for (int r = 0; r < R; r++) {
            int32_t four;
            memcpy(&four, x + r * ldx + 4 * g, 4);
            __m512i xs = _mm512_set1_epi32(four);
            for (int c = 0; c < C; c++) sums[r][c] = _mm512_dpbusd_epi32(sums[r][c], xs, weights[c]);
        }
    }
    for (int r = 0; r < R; r++)
        for (int c = 0; c < C; c++)
            _mm512_mask_storeu_epi32(acc + r * n + 16 * c, c == C - 1 ? lastMask : (__mmask16)0xFFFF, sums[r][c]);
}

#define TILE_ROWS(C)                                                                                              \
    switch (rowsHere) {                                                                                           \
    case 4: tile(xr, ldx, w, blockStride, groups, out, n, 4, C, mask); break;                                    \
    case 3: tile(xr, ldx, w, blockStride, groups, out, n, 3, C, mask); break;                                    \
    case 2: tile(xr, ldx, w, blockStride, groups, out, n, 2, C, mask); break;                                    \
    default: tile(xr, ldx, w, blockStride, groups, out, n, 1, C, mask); break;                                   \
    }

VNNI void synapse_int8_gemm_vnni(const uint8_t *x, size_t rows, size_t ldx, const int8_t *packed, size_t n, size_t k,
                                 size_t firstBlock, size_t lastBlock, int32_t *acc) {
    size_t kp = round_up(k, SYNAPSE_INT8_K_ALIGNMENT), groups = kp / 4, blockStride = SYNAPSE_INT8_BLOCK * kp;
    // Four blocks (64 outputs) at a time, every row tile under them: those weights are read from L1/L2 once per
    // four rows instead of once per row.
    for (size_t b = firstBlock; b < lastBlock;) {
        size_t count = lastBlock - b >= 4 ? 4 : 1;
        size_t lastColumn = (b + count) * SYNAPSE_INT8_BLOCK;
        size_t valid = 16 - (lastColumn > n ? lastColumn - n : 0);
        __mmask16 mask = (__mmask16)((1u << valid) - 1);
        const int8_t *w = packed + b * blockStride;
        for (size_t r = 0; r < rows; r += 4) {
            size_t rowsHere = rows - r < 4 ? rows - r : 4;
            const uint8_t *xr = x + r * ldx;
            int32_t *out = acc + r * n + b * SYNAPSE_INT8_BLOCK;
            if (count == 4) {
                TILE_ROWS(4)
            } else {
                TILE_ROWS(1)
            }
        }
        b += count;
    }
}

#define AVX512_ROWS __attribute__((target("avx512f,avx512bw,avx512vl")))

AVX512_ROWS void synapse_range_avx512(const float *x, size_t count, float *minimum, float *maximum) {
    __m512 lows = _mm512_set1_ps(__builtin_inff()), highs = _mm512_set1_ps(-__builtin_inff());
    for (size_t i = 0; i < count; i += 16) {
        __mmask16 lanes = count - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (count - i)) - 1);
        __m512 v = _mm512_maskz_loadu_ps(lanes, x + i);
        // vminps/vmaxps return the second operand when either is NaN: NaNs (and lanes past the end) keep the
        // running value.
        lows = _mm512_mask_min_ps(lows, lanes, v, lows);
        highs = _mm512_mask_max_ps(highs, lanes, v, highs);
    }
    *minimum = _mm512_reduce_min_ps(lows);
    *maximum = _mm512_reduce_max_ps(highs);
}

AVX512_ROWS int32_t synapse_quantize_u8_avx512(const float *x, size_t count, float inverseScale, float offset,
                                               float low, float high, int32_t codeOffset, uint8_t *codes) {
    // Round to nearest even by adding 1.5·2^23 (the bits below the point fall off), as the Swift loop does; a
    // separate multiply and add, no fused multiply-add, so the codes match it bit for bit.
    const __m512 scale = _mm512_set1_ps(inverseScale), shift = _mm512_set1_ps(offset);
    const __m512 lowest = _mm512_set1_ps(low), highest = _mm512_set1_ps(high), magic = _mm512_set1_ps(12582912.0f);
    const __m512i magicBits = _mm512_set1_epi32(0x4B400000 - codeOffset);
    __m512i sums = _mm512_setzero_si512();
    for (size_t i = 0; i < count; i += 16) {
        __mmask16 lanes = count - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (count - i)) - 1);
        __m512 v = _mm512_add_ps(_mm512_mul_ps(_mm512_maskz_loadu_ps(lanes, x + i), scale), shift);
        v = _mm512_max_ps(v, lowest);    // NaN → low, as `v > low ? v : low`
        v = _mm512_min_ps(v, highest);
        __m512i q = _mm512_sub_epi32(_mm512_castps_si512(_mm512_add_ps(v, magic)), magicBits);
        sums = _mm512_mask_add_epi32(sums, lanes, sums, q);
        _mm_mask_storeu_epi8(codes + i, lanes, _mm512_cvtepi32_epi8(q));
    }
    return _mm512_reduce_add_epi32(sums);
}

#else

void synapse_range_avx512(const float *x, size_t count, float *minimum, float *maximum) {
    (void)x; (void)count; (void)minimum; (void)maximum;
}

int32_t synapse_quantize_u8_avx512(const float *x, size_t count, float inverseScale, float offset, float low,
                                   float high, int32_t codeOffset, uint8_t *codes) {
    (void)x; (void)count; (void)inverseScale; (void)offset; (void)low; (void)high; (void)codeOffset; (void)codes;
    return 0;
}

void synapse_int8_gemm_vnni(const uint8_t *x, size_t rows, size_t ldx, const int8_t *packed, size_t n, size_t k,
                            size_t firstBlock, size_t lastBlock, int32_t *acc) {
    (void)x; (void)rows; (void)ldx; (void)packed; (void)n; (void)k; (void)firstBlock; (void)lastBlock; (void)acc;
}

#endif
