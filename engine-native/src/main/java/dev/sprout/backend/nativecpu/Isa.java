package dev.sprout.backend.nativecpu;

import java.util.EnumSet;
import java.util.Set;

import dev.sprout.backend.nativecpu.CpuFeatures.Feature;


/**
 * The instruction-set variants compiled into the kernel library, and what each needs from the CPU. The library as a
 * whole is compiled with {@code -mavx2 -mfma} (so loading it needs {@link #AVX2}'s features); the AVX-512 kernels
 * are a second copy under {@code #pragma GCC target("avx2,fma,avx512f,avx512dq,avx512bw,avx512vl")}.
 */
public enum Isa {
    /** 256-bit kernels: f32 gemm tile 6 x 16, f64 6 x 8. */
    AVX2(256, "avx2", EnumSet.of(Feature.AVX, Feature.AVX2, Feature.FMA)),
    /** 512-bit kernels: f32 gemm tile 14 x 32, f64 14 x 16. */
    AVX512(512, "avx512", EnumSet.of(Feature.AVX, Feature.AVX2, Feature.FMA, Feature.AVX512F, Feature.AVX512DQ,
            Feature.AVX512BW, Feature.AVX512VL));

    /** The code the C++ entry points dispatch on. */
    final int code;
    private final String label;
    private final Set<CpuFeatures.Feature> required;

    Isa(int code, String label, Set<CpuFeatures.Feature> required) {
        this.code = code;
        this.label = label;
        this.required = required;
    }

    /** What the CPU must have to run this variant. */
    public Set<CpuFeatures.Feature> required() {
        return EnumSet.copyOf(required);
    }

    /** The lower-case name, as {@code -Dsprout.native.isa} takes it. */
    public String label() {
        return label;
    }

    /** The variant named {@code label} ({@code avx2}, {@code avx512}). */
    public static Isa byLabel(String label) {
        for (Isa i : values()) {
            if (i.label.equalsIgnoreCase(label.trim())) {
                return i;
            }
        }
        throw new IllegalArgumentException("unknown native ISA variant '" + label + "'; known: avx2, avx512");
    }
}
