#ifndef SYNAPSE_VECTOR_MATH_H
#define SYNAPSE_VECTOR_MATH_H

#include <stddef.h>

// AVX-512 versions of the hottest `VectorMath` buffer functions (same reductions and polynomials as the Swift
// block functions, with fused multiply-adds, 16 floats per instruction). Call only when
// `synapse_cpu_has_avx512()` is 1. `x` and `y` may be the same buffer; tails are handled with masked loads, so a
// value's result never depends on its position.

#ifdef __cplusplus
extern "C" {
#endif

void synapse_exp_avx512(const float *x, float *y, size_t count);
/// y = 1 / (1 + e^−x), accurate in relative terms on both tails.
void synapse_sigmoid_avx512(const float *x, float *y, size_t count);
void synapse_erf_avx512(const float *x, float *y, size_t count);
void synapse_tanh_avx512(const float *x, float *y, size_t count);
/// y = x · Φ(x) with Φ(x) = 0.5 · (1 + erf(x / √2)); also writes Φ(x) to `cdf` unless it is NULL.
void synapse_gelu_exact_avx512(const float *x, float *y, float *cdf, size_t count);
/// gradInput = gradOutput · (Φ(x) + x · φ(x)), φ(x) = e^(−x²/2) / √(2π). `gradInput` may alias any input.
void synapse_gelu_exact_backward_avx512(const float *x, const float *cdf, const float *gradOutput, float *gradInput,
                                        size_t count);
/// y = a + b elementwise; `y` may be `a` or `b` (accumulation in place).
void synapse_add_avx512(const float *a, const float *b, float *y, size_t count);

#ifdef __cplusplus
}
#endif

#endif
