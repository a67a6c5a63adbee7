package dev.sprout.linalg;

import static dev.sprout.linalg.SymmetricEigenTest.assertMessage;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sprout.testing.Tol;
import java.util.Arrays;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class LUTest {

    static IntStream sizes() {
        return Arrays.stream(Dense.SIZES);
    }

    /** {@code max |A X - B|}, relative to {@code ||A||_F max|X|}. */
    static double relativeResidual(int n, int nrhs, double[] a, double[] x, double[] b) {
        double[] ax = Dense.multiply(n, n, nrhs, a, x);
        double scale = Dense.frobenius(a) * Dense.maxAbs(x);
        return scale == 0 ? Dense.maxAbsDiff(ax, b) : Dense.maxAbsDiff(ax, b) / scale;
    }

    // ---------------------------------------------------------------- random systems

    @ParameterizedTest
    @MethodSource("sizes")
    void gesvF64Residual(int n) {
        for (int nrhs : new int[] {1, 3}) {
            double[] a = Dense.random(n, n, 100 + n);
            double[] b = Dense.random(n, nrhs, 200 + n);
            double[] lu = a.clone();
            double[] x = b.clone();
            assertEquals(0, LU.gesv(n, nrhs, lu, 0, x, 0));
            assertTrue(relativeResidual(n, nrhs, a, x, b) <= Tol.DECOMP_F64 * Math.max(n, 1), "nrhs " + nrhs);
        }
    }

    @ParameterizedTest
    @MethodSource("sizes")
    void gesvF32Residual(int n) {
        for (int nrhs : new int[] {1, 2}) {
            float[] a = Dense.toFloat(Dense.random(n, n, 300 + n));
            float[] b = Dense.toFloat(Dense.random(n, nrhs, 400 + n));
            float[] lu = a.clone();
            float[] x = b.clone();
            assertEquals(0, LU.gesv(n, nrhs, lu, 0, x, 0));
            double r = relativeResidual(n, nrhs, Dense.toDouble(a), Dense.toDouble(x), Dense.toDouble(b));
            assertTrue(r <= Tol.DECOMP_F32 * Math.max(n, 1), "nrhs " + nrhs + ": " + r);
        }
    }

    @ParameterizedTest
    @MethodSource("sizes")
    void factorThenSolveEqualsGesv(int n) {
        double[] a = Dense.random(n, n, 500 + n);
        double[] b = Dense.random(n, 2, 600 + n);
        double[] lu = a.clone();
        int[] piv = new int[n + 1];
        assertEquals(0, LU.factor(n, lu, 0, piv, 1));
        double[] x = b.clone();
        LU.solve(n, 2, lu, 0, piv, 1, x, 0);
        double[] y = b.clone();
        LU.gesv(n, 2, a.clone(), 0, y, 0);
        assertArrayEquals(y, x);
    }

    /** Every element receives the same updates in the same order, so blocking changes no bit. */
    @ParameterizedTest
    @ValueSource(ints = {1, 7, 31, 32, 33, 65, 100})
    void blockedFactorsEqualUnblocked(int n) {
        double[] dense = Dense.random(n, n, 700 + n);
        double[] sparse = dense.clone(); // zeros in L exercise the paths that skip zero multipliers
        for (int i = 0; i < n * n; i += 3) {
            sparse[i] = 0;
        }
        for (double[] a : new double[][] {dense, sparse}) {
            double[] reference = a.clone();
            int[] refPiv = new int[n];
            int refInfo = LU.factor(n, reference, 0, refPiv, 0, 1);
            for (int nb : new int[] {3, 4, LU.NB}) {
                double[] blocked = a.clone();
                int[] piv = new int[n];
                assertEquals(refInfo, LU.factor(n, blocked, 0, piv, 0, nb));
                assertArrayEquals(refPiv, piv, "nb " + nb);
                assertArrayEquals(reference, blocked, "nb " + nb);
            }
        }
    }

    /**
     * {@code [1e-20, 1; 1, 1] x = [1; 2]} has {@code x ~ [1; 1]}; elimination without row exchanges would divide by
     * the tiny pivot and return {@code x0 = 0}.
     */
    @Test
    void tinyPivotIsExchanged() {
        double[] a = {1e-20, 1, 1, 1};
        double[] x = {1, 2};
        assertEquals(0, LU.gesv(2, 1, a, 0, x, 0));
        assertArrayEquals(new double[] {1, 1}, x, Tol.F64);
    }

    // ---------------------------------------------------------------- known answers

    /**
     * Strang's example: partial pivoting exchanges rows 0 and 1, every multiplier is +-1/2 or 1 and every
     * intermediate a small dyadic number, so factors and solution are exact.
     */
    @Test
    void smallIntegerSystemIsExact() {
        double[] a = {2, 1, 1, 4, -6, 0, -2, 7, 2};
        double[] b = {5, -2, 9};
        double[] x = b.clone();
        double[] lu = a.clone();
        assertEquals(0, LU.gesv(3, 1, lu, 0, x, 0));
        assertArrayEquals(new double[] {1, 1, 2}, x);
        assertArrayEquals(new double[] {4, -6, 0, 0.5, 4, 1, -0.5, 1, 1}, lu);

        float[] xf = {5, -2, 9};
        assertEquals(0, LU.gesv(3, 1, Dense.toFloat(a), 0, xf, 0));
        assertArrayEquals(new float[] {1, 1, 2}, xf);

        assertEquals(-16, LU.determinant(3, a, 0));
        double[] inv = new double[9];
        assertEquals(0, LU.inverse(3, a, 0, inv, 0));
        assertArrayEquals(new double[] {1, 0, 0, 0, 1, 0, 0, 0, 1}, Dense.multiply(3, 3, 3, inv, a), Tol.F64);
    }

    @Test
    void singularMatrixReturnsPivotAndLeavesBUnchanged() {
        double[][] cases = {
            {1, 2, 2, 4},                      // second pivot exactly zero
            {0, 0, 0, 0},                      // first pivot zero
            {1, 0, 3, 2, 0, 5, 4, 0, 7},       // zero column 1
        };
        int[] expected = {2, 1, 2};
        for (int c = 0; c < cases.length; c++) {
            int n = (int) Math.round(Math.sqrt(cases[c].length));
            double[] b = Dense.random(n, 2, c);
            double[] x = b.clone();
            assertEquals(expected[c], LU.gesv(n, 2, cases[c].clone(), 0, x, 0), "case " + c);
            assertArrayEquals(b, x, "case " + c);

            float[] bf = Dense.toFloat(b);
            float[] xf = bf.clone();
            assertEquals(expected[c], LU.gesv(n, 2, Dense.toFloat(cases[c]), 0, xf, 0), "f32 case " + c);
            assertArrayEquals(bf, xf, "f32 case " + c);

            double[] out = {7};
            double[] inv = Arrays.copyOf(out, n * n);
            assertEquals(expected[c], LU.inverse(n, cases[c], 0, inv, 0));
            assertEquals(7, inv[0], "inverse output untouched");
            assertEquals(0.0, LU.determinant(n, cases[c], 0), "determinant of case " + c);
        }
    }

    @ParameterizedTest
    @MethodSource("sizes")
    void inverseTimesMatrixIsIdentity(int n) {
        double[] a = Dense.random(n, n, 800 + n);
        double[] before = a.clone();
        double[] inv = new double[n * n];
        assertEquals(0, LU.inverse(n, a, 0, inv, 0));
        assertArrayEquals(before, a, "input modified");
        double[] id = new double[n * n];
        for (int i = 0; i < n; i++) {
            id[i * n + i] = 1;
        }
        // ||A^-1 A - I|| <= c n eps cond(A): scale by ||A^-1|| ||A||
        double cond = Dense.frobenius(inv) * Dense.frobenius(a);
        assertTrue(Dense.maxAbsDiff(id, Dense.multiply(n, n, n, inv, a)) <= Tol.DECOMP_F64 * Math.max(n, 1) * cond);
    }

    /** {@code det A} equals the product of the eigenvalues of a symmetric A (a cross-check with SymmetricEigen). */
    @ParameterizedTest
    @ValueSource(ints = {0, 1, 2, 5, 12})
    void determinantIsProductOfEigenvalues(int n) {
        double[] a = Dense.randomSymmetric(n, 900 + n);
        double[] w = new double[n];
        SymmetricEigen.full(n, a, 0, w, 0, null, 0);
        double product = 1;
        double absProduct = 1;
        double inverseSum = 0;
        for (double x : w) {
            product *= x;
            absProduct *= Math.abs(x);
            inverseSum += 1 / Math.abs(x);
        }
        // each eigenvalue carries an error of about eps ||A||, which moves the product by that times the others
        double tol = Tol.DECOMP_F64 * Math.max(n, 1) * Dense.frobenius(a) * absProduct * inverseSum;
        assertEquals(product, LU.determinant(n, a, 0), tol);
    }

    @Test
    void determinantOfPermutationIsItsSign() {
        double[] swap = {0, 1, 0, 1, 0, 0, 0, 0, 1};
        double[] cycle = {0, 1, 0, 0, 0, 1, 1, 0, 0};
        assertEquals(-1, LU.determinant(3, swap, 0));
        assertEquals(1, LU.determinant(3, cycle, 0));
        assertEquals(1, LU.determinant(0, new double[0], 0));
    }

    // ---------------------------------------------------------------- argument checks

    @Test
    void badArgumentsNameTheOperationAndOperand() {
        assertMessage(IndexOutOfBoundsException.class, "gesv: a needs 16 elements at offset 0 but has 15",
                () -> LU.gesv(4, 1, new double[15], 0, new double[4], 0));
        assertMessage(IndexOutOfBoundsException.class, "gesv: b needs 8 elements at offset 2 but has 9",
                () -> LU.gesv(4, 2, new float[16], 0, new float[9], 2));
        assertMessage(IllegalArgumentException.class, "gesv: n must be >= 0 but is -1",
                () -> LU.gesv(-1, 1, new double[0], 0, new double[0], 0));
        assertMessage(IllegalArgumentException.class, "gesv: nrhs must be >= 0 but is -2",
                () -> LU.gesv(2, -2, new double[4], 0, new double[0], 0));
        double[] shared = new double[20];
        assertMessage(IllegalArgumentException.class, "gesv: b overlaps a",
                () -> LU.gesv(4, 1, shared, 0, shared, 12));
        assertMessage(IndexOutOfBoundsException.class, "LU.inverse: out needs 9 elements at offset 0 but has 8",
                () -> LU.inverse(3, new double[9], 0, new double[8], 0));
        assertMessage(IllegalArgumentException.class, "LU.solve: piv[1] = 0 is outside [1, 3)",
                () -> LU.solve(3, 1, new double[9], 0, new int[] {0, 0, 2}, 0, new double[3], 0));
        assertEquals(0, LU.gesv(0, 5, new double[0], 0, new double[0], 0));
    }
}
