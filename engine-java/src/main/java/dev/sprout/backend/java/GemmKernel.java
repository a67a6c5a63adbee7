package dev.sprout.backend.java;

import dev.sprout.backend.GemmShape.Trans;

/**
 * One strategy for a single (batch item of a) row-major matrix product. {@link GemmVariant} checks shapes, handles
 * batches, threads and the trivial cases, and calls a kernel only with {@code m, n, k > 0} and a non-zero alpha.
 * Offsets and leading dimensions count elements (complex elements for {@code cgemm}). {@link Trans#H} means
 * {@link Trans#T} for real data.
 */
interface GemmKernel {
    String name();

    /** Rough single-thread f32 speed in FLOP/s, used to decide whether splitting a product across threads pays. */
    double flopsPerSecond();

    void sgemm(Trans ta, Trans tb, int m, int n, int k, float alpha, float[] a, int aOff, int lda,
               float[] b, int bOff, int ldb, float beta, float[] c, int cOff, int ldc);

    void dgemm(Trans ta, Trans tb, int m, int n, int k, double alpha, double[] a, int aOff, int lda,
               double[] b, int bOff, int ldb, double beta, double[] c, int cOff, int ldc);

    void cgemm(Trans ta, Trans tb, int m, int n, int k, float alphaRe, float alphaIm, float[] a, int aOff, int lda,
               float[] b, int bOff, int ldb, float betaRe, float betaIm, float[] c, int cOff, int ldc);
}
