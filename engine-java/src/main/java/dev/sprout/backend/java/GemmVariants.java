package dev.sprout.backend.java;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.NoSuchElementException;

/**
 * The registry of gemm strategies (DESIGN habit 1). A test runs every entry of {@link #all()} against the
 * reference and asserts how many it checked.
 *
 * <ul>
 *   <li>{@value #NAIVE}: the plain triple loop, the reference; never threaded.</li>
 *   <li>{@value #BLOCKED_SCALAR}: packed, cache-blocked, scalar i-k-j micro-tile ({@link ScalarKernelF32}); the
 *       fallback when the Vector API is off.</li>
 *   <li>{@value #VECTOR_PACKED}: packed, cache-blocked, Vector API register tiles ({@link VectorKernelF32});
 *       present only when {@code jdk.incubator.vector} is readable. The production kernel when present.</li>
 *   <li>{@value #PARALLEL_PREFIX}{@code <kernel>}: the production kernel, always split across threads (batch
 *       items, then row or column ranges of 8) whatever the size, so small test products exercise the threaded
 *       path.</li>
 * </ul>
 * The variants other than {@value #NAIVE} split across threads when a piece holds about 1 ms of work.
 */
public final class GemmVariants {
    public static final String NAIVE = "naive";
    public static final String BLOCKED_SCALAR = "blockedScalar";
    public static final String VECTOR_PACKED = "vectorPacked";
    public static final String PARALLEL_PREFIX = "parallel:";

    /** Row/column granule of a split product: a multiple of every tile's MR and NR. */
    static final int GRANULE = 64;

    private static final GemmVariant BLOCKED = new GemmVariant(BLOCKED_SCALAR, new PackedGemm(BLOCKED_SCALAR, 7e9,
            new PackedGemmF32(new ScalarKernelF32()), new PackedGemmF64(new ScalarKernelF64())), false, GRANULE);
    private static final GemmVariant BEST = VectorProbe.available()
            ? new GemmVariant(VECTOR_PACKED, VectorKernels.PACKED, false, GRANULE)
            : BLOCKED;
    private static final List<GemmVariant> ALL;

    static {
        List<GemmVariant> all = new ArrayList<>();
        all.add(new GemmVariant(NAIVE, NaiveGemm.INSTANCE, false, GRANULE));
        all.add(BLOCKED);
        if (BEST != BLOCKED) {
            all.add(BEST);
        }
        all.add(new GemmVariant(PARALLEL_PREFIX + BEST.name(), BEST.kernel(), true, 8));
        ALL = Collections.unmodifiableList(all);
    }

    private GemmVariants() {
    }

    /** Every variant this JVM can run ({@value #VECTOR_PACKED} only with the Vector API). */
    public static List<GemmVariant> all() {
        return ALL;
    }

    /** The variant named {@code name}. */
    public static GemmVariant get(String name) {
        for (GemmVariant v : ALL) {
            if (v.name().equals(name)) {
                return v;
            }
        }
        throw new NoSuchElementException("no gemm variant '" + name + "' in this JVM; have " + ALL);
    }

    /** The production variant: {@value #VECTOR_PACKED} when the Vector API is on, else {@value #BLOCKED_SCALAR}. */
    public static GemmVariant best() {
        return BEST;
    }
}
