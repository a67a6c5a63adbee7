package dev.sprout.backend.java;

import dev.sprout.backend.GemmShape.Trans;

/** The {@code naive} variant: plain triple loops, the reference of the variant tests. */
final class NaiveGemm implements GemmKernel {
    static final NaiveGemm INSTANCE = new NaiveGemm();

    private NaiveGemm() {
    }

    @Override
    public String name() {
        return GemmVariants.NAIVE;
    }

    @Override
    public double flopsPerSecond() {
        return 2e9;
    }

    @Override
    public void sgemm(Trans ta, Trans tb, int m, int n, int k, float alpha, float[] a, int aOff, int lda,
                      float[] b, int bOff, int ldb, float beta, float[] c, int cOff, int ldc) {
        NaiveF32.gemm(ta, tb, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
    }

    @Override
    public void dgemm(Trans ta, Trans tb, int m, int n, int k, double alpha, double[] a, int aOff, int lda,
                      double[] b, int bOff, int ldb, double beta, double[] c, int cOff, int ldc) {
        NaiveF64.gemm(ta, tb, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc);
    }

    @Override
    public void cgemm(Trans ta, Trans tb, int m, int n, int k, float alphaRe, float alphaIm, float[] a, int aOff, int lda,
                      float[] b, int bOff, int ldb, float betaRe, float betaIm, float[] c, int cOff, int ldc) {
        boolean at = ta.transposed();
        boolean bt = tb.transposed();
        float ac = ta == Trans.H ? -1f : 1f;
        float bc = tb == Trans.H ? -1f : 1f;
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                float sr = 0f;
                float si = 0f;
                for (int p = 0; p < k; p++) {
                    int ia = 2 * (at ? aOff + p * lda + i : aOff + i * lda + p);
                    int ib = 2 * (bt ? bOff + j * ldb + p : bOff + p * ldb + j);
                    float xr = a[ia];
                    float xi = ac * a[ia + 1];
                    float yr = b[ib];
                    float yi = bc * b[ib + 1];
                    sr += xr * yr - xi * yi;
                    si += xr * yi + xi * yr;
                }
                int ic = 2 * (cOff + i * ldc + j);
                float tr = alphaRe * sr - alphaIm * si;
                float ti = alphaRe * si + alphaIm * sr;
                if (betaRe != 0f || betaIm != 0f) {
                    float cr = c[ic];
                    float ci = c[ic + 1];
                    tr += betaRe * cr - betaIm * ci;
                    ti += betaRe * ci + betaIm * cr;
                }
                c[ic] = tr;
                c[ic + 1] = ti;
            }
        }
    }
}
