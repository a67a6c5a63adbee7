package dev.sprout.tensor;

import dev.sprout.backend.Activation;
import dev.sprout.backend.Backend;
import dev.sprout.backend.Backends;
import dev.sprout.backend.ConvGeometry;
import dev.sprout.backend.GemmShape;

import java.util.Arrays;

/**
 * The raw computations behind tensor operations: no autograd, new contiguous results (unless stated), shapes
 * and dtypes checked before any work with messages that name the op and its operands. Kernel-sized work
 * (gemm, activations, axis sums) goes to the current {@link Backend}; broadcasting, views and indexing are
 * done here.
 */
public final class Kernels {
    private Kernels() {
    }

    /** Pointwise functions of one operand (besides the {@link Activation}s). */
    public enum Unary { NEG, EXP, LOG, SQRT, ABS, SIGN, SIN, COS, POW, SCALE }

    /** Pointwise functions of two broadcast operands. */
    public enum Binary { ADD, SUB, MUL, DIV }

    /** Comparisons; results are 1 where true, else 0, in the operands' dtype. */
    public enum Cmp { GT, LT, GE, LE, EQ }

    private static Backend backend() {
        return Backends.current();
    }

    // ------------------------------------------------------------------------------------------ checks

    static void checkSame(String op, Tensor a, Tensor b) {
        checkDType(op, a, b);
        if (!a.shape().equals(b.shape())) {
            throw new ShapeException(op + ": shapes differ: " + a.describe() + " vs " + b.describe());
        }
    }

    public static void checkDType(String op, Tensor a, Tensor b) {
        if (a.dtype() != b.dtype()) {
            throw new ShapeException(op + ": dtypes differ: " + a.describe() + " vs " + b.describe()
                    + " (convert one with .to(DType))");
        }
    }

    static void checkReal(String op, Tensor t) {
        if (t.dtype().isComplex()) {
            throw new ShapeException(op + ": not defined for complex tensor " + t.describe());
        }
    }

    // ------------------------------------------------------------------------------------------ copies

    /** A contiguous copy of any tensor or view. */
    public static Tensor copy(Tensor src) {
        Tensor out = Tensor.zeros(src.dtype(), src.shape());
        assign(out, src);
        return out;
    }

    /** Edge of the square tiles of {@link #assignTransposed}: 2 x 32 x 32 floats stay in L1 (16 KiB). */
    private static final int TRANSPOSE_TILE = 32;

    /**
     * A copy whose source is column-major where the destination is row-major (after merging axes): the innermost
     * destination row would read the source with a large stride, one cache line (and, past 4 KiB strides, one TLB
     * entry) per element. Square tiles read and write lines that stay in L1 instead. Returns false (nothing done)
     * for any other layout.
     */
    private static boolean assignTransposed(Tensor dst, Tensor src, int[] ds, int[] ss) {
        int[][] m = new int[2][];
        Shape sh = Strided.coalesce(dst.shape(), new int[][] {ds, ss}, m);
        int r = sh.rank();
        if (r < 2 || m[0][r - 1] != 1 || m[1][r - 2] != 1 || m[1][r - 1] <= 1 || sh.numel() < 2 * TRANSPOSE_TILE * TRANSPOSE_TILE) {
            return false;
        }
        int rows = sh.dim(r - 2), cols = sh.dim(r - 1), dRow = m[0][r - 2], sCol = m[1][r - 1];
        boolean f32 = dst.dtype() == DType.F32;
        float[] df = f32 ? dst.storage().floats() : null, sf = f32 ? src.storage().floats() : null;
        double[] dd = f32 ? null : dst.storage().doubles(), sd = f32 ? null : src.storage().doubles();
        int[] outer = new int[Math.max(1, r - 2)];
        int[][] os = {new int[outer.length], new int[outer.length]};
        outer[0] = 1;
        for (int i = 0; i < r - 2; i++) {
            outer[i] = sh.dim(i);
            os[0][i] = m[0][i];
            os[1][i] = m[1][i];
        }
        Strided.forEachRow(Shape.of(outer), os, new int[] {dst.offset(), src.offset()}, (b, n, st) -> {
            for (int q = 0; q < n; q++) {
                int d0 = b[0] + q * st[0], s0 = b[1] + q * st[1];
                for (int i0 = 0; i0 < rows; i0 += TRANSPOSE_TILE) {
                    int i1 = Math.min(rows, i0 + TRANSPOSE_TILE);
                    for (int j0 = 0; j0 < cols; j0 += TRANSPOSE_TILE) {
                        int j1 = Math.min(cols, j0 + TRANSPOSE_TILE);
                        for (int i = i0; i < i1; i++) {
                            int di = d0 + i * dRow, si = s0 + i;
                            if (f32) {
                                for (int j = j0; j < j1; j++) {
                                    df[di + j] = sf[si + j * sCol];
                                }
                            } else {
                                for (int j = j0; j < j1; j++) {
                                    dd[di + j] = sd[si + j * sCol];
                                }
                            }
                        }
                    }
                }
            }
        });
        return true;
    }

    /** Copies {@code src} into {@code dst} elementwise (shapes equal or src broadcastable to dst; same dtype). */
    static void assign(Tensor dst, Tensor src) {
        int[] ds = dst.strides(), ss = Strided.broadcastStrides(src, dst.shape());
        if (dst.dtype() != DType.C64 && assignTransposed(dst, src, ds, ss)) {
            return;
        }
        switch (dst.dtype()) {
            case F32 -> {
                float[] d = dst.storage().floats(), s = src.storage().floats();
                Strided.forEachRow(dst.shape(), new int[][] {ds, ss}, new int[] {dst.offset(), src.offset()}, (b, n, st) -> {
                    int di = st[0], si = st[1];
                    if (di == 1 && si == 1) {
                        System.arraycopy(s, b[1], d, b[0], n);
                    } else {
                        for (int j = 0; j < n; j++) {
                            d[b[0] + j * di] = s[b[1] + j * si];
                        }
                    }
                });
            }
            case F64 -> {
                double[] d = dst.storage().doubles(), s = src.storage().doubles();
                Strided.forEachRow(dst.shape(), new int[][] {ds, ss}, new int[] {dst.offset(), src.offset()}, (b, n, st) -> {
                    int di = st[0], si = st[1];
                    if (di == 1 && si == 1) {
                        System.arraycopy(s, b[1], d, b[0], n);
                    } else {
                        for (int j = 0; j < n; j++) {
                            d[b[0] + j * di] = s[b[1] + j * si];
                        }
                    }
                });
            }
            case C64 -> {
                float[] d = dst.storage().floats(), s = src.storage().floats();
                Strided.forEachRow(dst.shape(), new int[][] {ds, ss}, new int[] {dst.offset(), src.offset()}, (b, n, st) -> {
                    int di = st[0], si = st[1];
                    for (int j = 0; j < n; j++) {
                        int p = 2 * (b[0] + j * di), q = 2 * (b[1] + j * si);
                        d[p] = s[q];
                        d[p + 1] = s[q + 1];
                    }
                });
            }
        }
    }

    static void fill(Tensor t, double v) {
        int[] ts = t.strides();
        switch (t.dtype()) {
            case F32 -> {
                float[] d = t.storage().floats();
                float f = (float) v;
                Strided.forEachRow(t.shape(), new int[][] {ts}, new int[] {t.offset()}, (b, n, st) -> {
                    if (st[0] == 1) {
                        java.util.Arrays.fill(d, b[0], b[0] + n, f);
                    } else {
                        for (int j = 0; j < n; j++) {
                            d[b[0] + j * st[0]] = f;
                        }
                    }
                });
            }
            case F64 -> {
                double[] d = t.storage().doubles();
                Strided.forEachRow(t.shape(), new int[][] {ts}, new int[] {t.offset()}, (b, n, st) -> {
                    for (int j = 0; j < n; j++) {
                        d[b[0] + j * st[0]] = v;
                    }
                });
            }
            case C64 -> {
                float[] d = t.storage().floats();
                Strided.forEachRow(t.shape(), new int[][] {ts}, new int[] {t.offset()}, (b, n, st) -> {
                    for (int j = 0; j < n; j++) {
                        int p = 2 * (b[0] + j * st[0]);
                        d[p] = (float) v;
                        d[p + 1] = 0f;
                    }
                });
            }
        }
    }

    /** {@code y += alpha * x} in place. */
    static void axpy(Tensor y, Tensor x, double alpha) {
        int[] ys = y.strides(), xs = x.strides();
        int slots = y.dtype().slots();
        Strided.forEachRow(y.shape(), new int[][] {ys, xs}, new int[] {y.offset(), x.offset()}, (b, n, st) -> {
            int yi = st[0], xi = st[1];
            if (y.dtype() == DType.F64) {
                double[] yd = y.storage().doubles(), xd = x.storage().doubles();
                for (int j = 0; j < n; j++) {
                    yd[b[0] + j * yi] += alpha * xd[b[1] + j * xi];
                }
            } else {
                float[] yd = y.storage().floats(), xd = x.storage().floats();
                float a = (float) alpha;
                for (int j = 0; j < n; j++) {
                    for (int s = 0; s < slots; s++) {
                        yd[slots * (b[0] + j * yi) + s] += a * xd[slots * (b[1] + j * xi) + s];
                    }
                }
            }
        });
    }

    static void scaleInPlace(Tensor t, double alpha) {
        int[] ts = t.strides();
        int slots = t.dtype().slots();
        Strided.forEachRow(t.shape(), new int[][] {ts}, new int[] {t.offset()}, (b, n, st) -> {
            int ti = st[0];
            if (t.dtype() == DType.F64) {
                double[] d = t.storage().doubles();
                for (int j = 0; j < n; j++) {
                    d[b[0] + j * ti] *= alpha;
                }
            } else {
                float[] d = t.storage().floats();
                for (int j = 0; j < n; j++) {
                    for (int s = 0; s < slots; s++) {
                        d[slots * (b[0] + j * ti) + s] *= (float) alpha;
                    }
                }
            }
        });
    }

    /** A copy in another dtype; complex to real keeps the real part, real to complex sets imaginary parts to 0. */
    public static Tensor convert(Tensor t, DType dt) {
        if (t.dtype() == dt) {
            return copy(t);
        }
        Tensor out = Tensor.zeros(dt, t.shape());
        if (dt == DType.C64) {
            float[] o = out.storage().floats();
            double[] v = t.toDoubleArray();
            for (int i = 0; i < v.length; i++) {
                o[2 * i] = (float) v[i];
            }
        } else if (dt == DType.F64) {
            double[] v = t.toDoubleArray();
            System.arraycopy(v, 0, out.storage().doubles(), 0, v.length);
        } else {
            float[] v = t.toFloatArray();
            System.arraycopy(v, 0, out.storage().floats(), 0, v.length);
        }
        return out;
    }

    // ------------------------------------------------------------------------------------------ pointwise

    /** {@code f(x)} elementwise; {@code p} is the exponent of POW and the factor of SCALE. */
    public static Tensor unary(Unary f, Tensor x, double p) {
        if (x.dtype().isComplex() && f != Unary.NEG && f != Unary.SCALE) {
            throw new ShapeException(f.name().toLowerCase() + ": not defined for complex tensor " + x.describe());
        }
        Tensor c = x.contiguousData();
        Tensor out = Tensor.zeros(x.dtype(), x.shape());
        int n = x.numel() * x.dtype().slots();
        if (x.dtype() == DType.F64) {
            double[] a = c.storage().doubles(), o = out.storage().doubles();
            int off = c.offset();
            switch (f) {
                case NEG -> { for (int i = 0; i < n; i++) o[i] = -a[off + i]; }
                case SCALE -> { for (int i = 0; i < n; i++) o[i] = a[off + i] * p; }
                case EXP -> { for (int i = 0; i < n; i++) o[i] = Math.exp(a[off + i]); }
                default -> { for (int i = 0; i < n; i++) o[i] = apply(f, a[off + i], p); }
            }
        } else {
            float[] a = c.storage().floats(), o = out.storage().floats();
            int off = c.offset() * x.dtype().slots();
            switch (f) {
                case NEG -> { for (int i = 0; i < n; i++) o[i] = -a[off + i]; }
                // float arithmetic: a double product per element costs a conversion each way (~6 ns/element here);
                // the factor rounded to f32 first (exact for the usual 0.5, 2, -1, 1/2^k)
                case SCALE -> {
                    float s = (float) p;
                    for (int i = 0; i < n; i++) o[i] = a[off + i] * s;
                }
                case ABS -> { for (int i = 0; i < n; i++) o[i] = Math.abs(a[off + i]); }
                case EXP -> { for (int i = 0; i < n; i++) o[i] = (float) Math.exp(a[off + i]); }
                default -> { for (int i = 0; i < n; i++) o[i] = (float) apply(f, a[off + i], p); }
            }
        }
        return out;
    }

    private static double apply(Unary f, double v, double p) {
        return switch (f) {
            case NEG -> -v;
            case EXP -> Math.exp(v);
            case LOG -> Math.log(v);
            case SQRT -> Math.sqrt(v);
            case ABS -> Math.abs(v);
            case SIGN -> Math.signum(v);
            case SIN -> Math.sin(v);
            case COS -> Math.cos(v);
            case POW -> p == 2 ? v * v : Math.pow(v, p);
            case SCALE -> v * p;
        };
    }

    /** {@code sigma^(order)(x)} through the backend's activation kernel. */
    public static Tensor activation(Activation f, int order, double beta, Tensor x) {
        checkReal(f.name().toLowerCase(), x);
        Tensor c = x.contiguousData();
        Tensor out = Tensor.zeros(x.dtype(), x.shape());
        if (x.dtype() == DType.F64) {
            backend().activation(f, order, beta, c.storage().doubles(), c.offset(), out.storage().doubles(), 0, x.numel());
        } else {
            backend().activation(f, order, (float) beta, c.storage().floats(), c.offset(), out.storage().floats(), 0,
                    x.numel());
        }
        return out;
    }

    /** Rectifies a contiguous real tensor in place ({@code max(t, 0)}, the ReLU kernel of the backend); returns it. */
    public static Tensor reluInPlace(Tensor t) {
        checkReal("relu", t);
        if (!t.isContiguous()) {
            throw new IllegalArgumentException("reluInPlace: " + t.describe() + " is not contiguous");
        }
        if (t.dtype() == DType.F64) {
            double[] d = t.storage().doubles();
            backend().activation(Activation.RELU, 0, 0.0, d, t.offset(), d, t.offset(), t.numel());
        } else {
            float[] f = t.storage().floats();
            backend().activation(Activation.RELU, 0, 0f, f, t.offset(), f, t.offset(), t.numel());
        }
        return t;
    }

    /** {@code a op b} with broadcasting. */
    /**
     * A large column-major operand (a transposed view, as gradients of {@code W^T} are) copied row-major by the tiled
     * transpose first: read along output rows it would cost a cache line per element (~3 ns); the copy plus a
     * unit-stride pass costs about half. Other tensors are returned as they are.
     */
    private static Tensor rowMajor(Tensor t) {
        return columnMajor(t) ? copy(t) : t;
    }

    /** A large real matrix (batch) whose columns, not rows, are contiguous. */
    private static boolean columnMajor(Tensor t) {
        int r = t.rank();
        return r >= 2 && t.dtype() != DType.C64 && t.numel() >= 2 * TRANSPOSE_TILE * TRANSPOSE_TILE && t.dim(r - 1) > 1
                && t.dim(r - 2) > 1 && t.stride(r - 2) == 1 && t.stride(r - 1) != 1;
    }

    private static int[] lastTwoSwapped(int rank) {
        int[] order = new int[rank];
        for (int i = 0; i < rank; i++) {
            order[i] = i;
        }
        order[rank - 2] = rank - 1;
        order[rank - 1] = rank - 2;
        return order;
    }

    /**
     * {@code g * relu'(x)} (same shape and dtype; real), with {@code relu'(x) = 1} for {@code x > 0}, else 0: the ReLU
     * gradient rule with one output buffer. The derivative is evaluated into the output by the backend's activation
     * kernel, then multiplied by {@code g} in place (a branch-free, vectorised loop; a select on the sign of x per
     * element is not vectorised by the JIT and mispredicts on mixed signs). Same values as
     * {@code binary(MUL, g, activation(RELU, 1, x))}, including {@code inf * 0 = NaN}.
     */
    public static Tensor reluMask(Tensor g, Tensor x) {
        checkDType("reluMask", g, x);
        checkReal("reluMask", g);
        if (!g.shape().equals(x.shape())) {
            throw new ShapeException("reluMask: gradient " + g.describe() + " does not match input " + x.describe());
        }
        Tensor o = activation(Activation.RELU, 1, 0, x);
        Tensor gc = g.contiguousData();
        int n = o.numel(), go = gc.offset();
        if (g.dtype() == DType.F32) {
            float[] gs = gc.storage().floats(), z = o.storage().floats();
            if (go == 0) { // without the offset C2's vector loop is faster (see binaryUnitRow)
                for (int i = 0; i < n; i++) {
                    z[i] = gs[i] * z[i];
                }
            } else {
                for (int i = 0; i < n; i++) {
                    z[i] = gs[go + i] * z[i];
                }
            }
        } else {
            double[] gs = gc.storage().doubles(), z = o.storage().doubles();
            for (int i = 0; i < n; i++) {
                z[i] = gs[go + i] * z[i];
            }
        }
        return o;
    }

    public static Tensor binary(Binary op, Tensor left, Tensor right) {
        String name = op.name().toLowerCase();
        checkDType(name, left, right);
        if (left.shape().equals(right.shape()) && columnMajor(left) && columnMajor(right)) {
            // both transposed alike (gradients of W^T meeting at one node): work on the row-major transposes and
            // hand back the result in the operands' layout, so neither needs a transposing copy
            int[] swap = lastTwoSwapped(left.rank());
            return permuteView(binary(op, permuteView(left, swap), permuteView(right, swap)), swap);
        }
        Shape out = Shape.broadcast(name, left.shape(), right.shape());
        Tensor a = rowMajor(left), b = rowMajor(right);
        Tensor o = Tensor.zeros(a.dtype(), out);
        int[] as = Strided.broadcastStrides(a, out), bs = Strided.broadcastStrides(b, out), os = o.strides();
        int[][] strides = {as, bs, os};
        int[] offs = {a.offset(), b.offset(), 0};
        switch (a.dtype()) {
            case F32 -> {
                float[] x = a.storage().floats(), y = b.storage().floats(), z = o.storage().floats();
                Strided.forEachRow(out, strides, offs, (base, n, st) -> binaryRow(op, x, base[0], st[0], y, base[1], st[1], z, base[2], n));
            }
            case F64 -> {
                double[] x = a.storage().doubles(), y = b.storage().doubles(), z = o.storage().doubles();
                Strided.forEachRow(out, strides, offs, (base, n, st) -> binaryRow(op, x, base[0], st[0], y, base[1], st[1], z, base[2], n));
            }
            case C64 -> {
                float[] x = a.storage().floats(), y = b.storage().floats(), z = o.storage().floats();
                Strided.forEachRow(out, strides, offs, (base, n, st) -> complexRow(op, x, base[0], st[0], y, base[1], st[1], z, base[2], n));
            }
        }
        return o;
    }

    private static void binaryRow(Binary op, float[] x, int xo, int xs, float[] y, int yo, int ys, float[] z, int zo, int n) {
        if (xs == 1 && (ys == 1 || ys == 0)) {
            binaryUnitRow(op, x, xo, y, yo, ys, z, zo, n);
            return;
        }
        if (xs == 0 && ys == 1 && (op == Binary.ADD || op == Binary.MUL)) { // commutative: broadcast value first
            binaryUnitRow(op, y, yo, x, xo, 0, z, zo, n);
            return;
        }
        switch (op) {
            case ADD -> { for (int j = 0; j < n; j++) z[zo + j] = x[xo + j * xs] + y[yo + j * ys]; }
            case SUB -> { for (int j = 0; j < n; j++) z[zo + j] = x[xo + j * xs] - y[yo + j * ys]; }
            case MUL -> { for (int j = 0; j < n; j++) z[zo + j] = x[xo + j * xs] * y[yo + j * ys]; }
            case DIV -> { for (int j = 0; j < n; j++) z[zo + j] = x[xo + j * xs] / y[yo + j * ys]; }
        }
    }

    /**
     * {@link #binaryRow} with {@code x} unit-stride and {@code y} unit-stride or one broadcast value: loops with
     * constant strides, which the JIT vectorises (a row whose stride is a variable is not: ~3x slower on long rows).
     */
    private static void binaryUnitRow(Binary op, float[] x, int xo, float[] y, int yo, int ys, float[] z, int zo, int n) {
        if (ys == 0) {
            float c = y[yo];
            switch (op) {
                case ADD -> { for (int j = 0; j < n; j++) z[zo + j] = x[xo + j] + c; }
                case SUB -> { for (int j = 0; j < n; j++) z[zo + j] = x[xo + j] - c; }
                case MUL -> { for (int j = 0; j < n; j++) z[zo + j] = x[xo + j] * c; }
                case DIV -> { for (int j = 0; j < n; j++) z[zo + j] = x[xo + j] / c; }
            }
            return;
        }
        if ((xo | yo | zo) == 0) {
            // whole contiguous tensors: the same loops without offsets, which C2 compiles to faster vector code (a
            // 1M-element add: ~0.7 -> ~0.58 ms on this machine; the offset form's code is slower even at offset 0)
            switch (op) {
                case ADD -> { for (int j = 0; j < n; j++) z[j] = x[j] + y[j]; }
                case SUB -> { for (int j = 0; j < n; j++) z[j] = x[j] - y[j]; }
                case MUL -> { for (int j = 0; j < n; j++) z[j] = x[j] * y[j]; }
                case DIV -> { for (int j = 0; j < n; j++) z[j] = x[j] / y[j]; }
            }
            return;
        }
        switch (op) {
            case ADD -> { for (int j = 0; j < n; j++) z[zo + j] = x[xo + j] + y[yo + j]; }
            case SUB -> { for (int j = 0; j < n; j++) z[zo + j] = x[xo + j] - y[yo + j]; }
            case MUL -> { for (int j = 0; j < n; j++) z[zo + j] = x[xo + j] * y[yo + j]; }
            case DIV -> { for (int j = 0; j < n; j++) z[zo + j] = x[xo + j] / y[yo + j]; }
        }
    }

    private static void binaryRow(Binary op, double[] x, int xo, int xs, double[] y, int yo, int ys, double[] z, int zo, int n) {
        if (xs == 1 && (ys == 1 || ys == 0)) {
            binaryUnitRow(op, x, xo, y, yo, ys, z, zo, n);
            return;
        }
        if (xs == 0 && ys == 1 && (op == Binary.ADD || op == Binary.MUL)) { // commutative: broadcast value first
            binaryUnitRow(op, y, yo, x, xo, 0, z, zo, n);
            return;
        }
        switch (op) {
            case ADD -> { for (int j = 0; j < n; j++) z[zo + j] = x[xo + j * xs] + y[yo + j * ys]; }
            case SUB -> { for (int j = 0; j < n; j++) z[zo + j] = x[xo + j * xs] - y[yo + j * ys]; }
            case MUL -> { for (int j = 0; j < n; j++) z[zo + j] = x[xo + j * xs] * y[yo + j * ys]; }
            case DIV -> { for (int j = 0; j < n; j++) z[zo + j] = x[xo + j * xs] / y[yo + j * ys]; }
        }
    }

    /**
     * {@link #binaryRow} with {@code x} unit-stride and {@code y} unit-stride or one broadcast value: loops with
     * constant strides, which the JIT vectorises (a row whose stride is a variable is not: ~3x slower on long rows).
     */
    private static void binaryUnitRow(Binary op, double[] x, int xo, double[] y, int yo, int ys, double[] z, int zo, int n) {
        if (ys == 0) {
            double c = y[yo];
            switch (op) {
                case ADD -> { for (int j = 0; j < n; j++) z[zo + j] = x[xo + j] + c; }
                case SUB -> { for (int j = 0; j < n; j++) z[zo + j] = x[xo + j] - c; }
                case MUL -> { for (int j = 0; j < n; j++) z[zo + j] = x[xo + j] * c; }
                case DIV -> { for (int j = 0; j < n; j++) z[zo + j] = x[xo + j] / c; }
            }
            return;
        }
        switch (op) {
            case ADD -> { for (int j = 0; j < n; j++) z[zo + j] = x[xo + j] + y[yo + j]; }
            case SUB -> { for (int j = 0; j < n; j++) z[zo + j] = x[xo + j] - y[yo + j]; }
            case MUL -> { for (int j = 0; j < n; j++) z[zo + j] = x[xo + j] * y[yo + j]; }
            case DIV -> { for (int j = 0; j < n; j++) z[zo + j] = x[xo + j] / y[yo + j]; }
        }
    }

    private static void complexRow(Binary op, float[] x, int xo, int xs, float[] y, int yo, int ys, float[] z, int zo, int n) {
        for (int j = 0; j < n; j++) {
            int p = 2 * (xo + j * xs), q = 2 * (yo + j * ys), r = 2 * (zo + j);
            double ar = x[p], ai = x[p + 1], br = y[q], bi = y[q + 1];
            double re, im;
            switch (op) {
                case ADD -> { re = ar + br; im = ai + bi; }
                case SUB -> { re = ar - br; im = ai - bi; }
                case MUL -> { re = ar * br - ai * bi; im = ar * bi + ai * br; }
                default -> {
                    double d = br * br + bi * bi;
                    re = (ar * br + ai * bi) / d;
                    im = (ai * br - ar * bi) / d;
                }
            }
            z[r] = (float) re;
            z[r + 1] = (float) im;
        }
    }

    /** Elementwise comparison with broadcasting; 1 where true, 0 elsewhere. */
    public static Tensor compare(Cmp cmp, Tensor a, Tensor b) {
        String name = cmp.name().toLowerCase();
        checkDType(name, a, b);
        checkReal(name, a);
        Shape out = Shape.broadcast(name, a.shape(), b.shape());
        Tensor o = Tensor.zeros(a.dtype(), out);
        int[] as = Strided.broadcastStrides(a, out), bs = Strided.broadcastStrides(b, out);
        Strided.forEachRow(out, new int[][] {as, bs, o.strides()}, new int[] {a.offset(), b.offset(), 0}, (base, n, st) -> {
            int ai = st[0], bi = st[1];
            for (int j = 0; j < n; j++) {
                double x = readReal(a, base[0] + j * ai), y = readReal(b, base[1] + j * bi);
                boolean r = switch (cmp) {
                    case GT -> x > y;
                    case LT -> x < y;
                    case GE -> x >= y;
                    case LE -> x <= y;
                    case EQ -> x == y;
                };
                writeReal(o, base[2] + j, r ? 1 : 0);
            }
        });
        return o;
    }

    /** {@code cond != 0 ? a : b} elementwise with broadcasting of all three. */
    public static Tensor where(Tensor cond, Tensor a, Tensor b) {
        checkDType("where", a, b);
        checkReal("where", cond);
        Shape out = Shape.broadcast("where", Shape.broadcast("where", cond.shape(), a.shape()), b.shape());
        Tensor o = Tensor.zeros(a.dtype(), out);
        int[] cs = Strided.broadcastStrides(cond, out), as = Strided.broadcastStrides(a, out),
                bs = Strided.broadcastStrides(b, out);
        int slots = a.dtype().slots();
        Strided.forEachRow(out, new int[][] {cs, as, bs, o.strides()}, new int[] {cond.offset(), a.offset(), b.offset(), 0},
                (base, n, st) -> {
                    int ci = st[0], ai = st[1], bi = st[2];
                    for (int j = 0; j < n; j++) {
                        boolean c = readReal(cond, base[0] + j * ci) != 0;
                        Tensor src = c ? a : b;
                        int p = c ? base[1] + j * ai : base[2] + j * bi;
                        for (int s = 0; s < slots; s++) {
                            writeSlot(o, (base[3] + j) * slots + s, readSlot(src, p * slots + s));
                        }
                    }
                });
        return o;
    }

    static double readReal(Tensor t, int p) {
        return switch (t.dtype()) {
            case F32 -> t.storage().floats()[p];
            case F64 -> t.storage().doubles()[p];
            case C64 -> t.storage().floats()[2 * p];
        };
    }

    static void writeReal(Tensor t, int p, double v) {
        if (t.dtype() == DType.F64) {
            t.storage().doubles()[p] = v;
        } else {
            t.storage().floats()[p * t.dtype().slots()] = (float) v;
        }
    }

    private static double readSlot(Tensor t, int slot) {
        return t.dtype() == DType.F64 ? t.storage().doubles()[slot] : t.storage().floats()[slot];
    }

    private static void writeSlot(Tensor t, int slot, double v) {
        if (t.dtype() == DType.F64) {
            t.storage().doubles()[slot] = v;
        } else {
            t.storage().floats()[slot] = (float) v;
        }
    }

    // ------------------------------------------------------------------------------------------ reductions

    /** Sum over the given axes (each at most once). */
    /** Elements per block of {@link #dot}'s f32 loop: float partial sums within a block, a double total across. */
    private static final int DOT_BLOCK = 4096;

    /** {@code sum(a * b)} of two same-shape real tensors as a 0-d tensor, in one pass (strided operands copied first). */
    public static Tensor dot(Tensor a, Tensor b) {
        checkDType("dot", a, b);
        checkReal("dot", a);
        if (!a.shape().equals(b.shape())) {
            throw new ShapeException("dot: shapes differ: " + a.describe() + " . " + b.describe());
        }
        a = a.contiguousData();
        b = b.contiguousData();
        int n = a.numel(), ao = a.offset(), bo = b.offset();
        double total = 0;
        if (a.dtype() == DType.F32) {
            float[] x = a.storage().floats(), y = b.storage().floats();
            for (int i0 = 0; i0 < n; i0 += DOT_BLOCK) {
                int i1 = Math.min(n, i0 + DOT_BLOCK), i = i0;
                float s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
                for (; i + 8 <= i1; i += 8) {
                    s0 += x[ao + i] * y[bo + i];
                    s1 += x[ao + i + 1] * y[bo + i + 1];
                    s2 += x[ao + i + 2] * y[bo + i + 2];
                    s3 += x[ao + i + 3] * y[bo + i + 3];
                    s4 += x[ao + i + 4] * y[bo + i + 4];
                    s5 += x[ao + i + 5] * y[bo + i + 5];
                    s6 += x[ao + i + 6] * y[bo + i + 6];
                    s7 += x[ao + i + 7] * y[bo + i + 7];
                }
                for (; i < i1; i++) {
                    s0 += x[ao + i] * y[bo + i];
                }
                total += (double) ((s0 + s1) + (s2 + s3)) + (double) ((s4 + s5) + (s6 + s7));
            }
        } else {
            double[] x = a.storage().doubles(), y = b.storage().doubles();
            double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
            int i = 0;
            for (; i + 4 <= n; i += 4) {
                s0 += x[ao + i] * y[bo + i];
                s1 += x[ao + i + 1] * y[bo + i + 1];
                s2 += x[ao + i + 2] * y[bo + i + 2];
                s3 += x[ao + i + 3] * y[bo + i + 3];
            }
            for (; i < n; i++) {
                s0 += x[ao + i] * y[bo + i];
            }
            total = (s0 + s1) + (s2 + s3);
        }
        return Tensor.scalar(a.dtype(), total);
    }

    public static Tensor sum(Tensor x, int[] axes, boolean keepDim) {
        checkReal("sum", x);
        boolean[] reduce = new boolean[x.rank()];
        for (int a : axes) {
            int ax = x.shape().axis(a);
            if (reduce[ax]) {
                throw new ShapeException("sum: axis " + a + " given twice for " + x.describe());
            }
            reduce[ax] = true;
        }
        Tensor cur = x.contiguousData();
        int[] dims = x.shape().toArray();
        for (int ax = x.rank() - 1; ax >= 0; ax--) {
            if (!reduce[ax]) {
                continue;
            }
            int outer = 1, inner = 1;
            for (int i = 0; i < ax; i++) {
                outer *= dims[i];
            }
            for (int i = ax + 1; i < dims.length; i++) {
                inner *= dims[i];
            }
            int len = dims[ax];
            dims[ax] = 1;
            Tensor next = Tensor.zeros(x.dtype(), Shape.of(dims));
            if (x.dtype() == DType.F64) {
                backend().sumAxis(cur.storage().doubles(), cur.offset(), outer, len, inner, next.storage().doubles(), 0);
            } else {
                backend().sumAxis(cur.storage().floats(), cur.offset(), outer, len, inner, next.storage().floats(), 0);
            }
            cur = next;
        }
        return keepDim ? cur : reshapeData(cur, squeezed(x.shape(), reduce));
    }

    static Shape squeezed(Shape s, boolean[] reduce) {
        int[] d = new int[s.rank()];
        int r = 0;
        for (int i = 0; i < s.rank(); i++) {
            if (!reduce[i]) {
                d[r++] = s.dim(i);
            }
        }
        return Shape.of(Arrays.copyOf(d, r));
    }

    /** Sums a tensor down to {@code target}, a shape it was broadcast from. */
    public static Tensor sumTo(Tensor x, Shape target) {
        if (x.shape().equals(target)) {
            return x;
        }
        int r = x.rank(), tr = target.rank();
        if (tr > r) {
            throw new ShapeException("sumTo: cannot reduce " + x.describe() + " to larger rank " + target);
        }
        int[] axes = new int[r];
        int na = 0;
        for (int i = 0; i < r; i++) {
            int ti = i - (r - tr);
            if (ti < 0 || (target.dim(ti) == 1 && x.dim(i) != 1)) {
                axes[na++] = i;
            } else if (target.dim(ti) != x.dim(i)) {
                throw new ShapeException("sumTo: " + x.describe() + " was not broadcast from " + target);
            }
        }
        return reshapeData(sum(x, Arrays.copyOf(axes, na), true), target);
    }

    /** Maximum along one axis, with its position. */
    public static Tensor max(Tensor x, int axis, boolean keepDim, int[] argOut) {
        checkReal("max", x);
        int ax = x.shape().axis(axis);
        if (x.dim(ax) == 0) {
            throw new ShapeException("max: empty axis " + axis + " of " + x.describe());
        }
        Tensor c = x.contiguousData();
        int outer = 1, inner = 1, len = x.dim(ax);
        for (int i = 0; i < ax; i++) {
            outer *= x.dim(i);
        }
        for (int i = ax + 1; i < x.rank(); i++) {
            inner *= x.dim(i);
        }
        Tensor out = Tensor.zeros(x.dtype(), x.shape().with(ax, 1));
        for (int o = 0; o < outer; o++) {
            for (int i = 0; i < inner; i++) {
                int best = 0;
                double bv = readReal(c, c.offset() + o * len * inner + i);
                for (int l = 1; l < len; l++) {
                    double v = readReal(c, c.offset() + (o * len + l) * inner + i);
                    if (v > bv || (Double.isNaN(v) && !Double.isNaN(bv))) {
                        bv = v;
                        best = l;
                    }
                }
                writeReal(out, o * inner + i, bv);
                if (argOut != null) {
                    argOut[o * inner + i] = best;
                }
            }
        }
        if (keepDim) {
            return out;
        }
        boolean[] red = new boolean[x.rank()];
        red[ax] = true;
        return reshapeData(out, squeezed(x.shape(), red));
    }

    /** Index of the maximum along {@code axis} (the axis is removed from the shape). */
    public static Index argmax(Tensor x, int axis) {
        int ax = x.shape().axis(axis);
        int[] arg = new int[x.numel() / Math.max(1, x.dim(ax))];
        max(x, axis, false, arg);
        boolean[] red = new boolean[x.rank()];
        red[ax] = true;
        return new Index(squeezed(x.shape(), red), arg);
    }

    /**
     * x's data with a new shape of the same size: a view whenever the strides allow (every group of old axes
     * that merges or splits into new axes is itself laid out contiguously), a contiguous copy otherwise.
     */
    public static Tensor reshapeData(Tensor x, Shape s) {
        if (s.numel() != x.numel()) {
            throw new ShapeException("reshape: cannot reshape " + x.describe() + " (" + x.numel() + " elements) to " + s);
        }
        int[] strides = x.numel() == 0 ? null : viewStrides(x.shape(), x.strides(), s);
        if (strides != null) {
            return Tensor.view(x.storage(), s, strides, x.offset());
        }
        Tensor c = x.contiguousData();
        return Tensor.view(c.storage(), s, s.contiguousStrides(), c.offset());
    }

    /** Strides that let a tensor of shape {@code os}/strides {@code ost} be viewed as {@code ns}, or null. */
    static int[] viewStrides(Shape os, int[] ost, Shape ns) {
        // drop size-1 axes of the old shape: they constrain nothing
        int[] od = new int[os.rank()], st = new int[os.rank()];
        int no = 0;
        for (int i = 0; i < os.rank(); i++) {
            if (os.dim(i) != 1) {
                od[no] = os.dim(i);
                st[no++] = ost[i];
            }
        }
        int nn = ns.rank();
        int[] nd = ns.toArray(), out = new int[nn];
        int oi = 0, oj = 1, ni = 0, nj = 1;
        while (ni < nn && oi < no) {
            long np = nd[ni], op = od[oi];
            while (np != op) {
                if (np < op) {
                    np *= nd[nj++];
                } else {
                    op *= od[oj++];
                }
            }
            for (int k = oi; k < oj - 1; k++) {
                if (st[k] != od[k + 1] * st[k + 1]) {
                    return null; // the old axes of this group are not contiguous with each other
                }
            }
            out[nj - 1] = st[oj - 1];
            for (int k = nj - 1; k > ni; k--) {
                out[k - 1] = out[k] * nd[k];
            }
            ni = nj++;
            oi = oj++;
        }
        // remaining new axes have size 1: any stride works
        for (int k = ni; k < nn; k++) {
            out[k] = k > 0 ? out[k - 1] : 1;
        }
        return out;
    }

    // ------------------------------------------------------------------------------------------ matmul

    /**
     * Batched matrix product {@code [..., m, k] @ [..., k, n]} with NumPy broadcasting of the batch axes. Operands
     * whose last two axes are a transposed contiguous matrix go to the gemm kernel as transposed, without a copy.
     */
    public static Tensor matmul(Tensor a, Tensor b) {
        return matmul(a, b, null, null);
    }

    /**
     * {@link #matmul(Tensor, Tensor)} with two options: {@code rowBias} ({@code [n]}, may be null) is added to every
     * row of the product (the output starts as the bias rows and the gemm accumulates onto them, beta = 1, as BLAS
     * {@code addmm}); {@code into} (may be null) is a contiguous tensor of the product's shape and dtype that receives
     * the result (its contents are overwritten, never read) and is returned.
     */
    public static Tensor matmul(Tensor a, Tensor b, Tensor rowBias, Tensor into) {
        Tensor out = product("matmul", a, b, rowBias, into);
        if (out.numel() > 0) {
            gemm(a, b, rowBias, out, false);
        }
        return out;
    }

    /**
     * {@code into = a @ b} for real tensors (as {@link #matmul(Tensor, Tensor, Tensor, Tensor)} without bias, into a
     * contiguous destination of the product's shape), and whether every element written is finite (no NaN, no
     * infinity). The backend checks the product's output where it makes it ({@link
     * dev.sprout.backend.Backend#sgemmFinite}): the native backend while each tile is still in registers, so a caller
     * that needs the answer (an optimizer about to step on a weight gradient) does not pay a second pass over it.
     */
    public static boolean matmulFinite(Tensor a, Tensor b, Tensor into) {
        if (into == null) {
            throw new IllegalArgumentException("matmulFinite: destination is null");
        }
        if (a.dtype().isComplex()) {
            throw new IllegalArgumentException("matmulFinite: real tensors only, got " + a.describe());
        }
        Tensor out = product("matmulFinite", a, b, null, into);
        return out.numel() == 0 || gemm(a, b, null, out, true);
    }

    /** Checks a product's operands and destination; returns the destination (fresh zeros when {@code into} is null). */
    private static Tensor product(String op, Tensor a, Tensor b, Tensor rowBias, Tensor into) {
        checkDType(op, a, b);
        if (a.rank() < 2 || b.rank() < 2) {
            throw new ShapeException(op + ": operands need rank >= 2, got " + a.describe() + " @ " + b.describe()
                    + " (reshape vectors to [1, n] or [n, 1])");
        }
        int m = a.dim(-2), k = a.dim(-1), k2 = b.dim(-2), n = b.dim(-1);
        if (k != k2) {
            throw new ShapeException(op + ": inner dimensions differ: " + a.describe() + " @ " + b.describe());
        }
        Shape outShape = productShape(a, b);
        if (into != null && (!into.shape().equals(outShape) || into.dtype() != a.dtype() || !into.isContiguous())) {
            throw new ShapeException(op + ": destination " + into.describe() + " is not a contiguous " + a.dtype()
                    + " tensor of the product's shape " + outShape);
        }
        if (rowBias != null && (rowBias.rank() != 1 || rowBias.dim(0) != n || rowBias.dtype() != a.dtype()
                || a.dtype().isComplex())) {
            throw new ShapeException(op + ": row bias " + rowBias.describe() + " must be a real [" + n + "] vector of "
                    + a.dtype());
        }
        return into != null ? into : Tensor.zeros(a.dtype(), outShape);
    }

    private static Shape productShape(Tensor a, Tensor b) {
        Shape batchA = a.shape().prefix(a.rank() - 2), batchB = b.shape().prefix(b.rank() - 2);
        Shape batch = Shape.broadcast("matmul", batchA, batchB);
        int[] outDims = Arrays.copyOf(batch.toArray(), batch.rank() + 2);
        outDims[batch.rank()] = a.dim(-2);
        outDims[batch.rank() + 1] = b.dim(-1);
        return Shape.of(outDims);
    }

    /**
     * The backend product into the checked, non-empty {@code out}; with {@code check} (real dtypes), whether all of
     * {@code out} is finite afterwards (true otherwise).
     */
    private static boolean gemm(Tensor a, Tensor b, Tensor rowBias, Tensor out, boolean check) {
        int m = a.dim(-2), k = a.dim(-1), n = b.dim(-1);
        Shape batch = out.shape().prefix(out.rank() - 2);
        if (rowBias != null) {
            fillRows(out, rowBias);
        }
        float betaF = rowBias != null ? 1f : 0f;
        // Each operand must be a uniform batch of matrices: materialise broadcast batch axes where needed.
        Operand oa = operand(a, batch), ob = operand(b, batch);
        GemmShape g = new GemmShape(oa.trans, ob.trans, m, n, k, oa.ld, ob.ld, n, batch.numel(), oa.batchStride,
                ob.batchStride, (long) m * n);
        switch (a.dtype()) {
            case F32 -> {
                float[] fa = oa.t.storage().floats(), fb = ob.t.storage().floats(), fc = out.storage().floats();
                if (check) {
                    return backend().sgemmFinite(g, 1f, fa, oa.t.offset(), fb, ob.t.offset(), betaF, fc, out.offset());
                }
                backend().sgemm(g, 1f, fa, oa.t.offset(), fb, ob.t.offset(), betaF, fc, out.offset());
            }
            case F64 -> {
                double[] da = oa.t.storage().doubles(), db = ob.t.storage().doubles(), dc = out.storage().doubles();
                if (check) {
                    return backend().dgemmFinite(g, 1.0, da, oa.t.offset(), db, ob.t.offset(), betaF, dc, out.offset());
                }
                backend().dgemm(g, 1.0, da, oa.t.offset(), db, ob.t.offset(), betaF, dc, out.offset());
            }
            case C64 -> backend().cgemm(g, 1f, 0f, oa.t.storage().floats(), oa.t.offset(), ob.t.storage().floats(),
                    ob.t.offset(), 0f, 0f, out.storage().floats(), out.offset());
        }
        return true;
    }

    /** Writes the vector {@code bias} ({@code [n]}) into every length-n row of the contiguous {@code out}. */
    private static void fillRows(Tensor out, Tensor bias) {
        Tensor bc = bias.contiguousData();
        int n = bias.dim(0), rows = out.numel() / n;
        if (out.dtype() == DType.F32) {
            float[] src = bc.storage().floats(), dst = out.storage().floats();
            for (int r = 0; r < rows; r++) {
                System.arraycopy(src, bc.offset(), dst, out.offset() + r * n, n);
            }
        } else {
            double[] src = bc.storage().doubles(), dst = out.storage().doubles();
            for (int r = 0; r < rows; r++) {
                System.arraycopy(src, bc.offset(), dst, out.offset() + r * n, n);
            }
        }
    }

    private record Operand(Tensor t, GemmShape.Trans trans, int ld, long batchStride) {
    }

    private static Operand operand(Tensor x, Shape batch) {
        int r = x.rank();
        int rows = x.dim(-2), cols = x.dim(-1);
        int sr = x.stride(-2), sc = x.stride(-1);
        Shape xb = x.shape().prefix(r - 2);
        // A single matrix (all batch dims of size 1) broadcasts with batch stride 0.
        boolean single = xb.numel() == 1;
        boolean uniform = single || (xb.equals(batch) && batchUniform(x));
        if (uniform) {
            long bs = single ? 0 : x.stride(r - 3);
            if (sc == 1 && sr >= Math.max(1, cols)) {
                return new Operand(x, GemmShape.Trans.N, sr, bs);
            }
            if (sr == 1 && sc >= Math.max(1, rows)) {
                return new Operand(x, GemmShape.Trans.T, sc, bs);
            }
        }
        int[] dims = Arrays.copyOf(batch.toArray(), batch.rank() + 2);
        dims[batch.rank()] = rows;
        dims[batch.rank() + 1] = cols;
        Shape full = Shape.of(dims);
        Tensor c = Tensor.zeros(x.dtype(), full);
        assign(c, x);
        return new Operand(c, GemmShape.Trans.N, Math.max(1, cols), single ? 0 : (long) rows * cols);
    }

    /** Whether the batch axes of x form one arithmetic progression of matrix offsets. */
    private static boolean batchUniform(Tensor x) {
        int r = x.rank();
        if (r <= 2) {
            return true;
        }
        long expected = x.stride(r - 3);
        long acc = expected * x.dim(r - 3);
        for (int i = r - 4; i >= 0; i--) {
            if (x.dim(i) != 1 && x.stride(i) != acc) {
                return false;
            }
            acc *= x.dim(i);
        }
        return x.dim(r - 3) == 1 || expected > 0;
    }

    // ------------------------------------------------------------------------------------------ convolution lowering

    private static void checkImages(String op, Tensor x, ConvGeometry g) {
        checkReal(op, x);
        if (x.rank() != 4 || x.dim(1) != g.channels() || x.dim(2) != g.height() || x.dim(3) != g.width()) {
            throw new ShapeException(op + ": input " + x.describe() + " does not match [N, " + g.channels() + ", "
                    + g.height() + ", " + g.width() + "] of geometry " + g);
        }
    }

    /** Unfolds images {@code [N, C, H, W]} into columns {@code [N, C*kh*kw, outH*outW]} (backend im2col per image). */
    public static Tensor im2col(Tensor x, ConvGeometry g) {
        checkImages("im2col", x, g);
        Tensor c = x.contiguousData();
        int n = x.dim(0), per = g.colRows() * g.colCols();
        Tensor out = Tensor.zeros(x.dtype(), Shape.of(n, g.colRows(), g.colCols()));
        for (int i = 0; i < n; i++) {
            if (x.dtype() == DType.F64) {
                backend().im2col(g, c.storage().doubles(), c.offset() + i * g.imageSize(), out.storage().doubles(), i * per);
            } else {
                backend().im2col(g, c.storage().floats(), c.offset() + i * g.imageSize(), out.storage().floats(), i * per);
            }
        }
        return out;
    }

    /** Folds columns {@code [N, C*kh*kw, outH*outW]} back into images {@code [N, C, H, W]}, summing overlaps. */
    public static Tensor col2im(Tensor cols, ConvGeometry g) {
        checkReal("col2im", cols);
        if (cols.rank() != 3 || cols.dim(1) != g.colRows() || cols.dim(2) != g.colCols()) {
            throw new ShapeException("col2im: columns " + cols.describe() + " do not match [N, " + g.colRows() + ", "
                    + g.colCols() + "] of geometry " + g);
        }
        Tensor c = cols.contiguousData();
        int n = cols.dim(0), per = g.colRows() * g.colCols();
        Tensor out = Tensor.zeros(cols.dtype(), Shape.of(n, g.channels(), g.height(), g.width()));
        for (int i = 0; i < n; i++) {
            if (cols.dtype() == DType.F64) {
                backend().col2im(g, c.storage().doubles(), c.offset() + i * per, out.storage().doubles(), i * g.imageSize());
            } else {
                backend().col2im(g, c.storage().floats(), c.offset() + i * per, out.storage().floats(), i * g.imageSize());
            }
        }
        return out;
    }

    // ------------------------------------------------------------------------------------------ indexing

    private static int[] axisSplit(Shape s, int ax) {
        int outer = 1, inner = 1;
        for (int i = 0; i < ax; i++) {
            outer *= s.dim(i);
        }
        for (int i = ax + 1; i < s.rank(); i++) {
            inner *= s.dim(i);
        }
        return new int[] {outer, inner};
    }

    private static void checkIndexShape(String op, Tensor x, int ax, Index idx) {
        Shape is = idx.shape();
        if (is.rank() != x.rank()) {
            throw new ShapeException(op + ": index " + is + " must have the rank of " + x.describe());
        }
        for (int i = 0; i < x.rank(); i++) {
            if (i != ax && is.dim(i) != x.dim(i)) {
                throw new ShapeException(op + ": index " + is + " differs from " + x.describe() + " outside axis " + ax);
            }
        }
        int len = x.dim(ax);
        int[] raw = idx.raw();
        for (int i = 0; i < raw.length; i++) {
            if (raw[i] < 0 || raw[i] >= len) {
                throw new IndexOutOfBoundsException(op + ": index value " + raw[i] + " at position " + i
                        + " out of range [0, " + len + ") along axis " + ax + " of " + x.describe());
            }
        }
    }

    /** {@code out[.., j, ..] = x[.., idx[.., j, ..], ..]} along {@code axis} (the index has x's rank). */
    public static Tensor gather(Tensor x, int axis, Index idx) {
        int ax = x.shape().axis(axis);
        checkIndexShape("gather", x, ax, idx);
        Tensor c = x.contiguousData();
        Tensor out = Tensor.zeros(x.dtype(), idx.shape());
        int[] sp = axisSplit(idx.shape(), ax);
        int outer = sp[0], inner = sp[1], len = x.dim(ax), il = idx.shape().dim(ax);
        int slots = x.dtype().slots();
        int[] raw = idx.raw();
        for (int o = 0; o < outer; o++) {
            for (int j = 0; j < il; j++) {
                for (int i = 0; i < inner; i++) {
                    int q = (o * il + j) * inner + i;
                    int p = c.offset() + (o * len + raw[q]) * inner + i;
                    for (int s = 0; s < slots; s++) {
                        writeSlot(out, q * slots + s, readSlot(c, p * slots + s));
                    }
                }
            }
        }
        return out;
    }

    /** A copy of {@code base} with {@code src} added at the positions {@code idx} along {@code axis}. */
    public static Tensor scatterAdd(Tensor base, int axis, Index idx, Tensor src) {
        checkDType("scatterAdd", base, src);
        int ax = base.shape().axis(axis);
        checkIndexShape("scatterAdd", base, ax, idx);
        if (!src.shape().equals(idx.shape())) {
            throw new ShapeException("scatterAdd: source " + src.describe() + " must have the index's shape " + idx.shape());
        }
        Tensor out = copy(base);
        Tensor s = src.contiguousData();
        int[] sp = axisSplit(idx.shape(), ax);
        int outer = sp[0], inner = sp[1], len = base.dim(ax), il = idx.shape().dim(ax);
        int slots = base.dtype().slots();
        int[] raw = idx.raw();
        for (int o = 0; o < outer; o++) {
            for (int j = 0; j < il; j++) {
                for (int i = 0; i < inner; i++) {
                    int q = (o * il + j) * inner + i;
                    int p = (o * len + raw[q]) * inner + i;
                    for (int t = 0; t < slots; t++) {
                        writeSlot(out, p * slots + t, readSlot(out, p * slots + t) + readSlot(s, (s.offset() + q) * slots + t));
                    }
                }
            }
        }
        return out;
    }

    /** Concatenation along an axis; all other dimensions and the dtype must agree. */
    public static Tensor concat(int axis, Tensor... parts) {
        if (parts.length == 0) {
            throw new ShapeException("concat: no tensors given");
        }
        Tensor first = parts[0];
        int ax = first.shape().axis(axis);
        int total = 0;
        for (Tensor p : parts) {
            checkDType("concat", first, p);
            if (p.rank() != first.rank()) {
                throw new ShapeException("concat: rank differs: " + first.describe() + " vs " + p.describe());
            }
            for (int i = 0; i < p.rank(); i++) {
                if (i != ax && p.dim(i) != first.dim(i)) {
                    throw new ShapeException("concat: along axis " + axis + ", " + p.describe() + " does not match "
                            + first.describe() + " in dimension " + i);
                }
            }
            total += p.dim(ax);
        }
        Tensor out = Tensor.zeros(first.dtype(), first.shape().with(ax, total));
        int at = 0;
        for (Tensor p : parts) {
            assign(sliceView(out, ax, at, at + p.dim(ax)), p);
            at += p.dim(ax);
        }
        return out;
    }

    /** A view of {@code x} restricted to {@code [start, end)} along an axis (no copy). */
    public static Tensor sliceView(Tensor x, int axis, int start, int end) {
        int ax = x.shape().axis(axis);
        if (start < 0 || end > x.dim(ax) || start > end) {
            throw new ShapeException("slice: range [" + start + ", " + end + ") out of bounds for axis " + axis + " of "
                    + x.describe());
        }
        return Tensor.view(x.storage(), x.shape().with(ax, end - start), x.strides(), x.offset() + start * x.stride(ax));
    }

    /** Zeros of {@code shape} with {@code x} written at {@code [start, start + x.dim(axis))} along an axis. */
    public static Tensor embed(Tensor x, Shape shape, int axis, int start) {
        Tensor out = Tensor.zeros(x.dtype(), shape);
        assign(sliceView(out, axis, start, start + x.dim(axis)), x);
        return out;
    }

    /** A view of x with axes permuted. */
    public static Tensor permuteView(Tensor x, int[] order) {
        if (order.length != x.rank()) {
            throw new ShapeException("permute: order " + Arrays.toString(order) + " for " + x.describe());
        }
        int[] dims = new int[order.length], st = new int[order.length];
        boolean[] seen = new boolean[order.length];
        int[] xs = x.strides();
        for (int i = 0; i < order.length; i++) {
            int o = x.shape().axis(order[i]);
            if (seen[o]) {
                throw new ShapeException("permute: axis " + order[i] + " repeated in " + Arrays.toString(order));
            }
            seen[o] = true;
            dims[i] = x.dim(o);
            st[i] = xs[o];
        }
        return Tensor.view(x.storage(), Shape.of(dims), st, x.offset());
    }

    /** A broadcast view of x to a larger shape (stride 0 along new or size-1 axes). */
    public static Tensor expandView(Tensor x, Shape shape) {
        Shape b = Shape.broadcast("expand", x.shape(), shape);
        if (!b.equals(shape)) {
            throw new ShapeException("expand: cannot expand " + x.describe() + " to " + shape);
        }
        return Tensor.view(x.storage(), shape, Strided.broadcastStrides(x, shape), x.offset());
    }

    /** Whether any element is NaN or infinite; returns the first such row-major position, or -1. */
    public static int firstNonFinite(Tensor t) {
        Tensor c = t.contiguousData();
        int n = t.numel() * t.dtype().slots();
        if (t.dtype() == DType.F64) {
            double[] d = c.storage().doubles();
            for (int i = 0; i < n; i++) {
                if (!Double.isFinite(d[c.offset() + i])) {
                    return i;
                }
            }
        } else {
            float[] f = c.storage().floats();
            int off = c.offset() * t.dtype().slots();
            for (int i = 0; i < n; i++) {
                if (!Float.isFinite(f[off + i])) {
                    return i / t.dtype().slots();
                }
            }
        }
        return -1;
    }
}
