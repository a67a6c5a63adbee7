package dev.sprout.backend.java;

import java.lang.System.Logger.Level;
import java.util.Optional;

/**
 * Decides once whether the Vector API kernels can run, without touching a Vector API class itself (holder
 * pattern: those live in {@link VectorKernels}, loaded only after this check passed).
 *
 * <p>The Vector API is an incubator module: a class-path program reads it only when the JVM was started with
 * {@code --add-modules jdk.incubator.vector}. Without it (or with {@code -Dsprout.vector=false}) gemm falls back
 * to the scalar blocked kernel and this class logs one line saying how to enable the fast path.
 */
final class VectorProbe {
    /** System property that turns the Vector API kernels off ({@code -Dsprout.vector=false}), for comparisons. */
    static final String PROPERTY = "sprout.vector";
    static final String MODULE = "jdk.incubator.vector";

    private static final String REASON;

    static {
        String reason = null;
        if ("false".equalsIgnoreCase(System.getProperty(PROPERTY, "true").trim())) {
            reason = "disabled with -D" + PROPERTY + "=false";
        } else {
            Optional<Module> m = ModuleLayer.boot().findModule(MODULE);
            if (m.isEmpty()) {
                reason = "module " + MODULE + " is not in the boot layer; start the JVM with --add-modules " + MODULE;
            } else if (!VectorProbe.class.getModule().canRead(m.get())) {
                reason = "module " + MODULE + " is not readable from " + VectorProbe.class.getModule()
                        + "; add 'requires " + MODULE + "' or start the JVM with --add-modules " + MODULE;
            } else {
                try {
                    VectorKernels.selfTest();
                } catch (Throwable t) {
                    reason = "the Vector API kernels failed to load (" + t + ")";
                }
            }
        }
        REASON = reason;
        if (reason != null) {
            System.getLogger(VectorProbe.class.getPackageName()).log(Level.WARNING,
                    "Sprout gemm: Vector API kernels off: " + reason + ". Using the scalar blocked kernel (about 15x slower).");
        }
    }

    private VectorProbe() {
    }

    static boolean available() {
        return REASON == null;
    }

    /** Why the Vector API kernels are off, or {@code null} when they are on. */
    static String reason() {
        return REASON;
    }
}
