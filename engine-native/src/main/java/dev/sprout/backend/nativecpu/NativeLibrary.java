package dev.sprout.backend.nativecpu;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;

/**
 * Loads the kernel library once, after checking that this machine can run it, and remembers why not if it cannot
 * (DESIGN: probe JavaCPP classes once, in a holder: the first failure is an {@link UnsatisfiedLinkError}, later
 * touches a bare {@link NoClassDefFoundError}).
 *
 * <p>Order: platform (the library is built for linux-x86_64 only) → CPU features ({@link CpuFeatures}: AVX2 and FMA
 * are needed to load the library at all, since it is compiled with {@code -mavx2 -mfma}) → {@code Loader.load} of
 * {@link NativeKernels} (missing or unloadable {@code libjniNativeKernels.so}) → which ISA variants both the library
 * and the CPU support.
 */
final class NativeLibrary {
    private NativeLibrary() {
    }

    /** What loading found. {@code runnable} is empty unless {@code loaded}. */
    record Status(boolean loaded, String detail, CpuFeatures cpu, List<Isa> runnable) {
        Status {
            runnable = Collections.unmodifiableList(new ArrayList<>(runnable));
        }
    }

    private static final class Holder {
        static final Status STATUS = load();
    }

    static Status status() {
        return Holder.STATUS;
    }

    private static Status load() {
        String os = System.getProperty("os.name", "?");
        String arch = System.getProperty("os.arch", "?");
        if (!os.toLowerCase(Locale.ROOT).startsWith("linux") || !(arch.equals("amd64") || arch.equals("x86_64"))) {
            return new Status(false, "the native library is built for linux-x86_64 only; this JVM runs on " + os + "/"
                    + arch, null, List.of());
        }
        CpuFeatures cpu = CpuFeatures.probe();
        List<CpuFeatures.Feature> missing = cpu.missing(Isa.AVX2.required());
        if (!missing.isEmpty()) {
            return new Status(false, "CPU lacks " + missing + " (the native kernels need AVX2 and FMA); CPU flags: " + cpu,
                    cpu, List.of());
        }
        int compiled;
        try {
            compiled = NativeKernels.isaCompiled();
        } catch (Throwable t) { // UnsatisfiedLinkError: libjniNativeKernels.so missing or not loadable
            return new Status(false, "libjniNativeKernels.so failed to load (" + t + "); it is built by the JavaCPP plugin"
                    + " with g++ when engine-native is packaged: ./mvnw -pl engine-native -am package", cpu, List.of());
        }
        List<Isa> runnable = new ArrayList<>();
        for (Isa isa : Isa.values()) {
            if ((compiled & isa.code) != 0 && cpu.missing(isa.required()).isEmpty()) {
                runnable.add(isa);
            }
        }
        return new Status(true, "libjniNativeKernels loaded; CPU: " + cpu, cpu, runnable);
    }
}
