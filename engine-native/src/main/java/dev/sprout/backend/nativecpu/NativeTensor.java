package dev.sprout.backend.nativecpu;

import dev.sprout.tensor.DType;
import dev.sprout.tensor.Shape;
import dev.sprout.tensor.Tensor;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;

/**
 * A row-major f32 or f64 tensor in off-heap memory, owned by a {@link NativeScope} and released with it (or earlier
 * by {@link #close()}). Operate on it with {@link NativeBackend#matmul} and {@link NativeBackend#activation(
 * dev.sprout.backend.Activation, int, double, NativeTensor, NativeTensor)}; move data with {@link #copyFrom} and
 * {@link #toTensor}. Every use of a released tensor throws an {@link IllegalStateException} naming it; shapes and
 * dtypes are checked in Java before any native call.
 */
public final class NativeTensor implements AutoCloseable {
    private final NativeScope scope;
    private final DType dtype;
    private final Shape shape;
    private final int numel;
    private Pointer memory;

    NativeTensor(NativeScope scope, DType dtype, Shape shape) {
        if (dtype != DType.F32 && dtype != DType.F64) {
            throw new IllegalArgumentException("native tensor: " + dtype + " is not supported (f32 or f64)");
        }
        long n = shape.numel();
        if (n > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("native tensor: " + dtype + shape + " has " + n + " elements (at most 2^31 - 9)");
        }
        this.scope = scope;
        this.dtype = dtype;
        this.shape = shape;
        this.numel = (int) n;
        // JavaCPP accounts the allocation against maxBytes (OutOfMemoryError past it); new[] does not clear it
        Pointer m = dtype == DType.F32 ? new FloatPointer(Math.max(1, numel)) : new DoublePointer(Math.max(1, numel));
        this.memory = m.zero();
    }

    public DType dtype() {
        return dtype;
    }

    public Shape shape() {
        return shape;
    }

    public int numel() {
        return numel;
    }

    public int rank() {
        return shape.rank();
    }

    public int dim(int axis) {
        return shape.dim(axis);
    }

    public boolean isOpen() {
        return memory != null;
    }

    /** Bytes of its memory (0 once released). */
    public long bytes() {
        return memory == null ? 0 : (long) numel * (dtype == DType.F32 ? 4 : 8);
    }

    /** {@code f32[2, 3]} plus the scope's name, for messages. */
    public String describe() {
        return dtype.name().toLowerCase() + shape + " of native scope '" + scope.name() + "'";
    }

    /** Copies a heap tensor of the same dtype and shape (any layout) into this one. */
    public void copyFrom(Tensor t) {
        requireOpen("copyFrom");
        if (t.dtype() != dtype || !t.shape().equals(shape)) {
            throw new IllegalArgumentException("copyFrom: " + t.describe() + " does not match " + describe());
        }
        Tensor c = t.contiguousData();
        if (dtype == DType.F32) {
            ((FloatPointer) memory).put(c.storage().floats(), c.offset(), numel);
        } else {
            ((DoublePointer) memory).put(c.storage().doubles(), c.offset(), numel);
        }
    }

    /** A heap copy. */
    public Tensor toTensor() {
        requireOpen("toTensor");
        Tensor t = Tensor.zeros(dtype, shape);
        if (dtype == DType.F32) {
            ((FloatPointer) memory).get(t.storage().floats(), 0, numel);
        } else {
            ((DoublePointer) memory).get(t.storage().doubles(), 0, numel);
        }
        return t;
    }

    /** Releases the memory now (the scope then skips it); closing again does nothing. */
    @Override
    public void close() {
        if (memory != null) {
            Pointer m = memory;
            memory = null;
            m.deallocate();
        }
    }

    /** The memory, after checking that it is still held: every native call goes through here. */
    Pointer memory(String op) {
        requireOpen(op);
        return memory;
    }

    FloatPointer floats(String op) {
        requireOpen(op);
        if (dtype != DType.F32) {
            throw new IllegalArgumentException(op + ": " + describe() + " is not f32");
        }
        return (FloatPointer) memory;
    }

    DoublePointer doubles(String op) {
        requireOpen(op);
        if (dtype != DType.F64) {
            throw new IllegalArgumentException(op + ": " + describe() + " is not f64");
        }
        return (DoublePointer) memory;
    }

    private void requireOpen(String op) {
        if (memory == null) {
            throw new IllegalStateException(op + ": " + describe() + " was released (its scope closed or close() was"
                    + " called)");
        }
    }

    @Override
    public String toString() {
        return describe() + (isOpen() ? "" : " (released)");
    }
}
