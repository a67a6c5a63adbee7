package dev.sprout.autograd;

import dev.sprout.backend.Activation;
import dev.sprout.backend.ConvGeometry;
import dev.sprout.tensor.Index;
import dev.sprout.tensor.Kernels;
import dev.sprout.tensor.Kernels.Binary;
import dev.sprout.tensor.Kernels.Unary;
import dev.sprout.tensor.Shape;
import dev.sprout.tensor.ShapeException;
import dev.sprout.tensor.Tensor;

import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * The differentiable operations. Each computes its result with {@link Kernels} and, when recording, attaches
 * a backward rule written with these same operations (so backward passes are differentiable, which gives
 * Hessian-vector products). Every op that records a node is listed in {@link #REGISTERED}; the gradient
 * checker in the tests runs over that list and fails if an op has no check.
 */
public final class Ops {
    private Ops() {
    }

    private static final Set<String> NAMES = new LinkedHashSet<>();

    static {
        NAMES.addAll(Arrays.asList("add", "sub", "mul", "div", "neg", "scale", "exp", "log", "sqrt", "pow", "abs", "sin",
                "cos", "matmul", "dot", "sum", "max", "reshape", "permute", "slice", "embed", "expand", "sumTo", "contiguous",
                "gather", "scatterAdd", "concat", "where", "im2col", "col2im", "conv2d", "maxpool2d", "conv2dMaxPool", "conv2dRelu",
                "linear", "linearRelu", "reluMask"));
        for (Activation f : Activation.values()) {
            if (f != Activation.IDENTITY) {
                NAMES.add(activationName(f));
            }
        }
    }

    /** Names of every operation that records a backward rule. */
    public static final Set<String> REGISTERED = Collections.unmodifiableSet(NAMES);

    /** The registered name of an activation op (one per function; the derivative order is a parameter). */
    static String activationName(Activation f) {
        return f.name().toLowerCase(java.util.Locale.ROOT);
    }

    // ------------------------------------------------------------------------------------------ recording

    /** Attaches a backward rule to {@code out} when recording; {@code op} must be registered (also used by {@link ConvOps}). */
    static Tensor record(String op, Tensor out, Node.Backward backward, Tensor... inputs) {
        if (!NAMES.contains(op)) {
            throw new IllegalStateException("op " + op + " is not registered in Ops.REGISTERED");
        }
        return attach(op, out, backward, inputs);
    }

    /**
     * The recording step of {@link #record} without the registry check, for ops outside the gradient-check registry
     * ({@link FusedOps}, whose backward rules are first-order only): checks {@code out} in checked mode and attaches
     * the rule when recording and an input requires grad.
     */
    static Tensor attach(String op, Tensor out, Node.Backward backward, Tensor... inputs) {
        if (Autograd.isChecked()) {
            checkFinite(op, out, inputs);
        }
        if (Autograd.isRecording()) {
            for (Tensor in : inputs) {
                if (in.requiresGrad()) {
                    out.attach(new Node(op, inputs, backward));
                    break;
                }
            }
        }
        return out;
    }

    static void checkFinite(String op, Tensor out, Tensor[] inputs) {
        if (out.dtype().isComplex()) {
            return;
        }
        int bad = Kernels.firstNonFinite(out);
        if (bad >= 0) {
            String ctx = Autograd.backwardContext();
            StringBuilder sb = new StringBuilder(ctx != null ? "in the backward of " + ctx + ": " : "").append(op)
                    .append(" produced ").append(out.getFlat(bad))
                    .append(" at flat position ").append(bad).append(" of its result ").append(out.dtype())
                    .append(out.shape()).append("; operands: ");
            for (int i = 0; i < inputs.length; i++) {
                Tensor in = inputs[i];
                int ib = in.dtype().isComplex() ? -1 : Kernels.firstNonFinite(in);
                sb.append(i > 0 ? ", " : "").append(in.describe()).append(ib >= 0 ? " (already non-finite)" : "");
            }
            throw new NonFiniteException(sb.toString());
        }
    }

    /** A constant scalar of {@code like}'s dtype (not recorded). */
    public static Tensor constant(Tensor like, double value) {
        return Tensor.scalar(like.dtype(), value);
    }

    // ------------------------------------------------------------------------------------------ arithmetic

    public static Tensor add(Tensor a, Tensor b) {
        Tensor out = Kernels.binary(Binary.ADD, a, b);
        return record("add", out, g -> new Tensor[] {sumTo(g, a.shape()), sumTo(g, b.shape())}, a, b);
    }

    public static Tensor sub(Tensor a, Tensor b) {
        Tensor out = Kernels.binary(Binary.SUB, a, b);
        return record("sub", out, g -> new Tensor[] {sumTo(g, a.shape()), sumTo(neg(g), b.shape())}, a, b);
    }

    public static Tensor mul(Tensor a, Tensor b) {
        Tensor out = Kernels.binary(Binary.MUL, a, b);
        return record("mul", out, g -> new Tensor[] {
                a.requiresGrad() ? sumTo(mul(g, b), a.shape()) : null,
                b.requiresGrad() ? sumTo(mul(g, a), b.shape()) : null}, a, b);
    }

    public static Tensor div(Tensor a, Tensor b) {
        Tensor out = Kernels.binary(Binary.DIV, a, b);
        return record("div", out, g -> new Tensor[] {
                a.requiresGrad() ? sumTo(div(g, b), a.shape()) : null,
                b.requiresGrad() ? sumTo(neg(div(mul(g, a), mul(b, b))), b.shape()) : null}, a, b);
    }

    public static Tensor neg(Tensor x) {
        return record("neg", Kernels.unary(Unary.NEG, x, 0), g -> new Tensor[] {neg(g)}, x);
    }

    /** {@code x * s} for a constant s. */
    public static Tensor scale(Tensor x, double s) {
        return record("scale", Kernels.unary(Unary.SCALE, x, s), g -> new Tensor[] {scale(g, s)}, x);
    }

    public static Tensor exp(Tensor x) {
        Tensor out = Kernels.unary(Unary.EXP, x, 0);
        // the rule refers to the result through a recorded view of it, so it stays differentiable
        Tensor[] self = new Tensor[1];
        Tensor rec = record("exp", out, g -> new Tensor[] {mul(g, self[0])}, x);
        self[0] = rec;
        return rec;
    }

    public static Tensor log(Tensor x) {
        return record("log", Kernels.unary(Unary.LOG, x, 0), g -> new Tensor[] {div(g, x)}, x);
    }

    public static Tensor sqrt(Tensor x) {
        Tensor out = Kernels.unary(Unary.SQRT, x, 0);
        Tensor[] self = new Tensor[1];
        Tensor rec = record("sqrt", out, g -> new Tensor[] {div(g, scale(self[0], 2.0))}, x);
        self[0] = rec;
        return rec;
    }

    public static Tensor pow(Tensor x, double p) {
        if (p == 1) {
            return x;
        }
        return record("pow", Kernels.unary(Unary.POW, x, p), g -> new Tensor[] {mul(g, scale(pow(x, p - 1), p))}, x);
    }

    public static Tensor abs(Tensor x) {
        return record("abs", Kernels.unary(Unary.ABS, x, 0), g -> new Tensor[] {mul(g, Kernels.unary(Unary.SIGN, x, 0))}, x);
    }

    public static Tensor sin(Tensor x) {
        return record("sin", Kernels.unary(Unary.SIN, x, 0), g -> new Tensor[] {mul(g, cos(x))}, x);
    }

    public static Tensor cos(Tensor x) {
        return record("cos", Kernels.unary(Unary.COS, x, 0), g -> new Tensor[] {neg(mul(g, sin(x)))}, x);
    }

    /**
     * {@code sigma^(order)(x)} for an activation; its gradient is {@code g * sigma^(order+1)(x)}, so derivatives
     * of every order the backend evaluates ({@link Activation#MAX_ORDER}) are themselves differentiable.
     */
    public static Tensor activation(Tensor x, Activation f, int order, double beta) {
        if (order < 0 || order > Activation.MAX_ORDER) {
            throw new IllegalArgumentException("activation: derivative order " + order + " of " + f + " not available (0.."
                    + Activation.MAX_ORDER + ")");
        }
        if (f == Activation.IDENTITY) {
            return order == 0 ? x : Tensor.full(x.dtype(), order == 1 ? 1 : 0, x.shape().toArray());
        }
        Tensor out = Kernels.activation(f, order, beta, x);
        if (f == Activation.RELU && order >= 1) {
            // a step (or zero) function of x: its derivative is zero wherever it exists, so nothing is recorded (a
            // recorded node would compute and add a zero tensor per ReLU in every second-order backward pass)
            return out;
        }
        if (order == Activation.MAX_ORDER) {
            if (Autograd.isRecording() && x.requiresGrad()) {
                throw new UnsupportedOperationException("activation: derivative " + (order + 1) + " of " + f
                        + " is not available (max " + Activation.MAX_ORDER + ")");
            }
            return out;
        }
        if (f == Activation.RELU) {
            return record(activationName(f), out, g -> new Tensor[] {reluMask(g, x)}, x);
        }
        return record(activationName(f), out, g -> new Tensor[] {mul(g, activation(x, f, order + 1, beta))}, x);
    }

    // ------------------------------------------------------------------------------------------ products, reductions

    /**
     * Batched matrix product with broadcasting of batch axes (see {@link Kernels#matmul}).
     *
     * <p>Backward: {@code dA = g B^T}, {@code dB = A^T g}, each computed in the operand's own layout. When an operand
     * is a transposed view (column-major, as {@code W^T} in {@code x W^T} of a linear layer), its gradient is
     * computed as the transpose of {@code B g^T} (or {@code g^T A}), so the gradient that reaches the parameter
     * behind the view is contiguous: no strided copy of a weight-sized matrix after backward. Same products, same
     * sums; the gemm kernels read either layout without copying.
     */
    public static Tensor matmul(Tensor a, Tensor b) {
        return record("matmul", Kernels.matmul(a, b), matmulBackward(a, b), a, b);
    }

    /**
     * A recorded product {@code a @ b} whose value is not computed (zeros stand in): for a gradient that is only
     * differentiated again, never read, as a leaf's first-pass gradient inside {@link Autograd#hvp} (matmul's backward
     * rule needs its inputs, not its output). Two-dimensional operands.
     */
    static Tensor matmulValueUnused(Tensor a, Tensor b) {
        if (a.rank() != 2 || b.rank() != 2 || a.dim(1) != b.dim(0)) {
            throw new ShapeException("matmul: " + a.describe() + " @ " + b.describe());
        }
        return record("matmul", Tensor.zeros(a.dtype(), a.dim(0), b.dim(1)), matmulBackward(a, b), a, b);
    }

    private static Node.Backward matmulBackward(Tensor a, Tensor b) {
        return g -> new Tensor[] {
                a.requiresGrad() ? (transposedLayout(a)
                        ? transpose(sumTo(matmul(b, transpose(g, -1, -2)), swapLast(a.shape())), -1, -2)
                        : sumTo(matmul(g, transpose(b, -1, -2)), a.shape())) : null,
                b.requiresGrad() ? (transposedLayout(b)
                        ? transpose(sumTo(matmul(transpose(g, -1, -2), a), swapLast(b.shape())), -1, -2)
                        : sumTo(matmul(transpose(a, -1, -2), g), b.shape())) : null};
    }

    /**
     * A dense layer {@code x W^T + b}: {@code x [rows, in]}, {@code W [out, in]}, {@code b [out]} (or null). One
     * recorded op and one output buffer: the product accumulates onto the bias rows (beta = 1, as BLAS addmm) instead
     * of a product followed by a broadcast add (a second full-size pass and buffer).
     *
     * <p>Backward: {@code dx = g W}, {@code dW = g^T x} (computed contiguous, in W's layout), {@code db} = column sums
     * of {@code g} -- the products and sums of {@code matmul(x, W^T) + b}. Inside a first-order
     * {@link Autograd#backward} the weight gradient is written into the storage that {@link Tensor#clearGrad()}
     * (an optimizer's zeroGrad) kept, when W is a leaf with such storage: no fresh weight-sized buffer per step.
     * With {@code createGraph} the rule is built from recorded ops, so it can be differentiated again; inside
     * {@link Autograd#hvp}, whose first-pass gradients are only differentiated, the value of {@code dW} is not
     * computed (a weight-sized product per layer saved; see {@link Autograd#gradientValueUnused}).
     */
    public static Tensor linear(Tensor x, Tensor w, Tensor b) {
        checkLinear("linear", x, w, b);
        Tensor out = Kernels.matmul(x, Kernels.permuteView(w, new int[] {1, 0}), b, null);
        Tensor[] inputs = b == null ? new Tensor[] {x, w} : new Tensor[] {x, w, b};
        return record("linear", out, g -> linearBackward(x, w, b, g), inputs);
    }

    /**
     * {@code relu(linear(x, W, b))} as one recorded op: the product's output is rectified in place
     * ({@link Kernels#reluInPlace}), so the layer keeps one output buffer and makes no separate activation pass or
     * ReLU output. Backward: {@link #reluMask} of the gradient by the output ({@code out > 0} exactly where
     * {@code x W^T + b > 0}: the ReLU's derivative, NaN included), then {@link #linear}'s rule. The same values and
     * gradients, bit for bit, as {@code activation(linear(x, W, b), RELU)}, also under createGraph (the mask is a
     * constant there, as the ReLU's derivative node).
     */
    public static Tensor linearRelu(Tensor x, Tensor w, Tensor b) {
        checkLinear("linear+relu", x, w, b);
        Tensor out = Kernels.reluInPlace(Kernels.matmul(x, Kernels.permuteView(w, new int[] {1, 0}), b, null));
        Tensor[] inputs = b == null ? new Tensor[] {x, w} : new Tensor[] {x, w, b};
        return record("linearRelu", out, g -> linearBackward(x, w, b, reluMask(g, out)), inputs);
    }

    private static void checkLinear(String op, Tensor x, Tensor w, Tensor b) {
        if (x.rank() != 2 || w.rank() != 2 || x.dim(1) != w.dim(1)
                || (b != null && (b.rank() != 1 || b.dim(0) != w.dim(0)))) {
            throw new ShapeException(op + ": input " + x.describe() + ", weight " + w.describe() + " and bias "
                    + (b == null ? "none" : b.describe()) + " do not fit x[rows, in] W[out, in] b[out]");
        }
    }

    /** The gradients of {@code x W^T + b} for the output gradient {@code g}; see {@link #linear}. */
    private static Tensor[] linearBackward(Tensor x, Tensor w, Tensor b, Tensor g) {
        Tensor gx = x.requiresGrad() ? matmul(g, w) : null;
        Tensor gw = null;
        if (w.requiresGrad()) {
            Tensor gt = transpose(g, 0, 1);
            if (!Autograd.isRecording() && Autograd.reusingLeafGradients() && w.isLeaf()) {
                // a leaf's gradient in backward(): into the storage zeroGrad kept, checked for finiteness by the
                // product itself when the caller will use the proof (Optimizer.minimize skips its own pass)
                Tensor into = w.takeSpareGrad();
                if (into == null) {
                    into = Tensor.zeros(w.dtype(), w.shape().toArray());
                }
                if (!Autograd.provingFinite() || w.dtype().isComplex()) {
                    gw = Kernels.matmul(gt, x, null, into);
                } else {
                    gw = into;
                    if (Kernels.matmulFinite(gt, x, into)) {
                        Autograd.provenFinite(gw);
                    }
                }
            } else {
                gw = Autograd.isRecording() && Autograd.gradientValueUnused(w) ? matmulValueUnused(gt, x)
                        : matmul(gt, x);
            }
        }
        Tensor gb = b != null && b.requiresGrad() ? sumTo(g, b.shape()) : null;
        return b == null ? new Tensor[] {gx, gw} : new Tensor[] {gx, gw, gb};
    }

    /**
     * {@code g * relu'(x)}: the gradient of a ReLU at {@code x} for an upstream gradient {@code g}, with one output
     * buffer instead of a 0/1 derivative tensor and a product ({@link Kernels#reluMask}). Differentiable in {@code g}
     * (the same mask); {@code x} enters through a step function, whose derivative is zero almost everywhere, so it is a
     * constant here (as the ReLU derivative nodes of {@link #activation}).
     */
    public static Tensor reluMask(Tensor g, Tensor x) {
        if (!g.shape().equals(x.shape()) || g.dtype() != x.dtype()) {
            throw new ShapeException("reluMask: gradient " + g.describe() + " does not match input " + x.describe());
        }
        Tensor out = Kernels.reluMask(g, x);
        return record("reluMask", out, gg -> new Tensor[] {reluMask(gg, x)}, g);
    }

    /**
     * {@code sum(a * b)} over all elements of two same-shape tensors, as one pass without the product tensor (the
     * directional term {@code <grad, v>} of a Hessian-vector product over every parameter). Backward: {@code g b},
     * {@code g a}.
     */
    public static Tensor dot(Tensor a, Tensor b) {
        Tensor out = Kernels.dot(a, b);
        return record("dot", out, g -> new Tensor[] {
                a.requiresGrad() ? mul(b, g) : null,
                b.requiresGrad() ? mul(a, g) : null}, a, b);
    }

    /** A matrix (batch) stored column-major: adjacent elements of a column are adjacent in memory. */
    private static boolean transposedLayout(Tensor t) {
        int r = t.rank();
        return t.dim(r - 1) > 1 && t.dim(r - 2) > 1 && t.stride(r - 2) == 1 && t.stride(r - 1) != 1;
    }

    private static Shape swapLast(Shape s) {
        int[] d = s.toArray();
        int r = d.length, t = d[r - 1];
        d[r - 1] = d[r - 2];
        d[r - 2] = t;
        return Shape.of(d);
    }

    public static Tensor sum(Tensor x, int[] axes, boolean keepDim) {
        Tensor out = Kernels.sum(x, axes, keepDim);
        Shape kept = keptShape(x.shape(), axes);
        return record("sum", out, g -> new Tensor[] {expand(reshape(g, kept), x.shape())}, x);
    }

    public static Tensor mean(Tensor x, int[] axes, boolean keepDim) {
        long count = 1;
        for (int a : axes) {
            count *= x.dim(a);
        }
        return scale(sum(x, axes, keepDim), 1.0 / Math.max(1, count));
    }

    private static Shape keptShape(Shape s, int[] axes) {
        int[] d = s.toArray();
        for (int a : axes) {
            d[s.axis(a)] = 1;
        }
        return Shape.of(d);
    }

    /** Maximum along an axis; the gradient flows to the (first) maximal element. */
    public static Tensor max(Tensor x, int axis, boolean keepDim) {
        int ax = x.shape().axis(axis);
        int[] arg = new int[x.numel() / Math.max(1, x.dim(ax))];
        Tensor out = Kernels.max(x, ax, keepDim, arg);
        Shape kept = x.shape().with(ax, 1);
        Index idx = new Index(kept, arg);
        return record("max", out, g -> new Tensor[] {
                scatterAdd(Tensor.zeros(x.dtype(), x.shape()), ax, idx, reshape(g, kept))}, x);
    }

    /** log(sum(exp(x))) along an axis, stabilised by the (constant) maximum. */
    public static Tensor logSumExp(Tensor x, int axis, boolean keepDim) {
        Tensor m;
        try (Autograd.Scope s = Autograd.noGrad()) {
            m = Kernels.max(x, axis, true, null);
        }
        Tensor r = add(log(sum(exp(sub(x, m)), new int[] {axis}, true)), m);
        if (keepDim) {
            return r;
        }
        boolean[] red = new boolean[x.rank()];
        red[x.shape().axis(axis)] = true;
        int[] d = x.shape().toArray();
        int[] out = new int[d.length - 1];
        for (int i = 0, j = 0; i < d.length; i++) {
            if (!red[i]) {
                out[j++] = d[i];
            }
        }
        return reshape(r, Shape.of(out));
    }

    /** {@code x - logsumexp(x)} along an axis. */
    public static Tensor logSoftmax(Tensor x, int axis) {
        return sub(x, logSumExp(x, axis, true));
    }

    // ------------------------------------------------------------------------------------------ views and shapes

    public static Tensor reshape(Tensor x, Shape s) {
        if (x.shape().equals(s)) {
            return x;
        }
        Tensor out = Kernels.reshapeData(x, s);
        return record("reshape", out, g -> new Tensor[] {reshape(g, x.shape())}, x);
    }

    public static Tensor permute(Tensor x, int... order) {
        Tensor out = Kernels.permuteView(x, order);
        int[] inv = new int[order.length];
        for (int i = 0; i < order.length; i++) {
            inv[x.shape().axis(order[i])] = i;
        }
        return record("permute", out, g -> new Tensor[] {permute(g, inv)}, x);
    }

    public static Tensor transpose(Tensor x, int a, int b) {
        int[] order = new int[x.rank()];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        int ia = x.shape().axis(a), ib = x.shape().axis(b);
        order[ia] = ib;
        order[ib] = ia;
        return permute(x, order);
    }

    /** The sub-tensor {@code [start, end)} along an axis, as a view. */
    public static Tensor slice(Tensor x, int axis, int start, int end) {
        Tensor out = Kernels.sliceView(x, axis, start, end);
        return record("slice", out, g -> new Tensor[] {embed(g, x.shape(), axis, start)}, x);
    }

    /** Zeros of {@code shape} with x placed at {@code start} along an axis (the adjoint of slice). */
    public static Tensor embed(Tensor x, Shape shape, int axis, int start) {
        int ax = shape.axis(axis);
        if (x.rank() != shape.rank() || start < 0 || start + x.dim(ax) > shape.dim(ax)) {
            throw new ShapeException("embed: " + x.describe() + " does not fit in " + shape + " at " + start + " along axis "
                    + axis);
        }
        Tensor out = Kernels.embed(x, shape, ax, start);
        return record("embed", out, g -> new Tensor[] {slice(g, ax, start, start + x.dim(ax))}, x);
    }

    public static Tensor expand(Tensor x, Shape s) {
        if (x.shape().equals(s)) {
            return x;
        }
        Tensor out = Kernels.expandView(x, s);
        return record("expand", out, g -> new Tensor[] {sumTo(g, x.shape())}, x);
    }

    /** Sums a broadcast tensor back to the shape it was broadcast from. */
    public static Tensor sumTo(Tensor x, Shape s) {
        if (x.shape().equals(s)) {
            return x;
        }
        Tensor out = Kernels.sumTo(x, s);
        return record("sumTo", out, g -> new Tensor[] {expand(g, x.shape())}, x);
    }

    public static Tensor contiguous(Tensor x) {
        if (x.isContiguous()) {
            return x;
        }
        return record("contiguous", Kernels.copy(x), g -> new Tensor[] {g}, x);
    }

    // ------------------------------------------------------------------------------------------ convolution

    /** Unfolds images {@code [N, C, H, W]} into {@code [N, C*kh*kw, outH*outW]}; its adjoint is {@link #col2im}. */
    public static Tensor im2col(Tensor x, ConvGeometry g) {
        return record("im2col", Kernels.im2col(x, g), gr -> new Tensor[] {col2im(gr, g)}, x);
    }

    /** Folds columns back into images, summing overlapping taps; its adjoint is {@link #im2col}. */
    public static Tensor col2im(Tensor cols, ConvGeometry g) {
        return record("col2im", Kernels.col2im(cols, g), gr -> new Tensor[] {im2col(gr, g)}, cols);
    }

    // ------------------------------------------------------------------------------------------ indexing

    public static Tensor gather(Tensor x, int axis, Index idx) {
        Tensor out = Kernels.gather(x, axis, idx);
        return record("gather", out, g -> new Tensor[] {scatterAdd(Tensor.zeros(x.dtype(), x.shape()), axis, idx, g)}, x);
    }

    public static Tensor scatterAdd(Tensor base, int axis, Index idx, Tensor src) {
        Tensor out = Kernels.scatterAdd(base, axis, idx, src);
        return record("scatterAdd", out, g -> new Tensor[] {g, src.requiresGrad() ? gather(g, axis, idx) : null}, base, src);
    }

    public static Tensor concat(int axis, Tensor... parts) {
        Tensor out = Kernels.concat(axis, parts);
        int ax = parts[0].shape().axis(axis);
        return record("concat", out, g -> {
            Tensor[] r = new Tensor[parts.length];
            int at = 0;
            for (int i = 0; i < parts.length; i++) {
                int len = parts[i].dim(ax);
                r[i] = parts[i].requiresGrad() ? slice(g, ax, at, at + len) : null;
                at += len;
            }
            return r;
        }, parts);
    }

    /** {@code cond != 0 ? a : b}, broadcasting all three; no gradient flows to the condition. */
    public static Tensor where(Tensor cond, Tensor a, Tensor b) {
        Tensor out = Kernels.where(cond, a, b);
        Tensor c = cond.detach();
        return record("where", out, g -> {
            Tensor zero = constant(g, 0.0);
            return new Tensor[] {
                    a.requiresGrad() ? sumTo(where(c, g, zero), a.shape()) : null,
                    b.requiresGrad() ? sumTo(where(c, zero, g), b.shape()) : null};
        }, a, b);
    }

}
