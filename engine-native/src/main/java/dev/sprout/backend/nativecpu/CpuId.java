package dev.sprout.backend.nativecpu;

import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.annotation.Namespace;
import org.bytedeco.javacpp.annotation.Platform;

/**
 * The CPU probe: a tiny JavaCPP library ({@code libjniCpuId.so}, {@code src/main/cpp/sprout_cpuid.h}) compiled with
 * JavaCPP's baseline flags only ({@code -march=x86-64}), so it loads and runs on any x86-64 CPU. It answers which
 * instruction-set extensions the CPU has and the OS has enabled, before the kernel library (which needs AVX2 and
 * FMA) may be loaded. Touch it only through {@link CpuFeatures}; loading it can fail (UnsatisfiedLinkError).
 */
@Platform(include = "sprout_cpuid.h", compiler = "cpp11")
@Namespace("sprout")
final class CpuId {
    static {
        Loader.load();
    }

    private CpuId() {
    }

    /** Bit set of {@code CpuFeatureBits} ({@code sprout_cpuid.h}, mirrored in {@link CpuFeatures}). */
    static native int cpuFeatures();
}
