package dev.sprout.backend.java;

import dev.sprout.backend.Activation;
import dev.sprout.backend.Backend;
import dev.sprout.backend.Checks;
import dev.sprout.backend.ConvGeometry;
import dev.sprout.backend.GemmShape;
import dev.sprout.linalg.ComplexLU;
import dev.sprout.linalg.LU;
import dev.sprout.linalg.SymmetricEigen;

/**
 * The pure-Java backend: always available, and the reference every other backend is tested against.
 *
 * <p>Matrix products run on {@link JavaGemm} (packed, cache-blocked, Vector API micro-kernel when the
 * {@code jdk.incubator.vector} module is readable, a scalar blocked kernel otherwise). Batched work (matrices of
 * an eigen-solve batch, neurons of a weighted-Gram batch) is spread over {@link #threads()} threads only when
 * each piece is large enough to pay for the hand-off. Pointwise kernels are plain loops: they are bound by
 * memory bandwidth, not arithmetic.
 */
public final class JavaBackend implements Backend {
    private final int threads;

    public JavaBackend() {
        this(Parallel.defaultThreads());
    }

    public JavaBackend(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("JavaBackend: threads must be >= 1, got " + threads);
        }
        this.threads = threads;
    }

    @Override
    public String name() {
        return "java";
    }

    @Override
    public String describe() {
        return "pure Java, " + threads + " thread(s), gemm: " + JavaGemm.kernelDescription();
    }

    @Override
    public int threads() {
        return threads;
    }

    // ------------------------------------------------------------------------------------------ gemm

    @Override
    public void sgemm(GemmShape g, float alpha, float[] a, int aOff, float[] b, int bOff, float beta, float[] c, int cOff) {
        JavaGemm.sgemm(g, alpha, a, aOff, b, bOff, beta, c, cOff, threads);
    }

    @Override
    public void dgemm(GemmShape g, double alpha, double[] a, int aOff, double[] b, int bOff, double beta, double[] c, int cOff) {
        JavaGemm.dgemm(g, alpha, a, aOff, b, bOff, beta, c, cOff, threads);
    }

    @Override
    public void cgemm(GemmShape g, float alphaRe, float alphaIm, float[] a, int aOff, float[] b, int bOff,
                      float betaRe, float betaIm, float[] c, int cOff) {
        JavaGemm.cgemm(g, alphaRe, alphaIm, a, aOff, b, bOff, betaRe, betaIm, c, cOff, threads);
    }

    // ------------------------------------------------------------------------------------------ pointwise

    @Override
    public void activation(Activation f, int order, float beta, float[] x, int xOff, float[] y, int yOff, int n) {
        Checks.activation("activation", f, order, x, x == null ? 0 : x.length, xOff, y, y == null ? 0 : y.length, yOff, n);
        if (f == Activation.RELU && order <= 1) {
            // order 0 as Math.max(0, v) in Activation.eval: NaN stays NaN (a NaN is never trained on as a zero),
            // -0 becomes +0; order 1: 1 where v > 0
            for (int i = 0; i < n; i++) {
                float v = x[xOff + i];
                y[yOff + i] = order == 0 ? (!(v <= 0) ? v : 0f) : (v > 0 ? 1f : 0f);
            }
            return;
        }
        for (int i = 0; i < n; i++) {
            y[yOff + i] = (float) f.eval(x[xOff + i], order, beta);
        }
    }

    @Override
    public void activation(Activation f, int order, double beta, double[] x, int xOff, double[] y, int yOff, int n) {
        Checks.activation("activation", f, order, x, x == null ? 0 : x.length, xOff, y, y == null ? 0 : y.length, yOff, n);
        for (int i = 0; i < n; i++) {
            y[yOff + i] = f.eval(x[xOff + i], order, beta);
        }
    }

    @Override
    public void sumAxis(float[] x, int xOff, int outer, int len, int inner, float[] out, int outOff) {
        Checks.sumAxis("sumAxis", x, x == null ? 0 : x.length, xOff, outer, len, inner, out, out == null ? 0 : out.length, outOff);
        for (int o = 0; o < outer; o++) {
            int base = xOff + o * len * inner, ob = outOff + o * inner;
            if (inner == 1) {
                // pairwise-free but with 4 partial sums: keeps the dependency chain short and rounding balanced
                float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
                int l = 0;
                for (; l + 3 < len; l += 4) {
                    s0 += x[base + l];
                    s1 += x[base + l + 1];
                    s2 += x[base + l + 2];
                    s3 += x[base + l + 3];
                }
                for (; l < len; l++) {
                    s0 += x[base + l];
                }
                out[ob] = (s0 + s1) + (s2 + s3);
            } else {
                for (int i = 0; i < inner; i++) {
                    out[ob + i] = 0f;
                }
                for (int l = 0; l < len; l++) {
                    int row = base + l * inner;
                    for (int i = 0; i < inner; i++) {
                        out[ob + i] += x[row + i];
                    }
                }
            }
        }
    }

    @Override
    public void sumAxis(double[] x, int xOff, int outer, int len, int inner, double[] out, int outOff) {
        Checks.sumAxis("sumAxis", x, x == null ? 0 : x.length, xOff, outer, len, inner, out, out == null ? 0 : out.length, outOff);
        for (int o = 0; o < outer; o++) {
            int base = xOff + o * len * inner, ob = outOff + o * inner;
            for (int i = 0; i < inner; i++) {
                out[ob + i] = 0.0;
            }
            for (int l = 0; l < len; l++) {
                int row = base + l * inner;
                for (int i = 0; i < inner; i++) {
                    out[ob + i] += x[row + i];
                }
            }
        }
    }

    // ------------------------------------------------------------------------------------------ convolution

    @Override
    public void im2col(ConvGeometry g, float[] x, int xOff, float[] col, int colOff) {
        Checks.conv("im2col", g, x, x == null ? 0 : x.length, xOff, col, col == null ? 0 : col.length, colOff);
        LoweringF32.im2col(g, x, xOff, col, colOff);
    }

    @Override
    public void im2col(ConvGeometry g, double[] x, int xOff, double[] col, int colOff) {
        Checks.conv("im2col", g, x, x == null ? 0 : x.length, xOff, col, col == null ? 0 : col.length, colOff);
        LoweringF64.im2col(g, x, xOff, col, colOff);
    }

    @Override
    public void col2im(ConvGeometry g, float[] col, int colOff, float[] x, int xOff) {
        Checks.conv("col2im", g, x, x == null ? 0 : x.length, xOff, col, col == null ? 0 : col.length, colOff);
        LoweringF32.col2im(g, col, colOff, x, xOff);
    }

    @Override
    public void col2im(ConvGeometry g, double[] col, int colOff, double[] x, int xOff) {
        Checks.conv("col2im", g, x, x == null ? 0 : x.length, xOff, col, col == null ? 0 : col.length, colOff);
        LoweringF64.col2im(g, col, colOff, x, xOff);
    }

    // ------------------------------------------------------------------------------------------ splitting statistics

    /**
     * One gemm per neuron: {@code S_i += (diag(w_i) X)^T X}, with the scaled copy of X in a per-thread buffer;
     * neurons are spread over threads. Cost {@code neurons * samples * d^2} multiply-adds.
     */
    @Override
    public void weightedGram(int samples, int d, int neurons, float[] x, int xOff, float[] w, int wOff, float[] s, int sOff) {
        Checks.weightedGram("weightedGram", samples, d, neurons, x, x == null ? 0 : x.length, xOff, w, w == null ? 0 : w.length, wOff,
                s, s == null ? 0 : s.length, sOff);
        LoweringF32.weightedGram(samples, d, neurons, x, xOff, w, wOff, s, sOff, threads);
    }

    @Override
    public void weightedGram(int samples, int d, int neurons, double[] x, int xOff, double[] w, int wOff, double[] s, int sOff) {
        Checks.weightedGram("weightedGram", samples, d, neurons, x, x == null ? 0 : x.length, xOff, w, w == null ? 0 : w.length, wOff,
                s, s == null ? 0 : s.length, sOff);
        LoweringF64.weightedGram(samples, d, neurons, x, xOff, w, wOff, s, sOff, threads);
    }

    // ------------------------------------------------------------------------------------------ linear algebra

    @Override
    public void symEig(int batch, int n, int k, float[] a, int aOff, float[] w, int wOff, float[] v, int vOff) {
        Checks.symEig("symEig", batch, n, k, a == null ? 0 : a.length, aOff, w == null ? 0 : w.length, wOff, v == null ? -1 : v.length, vOff);
        double work = 10.0 * n * n * n;
        // one call per chunk of matrices, so the solver's workspace is reused across the chunk
        Parallel.forRange(batch, threads, work, (lo, hi) -> SymmetricEigen.symEig(hi - lo, n, k, a, aOff + lo * n * n,
                w, wOff + lo * k, v, v == null ? 0 : vOff + lo * n * k));
    }

    @Override
    public void symEig(int batch, int n, int k, double[] a, int aOff, double[] w, int wOff, double[] v, int vOff) {
        Checks.symEig("symEig", batch, n, k, a == null ? 0 : a.length, aOff, w == null ? 0 : w.length, wOff, v == null ? -1 : v.length, vOff);
        double work = 10.0 * n * n * n;
        // one call per chunk of matrices, so the solver's workspace is reused across the chunk
        Parallel.forRange(batch, threads, work, (lo, hi) -> SymmetricEigen.symEig(hi - lo, n, k, a, aOff + lo * n * n,
                w, wOff + lo * k, v, v == null ? 0 : vOff + lo * n * k));
    }

    @Override
    public int gesv(int n, int nrhs, float[] a, int aOff, float[] b, int bOff) {
        return LU.gesv(n, nrhs, a, aOff, b, bOff);
    }

    @Override
    public int gesv(int n, int nrhs, double[] a, int aOff, double[] b, int bOff) {
        return LU.gesv(n, nrhs, a, aOff, b, bOff);
    }

    @Override
    public int cgesv(int n, int nrhs, float[] a, int aOff, float[] b, int bOff) {
        return ComplexLU.cgesv(n, nrhs, a, aOff, b, bOff);
    }
}
