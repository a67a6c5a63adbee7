package dev.sprout.growth;

import dev.sprout.tensor.Rng;

import java.util.ArrayList;
import java.util.List;

/**
 * Random-direction splitting, the baseline for {@link ExactSplitting}: {@code ctx.budget()} neurons drawn uniformly
 * without replacement from all neurons of all growable layers ({@code ctx.rng()}), each split along its own random
 * unit direction {@code v} (a normalised Gaussian vector) into {@code theta +- eps v} with halved outgoing weights,
 * the same eps as exact splitting. Nothing is predicted ({@code predictedChange} is NaN).
 *
 * <p>Deviations from the official Firefly {@code method=random}, on purpose: neurons are drawn without
 * replacement (the official code draws with replacement, so a neuron drawn twice gets inconsistent halving), the
 * two offspring share one direction (symmetric {@code +-eps v}, so the mean displacement is zero as in S2D; the
 * official code adds two independent noises), {@code v} is normalised as a whole (not per kernel row), and the
 * draw is uniform over neurons, not a random composition over layers.
 *
 * <p>Options: {@code eps} (0.01).
 */
public final class RandomSplit implements GrowthMethod {
    public static final String NAME = "random-split";

    private final double eps;

    public RandomSplit() {
        this(ExactSplitting.DEFAULT_EPS);
    }

    public RandomSplit(double eps) {
        this.eps = ExactSplitting.checkEps(NAME, eps);
    }

    RandomSplit(Methods.Options o) {
        this(o.number("eps", ExactSplitting.DEFAULT_EPS));
    }

    @Override
    public String name() {
        return NAME;
    }

    public double eps() {
        return eps;
    }

    @Override
    public Plan propose(GrowthContext ctx) {
        List<Site> sites = ctx.sites();
        SplittingMatrices.requireSites(sites);
        List<int[]> all = new ArrayList<>(); // {site index, neuron}
        for (int s = 0; s < sites.size(); s++) {
            for (int i = 0; i < sites.get(s).neurons(); i++) {
                all.add(new int[] {s, i});
            }
        }
        int k = Math.min(ctx.budget(), all.size());
        Rng rng = ctx.rng();
        // partial Fisher-Yates: the first k entries become a uniform sample without replacement
        for (int j = 0; j < k; j++) {
            int pick = j + rng.nextInt(all.size() - j);
            int[] t = all.get(j);
            all.set(j, all.get(pick));
            all.set(pick, t);
        }
        List<Plan.Split> splits = new ArrayList<>();
        for (int j = 0; j < k; j++) {
            Site site = sites.get(all.get(j)[0]);
            splits.add(Plan.Split.positive(site.name(), all.get(j)[1], unitVector(rng, site.fanIn()), eps, Double.NaN));
        }
        return new Plan(splits, List.of());
    }

    /** A uniformly distributed unit vector of length {@code n}. */
    static double[] unitVector(Rng rng, int n) {
        double[] v = new double[n];
        double norm;
        do {
            norm = 0;
            for (int i = 0; i < n; i++) {
                v[i] = rng.normal();
                norm += v[i] * v[i];
            }
        } while (!(norm > 0));
        norm = Math.sqrt(norm);
        for (int i = 0; i < n; i++) {
            v[i] /= norm;
        }
        return v;
    }

    @Override
    public String toString() {
        return NAME + "(eps=" + eps + ")";
    }
}
