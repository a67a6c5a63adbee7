package dev.sprout.linalg;

/**
 * LU factorisation with partial pivoting for complex row-major {@code n x n} matrices, interleaved
 * {@code re, im}: the reference for {@link dev.sprout.backend.Backend#cgesv}. Offsets and sizes count complex
 * elements, not floats. The storage conventions ({@code piv}, factors in place, the {@code i + 1} return for an
 * exactly zero pivot) and the blocked right-looking algorithm are those of {@link LU}; only the arithmetic is
 * complex, so the flop count is about four times LU's ({@code 8/3 n^3} real flops).
 *
 * <h2>Pivot choice</h2>
 * The pivot is the entry of largest {@code |re| + |im|} in its column (LAPACK's {@code cabs1}, as in izamax),
 * not the largest modulus. It needs no square root and cannot overflow, and since
 * {@code |z| <= |re| + |im| <= sqrt(2) |z|}, every multiplier satisfies {@code |l| <= sqrt(2)} instead of 1: the
 * element growth bound of partial pivoting loosens by at most that factor per step, which matters as little in
 * practice as the bound itself. It also makes this reference pick the same pivots as LAPACK-based backends
 * (ties aside), so conformance tests compare like with like.
 *
 * <p>Division by the pivot multiplies by its reciprocal computed with Smith's algorithm (no overflow for any
 * finite nonzero pivot). The float (c64) entry points compute in double and round once, as {@link LU} does.
 */
public final class ComplexLU {
    private ComplexLU() {
    }

    // ================================================================ c64 (float) entry points

    /**
     * Solves {@code A X = B} in place for interleaved complex float data: {@code a} ({@code n x n}) is overwritten
     * by its LU factors, {@code b} ({@code n x nrhs}) by the solution, as
     * {@link dev.sprout.backend.Backend#cgesv}. Computes in double and rounds once.
     *
     * @return 0, or {@code i + 1} if pivot {@code i} is exactly zero (then {@code b} is unchanged)
     */
    public static int cgesv(int n, int nrhs, float[] a, int aOff, float[] b, int bOff) {
        String op = "cgesv";
        Check.nonNegative(op, "n", n);
        Check.nonNegative(op, "nrhs", nrhs);
        Check.fitsComplex(op, "a", a, aOff, (long) n * n);
        Check.fitsComplex(op, "b", b, bOff, (long) n * nrhs);
        Check.disjoint(op, "a", a, aOff, (long) n * n, "b", b, bOff, (long) n * nrhs);
        double[] da = widen(a, aOff, n * n);
        int[] piv = new int[n];
        int info = factor(n, da, 0, piv, 0, LU.NB);
        narrow(da, a, aOff, n * n);
        if (info == 0) {
            double[] db = widen(b, bOff, n * nrhs);
            solveUnchecked(n, nrhs, da, 0, piv, 0, db, 0);
            narrow(db, b, bOff, n * nrhs);
        }
        return info;
    }

    /**
     * Writes {@code A^(-1)} ({@code n x n}, interleaved complex float) to {@code out}; {@code a} is not modified.
     *
     * @return 0, or {@code i + 1} if pivot {@code i} is exactly zero (then {@code out} is unchanged)
     */
    public static int inverse(int n, float[] a, int aOff, float[] out, int outOff) {
        String op = "ComplexLU.inverse";
        Check.nonNegative(op, "n", n);
        Check.fitsComplex(op, "a", a, aOff, (long) n * n);
        Check.fitsComplex(op, "out", out, outOff, (long) n * n);
        Check.disjoint(op, "a", a, aOff, (long) n * n, "out", out, outOff, (long) n * n);
        double[] x = new double[2 * n * n];
        int info = inverseUnchecked(n, widen(a, aOff, n * n), x);
        if (info == 0) {
            narrow(x, out, outOff, n * n);
        }
        return info;
    }

    // ================================================================ c128 (double) entry points

    /** Double-precision twin of {@link #cgesv}. */
    public static int zgesv(int n, int nrhs, double[] a, int aOff, double[] b, int bOff) {
        String op = "zgesv";
        Check.nonNegative(op, "n", n);
        Check.nonNegative(op, "nrhs", nrhs);
        Check.fitsComplex(op, "a", a, aOff, (long) n * n);
        Check.fitsComplex(op, "b", b, bOff, (long) n * nrhs);
        Check.disjoint(op, "a", a, aOff, (long) n * n, "b", b, bOff, (long) n * nrhs);
        int[] piv = new int[n];
        int info = factor(n, a, aOff, piv, 0, LU.NB);
        if (info == 0) {
            solveUnchecked(n, nrhs, a, aOff, piv, 0, b, bOff);
        }
        return info;
    }

    /** Double-precision twin of {@link #inverse(int, float[], int, float[], int)}. */
    public static int inverse(int n, double[] a, int aOff, double[] out, int outOff) {
        String op = "ComplexLU.inverse";
        Check.nonNegative(op, "n", n);
        Check.fitsComplex(op, "a", a, aOff, (long) n * n);
        Check.fitsComplex(op, "out", out, outOff, (long) n * n);
        Check.disjoint(op, "a", a, aOff, (long) n * n, "out", out, outOff, (long) n * n);
        double[] lu = new double[2 * n * n];
        System.arraycopy(a, 2 * aOff, lu, 0, 2 * n * n);
        double[] x = new double[2 * n * n];
        int info = inverseUnchecked(n, lu, x);
        if (info == 0) {
            System.arraycopy(x, 0, out, 2 * outOff, 2 * n * n);
        }
        return info;
    }

    /**
     * Factors interleaved complex {@code a} in place ({@code P A = L U}); {@code piv} receives the row exchanges.
     *
     * @return 0, or {@code i + 1} for the first pivot {@code i} that is exactly zero
     */
    public static int factor(int n, double[] a, int aOff, int[] piv, int pivOff) {
        String op = "ComplexLU.factor";
        Check.nonNegative(op, "n", n);
        Check.fitsComplex(op, "a", a, aOff, (long) n * n);
        Check.fits(op, "piv", piv, pivOff, n);
        return factor(n, a, aOff, piv, pivOff, LU.NB);
    }

    /** Solves {@code A X = B} in place from the factors of {@link #factor(int, double[], int, int[], int)}. */
    public static void solve(int n, int nrhs, double[] lu, int luOff, int[] piv, int pivOff, double[] b, int bOff) {
        String op = "ComplexLU.solve";
        Check.nonNegative(op, "n", n);
        Check.nonNegative(op, "nrhs", nrhs);
        Check.fitsComplex(op, "lu", lu, luOff, (long) n * n);
        Check.fits(op, "piv", piv, pivOff, n);
        Check.fitsComplex(op, "b", b, bOff, (long) n * nrhs);
        Check.disjoint(op, "lu", lu, luOff, (long) n * n, "b", b, bOff, (long) n * nrhs);
        LU.checkPivots(op, n, piv, pivOff);
        solveUnchecked(n, nrhs, lu, luOff, piv, pivOff, b, bOff);
    }

    // ================================================================ kernels (offsets in complex elements)

    /** Blocked right-looking complex LU with panel width {@code nb}; {@code nb = 1} is the unblocked algorithm. */
    static int factor(int n, double[] a, int aOff, int[] piv, int pivOff, int nb) {
        int info = 0;
        int base = 2 * aOff;
        int rowLen = 2 * n;
        for (int jb = 0; jb < n; jb += nb) {
            int je = Math.min(n, jb + nb);
            for (int j = jb; j < je; j++) {
                int p = j;
                int jj = base + j * rowLen + 2 * j;
                double max = Math.abs(a[jj]) + Math.abs(a[jj + 1]);
                for (int i = j + 1; i < n; i++) {
                    int ij = base + i * rowLen + 2 * j;
                    double m = Math.abs(a[ij]) + Math.abs(a[ij + 1]);
                    if (m > max) {
                        max = m;
                        p = i;
                    }
                }
                piv[pivOff + j] = p;
                if (p != j) {
                    swap(a, base + j * rowLen, base + p * rowLen, rowLen);
                }
                double pr = a[jj];
                double pi = a[jj + 1];
                if (pr == 0 && pi == 0) {
                    if (info == 0) {
                        info = j + 1;
                    }
                    continue;
                }
                // reciprocal of the pivot by Smith's algorithm
                double ir;
                double ii;
                if (Math.abs(pr) >= Math.abs(pi)) {
                    double r = pi / pr;
                    double den = pr + pi * r;
                    ir = 1 / den;
                    ii = -r / den;
                } else {
                    double r = pr / pi;
                    double den = pi + pr * r;
                    ir = r / den;
                    ii = -1 / den;
                }
                int rowJ = base + j * rowLen;
                for (int i = j + 1; i < n; i++) {
                    int rowI = base + i * rowLen;
                    int ij = rowI + 2 * j;
                    double xr = a[ij];
                    double xi = a[ij + 1];
                    double lr = xr * ir - xi * ii;
                    double li = xr * ii + xi * ir;
                    a[ij] = lr;
                    a[ij + 1] = li;
                    if (lr != 0 || li != 0) {
                        for (int c = 2 * (j + 1), end = 2 * je; c < end; c += 2) {
                            double ur = a[rowJ + c];
                            double ui = a[rowJ + c + 1];
                            a[rowI + c] -= lr * ur - li * ui;
                            a[rowI + c + 1] -= lr * ui + li * ur;
                        }
                    }
                }
            }
            if (je == n) {
                break;
            }
            // U12 = L11^-1 A12 and A22 -= L21 U12, as row updates (see LU)
            for (int i = jb + 1; i < n; i++) {
                int rowI = base + i * rowLen;
                int tEnd = Math.min(i, je);
                int t = jb;
                // two rows of U12 per pass over row i, same operations in the same order as one at a time
                for (; t + 1 < tEnd; t += 2) {
                    double l0r = a[rowI + 2 * t];
                    double l0i = a[rowI + 2 * t + 1];
                    double l1r = a[rowI + 2 * t + 2];
                    double l1i = a[rowI + 2 * t + 3];
                    if ((l0r != 0 || l0i != 0) && (l1r != 0 || l1i != 0)) {
                        int r0 = base + t * rowLen;
                        int r1 = r0 + rowLen;
                        for (int c = 2 * je; c < rowLen; c += 2) {
                            double xr = a[rowI + c];
                            double xi = a[rowI + c + 1];
                            double ur = a[r0 + c];
                            double ui = a[r0 + c + 1];
                            xr -= l0r * ur - l0i * ui;
                            xi -= l0r * ui + l0i * ur;
                            ur = a[r1 + c];
                            ui = a[r1 + c + 1];
                            xr -= l1r * ur - l1i * ui;
                            xi -= l1r * ui + l1i * ur;
                            a[rowI + c] = xr;
                            a[rowI + c + 1] = xi;
                        }
                    } else {
                        axpyNeg(a, rowI + 2 * je, l0r, l0i, a, base + t * rowLen + 2 * je, rowLen - 2 * je);
                        axpyNeg(a, rowI + 2 * je, l1r, l1i, a, base + (t + 1) * rowLen + 2 * je, rowLen - 2 * je);
                    }
                }
                for (; t < tEnd; t++) {
                    axpyNeg(a, rowI + 2 * je, a[rowI + 2 * t], a[rowI + 2 * t + 1], a, base + t * rowLen + 2 * je,
                            rowLen - 2 * je);
                }
            }
        }
        return info;
    }

    static void solveUnchecked(int n, int nrhs, double[] lu, int luOff, int[] piv, int pivOff, double[] b, int bOff) {
        int lb = 2 * luOff;
        int bb = 2 * bOff;
        int rowLen = 2 * n;
        int bLen = 2 * nrhs;
        for (int i = 0; i < n; i++) {
            int p = piv[pivOff + i];
            if (p != i) {
                swap(b, bb + i * bLen, bb + p * bLen, bLen);
            }
        }
        for (int i = 1; i < n; i++) {
            int rowB = bb + i * bLen;
            int rowL = lb + i * rowLen;
            for (int t = 0; t < i; t++) {
                double lr = lu[rowL + 2 * t];
                double li = lu[rowL + 2 * t + 1];
                axpyNeg(b, rowB, lr, li, b, bb + t * bLen, bLen);
            }
        }
        for (int i = n - 1; i >= 0; i--) {
            int rowB = bb + i * bLen;
            int rowU = lb + i * rowLen;
            for (int t = i + 1; t < n; t++) {
                double ur = lu[rowU + 2 * t];
                double ui = lu[rowU + 2 * t + 1];
                axpyNeg(b, rowB, ur, ui, b, bb + t * bLen, bLen);
            }
            double dr = lu[rowU + 2 * i];
            double di = lu[rowU + 2 * i + 1];
            // Smith division of each entry of the row by the diagonal
            for (int c = rowB, end = rowB + bLen; c < end; c += 2) {
                double xr = b[c];
                double xi = b[c + 1];
                if (Math.abs(dr) >= Math.abs(di)) {
                    double r = di / dr;
                    double den = dr + di * r;
                    b[c] = (xr + xi * r) / den;
                    b[c + 1] = (xi - xr * r) / den;
                } else {
                    double r = dr / di;
                    double den = di + dr * r;
                    b[c] = (xr * r + xi) / den;
                    b[c + 1] = (xi * r - xr) / den;
                }
            }
        }
    }

    /**
     * {@code y[yo..yo+len) -= (sr + i si) x[xo..xo+len)}, interleaved, len in doubles; nothing at all when the
     * scalar is zero (so that a zero multiplier never turns an infinity into NaN).
     */
    private static void axpyNeg(double[] y, int yo, double sr, double si, double[] x, int xo, int len) {
        if (sr == 0 && si == 0) {
            return;
        }
        for (int c = 0; c < len; c += 2) {
            double xr = x[xo + c];
            double xi = x[xo + c + 1];
            y[yo + c] -= sr * xr - si * xi;
            y[yo + c + 1] -= sr * xi + si * xr;
        }
    }

    /** Inverse of {@code lu} (overwritten by its factors) into {@code x}, which must hold zeros. */
    private static int inverseUnchecked(int n, double[] lu, double[] x) {
        int[] piv = new int[n];
        int info = factor(n, lu, 0, piv, 0, LU.NB);
        if (info != 0) {
            return info;
        }
        for (int i = 0; i < n; i++) {
            x[2 * (i * n + i)] = 1;
        }
        solveUnchecked(n, n, lu, 0, piv, 0, x, 0);
        return 0;
    }

    private static double[] widen(float[] src, int off, int complexCount) {
        double[] d = new double[2 * complexCount];
        int o = 2 * off;
        for (int i = 0; i < d.length; i++) {
            d[i] = src[o + i];
        }
        return d;
    }

    private static void narrow(double[] src, float[] dst, int off, int complexCount) {
        int o = 2 * off;
        for (int i = 0, len = 2 * complexCount; i < len; i++) {
            dst[o + i] = (float) src[i];
        }
    }

    private static void swap(double[] x, int r1, int r2, int len) {
        for (int c = 0; c < len; c++) {
            double t = x[r1 + c];
            x[r1 + c] = x[r2 + c];
            x[r2 + c] = t;
        }
    }
}
