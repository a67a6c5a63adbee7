package dev.sprout.backend;

/**
 * The shape of a (batched) row-major matrix product {@code C[b] = alpha * op(A[b]) * op(B[b]) + beta * C[b]}.
 *
 * <p>{@code op(A)} is {@code m x k}, {@code op(B)} is {@code k x n}, {@code C} is {@code m x n}. Leading
 * dimensions are row strides of the stored (untransposed) matrices, in elements (complex elements for c64:
 * one element = two floats). A batch stride of 0 broadcasts that operand over the batch.
 *
 * <p>Every backend checks a shape with {@link #checkBounds} before it touches memory, so a bad shape never
 * reaches native code.
 */
public record GemmShape(Trans transA, Trans transB, int m, int n, int k, int lda, int ldb, int ldc,
                        int batch, long strideA, long strideB, long strideC) {

    /** How an operand enters the product: as stored, transposed, or conjugate-transposed (complex only). */
    public enum Trans {
        N, T, H;

        public boolean transposed() {
            return this != N;
        }
    }

    public GemmShape {
        if (transA == null || transB == null) {
            throw new IllegalArgumentException("gemm: transA/transB must not be null");
        }
        if (m < 0 || n < 0 || k < 0 || batch < 0) {
            throw new IllegalArgumentException("gemm: negative size m=" + m + " n=" + n + " k=" + k + " batch=" + batch);
        }
        int rowsA = transA.transposed() ? k : m, colsA = transA.transposed() ? m : k;
        int rowsB = transB.transposed() ? n : k, colsB = transB.transposed() ? k : n;
        if (lda < Math.max(1, colsA) || ldb < Math.max(1, colsB) || ldc < Math.max(1, n)) {
            throw new IllegalArgumentException("gemm: leading dimension too small: A is " + rowsA + "x" + colsA
                    + " with lda=" + lda + ", B is " + rowsB + "x" + colsB + " with ldb=" + ldb + ", C is " + m + "x" + n
                    + " with ldc=" + ldc);
        }
        if (strideA < 0 || strideB < 0 || strideC < 0) {
            throw new IllegalArgumentException("gemm: negative batch stride");
        }
        if (batch > 1 && strideC < (long) (m - 1) * ldc + n && m > 0 && n > 0) {
            throw new IllegalArgumentException("gemm: output batch stride " + strideC + " makes C matrices overlap (m=" + m
                    + ", n=" + n + ", ldc=" + ldc + ")");
        }
    }

    /** A single, densely stored product. */
    public static GemmShape of(boolean transA, boolean transB, int m, int n, int k) {
        return batched(transA, transB, 1, m, n, k);
    }

    /** A batch of densely stored products, each operand of the batch following the previous one. */
    public static GemmShape batched(boolean transA, boolean transB, int batch, int m, int n, int k) {
        Trans ta = transA ? Trans.T : Trans.N, tb = transB ? Trans.T : Trans.N;
        int lda = transA ? m : k, ldb = transB ? k : n;
        return new GemmShape(ta, tb, m, n, k, Math.max(1, lda), Math.max(1, ldb), Math.max(1, n), batch,
                (long) m * k, (long) k * n, (long) m * n);
    }

    public GemmShape withTrans(Trans ta, Trans tb) {
        return new GemmShape(ta, tb, m, n, k, lda, ldb, ldc, batch, strideA, strideB, strideC);
    }

    /** Rows of A as stored. */
    public int storedRowsA() {
        return transA.transposed() ? k : m;
    }

    /** Rows of B as stored. */
    public int storedRowsB() {
        return transB.transposed() ? n : k;
    }

    /** Floating-point operations of the whole batch (2mnk each; 8mnk for complex). */
    public double flops(boolean complex) {
        return (complex ? 8.0 : 2.0) * m * n * (double) k * batch;
    }

    /**
     * Checks that all elements touched by this product lie in the arrays, given their lengths in elements.
     *
     * @throws IndexOutOfBoundsException naming the operand that does not fit
     */
    public void checkBounds(long aLen, long aOff, long bLen, long bOff, long cLen, long cOff) {
        if (batch == 0 || m == 0 || n == 0) {
            return;
        }
        if (k > 0) {
            need("A", aLen, aOff, storedRowsA(), transA.transposed() ? m : k, lda, strideA);
            need("B", bLen, bOff, storedRowsB(), transB.transposed() ? k : n, ldb, strideB);
        }
        need("C", cLen, cOff, m, n, ldc, strideC);
    }

    private void need(String name, long len, long off, int rows, int cols, int ld, long stride) {
        long last = off + (long) (batch - 1) * stride + (long) (rows - 1) * ld + cols;
        if (off < 0 || last > len) {
            throw new IndexOutOfBoundsException("gemm: operand " + name + " (" + rows + "x" + cols + ", ld=" + ld
                    + ", batch=" + batch + ", stride=" + stride + ", offset=" + off + ") needs " + last
                    + " elements but has " + len);
        }
    }

    @Override
    public String toString() {
        return "gemm[" + (batch != 1 ? batch + "x " : "") + m + "x" + k + (transA.transposed() ? "^" + transA : "")
                + " * " + k + "x" + n + (transB.transposed() ? "^" + transB : "") + "]";
    }
}
