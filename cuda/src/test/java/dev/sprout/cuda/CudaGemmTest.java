package dev.sprout.cuda;

import dev.sprout.backend.GemmShape;
import dev.sprout.backend.GemmShape.Trans;
import dev.sprout.backend.java.JavaBackend;
import dev.sprout.backend.java.JavaGemm;
import dev.sprout.tensor.Rng;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The CUDA matrix products ({@link CudaGemm}) against the Java reference ({@link JavaBackend}): every kernel
 * family on sizes that straddle the 64- and 128-wide tiles and the 8/16-deep k tiles, all transposes, padded
 * leading dimensions, aligned and unaligned offsets (the float4 and scalar kernels), batches (broadcast,
 * gaps, longer than one grid), beta = 0 over NaN, alpha = 0 / k = 0, exact known answers, and bad shapes that must
 * throw before any launch. Skipped (with the probe's reason) where no CUDA device is available.
 *
 * <p>Tolerances ({@link Tol}) grow with k: both sides' rounding errors are bounded by about
 * {@code k * eps * sum |products|}, and the magnitude {@code sum |alpha a b| + |beta c|} is computed per element
 * by the reference on absolute values. Besides C, every element outside the C matrices (padding, other data in the
 * buffer) must come back bit-identical: no kernel writes outside its matrices.
 */
class CudaGemmTest {

    /** Tolerance constants, all in one place. */
    static final class Tol {
        static final double EPS32 = Math.ulp(1.0f);
        static final double EPS64 = Math.ulp(1.0);
        /** sgemm (SIMT and general) and dgemm: this many eps per unit of k, times the magnitude. */
        static final double REAL_PER_K = 4;
        /** cgemm: four real products per complex one. */
        static final double COMPLEX_PER_K = 8;
        /**
         * TF32: each input rounded to nearest with a 10-bit mantissa (relative error 2^-11), so a product is off by
         * at most ~2^-10 relative, a sum by 2^-10 of its magnitude; 1.5e-3 leaves room, plus the fp32 term.
         */
        static final double TF32_REL = 1.5e-3;
        /** Absolute floor (all-zero magnitudes). */
        static final double FLOOR = 1e-30;

        private Tol() {
        }
    }

    /** Sizes that straddle the tiles (64 general, 128 fast) and the k tiles (8 SIMT, 16 TF32 / general). */
    static final int[] SIZES = {1, 7, 31, 64, 127, 128, 129, 255, 513};

    static final CudaGemm.Path[] PATHS = CudaGemm.Path.values();

    private static JavaBackend reference;

    private static CudaDevice device() {
        Assumptions.assumeTrue(CudaDevice.available(), CudaDevice::unavailableReason);
        return CudaDevice.shared();
    }

    /** The Java reference, warmed up once (its Vector API kernels are slow until C2 has compiled them). */
    private static synchronized JavaBackend ref() {
        if (reference == null) {
            JavaGemm.warmUp();
            reference = new JavaBackend(Math.max(1, Runtime.getRuntime().availableProcessors()));
        }
        return reference;
    }

    // ------------------------------------------------------------------------------------------ helpers

    static float[] randomF(Rng r, long n) {
        float[] x = new float[Math.toIntExact(n)];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) r.normal();
        }
        return x;
    }

    static double[] randomD(Rng r, long n) {
        double[] x = new double[Math.toIntExact(n)];
        for (int i = 0; i < x.length; i++) {
            x[i] = r.normal();
        }
        return x;
    }

    static float[] abs(float[] x) {
        float[] y = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            y[i] = Math.abs(x[i]);
        }
        return y;
    }

    static double[] abs(double[] x) {
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            y[i] = Math.abs(x[i]);
        }
        return y;
    }

    /** Complex modulus per element, as an interleaved array with zero imaginary parts. */
    static float[] cabs(float[] x) {
        float[] y = new float[x.length];
        for (int i = 0; i + 1 < x.length; i += 2) {
            y[i] = (float) Math.hypot(x[i], x[i + 1]);
        }
        return y;
    }

    /** Elements an operand spans, from offset 0 (offset included), at least 1. */
    static long extentA(GemmShape g, long off) {
        return Math.max(1, off + (g.batch() - 1) * g.strideA() + (long) g.storedRowsA() * g.lda());
    }

    static long extentB(GemmShape g, long off) {
        return Math.max(1, off + (g.batch() - 1) * g.strideB() + (long) g.storedRowsB() * g.ldb());
    }

    static long extentC(GemmShape g, long off) {
        return Math.max(1, off + (g.batch() - 1) * g.strideC() + (long) g.m() * g.ldc());
    }

    /** Whether element index i (in elements of the C buffer) belongs to some C matrix of the batch. */
    static boolean inC(GemmShape g, long cOff, long i) {
        for (int bt = 0; bt < g.batch(); bt++) {
            long rel = i - cOff - bt * g.strideC();
            if (rel >= 0 && rel < (long) g.m() * g.ldc() && rel % g.ldc() < g.n()) {
                return true;
            }
        }
        return false;
    }

    /** A mask of C's elements (batches that overlap nothing, so a flat loop suffices). */
    static boolean[] maskC(GemmShape g, long cOff, int len) {
        boolean[] in = new boolean[len];
        if (g.m() == 0 || g.n() == 0) {
            return in;
        }
        for (int bt = 0; bt < g.batch(); bt++) {
            for (int i = 0; i < g.m(); i++) {
                long row = cOff + bt * g.strideC() + (long) i * g.ldc();
                for (int j = 0; j < g.n(); j++) {
                    in[Math.toIntExact(row + j)] = true;
                }
            }
        }
        return in;
    }

    /**
     * Compares a device result with the reference: inside C within {@code tolPerK * max(1, k) * eps * mag +
     * rel * mag}, outside C bit-identical to the original.
     */
    static void compare(String what, GemmShape g, long cOff, float[] original, float[] expected, float[] mag,
                        float[] got, double tolPerK, double rel, int floatsPerElement) {
        boolean[] in = maskC(g, cOff, original.length / floatsPerElement);
        int k = Math.max(1, g.k());
        for (int i = 0; i < got.length; i++) {
            int e = i / floatsPerElement;
            if (in[e]) {
                double m = floatsPerElement == 2 ? mag[2 * e] : mag[i];
                double tol = (tolPerK * Tol.EPS32 * k + rel) * m + Tol.FLOOR;
                if (!(Math.abs(expected[i] - got[i]) <= tol)) {
                    fail(what + " " + g + ": element " + i + " expected " + expected[i] + " got " + got[i]
                            + " (tolerance " + tol + ")");
                }
            } else if (Float.floatToRawIntBits(original[i]) != Float.floatToRawIntBits(got[i])) {
                fail(what + " " + g + ": element " + i + " outside C changed from " + original[i] + " to " + got[i]);
            }
        }
    }

    static void compare(String what, GemmShape g, long cOff, double[] original, double[] expected, double[] mag,
                        double[] got) {
        boolean[] in = maskC(g, cOff, original.length);
        int k = Math.max(1, g.k());
        for (int i = 0; i < got.length; i++) {
            if (in[i]) {
                double tol = Tol.REAL_PER_K * Tol.EPS64 * k * mag[i] + Tol.FLOOR;
                if (!(Math.abs(expected[i] - got[i]) <= tol)) {
                    fail(what + " " + g + ": element " + i + " expected " + expected[i] + " got " + got[i]
                            + " (tolerance " + tol + ")");
                }
            } else if (Double.doubleToRawLongBits(original[i]) != Double.doubleToRawLongBits(got[i])) {
                fail(what + " " + g + ": element " + i + " outside C changed from " + original[i] + " to " + got[i]);
            }
        }
    }

    /** Runs one sgemm on the device along {@code path} on uploaded copies and returns the whole C buffer. */
    static float[] onDevice(CudaDevice d, CudaGemm.Path path, GemmShape g, float alpha, float[] a, long aOff,
                            float[] b, long bOff, float beta, float[] c, long cOff) {
        try (DeviceBuffer da = d.upload(a, 0, a.length);
             DeviceBuffer db = d.upload(b, 0, b.length);
             DeviceBuffer dc = d.upload(c, 0, c.length)) {
            CudaGemm.sgemm(d, path, g, alpha, da, aOff, db, bOff, beta, dc, cOff);
            float[] out = new float[c.length];
            d.download(dc, 0, out, 0, out.length);
            return out;
        }
    }

    static double rel(CudaGemm.Path p) {
        return p == CudaGemm.Path.TF32 ? Tol.TF32_REL : 0;
    }

    /**
     * One f32 case: random operands (C possibly NaN when beta = 0), the reference and its magnitudes once, then
     * every path on the device.
     */
    static int checkSgemm(CudaDevice d, Rng r, GemmShape g, long aOff, long bOff, long cOff, float alpha, float beta,
                          CudaGemm.Path... paths) {
        float[] a = randomF(r, extentA(g, aOff));
        float[] b = randomF(r, extentB(g, bOff));
        float[] c = randomF(r, extentC(g, cOff));
        if (beta == 0f) {
            Arrays.fill(c, Float.NaN); // must be overwritten inside C, kept outside
        }
        float[] expected = c.clone();
        ref().sgemm(g, alpha, a, (int) aOff, b, (int) bOff, beta, expected, (int) cOff);
        float[] mag = beta == 0f ? new float[c.length] : abs(c);
        ref().sgemm(g, Math.abs(alpha), abs(a), (int) aOff, abs(b), (int) bOff, Math.abs(beta), mag, (int) cOff);
        int checked = 0;
        for (CudaGemm.Path p : paths) {
            float[] got = onDevice(d, p, g, alpha, a, aOff, b, bOff, beta, c, cOff);
            compare("sgemm[" + p + ", offsets " + aOff + "/" + bOff + "/" + cOff + ", beta " + beta + "]", g, cOff, c,
                    expected, mag, got, Tol.REAL_PER_K, rel(p), 1);
            checked++;
        }
        return checked;
    }

    // ------------------------------------------------------------------------------------------ kernels present

    @Test
    void everyKernelIsInTheFatbinAndCanRun256Threads() {
        CudaDevice d = device();
        List<String> names = CudaGemm.kernelNames();
        assertEquals(19, names.size());
        for (String name : names) {
            int[] at = d.kernelAttributes(name); // {regs, static smem, max threads per block}
            System.out.println("[gemm] " + name + ": " + at[0] + " registers, " + at[1] + " B static shared memory, max "
                    + at[2] + " threads");
            assertTrue(at[2] >= CudaGemm.THREADS, name + " cannot launch " + CudaGemm.THREADS + " threads: " + at[2]);
        }
    }

    @Test
    void describeNamesTheKernels() {
        device();
        assertTrue(CudaGemm.describe(CudaGemm.Variant.SIMT).contains("128x128"));
        assertTrue(CudaGemm.describe(CudaGemm.Variant.TF32).contains("mma.sync"));
        assertFalse(CudaGemm.describe(CudaGemm.Variant.SIMT).contains("\n"));
    }

    // ------------------------------------------------------------------------------------------ f32

    /** All transposes x straddling sizes (square and not) x every path. */
    @TestFactory
    List<DynamicTest> sgemmEveryPathOnStraddlingSizes() {
        List<DynamicTest> tests = new ArrayList<>();
        for (Trans ta : new Trans[] {Trans.N, Trans.T}) {
            for (Trans tb : new Trans[] {Trans.N, Trans.T}) {
                tests.add(DynamicTest.dynamicTest("sgemm " + ta + tb, () -> {
                    CudaDevice d = device();
                    Rng r = new Rng(1000 + 2L * ta.ordinal() + tb.ordinal());
                    int checked = 0;
                    for (int s : SIZES) {
                        // square, and (below 513, to keep the reference cheap) non-square
                        int[][] mnk = s > 255 ? new int[][] {{s, s, s}, {s, s + 4, s - 2}}
                                : new int[][] {{s, s, s}, {s, (s * 5) / 3 + 1, (s * 7) / 5 + 2}};
                        for (int[] x : mnk) {
                            GemmShape g = GemmShape.of(ta.transposed(), tb.transposed(), x[0], x[1], x[2]);
                            float beta = checked % 2 == 0 ? 0f : -0.5f;
                            checked += checkSgemm(d, r, g, 0, 0, 0, 1.5f, beta, PATHS);
                        }
                    }
                    assertEquals(SIZES.length * 2 * PATHS.length, checked);
                }));
            }
        }
        return tests;
    }

    /**
     * Padded leading dimensions (multiples of 4) with sizes that are not, so the float4 kernels meet partial
     * vectors at every edge; aligned offsets (float4 kernels) and unaligned ones (scalar kernels).
     */
    @Test
    void sgemmPaddedLeadingDimensionsAndOffsets() {
        CudaDevice d = device();
        Rng r = new Rng(2000);
        int checked = 0;
        int[][] mnk = {{130, 67, 45}, {129, 257, 19}, {5, 131, 130}, {256, 256, 256}};
        long[][] offsets = {{0, 0, 0}, {4, 8, 12}, {1, 2, 3}, {4, 8, 3}};
        for (int[] x : mnk) {
            for (Trans ta : new Trans[] {Trans.N, Trans.T}) {
                for (Trans tb : new Trans[] {Trans.N, Trans.T}) {
                    int colsA = ta.transposed() ? x[0] : x[2];
                    int colsB = tb.transposed() ? x[2] : x[1];
                    int lda = (colsA + 3) / 4 * 4 + 4, ldb = (colsB + 3) / 4 * 4 + 8, ldc = (x[1] + 3) / 4 * 4 + 4;
                    GemmShape g = new GemmShape(ta, tb, x[0], x[1], x[2], lda, ldb, ldc, 1, 0, 0, 0);
                    for (long[] off : offsets) {
                        assertEquals(off[0] % 4 == 0 && off[1] % 4 == 0 && off[2] % 4 == 0,
                                CudaGemm.aligned4(g, off[0], off[1], off[2]));
                        checked += checkSgemm(d, r, g, off[0], off[1], off[2], -0.75f, checked % 3 == 0 ? 0f : 1.25f,
                                PATHS);
                    }
                }
            }
        }
        assertEquals(4 * 4 * 4 * PATHS.length, checked);
    }

    @Test
    void sgemmBatches() {
        CudaDevice d = device();
        Rng r = new Rng(3000);
        List<GemmShape> shapes = List.of(
                GemmShape.batched(false, true, 3, 17, 9, 33),
                GemmShape.batched(true, false, 5, 130, 129, 20),
                // broadcast B over the batch, padded leading dimensions (the conformance suite's shape)
                new GemmShape(Trans.N, Trans.N, 5, 6, 7, 9, 8, 10, 4, 5 * 9, 0, 5 * 10),
                // aligned strides with gaps between C matrices: float4 kernels on a batch
                new GemmShape(Trans.T, Trans.T, 33, 65, 17, 36, 20, 68, 3, 17 * 36 + 8, 65 * 20 + 4, 33 * 68 + 12),
                // longer than one grid (65535): launched in chunks
                GemmShape.batched(false, false, 70_000, 2, 3, 4));
        int checked = 0;
        for (GemmShape g : shapes) {
            checked += checkSgemm(d, r, g, 0, 0, 0, 0.5f, 2f, PATHS);
            checked += checkSgemm(d, r, g, 4, 0, 8, 1f, 0f, PATHS);
        }
        assertEquals(shapes.size() * 2 * PATHS.length, checked);
    }

    /** The public entry point's own choice (SIMT) and the TF32 variant, small and large grids. */
    @Test
    void sgemmPublicVariants() {
        CudaDevice d = device();
        Rng r = new Rng(4000);
        for (int s : new int[] {33, 700}) {
            GemmShape g = GemmShape.of(false, true, s, s + 3, s + 5);
            float[] a = randomF(r, extentA(g, 0)), b = randomF(r, extentB(g, 0)), c = randomF(r, extentC(g, 0));
            float[] expected = c.clone();
            ref().sgemm(g, 1f, a, 0, b, 0, 0.5f, expected, 0);
            float[] mag = abs(c);
            ref().sgemm(g, 1f, abs(a), 0, abs(b), 0, 0.5f, mag, 0);
            for (CudaGemm.Variant v : CudaGemm.Variant.values()) {
                try (DeviceBuffer da = d.upload(a, 0, a.length);
                     DeviceBuffer db = d.upload(b, 0, b.length);
                     DeviceBuffer dc = d.upload(c, 0, c.length)) {
                    CudaGemm.sgemm(d, v, g, 1f, da, 0, db, 0, 0.5f, dc, 0);
                    float[] got = new float[c.length];
                    d.download(dc, 0, got, 0, got.length);
                    compare("sgemm " + v, g, 0, c, expected, mag, got, Tol.REAL_PER_K,
                            v == CudaGemm.Variant.TF32 ? Tol.TF32_REL : 0, 1);
                }
            }
        }
        assertEquals(CudaGemm.Path.GENERAL, CudaGemm.pathFor(GemmShape.of(false, false, 64, 64, 64), true, null));
        assertEquals(CudaGemm.Path.SIMT128, CudaGemm.pathFor(GemmShape.of(false, false, 4096, 4096, 64), true, null));
        assertEquals(CudaGemm.Path.GENERAL, CudaGemm.pathFor(GemmShape.batched(false, false, 1000, 16, 16, 16), true, null));
        assertEquals(CudaGemm.Path.GENERAL, CudaGemm.pathFor(GemmShape.of(false, false, 4096, 4096, 64), false, null));
        assertEquals(CudaGemm.Path.TF32, CudaGemm.pathFor(GemmShape.of(false, false, 8, 8, 8), true, CudaGemm.Path.TF32));
    }

    /** Small integers: every product and sum is exact in fp32 and in TF32, so every path must match exactly. */
    @Test
    void sgemmKnownAnswerExactOnEveryPath() {
        CudaDevice d = device();
        int m = 130, n = 131, k = 133;
        for (Trans ta : new Trans[] {Trans.N, Trans.T}) {
            for (Trans tb : new Trans[] {Trans.N, Trans.T}) {
                GemmShape g = GemmShape.of(ta.transposed(), tb.transposed(), m, n, k);
                float[] a = new float[m * k], b = new float[k * n], c = new float[m * n];
                long[] want = new long[m * n];
                for (int i = 0; i < m; i++) {
                    for (int p = 0; p < k; p++) {
                        a[ta.transposed() ? p * m + i : i * k + p] = (i + 2 * p) % 7 - 3;
                    }
                }
                for (int p = 0; p < k; p++) {
                    for (int j = 0; j < n; j++) {
                        b[tb.transposed() ? j * k + p : p * n + j] = (3 * p + j) % 5 - 2;
                    }
                }
                for (int i = 0; i < m; i++) {
                    for (int j = 0; j < n; j++) {
                        c[i * n + j] = (i * j) % 11 - 5;
                        long s = 0;
                        for (int p = 0; p < k; p++) {
                            s += (long) ((i + 2 * p) % 7 - 3) * ((3 * p + j) % 5 - 2);
                        }
                        want[i * n + j] = 2 * s - 3L * ((i * j) % 11 - 5);
                    }
                }
                for (CudaGemm.Path p : PATHS) {
                    float[] got = onDevice(d, p, g, 2f, a, 0, b, 0, -3f, c, 0);
                    for (int i = 0; i < want.length; i++) {
                        assertEquals((float) want[i], got[i], 0f, "known answer " + p + " " + g + " at " + i);
                    }
                }
            }
        }
    }

    /** beta = 0 overwrites NaN in C (and nothing outside C); alpha = 0 and k = 0 give beta * C without reading A, B. */
    @Test
    void sgemmBetaZeroAlphaZeroAndEmptyK() {
        CudaDevice d = device();
        Rng r = new Rng(5000);
        for (CudaGemm.Path p : PATHS) {
            for (int s : new int[] {1, 129, 256}) {
                GemmShape g = new GemmShape(Trans.N, Trans.N, s, s, s, s, s, s + 3, 1, 0, 0, 0);
                checkSgemm(d, r, g, 0, 0, 0, 1f, 0f, p);
                // alpha = 0: A and B full of NaN must not be read
                float[] a = new float[(int) extentA(g, 0)], b = new float[(int) extentB(g, 0)];
                Arrays.fill(a, Float.NaN);
                Arrays.fill(b, Float.POSITIVE_INFINITY);
                float[] c = randomF(r, extentC(g, 0));
                float[] got = onDevice(d, p, g, 0f, a, 0, b, 0, 0.5f, c, 0);
                for (int i = 0; i < c.length; i++) {
                    float want = inC(g, 0, i) ? 0.5f * c[i] : c[i];
                    assertEquals(want, got[i], 0f, "alpha = 0, " + p + " " + g + " at " + i);
                }
                got = onDevice(d, p, g, 0f, a, 0, b, 0, 0f, c, 0);
                for (int i = 0; i < c.length; i++) {
                    assertEquals(inC(g, 0, i) ? 0f : c[i], got[i], 0f, "alpha = 0, beta = 0, " + p + " at " + i);
                }
            }
            // k = 0: C = beta * C; with beta = 0, C = 0 even over NaN
            GemmShape g = GemmShape.of(false, false, 4, 5, 0);
            float[] c = randomF(r, 20);
            float[] got = onDevice(d, p, g, 1f, new float[1], 0, new float[1], 0, 2f, c, 0);
            for (int i = 0; i < 20; i++) {
                assertEquals(2f * c[i], got[i], 0f, "k = 0 " + p);
            }
            float[] nan = new float[20];
            Arrays.fill(nan, Float.NaN);
            got = onDevice(d, p, g, 1f, new float[1], 0, new float[1], 0, 0f, nan, 0);
            for (int i = 0; i < 20; i++) {
                assertEquals(0f, got[i], 0f, "k = 0, beta = 0 " + p);
            }
            // m = 0: nothing launched, nothing written
            float[] untouched = onDevice(d, p, GemmShape.of(false, false, 0, 5, 3), 1f, new float[15], 0, new float[15], 0,
                    0f, nan, 0);
            assertTrue(Float.isNaN(untouched[0]));
        }
        // null A and B are fine when they are not read
        try (DeviceBuffer dc = d.upload(new float[20], 0, 20)) {
            CudaGemm.sgemm(d, CudaGemm.Variant.SIMT, GemmShape.of(false, false, 4, 5, 0), 1f, null, 0, null, 0, 1f, dc, 0);
            d.synchronize();
        }
    }

    // ------------------------------------------------------------------------------------------ f64

    @Test
    void dgemmAgainstReference() {
        CudaDevice d = device();
        Rng r = new Rng(6000);
        List<GemmShape> shapes = new ArrayList<>();
        for (int s : new int[] {1, 7, 16, 17, 64, 65, 129, 255}) {
            for (Trans ta : new Trans[] {Trans.N, Trans.T}) {
                for (Trans tb : new Trans[] {Trans.N, Trans.T}) {
                    shapes.add(GemmShape.of(ta.transposed(), tb.transposed(), s, (s * 5) / 3 + 1, (s * 7) / 5 + 2));
                }
            }
        }
        shapes.add(GemmShape.batched(false, true, 3, 17, 9, 33));
        shapes.add(new GemmShape(Trans.N, Trans.N, 5, 6, 7, 9, 8, 10, 4, 5 * 9, 0, 5 * 10));
        shapes.add(GemmShape.batched(true, true, 70_000, 2, 2, 3));
        shapes.add(GemmShape.of(false, false, 4, 5, 0));
        int checked = 0;
        for (GemmShape g : shapes) {
            for (double beta : new double[] {2.0, 0.0}) {
                long aOff = 3, bOff = 1, cOff = 2;
                double[] a = randomD(r, extentA(g, aOff)), b = randomD(r, extentB(g, bOff));
                double[] c = randomD(r, extentC(g, cOff));
                if (beta == 0) {
                    Arrays.fill(c, Double.NaN);
                }
                double[] expected = c.clone();
                ref().dgemm(g, -0.75, a, (int) aOff, b, (int) bOff, beta, expected, (int) cOff);
                double[] mag = beta == 0 ? new double[c.length] : abs(c);
                ref().dgemm(g, 0.75, abs(a), (int) aOff, abs(b), (int) bOff, Math.abs(beta), mag, (int) cOff);
                try (DeviceBuffer da = d.upload(a, 0, a.length);
                     DeviceBuffer db = d.upload(b, 0, b.length);
                     DeviceBuffer dc = d.upload(c, 0, c.length)) {
                    CudaGemm.dgemm(d, g, -0.75, da, aOff, db, bOff, beta, dc, cOff);
                    double[] got = new double[c.length];
                    d.download(dc, 0, got, 0, got.length);
                    compare("dgemm beta " + beta, g, cOff, c, expected, mag, got);
                }
                checked++;
            }
        }
        assertEquals(2 * shapes.size(), checked);
    }

    // ------------------------------------------------------------------------------------------ c64

    /** One complex case against the reference; A, B and C in separate buffers at the given offsets. */
    static void checkCgemm(CudaDevice d, Rng r, GemmShape g, long aOff, long bOff, long cOff, float ar, float ai,
                           float br, float bi) {
        float[] a = randomF(r, 2 * extentA(g, aOff));
        float[] b = randomF(r, 2 * extentB(g, bOff));
        float[] c = randomF(r, 2 * extentC(g, cOff));
        boolean betaZero = br == 0f && bi == 0f;
        if (betaZero) {
            Arrays.fill(c, Float.NaN);
        }
        float[] expected = c.clone();
        ref().cgemm(g, ar, ai, a, (int) aOff, b, (int) bOff, br, bi, expected, (int) cOff);
        // magnitude: |alpha| sum |a||b| + |beta||c| (moduli; H and T alike)
        GemmShape plain = g.withTrans(g.transA() == Trans.H ? Trans.T : g.transA(), g.transB() == Trans.H ? Trans.T : g.transB());
        float[] mag = betaZero ? new float[c.length] : cabs(c);
        ref().cgemm(plain, (float) Math.hypot(ar, ai), 0f, cabs(a), (int) aOff, cabs(b), (int) bOff,
                betaZero ? 0f : (float) Math.hypot(br, bi), 0f, mag, (int) cOff);
        try (DeviceBuffer da = d.upload(a, 0, a.length);
             DeviceBuffer db = d.upload(b, 0, b.length);
             DeviceBuffer dc = d.upload(c, 0, c.length)) {
            CudaGemm.cgemm(d, g, ar, ai, da, aOff, db, bOff, br, bi, dc, cOff);
            float[] got = new float[c.length];
            d.download(dc, 0, got, 0, got.length);
            compare("cgemm alpha (" + ar + "," + ai + ") beta (" + br + "," + bi + ")", g, cOff, c, expected, mag, got,
                    Tol.COMPLEX_PER_K, 0, 2);
        }
    }

    @TestFactory
    List<DynamicTest> cgemmEveryTransposeAgainstReference() {
        List<DynamicTest> tests = new ArrayList<>();
        for (Trans ta : Trans.values()) {
            for (Trans tb : Trans.values()) {
                tests.add(DynamicTest.dynamicTest("cgemm " + ta + tb, () -> {
                    CudaDevice d = device();
                    Rng r = new Rng(7000 + 3L * ta.ordinal() + tb.ordinal());
                    for (int s : new int[] {1, 7, 33, 64, 65, 129}) {
                        int m = s, n = s + 2, k = s + 3;
                        // dense, then padded leading dimensions with offsets (a sub-block of larger matrices)
                        GemmShape dense = new GemmShape(ta, tb, m, n, k, ta.transposed() ? m : k,
                                tb.transposed() ? k : n, n, 1, 0, 0, 0);
                        checkCgemm(d, r, dense, 0, 0, 0, 0.5f, -1.25f, 0.25f, 0.5f);
                        int lda = (ta.transposed() ? m : k) + 5, ldb = (tb.transposed() ? k : n) + 3, ldc = n + 7;
                        GemmShape padded = new GemmShape(ta, tb, m, n, k, lda, ldb, ldc, 1, 0, 0, 0);
                        checkCgemm(d, r, padded, 3, 5, 11, -1f, 0f, 1f, 0f);
                        checkCgemm(d, r, padded, 1, 0, 2, 0.75f, 0.5f, 0f, 0f); // beta = 0 over NaN
                    }
                    GemmShape batch = new GemmShape(ta, tb, 9, 10, 11, ta.transposed() ? 9 : 11, tb.transposed() ? 11 : 10,
                            10, 70_000, 0, 110, 90);
                    checkCgemm(d, r, batch, 0, 0, 0, 1f, 1f, -1f, 0.5f);
                }));
            }
        }
        return tests;
    }

    /**
     * A blocked LU's trailing update on one buffer: A22 -= A21 * A12 with every operand a block of the same n x n
     * matrix (C's rows interleave A's and B's, so only the exact overlap test lets it through).
     */
    @Test
    void cgemmTrailingUpdateInOneBuffer() {
        CudaDevice d = device();
        Rng r = new Rng(8000);
        for (int[] nb : new int[][] {{200, 64}, {600, 128}, {129, 31}}) {
            int n = nb[0], blk = nb[1], rest = n - blk;
            float[] mat = randomF(r, 2L * n * n);
            GemmShape g = new GemmShape(Trans.N, Trans.N, rest, rest, blk, n, n, n, 1, 0, 0, 0);
            long aOff = (long) blk * n, bOff = blk, cOff = (long) blk * n + blk;
            float[] expected = mat.clone();
            ref().cgemm(g, -1f, 0f, expected, (int) aOff, expected.clone(), (int) bOff, 1f, 0f, expected, (int) cOff);
            float[] mag = cabs(mat);
            float[] absMat = cabs(mat);
            ref().cgemm(g, 1f, 0f, absMat, (int) aOff, absMat.clone(), (int) bOff, 1f, 0f, mag, (int) cOff);
            try (DeviceBuffer dm = d.upload(mat, 0, mat.length)) {
                CudaGemm.cgemm(d, g, -1f, 0f, dm, aOff, dm, bOff, 1f, 0f, dm, cOff);
                float[] got = new float[mat.length];
                d.download(dm, 0, got, 0, got.length);
                compare("cgemm trailing update n=" + n + " block=" + blk, g, cOff, mat, expected, mag, got,
                        Tol.COMPLEX_PER_K, 0, 2);
            }
        }
    }

    // ------------------------------------------------------------------------------------------ bad input

    /** Bad shapes, short buffers, aliasing and nulls throw before anything is launched: C stays as it was. */
    @Test
    void badInputThrowsBeforeAnyLaunch() {
        CudaDevice d = device();
        GemmShape g = GemmShape.of(false, false, 4, 4, 4);
        float[] init = new float[16];
        Arrays.fill(init, 7f);
        try (DeviceBuffer a15 = d.upload(new float[15], 0, 15);
             DeviceBuffer a16 = d.upload(new float[16], 0, 16);
             DeviceBuffer c = d.upload(init, 0, 16);
             DeviceBuffer big = d.upload(new float[64], 0, 64);
             DeviceBuffer c8 = d.upload(new float[32], 0, 32)) {
            for (CudaGemm.Variant v : CudaGemm.Variant.values()) {
                assertThrows(IndexOutOfBoundsException.class, () -> CudaGemm.sgemm(d, v, g, 1f, a15, 0, a16, 0, 0f, c, 0));
                assertThrows(IndexOutOfBoundsException.class, () -> CudaGemm.sgemm(d, v, g, 1f, a16, 1, a16, 0, 0f, c, 0));
                assertThrows(IndexOutOfBoundsException.class, () -> CudaGemm.sgemm(d, v, g, 1f, a16, 0, a16, 0, 0f, c, -1));
                assertThrows(IndexOutOfBoundsException.class, () -> CudaGemm.sgemm(d, v, g, 1f, a16, 0, a16, 0, 0f, c, 1));
                assertThrows(NullPointerException.class, () -> CudaGemm.sgemm(d, v, g, 1f, null, 0, a16, 0, 0f, c, 0));
                assertThrows(NullPointerException.class, () -> CudaGemm.sgemm(d, v, g, 1f, a16, 0, a16, 0, 0f, null, 0));
                // C overlapping A in one buffer
                assertThrows(IllegalArgumentException.class, () -> CudaGemm.sgemm(d, v, g, 1f, big, 0, a16, 0, 0f, big, 8));
                // a batch whose C matrices would overlap is refused by the shape itself
                assertThrows(IllegalArgumentException.class,
                        () -> new GemmShape(Trans.N, Trans.N, 4, 4, 4, 4, 4, 4, 2, 16, 16, 8));
            }
            assertThrows(NullPointerException.class,
                    () -> CudaGemm.sgemm(d, (CudaGemm.Variant) null, g, 1f, a16, 0, a16, 0, 0f, c, 0));
            assertThrows(IndexOutOfBoundsException.class, () -> CudaGemm.dgemm(d, g, 1, a16, 0, a16, 0, 0, c8, 1));
            assertThrows(IndexOutOfBoundsException.class, () -> CudaGemm.dgemm(d, g, 1, a15, 0, big, 0, 0, c8, 0));
            // complex: 16 floats are 8 complex elements, too few for a 4x4 operand
            assertThrows(IndexOutOfBoundsException.class,
                    () -> CudaGemm.cgemm(d, g, 1f, 0f, a16, 0, big, 0, 0f, 0f, big, 0));
            assertThrows(IllegalArgumentException.class,
                    () -> CudaGemm.cgemm(d, g, 1f, 0f, big, 0, c8, 0, 0f, 0f, big, 4));
            DeviceBuffer closed = d.upload(new float[16], 0, 16);
            closed.close();
            assertThrows(IllegalStateException.class,
                    () -> CudaGemm.sgemm(d, CudaGemm.Variant.SIMT, g, 1f, closed, 0, a16, 0, 0f, c, 0));
            float[] after = new float[16];
            d.download(c, 0, after, 0, 16);
            assertTrue(Arrays.equals(init, after), "C changed although every call threw: " + Arrays.toString(after));
        }
        d.synchronize();
    }

    // ------------------------------------------------------------------------------------------ speed (report only)

    /** Prints GFLOP/s of both variants at a few sizes (checked for finite output only): data for the benchmark. */
    @Test
    void reportThroughput() {
        CudaDevice d = device();
        for (int n : new int[] {1024, 2048, 4096}) {
            GemmShape g = GemmShape.of(false, false, n, n, n);
            try (DeviceBuffer a = d.alloc(4L * n * n); DeviceBuffer b = d.alloc(4L * n * n);
                 DeviceBuffer c = d.alloc(4L * n * n)) {
                d.zero(a);
                d.zero(b);
                for (CudaGemm.Variant v : CudaGemm.Variant.values()) {
                    CudaGemm.sgemm(d, v, g, 1f, a, 0, b, 0, 0f, c, 0); // warm-up (module load, clocks)
                    double ms = d.time(5, () -> CudaGemm.sgemm(d, v, g, 1f, a, 0, b, 0, 0f, c, 0));
                    System.out.printf("[gemm] sgemm %s n=%d: %.3f ms, %.1f GFLOP/s%n", v, n, ms, g.flops(false) / ms / 1e6);
                }
                float[] probe = new float[4];
                d.download(c, 0, probe, 0, 4);
                assertEquals(0f, probe[0]);
            }
        }
    }
}
