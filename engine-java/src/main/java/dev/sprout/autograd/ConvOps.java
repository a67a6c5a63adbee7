package dev.sprout.autograd;

import dev.sprout.backend.Backend;
import dev.sprout.backend.Backends;
import dev.sprout.backend.ConvGeometry;
import dev.sprout.backend.GemmShape;
import dev.sprout.backend.java.Parallel;
import dev.sprout.tensor.DType;
import dev.sprout.tensor.Index;
import dev.sprout.tensor.Kernels;
import dev.sprout.tensor.Shape;
import dev.sprout.tensor.ShapeException;
import dev.sprout.tensor.Tensor;

/**
 * Fused convolution and pooling ops: {@link #conv2d} (bias included), {@link #conv2dRelu}, {@link #conv2dMaxPool}
 * and {@link #maxPool2d}. They compute the same values as the composite forms built from {@link Ops#im2col},
 * {@link Ops#matmul}, {@link Ops#add}, {@link Ops#activation} and {@link Ops#max}, without materialising the whole
 * column tensor: each image is unfolded into a scratch buffer that stays in cache, multiplied, rectified or
 * pooled, and dropped; the backward pass unfolds it again. Chunks of images run on the backend's threads where a
 * chunk holds about 1 ms of work ({@link Parallel#forRange}).
 *
 * <p>All stay differentiable to any order: a backward rule that runs while gradients are recorded
 * ({@code createGraph}, as in Hessian-vector products) is written with the composite differentiable ops;
 * the first-order backward (no recording) uses the fast per-image kernels. Tests check that both agree.
 */
public final class ConvOps {
    private ConvOps() {
    }

    // ------------------------------------------------------------------------------------------ conv2d

    /**
     * 2-D convolution {@code y[n, o] = sum_c w[o, c] * x[n, c] + b[o]} of images {@code x [N, C, H, W]} with a
     * weight {@code [O, C, kh, kw]} and an optional bias {@code [O]} (null: none), giving {@code [N, O, outH, outW]}.
     */
    public static Tensor conv2d(Tensor x, Tensor w, Tensor b, ConvGeometry g) {
        checkConv(x, w, b, g);
        Tensor out = conv2dForward(x, w, b, g, false);
        Tensor[] inputs = b == null ? new Tensor[] {x, w} : new Tensor[] {x, w, b};
        return Ops.record("conv2d", out, gy -> conv2dBackward(gy, x, w, b, g), inputs);
    }

    private static void checkConv(Tensor x, Tensor w, Tensor b, ConvGeometry g) {
        for (Tensor t : b == null ? new Tensor[] {x, w} : new Tensor[] {x, w, b}) {
            if (t.dtype() != DType.F32 && t.dtype() != DType.F64) {
                throw new ShapeException("conv2d: needs f32 or f64 operands, got " + t.describe());
            }
            if (t.dtype() != x.dtype()) {
                throw new ShapeException("conv2d: dtypes differ: input " + x.describe() + ", operand " + t.describe());
            }
        }
        if (x.rank() != 4 || x.dim(1) != g.channels() || x.dim(2) != g.height() || x.dim(3) != g.width()) {
            throw new ShapeException("conv2d: input " + x.describe() + " does not match [N, " + g.channels() + ", "
                    + g.height() + ", " + g.width() + "] of geometry " + g);
        }
        if (w.rank() != 4 || w.dim(1) != g.channels() || w.dim(2) != g.kernelH() || w.dim(3) != g.kernelW()) {
            throw new ShapeException("conv2d: weight " + w.describe() + " does not match [out, " + g.channels() + ", "
                    + g.kernelH() + ", " + g.kernelW() + "] of geometry " + g);
        }
        if (b != null && (b.rank() != 1 || b.dim(0) != w.dim(0))) {
            throw new ShapeException("conv2d: bias " + b.describe() + " does not match [" + w.dim(0) + "]");
        }
        long outElems = (long) x.dim(0) * w.dim(0) * g.colCols(), colElems = (long) g.colRows() * g.colCols();
        if (outElems > Integer.MAX_VALUE || colElems > Integer.MAX_VALUE) {
            throw new ShapeException("conv2d: output or columns too large for one array: input " + x.describe()
                    + ", weight " + w.describe());
        }
    }

    /** Whether the columns of an image are the image itself (1x1 kernel, stride 1, no padding). */
    private static boolean identityColumns(ConvGeometry g) {
        return g.kernelH() == 1 && g.kernelW() == 1 && g.strideH() == 1 && g.strideW() == 1 && g.padH() == 0
                && g.padW() == 0;
    }

    /** The convolution image by image; with {@code relu}, each image's output is rectified while in cache. */
    private static Tensor conv2dForward(Tensor x, Tensor w, Tensor b, ConvGeometry g, boolean relu) {
        Backend be = Backends.current();
        Tensor xc = x.contiguousData(), wc = w.contiguousData();
        int n = x.dim(0), o = w.dim(0), rows = g.colRows(), l = g.colCols();
        Tensor out = Tensor.zeros(x.dtype(), n, o, g.outH(), g.outW());
        if (n == 0) {
            return out;
        }
        boolean f64 = x.dtype() == DType.F64;
        Object xs = data(xc), ws = data(wc), ys = data(out);
        boolean direct = identityColumns(g);
        Tensor bc = b == null ? null : b.contiguousData();
        GemmShape s = GemmShape.of(false, false, o, l, rows);
        double beta = b != null ? 1 : 0;
        Parallel.forRange(n, be.threads(), imageWork(1, o, rows, l), (lo, hi) -> {
            Object col = direct ? null : alloc(f64, rows * l);
            for (int i = lo; i < hi; i++) {
                int xOff = xc.offset() + i * g.imageSize();
                if (bc != null) { // the image's output rows start as their bias (in cache when the gemm adds onto them)
                    for (int r = 0; r < o; r++) {
                        int at = (i * o + r) * l;
                        if (f64) {
                            java.util.Arrays.fill((double[]) ys, at, at + l, bc.storage().doubles()[bc.offset() + r]);
                        } else {
                            java.util.Arrays.fill((float[]) ys, at, at + l, bc.storage().floats()[bc.offset() + r]);
                        }
                    }
                }
                if (direct) {
                    gemm(be, s, ws, wc.offset(), xs, xOff, beta, ys, i * o * l);
                } else {
                    im2col(be, g, xs, xOff, col);
                    gemm(be, s, ws, wc.offset(), col, 0, beta, ys, i * o * l);
                }
                if (relu) { // max(z, 0) as the ReLU kernels: NaN stays NaN, -0 becomes +0; no branch on the sign
                    int from = i * o * l, to = from + o * l;
                    if (f64) {
                        double[] y = (double[]) ys;
                        for (int j = from; j < to; j++) {
                            y[j] = Math.max(y[j], 0.0);
                        }
                    } else {
                        float[] y = (float[]) ys;
                        for (int j = from; j < to; j++) {
                            y[j] = Math.max(y[j], 0f);
                        }
                    }
                }
            }
        });
        return out;
    }

    private static Tensor[] conv2dBackward(Tensor gy, Tensor x, Tensor w, Tensor b, ConvGeometry g) {
        boolean needX = x.requiresGrad(), needW = w.requiresGrad(), needB = b != null && b.requiresGrad();
        int n = x.dim(0), o = w.dim(0), rows = g.colRows(), l = g.colCols();
        if (Autograd.isRecording()) {
            // differentiable composite form (second and higher derivatives)
            Tensor gy3 = Ops.reshape(gy, Shape.of(n, o, l));
            Tensor wm = Ops.reshape(w, Shape.of(o, rows));
            Tensor gx = null, gw = null, gb = null;
            if (needW) {
                Tensor cols = Ops.im2col(x, g);                                           // [N, rows, L]
                Tensor per = Ops.matmul(gy3, Ops.transpose(cols, -1, -2));               // [N, O, rows]
                gw = Ops.reshape(Ops.sum(per, new int[] {0}, false), w.shape());
            }
            if (needX) {
                gx = Ops.col2im(Ops.matmul(Ops.transpose(wm, 0, 1), gy3), g);             // [N, C, H, W]
            }
            if (needB) {
                gb = Ops.sum(gy3, new int[] {0, 2}, false);
            }
            return b == null ? new Tensor[] {gx, gw} : new Tensor[] {gx, gw, gb};
        }
        Tensor gc = gy.contiguousData();
        Object gs = data(gc);
        int gOff = gc.offset();
        return fastBackward(x, w, b, g, (i, scratch) -> gOff + i * o * l, gs);
    }

    /** Where image i's output gradient {@code [O, L]} lies in the array {@code fastBackward} reads. */
    @FunctionalInterface
    private interface ImageGradient {
        /** Makes image i's gradient available (possibly writing it into {@code scratch}); returns its offset. */
        int at(int i, Object scratch);
    }

    /**
     * First-order conv2d backward, image by image: {@code gW^T += col_i gY_i^T}, {@code gX_i = col2im(W^T gY_i)}.
     * {@code gys} is the array image gradients are read from (a tensor's storage), or null for a scratch of
     * {@code [O, L]} per chunk of images that {@code gyAt} fills; the bias gradient is the sum of their rows.
     * Chunks of images run on the backend's threads (each with its own scratch and accumulators).
     */
    private static Tensor[] fastBackward(Tensor x, Tensor w, Tensor b, ConvGeometry g, ImageGradient gyAt, Object gys) {
        boolean needX = x.requiresGrad(), needW = w.requiresGrad(), needB = b != null && b.requiresGrad();
        int n = x.dim(0), o = w.dim(0), rows = g.colRows(), l = g.colCols();
        Backend be = Backends.current();
        boolean f64 = x.dtype() == DType.F64;
        Tensor xc = x.contiguousData(), wc = w.contiguousData();
        Object xs = data(xc), ws = data(wc);
        Tensor gx = needX ? Tensor.zeros(x.dtype(), x.shape()) : null;
        Tensor gw = needW ? Tensor.zeros(w.dtype(), w.shape()) : null;
        Tensor gb = needB ? Tensor.zeros(b.dtype(), b.shape()) : null;
        if (!(needW || needX || needB)) {
            return b == null ? new Tensor[] {gx, gw} : new Tensor[] {gx, gw, gb};
        }
        boolean direct = identityColumns(g);
        // gW^T += col_i (rows x L) * gY_i^T (L x O): packing the transposed operand is cheaper with O < rows
        GemmShape sw = GemmShape.of(false, true, rows, o, l);
        GemmShape sx = GemmShape.of(true, false, rows, l, o);  // dcol = W^T (rows x O) * gY_i (O x L)
        Object gwt = needW ? alloc(f64, rows * o) : null, gbs = needB ? alloc(f64, o) : null, lock = new Object();
        Parallel.forRange(n, be.threads(), imageWork(2, o, rows, l), (lo, hi) -> {
            // per chunk: one scratch matrix for the image's columns, then for its column gradient (half the cache
            // footprint), the image gradient's scratch if the caller fills one, and private accumulators
            Object col = (needW || needX) && !direct ? alloc(f64, rows * l) : null, dcol = col;
            Object gsrc = gys != null ? gys : alloc(f64, o * l);
            Object gwtLocal = needW ? alloc(f64, rows * o) : null, gbLocal = needB ? alloc(f64, o) : null;
            Object rs = needB ? alloc(f64, o) : null;
            for (int i = lo; i < hi; i++) {
                int xOff = xc.offset() + i * g.imageSize(), yOff = gyAt.at(i, gsrc);
                if (needB) { // row sums of the image's gradient [O, L]
                    if (f64) {
                        be.sumAxis((double[]) gsrc, yOff, o, l, 1, (double[]) rs, 0);
                    } else {
                        be.sumAxis((float[]) gsrc, yOff, o, l, 1, (float[]) rs, 0);
                    }
                    addInto(rs, gbLocal);
                }
                if (needW) {
                    if (direct) {
                        gemm(be, sw, xs, xOff, gsrc, yOff, 1, gwtLocal, 0);
                    } else {
                        im2col(be, g, xs, xOff, col);
                        gemm(be, sw, col, 0, gsrc, yOff, 1, gwtLocal, 0);
                    }
                }
                if (needX) {
                    if (direct) {
                        gemm(be, sx, ws, wc.offset(), gsrc, yOff, 0, data(gx), i * g.imageSize());
                    } else {
                        gemm(be, sx, ws, wc.offset(), gsrc, yOff, 0, dcol, 0);
                        col2im(be, g, dcol, data(gx), i * g.imageSize());
                    }
                }
            }
            synchronized (lock) {
                if (needW) {
                    addInto(gwtLocal, gwt);
                }
                if (needB) {
                    addInto(gbLocal, gbs);
                }
            }
        });
        if (needW) {
            transpose(gwt, rows, o, data(gw));
        }
        if (needB) {
            addInto(gbs, data(gb));
        }
        return b == null ? new Tensor[] {gx, gw} : new Tensor[] {gx, gw, gb};
    }

    /**
     * Work of one image's share of a conv pass ({@code products} gemms of {@code 2 o rows l} flops each) in the
     * scalar-flop units of {@link Parallel#forRange}; native and vector gemms run ~20x faster than its scalar rate.
     */
    private static double imageWork(int products, int o, int rows, int l) {
        return products * 2.0 * o * rows * l / 20;
    }

    /** {@code dst[i] += src[i]} over all of {@code src}. */
    private static void addInto(Object src, Object dst) {
        if (src instanceof double[] s) {
            double[] d = (double[]) dst;
            for (int i = 0; i < s.length; i++) {
                d[i] += s[i];
            }
        } else {
            float[] s = (float[]) src, d = (float[]) dst;
            for (int i = 0; i < s.length; i++) {
                d[i] += s[i];
            }
        }
    }

    // ------------------------------------------------------------------------------------------ conv2d + ReLU

    /**
     * {@code relu(conv2d(x, w, b, g))} with the ReLU applied to each image's output while it is in cache
     * ({@code relu(z) = z > 0 ? z : 0}, {@code relu'(z) = z > 0 ? 1 : 0}, as {@link Ops#activation}); the backward
     * pass masks each image's gradient in a scratch read by the conv backward at once. Same values and gradients
     * as the two ops in a row (the createGraph backward is {@link Ops#where} on the mask, then the composite conv
     * backward).
     */
    public static Tensor conv2dRelu(Tensor x, Tensor w, Tensor b, ConvGeometry g) {
        checkConv(x, w, b, g);
        Tensor out = conv2dForward(x, w, b, g, true);
        boolean f64 = x.dtype() == DType.F64;
        int per = w.dim(0) * g.colCols();
        Tensor[] inputs = b == null ? new Tensor[] {x, w} : new Tensor[] {x, w, b};
        return Ops.record("conv2dRelu", out, gy -> {
            if (Autograd.isRecording()) { // gradient through the (constant) mask, then conv2d's rule
                Tensor mask = Kernels.compare(Kernels.Cmp.GT, out, Ops.constant(out, 0.0));
                return conv2dBackward(Ops.where(mask, gy, Ops.constant(gy, 0.0)), x, w, b, g);
            }
            Tensor gc = gy.contiguousData();
            int gOff = gc.offset();
            return fastBackward(x, w, b, g, (i, scratch) -> {
                int at = i * per;
                // y is +0 or positive, so y > 0 iff its bits are non-zero: a bit mask instead of a branch
                if (f64) {
                    double[] d = (double[]) scratch, src = gc.storage().doubles(), y = out.storage().doubles();
                    for (int j = 0; j < per; j++) {
                        long m = (-Double.doubleToRawLongBits(y[at + j])) >> 63;
                        d[j] = Double.longBitsToDouble(Double.doubleToRawLongBits(src[gOff + at + j]) & m);
                    }
                } else {
                    float[] d = (float[]) scratch, src = gc.storage().floats(), y = out.storage().floats();
                    for (int j = 0; j < per; j++) {
                        int m = (-Float.floatToRawIntBits(y[at + j])) >> 31;
                        d[j] = Float.intBitsToFloat(Float.floatToRawIntBits(src[gOff + at + j]) & m);
                    }
                }
                return 0;
            }, null);
        }, inputs);
    }

    // ------------------------------------------------------------------------------------------ conv2d + max pooling

    /**
     * {@code maxPool2d(conv2d(x, w, b, g), k, stride)} without storing the convolution's output: each image's
     * output is pooled while it is in cache, and the backward pass routes the pooled gradient into a per-image
     * scratch that the convolution's backward reads at once. Same values and gradients as the two ops in a row
     * (the createGraph backward is written with {@link Ops#scatterAdd} and the composite conv2d backward).
     */
    public static Tensor conv2dMaxPool(Tensor x, Tensor w, Tensor b, ConvGeometry g, int k, int stride) {
        checkConv(x, w, b, g);
        if (k <= 0 || stride <= 0) {
            throw new IllegalArgumentException("conv2d+maxpool2d: kernel and stride must be positive, got " + k + ", " + stride);
        }
        if (g.outH() < k || g.outW() < k) {
            throw new ShapeException("conv2d+maxpool2d: window " + k + " larger than the convolution's output "
                    + g.outH() + "x" + g.outW() + " of input " + x.describe());
        }
        Backend be = Backends.current();
        Tensor xc = x.contiguousData(), wc = w.contiguousData();
        int n = x.dim(0), o = w.dim(0), rows = g.colRows(), l = g.colCols();
        Pool p = new Pool(o, g.outH(), g.outW(), k, stride);
        int per = o * p.oh * p.ow;
        Tensor out = Tensor.zeros(x.dtype(), n, o, p.oh, p.ow);
        int[] arg = new int[n * per];
        boolean f64 = x.dtype() == DType.F64;
        Object xs = data(xc), ws = data(wc), ys = data(out);
        boolean direct = identityColumns(g);
        Tensor bc = b == null ? null : b.contiguousData();
        GemmShape s = GemmShape.of(false, false, o, l, rows);
        Parallel.forRange(n, be.threads(), imageWork(1, o, rows, l), (lo, hi) -> {
            Object col = direct ? null : alloc(f64, rows * l), z = alloc(f64, o * l);
            for (int i = lo; i < hi; i++) {
                int xOff = xc.offset() + i * g.imageSize();
                for (int r = 0; r < o; r++) {
                    if (f64) {
                        java.util.Arrays.fill((double[]) z, r * l, (r + 1) * l, bc == null ? 0 : bc.storage().doubles()[bc.offset() + r]);
                    } else {
                        java.util.Arrays.fill((float[]) z, r * l, (r + 1) * l, bc == null ? 0 : bc.storage().floats()[bc.offset() + r]);
                    }
                }
                if (direct) {
                    gemm(be, s, ws, wc.offset(), xs, xOff, 1, z, 0);
                } else {
                    im2col(be, g, xs, xOff, col);
                    gemm(be, s, ws, wc.offset(), col, 0, 1, z, 0);
                }
                if (f64) {
                    p.maxF64((double[]) z, 0, (double[]) ys, i * per);
                    p.argF64((double[]) z, 0, (double[]) ys, i * per, arg);
                } else {
                    p.maxF32((float[]) z, 0, (float[]) ys, i * per);
                    p.argF32((float[]) z, 0, (float[]) ys, i * per, arg);
                }
            }
        });
        Tensor[] inputs = b == null ? new Tensor[] {x, w} : new Tensor[] {x, w, b};
        return Ops.record("conv2dMaxPool", out, gy -> {
            if (Autograd.isRecording()) { // the pooled gradient scattered to the conv output, then conv2d's rule
                Index idx = new Index(Shape.of(n * o, p.oh * p.ow), arg);
                Tensor gz = Ops.reshape(Ops.scatterAdd(Tensor.zeros(x.dtype(), n * o, l), 1, idx, Ops.reshape(gy, idx.shape())),
                        Shape.of(n, o, g.outH(), g.outW()));
                return conv2dBackward(gz, x, w, b, g);
            }
            Tensor gc = gy.contiguousData();
            int gOff = gc.offset(), pl = p.oh * p.ow;
            return fastBackward(x, w, b, g, (i, scratch) -> {
                int at = i * per;
                if (f64) {
                    double[] d = (double[]) scratch, src = gc.storage().doubles();
                    java.util.Arrays.fill(d, 0.0);
                    for (int r = 0; r < o; r++) {
                        for (int j = 0; j < pl; j++, at++) {
                            d[r * l + arg[at]] += src[gOff + at];
                        }
                    }
                } else {
                    float[] d = (float[]) scratch, src = gc.storage().floats();
                    java.util.Arrays.fill(d, 0f);
                    for (int r = 0; r < o; r++) {
                        for (int j = 0; j < pl; j++, at++) {
                            d[r * l + arg[at]] += src[gOff + at];
                        }
                    }
                }
                return 0;
            }, null);
        }, inputs);
    }

    // ------------------------------------------------------------------------------------------ max pooling

    /**
     * Max pooling of {@code x [N, C, H, W]} over {@code k x k} windows with a stride, no padding, giving
     * {@code [N, C, outH, outW]}. The gradient goes to the first maximal element of each window in row-major
     * window order (the same element as {@link Ops#max} over the window's im2col column picks); a window holding
     * a NaN gives NaN and routes its gradient to the first NaN. The forward pass keeps only the maxima; the
     * backward pass finds the winners again.
     */
    public static Tensor maxPool2d(Tensor x, int k, int stride) {
        if (x.dtype() != DType.F32 && x.dtype() != DType.F64) {
            throw new ShapeException("maxpool2d: needs an f32 or f64 input, got " + x.describe());
        }
        if (x.rank() != 4) {
            throw new ShapeException("maxpool2d: input " + x.describe() + " must be [N, C, H, W]");
        }
        if (k <= 0 || stride <= 0) {
            throw new IllegalArgumentException("maxpool2d: kernel and stride must be positive, got " + k + ", " + stride);
        }
        if (x.dim(2) < k || x.dim(3) < k) {
            throw new ShapeException("maxpool2d: window " + k + " larger than input " + x.describe());
        }
        Pool p = new Pool(x.dim(0) * x.dim(1), x.dim(2), x.dim(3), k, stride);
        Tensor xc = x.contiguousData();
        Tensor out = Tensor.zeros(x.dtype(), x.dim(0), x.dim(1), p.oh, p.ow);
        if (x.dtype() == DType.F64) {
            p.maxF64(xc.storage().doubles(), xc.offset(), out.storage().doubles(), 0);
        } else {
            p.maxF32(xc.storage().floats(), xc.offset(), out.storage().floats(), 0);
        }
        return Ops.record("maxpool2d", out, gy -> new Tensor[] {maxPoolBackward(gy, xc, out, p, x.shape())}, x);
    }

    private static Tensor maxPoolBackward(Tensor gy, Tensor xc, Tensor y, Pool p, Shape xShape) {
        int per = p.oh * p.ow;
        if (!Autograd.isRecording() && p.k == 2 && p.stride == 2 && xc.dtype() == DType.F32) {
            Tensor gc = gy.contiguousData();
            Tensor gx = Tensor.zeros(xc.dtype(), xShape);
            p.routeF32(xc.storage().floats(), xc.offset(), y.storage().floats(), gc.storage().floats(), gc.offset(),
                    gx.storage().floats());
            return gx;
        }
        int[] arg = new int[p.planes * per];
        if (xc.dtype() == DType.F64) {
            p.argF64(xc.storage().doubles(), xc.offset(), y.storage().doubles(), 0, arg);
        } else {
            p.argF32(xc.storage().floats(), xc.offset(), y.storage().floats(), 0, arg);
        }
        if (Autograd.isRecording()) { // differentiable: scatterAdd's backward is a gather
            Index idx = new Index(Shape.of(p.planes, per), arg);
            Tensor src = Ops.reshape(gy, idx.shape());
            return Ops.reshape(Ops.scatterAdd(Tensor.zeros(xc.dtype(), p.planes, p.h * p.w), 1, idx, src), xShape);
        }
        Tensor gc = gy.contiguousData();
        Tensor gx = Tensor.zeros(xc.dtype(), xShape);
        int hw = p.h * p.w, so = gc.offset();
        if (xc.dtype() == DType.F64) {
            double[] s = gc.storage().doubles(), d = gx.storage().doubles();
            for (int q = 0; q < p.planes; q++) {
                for (int j = 0; j < per; j++) {
                    d[q * hw + arg[q * per + j]] += s[so + q * per + j];
                }
            }
        } else {
            float[] s = gc.storage().floats(), d = gx.storage().floats();
            for (int q = 0; q < p.planes; q++) {
                for (int j = 0; j < per; j++) {
                    d[q * hw + arg[q * per + j]] += s[so + q * per + j];
                }
            }
        }
        return gx;
    }

    /** Pooling geometry over {@code planes} images of {@code h x w}; window maxima and their positions. */
    private record Pool(int planes, int h, int w, int k, int stride, int oh, int ow) {
        Pool(int planes, int h, int w, int k, int stride) {
            this(planes, h, w, k, stride, (h - k) / stride + 1, (w - k) / stride + 1);
        }

        void maxF32(float[] x, int xOff, float[] y, int yOff) {
            float[] v = new float[w];
            for (int p = 0; p < planes; p++) {
                int base = xOff + p * h * w, yb = yOff + p * oh * ow;
                for (int oy = 0; oy < oh; oy++) {
                    int r0 = base + oy * stride * w, yr = yb + oy * ow;
                    if (k == 2 && stride == 2) {
                        // vertical maxima (unit stride: vectorised by the JIT), then maxima of adjacent pairs
                        int r1 = r0 + w;
                        for (int j = 0; j < 2 * ow; j++) {
                            v[j] = Math.max(x[r0 + j], x[r1 + j]);
                        }
                        for (int ox = 0; ox < ow; ox++) {
                            y[yr + ox] = Math.max(v[2 * ox], v[2 * ox + 1]);
                        }
                        continue;
                    }
                    for (int ox = 0; ox < ow; ox++) {
                        float m = x[r0 + ox * stride];
                        for (int ki = 0; ki < k; ki++) {
                            int row = r0 + ki * w + ox * stride;
                            for (int kj = 0; kj < k; kj++) {
                                m = Math.max(m, x[row + kj]);
                            }
                        }
                        y[yr + ox] = m;
                    }
                }
            }
        }

        void maxF64(double[] x, int xOff, double[] y, int yOff) {
            for (int p = 0; p < planes; p++) {
                int base = xOff + p * h * w, yb = yOff + p * oh * ow;
                for (int oy = 0; oy < oh; oy++) {
                    int r0 = base + oy * stride * w, yr = yb + oy * ow;
                    for (int ox = 0; ox < ow; ox++) {
                        double m = x[r0 + ox * stride];
                        for (int ki = 0; ki < k; ki++) {
                            int row = r0 + ki * w + ox * stride;
                            for (int kj = 0; kj < k; kj++) {
                                m = Math.max(m, x[row + kj]);
                            }
                        }
                        y[yr + ox] = m;
                    }
                }
            }
        }

        /**
         * For 2x2 windows with stride 2 (disjoint): writes each window's gradient to its first maximal element,
         * without branches on the data (a window with a NaN maximum takes the general search).
         */
        void routeF32(float[] x, int xOff, float[] y, float[] g, int gOff, float[] gx) {
            for (int p = 0; p < planes; p++) {
                int base = p * h * w, yb = p * oh * ow;
                for (int oy = 0; oy < oh; oy++) {
                    int r0 = base + 2 * oy * w, r1 = r0 + w, yr = yb + oy * ow;
                    for (int ox = 0; ox < ow; ox++) {
                        int c = 2 * ox;
                        float m = y[yr + ox], gv = g[gOff + yr + ox];
                        float a0 = x[xOff + r0 + c], a1 = x[xOff + r0 + c + 1], a2 = x[xOff + r1 + c], a3 = x[xOff + r1 + c + 1];
                        // index of the winner by integer selects (compiled to conditional moves), then bit masks
                        int at = a2 == m ? 2 : 3;
                        at = a1 == m ? 1 : at;
                        at = a0 == m ? 0 : at;
                        if (m != m) { // NaN window: the first NaN wins
                            at = a2 != a2 ? 2 : 3;
                            at = a1 != a1 ? 1 : at;
                            at = a0 != a0 ? 0 : at;
                        }
                        int bits = Float.floatToRawIntBits(gv);
                        gx[r0 + c] = Float.intBitsToFloat(bits & (((at ^ 0) - 1) >> 31));
                        gx[r0 + c + 1] = Float.intBitsToFloat(bits & (((at ^ 1) - 1) >> 31));
                        gx[r1 + c] = Float.intBitsToFloat(bits & (((at ^ 2) - 1) >> 31));
                        gx[r1 + c + 1] = Float.intBitsToFloat(bits & (((at ^ 3) - 1) >> 31));
                    }
                }
            }
        }

        /** {@link #argF32} for disjoint 2x2 windows, by integer selects instead of branches on the data. */
        private void arg2x2F32(float[] x, int xOff, float[] y, int yOff, int[] arg) {
            for (int p = 0; p < planes; p++) {
                int base = xOff + p * h * w, yb = yOff + p * oh * ow;
                for (int oy = 0; oy < oh; oy++) {
                    int r0 = 2 * oy * w, yr = yb + oy * ow;
                    for (int ox = 0; ox < ow; ox++) {
                        int c = r0 + 2 * ox;
                        float m = y[yr + ox];
                        float a0 = x[base + c], a1 = x[base + c + 1], a2 = x[base + c + w], a3 = x[base + c + w + 1];
                        int at = a2 == m ? c + w : c + w + 1;
                        at = a1 == m ? c + 1 : at;
                        at = a0 == m ? c : at;
                        if (m != m) { // NaN window: the first NaN wins
                            at = a2 != a2 ? c + w : c + w + 1;
                            at = a1 != a1 ? c + 1 : at;
                            at = a0 != a0 ? c : at;
                        }
                        arg[yr + ox] = at;
                    }
                }
            }
        }

        /** Position within its plane of the first element of each window equal to the window's maximum. */
        void argF32(float[] x, int xOff, float[] y, int yOff, int[] arg) {
            if (k == 2 && stride == 2) {
                arg2x2F32(x, xOff, y, yOff, arg);
                return;
            }
            for (int p = 0; p < planes; p++) {
                int base = xOff + p * h * w, yb = yOff + p * oh * ow;
                for (int oy = 0; oy < oh; oy++) {
                    for (int ox = 0; ox < ow; ox++) {
                        float m = y[yb + oy * ow + ox];
                        boolean nan = m != m;
                        int at = -1;
                        for (int ki = 0; ki < k && at < 0; ki++) {
                            int pos = (oy * stride + ki) * w + ox * stride;
                            for (int kj = 0; kj < k; kj++) {
                                float v = x[base + pos + kj];
                                if (v == m || (nan && v != v)) {
                                    at = pos + kj;
                                    break;
                                }
                            }
                        }
                        arg[yb + oy * ow + ox] = at;
                    }
                }
            }
        }

        void argF64(double[] x, int xOff, double[] y, int yOff, int[] arg) {
            for (int p = 0; p < planes; p++) {
                int base = xOff + p * h * w, yb = yOff + p * oh * ow;
                for (int oy = 0; oy < oh; oy++) {
                    for (int ox = 0; ox < ow; ox++) {
                        double m = y[yb + oy * ow + ox];
                        boolean nan = m != m;
                        int at = -1;
                        for (int ki = 0; ki < k && at < 0; ki++) {
                            int pos = (oy * stride + ki) * w + ox * stride;
                            for (int kj = 0; kj < k; kj++) {
                                double v = x[base + pos + kj];
                                if (v == m || (nan && v != v)) {
                                    at = pos + kj;
                                    break;
                                }
                            }
                        }
                        arg[yb + oy * ow + ox] = at;
                    }
                }
            }
        }
    }

    // ------------------------------------------------------------------------------------------ dtype dispatch

    private static Object data(Tensor t) {
        return t.dtype() == DType.F64 ? t.storage().doubles() : t.storage().floats();
    }

    private static Object alloc(boolean f64, int len) {
        return f64 ? new double[len] : new float[len];
    }

    private static void gemm(Backend be, GemmShape s, Object a, int aOff, Object b, int bOff, double beta, Object c,
                             int cOff) {
        if (c instanceof double[] cd) {
            be.dgemm(s, 1.0, (double[]) a, aOff, (double[]) b, bOff, beta, cd, cOff);
        } else {
            be.sgemm(s, 1f, (float[]) a, aOff, (float[]) b, bOff, (float) beta, (float[]) c, cOff);
        }
    }

    /** {@code dst[c][r] = src[r][c]} for {@code src} of {@code rows x cols}. */
    private static void transpose(Object src, int rows, int cols, Object dst) {
        if (src instanceof double[] s) {
            double[] d = (double[]) dst;
            for (int r = 0; r < rows; r++) {
                for (int c = 0; c < cols; c++) {
                    d[c * rows + r] = s[r * cols + c];
                }
            }
        } else {
            float[] s = (float[]) src, d = (float[]) dst;
            for (int r = 0; r < rows; r++) {
                for (int c = 0; c < cols; c++) {
                    d[c * rows + r] = s[r * cols + c];
                }
            }
        }
    }

    private static void im2col(Backend be, ConvGeometry g, Object x, int xOff, Object col) {
        if (col instanceof double[] cd) {
            be.im2col(g, (double[]) x, xOff, cd, 0);
        } else {
            be.im2col(g, (float[]) x, xOff, (float[]) col, 0);
        }
    }

    private static void col2im(Backend be, ConvGeometry g, Object col, Object x, int xOff) {
        if (col instanceof double[] cd) {
            be.col2im(g, cd, 0, (double[]) x, xOff);
        } else {
            be.col2im(g, (float[]) col, 0, (float[]) x, xOff);
        }
    }
}
