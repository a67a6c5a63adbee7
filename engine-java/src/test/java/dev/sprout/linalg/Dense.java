package dev.sprout.linalg;

import java.util.SplittableRandom;

/** Small dense helpers for the linear-algebra tests: deterministic random matrices, products and norms. */
final class Dense {
    private Dense() {
    }

    /** The sizes every decomposition is tested on (zero, tiny, around 8/16/32/64 and 128). */
    static final int[] SIZES = {0, 1, 2, 3, 7, 8, 17, 33, 64, 65, 130};

    /** Uniform entries in [-1, 1). */
    static double[] random(int m, int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        double[] a = new double[m * n];
        for (int i = 0; i < a.length; i++) {
            a[i] = r.nextDouble(-1.0, 1.0);
        }
        return a;
    }

    /** A random symmetric matrix (both triangles filled). */
    static double[] randomSymmetric(int n, long seed) {
        double[] a = random(n, n, seed);
        symmetrizeFromLower(n, a);
        return a;
    }

    static void symmetrizeFromLower(int n, double[] a) {
        for (int i = 0; i < n; i++) {
            for (int j = i + 1; j < n; j++) {
                a[i * n + j] = a[j * n + i];
            }
        }
    }

    /** A copy whose strict upper triangle is NaN: only the lower triangle may be read. */
    static double[] poisonUpper(int n, double[] a) {
        double[] p = a.clone();
        for (int i = 0; i < n; i++) {
            for (int j = i + 1; j < n; j++) {
                p[i * n + j] = Double.NaN;
            }
        }
        return p;
    }

    static float[] toFloat(double[] a) {
        float[] f = new float[a.length];
        for (int i = 0; i < a.length; i++) {
            f[i] = (float) a[i];
        }
        return f;
    }

    static double[] toDouble(float[] a) {
        double[] d = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            d[i] = a[i];
        }
        return d;
    }

    /** {@code C = A B}, {@code A} {@code m x k}, {@code B} {@code k x n}, all row-major. */
    static double[] multiply(int m, int k, int n, double[] a, double[] b) {
        double[] c = new double[m * n];
        for (int i = 0; i < m; i++) {
            for (int t = 0; t < k; t++) {
                double x = a[i * k + t];
                for (int j = 0; j < n; j++) {
                    c[i * n + j] += x * b[t * n + j];
                }
            }
        }
        return c;
    }

    static double[] transpose(int m, int n, double[] a) {
        double[] t = new double[m * n];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                t[j * m + i] = a[i * n + j];
            }
        }
        return t;
    }

    static double frobenius(double[] a) {
        double s = 0;
        for (double x : a) {
            s += x * x;
        }
        return Math.sqrt(s);
    }

    static double maxAbs(double[] a) {
        double m = 0;
        for (double x : a) {
            m = Math.max(m, Math.abs(x));
        }
        return m;
    }

    static double maxAbsDiff(double[] a, double[] b) {
        double m = 0;
        for (int i = 0; i < a.length; i++) {
            m = Math.max(m, Math.abs(a[i] - b[i]));
        }
        return m;
    }

    /** {@code max |A V - V diag(w)|} for symmetric {@code A} ({@code n x n}, both triangles) and {@code V} {@code n x k}. */
    static double eigenResidual(int n, int k, double[] a, double[] w, double[] v) {
        double[] av = multiply(n, n, k, a, v);
        double m = 0;
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < k; j++) {
                m = Math.max(m, Math.abs(av[i * k + j] - v[i * k + j] * w[j]));
            }
        }
        return m;
    }

    /** {@code max |V^T V - I|} for {@code V} {@code n x k}. */
    static double orthonormalityError(int n, int k, double[] v) {
        double m = 0;
        for (int p = 0; p < k; p++) {
            for (int q = 0; q < k; q++) {
                double s = 0;
                for (int i = 0; i < n; i++) {
                    s += v[i * k + p] * v[i * k + q];
                }
                m = Math.max(m, Math.abs(s - (p == q ? 1 : 0)));
            }
        }
        return m;
    }

    /** A random orthogonal {@code n x n} matrix: a product of three random Householder reflectors. */
    static double[] randomOrthogonal(int n, long seed) {
        double[] q = new double[n * n];
        for (int i = 0; i < n; i++) {
            q[i * n + i] = 1;
        }
        for (int h = 0; h < 3; h++) {
            double[] u = random(1, n, seed + h);
            double uu = 0;
            for (double x : u) {
                uu += x * x;
            }
            // q <- (I - 2 u u^T / u^T u) q
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int i = 0; i < n; i++) {
                    s += u[i] * q[i * n + j];
                }
                s *= 2 / uu;
                for (int i = 0; i < n; i++) {
                    q[i * n + j] -= s * u[i];
                }
            }
        }
        return q;
    }

    /** {@code Q diag(lambda) Q^T} for a random orthogonal Q: a symmetric matrix with the given spectrum. */
    static double[] withSpectrum(double[] lambda, long seed) {
        int n = lambda.length;
        double[] q = randomOrthogonal(n, seed);
        double[] ql = new double[n * n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                ql[i * n + j] = q[i * n + j] * lambda[j];
            }
        }
        double[] a = multiply(n, n, n, ql, transpose(n, n, q));
        symmetrizeFromLower(n, a);
        return a;
    }

    /** Column {@code j} of the row-major {@code n x k} matrix {@code v}. */
    static double[] column(int n, int k, double[] v, int j) {
        double[] c = new double[n];
        for (int i = 0; i < n; i++) {
            c[i] = v[i * k + j];
        }
        return c;
    }
}
