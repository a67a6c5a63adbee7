package dev.sprout.backend.nativecpu;

import dev.sprout.backend.Activation;
import dev.sprout.backend.Backend;
import dev.sprout.backend.Checks;
import dev.sprout.backend.ConvGeometry;
import dev.sprout.backend.GemmShape;
import dev.sprout.backend.java.Parallel;

import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The native CPU backend: every kernel of the {@link Backend} SPI runs in C++ ({@code engine-native/src/main/cpp},
 * bound by {@link NativeKernels}), in the AVX2 or the AVX-512 variant chosen at construction.
 *
 * <p>Safety: each entry point checks nulls, sizes, offsets, bounds and output aliasing in Java ({@link Checks}, the
 * same checks as the Java backend) before the native call, so bad input is an exception that names the operation
 * and the operand, never a crash. The C++ code trusts its arguments.
 *
 * <p>Threads ({@link Parallel}, at most {@link #threads()}): batched products split across batch items, a single
 * large product across row (or, when wider than tall, column) ranges of {@value #GRANULE}; eigen-solves across
 * matrices; weighted Gram matrices across neurons; each piece is one native call with its own packing buffers. A
 * call is split only when every piece holds about 1 ms of work ({@link Parallel#MIN_CHUNK_WORK}, scaled by the
 * kernel's speed). LU solves, pointwise maps, sums and im2col/col2im run on the calling thread (the first is
 * follow-up work; the others are memory-bound).
 *
 * <p>What runs natively, per kernel: all 13 SPI kernels (allFinite, axpy, sgemm and dgemm (also with the
 * finiteness check of C fused into the product: sgemmFinite, dgemmFinite), cgemm, activation f32/f64 orders 0..6,
 * sumAxis, im2col, col2im, weightedGram, symEig, gesv, cgesv). Performance state: sgemm/dgemm are packed and
 * register-blocked (see gemm.h); cgemm is 4 real products (4M); symEig is tridiagonalisation + implicit QL (see
 * eigen.h); gesv/cgesv are blocked LU with the trailing update as a gemm; activations other than ReLU/identity
 * evaluate libm per element in double (not yet vectorised).
 *
 * <p>Besides the SPI (heap arrays, pinned for the call), {@link #matmul} and {@link #activation(Activation, int,
 * double, NativeTensor, NativeTensor)} run the same kernels on off-heap {@link NativeTensor}s owned by a
 * {@link NativeScope}.
 */
public final class NativeBackend implements Backend {
    /** Row/column granule of a product split across threads. */
    static final int GRANULE = 64;

    /** The speed {@link Parallel#MIN_CHUNK_WORK} assumes (plain Java), to scale our work estimates by. */
    private static final double SCALAR_FLOPS_PER_SECOND = 5e9;

    private final Isa isa;
    private final int threads;
    private final double gemmFlopsPerSecond;
    private final boolean forceSplit;

    /**
     * @throws IllegalStateException if the library is not loaded or this CPU cannot run {@code isa} (with the reason)
     */
    public NativeBackend(Isa isa, int threads) {
        this(isa, threads, false);
    }

    /** {@code forceSplit}: split every product, eigen batch and Gram batch across threads whatever its size (tests). */
    NativeBackend(Isa isa, int threads, boolean forceSplit) {
        if (threads < 1) {
            throw new IllegalArgumentException("NativeBackend: threads must be >= 1, got " + threads);
        }
        NativeLibrary.Status st = NativeLibrary.status();
        if (!st.loaded()) {
            throw new IllegalStateException("native backend unavailable: " + st.detail());
        }
        if (!st.runnable().contains(isa)) {
            throw new IllegalStateException("native backend: this CPU cannot run the " + isa.label() + " kernels; it lacks "
                    + st.cpu().missing(isa.required()) + " (runnable here: " + st.runnable() + ")");
        }
        this.isa = isa;
        this.threads = threads;
        this.gemmFlopsPerSecond = isa == Isa.AVX512 ? 120e9 : 60e9;
        this.forceSplit = forceSplit;
    }

    /** The backend on the widest ISA this CPU runs, with {@link Parallel#defaultThreads()} threads. */
    public static NativeBackend best() {
        List<Isa> r = runnable();
        if (r.isEmpty()) {
            throw new IllegalStateException("native backend unavailable: " + NativeLibrary.status().detail());
        }
        return new NativeBackend(r.get(r.size() - 1), Parallel.defaultThreads());
    }

    /** The ISA variants this machine can run (empty if the library did not load), narrowest first. */
    public static List<Isa> runnable() {
        return NativeLibrary.status().runnable();
    }

    /** Whether the library loaded, and what was found (or why it did not load). */
    public static String libraryStatus() {
        return NativeLibrary.status().detail();
    }

    public Isa isa() {
        return isa;
    }

    @Override
    public String name() {
        return "native";
    }

    @Override
    public String describe() {
        return "native C++ (JavaCPP, g++ -O3), " + isa.label() + " kernels, " + threads + " thread(s); all 13 SPI kernels native";
    }

    @Override
    public int threads() {
        return threads;
    }

    private static int trans(GemmShape.Trans t) {
        return t.ordinal(); // N = 0, T = 1, H = 2, as the C++ entry points expect
    }

    // ------------------------------------------------------------------------------------------ gemm

    /** A piece of a batched product: batch items [b0, b1), rows [i0, i1), columns [j0, j1). */
    @FunctionalInterface
    private interface Piece {
        void run(int b0, int b1, int i0, int i1, int j0, int j1);
    }

    /** Runs the product in pieces across threads where each piece holds ~1 ms of work; see the class comment. */
    private void schedule(GemmShape g, double flopsPerSecond, Piece piece) {
        int m = g.m(), n = g.n(), batch = g.batch();
        double perItem = forceSplit ? Double.POSITIVE_INFINITY : g.flops(false) / batch * SCALAR_FLOPS_PER_SECOND / flopsPerSecond;
        if (threads > 1 && batch > 1 && Parallel.chunks(batch, threads, perItem) > 1) {
            Parallel.forRange(batch, threads, perItem, (lo, hi) -> piece.run(lo, hi, 0, m, 0, n));
            return;
        }
        boolean byRows = m >= n;
        int len = byRows ? m : n;
        int units = (len + GRANULE - 1) / GRANULE;
        if (threads <= 1 || units <= 1 || Parallel.chunks(units, threads, perItem / units) <= 1) {
            piece.run(0, batch, 0, m, 0, n);
            return;
        }
        for (int bi = 0; bi < batch; bi++) {
            int item = bi;
            Parallel.forRange(units, threads, perItem / units, (lo, hi) -> {
                int from = lo * GRANULE, to = Math.min(len, hi * GRANULE);
                if (byRows) {
                    piece.run(item, item + 1, from, to, 0, n);
                } else {
                    piece.run(item, item + 1, 0, m, from, to);
                }
            });
        }
    }

    private static long offA(GemmShape g, long aOff, int b0, int i0) {
        return aOff + b0 * g.strideA() + (g.transA().transposed() ? i0 : (long) i0 * g.lda());
    }

    private static long offB(GemmShape g, long bOff, int b0, int j0) {
        return bOff + b0 * g.strideB() + (g.transB().transposed() ? (long) j0 * g.ldb() : j0);
    }

    private static long offC(GemmShape g, long cOff, int b0, int i0, int j0) {
        return cOff + b0 * g.strideC() + (long) i0 * g.ldc() + j0;
    }

    @Override
    public void sgemm(GemmShape g, float alpha, float[] a, int aOff, float[] b, int bOff, float beta, float[] c, int cOff) {
        boolean reads = Checks.gemm("sgemm", g, alpha != 0f, a, a == null ? 0 : a.length, aOff, b, b == null ? 0 : b.length,
                bOff, c, c == null ? 0 : c.length, cOff);
        if (g.batch() == 0 || g.m() == 0 || g.n() == 0) {
            return;
        }
        if (!reads) {
            for (int bi = 0; bi < g.batch(); bi++) {
                for (int i = 0; i < g.m(); i++) {
                    int ci = (int) offC(g, cOff, bi, i, 0);
                    for (int j = 0; j < g.n(); j++) {
                        c[ci + j] = beta == 0f ? 0f : beta * c[ci + j];
                    }
                }
            }
            return;
        }
        int ta = trans(g.transA()), tb = trans(g.transB());
        schedule(g, gemmFlopsPerSecond, (b0, b1, i0, i1, j0, j1) -> NativeKernels.sgemm(isa.code, ta, tb, i1 - i0, j1 - j0,
                g.k(), alpha, a, offA(g, aOff, b0, i0), g.lda(), g.strideA(), b, offB(g, bOff, b0, j0), g.ldb(), g.strideB(),
                beta, c, offC(g, cOff, b0, i0, j0), g.ldc(), g.strideC(), b1 - b0));
    }

    /**
     * The product with the finiteness check fused: the micro-kernel folds each tile of C into the check from the
     * registers as it stores it (gemm.h, gemmMicro's CHECK; small products read C back at the end), instead of a
     * separate pass over C from L3; each thread's piece reports its block.
     */
    @Override
    public boolean sgemmFinite(GemmShape g, float alpha, float[] a, int aOff, float[] b, int bOff, float beta, float[] c,
                               int cOff) {
        boolean reads = Checks.gemm("sgemm", g, alpha != 0f, a, a == null ? 0 : a.length, aOff, b, b == null ? 0 : b.length,
                bOff, c, c == null ? 0 : c.length, cOff);
        if (g.batch() == 0 || g.m() == 0 || g.n() == 0) {
            return true;
        }
        if (!reads) {
            return Backend.super.sgemmFinite(g, alpha, a, aOff, b, bOff, beta, c, cOff);
        }
        int ta = trans(g.transA()), tb = trans(g.transB());
        return scheduleFinite(g, gemmFlopsPerSecond, (b0, b1, i0, i1, j0, j1) -> NativeKernels.sgemmFinite(isa.code,
                ta, tb, i1 - i0, j1 - j0, g.k(), alpha, a, offA(g, aOff, b0, i0), g.lda(), g.strideA(), b,
                offB(g, bOff, b0, j0), g.ldb(), g.strideB(), beta, c, offC(g, cOff, b0, i0, j0), g.ldc(), g.strideC(),
                b1 - b0));
    }

    /** {@link #sgemmFinite} for f64. */
    @Override
    public boolean dgemmFinite(GemmShape g, double alpha, double[] a, int aOff, double[] b, int bOff, double beta,
                               double[] c, int cOff) {
        boolean reads = Checks.gemm("dgemm", g, alpha != 0.0, a, a == null ? 0 : a.length, aOff, b, b == null ? 0 : b.length,
                bOff, c, c == null ? 0 : c.length, cOff);
        if (g.batch() == 0 || g.m() == 0 || g.n() == 0) {
            return true;
        }
        if (!reads) {
            return Backend.super.dgemmFinite(g, alpha, a, aOff, b, bOff, beta, c, cOff);
        }
        int ta = trans(g.transA()), tb = trans(g.transB());
        return scheduleFinite(g, gemmFlopsPerSecond / 2, (b0, b1, i0, i1, j0, j1) -> NativeKernels.dgemmFinite(isa.code,
                ta, tb, i1 - i0, j1 - j0, g.k(), alpha, a, offA(g, aOff, b0, i0), g.lda(), g.strideA(), b,
                offB(g, bOff, b0, j0), g.ldb(), g.strideB(), beta, c, offC(g, cOff, b0, i0, j0), g.ldc(), g.strideC(),
                b1 - b0));
    }

    /** A piece of a checked product: true when the C block it wrote is finite. */
    private interface FinitePiece {
        boolean run(int b0, int b1, int i0, int i1, int j0, int j1);
    }

    /** {@link #schedule} for checked products: whether every piece reported its block of C finite. */
    private boolean scheduleFinite(GemmShape g, double flopsPerSecond, FinitePiece piece) {
        AtomicBoolean bad = new AtomicBoolean();
        schedule(g, flopsPerSecond, (b0, b1, i0, i1, j0, j1) -> {
            if (!piece.run(b0, b1, i0, i1, j0, j1)) {
                bad.set(true);
            }
        });
        return !bad.get();
    }

    // ------------------------------------------------------------------------------------------ native tensors

    /**
     * {@code C = alpha op(A) op(B) + beta C} on native tensors: matrices {@code [m, k]}-like of rank 2, or batches
     * of rank 3 with equal batch sizes (a rank-2 operand is broadcast over the batch); f32 or f64, all of one
     * dtype. Shapes, dtypes, open memory and output aliasing are checked here, before the native call; threads as
     * for {@link #sgemm}.
     *
     * @throws IllegalStateException    if an operand was released (its scope closed)
     * @throws IllegalArgumentException for mismatched shapes or dtypes, or C overlapping A or B
     */
    public void matmul(NativeTensor a, boolean transA, NativeTensor b, boolean transB, NativeTensor c, double alpha,
                       double beta) {
        for (NativeTensor t : new NativeTensor[] {a, b, c}) {
            if (t == null) {
                throw new NullPointerException("matmul: an operand is null");
            }
            t.memory("matmul");
            if (t.rank() != 2 && t.rank() != 3) {
                throw new IllegalArgumentException("matmul: " + t.describe() + " must be a matrix or a batch of them (rank 2 or 3)");
            }
        }
        if (a.dtype() != b.dtype() || a.dtype() != c.dtype()) {
            throw new IllegalArgumentException("matmul: dtypes differ: " + a.describe() + ", " + b.describe() + ", " + c.describe());
        }
        int batch = c.rank() == 3 ? c.dim(0) : 1;
        for (NativeTensor t : new NativeTensor[] {a, b}) {
            if (t.rank() == 3 && (c.rank() != 3 || t.dim(0) != batch)) {
                throw new IllegalArgumentException("matmul: batch of " + t.describe() + " does not match C " + c.describe());
            }
        }
        int ar = a.dim(-2), ac = a.dim(-1), br = b.dim(-2), bc = b.dim(-1);
        int m = transA ? ac : ar, k = transA ? ar : ac, k2 = transB ? bc : br, n = transB ? br : bc;
        if (k != k2 || c.dim(-2) != m || c.dim(-1) != n) {
            throw new IllegalArgumentException("matmul: " + (transA ? "A^T" : "A") + " " + a.describe() + " times "
                    + (transB ? "B^T" : "B") + " " + b.describe() + " does not fit C " + c.describe());
        }
        GemmShape g = new GemmShape(transA ? GemmShape.Trans.T : GemmShape.Trans.N, transB ? GemmShape.Trans.T : GemmShape.Trans.N,
                m, n, k, Math.max(1, ac), Math.max(1, bc), Math.max(1, n), batch, a.rank() == 3 ? (long) ar * ac : 0, b.rank() == 3 ? (long) br * bc : 0, (long) m * n);
        boolean reads = Checks.gemm("matmul", g, alpha != 0, a.memory("matmul"), a.numel(), 0, b.memory("matmul"), b.numel(), 0,
                c.memory("matmul"), c.numel(), 0);
        int ta = trans(g.transA()), tb = trans(g.transB());
        if (g.m() == 0 || g.n() == 0 || g.batch() == 0) {
            return;
        }
        // k == 0 or alpha == 0: C = beta C through the kernel with k = 0 would still read nothing; scale here instead
        double al = reads ? alpha : 0;
        int kk = reads ? k : 0;
        if (a.dtype() == dev.sprout.tensor.DType.F32) {
            org.bytedeco.javacpp.FloatPointer pa = a.floats("matmul"), pb = b.floats("matmul"), pc = c.floats("matmul");
            schedule(g, gemmFlopsPerSecond, (b0, b1, i0, i1, j0, j1) -> NativeKernels.sgemm(isa.code, ta, tb, i1 - i0, j1 - j0,
                    kk, (float) al, pa, offA(g, 0, b0, i0), g.lda(), g.strideA(), pb, offB(g, 0, b0, j0), g.ldb(), g.strideB(),
                    (float) beta, pc, offC(g, 0, b0, i0, j0), g.ldc(), g.strideC(), b1 - b0));
        } else {
            org.bytedeco.javacpp.DoublePointer pa = a.doubles("matmul"), pb = b.doubles("matmul"), pc = c.doubles("matmul");
            schedule(g, gemmFlopsPerSecond, (b0, b1, i0, i1, j0, j1) -> NativeKernels.dgemm(isa.code, ta, tb, i1 - i0, j1 - j0,
                    kk, al, pa, offA(g, 0, b0, i0), g.lda(), g.strideA(), pb, offB(g, 0, b0, j0), g.ldb(), g.strideB(),
                    beta, pc, offC(g, 0, b0, i0, j0), g.ldc(), g.strideC(), b1 - b0));
        }
    }

    /**
     * {@code y = f^(order)(x)} elementwise on native tensors of one dtype and size ({@code beta}: softplus sharpness);
     * {@code y} may be {@code x}.
     */
    public void activation(Activation f, int order, double beta, NativeTensor x, NativeTensor y) {
        if (x == null || y == null) {
            throw new NullPointerException("activation: an operand is null");
        }
        x.memory("activation");
        y.memory("activation");
        if (x.dtype() != y.dtype() || x.numel() != y.numel()) {
            throw new IllegalArgumentException("activation: " + x.describe() + " and " + y.describe() + " differ in dtype or size");
        }
        Checks.activation("activation", f, order, x, x.numel(), 0, y, y.numel(), 0, x.numel());
        if (x.numel() == 0) {
            return;
        }
        if (x.dtype() == dev.sprout.tensor.DType.F32) {
            NativeKernels.activationF32(isa.code, f.ordinal(), order, (float) beta, x.floats("activation"), 0,
                    y.floats("activation"), 0, x.numel());
        } else {
            NativeKernels.activationF64(isa.code, f.ordinal(), order, beta, x.doubles("activation"), 0,
                    y.doubles("activation"), 0, x.numel());
        }
    }

    @Override
    public void dgemm(GemmShape g, double alpha, double[] a, int aOff, double[] b, int bOff, double beta, double[] c,
                      int cOff) {
        boolean reads = Checks.gemm("dgemm", g, alpha != 0.0, a, a == null ? 0 : a.length, aOff, b, b == null ? 0 : b.length,
                bOff, c, c == null ? 0 : c.length, cOff);
        if (g.batch() == 0 || g.m() == 0 || g.n() == 0) {
            return;
        }
        if (!reads) {
            for (int bi = 0; bi < g.batch(); bi++) {
                for (int i = 0; i < g.m(); i++) {
                    int ci = (int) offC(g, cOff, bi, i, 0);
                    for (int j = 0; j < g.n(); j++) {
                        c[ci + j] = beta == 0.0 ? 0.0 : beta * c[ci + j];
                    }
                }
            }
            return;
        }
        int ta = trans(g.transA()), tb = trans(g.transB());
        schedule(g, gemmFlopsPerSecond / 2, (b0, b1, i0, i1, j0, j1) -> NativeKernels.dgemm(isa.code, ta, tb, i1 - i0,
                j1 - j0, g.k(), alpha, a, offA(g, aOff, b0, i0), g.lda(), g.strideA(), b, offB(g, bOff, b0, j0), g.ldb(),
                g.strideB(), beta, c, offC(g, cOff, b0, i0, j0), g.ldc(), g.strideC(), b1 - b0));
    }

    @Override
    public void cgemm(GemmShape g, float alphaRe, float alphaIm, float[] a, int aOff, float[] b, int bOff, float betaRe,
                      float betaIm, float[] c, int cOff) {
        boolean reads = Checks.gemm("cgemm", g, alphaRe != 0f || alphaIm != 0f, a, a == null ? 0 : a.length / 2, aOff, b,
                b == null ? 0 : b.length / 2, bOff, c, c == null ? 0 : c.length / 2, cOff);
        if (g.batch() == 0 || g.m() == 0 || g.n() == 0) {
            return;
        }
        int ta = trans(g.transA()), tb = trans(g.transB());
        if (!reads) { // C = beta C: the native kernel does it without touching A or B (k = 0)
            NativeKernels.cgemm(isa.code, ta, tb, g.m(), g.n(), 0, 0f, 0f, c, 0, g.lda(), 0, c, 0, g.ldb(), 0, betaRe,
                    betaIm, c, 2 * (long) cOff, g.ldc(), g.strideC(), g.batch());
            return;
        }
        // a complex product is 4 real ones (4M)
        schedule(g, gemmFlopsPerSecond * 4, (b0, b1, i0, i1, j0, j1) -> NativeKernels.cgemm(isa.code, ta, tb, i1 - i0,
                j1 - j0, g.k(), alphaRe, alphaIm, a, 2 * offA(g, aOff, b0, i0), g.lda(), g.strideA(), b,
                2 * offB(g, bOff, b0, j0), g.ldb(), g.strideB(), betaRe, betaIm, c, 2 * offC(g, cOff, b0, i0, j0), g.ldc(),
                g.strideC(), b1 - b0));
    }

    // ------------------------------------------------------------------------------------------ pointwise

    @Override
    public void activation(Activation f, int order, float beta, float[] x, int xOff, float[] y, int yOff, int n) {
        Checks.activation("activation", f, order, x, x == null ? 0 : x.length, xOff, y, y == null ? 0 : y.length, yOff, n);
        if (n > 0) {
            NativeKernels.activationF32(isa.code, f.ordinal(), order, beta, x, xOff, y, yOff, n);
        }
    }

    @Override
    public void activation(Activation f, int order, double beta, double[] x, int xOff, double[] y, int yOff, int n) {
        Checks.activation("activation", f, order, x, x == null ? 0 : x.length, xOff, y, y == null ? 0 : y.length, yOff, n);
        if (n > 0) {
            NativeKernels.activationF64(isa.code, f.ordinal(), order, beta, x, xOff, y, yOff, n);
        }
    }

    @Override
    public void axpy(int n, float alpha, float[] x, int xOff, float[] y, int yOff) {
        Checks.axpy(x, xOff, y, yOff, n);
        if (n > 0) {
            NativeKernels.axpyF32(isa.code, n, alpha, x, xOff, y, yOff);
        }
    }

    @Override
    public void axpy(int n, double alpha, double[] x, int xOff, double[] y, int yOff) {
        Checks.axpy(x, xOff, y, yOff, n);
        if (n > 0) {
            NativeKernels.axpyF64(isa.code, n, alpha, x, xOff, y, yOff);
        }
    }

    @Override
    public boolean allFinite(float[] a, int off, int n) {
        Checks.notNull("allFinite", "a", a);
        Checks.range("allFinite", "a", a.length, off, n);
        return n == 0 || NativeKernels.allFiniteF32(isa.code, a, off, n);
    }

    @Override
    public boolean allFinite(double[] a, int off, int n) {
        Checks.notNull("allFinite", "a", a);
        Checks.range("allFinite", "a", a.length, off, n);
        return n == 0 || NativeKernels.allFiniteF64(isa.code, a, off, n);
    }

    @Override
    public void sumAxis(float[] x, int xOff, int outer, int len, int inner, float[] out, int outOff) {
        Checks.sumAxis("sumAxis", x, x == null ? 0 : x.length, xOff, outer, len, inner, out, out == null ? 0 : out.length,
                outOff);
        if ((long) outer * inner > 0) {
            NativeKernels.sumAxisF32(isa.code, x, xOff, outer, len, inner, out, outOff);
        }
    }

    @Override
    public void sumAxis(double[] x, int xOff, int outer, int len, int inner, double[] out, int outOff) {
        Checks.sumAxis("sumAxis", x, x == null ? 0 : x.length, xOff, outer, len, inner, out, out == null ? 0 : out.length,
                outOff);
        if ((long) outer * inner > 0) {
            NativeKernels.sumAxisF64(isa.code, x, xOff, outer, len, inner, out, outOff);
        }
    }

    // ------------------------------------------------------------------------------------------ convolution

    @Override
    public void im2col(ConvGeometry g, float[] x, int xOff, float[] col, int colOff) {
        Checks.conv("im2col", g, x, x == null ? 0 : x.length, xOff, col, col == null ? 0 : col.length, colOff);
        NativeKernels.im2colF32(isa.code, g.channels(), g.height(), g.width(), g.kernelH(), g.kernelW(), g.strideH(),
                g.strideW(), g.padH(), g.padW(), x, xOff, col, colOff);
    }

    @Override
    public void im2col(ConvGeometry g, double[] x, int xOff, double[] col, int colOff) {
        Checks.conv("im2col", g, x, x == null ? 0 : x.length, xOff, col, col == null ? 0 : col.length, colOff);
        NativeKernels.im2colF64(isa.code, g.channels(), g.height(), g.width(), g.kernelH(), g.kernelW(), g.strideH(),
                g.strideW(), g.padH(), g.padW(), x, xOff, col, colOff);
    }

    @Override
    public void col2im(ConvGeometry g, float[] col, int colOff, float[] x, int xOff) {
        Checks.conv("col2im", g, x, x == null ? 0 : x.length, xOff, col, col == null ? 0 : col.length, colOff);
        NativeKernels.col2imF32(isa.code, g.channels(), g.height(), g.width(), g.kernelH(), g.kernelW(), g.strideH(),
                g.strideW(), g.padH(), g.padW(), col, colOff, x, xOff);
    }

    @Override
    public void col2im(ConvGeometry g, double[] col, int colOff, double[] x, int xOff) {
        Checks.conv("col2im", g, x, x == null ? 0 : x.length, xOff, col, col == null ? 0 : col.length, colOff);
        NativeKernels.col2imF64(isa.code, g.channels(), g.height(), g.width(), g.kernelH(), g.kernelW(), g.strideH(),
                g.strideW(), g.padH(), g.padW(), col, colOff, x, xOff);
    }

    // ------------------------------------------------------------------------------------------ splitting statistics

    @Override
    public void weightedGram(int samples, int d, int neurons, float[] x, int xOff, float[] w, int wOff, float[] s, int sOff) {
        Checks.weightedGram("weightedGram", samples, d, neurons, x, x == null ? 0 : x.length, xOff, w,
                w == null ? 0 : w.length, wOff, s, s == null ? 0 : s.length, sOff);
        if (samples == 0 || d == 0 || neurons == 0) {
            return;
        }
        double perNeuron = forceSplit ? Double.POSITIVE_INFINITY : 2.0 * samples * d * (double) d * SCALAR_FLOPS_PER_SECOND / gemmFlopsPerSecond;
        Parallel.forRange(neurons, threads, perNeuron, (lo, hi) -> NativeKernels.weightedGramF32(isa.code, samples, d, lo, hi,
                neurons, x, xOff, w, wOff, s, sOff));
    }

    @Override
    public void weightedGram(int samples, int d, int neurons, double[] x, int xOff, double[] w, int wOff, double[] s,
                             int sOff) {
        Checks.weightedGram("weightedGram", samples, d, neurons, x, x == null ? 0 : x.length, xOff, w,
                w == null ? 0 : w.length, wOff, s, s == null ? 0 : s.length, sOff);
        if (samples == 0 || d == 0 || neurons == 0) {
            return;
        }
        double perNeuron = forceSplit ? Double.POSITIVE_INFINITY
                : 2.0 * samples * d * (double) d * SCALAR_FLOPS_PER_SECOND / (gemmFlopsPerSecond / 2);
        Parallel.forRange(neurons, threads, perNeuron, (lo, hi) -> NativeKernels.weightedGramF64(isa.code, samples, d, lo, hi,
                neurons, x, xOff, w, wOff, s, sOff));
    }

    // ------------------------------------------------------------------------------------------ linear algebra

    /** Scalar-equivalent work of one n x n eigen-solve: ~8 n^3 flops at ~4x scalar speed. */
    private double eigWork(int n, boolean vectors) {
        return forceSplit ? Double.POSITIVE_INFINITY : (vectors ? 8.0 : 2.0) * n * n * (double) n / 4;
    }

    private static void eigFailed(int lo, int status) {
        if (status != 0) {
            throw new ArithmeticException("symEig: QL iteration did not converge for matrix " + (lo + status - 1));
        }
    }

    @Override
    public void symEig(int batch, int n, int k, float[] a, int aOff, float[] w, int wOff, float[] v, int vOff) {
        Checks.symEig("symEig", batch, n, k, a == null ? 0 : a.length, aOff, w == null ? 0 : w.length, wOff,
                v == null ? -1 : v.length, vOff);
        if (batch == 0 || n == 0) {
            return;
        }
        Parallel.forRange(batch, threads, eigWork(n, v != null), (lo, hi) -> eigFailed(lo, NativeKernels.symEigF32(isa.code,
                hi - lo, n, k, a, aOff + (long) lo * n * n, w, wOff + (long) lo * k, v, v == null ? 0 : vOff + (long) lo * n * k)));
    }

    @Override
    public void symEig(int batch, int n, int k, double[] a, int aOff, double[] w, int wOff, double[] v, int vOff) {
        Checks.symEig("symEig", batch, n, k, a == null ? 0 : a.length, aOff, w == null ? 0 : w.length, wOff,
                v == null ? -1 : v.length, vOff);
        if (batch == 0 || n == 0) {
            return;
        }
        Parallel.forRange(batch, threads, eigWork(n, v != null), (lo, hi) -> eigFailed(lo, NativeKernels.symEigF64(isa.code,
                hi - lo, n, k, a, aOff + (long) lo * n * n, w, wOff + (long) lo * k, v, v == null ? 0 : vOff + (long) lo * n * k)));
    }

    @Override
    public int gesv(int n, int nrhs, float[] a, int aOff, float[] b, int bOff) {
        Checks.gesv("gesv", n, nrhs, a, a == null ? 0 : a.length, aOff, b, b == null ? 0 : b.length, bOff);
        return n == 0 ? 0 : NativeKernels.gesvF32(isa.code, n, nrhs, a, aOff, b, bOff);
    }

    @Override
    public int gesv(int n, int nrhs, double[] a, int aOff, double[] b, int bOff) {
        Checks.gesv("gesv", n, nrhs, a, a == null ? 0 : a.length, aOff, b, b == null ? 0 : b.length, bOff);
        return n == 0 ? 0 : NativeKernels.gesvF64(isa.code, n, nrhs, a, aOff, b, bOff);
    }

    @Override
    public int cgesv(int n, int nrhs, float[] a, int aOff, float[] b, int bOff) {
        Checks.gesv("cgesv", n, nrhs, a, a == null ? 0 : a.length / 2, aOff, b, b == null ? 0 : b.length / 2, bOff);
        return n == 0 ? 0 : NativeKernels.cgesv(isa.code, n, nrhs, a, 2L * aOff, b, 2L * bOff);
    }
}
