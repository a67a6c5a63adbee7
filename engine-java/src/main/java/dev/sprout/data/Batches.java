package dev.sprout.data;

import dev.sprout.tensor.Rng;
import dev.sprout.tensor.Shape;
import dev.sprout.tensor.Tensor;

import java.util.Iterator;
import java.util.NoSuchElementException;

/**
 * Seeded shuffling and mini-batching.
 *
 * <p>The order of epoch {@code e} depends only on {@code (seed, e)}: it is the permutation drawn by an {@link Rng}
 * seeded with a hash of both, never by a generator carried over from earlier epochs. A run resumed at epoch
 * {@code k} therefore draws exactly the batches an uninterrupted run draws in epoch {@code k}.
 *
 * <p>Batches are built lazily as the iteration goes. With shuffling each batch's inputs are a fresh contiguous
 * copy of the chosen rows; without shuffling they are a view on the dataset's storage (read-only, like the
 * dataset's tensors).
 */
public final class Batches {
    private Batches() {
    }

    /**
     * One mini-batch: its position in the epoch, the dataset indices it holds, its inputs {@code [B, ...]} and its
     * labels (classification) or targets {@code [B, K]} (regression); the other of the two is {@code null}.
     */
    public record Batch(int index, int[] indices, Tensor inputs, int[] labels, Tensor targets) {
        /** Number of examples in this batch. */
        public int size() {
            return indices.length;
        }
    }

    /** The batches of one epoch; iterating twice yields the same batches. */
    public static final class Epoch implements Iterable<Batch> {
        private final Dataset data;
        private final int batchSize;
        private final int[] order;
        private final int count;
        private final boolean shuffled;

        private Epoch(Dataset data, int batchSize, int[] order, boolean dropLast, boolean shuffled) {
            this.data = data;
            this.batchSize = batchSize;
            this.order = order;
            this.count = dropLast ? order.length / batchSize : (order.length + batchSize - 1) / batchSize;
            this.shuffled = shuffled;
        }

        /** Number of batches in this epoch. */
        public int size() {
            return count;
        }

        /** The example order of this epoch (a copy), including any examples a dropped last batch leaves out. */
        public int[] order() {
            return order.clone();
        }

        /** Batch {@code b} of this epoch. */
        public Batch get(int b) {
            if (b < 0 || b >= count) {
                throw new IndexOutOfBoundsException("batch " + b + " outside [0, " + count + ")");
            }
            int from = b * batchSize, to = Math.min(order.length, from + batchSize);
            int[] idx = java.util.Arrays.copyOfRange(order, from, to);
            Tensor x = shuffled ? Dataset.gatherRows(data.inputs(), idx) : rows(data.inputs(), from, to);
            if (data.isClassification()) {
                int[] labels = new int[idx.length];
                for (int j = 0; j < idx.length; j++) {
                    labels[j] = data.label(idx[j]);
                }
                return new Batch(b, idx, x, labels, null);
            }
            Tensor y = shuffled ? Dataset.gatherRows(data.targets(), idx) : rows(data.targets(), from, to);
            return new Batch(b, idx, x, null, y);
        }

        @Override
        public Iterator<Batch> iterator() {
            return new Iterator<>() {
                private int next;

                @Override
                public boolean hasNext() {
                    return next < count;
                }

                @Override
                public Batch next() {
                    if (next >= count) {
                        throw new NoSuchElementException("epoch has " + count + " batches");
                    }
                    return get(next++);
                }
            };
        }
    }

    /**
     * The mini-batches of epoch {@code epoch} of {@code data}.
     *
     * @param batchSize examples per batch, in {@code [1, data.size()]}
     * @param seed      the run's data seed; with {@code epoch} it alone fixes the order
     * @param epoch     the epoch number, {@code >= 0}
     * @param shuffle   whether to visit the examples in a seeded random order (else in dataset order)
     * @param dropLast  whether to drop a last batch smaller than {@code batchSize}
     */
    public static Epoch epoch(Dataset data, int batchSize, long seed, int epoch, boolean shuffle, boolean dropLast) {
        int n = data.size();
        if (batchSize <= 0) {
            throw new IllegalArgumentException("batch size " + batchSize + " must be positive (dataset '"
                    + data.name() + "' has " + n + " examples)");
        }
        if (batchSize > n) {
            throw new IllegalArgumentException("batch size " + batchSize + " exceeds the " + n
                    + " examples of dataset '" + data.name() + "'");
        }
        if (epoch < 0) {
            throw new IllegalArgumentException("epoch " + epoch + " must be >= 0");
        }
        int[] order;
        if (shuffle) {
            order = permutation(seed, epoch, n);
        } else {
            order = new int[n];
            for (int i = 0; i < n; i++) {
                order[i] = i;
            }
        }
        return new Epoch(data, batchSize, order, dropLast, shuffle);
    }

    /** The example order of epoch {@code epoch}: a permutation of {@code 0..n-1} fixed by {@code (seed, epoch)}. */
    public static int[] permutation(long seed, int epoch, int n) {
        return new Rng(epochSeed(seed, epoch)).permutation(n);
    }

    /**
     * The generator seed of one epoch: two rounds of the SplitMix64 finaliser over the run seed and the epoch
     * number, so nearby seeds or epochs give unrelated streams.
     */
    static long epochSeed(long seed, int epoch) {
        return mix64(mix64(seed) + 0x9E3779B97F4A7C15L * (epoch + 1L));
    }

    private static long mix64(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    private static Tensor rows(Tensor t, int from, int to) {
        int[] dims = t.shape().toArray();
        int row = t.numel() / dims[0];
        dims[0] = to - from;
        Shape s = Shape.of(dims);
        return Tensor.view(t.storage(), s, s.contiguousStrides(), t.offset() + from * row);
    }
}
