package dev.sprout.linalg;

import static dev.sprout.linalg.SymmetricEigenTest.assertMessage;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.sprout.testing.Tol;
import java.util.Arrays;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class SvdTest {

    static Stream<Arguments> shapes() {
        int[][] s = {{0, 0}, {0, 3}, {3, 0}, {1, 1}, {1, 7}, {7, 1}, {2, 2}, {5, 3}, {3, 5}, {8, 8}, {17, 7}, {7, 17},
            {33, 64}, {65, 33}, {130, 20}, {64, 64}};
        return Arrays.stream(s).map(x -> Arguments.of(x[0], x[1]));
    }

    /** {@code max |A - U diag(s) V^T|}. */
    static double reconstructionError(int m, int n, double[] a, Svd svd) {
        int r = svd.rank();
        double[] us = svd.u();
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < r; j++) {
                us[i * r + j] *= svd.singularValue(j);
            }
        }
        double[] back = Dense.multiply(m, r, n, us, Dense.transpose(n, r, svd.v()));
        return Dense.maxAbsDiff(a, back);
    }

    @ParameterizedTest
    @MethodSource("shapes")
    void reconstructsWithOrthonormalFactors(int m, int n) {
        double[] a = Dense.random(m, n, 2000 + 131L * m + n);
        double[] before = a.clone();
        Svd svd = Svd.decompose(m, n, a, 0);
        int r = Math.min(m, n);
        int big = Math.max(Math.max(m, n), 1);
        assertArrayEquals(before, a, "input modified");
        assertEquals(r, svd.rank());
        double[] s = svd.singularValues();
        for (int j = 0; j < r; j++) {
            assertTrue(s[j] >= 0 && (j == 0 || s[j] <= s[j - 1]), "descending, non-negative at " + j);
        }
        assertTrue(reconstructionError(m, n, a, svd) <= Tol.DECOMP_F64 * big * Dense.frobenius(a));
        assertTrue(Dense.orthonormalityError(m, r, svd.u()) <= Tol.DECOMP_F64 * big, "U^T U = I");
        assertTrue(Dense.orthonormalityError(n, r, svd.v()) <= Tol.DECOMP_F64 * big, "V^T V = I");
    }

    /** The squared singular values are the eigenvalues of {@code A^T A} (a cross-check with SymmetricEigen). */
    @ParameterizedTest
    @MethodSource("shapes")
    void squaredValuesAreEigenvaluesOfGram(int m, int n) {
        double[] a = Dense.random(m, n, 3000 + 7L * m + n);
        double[] gram = Dense.multiply(n, m, n, Dense.transpose(m, n, a), a);
        double[] w = new double[n];
        SymmetricEigen.full(n, gram, 0, w, 0, null, 0);
        double[] s = Svd.decompose(m, n, a, 0).singularValues();
        double tol = Tol.DECOMP_F64 * Math.max(Math.max(m, n), 1) * Dense.frobenius(gram);
        for (int j = 0; j < s.length; j++) {
            assertEquals(w[n - 1 - j], s[j] * s[j], tol, "value " + j);
        }
    }

    @Test
    void diagonalMatrixKnownValues() {
        double[] a = {2, 0, 0, 0, 0, -3, 0, 0, 0, 0, 0.5, 0};
        Svd svd = Svd.decompose(3, 4, a, 0);
        assertArrayEquals(new double[] {3, 2, 0.5}, svd.singularValues());
        assertTrue(reconstructionError(3, 4, a, svd) == 0);
        assertTrue(Dense.orthonormalityError(3, 3, svd.u()) == 0);
        assertTrue(Dense.orthonormalityError(4, 3, svd.v()) == 0);
    }

    /** {@code A = 3 x y^T}: one singular value {@code 3 |x| |y|}, the rest zero, and U completed to an orthonormal set. */
    @Test
    void rankOneKnownValues() {
        int m = 6;
        int n = 4;
        double[] x = Dense.random(m, 1, 4000);
        double[] y = Dense.random(1, n, 4001);
        double[] a = Dense.multiply(m, 1, n, x, y);
        for (int i = 0; i < a.length; i++) {
            a[i] *= 3;
        }
        Svd svd = Svd.decompose(m, n, a, 0);
        double expected = 3 * Dense.frobenius(x) * Dense.frobenius(y);
        double tol = Tol.DECOMP_F64 * m * expected;
        assertEquals(expected, svd.singularValue(0), tol);
        for (int j = 1; j < n; j++) {
            assertEquals(0, svd.singularValue(j), tol);
        }
        assertTrue(Dense.orthonormalityError(m, n, svd.u()) <= Tol.DECOMP_F64 * m);
        assertTrue(Dense.orthonormalityError(n, n, svd.v()) <= Tol.DECOMP_F64 * m);
        // the leading left vector is x / |x| up to sign
        double[] u0 = svd.leftVector(0);
        double dot = 0;
        for (int i = 0; i < m; i++) {
            dot += u0[i] * x[i];
        }
        assertEquals(1, Math.abs(dot) / Dense.frobenius(x), tol);
    }

    @Test
    void zeroMatrixHasOrthonormalFactors() {
        Svd svd = Svd.decompose(5, 3, new double[15], 0);
        assertArrayEquals(new double[3], svd.singularValues());
        assertTrue(Dense.orthonormalityError(5, 3, svd.u()) <= Tol.DECOMP_F64 * 5);
        assertTrue(Dense.orthonormalityError(3, 3, svd.v()) <= Tol.DECOMP_F64 * 5);
    }

    @Test
    void topSingularVectorsAreTheLeadingColumns() {
        int m = 9;
        int n = 6;
        int k = 2;
        double[] a = Dense.random(m, n, 5000);
        Svd full = Svd.decompose(m, n, a, 0);
        Svd top = Svd.topSingularVectors(m, n, a, 0, k);
        assertEquals(k, top.rank());
        assertArrayEquals(Arrays.copyOf(full.singularValues(), k), top.singularValues());
        for (int j = 0; j < k; j++) {
            assertArrayEquals(full.leftVector(j), top.leftVector(j));
            assertArrayEquals(full.rightVector(j), top.rightVector(j));
        }
        assertEquals(0, full.topSingularVectors(0).rank());
    }

    @Test
    void arrayFormMatchesObjectForm() {
        int m = 4;
        int n = 7;
        double[] a = Dense.random(m, n, 6000);
        Svd svd = Svd.decompose(m, n, a, 0);
        double[] s = new double[1 + m];
        double[] u = new double[m * m];
        double[] v = new double[2 + n * m];
        Svd.decompose(m, n, a, 0, s, 1, u, 0, v, 2);
        assertArrayEquals(svd.singularValues(), Arrays.copyOfRange(s, 1, 1 + m));
        assertArrayEquals(svd.u(), u);
        assertArrayEquals(svd.v(), Arrays.copyOfRange(v, 2, v.length));
        double[] s2 = new double[m];
        Svd.decompose(m, n, a, 0, s2, 0, null, 0, null, 0);
        assertArrayEquals(svd.singularValues(), s2);
    }

    @Test
    void badArgumentsNameTheOperationAndOperand() {
        assertMessage(IndexOutOfBoundsException.class, "svd: a needs 12 elements at offset 0 but has 10",
                () -> Svd.decompose(3, 4, new double[10], 0));
        assertMessage(IllegalArgumentException.class, "svd: m must be >= 0 but is -1",
                () -> Svd.decompose(-1, 4, new double[10], 0));
        assertMessage(IndexOutOfBoundsException.class, "svd: u needs 9 elements at offset 0 but has 8",
                () -> Svd.decompose(3, 4, new double[12], 0, new double[3], 0, new double[8], 0, null, 0));
        assertMessage(IllegalArgumentException.class, "svd: k = 4 must be in [0, 3]",
                () -> Svd.topSingularVectors(3, 4, new double[12], 0, 4));
        assertMessage(IllegalArgumentException.class, "svd: a contains NaN or infinity",
                () -> Svd.decompose(1, 2, new double[] {1, Double.POSITIVE_INFINITY}, 0));
    }
}
