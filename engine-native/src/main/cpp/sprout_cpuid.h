// sprout_cpuid.h - CPU feature probe for the Sprout native backend.
//
// Compiled WITHOUT any ISA extension flags (JavaCPP's default -march=x86-64), into its own small library
// (libjniCpuId.so), so that it can be loaded and called on any x86-64 CPU, before the kernel library, which
// needs AVX2 and FMA, is loaded. GCC's __builtin_cpu_supports also checks that the operating system saves the
// wide registers (XGETBV), so a feature reported here is one that can actually be used.
#pragma once

namespace sprout {

// Bits of cpuFeatures(); keep in sync with CpuFeatures.java.
enum CpuFeatureBits {
    SPROUT_CPU_SSE42 = 1 << 0,
    SPROUT_CPU_AVX = 1 << 1,
    SPROUT_CPU_AVX2 = 1 << 2,
    SPROUT_CPU_FMA = 1 << 3,
    SPROUT_CPU_AVX512F = 1 << 4,
    SPROUT_CPU_AVX512DQ = 1 << 5,
    SPROUT_CPU_AVX512BW = 1 << 6,
    SPROUT_CPU_AVX512VL = 1 << 7,
    SPROUT_CPU_F16C = 1 << 8,
    SPROUT_CPU_BMI2 = 1 << 9
};

inline int cpuFeatures() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    int f = 0;
    if (__builtin_cpu_supports("sse4.2")) f |= SPROUT_CPU_SSE42;
    if (__builtin_cpu_supports("avx")) f |= SPROUT_CPU_AVX;
    if (__builtin_cpu_supports("avx2")) f |= SPROUT_CPU_AVX2;
    if (__builtin_cpu_supports("fma")) f |= SPROUT_CPU_FMA;
    if (__builtin_cpu_supports("avx512f")) f |= SPROUT_CPU_AVX512F;
    if (__builtin_cpu_supports("avx512dq")) f |= SPROUT_CPU_AVX512DQ;
    if (__builtin_cpu_supports("avx512bw")) f |= SPROUT_CPU_AVX512BW;
    if (__builtin_cpu_supports("avx512vl")) f |= SPROUT_CPU_AVX512VL;
    if (__builtin_cpu_supports("f16c")) f |= SPROUT_CPU_F16C;
    if (__builtin_cpu_supports("bmi2")) f |= SPROUT_CPU_BMI2;
    return f;
#else
    return 0;
#endif
}

} // namespace sprout
