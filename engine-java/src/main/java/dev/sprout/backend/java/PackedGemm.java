package dev.sprout.backend.java;

import dev.sprout.backend.GemmShape.Trans;

/**
 * The packed, cache-blocked kernels ({@link PackedGemmF32}, {@link PackedGemmF64}) behind one name: real products
 * directly, complex ones as a real product of twice the size ({@link ComplexPanels}). Products of at most
 * {@link #TINY} multiply-adds skip packing and run the naive loops.
 */
final class PackedGemm implements GemmKernel {
    /** Below this many multiply-adds packing costs more than it saves. */
    static final long TINY = 512;

    private final String name;
    private final double flopsPerSecond;
    final PackedGemmF32 f32;
    final PackedGemmF64 f64;

    PackedGemm(String name, double flopsPerSecond, PackedGemmF32 f32, PackedGemmF64 f64) {
        this.name = name;
        this.flopsPerSecond = flopsPerSecond;
        this.f32 = f32;
        this.f64 = f64;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public double flopsPerSecond() {
        return flopsPerSecond;
    }

    @Override
    public void sgemm(Trans ta, Trans tb, int m, int n, int k, float alpha, float[] a, int aOff, int lda,
                      float[] b, int bOff, int ldb, float beta, float[] c, int cOff, int ldc) {
        if ((long) m * n * k <= TINY) {
            NaiveF32.gemm(ta, tb, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
        } else {
            f32.gemm(ta, tb, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
        }
    }

    @Override
    public void dgemm(Trans ta, Trans tb, int m, int n, int k, double alpha, double[] a, int aOff, int lda,
                      double[] b, int bOff, int ldb, double beta, double[] c, int cOff, int ldc) {
        if ((long) m * n * k <= TINY) {
            NaiveF64.gemm(ta, tb, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
        } else {
            f64.gemm(ta, tb, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
        }
    }

    @Override
    public void cgemm(Trans ta, Trans tb, int m, int n, int k, float alphaRe, float alphaIm, float[] a, int aOff, int lda,
                      float[] b, int bOff, int ldb, float betaRe, float betaIm, float[] c, int cOff, int ldc) {
        if ((long) m * n * k <= TINY / 4) {
            NaiveGemm.INSTANCE.cgemm(ta, tb, m, n, k, alphaRe, alphaIm, a, aOff, lda, b, bOff, ldb, betaRe, betaIm, c, cOff, ldc);
            return;
        }
        float beta = betaRe;
        if (betaIm != 0f) {
            // the real kernel can only scale C by a real beta: apply the complex one first, then accumulate
            scale(m, n, betaRe, betaIm, c, cOff, ldc);
            beta = 1f;
        }
        f32.gemm(new ComplexPanels.A(ta, a, 2 * aOff, lda, alphaRe, alphaIm), new ComplexPanels.B(tb, b, 2 * bOff, ldb),
                m, 2 * n, 2 * k, 1f, beta, c, 2 * cOff, 2 * ldc);
    }

    /** {@code C = beta * C} on an m x n complex matrix ({@code beta == 0}: zeros, whatever C held). */
    static void scale(int m, int n, float betaRe, float betaIm, float[] c, int cOff, int ldc) {
        for (int i = 0; i < m; i++) {
            int ci = 2 * (cOff + i * ldc);
            if (betaRe == 0f && betaIm == 0f) {
                java.util.Arrays.fill(c, ci, ci + 2 * n, 0f);
                continue;
            }
            for (int j = 0; j < 2 * n; j += 2) {
                float cr = c[ci + j];
                float cim = c[ci + j + 1];
                c[ci + j] = betaRe * cr - betaIm * cim;
                c[ci + j + 1] = betaRe * cim + betaIm * cr;
            }
        }
    }

    @Override
    public String toString() {
        return name + ": " + f32;
    }
}
