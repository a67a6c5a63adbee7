package dev.sprout.growth.continual;

/**
 * Continual-learning metrics of an accuracy matrix {@code R}, where {@code R[i][j]} is the test accuracy on task
 * {@code j} after learning task {@code i} (row {@code i} holds tasks {@code 0..i}; later tasks have no head yet).
 */
public final class Metrics {
    private Metrics() {
    }

    /** The mean accuracy over tasks {@code 0..i} after learning task {@code i} (the last row: the final average accuracy). */
    public static double averageAccuracy(double[][] r, int i) {
        if (i < 0 || i >= r.length || r[i] == null || r[i].length < i + 1) {
            throw new IllegalArgumentException("accuracy matrix has no row " + i + " with " + (i + 1) + " entries");
        }
        double s = 0;
        for (int j = 0; j <= i; j++) {
            s += r[i][j];
        }
        return s / (i + 1);
    }

    /**
     * Average forgetting (Chaudhry et al. 2018): for each task {@code j} but the last, its best accuracy after any
     * earlier step {@code max_{j <= k < T-1} R[k][j]} minus its final accuracy {@code R[T-1][j]}, averaged over those
     * tasks; 0 with one task.
     */
    public static double forgetting(double[][] r) {
        check(r);
        int last = r.length - 1;
        if (last == 0) {
            return 0;
        }
        double s = 0;
        for (int j = 0; j < last; j++) {
            double best = Double.NEGATIVE_INFINITY;
            for (int k = j; k < last; k++) {
                best = Math.max(best, r[k][j]);
            }
            s += best - r[last][j];
        }
        return s / last;
    }

    /** Backward transfer (Lopez-Paz and Ranzato 2017): the mean of {@code R[T-1][j] - R[j][j]} over {@code j < T-1}. */
    public static double backwardTransfer(double[][] r) {
        check(r);
        int last = r.length - 1;
        if (last == 0) {
            return 0;
        }
        double s = 0;
        for (int j = 0; j < last; j++) {
            s += r[last][j] - r[j][j];
        }
        return s / last;
    }

    private static void check(double[][] r) {
        if (r.length == 0) {
            throw new IllegalArgumentException("accuracy matrix has no rows");
        }
        for (int i = 0; i < r.length; i++) {
            if (r[i] == null || r[i].length < i + 1) {
                throw new IllegalArgumentException("accuracy matrix row " + i + " has " + (r[i] == null ? 0 : r[i].length)
                        + " entries, needs " + (i + 1));
            }
        }
    }
}
