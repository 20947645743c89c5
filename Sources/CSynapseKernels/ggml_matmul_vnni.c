#include "synapse_ggml.h"

#if defined(__x86_64__)
#define TARGET __attribute__((target("avx2,fma,f16c,avx512f,avx512vl,avx512bw,avx512vnni")))
#define DPWSSD(acc, w0, a0, w1, a1) _mm256_dpwssd_epi32(_mm256_dpwssd_epi32((acc), (w0), (a0)), (w1), (a1))
#define KERNEL_NAME synapse_ggml_matmul_vnni
#include "ggml_matmul_body.h"
#else
void synapse_ggml_matmul_vnni(int type, const uint8_t *weight, size_t rowBytes, size_t firstRow, size_t lastRow,
                              size_t blocks, const synapse_q16_block *x, size_t tokens, size_t xStride, float *out,
                              size_t ldo, int accumulate) {}
#endif
