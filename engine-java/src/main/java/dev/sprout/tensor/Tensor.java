package dev.sprout.tensor;

import dev.sprout.autograd.Node;
import dev.sprout.autograd.Ops;

import java.util.Arrays;
import java.util.Locale;

/**
 * An n-dimensional array: a {@link Storage}, a {@link Shape}, row-major element strides and an offset. Views
 * (reshape, transpose, permute, slice, expand) share storage where the strides allow; {@link #contiguous()}
 * copies when they do not.
 *
 * <p>Arithmetic methods are differentiable: when gradient recording is on ({@link dev.sprout.autograd.Autograd})
 * and an operand {@link #requiresGrad()}, the result remembers how it was made. Methods whose names end in
 * {@code _} modify this tensor in place and are never recorded (optimizers and initialisers use them).
 */
public final class Tensor {
    private final Storage storage;
    private final Shape shape;
    private final int[] strides;
    private final int offset;

    private boolean requiresGrad;
    private Tensor grad;
    private Tensor spareGrad;
    private Node gradFn;
    private String name;

    private Tensor(Storage storage, Shape shape, int[] strides, int offset) {
        this.storage = storage;
        this.shape = shape;
        this.strides = strides;
        this.offset = offset;
    }

    // ------------------------------------------------------------------------------------------ creation

    /** A tensor over the given storage, contiguous. */
    public static Tensor wrap(Storage storage, Shape shape) {
        if (storage.length() != shape.numel()) {
            throw new ShapeException("wrap: storage of " + storage.length() + " elements cannot hold shape " + shape);
        }
        return new Tensor(storage, shape, shape.contiguousStrides(), 0);
    }

    /** A view on the same storage; strides are in elements. Bounds are checked. */
    public static Tensor view(Storage storage, Shape shape, int[] strides, int offset) {
        if (strides.length != shape.rank()) {
            throw new ShapeException("view: " + strides.length + " strides for shape " + shape);
        }
        if (shape.numel() > 0) {
            long lo = offset, hi = offset;
            for (int i = 0; i < strides.length; i++) {
                long span = (long) (shape.dim(i) - 1) * strides[i];
                if (span < 0) {
                    lo += span;
                } else {
                    hi += span;
                }
            }
            if (lo < 0 || hi >= storage.length()) {
                throw new ShapeException("view: shape " + shape + " strides " + Arrays.toString(strides) + " offset "
                        + offset + " reaches outside a storage of " + storage.length() + " elements");
            }
        }
        return new Tensor(storage, shape, strides.clone(), offset);
    }

    public static Tensor zeros(DType dtype, int... dims) {
        Shape s = Shape.of(dims);
        return wrap(Storage.allocate(dtype, s.numel()), s);
    }

    public static Tensor zeros(int... dims) {
        return zeros(DType.F32, dims);
    }

    public static Tensor zeros(DType dtype, Shape s) {
        return wrap(Storage.allocate(dtype, s.numel()), s);
    }

    public static Tensor ones(DType dtype, int... dims) {
        return full(dtype, 1.0, dims);
    }

    public static Tensor full(DType dtype, double value, int... dims) {
        Tensor t = zeros(dtype, dims);
        t.fill_(value);
        return t;
    }

    /** A rank-0 tensor. */
    public static Tensor scalar(DType dtype, double value) {
        return full(dtype, value);
    }

    /** {@code start, start+step, ...} below {@code end}, as a vector. */
    public static Tensor arange(DType dtype, double start, double end, double step) {
        if (step == 0 || !Double.isFinite(start) || !Double.isFinite(end) || !Double.isFinite(step)) {
            throw new IllegalArgumentException("arange: invalid range start=" + start + " end=" + end + " step=" + step);
        }
        int n = (int) Math.max(0, Math.ceil((end - start) / step));
        Tensor t = zeros(dtype, n);
        for (int i = 0; i < n; i++) {
            t.setFlat(i, start + i * step);
        }
        return t;
    }

    public static Tensor arange(int n) {
        return arange(DType.F32, 0, n, 1);
    }

    /** An f32 tensor holding a copy of {@code data}, shaped {@code dims} (no dims: a vector). */
    public static Tensor of(float[] data, int... dims) {
        Shape s = dims.length == 0 ? Shape.of(data.length) : Shape.of(dims);
        if (s.numel() != data.length) {
            throw new ShapeException("of: " + data.length + " values do not fill shape " + s);
        }
        return wrap(Storage.wrap(data.clone(), false), s);
    }

    /** An f64 tensor holding a copy of {@code data}. */
    public static Tensor of(double[] data, int... dims) {
        Shape s = dims.length == 0 ? Shape.of(data.length) : Shape.of(dims);
        if (s.numel() != data.length) {
            throw new ShapeException("of: " + data.length + " values do not fill shape " + s);
        }
        return wrap(Storage.wrap(data.clone()), s);
    }

    /** A c64 tensor from interleaved {@code re, im} pairs (copied). */
    public static Tensor complex(float[] interleaved, int... dims) {
        Shape s = dims.length == 0 ? Shape.of(interleaved.length / 2) : Shape.of(dims);
        if (2L * s.numel() != interleaved.length) {
            throw new ShapeException("complex: " + interleaved.length + " floats do not fill c64 shape " + s);
        }
        return wrap(Storage.wrap(interleaved.clone(), true), s);
    }

    /** Standard normal entries scaled by {@code std}. For c64 both parts are drawn, each with std/sqrt(2). */
    public static Tensor randn(Rng rng, DType dtype, double std, int... dims) {
        Tensor t = zeros(dtype, dims);
        int n = t.numel();
        if (dtype == DType.C64) {
            float[] f = t.storage.floats();
            double s = std / Math.sqrt(2);
            for (int i = 0; i < 2 * n; i++) {
                f[i] = (float) (s * rng.normal());
            }
        } else {
            for (int i = 0; i < n; i++) {
                t.setFlat(i, std * rng.normal());
            }
        }
        return t;
    }

    public static Tensor randn(Rng rng, int... dims) {
        return randn(rng, DType.F32, 1.0, dims);
    }

    /** Uniform entries in [lo, hi). */
    public static Tensor rand(Rng rng, DType dtype, double lo, double hi, int... dims) {
        if (dtype.isComplex()) {
            throw new IllegalArgumentException("rand: uniform c64 is not defined; use randn");
        }
        Tensor t = zeros(dtype, dims);
        for (int i = 0; i < t.numel(); i++) {
            t.setFlat(i, lo + (hi - lo) * rng.uniform());
        }
        return t;
    }

    // ------------------------------------------------------------------------------------------ metadata

    public Shape shape() {
        return shape;
    }

    public int dim(int i) {
        return shape.dim(i);
    }

    public int rank() {
        return shape.rank();
    }

    public int numel() {
        return shape.numel();
    }

    public DType dtype() {
        return storage.dtype();
    }

    public Storage storage() {
        return storage;
    }

    public int[] strides() {
        return strides.clone();
    }

    public int stride(int axis) {
        return strides[shape.axis(axis)];
    }

    public int offset() {
        return offset;
    }

    /** Whether the elements lie in row-major order without gaps (then the data starts at {@link #offset()}). */
    public boolean isContiguous() {
        int acc = 1;
        for (int i = shape.rank() - 1; i >= 0; i--) {
            int d = shape.dim(i);
            if (d != 1 && strides[i] != acc) {
                return false;
            }
            acc *= d;
        }
        return true;
    }

    /** "f32[2, 3]", used in error messages. */
    public String describe() {
        return (name != null ? name + ": " : "") + dtype() + shape;
    }

    public String name() {
        return name;
    }

    /** Names this tensor in error messages and diagnostics; returns this. */
    public Tensor named(String n) {
        this.name = n;
        return this;
    }

    // ------------------------------------------------------------------------------------------ autograd state

    public boolean requiresGrad() {
        return requiresGrad;
    }

    /** Marks a leaf as a parameter whose gradient {@link #backward()} accumulates into {@link #grad()}. */
    public Tensor requiresGrad(boolean value) {
        if (value && dtype().isComplex()) {
            throw new UnsupportedOperationException("requiresGrad: complex (c64) tensors have no autograd support;"
                    + " complex kernels (gemm, LU) are available through the backend");
        }
        if (!value && gradFn != null) {
            throw new IllegalStateException("requiresGrad(false) on a non-leaf tensor; use detach()");
        }
        this.requiresGrad = value;
        return this;
    }

    public Tensor grad() {
        return grad;
    }

    /** Sets (or, with null, drops) the gradient; storage kept by {@link #clearGrad()} is dropped too. */
    public void setGrad(Tensor g) {
        if (g != null && !g.shape.equals(shape)) {
            throw new ShapeException("setGrad: gradient " + g.describe() + " for tensor " + describe());
        }
        this.grad = g;
        this.spareGrad = null;
    }

    /**
     * Clears the gradient ({@link #grad()} becomes null) but keeps its storage for the next
     * {@link dev.sprout.autograd.Autograd#backward}, which may write this tensor's new gradient into it instead of
     * into fresh memory (as PyTorch's {@code zero_grad(set_to_none=False)} reuses gradient tensors). A gradient
     * tensor obtained before this call may therefore change at the next backward: copy it to keep its values.
     * Only a contiguous gradient that owns its whole storage is kept.
     */
    public void clearGrad() {
        Tensor g = grad;
        grad = null;
        spareGrad = g != null && g.dtype() == dtype() && g.offset == 0 && g.isContiguous()
                && g.storage.length() == g.numel() ? g : null;
    }

    /**
     * Engine use: the storage kept by {@link #clearGrad()}, as a contiguous tensor of this tensor's shape, handed
     * out once (null when there is none); its contents are stale and must be overwritten.
     */
    public Tensor takeSpareGrad() {
        Tensor g = spareGrad;
        spareGrad = null;
        return g != null && grad == null && g.shape.equals(shape) ? new Tensor(g.storage, shape, g.strides, 0) : null;
    }

    public Node gradFn() {
        return gradFn;
    }

    /** Internal: set by {@link Ops} when it records an operation. */
    public void attach(Node node) {
        this.gradFn = node;
        this.requiresGrad = true;
    }

    public boolean isLeaf() {
        return gradFn == null;
    }

    /** A tensor sharing this one's data, cut from the graph. */
    public Tensor detach() {
        return new Tensor(storage, shape, strides, offset);
    }

    /** Back-propagates from this scalar, accumulating into the {@link #grad()} of every leaf that requires it. */
    public void backward() {
        dev.sprout.autograd.Autograd.backward(this);
    }

    // ------------------------------------------------------------------------------------------ element access

    /** Storage index of a multi-index. */
    public int index(int... idx) {
        if (idx.length != shape.rank()) {
            throw new ShapeException("index: " + idx.length + " indices for " + describe());
        }
        int p = offset;
        for (int i = 0; i < idx.length; i++) {
            if (idx[i] < 0 || idx[i] >= shape.dim(i)) {
                throw new IndexOutOfBoundsException("index " + Arrays.toString(idx) + " out of bounds for " + describe());
            }
            p += idx[i] * strides[i];
        }
        return p;
    }

    /** Storage index of the element at row-major position {@code flat}. */
    public int flatIndex(int flat) {
        int p = offset;
        for (int i = shape.rank() - 1; i >= 0; i--) {
            int d = shape.dim(i);
            p += (flat % d) * strides[i];
            flat /= d;
        }
        return p;
    }

    public double get(int... idx) {
        return read(index(idx));
    }

    public void set(double value, int... idx) {
        write(index(idx), value);
    }

    /** Element at row-major position {@code i} (real part for c64). */
    public double getFlat(int i) {
        return read(flatIndex(i));
    }

    public void setFlat(int i, double value) {
        write(flatIndex(i), value);
    }

    /** The value of a one-element tensor. */
    public double item() {
        if (numel() != 1) {
            throw new ShapeException("item: tensor " + describe() + " has " + numel() + " elements, not 1");
        }
        return read(offset);
    }

    private double read(int p) {
        return switch (dtype()) {
            case F32 -> storage.floats()[p];
            case F64 -> storage.doubles()[p];
            case C64 -> storage.floats()[2 * p];
        };
    }

    private void write(int p, double v) {
        switch (dtype()) {
            case F32 -> storage.floats()[p] = (float) v;
            case F64 -> storage.doubles()[p] = v;
            case C64 -> {
                storage.floats()[2 * p] = (float) v;
                storage.floats()[2 * p + 1] = 0f;
            }
        }
    }

    /** Real and imaginary part of a c64 element at row-major position {@code i}. */
    public float[] getComplexFlat(int i) {
        int p = flatIndex(i);
        float[] f = storage.floats();
        return new float[] {f[2 * p], f[2 * p + 1]};
    }

    /** The elements in row-major order, as f32 (real parts for c64). */
    public float[] toFloatArray() {
        Tensor c = contiguousData();
        if (dtype() == DType.F32) {
            return Arrays.copyOfRange(c.storage.floats(), c.offset, c.offset + numel());
        }
        float[] out = new float[numel()];
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) c.read(c.offset + i);
        }
        return out;
    }

    /** The elements in row-major order, as f64 (real parts for c64). */
    public double[] toDoubleArray() {
        Tensor c = contiguousData();
        if (dtype() == DType.F64) {
            return Arrays.copyOfRange(c.storage.doubles(), c.offset, c.offset + numel());
        }
        double[] out = new double[numel()];
        for (int i = 0; i < out.length; i++) {
            out[i] = c.read(c.offset + i);
        }
        return out;
    }

    /** Interleaved {@code re, im} of a c64 tensor in row-major order. */
    public float[] toComplexArray() {
        if (dtype() != DType.C64) {
            throw new IllegalStateException("toComplexArray on " + describe());
        }
        Tensor c = contiguousData();
        return Arrays.copyOfRange(c.storage.floats(), 2 * c.offset, 2 * (c.offset + numel()));
    }

    /** This tensor if contiguous, else a contiguous copy (not recorded by autograd). */
    public Tensor contiguousData() {
        return isContiguous() ? this : Kernels.copy(this);
    }

    // ------------------------------------------------------------------------------------------ in place

    private void checkInPlace(String op) {
        if (requiresGrad && dev.sprout.autograd.Autograd.isRecording()) {
            throw new IllegalStateException(op + ": in-place change of " + describe()
                    + " which requires grad while gradients are recorded; wrap it in Autograd.noGrad()");
        }
    }

    /** Sets every element to {@code value}; returns this. */
    public Tensor fill_(double value) {
        checkInPlace("fill_");
        Kernels.fill(this, value);
        return this;
    }

    /** Copies {@code src} (same shape, same dtype) into this tensor; returns this. */
    public Tensor copy_(Tensor src) {
        checkInPlace("copy_");
        Kernels.checkSame("copy_", this, src);
        Kernels.assign(this, src);
        return this;
    }

    /** {@code this += alpha * other} (same shape); returns this. */
    public Tensor addScaled_(Tensor other, double alpha) {
        checkInPlace("addScaled_");
        Kernels.checkSame("addScaled_", this, other);
        Kernels.axpy(this, other, alpha);
        return this;
    }

    /** {@code this *= alpha}; returns this. */
    public Tensor scale_(double alpha) {
        checkInPlace("scale_");
        Kernels.scaleInPlace(this, alpha);
        return this;
    }

    // ------------------------------------------------------------------------------------------ differentiable ops

    public Tensor add(Tensor o) { return Ops.add(this, o); }
    public Tensor sub(Tensor o) { return Ops.sub(this, o); }
    public Tensor mul(Tensor o) { return Ops.mul(this, o); }
    public Tensor div(Tensor o) { return Ops.div(this, o); }
    public Tensor add(double s) { return Ops.add(this, Ops.constant(this, s)); }
    public Tensor sub(double s) { return Ops.sub(this, Ops.constant(this, s)); }
    public Tensor mul(double s) { return Ops.scale(this, s); }
    public Tensor div(double s) { return Ops.scale(this, 1.0 / s); }
    public Tensor neg() { return Ops.neg(this); }
    public Tensor exp() { return Ops.exp(this); }
    public Tensor log() { return Ops.log(this); }
    public Tensor sqrt() { return Ops.sqrt(this); }
    public Tensor square() { return Ops.mul(this, this); }
    public Tensor pow(double p) { return Ops.pow(this, p); }
    public Tensor abs() { return Ops.abs(this); }
    public Tensor sin() { return Ops.sin(this); }
    public Tensor cos() { return Ops.cos(this); }
    public Tensor tanh() { return Ops.activation(this, dev.sprout.backend.Activation.TANH, 0, 1.0); }
    public Tensor sigmoid() { return Ops.activation(this, dev.sprout.backend.Activation.SIGMOID, 0, 1.0); }
    public Tensor relu() { return Ops.activation(this, dev.sprout.backend.Activation.RELU, 0, 1.0); }
    public Tensor softplus(double beta) { return Ops.activation(this, dev.sprout.backend.Activation.SOFTPLUS, 0, beta); }
    public Tensor matmul(Tensor o) { return Ops.matmul(this, o); }
    public Tensor sum() { return Ops.sum(this, allAxes(), false); }
    /** {@code sum(this * o)} over all elements (same shapes), without the product tensor. */
    public Tensor dot(Tensor o) { return Ops.dot(this, o); }
    public Tensor sum(int axis, boolean keepDim) { return Ops.sum(this, new int[] {axis}, keepDim); }
    public Tensor mean() { return Ops.mean(this, allAxes(), false); }
    public Tensor mean(int axis, boolean keepDim) { return Ops.mean(this, new int[] {axis}, keepDim); }
    public Tensor max(int axis, boolean keepDim) { return Ops.max(this, axis, keepDim); }
    public Index argmax(int axis) { return Kernels.argmax(this, axis); }
    public Tensor reshape(int... dims) { return Ops.reshape(this, Shape.of(inferDims(dims))); }
    public Tensor transpose(int a, int b) { return Ops.transpose(this, a, b); }
    public Tensor permute(int... order) { return Ops.permute(this, order); }
    public Tensor slice(int axis, int start, int end) { return Ops.slice(this, axis, start, end); }
    public Tensor expand(int... dims) { return Ops.expand(this, Shape.of(dims)); }
    public Tensor contiguous() { return Ops.contiguous(this); }
    public Tensor gather(int axis, Index idx) { return Ops.gather(this, axis, idx); }
    public Tensor gt(Tensor o) { return Kernels.compare(Kernels.Cmp.GT, this, o); }
    public Tensor lt(Tensor o) { return Kernels.compare(Kernels.Cmp.LT, this, o); }
    public Tensor ge(Tensor o) { return Kernels.compare(Kernels.Cmp.GE, this, o); }
    public Tensor le(Tensor o) { return Kernels.compare(Kernels.Cmp.LE, this, o); }
    public Tensor eq(Tensor o) { return Kernels.compare(Kernels.Cmp.EQ, this, o); }
    /** A copy in another dtype (not recorded by autograd). */
    public Tensor to(DType dt) { return Kernels.convert(this, dt); }

    private int[] allAxes() {
        int[] a = new int[rank()];
        for (int i = 0; i < a.length; i++) {
            a[i] = i;
        }
        return a;
    }

    /** Resolves one {@code -1} in a reshape request. */
    private int[] inferDims(int[] dims) {
        int unknown = -1;
        long known = 1;
        for (int i = 0; i < dims.length; i++) {
            if (dims[i] == -1) {
                if (unknown >= 0) {
                    throw new ShapeException("reshape: more than one -1 in " + Arrays.toString(dims));
                }
                unknown = i;
            } else {
                known *= dims[i];
            }
        }
        if (unknown < 0) {
            return dims;
        }
        if (known == 0 || numel() % known != 0) {
            throw new ShapeException("reshape: cannot reshape " + describe() + " to " + Arrays.toString(dims));
        }
        int[] d = dims.clone();
        d[unknown] = (int) (numel() / known);
        return d;
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("Tensor(").append(dtype()).append(shape);
        if (requiresGrad) {
            sb.append(", requiresGrad");
        }
        if (gradFn != null) {
            sb.append(", fn=").append(gradFn.op());
        }
        if (numel() <= 16) {
            sb.append(", ");
            if (dtype() == DType.C64) {
                float[] c = toComplexArray();
                sb.append('[');
                for (int i = 0; i < numel(); i++) {
                    sb.append(i > 0 ? ", " : "").append(String.format(Locale.ROOT, "%g%+gi", c[2 * i], c[2 * i + 1]));
                }
                sb.append(']');
            } else {
                sb.append(Arrays.toString(toDoubleArray()));
            }
        }
        return sb.append(')').toString();
    }
}
