package dev.sprout.cuda;

import dev.sprout.backend.java.JavaBackend;
import dev.sprout.tensor.Rng;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The weighted Gram kernels against the Java reference backend: sizes that straddle the 64-wide tiles and the
 * 8/16-sample chunks, the splitting size d = 576 / neurons = 64, accumulation into a non-symmetric S (the result
 * is 0.5 (S + S^T) + G, exactly symmetric), exact small-integer answers, bad shapes, and a timing of the
 * production sizes (printed). Runs only where a CUDA device is available.
 */
class CudaGramTest {

    // ------------------------------------------------------------------------------------------ tolerances
    static final double EPS32 = Math.ulp(1.0f), EPS64 = Math.ulp(1.0);
    /**
     * Per unit of max(1, samples) * bound + |S0[r][c]| + |S0[c][r]|, where bound >= sum_n |w x_a x_b| (Cauchy-Schwarz):
     * each side sums samples products in its own order (error <= samples u bound) and averages the triangles.
     */
    static final double GRAM_F32 = 8 * EPS32, GRAM_F64 = 8 * EPS64;

    /** {samples, d, neurons}: the conformance sizes, tile and chunk edges, d = 576 with 64 neurons, many neurons. */
    static final int[][] SHAPES = {{1, 1, 1}, {17, 9, 5}, {64, 33, 3}, {100, 65, 2}, {31, 129, 3}, {33, 64, 7},
            {7, 127, 2}, {129, 1, 1}, {65, 577, 1}, {9, 63, 4}, {300, 576, 64}, {40, 64, 1000}};

    /** Multi-threaded only across neurons, each neuron computed as with one thread: the same numbers as JavaBackend(1). */
    private final JavaBackend ref = new JavaBackend(Math.max(1, Math.min(8, Runtime.getRuntime().availableProcessors())));
    private CudaDevice dev;

    @BeforeEach
    void gpu() {
        Assumptions.assumeTrue(CudaDevice.available(), CudaDevice::unavailableReason);
        dev = CudaDevice.shared();
    }

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

    /** sqrt(D[i][a]) with D[i][a] = sum_n |w[n, i]| x[n, a]^2, so that sum_n |w x_a x_b| <= sqrt(D_a) sqrt(D_b). */
    static double[] rootDiag(int samples, int d, int neurons, double[] x, double[] w) {
        double[] r = new double[neurons * d];
        for (int n = 0; n < samples; n++) {
            for (int i = 0; i < neurons; i++) {
                double wi = Math.abs(w[n * neurons + i]);
                for (int a = 0; a < d; a++) {
                    double v = x[n * d + a];
                    r[i * d + a] += wi * v * v;
                }
            }
        }
        for (int k = 0; k < r.length; k++) {
            r[k] = Math.sqrt(r[k]);
        }
        return r;
    }

    @Test
    void matchesJavaOnTileAndChunkEdgesWithANonSymmetricStart() {
        Rng r = new Rng(301);
        for (int[] s : SHAPES) {
            int samples = s[0], d = s[1], neurons = s[2];
            int xOff = 3, wOff = 1, sOff = 2;
            double[] x = randn(r, samples * d + xOff), w = randn(r, samples * neurons + wOff);
            double[] s0 = randn(r, neurons * d * d + sOff + 1);
            float[] xf = f32(x), wf = f32(w), s0f = f32(s0);
            double[] got = s0.clone(), want = s0.clone();
            float[] gotf = s0f.clone(), wantf = s0f.clone();
            ref.weightedGram(samples, d, neurons, x, xOff, w, wOff, want, sOff);
            ref.weightedGram(samples, d, neurons, xf, xOff, wf, wOff, wantf, sOff);
            try (DeviceBuffer dx = dev.upload(x, 0, x.length); DeviceBuffer dw = dev.upload(w, 0, w.length);
                 DeviceBuffer ds = dev.upload(got, 0, got.length); DeviceBuffer dxf = dev.upload(xf, 0, xf.length);
                 DeviceBuffer dwf = dev.upload(wf, 0, wf.length); DeviceBuffer dsf = dev.upload(gotf, 0, gotf.length)) {
                CudaGram.weightedGramF64(dev, samples, d, neurons, dx, xOff, dw, wOff, ds, sOff);
                CudaGram.weightedGramF32(dev, samples, d, neurons, dxf, xOff, dwf, wOff, dsf, sOff);
                dev.download(ds, 0, got, 0, got.length);
                dev.download(dsf, 0, gotf, 0, gotf.length);
            }
            double[] root = rootDiag(samples, d, neurons, Arrays.copyOfRange(x, xOff, x.length),
                    Arrays.copyOfRange(w, wOff, w.length));
            String shape = "samples=" + samples + " d=" + d + " neurons=" + neurons;
            assertEquals(s0[0], got[0], 0.0, "before s untouched " + shape);
            assertEquals(s0[1], got[1], 0.0, "before s untouched " + shape);
            assertEquals(s0[s0.length - 1], got[got.length - 1], 0.0, "after s untouched " + shape);
            assertEquals(s0f[s0f.length - 1], gotf[gotf.length - 1], 0f, "after s untouched f32 " + shape);
            int checked = 0;
            for (int i = 0; i < neurons; i++) {
                for (int a = 0; a < d; a++) {
                    for (int b = 0; b < d; b++) {
                        int p = sOff + (i * d + a) * d + b, q = sOff + (i * d + b) * d + a;
                        double bound = Math.max(1, samples) * root[i * d + a] * root[i * d + b];
                        double tol = GRAM_F64 * (bound + Math.abs(s0[p]) + Math.abs(s0[q])) + 1e-300;
                        double tolf = GRAM_F32 * (bound + Math.abs(s0f[p]) + Math.abs(s0f[q])) + 1e-30;
                        // checked by hand, not with assertEquals per element: millions of messages would dominate
                        if (!(Math.abs(want[p] - got[p]) <= tol) || !(Math.abs(wantf[p] - gotf[p]) <= tolf)
                                || got[p] != got[q] || gotf[p] != gotf[q]) {
                            fail(shape + " S[" + i + "][" + a + "][" + b + "]: f64 " + got[p] + " (mirror " + got[q]
                                    + ") vs Java " + want[p] + " +- " + tol + "; f32 " + gotf[p] + " (mirror " + gotf[q]
                                    + ") vs Java " + wantf[p] + " +- " + tolf);
                        }
                        checked++;
                    }
                }
            }
            assertEquals(neurons * d * d, checked);
        }
    }

    /** Small integers: every product and sum is exact, so the kernels agree with Java bit for bit. */
    @Test
    void smallIntegersAreExact() {
        int samples = 37, d = 70, neurons = 3;
        Rng r = new Rng(302);
        float[] x = new float[samples * d], w = new float[samples * neurons], s = new float[neurons * d * d];
        for (int k = 0; k < x.length; k++) {
            x[k] = r.nextInt(5) - 2;
        }
        for (int k = 0; k < w.length; k++) {
            w[k] = r.nextInt(4) - 1;
        }
        for (int k = 0; k < s.length; k++) {
            s[k] = r.nextInt(9) - 4;
        }
        float[] want = s.clone(), got = new float[s.length];
        ref.weightedGram(samples, d, neurons, x, 0, w, 0, want, 0);
        double[] xd = new double[x.length], wd = new double[w.length], sd = new double[s.length], gotd = new double[s.length];
        for (int k = 0; k < x.length; k++) {
            xd[k] = x[k];
        }
        for (int k = 0; k < w.length; k++) {
            wd[k] = w[k];
        }
        for (int k = 0; k < s.length; k++) {
            sd[k] = s[k];
        }
        try (DeviceBuffer dx = dev.upload(x, 0, x.length); DeviceBuffer dw = dev.upload(w, 0, w.length);
             DeviceBuffer ds = dev.upload(s, 0, s.length); DeviceBuffer dxd = dev.upload(xd, 0, xd.length);
             DeviceBuffer dwd = dev.upload(wd, 0, wd.length); DeviceBuffer dsd = dev.upload(sd, 0, sd.length)) {
            CudaGram.weightedGramF32(dev, samples, d, neurons, dx, 0, dw, 0, ds, 0);
            CudaGram.weightedGramF64(dev, samples, d, neurons, dxd, 0, dwd, 0, dsd, 0);
            dev.download(ds, 0, got, 0, got.length);
            dev.download(dsd, 0, gotd, 0, gotd.length);
        }
        assertArrayEquals(want, got, 0f, "f32");
        for (int k = 0; k < s.length; k++) {
            assertEquals(want[k], gotd[k], 0.0, "f64 at " + k);
        }
    }

    /** Two launches accumulate: S0 + G + G (here S0 = 0, symmetric). */
    @Test
    void accumulatesAcrossCalls() {
        int samples = 50, d = 70, neurons = 2;
        Rng r = new Rng(303);
        double[] x = randn(r, samples * d), w = randn(r, samples * neurons);
        double[] once = new double[neurons * d * d], twice = new double[once.length];
        try (DeviceBuffer dx = dev.upload(x, 0, x.length); DeviceBuffer dw = dev.upload(w, 0, w.length);
             DeviceBuffer ds = dev.alloc(8L * once.length)) {
            dev.zero(ds);
            CudaGram.weightedGramF64(dev, samples, d, neurons, dx, 0, dw, 0, ds, 0);
            dev.download(ds, 0, once, 0, once.length);
            CudaGram.weightedGramF64(dev, samples, d, neurons, dx, 0, dw, 0, ds, 0);
            dev.download(ds, 0, twice, 0, twice.length);
        }
        for (int k = 0; k < once.length; k++) {
            assertEquals(2 * once[k], twice[k], 4 * EPS64 * Math.abs(once[k]), "twice at " + k);
        }
    }

    @Test
    void badShapesThrowBeforeAnyLaunchAndEmptyShapesDoNothing() {
        float[] sentinel = new float[100];
        Arrays.fill(sentinel, 5f);
        sentinel[1] = -3f; // not symmetric: a launch with samples = 0 would still have averaged the triangles
        try (DeviceBuffer x = dev.alloc(4L * 40); DeviceBuffer w = dev.alloc(4L * 10); DeviceBuffer s = dev.upload(sentinel, 0, 100)) {
            IndexOutOfBoundsException e = assertThrows(IndexOutOfBoundsException.class,
                    () -> CudaGram.weightedGramF32(dev, 10, 5, 1, x, 0, w, 0, s, 0)); // x needs 50
            assertTrue(e.getMessage().contains("weightedGram") && e.getMessage().contains("operand x"), e.getMessage());
            e = assertThrows(IndexOutOfBoundsException.class, () -> CudaGram.weightedGramF32(dev, 10, 4, 2, x, 0, w, 0, s, 0));
            assertTrue(e.getMessage().contains("operand w"), e.getMessage());
            e = assertThrows(IndexOutOfBoundsException.class, () -> CudaGram.weightedGramF32(dev, 1, 4, 7, x, 0, w, 0, s, 0));
            assertTrue(e.getMessage().contains("operand s"), e.getMessage());
            assertThrows(IndexOutOfBoundsException.class, () -> CudaGram.weightedGramF32(dev, 2, 4, 1, x, 0, w, 0, s, 90));
            assertThrows(IllegalArgumentException.class, () -> CudaGram.weightedGramF32(dev, -1, 4, 1, x, 0, w, 0, s, 0));
            assertThrows(IllegalArgumentException.class, () -> CudaGram.weightedGramF32(dev, 2, 3, 1, s, 0, w, 0, s, 4)); // s overlaps x
            assertThrows(IllegalArgumentException.class, () -> CudaGram.weightedGramF32(dev, 2, 3, 1, x, 0, s, 0, s, 1)); // s overlaps w
            assertThrows(IndexOutOfBoundsException.class, () -> CudaGram.weightedGramF64(dev, 2, 8, 1, x, 0, w, 0, s, 0)); // as f64, s holds 50 < 64
            CudaGram.weightedGramF32(dev, 0, 10, 1, x, 0, w, 0, s, 0);
            CudaGram.weightedGramF32(dev, 3, 0, 2, x, 0, w, 0, s, 0);
            CudaGram.weightedGramF32(dev, 3, 4, 0, x, 0, w, 0, s, 0);
            float[] after = new float[100];
            dev.download(s, 0, after, 0, 100);
            assertArrayEquals(sentinel, after, 0f, "nothing launched, nothing changed");
        }
    }

    @Test
    void kernelResources() {
        for (String k : new String[] {CudaGram.KERNEL_F32, CudaGram.KERNEL_F64}) {
            int[] a = dev.kernelAttributes(k);
            System.out.println("[sprout-cuda] " + k + ": " + a[0] + " registers, " + a[1] + " B static shared, max "
                    + a[2] + " threads");
            assertTrue(a[2] >= (k.equals(CudaGram.KERNEL_F32) ? CudaGram.THREADS_F32 : CudaGram.THREADS_F64), k);
        }
    }

    /**
     * The splitting sizes, timed (printed, not asserted): d = 576 / neurons = 64 / samples = 6000 and d = 64 /
     * neurons = 1000 / samples = 6000, f32 and f64, with a spot check of 64 entries against a double loop.
     */
    @Test
    void productionSizesTimedAndSpotChecked() {
        for (int[] s : new int[][] {{6000, 576, 64}, {6000, 64, 1000}}) {
            int samples = s[0], d = s[1], neurons = s[2];
            Rng r = new Rng(304);
            float[] xf = f32(randn(r, samples * d)), wf = f32(randn(r, samples * neurons));
            double[] xd = new double[xf.length], wd = new double[wf.length];
            for (int k = 0; k < xf.length; k++) {
                xd[k] = xf[k];
            }
            for (int k = 0; k < wf.length; k++) {
                wd[k] = wf[k];
            }
            long sn = (long) neurons * d * d;
            for (boolean f64 : new boolean[] {false, true}) {
                int elem = f64 ? 8 : 4;
                try (DeviceBuffer dx = f64 ? dev.upload(xd, 0, xd.length) : dev.upload(xf, 0, xf.length);
                     DeviceBuffer dw = f64 ? dev.upload(wd, 0, wd.length) : dev.upload(wf, 0, wf.length);
                     DeviceBuffer ds = dev.alloc(elem * sn)) {
                    Runnable once = () -> {
                        if (f64) {
                            CudaGram.weightedGramF64(dev, samples, d, neurons, dx, 0, dw, 0, ds, 0);
                        } else {
                            CudaGram.weightedGramF32(dev, samples, d, neurons, dx, 0, dw, 0, ds, 0);
                        }
                    };
                    dev.zero(ds);
                    once.run();
                    Rng pick = new Rng(305);
                    for (int t = 0; t < 64; t++) {
                        int i = pick.nextInt(neurons), a = pick.nextInt(d), b = t % 8 == 0 ? a : pick.nextInt(d);
                        double want = 0, mag = 0;
                        for (int n = 0; n < samples; n++) {
                            double v = wd[n * neurons + i] * xd[n * d + a] * xd[n * d + b];
                            want += v;
                            mag += Math.abs(v);
                        }
                        long p = ((long) i * d + a) * d + b, q = ((long) i * d + b) * d + a;
                        double got, mirror;
                        if (f64) {
                            double[] g = new double[1], m = new double[1];
                            dev.download(ds, p, g, 0, 1);
                            dev.download(ds, q, m, 0, 1);
                            got = g[0];
                            mirror = m[0];
                        } else {
                            float[] g = new float[1], m = new float[1];
                            dev.download(ds, p, g, 0, 1);
                            dev.download(ds, q, m, 0, 1);
                            got = g[0];
                            mirror = m[0];
                        }
                        String where = (f64 ? "f64" : "f32") + " d=" + d + " neurons=" + neurons + " S[" + i + "][" + a + "][" + b + "]";
                        assertEquals(want, got, (f64 ? GRAM_F64 : GRAM_F32) * samples * mag + 1e-300, where);
                        assertEquals(got, mirror, 0.0, where + " symmetric");
                    }
                    once.run(); // warm
                    int reps = 3;
                    double ms = dev.time(reps, once);
                    double useful = 2.0 * samples * neurons * d * (d + 1) / 2.0, done = 2 * CudaGram.kernelFma(samples, d, neurons);
                    System.out.printf("[sprout-cuda] weightedGram %s samples=%d d=%d neurons=%d on %s: %.3f ms, %.1f GFLOP/s"
                                    + " (symmetric-useful), %.1f GFLOP/s (executed), %.1f GFLOP/s (full d^2 equivalent)%n",
                            f64 ? "f64" : "f32", samples, d, neurons, dev.name(), ms, useful / ms * 1e-6, done / ms * 1e-6,
                            2.0 * samples * neurons * d * d / ms * 1e-6);
                }
            }
        }
    }
}
