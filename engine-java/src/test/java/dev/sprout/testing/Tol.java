package dev.sprout.testing;

/**
 * Every numerical tolerance the tests use, in one place (no bare literals in tests). Tolerances of reductions
 * grow with the reduction length: use {@link #f32(int)} / {@link #f64(int)}.
 */
public final class Tol {
    private Tol() {
    }

    /** Machine epsilons. */
    public static final double EPS_F32 = Math.ulp(1.0f);
    public static final double EPS_F64 = Math.ulp(1.0);

    /** Elementwise f32 results against a double reference (a few ulps of the magnitudes involved). */
    public static final double F32 = 1e-5;
    /** Elementwise f64 results. */
    public static final double F64 = 1e-12;

    /** Finite-difference gradient checks in f64 (central differences with step {@link #FD_STEP}). */
    public static final double FD_STEP = 1e-6;
    public static final double GRAD_F64 = 1e-6;
    /** Hessian-vector products against central differences of gradients. */
    public static final double HVP_F64 = 1e-5;

    /** Decompositions (eigen, LU, SVD) reconstructing their matrix, relative to its norm, times n. */
    public static final double DECOMP_F32 = 2e-6;
    public static final double DECOMP_F64 = 1e-14;

    /** Relative error allowed for a sample moment (mean, standard deviation, frequency) of a few thousand draws. */
    public static final double SAMPLE_REL = 0.05;

    /**
     * Lanczos stopped at {@code k < D} steps (f64; growth tests use D = 40..64, k = 30): extreme Ritz values
     * relative to {@code ||S||_F} (or to the value itself), 1 - |cos| of the extreme Ritz vector, and the residual
     * {@code ||S x - theta x|| / ||S||_F}.
     */
    public static final double LANCZOS_PARTIAL_VALUE = 1e-8;
    public static final double LANCZOS_PARTIAL_VECTOR = 1e-6;
    public static final double LANCZOS_PARTIAL_RESIDUAL = 1e-6;
    /** Extreme Ritz values of an f32 model's splitting operator against its f64 twin, relative to the largest |value|. */
    public static final double LANCZOS_F32 = 1e-5;

    /** An optimizer's distance to a convex quadratic's minimum after its test's steps (f64). */
    public static final double OPTIM_CONVERGED = 1e-6;

    /** Tolerance for a dot product of length {@code k} in f32, relative to the sum of absolute products. */
    public static double f32(int k) {
        return 4 * EPS_F32 * Math.max(1, k);
    }

    /** Tolerance for a dot product of length {@code k} in f64, relative to the sum of absolute products. */
    public static double f64(int k) {
        return 4 * EPS_F64 * Math.max(1, k);
    }

    /**
     * Asserts two tensors have the same shape and agree element by element within {@code tol * max(1, |expected|)}
     * (relative for large values, absolute near zero).
     */
    public static void assertClose(dev.sprout.tensor.Tensor expected, dev.sprout.tensor.Tensor actual, double tol,
                                   String what) {
        org.junit.jupiter.api.Assertions.assertEquals(expected.shape(), actual.shape(), what + ": shape");
        double[] e = expected.toDoubleArray(), a = actual.toDoubleArray();
        for (int i = 0; i < e.length; i++) {
            org.junit.jupiter.api.Assertions.assertEquals(e[i], a[i], tol * Math.max(1, Math.abs(e[i])), what + "[" + i + "]");
        }
    }
}
