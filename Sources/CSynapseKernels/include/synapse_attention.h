#ifndef SYNAPSE_ATTENTION_H
#define SYNAPSE_ATTENTION_H

#include <stddef.h>

// One generated token's attention over a Float16 KV cache (`keys`, `values` hold IEEE half-precision bit patterns), for
// a group of query heads that share one key/value head (grouped-query attention): each cached key and value row is read
// once for the whole group. AVX2 with FMA and F16C (call only when `synapse_cpu_has_avx2()`); the portable loops of
// `Kernels.decodeAttentionHalf` are the Swift path, tested against these.

#ifdef __cplusplus
extern "C" {
#endif

/// scores[g · rows + j] = scale · Σ_e q[g · d + e] · keys[j · stride + e] for g < heads, j < rows.
void synapse_attention_scores_f16_avx2(const float *q, size_t heads, const unsigned short *keys, size_t stride,
                                       size_t rows, size_t d, float scale, float *scores);
/// out[g · ldo + e] = Σ_j p[g · rows + j] · values[j · stride + e] for g < heads, e < d.
void synapse_attention_values_f16_avx2(const float *p, size_t heads, const unsigned short *values, size_t stride,
                                       size_t rows, size_t d, float *out, size_t ldo);

#ifdef __cplusplus
}
#endif

#endif
