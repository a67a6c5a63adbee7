package dev.sprout.backend.java;

import dev.sprout.backend.GemmShape.Trans;
import dev.sprout.backend.java.GemmCase.Type;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Every registered gemm variant (and two tiny-block configurations that cross every cache-block boundary at small
 * sizes) against the f64 reference, on sizes straddling lanes, tiles and blocks, all transposes, alpha/beta,
 * padded leading dimensions, offsets, batches and broadcast operands; f32, f64 and c64.
 */
class GemmVariantsTest {
    private static final int[] SIZES = {1, 7, 8, 9, 15, 16, 17, 31, 33, 63, 64, 65, 127, 129, 255, 257};
    private static final Trans[] NT = {Trans.N, Trans.T};
    private static final double[][] ALPHA_BETA = {{1, 0}, {0.5, 0.25}, {-1.5, 1}, {2, -0.75}};

    @BeforeAll
    static void warm() {
        JavaGemm.warmUp();
    }

    /** The registry plus tiny-block configurations of the packed kernels. */
    private static List<GemmVariant> variants() {
        List<GemmVariant> all = new ArrayList<>(GemmVariants.all());
        all.add(new GemmVariant("blockedScalar/tinyBlocks", new PackedGemm("blockedScalar/tinyBlocks", 1e10,
                new PackedGemmF32(new ScalarKernelF32(), 12, 10, 40), new PackedGemmF64(new ScalarKernelF64(), 12, 10, 40)),
                false, 64));
        if (JavaGemm.vectorized()) {
            all.add(new GemmVariant("vectorPacked/tinyBlocks", VectorKernels.blocked(16, 24, 64), false, 64));
        }
        return all;
    }

    private static List<GemmCase> cases() {
        List<GemmCase> cases = new ArrayList<>();
        long seed = 1;
        int ab = 0;
        for (int s : SIZES) {
            for (Type type : Type.values()) {
                Trans[][] tr = type == Type.C64
                        ? (s <= 65 ? new Trans[][]{{Trans.N, Trans.N}, {Trans.T, Trans.H}, {Trans.H, Trans.T}, {Trans.N, Trans.H},
                                {Trans.H, Trans.N}}
                                : s <= 129 ? new Trans[][]{{Trans.N, Trans.N}, {Trans.H, Trans.H}} : new Trans[][]{{Trans.N, Trans.T}})
                        : new Trans[][]{{Trans.N, Trans.N}, {Trans.N, Trans.T}, {Trans.T, Trans.N}, {Trans.T, Trans.T}};
                for (Trans[] t : tr) {
                    double[] abv = ALPHA_BETA[ab++ % ALPHA_BETA.length];
                    cases.add(new GemmCase(type, t[0], t[1], 1, s, s, s, false, false, s % 3, abv[0], 0.25, abv[1], -0.5, seed++));
                }
            }
        }
        // rectangular, thin and zero-size shapes; k straddling KC = 256 twice
        int[][] rect = {{1, 257, 33}, {257, 1, 65}, {33, 65, 1}, {65, 33, 129}, {129, 17, 255}, {7, 300, 9}, {300, 7, 257},
                {17, 129, 513}, {0, 5, 7}, {5, 0, 7}, {5, 7, 0}, {1, 1, 1}, {2, 3, 4}, {9, 31, 600}};
        for (int[] d : rect) {
            for (Type type : Type.values()) {
                for (Trans ta : NT) {
                    for (Trans tb : NT) {
                        Trans tA = type == Type.C64 && ta == Trans.T && d[0] % 2 == 1 ? Trans.H : ta;
                        double[] abv = ALPHA_BETA[ab++ % ALPHA_BETA.length];
                        cases.add(new GemmCase(type, tA, tb, 1, d[0], d[1], d[2], false, false, 1, abv[0], -0.75, abv[1], 0.5,
                                seed++));
                    }
                }
            }
        }
        // batches: plain, A broadcast (stride 0), B broadcast, and one large enough to be split across items
        for (Type type : Type.values()) {
            cases.add(new GemmCase(type, Trans.N, Trans.T, 3, 17, 33, 9, false, false, 2, 1, 0, 0, 0, seed++));
            cases.add(new GemmCase(type, Trans.T, Trans.N, 4, 9, 40, 65, true, false, 0, 0.5, 1, 1, 0, seed++));
            cases.add(new GemmCase(type, Trans.N, Trans.N, 3, 31, 8, 20, false, true, 1, -1, 0.5, 0.5, 0.25, seed++));
            cases.add(new GemmCase(type, Trans.T, Trans.T, 2, 130, 70, 90, true, false, 3, 1.5, 0, -0.5, 0, seed++));
        }
        return cases;
    }

    @Test
    void everyVariantMatchesTheReference() {
        List<GemmVariant> variants = variants();
        List<GemmCase> cases = cases();
        Set<String> checked = new LinkedHashSet<>();
        int runs = 0;
        for (GemmCase cs : cases) {
            for (GemmVariant v : variants) {
                String bad = cs.mismatch(cs.run(v, 2));
                if (bad != null) {
                    fail(v.name() + " on " + cs + ": " + bad);
                }
                checked.add(v.name());
                runs++;
            }
        }
        int registered = JavaGemm.vectorized() ? 4 : 3;
        assertEquals(registered, GemmVariants.all().size(), "registered variants: " + GemmVariants.all());
        assertEquals(registered + (JavaGemm.vectorized() ? 2 : 1), checked.size(), "variants checked: " + checked);
        for (GemmVariant v : GemmVariants.all()) {
            assertTrue(checked.contains(v.name()), v.name() + " was not checked");
        }
        assertEquals(cases.size() * variants.size(), runs);
    }

    @Test
    void registryNamesAndProductionChoice() {
        assertTrue(GemmVariants.all().stream().anyMatch(v -> v.name().equals(GemmVariants.NAIVE)));
        assertTrue(GemmVariants.all().stream().anyMatch(v -> v.name().equals(GemmVariants.BLOCKED_SCALAR)));
        assertEquals(JavaGemm.vectorized() ? GemmVariants.VECTOR_PACKED : GemmVariants.BLOCKED_SCALAR, GemmVariants.best().name());
        assertEquals(GemmVariants.PARALLEL_PREFIX + GemmVariants.best().name(),
                GemmVariants.all().get(GemmVariants.all().size() - 1).name());
        // the surefire JVM runs with --add-modules jdk.incubator.vector (sprout.jvmArgs)
        assertTrue(JavaGemm.vectorized(), JavaGemm.kernelDescription());
    }
}
