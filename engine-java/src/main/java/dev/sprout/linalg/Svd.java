package dev.sprout.linalg;

import java.util.Arrays;

/**
 * Thin singular value decomposition {@code A = U diag(s) V^T} of a real row-major {@code m x n} matrix by
 * one-sided Jacobi (Hestenes): {@code r = min(m, n)} singular values in descending order, {@code U}
 * ({@code m x r}) and {@code V} ({@code n x r}) with orthonormal columns, both row-major. Pure Java,
 * single-threaded. Used by GradMax (the leading singular vectors of a gradient matrix) and as a reference.
 *
 * <h2>Algorithm and why</h2>
 * One-sided Jacobi orthogonalises the columns of A (of {@code A^T} when {@code m < n}) by plane rotations
 * {@code A <- A J}, accumulating {@code V = J_1 J_2 ...}; at convergence the columns are {@code u_j s_j}. Each
 * rotation zeroes the inner product {@code g = a_p . a_q} of a pair of columns: with {@code alpha = |a_p|^2},
 * {@code beta = |a_q|^2}, {@code zeta = (beta - alpha) / (2 g)}, {@code t = sign(zeta) / (|zeta| +
 * sqrt(1 + zeta^2))}, {@code c = 1 / sqrt(1 + t^2)}, {@code s = c t}: {@code a_p <- c a_p - s a_q},
 * {@code a_q <- s a_p + c a_q}. Cyclic sweeps over all pairs stop when every pair satisfies
 * {@code |g| <= sqrt(len) eps |a_p| |a_q|} (about 6 to 10 sweeps; quadratic convergence at the end). It is
 * simple, needs no bidiagonalisation, and computes even tiny singular values to high relative accuracy and U
 * orthogonal to working precision (the convergence test is relative to each pair).
 *
 * <p>Row-major: the vectors being rotated are stored as rows (the matrix is transposed on entry when
 * {@code m >= n}), so every dot product and rotation runs over contiguous memory. The input is scaled by a power
 * of two (exact) so its largest entry lies in [1, 2) and no squared norm can overflow. Columns whose squared norm
 * underflows (below {@code 2^-1022} of the largest entry squared) count as exact zeros; the left singular vectors
 * of zero singular values are completed to an orthonormal set.
 *
 * <h2>Performance model</h2>
 * With {@code p = min(m, n)} vectors of length {@code L = max(m, n)}: a sweep is {@code p^2 / 2} pairs of
 * {@code 2L} (dot) {@code + 6L} (rotate) {@code + 6p} (accumulate) flops, about {@code p^2 (4L + 3p)}; times 6-10
 * sweeps, so {@code ~50 n^3} for a square matrix: several times a Golub-Kahan SVD, acceptable for a reference and
 * for the matrices GradMax decomposes (a layer's fan-in by fan-out). For {@code L >> p} a QR factorisation first
 * would save work; not done. {@link #topSingularVectors} costs a full decomposition: Jacobi has no cheaper partial
 * mode.
 */
public final class Svd {
    private static final double EPS = Math.ulp(1.0);
    private static final int MAX_SWEEPS = 60;

    private final int m;
    private final int n;
    private final int rank;
    private final double[] s;
    private final double[] u;
    private final double[] v;

    private Svd(int m, int n, int rank, double[] s, double[] u, double[] v) {
        this.m = m;
        this.n = n;
        this.rank = rank;
        this.s = s;
        this.u = u;
        this.v = v;
    }

    // ================================================================ entry points

    /** The thin SVD of the {@code m x n} matrix at {@code a[aOff..]} (not modified). */
    public static Svd decompose(int m, int n, double[] a, int aOff) {
        String op = "svd";
        checkShape(op, m, n, a, aOff);
        int r = Math.min(m, n);
        double[] s = new double[r];
        double[] u = new double[m * r];
        double[] v = new double[n * r];
        compute(m, n, a, aOff, s, 0, u, 0, v, 0);
        return new Svd(m, n, r, s, u, v);
    }

    /**
     * Array form: {@code s} receives the {@code r = min(m, n)} singular values (descending), {@code u} the
     * {@code m x r} left and {@code v} the {@code n x r} right singular vectors (row-major); {@code u} and
     * {@code v} may be null when not wanted. {@code a} is not modified.
     */
    public static void decompose(int m, int n, double[] a, int aOff, double[] s, int sOff,
                                 double[] u, int uOff, double[] v, int vOff) {
        String op = "svd";
        checkShape(op, m, n, a, aOff);
        int r = Math.min(m, n);
        long aLen = (long) m * n;
        Check.fits(op, "s", s, sOff, r);
        Check.disjoint(op, "a", a, aOff, aLen, "s", s, sOff, r);
        if (u != null) {
            Check.fits(op, "u", u, uOff, (long) m * r);
            Check.disjoint(op, "a", a, aOff, aLen, "u", u, uOff, (long) m * r);
            Check.disjoint(op, "s", s, sOff, r, "u", u, uOff, (long) m * r);
        }
        if (v != null) {
            Check.fits(op, "v", v, vOff, (long) n * r);
            Check.disjoint(op, "a", a, aOff, aLen, "v", v, vOff, (long) n * r);
            Check.disjoint(op, "s", s, sOff, r, "v", v, vOff, (long) n * r);
            if (u != null) {
                Check.disjoint(op, "u", u, uOff, (long) m * r, "v", v, vOff, (long) n * r);
            }
        }
        compute(m, n, a, aOff, s, sOff, u, uOff, v, vOff);
    }

    /** The {@code k} leading singular triplets of the {@code m x n} matrix at {@code a[aOff..]}; a full SVD inside. */
    public static Svd topSingularVectors(int m, int n, double[] a, int aOff, int k) {
        checkShape("svd", m, n, a, aOff);
        checkK(k, Math.min(m, n));
        return decompose(m, n, a, aOff).topSingularVectors(k);
    }

    /**
     * The {@code k} leading singular triplets ({@code k <= rank()}): values {@code s[0..k)}, the first {@code k}
     * columns of U ({@code m x k}) and of V ({@code n x k}).
     */
    public Svd topSingularVectors(int k) {
        checkK(k, rank);
        double[] tu = new double[m * k];
        double[] tv = new double[n * k];
        for (int i = 0; i < m; i++) {
            System.arraycopy(u, i * rank, tu, i * k, k);
        }
        for (int i = 0; i < n; i++) {
            System.arraycopy(v, i * rank, tv, i * k, k);
        }
        return new Svd(m, n, k, Arrays.copyOf(s, k), tu, tv);
    }

    // ================================================================ accessors

    /** Rows of the decomposed matrix. */
    public int rows() {
        return m;
    }

    /** Columns of the decomposed matrix. */
    public int cols() {
        return n;
    }

    /** Number of singular triplets held: {@code min(m, n)}, or {@code k} after {@link #topSingularVectors(int)}. */
    public int rank() {
        return rank;
    }

    /** The singular values, descending (a copy). */
    public double[] singularValues() {
        return s.clone();
    }

    /** Singular value {@code j}. */
    public double singularValue(int j) {
        return s[j];
    }

    /** U, {@code m x rank()}, row-major (a copy). */
    public double[] u() {
        return u.clone();
    }

    /** V, {@code n x rank()}, row-major (a copy). */
    public double[] v() {
        return v.clone();
    }

    /** Left singular vector {@code j} (column j of U, length m). */
    public double[] leftVector(int j) {
        double[] x = new double[m];
        for (int i = 0; i < m; i++) {
            x[i] = u[i * rank + j];
        }
        return x;
    }

    /** Right singular vector {@code j} (column j of V, length n). */
    public double[] rightVector(int j) {
        double[] x = new double[n];
        for (int i = 0; i < n; i++) {
            x[i] = v[i * rank + j];
        }
        return x;
    }

    // ================================================================ one-sided Jacobi

    private static void checkShape(String op, int m, int n, double[] a, int aOff) {
        Check.nonNegative(op, "m", m);
        Check.nonNegative(op, "n", n);
        Check.fits(op, "a", a, aOff, (long) m * n);
    }

    private static void checkK(int k, int rank) {
        if (k < 0 || k > rank) {
            throw new IllegalArgumentException("svd: k = " + k + " must be in [0, " + rank + "]");
        }
    }

    /**
     * The decomposition proper. Let {@code p = min(m, n)}, {@code len = max(m, n)}. {@code g} ({@code p x len})
     * holds the vectors being orthogonalised as rows: the columns of A when {@code m >= n} (then the rotations
     * accumulate into V), the rows of A otherwise (A^T is then the tall matrix, and U and V swap roles).
     * {@code jt} ({@code p x p}) accumulates the rotations, rows = columns of the accumulated orthogonal matrix.
     */
    private static void compute(int m, int n, double[] a, int aOff, double[] s, int sOff,
                                double[] u, int uOff, double[] v, int vOff) {
        int p = Math.min(m, n);
        if (p == 0) {
            return;
        }
        boolean tall = m >= n;
        int len = Math.max(m, n);
        double[] g = new double[p * len];
        double max = 0;
        if (tall) {
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double x = a[aOff + i * n + j];
                    g[j * m + i] = x;
                    max = Math.max(max, Math.abs(x));
                }
            }
        } else {
            for (int i = 0; i < m * n; i++) {
                double x = a[aOff + i];
                g[i] = x;
                max = Math.max(max, Math.abs(x));
            }
        }
        if (Double.isNaN(max) || Double.isInfinite(max)) {
            throw new IllegalArgumentException("svd: a contains NaN or infinity");
        }
        int exp = 0;
        if (max > 0) {
            exp = max >= Double.MIN_NORMAL ? Math.getExponent(max) : Math.getExponent(max * 0x1p54) - 54;
            for (int i = 0; i < g.length; i++) {
                g[i] = Math.scalb(g[i], -exp);
            }
        }
        double[] jt = new double[p * p];
        for (int i = 0; i < p; i++) {
            jt[i * p + i] = 1;
        }
        double[] norms = new double[p];
        double tol = Math.sqrt(len) * EPS;
        for (int sweep = 0; sweep < MAX_SWEEPS; sweep++) {
            for (int i = 0; i < p; i++) {
                norms[i] = dot(g, i * len, g, i * len, len);
            }
            boolean rotated = false;
            for (int pi = 0; pi < p - 1; pi++) {
                for (int qi = pi + 1; qi < p; qi++) {
                    double alpha = norms[pi];
                    double beta = norms[qi];
                    if (alpha < Double.MIN_NORMAL || beta < Double.MIN_NORMAL) {
                        continue;
                    }
                    double gamma = dot(g, pi * len, g, qi * len, len);
                    if (Math.abs(gamma) <= tol * Math.sqrt(alpha) * Math.sqrt(beta)) {
                        continue;
                    }
                    rotated = true;
                    double zeta = (beta - alpha) / (2 * gamma);
                    double t = (zeta >= 0 ? 1 : -1) / (Math.abs(zeta) + Math.hypot(1, zeta));
                    double c = 1 / Math.sqrt(1 + t * t);
                    double sn = c * t;
                    rotate(g, pi * len, qi * len, len, c, sn);
                    rotate(jt, pi * p, qi * p, p, c, sn);
                    norms[pi] = alpha - t * gamma;
                    norms[qi] = beta + t * gamma;
                }
            }
            if (!rotated) {
                break;
            }
        }
        // singular values (scaled), descending order
        double[] sigma = new double[p];
        Integer[] order = new Integer[p];
        for (int i = 0; i < p; i++) {
            double a2 = dot(g, i * len, g, i * len, len);
            sigma[i] = a2 < Double.MIN_NORMAL ? 0 : Math.sqrt(a2);
            order[i] = i;
        }
        Arrays.sort(order, (x, y) -> Double.compare(sigma[y], sigma[x]));
        for (int j = 0; j < p; j++) {
            s[sOff + j] = Math.scalb(sigma[order[j]], exp);
        }
        boolean wantG = tall ? u != null : v != null;   // the normalised rows of g
        boolean wantJ = tall ? v != null : u != null;   // the accumulated rotations
        if (wantG) {
            double[] left = new double[p * len];      // row j: g[order[j]] / sigma
            int filled = 0;
            while (filled < p && sigma[order[filled]] > 0) {
                int src = order[filled] * len;
                double inv = 1 / sigma[order[filled]];
                for (int i = 0; i < len; i++) {
                    left[filled * len + i] = g[src + i] * inv;
                }
                filled++;
            }
            for (int j = filled; j < p; j++) {
                completeBasis(left, j, len);
            }
            double[] out = tall ? u : v;
            int off = tall ? uOff : vOff;
            for (int j = 0; j < p; j++) {
                for (int i = 0; i < len; i++) {
                    out[off + i * p + j] = left[j * len + i];
                }
            }
        }
        if (wantJ) {
            double[] out = tall ? v : u;
            int off = tall ? vOff : uOff;
            for (int j = 0; j < p; j++) {
                int src = order[j] * p;
                for (int i = 0; i < p; i++) {
                    out[off + i * p + j] = jt[src + i];
                }
            }
        }
    }

    /**
     * Row {@code j} of {@code q} ({@code rows x len}) becomes a unit vector orthogonal to rows {@code 0..j)}: the
     * standard basis vector {@code e_c} with the largest component outside their span (the smallest
     * {@code sum_t q[t, c]^2}, so its projection keeps at least {@code (len - j) / len} of its squared norm),
     * orthogonalised twice (classical Gram-Schmidt, repeated).
     */
    private static void completeBasis(double[] q, int j, int len) {
        int best = 0;
        double bestWeight = Double.POSITIVE_INFINITY;
        for (int c = 0; c < len; c++) {
            double w = 0;
            for (int t = 0; t < j; t++) {
                double x = q[t * len + c];
                w += x * x;
            }
            if (w < bestWeight) {
                bestWeight = w;
                best = c;
            }
        }
        int row = j * len;
        Arrays.fill(q, row, row + len, 0.0);
        q[row + best] = 1;
        for (int pass = 0; pass < 2; pass++) {
            for (int t = 0; t < j; t++) {
                double d = dot(q, t * len, q, row, len);
                for (int i = 0; i < len; i++) {
                    q[row + i] -= d * q[t * len + i];
                }
            }
        }
        double nrm = Math.sqrt(dot(q, row, q, row, len));
        for (int i = 0; i < len; i++) {
            q[row + i] /= nrm;
        }
    }

    private static double dot(double[] x, int xo, double[] y, int yo, int len) {
        double s = 0;
        for (int i = 0; i < len; i++) {
            s += x[xo + i] * y[yo + i];
        }
        return s;
    }

    /** Rows at {@code p, q}: {@code x <- c x - s y}, {@code y <- s x + c y}. */
    private static void rotate(double[] a, int p, int q, int len, double c, double s) {
        for (int i = 0; i < len; i++) {
            double x = a[p + i];
            double y = a[q + i];
            a[p + i] = c * x - s * y;
            a[q + i] = s * x + c * y;
        }
    }
}
