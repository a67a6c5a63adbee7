package dev.sprout.conformance;

import dev.sprout.backend.Activation;
import dev.sprout.backend.Backend;
import dev.sprout.backend.BackendProvider;
import dev.sprout.backend.Backends;
import dev.sprout.backend.ConvGeometry;
import dev.sprout.backend.GemmShape;
import dev.sprout.backend.GemmShape.Trans;
import dev.sprout.tensor.Rng;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.function.Executable;

import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The conformance suite every backend must pass: each kernel of the {@link Backend} SPI against independent
 * references (plain double-precision loops, closed forms, decomposition invariants), on sizes that straddle
 * vector lanes and cache blocks, with tolerances that grow with the reduction length. It runs over every
 * provider found on the class path; an unavailable backend is skipped with its probe's reason, never failed.
 */
class BackendConformanceTest {

    /** Sizes that straddle lanes (8/16) and blocks. */
    static final int[] SIZES = {1, 7, 8, 9, 15, 16, 17, 31, 33, 63, 64, 65, 127, 129};
    static final double EPS32 = Math.ulp(1.0f), EPS64 = Math.ulp(1.0);

    static Map<String, Consumer<Backend>> kernels() {
        Map<String, Consumer<Backend>> k = new LinkedHashMap<>();
        k.put("allFinite", BackendConformanceTest::allFinite);
        k.put("axpy", BackendConformanceTest::axpy);
        k.put("sgemm", BackendConformanceTest::sgemm);
        k.put("dgemm", BackendConformanceTest::dgemm);
        k.put("sgemmFinite", be -> gemmFinite(be, true));
        k.put("dgemmFinite", be -> gemmFinite(be, false));
        k.put("cgemm", BackendConformanceTest::cgemm);
        k.put("activation", BackendConformanceTest::activation);
        k.put("sumAxis", BackendConformanceTest::sumAxis);
        k.put("im2col", BackendConformanceTest::im2col);
        k.put("col2im", BackendConformanceTest::col2im);
        k.put("weightedGram", BackendConformanceTest::weightedGram);
        k.put("symEig", BackendConformanceTest::symEig);
        k.put("gesv", BackendConformanceTest::gesv);
        k.put("cgesv", BackendConformanceTest::cgesv);
        k.put("badInput", BackendConformanceTest::badInput);
        return k;
    }

    /** Every kernel method of the SPI has a conformance check (informational methods excluded). */
    @Test
    void everySpiKernelIsCovered() {
        Set<String> spi = new TreeSet<>();
        for (Method m : Backend.class.getMethods()) {
            if (!Set.of("name", "describe", "threads").contains(m.getName())) {
                spi.add(m.getName());
            }
        }
        Set<String> covered = new TreeSet<>(kernels().keySet());
        covered.remove("badInput");
        assertEquals(spi, covered, "Backend SPI methods vs conformance checks");
        assertEquals(15, covered.size());
    }

    @TestFactory
    List<DynamicNode> everyBackendAgainstTheReferences() {
        List<DynamicNode> nodes = new ArrayList<>();
        for (BackendProvider p : Backends.providers()) {
            BackendProvider.Probe probe = p.probe();
            List<DynamicNode> tests = new ArrayList<>();
            for (Map.Entry<String, Consumer<Backend>> e : kernels().entrySet()) {
                Executable ex = () -> {
                    Assumptions.assumeTrue(probe.available(), () -> "backend " + p.name() + " unavailable: " + probe.detail());
                    e.getValue().accept(p.create());
                };
                tests.add(DynamicTest.dynamicTest(e.getKey(), ex));
            }
            nodes.add(DynamicContainer.dynamicContainer(p.name(), tests));
        }
        assertTrue(nodes.size() >= 1, "at least the Java backend is discovered");
        return nodes;
    }

    // ------------------------------------------------------------------------------------------ helpers

    static double[] randn(Rng r, int n) {
        double[] x = new double[n];
        for (int i = 0; i < n; i++) {
            x[i] = r.normal();
        }
        return x;
    }

    static float[] f32(double[] x) {
        float[] f = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            f[i] = (float) x[i];
        }
        return f;
    }

    static double at(double[] m, Trans t, int ld, long off, int r, int c) {
        return t.transposed() ? m[(int) (off + (long) c * ld + r)] : m[(int) (off + (long) r * ld + c)];
    }

    /** Reference real gemm in double; returns {value, sum of |products|} per element of C. */
    static double[][] refGemm(GemmShape g, double alpha, double[] a, double[] b, double beta, double[] c0) {
        double[] out = c0.clone(), mag = new double[c0.length];
        for (int bt = 0; bt < g.batch(); bt++) {
            for (int i = 0; i < g.m(); i++) {
                for (int j = 0; j < g.n(); j++) {
                    double s = 0, m = 0;
                    for (int p = 0; p < g.k(); p++) {
                        double t = at(a, g.transA(), g.lda(), bt * g.strideA(), i, p) * at(b, g.transB(), g.ldb(), bt * g.strideB(), p, j);
                        s += t;
                        m += Math.abs(t);
                    }
                    int ci = (int) (bt * g.strideC() + (long) i * g.ldc() + j);
                    out[ci] = alpha * s + (beta == 0 ? 0 : beta * c0[ci]);
                    mag[ci] = Math.abs(alpha) * m + Math.abs(beta * c0[ci]);
                }
            }
        }
        return new double[][] {out, mag};
    }

    static List<GemmShape> gemmShapes() {
        List<GemmShape> shapes = new ArrayList<>();
        for (int s : SIZES) {
            for (Trans ta : new Trans[] {Trans.N, Trans.T}) {
                for (Trans tb : new Trans[] {Trans.N, Trans.T}) {
                    int m = s, n = (s * 5) / 3 + 1, k = (s * 7) / 5 + 2;
                    shapes.add(GemmShape.of(ta.transposed(), tb.transposed(), m, n, k));
                }
            }
        }
        shapes.add(GemmShape.batched(false, true, 3, 17, 9, 33));
        // broadcast B over the batch, padded leading dimensions
        shapes.add(new GemmShape(Trans.N, Trans.N, 5, 6, 7, 9, 8, 10, 4, 5 * 9, 0, 5 * 10));
        shapes.add(GemmShape.of(false, false, 0, 5, 3));
        shapes.add(GemmShape.of(false, false, 4, 5, 0));
        shapes.add(GemmShape.of(false, false, 257, 65, 129));
        // few columns with B transposed (x W^T of a 10-class classifier): the native dot-product path, with k tails,
        // odd rows, a single column, padded leading dimensions and B broadcast over a batch
        shapes.add(GemmShape.of(false, true, 37, 10, 1003));
        shapes.add(GemmShape.of(false, true, 3, 12, 33));
        shapes.add(GemmShape.of(false, true, 6, 1, 40));
        shapes.add(new GemmShape(Trans.N, Trans.T, 5, 7, 40, 43, 41, 9, 3, 5 * 43, 0, 5 * 9));
        return shapes;
    }

    static long len(GemmShape g, char which) {
        return switch (which) {
            case 'A' -> Math.max(1, (g.batch() - 1) * g.strideA() + (long) g.storedRowsA() * g.lda());
            case 'B' -> Math.max(1, (g.batch() - 1) * g.strideB() + (long) g.storedRowsB() * g.ldb());
            default -> Math.max(1, (g.batch() - 1) * g.strideC() + (long) g.m() * g.ldc());
        };
    }

    // ------------------------------------------------------------------------------------------ kernels

    static void sgemm(Backend be) {
        Rng r = new Rng(101);
        int checked = 0;
        for (GemmShape g : gemmShapes()) {
            double[] a = randn(r, (int) len(g, 'A')), b = randn(r, (int) len(g, 'B')), c = randn(r, (int) len(g, 'C'));
            // round inputs to f32 so the reference sees the same numbers
            float[] af = f32(a), bf = f32(b), cf = f32(c);
            for (int i = 0; i < a.length; i++) a[i] = af[i];
            for (int i = 0; i < b.length; i++) b[i] = bf[i];
            for (int i = 0; i < c.length; i++) c[i] = cf[i];
            double alpha = 1.5, beta = checked % 2 == 0 ? 0 : -0.5;
            if (beta == 0) {
                java.util.Arrays.fill(cf, Float.NaN); // beta = 0 must overwrite, even NaN
            }
            be.sgemm(g, (float) alpha, af, 0, bf, 0, (float) beta, cf, 0);
            double[][] ref = refGemm(g, alpha, a, b, beta, c);
            for (int i = 0; i < cf.length; i++) {
                if (!inC(g, i)) {
                    continue;
                }
                double tol = 4 * EPS32 * Math.max(1, g.k()) * ref[1][i] + 1e-30;
                assertEquals(ref[0][i], cf[i], tol, be.name() + " sgemm " + g + " at " + i);
            }
            checked++;
        }
        assertEquals(gemmShapes().size(), checked);
    }

    /** Whether flat index i of a C buffer belongs to some C matrix of the batch (padding is not written). */
    static boolean inC(GemmShape g, int i) {
        for (int bt = 0; bt < g.batch(); bt++) {
            long rel = i - bt * g.strideC();
            if (rel >= 0 && rel < (long) g.m() * g.ldc() && rel % g.ldc() < g.n()) {
                return true;
            }
        }
        return false;
    }

    static void dgemm(Backend be) {
        Rng r = new Rng(102);
        for (GemmShape g : gemmShapes()) {
            double[] a = randn(r, (int) len(g, 'A')), b = randn(r, (int) len(g, 'B')), c = randn(r, (int) len(g, 'C'));
            double[] out = c.clone();
            be.dgemm(g, -0.75, a, 0, b, 0, 2.0, out, 0);
            double[][] ref = refGemm(g, -0.75, a, b, 2.0, c);
            for (int i = 0; i < out.length; i++) {
                if (inC(g, i)) {
                    assertEquals(ref[0][i], out[i], 4 * EPS64 * Math.max(1, g.k()) * ref[1][i] + 1e-300,
                            be.name() + " dgemm " + g + " at " + i);
                }
            }
        }
    }

    /** sgemmFinite / dgemmFinite through one signature (f32 data rounded into and out of double arrays). */
    static boolean product(Backend be, boolean f32, boolean check, GemmShape g, double alpha, double[] a, double[] b,
                           double beta, double[] c) {
        if (!f32) {
            if (check) {
                return be.dgemmFinite(g, alpha, a, 0, b, 0, beta, c, 0);
            }
            be.dgemm(g, alpha, a, 0, b, 0, beta, c, 0);
            return true;
        }
        float[] af = f32(a), bf = f32(b), cf = f32(c);
        boolean ok = true;
        if (check) {
            ok = be.sgemmFinite(g, (float) alpha, af, 0, bf, 0, (float) beta, cf, 0);
        } else {
            be.sgemm(g, (float) alpha, af, 0, bf, 0, (float) beta, cf, 0);
        }
        for (int i = 0; i < c.length; i++) {
            c[i] = cf[i];
        }
        return ok;
    }

    /** Whether every element of every C matrix of the batch is finite (the padding between rows does not count). */
    static boolean cFinite(GemmShape g, double[] c) {
        for (int i = 0; i < c.length; i++) {
            if (inC(g, i) && !Double.isFinite(c[i])) {
                return false;
            }
        }
        return true;
    }

    /**
     * The products that also report whether C came out finite. For every shape of the gemm checks plus larger ones
     * (several depth blocks, several column blocks, more rows than one row block, the MLP's weight-gradient shape):
     * C is bit for bit the plain product's and the answer is true, with NaN in the padding between C's rows (which
     * must be neither read nor written) and NaN in C itself under beta = 0. Then one element of C is made to overflow
     * (a 1e30 x 1e30 term, in f64 1e200 x 1e200, at the last depth step so that only the last depth block sees it)
     * at corners, the middle and the last batch item, under beta = 0.5, 1 and 0 (each way a tile is stored) -- the
     * answer must be false -- and a NaN in A poisons one row.
     * With k = 0, C is only scaled: an infinity in C is reported under beta = 1 and forgotten under beta = 0. In
     * every case the answer must equal a scan of C.
     */
    static void gemmFinite(Backend be, boolean f32) {
        String what = be.name() + (f32 ? " sgemmFinite " : " dgemmFinite ");
        double huge = f32 ? 1e30 : 1e200;
        Rng r = new Rng(f32 ? 105 : 106);
        List<GemmShape> shapes = new ArrayList<>(gemmShapes());
        shapes.add(GemmShape.of(false, false, 900, 530, 300));
        shapes.add(GemmShape.of(true, false, 1024, 784, 128));
        shapes.add(GemmShape.of(false, true, 130, 520, 260));
        int poisoned = 0;
        for (GemmShape g : shapes) {
            double[] a = randn(r, (int) len(g, 'A')), b = randn(r, (int) len(g, 'B')), c0 = randn(r, (int) len(g, 'C'));
            for (int i = 0; i < c0.length; i++) {
                if (!inC(g, i)) {
                    c0[i] = Double.NaN;
                }
            }
            for (double beta : new double[] {0, 0.5}) {
                double[] plain = c0.clone(), fused = c0.clone();
                if (beta == 0) {
                    for (int i = 0; i < c0.length; i++) {
                        plain[i] = fused[i] = Double.NaN;
                    }
                }
                product(be, f32, false, g, 1.25, a, b, beta, plain);
                boolean ok = product(be, f32, true, g, 1.25, a, b, beta, fused);
                assertArrayEquals(plain, fused, what + g + " beta " + beta + ": C differs from the plain product's");
                assertEquals(cFinite(g, fused), ok, what + g + " beta " + beta + ": answer vs a scan of C");
                assertTrue(ok, what + g + " beta " + beta + ": finite data reported non-finite");
            }
            if (g.batch() == 0 || g.m() == 0 || g.n() == 0) {
                continue;
            }
            int lastB = g.batch() - 1;
            int[][] spots = {{0, 0, 0}, {lastB, g.m() - 1, g.n() - 1}, {lastB, g.m() - 1, 0}, {0, g.m() / 2, g.n() / 2}};
            if (g.k() == 0) {
                for (int[] s : spots) {
                    double[] c = c0.clone();
                    c[(int) (s[0] * g.strideC() + (long) s[1] * g.ldc() + s[2])] = Double.POSITIVE_INFINITY;
                    double[] keep = c.clone();
                    boolean ok1 = product(be, f32, true, g, 1.25, a, b, 1.0, c);
                    assertFalse(ok1, what + g + ": an infinity in C under beta = 1 (k = 0) not reported");
                    assertEquals(cFinite(g, c), ok1, what + g + ": answer vs a scan of C (k = 0)");
                    assertTrue(product(be, f32, true, g, 1.25, a, b, 0.0, keep), what + g + ": beta = 0 (k = 0) clears C");
                }
                continue;
            }
            int p = g.k() - 1;
            double[] betas = {0.5, 1.0, 0.0, 0.5};  // each way a tile is stored: C read and scaled, added, overwritten
            for (int si = 0; si < spots.length; si++) {
                int[] s = spots[si];
                int bt = s[0], i = s[1], j = s[2];
                double[] pa = a.clone(), pb = b.clone(), c = c0.clone();
                for (int row = 0; row < g.m(); row++) {
                    pa[aIndex(g, bt, row, p)] = row == i ? huge : 0;
                }
                for (int col = 0; col < g.n(); col++) {
                    pb[bIndex(g, bt, p, col)] = col == j ? huge : 0;
                }
                boolean ok = product(be, f32, true, g, 1.25, pa, pb, betas[si], c);
                String at = what + g + " overflow at batch " + bt + " (" + i + ", " + j + "), beta " + betas[si];
                assertTrue(Double.isInfinite(c[(int) (bt * g.strideC() + (long) i * g.ldc() + j)]), at + ": C is not infinite there");
                assertFalse(ok, at + ": not reported");
                assertEquals(cFinite(g, c), ok, at + ": answer vs a scan of C");
                double[] na = a.clone(), cn = c0.clone();
                na[aIndex(g, bt, i, 0)] = Double.NaN;
                boolean okNaN = product(be, f32, true, g, 1.25, na, b, 0.0, cn);
                assertFalse(okNaN, what + g + " NaN in A at batch " + bt + " row " + i + ": not reported");
                assertEquals(cFinite(g, cn), okNaN, what + g + " NaN in A: answer vs a scan of C");
                poisoned++;
            }
        }
        assertTrue(poisoned > 4 * gemmShapes().size() / 2, what + "poisoned cases run: " + poisoned);
    }

    static int aIndex(GemmShape g, int bt, int row, int depth) {
        return (int) (bt * g.strideA() + (g.transA().transposed() ? (long) depth * g.lda() + row : (long) row * g.lda() + depth));
    }

    static int bIndex(GemmShape g, int bt, int depth, int col) {
        return (int) (bt * g.strideB() + (g.transB().transposed() ? (long) col * g.ldb() + depth : (long) depth * g.ldb() + col));
    }

    static void cgemm(Backend be) {
        Rng r = new Rng(103);
        Trans[] ts = {Trans.N, Trans.T, Trans.H};
        for (int s : new int[] {1, 7, 8, 9, 17, 33, 65}) {
            for (Trans ta : ts) {
                for (Trans tb : ts) {
                    int m = s, n = s + 2, k = s + 3;
                    int lda = ta.transposed() ? m : k, ldb = tb.transposed() ? k : n;
                    GemmShape g = new GemmShape(ta, tb, m, n, k, lda, ldb, n, 1, 0, 0, 0);
                    float[] a = f32(randn(r, 2 * m * k)), b = f32(randn(r, 2 * k * n)), c = f32(randn(r, 2 * m * n));
                    float[] out = c.clone();
                    float ar = 0.5f, ai = -1.25f, br = 0.25f, bi = 0.5f;
                    be.cgemm(g, ar, ai, a, 0, b, 0, br, bi, out, 0);
                    for (int i = 0; i < m; i++) {
                        for (int j = 0; j < n; j++) {
                            double sr = 0, si = 0, mag = 0;
                            for (int p = 0; p < k; p++) {
                                int ia = ta.transposed() ? p * lda + i : i * lda + p;
                                int ib = tb.transposed() ? j * ldb + p : p * ldb + j;
                                double xr = a[2 * ia], xi = ta == Trans.H ? -a[2 * ia + 1] : a[2 * ia + 1];
                                double yr = b[2 * ib], yi = tb == Trans.H ? -b[2 * ib + 1] : b[2 * ib + 1];
                                sr += xr * yr - xi * yi;
                                si += xr * yi + xi * yr;
                                mag += Math.hypot(xr, xi) * Math.hypot(yr, yi);
                            }
                            int q = 2 * (i * n + j);
                            double er = ar * sr - ai * si + br * c[q] - bi * c[q + 1];
                            double ei = ar * si + ai * sr + br * c[q + 1] + bi * c[q];
                            double tol = 8 * EPS32 * Math.max(1, k) * (Math.hypot(ar, ai) * mag + 2 * Math.hypot(c[q], c[q + 1])) + 1e-30;
                            assertEquals(er, out[q], tol, be.name() + " cgemm re " + g + " (" + i + "," + j + ")");
                            assertEquals(ei, out[q + 1], tol, be.name() + " cgemm im " + g + " (" + i + "," + j + ")");
                        }
                    }
                }
            }
        }
    }

    static void activation(Backend be) {
        // ReLU at the special values, both precisions, against Activation.eval (Math.max(0, x)): NaN stays NaN (never
        // trained on as a zero), -0 becomes +0, infinities; its derivative is 1 only where x > 0
        double[] special = {Double.NaN, -0.0, 0.0, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, -1e-40, 1e-40, 3.5, -2};
        for (int order = 0; order <= 1; order++) {
            double[] y = new double[special.length];
            float[] sf = f32(special), yf = new float[special.length];
            be.activation(Activation.RELU, order, 0.0, special, 0, y, 0, special.length);
            be.activation(Activation.RELU, order, 0f, sf, 0, yf, 0, special.length);
            for (int i = 0; i < special.length; i++) {
                double ref = Activation.RELU.eval(special[i], order, 0), reff = Activation.RELU.eval(sf[i], order, 0);
                assertEquals(Double.doubleToLongBits(ref), Double.doubleToLongBits(y[i]),
                        be.name() + " relu^(" + order + ") f64 at " + special[i] + ": " + y[i] + " vs " + ref);
                assertEquals(Float.floatToIntBits((float) reff), Float.floatToIntBits(yf[i]),
                        be.name() + " relu^(" + order + ") f32 at " + sf[i] + ": " + yf[i] + " vs " + reff);
            }
        }
        double[] x = randn(new Rng(104), 129);
        float[] xf = f32(x);
        for (Activation f : Activation.values()) {
            for (int order = 0; order <= Activation.MAX_ORDER; order++) {
                double[] y = new double[x.length];
                float[] yf = new float[x.length];
                be.activation(f, order, 1.7, x, 0, y, 0, x.length);
                be.activation(f, order, 1.7f, xf, 0, yf, 0, x.length);
                for (int i = 0; i < x.length; i++) {
                    double ref = f.eval(x[i], order, 1.7), reff = f.eval(xf[i], order, 1.7);
                    assertEquals(ref, y[i], 1e-13 * Math.max(1, Math.abs(ref)), be.name() + " " + f + "^(" + order + ") f64");
                    assertEquals(reff, yf[i], 4 * EPS32 * Math.max(1, Math.abs(reff)) * (1 + order),
                            be.name() + " " + f + "^(" + order + ") f32 at " + xf[i]);
                }
            }
        }
    }

    /**
     * The finite check: NaN and both infinities found at the start, in the vector body and in the tail of lengths
     * that straddle lanes, at an offset; finite extremes (+-MAX, subnormals, -0) pass; a range after the bad value
     * passes; n = 0 is finite.
     */
    static void allFinite(Backend be) {
        for (int n : new int[] {0, 1, 7, 8, 9, 15, 16, 17, 63, 64, 65, 1003, 4099}) {
            double[] ok = new double[n + 5];
            float[] okf = new float[n + 5];
            for (int i = 0; i < ok.length; i++) {
                double v = switch (i % 4) {
                    case 0 -> Double.MAX_VALUE;
                    case 1 -> -Double.MIN_VALUE;
                    case 2 -> -0.0;
                    default -> i;
                };
                ok[i] = v;
                okf[i] = i % 4 == 0 ? -Float.MAX_VALUE : i % 4 == 1 ? Float.MIN_VALUE : (float) v;
            }
            assertTrue(be.allFinite(ok, 3, n), be.name() + " allFinite f64 finite n=" + n);
            assertTrue(be.allFinite(okf, 3, n), be.name() + " allFinite f32 finite n=" + n);
            if (n == 0) {
                continue;
            }
            for (int at : new int[] {0, n / 2, n - 1}) {
                for (double bad : new double[] {Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY}) {
                    double[] a = ok.clone();
                    float[] af = okf.clone();
                    a[3 + at] = bad;
                    af[3 + at] = (float) bad;
                    String what = " n=" + n + " at=" + at + " value=" + bad;
                    assertFalse(be.allFinite(a, 3, n), be.name() + " allFinite f64" + what);
                    assertFalse(be.allFinite(af, 3, n), be.name() + " allFinite f32" + what);
                    assertTrue(be.allFinite(a, 3 + at + 1, n - at - 1), be.name() + " allFinite f64 after" + what);
                    assertTrue(be.allFinite(af, 3 + at + 1, n - at - 1), be.name() + " allFinite f32 after" + what);
                }
            }
        }
        // a value outside the range does not count
        float[] edge = {Float.NaN, 1f, 2f, Float.POSITIVE_INFINITY};
        assertTrue(be.allFinite(edge, 1, 2), be.name() + " allFinite reads only its range");
    }

    /**
     * y += alpha x against a plain loop with the product rounded first (bit for bit: the SPI forbids a fused
     * multiply-add there), at offsets, on lengths that straddle lanes, with NaN, infinities, -0 and subnormals among
     * the values; x and y the same array at the same offset; nothing outside the range written.
     */
    static void axpy(Backend be) {
        java.util.Random r = new java.util.Random(17);
        float[] specialsF = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, -0f, Float.MIN_VALUE, Float.MAX_VALUE};
        for (int n : new int[] {0, 1, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 1003, 4099}) {
            for (float alpha : new float[] {-0.01f, 1.5f, 0f}) {
                float[] x = new float[n + 5], y = new float[n + 9];
                double[] xd = new double[n + 5], yd = new double[n + 9];
                for (int i = 0; i < x.length; i++) {
                    x[i] = i % 37 == 5 ? specialsF[i % specialsF.length] : (float) r.nextGaussian();
                    xd[i] = x[i] * 1.000000001;
                }
                for (int i = 0; i < y.length; i++) {
                    y[i] = i % 41 == 3 ? specialsF[(i + 2) % specialsF.length] : (float) r.nextGaussian();
                    yd[i] = y[i] * 0.999999999;
                }
                float[] ef = y.clone();
                double[] ed = yd.clone();
                for (int i = 0; i < n; i++) {
                    float p = alpha * x[2 + i];
                    ef[6 + i] = ef[6 + i] + p;
                    double q = alpha * xd[2 + i];
                    ed[6 + i] = ed[6 + i] + q;
                }
                be.axpy(n, alpha, x, 2, y, 6);
                be.axpy(n, (double) alpha, xd, 2, yd, 6);
                for (int i = 0; i < y.length; i++) {
                    assertEquals(Float.floatToRawIntBits(ef[i]), Float.floatToRawIntBits(y[i]),
                            be.name() + " axpy f32 n=" + n + " alpha=" + alpha + " at " + i + ": " + ef[i] + " vs " + y[i]);
                    assertEquals(Double.doubleToRawLongBits(ed[i]), Double.doubleToRawLongBits(yd[i]),
                            be.name() + " axpy f64 n=" + n + " alpha=" + alpha + " at " + i + ": " + ed[i] + " vs " + yd[i]);
                }
            }
            // the same array as x and y, same offset: y = y + alpha y
            float[] s = new float[n + 3];
            for (int i = 0; i < s.length; i++) {
                s[i] = (float) r.nextGaussian();
            }
            float[] es = s.clone();
            for (int i = 0; i < n; i++) {
                float p = 0.25f * es[1 + i];
                es[1 + i] = es[1 + i] + p;
            }
            be.axpy(n, 0.25f, s, 1, s, 1);
            assertArrayEquals(es, s, be.name() + " axpy in place n=" + n);
        }
    }

    static void sumAxis(Backend be) {
        Rng r = new Rng(105);
        for (int[] s : new int[][] {{1, 1, 1}, {3, 17, 1}, {2, 33, 5}, {1, 1025, 1}, {4, 9, 16}, {5, 0, 3}}) {
            int outer = s[0], len = s[1], inner = s[2];
            double[] x = randn(r, outer * len * inner);
            double[] out = new double[outer * inner];
            float[] outf = new float[outer * inner];
            be.sumAxis(x, 0, outer, len, inner, out, 0);
            be.sumAxis(f32(x), 0, outer, len, inner, outf, 0);
            for (int o = 0; o < outer; o++) {
                for (int i = 0; i < inner; i++) {
                    double ref = 0, reff = 0, mag = 0;
                    for (int l = 0; l < len; l++) {
                        double v = x[(o * len + l) * inner + i];
                        ref += v;
                        reff += (float) v;
                        mag += Math.abs(v);
                    }
                    assertEquals(ref, out[o * inner + i], 4 * EPS64 * Math.max(1, len) * mag + 1e-300, be.name() + " sumAxis f64");
                    assertEquals(reff, outf[o * inner + i], 4 * EPS32 * Math.max(1, len) * mag + 1e-30, be.name() + " sumAxis f32");
                }
            }
        }
    }

    /** The first and the last five have "same" geometry (stride 1, outW == W: the native band fast path). */
    static final ConvGeometry[] CONVS = {ConvGeometry.square(1, 28, 28, 3, 1, 1), ConvGeometry.square(32, 14, 14, 3, 2, 1),
            ConvGeometry.square(3, 7, 9, 3, 1, 0), new ConvGeometry(2, 5, 8, 2, 3, 1, 2, 0, 1),
            ConvGeometry.square(3, 7, 6, 5, 1, 2), ConvGeometry.square(2, 4, 9, 1, 1, 0),
            new ConvGeometry(2, 3, 5, 5, 3, 1, 1, 4, 1), ConvGeometry.square(2, 1, 1, 3, 1, 1),
            new ConvGeometry(3, 2, 37, 3, 3, 1, 1, 1, 1)};

    static void im2col(Backend be) {
        Rng r = new Rng(106);
        for (ConvGeometry g : CONVS) {
            double[] x = randn(r, g.imageSize());
            double[] col = new double[g.colRows() * g.colCols()];
            float[] colf = new float[col.length];
            be.im2col(g, x, 0, col, 0);
            be.im2col(g, f32(x), 0, colf, 0);
            int oh = g.outH(), ow = g.outW();
            for (int c = 0; c < g.channels(); c++) {
                for (int ki = 0; ki < g.kernelH(); ki++) {
                    for (int kj = 0; kj < g.kernelW(); kj++) {
                        int row = (c * g.kernelH() + ki) * g.kernelW() + kj;
                        for (int oy = 0; oy < oh; oy++) {
                            for (int ox = 0; ox < ow; ox++) {
                                int iy = oy * g.strideH() - g.padH() + ki, ix = ox * g.strideW() - g.padW() + kj;
                                double ref = iy < 0 || iy >= g.height() || ix < 0 || ix >= g.width() ? 0
                                        : x[(c * g.height() + iy) * g.width() + ix];
                                int p = row * oh * ow + oy * ow + ox;
                                assertEquals(ref, col[p], 0.0, be.name() + " im2col " + g);
                                assertEquals((float) ref, colf[p], 0f, be.name() + " im2col f32 " + g);
                            }
                        }
                    }
                }
            }
        }
    }

    /** col2im is the adjoint of im2col: {@code <im2col(x), y> = <x, col2im(y)>}. */
    static void col2im(Backend be) {
        Rng r = new Rng(107);
        for (ConvGeometry g : CONVS) {
            double[] x = randn(r, g.imageSize()), y = randn(r, g.colRows() * g.colCols());
            double[] col = new double[y.length], back = new double[x.length];
            float[] backf = new float[x.length];
            java.util.Arrays.fill(back, 7.0); // must be overwritten
            be.im2col(g, x, 0, col, 0);
            be.col2im(g, y, 0, back, 0);
            be.col2im(g, f32(y), 0, backf, 0);
            double lhs = 0, rhs = 0, mag = 0;
            for (int i = 0; i < y.length; i++) {
                lhs += col[i] * y[i];
                mag += Math.abs(col[i] * y[i]);
            }
            for (int i = 0; i < x.length; i++) {
                rhs += x[i] * back[i];
                assertEquals(back[i], backf[i], 4 * EPS32 * g.kernelH() * g.kernelW() * (1 + Math.abs(back[i])), be.name() + " col2im f32");
            }
            assertEquals(lhs, rhs, 8 * EPS64 * y.length * mag, be.name() + " col2im adjoint " + g);
        }
    }

    static void weightedGram(Backend be) {
        Rng r = new Rng(108);
        for (int[] s : new int[][] {{1, 1, 1}, {17, 9, 5}, {64, 33, 3}, {100, 65, 2}}) {
            int samples = s[0], d = s[1], neurons = s[2];
            double[] x = randn(r, samples * d), w = randn(r, samples * neurons);
            float[] xf = f32(x), wf = f32(w);
            double[] out = new double[neurons * d * d];
            float[] outf = new float[neurons * d * d];
            be.weightedGram(samples, d, neurons, x, 0, w, 0, out, 0);
            be.weightedGram(samples, d, neurons, xf, 0, wf, 0, outf, 0);
            for (int i = 0; i < neurons; i++) {
                for (int a = 0; a < d; a++) {
                    for (int b = 0; b < d; b++) {
                        double ref = 0, mag = 0, reff = 0;
                        for (int n = 0; n < samples; n++) {
                            double t = w[n * neurons + i] * x[n * d + a] * x[n * d + b];
                            ref += t;
                            mag += Math.abs(t);
                            reff += (double) wf[n * neurons + i] * xf[n * d + a] * xf[n * d + b];
                        }
                        int p = (i * d + a) * d + b;
                        assertEquals(ref, out[p], 4 * EPS64 * samples * mag + 1e-300, be.name() + " weightedGram f64");
                        assertEquals(reff, outf[p], 8 * EPS32 * samples * mag + 1e-30, be.name() + " weightedGram f32");
                    }
                }
            }
        }
    }

    /** Eigen-decomposition: A V = V diag(w), V^T V = I, ascending w; smallest-k agrees with the full solve. */
    static void symEig(Backend be) {
        Rng r = new Rng(109);
        for (int n : new int[] {1, 2, 7, 16, 33, 64}) {
            int batch = 3;
            double[] a = new double[batch * n * n];
            for (int b = 0; b < batch; b++) {
                double[] m = randn(r, n * n);
                for (int i = 0; i < n; i++) {
                    for (int j = 0; j < n; j++) {
                        a[b * n * n + i * n + j] = m[i * n + j] + m[j * n + i];
                    }
                }
            }
            double[] w = new double[batch * n], v = new double[batch * n * n];
            be.symEig(batch, n, n, a, 0, w, 0, v, 0);
            float[] af = f32(a), wf = new float[batch * n], vf = new float[batch * n * n];
            be.symEig(batch, n, n, af, 0, wf, 0, vf, 0);
            for (int b = 0; b < batch; b++) {
                double norm = 0;
                for (int i = 0; i < n * n; i++) {
                    norm = Math.max(norm, Math.abs(a[b * n * n + i]));
                }
                checkEigen(be.name() + " f64 n=" + n, n, n, a, b * n * n, w, b * n, v, b * n * n, norm, 64 * EPS64 * n);
                double[] ad = new double[n * n], wd = new double[n], vd = new double[n * n];
                for (int i = 0; i < n * n; i++) {
                    ad[i] = af[b * n * n + i];
                    vd[i] = vf[b * n * n + i];
                }
                for (int i = 0; i < n; i++) {
                    wd[i] = wf[b * n + i];
                }
                checkEigen(be.name() + " f32 n=" + n, n, n, ad, 0, wd, 0, vd, 0, norm, 64 * EPS32 * n);
            }
            // smallest k only: same values as the full solve, vectors satisfy the equation
            int k = Math.max(1, n / 4);
            double[] wk = new double[batch * k], vk = new double[batch * n * k];
            be.symEig(batch, n, k, a, 0, wk, 0, vk, 0);
            for (int b = 0; b < batch; b++) {
                for (int j = 0; j < k; j++) {
                    assertEquals(w[b * n + j], wk[b * k + j], 64 * EPS64 * n * (1 + Math.abs(w[b * n + j])),
                            be.name() + " smallest-k value " + j);
                }
                double norm = 0;
                for (int i = 0; i < n * n; i++) {
                    norm = Math.max(norm, Math.abs(a[b * n * n + i]));
                }
                checkEigen(be.name() + " f64 smallest k=" + k + " n=" + n, n, k, a, b * n * n, wk, b * k, vk, b * n * k, norm, 64 * EPS64 * n);
            }
            // values only (v == null)
            double[] wOnly = new double[batch * n];
            be.symEig(batch, n, n, a, 0, wOnly, 0, null, 0);
            for (int i = 0; i < wOnly.length; i++) {
                assertEquals(w[i], wOnly[i], 64 * EPS64 * n * (1 + Math.abs(w[i])), be.name() + " values only");
            }
        }
    }

    static void checkEigen(String what, int n, int k, double[] a, int aOff, double[] w, int wOff, double[] v, int vOff,
                           double norm, double rel) {
        for (int j = 0; j < k; j++) {
            if (j > 0) {
                assertTrue(w[wOff + j] >= w[wOff + j - 1] - rel * norm, what + ": eigenvalues ascending");
            }
            for (int i = 0; i < n; i++) {
                double av = 0;
                for (int p = 0; p < n; p++) {
                    av += a[aOff + i * n + p] * v[vOff + p * k + j];
                }
                assertEquals(w[wOff + j] * v[vOff + i * k + j], av, rel * norm * Math.sqrt(n) + 1e-300, what + ": A v = w v");
            }
            for (int j2 = 0; j2 <= j; j2++) {
                double dot = 0;
                for (int i = 0; i < n; i++) {
                    dot += v[vOff + i * k + j] * v[vOff + i * k + j2];
                }
                assertEquals(j == j2 ? 1.0 : 0.0, dot, rel * Math.sqrt(n) * 4, what + ": V^T V = I at " + j + "," + j2);
            }
        }
    }

    static void gesv(Backend be) {
        Rng r = new Rng(110);
        for (int n : new int[] {1, 2, 9, 33, 64, 129}) {
            int nrhs = 3;
            double[] a = randn(r, n * n), x = randn(r, n * nrhs);
            for (int i = 0; i < n; i++) {
                a[i * n + i] += n; // well conditioned
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
            float[] luf = f32(a), solf = f32(b);
            assertEquals(0, be.gesv(n, nrhs, luf, 0, solf, 0));
            for (int i = 0; i < n * nrhs; i++) {
                assertEquals(x[i], sol[i], 1e3 * EPS64 * n, be.name() + " gesv f64 n=" + n);
                assertEquals(x[i], solf[i], 1e3 * EPS32 * n, be.name() + " gesv f32 n=" + n);
            }
        }
        // singular: info names the zero pivot, b untouched
        double[] sing = {1, 2, 2, 4};
        double[] rhs = {1, 1};
        int info = be.gesv(2, 1, sing, 0, rhs, 0);
        assertEquals(2, info, be.name() + " singular matrix reports pivot 2");
        assertEquals(1.0, rhs[0]);
    }

    static void cgesv(Backend be) {
        Rng r = new Rng(111);
        for (int n : new int[] {1, 3, 16, 65, 128}) {
            int nrhs = 2;
            float[] a = f32(randn(r, 2 * n * n)), x = f32(randn(r, 2 * n * nrhs));
            for (int i = 0; i < n; i++) {
                a[2 * (i * n + i)] += n;
            }
            float[] b = new float[2 * n * nrhs];
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < nrhs; j++) {
                    double sr = 0, si = 0;
                    for (int p = 0; p < n; p++) {
                        double ar = a[2 * (i * n + p)], ai = a[2 * (i * n + p) + 1];
                        double xr = x[2 * (p * nrhs + j)], xi = x[2 * (p * nrhs + j) + 1];
                        sr += ar * xr - ai * xi;
                        si += ar * xi + ai * xr;
                    }
                    b[2 * (i * nrhs + j)] = (float) sr;
                    b[2 * (i * nrhs + j) + 1] = (float) si;
                }
            }
            float[] lu = a.clone(), sol = b.clone();
            assertEquals(0, be.cgesv(n, nrhs, lu, 0, sol, 0));
            for (int i = 0; i < sol.length; i++) {
                assertEquals(x[i], sol[i], 2e3 * EPS32 * n, be.name() + " cgesv n=" + n + " at " + i);
            }
        }
    }

    /** Bad input is an exception that names the operation, never a crash or a silent overrun. */
    static void badInput(Backend be) {
        GemmShape g = GemmShape.of(false, false, 4, 4, 4);
        IndexOutOfBoundsException e = assertThrows(IndexOutOfBoundsException.class,
                () -> be.sgemm(g, 1f, new float[15], 0, new float[16], 0, 0f, new float[16], 0));
        assertTrue(e.getMessage().contains("operand A"), e.getMessage());
        assertThrows(IndexOutOfBoundsException.class, () -> be.dgemm(g, 1, new double[16], 0, new double[16], 1, 0, new double[16], 0));
        assertThrows(IllegalArgumentException.class, () -> GemmShape.of(false, false, -1, 2, 2));
        assertThrows(IndexOutOfBoundsException.class,
                () -> be.symEig(2, 4, 4, new double[31], 0, new double[8], 0, new double[32], 0));
        assertThrows(IllegalArgumentException.class,
                () -> be.symEig(1, 4, 5, new double[16], 0, new double[5], 0, new double[20], 0));
        assertThrows(IndexOutOfBoundsException.class, () -> be.gesv(3, 1, new double[8], 0, new double[3], 0));
        assertThrows(IndexOutOfBoundsException.class, () -> be.cgesv(3, 1, new float[18], 0, new float[5], 0));
        assertThrows(IndexOutOfBoundsException.class,
                () -> be.im2col(ConvGeometry.square(1, 4, 4, 3, 1, 0), new float[15], 0, new float[36], 0));
        assertThrows(IndexOutOfBoundsException.class, () -> be.allFinite(new float[8], 4, 5));
        assertThrows(IndexOutOfBoundsException.class, () -> be.allFinite(new double[8], -1, 2));
        assertThrows(NullPointerException.class, () -> be.allFinite((float[]) null, 0, 1));
        assertThrows(IndexOutOfBoundsException.class, () -> be.axpy(5, 1f, new float[8], 4, new float[8], 0));
        assertThrows(IndexOutOfBoundsException.class, () -> be.axpy(5, 1.0, new double[8], 0, new double[4], 0));
        assertThrows(NullPointerException.class, () -> be.axpy(1, 1f, null, 0, new float[1], 0));
        assertThrows(IllegalArgumentException.class, () -> be.axpy(-1, 1f, new float[1], 0, new float[1], 0));
        float[] shared = {1, 2, 3, 4, 5, 6};
        IllegalArgumentException overlap = assertThrows(IllegalArgumentException.class, () -> be.axpy(4, 1f, shared, 0, shared, 2));
        assertTrue(overlap.getMessage().contains("overlap"), overlap.getMessage());
        assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, shared, "refused axpy wrote nothing");
    }
}
