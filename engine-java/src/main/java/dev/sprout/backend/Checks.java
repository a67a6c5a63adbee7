package dev.sprout.backend;

import java.util.Arrays;

/** Argument checks shared by backends: every kernel validates sizes and bounds before touching memory. */
public final class Checks {
    private Checks() {
    }

    /** Fails unless every size is non-negative. */
    public static void sizes(String op, String names, int... sizes) {
        for (int s : sizes) {
            if (s < 0) {
                throw new IllegalArgumentException(op + ": negative size among " + names + " = " + Arrays.toString(sizes));
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

    /**
     * Checks axpy's operands (float[] or double[] of the same kind): not null, both ranges inside their arrays,
     * {@code n >= 0}, and no partial overlap (the same array is allowed only at the same offset).
     */
    public static void axpy(Object x, int xOff, Object y, int yOff, int n) {
        notNull("axpy", "x", x);
        notNull("axpy", "y", y);
        if (n < 0) {
            throw new IllegalArgumentException("axpy: negative length " + n);
        }
        range("axpy", "x", java.lang.reflect.Array.getLength(x), xOff, n);
        range("axpy", "y", java.lang.reflect.Array.getLength(y), yOff, n);
        if (x == y && xOff != yOff && n > 0 && xOff < yOff + n && yOff < xOff + n) {
            throw new IllegalArgumentException("axpy: x [" + xOff + ", " + (xOff + n) + ") and y [" + yOff + ", "
                    + (yOff + n) + ") overlap in one array at different offsets");
        }
    }

    public static void notNull(String op, String operand, Object array) {
        if (array == null) {
            throw new NullPointerException(op + ": operand " + operand + " is null");
        }
    }

    /**
     * Checks a gemm's operands: shape not null, C not null, A and B not null where they will be read, every element
     * touched inside its array ({@link GemmShape#checkBounds}), and C not overlapping A or B. Lengths and offsets in
     * elements (complex elements for cgemm).
     *
     * @return whether A and B will be read (m, n, batch > 0, k > 0 and alpha != 0)
     */
    public static boolean gemm(String op, GemmShape g, boolean alphaNonZero, Object a, long aLen, long aOff, Object b,
                               long bLen, long bOff, Object c, long cLen, long cOff) {
        if (g == null) {
            throw new NullPointerException(op + ": shape is null");
        }
        boolean empty = g.batch() == 0 || g.m() == 0 || g.n() == 0;
        boolean reads = !empty && g.k() > 0 && alphaNonZero;
        if (c == null) {
            throw new NullPointerException(op + ": operand C is null");
        }
        if (reads && a == null) {
            throw new NullPointerException(op + ": operand A is null");
        }
        if (reads && b == null) {
            throw new NullPointerException(op + ": operand B is null");
        }
        try {
            g.checkBounds(aLen, aOff, bLen, bOff, cLen, cOff);
        } catch (IndexOutOfBoundsException e) {
            throw new IndexOutOfBoundsException(op + " " + g + ": " + e.getMessage());
        }
        if (reads) {
            int colsA = g.transA().transposed() ? g.m() : g.k();
            int colsB = g.transB().transposed() ? g.k() : g.n();
            noOverlap(op, g, "A", a, aOff, g.storedRowsA(), colsA, g.lda(), g.strideA(), c, cOff);
            noOverlap(op, g, "B", b, bOff, g.storedRowsB(), colsB, g.ldb(), g.strideB(), c, cOff);
        }
        return reads;
    }

    /** Most row segments the exact overlap test will sort; beyond it, overlapping extents are refused outright. */
    private static final int MAX_SEGMENTS = 1 << 22;

    /**
     * Fails if the elements C writes overlap the elements input X reads: only possible when they are the same
     * storage object (a host array, or a device buffer of an accelerated backend), so {@code x} and {@code c}
     * are compared by identity, and offsets count elements of that storage.
     */
    public static void noOverlap(String op, GemmShape g, String name, Object x, long xOff, int rows, int cols, int ld,
                                  long stride, Object c, long cOff) {
        if (x != c) {
            return;
        }
        int batch = g.batch();
        long xEnd = xOff + (batch - 1) * stride + (long) (rows - 1) * ld + cols;
        long cEnd = cOff + (batch - 1) * g.strideC() + (long) (g.m() - 1) * g.ldc() + g.n();
        if (xEnd <= cOff || cEnd <= xOff) {
            return; // disjoint extents
        }
        int xBatch = stride == 0 ? 1 : batch;
        long segments = (long) xBatch * rows + (long) batch * g.m();
        boolean overlap = true;
        if (segments <= MAX_SEGMENTS) {
            // sweep over all row segments of both, sorted by start: a C segment overlaps X iff it starts before the
            // furthest end of the X segments that started before it (and vice versa)
            long[] starts = new long[(int) segments];
            int s = 0;
            for (int bi = 0; bi < xBatch; bi++) {
                for (int r = 0; r < rows; r++) {
                    starts[s++] = ((xOff + bi * stride + (long) r * ld) << 1); // even: X
                }
            }
            for (int bi = 0; bi < batch; bi++) {
                for (int r = 0; r < g.m(); r++) {
                    starts[s++] = ((cOff + bi * g.strideC() + (long) r * g.ldc()) << 1) | 1; // odd: C
                }
            }
            Arrays.sort(starts);
            long xReach = Long.MIN_VALUE;
            long cReach = Long.MIN_VALUE;
            overlap = false;
            for (long tagged : starts) {
                long start = tagged >> 1;
                if ((tagged & 1) == 0) {
                    if (cReach > start) {
                        overlap = true;
                        break;
                    }
                    xReach = Math.max(xReach, start + cols);
                } else {
                    if (xReach > start) {
                        overlap = true;
                        break;
                    }
                    cReach = Math.max(cReach, start + g.n());
                }
            }
        }
        if (overlap) {
            throw new IllegalArgumentException(op + " " + g + ": output C overlaps input " + name
                    + " (same storage; C at offset " + cOff + ", " + name + " at offset " + xOff + ")");
        }
    }

    // ------------------------------------------------------------------------------------------ kernel operands

    /** Operands of {@link Backend#activation}: f not null, order in 0..MAX_ORDER, x and y ranges inside their arrays. */
    public static void activation(String op, Activation f, int order, Object x, int xLen, int xOff, Object y, int yLen,
                                  int yOff, int n) {
        notNull(op, "f", f);
        notNull(op, "x", x);
        notNull(op, "y", y);
        if (order < 0 || order > Activation.MAX_ORDER) {
            throw new IllegalArgumentException(op + ": derivative order " + order + " of " + f + " not available (0.."
                    + Activation.MAX_ORDER + ")");
        }
        sizes(op, "n", n);
        range(op, "x", xLen, xOff, n);
        range(op, "y", yLen, yOff, n);
    }

    /** Operands of {@link Backend#sumAxis}. */
    public static void sumAxis(String op, Object x, int xLen, int xOff, int outer, int len, int inner, Object out,
                               int outLen, int outOff) {
        notNull(op, "x", x);
        notNull(op, "out", out);
        sizes(op, "outer, len, inner", outer, len, inner);
        range(op, "x", xLen, xOff, (long) outer * len * inner);
        range(op, "out", outLen, outOff, (long) outer * inner);
    }

    /** Operands of {@link Backend#im2col} and {@link Backend#col2im}: one image and its column matrix. */
    public static void conv(String op, ConvGeometry g, Object x, int xLen, int xOff, Object col, int colLen, int colOff) {
        notNull(op, "geometry", g);
        notNull(op, "image", x);
        notNull(op, "col", col);
        range(op, "image", xLen, xOff, g.imageSize());
        range(op, "col", colLen, colOff, (long) g.colRows() * g.colCols());
    }

    /** Operands of {@link Backend#weightedGram}. */
    public static void weightedGram(String op, int samples, int d, int neurons, Object x, int xLen, int xOff, Object w,
                                    int wLen, int wOff, Object s, int sLen, int sOff) {
        notNull(op, "x", x);
        notNull(op, "w", w);
        notNull(op, "s", s);
        sizes(op, "samples, d, neurons", samples, d, neurons);
        range(op, "x", xLen, xOff, (long) samples * d);
        range(op, "w", wLen, wOff, (long) samples * neurons);
        range(op, "s", sLen, sOff, (long) neurons * d * d);
    }

    /**
     * Operands of {@link Backend#symEig}: {@code a} and {@code w} present, {@code 0 <= k <= n}, ranges inside their
     * arrays; {@code vLen < 0} means no eigenvectors are wanted (v is null).
     */
    public static void symEig(String op, int batch, int n, int k, int aLen, int aOff, int wLen, int wOff, int vLen,
                              int vOff) {
        sizes(op, "batch, n, k", batch, n, k);
        if (k > n) {
            throw new IllegalArgumentException(op + ": k = " + k + " eigenpairs requested of " + n + "x" + n + " matrices");
        }
        range(op, "a", aLen, aOff, (long) batch * n * n);
        range(op, "w", wLen, wOff, (long) batch * k);
        if (vLen >= 0) {
            range(op, "v", vLen, vOff, (long) batch * n * k);
        }
    }

    /**
     * Operands of {@link Backend#gesv} / {@link Backend#cgesv}: lengths and offsets in elements ({@code complex}:
     * complex elements, two array slots each); A and B present, inside their arrays and not overlapping.
     */
    public static void gesv(String op, int n, int nrhs, Object a, int aLen, int aOff, Object b, int bLen, int bOff) {
        notNull(op, "a", a);
        notNull(op, "b", b);
        sizes(op, "n, nrhs", n, nrhs);
        range(op, "a", aLen, aOff, (long) n * n);
        range(op, "b", bLen, bOff, (long) n * nrhs);
        long na = (long) n * n, nb = (long) n * nrhs;
        if (a == b && na > 0 && nb > 0 && aOff < bOff + nb && bOff < aOff + na) {
            throw new IllegalArgumentException(op + ": b overlaps a");
        }
    }
}
