package dev.sprout.data;

import dev.sprout.tensor.Rng;
import dev.sprout.tensor.Tensor;
import dev.sprout.testing.Tol;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Datasets: construction checks, subsets, stratified splits, normalisation with training statistics, flatten. */
class DatasetTest {

    /** n examples of 2 features: row i is (i, 2i); label i % k. */
    static Dataset features(int n, int k) {
        float[] x = new float[2 * n];
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            x[2 * i] = i;
            x[2 * i + 1] = 2 * i;
            y[i] = i % k;
        }
        return Dataset.classification("features", Tensor.of(x, n, 2), y, k);
    }

    /** n images [2, 2, 2]: channel 0 holds i, channel 1 holds -i (dyadic, exact). */
    static Dataset images(int n) {
        float[] x = new float[n * 8];
        for (int i = 0; i < n; i++) {
            for (int p = 0; p < 4; p++) {
                x[i * 8 + p] = i;
                x[i * 8 + 4 + p] = -i;
            }
        }
        return Dataset.classification("images", Tensor.of(x, n, 2, 2, 2), new int[n], 1, List.of("only"));
    }

    @Test
    void labelOutsideRangeIsRejectedWithItsIndex() {
        int[] labels = {0, 1, 2, 3, 4, 11, 6};
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Dataset.classification("toy", Tensor.zeros(7, 3), labels, 10));
        assertTrue(e.getMessage().contains("'toy'"), e.getMessage());
        assertTrue(e.getMessage().contains("label 11 at index 5 outside [0, 10)"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> Dataset.classification("toy", Tensor.zeros(7, 3), new int[] {0, 0, 0, 0, 0, 0, -1}, 10));
        assertThrows(IllegalArgumentException.class,
                () -> Dataset.classification("toy", Tensor.zeros(6, 3), labels, 12));
        assertThrows(IllegalArgumentException.class, () -> Dataset.classification("toy", Tensor.zeros(7, 3, 2),
                labels, 12));
        assertThrows(IllegalArgumentException.class, () -> Dataset.classification("toy", Tensor.zeros(7, 3), labels,
                12, List.of("a", "b")));
        float[] nan = new float[6];
        nan[4] = Float.NaN;
        assertThrows(IllegalArgumentException.class, () -> Dataset.regression("r", Tensor.of(nan, 3, 2),
                Tensor.zeros(3, 1)));
    }

    @Test
    void isImmutable() {
        float[] x = {1, 2, 3, 4};
        int[] y = {0, 1};
        Tensor t = Tensor.of(x, 2, 2);
        Dataset d = Dataset.classification("d", t, y, 2);
        t.set(99, 0, 0);
        y[0] = 1;
        d.labels()[1] = 0;
        assertEquals(1.0, d.inputs().get(0, 0));
        assertEquals(0, d.label(0));
        assertEquals(1, d.label(1));
        assertThrows(IllegalStateException.class, d::targets);
        assertEquals(List.of("0", "1"), d.classNames());
    }

    @Test
    void headTakesTheFirstExamples() {
        Dataset d = features(10, 3);
        Dataset h = d.head(4);
        assertEquals(4, h.size());
        assertArrayEquals(d.subset(new int[] {0, 1, 2, 3}).inputs().toFloatArray(), h.inputs().toFloatArray());
        assertArrayEquals(new int[] {0, 1, 2, 0}, java.util.Arrays.copyOf(d.labels(), 4));
        assertArrayEquals(java.util.Arrays.copyOf(d.labels(), 4), h.labels());
        assertSame(d, d.head(10));
        assertSame(d, d.head(99));
        assertEquals(0, d.head(0).size());
        assertThrows(IllegalArgumentException.class, () -> d.head(-1));
    }

    @Test
    void subsetCopiesTheChosenRowsInOrder() {
        Dataset d = features(10, 3);
        Dataset s = d.subset(new int[] {7, 2, 2});
        assertEquals(3, s.size());
        assertArrayEquals(new float[] {7, 14, 2, 4, 2, 4}, s.inputs().toFloatArray());
        assertArrayEquals(new int[] {1, 2, 2}, s.labels());
        assertThrows(IndexOutOfBoundsException.class, () -> d.subset(new int[] {10}));

        Dataset r = Dataset.regression("r", Tensor.of(new float[] {1, 2, 3}, 3, 1),
                Tensor.of(new float[] {10, 11, 20, 21, 30, 31}, 3, 2));
        Dataset rs = r.subset(new int[] {2, 0});
        assertArrayEquals(new float[] {3, 1}, rs.inputs().toFloatArray());
        assertArrayEquals(new float[] {30, 31, 10, 11}, rs.targets().toFloatArray());
        assertThrows(IllegalStateException.class, rs::labels);
        assertEquals(2, rs.outputSize());
    }

    @Test
    void splitIsStratifiedDisjointCompleteAndSeeded() {
        Dataset d = features(1000, 10);
        Dataset.Split sp = d.split(0.2, new Rng(5));
        assertEquals(800, sp.train().size());
        assertEquals(200, sp.validation().size());
        int[] twenty = new int[10];
        Arrays.fill(twenty, 20);
        assertArrayEquals(twenty, sp.validation().classCounts());
        // feature 0 is the original index: the parts are disjoint, cover everything, and keep the original order
        boolean[] seen = new boolean[1000];
        for (Dataset part : List.of(sp.train(), sp.validation())) {
            float prev = -1;
            for (int i = 0; i < part.size(); i++) {
                int orig = (int) part.inputs().get(i, 0);
                assertFalse(seen[orig]);
                seen[orig] = true;
                assertTrue(orig > prev);
                prev = orig;
                assertEquals(orig % 10, part.label(i));
            }
        }
        for (boolean b : seen) {
            assertTrue(b);
        }
        // same seed, same split; another seed, another split
        assertArrayEquals(sp.validation().inputs().toFloatArray(),
                d.split(0.2, new Rng(5)).validation().inputs().toFloatArray());
        assertFalse(Arrays.equals(sp.validation().inputs().toFloatArray(),
                d.split(0.2, new Rng(6)).validation().inputs().toFloatArray()));
        // regression: plain random split
        Dataset r = Synthetic.teacher(3, 4, 2, 50, 0, 0, 1).train();
        Dataset.Split rs = r.split(0.1, new Rng(1));
        assertEquals(45, rs.train().size());
        assertEquals(5, rs.validation().size());
        assertThrows(IllegalArgumentException.class, () -> d.split(0, new Rng(1)));
        assertThrows(IllegalArgumentException.class, () -> d.split(1, new Rng(1)));
        assertThrows(IllegalArgumentException.class, () -> features(3, 3).split(0.5, new Rng(1)));
    }

    @Test
    void statsArePerChannelAndTheTestSetUsesTheTrainingStatistics() {
        // channel 0 holds 0..3 (mean 1.5, var 1.25), channel 1 holds 0..-3
        Dataset train = images(4);
        Dataset.Stats s = train.stats();
        assertArrayEquals(new double[] {1.5, -1.5}, s.mean(), Tol.F64);
        assertArrayEquals(new double[] {Math.sqrt(1.25), Math.sqrt(1.25)}, s.std(), Tol.F64);
        Dataset test = images(8).subset(new int[] {5, 7});
        Dataset nt = test.normalised(s);
        assertEquals((5 - 1.5) / Math.sqrt(1.25), nt.inputs().get(0, 0, 1, 1), Tol.F32);
        assertEquals((-7 + 1.5) / Math.sqrt(1.25), nt.inputs().get(1, 1, 0, 1), Tol.F32);
        // the normalised training set has mean 0 and std 1 per channel
        Dataset.Stats after = train.normalised(s).stats();
        assertArrayEquals(new double[] {0, 0}, after.mean(), Tol.F32);
        assertArrayEquals(new double[] {1, 1}, after.std(), Tol.F32);
        // TrainTest.normalised applies the training statistics to both
        TrainTest tt = new TrainTest(train, test).normalised();
        assertArrayEquals(nt.inputs().toFloatArray(), tt.test().inputs().toFloatArray());
        // scalar normalisation, and a constant feature is only centred
        Dataset f = Dataset.classification("c", Tensor.of(new float[] {3, 1, 3, 2, 3, 3}, 3, 2), new int[3], 1);
        Dataset.Stats fs = f.stats();
        assertArrayEquals(new double[] {3, 2}, fs.mean(), Tol.F64);
        assertEquals(1.0, fs.std()[0]);
        double sd = Math.sqrt(2.0 / 3);
        float[] expected = {0, (float) (-1 / sd), 0, 0, 0, (float) (1 / sd)};
        assertArrayEquals(expected, f.normalised(fs).inputs().toFloatArray(), (float) Tol.F32);
        assertArrayEquals(new float[] {1, 0, 1, 0.5f, 1, 1}, f.normalised(1, 2).inputs().toFloatArray());
        Dataset.Stats three = new Dataset.Stats(new double[] {0, 0, 0}, new double[] {1, 1, 1});
        assertThrows(IllegalArgumentException.class, () -> f.normalised(three));
        assertThrows(IllegalArgumentException.class, () -> new Dataset.Stats(new double[] {0}, new double[] {0}));
    }

    @Test
    void flattenIsAViewAndKeepsLabels() {
        Dataset d = images(3);
        Dataset f = d.flatten();
        assertArrayEquals(new int[] {3, 8}, f.inputs().shape().toArray());
        assertSame(d.inputs().storage(), f.inputs().storage());
        assertEquals(-2.0, f.inputs().get(2, 5));
        assertArrayEquals(new int[] {8}, f.exampleShape());
        assertArrayEquals(new int[] {2, 2, 2}, d.exampleShape());
        assertSame(f, f.flatten());
        assertEquals(List.of("only"), f.classNames());
    }
}
