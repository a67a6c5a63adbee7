package dev.sprout.growth;

import dev.sprout.linalg.SymmetricEigen;
import dev.sprout.tensor.Rng;

/**
 * A block of independent symmetric Lanczos iterations, one per neuron, run in lockstep: every step applies the
 * operator once to all the neurons' current vectors together ({@link BlockOperator}), so that a matrix-free
 * operator whose cost is dominated by shared work (the splitting operator's GEMMs over the layer input) is paid
 * {@code k} times in total, not {@code k} times per neuron.
 *
 * <p>Per neuron, with {@code A} its symmetric {@code D x D} operator, the iteration builds an orthonormal basis
 * {@code q_0 .. q_(m-1)} of the Krylov space {@code K_m(A, q_0)} and the tridiagonal {@code T = Q^T A Q}
 * (diagonal {@code alpha}, off-diagonal {@code beta}). Every new vector is orthogonalised against the whole basis
 * twice (classical Gram-Schmidt, "twice is enough"), so the basis stays orthonormal to working precision and no
 * spurious copies of converged Ritz values appear. After {@code m} steps the small tridiagonal is solved with
 * {@link SymmetricEigen#full} for its extreme eigenpairs {@code (theta, y)}: the Ritz values, the Ritz vectors
 * {@code x = Q y} (unit norm) and the standard residual estimate {@code ||A x - theta x|| = beta_m |y_(m-1)|}
 * (exact in exact arithmetic; the basis' orthogonality keeps it reliable here).
 *
 * <ul>
 *   <li><b>Steps.</b> {@code k = min(D, steps)}; with {@code k = D} the Ritz values are the eigenvalues to working
 *   precision. The extreme eigenvalues converge first, so {@code k << D} usually gives them to several digits
 *   ({@link #DEFAULT_STEPS}).</li>
 *   <li><b>Breakdown.</b> When the new vector's norm after orthogonalisation falls below
 *   {@link #BREAKDOWN} times the largest {@code ||A q_j||} seen (or the operator is zero on the start vector), the
 *   Krylov space is invariant: that neuron stops, and its Ritz values are exact eigenvalues. With a random start
 *   vector every distinct eigenvalue has a non-zero component almost surely, so the extremes are among them. The
 *   operator keeps being applied to the other neurons (a stopped neuron gets a zero vector); the iteration ends
 *   early when every neuron has stopped.</li>
 *   <li><b>Start vectors</b> are standard normal, normalised, drawn neuron by neuron from {@code new Rng(seed)}:
 *   the result is a deterministic function of the operator and the seed.</li>
 * </ul>
 *
 * <p>Cost: {@code k} operator applications; {@code O(C k^2 D)} for the reorthogonalisation; {@code C} dense
 * eigen-solves of size {@code k}. Memory: the bases, {@code C * k * D} doubles.
 */
public final class Lanczos {
    private Lanczos() {
    }

    /** Default number of steps (Krylov dimension) when {@code D} is larger. */
    public static final int DEFAULT_STEPS = 30;
    /** Relative size of the new Lanczos vector (against the operator's observed norm) below which a neuron stops. */
    public static final double BREAKDOWN = 1e-13;

    /**
     * {@code count} symmetric operators of dimension {@code dim}, applied together. {@code in} and {@code out} are
     * {@code count x dim}, row-major: row {@code i} of {@code out} must be {@code A_i} times row {@code i} of
     * {@code in} (rows of stopped neurons are zero on input; their output is ignored).
     */
    public interface BlockOperator {
        int count();

        int dim();

        void apply(double[] in, double[] out);
    }

    /**
     * The extreme Ritz pairs of every neuron. Arrays are indexed by neuron; vectors are unit-norm rows of length
     * {@code dim} (sign: the component of largest magnitude is positive). {@code steps[i]} is the Krylov dimension
     * neuron {@code i} reached ({@code < min(D, k)} after a breakdown); {@code applications} counts operator
     * applications (shared by all neurons).
     */
    public record Result(int count, int dim, double[] lambdaMin, double[] lambdaMax, double[][] vMin, double[][] vMax,
                         double[] residualMin, double[] residualMax, int[] steps, int applications) {
    }

    /** The number of steps run for dimension {@code dim} and a requested maximum: {@code min(dim, steps)}. */
    public static int steps(int dim, int steps) {
        return Math.max(1, Math.min(dim, steps));
    }

    /**
     * Runs {@code min(D, steps)} lockstep Lanczos steps with full reorthogonalisation on every neuron.
     *
     * @param steps the maximum Krylov dimension (at least 1)
     * @param seed  seeds the start vectors
     */
    public static Result run(BlockOperator op, int steps, long seed) {
        if (steps < 1) {
            throw new IllegalArgumentException("Lanczos: steps must be >= 1, got " + steps);
        }
        final int n = op.count(), d = op.dim();
        if (n < 0 || d < 1) {
            throw new IllegalArgumentException("Lanczos: need count >= 0 and dim >= 1, got " + n + " x " + d);
        }
        final int k = steps(d, steps);
        double[][][] q = new double[n][k][];
        double[][] alpha = new double[n][k], beta = new double[n][k]; // beta[i][j] couples q_j and q_(j+1)
        double[] anorm = new double[n];
        int[] m = new int[n];          // basis vectors held
        boolean[] active = new boolean[n];
        Rng rng = new Rng(seed);
        for (int i = 0; i < n; i++) {
            double[] v = new double[d];
            for (int j = 0; j < d; j++) {
                v[j] = rng.normal();
            }
            scale(v, 1 / norm(v));
            q[i][0] = v;
            m[i] = 1;
            active[i] = true;
        }
        double[] in = new double[n * d], out = new double[n * d];
        int applications = 0;
        for (int step = 0; step < k; step++) {
            boolean any = false;
            for (int i = 0; i < n; i++) {
                if (active[i]) {
                    System.arraycopy(q[i][step], 0, in, i * d, d);
                    any = true;
                } else {
                    java.util.Arrays.fill(in, i * d, (i + 1) * d, 0.0);
                }
            }
            if (!any) {
                break;
            }
            op.apply(in, out);
            applications++;
            for (int i = 0; i < n; i++) {
                if (!active[i]) {
                    continue;
                }
                double[] w = new double[d];
                System.arraycopy(out, i * d, w, 0, d);
                double wn = norm(w);
                if (!Double.isFinite(wn)) {
                    throw new ArithmeticException("Lanczos: the operator gave a non-finite result for neuron " + i
                            + " at step " + step);
                }
                anorm[i] = Math.max(anorm[i], wn);
                double[] qj = q[i][step];
                alpha[i][step] = dot(qj, w);
                // w -= alpha q_j + beta_(j-1) q_(j-1), then full reorthogonalisation (twice)
                axpy(-alpha[i][step], qj, w);
                if (step > 0) {
                    axpy(-beta[i][step - 1], q[i][step - 1], w);
                }
                for (int pass = 0; pass < 2; pass++) {
                    for (int l = 0; l <= step; l++) {
                        double c = dot(q[i][l], w);
                        axpy(-c, q[i][l], w);
                        if (l == step) {
                            alpha[i][step] += c; // keep T = Q^T A Q consistent with the corrected vector
                        }
                    }
                }
                double b = norm(w);
                beta[i][step] = b;
                if (b <= BREAKDOWN * anorm[i] || anorm[i] == 0) {
                    active[i] = false; // invariant subspace: the Ritz values are exact
                } else if (step + 1 < k) {
                    scale(w, 1 / b);
                    q[i][step + 1] = w;
                    m[i] = step + 2;
                } else {
                    active[i] = false; // k steps done
                }
            }
        }
        double[] lmin = new double[n], lmax = new double[n], rmin = new double[n], rmax = new double[n];
        double[][] vmin = new double[n][], vmax = new double[n][];
        for (int i = 0; i < n; i++) {
            int s = m[i];
            double[] t = new double[s * s];
            for (int j = 0; j < s; j++) {
                t[j * s + j] = alpha[i][j];
                if (j + 1 < s) {
                    t[(j + 1) * s + j] = beta[i][j];
                    t[j * s + j + 1] = beta[i][j];
                }
            }
            double[] w = new double[s], y = new double[s * s];
            SymmetricEigen.full(s, t, 0, w, 0, y, 0);
            double last = beta[i][s - 1];
            lmin[i] = w[0];
            lmax[i] = w[s - 1];
            vmin[i] = ritzVector(q[i], y, s, 0, d);
            vmax[i] = ritzVector(q[i], y, s, s - 1, d);
            rmin[i] = Math.abs(last * y[(s - 1) * s]);
            rmax[i] = Math.abs(last * y[(s - 1) * s + s - 1]);
        }
        return new Result(n, d, lmin, lmax, vmin, vmax, rmin, rmax, m, applications);
    }

    /** {@code x = sum_j y[j, col] q_j}, normalised, largest-magnitude component positive. */
    private static double[] ritzVector(double[][] q, double[] y, int s, int col, int d) {
        double[] x = new double[d];
        for (int j = 0; j < s; j++) {
            axpy(y[j * s + col], q[j], x);
        }
        double nx = norm(x);
        int big = 0;
        for (int j = 1; j < d; j++) {
            if (Math.abs(x[j]) > Math.abs(x[big])) {
                big = j;
            }
        }
        scale(x, (x[big] < 0 ? -1 : 1) / nx);
        return x;
    }

    private static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i] * b[i];
        }
        return s;
    }

    private static double norm(double[] a) {
        double scale = 0;
        for (double v : a) {
            scale = Math.max(scale, Math.abs(v));
        }
        if (scale == 0 || !Double.isFinite(scale)) {
            return scale;
        }
        double s = 0;
        for (double v : a) {
            double r = v / scale;
            s += r * r;
        }
        return scale * Math.sqrt(s);
    }

    private static void axpy(double a, double[] x, double[] y) {
        for (int i = 0; i < x.length; i++) {
            y[i] += a * x[i];
        }
    }

    private static void scale(double[] x, double a) {
        for (int i = 0; i < x.length; i++) {
            x[i] *= a;
        }
    }
}
