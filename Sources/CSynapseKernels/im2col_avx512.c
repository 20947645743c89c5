#include "synapse_conv.h"

#if defined(__x86_64__)
#include "vector_math_avx512_blocks.h"

// Lanes q of the block starting at column ow0 whose column ow0 + q + shift lies in [0, width) (im2col: output column
// to input column; col2im: input column to output column).
INLINE __mmask16 inside_lanes(long ow0, long shift, long width) {
    const long first = -shift - ow0, last = width - shift - ow0;  // valid q: first ≤ q < last
    __mmask16 below = last >= 16 ? (__mmask16)0xFFFF : last <= 0 ? 0 : (__mmask16)((1u << last) - 1);
    __mmask16 above = first <= 0 ? (__mmask16)0xFFFF : first >= 16 ? 0 : (__mmask16)~((1u << first) - 1);
    return below & above;
}

AVX512 void synapse_im2col_plane_avx512(const float *plane, long height, long width, long kh, long kw, long padTop,
                                        long padLeft, long outH, long outW, float *col, long ld) {
    for (long ki = 0; ki < kh; ki++) {
        for (long kj = 0; kj < kw; kj++) {
            float *dst = col + (ki * kw + kj) * ld;
            const long shift = kj - padLeft;
            for (long oh = 0; oh < outH; oh++) {
                const long ih = oh + ki - padTop;
                const int rowInside = ih >= 0 && ih < height;
                const float *src = rowInside ? plane + ih * width + shift : plane;
                for (long ow0 = 0; ow0 < outW; ow0 += 16) {
                    const __mmask16 store = lanes_from((size_t)ow0, (size_t)outW);
                    // Masked-off lanes are not read, so positions outside the plane never are.
                    const __mmask16 load = rowInside ? store & inside_lanes(ow0, shift, width) : 0;
                    _mm512_mask_storeu_ps(dst + oh * outW + ow0, store, _mm512_maskz_loadu_ps(load, src + ow0));
                }
            }
        }
    }
}

// Gathered rather than scattered: each 16-float block of an input row sums its taps in registers and is stored once.
// (Scattering tap after tap stored shifted, overlapping masked runs and read them straight back, which stalls store
// forwarding; it was slower than the scalar loops.) Each element still adds its taps in (ki, kj) order from zero,
// as the Swift loops do, and a tap outside the output adds +0 (a sum started at +0 is never −0, so that changes
// nothing).
AVX512 void synapse_col2im_plane_avx512(const float *col, long ld, long height, long width, long kh, long kw,
                                        long padTop, long padLeft, long outH, long outW, float *plane) {
    for (long ih = 0; ih < height; ih++) {
        for (long iw0 = 0; iw0 < width; iw0 += 16) {
            const __mmask16 lanes = lanes_from((size_t)iw0, (size_t)width);
            __m512 sum = _mm512_setzero_ps();
            for (long ki = 0; ki < kh; ki++) {
                const long oh = ih - ki + padTop;
                if (oh < 0 || oh >= outH) continue;
                for (long kj = 0; kj < kw; kj++) {
                    // Input column iw comes from output column iw − kj + padLeft of tap (ki, kj).
                    const long shift = padLeft - kj;
                    const __mmask16 m = lanes & inside_lanes(iw0, shift, outW);
                    const float *src = col + (ki * kw + kj) * ld + oh * outW + shift;
                    sum = _mm512_add_ps(sum, _mm512_maskz_loadu_ps(m, src + iw0));
                }
            }
            _mm512_mask_storeu_ps(plane + ih * width + iw0, lanes, sum);
        }
    }
}

#else

// Not called off x86-64 (`synapse_cpu_has_avx512()` is 0); defined so the package links everywhere.
void synapse_im2col_plane_avx512(const float *plane, long height, long width, long kh, long kw, long padTop,
                                 long padLeft, long outH, long outW, float *col, long ld) {
    (void)plane; (void)height; (void)width; (void)kh; (void)kw; (void)padTop; (void)padLeft; (void)outH; (void)outW;
    (void)col; (void)ld;
}
void synapse_col2im_plane_avx512(const float *col, long ld, long height, long width, long kh, long kw, long padTop,
                                 long padLeft, long outH, long outW, float *plane) {
    (void)col; (void)ld; (void)height; (void)width; (void)kh; (void)kw; (void)padTop; (void)padLeft; (void)outH;
    (void)outW; (void)plane;
}

#endif
