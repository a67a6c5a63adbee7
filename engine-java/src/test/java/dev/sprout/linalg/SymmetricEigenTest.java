package dev.sprout.linalg;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sprout.testing.Tol;
import java.util.Arrays;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class SymmetricEigenTest {

    static IntStream sizes() {
        return Arrays.stream(Dense.SIZES);
    }

    /** (n, k) with 1 <= k < n: the smallest-k path. */
    static Stream<Arguments> partialSizes() {
        return Arrays.stream(Dense.SIZES).boxed().flatMap(n -> IntStream.of(1, 2, n / 3, n - 1)
                .filter(k -> k >= 1 && k < n).distinct().mapToObj(k -> Arguments.of(n, k)));
    }

    // ---------------------------------------------------------------- random matrices, f64 and f32

    @ParameterizedTest
    @MethodSource("sizes")
    void fullF64ReconstructsWithOrthonormalVectors(int n) {
        double[] a = Dense.randomSymmetric(n, 11 + n);
        double[] in = Dense.poisonUpper(n, a);
        double[] before = in.clone();
        double[] w = new double[n];
        double[] v = new double[n * n];
        SymmetricEigen.full(n, in, 0, w, 0, v, 0);

        assertArrayEquals(before, in, "input modified");
        assertAscending(w);
        double scale = Math.max(n, 1) * Dense.frobenius(a);
        assertTrue(Dense.eigenResidual(n, n, a, w, v) <= Tol.DECOMP_F64 * scale, "A V = V diag(w)");
        assertTrue(Dense.orthonormalityError(n, n, v) <= Tol.DECOMP_F64 * Math.max(n, 1), "V^T V = I");
    }

    @ParameterizedTest
    @MethodSource("sizes")
    void fullF32ReconstructsWithOrthonormalVectors(int n) {
        float[] in = Dense.toFloat(Dense.poisonUpper(n, Dense.randomSymmetric(n, 21 + n)));
        double[] a = Dense.toDouble(in);
        Dense.symmetrizeFromLower(n, a);
        float[] before = in.clone();
        float[] w = new float[n];
        float[] v = new float[n * n];
        SymmetricEigen.full(n, in, 0, w, 0, v, 0);

        assertArrayEquals(before, in, "input modified");
        double[] wd = Dense.toDouble(w);
        assertAscending(wd);
        double scale = Math.max(n, 1) * Dense.frobenius(a);
        assertTrue(Dense.eigenResidual(n, n, a, wd, Dense.toDouble(v)) <= Tol.DECOMP_F32 * scale);
        assertTrue(Dense.orthonormalityError(n, n, Dense.toDouble(v)) <= Tol.DECOMP_F32 * Math.max(n, 1));
    }

    @ParameterizedTest
    @MethodSource("partialSizes")
    void smallestF64ReconstructsWithOrthonormalVectors(int n, int k) {
        double[] a = Dense.randomSymmetric(n, 31 + n);
        double[] in = Dense.poisonUpper(n, a);
        double[] before = in.clone();
        double[] w = new double[k];
        double[] v = new double[n * k];
        SymmetricEigen.smallest(n, k, in, 0, w, 0, v, 0);

        assertArrayEquals(before, in, "input modified");
        assertAscending(w);
        double scale = n * Dense.frobenius(a);
        assertTrue(Dense.eigenResidual(n, k, a, w, v) <= Tol.DECOMP_F64 * scale, "A V = V diag(w)");
        assertTrue(Dense.orthonormalityError(n, k, v) <= Tol.DECOMP_F64 * n, "V^T V = I");
    }

    @ParameterizedTest
    @MethodSource("partialSizes")
    void smallestF32ReconstructsWithOrthonormalVectors(int n, int k) {
        float[] in = Dense.toFloat(Dense.randomSymmetric(n, 41 + n));
        double[] a = Dense.toDouble(in);
        float[] w = new float[k];
        float[] v = new float[n * k];
        SymmetricEigen.smallest(n, k, in, 0, w, 0, v, 0);

        double[] wd = Dense.toDouble(w);
        assertAscending(wd);
        double scale = n * Dense.frobenius(a);
        assertTrue(Dense.eigenResidual(n, k, a, wd, Dense.toDouble(v)) <= Tol.DECOMP_F32 * scale);
        assertTrue(Dense.orthonormalityError(n, k, Dense.toDouble(v)) <= Tol.DECOMP_F32 * n);
    }

    /** Values agree; vectors agree up to sign within the Davis-Kahan bound {@code tol ||A|| / gap}. */
    @ParameterizedTest
    @MethodSource("partialSizes")
    void smallestMatchesFull(int n, int k) {
        double[] a = Dense.randomSymmetric(n, 51 + n);
        double[] wf = new double[n];
        double[] vf = new double[n * n];
        SymmetricEigen.full(n, a, 0, wf, 0, vf, 0);
        double[] ws = new double[k];
        double[] vs = new double[n * k];
        SymmetricEigen.smallest(n, k, a, 0, ws, 0, vs, 0);

        double norm = Dense.frobenius(a);
        double tol = Tol.DECOMP_F64 * n * norm;
        for (int j = 0; j < k; j++) {
            assertEquals(wf[j], ws[j], tol, "eigenvalue " + j);
            double gap = Double.POSITIVE_INFINITY;
            for (int i = 0; i < n; i++) {
                if (i != j) {
                    gap = Math.min(gap, Math.abs(wf[i] - wf[j]));
                }
            }
            double[] x = Dense.column(n, n, vf, j);
            double[] y = Dense.column(n, k, vs, j);
            double dot = 0;
            for (int i = 0; i < n; i++) {
                dot += x[i] * y[i];
            }
            double sign = Math.signum(dot);
            double err = 0;
            for (int i = 0; i < n; i++) {
                err = Math.max(err, Math.abs(x[i] - sign * y[i]));
            }
            assertTrue(err <= tol / gap, "eigenvector " + j + ": " + err + " > " + tol / gap);
        }
    }

    @ParameterizedTest
    @MethodSource("sizes")
    void valuesOnlyEqualValuesWithVectors(int n) {
        double[] a = Dense.randomSymmetric(n, 61 + n);
        for (int k : new int[] {n, n / 2}) {
            double[] w1 = new double[k];
            double[] w2 = new double[k];
            SymmetricEigen.smallest(n, k, a, 0, w1, 0, new double[n * k], 0);
            SymmetricEigen.smallest(n, k, a, 0, w2, 0, null, 0);
            assertArrayEquals(w1, w2, "k = " + k);
        }
    }

    // ---------------------------------------------------------------- known answers

    @Test
    void diagonalMatrixIsExact() {
        double[] diag = {3, -1, 2, 0.5, -1.5};
        int n = diag.length;
        double[] a = new double[n * n];
        for (int i = 0; i < n; i++) {
            a[i * n + i] = diag[i];
        }
        double[] sorted = diag.clone();
        Arrays.sort(sorted);
        double[] expectedV = new double[n * n];
        for (int j = 0; j < n; j++) {
            int i = indexOf(diag, sorted[j]);
            expectedV[i * n + j] = 1;
        }
        double[] w = new double[n];
        double[] v = new double[n * n];
        SymmetricEigen.full(n, a, 0, w, 0, v, 0);
        assertArrayEquals(sorted, w);
        assertArrayEquals(expectedV, v);

        int k = 3;
        double[] wk = new double[k];
        double[] vk = new double[n * k];
        SymmetricEigen.smallest(n, k, a, 0, wk, 0, vk, 0);
        assertArrayEquals(Arrays.copyOf(sorted, k), wk);
        for (int i = 0; i < n; i++) {
            assertArrayEquals(Arrays.copyOfRange(expectedV, i * n, i * n + k), Arrays.copyOfRange(vk, i * k, i * k + k));
        }
    }

    @Test
    void twoByTwoClosedForm() {
        double p = 2;
        double q = 0.75;
        double r = -1.25;
        double[] a = {p, Double.NaN, q, r};
        double mean = (p + r) / 2;
        double rad = Math.hypot((p - r) / 2, q);
        double[] w = new double[2];
        double[] v = new double[4];
        SymmetricEigen.full(2, a, 0, w, 0, v, 0);
        double tol = Tol.DECOMP_F64 * 2 * Math.abs(p);
        assertEquals(mean - rad, w[0], tol);
        assertEquals(mean + rad, w[1], tol);
        // eigenvector of lambda: (q, lambda - p), normalised; compare up to sign
        for (int j = 0; j < 2; j++) {
            double x = q;
            double y = w[j] - p;
            double nrm = Math.hypot(x, y);
            double dot = (x * v[j] + y * v[2 + j]) / nrm;
            assertEquals(1, Math.abs(dot), tol);
        }
    }

    /** {@code tridiag(-1, 2, -1)} has eigenvalues {@code 2 - 2 cos(j pi / (n + 1))}, j = 1..n. */
    @ParameterizedTest
    @MethodSource("sizes")
    void secondDifferenceMatrixKnownEigenvalues(int n) {
        double[] a = new double[n * n];
        for (int i = 0; i < n; i++) {
            a[i * n + i] = 2;
            if (i > 0) {
                a[i * n + i - 1] = -1;
                a[(i - 1) * n + i] = -1;
            }
        }
        double[] expected = new double[n];
        for (int j = 1; j <= n; j++) {
            expected[j - 1] = 2 - 2 * Math.cos(j * Math.PI / (n + 1));
        }
        double tol = Tol.DECOMP_F64 * Math.max(n, 1) * Dense.frobenius(a);
        double[] w = new double[n];
        double[] v = new double[n * n];
        SymmetricEigen.full(n, a, 0, w, 0, v, 0);
        assertArrayEquals(expected, w, tol);
        int k = Math.max(0, n / 4);
        if (k < n) {
            double[] wk = new double[k];
            double[] vk = new double[n * k];
            SymmetricEigen.smallest(n, k, a, 0, wk, 0, vk, 0);
            assertArrayEquals(Arrays.copyOf(expected, k), wk, tol);
            assertTrue(Dense.eigenResidual(n, k, a, wk, vk) <= tol);
            assertTrue(Dense.orthonormalityError(n, k, vk) <= Tol.DECOMP_F64 * n);
        }
    }

    /** Eigenvalues with multiplicity three and a cluster 1e-10 apart: both paths give orthonormal bases. */
    @Test
    void repeatedAndClusteredEigenvalues() {
        double[] lambda = {-1, 2, 2, 2, 0.5, 0.5 + 1e-10, 0.5 - 1e-10, 3, 2, -1, 7, 0.25, 5, -2, 4, 1};
        int n = lambda.length;
        double[] a = Dense.withSpectrum(lambda, 71);
        double[] sorted = lambda.clone();
        Arrays.sort(sorted);
        double norm = Dense.frobenius(a);
        double tol = Tol.DECOMP_F64 * n * norm;

        double[] w = new double[n];
        double[] v = new double[n * n];
        SymmetricEigen.full(n, a, 0, w, 0, v, 0);
        assertArrayEquals(sorted, w, tol);
        assertTrue(Dense.eigenResidual(n, n, a, w, v) <= tol);
        assertTrue(Dense.orthonormalityError(n, n, v) <= Tol.DECOMP_F64 * n);

        for (int k : new int[] {3, 6, 10, 14}) {
            double[] wk = new double[k];
            double[] vk = new double[n * k];
            SymmetricEigen.smallest(n, k, a, 0, wk, 0, vk, 0);
            assertArrayEquals(Arrays.copyOf(sorted, k), wk, tol, "k = " + k);
            assertTrue(Dense.eigenResidual(n, k, a, wk, vk) <= tol, "k = " + k);
            assertTrue(Dense.orthonormalityError(n, k, vk) <= Tol.DECOMP_F64 * n, "k = " + k);
        }
    }

    /** The identity: one eigenvalue of multiplicity n, T splits into 1x1 blocks. */
    @Test
    void identityMatrix() {
        int n = 10;
        double[] a = new double[n * n];
        for (int i = 0; i < n; i++) {
            a[i * n + i] = 1;
        }
        for (int k : new int[] {3, n}) {
            double[] w = new double[k];
            double[] v = new double[n * k];
            SymmetricEigen.smallest(n, k, a, 0, w, 0, v, 0);
            double[] ones = new double[k];
            Arrays.fill(ones, 1);
            assertArrayEquals(ones, w);
            assertTrue(Dense.orthonormalityError(n, k, v) <= Tol.DECOMP_F64 * n);
        }
    }

    /**
     * Negated Wilkinson matrix {@code -W21+}: its smallest eigenvalues come in pairs that agree to about 14 digits,
     * the classic trap for inverse iteration without reorthogonalisation.
     */
    @Test
    void wilkinsonPairsGiveOrthogonalVectors() {
        int n = 21;
        double[] a = new double[n * n];
        for (int i = 0; i < n; i++) {
            a[i * n + i] = -Math.abs(10 - i);
            if (i > 0) {
                a[i * n + i - 1] = -1;
                a[(i - 1) * n + i] = -1;
            }
        }
        double tol = Tol.DECOMP_F64 * n * Dense.frobenius(a);
        double[] wf = new double[n];
        SymmetricEigen.full(n, a, 0, wf, 0, null, 0);
        for (int k : new int[] {2, 5, 8}) {
            double[] w = new double[k];
            double[] v = new double[n * k];
            SymmetricEigen.smallest(n, k, a, 0, w, 0, v, 0);
            assertArrayEquals(Arrays.copyOf(wf, k), w, tol);
            assertTrue(Dense.eigenResidual(n, k, a, w, v) <= tol);
            assertTrue(Dense.orthonormalityError(n, k, v) <= Tol.DECOMP_F64 * n);
        }
    }

    /**
     * Huge, tiny and subnormal scales: the power-of-two prescaling keeps everything representable. Vectors are
     * checked against {@code back = a / s} (the matrix actually decomposed, brought back to unit scale); values
     * against those of {@code back} times {@code s}, allowing for the rounding of subnormal outputs.
     */
    @Test
    void extremeScales() {
        int n = 9;
        double[] base = Dense.randomSymmetric(n, 81);
        for (double s : new double[] {1e300, 1e-300, Double.MIN_VALUE * 1e6}) {
            double[] a = base.clone();
            double[] back = new double[a.length];
            for (int i = 0; i < a.length; i++) {
                a[i] *= s;
                back[i] = a[i] / s;
            }
            for (int k : new int[] {n, 4}) {
                double[] w = new double[k];
                double[] v = new double[n * k];
                SymmetricEigen.smallest(n, k, a, 0, w, 0, v, 0);
                double[] wb = new double[k];
                SymmetricEigen.smallest(n, k, back, 0, wb, 0, null, 0);
                String where = "scale " + s + ", k " + k;
                assertTrue(Dense.eigenResidual(n, k, back, wb, v) <= Tol.DECOMP_F64 * n * Dense.frobenius(back), where);
                assertTrue(Dense.orthonormalityError(n, k, v) <= Tol.DECOMP_F64 * n, where);
                double valueTol = s * Tol.DECOMP_F64 * n * Dense.frobenius(back) + 2 * Double.MIN_VALUE;
                for (int j = 0; j < k; j++) {
                    assertEquals(s * wb[j], w[j], valueTol, where);
                }
            }
        }
    }

    @Test
    void zeroMatrixGivesZeroValuesAndIdentityVectors() {
        int n = 4;
        double[] w = new double[n];
        double[] v = new double[n * n];
        SymmetricEigen.full(n, new double[n * n], 0, w, 0, v, 0);
        assertArrayEquals(new double[n], w);
        assertTrue(Dense.orthonormalityError(n, n, v) == 0);
    }

    // ---------------------------------------------------------------- batched entry point

    @Test
    void batchedF64EqualsSingle() {
        int batch = 3;
        int n = 9;
        for (int k : new int[] {n, 4}) {
            for (boolean vectors : new boolean[] {true, false}) {
                int aOff = 5;
                int wOff = 2;
                int vOff = 7;
                double[] a = new double[aOff + batch * n * n];
                for (int b = 0; b < batch; b++) {
                    System.arraycopy(Dense.randomSymmetric(n, 91 + b), 0, a, aOff + b * n * n, n * n);
                }
                double[] w = new double[wOff + batch * k];
                double[] v = vectors ? new double[vOff + batch * n * k] : null;
                SymmetricEigen.symEig(batch, n, k, a, aOff, w, wOff, v, vOff);
                for (int b = 0; b < batch; b++) {
                    double[] w1 = new double[k];
                    double[] v1 = new double[n * k];
                    SymmetricEigen.smallest(n, k, a, aOff + b * n * n, w1, 0, v1, 0);
                    assertArrayEquals(w1, Arrays.copyOfRange(w, wOff + b * k, wOff + (b + 1) * k));
                    if (vectors) {
                        assertArrayEquals(v1, Arrays.copyOfRange(v, vOff + b * n * k, vOff + (b + 1) * n * k));
                    }
                }
            }
        }
    }

    @Test
    void batchedF32EqualsSingle() {
        int batch = 4;
        int n = 8;
        for (int k : new int[] {n, 3}) {
            float[] a = new float[1 + batch * n * n];
            for (int b = 0; b < batch; b++) {
                float[] m = Dense.toFloat(Dense.randomSymmetric(n, 101 + b));
                System.arraycopy(m, 0, a, 1 + b * n * n, n * n);
            }
            float[] w = new float[batch * k];
            float[] v = new float[batch * n * k];
            SymmetricEigen.symEig(batch, n, k, a, 1, w, 0, v, 0);
            for (int b = 0; b < batch; b++) {
                float[] w1 = new float[k];
                float[] v1 = new float[n * k];
                SymmetricEigen.smallest(n, k, a, 1 + b * n * n, w1, 0, v1, 0);
                assertArrayEquals(w1, Arrays.copyOfRange(w, b * k, (b + 1) * k));
                assertArrayEquals(v1, Arrays.copyOfRange(v, b * n * k, (b + 1) * n * k));
            }
        }
    }

    @Test
    void emptyShapesDoNothing() {
        SymmetricEigen.symEig(0, 5, 5, new double[0], 0, new double[0], 0, new double[0], 0);
        SymmetricEigen.symEig(2, 0, 0, new double[0], 0, new double[0], 0, null, 0);
        double[] w = {42};
        SymmetricEigen.symEig(1, 3, 0, new double[9], 0, w, 0, null, 0);
        assertEquals(42, w[0]);
    }

    // ---------------------------------------------------------------- argument checks

    @Test
    void badArgumentsNameTheOperationAndOperand() {
        assertMessage(IndexOutOfBoundsException.class, "symEig: a needs 4096 elements at offset 0 but has 4000",
                () -> SymmetricEigen.symEig(1, 64, 64, new double[4000], 0, new double[64], 0, null, 0));
        assertMessage(IndexOutOfBoundsException.class, "symEig: w needs 12 elements at offset 1 but has 12",
                () -> SymmetricEigen.symEig(3, 4, 4, new double[48], 0, new double[12], 1, null, 0));
        assertMessage(IllegalArgumentException.class, "symEig: k = 8 must be <= n = 4",
                () -> SymmetricEigen.symEig(3, 4, 8, new double[48], 0, new double[24], 0, new double[95], 0));
        assertMessage(IndexOutOfBoundsException.class, "symEig: v needs 48 elements at offset 0 but has 47",
                () -> SymmetricEigen.symEig(3, 4, 4, new double[48], 0, new double[12], 0, new double[47], 0));
        assertMessage(IndexOutOfBoundsException.class, "symEig: a offset -1 is negative",
                () -> SymmetricEigen.symEig(1, 2, 2, new float[4], -1, new float[2], 0, null, 0));
        assertMessage(IllegalArgumentException.class, "symEig: n must be >= 0 but is -3",
                () -> SymmetricEigen.symEig(1, -3, 0, new double[0], 0, new double[0], 0, null, 0));
        assertMessage(IllegalArgumentException.class, "symEig: batch must be >= 0 but is -1",
                () -> SymmetricEigen.symEig(-1, 3, 3, new double[0], 0, new double[0], 0, null, 0));
        assertMessage(IllegalArgumentException.class, "symEig: k = 5 must be <= n = 4",
                () -> SymmetricEigen.symEig(1, 4, 5, new double[16], 0, new double[5], 0, null, 0));
        assertMessage(IllegalArgumentException.class, "symEig: k must be >= 0 but is -1",
                () -> SymmetricEigen.symEig(1, 4, -1, new double[16], 0, new double[5], 0, null, 0));
        assertMessage(NullPointerException.class, "symEig: a is null",
                () -> SymmetricEigen.symEig(1, 4, 4, (double[]) null, 0, new double[4], 0, null, 0));
        double[] shared = new double[16 + 4];
        assertMessage(IllegalArgumentException.class, "symEig: w overlaps a",
                () -> SymmetricEigen.symEig(1, 4, 4, shared, 0, shared, 15, null, 0));
        assertMessage(IndexOutOfBoundsException.class, "symEig: a needs 8589934592 elements at offset 0 but has 1",
                () -> SymmetricEigen.symEig(2, 65536, 1, new double[1], 0, new double[2], 0, null, 0));
        assertMessage(IllegalArgumentException.class, "SymmetricEigen.smallest: k = 3 must be <= n = 2",
                () -> SymmetricEigen.smallest(2, 3, new double[4], 0, new double[3], 0, null, 0));
    }

    @Test
    void nonFiniteInputIsRejected() {
        double[] a = Dense.randomSymmetric(3, 5);
        a[4] = Double.NaN; // the diagonal: part of the lower triangle
        assertMessage(IllegalArgumentException.class, "symEig: a (matrix 0 of 1) contains NaN or infinity",
                () -> SymmetricEigen.symEig(1, 3, 3, a, 0, new double[3], 0, null, 0));
    }

    // ---------------------------------------------------------------- helpers

    static void assertMessage(Class<? extends Throwable> type, String message, org.junit.jupiter.api.function.Executable call) {
        Throwable t = assertThrows(type, call);
        assertEquals(message, t.getMessage());
    }

    private static void assertAscending(double[] w) {
        for (int i = 1; i < w.length; i++) {
            assertTrue(w[i - 1] <= w[i], "eigenvalues not ascending at " + i);
        }
    }

    private static int indexOf(double[] x, double value) {
        for (int i = 0; i < x.length; i++) {
            if (x[i] == value) {
                return i;
            }
        }
        return -1;
    }
}
