package dev.sprout.data;

import dev.sprout.testing.Tol;
import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Synthetic tasks: shapes, bit-for-bit reproducibility, independence of streams, and their statistics. */
class SyntheticTest {

    private static void assertSameData(Dataset a, Dataset b) {
        assertArrayEquals(a.inputs().toFloatArray(), b.inputs().toFloatArray());
        if (a.isClassification()) {
            assertArrayEquals(a.labels(), b.labels());
        } else {
            assertArrayEquals(a.targets().toFloatArray(), b.targets().toFloatArray());
        }
    }

    private static Dataset prefix(Dataset d, int m) {
        int[] idx = new int[m];
        Arrays.setAll(idx, i -> i);
        return d.subset(idx);
    }

    @Test
    void teacherIsShapedReproducibleAndNestedInItsSizes() {
        TrainTest a = Synthetic.teacher(5, 8, 3, 200, 50, 0.1, 11);
        assertArrayEquals(new int[] {200, 5}, a.train().inputs().shape().toArray());
        assertArrayEquals(new int[] {200, 3}, a.train().targets().shape().toArray());
        assertArrayEquals(new int[] {50, 3}, a.test().targets().shape().toArray());
        assertFalse(a.train().isClassification());
        TrainTest b = Synthetic.teacher(5, 8, 3, 200, 50, 0.1, 11);
        assertSameData(a.train(), b.train());
        assertSameData(a.test(), b.test());
        // another seed: another task
        assertFalse(Arrays.equals(a.train().targets().toFloatArray(),
                Synthetic.teacher(5, 8, 3, 200, 50, 0.1, 12).train().targets().toFloatArray()));
        // fewer training examples: a prefix of the same set, and the same test set
        TrainTest small = Synthetic.teacher(5, 8, 3, 80, 50, 0.1, 11);
        assertSameData(prefix(a.train(), 80), small.train());
        assertSameData(a.test(), small.test());
    }

    @Test
    void teacherNoiseChangesOnlyTheTargetsAndHasTheRequestedSpread() {
        double sigma = 0.3;
        int n = 4000;
        TrainTest clean = Synthetic.teacher(4, 6, 1, n, 10, 0, 3);
        TrainTest noisy = Synthetic.teacher(4, 6, 1, n, 10, sigma, 3);
        assertArrayEquals(clean.train().inputs().toFloatArray(), noisy.train().inputs().toFloatArray());
        float[] yc = clean.train().targets().toFloatArray(), yn = noisy.train().targets().toFloatArray();
        double s2 = 0, m = 0;
        for (int i = 0; i < n; i++) {
            double e = yn[i] - yc[i];
            m += e;
            s2 += e * e;
        }
        m /= n;
        assertEquals(0, m, 4 * sigma / Math.sqrt(n));
        assertEquals(sigma, Math.sqrt(s2 / n), sigma * Tol.SAMPLE_REL);
        // the clean targets are a bounded function: |y| <= |b2| + sum |W2| (tanh in [-1, 1]); not all equal
        double lo = Double.MAX_VALUE, hi = -Double.MAX_VALUE;
        for (float v : yc) {
            lo = Math.min(lo, v);
            hi = Math.max(hi, v);
        }
        assertTrue(hi - lo > 0.1, "teacher targets barely vary: [" + lo + ", " + hi + "]");
    }

    @Test
    void clustersAreBalancedSeparableAndReproducible() {
        TrainTest a = Synthetic.clusters(4, 3, 400, 100, 5, 0.5, 0, 21);
        assertArrayEquals(new int[] {400, 3}, a.train().inputs().shape().toArray());
        assertEquals(4, a.train().numClasses());
        assertArrayEquals(new int[] {100, 100, 100, 100}, a.train().classCounts());
        assertArrayEquals(new int[] {25, 25, 25, 25}, a.test().classCounts());
        assertSameData(a.train(), Synthetic.clusters(4, 3, 400, 100, 5, 0.5, 0, 21).train());
        // well separated: a nearest-centroid rule fitted on train classifies test almost perfectly
        double[][] centroid = new double[4][3];
        for (int i = 0; i < 400; i++) {
            for (int k = 0; k < 3; k++) {
                centroid[a.train().label(i)][k] += a.train().inputs().get(i, k) / 100;
            }
        }
        int correct = 0;
        for (int i = 0; i < 100; i++) {
            int best = -1;
            double bestD = Double.MAX_VALUE;
            for (int c = 0; c < 4; c++) {
                double dd = 0;
                for (int k = 0; k < 3; k++) {
                    double t = a.test().inputs().get(i, k) - centroid[c][k];
                    dd += t * t;
                }
                if (dd < bestD) {
                    bestD = dd;
                    best = c;
                }
            }
            correct += best == a.test().label(i) ? 1 : 0;
        }
        assertTrue(correct >= 95, correct + "/100");
        // label noise flips about labelNoise * (K-1)/K of the labels and leaves the points alone
        int n = 4000;
        TrainTest clean = Synthetic.clusters(4, 3, n, 0, 5, 0.5, 0, 8);
        TrainTest noisy = Synthetic.clusters(4, 3, n, 0, 5, 0.5, 0.4, 8);
        assertArrayEquals(clean.train().inputs().toFloatArray(), noisy.train().inputs().toFloatArray());
        int flipped = 0;
        for (int i = 0; i < n; i++) {
            flipped += clean.train().label(i) != noisy.train().label(i) ? 1 : 0;
        }
        double expected = 0.4 * 3 / 4 * n;
        assertEquals(expected, flipped, expected * Tol.SAMPLE_REL * 2);
        assertEquals(0, noisy.test().size());
    }

    @Test
    void rbfTeacherIsASumOfBumpsInTheDomain() {
        TrainTest a = Synthetic.rbfTeacher(1, 3, 500, 100, 0, 4);
        assertArrayEquals(new int[] {500, 1}, a.train().inputs().shape().toArray());
        assertArrayEquals(new int[] {500, 1}, a.train().targets().shape().toArray());
        assertSameData(a.train(), Synthetic.rbfTeacher(1, 3, 500, 100, 0, 4).train());
        assertSameData(a.test(), Synthetic.rbfTeacher(1, 3, 500, 100, 0, 4).test());
        float[] x = a.train().inputs().toFloatArray(), y = a.train().targets().toFloatArray();
        double maxAbs = 0;
        for (int i = 0; i < x.length; i++) {
            assertTrue(x[i] >= -3 && x[i] < 3);
            maxAbs = Math.max(maxAbs, Math.abs(y[i]));
        }
        assertTrue(maxAbs > 0.05, "bumps too small: " + maxAbs);
        // the target is a smooth function of x: sorting by x, neighbours closer than 1e-3 differ by little
        Integer[] order = new Integer[x.length];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (p, q) -> Float.compare(x[p], x[q]));
        for (int k = 1; k < order.length; k++) {
            double dx = x[order[k]] - x[order[k - 1]];
            double dy = Math.abs(y[order[k]] - y[order[k - 1]]);
            // |dy/dx| <= sum |a_j| * max|w_j| * max_z |z exp(-z^2/2)|, with |w| <= 1/0.3 and |a| < 5
            assertTrue(dy <= 3 * 5 / 0.3 * Math.exp(-0.5) * dx + Tol.F32, "jump " + dy + " over " + dx);
        }
        // noise only on the targets; 2-D works too
        TrainTest noisy = Synthetic.rbfTeacher(1, 3, 500, 100, 0.1, 4);
        assertArrayEquals(x, noisy.train().inputs().toFloatArray());
        TrainTest two = Synthetic.rbfTeacher(2, 5, 64, 8, 0, 9);
        assertArrayEquals(new int[] {64, 2}, two.train().inputs().shape().toArray());
        assertThrows(IllegalArgumentException.class, () -> Synthetic.rbfTeacher(0, 3, 10, 10, 0, 1));
        assertThrows(IllegalArgumentException.class, () -> Synthetic.clusters(3, 2, 10, 10, 1, 1, 1.5, 1));
        assertThrows(IllegalArgumentException.class, () -> Synthetic.teacher(3, 2, 1, 0, 10, 0, 1));
    }
}
