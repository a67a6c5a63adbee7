package dev.sprout.backend;

/**
 * The kernel-sized operations that Sprout's hot paths run through. Autograd, layers and growth are written
 * once above this interface; the pure-Java backend implements all of it and is the reference that every
 * other backend (native CPU, CUDA) is tested against.
 *
 * <p>Conventions: all matrices are row-major; complex (c64) data is interleaved {@code re, im} in a
 * {@code float[]}, and complex sizes and offsets count complex elements, not floats. Callers pass arrays
 * with offsets; every implementation checks sizes and bounds before it does any work (so a wrong shape is an
 * exception, never a crash in native code) and names the operation and the operand in the message.
 */
public interface Backend {

    /** Short name, e.g. {@code java}, {@code native}, {@code cuda}. */
    String name();

    /** One line on how this backend runs (threads, vector width, device). */
    String describe();

    /** Number of threads that kernels of this backend may use across independent work. */
    int threads();

    // ---------------------------------------------------------------- finite check

    /**
     * Whether {@code a[off .. off + n)} holds only finite values (no NaN, no infinity): the check the optimizers run
     * on every gradient before a step touches any parameter. This default is the reference, a scalar loop (the JIT
     * does not vectorise it); backends may override it with a vectorised kernel.
     */
    default boolean allFinite(float[] a, int off, int n) {
        Checks.notNull("allFinite", "a", a);
        Checks.range("allFinite", "a", a.length, off, n);
        // x * 0 is a signed zero for finite x and NaN otherwise; eight independent sums keep the adds in flight
        float s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
        int i = 0;
        for (; i + 8 <= n; i += 8) {
            int k = off + i;
            s0 += a[k] * 0f;
            s1 += a[k + 1] * 0f;
            s2 += a[k + 2] * 0f;
            s3 += a[k + 3] * 0f;
            s4 += a[k + 4] * 0f;
            s5 += a[k + 5] * 0f;
            s6 += a[k + 6] * 0f;
            s7 += a[k + 7] * 0f;
        }
        for (; i < n; i++) {
            s0 += a[off + i] * 0f;
        }
        return !Float.isNaN(s0 + s1 + s2 + s3 + s4 + s5 + s6 + s7);
    }

    /** {@link #allFinite(float[], int, int)} for f64. */
    default boolean allFinite(double[] a, int off, int n) {
        Checks.notNull("allFinite", "a", a);
        Checks.range("allFinite", "a", a.length, off, n);
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        int i = 0;
        for (; i + 4 <= n; i += 4) {
            int k = off + i;
            s0 += a[k] * 0.0;
            s1 += a[k + 1] * 0.0;
            s2 += a[k + 2] * 0.0;
            s3 += a[k + 3] * 0.0;
        }
        for (; i < n; i++) {
            s0 += a[off + i] * 0.0;
        }
        return !Double.isNaN(s0 + s1 + s2 + s3);
    }

    // ---------------------------------------------------------------- vector update

    /**
     * {@code y[yOff + i] = y[yOff + i] + alpha * x[xOff + i]} for {@code i < n} (BLAS axpy; the SGD update
     * {@code p -= lr * g} with {@code alpha = -lr}). The product is rounded before the sum (no fused multiply-add), so
     * every backend gives the bits of this default, the reference. {@code x} and {@code y} may be the same array only
     * at the same offset (an overlap at another offset would make the result depend on the loop order).
     */
    default void axpy(int n, float alpha, float[] x, int xOff, float[] y, int yOff) {
        Checks.axpy(x, xOff, y, yOff, n);
        for (int i = 0; i < n; i++) {
            y[yOff + i] = y[yOff + i] + alpha * x[xOff + i];
        }
    }

    /** {@link #axpy(int, float, float[], int, float[], int)} for f64. */
    default void axpy(int n, double alpha, double[] x, int xOff, double[] y, int yOff) {
        Checks.axpy(x, xOff, y, yOff, n);
        for (int i = 0; i < n; i++) {
            y[yOff + i] = y[yOff + i] + alpha * x[xOff + i];
        }
    }

    // ---------------------------------------------------------------- matrix products

    void sgemm(GemmShape g, float alpha, float[] a, int aOff, float[] b, int bOff, float beta, float[] c, int cOff);

    void dgemm(GemmShape g, double alpha, double[] a, int aOff, double[] b, int bOff, double beta, double[] c, int cOff);

    /**
     * {@link #sgemm}, then whether every element of C it wrote (each batch item's {@code m x n} block) is finite: no
     * NaN, no infinity. The check the optimizers run on a weight gradient, done where the gradient is made; this default
     * is the reference (the product, then {@link #allFinite} over C's rows). A backend may fuse the check into the
     * product: the native one folds each tile of C into the check from the registers as it stores it.
     */
    default boolean sgemmFinite(GemmShape g, float alpha, float[] a, int aOff, float[] b, int bOff, float beta, float[] c,
                                int cOff) {
        sgemm(g, alpha, a, aOff, b, bOff, beta, c, cOff);
        return everyRowOfC(g, cOff, row -> allFinite(c, row, g.n()));
    }

    /** {@link #sgemmFinite} for f64. */
    default boolean dgemmFinite(GemmShape g, double alpha, double[] a, int aOff, double[] b, int bOff, double beta,
                                double[] c, int cOff) {
        dgemm(g, alpha, a, aOff, b, bOff, beta, c, cOff);
        return everyRowOfC(g, cOff, row -> allFinite(c, row, g.n()));
    }

    /** Whether {@code test} holds for the start offset of every row of every C matrix of the batch. */
    private static boolean everyRowOfC(GemmShape g, int cOff, java.util.function.IntPredicate test) {
        for (int bi = 0; bi < g.batch(); bi++) {
            for (int i = 0; i < g.m(); i++) {
                if (!test.test(Math.toIntExact(cOff + bi * g.strideC() + (long) i * g.ldc()))) {
                    return false;
                }
            }
        }
        return true;
    }

    /** Complex product on interleaved c64 data; {@link GemmShape.Trans#H} conjugates. alpha and beta are complex. */
    void cgemm(GemmShape g, float alphaRe, float alphaIm, float[] a, int aOff, float[] b, int bOff,
               float betaRe, float betaIm, float[] c, int cOff);

    // ---------------------------------------------------------------- pointwise kernels

    /**
     * {@code y[i] = sigma^(order)(x[i])} for order 0..{@link Activation#MAX_ORDER} ({@code beta} is used by softplus
     * only); {@code x} and {@code y} may be the same array at the same offset (in place).
     */
    void activation(Activation f, int order, float beta, float[] x, int xOff, float[] y, int yOff, int n);

    void activation(Activation f, int order, double beta, double[] x, int xOff, double[] y, int yOff, int n);

    /**
     * Sums {@code x}, viewed as {@code [outer, len, inner]} contiguous, over its middle axis into {@code out}
     * ({@code [outer, inner]}).
     */
    void sumAxis(float[] x, int xOff, int outer, int len, int inner, float[] out, int outOff);

    void sumAxis(double[] x, int xOff, int outer, int len, int inner, double[] out, int outOff);

    // ---------------------------------------------------------------- convolution lowering

    /**
     * Unfolds one image {@code [C, H, W]} into columns {@code [C*kh*kw, outH*outW]} for a convolution as a gemm.
     */
    void im2col(ConvGeometry g, float[] x, int xOff, float[] col, int colOff);

    void im2col(ConvGeometry g, double[] x, int xOff, double[] col, int colOff);

    /** The adjoint of {@link #im2col}: accumulates columns back into an image (which it first zeroes). */
    void col2im(ConvGeometry g, float[] col, int colOff, float[] x, int xOff);

    void col2im(ConvGeometry g, double[] col, int colOff, double[] x, int xOff);

    // ---------------------------------------------------------------- splitting statistics

    /**
     * Weighted Gram matrices of many neurons at once: {@code S[i] += sum_n w[n, i] x[n] x[n]^T} with
     * {@code x} {@code [samples, d]}, {@code w} {@code [samples, neurons]}, {@code s} {@code [neurons, d, d]}
     * (accumulated, so batches can be summed; symmetric, both triangles written).
     */
    void weightedGram(int samples, int d, int neurons, float[] x, int xOff, float[] w, int wOff, float[] s, int sOff);

    void weightedGram(int samples, int d, int neurons, double[] x, int xOff, double[] w, int wOff, double[] s, int sOff);

    // ---------------------------------------------------------------- dense linear algebra

    /**
     * Eigen-decomposes {@code batch} symmetric {@code n x n} matrices (only the lower triangle is read):
     * {@code k} eigenpairs in ascending order of eigenvalue, the smallest ones ({@code k = n} for all).
     * {@code w} receives {@code [batch, k]} eigenvalues, {@code v} {@code [batch, n, k]} eigenvectors as
     * columns (may be {@code null} for values only). The input is not modified.
     */
    void symEig(int batch, int n, int k, float[] a, int aOff, float[] w, int wOff, float[] v, int vOff);

    void symEig(int batch, int n, int k, double[] a, int aOff, double[] w, int wOff, double[] v, int vOff);

    /**
     * Solves {@code A X = B} in place by LU with partial pivoting: {@code a} ({@code n x n}) is overwritten by
     * its factors, {@code b} ({@code n x nrhs}) by the solution.
     *
     * @return 0, or {@code i + 1} if pivot {@code i} is exactly zero (the matrix is singular; b is unchanged)
     */
    int gesv(int n, int nrhs, float[] a, int aOff, float[] b, int bOff);

    int gesv(int n, int nrhs, double[] a, int aOff, double[] b, int bOff);

    /** Complex (c64, interleaved) version of {@link #gesv(int, int, float[], int, float[], int)}. */
    int cgesv(int n, int nrhs, float[] a, int aOff, float[] b, int bOff);
}
