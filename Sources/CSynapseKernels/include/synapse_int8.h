#ifndef SYNAPSE_INT8_H
#define SYNAPSE_INT8_H

#include <stddef.h>
#include <stdint.h>

// Int8 matrix products on AVX-512 VNNI (`vpdpbusd`: 64 unsigned-by-signed byte products summed into 16 Int32 lanes
// per instruction). Swift cannot target an instruction set per function, so these few kernels are C with a function
// target attribute and are only called after `synapse_cpu_has_avx512_vnni()` said yes; the package itself still
// builds for the baseline x86-64 (and for arm64, where the functions exist but report no support).

#ifdef __cplusplus
extern "C" {
#endif

/// Inputs are padded to a multiple of this (zero weights, so padded activations do not matter).
#define SYNAPSE_INT8_K_ALIGNMENT 4
/// Outputs are packed in blocks of this many.
#define SYNAPSE_INT8_BLOCK 16

/// Bytes of the packed form of an [n, k] weight: n rounded up to 16, k rounded up to 4.
size_t synapse_int8_packed_bytes(size_t n, size_t k);

/// Packs an int8 weight [n, k] (row-major, PyTorch's [out, in]) for `synapse_int8_gemm_vnni`: for each block of 16
/// outputs and each group of 4 inputs, 64 bytes holding the 4 weights of output 0, then of output 1, and so on.
void synapse_int8_pack(const int8_t *weight, size_t n, size_t k, int8_t *packed);

/// acc[r * n + o] = Σ_i x[r * ldx + i] · w[o, i] in Int32 for output blocks [firstBlock, lastBlock) (of 16 outputs;
/// the last block of the matrix may be partial), with x unsigned codes whose rows are `ldx` bytes apart and
/// ldx ≥ k rounded up to 4. Sums of k·255·128 must fit in Int32: k ≤ 65536.
void synapse_int8_gemm_vnni(const uint8_t *x, size_t rows, size_t ldx, const int8_t *packed, size_t n, size_t k,
                            size_t firstBlock, size_t lastBlock, int32_t *acc);

/// The smallest and largest of `count` floats, NaNs ignored (+inf and −inf when there are none), with AVX-512 (call
/// only when `synapse_cpu_has_avx512()`). The same values as `Int8Kernels.range`.
void synapse_range_avx512(const float *x, size_t count, float *minimum, float *maximum);

/// Quantizes one activation row as `Int8Kernels.quantize` does, bit for bit, into unsigned bytes:
/// q = clamp(x·inverseScale + offset, low, high) rounded to nearest even, plus `codeOffset` (NaN → low), and
/// returns Σ q. AVX-512 only (call when `synapse_cpu_has_avx512()`); the codes plus offset must lie in 0...255.
int32_t synapse_quantize_u8_avx512(const float *x, size_t count, float inverseScale, float offset, float low,
                                   float high, int32_t codeOffset, uint8_t *codes);

#ifdef __cplusplus
}
#endif

#endif
