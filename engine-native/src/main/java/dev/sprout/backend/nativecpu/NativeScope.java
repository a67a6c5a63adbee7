package dev.sprout.backend.nativecpu;

import dev.sprout.tensor.DType;
import dev.sprout.tensor.Shape;
import dev.sprout.tensor.Tensor;

import java.util.ArrayList;
import java.util.List;

/**
 * An arena of off-heap memory for {@link NativeTensor}s: every tensor allocated in a scope is released when the scope
 * closes (try-with-resources), or earlier by its own {@link NativeTensor#close()}. For code that links Sprout as a
 * low-level engine and keeps its operands in native memory between kernel calls (no heap arrays, no pinning); the
 * training path works on heap tensors and does not need it.
 *
 * <pre>
 * try (NativeScope scope = NativeScope.open("layer")) {
 *     NativeTensor x = scope.copyOf(batch), w = scope.copyOf(weight), y = scope.allocate(DType.F32, 128, 1024);
 *     backend.matmul(x, false, w, true, y, 1.0, 0.0);
 *     Tensor out = y.toTensor();
 * } // x, w, y released here
 * </pre>
 *
 * <p>Memory comes from JavaCPP ({@code malloc} with its accounting: {@code org.bytedeco.javacpp.maxBytes} caps it and
 * an allocation past the cap is an {@link OutOfMemoryError} naming the sizes); JavaCPP's garbage-collection
 * deallocator is only a safety net for a scope that was never closed. A released tensor refuses every use with an
 * {@link IllegalStateException} naming it, before any native call. Not thread-safe: close a scope only when no
 * call on its tensors is running.
 */
public final class NativeScope implements AutoCloseable {
    private final String name;
    private final List<NativeTensor> tensors = new ArrayList<>();
    private boolean closed;

    private NativeScope(String name) {
        this.name = name;
    }

    /** A new, empty scope; {@code name} appears in the messages about its tensors. */
    public static NativeScope open(String name) {
        return new NativeScope(name == null ? "unnamed" : name);
    }

    public String name() {
        return name;
    }

    public boolean isOpen() {
        return !closed;
    }

    /** A zero-filled native tensor of {@code dtype} (f32 or f64) and shape {@code dims}, owned by this scope. */
    public NativeTensor allocate(DType dtype, int... dims) {
        if (closed) {
            throw new IllegalStateException("native scope '" + name + "' is closed: cannot allocate " + dtype + Shape.of(dims));
        }
        NativeTensor t = new NativeTensor(this, dtype, Shape.of(dims));
        tensors.add(t);
        return t;
    }

    /** A native copy of a heap tensor (any layout), owned by this scope. */
    public NativeTensor copyOf(Tensor t) {
        NativeTensor n = allocate(t.dtype(), t.shape().toArray());
        n.copyFrom(t);
        return n;
    }

    /** Bytes held by this scope's open tensors. */
    public long bytes() {
        long b = 0;
        for (NativeTensor t : tensors) {
            b += t.isOpen() ? t.bytes() : 0;
        }
        return b;
    }

    /** Releases every tensor of this scope that is still open; closing again does nothing. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (NativeTensor t : tensors) {
            t.close();
        }
        tensors.clear();
    }
}
