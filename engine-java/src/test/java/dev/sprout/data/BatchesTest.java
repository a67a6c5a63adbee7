package dev.sprout.data;

import dev.sprout.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Seeded shuffling and batching: deterministic per (seed, epoch), resumable, every example once per epoch. */
class BatchesTest {

    private static List<int[]> indices(Iterable<Batches.Batch> epoch) {
        List<int[]> out = new ArrayList<>();
        for (Batches.Batch b : epoch) {
            out.add(b.indices());
        }
        return out;
    }

    private static int[] concat(List<int[]> parts) {
        return parts.stream().flatMapToInt(Arrays::stream).toArray();
    }

    @Test
    void sameSeedAndEpochGiveTheSameBatchesAndDifferentEpochsDiffer() {
        Dataset d = DatasetTest.features(103, 7);
        int[] e3 = concat(indices(Batches.epoch(d, 10, 42, 3, true, false)));
        assertArrayEquals(e3, concat(indices(Batches.epoch(d, 10, 42, 3, true, false))));
        assertFalse(Arrays.equals(e3, concat(indices(Batches.epoch(d, 10, 42, 4, true, false)))));
        assertFalse(Arrays.equals(e3, concat(indices(Batches.epoch(d, 10, 43, 3, true, false)))));
        // the batch size does not change the order, only how it is cut
        assertArrayEquals(e3, concat(indices(Batches.epoch(d, 17, 42, 3, true, false))));
        // iterating an epoch twice gives the same batches
        Batches.Epoch ep = Batches.epoch(d, 10, 42, 3, true, false);
        assertArrayEquals(concat(indices(ep)), concat(indices(ep)));
    }

    @Test
    void aResumedRunDrawsTheBatchesOfAnUninterruptedOne() {
        Dataset d = DatasetTest.features(50, 5);
        List<int[]> uninterrupted = new ArrayList<>();
        for (int e = 0; e < 6; e++) {
            uninterrupted.add(concat(indices(Batches.epoch(d, 8, 7, e, true, true))));
        }
        // "resume" at epoch 4 in a fresh process: nothing carried over but (seed, epoch)
        for (int e = 4; e < 6; e++) {
            assertArrayEquals(uninterrupted.get(e), concat(indices(Batches.epoch(d, 8, 7, e, true, true))));
        }
        assertArrayEquals(Batches.permutation(7, 5, 50), Batches.epoch(d, 8, 7, 5, true, true).order());
    }

    @Test
    void everyExampleOncePerEpochWithMatchingLabelsAndInputs() {
        Dataset d = DatasetTest.features(103, 7);
        Batches.Epoch ep = Batches.epoch(d, 10, 1, 0, true, false);
        assertEquals(11, ep.size());
        int[] all = concat(indices(ep));
        int[] sorted = all.clone();
        Arrays.sort(sorted);
        for (int i = 0; i < sorted.length; i++) {
            assertEquals(i, sorted[i]);
        }
        int count = 0;
        for (Batches.Batch b : ep) {
            assertEquals(count++, b.index());
            assertEquals(b.index() < 10 ? 10 : 3, b.size());
            assertArrayEquals(new int[] {b.size(), 2}, b.inputs().shape().toArray());
            assertNull(b.targets());
            for (int j = 0; j < b.size(); j++) {
                int i = b.indices()[j];
                assertEquals(i, b.inputs().get(j, 0));
                assertEquals(2 * i, b.inputs().get(j, 1));
                assertEquals(i % 7, b.labels()[j]);
            }
        }
        assertEquals(11, count);
    }

    @Test
    void dropLastAndNoShuffle() {
        Dataset d = DatasetTest.features(23, 3);
        Batches.Epoch ep = Batches.epoch(d, 5, 9, 0, true, true);
        assertEquals(4, ep.size());
        int total = 0;
        for (Batches.Batch b : ep) {
            assertEquals(5, b.size());
            total += b.size();
        }
        assertEquals(20, total);

        Batches.Epoch plain = Batches.epoch(d, 5, 9, 0, false, false);
        assertEquals(5, plain.size());
        Batches.Batch last = plain.get(4);
        assertArrayEquals(new int[] {20, 21, 22}, last.indices());
        assertArrayEquals(new float[] {20, 40, 21, 42, 22, 44}, last.inputs().toFloatArray());
        assertSame(d.inputs().storage(), last.inputs().storage()); // a view, no copy
        assertArrayEquals(concat(indices(plain)), concat(indices(Batches.epoch(d, 5, 1234, 9, false, false))));
        assertThrows(IndexOutOfBoundsException.class, () -> plain.get(5));
    }

    @Test
    void regressionBatchesCarryTargets() {
        Dataset r = Dataset.regression("r", Tensor.of(new float[] {0, 1, 2, 3, 4, 5}, 6, 1),
                Tensor.of(new float[] {0, -1, -2, -3, -4, -5}, 6, 1));
        for (boolean shuffle : new boolean[] {true, false}) {
            for (Batches.Batch b : Batches.epoch(r, 4, 3, 2, shuffle, false)) {
                assertNull(b.labels());
                for (int j = 0; j < b.size(); j++) {
                    assertEquals(b.indices()[j], b.inputs().get(j, 0));
                    assertEquals(-b.indices()[j], b.targets().get(j, 0));
                }
            }
        }
    }

    @Test
    void badBatchSizesAreClearErrors() {
        Dataset d = DatasetTest.features(20, 2);
        IllegalArgumentException big = assertThrows(IllegalArgumentException.class,
                () -> Batches.epoch(d, 21, 0, 0, true, false));
        assertTrue(big.getMessage().contains("batch size 21 exceeds the 20 examples of dataset 'features'"),
                big.getMessage());
        IllegalArgumentException zero = assertThrows(IllegalArgumentException.class,
                () -> Batches.epoch(d, 0, 0, 0, true, false));
        assertTrue(zero.getMessage().contains("batch size 0 must be positive"), zero.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Batches.epoch(d, -3, 0, 0, true, false));
        assertThrows(IllegalArgumentException.class, () -> Batches.epoch(d, 5, 0, -1, true, false));
        assertEquals(1, Batches.epoch(d, 20, 0, 0, true, true).size());
    }

    @Test
    void epochSeedsOfNeighbouringSeedsAndEpochsAreDistinct() {
        java.util.Set<Long> seeds = new java.util.HashSet<>();
        for (long s = 0; s < 50; s++) {
            for (int e = 0; e < 50; e++) {
                assertTrue(seeds.add(Batches.epochSeed(s, e)));
            }
        }
    }
}
