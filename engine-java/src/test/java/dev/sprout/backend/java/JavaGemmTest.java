package dev.sprout.backend.java;

import dev.sprout.backend.GemmShape;
import dev.sprout.backend.GemmShape.Trans;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Known answers (exact, small integers), BLAS corner cases and argument checks of the gemm entry points. */
class JavaGemmTest {
    @BeforeAll
    static void warm() {
        JavaGemm.warmUp();
    }

    @Test
    void knownAnswerSmallIntegersIsExactInEveryVariant() {
        // A = [[1,2,3],[4,5,6]], B = [[7,8],[9,10],[11,12]]: A B = [[58,64],[139,154]]
        float[] a = {1, 2, 3, 4, 5, 6};
        float[] b = {7, 8, 9, 10, 11, 12};
        float[] aT = {1, 4, 2, 5, 3, 6};
        float[] bT = {7, 9, 11, 8, 10, 12};
        for (GemmVariant v : GemmVariants.all()) {
            float[] c = {1, 1, 1, 1};
            v.sgemm(GemmShape.of(false, false, 2, 2, 3), 2f, a, 0, b, 0, -1f, c, 0, 1);
            assertArrayEquals(new float[]{115, 127, 277, 307}, c, v.name());
            c = new float[4];
            v.sgemm(GemmShape.of(true, true, 2, 2, 3), 1f, aT, 0, bT, 0, 0f, c, 0, 1);
            assertArrayEquals(new float[]{58, 64, 139, 154}, c, v.name() + " TT");
            double[] cd = new double[4];
            v.dgemm(GemmShape.of(false, true, 2, 2, 3), 1.0, toD(a), 0, toD(bT), 0, 0.0, cd, 0, 1);
            assertArrayEquals(new double[]{58, 64, 139, 154}, cd, v.name() + " f64");
            // (1+i)(2-i) = 3+i; with A^H: conj(1+i)(2-i) = (1-i)(2-i) = 1-3i
            float[] za = {1, 1};
            float[] zb = {2, -1};
            float[] zc = {5, 5};
            v.cgemm(GemmShape.of(false, false, 1, 1, 1), 1f, 0f, za, 0, zb, 0, 0f, 0f, zc, 0, 1);
            assertArrayEquals(new float[]{3, 1}, zc, v.name() + " c64");
            v.cgemm(GemmShape.of(false, false, 1, 1, 1).withTrans(Trans.H, Trans.N), 1f, 0f, za, 0, zb, 0, 0f, 1f, zc, 0, 1);
            // 1-3i + i*(3+i) = 1-3i + 3i - 1 = 0
            assertArrayEquals(new float[]{0, 0}, zc, v.name() + " c64 H, beta=i");
        }
    }

    @Test
    void knownAnswerLargerIntegerProductIsExact() {
        // integers small enough that every partial sum is exact in f32: the fast kernels must agree exactly
        int m = 37;
        int n = 45;
        int k = 300;
        float[] a = new float[m * k];
        float[] b = new float[k * n];
        for (int i = 0; i < a.length; i++) {
            a[i] = (i * 7 % 5) - 2;
        }
        for (int i = 0; i < b.length; i++) {
            b[i] = (i * 3 % 7) - 3;
        }
        float[] want = new float[m * n];
        GemmVariants.get(GemmVariants.NAIVE).sgemm(GemmShape.of(false, false, m, n, k), 1f, a, 0, b, 0, 0f, want, 0, 1);
        for (GemmVariant v : GemmVariants.all()) {
            float[] c = new float[m * n];
            v.sgemm(GemmShape.of(false, false, m, n, k), 1f, a, 0, b, 0, 0f, c, 0, 2);
            assertArrayEquals(want, c, v.name());
        }
    }

    @Test
    void betaZeroOverwritesNaNAndAlphaZeroOrKZeroDoNotReadInputs() {
        for (GemmVariant v : GemmVariants.all()) {
            float[] c = new float[70 * 70];
            Arrays.fill(c, Float.NaN);
            float[] a = new float[70 * 70];
            Arrays.fill(a, 1f);
            v.sgemm(GemmShape.of(false, false, 70, 70, 70), 1f, a, 0, a.clone(), 0, 0f, c, 0, 2);
            for (float x : c) {
                assertEquals(70f, x, v.name());
            }
            // alpha = 0: A and B full of NaN are not read; C = beta * C
            float[] nan = new float[16];
            Arrays.fill(nan, Float.NaN);
            float[] c2 = {1, 2, 3, 4};
            v.sgemm(GemmShape.of(false, false, 2, 2, 4), 0f, nan, 0, nan.clone(), 0, 2f, c2, 0, 1);
            assertArrayEquals(new float[]{2, 4, 6, 8}, c2, v.name());
            // k = 0: C = beta * C; beta = 0 clears NaN
            double[] cd = {Double.NaN, 3};
            v.dgemm(GemmShape.of(false, false, 1, 2, 0), 1.0, new double[0], 0, new double[0], 0, 0.0, cd, 0, 1);
            assertArrayEquals(new double[]{0, 0}, cd, v.name());
            float[] zc = {1, 2, Float.NaN, 0};
            v.cgemm(GemmShape.of(false, false, 1, 2, 0), 1f, 0f, new float[0], 0, new float[0], 0, 0f, 1f, zc, 0, 1);
            assertTrue(zc[0] == -2f && zc[1] == 1f && Float.isNaN(zc[2]), v.name() + " " + Arrays.toString(zc));
            v.cgemm(GemmShape.of(false, false, 1, 2, 0), 1f, 0f, new float[0], 0, new float[0], 0, 0f, 0f, zc, 0, 1);
            assertArrayEquals(new float[4], zc, v.name());
            // m = 0 and n = 0: nothing happens, even with empty arrays
            v.sgemm(GemmShape.of(false, false, 0, 3, 2), 1f, new float[0], 0, new float[6], 0, 0f, new float[0], 0, 1);
            v.sgemm(GemmShape.of(false, false, 3, 0, 2), 1f, new float[6], 0, new float[0], 0, 0f, new float[0], 0, 1);
        }
    }

    @Test
    void badShapesNameTheOperand() {
        GemmShape g = GemmShape.of(false, false, 4, 5, 6);
        float[] a = new float[24];
        float[] b = new float[30];
        float[] c = new float[20];
        IndexOutOfBoundsException e = assertThrows(IndexOutOfBoundsException.class,
                () -> JavaGemm.sgemm(g, 1f, new float[23], 0, b, 0, 0f, c, 0, 1));
        assertTrue(e.getMessage().contains("operand A"), e.getMessage());
        e = assertThrows(IndexOutOfBoundsException.class, () -> JavaGemm.sgemm(g, 1f, a, 0, b, 1, 0f, c, 0, 1));
        assertTrue(e.getMessage().contains("operand B"), e.getMessage());
        e = assertThrows(IndexOutOfBoundsException.class, () -> JavaGemm.sgemm(g, 1f, a, 0, b, 0, 0f, c, -1, 1));
        assertTrue(e.getMessage().contains("operand C"), e.getMessage());
        e = assertThrows(IndexOutOfBoundsException.class,
                () -> JavaGemm.dgemm(g, 1.0, new double[24], 0, new double[30], 0, 0.0, new double[19], 0, 1));
        assertTrue(e.getMessage().contains("operand C") && e.getMessage().startsWith("dgemm"), e.getMessage());
        // complex lengths count complex elements: 24 complex = 48 floats
        e = assertThrows(IndexOutOfBoundsException.class,
                () -> JavaGemm.cgemm(g, 1f, 0f, new float[47], 0, new float[60], 0, 0f, 0f, new float[40], 0, 1));
        assertTrue(e.getMessage().contains("operand A") && e.getMessage().startsWith("cgemm"), e.getMessage());
        // batch strides
        GemmShape batched = GemmShape.batched(false, false, 2, 4, 5, 6);
        e = assertThrows(IndexOutOfBoundsException.class, () -> JavaGemm.sgemm(batched, 1f, a, 0, new float[60], 0, 0f,
                new float[40], 0, 1));
        assertTrue(e.getMessage().contains("operand A"), e.getMessage());
        // leading dimensions and overlapping outputs are refused by the shape itself
        IllegalArgumentException ia = assertThrows(IllegalArgumentException.class,
                () -> new GemmShape(Trans.N, Trans.N, 4, 5, 6, 5, 5, 5, 1, 0, 0, 0));
        assertTrue(ia.getMessage().contains("lda=5"), ia.getMessage());
        NullPointerException npe = assertThrows(NullPointerException.class, () -> JavaGemm.sgemm(g, 1f, a, 0, null, 0, 0f, c, 0, 1));
        assertTrue(npe.getMessage().contains("operand B"), npe.getMessage());
    }

    @Test
    void outputOverlappingAnInputIsRefused() {
        float[] x = new float[100];
        GemmShape g = GemmShape.of(false, false, 4, 4, 4);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> JavaGemm.sgemm(g, 1f, x, 0, x, 50, 0f, x, 8, 1));
        assertTrue(e.getMessage().contains("C overlaps input A"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> JavaGemm.sgemm(g, 1f, x, 0, x, 50, 0f, x, 60, 1));
        assertTrue(e.getMessage().contains("C overlaps input B"), e.getMessage());
        // disjoint blocks of one array are fine, even when their extents interleave (column blocks of a 4x12 matrix)
        for (int i = 0; i < 48; i++) {
            x[i] = i % 5;
        }
        GemmShape cols = new GemmShape(Trans.N, Trans.N, 4, 4, 4, 12, 12, 12, 1, 0, 0, 0);
        float[] want = new float[100];
        System.arraycopy(x, 0, want, 0, 100);
        GemmVariants.get(GemmVariants.NAIVE).sgemm(cols, 1f, x.clone(), 0, x.clone(), 4, 0f, want, 8, 1);
        JavaGemm.sgemm(cols, 1f, x, 0, x, 4, 0f, x, 8, 1);
        assertArrayEquals(want, x);
    }

    @Test
    void warmUpMakesTheKernelFastAndIsDoneOnce() {
        Duration again = JavaGemm.warmUp();
        assertEquals(Duration.ZERO, again);
        int n = 128;
        float[] a = new float[n * n];
        float[] b = new float[n * n];
        float[] c = new float[n * n];
        Arrays.fill(a, 0.5f);
        Arrays.fill(b, 0.25f);
        GemmShape g = GemmShape.of(false, false, n, n, n);
        long[] t = new long[9];
        for (int r = 0; r < t.length; r++) {
            long t0 = System.nanoTime();
            JavaGemm.sgemm(g, 1f, a, 0, b, 0, 0f, c, 0, 1);
            t[r] = System.nanoTime() - t0;
        }
        Arrays.sort(t);
        // compiled: ~30-100 us (4.2 MFLOP); C1-compiled or interpreted Vector API: 7 ms to hundreds of ms
        assertTrue(t[t.length / 2] < 2_000_000L, "median 128^3 sgemm after warm-up took " + t[t.length / 2] / 1e6 + " ms");
        assertEquals(n * 0.5f * 0.25f, c[n * n - 1]);
    }

    private static double[] toD(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            d[i] = f[i];
        }
        return d;
    }
}
