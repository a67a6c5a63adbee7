package dev.sprout.growth;

import dev.sprout.data.Batches;
import dev.sprout.data.Dataset;
import dev.sprout.nn.Sequential;
import dev.sprout.tensor.Rng;
import dev.sprout.tensor.Tensor;
import dev.sprout.train.Trainer;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * Everything a growth method may look at: the network, the data it may measure on (a validation split taken from
 * the training set), the growth budget, a random generator, the meter that accounts for the step's cost, and the
 * training set, on which a method may fit parameters of its own (Firefly's candidates) but never select.
 *
 * @param sample    the data growth statistics, scores and selection use: a validation split, never the test set
 * @param growRatio the number of neurons to add, as a fraction of the current number of neurons of the grown
 *                  layers, in (0, 1]; at least one neuron is added
 * @param train     the data a method may train its candidate parameters on (the training set; the sample when
 *                  none is given)
 */
public record GrowthContext(Sequential net, Dataset sample, int batchSize, double growRatio, Rng rng, CostMeter cost,
                            Dataset train) {

    /** A context whose candidate parameters, if any, are trained on the sample too. */
    public GrowthContext(Sequential net, Dataset sample, int batchSize, double growRatio, Rng rng, CostMeter cost) {
        this(net, sample, batchSize, growRatio, rng, cost, sample);
    }

    public GrowthContext {
        if (train == null || train.size() == 0) {
            throw new IllegalArgumentException("growth needs a non-empty training set for candidate parameters");
        }
        if (!(growRatio > 0 && growRatio <= 1)) {
            throw new IllegalArgumentException("growth ratio must be in (0, 1], got " + growRatio);
        }
        if (batchSize < 1) {
            throw new IllegalArgumentException("growth batch size must be positive, got " + batchSize);
        }
        if (sample.size() == 0) {
            throw new IllegalArgumentException("growth needs a non-empty data sample");
        }
    }

    /** The growable layers of the network. */
    public List<Site> sites() {
        return Site.find(net);
    }

    /** How many neurons this step adds: {@code max(1, floor(growRatio * current neurons of all sites))}. */
    public int budget() {
        int total = 0;
        for (Site s : sites()) {
            total += s.neurons();
        }
        return Math.max(1, (int) Math.floor(growRatio * total));
    }

    /** The sample in fixed batches (no shuffling: statistics are reproducible). */
    public List<Batches.Batch> batches() {
        List<Batches.Batch> out = new ArrayList<>();
        for (Batches.Batch b : Batches.epoch(sample, Math.min(batchSize, sample.size()), 0, 0, false, false)) {
            out.add(b);
        }
        return out;
    }

    /** The batch-mean loss of network outputs for one batch (cross-entropy or MSE, as training uses). */
    public Function<Tensor, Tensor> loss(Batches.Batch b) {
        return out -> Trainer.loss(out, b, sample);
    }

    /** Shape of one example (without batch). */
    public int[] exampleShape() {
        return sample.exampleShape();
    }
}
