package dev.sprout.backend;

/** Argument checks shared by backends: every kernel validates sizes and bounds before touching memory. */
public final class Checks {
    private Checks() {
    }

    /** Fails unless every size is non-negative. */
    public static void sizes(String op, String names, int... sizes) {
        for (int s : sizes) {
            if (s < 0) {
                throw new IllegalArgumentException(op + ": negative size among " + names + " = " + java.util.Arrays.toString(sizes));
            }
        }
    }

    /** Fails unless {@code [off, off + count)} lies inside an array of {@code length} slots. */
    public static void range(String op, String operand, int length, int off, long count) {
        if (off < 0 || count < 0 || off + count > length) {
            throw new IndexOutOfBoundsException(op + ": operand " + operand + " needs " + count + " values at offset " + off
                    + " but its array has " + length);
        }
    }

    public static void notNull(String op, String operand, Object array) {
        if (array == null) {
            throw new NullPointerException(op + ": operand " + operand + " is null");
        }
    }
}
