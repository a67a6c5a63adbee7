package dev.sprout.backend.java;

import dev.sprout.backend.Checks;
import dev.sprout.backend.GemmShape;
import dev.sprout.backend.GemmShape.Trans;


/**
 * One named gemm strategy with full BLAS semantics on a {@link GemmShape}: checks (nulls, bounds, output
 * aliasing an input), the trivial cases ({@code m, n or batch = 0}: nothing; {@code k = 0} or {@code alpha = 0}:
 * {@code C = beta * C} without reading A or B; {@code beta = 0}: C overwritten even where it holds NaN), batches
 * (a batch stride of 0 broadcasts that operand) and threads, around a {@link GemmKernel}.
 *
 * <p>Threads ({@link Parallel}): a batch is split across items; a single large product is split into row (or,
 * when it is wider than tall, column) ranges of {@code granule} rows, each computed by the kernel as its own
 * product (it packs its own copy of the shared operand: O(kn) extra copies against O(mnk/threads) work). A
 * product is split only when each piece holds about 1 ms of work, estimated from the kernel's speed, unless the
 * variant forces splitting (the {@code parallel*} test variant).
 *
 * <p>Instances are immutable and thread-safe; get them from {@link GemmVariants}.
 */
public final class GemmVariant {
    private final String name;
    private final GemmKernel kernel;
    private final boolean forceSplit;
    private final int granule;

    GemmVariant(String name, GemmKernel kernel, boolean forceSplit, int granule) {
        this.name = name;
        this.kernel = kernel;
        this.forceSplit = forceSplit;
        this.granule = granule;
    }

    /** The registry name, e.g. {@code vectorPacked}. */
    public String name() {
        return name;
    }

    /** The name and what it runs (kernel, tile and block sizes). */
    public String describe() {
        return name + ": " + kernel + (forceSplit ? ", always split across threads" : "");
    }

    @Override
    public String toString() {
        return name;
    }

    GemmKernel kernel() {
        return kernel;
    }

    // ------------------------------------------------------------------------------------------ entry points

    /** {@code C[b] = alpha * op(A[b]) op(B[b]) + beta * C[b]} in f32, on at most {@code threads} threads. */
    public void sgemm(GemmShape g, float alpha, float[] a, int aOff, float[] b, int bOff, float beta, float[] c, int cOff,
                      int threads) {
        boolean reads = Checks.gemm("sgemm", g, alpha != 0f, a, a == null ? 0 : a.length, aOff, b, b == null ? 0 : b.length, bOff,
                c, c == null ? 0 : c.length, cOff);
        if (g.batch() == 0 || g.m() == 0 || g.n() == 0) {
            return;
        }
        if (!reads) {
            for (int bi = 0; bi < g.batch(); bi++) {
                int co = (int) (cOff + bi * g.strideC());
                for (int i = 0; i < g.m(); i++) {
                    int ci = co + i * g.ldc();
                    for (int j = 0; j < g.n(); j++) {
                        c[ci + j] = beta == 0f ? 0f : beta * c[ci + j];
                    }
                }
            }
            return;
        }
        schedule(g, threads, 1, (bi, i0, i1, j0, j1) -> {
            long ao = aOff + bi * g.strideA();
            long bo = bOff + bi * g.strideB();
            long co = cOff + bi * g.strideC() + (long) i0 * g.ldc() + j0;
            ao += g.transA().transposed() ? i0 : (long) i0 * g.lda();
            bo += g.transB().transposed() ? (long) j0 * g.ldb() : j0;
            kernel.sgemm(g.transA(), g.transB(), i1 - i0, j1 - j0, g.k(), alpha, a, (int) ao, g.lda(), b, (int) bo, g.ldb(),
                    beta, c, (int) co, g.ldc());
        });
    }

    /** {@code C[b] = alpha * op(A[b]) op(B[b]) + beta * C[b]} in f64, on at most {@code threads} threads. */
    public void dgemm(GemmShape g, double alpha, double[] a, int aOff, double[] b, int bOff, double beta, double[] c, int cOff,
                      int threads) {
        boolean reads = Checks.gemm("dgemm", g, alpha != 0.0, a, a == null ? 0 : a.length, aOff, b, b == null ? 0 : b.length, bOff,
                c, c == null ? 0 : c.length, cOff);
        if (g.batch() == 0 || g.m() == 0 || g.n() == 0) {
            return;
        }
        if (!reads) {
            for (int bi = 0; bi < g.batch(); bi++) {
                int co = (int) (cOff + bi * g.strideC());
                for (int i = 0; i < g.m(); i++) {
                    int ci = co + i * g.ldc();
                    for (int j = 0; j < g.n(); j++) {
                        c[ci + j] = beta == 0.0 ? 0.0 : beta * c[ci + j];
                    }
                }
            }
            return;
        }
        schedule(g, threads, 1, (bi, i0, i1, j0, j1) -> {
            long ao = aOff + bi * g.strideA();
            long bo = bOff + bi * g.strideB();
            long co = cOff + bi * g.strideC() + (long) i0 * g.ldc() + j0;
            ao += g.transA().transposed() ? i0 : (long) i0 * g.lda();
            bo += g.transB().transposed() ? (long) j0 * g.ldb() : j0;
            kernel.dgemm(g.transA(), g.transB(), i1 - i0, j1 - j0, g.k(), alpha, a, (int) ao, g.lda(), b, (int) bo, g.ldb(),
                    beta, c, (int) co, g.ldc());
        });
    }

    /**
     * Complex product on interleaved c64 data (offsets, leading dimensions and strides count complex elements);
     * {@link Trans#H} conjugates; alpha and beta are complex.
     */
    public void cgemm(GemmShape g, float alphaRe, float alphaIm, float[] a, int aOff, float[] b, int bOff,
                      float betaRe, float betaIm, float[] c, int cOff, int threads) {
        boolean reads = Checks.gemm("cgemm", g, alphaRe != 0f || alphaIm != 0f, a, a == null ? 0 : a.length / 2, aOff,
                b, b == null ? 0 : b.length / 2, bOff, c, c == null ? 0 : c.length / 2, cOff);
        if (g.batch() == 0 || g.m() == 0 || g.n() == 0) {
            return;
        }
        if (!reads) {
            for (int bi = 0; bi < g.batch(); bi++) {
                PackedGemm.scale(g.m(), g.n(), betaRe, betaIm, c, (int) (cOff + bi * g.strideC()), g.ldc());
            }
            return;
        }
        schedule(g, threads, 4, (bi, i0, i1, j0, j1) -> {
            long ao = aOff + bi * g.strideA();
            long bo = bOff + bi * g.strideB();
            long co = cOff + bi * g.strideC() + (long) i0 * g.ldc() + j0;
            ao += g.transA().transposed() ? i0 : (long) i0 * g.lda();
            bo += g.transB().transposed() ? (long) j0 * g.ldb() : j0;
            kernel.cgemm(g.transA(), g.transB(), i1 - i0, j1 - j0, g.k(), alphaRe, alphaIm, a, (int) ao, g.lda(), b, (int) bo,
                    g.ldb(), betaRe, betaIm, c, (int) co, g.ldc());
        });
    }

    // ------------------------------------------------------------------------------------------ threads

    /** A sub-product: rows [i0, i1) and columns [j0, j1) of batch item bi. */
    @FunctionalInterface
    private interface Piece {
        void run(int bi, int i0, int i1, int j0, int j1);
    }

    /** Runs every item of the batch, split across threads where the work pays for it. */
    private void schedule(GemmShape g, int threads, int complexFactor, Piece piece) {
        int m = g.m();
        int n = g.n();
        int batch = g.batch();
        double flops = 2.0 * complexFactor * m * n * (double) g.k();
        // Parallel counts work in scalar-speed FLOPs; this kernel runs flopsPerSecond()
        double work = forceSplit ? Double.POSITIVE_INFINITY : flops * SCALAR_FLOPS_PER_SECOND / kernel.flopsPerSecond();
        if (threads > 1 && batch > 1 && Parallel.chunks(batch, threads, work) > 1) {
            Parallel.forRange(batch, threads, work, (lo, hi) -> {
                for (int bi = lo; bi < hi; bi++) {
                    piece.run(bi, 0, m, 0, n);
                }
            });
            return;
        }
        boolean byRows = m >= n;
        int len = byRows ? m : n;
        int units = (len + granule - 1) / granule;
        for (int bi = 0; bi < batch; bi++) {
            if (threads <= 1 || units <= 1 || Parallel.chunks(units, threads, work / units) <= 1) {
                piece.run(bi, 0, m, 0, n);
                continue;
            }
            int item = bi;
            Parallel.forRange(units, threads, work / units, (lo, hi) -> {
                int from = lo * granule;
                int to = Math.min(len, hi * granule);
                if (byRows) {
                    piece.run(item, from, to, 0, n);
                } else {
                    piece.run(item, 0, m, from, to);
                }
            });
        }
    }

    /** The speed {@link Parallel#MIN_CHUNK_WORK} assumes. */
    private static final double SCALAR_FLOPS_PER_SECOND = 5e9;
}
