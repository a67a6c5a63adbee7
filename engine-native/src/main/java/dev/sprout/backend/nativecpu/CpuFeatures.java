package dev.sprout.backend.nativecpu;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Which x86 instruction-set extensions this CPU has (and the OS has enabled), found before any code that uses them
 * is loaded: first through {@link CpuId} (a baseline-compiled library calling GCC's {@code __builtin_cpu_supports},
 * which also checks the OS's XSAVE state), else from the {@code flags} line of {@code /proc/cpuinfo}. Where neither
 * answers, the set is empty and the native backend reports why.
 */
public record CpuFeatures(Set<Feature> features, String source) {

    /** The extensions the native kernels care about, with their bit in {@code sprout_cpuid.h} and /proc/cpuinfo name. */
    public enum Feature {
        SSE42(1 << 0, "sse4_2"),
        AVX(1 << 1, "avx"),
        AVX2(1 << 2, "avx2"),
        FMA(1 << 3, "fma"),
        AVX512F(1 << 4, "avx512f"),
        AVX512DQ(1 << 5, "avx512dq"),
        AVX512BW(1 << 6, "avx512bw"),
        AVX512VL(1 << 7, "avx512vl"),
        F16C(1 << 8, "f16c"),
        BMI2(1 << 9, "bmi2");

        final int bit;
        final String cpuinfoName;

        Feature(int bit, String cpuinfoName) {
            this.bit = bit;
            this.cpuinfoName = cpuinfoName;
        }
    }

    public CpuFeatures {
        features = Collections.unmodifiableSet(features.isEmpty() ? EnumSet.noneOf(Feature.class) : EnumSet.copyOf(features));
    }

    public boolean has(Feature f) {
        return features.contains(f);
    }

    /** The features of {@code required} this CPU lacks (empty if it has them all). */
    public List<Feature> missing(Set<Feature> required) {
        List<Feature> out = new ArrayList<>();
        for (Feature f : required) {
            if (!features.contains(f)) {
                out.add(f);
            }
        }
        return out;
    }

    /** Features from the bit set that {@code sprout::cpuFeatures()} returns. */
    static CpuFeatures fromBits(int bits, String source) {
        EnumSet<Feature> s = EnumSet.noneOf(Feature.class);
        for (Feature f : Feature.values()) {
            if ((bits & f.bit) != 0) {
                s.add(f);
            }
        }
        return new CpuFeatures(s, source);
    }

    /** Features named in a {@code /proc/cpuinfo} {@code flags} line (the first one in the text). */
    static CpuFeatures fromCpuinfo(String cpuinfo, String source) {
        EnumSet<Feature> s = EnumSet.noneOf(Feature.class);
        for (String line : cpuinfo.split("\n")) {
            if (line.startsWith("flags")) {
                int colon = line.indexOf(':');
                Set<String> flags = Set.of(line.substring(colon + 1).trim().toLowerCase(Locale.ROOT).split("\\s+"));
                for (Feature f : Feature.values()) {
                    if (flags.contains(f.cpuinfoName)) {
                        s.add(f);
                    }
                }
                break;
            }
        }
        return new CpuFeatures(s, source);
    }

    /** Probes this machine: the CpuId library if it loads, else /proc/cpuinfo, else nothing (with the reasons). */
    static CpuFeatures probe() {
        String whyNotNative;
        try {
            return fromBits(CpuId.cpuFeatures(), "cpuid (libjniCpuId)");
        } catch (Throwable t) { // UnsatisfiedLinkError first, NoClassDefFoundError on later touches
            whyNotNative = "libjniCpuId did not load (" + t + ")";
        }
        Path p = Path.of("/proc/cpuinfo");
        try {
            return fromCpuinfo(Files.readString(p), "/proc/cpuinfo; " + whyNotNative);
        } catch (IOException | RuntimeException e) {
            return new CpuFeatures(EnumSet.noneOf(Feature.class), whyNotNative + "; /proc/cpuinfo unreadable (" + e + ")");
        }
    }

    @Override
    public String toString() {
        List<String> names = new ArrayList<>();
        features.forEach(f -> names.add(f.cpuinfoName));
        return String.join(" ", names) + " (from " + source + ")";
    }
}
