package dev.sprout.linalg;

/**
 * Argument checks shared by the linear-algebra kernels. Every check runs before any work, and every message
 * names the operation and the operand, e.g. {@code "symEig: a needs 4096 elements at offset 0 but has 4000"}.
 * Sizes are computed in {@code long} so that a product of large dimensions cannot wrap around.
 */
final class Check {
    private Check() {
    }

    /** {@code value >= 0}, else {@link IllegalArgumentException}. */
    static void nonNegative(String op, String name, int value) {
        if (value < 0) {
            throw new IllegalArgumentException(op + ": " + name + " must be >= 0 but is " + value);
        }
    }

    /** The operand is present, else {@link NullPointerException} naming it. */
    static void notNull(String op, String name, Object array) {
        if (array == null) {
            throw new NullPointerException(op + ": " + name + " is null");
        }
    }

    static void fits(String op, String name, double[] array, int off, long needed) {
        notNull(op, name, array);
        fits(op, name, array.length, off, needed, "");
    }

    static void fits(String op, String name, float[] array, int off, long needed) {
        notNull(op, name, array);
        fits(op, name, array.length, off, needed, "");
    }

    static void fits(String op, String name, int[] array, int off, long needed) {
        notNull(op, name, array);
        fits(op, name, array.length, off, needed, "");
    }

    /** Interleaved complex data in a {@code float[]}: offsets and counts are complex elements (two floats each). */
    static void fitsComplex(String op, String name, float[] array, int off, long needed) {
        notNull(op, name, array);
        fits(op, name, array.length / 2, off, needed, "complex ");
    }

    /** Interleaved complex data in a {@code double[]}: offsets and counts are complex elements. */
    static void fitsComplex(String op, String name, double[] array, int off, long needed) {
        notNull(op, name, array);
        fits(op, name, array.length / 2, off, needed, "complex ");
    }

    private static void fits(String op, String name, int length, int off, long needed, String unit) {
        if (off < 0) {
            throw new IndexOutOfBoundsException(op + ": " + name + " offset " + off + " is negative");
        }
        if (needed > (long) length - off) {
            throw new IndexOutOfBoundsException(op + ": " + name + " needs " + needed + " " + unit + "elements at offset "
                    + off + " but has " + length);
        }
    }

    /**
     * The ranges {@code [off1, off1 + len1)} of {@code array1} and {@code [off2, off2 + len2)} of {@code array2}
     * do not overlap (only possible when both are the same array), else {@link IllegalArgumentException}.
     */
    static void disjoint(String op, String name1, Object array1, long off1, long len1,
                         String name2, Object array2, long off2, long len2) {
        if (array1 == array2 && len1 > 0 && len2 > 0 && off1 < off2 + len2 && off2 < off1 + len1) {
            throw new IllegalArgumentException(op + ": " + name2 + " overlaps " + name1);
        }
    }
}
