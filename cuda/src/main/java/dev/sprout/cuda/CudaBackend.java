package dev.sprout.cuda;

import dev.sprout.backend.Activation;
import dev.sprout.backend.Backend;
import dev.sprout.backend.Checks;
import dev.sprout.backend.ConvGeometry;
import dev.sprout.backend.GemmShape;
import dev.sprout.backend.java.JavaBackend;

/**
 * The {@link Backend} SPI on a CUDA device. The SPI works on host arrays, so each call checks shapes and
 * bounds on the Java side, copies the spans its operands occupy to the device, runs Sprout's kernels and
 * copies the outputs back (whole spans, so elements between rows of a strided operand come back unchanged).
 *
 * <p>Performance model: a call costs two PCIe transfers plus a launch (tens of microseconds at least), so
 * work smaller than {@code offloadMin} (in flops, or elements for pointwise kernels; property
 * {@code sprout.cuda.offloadMin}, default 2^20) runs on the Java backend instead; the conformance suite sets
 * it to 0 so every kernel is tested on the device. Device-resident work (benchmarks, a training loop that
 * keeps tensors on the GPU) calls {@link CudaGemm}, {@link CudaPointwise}, {@link CudaGram} and
 * {@link CudaLinalg} directly on {@link DeviceBuffer}s.
 */
public final class CudaBackend implements Backend {

    public static final String OFFLOAD_PROPERTY = "sprout.cuda.offloadMin";

    private final CudaDevice d;
    private final long offloadMin;
    private final JavaBackend host = new JavaBackend();

    public CudaBackend(CudaDevice device, long offloadMin) {
        this.d = device;
        this.offloadMin = Math.max(0, offloadMin);
    }

    public CudaBackend() {
        this(CudaDevice.shared(), Long.getLong(OFFLOAD_PROPERTY, 1L << 20));
    }

    public CudaDevice device() {
        return d;
    }

    @Override
    public String name() {
        return "cuda";
    }

    @Override
    public String describe() {
        return d.describe() + ", sgemm: " + CudaGemm.describe(CudaGemm.Variant.SIMT)
                + (offloadMin > 0 ? "; work under " + offloadMin + " flops stays on the Java backend" : "");
    }

    @Override
    public int threads() {
        return host.threads();
    }

    private boolean small(double work) {
        return work < offloadMin;
    }

    /** The number of elements from {@code off} that a (batched, strided) matrix operand spans; 0 if empty. */
    static long span(int batch, long stride, int rows, int cols, int ld) {
        if (batch == 0 || rows == 0 || cols == 0) {
            return 0;
        }
        return (long) (batch - 1) * stride + (long) (rows - 1) * ld + cols;
    }

    private static int toInt(long n, String what) {
        if (n > Integer.MAX_VALUE) {
            throw new IllegalArgumentException(what + " spans " + n + " elements, more than a Java array holds");
        }
        return (int) n;
    }


    // ------------------------------------------------------------------------------------------ transfers

    /** A kernel on device buffers that were uploaded from (or allocated for) host arrays. */
    @FunctionalInterface
    private interface Kernel {
        void run(DeviceBuffer a, DeviceBuffer b, DeviceBuffer c);
    }

    /**
     * Uploads {@code in[inOff, inOff + inLen)}, allocates {@code outLen} elements for the output, runs the kernel
     * and downloads the output into {@code out[outOff..]} (both arrays of one element type).
     */
    private void mapped(Object in, int inOff, int inLen, Object out, int outOff, int outLen, Kernel kernel) {
        try (DeviceBuffer din = d.upload(in, inOff, inLen);
             DeviceBuffer dout = d.alloc((long) CudaDevice.elementBytes(out) * outLen)) {
            kernel.run(din, dout, null);
            d.download(dout, 0, out, outOff, outLen);
        }
    }

    /** Uploads three operands (the third read and written), runs the kernel, downloads the third. */
    private void accumulated(Object a, int aOff, int aLen, Object b, int bOff, int bLen, Object c, int cOff, int cLen,
                             Kernel kernel) {
        try (DeviceBuffer da = d.upload(a, aOff, aLen); DeviceBuffer db = d.upload(b, bOff, bLen);
             DeviceBuffer dc = d.upload(c, cOff, cLen)) {
            kernel.run(da, db, dc);
            d.download(dc, 0, c, cOff, cLen);
        }
    }

    /** A solve on two operands that it overwrites; returns its info. */
    @FunctionalInterface
    private interface Solve {
        int run(DeviceBuffer a, DeviceBuffer b);
    }

    private int solved(Object a, int aOff, int aLen, Object b, int bOff, int bLen, Solve solve) {
        try (DeviceBuffer da = d.upload(a, aOff, aLen); DeviceBuffer db = d.upload(b, bOff, bLen)) {
            int info = solve.run(da, db);
            d.download(da, 0, a, aOff, aLen);
            d.download(db, 0, b, bOff, bLen);
            return info;
        }
    }

    /** Eigenvalues (and vectors unless {@code v} is null) of {@code batch} n x n matrices on the device. */
    private void eigen(Object a, int aOff, int an, Object w, int wOff, int wn, Object v, int vOff, int vn, Kernel kernel) {
        int esz = CudaDevice.elementBytes(a);
        try (DeviceBuffer da = d.upload(a, aOff, an); DeviceBuffer dw = d.alloc((long) esz * wn);
             DeviceBuffer dv = v == null ? null : d.alloc((long) esz * vn)) {
            kernel.run(da, dw, dv);
            d.download(dw, 0, w, wOff, wn);
            if (v != null) {
                d.download(dv, 0, v, vOff, vn);
            }
        }
    }

    // ------------------------------------------------------------------------------------------ gemm

    private static long[] gemmSpans(GemmShape g) {
        boolean ta = g.transA().transposed(), tb = g.transB().transposed();
        long sa = g.k() == 0 ? 0 : span(g.batch(), g.strideA(), g.storedRowsA(), ta ? g.m() : g.k(), g.lda());
        long sb = g.k() == 0 ? 0 : span(g.batch(), g.strideB(), g.storedRowsB(), tb ? g.k() : g.n(), g.ldb());
        long sc = span(g.batch(), g.strideC(), g.m(), g.n(), g.ldc());
        return new long[] {sa, sb, sc};
    }

    @Override
    public void sgemm(GemmShape g, float alpha, float[] a, int aOff, float[] b, int bOff, float beta, float[] c, int cOff) {
        g.checkBounds(a.length, aOff, b.length, bOff, c.length, cOff);
        if (small(g.flops(false))) {
            host.sgemm(g, alpha, a, aOff, b, bOff, beta, c, cOff);
            return;
        }
        long[] s = gemmSpans(g);
        if (s[2] == 0) {
            return;
        }
        accumulated(a, aOff, toInt(s[0], "A"), b, bOff, toInt(s[1], "B"), c, cOff, toInt(s[2], "C"),
                (da, db, dc) -> CudaGemm.sgemm(d, CudaGemm.Variant.SIMT, g, alpha, da, 0, db, 0, beta, dc, 0));
    }

    @Override
    public void dgemm(GemmShape g, double alpha, double[] a, int aOff, double[] b, int bOff, double beta, double[] c, int cOff) {
        g.checkBounds(a.length, aOff, b.length, bOff, c.length, cOff);
        if (small(g.flops(false))) {
            host.dgemm(g, alpha, a, aOff, b, bOff, beta, c, cOff);
            return;
        }
        long[] s = gemmSpans(g);
        if (s[2] == 0) {
            return;
        }
        accumulated(a, aOff, toInt(s[0], "A"), b, bOff, toInt(s[1], "B"), c, cOff, toInt(s[2], "C"),
                (da, db, dc) -> CudaGemm.dgemm(d, g, alpha, da, 0, db, 0, beta, dc, 0));
    }

    @Override
    public void cgemm(GemmShape g, float alphaRe, float alphaIm, float[] a, int aOff, float[] b, int bOff,
                      float betaRe, float betaIm, float[] c, int cOff) {
        // complex sizes count complex elements: check against half the float arrays
        g.checkBounds(a.length / 2, aOff, b.length / 2, bOff, c.length / 2, cOff);
        if (small(g.flops(true))) {
            host.cgemm(g, alphaRe, alphaIm, a, aOff, b, bOff, betaRe, betaIm, c, cOff);
            return;
        }
        long[] s = gemmSpans(g);
        if (s[2] == 0) {
            return;
        }
        accumulated(a, 2 * aOff, toInt(2 * s[0], "A"), b, 2 * bOff, toInt(2 * s[1], "B"), c, 2 * cOff,
                toInt(2 * s[2], "C"), (da, db, dc) -> CudaGemm.cgemm(d, g, alphaRe, alphaIm, da, 0, db, 0, betaRe, betaIm, dc, 0));
    }

    // ------------------------------------------------------------------------------------------ pointwise

    private static void checkActivation(Activation f, int order, int xLen, int xOff, int yLen, int yOff, int n) {
        Checks.notNull("activation", "f", f);
        if (order < 0 || order > Activation.MAX_ORDER) {
            throw new IllegalArgumentException("activation: derivative order " + order + " of " + f + " not available (0.."
                    + Activation.MAX_ORDER + ")");
        }
        Checks.sizes("activation", "n", n);
        Checks.range("activation", "x", xLen, xOff, n);
        Checks.range("activation", "y", yLen, yOff, n);
    }

    @Override
    public void activation(Activation f, int order, float beta, float[] x, int xOff, float[] y, int yOff, int n) {
        checkActivation(f, order, x.length, xOff, y.length, yOff, n);
        if (n == 0 || small(n)) {
            host.activation(f, order, beta, x, xOff, y, yOff, n);
            return;
        }
        mapped(x, xOff, n, y, yOff, n, (dx, dy, unused) -> CudaPointwise.activationF32(d, f, order, beta, dx, 0, dy, 0, n));
    }

    @Override
    public void activation(Activation f, int order, double beta, double[] x, int xOff, double[] y, int yOff, int n) {
        checkActivation(f, order, x.length, xOff, y.length, yOff, n);
        if (n == 0 || small(n)) {
            host.activation(f, order, beta, x, xOff, y, yOff, n);
            return;
        }
        mapped(x, xOff, n, y, yOff, n, (dx, dy, unused) -> CudaPointwise.activationF64(d, f, order, beta, dx, 0, dy, 0, n));
    }

    private static void checkSum(int xLen, int xOff, int outer, int len, int inner, int outLen, int outOff) {
        Checks.sizes("sumAxis", "outer, len, inner", outer, len, inner);
        Checks.range("sumAxis", "x", xLen, xOff, (long) outer * len * inner);
        Checks.range("sumAxis", "out", outLen, outOff, (long) outer * inner);
    }

    @Override
    public void sumAxis(float[] x, int xOff, int outer, int len, int inner, float[] out, int outOff) {
        checkSum(x.length, xOff, outer, len, inner, out.length, outOff);
        long total = (long) outer * len * inner;
        if (outer == 0 || inner == 0 || small(total)) {
            host.sumAxis(x, xOff, outer, len, inner, out, outOff);
            return;
        }
        int n = toInt(total, "x");
        mapped(x, xOff, n, out, outOff, outer * inner,
                (dx, dout, unused) -> CudaPointwise.sumAxisF32(d, dx, 0, outer, len, inner, dout, 0));
    }

    @Override
    public void sumAxis(double[] x, int xOff, int outer, int len, int inner, double[] out, int outOff) {
        checkSum(x.length, xOff, outer, len, inner, out.length, outOff);
        long total = (long) outer * len * inner;
        if (outer == 0 || inner == 0 || small(total)) {
            host.sumAxis(x, xOff, outer, len, inner, out, outOff);
            return;
        }
        int n = toInt(total, "x");
        mapped(x, xOff, n, out, outOff, outer * inner,
                (dx, dout, unused) -> CudaPointwise.sumAxisF64(d, dx, 0, outer, len, inner, dout, 0));
    }

    // ------------------------------------------------------------------------------------------ convolution lowering

    private static void checkConv(String op, ConvGeometry g, int xLen, int xOff, int colLen, int colOff) {
        Checks.notNull(op, "geometry", g);
        Checks.range(op, "image", xLen, xOff, g.imageSize());
        Checks.range(op, "col", colLen, colOff, (long) g.colRows() * g.colCols());
    }

    @Override
    public void im2col(ConvGeometry g, float[] x, int xOff, float[] col, int colOff) {
        checkConv("im2col", g, x.length, xOff, col.length, colOff);
        int cols = toInt((long) g.colRows() * g.colCols(), "col");
        if (cols == 0 || small(cols)) {
            host.im2col(g, x, xOff, col, colOff);
            return;
        }
        mapped(x, xOff, g.imageSize(), col, colOff, cols, (dx, dc, unused) -> CudaPointwise.im2colF32(d, g, dx, 0, dc, 0));
    }

    @Override
    public void im2col(ConvGeometry g, double[] x, int xOff, double[] col, int colOff) {
        checkConv("im2col", g, x.length, xOff, col.length, colOff);
        int cols = toInt((long) g.colRows() * g.colCols(), "col");
        if (cols == 0 || small(cols)) {
            host.im2col(g, x, xOff, col, colOff);
            return;
        }
        mapped(x, xOff, g.imageSize(), col, colOff, cols, (dx, dc, unused) -> CudaPointwise.im2colF64(d, g, dx, 0, dc, 0));
    }

    @Override
    public void col2im(ConvGeometry g, float[] col, int colOff, float[] x, int xOff) {
        checkConv("col2im", g, x.length, xOff, col.length, colOff);
        int cols = toInt((long) g.colRows() * g.colCols(), "col");
        if (cols == 0 || small(cols)) {
            host.col2im(g, col, colOff, x, xOff);
            return;
        }
        mapped(col, colOff, cols, x, xOff, g.imageSize(), (dc, dx, unused) -> CudaPointwise.col2imF32(d, g, dc, 0, dx, 0));
    }

    @Override
    public void col2im(ConvGeometry g, double[] col, int colOff, double[] x, int xOff) {
        checkConv("col2im", g, x.length, xOff, col.length, colOff);
        int cols = toInt((long) g.colRows() * g.colCols(), "col");
        if (cols == 0 || small(cols)) {
            host.col2im(g, col, colOff, x, xOff);
            return;
        }
        mapped(col, colOff, cols, x, xOff, g.imageSize(), (dc, dx, unused) -> CudaPointwise.col2imF64(d, g, dc, 0, dx, 0));
    }

    // ------------------------------------------------------------------------------------------ splitting statistics

    private static void checkGram(int samples, int dim, int neurons, int xLen, int xOff, int wLen, int wOff, int sLen, int sOff) {
        Checks.sizes("weightedGram", "samples, d, neurons", samples, dim, neurons);
        Checks.range("weightedGram", "x", xLen, xOff, (long) samples * dim);
        Checks.range("weightedGram", "w", wLen, wOff, (long) samples * neurons);
        Checks.range("weightedGram", "s", sLen, sOff, (long) neurons * dim * dim);
    }

    @Override
    public void weightedGram(int samples, int dim, int neurons, float[] x, int xOff, float[] w, int wOff, float[] s, int sOff) {
        checkGram(samples, dim, neurons, x.length, xOff, w.length, wOff, s.length, sOff);
        double work = (double) samples * dim * dim * neurons;
        if (samples == 0 || dim == 0 || neurons == 0 || small(work)) {
            host.weightedGram(samples, dim, neurons, x, xOff, w, wOff, s, sOff);
            return;
        }
        int sn = toInt((long) neurons * dim * dim, "s");
        accumulated(x, xOff, samples * dim, w, wOff, samples * neurons, s, sOff, sn,
                (dx, dw, ds) -> CudaGram.weightedGramF32(d, samples, dim, neurons, dx, 0, dw, 0, ds, 0));
    }

    @Override
    public void weightedGram(int samples, int dim, int neurons, double[] x, int xOff, double[] w, int wOff, double[] s, int sOff) {
        checkGram(samples, dim, neurons, x.length, xOff, w.length, wOff, s.length, sOff);
        double work = (double) samples * dim * dim * neurons;
        if (samples == 0 || dim == 0 || neurons == 0 || small(work)) {
            host.weightedGram(samples, dim, neurons, x, xOff, w, wOff, s, sOff);
            return;
        }
        int sn = toInt((long) neurons * dim * dim, "s");
        accumulated(x, xOff, samples * dim, w, wOff, samples * neurons, s, sOff, sn,
                (dx, dw, ds) -> CudaGram.weightedGramF64(d, samples, dim, neurons, dx, 0, dw, 0, ds, 0));
    }

    // ------------------------------------------------------------------------------------------ dense linear algebra

    private static void checkEig(int batch, int n, int k, int aLen, int aOff, int wLen, int wOff, Object v, int vLen, int vOff) {
        Checks.sizes("symEig", "batch, n, k", batch, n, k);
        if (k > n) {
            throw new IllegalArgumentException("symEig: k = " + k + " eigenpairs requested of " + n + "x" + n + " matrices");
        }
        Checks.range("symEig", "a", aLen, aOff, (long) batch * n * n);
        Checks.range("symEig", "w", wLen, wOff, (long) batch * k);
        if (v != null) {
            Checks.range("symEig", "v", vLen, vOff, (long) batch * n * k);
        }
    }

    /** As the Java reference: a matrix whose lower triangle holds NaN or an infinity is refused, naming it. */
    private static void checkFinite(int batch, int n, java.util.function.IntToDoubleFunction a, int aOff) {
        for (int b = 0; b < batch; b++) {
            for (int i = 0; i < n; i++) {
                for (int j = 0; j <= i; j++) {
                    if (!Double.isFinite(a.applyAsDouble(aOff + b * n * n + i * n + j))) {
                        throw new IllegalArgumentException("symEig: a (matrix " + b + " of " + batch
                                + ") contains NaN or infinity");
                    }
                }
            }
        }
    }

    @Override
    public void symEig(int batch, int n, int k, float[] a, int aOff, float[] w, int wOff, float[] v, int vOff) {
        checkEig(batch, n, k, a.length, aOff, w.length, wOff, v, v == null ? 0 : v.length, vOff);
        checkFinite(batch, n, i -> a[i], aOff);
        if (batch == 0 || n == 0 || k == 0 || small((double) batch * n * n * n)) {
            host.symEig(batch, n, k, a, aOff, w, wOff, v, vOff);
            return;
        }
        int an = toInt((long) batch * n * n, "a"), vn = toInt((long) batch * n * k, "v");
        eigen(a, aOff, an, w, wOff, batch * k, v, vOff, vn, (da, dw, dv) -> CudaLinalg.symEigF32(d, batch, n, k, da, 0, dw, 0, dv, 0));
    }

    @Override
    public void symEig(int batch, int n, int k, double[] a, int aOff, double[] w, int wOff, double[] v, int vOff) {
        checkEig(batch, n, k, a.length, aOff, w.length, wOff, v, v == null ? 0 : v.length, vOff);
        checkFinite(batch, n, i -> a[i], aOff);
        if (batch == 0 || n == 0 || k == 0 || small((double) batch * n * n * n)) {
            host.symEig(batch, n, k, a, aOff, w, wOff, v, vOff);
            return;
        }
        int an = toInt((long) batch * n * n, "a"), vn = toInt((long) batch * n * k, "v");
        eigen(a, aOff, an, w, wOff, batch * k, v, vOff, vn, (da, dw, dv) -> CudaLinalg.symEigF64(d, batch, n, k, da, 0, dw, 0, dv, 0));
    }

    private static void checkSolve(String op, int n, int nrhs, int aLen, int aOff, int bLen, int bOff, int scalar) {
        Checks.sizes(op, "n, nrhs", n, nrhs);
        Checks.range(op, "a", aLen, aOff, (long) scalar * n * n);
        Checks.range(op, "b", bLen, bOff, (long) scalar * n * nrhs);
    }

    @Override
    public int gesv(int n, int nrhs, float[] a, int aOff, float[] b, int bOff) {
        checkSolve("gesv", n, nrhs, a.length, aOff, b.length, bOff, 1);
        if (n == 0 || small((double) n * n * (n + nrhs))) {
            return host.gesv(n, nrhs, a, aOff, b, bOff);
        }
        return solved(a, aOff, n * n, b, bOff, n * nrhs, (da, db) -> CudaLinalg.gesvF32(d, 1, n, nrhs, da, 0, db, 0)[0]);
    }

    @Override
    public int gesv(int n, int nrhs, double[] a, int aOff, double[] b, int bOff) {
        checkSolve("gesv", n, nrhs, a.length, aOff, b.length, bOff, 1);
        if (n == 0 || small((double) n * n * (n + nrhs))) {
            return host.gesv(n, nrhs, a, aOff, b, bOff);
        }
        return solved(a, aOff, n * n, b, bOff, n * nrhs, (da, db) -> CudaLinalg.gesvF64(d, 1, n, nrhs, da, 0, db, 0)[0]);
    }

    @Override
    public int cgesv(int n, int nrhs, float[] a, int aOff, float[] b, int bOff) {
        Checks.sizes("cgesv", "n, nrhs", n, nrhs);
        Checks.range("cgesv", "a", a.length, 2 * aOff, 2L * n * n);
        Checks.range("cgesv", "b", b.length, 2 * bOff, 2L * n * nrhs);
        if (n == 0 || small(4.0 * n * n * (n + nrhs))) {
            return host.cgesv(n, nrhs, a, aOff, b, bOff);
        }
        return solved(a, 2 * aOff, 2 * n * n, b, 2 * bOff, 2 * n * nrhs, (da, db) -> CudaLinalg.cgesv(d, 1, n, nrhs, da, 0, db, 0)[0]);
    }
}
