package dev.sprout.linalg;

/**
 * LU factorisation with partial pivoting, {@code P A = L U}, for real row-major {@code n x n} matrices: the
 * reference for {@link dev.sprout.backend.Backend#gesv}. Pure Java, single-threaded.
 *
 * <h2>Storage and conventions (LAPACK's, 0-based)</h2>
 * The factors overwrite {@code a}: U on and above the diagonal, the multipliers of the unit lower triangular L
 * below it. {@code piv[i] = p} records that row {@code i} was exchanged with row {@code p >= i} at step {@code i}
 * (whole rows are exchanged, L part included). A pivot that is exactly zero makes the factorisation return
 * {@code i + 1} for the first such {@code i}; it still completes (that column's elimination is a no-op), as
 * LAPACK's dgetrf does, but a solve must not be attempted.
 *
 * <h2>Algorithm and performance model</h2>
 * Right-looking and blocked for row-major storage ({@code NB = 32} columns a panel):
 * <ol>
 *   <li>Panel: unblocked elimination of columns {@code jb..jb+NB} over rows {@code jb..n}: pivot search down the
 *   column (strided, {@code O(n)}), exchange of two whole rows (contiguous), and rank-1 updates restricted to the
 *   panel's columns.</li>
 *   <li>{@code U12 = L11^(-1) A12}: row updates of the panel's rows right of the panel.</li>
 *   <li>{@code A22 -= L21 U12} in i-k-j order: for each trailing row, {@code NB} axpys with the rows of
 *   {@code U12}, four at a time (one load and store of the row element per four updates), so the trailing matrix
 *   streams through memory once per panel instead of once per column, while {@code U12} ({@code NB x n}
 *   doubles, 256 KiB at n = 1024) stays in L2.</li>
 * </ol>
 * {@code 2/3 n^3} flops; the solve with {@code nrhs} right-hand sides {@code 2 n^2 nrhs} (row updates of length
 * {@code nrhs}). Each element of A receives exactly the same sequence of updates as in the unblocked
 * (rank-1 per column) algorithm, in the same order, so the blocked factors are bitwise identical to the
 * unblocked ones ({@link #factor(int, double[], int, int[], int, int)} with {@code nb = 1}); the tests assert it.
 *
 * <p>The float entry points convert to double, compute, and round the factors and the solution once: this
 * accumulates every update in double (the most accurate "sensible accumulation" at a cost of {@code O(n^2)}
 * conversions against {@code O(n^3)} work), and "exactly zero pivot" then means exactly zero in that double
 * computation. A matrix that is singular only through float rounding of intermediate results is thus solved,
 * not reported singular.
 */
public final class LU {
    private LU() {
    }

    /** Panel width of the blocked factorisation. */
    public static final int NB = 32;

    // ================================================================ double

    /**
     * Factors {@code a} in place ({@code P A = L U}); {@code piv[pivOff..pivOff+n)} receives the row exchanges.
     *
     * @return 0, or {@code i + 1} for the first pivot {@code i} that is exactly zero
     */
    public static int factor(int n, double[] a, int aOff, int[] piv, int pivOff) {
        String op = "LU.factor";
        Check.nonNegative(op, "n", n);
        Check.fits(op, "a", a, aOff, (long) n * n);
        Check.fits(op, "piv", piv, pivOff, n);
        return factor(n, a, aOff, piv, pivOff, NB);
    }

    /** The blocked factorisation with panel width {@code nb}; {@code nb = 1} is the unblocked algorithm. */
    static int factor(int n, double[] a, int aOff, int[] piv, int pivOff, int nb) {
        int info = 0;
        for (int jb = 0; jb < n; jb += nb) {
            int je = Math.min(n, jb + nb);
            // 1. panel: columns jb..je-1, rows jb..n-1
            for (int j = jb; j < je; j++) {
                int p = j;
                double max = Math.abs(a[aOff + j * n + j]);
                for (int i = j + 1; i < n; i++) {
                    double m = Math.abs(a[aOff + i * n + j]);
                    if (m > max) {
                        max = m;
                        p = i;
                    }
                }
                piv[pivOff + j] = p;
                if (p != j) {
                    swapRows(a, aOff + j * n, aOff + p * n, n);
                }
                int rowJ = aOff + j * n;
                double pivot = a[rowJ + j];
                if (pivot == 0) {
                    if (info == 0) {
                        info = j + 1;
                    }
                    continue; // the column below is zero too: nothing to eliminate
                }
                for (int i = j + 1; i < n; i++) {
                    int rowI = aOff + i * n;
                    double l = a[rowI + j] / pivot;
                    a[rowI + j] = l;
                    if (l != 0) {
                        for (int c = j + 1; c < je; c++) {
                            a[rowI + c] -= l * a[rowJ + c];
                        }
                    }
                }
            }
            if (je == n) {
                break;
            }
            // 2. U12 = L11^-1 A12 (rows jb..je-1, columns je..n-1) and 3. A22 -= L21 U12, both as row updates
            for (int i = jb + 1; i < n; i++) {
                int rowI = aOff + i * n;
                int tEnd = Math.min(i, je);
                int t = jb;
                // four rows of U12 per pass over row i: the same subtractions in the same order (so the same bits),
                // with the element held in a register instead of stored and reloaded between them
                for (; t + 3 < tEnd; t += 4) {
                    double l0 = a[rowI + t];
                    double l1 = a[rowI + t + 1];
                    double l2 = a[rowI + t + 2];
                    double l3 = a[rowI + t + 3];
                    if (l0 != 0 && l1 != 0 && l2 != 0 && l3 != 0) {
                        int r0 = aOff + t * n;
                        int r1 = r0 + n;
                        int r2 = r1 + n;
                        int r3 = r2 + n;
                        for (int c = je; c < n; c++) {
                            double x = a[rowI + c];
                            x -= l0 * a[r0 + c];
                            x -= l1 * a[r1 + c];
                            x -= l2 * a[r2 + c];
                            x -= l3 * a[r3 + c];
                            a[rowI + c] = x;
                        }
                    } else {
                        for (int s = t; s < t + 4; s++) {
                            axpyRow(a, rowI, a[rowI + s], aOff + s * n, je, n);
                        }
                    }
                }
                for (; t < tEnd; t++) {
                    axpyRow(a, rowI, a[rowI + t], aOff + t * n, je, n);
                }
            }
        }
        return info;
    }

    /**
     * Solves {@code A X = B} in place from the factors of {@link #factor(int, double[], int, int[], int)}:
     * {@code b} ({@code n x nrhs}) is overwritten by X. The factors must be nonsingular.
     */
    public static void solve(int n, int nrhs, double[] lu, int luOff, int[] piv, int pivOff, double[] b, int bOff) {
        String op = "LU.solve";
        Check.nonNegative(op, "n", n);
        Check.nonNegative(op, "nrhs", nrhs);
        Check.fits(op, "lu", lu, luOff, (long) n * n);
        Check.fits(op, "piv", piv, pivOff, n);
        Check.fits(op, "b", b, bOff, (long) n * nrhs);
        Check.disjoint(op, "lu", lu, luOff, (long) n * n, "b", b, bOff, (long) n * nrhs);
        checkPivots(op, n, piv, pivOff);
        solveUnchecked(n, nrhs, lu, luOff, piv, pivOff, b, bOff);
    }

    private static void solveUnchecked(int n, int nrhs, double[] lu, int luOff, int[] piv, int pivOff,
                                       double[] b, int bOff) {
        for (int i = 0; i < n; i++) {
            int p = piv[pivOff + i];
            if (p != i) {
                swapRows(b, bOff + i * nrhs, bOff + p * nrhs, nrhs);
            }
        }
        // L y = P b (unit diagonal): row i -= sum_t L[i,t] row t
        for (int i = 1; i < n; i++) {
            int rowB = bOff + i * nrhs;
            int rowL = luOff + i * n;
            for (int t = 0; t < i; t++) {
                double l = lu[rowL + t];
                if (l != 0) {
                    int rowT = bOff + t * nrhs;
                    for (int c = 0; c < nrhs; c++) {
                        b[rowB + c] -= l * b[rowT + c];
                    }
                }
            }
        }
        // U x = y: row i = (row i - sum_(t>i) U[i,t] row t) / U[i,i]
        for (int i = n - 1; i >= 0; i--) {
            int rowB = bOff + i * nrhs;
            int rowU = luOff + i * n;
            for (int t = i + 1; t < n; t++) {
                double u = lu[rowU + t];
                if (u != 0) {
                    int rowT = bOff + t * nrhs;
                    for (int c = 0; c < nrhs; c++) {
                        b[rowB + c] -= u * b[rowT + c];
                    }
                }
            }
            double diag = lu[rowU + i];
            for (int c = 0; c < nrhs; c++) {
                b[rowB + c] /= diag;
            }
        }
    }

    /**
     * Solves {@code A X = B} in place: {@code a} is overwritten by its LU factors, {@code b} ({@code n x nrhs}) by
     * the solution, as {@link dev.sprout.backend.Backend#gesv(int, int, double[], int, double[], int)}.
     *
     * @return 0, or {@code i + 1} if pivot {@code i} is exactly zero (then {@code b} is unchanged)
     */
    public static int gesv(int n, int nrhs, double[] a, int aOff, double[] b, int bOff) {
        String op = "gesv";
        checkGesv(op, n, nrhs);
        Check.fits(op, "a", a, aOff, (long) n * n);
        Check.fits(op, "b", b, bOff, (long) n * nrhs);
        Check.disjoint(op, "a", a, aOff, (long) n * n, "b", b, bOff, (long) n * nrhs);
        int[] piv = new int[n];
        int info = factor(n, a, aOff, piv, 0, NB);
        if (info == 0) {
            solveUnchecked(n, nrhs, a, aOff, piv, 0, b, bOff);
        }
        return info;
    }

    /**
     * Float twin of {@link #gesv(int, int, double[], int, double[], int)}: computes in double and rounds the
     * factors (always) and the solution (when nonsingular) once.
     */
    public static int gesv(int n, int nrhs, float[] a, int aOff, float[] b, int bOff) {
        String op = "gesv";
        checkGesv(op, n, nrhs);
        Check.fits(op, "a", a, aOff, (long) n * n);
        Check.fits(op, "b", b, bOff, (long) n * nrhs);
        Check.disjoint(op, "a", a, aOff, (long) n * n, "b", b, bOff, (long) n * nrhs);
        double[] da = new double[n * n];
        for (int i = 0; i < da.length; i++) {
            da[i] = a[aOff + i];
        }
        int[] piv = new int[n];
        int info = factor(n, da, 0, piv, 0, NB);
        for (int i = 0; i < da.length; i++) {
            a[aOff + i] = (float) da[i];
        }
        if (info == 0) {
            double[] db = new double[n * nrhs];
            for (int i = 0; i < db.length; i++) {
                db[i] = b[bOff + i];
            }
            solveUnchecked(n, nrhs, da, 0, piv, 0, db, 0);
            for (int i = 0; i < db.length; i++) {
                b[bOff + i] = (float) db[i];
            }
        }
        return info;
    }

    /**
     * Writes {@code A^(-1)} to {@code out} ({@code n x n}); {@code a} is not modified. Costs {@code 2/3 n^3}
     * for the factorisation plus {@code 2 n^3} for the n solves.
     *
     * @return 0, or {@code i + 1} if pivot {@code i} is exactly zero (then {@code out} is unchanged)
     */
    public static int inverse(int n, double[] a, int aOff, double[] out, int outOff) {
        String op = "LU.inverse";
        Check.nonNegative(op, "n", n);
        Check.fits(op, "a", a, aOff, (long) n * n);
        Check.fits(op, "out", out, outOff, (long) n * n);
        Check.disjoint(op, "a", a, aOff, (long) n * n, "out", out, outOff, (long) n * n);
        double[] lu = new double[n * n];
        System.arraycopy(a, aOff, lu, 0, n * n);
        int[] piv = new int[n];
        int info = factor(n, lu, 0, piv, 0, NB);
        if (info != 0) {
            return info;
        }
        double[] x = new double[n * n];
        for (int i = 0; i < n; i++) {
            x[i * n + i] = 1;
        }
        solveUnchecked(n, n, lu, 0, piv, 0, x, 0);
        System.arraycopy(x, 0, out, outOff, n * n);
        return 0;
    }

    /**
     * {@code det A} from the LU factors ({@code a} is not modified): the product of the pivots, negated once per
     * row exchange. Exactly 0 for an exactly singular factorisation; may overflow to an infinity or underflow to
     * 0 for large n (the product is formed directly).
     */
    public static double determinant(int n, double[] a, int aOff) {
        String op = "LU.determinant";
        Check.nonNegative(op, "n", n);
        Check.fits(op, "a", a, aOff, (long) n * n);
        double[] lu = new double[n * n];
        System.arraycopy(a, aOff, lu, 0, n * n);
        int[] piv = new int[n];
        if (factor(n, lu, 0, piv, 0, NB) != 0) {
            return 0.0; // exactly singular (and +0.0, not a signed zero from the product)
        }
        double det = 1;
        for (int i = 0; i < n; i++) {
            det *= lu[i * n + i];
            if (piv[i] != i) {
                det = -det;
            }
        }
        return det;
    }

    // ================================================================ helpers

    private static void checkGesv(String op, int n, int nrhs) {
        Check.nonNegative(op, "n", n);
        Check.nonNegative(op, "nrhs", nrhs);
    }

    static void checkPivots(String op, int n, int[] piv, int pivOff) {
        for (int i = 0; i < n; i++) {
            int p = piv[pivOff + i];
            if (p < i || p >= n) {
                throw new IllegalArgumentException(op + ": piv[" + i + "] = " + p + " is outside [" + i + ", " + n + ")");
            }
        }
    }

    /** {@code a[rowI + c] -= l a[rowT + c]} for {@code c} in {@code [from, to)}; nothing when {@code l == 0}. */
    private static void axpyRow(double[] a, int rowI, double l, int rowT, int from, int to) {
        if (l != 0) {
            for (int c = from; c < to; c++) {
                a[rowI + c] -= l * a[rowT + c];
            }
        }
    }

    private static void swapRows(double[] x, int r1, int r2, int len) {
        for (int c = 0; c < len; c++) {
            double t = x[r1 + c];
            x[r1 + c] = x[r2 + c];
            x[r2 + c] = t;
        }
    }
}
