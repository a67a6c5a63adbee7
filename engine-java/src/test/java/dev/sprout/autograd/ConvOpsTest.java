package dev.sprout.autograd;

import dev.sprout.backend.Backend;
import dev.sprout.backend.Backends;
import dev.sprout.backend.ConvGeometry;
import dev.sprout.backend.java.JavaBackend;
import dev.sprout.nn.Conv2d;
import dev.sprout.nn.Pool2d;
import dev.sprout.tensor.DType;
import dev.sprout.tensor.Rng;
import dev.sprout.tensor.ShapeException;
import dev.sprout.tensor.Tensor;
import dev.sprout.testing.Tol;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The fused {@link ConvOps#conv2d} and {@link ConvOps#maxPool2d} against direct loops (values) and against the
 * composite forms of {@link Conv2d#forwardComposite} / {@link Pool2d#forwardComposite} (first-order gradients from
 * the fast path, gradients recorded with createGraph, and Hessian-vector products), f32 and f64, on sizes that
 * straddle gemm blocks and vector lanes, strides 1 and 2, with and without padding.
 */
class ConvOpsTest {

    /** in, out, kernel, stride, pad, bias, N, H, W. */
    private static final int[][] CONVS = {
            {1, 32, 3, 1, 1, 1, 2, 28, 28},
            {3, 5, 3, 1, 1, 1, 2, 7, 9},
            {3, 17, 3, 2, 0, 0, 3, 11, 10},
            {2, 4, 3, 2, 2, 1, 1, 6, 5},
            {5, 3, 1, 1, 0, 1, 2, 4, 6},   // 1x1: the image is its own column matrix
            {4, 6, 1, 2, 0, 0, 2, 5, 5},
            {2, 3, 5, 1, 2, 1, 2, 8, 3},
            {33, 19, 3, 1, 1, 1, 2, 5, 17},
    };

    private static double tol(DType dt, int reduction) {
        return dt == DType.F64 ? Tol.f64(reduction) : Tol.f32(reduction);
    }

    /** Direct loops in double: y[n, o, oy, ox] = b[o] + sum_{c, i, j} w[o, c, i, j] x[n, c, oy*s - p + i, ox*s - p + j]. */
    private static double[] referenceConv(Tensor x, Tensor w, Tensor b, int stride, int pad) {
        int n = x.dim(0), c = x.dim(1), h = x.dim(2), wd = x.dim(3), o = w.dim(0), k = w.dim(2);
        int oh = (h + 2 * pad - k) / stride + 1, ow = (wd + 2 * pad - k) / stride + 1;
        double[] y = new double[n * o * oh * ow];
        for (int in = 0; in < n; in++) {
            for (int io = 0; io < o; io++) {
                for (int oy = 0; oy < oh; oy++) {
                    for (int ox = 0; ox < ow; ox++) {
                        double s = b == null ? 0 : b.getFlat(io);
                        for (int ic = 0; ic < c; ic++) {
                            for (int i = 0; i < k; i++) {
                                for (int j = 0; j < k; j++) {
                                    int iy = oy * stride - pad + i, ix = ox * stride - pad + j;
                                    if (iy >= 0 && iy < h && ix >= 0 && ix < wd) {
                                        s += w.get(io, ic, i, j) * x.get(in, ic, iy, ix);
                                    }
                                }
                            }
                        }
                        y[((in * o + io) * oh + oy) * ow + ox] = s;
                    }
                }
            }
        }
        return y;
    }

    private static void assertClose(Tensor expected, Tensor actual, double tol, String what) {
        assertEquals(expected.shape(), actual.shape(), what + ": shape");
        double scale = 0;
        for (int i = 0; i < expected.numel(); i++) {
            scale = Math.max(scale, Math.abs(expected.getFlat(i)));
        }
        for (int i = 0; i < expected.numel(); i++) {
            assertEquals(expected.getFlat(i), actual.getFlat(i), tol * Math.max(1, scale), what + " [" + i + "]");
        }
    }

    @Test
    void convForwardMatchesDirectLoops() {
        for (DType dt : List.of(DType.F32, DType.F64)) {
            for (int[] p : CONVS) {
                Conv2d conv = new Conv2d(p[0], p[1], p[2], p[3], p[4], p[5] == 1, new Rng(p[1]), dt);
                Tensor x = Tensor.randn(new Rng(7), dt, 1.0, p[6], p[0], p[7], p[8]);
                Tensor y;
                try (Autograd.Scope s = Autograd.noGrad()) {
                    y = conv.forward(x);
                }
                double[] ref = referenceConv(x, conv.parameter("weight"), p[5] == 1 ? conv.parameter("bias") : null, p[3], p[4]);
                assertEquals(ref.length, y.numel(), "conv " + java.util.Arrays.toString(p));
                for (int i = 0; i < ref.length; i++) {
                    assertEquals(ref[i], y.getFlat(i), tol(dt, p[0] * p[2] * p[2]) * 4 * Math.max(1, Math.abs(ref[i])),
                            dt + " conv " + java.util.Arrays.toString(p) + " element " + i);
                }
            }
        }
    }

    /** Gradients of a weighted sum of the layer's output with respect to input and parameters. */
    private static Tensor[] grads(Conv2d conv, Tensor x0, Function<Tensor, Tensor> f, boolean createGraph) {
        Tensor x = x0.detach().requiresGrad(true);
        Tensor y = f.apply(x);
        Tensor r = Tensor.randn(new Rng(5), x0.dtype(), 1.0, y.shape().toArray());
        Tensor loss = y.mul(r).sum();
        List<Tensor> ps = conv == null ? List.of() : List.copyOf(conv.namedParameters().values());
        Tensor[] targets = new Tensor[ps.size() + 1];
        for (int i = 0; i < ps.size(); i++) {
            targets[i] = ps.get(i);
        }
        targets[ps.size()] = x;
        return Autograd.grad(loss, targets, createGraph);
    }

    @Test
    void convGradientsMatchCompositeOnBothPaths() {
        for (DType dt : List.of(DType.F32, DType.F64)) {
            for (int[] p : CONVS) {
                Conv2d conv = new Conv2d(p[0], p[1], p[2], p[3], p[4], p[5] == 1, new Rng(p[1]), dt);
                Tensor x = Tensor.randn(new Rng(8), dt, 1.0, p[6], p[0], p[7], p[8]);
                Tensor[] ref = grads(conv, x, conv::forwardComposite, false);
                Tensor[] fast = grads(conv, x, conv::forward, false);
                Tensor[] recorded = grads(conv, x, conv::forward, true);
                int red = Math.max(p[6] * p[7] * p[8], p[1] * p[2] * p[2]);
                for (int i = 0; i < ref.length; i++) {
                    String what = dt + " conv " + java.util.Arrays.toString(p) + " gradient " + i;
                    assertClose(ref[i], fast[i], tol(dt, red), what + " (fast path)");
                    assertClose(ref[i], recorded[i], tol(dt, red), what + " (createGraph path)");
                    if (i == 0 || i == ref.length - 1) { // weight and input gradients depend on input and weight
                        assertTrue(recorded[i].requiresGrad(), what + ": createGraph result must be differentiable");
                    }
                }
            }
        }
    }

    @Test
    void convHvpMatchesComposite() {
        for (int[] p : new int[][] {CONVS[1], CONVS[2], CONVS[4]}) {
            Conv2d conv = new Conv2d(p[0], p[1], p[2], p[3], p[4], p[5] == 1, new Rng(p[1]), DType.F64);
            Tensor x = Tensor.randn(new Rng(9), DType.F64, 1.0, p[6], p[0], p[7], p[8]);
            List<Tensor> ps = List.copyOf(conv.namedParameters().values());
            Tensor[] params = ps.toArray(new Tensor[0]);
            Tensor[] v = new Tensor[params.length];
            for (int i = 0; i < v.length; i++) {
                v[i] = Tensor.randn(new Rng(10 + i), DType.F64, 1.0, params[i].shape().toArray());
            }
            // a non-quadratic loss so the Hessian involves the backward rule of conv and of tanh
            Tensor[] fused = Autograd.hvp(q -> conv.forward(x).tanh().sum(), params, v);
            Tensor[] comp = Autograd.hvp(q -> conv.forwardComposite(x).tanh().sum(), params, v);
            for (int i = 0; i < params.length; i++) {
                assertClose(comp[i], fused[i], Tol.F64 * 1e3, "hvp conv " + java.util.Arrays.toString(p) + " param " + i);
            }
        }
    }

    @Test
    void convRejectsBadShapesWithClearMessages() {
        ConvGeometry g = ConvGeometry.square(3, 5, 5, 3, 1, 1);
        Tensor w = Tensor.zeros(DType.F32, 4, 3, 3, 3);
        ShapeException e = assertThrows(ShapeException.class,
                () -> ConvOps.conv2d(Tensor.zeros(DType.F32, 2, 2, 5, 5), w, null, g));
        assertTrue(e.getMessage().contains("[2, 2, 5, 5]"), e.getMessage());
        e = assertThrows(ShapeException.class,
                () -> ConvOps.conv2d(Tensor.zeros(DType.F32, 2, 3, 5, 5), Tensor.zeros(DType.F32, 4, 3, 2, 2), null, g));
        assertTrue(e.getMessage().contains("weight"), e.getMessage());
        e = assertThrows(ShapeException.class,
                () -> ConvOps.conv2d(Tensor.zeros(DType.F32, 2, 3, 5, 5), w, Tensor.zeros(DType.F32, 5), g));
        assertTrue(e.getMessage().contains("bias"), e.getMessage());
        e = assertThrows(ShapeException.class,
                () -> ConvOps.conv2d(Tensor.zeros(DType.F64, 2, 3, 5, 5), w, null, g));
        assertTrue(e.getMessage().contains("dtypes"), e.getMessage());
        assertThrows(ShapeException.class, () -> new Conv2d(3, 4, 3, 1, 1, true, new Rng(1), DType.F32)
                .forward(Tensor.zeros(DType.F32, 2, 4, 5, 5)));
    }

    // ------------------------------------------------------------------------------------------ max pooling

    /** kernel, stride, N, C, H, W. */
    private static final int[][] POOLS = {
            {2, 2, 2, 3, 28, 28},
            {2, 2, 1, 2, 5, 7},   // odd sizes: the last row and column are dropped
            {3, 2, 2, 2, 7, 8},
            {2, 1, 1, 3, 4, 5},   // overlapping windows: gradients add up
            {3, 3, 2, 1, 9, 9},
    };

    /** Integer values in a small range, so windows have ties (and exact zeros, as after a ReLU). */
    private static Tensor withTies(DType dt, int... dims) {
        Tensor t = Tensor.zeros(dt, dims);
        Rng r = new Rng(11);
        for (int i = 0; i < t.numel(); i++) {
            t.setFlat(i, Math.max(0, r.nextInt(5) - 2));
        }
        return t;
    }

    @Test
    void maxPoolMatchesCompositeWithTies() {
        for (DType dt : List.of(DType.F32, DType.F64)) {
            for (int[] p : POOLS) {
                Pool2d pool = new Pool2d(true, p[0], p[1]);
                for (Tensor x : List.of(withTies(dt, p[2], p[3], p[4], p[5]),
                        Tensor.randn(new Rng(12), dt, 1.0, p[2], p[3], p[4], p[5]))) {
                    String what = dt + " pool " + java.util.Arrays.toString(p);
                    Tensor yc, yf;
                    try (Autograd.Scope s = Autograd.noGrad()) {
                        yc = pool.forwardComposite(x);
                        yf = pool.forward(x);
                    }
                    assertClose(yc, yf, 0, what + " values");
                    Tensor ref = grads(null, x, pool::forwardComposite, false)[0];
                    assertClose(ref, grads(null, x, pool::forward, false)[0], tol(dt, 9), what + " gradient (fast path)");
                    Tensor rec = grads(null, x, pool::forward, true)[0];
                    assertClose(ref, rec, tol(dt, 9), what + " gradient (createGraph path)");
                }
            }
        }
    }

    @Test
    void maxPoolPropagatesNaNAndRoutesItsGradientToTheFirstNaN() {
        for (DType dt : List.of(DType.F32, DType.F64)) {
            // windows {x0, x1, x4, x5} and {x2, x3, x6, x7}; the first holds two NaNs
            Tensor x = Tensor.of(new double[] {1, 2, 3, 4, 5, 6, 7, 8}, 1, 1, 2, 4).to(dt);
            x.setFlat(0, Double.NaN);
            x.setFlat(5, Double.NaN);
            Tensor xg = x.detach().requiresGrad(true);
            Tensor y = Pool2d.max(2).forward(xg);
            assertTrue(Double.isNaN(y.getFlat(0)), dt + ": a NaN in the window gives NaN");
            assertEquals(8, y.getFlat(1), 0.0);
            for (boolean createGraph : new boolean[] {false, true}) {
                Tensor g = Autograd.grad(Pool2d.max(2).forward(xg).mul(Tensor.of(new double[] {2, 3}, 1, 1, 1, 2).to(dt)).sum(),
                        new Tensor[] {xg}, createGraph)[0];
                double[] expected = {2, 0, 0, 0, 0, 0, 0, 3};
                for (int i = 0; i < 8; i++) {
                    assertEquals(expected[i], g.getFlat(i), 0.0, dt + " createGraph=" + createGraph + " element " + i);
                }
            }
        }
    }

    // ------------------------------------------------------------------------------------------ conv2d + max pooling

    /** conv (in, out, kernel, stride, pad, bias, N, H, W) then pool (kernel, stride). */
    private static final int[][] CONV_POOLS = {
            {32, 64, 3, 1, 1, 1, 2, 28, 28, 2, 2},
            {3, 5, 3, 1, 1, 1, 2, 7, 9, 2, 2},
            {3, 4, 3, 2, 1, 0, 2, 11, 10, 3, 2},
            {2, 3, 1, 1, 0, 1, 1, 5, 6, 2, 1},
    };

    @Test
    void convMaxPoolMatchesTheTwoOpsInARow() {
        for (DType dt : List.of(DType.F32, DType.F64)) {
            for (int[] p : CONV_POOLS) {
                for (boolean ties : new boolean[] {false, true}) {
                    Conv2d conv = new Conv2d(p[0], p[1], p[2], p[3], p[4], p[5] == 1, new Rng(p[1]), dt);
                    Tensor x = Tensor.randn(new Rng(13), dt, 1.0, p[6], p[0], p[7], p[8]);
                    if (ties) { // small integers everywhere: many equal window entries
                        try (Autograd.Scope s = Autograd.noGrad()) {
                            Rng r = new Rng(14);
                            for (Tensor t : List.of(x, conv.parameter("weight"))) {
                                for (int i = 0; i < t.numel(); i++) {
                                    t.setFlat(i, r.nextInt(3) - 1);
                                }
                            }
                            if (p[5] == 1) {
                                conv.parameter("bias").fill_(0);
                            }
                        }
                    }
                    Pool2d pool = new Pool2d(true, p[9], p[10]);
                    String what = dt + " conv+pool " + java.util.Arrays.toString(p) + (ties ? " with ties" : "");
                    Tensor a, b;
                    try (Autograd.Scope s = Autograd.noGrad()) {
                        a = conv.forwardPooled(x, pool);
                        b = pool.forward(conv.forward(x));
                    }
                    assertClose(b, a, 0, what + " values");
                    Tensor[] ref = grads(conv, x, t -> pool.forwardComposite(conv.forwardComposite(t)), false);
                    Tensor[] fast = grads(conv, x, t -> conv.forwardPooled(t, pool), false);
                    Tensor[] rec = grads(conv, x, t -> conv.forwardPooled(t, pool), true);
                    int red = Math.max(p[6] * p[7] * p[8], p[1] * p[2] * p[2]);
                    for (int i = 0; i < ref.length; i++) {
                        assertClose(ref[i], fast[i], tol(dt, red), what + " gradient " + i + " (fast path)");
                        assertClose(ref[i], rec[i], tol(dt, red), what + " gradient " + i + " (createGraph path)");
                    }
                }
            }
        }
    }

    @Test
    void convMaxPoolHvpMatchesTheTwoOps() {
        int[] p = CONV_POOLS[1];
        Conv2d conv = new Conv2d(p[0], p[1], p[2], p[3], p[4], true, new Rng(3), DType.F64);
        Pool2d pool = Pool2d.max(2);
        Tensor x = Tensor.randn(new Rng(15), DType.F64, 1.0, p[6], p[0], p[7], p[8]);
        Tensor[] params = conv.parameters().toArray(new Tensor[0]);
        Tensor[] v = new Tensor[params.length];
        for (int i = 0; i < v.length; i++) {
            v[i] = Tensor.randn(new Rng(20 + i), DType.F64, 1.0, params[i].shape().toArray());
        }
        Tensor[] fused = Autograd.hvp(q -> conv.forwardPooled(x, pool).tanh().sum(), params, v);
        Tensor[] comp = Autograd.hvp(q -> pool.forwardComposite(conv.forwardComposite(x)).tanh().sum(), params, v);
        for (int i = 0; i < params.length; i++) {
            assertClose(comp[i], fused[i], Tol.F64 * 1e3, "hvp conv+pool param " + i);
        }
    }

    @Test
    void convReluMatchesTheTwoOpsInARow() {
        for (DType dt : List.of(DType.F32, DType.F64)) {
            for (int[] p : CONVS) {
                for (boolean ties : new boolean[] {false, true}) {
                    Conv2d conv = new Conv2d(p[0], p[1], p[2], p[3], p[4], p[5] == 1, new Rng(p[1]), dt);
                    Tensor x = Tensor.randn(new Rng(16), dt, 1.0, p[6], p[0], p[7], p[8]);
                    if (ties) { // small integers: many conv outputs exactly 0 (the kink)
                        try (Autograd.Scope s = Autograd.noGrad()) {
                            Rng r = new Rng(17);
                            for (Tensor t : List.of(x, conv.parameter("weight"))) {
                                for (int i = 0; i < t.numel(); i++) {
                                    t.setFlat(i, r.nextInt(3) - 1);
                                }
                            }
                            if (p[5] == 1) {
                                conv.parameter("bias").fill_(0);
                            }
                        }
                    }
                    String what = dt + " conv+relu " + java.util.Arrays.toString(p) + (ties ? " with ties" : "");
                    Tensor a, b;
                    try (Autograd.Scope s = Autograd.noGrad()) {
                        a = conv.forwardRelu(x);
                        b = conv.forward(x).relu();
                    }
                    assertClose(b, a, 0, what + " values");
                    Tensor[] ref = grads(conv, x, t -> conv.forwardComposite(t).relu(), false);
                    Tensor[] fast = grads(conv, x, conv::forwardRelu, false);
                    Tensor[] rec = grads(conv, x, conv::forwardRelu, true);
                    int red = Math.max(p[6] * p[7] * p[8], p[1] * p[2] * p[2]);
                    for (int i = 0; i < ref.length; i++) {
                        assertClose(ref[i], fast[i], tol(dt, red), what + " gradient " + i + " (fast path)");
                        assertClose(ref[i], rec[i], tol(dt, red), what + " gradient " + i + " (createGraph path)");
                    }
                }
            }
        }
    }

    @Test
    void convReluHvpMatchesTheTwoOps() {
        int[] p = CONVS[1];
        Conv2d conv = new Conv2d(p[0], p[1], p[2], p[3], p[4], true, new Rng(4), DType.F64);
        Tensor x = Tensor.randn(new Rng(18), DType.F64, 1.0, p[6], p[0], p[7], p[8]);
        Tensor[] params = conv.parameters().toArray(new Tensor[0]);
        Tensor[] v = new Tensor[params.length];
        for (int i = 0; i < v.length; i++) {
            v[i] = Tensor.randn(new Rng(30 + i), DType.F64, 1.0, params[i].shape().toArray());
        }
        Tensor[] fused = Autograd.hvp(q -> conv.forwardRelu(x).tanh().sum(), params, v);
        Tensor[] comp = Autograd.hvp(q -> conv.forwardComposite(x).relu().tanh().sum(), params, v);
        for (int i = 0; i < params.length; i++) {
            assertClose(comp[i], fused[i], Tol.F64 * 1e3, "hvp conv+relu param " + i);
        }
    }

    /** Chunks of images on two threads (private scratch and accumulators) give the one-thread results. */
    @Test
    void fusedOpsAgreeOnOneAndTwoThreads() {
        Backend before = Backends.current();
        try {
            Conv2d conv = new Conv2d(32, 64, 3, 1, 1, true, new Rng(40), DType.F32);
            Pool2d pool = Pool2d.max(2);
            Tensor x = Tensor.randn(new Rng(41), DType.F32, 1.0, 12, 32, 28, 28);
            List<Function<Tensor, Tensor>> fs = List.of(conv::forward, conv::forwardRelu, t -> conv.forwardPooled(t, pool));
            for (int k = 0; k < fs.size(); k++) {
                Backends.use(new JavaBackend(1));
                Tensor y1;
                try (Autograd.Scope s = Autograd.noGrad()) {
                    y1 = fs.get(k).apply(x);
                }
                Tensor[] g1 = grads(conv, x, fs.get(k), false);
                Backends.use(new JavaBackend(2));
                Tensor y2;
                try (Autograd.Scope s = Autograd.noGrad()) {
                    y2 = fs.get(k).apply(x);
                }
                Tensor[] g2 = grads(conv, x, fs.get(k), false);
                assertClose(y1, y2, 0, "fused op " + k + " values on 2 threads");
                for (int i = 0; i < g1.length; i++) {
                    assertClose(g1[i], g2[i], tol(DType.F32, 12 * 28 * 28), "fused op " + k + " gradient " + i + " on 2 threads");
                }
            }
        } finally {
            Backends.use(before);
        }
    }

    @Test
    void convMaxPoolRejectsBadShapes() {
        ConvGeometry g = ConvGeometry.square(3, 5, 5, 3, 2, 0); // 2x2 output
        Tensor w = Tensor.zeros(DType.F32, 4, 3, 3, 3);
        ShapeException e = assertThrows(ShapeException.class,
                () -> ConvOps.conv2dMaxPool(Tensor.zeros(DType.F32, 2, 3, 5, 5), w, null, g, 3, 3));
        assertTrue(e.getMessage().contains("window 3"), e.getMessage());
        e = assertThrows(ShapeException.class,
                () -> ConvOps.conv2dMaxPool(Tensor.zeros(DType.F32, 2, 3, 6, 5), w, null, g, 2, 2));
        assertTrue(e.getMessage().contains("[2, 3, 6, 5]"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> ConvOps.conv2dMaxPool(Tensor.zeros(DType.F32, 2, 3, 5, 5), w, null, g, 2, 0));
    }

    @Test
    void maxPoolRejectsBadShapes() {
        ShapeException e = assertThrows(ShapeException.class, () -> ConvOps.maxPool2d(Tensor.zeros(DType.F32, 2, 3, 4), 2, 2));
        assertTrue(e.getMessage().contains("[2, 3, 4]"), e.getMessage());
        e = assertThrows(ShapeException.class, () -> ConvOps.maxPool2d(Tensor.zeros(DType.F32, 1, 1, 1, 4), 2, 2));
        assertTrue(e.getMessage().contains("window"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ConvOps.maxPool2d(Tensor.zeros(DType.F32, 1, 1, 4, 4), 0, 2));
    }
}
