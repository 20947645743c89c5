#ifndef SYNAPSE_CONV_H
#define SYNAPSE_CONV_H

// AVX-512 versions of the stride-1, dilation-1 case of `Kernels.im2col` and `Kernels.col2im`, one (image, channel)
// plane at a time (call only when `synapse_cpu_has_avx512()` is 1). A row of the column matrix is a run of outW
// floats shifted from an input row, so each is one or two masked loads and stores (rows are often 11–26 floats),
// with padding coming from the masked-off lanes. The Swift loops are the reference: the same values, and col2im
// adds in the same order, so both give the same bits.

#ifdef __cplusplus
extern "C" {
#endif

/// For kernel taps (ki, kj), row (ki·kw + kj) of `col` (rows `ld` floats apart) gets x[oh + ki − padTop, ow + kj −
/// padLeft] for every output position (oh, ow), zero where that falls outside the height × width plane.
void synapse_im2col_plane_avx512(const float *plane, long height, long width, long kh, long kw, long padTop,
                                 long padLeft, long outH, long outW, float *col, long ld);

/// The adjoint: the plane is overwritten with the sum over taps of the column rows scattered back.
void synapse_col2im_plane_avx512(const float *col, long ld, long height, long width, long kh, long kw, long padTop,
                                 long padLeft, long outH, long outW, float *plane);

#ifdef __cplusplus
}
#endif

#endif
