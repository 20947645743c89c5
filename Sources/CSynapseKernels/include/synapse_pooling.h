#ifndef SYNAPSE_POOLING_H
#define SYNAPSE_POOLING_H

#include <stdint.h>

// The AVX-512 version of `Kernels.maxPool2x2` (2×2 windows, stride 2, no padding), 16 windows per step (call only
// when `synapse_cpu_has_avx512()` is 1). The Swift loop is the reference: the same maxima and winners (the earlier
// element wins ties; a window holding NaN follows PyTorch's rule through the same scalar code).

#ifdef __cplusplus
extern "C" {
#endif

/// For `planes` consecutive planes of height × width (`width` floats a row, `inPlane` floats a plane), writes each
/// window's maximum to `out` and its flat in-plane index to `indices` (outH × outW per plane, `outPlane` apart).
void synapse_maxpool2x2_avx512(const float *x, long planes, long width, long inPlane, long outH, long outW,
                               long outPlane, float *out, int32_t *indices);

#ifdef __cplusplus
}
#endif

#endif
