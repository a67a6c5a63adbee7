package dev.sprout.cuda;

import dev.sprout.backend.java.JavaBackend;
import dev.sprout.tensor.Rng;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The CUDA eigen-solver and LU solves ({@link CudaLinalg}) against decomposition invariants and the Java
 * reference, on sizes that straddle the kernels' paths: the shared-memory kernels (n <= 64), the global/blocked
 * ones (65, 129, 256, 300, 576, 1024), odd n (the Jacobi dummy index), batches, values only, smallest k, repeated
 * eigenvalues, singular matrices. Skipped (with the probe's reason) where no CUDA device is usable.
 */
class CudaLinalgTest {

    static final double EPS32 = Math.ulp(1.0f), EPS64 = Math.ulp(1.0);
    /** Eigen tolerances as the conformance suite: rel = EIG_FACTOR * eps * n; residual rel ||A||_max sqrt(n). */
    static final double EIG_FACTOR = 64;
    /** Orthogonality: rel * sqrt(n) * EIG_ORTH. */
    static final double EIG_ORTH = 4;
    /** Solutions against the reference: SOLVE_FACTOR * eps * n, relative to max |x|. */
    static final double SOLVE_FACTOR = 1e3;
    /** LU factors against the reference (same pivots on these well-conditioned matrices): FACTOR_FACTOR * eps * n. */
    static final double FACTOR_FACTOR = 100;

    private static CudaDevice device() {
        return CudaDevice.shared();
    }

    static double[] randn(Rng r, int n) {
        double[] x = new double[n];
        for (int i = 0; i < n; i++) {
            x[i] = r.normal();
        }
        return x;
    }

    static float[] f32(double[] x) {
        float[] y = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            y[i] = (float) x[i];
        }
        return y;
    }

    static double[] f64(float[] x) {
        double[] y = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            y[i] = x[i];
        }
        return y;
    }

    /** batch symmetric matrices M + M^T. */
    static double[] symmetric(Rng r, int batch, int n) {
        double[] a = new double[batch * n * n];
        for (int b = 0; b < batch; b++) {
            double[] m = randn(r, n * n);
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < n; j++) {
                    a[b * n * n + i * n + j] = m[i * n + j] + m[j * n + i];
                }
            }
        }
        return a;
    }

    /** A copy with NaN in every strict upper triangle: the kernels must read only the lower one. */
    static double[] poisonUpper(double[] a, int batch, int n) {
        double[] p = a.clone();
        for (int b = 0; b < batch; b++) {
            for (int i = 0; i < n; i++) {
                for (int j = i + 1; j < n; j++) {
                    p[b * n * n + i * n + j] = Double.NaN;
                }
            }
        }
        return p;
    }

    // ============================================================================================ eigen

    /** Runs the device solver; v == null asks for values only. */
    static void eigF64(int batch, int n, int k, double[] a, double[] w, double[] v) {
        CudaDevice d = device();
        try (DeviceBuffer da = d.upload(a, 0, a.length); DeviceBuffer dw = d.alloc(8L * batch * k);
             DeviceBuffer dv = v == null ? null : d.alloc(8L * batch * n * k)) {
            CudaLinalg.symEigF64(d, batch, n, k, da, 0, dw, 0, dv, 0);
            d.download(dw, 0, w, 0, batch * k);
            if (v != null) {
                d.download(dv, 0, v, 0, batch * n * k);
            }
            double[] back = new double[a.length];
            d.download(da, 0, back, 0, a.length);
            assertTrue(Arrays.equals(doubleBits(a), doubleBits(back)), "symEig modified its input");
        }
    }

    static void eigF32(int batch, int n, int k, float[] a, float[] w, float[] v) {
        CudaDevice d = device();
        try (DeviceBuffer da = d.upload(a, 0, a.length); DeviceBuffer dw = d.alloc(4L * batch * k);
             DeviceBuffer dv = v == null ? null : d.alloc(4L * batch * n * k)) {
            CudaLinalg.symEigF32(d, batch, n, k, da, 0, dw, 0, dv, 0);
            d.download(dw, 0, w, 0, batch * k);
            if (v != null) {
                d.download(dv, 0, v, 0, batch * n * k);
            }
        }
    }

    static long[] doubleBits(double[] x) {
        long[] b = new long[x.length];
        for (int i = 0; i < x.length; i++) {
            b[i] = Double.doubleToRawLongBits(x[i]);
        }
        return b;
    }

    /** A V = V diag(w), V^T V = I, w ascending (the conformance suite's check). */
    static void checkEigen(String what, int n, int k, double[] a, int aOff, double[] w, int wOff, double[] v, int vOff,
                           double eps) {
        double norm = 0;
        for (int i = 0; i < n * n; i++) {
            norm = Math.max(norm, Math.abs(a[aOff + i]));
        }
        double rel = EIG_FACTOR * eps * n;
        for (int j = 0; j < k; j++) {
            if (j > 0) {
                assertTrue(w[wOff + j] >= w[wOff + j - 1] - rel * norm, what + ": eigenvalues ascending at " + j);
            }
            if (v == null) {
                continue;
            }
            for (int i = 0; i < n; i++) {
                double av = 0;
                for (int p = 0; p < n; p++) {
                    av += a[aOff + i * n + p] * v[vOff + p * k + j];
                }
                assertEquals(w[wOff + j] * v[vOff + i * k + j], av, rel * norm * Math.sqrt(n) + 1e-300,
                        what + ": A v = w v at " + i + "," + j);
            }
            for (int j2 = 0; j2 <= j; j2++) {
                double dot = 0;
                for (int i = 0; i < n; i++) {
                    dot += v[vOff + i * k + j] * v[vOff + i * k + j2];
                }
                assertEquals(j == j2 ? 1.0 : 0.0, dot, rel * Math.sqrt(n) * EIG_ORTH, what + ": V^T V = I at " + j + "," + j2);
            }
        }
    }

    @Test
    void eigenRandomF64AgainstInvariantsAndReference() {
        Assumptions.assumeTrue(CudaDevice.available(), CudaDevice::unavailableReason);
        Rng r = new Rng(201);
        JavaBackend ref = new JavaBackend(1);
        int checked = 0;
        for (int n : new int[] {1, 2, 7, 16, 33, 64, 65, 129}) {
            int batch = 3;
            double[] a = symmetric(r, batch, n);
            double[] w = new double[batch * n], v = new double[batch * n * n];
            eigF64(batch, n, n, poisonUpper(a, batch, n), w, v);
            double[] wr = new double[batch * n];
            ref.symEig(batch, n, n, a, 0, wr, 0, null, 0);
            for (int b = 0; b < batch; b++) {
                checkEigen("f64 n=" + n + " b=" + b, n, n, a, b * n * n, w, b * n, v, b * n * n, EPS64);
                double norm = maxAbs(a, b * n * n, n * n);
                for (int j = 0; j < n; j++) {
                    assertEquals(wr[b * n + j], w[b * n + j], EIG_FACTOR * EPS64 * n * norm, "f64 n=" + n + " eigenvalue " + j);
                }
            }
            // smallest k: the same values and vectors as the full solve
            int k = Math.max(1, n / 4);
            double[] wk = new double[batch * k], vk = new double[batch * n * k];
            eigF64(batch, n, k, a, wk, vk);
            for (int b = 0; b < batch; b++) {
                for (int j = 0; j < k; j++) {
                    assertEquals(w[b * n + j], wk[b * k + j], EIG_FACTOR * EPS64 * n * (1 + Math.abs(w[b * n + j])),
                            "f64 smallest-k value n=" + n + " j=" + j);
                }
                checkEigen("f64 smallest k=" + k + " n=" + n, n, k, a, b * n * n, wk, b * k, vk, b * n * k, EPS64);
            }
            // values only
            double[] wOnly = new double[batch * n];
            eigF64(batch, n, n, a, wOnly, null);
            for (int i = 0; i < wOnly.length; i++) {
                assertEquals(w[i], wOnly[i], EIG_FACTOR * EPS64 * n * (1 + Math.abs(w[i])), "f64 values only n=" + n);
            }
            checked++;
        }
        assertEquals(8, checked);
    }

    @Test
    void eigenRandomF32() {
        Assumptions.assumeTrue(CudaDevice.available(), CudaDevice::unavailableReason);
        Rng r = new Rng(202);
        for (int n : new int[] {1, 2, 7, 16, 33, 64, 65, 129}) {
            int batch = 3;
            float[] af = f32(symmetric(r, batch, n));
            double[] a = f64(af);
            float[] w = new float[batch * n], v = new float[batch * n * n];
            eigF32(batch, n, n, f32(poisonUpper(a, batch, n)), w, v);
            for (int b = 0; b < batch; b++) {
                checkEigen("f32 n=" + n + " b=" + b, n, n, a, b * n * n, f64(w), b * n, f64(v), b * n * n, EPS32);
            }
            int k = Math.max(1, n / 3);
            float[] wk = new float[batch * k], vk = new float[batch * n * k];
            eigF32(batch, n, k, af, wk, vk);
            for (int b = 0; b < batch; b++) {
                for (int j = 0; j < k; j++) {
                    assertEquals(w[b * n + j], wk[b * k + j], EIG_FACTOR * EPS32 * n * (1 + Math.abs(w[b * n + j])),
                            "f32 smallest-k value n=" + n);
                }
                checkEigen("f32 smallest k n=" + n, n, k, a, b * n * n, f64(wk), b * k, f64(vk), b * n * k, EPS32);
            }
            float[] wOnly = new float[batch * n];
            eigF32(batch, n, n, af, wOnly, null);
            for (int i = 0; i < wOnly.length; i++) {
                assertEquals(w[i], wOnly[i], EIG_FACTOR * EPS32 * n * (1 + Math.abs(w[i])), "f32 values only n=" + n);
            }
        }
    }

    @Test
    void eigenSplittingSize576() {
        Assumptions.assumeTrue(CudaDevice.available(), CudaDevice::unavailableReason);
        Rng r = new Rng(203);
        int n = 576, batch = 2;
        double[] a = symmetric(r, batch, n);
        double[] w = new double[batch * n], v = new double[batch * n * n];
        eigF64(batch, n, n, a, w, v);
        for (int b = 0; b < batch; b++) {
            checkEigen("f64 n=576 b=" + b, n, n, a, b * n * n, w, b * n, v, b * n * n, EPS64);
        }
        float[] af = f32(a);
        int k = 8;
        float[] wf = new float[batch * k], vf = new float[batch * n * k];
        eigF32(batch, n, k, af, wf, vf);
        double[] ad = f64(af);
        for (int b = 0; b < batch; b++) {
            checkEigen("f32 n=576 k=8 b=" + b, n, k, ad, b * n * n, f64(wf), b * k, f64(vf), b * n * k, EPS32);
            double norm = maxAbs(a, b * n * n, n * n);
            for (int j = 0; j < k; j++) {
                assertEquals(w[b * n + j], wf[b * k + j], EIG_FACTOR * EPS32 * n * norm, "f32 vs f64 smallest values");
            }
        }
    }

    @Test
    void eigenRepeatedValuesAndSpecialMatrices() {
        Assumptions.assumeTrue(CudaDevice.available(), CudaDevice::unavailableReason);
        for (int n : new int[] {1, 9, 16, 65}) {
            // identity: every eigenvalue exactly 1, V orthonormal
            double[] id = new double[n * n];
            for (int i = 0; i < n; i++) {
                id[i * n + i] = 1;
            }
            double[] w = new double[n], v = new double[n * n];
            eigF64(1, n, n, id, w, v);
            for (int j = 0; j < n; j++) {
                assertEquals(1.0, w[j], 0.0, "identity eigenvalue");
            }
            checkEigen("identity n=" + n, n, n, id, 0, w, 0, v, 0, EPS64);
            // diagonal with ties: values i % 3 (0, 1, 2 repeated), sorted, exact
            double[] dg = new double[n * n];
            for (int i = 0; i < n; i++) {
                dg[i * n + i] = (i * 7) % 3;
            }
            float[] wf = new float[n], vf = new float[n * n];
            eigF32(1, n, n, f32(dg), wf, vf);
            double[] sorted = new double[n];
            for (int i = 0; i < n; i++) {
                sorted[i] = dg[i * n + i];
            }
            Arrays.sort(sorted);
            for (int j = 0; j < n; j++) {
                assertEquals(sorted[j], wf[j], 0.0, "diagonal with ties: eigenvalue " + j);
            }
            checkEigen("diag ties n=" + n, n, n, dg, 0, f64(wf), 0, f64(vf), 0, EPS32);
            // a rank-one matrix u u^T (n - 1 zero eigenvalues)
            Rng r = new Rng(204 + n);
            double[] u = randn(r, n), ru = new double[n * n];
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < n; j++) {
                    ru[i * n + j] = u[i] * u[j];
                }
            }
            eigF64(1, n, n, ru, w, v);
            checkEigen("rank one n=" + n, n, n, ru, 0, w, 0, v, 0, EPS64);
            // zero matrix
            double[] z = new double[n * n];
            eigF64(1, n, n, z, w, v);
            for (int j = 0; j < n; j++) {
                assertEquals(0.0, w[j], 0.0, "zero matrix eigenvalue");
            }
            checkEigen("zero n=" + n, n, n, z, 0, w, 0, v, 0, EPS64);
        }
    }

    @Test
    void eigenManySmallMatricesF32() {
        Assumptions.assumeTrue(CudaDevice.available(), CudaDevice::unavailableReason);
        Rng r = new Rng(205);
        int n = 64, batch = 1000;
        float[] af = f32(symmetric(r, batch, n));
        float[] w = new float[batch * n], v = new float[batch * n * n];
        eigF32(batch, n, n, af, w, v);
        double[] a = f64(af), wd = f64(w), vd = f64(v);
        for (int b = 0; b < batch; b += 97) {
            checkEigen("batch f32 b=" + b, n, n, a, b * n * n, wd, b * n, vd, b * n * n, EPS32);
        }
    }

    // ============================================================================================ LU

    /** Diagonally dominant (well conditioned, unambiguous pivots) random systems, as the conformance suite's. */
    static double[] system(Rng r, int batch, int n, boolean complex) {
        int s = complex ? 2 : 1;
        double[] a = randn(r, s * batch * n * n);
        for (int b = 0; b < batch; b++) {
            for (int i = 0; i < n; i++) {
                a[s * (b * n * n + i * n + i)] += n;
            }
        }
        return a;
    }

    /** Device gesv on copies; returns info, leaves the factors in a and the solution in b. */
    static int[] deviceGesv(int kind, int batch, int n, int nrhs, float[] af, float[] bf, double[] ad, double[] bd) {
        CudaDevice d = device();
        if (kind == 1) {
            try (DeviceBuffer da = d.upload(ad, 0, ad.length); DeviceBuffer db = d.upload(bd, 0, bd.length)) {
                int[] info = CudaLinalg.gesvF64(d, batch, n, nrhs, da, 0, db, 0);
                d.download(da, 0, ad, 0, ad.length);
                d.download(db, 0, bd, 0, bd.length);
                return info;
            }
        }
        try (DeviceBuffer da = d.upload(af, 0, af.length); DeviceBuffer db = d.upload(bf, 0, bf.length)) {
            int[] info = kind == 0 ? CudaLinalg.gesvF32(d, batch, n, nrhs, da, 0, db, 0)
                    : CudaLinalg.cgesv(d, batch, n, nrhs, da, 0, db, 0);
            d.download(da, 0, af, 0, af.length);
            d.download(db, 0, bf, 0, bf.length);
            return info;
        }
    }

    static final String[] KIND = {"f32", "f64", "c64"};

    /**
     * gesv of kind 0 (f32), 1 (f64) or 2 (c64) on a batch, each matrix compared with the Java reference (solution
     * and factors) and by its residual.
     */
    static void solveAndCompare(int kind, int batch, int n, int nrhs, long seed) {
        Rng r = new Rng(seed);
        boolean cx = kind == 2;
        int s = cx ? 2 : 1;
        double[] a = system(r, batch, n, cx), b = randn(r, s * batch * n * nrhs);
        float[] af = f32(a), bf = f32(b);
        double[] ad = a.clone(), bd = b.clone();
        int[] info = deviceGesv(kind, batch, n, nrhs, af, bf, ad, bd);
        JavaBackend ref = new JavaBackend(1);
        double eps = kind == 1 ? EPS64 : EPS32;
        String what = KIND[kind] + " n=" + n + " nrhs=" + nrhs;
        for (int m = 0; m < batch; m++) {
            int ao = s * m * n * n, bo = s * m * n * nrhs, an = s * n * n, bn = s * n * nrhs;
            int refInfo;
            double[] luRef, xRef, lu, x, a0, b0;
            if (kind == 1) {
                luRef = Arrays.copyOfRange(a, ao, ao + an);
                xRef = Arrays.copyOfRange(b, bo, bo + bn);
                refInfo = ref.gesv(n, nrhs, luRef, 0, xRef, 0);
                lu = Arrays.copyOfRange(ad, ao, ao + an);
                x = Arrays.copyOfRange(bd, bo, bo + bn);
                a0 = Arrays.copyOfRange(a, ao, ao + an);
                b0 = Arrays.copyOfRange(b, bo, bo + bn);
            } else {
                float[] la = f32(Arrays.copyOfRange(a, ao, ao + an)), xb = f32(Arrays.copyOfRange(b, bo, bo + bn));
                refInfo = cx ? ref.cgesv(n, nrhs, la, 0, xb, 0) : ref.gesv(n, nrhs, la, 0, xb, 0);
                luRef = f64(la);
                xRef = f64(xb);
                lu = f64(Arrays.copyOfRange(af, ao, ao + an));
                x = f64(Arrays.copyOfRange(bf, bo, bo + bn));
                a0 = f64(f32(Arrays.copyOfRange(a, ao, ao + an)));
                b0 = f64(f32(Arrays.copyOfRange(b, bo, bo + bn)));
            }
            assertEquals(refInfo, info[m], what + " info of matrix " + m);
            double xs = Math.max(1, maxAbs(xRef, 0, bn)), ls = Math.max(1, maxAbs(luRef, 0, an));
            for (int i = 0; i < bn; i++) {
                assertEquals(xRef[i], x[i], SOLVE_FACTOR * eps * n * xs, what + " solution of matrix " + m + " at " + i);
            }
            for (int i = 0; i < an; i++) {
                assertEquals(luRef[i], lu[i], FACTOR_FACTOR * eps * n * ls, what + " LU factors of matrix " + m + " at " + i);
            }
            if (nrhs > 0) {
                double res = residual(cx, n, nrhs, a0, x, b0);
                assertTrue(res <= 100 * eps * Math.sqrt(n), what + " relative residual " + res + " of matrix " + m);
            }
        }
    }

    static double maxAbs(double[] x, int off, int len) {
        double m = 0;
        for (int i = off; i < off + len; i++) {
            m = Math.max(m, Math.abs(x[i]));
        }
        return m;
    }

    /** max |A x - b| / (n ||A|| ||x|| + ||b||), max norms, real or interleaved complex. */
    static double residual(boolean cx, int n, int nrhs, double[] a, double[] x, double[] b) {
        double worst = 0;
        int s = cx ? 2 : 1;
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < nrhs; j++) {
                double sr = 0, si = 0;
                for (int p = 0; p < n; p++) {
                    if (cx) {
                        double ar = a[2 * (i * n + p)], ai = a[2 * (i * n + p) + 1];
                        double xr = x[2 * (p * nrhs + j)], xi = x[2 * (p * nrhs + j) + 1];
                        sr += ar * xr - ai * xi;
                        si += ar * xi + ai * xr;
                    } else {
                        sr += a[i * n + p] * x[p * nrhs + j];
                    }
                }
                double dr = sr - b[s * (i * nrhs + j)], di = cx ? si - b[2 * (i * nrhs + j) + 1] : 0;
                worst = Math.max(worst, Math.hypot(dr, di));
            }
        }
        double an = maxAbs(a, 0, s * n * n), xn = maxAbs(x, 0, s * n * nrhs), bn = maxAbs(b, 0, s * n * nrhs);
        return worst / (n * an * xn + bn);
    }

    @Test
    void gesvAgainstReference() {
        Assumptions.assumeTrue(CudaDevice.available(), CudaDevice::unavailableReason);
        int checked = 0;
        for (int n : new int[] {1, 3, 17, 64, 65, 256, 300}) {
            solveAndCompare(0, 1, n, 3, 300 + n);
            solveAndCompare(1, 1, n, 3, 400 + n);
            checked++;
        }
        assertEquals(7, checked);
    }

    @Test
    void cgesvAgainstReference() {
        Assumptions.assumeTrue(CudaDevice.available(), CudaDevice::unavailableReason);
        for (int n : new int[] {1, 3, 17, 64, 65, 256, 300}) {
            solveAndCompare(2, 1, n, 2, 500 + n);
        }
        solveAndCompare(2, 1, 1024, 4, 1524);
        solveAndCompare(2, 1, 1030, 2, 1530); // first panel on the generic kernel, the rest on panel + swap
    }

    @Test
    void gesvBatchedAndChunked() {
        Assumptions.assumeTrue(CudaDevice.available(), CudaDevice::unavailableReason);
        for (int kind = 0; kind < 3; kind++) {
            for (int n : new int[] {3, 17, 64}) {
                solveAndCompare(kind, 5, n, 70, 600 + n); // 70 right-hand sides: two chunks of B in shared memory
                solveAndCompare(kind, 4, n, 0, 700 + n);  // factor only
            }
            solveAndCompare(kind, 2, 65, 5, 800);        // the blocked path, matrix after matrix
        }
    }

    /** Cayley-transform shape: (I + A) X = (I - A) with A skew-Hermitian, nrhs = n; X must be unitary. */
    @Test
    void cayleyTransformIsUnitary() {
        Assumptions.assumeTrue(CudaDevice.available(), CudaDevice::unavailableReason);
        for (int n : new int[] {64, 256}) {
            Rng r = new Rng(900 + n);
            double[] g = randn(r, 2 * n * n);
            float[] ip = new float[2 * n * n], im = new float[2 * n * n];
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < n; j++) {
                    // A = (G - G^H) / 2, scaled
                    double re = 0.1 * (g[2 * (i * n + j)] - g[2 * (j * n + i)]) / 2;
                    double imv = 0.1 * (g[2 * (i * n + j) + 1] + g[2 * (j * n + i) + 1]) / 2;
                    double id = i == j ? 1 : 0;
                    ip[2 * (i * n + j)] = (float) (id + re);
                    ip[2 * (i * n + j) + 1] = (float) imv;
                    im[2 * (i * n + j)] = (float) (id - re);
                    im[2 * (i * n + j) + 1] = (float) -imv;
                }
            }
            int[] info = deviceGesv(2, 1, n, n, ip, im, null, null);
            assertEquals(0, info[0]);
            double worst = 0;
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < n; j++) {
                    double sr = 0, si = 0; // (X^H X)_ij
                    for (int p = 0; p < n; p++) {
                        double ar = im[2 * (p * n + i)], ai = -im[2 * (p * n + i) + 1];
                        double br = im[2 * (p * n + j)], bi = im[2 * (p * n + j) + 1];
                        sr += ar * br - ai * bi;
                        si += ar * bi + ai * br;
                    }
                    worst = Math.max(worst, Math.hypot(sr - (i == j ? 1 : 0), si));
                }
            }
            assertTrue(worst < 1e3 * EPS32 * Math.sqrt(n), "Cayley n=" + n + ": |X^H X - I| = " + worst);
        }
    }

    @Test
    void singularMatrixReportsPivotAndLeavesBUnchanged() {
        Assumptions.assumeTrue(CudaDevice.available(), CudaDevice::unavailableReason);
        JavaBackend ref = new JavaBackend(1);
        // the conformance suite's 2x2 case
        double[] sing = {1, 2, 2, 4}, rhs = {1, 1};
        int[] info = deviceGesv(1, 1, 2, 1, null, null, sing, rhs);
        assertEquals(2, info[0]);
        assertArrayEquals(new double[] {1, 1}, rhs, 0.0);
        double[] refA = {1, 2, 2, 4};
        ref.gesv(2, 1, refA, 0, new double[] {1, 1}, 0);
        assertArrayEquals(refA, sing, 0.0, "factors of the singular matrix");
        // a zero column: small batched (matrix 1 of 3 singular) and blocked paths, all three types
        for (int kind = 0; kind < 3; kind++) {
            for (int n : new int[] {17, 100}) {
                boolean cx = kind == 2;
                int s = cx ? 2 : 1, batch = n <= 64 ? 3 : 1, zc = n / 3, sm = batch == 3 ? 1 : 0;
                Rng r = new Rng(1000 + n + kind);
                double[] a = system(r, batch, n, cx), b = randn(r, s * batch * n * 2);
                for (int i = 0; i < n; i++) {
                    for (int c = 0; c < s; c++) {
                        a[s * (sm * n * n + i * n + zc) + c] = 0;
                    }
                }
                float[] af = f32(a), bf = f32(b);
                double[] ad = a.clone(), bd = b.clone();
                int[] got = deviceGesv(kind, batch, n, 2, af, bf, ad, bd);
                String what = KIND[kind] + " singular n=" + n;
                for (int m = 0; m < batch; m++) {
                    assertEquals(m == sm ? zc + 1 : 0, got[m], what + " info of matrix " + m);
                }
                int bo = s * sm * n * 2, bn = s * n * 2, ao = s * sm * n * n, an = s * n * n;
                double[] lu;
                double[] luRef;
                if (kind == 1) {
                    assertArrayEquals(Arrays.copyOfRange(b, bo, bo + bn), Arrays.copyOfRange(bd, bo, bo + bn), 0.0,
                            what + ": B unchanged");
                    luRef = Arrays.copyOfRange(a, ao, ao + an);
                    assertEquals(zc + 1, ref.gesv(n, 2, luRef, 0, Arrays.copyOfRange(b, bo, bo + bn), 0));
                    lu = Arrays.copyOfRange(ad, ao, ao + an);
                } else {
                    assertArrayEquals(f32(Arrays.copyOfRange(b, bo, bo + bn)), Arrays.copyOfRange(bf, bo, bo + bn), 0f,
                            what + ": B unchanged");
                    float[] la = f32(Arrays.copyOfRange(a, ao, ao + an));
                    float[] lb = f32(Arrays.copyOfRange(b, bo, bo + bn));
                    assertEquals(zc + 1, cx ? ref.cgesv(n, 2, la, 0, lb, 0) : ref.gesv(n, 2, la, 0, lb, 0));
                    luRef = f64(la);
                    lu = f64(Arrays.copyOfRange(af, ao, ao + an));
                }
                double ls = Math.max(1, maxAbs(luRef, 0, an)), eps = kind == 1 ? EPS64 : EPS32;
                for (int i = 0; i < an; i++) {
                    assertEquals(luRef[i], lu[i], FACTOR_FACTOR * eps * n * ls, what + ": factors at " + i);
                }
            }
        }
    }

    // ============================================================================================ CUDA graphs

    /** Runs {@code work} with {@code -Dsprout.cuda.graphs} set to {@code on}, restoring the property after. */
    static <T> T withGraphs(boolean on, java.util.function.Supplier<T> work) {
        String old = System.getProperty(CudaLinalg.GRAPHS_PROPERTY);
        System.setProperty(CudaLinalg.GRAPHS_PROPERTY, Boolean.toString(on));
        try {
            return work.get();
        } finally {
            if (old == null) {
                System.clearProperty(CudaLinalg.GRAPHS_PROPERTY);
            } else {
                System.setProperty(CudaLinalg.GRAPHS_PROPERTY, old);
            }
        }
    }

    static int[] floatBits(float[] x) {
        int[] y = new int[x.length];
        for (int i = 0; i < x.length; i++) {
            y[i] = Float.floatToRawIntBits(x[i]);
        }
        return y;
    }

    /** kind 0 (f32) or 2 (c64) solve on the device buffers, through the graph path or not. */
    static int[] gesvOn(boolean graphs, int kind, int n, int nrhs, DeviceBuffer da, DeviceBuffer db) {
        CudaDevice d = device();
        return withGraphs(graphs, () -> kind == 0 ? CudaLinalg.gesvF32(d, 1, n, nrhs, da, 0, db, 0)
                : kind == 1 ? CudaLinalg.gesvF64(d, 1, n, nrhs, da, 0, db, 0) : CudaLinalg.cgesv(d, 1, n, nrhs, da, 0, db, 0));
    }

    @Test
    void graphPathIsBitIdenticalToDirectLaunches() {
        Assumptions.assumeTrue(CudaDevice.available(), CudaDevice::unavailableReason);
        int[][] cases = {{2, 256, 256}, {2, 300, 300}, {2, 300, 7}, {0, 129, 5}, {0, 129, 0}};
        for (int[] c : cases) {
            int kind = c[0], n = c[1], nrhs = c[2], s = kind == 2 ? 2 : 1;
            String what = KIND[kind] + " n=" + n + " nrhs=" + nrhs;
            Rng r = new Rng(77 + n + nrhs);
            float[] a = f32(system(r, 1, n, kind == 2)), b = f32(randn(r, s * n * nrhs));
            float[] aD = a.clone(), bD = b.clone(), aG = a.clone(), bG = b.clone();
            int[] infoD = withGraphs(false, () -> deviceGesv(kind, 1, n, nrhs, aD, bD, null, null));
            long captures = CudaLinalg.GRAPH_CAPTURES.get(), replays = CudaLinalg.GRAPH_REPLAYS.get();
            int[] infoG = withGraphs(true, () -> deviceGesv(kind, 1, n, nrhs, aG, bG, null, null));
            assertEquals(replays + 1, CudaLinalg.GRAPH_REPLAYS.get(), what + ": the graph path ran");
            assertTrue(CudaLinalg.GRAPH_CAPTURES.get() <= captures + 1, what);
            assertArrayEquals(infoD, infoG, what + " info");
            assertEquals(0, infoG[0], what + " info");
            assertArrayEquals(floatBits(aD), floatBits(aG), what + ": LU factors bit-identical");
            assertArrayEquals(floatBits(bD), floatBits(bG), what + ": solution bit-identical");
        }
    }

    @Test
    void graphIsReusedForNewDataInTheSameBuffers() {
        Assumptions.assumeTrue(CudaDevice.available(), CudaDevice::unavailableReason);
        CudaDevice d = device();
        for (int kind = 0; kind < 3; kind++) {
            boolean cx = kind == 2;
            int n = kind == 1 ? 200 : 256, nrhs = 64, s = cx ? 2 : 1;
            double eps = kind == 1 ? EPS64 : EPS32;
            int es = kind == 0 ? 4 : 8;
            try (DeviceBuffer da = d.alloc((long) es * n * n); DeviceBuffer db = d.alloc((long) es * n * nrhs)) {
                for (int round = 0; round < 3; round++) {
                    String what = KIND[kind] + " n=" + n + " round " + round;
                    Rng r = new Rng(500 + 10L * kind + round);
                    double[] a = system(r, 1, n, cx), b = randn(r, s * n * nrhs);
                    double[] a0, b0, x;
                    long captures = CudaLinalg.GRAPH_CAPTURES.get();
                    int[] info;
                    if (kind == 1) {
                        d.copyIn(a, 0, a.length, da, 0);
                        d.copyIn(b, 0, b.length, db, 0);
                        info = gesvOn(true, kind, n, nrhs, da, db);
                        x = new double[b.length];
                        d.download(db, 0, x, 0, x.length);
                        a0 = a;
                        b0 = b;
                    } else {
                        float[] af = f32(a), bf = f32(b), xf = new float[bf.length];
                        d.copyIn(af, 0, af.length, da, 0);
                        d.copyIn(bf, 0, bf.length, db, 0);
                        info = gesvOn(true, kind, n, nrhs, da, db);
                        d.download(db, 0, xf, 0, xf.length);
                        x = f64(xf);
                        a0 = f64(af);
                        b0 = f64(bf);
                    }
                    assertEquals(0, info[0], what + " info");
                    if (round > 0) {
                        assertEquals(captures, CudaLinalg.GRAPH_CAPTURES.get(), what + ": graph reused, not recaptured");
                    }
                    double res = residual(cx, n, nrhs, a0, x, b0);
                    assertTrue(res <= 100 * eps * Math.sqrt(n), what + " relative residual " + res);
                }
            }
        }
    }

    @Test
    void singularMatrixThroughTheGraphPath() {
        Assumptions.assumeTrue(CudaDevice.available(), CudaDevice::unavailableReason);
        CudaDevice d = device();
        for (int kind : new int[] {0, 2}) {
            boolean cx = kind == 2;
            int n = 160, nrhs = 3, s = cx ? 2 : 1, zc = 97;
            String what = KIND[kind] + " singular n=" + n;
            try (DeviceBuffer da = d.alloc(4L * s * n * n); DeviceBuffer db = d.alloc(4L * s * n * nrhs)) {
                // first a regular system in these buffers (captures the graph), then a singular one (replays it)
                for (int round = 0; round < 2; round++) {
                    Rng r = new Rng(900 + kind + round);
                    double[] a = system(r, 1, n, cx), b = randn(r, s * n * nrhs);
                    if (round == 1) {
                        for (int i = 0; i < n; i++) {
                            for (int c = 0; c < s; c++) {
                                a[s * (i * n + zc) + c] = 0;
                            }
                        }
                    }
                    float[] af = f32(a), bf = f32(b);
                    float[] aD = af.clone(), bD = bf.clone();
                    int[] infoD = withGraphs(false, () -> deviceGesv(kind, 1, n, nrhs, aD, bD, null, null));
                    d.copyIn(af, 0, af.length, da, 0);
                    d.copyIn(bf, 0, bf.length, db, 0);
                    long captures = CudaLinalg.GRAPH_CAPTURES.get();
                    int[] infoG = gesvOn(true, kind, n, nrhs, da, db);
                    if (round == 1) {
                        assertEquals(captures, CudaLinalg.GRAPH_CAPTURES.get(), what + ": graph replayed");
                    }
                    float[] aG = new float[af.length], bG = new float[bf.length];
                    d.download(da, 0, aG, 0, aG.length);
                    d.download(db, 0, bG, 0, bG.length);
                    assertArrayEquals(infoD, infoG, what + " round " + round + " info");
                    assertEquals(round == 1 ? zc + 1 : 0, infoG[0], what + " round " + round + " info");
                    assertArrayEquals(floatBits(aD), floatBits(aG), what + " round " + round + ": factors");
                    assertArrayEquals(floatBits(bD), floatBits(bG), what + " round " + round + ": B");
                    if (round == 1) {
                        assertArrayEquals(floatBits(bf), floatBits(bG), what + ": B unchanged");
                    }
                }
            }
        }
    }

    @Test
    void graphsPropertyTogglesThePathAndFreeCacheDropsGraphs() {
        Assumptions.assumeTrue(CudaDevice.available(), CudaDevice::unavailableReason);
        CudaDevice d = device();
        int n = 130, nrhs = 2;
        Rng r = new Rng(31);
        float[] a = f32(system(r, 1, n, false)), b = f32(randn(r, n * nrhs));
        try (DeviceBuffer da = d.alloc(4L * n * n); DeviceBuffer db = d.alloc(4L * n * nrhs)) {
            long replays = CudaLinalg.GRAPH_REPLAYS.get(), captures = CudaLinalg.GRAPH_CAPTURES.get();
            d.copyIn(a, 0, a.length, da, 0);
            d.copyIn(b, 0, b.length, db, 0);
            assertEquals(0, gesvOn(false, 0, n, nrhs, da, db)[0]);
            assertEquals(replays, CudaLinalg.GRAPH_REPLAYS.get(), "graphs off: no replay");
            assertEquals(captures, CudaLinalg.GRAPH_CAPTURES.get(), "graphs off: no capture");
            assertEquals(false, withGraphs(false, CudaLinalg::graphsEnabled));
            assertEquals(true, withGraphs(true, CudaLinalg::graphsEnabled));
            d.copyIn(a, 0, a.length, da, 0);
            d.copyIn(b, 0, b.length, db, 0);
            assertEquals(0, gesvOn(true, 0, n, nrhs, da, db)[0]);
            assertEquals(replays + 1, CudaLinalg.GRAPH_REPLAYS.get(), "graphs on: replayed");
            assertTrue(CudaLinalg.cachedGraphs(d) >= 1 && CudaLinalg.cachedGraphs(d) <= CudaLinalg.GRAPH_CACHE);
            // small n and batches never take the graph path
            try (DeviceBuffer sa = d.alloc(4L * 2 * 40 * 40); DeviceBuffer sb = d.alloc(4L * 2 * 40)) {
                float[] s = f32(system(r, 2, 40, false));
                d.copyIn(s, 0, s.length, sa, 0);
                d.zero(sb);
                long rp = CudaLinalg.GRAPH_REPLAYS.get();
                withGraphs(true, () -> CudaLinalg.gesvF32(d, 2, 40, 1, sa, 0, sb, 0));
                assertEquals(rp, CudaLinalg.GRAPH_REPLAYS.get(), "small n: no graph");
            }
            d.freeCache();
            assertEquals(0, CudaLinalg.cachedGraphs(d), "freeCache drops the graphs");
            captures = CudaLinalg.GRAPH_CAPTURES.get();
            d.copyIn(a, 0, a.length, da, 0);
            d.copyIn(b, 0, b.length, db, 0);
            assertEquals(0, gesvOn(true, 0, n, nrhs, da, db)[0]);
            assertEquals(captures + 1, CudaLinalg.GRAPH_CAPTURES.get(), "recaptured after freeCache");
            // LRU: more keys than the cache holds keep it at its capacity, and every solve stays right
            for (int off = 0; off < CudaLinalg.GRAPH_CACHE + 2; off++) {
                try (DeviceBuffer ea = d.alloc(4L * (n * n + off)); DeviceBuffer eb = d.alloc(4L * n * nrhs)) {
                    d.copyIn(a, 0, a.length, ea, off);
                    d.copyIn(b, 0, b.length, eb, 0);
                    final int o = off;
                    assertEquals(0, (int) withGraphs(true, () -> CudaLinalg.gesvF32(d, 1, n, nrhs, ea, o, eb, 0)[0]));
                    float[] x = new float[b.length];
                    d.download(eb, 0, x, 0, x.length);
                    double res = residual(false, n, nrhs, f64(a), f64(x), f64(b));
                    assertTrue(res <= 100 * EPS32 * Math.sqrt(n), "LRU round " + off + " residual " + res);
                    assertTrue(CudaLinalg.cachedGraphs(d) <= CudaLinalg.GRAPH_CACHE);
                }
            }
        }
    }

    @Test
    void failedCaptureLeavesTheStreamUsable() {
        Assumptions.assumeTrue(CudaDevice.available(), CudaDevice::unavailableReason);
        CudaDevice d = device();
        try (DeviceBuffer x = d.alloc(64)) {
            IllegalStateException thrown = assertThrows(IllegalStateException.class, () -> d.capture(() -> {
                d.zero(x);
                throw new IllegalStateException("boom");
            }));
            assertEquals("boom", thrown.getMessage());
            assertTrue(!d.isCapturing());
            // a synchronising call inside a capture is refused, and the capture ended
            assertThrows(IllegalStateException.class, () -> d.capture(d::synchronize));
            assertThrows(IllegalStateException.class, () -> d.capture(() -> d.download(x, 0, new float[4], 0, 4)));
            assertTrue(!d.isCapturing());
            // the stream still works, and a plain capture replays
            float[] ones = {1, 2, 3, 4};
            d.copyIn(ones, 0, 4, x, 0);
            try (CudaGraph g = d.capture(() -> d.zero(x, 0, 8))) {
                float[] got = new float[4];
                d.download(x, 0, got, 0, 4);
                assertArrayEquals(ones, got, 0f, "capturing ran nothing");
                g.launch();
                g.launch();
                d.download(x, 0, got, 0, 4);
                assertArrayEquals(new float[] {0, 0, 3, 4}, got, 0f, "replayed");
            }
            d.synchronize();
        }
    }

    // ============================================================================================ checks

    @Test
    void badInputIsRefusedBeforeLaunch() {
        Assumptions.assumeTrue(CudaDevice.available(), CudaDevice::unavailableReason);
        CudaDevice d = device();
        try (DeviceBuffer a = d.alloc(8L * 16); DeviceBuffer w = d.alloc(8L * 4); DeviceBuffer v = d.alloc(8L * 16);
             DeviceBuffer b = d.alloc(8L * 4)) {
            IndexOutOfBoundsException e = assertThrows(IndexOutOfBoundsException.class,
                    () -> CudaLinalg.symEigF64(d, 2, 4, 4, a, 0, w, 0, v, 0));
            assertTrue(e.getMessage().contains("symEig") && e.getMessage().contains("operand a"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> CudaLinalg.symEigF64(d, 1, 4, 5, a, 0, w, 0, v, 0));
            assertThrows(IllegalArgumentException.class, () -> CudaLinalg.symEigF32(d, -1, 4, 4, a, 0, w, 0, v, 0));
            assertThrows(IllegalArgumentException.class, () -> CudaLinalg.symEigF64(d, 1, 2, 2, a, 0, a, 0, null, 0));
            IndexOutOfBoundsException g = assertThrows(IndexOutOfBoundsException.class,
                    () -> CudaLinalg.gesvF64(d, 1, 4, 2, a, 0, b, 0));
            assertTrue(g.getMessage().contains("gesv") && g.getMessage().contains("operand b"), g.getMessage());
            assertThrows(IndexOutOfBoundsException.class, () -> CudaLinalg.cgesv(d, 1, 4, 1, a, 1, b, 0));
            assertThrows(IllegalArgumentException.class, () -> CudaLinalg.gesvF32(d, 1, 2, 2, a, 0, a, 2));
            assertEquals(0, CudaLinalg.gesvF32(d, 0, 3, 1, a, 0, b, 0).length);
            assertArrayEquals(new int[] {0, 0}, CudaLinalg.gesvF32(d, 2, 0, 1, a, 0, b, 0));
        }
    }

    /** Not a check: prints the device times of the two performance targets (and their sizes' neighbours). */
    @Test
    void reportTimings() {
        Assumptions.assumeTrue(CudaDevice.available(), CudaDevice::unavailableReason);
        CudaDevice d = device();
        Rng r = new Rng(7);
        int n = 64, batch = 10_000;
        float[] a = f32(symmetric(r, 1, n));
        try (DeviceBuffer da = d.alloc(4L * batch * n * n); DeviceBuffer dw = d.alloc(4L * batch * n);
             DeviceBuffer dv = d.alloc(4L * batch * n * n)) {
            for (int b = 0; b < batch; b++) {
                d.copyIn(a, 0, n * n, da, (long) b * n * n);
            }
            CudaLinalg.symEigF32(d, batch, n, n, da, 0, dw, 0, dv, 0); // warm-up
            double ms = d.time(3, () -> CudaLinalg.symEigF32(d, batch, n, n, da, 0, dw, 0, dv, 0));
            double msValues = d.time(3, () -> CudaLinalg.symEigF32(d, batch, n, n, da, 0, dw, 0, null, 0));
            System.out.printf("[CudaLinalg timing] symEig f32 10000 x 64x64: %.2f ms with vectors, %.2f ms values only%n",
                    ms, msValues);
        }
        for (int m : new int[] {256, 1024}) {
            double[] g = system(r, 1, m, true), x = randn(r, 2 * m * m);
            long bytes = 8L * m * m;
            try (DeviceBuffer a0 = d.upload(f32(g), 0, 2 * m * m); DeviceBuffer b0 = d.upload(f32(x), 0, 2 * m * m);
                 DeviceBuffer da = d.alloc(bytes); DeviceBuffer db = d.alloc(bytes)) {
                for (int rhs : new int[] {0, m}) {
                    Runnable solve = () -> {
                        d.copy(a0, 0, da, 0, bytes);
                        d.copy(b0, 0, db, 0, bytes);
                        CudaLinalg.cgesv(d, 1, m, rhs, da, 0, db, 0); // synchronises (returns info)
                    };
                    solve.run();
                    int reps = 5;
                    long t0 = System.nanoTime();
                    for (int i = 0; i < reps; i++) {
                        solve.run();
                    }
                    double wall = (System.nanoTime() - t0) / 1e6 / reps;
                    System.out.printf("[CudaLinalg timing] cgesv n=%d nrhs=%d: %.3f ms wall per call (incl. two "
                            + "device-to-device copies of %d KiB)%n", m, rhs, wall, bytes / 1024);
                }
            }
        }
    }

    @Test
    void kernelsArePresent() {
        Assumptions.assumeTrue(CudaDevice.available(), CudaDevice::unavailableReason);
        CudaDevice d = device();
        int found = 0;
        for (String t : new String[] {"f32", "f64"}) {
            for (String k : new String[] {"sprout_symeig_small_", "sprout_symeig_global_"}) {
                int[] attr = d.kernelAttributes(k + t);
                assertTrue(attr[2] > 0, k + t);
                found++;
            }
        }
        for (String t : new String[] {"f32", "f64", "c64"}) {
            for (String k : new String[] {"sprout_lu_small_", "sprout_lu_panel_", "sprout_lu_swap_",
                    "sprout_lu_panel_generic_", "sprout_lu_invdiag_"}) {
                int[] attr = d.kernelAttributes(k + t);
                assertTrue(attr[2] > 0, k + t);
                found++;
            }
        }
        for (String k : new String[] {"sprout_lu_rowcopy_b32", "sprout_lu_rowcopy_b64"}) {
            assertTrue(d.kernelAttributes(k)[2] > 0, k);
            found++;
        }
        if (found != 21) {
            fail("expected 21 kernels, checked " + found);
        }
    }
}
