package dev.sprout.linalg;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Eigenpairs of real symmetric matrices: the reference implementation of
 * {@link dev.sprout.backend.Backend#symEig}. Pure Java, single-threaded, row-major.
 *
 * <h2>Contract</h2>
 * Only the lower triangle of each {@code n x n} input is read (the strict upper triangle may hold anything, even
 * NaN), and the input is never modified. Eigenvalues come out in ascending order; eigenvectors are the columns of
 * a row-major {@code n x k} matrix ({@code v[i*k + j]} is component {@code i} of eigenvector {@code j}) and are
 * orthonormal. An eigenvector's sign is mathematically arbitrary; this implementation makes the component of
 * largest magnitude positive (the first such component on a tie), which makes results reproducible and lets the
 * full and smallest-k paths usually agree exactly in sign, but callers should not rely on it across backends. The
 * float entry points compute in double and round the results once. An input containing NaN or an infinity is
 * rejected with {@link IllegalArgumentException} (the iteration has no meaningful answer for it).
 *
 * <h2>Algorithms and why</h2>
 * Both paths first scale the matrix by a power of two (exact) so its largest entry lies in [1, 2), which keeps
 * every squared norm below far from overflow and underflow, then reduce it to a symmetric tridiagonal matrix
 * {@code T = Q^T A Q} with Householder reflectors {@code H_j = I - tau_j u_j u_j^T}, {@code Q = H_0 ... H_(n-3)}
 * (the "tred2" step; LAPACK's dsytd2, lower variant).
 * <ul>
 *   <li><b>All pairs</b> ({@code k == n}): implicit QL iteration with Wilkinson shifts on T ("tql2"/"tqli"),
 *   accumulating the Givens rotations into {@code Q}. QL is backward stable, needs no tuning, and converges
 *   cubically (about two sweeps per eigenvalue) — the right reference for dense problems of the sizes Sprout
 *   meets (splitting matrices of a few hundred rows).</li>
 *   <li><b>The k smallest pairs</b> ({@code k < n}): bisection on the Sturm sequence of T finds exactly the k
 *   wanted eigenvalues, inverse iteration on T (a tridiagonal LU with partial pivoting per eigenvalue, a few
 *   iterations each) finds their eigenvectors, with modified Gram-Schmidt against the earlier members of each
 *   cluster of close eigenvalues (gap below {@code 1e-3 ||T||_1}, as LAPACK's dstein), and the reflectors map them
 *   back. T is first split where an off-diagonal element is negligible, and each block is handled on its own, so
 *   that decoupled blocks (a diagonal input, say) cannot confuse the iteration. This avoids forming {@code Q}
 *   and the O(n^3) rotation work, which dominate the full path.</li>
 * </ul>
 *
 * <h2>Performance model (flops, n x n, k pairs)</h2>
 * <ul>
 *   <li>Tridiagonalisation: {@code 4/3 n^3}. Step j does a symmetric matrix-vector product and a symmetric rank-2
 *   update on the trailing lower triangle, both as one pass over each row segment (contiguous in row-major
 *   storage, the matrix-vector product accumulating into two streams at once), so the step is one read and one
 *   write of {@code (n-j)^2 / 2} doubles: BLAS-2, bound by memory bandwidth once the matrix leaves the cache
 *   (n above about 350 for a 1 MiB L2). A blocked (dsytrd-style) reduction would halve that traffic.</li>
 *   <li>All pairs: forming {@code Q^T} by backward accumulation, {@code 4/3 n^3} (row dot products and row
 *   updates); QL, about {@code n^2} rotations of two rows of length n, {@code ~6 n^3}. The rotations are applied
 *   to {@code V^T} so that each combines two contiguous rows. Total about {@code 9 n^3}; values only (v null):
 *   {@code 4/3 n^3 + O(n^2)}.</li>
 *   <li>Smallest k: bisection, about 55 Sturm counts of {@code ~5n} flops per eigenvalue; inverse iteration,
 *   three or four tridiagonal solves of {@code ~10n} flops per eigenvalue plus Gram-Schmidt inside clusters;
 *   back-transformation {@code 2 n^2 k} (row updates). Total about {@code 4/3 n^3 + 2 n^2 k}: for
 *   {@code k << n} roughly seven times cheaper than the full path.</li>
 * </ul>
 * Memory: two {@code n x n} double work arrays on the full path, one plus an {@code n x k} one on the
 * smallest-k path, reused across a batch.
 */
public final class SymmetricEigen {
    private SymmetricEigen() {
    }

    private static final double EPS = Math.ulp(1.0);
    /** QL sweeps allowed per eigenvalue (two or three are typical). */
    private static final int MAX_QL_SWEEPS = 60;
    /** Inverse iterations allowed per eigenvector, and iterations done after the convergence test first passes. */
    private static final int MAX_INVERSE_ITERATIONS = 8;
    private static final int EXTRA_INVERSE_ITERATIONS = 2;
    /** Eigenvalues closer than this times {@code ||T||_1} form a cluster whose vectors are reorthogonalised. */
    private static final double CLUSTER_GAP = 1e-3;
    /** Rescaling threshold against overflow in the tridiagonal solves of inverse iteration. */
    private static final double BIG = 0x1p500;
    private static final long SEED = 0x5eed_ca5cade5L;

    // ================================================================ public API

    /**
     * All eigenpairs of one symmetric {@code n x n} matrix (lower triangle read), eigenvalues ascending.
     *
     * @param w receives {@code n} eigenvalues
     * @param v receives the {@code n x n} eigenvectors as columns, or {@code null} for values only
     */
    public static void full(int n, double[] a, int aOff, double[] w, int wOff, double[] v, int vOff) {
        run("SymmetricEigen.full", 1, n, n, new DoubleIo(a, aOff, w, wOff, v, vOff));
    }

    /** Float twin of {@link #full(int, double[], int, double[], int, double[], int)}; computes in double. */
    public static void full(int n, float[] a, int aOff, float[] w, int wOff, float[] v, int vOff) {
        run("SymmetricEigen.full", 1, n, n, new FloatIo(a, aOff, w, wOff, v, vOff));
    }

    /**
     * The {@code k} smallest eigenpairs of one symmetric {@code n x n} matrix (lower triangle read), by bisection
     * and inverse iteration; {@code k == n} uses the full (QL) algorithm.
     *
     * @param w receives {@code k} eigenvalues, ascending
     * @param v receives the {@code n x k} eigenvectors as columns, or {@code null} for values only
     */
    public static void smallest(int n, int k, double[] a, int aOff, double[] w, int wOff, double[] v, int vOff) {
        run("SymmetricEigen.smallest", 1, n, k, new DoubleIo(a, aOff, w, wOff, v, vOff));
    }

    /** Float twin of {@link #smallest(int, int, double[], int, double[], int, double[], int)}; computes in double. */
    public static void smallest(int n, int k, float[] a, int aOff, float[] w, int wOff, float[] v, int vOff) {
        run("SymmetricEigen.smallest", 1, n, k, new FloatIo(a, aOff, w, wOff, v, vOff));
    }

    /**
     * Batched entry point with exactly the contract of {@link dev.sprout.backend.Backend#symEig}: {@code batch}
     * matrices {@code [batch, n, n]} at {@code aOff}; {@code w} receives {@code [batch, k]} eigenvalues
     * (ascending, the smallest ones), {@code v} {@code [batch, n, k]} eigenvectors as columns, or is
     * {@code null} for values only. {@code k == n} runs the full algorithm, {@code k < n} the smallest-k one.
     *
     * @throws IllegalArgumentException  for negative sizes, {@code k > n}, overlapping operands, or an input
     *                                   holding NaN or an infinity (then the earlier matrices of the batch are
     *                                   already written)
     * @throws IndexOutOfBoundsException for negative offsets or arrays too short
     */
    public static void symEig(int batch, int n, int k, double[] a, int aOff, double[] w, int wOff, double[] v, int vOff) {
        run("symEig", batch, n, k, new DoubleIo(a, aOff, w, wOff, v, vOff));
    }

    /** Float twin of {@link #symEig(int, int, int, double[], int, double[], int, double[], int)}; computes in double. */
    public static void symEig(int batch, int n, int k, float[] a, int aOff, float[] w, int wOff, float[] v, int vOff) {
        run("symEig", batch, n, k, new FloatIo(a, aOff, w, wOff, v, vOff));
    }

    // ================================================================ driver

    /** Validates, then decomposes each matrix of the batch with one reused workspace. */
    private static void run(String op, int batch, int n, int k, Io io) {
        Check.nonNegative(op, "batch", batch);
        Check.nonNegative(op, "n", n);
        Check.nonNegative(op, "k", k);
        if (k > n) {
            throw new IllegalArgumentException(op + ": k = " + k + " must be <= n = " + n);
        }
        long aLen = (long) batch * n * n;
        long wLen = (long) batch * k;
        long vLen = (long) batch * n * k;
        io.check(op, aLen, wLen, vLen);
        if (batch == 0 || k == 0) {
            return;
        }
        Work ws = new Work(n, k, io.wantsVectors());
        for (int b = 0; b < batch; b++) {
            double maxAbs = io.load(b * n * n, n, ws.h);
            if (!Double.isFinite(maxAbs)) {
                throw new IllegalArgumentException(op + ": a (matrix " + b + " of " + batch
                        + ") contains NaN or infinity");
            }
            decompose(ws, maxAbs);
            io.store(b * k, b * n * k, ws);
        }
    }

    /**
     * Decomposes the matrix whose lower triangle is in {@code ws.h}; leaves eigenvalues in {@code ws.w} and, if
     * wanted, eigenvectors in {@code ws.vectors()} ({@code n x k} row-major).
     */
    private static void decompose(Work ws, double maxAbs) {
        int n = ws.n;
        int k = ws.k;
        int exp = 0;
        if (maxAbs > 0) {
            exp = exponent(maxAbs);
            scaleLower(n, ws.h, -exp);
        }
        tridiagonalize(n, ws.h, ws.d, ws.e, ws.tau, ws.vec, ws.p);
        if (k == n) {
            if (ws.wantVectors) {
                formQt(n, ws.h, ws.tau, ws.z);
            }
            ql(n, ws.d, ws.e, ws.wantVectors ? ws.z : null);
            sortAscending(n, ws.d, ws.wantVectors ? ws.z : null, ws.p);
            System.arraycopy(ws.d, 0, ws.w, 0, n);
            if (ws.wantVectors) {
                normalizeRowSigns(n, n, ws.z);
                transpose(n, ws.z, ws.h); // V = (V^T)^T; h (reflectors) is no longer needed
            }
        } else {
            tridiagonalSmallest(n, k, ws.d, ws.e, ws.w, ws.wantVectors ? ws.z : null, ws);
            if (ws.wantVectors) {
                applyQ(n, k, ws.h, ws.tau, ws.z, ws.p);
                normalizeColumnSigns(n, k, ws.z, ws.p, ws.vec);
            }
        }
        if (exp != 0) {
            for (int j = 0; j < k; j++) {
                ws.w[j] = Math.scalb(ws.w[j], exp);
            }
        }
    }

    /** The binary exponent of a positive finite value, subnormals included. */
    private static int exponent(double x) {
        return x >= Double.MIN_NORMAL ? Math.getExponent(x) : Math.getExponent(x * 0x1p54) - 54;
    }

    private static void scaleLower(int n, double[] h, int exp) {
        for (int i = 0; i < n; i++) {
            int row = i * n;
            for (int j = 0; j <= i; j++) {
                h[row + j] = Math.scalb(h[row + j], exp);
            }
        }
    }

    // ================================================================ Householder tridiagonalisation

    /**
     * Reduces the symmetric matrix held in the lower triangle of {@code h} to tridiagonal form
     * {@code T = H_(n-3) ... H_0 A H_0 ... H_(n-3)}: diagonal {@code d[0..n)}, off-diagonal {@code e[0..n-1)}
     * ({@code e[i]} couples {@code i} and {@code i+1}; {@code e[n-1] = 0}). Reflector {@code j} acts on indices
     * {@code j+1..n-1}; its vector {@code u_j} (with {@code u_j[j+1] = 1}) is stored in the strict upper triangle of
     * row {@code j}, {@code h[j*n + j+1 .. j*n + n-1]}, which the lower-triangle algorithm never reads, and its
     * scalar in {@code tau[j]}.
     *
     * <p>Step j: with {@code x = A[j+1.., j]}, choose {@code beta = -sign(x_0) ||x||} and
     * {@code u = (x - beta e_1) / (x_0 - beta)}, {@code tau = (beta - x_0) / beta}, so {@code H x = beta e_1}.
     * Then {@code A22 <- H A22 H = A22 - u w^T - w u^T} with {@code p = tau A22 u},
     * {@code w = p - (tau/2)(u^T p) u}.
     */
    static void tridiagonalize(int n, double[] h, double[] d, double[] e, double[] tau, double[] u, double[] p) {
        for (int j = 0; j < n - 2; j++) {
            int j1 = j + 1;
            d[j] = h[j * n + j];
            double alpha = h[j1 * n + j];
            double sigma = 0;
            for (int r = j1 + 1; r < n; r++) {
                double x = h[r * n + j];
                sigma += x * x;
            }
            int uRow = j * n;
            if (sigma == 0) { // x is already a multiple of e_1: H = I
                tau[j] = 0;
                e[j] = alpha;
                h[uRow + j1] = 1;
                for (int r = j1 + 1; r < n; r++) {
                    h[uRow + r] = 0;
                }
                continue;
            }
            double norm = Math.sqrt(alpha * alpha + sigma);
            double beta = alpha >= 0 ? -norm : norm;
            double t = (beta - alpha) / beta;
            double inv = 1 / (alpha - beta);
            tau[j] = t;
            e[j] = beta;
            u[j1] = 1;
            h[uRow + j1] = 1;
            for (int r = j1 + 1; r < n; r++) {
                double ur = h[r * n + j] * inv;
                u[r] = ur;
                h[uRow + r] = ur;
            }
            // p = A22 u, from the lower triangle: row r contributes A[r, c] u[c] to p[r] and A[r, c] u[r] to p[c].
            for (int r = j1; r < n; r++) {
                p[r] = 0;
            }
            for (int r = j1; r < n; r++) {
                int row = r * n;
                double ur = u[r];
                double s = 0;
                for (int c = j1; c < r; c++) {
                    double arc = h[row + c];
                    s += arc * u[c];
                    p[c] += arc * ur;
                }
                p[r] += s + h[row + r] * ur;
            }
            // p = tau A22 u; w = p - (tau/2)(u^T p) u
            double up = 0;
            for (int r = j1; r < n; r++) {
                p[r] *= t;
                up += u[r] * p[r];
            }
            double kk = 0.5 * t * up;
            for (int r = j1; r < n; r++) {
                p[r] -= kk * u[r];
            }
            // A22 -= u w^T + w u^T, lower triangle, one contiguous row segment at a time
            for (int r = j1; r < n; r++) {
                int row = r * n;
                double ur = u[r];
                double wr = p[r];
                for (int c = j1; c <= r; c++) {
                    h[row + c] -= ur * p[c] + wr * u[c];
                }
            }
        }
        if (n >= 2) {
            d[n - 2] = h[(n - 2) * n + n - 2];
            e[n - 2] = h[(n - 1) * n + n - 2];
        }
        if (n >= 1) {
            d[n - 1] = h[(n - 1) * n + n - 1];
            e[n - 1] = 0;
        }
    }

    /**
     * Forms {@code Q^T = H_(n-3) ... H_0} in {@code qt} by backward accumulation: starting from I, {@code qt <- qt H_j}
     * for j descending. When {@code H_j} is applied, {@code qt} differs from I only in rows and columns
     * {@code >= j+2}, so only rows and columns {@code j+1..n-1} are touched: a row dot product and a row update
     * each, {@code 4/3 n^3} flops in all.
     */
    private static void formQt(int n, double[] h, double[] tau, double[] qt) {
        Arrays.fill(qt, 0, n * n, 0.0);
        for (int i = 0; i < n; i++) {
            qt[i * n + i] = 1;
        }
        for (int j = n - 3; j >= 0; j--) {
            double t = tau[j];
            if (t == 0) {
                continue;
            }
            int uRow = j * n;
            for (int r = j + 1; r < n; r++) {
                int row = r * n;
                double s = 0;
                for (int c = j + 1; c < n; c++) {
                    s += qt[row + c] * h[uRow + c];
                }
                s *= t;
                if (s != 0) {
                    for (int c = j + 1; c < n; c++) {
                        qt[row + c] -= s * h[uRow + c];
                    }
                }
            }
        }
    }

    /**
     * {@code z <- Q z = H_0 ... H_(n-3) z} for {@code z} ({@code n x k}, row-major): for j descending,
     * {@code t = tau u^T z} (row axpys into {@code t}), then {@code z -= u t} (row updates), {@code 4 (n-j) k} flops.
     */
    private static void applyQ(int n, int k, double[] h, double[] tau, double[] z, double[] t) {
        for (int j = n - 3; j >= 0; j--) {
            double tj = tau[j];
            if (tj == 0) {
                continue;
            }
            int uRow = j * n;
            Arrays.fill(t, 0, k, 0.0);
            for (int r = j + 1; r < n; r++) {
                double ur = h[uRow + r];
                if (ur != 0) {
                    int row = r * k;
                    for (int c = 0; c < k; c++) {
                        t[c] += ur * z[row + c];
                    }
                }
            }
            for (int c = 0; c < k; c++) {
                t[c] *= tj;
            }
            for (int r = j + 1; r < n; r++) {
                double ur = h[uRow + r];
                if (ur != 0) {
                    int row = r * k;
                    for (int c = 0; c < k; c++) {
                        z[row + c] -= ur * t[c];
                    }
                }
            }
        }
    }

    // ================================================================ implicit QL

    /**
     * Implicit QL with Wilkinson shifts on the tridiagonal {@code (d, e)} ({@code e[i]} couples {@code i, i+1}).
     * Leaves the (unsorted) eigenvalues in {@code d}. If {@code vt} is not null it holds {@code V^T} (eigenvectors
     * as rows), and each rotation {@code G} of columns {@code i, i+1} of V is applied as {@code G^T} to rows
     * {@code i, i+1} of {@code vt}, two contiguous rows.
     *
     * <p>For each {@code l}: find the first {@code m >= l} with negligible {@code e[m]}
     * ({@code |e[m]| <= eps (|d[m]| + |d[m+1]|)}); if {@code m > l}, take the shift {@code sigma} as the eigenvalue
     * of the leading 2x2 block {@code [d_l e_l; e_l d_(l+1)]} nearer {@code d_l} (Wilkinson), and chase the bulge
     * of {@code T - sigma I = QL} from row {@code m} up to {@code l} with Givens rotations, which performs one step
     * {@code T <- L Q + sigma I} without forming either factor.
     */
    private static void ql(int n, double[] d, double[] e, double[] vt) {
        for (int l = 0; l < n; l++) {
            int sweeps = 0;
            while (true) {
                int m = l;
                while (m < n - 1) {
                    double em = Math.abs(e[m]);
                    if (em <= EPS * (Math.abs(d[m]) + Math.abs(d[m + 1])) || em < Double.MIN_NORMAL) {
                        break;
                    }
                    m++;
                }
                if (m == l) {
                    break;
                }
                if (++sweeps > MAX_QL_SWEEPS) {
                    throw new ArithmeticException("symEig: QL iteration did not converge for eigenvalue " + l);
                }
                // Wilkinson shift: g becomes d[m] - sigma
                double g = (d[l + 1] - d[l]) / (2 * e[l]);
                double r = Math.hypot(g, 1.0);
                g = d[m] - d[l] + e[l] / (g + Math.copySign(r, g));
                double s = 1;
                double c = 1;
                double p = 0;
                boolean underflow = false;
                for (int i = m - 1; i >= l; i--) {
                    double f = s * e[i];
                    double b = c * e[i];
                    r = Math.hypot(f, g);
                    e[i + 1] = r;
                    if (r == 0) { // recover from underflow: deflate and start over
                        d[i + 1] -= p;
                        e[m] = 0;
                        underflow = true;
                        break;
                    }
                    s = f / r;
                    c = g / r;
                    g = d[i + 1] - p;
                    r = (d[i] - g) * s + 2 * c * b;
                    p = s * r;
                    d[i + 1] = g + p;
                    g = c * r - b;
                    if (vt != null) {
                        rotateRows(n, vt, i, c, s);
                    }
                }
                if (underflow) {
                    continue;
                }
                d[l] -= p;
                e[l] = g;
                e[m] = 0;
            }
        }
    }

    /** Rows {@code i, i+1} of {@code vt} become {@code c x - s y} and {@code s x + c y}. */
    private static void rotateRows(int n, double[] vt, int i, double c, double s) {
        int ri = i * n;
        int rj = ri + n;
        for (int col = 0; col < n; col++) {
            double x = vt[ri + col];
            double y = vt[rj + col];
            vt[ri + col] = c * x - s * y;
            vt[rj + col] = s * x + c * y;
        }
    }

    /** Selection sort of {@code d} ascending, moving the rows of {@code vt} along (n row swaps at most). */
    private static void sortAscending(int n, double[] d, double[] vt, double[] tmp) {
        for (int i = 0; i < n - 1; i++) {
            int min = i;
            for (int j = i + 1; j < n; j++) {
                if (d[j] < d[min]) {
                    min = j;
                }
            }
            if (min != i) {
                double t = d[i];
                d[i] = d[min];
                d[min] = t;
                if (vt != null) {
                    System.arraycopy(vt, i * n, tmp, 0, n);
                    System.arraycopy(vt, min * n, vt, i * n, n);
                    System.arraycopy(tmp, 0, vt, min * n, n);
                }
            }
        }
    }

    // ================================================================ smallest k: bisection + inverse iteration

    /**
     * The {@code k} smallest eigenvalues of the tridiagonal {@code (d, e)} into {@code w} (ascending) and, if
     * {@code z} is not null, their eigenvectors as the columns of {@code z} ({@code n x k}). T is split into
     * unreduced blocks first (negligible {@code e[i]} set to zero); each block contributes at most
     * {@code min(k, size)} candidates, of which the k smallest overall are kept.
     */
    private static void tridiagonalSmallest(int n, int k, double[] d, double[] e, double[] w, double[] z, Work ws) {
        int blocks = 0;
        int start = 0;
        for (int i = 0; i < n; i++) {
            boolean end = i == n - 1;
            if (!end) {
                double ei = Math.abs(e[i]);
                if (ei <= EPS * (Math.abs(d[i]) + Math.abs(d[i + 1])) || ei < Double.MIN_NORMAL) {
                    e[i] = 0;
                    end = true;
                }
            }
            if (end) {
                ws.blockStart[blocks] = start;
                ws.blockEnd[blocks] = i;
                blocks++;
                start = i + 1;
            }
        }
        // Candidates: the min(k, size) smallest eigenvalues of every block, ascending within the block.
        int candidates = 0;
        for (int b = 0; b < blocks; b++) {
            int b0 = ws.blockStart[b];
            int b1 = ws.blockEnd[b];
            int kb = Math.min(k, b1 - b0 + 1);
            if (b0 == b1) {
                ws.candValue[candidates] = d[b0]; // exact for a 1 x 1 block
            } else {
                bisect(d, e, b0, b1, kb, ws.candValue, candidates, ws.lower, ws.upper);
            }
            for (int t = 0; t < kb; t++) {
                ws.candBlock[candidates + t] = b;
            }
            candidates += kb;
        }
        // The k smallest candidates, ties in block order (stable sort).
        Integer[] order = new Integer[candidates];
        for (int c = 0; c < candidates; c++) {
            order[c] = c;
        }
        double[] cv = ws.candValue;
        Arrays.sort(order, (x, y) -> Double.compare(cv[x], cv[y]));
        Arrays.fill(ws.candColumn, 0, candidates, -1);
        for (int j = 0; j < k; j++) {
            int c = order[j];
            w[j] = cv[c];
            ws.candColumn[c] = j;
        }
        if (z == null) {
            return;
        }
        Arrays.fill(z, 0, n * k, 0.0);
        // Inverse iteration per block, over the block's selected candidates (a prefix of its ascending list).
        int c = 0;
        for (int b = 0; b < blocks; b++) {
            int q = 0;
            int first = c;
            while (c < candidates && ws.candBlock[c] == b) {
                if (ws.candColumn[c] >= 0) {
                    ws.selValue[q] = cv[c];
                    ws.selColumn[q] = ws.candColumn[c];
                    q++;
                }
                c++;
            }
            if (q > 0) {
                inverseIteration(d, e, ws.blockStart[b], ws.blockEnd[b], q, ws.selValue, ws.selColumn, z, k, ws,
                        SEED + first);
            }
        }
    }

    /**
     * The {@code kb} smallest eigenvalues of the unreduced block {@code b0..b1} of T by bisection, into
     * {@code out[outOff..outOff+kb)}. Every Sturm count {@code c = #{lambda < x}} narrows the brackets of all
     * wanted eigenvalues at once ({@code lambda_j < x} for {@code j < c}, {@code lambda_j >= x} otherwise). The
     * interval stops shrinking at {@code eps ||T|| + 2 eps |lambda|}, the accuracy QL reaches too.
     */
    private static void bisect(double[] d, double[] e, int b0, int b1, int kb, double[] out, int outOff,
                               double[] lower, double[] upper) {
        double lo = Double.POSITIVE_INFINITY;
        double hi = Double.NEGATIVE_INFINITY;
        double e2max = 0;
        for (int i = b0; i <= b1; i++) {
            double left = i > b0 ? Math.abs(e[i - 1]) : 0;
            double right = i < b1 ? Math.abs(e[i]) : 0;
            lo = Math.min(lo, d[i] - left - right);
            hi = Math.max(hi, d[i] + left + right);
            if (i < b1) {
                e2max = Math.max(e2max, e[i] * e[i]);
            }
        }
        double tnorm = Math.max(Math.abs(lo), Math.abs(hi));
        double pivmin = Double.MIN_NORMAL * Math.max(1, e2max);
        double tolAbs = EPS * tnorm;
        lo -= 2 * tolAbs + 2 * pivmin;
        hi += 2 * tolAbs + 2 * pivmin;
        Arrays.fill(lower, 0, kb, lo);
        Arrays.fill(upper, 0, kb, hi);
        for (int i = 0; i < kb; i++) {
            double a = lower[i];
            double b = upper[i];
            while (true) {
                double mid = a + 0.5 * (b - a);
                if (b - a <= tolAbs + 2 * EPS * Math.max(Math.abs(a), Math.abs(b)) || mid <= a || mid >= b) {
                    break;
                }
                int count = sturmCount(d, e, b0, b1, mid, pivmin);
                if (count > i) {
                    b = mid;
                    for (int j = i + 1, end = Math.min(count, kb); j < end; j++) {
                        upper[j] = Math.min(upper[j], mid);
                    }
                } else {
                    a = mid;
                    for (int j = i + 1; j < kb; j++) {
                        lower[j] = Math.max(lower[j], mid);
                    }
                }
            }
            out[outOff + i] = a + 0.5 * (b - a);
        }
    }

    /**
     * Number of eigenvalues of the block {@code b0..b1} below {@code x}: the negative terms of
     * {@code q_i = d_i - x - e_(i-1)^2 / q_(i-1)} (Sylvester's law of inertia on {@code T - x I = L D L^T}).
     * Pivots smaller than {@code pivmin} are replaced by {@code -pivmin}, which bounds {@code e^2 / q}.
     */
    private static int sturmCount(double[] d, double[] e, int b0, int b1, double x, double pivmin) {
        int count = 0;
        double q = d[b0] - x;
        if (Math.abs(q) < pivmin) {
            q = -pivmin;
        }
        if (q < 0) {
            count++;
        }
        for (int i = b0 + 1; i <= b1; i++) {
            double ei = e[i - 1];
            q = d[i] - x - ei * ei / q;
            if (Math.abs(q) < pivmin) {
                q = -pivmin;
            }
            if (q < 0) {
                count++;
            }
        }
        return count;
    }

    /**
     * Eigenvectors of the unreduced block {@code b0..b1} for its {@code q} eigenvalues {@code lam[0..q)}
     * (ascending) by inverse iteration, written into column {@code cols[t]} of {@code z} ({@code n x k}), rows
     * {@code b0..b1}. Close eigenvalues are nudged apart by {@code 10 eps |lambda|}; members of a cluster (gap below
     * {@code CLUSTER_GAP ||T||_1}) are orthogonalised against the cluster's earlier vectors after every solve. An
     * iteration counts as converged when the solve grew the (unit) right-hand side enough that the residual
     * {@code ||(T - lambda I) x||} of the normalised iterate is below {@code ~ size^1.5 eps ||T||_1}; two more
     * iterations follow (as dstein does).
     */
    private static void inverseIteration(double[] d, double[] e, int b0, int b1, int q, double[] lam, int[] cols,
                                         double[] z, int k, Work ws, long seed) {
        int bs = b1 - b0 + 1;
        if (bs == 1) {
            z[b0 * k + cols[0]] = 1;
            return;
        }
        double onenrm = 0;
        for (int i = b0; i <= b1; i++) {
            double left = i > b0 ? Math.abs(e[i - 1]) : 0;
            double right = i < b1 ? Math.abs(e[i]) : 0;
            onenrm = Math.max(onenrm, Math.abs(d[i]) + left + right);
        }
        double ortol = CLUSTER_GAP * onenrm;
        double pivTol = EPS * onenrm;
        double resTol = Math.sqrt(10.0 * bs) * bs * EPS * onenrm;
        double[] x = ws.x;
        SplittableRandom random = new SplittableRandom(seed);
        double prev = 0;
        int cluster = 0;
        for (int t = 0; t < q; t++) {
            double shift = lam[t];
            if (t > 0) {
                double pertol = 10 * EPS * Math.abs(shift);
                if (shift - prev < pertol) {
                    shift = prev + pertol;
                }
                if (shift - prev > ortol) {
                    cluster = t;
                }
            }
            prev = shift;
            factorShifted(d, e, b0, bs, shift, pivTol, ws);
            for (int i = 0; i < bs; i++) {
                x[i] = random.nextDouble(-1.0, 1.0);
            }
            int passed = 0;
            for (int it = 0; it < MAX_INVERSE_ITERATIONS; it++) {
                double nrm = norm2(x, bs);
                if (nrm == 0) { // everything was removed by the orthogonalisation: restart from a new vector
                    for (int i = 0; i < bs; i++) {
                        x[i] = random.nextDouble(-1.0, 1.0);
                    }
                    nrm = norm2(x, bs);
                }
                scale(x, bs, 1 / nrm);
                double scale = solveShifted(bs, x, ws);
                for (int s = cluster; s < t; s++) {
                    int col = cols[s];
                    double dot = 0;
                    for (int i = 0; i < bs; i++) {
                        dot += z[(b0 + i) * k + col] * x[i];
                    }
                    for (int i = 0; i < bs; i++) {
                        x[i] -= dot * z[(b0 + i) * k + col];
                    }
                }
                double growth = norm2(x, bs) / scale;
                if (growth * resTol >= 1 && ++passed > EXTRA_INVERSE_ITERATIONS) {
                    break;
                }
            }
            double nrm = norm2(x, bs);
            int col = cols[t];
            for (int i = 0; i < bs; i++) {
                z[(b0 + i) * k + col] = x[i] / nrm;
            }
        }
    }

    /**
     * LU with partial pivoting of the tridiagonal {@code T - shift I} on block {@code b0..b0+bs-1}, as LAPACK's
     * dgttrf: {@code ws.tdl} multipliers, {@code ws.tswap} whether rows {@code i, i+1} were exchanged,
     * {@code ws.tdd, ws.tdu, ws.tdu2} the diagonal and two superdiagonals of U. Pivots below {@code pivTol} in
     * magnitude are replaced by {@code +-pivTol} (the eigenvalue is a near-singular shift by design).
     */
    private static void factorShifted(double[] d, double[] e, int b0, int bs, double shift, double pivTol, Work ws) {
        double[] dd = ws.tdd;
        double[] du = ws.tdu;
        double[] du2 = ws.tdu2;
        double[] dl = ws.tdl;
        boolean[] swap = ws.tswap;
        for (int i = 0; i < bs; i++) {
            dd[i] = d[b0 + i] - shift;
        }
        for (int i = 0; i < bs - 1; i++) {
            du[i] = e[b0 + i];
            dl[i] = e[b0 + i];
            du2[i] = 0;
        }
        for (int i = 0; i < bs - 1; i++) {
            if (Math.abs(dd[i]) >= Math.abs(dl[i])) {
                swap[i] = false;
                if (dd[i] != 0) {
                    double f = dl[i] / dd[i];
                    dl[i] = f;
                    dd[i + 1] -= f * du[i];
                } else {
                    dl[i] = 0;
                }
            } else {
                swap[i] = true;
                double f = dd[i] / dl[i];
                dd[i] = dl[i];
                dl[i] = f;
                double tmp = du[i];
                du[i] = dd[i + 1];
                dd[i + 1] = tmp - f * dd[i + 1];
                if (i < bs - 2) {
                    du2[i] = du[i + 1];
                    du[i + 1] = -f * du[i + 1];
                }
            }
        }
        for (int i = 0; i < bs; i++) {
            if (Math.abs(dd[i]) < pivTol) {
                dd[i] = Math.copySign(pivTol, dd[i]);
            }
        }
    }

    /**
     * Solves with the factors of {@link #factorShifted} in place. Rescales the whole vector whenever an entry
     * exceeds {@code BIG} (the system is nearly singular on purpose) and returns the factor {@code s} such that
     * {@code x = s (T - shift I)^(-1) b}.
     */
    private static double solveShifted(int bs, double[] x, Work ws) {
        double[] dd = ws.tdd;
        double[] du = ws.tdu;
        double[] du2 = ws.tdu2;
        double[] dl = ws.tdl;
        boolean[] swap = ws.tswap;
        double scale = 1;
        for (int i = 0; i < bs - 1; i++) {
            if (swap[i]) {
                double tmp = x[i];
                x[i] = x[i + 1];
                x[i + 1] = tmp - dl[i] * x[i];
            } else {
                x[i + 1] -= dl[i] * x[i];
            }
            if (Math.abs(x[i + 1]) > BIG) {
                scale(x, bs, 1 / BIG);
                scale /= BIG;
            }
        }
        for (int i = bs - 1; i >= 0; i--) {
            double s = x[i];
            if (i + 1 < bs) {
                s -= du[i] * x[i + 1];
            }
            if (i + 2 < bs) {
                s -= du2[i] * x[i + 2];
            }
            x[i] = s / dd[i];
            if (Math.abs(x[i]) > BIG) {
                scale(x, bs, 1 / BIG);
                scale /= BIG;
            }
        }
        return scale;
    }

    private static double norm2(double[] x, int n) {
        // Entries are bounded (unit start vectors, rescaled solves), so a plain sum of squares cannot overflow.
        double s = 0;
        for (int i = 0; i < n; i++) {
            s += x[i] * x[i];
        }
        return Math.sqrt(s);
    }

    private static void scale(double[] x, int n, double f) {
        for (int i = 0; i < n; i++) {
            x[i] *= f;
        }
    }

    // ================================================================ output helpers

    /** Makes the largest-magnitude entry of each row of {@code rows x n} matrix {@code vt} positive. */
    private static void normalizeRowSigns(int rows, int n, double[] vt) {
        for (int r = 0; r < rows; r++) {
            int base = r * n;
            int arg = 0;
            double max = -1;
            for (int i = 0; i < n; i++) {
                double m = Math.abs(vt[base + i]);
                if (m > max) {
                    max = m;
                    arg = i;
                }
            }
            if (vt[base + arg] < 0) {
                for (int i = 0; i < n; i++) {
                    vt[base + i] = -vt[base + i];
                }
            }
        }
    }

    /** Makes the largest-magnitude entry of each column of the {@code n x k} matrix {@code z} positive. */
    private static void normalizeColumnSigns(int n, int k, double[] z, double[] max, double[] sign) {
        Arrays.fill(max, 0, k, -1.0);
        for (int i = 0; i < n; i++) {
            int row = i * k;
            for (int j = 0; j < k; j++) {
                double m = Math.abs(z[row + j]);
                if (m > max[j]) {
                    max[j] = m;
                    sign[j] = z[row + j] < 0 ? -1 : 1;
                }
            }
        }
        for (int i = 0; i < n; i++) {
            int row = i * k;
            for (int j = 0; j < k; j++) {
                z[row + j] *= sign[j];
            }
        }
    }

    private static void transpose(int n, double[] src, double[] dst) {
        for (int i = 0; i < n; i++) {
            int row = i * n;
            for (int j = 0; j < n; j++) {
                dst[j * n + i] = src[row + j];
            }
        }
    }

    // ================================================================ workspace and typed input/output

    /** Scratch for one matrix size, reused across a batch. */
    private static final class Work {
        final int n;
        final int k;
        final boolean wantVectors;
        /** Lower triangle of the scaled input, then reflectors in the strict upper triangle; V on the full path. */
        final double[] h;
        /** Full path: {@code Q^T}, then {@code V^T}. Smallest path: the {@code n x k} eigenvectors. */
        final double[] z;
        final double[] d;
        final double[] e;
        final double[] tau;
        final double[] vec;
        final double[] p;
        final double[] w;
        // smallest-k path
        final int[] blockStart;
        final int[] blockEnd;
        final double[] candValue;
        final int[] candBlock;
        final int[] candColumn;
        final double[] selValue;
        final int[] selColumn;
        final double[] lower;
        final double[] upper;
        final double[] x;
        final double[] tdd;
        final double[] tdu;
        final double[] tdu2;
        final double[] tdl;
        final boolean[] tswap;

        Work(int n, int k, boolean wantVectors) {
            this.n = n;
            this.k = k;
            this.wantVectors = wantVectors;
            int m = Math.max(n, 1);
            h = new double[n * n];
            z = wantVectors ? new double[n * k] : null;
            d = new double[m];
            e = new double[m];
            tau = new double[m];
            vec = new double[m];
            p = new double[m];
            w = new double[Math.max(k, 1)];
            boolean smallest = k < n;
            int s = smallest ? m : 0;
            blockStart = new int[s];
            blockEnd = new int[s];
            candValue = new double[s];
            candBlock = new int[s];
            candColumn = new int[s];
            selValue = new double[s];
            selColumn = new int[s];
            lower = new double[s];
            upper = new double[s];
            x = new double[s];
            tdd = new double[s];
            tdu = new double[s];
            tdu2 = new double[s];
            tdl = new double[s];
            tswap = new boolean[s];
        }

        /** Where the {@code n x k} eigenvectors are after {@link #decompose}. */
        double[] vectors() {
            return k == n ? h : z;
        }
    }

    /** Typed access to the caller's arrays, so that one double-precision core serves float and double. */
    private abstract static class Io {
        abstract void check(String op, long aLen, long wLen, long vLen);

        abstract boolean wantsVectors();

        /** Copies the lower triangle of matrix at element offset {@code rel} into {@code h}; returns max |a_ij|. */
        abstract double load(int rel, int n, double[] h);

        /** Writes {@code ws.w} and, if wanted, {@code ws.vectors()} at element offsets {@code wRel, vRel}. */
        abstract void store(int wRel, int vRel, Work ws);
    }

    private static final class DoubleIo extends Io {
        final double[] a;
        final int aOff;
        final double[] w;
        final int wOff;
        final double[] v;
        final int vOff;

        DoubleIo(double[] a, int aOff, double[] w, int wOff, double[] v, int vOff) {
            this.a = a;
            this.aOff = aOff;
            this.w = w;
            this.wOff = wOff;
            this.v = v;
            this.vOff = vOff;
        }

        @Override
        void check(String op, long aLen, long wLen, long vLen) {
            Check.fits(op, "a", a, aOff, aLen);
            Check.fits(op, "w", w, wOff, wLen);
            if (v != null) {
                Check.fits(op, "v", v, vOff, vLen);
                Check.disjoint(op, "a", a, aOff, aLen, "v", v, vOff, vLen);
                Check.disjoint(op, "w", w, wOff, wLen, "v", v, vOff, vLen);
            }
            Check.disjoint(op, "a", a, aOff, aLen, "w", w, wOff, wLen);
        }

        @Override
        boolean wantsVectors() {
            return v != null;
        }

        @Override
        double load(int rel, int n, double[] h) {
            double max = 0;
            for (int i = 0; i < n; i++) {
                int src = aOff + rel + i * n;
                int dst = i * n;
                for (int j = 0; j <= i; j++) {
                    double x = a[src + j];
                    h[dst + j] = x;
                    max = Math.max(max, Math.abs(x));
                }
            }
            return max;
        }

        @Override
        void store(int wRel, int vRel, Work ws) {
            System.arraycopy(ws.w, 0, w, wOff + wRel, ws.k);
            if (v != null) {
                System.arraycopy(ws.vectors(), 0, v, vOff + vRel, ws.n * ws.k);
            }
        }
    }

    private static final class FloatIo extends Io {
        final float[] a;
        final int aOff;
        final float[] w;
        final int wOff;
        final float[] v;
        final int vOff;

        FloatIo(float[] a, int aOff, float[] w, int wOff, float[] v, int vOff) {
            this.a = a;
            this.aOff = aOff;
            this.w = w;
            this.wOff = wOff;
            this.v = v;
            this.vOff = vOff;
        }

        @Override
        void check(String op, long aLen, long wLen, long vLen) {
            Check.fits(op, "a", a, aOff, aLen);
            Check.fits(op, "w", w, wOff, wLen);
            if (v != null) {
                Check.fits(op, "v", v, vOff, vLen);
                Check.disjoint(op, "a", a, aOff, aLen, "v", v, vOff, vLen);
                Check.disjoint(op, "w", w, wOff, wLen, "v", v, vOff, vLen);
            }
            Check.disjoint(op, "a", a, aOff, aLen, "w", w, wOff, wLen);
        }

        @Override
        boolean wantsVectors() {
            return v != null;
        }

        @Override
        double load(int rel, int n, double[] h) {
            double max = 0;
            for (int i = 0; i < n; i++) {
                int src = aOff + rel + i * n;
                int dst = i * n;
                for (int j = 0; j <= i; j++) {
                    double x = a[src + j];
                    h[dst + j] = x;
                    max = Math.max(max, Math.abs(x));
                }
            }
            return max;
        }

        @Override
        void store(int wRel, int vRel, Work ws) {
            int wo = wOff + wRel;
            for (int j = 0; j < ws.k; j++) {
                w[wo + j] = (float) ws.w[j];
            }
            if (v != null) {
                double[] src = ws.vectors();
                int vo = vOff + vRel;
                for (int i = 0, len = ws.n * ws.k; i < len; i++) {
                    v[vo + i] = (float) src[i];
                }
            }
        }
    }
}
