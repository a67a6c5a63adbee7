package dev.sprout.tensor;

/**
 * Element types. {@link #F32} is the default; {@link #F64} serves references and gradient checks; {@link #C64}
 * is complex with f32 parts, stored interleaved ({@code re, im}) in a {@code float[]}.
 */
public enum DType {
    F32(4, false), F64(8, false), C64(8, true);

    private final int bytes;
    private final boolean complex;

    DType(int bytes, boolean complex) {
        this.bytes = bytes;
        this.complex = complex;
    }

    /** Bytes per element. */
    public int bytes() {
        return bytes;
    }

    public boolean isComplex() {
        return complex;
    }

    /** Array slots per element: 2 for complex (interleaved), else 1. */
    public int slots() {
        return complex ? 2 : 1;
    }

    @Override
    public String toString() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
