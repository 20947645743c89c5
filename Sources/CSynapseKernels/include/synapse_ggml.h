#ifndef SYNAPSE_GGML_H
#define SYNAPSE_GGML_H

#include <stddef.h>
#include <stdint.h>

// Products of ggml block-quantised weights (Q4_0, Q4_1, Q8_0, straight from a memory-mapped GGUF file) with
// activations quantised to int16 per block of 32: integer dot products, with activations 256× finer than the int8
// (q8_1) ones llama.cpp uses, at the same cost where the CPU has no int8 dot product and one more instruction per
// block where it has (a decode step is bound by reading the weights, not by these instructions). Swift cannot choose an instruction set per function, so these are C
// with target attributes, one build of the same body per instruction set (ggml_matmul_body.h), called only after the
// CPU check; `GGMLMatmul.portable` in Swift is the reference and the path on every other CPU.

#ifdef __cplusplus
extern "C" {
#endif

/// 32 activations as int16 codes: value ≈ d · qs[i]; s = d · Σ qs (as ggml's q8_1 keeps it, for the minimum terms).
typedef struct {
    float d;
    float s;
    int16_t qs[32];
} synapse_q16_block;

/// Quantises `count` floats (a multiple of 32) to `count / 32` blocks: d = max|x| / 32767, qs = x / d rounded to
/// nearest even. Bit-identical to `GGMLMatmul.quantize`.
void synapse_ggml_quantize_avx2(const float *x, size_t count, synapse_q16_block *out);

/// out[t · ldo + (r − firstRow)] (+)= Σ_b dot(weight row r block b, x[t · xStride + b]) for rows [firstRow, lastRow)
/// and tokens 0..<tokens. `type` is the ggml type id (2 = Q4_0, 3 = Q4_1, 8 = Q8_0), weight rows are `rowBytes`
/// apart and hold `blocks` blocks each. `accumulate` adds to `out` instead of overwriting it.
void synapse_ggml_matmul_avx2(int type, const uint8_t *weight, size_t rowBytes, size_t firstRow, size_t lastRow,
                              size_t blocks, const synapse_q16_block *x, size_t tokens, size_t xStride, float *out,
                              size_t ldo, int accumulate);

/// The same with AVX-512: for fewer than 4 tokens (a decode step) the AVX2 body with VNNI's `vpdpwssd`; for more (a
/// prompt) panels of rows widened to Int16 once and met by 4 × 4 tiles of rows and tokens on 512-bit registers.
void synapse_ggml_matmul_vnni(int type, const uint8_t *weight, size_t rowBytes, size_t firstRow, size_t lastRow,
                              size_t blocks, const synapse_q16_block *x, size_t tokens, size_t xStride, float *out,
                              size_t ldo, int accumulate);

#ifdef __cplusplus
}
#endif

#endif
