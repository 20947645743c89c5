import CSynapseKernels

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Which instruction sets the C kernels in CSynapseKernels may use on this machine, checked once.
///
/// Swift compiles the package for the baseline x86-64 (SSE2) unless every user passes `unsafeFlags`, and cannot pick
/// an instruction set per function. The few kernels where that costs the most (int8 products, GELU, exp) are C
/// functions with a target attribute, called only when the CPU has the instructions; the Swift kernels remain the
/// path everywhere else and on other CPUs.
///
/// `Runtime.kernels = .portable` (or `SYNAPSE_KERNELS=portable` in the environment) turns the C kernels off, to
/// compare the two paths or rule them out.
enum CPUFeatures {
    private static let hasAVX512 = synapse_cpu_has_avx512() != 0
    private static let hasAVX512VNNI = synapse_cpu_has_avx512_vnni() != 0
    private static let hasAVX2 = synapse_cpu_has_avx2() != 0
    private static let hasAVX512BF16 = synapse_cpu_has_avx512_bf16() != 0

    /// AVX-512 F/DQ/BW/VL, with the zmm state saved by the operating system.
    static var avx512: Bool { Runtime.kernels == .best && hasAVX512 }

    /// AVX-512 VNNI (int8 dot products) on top of `avx512`.
    static var avx512VNNI: Bool { Runtime.kernels == .best && hasAVX512VNNI }

    /// AVX512_BF16 (`vdpbf16ps`: bfloat16 pairs into Float32 sums) on top of `avx512`: Cooper Lake, Sapphire Rapids,
    /// Zen 4. Not a kernel switch alone: the BF16 products also need `Runtime.matmulPrecision = .bfloat16`.
    static var avx512BF16: Bool { Runtime.kernels == .best && hasAVX512BF16 }

    /// Whether the CPU has AVX512_BF16, whatever `Runtime.kernels` says.
    static var cpuHasAVX512BF16: Bool { hasAVX512BF16 }

    /// AVX2 with FMA and F16C, with the ymm state saved (every x86-64 CPU of the last decade).
    static var avx2: Bool { Runtime.kernels == .best && hasAVX2 }
}
