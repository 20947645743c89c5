#ifndef SYNAPSE_OPTIM_H
#define SYNAPSE_OPTIM_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// One Adam/AdamW step over `count` elements with AVX-512 (call only when `synapse_cpu_has_avx512()`), the same
/// formula as `Adam.step`'s Swift loop:
///   w = p·shrink; g' = g + l2·w; m ← m + (1−β₁)(g' − m); v ← β₂v + (1−β₂)g'²  (both flushed to 0 below FLT_MIN);
///   p ← w − stepSize · m / (√v · inverseCorrection2Sqrt + ε).
void synapse_adam_step_avx512(float *parameter, const float *gradient, float *m, float *v, size_t count,
                              float shrink, float l2, float beta1, float beta2, float stepSize,
                              float inverseCorrection2Sqrt, float epsilon);

#ifdef __cplusplus
}
#endif

#endif
