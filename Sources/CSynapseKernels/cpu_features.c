#include "synapse_cpu.h"

#if defined(__x86_64__)
#include <cpuid.h>

// CPUID leaf 7 bits; the OS check reads XCR0, since a CPU with AVX-512 under an OS that does not save the zmm
// registers must not run the kernels.
static int avx512_features(unsigned *ecx7) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 27))) return 0;  // OSXSAVE: xgetbv is allowed
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    if ((lo & 0xE6) != 0xE6) return 0;  // SSE, AVX, opmask and both halves of the zmm registers are saved
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    int f = (b >> 16) & 1, dq = (b >> 17) & 1, bw = (b >> 30) & 1, vl = (b >> 31) & 1;
    *ecx7 = c;
    return f && dq && bw && vl;
}

int synapse_cpu_has_avx2(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
    int osxsave = (c >> 27) & 1, fma = (c >> 12) & 1, f16c = (c >> 29) & 1;
    if (!osxsave || !fma || !f16c) return 0;
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    if ((lo & 0x6) != 0x6) return 0;  // SSE and AVX state saved
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    return (b >> 5) & 1;
}

int synapse_cpu_has_avx512(void) {
    unsigned c = 0;
    return avx512_features(&c);
}

int synapse_cpu_has_avx512_vnni(void) {
    unsigned c = 0;
    return avx512_features(&c) && ((c >> 11) & 1);
}

// AVX512_BF16 is CPUID leaf 7, sub-leaf 1, EAX bit 5 (Cooper Lake, Sapphire Rapids, Zen 4).
int synapse_cpu_has_avx512_bf16(void) {
    unsigned c = 0, a, b, cc, d;
    if (!avx512_features(&c)) return 0;
    if (!__get_cpuid_count(7, 1, &a, &b, &cc, &d)) return 0;
    return (a >> 5) & 1;
}

#else

int synapse_cpu_has_avx512_bf16(void) { return 0; }
int synapse_cpu_has_avx2(void) { return 0; }
int synapse_cpu_has_avx512(void) { return 0; }
int synapse_cpu_has_avx512_vnni(void) { return 0; }

#endif
