#include "synapse_recurrent.h"

#if defined(__x86_64__)
#include "vector_math_avx512_blocks.h"
#include <float.h>

// Zero where |v| < FLT_MIN (FusedLoop.flushingSubnormals): products reading subnormals take x86's slow path.
INLINE __m512 flush_subnormals(__m512 v) {
    __mmask16 tiny = _mm512_cmp_ps_mask(_mm512_abs_ps(v), SET(FLT_MIN), _CMP_LT_OQ);
    return _mm512_mask_blend_ps(tiny, v, _mm512_setzero_ps());
}

AVX512 void synapse_lstm_cell_avx512(size_t h, float *gates, const float *previousCell, float *cell, float *tanhCell,
                                     float *output) {
    for (size_t j = 0; j < h; j += 16) {
        const __mmask16 m = lanes_from(j, h);
        const __m512 i = sigmoid_block(_mm512_maskz_loadu_ps(m, gates + j));
        const __m512 f = sigmoid_block(_mm512_maskz_loadu_ps(m, gates + h + j));
        const __m512 g = tanh_block(_mm512_maskz_loadu_ps(m, gates + 2 * h + j));
        const __m512 o = sigmoid_block(_mm512_maskz_loadu_ps(m, gates + 3 * h + j));
        _mm512_mask_storeu_ps(gates + j, m, i);
        _mm512_mask_storeu_ps(gates + h + j, m, f);
        _mm512_mask_storeu_ps(gates + 2 * h + j, m, g);
        _mm512_mask_storeu_ps(gates + 3 * h + j, m, o);
        // f·c_prev + i·g rounded twice, as the Swift loop does (no fused multiply-add).
        __m512 c = _mm512_mul_ps(i, g);
        if (previousCell) c = _mm512_add_ps(_mm512_mul_ps(f, _mm512_maskz_loadu_ps(m, previousCell + j)), c);
        const __m512 tc = tanh_block(c);
        _mm512_mask_storeu_ps(cell + j, m, c);
        _mm512_mask_storeu_ps(tanhCell + j, m, tc);
        _mm512_mask_storeu_ps(output + j, m, _mm512_mul_ps(o, tc));
    }
}

AVX512 void synapse_lstm_gate_gradients_avx512(size_t h, const float *gates, const float *tanhCell,
                                               const float *previousCell, const float *outputGrad,
                                               const float *hiddenGrad, float *cellGrad, float *d) {
    const __m512 one = SET(1.0f);
    for (size_t j = 0; j < h; j += 16) {
        const __mmask16 m = lanes_from(j, h);
        const __m512 i = _mm512_maskz_loadu_ps(m, gates + j), f = _mm512_maskz_loadu_ps(m, gates + h + j);
        const __m512 g = _mm512_maskz_loadu_ps(m, gates + 2 * h + j), o = _mm512_maskz_loadu_ps(m, gates + 3 * h + j);
        const __m512 tc = _mm512_maskz_loadu_ps(m, tanhCell + j);
        const __m512 dh = _mm512_add_ps(_mm512_maskz_loadu_ps(m, outputGrad + j), _mm512_maskz_loadu_ps(m, hiddenGrad + j));
        // dc = dc_next + dh·o·(1 − tc²)
        const __m512 dc = _mm512_add_ps(_mm512_maskz_loadu_ps(m, cellGrad + j),
                                        _mm512_mul_ps(_mm512_mul_ps(dh, o), _mm512_sub_ps(one, _mm512_mul_ps(tc, tc))));
        const __m512 di = _mm512_mul_ps(_mm512_mul_ps(_mm512_mul_ps(dc, g), i), _mm512_sub_ps(one, i));
        const __m512 pc = _mm512_maskz_loadu_ps(m, previousCell + j);
        const __m512 df = _mm512_mul_ps(_mm512_mul_ps(_mm512_mul_ps(dc, pc), f), _mm512_sub_ps(one, f));
        const __m512 dg = _mm512_mul_ps(_mm512_mul_ps(dc, i), _mm512_sub_ps(one, _mm512_mul_ps(g, g)));
        const __m512 dout = _mm512_mul_ps(_mm512_mul_ps(_mm512_mul_ps(dh, tc), o), _mm512_sub_ps(one, o));
        _mm512_mask_storeu_ps(d + j, m, flush_subnormals(di));
        _mm512_mask_storeu_ps(d + h + j, m, flush_subnormals(df));
        _mm512_mask_storeu_ps(d + 2 * h + j, m, flush_subnormals(dg));
        _mm512_mask_storeu_ps(d + 3 * h + j, m, flush_subnormals(dout));
        _mm512_mask_storeu_ps(cellGrad + j, m, flush_subnormals(_mm512_mul_ps(dc, f)));
    }
}

#else

// Not called off x86-64 (`synapse_cpu_has_avx512()` is 0); defined so the package links everywhere.
void synapse_lstm_cell_avx512(size_t h, float *gates, const float *previousCell, float *cell, float *tanhCell,
                              float *output) {
    (void)h; (void)gates; (void)previousCell; (void)cell; (void)tanhCell; (void)output;
}
void synapse_lstm_gate_gradients_avx512(size_t h, const float *gates, const float *tanhCell, const float *previousCell,
                                        const float *outputGrad, const float *hiddenGrad, float *cellGrad, float *d) {
    (void)h; (void)gates; (void)tanhCell; (void)previousCell; (void)outputGrad; (void)hiddenGrad; (void)cellGrad;
    (void)d;
}

#endif
