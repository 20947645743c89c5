#ifndef SYNAPSE_RECURRENT_H
#define SYNAPSE_RECURRENT_H

#include <stddef.h>

// AVX-512 versions of `RecurrentKernels.lstmCell` and `RecurrentKernels.lstmGateGradients`: one pass over a
// sequence's H units instead of the Swift path's several (sigmoid, tanh, cell, tanh, output), with the block
// functions of vector_math_avx512_blocks.h. Call only when `synapse_cpu_has_avx512()` is 1. Gate order (i, f, g, o).

#ifdef __cplusplus
extern "C" {
#endif

/// Activates `gates` [4H] in place (σ, σ, tanh, σ) and writes c = f ⊙ c_prev + i ⊙ g (c_prev = 0 when
/// `previousCell` is NULL), tanh c and h = o ⊙ tanh c.
void synapse_lstm_cell_avx512(size_t hidden, float *gates, const float *previousCell, float *cell, float *tanhCell,
                              float *output);

/// From the activated gates, tanh c_t, c_{t−1}, ∂L/∂y_t and the carried ∂L/∂h, ∂L/∂c: writes ∂L/∂(pre-activations)
/// [4H] and replaces `cellGrad` by ∂L/∂c_{t−1}. Subnormal results are flushed to zero. The operations are the Swift
/// loop's, in its order and unfused, so the results are bit for bit the same.
void synapse_lstm_gate_gradients_avx512(size_t hidden, const float *gates, const float *tanhCell,
                                        const float *previousCell, const float *outputGrad, const float *hiddenGrad,
                                        float *cellGrad, float *gateGrads);

#ifdef __cplusplus
}
#endif

#endif
