#ifndef SYNAPSE_CPU_H
#define SYNAPSE_CPU_H

#ifdef __cplusplus
extern "C" {
#endif

/// 1 when the CPU has AVX-512 F/BW/VL/DQ and the operating system saves the zmm registers, else 0 (always 0 off
/// x86-64).
int synapse_cpu_has_avx512(void);

/// 1 when the CPU has AVX2, FMA and F16C and the operating system saves the ymm registers, else 0.
int synapse_cpu_has_avx2(void);

/// 1 when `synapse_cpu_has_avx512()` and the CPU also has AVX-512 VNNI (int8 dot products), else 0.
int synapse_cpu_has_avx512_vnni(void);

/// 1 when `synapse_cpu_has_avx512()` and the CPU also has AVX512_BF16 (`vdpbf16ps`), else 0.
int synapse_cpu_has_avx512_bf16(void);

#ifdef __cplusplus
}
#endif

#endif
