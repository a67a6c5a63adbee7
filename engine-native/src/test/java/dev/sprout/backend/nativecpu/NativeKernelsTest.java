package dev.sprout.backend.nativecpu;

import dev.sprout.backend.Activation;
import dev.sprout.backend.Backend;
import dev.sprout.backend.ConvGeometry;
import dev.sprout.backend.GemmShape;
import dev.sprout.backend.GemmShape.Trans;
import dev.sprout.backend.java.JavaBackend;
import dev.sprout.tensor.Rng;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.function.Executable;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Native kernels of every ISA variant this CPU runs, against the Java backend, on sizes that straddle the native
 * blocking (MR = 6/14, NR = 16/32, KC = 256, NC = 256/512, LU panel 64), plus the checks that keep bad input out of
 * native code. The full conformance suite (tests module) runs on top of this.
 */
class NativeKernelsTest {
    static final double EPS32 = Math.ulp(1.0f);
    static final double EPS64 = Math.ulp(1.0);
    static final JavaBackend REF = new JavaBackend(1);

    static List<Isa> isas() {
        return NativeBackend.runnable();
    }

    /** One dynamic test per runnable ISA; none (and one skipped marker) where the library is unavailable. */
    static List<DynamicTest> perIsa(String what, java.util.function.Consumer<NativeBackend> body) {
        List<DynamicTest> out = new ArrayList<>();
        for (Isa isa : isas()) {
            Executable ex = () -> body.accept(new NativeBackend(isa, 1));
            out.add(DynamicTest.dynamicTest(what + " [" + isa.label() + "]", ex));
        }
        if (out.isEmpty()) {
            out.add(DynamicTest.dynamicTest(what + " [no native library]",
                    () -> assumeTrue(false, NativeBackend.libraryStatus())));
        }
        return out;
    }

    static float[] randf(Rng r, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) r.normal();
        }
        return x;
    }

    static double[] randd(Rng r, int n) {
        double[] x = new double[n];
        for (int i = 0; i < n; i++) {
            x[i] = r.normal();
        }
        return x;
    }

    // ------------------------------------------------------------------------------------------ gemm

    static final int[][] GEMM_SIZES = {{1, 1, 1}, {13, 31, 255}, {14, 32, 256}, {15, 33, 257}, {29, 65, 300},
            {6, 16, 1}, {7, 17, 513}, {100, 515, 40}, {257, 20, 9}, {3, 1025, 5}};

    @TestFactory
    List<DynamicTest> sgemmMatchesJavaAcrossBlockEdges() {
        return perIsa("sgemm", be -> {
            Rng r = new Rng(7);
            int checked = 0;
            for (int[] s : GEMM_SIZES) {
                for (Trans ta : new Trans[] {Trans.N, Trans.T}) {
                    for (Trans tb : new Trans[] {Trans.N, Trans.T}) {
                        int m = s[0], n = s[1], k = s[2];
                        // padded leading dimensions, non-zero offsets
                        int lda = (ta.transposed() ? m : k) + 3, ldb = (tb.transposed() ? k : n) + 1, ldc = n + 2;
                        GemmShape g = new GemmShape(ta, tb, m, n, k, lda, ldb, ldc, 1, 0, 0, 0);
                        float[] a = randf(r, 5 + (ta.transposed() ? k : m) * lda);
                        float[] b = randf(r, 2 + (tb.transposed() ? n : k) * ldb);
                        float[] c = randf(r, 1 + m * ldc);
                        float[] want = c.clone();
                        REF.sgemm(g, 0.75f, a, 5, b, 2, -1.5f, want, 1);
                        be.sgemm(g, 0.75f, a, 5, b, 2, -1.5f, c, 1);
                        for (int i = 0; i < c.length; i++) {
                            assertEquals(want[i], c[i], 8 * EPS32 * k * (1 + Math.abs(want[i])), "sgemm " + g + " at " + i);
                        }
                        checked++;
                    }
                }
            }
            assertEquals(GEMM_SIZES.length * 4, checked);
        });
    }

    @TestFactory
    List<DynamicTest> dgemmBatchedWithBroadcastMatchesJava() {
        return perIsa("dgemm", be -> {
            Rng r = new Rng(8);
            for (int[] s : GEMM_SIZES) {
                int m = s[0], n = s[1], k = s[2], batch = 3;
                GemmShape g = new GemmShape(Trans.N, Trans.T, m, n, k, k, k, n, batch, (long) m * k, 0, (long) m * n);
                double[] a = randd(r, batch * m * k), b = randd(r, n * k), c = randd(r, batch * m * n);
                double[] want = c.clone();
                REF.dgemm(g, 1.25, a, 0, b, 0, 0.5, want, 0);
                be.dgemm(g, 1.25, a, 0, b, 0, 0.5, c, 0);
                for (int i = 0; i < c.length; i++) {
                    assertEquals(want[i], c[i], 8 * EPS64 * k * (1 + Math.abs(want[i])), "dgemm " + g + " at " + i);
                }
            }
        });
    }

    /** beta = 0 overwrites NaN; alpha = 0 and k = 0 scale C without reading A or B (which may be null). */
    @TestFactory
    List<DynamicTest> gemmEdgeSemantics() {
        return perIsa("gemm semantics", be -> {
            GemmShape g = GemmShape.of(false, false, 3, 4, 2);
            float[] c = new float[12];
            java.util.Arrays.fill(c, Float.NaN);
            be.sgemm(g, 1f, new float[6], 0, new float[8], 0, 0f, c, 0);
            assertArrayEquals(new float[12], c);
            float[] c2 = new float[12];
            java.util.Arrays.fill(c2, 2f);
            be.sgemm(GemmShape.of(false, false, 3, 4, 0), 1f, null, 0, null, 0, 0.5f, c2, 0);
            for (float v : c2) {
                assertEquals(1f, v);
            }
            float[] cc = {1, 2, 3, 4};
            be.cgemm(GemmShape.of(false, false, 1, 2, 0), 1f, 0f, null, 0, null, 0, 0f, 1f, cc, 0);
            assertArrayEquals(new float[] {-2, 1, -4, 3}, cc, "C = i * C");
        });
    }

    /**
     * Splitting across threads (rows of a product, items of a batch, neurons of a Gram batch, matrices of an eigen
     * batch) gives exactly the single-thread bits.
     */
    @TestFactory
    List<DynamicTest> threadedKernelsAreBitwiseTheSingleThreadOnes() {
        return perIsa("threads", be -> {
            NativeBackend two = new NativeBackend(be.isa(), 2, true);
            Rng r = new Rng(9);
            int m = 700, n = 300, k = 400;
            GemmShape g = GemmShape.of(false, false, m, n, k);
            float[] a = randf(r, m * k), b = randf(r, k * n);
            float[] c1 = new float[m * n], c2 = new float[m * n];
            be.sgemm(g, 1f, a, 0, b, 0, 0f, c1, 0);
            two.sgemm(g, 1f, a, 0, b, 0, 0f, c2, 0);
            assertArrayEquals(c1, c2);
            // a batch of items split across threads
            GemmShape gb = GemmShape.batched(true, false, 6, 150, 160, 170);
            double[] ad = randd(r, 6 * 150 * 170), bd = randd(r, 6 * 170 * 160);
            double[] d1 = new double[6 * 150 * 160], d2 = new double[d1.length];
            be.dgemm(gb, 1, ad, 0, bd, 0, 0, d1, 0);
            two.dgemm(gb, 1, ad, 0, bd, 0, 0, d2, 0);
            assertArrayEquals(d1, d2);
            // wider than tall: split by columns
            GemmShape gw = GemmShape.of(false, true, 5, 300, 20);
            float[] aw = randf(r, 5 * 20), bw = randf(r, 300 * 20), w1 = new float[5 * 300], w2 = new float[5 * 300];
            be.sgemm(gw, 1f, aw, 0, bw, 0, 0f, w1, 0);
            two.sgemm(gw, 1f, aw, 0, bw, 0, 0f, w2, 0);
            assertArrayEquals(w1, w2);
            float[] x = randf(r, 50 * 9), wt = randf(r, 50 * 5), s1 = new float[5 * 81], s2 = new float[5 * 81];
            be.weightedGram(50, 9, 5, x, 0, wt, 0, s1, 0);
            two.weightedGram(50, 9, 5, x, 0, wt, 0, s2, 0);
            assertArrayEquals(s1, s2);
            double[] sym = new double[4 * 36];
            for (int bi = 0; bi < 4; bi++) {
                for (int i = 0; i < 6; i++) {
                    for (int j = 0; j <= i; j++) {
                        sym[bi * 36 + i * 6 + j] = sym[bi * 36 + j * 6 + i] = r.normal();
                    }
                }
            }
            double[] e1 = new double[4 * 6], e2 = new double[4 * 6], v1 = new double[4 * 36], v2 = new double[4 * 36];
            be.symEig(4, 6, 6, sym, 0, e1, 0, v1, 0);
            two.symEig(4, 6, 6, sym, 0, e2, 0, v2, 0);
            assertArrayEquals(e1, e2);
            assertArrayEquals(v1, v2);
        });
    }

    // ------------------------------------------------------------------------------------------ pointwise

    @Test
    void activationCodesAreTheEnumOrdinals() {
        // the C++ side (pointwise.h ActivationCode) numbers them in this order
        assertEquals(List.of("RELU", "TANH", "SIGMOID", "SOFTPLUS", "RBF", "IDENTITY"),
                java.util.Arrays.stream(Activation.values()).map(Enum::name).toList());
    }

    @TestFactory
    List<DynamicTest> activationsAgreeWithActivationEval() {
        return perIsa("activation", be -> {
            double[] x = {-40, -3.5, -1, -0.25, 0, 0.25, 1, 3.5, 40, 1e-3, -1e-3};
            for (Activation f : Activation.values()) {
                for (int order = 0; order <= Activation.MAX_ORDER; order++) {
                    double[] y = new double[x.length];
                    float[] xf = new float[x.length], yf = new float[x.length];
                    for (int i = 0; i < x.length; i++) {
                        xf[i] = (float) x[i];
                    }
                    be.activation(f, order, 0.8, x, 0, y, 0, x.length);
                    be.activation(f, order, 0.8f, xf, 0, yf, 0, x.length);
                    for (int i = 0; i < x.length; i++) {
                        double ref = f.eval(x[i], order, 0.8);
                        assertEquals(ref, y[i], 4 * EPS64 * (1 + order) * Math.max(1, Math.abs(ref)), f + "^(" + order + ") at " + x[i]);
                        assertEquals((float) f.eval(xf[i], order, (double) 0.8f), yf[i], 0f, f + "^(" + order + ") f32 at " + x[i]);
                    }
                }
            }
            // in place
            float[] v = {-1, 2, -3};
            be.activation(Activation.RELU, 0, 1f, v, 0, v, 0, 3);
            assertArrayEquals(new float[] {0, 2, 0}, v);
        });
    }

    // ------------------------------------------------------------------------------------------ linear algebra

    @TestFactory
    List<DynamicTest> gesvAcrossLuPanelsAndSolveBlocks() {
        return perIsa("gesv", be -> {
            Rng r = new Rng(10);
            for (int[] shape : new int[][] {{63, 2}, {64, 2}, {65, 20}, {200, 2}, {200, 70}}) {
                int n = shape[0], nrhs = shape[1];
                double[] a = randd(r, n * n), x = randd(r, n * nrhs);
                for (int i = 0; i < n; i++) {
                    a[i * n + i] += n;
                }
                double[] b = new double[n * nrhs];
                for (int i = 0; i < n; i++) {
                    for (int j = 0; j < nrhs; j++) {
                        for (int p = 0; p < n; p++) {
                            b[i * nrhs + j] += a[i * n + p] * x[p * nrhs + j];
                        }
                    }
                }
                double[] lu = a.clone(), sol = b.clone();
                assertEquals(0, be.gesv(n, nrhs, lu, 0, sol, 0));
                for (int i = 0; i < sol.length; i++) {
                    assertEquals(x[i], sol[i], 1e3 * EPS64 * n, "gesv n=" + n + " nrhs=" + nrhs);
                }
                // c64: A + 0i, B + 0i, as interleaved complex
                float[] ca = new float[2 * n * n], cb = new float[2 * n * nrhs];
                for (int i = 0; i < n * n; i++) {
                    ca[2 * i] = (float) a[i];
                    ca[2 * i + 1] = (float) (0.1 * a[(i * 7) % (n * n)]);
                }
                float[] cx = new float[2 * n * nrhs];
                for (int i = 0; i < cx.length; i++) {
                    cx[i] = (float) r.normal();
                }
                for (int i = 0; i < n; i++) {
                    for (int j = 0; j < nrhs; j++) {
                        double sr = 0, si = 0;
                        for (int p = 0; p < n; p++) {
                            double ar = ca[2 * (i * n + p)], ai = ca[2 * (i * n + p) + 1];
                            double xr = cx[2 * (p * nrhs + j)], xi = cx[2 * (p * nrhs + j) + 1];
                            sr += ar * xr - ai * xi;
                            si += ar * xi + ai * xr;
                        }
                        cb[2 * (i * nrhs + j)] = (float) sr;
                        cb[2 * (i * nrhs + j) + 1] = (float) si;
                    }
                }
                assertEquals(0, be.cgesv(n, nrhs, ca, 0, cb, 0));
                for (int i = 0; i < cb.length; i++) {
                    assertEquals(cx[i], cb[i], 2e3 * EPS32 * n, "cgesv n=" + n + " nrhs=" + nrhs);
                }
            }
        });
    }

    @TestFactory
    List<DynamicTest> symEigOfLargerMatricesSatisfiesTheEquation() {
        return perIsa("symEig", be -> {
            Rng r = new Rng(11);
            for (int n : new int[] {100, 129}) {
                float[] a = new float[n * n];
                double[] m = randd(r, n * n);
                for (int i = 0; i < n; i++) {
                    for (int j = 0; j < n; j++) {
                        a[i * n + j] = (float) (m[i * n + j] + m[j * n + i]);
                    }
                }
                float[] w = new float[n], v = new float[n * n];
                be.symEig(1, n, n, a, 0, w, 0, v, 0);
                double norm = 0;
                for (float x : a) {
                    norm = Math.max(norm, Math.abs(x));
                }
                for (int j = 0; j < n; j++) {
                    if (j > 0) {
                        assertTrue(w[j] >= w[j - 1], "ascending");
                    }
                    for (int i = 0; i < n; i++) {
                        double av = 0;
                        for (int p = 0; p < n; p++) {
                            av += a[i * n + p] * (double) v[p * n + j];
                        }
                        assertEquals(w[j] * (double) v[i * n + j], av, 64 * EPS32 * n * norm, "A v = w v, n=" + n);
                    }
                }
                float[] wRef = new float[n];
                REF.symEig(1, n, n, a, 0, wRef, 0, null, 0);
                for (int j = 0; j < n; j++) {
                    assertEquals(wRef[j], w[j], 64 * EPS32 * n * norm, "eigenvalue " + j + " vs Java");
                }
            }
        });
    }

    // ------------------------------------------------------------------------------------------ bad input

    /**
     * Wrong shapes, offsets, nulls and aliasing are exceptions naming the operation; none reaches native code (if one
     * did, the JVM would crash and this test with it).
     */
    @TestFactory
    List<DynamicTest> badInputThrowsAndNeverCrashes() {
        return perIsa("bad input", be -> {
            GemmShape g = GemmShape.of(false, false, 4, 4, 4);
            expect(IndexOutOfBoundsException.class, "sgemm", () -> be.sgemm(g, 1f, new float[15], 0, new float[16], 0, 0f, new float[16], 0));
            expect(IndexOutOfBoundsException.class, "sgemm", () -> be.sgemm(g, 1f, new float[16], -1, new float[16], 0, 0f, new float[16], 0));
            expect(IndexOutOfBoundsException.class, "sgemm", () -> be.sgemm(g, 1f, new float[16], 0, new float[16], 1, 0f, new float[16], 0));
            expect(IndexOutOfBoundsException.class, "sgemm", () -> be.sgemm(g, 1f, new float[16], 0, new float[16], 0, 0f, new float[16], Integer.MAX_VALUE));
            expect(NullPointerException.class, "sgemm", () -> be.sgemm(g, 1f, null, 0, new float[16], 0, 0f, new float[16], 0));
            expect(NullPointerException.class, "sgemm", () -> be.sgemm(g, 1f, new float[16], 0, new float[16], 0, 0f, null, 0));
            float[] shared = new float[40];
            expect(IllegalArgumentException.class, "overlaps", () -> be.sgemm(g, 1f, shared, 0, new float[16], 0, 0f, shared, 8));
            expect(IndexOutOfBoundsException.class, "dgemm", () -> be.dgemm(GemmShape.batched(false, false, 3, 4, 4, 4), 1,
                    new double[48], 0, new double[48], 0, 0, new double[47], 0));
            expect(IndexOutOfBoundsException.class, "cgemm", () -> be.cgemm(g, 1f, 0f, new float[31], 0, new float[32], 0, 0f, 0f, new float[32], 0));
            expect(IndexOutOfBoundsException.class, "cgemm", () -> be.cgemm(g, 1f, 0f, new float[32], 0, new float[32], 0, 0f, 0f, new float[32], 1));
            expect(IndexOutOfBoundsException.class, "activation", () -> be.activation(Activation.TANH, 0, 1f, new float[5], 0, new float[6], 0, 6));
            expect(IndexOutOfBoundsException.class, "activation", () -> be.activation(Activation.TANH, 0, 1.0, new double[6], 3, new double[6], 0, 4));
            expect(IllegalArgumentException.class, "activation", () -> be.activation(Activation.TANH, 7, 1f, new float[6], 0, new float[6], 0, 6));
            expect(IllegalArgumentException.class, "activation", () -> be.activation(Activation.TANH, 0, 1f, new float[6], 0, new float[6], 0, -1));
            expect(NullPointerException.class, "activation", () -> be.activation(Activation.TANH, 0, 1f, new float[6], 0, null, 0, 6));
            expect(IndexOutOfBoundsException.class, "sumAxis", () -> be.sumAxis(new float[10], 0, 65536, 65536, 1, new float[65536], 0));
            expect(IllegalArgumentException.class, "sumAxis", () -> be.sumAxis(new double[10], 0, 1, -2, 1, new double[1], 0));
            expect(IndexOutOfBoundsException.class, "sumAxis", () -> be.sumAxis(new float[12], 0, 3, 2, 2, new float[5], 0));
            ConvGeometry cg = ConvGeometry.square(2, 5, 5, 3, 1, 1);
            expect(IndexOutOfBoundsException.class, "im2col", () -> be.im2col(cg, new float[49], 0, new float[18 * 25], 0));
            expect(IndexOutOfBoundsException.class, "im2col", () -> be.im2col(cg, new double[50], 0, new double[18 * 25 - 1], 0));
            expect(IndexOutOfBoundsException.class, "col2im", () -> be.col2im(cg, new float[18 * 25], 1, new float[50], 0));
            expect(NullPointerException.class, "col2im", () -> be.col2im(cg, null, 0, new double[50], 0));
            expect(IndexOutOfBoundsException.class, "weightedGram", () -> be.weightedGram(10, 3, 2, new float[30], 0, new float[20], 0, new float[17], 0));
            expect(IllegalArgumentException.class, "weightedGram", () -> be.weightedGram(10, -3, 2, new double[30], 0, new double[20], 0, new double[18], 0));
            expect(NullPointerException.class, "weightedGram", () -> be.weightedGram(10, 3, 2, new float[30], 0, null, 0, new float[18], 0));
            expect(IndexOutOfBoundsException.class, "symEig", () -> be.symEig(2, 4, 4, new float[31], 0, new float[8], 0, new float[32], 0));
            expect(IndexOutOfBoundsException.class, "symEig", () -> be.symEig(2, 4, 4, new double[32], 0, new double[8], 0, new double[31], 0));
            expect(IllegalArgumentException.class, "symEig", () -> be.symEig(1, 4, 5, new double[16], 0, new double[5], 0, new double[20], 0));
            expect(IndexOutOfBoundsException.class, "symEig", () -> be.symEig(1, 4, 4, null, 0, new double[4], 0, null, 0));
            expect(IndexOutOfBoundsException.class, "gesv", () -> be.gesv(3, 1, new double[8], 0, new double[3], 0));
            expect(IndexOutOfBoundsException.class, "gesv", () -> be.gesv(3, 2, new float[9], 0, new float[6], 1));
            double[] ab = new double[12];
            expect(IllegalArgumentException.class, "overlaps", () -> be.gesv(3, 1, ab, 0, ab, 8));
            expect(NullPointerException.class, "gesv", () -> be.gesv(3, 1, new float[9], 0, null, 0));
            expect(IndexOutOfBoundsException.class, "cgesv", () -> be.cgesv(3, 1, new float[18], 0, new float[5], 0));
            expect(IndexOutOfBoundsException.class, "cgesv", () -> be.cgesv(3, 1, new float[18], 1, new float[6], 0));
            // after all that, the backend still works
            float[] c = new float[16];
            float[] eye = new float[16];
            for (int i = 0; i < 4; i++) {
                eye[i * 5] = 1;
            }
            be.sgemm(g, 1f, eye, 0, eye, 0, 0f, c, 0);
            assertArrayEquals(eye, c);
        });
    }

    static void expect(Class<? extends RuntimeException> type, String inMessage, Executable call) {
        RuntimeException e = assertThrows(type, call);
        assertTrue(e.getMessage() != null && e.getMessage().contains(inMessage), "message should name '" + inMessage + "': " + e.getMessage());
    }

    /** The two ISA variants agree (to rounding) on the same product. */
    @Test
    void avx2AndAvx512Agree() {
        assumeTrue(isas().size() == 2, "needs a CPU that runs both variants: " + isas());
        Backend b2 = new NativeBackend(Isa.AVX2, 1), b5 = new NativeBackend(Isa.AVX512, 1);
        Rng r = new Rng(12);
        int m = 77, n = 91, k = 300;
        GemmShape g = GemmShape.of(true, true, m, n, k);
        float[] a = randf(r, m * k), b = randf(r, k * n), c2 = new float[m * n], c5 = new float[m * n];
        b2.sgemm(g, 1f, a, 0, b, 0, 0f, c2, 0);
        b5.sgemm(g, 1f, a, 0, b, 0, 0f, c5, 0);
        for (int i = 0; i < c2.length; i++) {
            assertEquals(c2[i], c5[i], 8 * EPS32 * k * (1 + Math.abs(c2[i])));
        }
    }
}
