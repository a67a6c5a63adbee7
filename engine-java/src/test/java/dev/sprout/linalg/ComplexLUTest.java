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

class ComplexLUTest {

    static IntStream sizes() {
        return Arrays.stream(Dense.SIZES);
    }

    /** {@code C = A B} for interleaved complex {@code A} ({@code m x k}) and {@code B} ({@code k x n}). */
    static double[] cmultiply(int m, int k, int n, double[] a, double[] b) {
        double[] c = new double[2 * m * n];
        for (int i = 0; i < m; i++) {
            for (int t = 0; t < k; t++) {
                double ar = a[2 * (i * k + t)];
                double ai = a[2 * (i * k + t) + 1];
                for (int j = 0; j < n; j++) {
                    double br = b[2 * (t * n + j)];
                    double bi = b[2 * (t * n + j) + 1];
                    c[2 * (i * n + j)] += ar * br - ai * bi;
                    c[2 * (i * n + j) + 1] += ar * bi + ai * br;
                }
            }
        }
        return c;
    }

    /** {@code max |A X - B|} relative to {@code ||A||_F max|X|} (complex, interleaved). */
    static double relativeResidual(int n, int nrhs, double[] a, double[] x, double[] b) {
        double[] ax = cmultiply(n, n, nrhs, a, x);
        double scale = Dense.frobenius(a) * Dense.maxAbs(x);
        return scale == 0 ? Dense.maxAbsDiff(ax, b) : Dense.maxAbsDiff(ax, b) / scale;
    }

    /** The unitary DFT matrix {@code F[j, k] = exp(-2 pi i j k / n) / sqrt(n)}. */
    static double[] dft(int n) {
        double[] f = new double[2 * n * n];
        double s = 1 / Math.sqrt(n);
        for (int j = 0; j < n; j++) {
            for (int k = 0; k < n; k++) {
                double angle = -2 * Math.PI * ((long) j * k % n) / n;
                f[2 * (j * n + k)] = Math.cos(angle) * s;
                f[2 * (j * n + k) + 1] = Math.sin(angle) * s;
            }
        }
        return f;
    }

    // ---------------------------------------------------------------- known answers

    /** {@code [1+i, 2; 3, 4-i] x = [1+3i; 4+4i]} has the solution {@code x = [1; i]}. */
    @Test
    void knownTwoByTwoSystem() {
        float[] a = {1, 1, 2, 0, 3, 0, 4, -1};
        float[] b = {1, 3, 4, 4};
        assertEquals(0, ComplexLU.cgesv(2, 1, a, 0, b, 0));
        assertArrayEquals(new float[] {1, 0, 0, 1}, b, (float) Tol.F32);

        double[] ad = {1, 1, 2, 0, 3, 0, 4, -1};
        double[] bd = {1, 3, 4, 4};
        assertEquals(0, ComplexLU.zgesv(2, 1, ad, 0, bd, 0));
        assertArrayEquals(new double[] {1, 0, 0, 1}, bd, Tol.F64);
    }

    /**
     * The pivot is chosen by {@code |re| + |im|}, not by modulus: in column 0, {@code 2 + 2i} (1-norm 4, modulus
     * 2.83) beats {@code 3.5} (both 3.5), so no rows are exchanged.
     */
    @Test
    void pivotIsLargestInOneNorm() {
        double[] a0 = {2, 2, 1, 0, 3.5, 0, 1, 0};
        double[] a = a0.clone();
        int[] piv = new int[2];
        assertEquals(0, ComplexLU.factor(2, a, 0, piv, 0));
        assertArrayEquals(new int[] {0, 1}, piv);
        double[] b = {0.5, 2.5, 1.5, -2};
        double[] x = b.clone();
        ComplexLU.solve(2, 1, a, 0, piv, 0, x, 0);
        assertTrue(relativeResidual(2, 1, a0, x, b) <= Tol.DECOMP_F64 * 2);
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 8, 17, 33})
    void inverseOfUnitaryIsConjugateTranspose(int n) {
        double[] f = dft(n);
        double[] expected = new double[2 * n * n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                expected[2 * (i * n + j)] = f[2 * (j * n + i)];
                expected[2 * (i * n + j) + 1] = -f[2 * (j * n + i) + 1];
            }
        }
        float[] ff = Dense.toFloat(f);
        float[] inv = new float[2 * n * n];
        assertEquals(0, ComplexLU.inverse(n, ff, 0, inv, 0));
        assertTrue(Dense.maxAbsDiff(expected, Dense.toDouble(inv)) <= Tol.DECOMP_F32 * n);

        double[] invd = new double[2 * n * n];
        assertEquals(0, ComplexLU.inverse(n, f, 0, invd, 0));
        assertTrue(Dense.maxAbsDiff(expected, invd) <= Tol.DECOMP_F64 * n);
    }

    // ---------------------------------------------------------------- random systems

    @ParameterizedTest
    @MethodSource("sizes")
    void cgesvResidual(int n) {
        for (int nrhs : new int[] {1, 2}) {
            float[] a = Dense.toFloat(Dense.random(n, 2 * n, 1000 + n));
            float[] b = Dense.toFloat(Dense.random(n, 2 * nrhs, 1100 + n));
            float[] lu = a.clone();
            float[] x = b.clone();
            assertEquals(0, ComplexLU.cgesv(n, nrhs, lu, 0, x, 0));
            double r = relativeResidual(n, nrhs, Dense.toDouble(a), Dense.toDouble(x), Dense.toDouble(b));
            assertTrue(r <= Tol.DECOMP_F32 * Math.max(n, 1), "nrhs " + nrhs + ": " + r);
        }
    }

    @ParameterizedTest
    @MethodSource("sizes")
    void zgesvResidual(int n) {
        double[] a = Dense.random(n, 2 * n, 1200 + n);
        double[] b = Dense.random(n, 6, 1300 + n);
        double[] x = b.clone();
        assertEquals(0, ComplexLU.zgesv(n, 3, a.clone(), 0, x, 0));
        assertTrue(relativeResidual(n, 3, a, x, b) <= Tol.DECOMP_F64 * Math.max(n, 1));
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 7, 31, 32, 33, 65})
    void blockedFactorsEqualUnblocked(int n) {
        double[] dense = Dense.random(n, 2 * n, 1400 + n);
        double[] sparse = dense.clone(); // zero entries (both parts) exercise the zero-multiplier paths
        for (int i = 0; i < n * n; i += 3) {
            sparse[2 * i] = 0;
            sparse[2 * i + 1] = 0;
        }
        for (double[] a : new double[][] {dense, sparse}) {
            double[] reference = a.clone();
            int[] refPiv = new int[n];
            int refInfo = ComplexLU.factor(n, reference, 0, refPiv, 0, 1);
            for (int nb : new int[] {3, LU.NB}) {
                double[] blocked = a.clone();
                int[] piv = new int[n];
                assertEquals(refInfo, ComplexLU.factor(n, blocked, 0, piv, 0, nb));
                assertArrayEquals(refPiv, piv, "nb " + nb);
                assertArrayEquals(reference, blocked, "nb " + nb);
            }
        }
    }

    @Test
    void offsetsCountComplexElements() {
        int n = 3;
        double[] a = Dense.random(n, 2 * n, 1500);
        double[] b = Dense.random(n, 2, 1600);
        float[] packedA = new float[2 * (2 + n * n)];
        float[] packedB = new float[2 * (1 + n)];
        System.arraycopy(Dense.toFloat(a), 0, packedA, 4, 2 * n * n);
        System.arraycopy(Dense.toFloat(b), 0, packedB, 2, 2 * n);
        assertEquals(0, ComplexLU.cgesv(n, 1, packedA, 2, packedB, 1));
        float[] x = Dense.toFloat(b);
        ComplexLU.cgesv(n, 1, Dense.toFloat(a), 0, x, 0);
        assertArrayEquals(x, Arrays.copyOfRange(packedB, 2, 2 + 2 * n));
        assertEquals(0f, packedB[0]);
        assertEquals(0f, packedB[1]);
    }

    @Test
    void singularMatrixReturnsPivotAndLeavesBUnchanged() {
        // rows 0 and 1 are proportional (row 1 = i * row 0): the second pivot is exactly zero
        float[] a = {1, 0, 2, 0, 0, 1, 0, 2};
        float[] b = {1, 2, 3, 4};
        float[] x = b.clone();
        assertEquals(2, ComplexLU.cgesv(2, 1, a, 0, x, 0));
        assertArrayEquals(b, x);
        float[] inv = new float[8];
        assertEquals(1, ComplexLU.inverse(2, new float[8], 0, inv, 0));
        assertArrayEquals(new float[8], inv);
    }

    @Test
    void badArgumentsNameTheOperationAndOperand() {
        assertMessage(IndexOutOfBoundsException.class, "cgesv: a needs 16 complex elements at offset 0 but has 15",
                () -> ComplexLU.cgesv(4, 1, new float[31], 0, new float[8], 0));
        assertMessage(IndexOutOfBoundsException.class, "cgesv: b needs 4 complex elements at offset 1 but has 4",
                () -> ComplexLU.cgesv(4, 1, new float[32], 0, new float[8], 1));
        assertMessage(IllegalArgumentException.class, "cgesv: nrhs must be >= 0 but is -1",
                () -> ComplexLU.cgesv(4, -1, new float[32], 0, new float[8], 0));
        float[] shared = new float[40];
        assertMessage(IllegalArgumentException.class, "cgesv: b overlaps a",
                () -> ComplexLU.cgesv(4, 1, shared, 0, shared, 15));
        assertMessage(NullPointerException.class, "zgesv: b is null",
                () -> ComplexLU.zgesv(1, 1, new double[2], 0, null, 0));
        assertEquals(1, ComplexLU.cgesv(4, 1, shared, 0, shared, 16)); // adjacent ranges are fine (a = 0: singular)
    }
}
