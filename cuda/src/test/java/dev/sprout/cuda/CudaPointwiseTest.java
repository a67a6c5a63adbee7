package dev.sprout.cuda;

import dev.sprout.backend.Activation;
import dev.sprout.backend.ConvGeometry;
import dev.sprout.backend.java.JavaBackend;
import dev.sprout.tensor.Rng;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The pointwise and lowering kernels (activation, sumAxis, im2col, col2im) against the Java reference backend,
 * on sizes that straddle warps and blocks, with offsets, in place, on known answers, and on bad shapes (which
 * must throw before anything is launched). Runs only where a CUDA device is available.
 */
class CudaPointwiseTest {

    // ------------------------------------------------------------------------------------------ tolerances
    static final double EPS32 = Math.ulp(1.0f), EPS64 = Math.ulp(1.0);
    /**
     * activation f64, per unit of {@link #magnitude}: CUDA's tanh/exp/log1p/pow and java.lang.Math differ by 1-2
     * ulp, and evaluating a derivative polynomial P(t) loses up to (degree + 2) ulp of sum |c_i t^i| (the terms
     * cancel: tanh^(6) near x = 3.2 is -0.18 from terms of size ~100, seen on an H200 as a 1.1e-13 difference).
     */
    static final double ACT_F64 = 64 * EPS64;
    /** activation f32, relative to max(1, |ref|): both round the same double computation once, so at most 1 ulp apart. */
    static final double ACT_F32 = 2 * EPS32;
    /** sumAxis against the Java backend, per unit of max(1, len) * sum |x|: each is within len u sum|x| of the exact sum. */
    static final double SUM_F32 = 2 * EPS32, SUM_F64 = 2 * EPS64;
    /** The col2im adjoint identity in f64, per unit of (column entries) * sum |col * y|. */
    static final double ADJOINT_F64 = 8 * EPS64;

    static final float BETA_F32 = 1.7f;
    static final double BETA_F64 = 1.7;
    /** Sizes that straddle warps (32), blocks (256) and grid strides. */
    static final int[] SIZES = {1, 7, 31, 32, 33, 64, 65, 129, 255, 256, 257, 577, 1025, 100_003};

    private final JavaBackend ref = new JavaBackend(1);
    private CudaDevice dev;

    @BeforeEach
    void gpu() {
        Assumptions.assumeTrue(CudaDevice.available(), CudaDevice::unavailableReason);
        dev = CudaDevice.shared();
    }

    static double[] randn(Rng r, int n, double scale) {
        double[] x = new double[n];
        for (int i = 0; i < n; i++) {
            x[i] = scale * r.normal();
        }
        return x;
    }

    static float[] f32(double[] x) {
        float[] f = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            f[i] = (float) x[i];
        }
        return f;
    }

    /**
     * The scale of sigma^(order)(x) as evaluated: max(1, sum_i |c_i t^i| (times the polynomial's prefactor)) for
     * the derivative polynomial P of {@link Activation#polynomial} at its argument t, and max(1, |value|) where
     * no polynomial is involved.
     */
    static double magnitude(Activation f, int order, double beta, double x) {
        double[] c = Activation.polynomial(f, order);
        if (c.length == 0) {
            return Math.max(1, Math.abs(f.eval(x, order, beta)));
        }
        double t, prefactor = 1;
        switch (f) {
            case TANH:
                t = Math.tanh(x);
                break;
            case SIGMOID:
                t = 1 / (1 + Math.exp(-x));
                break;
            case SOFTPLUS:
                t = 1 / (1 + Math.exp(-beta * x));
                prefactor = Math.pow(Math.abs(beta), order - 1);
                break;
            case RBF:
                t = x;
                prefactor = Math.exp(-0.5 * x * x);
                break;
            default:
                throw new AssertionError(f);
        }
        double sum = 0, power = 1;
        for (double ci : c) {
            sum += Math.abs(ci) * power;
            power *= Math.abs(t);
        }
        return Math.max(1, prefactor * sum);
    }

    static void close(double expected, double actual, double tol, String what) {
        if (Double.isNaN(expected) || Double.isInfinite(expected)) {
            assertEquals(expected, actual, 0.0, what);
        } else {
            assertEquals(expected, actual, tol, what);
        }
    }

    float[] run(float[] host, java.util.function.Consumer<DeviceBuffer> kernel) {
        try (DeviceBuffer b = dev.upload(host, 0, host.length)) {
            kernel.accept(b);
            float[] out = new float[host.length];
            dev.download(b, 0, out, 0, out.length);
            return out;
        }
    }

    // ------------------------------------------------------------------------------------------ activation

    /** Inputs: special values (signed zeros, tiny, the softplus switch at beta x = 30, huge, infinities, NaN) and N(0, 3^2). */
    static double[] activationInputs() {
        double[] special = {0.0, -0.0, 1e-300, -1e-300, 1e-8, -1e-8, 0.5, -0.5, 1, -1, 3, -3, 30 / 1.7, -30 / 1.7,
                Math.nextUp(30 / 1.7), 20, -20, 40, -40, 100, -100, 800, -800, Double.POSITIVE_INFINITY,
                Double.NEGATIVE_INFINITY, Double.NaN};
        double[] r = randn(new Rng(201), 4099, 3.0);
        System.arraycopy(special, 0, r, 0, special.length);
        return r;
    }

    @Test
    void activationEveryFunctionAndOrderMatchesJava() {
        double[] x = activationInputs();
        float[] xf = f32(x);
        int n = x.length;
        try (DeviceBuffer dx = dev.upload(x, 0, n); DeviceBuffer dxf = dev.upload(xf, 0, n);
             DeviceBuffer dy = dev.alloc(8L * n); DeviceBuffer dyf = dev.alloc(4L * n)) {
            int checked = 0;
            for (Activation f : Activation.values()) {
                for (int order = 0; order <= Activation.MAX_ORDER; order++) {
                    CudaPointwise.activationF64(dev, f, order, BETA_F64, dx, 0, dy, 0, n);
                    CudaPointwise.activationF32(dev, f, order, BETA_F32, dxf, 0, dyf, 0, n);
                    double[] y = new double[n], yRef = new double[n];
                    float[] yf = new float[n], yfRef = new float[n];
                    dev.download(dy, 0, y, 0, n);
                    dev.download(dyf, 0, yf, 0, n);
                    ref.activation(f, order, BETA_F64, x, 0, yRef, 0, n);
                    ref.activation(f, order, BETA_F32, xf, 0, yfRef, 0, n);
                    for (int i = 0; i < n; i++) {
                        close(yRef[i], y[i], ACT_F64 * magnitude(f, order, BETA_F64, x[i]), f + "^(" + order + ") f64 at x = " + x[i]);
                        close(yfRef[i], yf[i], ACT_F32 * Math.max(1, Math.abs(yfRef[i])), f + "^(" + order + ") f32 at x = " + xf[i]);
                    }
                    checked++;
                }
            }
            assertEquals(Activation.values().length * (Activation.MAX_ORDER + 1), checked);
        }
    }

    /** Closed forms on dyadic inputs: ReLU, identity and their derivatives exactly, tanh''(0) = 0, tanh'''(0) = -2. */
    @Test
    void activationKnownAnswers() {
        double[] x = {-2, -0.5, 0, 0.25, 3};
        try (DeviceBuffer dx = dev.upload(x, 0, x.length); DeviceBuffer dy = dev.alloc(8L * x.length)) {
            double[] y = new double[x.length];
            CudaPointwise.activationF64(dev, Activation.RELU, 0, 1, dx, 0, dy, 0, x.length);
            dev.download(dy, 0, y, 0, y.length);
            assertArrayEquals(new double[] {0, 0, 0, 0.25, 3}, y, 0.0);
            CudaPointwise.activationF64(dev, Activation.RELU, 1, 1, dx, 0, dy, 0, x.length);
            dev.download(dy, 0, y, 0, y.length);
            assertArrayEquals(new double[] {0, 0, 0, 1, 1}, y, 0.0);
            CudaPointwise.activationF64(dev, Activation.IDENTITY, 0, 1, dx, 0, dy, 0, x.length);
            dev.download(dy, 0, y, 0, y.length);
            assertArrayEquals(x, y, 0.0);
            CudaPointwise.activationF64(dev, Activation.TANH, 3, 1, dx, 2, dy, 0, 1);
            dev.download(dy, 0, y, 0, 1);
            assertEquals(-2, y[0], 0.0);
            CudaPointwise.activationF64(dev, Activation.TANH, 2, 1, dx, 2, dy, 0, 1);
            dev.download(dy, 0, y, 0, 1);
            assertEquals(0, y[0], 0.0);
        }
    }

    /** Every size with offsets: exactly [yOff, yOff + n) is written, and in place (y = x) works too. */
    @Test
    void activationSizesOffsetsAndInPlace() {
        Rng r = new Rng(202);
        for (int n : SIZES) {
            int xOff = 3, yOff = 5;
            float[] x = f32(randn(r, n + xOff + 2, 2.0));
            float[] y0 = new float[n + yOff + 7];
            Arrays.fill(y0, 42f);
            float[] expected = y0.clone();
            ref.activation(Activation.TANH, 2, BETA_F32, x, xOff, expected, yOff, n);
            try (DeviceBuffer dx = dev.upload(x, 0, x.length)) {
                float[] y = run(y0, dy -> CudaPointwise.activationF32(dev, Activation.TANH, 2, BETA_F32, dx, xOff, dy, yOff, n));
                for (int i = 0; i < y.length; i++) {
                    assertEquals(expected[i], y[i], ACT_F32 * Math.max(1, Math.abs(expected[i])), "tanh'' n = " + n + " at " + i);
                }
            }
            float[] inPlace = run(x, b -> CudaPointwise.activationF32(dev, Activation.SOFTPLUS, 0, BETA_F32, b, xOff, b, xOff, n));
            float[] expectedInPlace = x.clone();
            ref.activation(Activation.SOFTPLUS, 0, BETA_F32, x, xOff, expectedInPlace, xOff, n);
            for (int i = 0; i < x.length; i++) {
                assertEquals(expectedInPlace[i], inPlace[i], ACT_F32 * Math.max(1, Math.abs(expectedInPlace[i])),
                        "softplus in place n = " + n + " at " + i);
            }
        }
    }

    // ------------------------------------------------------------------------------------------ sumAxis

    /** {outer, len, inner}: both kernels (per output: len <= 16 or many wide outputs; tiled otherwise), empty axis. */
    static final int[][] SUM_SHAPES = {{1, 1, 1}, {3, 17, 1}, {2, 33, 5}, {1, 1025, 1}, {4, 129, 16}, {5, 0, 3},
            {1000, 7, 1}, {3, 16, 33}, {2, 65, 33}, {7, 31, 64}, {1, 100_003, 1}, {1, 6000, 1000}, {257, 33, 513},
            {70_000, 20, 1}, {1, 20, 70_000}, {9, 257, 3}};

    @Test
    void sumAxisMatchesJava() {
        Rng r = new Rng(203);
        boolean perOutput = false, tiled = false;
        for (int[] s : SUM_SHAPES) {
            int outer = s[0], len = s[1], inner = s[2];
            boolean po = CudaPointwise.sumPerOutput(outer, len, inner);
            perOutput |= po;
            tiled |= !po;
            int xOff = 5, outOff = 3, total = outer * len * inner, outs = outer * inner;
            double[] x = randn(r, total + xOff, 1.0);
            float[] xf = f32(x);
            double[] out = new double[outs + outOff + 1], outRef = out.clone();
            float[] outf = new float[outs + outOff + 1], outfRef = outf.clone();
            Arrays.fill(out, 9);
            Arrays.fill(outf, 9);
            Arrays.fill(outRef, 9);
            Arrays.fill(outfRef, 9);
            ref.sumAxis(x, xOff, outer, len, inner, outRef, outOff);
            ref.sumAxis(xf, xOff, outer, len, inner, outfRef, outOff);
            try (DeviceBuffer dx = dev.upload(x, 0, x.length); DeviceBuffer dxf = dev.upload(xf, 0, xf.length);
                 DeviceBuffer dout = dev.upload(out, 0, out.length); DeviceBuffer doutf = dev.upload(outf, 0, outf.length)) {
                CudaPointwise.sumAxisF64(dev, dx, xOff, outer, len, inner, dout, outOff);
                CudaPointwise.sumAxisF32(dev, dxf, xOff, outer, len, inner, doutf, outOff);
                dev.download(dout, 0, out, 0, out.length);
                dev.download(doutf, 0, outf, 0, outf.length);
            }
            String shape = Arrays.toString(s) + (po ? " per output" : " tiled");
            for (int q = 0; q < out.length; q++) {
                if (q < outOff || q >= outOff + outs) {
                    assertEquals(9.0, out[q], 0.0, "sumAxis f64 wrote outside out " + shape);
                    assertEquals(9f, outf[q], 0f, "sumAxis f32 wrote outside out " + shape);
                    continue;
                }
                int o = (q - outOff) / inner, i = (q - outOff) % inner;
                double mag = 0;
                for (int l = 0; l < len; l++) {
                    mag += Math.abs(x[xOff + (o * len + l) * inner + i]);
                }
                assertEquals(outRef[q], out[q], SUM_F64 * Math.max(1, len) * mag, "sumAxis f64 " + shape + " at " + q);
                assertEquals(outfRef[q], outf[q], SUM_F32 * Math.max(1, len) * mag, "sumAxis f32 " + shape + " at " + q);
            }
        }
        assertTrue(perOutput && tiled, "both sum kernels exercised");
    }

    /** Small integers sum exactly in any order: both kernels agree with Java bit for bit, and repeat runs are identical. */
    @Test
    void sumAxisKnownAnswersAndDeterminism() {
        for (int[] s : new int[][] {{3, 17, 1}, {2, 65, 33}, {1000, 7, 1}, {1, 100_003, 1}, {257, 33, 513}}) {
            int outer = s[0], len = s[1], inner = s[2], total = outer * len * inner;
            float[] x = new float[total];
            for (int i = 0; i < total; i++) {
                x[i] = (i * 7 % 11) - 5;
            }
            float[] expected = new float[outer * inner];
            ref.sumAxis(x, 0, outer, len, inner, expected, 0);
            float[] first = new float[expected.length], second = new float[expected.length];
            try (DeviceBuffer dx = dev.upload(x, 0, total); DeviceBuffer dout = dev.alloc(4L * expected.length)) {
                CudaPointwise.sumAxisF32(dev, dx, 0, outer, len, inner, dout, 0);
                dev.download(dout, 0, first, 0, first.length);
                CudaPointwise.sumAxisF32(dev, dx, 0, outer, len, inner, dout, 0);
                dev.download(dout, 0, second, 0, second.length);
            }
            assertArrayEquals(expected, first, 0f, "exact integer sums " + Arrays.toString(s));
            assertArrayEquals(first, second, 0f, "deterministic " + Arrays.toString(s));
        }
    }

    // ------------------------------------------------------------------------------------------ im2col / col2im

    /** Stride 1 and 2, padding 0..3, 1x1 and non-square kernels, a kernel larger than the image, many channels. */
    static final ConvGeometry[] CONVS = {ConvGeometry.square(1, 28, 28, 3, 1, 1), ConvGeometry.square(32, 14, 14, 3, 2, 1),
            ConvGeometry.square(3, 7, 9, 3, 1, 0), new ConvGeometry(2, 5, 8, 2, 3, 1, 2, 0, 1),
            ConvGeometry.square(3, 17, 17, 3, 2, 1), ConvGeometry.square(33, 9, 9, 3, 2, 2),
            new ConvGeometry(5, 31, 33, 5, 3, 2, 1, 2, 1), ConvGeometry.square(2, 4, 4, 1, 1, 0),
            ConvGeometry.square(1, 2, 2, 3, 1, 1), ConvGeometry.square(4, 65, 65, 7, 3, 3),
            ConvGeometry.square(64, 56, 56, 3, 1, 1), new ConvGeometry(3, 6, 5, 4, 2, 2, 3, 3, 1)};

    @Test
    void im2colMatchesJavaExactly() {
        Rng r = new Rng(204);
        for (ConvGeometry g : CONVS) {
            int xOff = 2, colOff = 3, cols = g.colRows() * g.colCols();
            double[] x = randn(r, g.imageSize() + xOff, 1.0);
            float[] xf = f32(x);
            double[] col = new double[cols + colOff + 1], colRef = new double[col.length];
            float[] colf = new float[col.length], colfRef = new float[col.length];
            ref.im2col(g, x, xOff, colRef, colOff);
            ref.im2col(g, xf, xOff, colfRef, colOff);
            try (DeviceBuffer dx = dev.upload(x, 0, x.length); DeviceBuffer dxf = dev.upload(xf, 0, xf.length);
                 DeviceBuffer dc = dev.upload(col, 0, col.length); DeviceBuffer dcf = dev.upload(colf, 0, colf.length)) {
                CudaPointwise.im2colF64(dev, g, dx, xOff, dc, colOff);
                CudaPointwise.im2colF32(dev, g, dxf, xOff, dcf, colOff);
                dev.download(dc, 0, col, 0, col.length);
                dev.download(dcf, 0, colf, 0, colf.length);
            }
            assertArrayEquals(colRef, col, 0.0, "im2col f64 " + g);
            assertArrayEquals(colfRef, colf, 0f, "im2col f32 " + g);
        }
    }

    /**
     * col2im gathers each pixel's entries in increasing column-row order from zero, the Java reference's order, so
     * the results agree bit for bit; the image is overwritten; and col2im is the adjoint of im2col.
     */
    @Test
    void col2imMatchesJavaExactlyAndIsTheAdjoint() {
        Rng r = new Rng(205);
        for (ConvGeometry g : CONVS) {
            int xOff = 4, colOff = 1, cols = g.colRows() * g.colCols(), img = g.imageSize();
            double[] y = randn(r, cols + colOff, 1.0);
            float[] yf = f32(y);
            double[] back = new double[img + xOff + 2], backRef = new double[back.length];
            float[] backf = new float[back.length], backfRef = new float[back.length];
            Arrays.fill(back, 7.0); // must be overwritten inside the image, kept outside
            Arrays.fill(backf, 7f);
            Arrays.fill(backRef, 7.0);
            Arrays.fill(backfRef, 7f);
            ref.col2im(g, y, colOff, backRef, xOff);
            ref.col2im(g, yf, colOff, backfRef, xOff);
            double[] x = randn(r, img, 1.0), col = new double[cols];
            try (DeviceBuffer dy = dev.upload(y, 0, y.length); DeviceBuffer dyf = dev.upload(yf, 0, yf.length);
                 DeviceBuffer db = dev.upload(back, 0, back.length); DeviceBuffer dbf = dev.upload(backf, 0, backf.length);
                 DeviceBuffer dx = dev.upload(x, 0, img); DeviceBuffer dc = dev.alloc(8L * cols)) {
                CudaPointwise.col2imF64(dev, g, dy, colOff, db, xOff);
                CudaPointwise.col2imF32(dev, g, dyf, colOff, dbf, xOff);
                CudaPointwise.im2colF64(dev, g, dx, 0, dc, 0);
                dev.download(db, 0, back, 0, back.length);
                dev.download(dbf, 0, backf, 0, backf.length);
                dev.download(dc, 0, col, 0, cols);
            }
            assertArrayEquals(backRef, back, 0.0, "col2im f64 " + g);
            assertArrayEquals(backfRef, backf, 0f, "col2im f32 " + g);
            double lhs = 0, rhs = 0, mag = 0;
            for (int i = 0; i < cols; i++) {
                lhs += col[i] * y[colOff + i];
                mag += Math.abs(col[i] * y[colOff + i]);
            }
            for (int i = 0; i < img; i++) {
                rhs += x[i] * back[xOff + i];
            }
            assertEquals(lhs, rhs, ADJOINT_F64 * cols * mag, "col2im adjoint " + g);
        }
    }

    // ------------------------------------------------------------------------------------------ bad input, zero sizes

    @Test
    void badShapesThrowBeforeAnyLaunch() {
        ConvGeometry g = ConvGeometry.square(1, 4, 4, 3, 1, 0); // image 16, col 9 x 4
        float[] sentinel = new float[64];
        Arrays.fill(sentinel, 3f);
        try (DeviceBuffer small = dev.alloc(4L * 15); DeviceBuffer b = dev.upload(sentinel, 0, sentinel.length);
             DeviceBuffer d64 = dev.alloc(8L * 8)) {
            IndexOutOfBoundsException e = assertThrows(IndexOutOfBoundsException.class,
                    () -> CudaPointwise.im2colF32(dev, g, small, 0, b, 0));
            assertTrue(e.getMessage().contains("im2col") && e.getMessage().contains("image"), e.getMessage());
            e = assertThrows(IndexOutOfBoundsException.class, () -> CudaPointwise.col2imF32(dev, g, small, 0, b, 0));
            assertTrue(e.getMessage().contains("col2im") && e.getMessage().contains("col"), e.getMessage());
            assertThrows(IndexOutOfBoundsException.class, () -> CudaPointwise.im2colF32(dev, g, b, 50, b, 0));
            assertThrows(IllegalArgumentException.class, () -> CudaPointwise.im2colF32(dev, g, b, 0, b, 10)); // overlap
            assertThrows(IndexOutOfBoundsException.class, () -> CudaPointwise.activationF32(dev, Activation.TANH, 0, 1f, b, 0, small, 0, 16));
            assertThrows(IndexOutOfBoundsException.class, () -> CudaPointwise.activationF32(dev, Activation.TANH, 0, 1f, b, -1, b, 0, 4));
            assertThrows(IllegalArgumentException.class, () -> CudaPointwise.activationF32(dev, Activation.TANH, 7, 1f, b, 0, b, 0, 4));
            assertThrows(IllegalArgumentException.class, () -> CudaPointwise.activationF32(dev, Activation.TANH, -1, 1f, b, 0, b, 0, 4));
            assertThrows(IllegalArgumentException.class, () -> CudaPointwise.activationF32(dev, Activation.TANH, 0, 1f, b, 0, b, 1, 4));
            assertThrows(IllegalArgumentException.class, () -> CudaPointwise.activationF32(dev, Activation.TANH, 0, 1f, b, 0, b, 0, -1));
            assertThrows(NullPointerException.class, () -> CudaPointwise.activationF32(dev, null, 0, 1f, b, 0, b, 0, 4));
            // a buffer of 8 doubles holds only 16 floats' worth of bytes: 17 floats do not fit
            assertThrows(IndexOutOfBoundsException.class, () -> CudaPointwise.activationF32(dev, Activation.RELU, 0, 1f, d64, 0, b, 0, 17));
            assertThrows(IndexOutOfBoundsException.class, () -> CudaPointwise.activationF64(dev, Activation.RELU, 0, 1, d64, 0, d64, 1, 8));
            assertThrows(IllegalArgumentException.class, () -> CudaPointwise.sumAxisF32(dev, b, 0, 2, -1, 2, b, 0));
            assertThrows(IndexOutOfBoundsException.class, () -> CudaPointwise.sumAxisF32(dev, b, 0, 4, 4, 5, small, 0));
            assertThrows(IllegalArgumentException.class, () -> CudaPointwise.sumAxisF32(dev, b, 0, 2, 4, 2, b, 7)); // overlap
            float[] after = new float[sentinel.length];
            dev.download(b, 0, after, 0, after.length);
            assertArrayEquals(sentinel, after, 0f, "nothing was launched");
        }
        DeviceBuffer closed = dev.alloc(64);
        closed.close();
        try (DeviceBuffer b = dev.alloc(64)) {
            assertThrows(IllegalStateException.class, () -> CudaPointwise.activationF32(dev, Activation.RELU, 0, 1f, closed, 0, b, 0, 4));
        }
    }

    @Test
    void zeroSizesDoNothing() {
        float[] sentinel = {1, 2, 3, 4};
        try (DeviceBuffer b = dev.upload(sentinel, 0, 4); DeviceBuffer c = dev.alloc(16)) {
            CudaPointwise.activationF32(dev, Activation.SIGMOID, 1, 1f, b, 4, c, 4, 0);
            CudaPointwise.sumAxisF32(dev, b, 0, 0, 3, 2, c, 0);
            CudaPointwise.sumAxisF32(dev, b, 0, 2, 2, 0, c, 0);
            float[] after = new float[4];
            dev.download(b, 0, after, 0, 4);
            assertArrayEquals(sentinel, after, 0f);
            // an empty summed axis gives zeros
            CudaPointwise.sumAxisF32(dev, b, 0, 2, 0, 2, c, 0);
            dev.download(c, 0, after, 0, 4);
            assertArrayEquals(new float[4], after, 0f);
        }
    }

    @Test
    void kernelsAreInTheFatbinWithSaneResources() {
        for (String k : new String[] {"sprout_activation_f32", "sprout_activation_f64", "sprout_sum_axis_f32",
                "sprout_sum_axis_f64", "sprout_sum_axis_per_output_f32", "sprout_sum_axis_per_output_f64",
                "sprout_im2col_f32", "sprout_im2col_f64", "sprout_col2im_f32", "sprout_col2im_f64"}) {
            int[] a = dev.kernelAttributes(k);
            System.out.println("[sprout-cuda] " + k + ": " + a[0] + " registers, " + a[1] + " B static shared, max "
                    + a[2] + " threads");
            assertTrue(a[2] >= CudaPointwise.BLOCK, k + " accepts " + CudaPointwise.BLOCK + " threads");
            assertFalse(a[0] > 255, k);
        }
    }
}
