package dev.sprout.tensor;

/**
 * The flat memory behind one or more tensors (views share it). Heap arrays: {@code float[]} for f32 and c64
 * (interleaved), {@code double[]} for f64. Length counts elements of the dtype, not array slots.
 */
public final class Storage {
    private final DType dtype;
    private final float[] floats;
    private final double[] doubles;
    private final int length;

    private Storage(DType dtype, float[] floats, double[] doubles, int length) {
        this.dtype = dtype;
        this.floats = floats;
        this.doubles = doubles;
        this.length = length;
    }

    public static Storage allocate(DType dtype, int length) {
        return switch (dtype) {
            case F32 -> new Storage(dtype, new float[length], null, length);
            case C64 -> new Storage(dtype, new float[2 * length], null, length);
            case F64 -> new Storage(dtype, null, new double[length], length);
        };
    }

    /** Wraps (does not copy) a float array as f32, or as c64 when {@code complex} (then its length must be even). */
    public static Storage wrap(float[] data, boolean complex) {
        if (complex && data.length % 2 != 0) {
            throw new IllegalArgumentException("c64 data must hold re,im pairs: odd length " + data.length);
        }
        return new Storage(complex ? DType.C64 : DType.F32, data, null, complex ? data.length / 2 : data.length);
    }

    public static Storage wrap(double[] data) {
        return new Storage(DType.F64, null, data, data.length);
    }

    public DType dtype() {
        return dtype;
    }

    /** Elements (complex elements for c64). */
    public int length() {
        return length;
    }

    /** The backing array of an f32 or c64 storage. */
    public float[] floats() {
        if (floats == null) {
            throw new IllegalStateException("storage is " + dtype + ", not f32/c64");
        }
        return floats;
    }

    /** The backing array of an f64 storage. */
    public double[] doubles() {
        if (doubles == null) {
            throw new IllegalStateException("storage is " + dtype + ", not f64");
        }
        return doubles;
    }
}
