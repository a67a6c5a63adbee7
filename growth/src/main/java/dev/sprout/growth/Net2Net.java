package dev.sprout.growth;

import dev.sprout.tensor.Rng;

import java.util.ArrayList;
import java.util.List;

/**
 * Net2WiderNet (Chen, Goodfellow, Shlens 2016; spec section 8), growth method {@code "net2net"}: new neurons are
 * copies of existing ones, and the outgoing weights of each copied neuron are divided among its copies, so the
 * network computes the same function; a little noise on the copies' incoming weights breaks the symmetry.
 *
 * <p>{@code ctx.budget()} neurons are spread over the growable layers in proportion to their width
 * ({@link RandomNew#allocate}); in each layer the parents are drawn uniformly <b>without replacement</b>
 * ({@code ctx.rng()}), so each parent gets one copy and both keep half of its outgoing weights (the paper draws the
 * mapping {@code g(j)} with replacement and divides by the copy count; a {@link Plan} splits a neuron at most once
 * per step, and with a grow ratio of at most 1 a layer never needs more copies than it has neurons). The parent
 * keeps its incoming weights exactly; the copy gets {@code theta + noise}, with independent normal noise of
 * standard deviation {@code noise * rms(W)}, {@code W} the layer's weights. Bias and batch norm (parameters and
 * running statistics) are copied by {@link Surgery}. With {@code noise = 0} the grown network computes exactly the
 * same function (batch norm in eval mode). Nothing is predicted ({@code predictedChange} is NaN).
 *
 * <p>Options: {@code noise} (0.01).
 */
public final class Net2Net implements GrowthMethod {
    public static final String NAME = "net2net";
    public static final double DEFAULT_NOISE = 0.01;

    private final double noise;

    public Net2Net(double noise) {
        if (!(noise >= 0) || !Double.isFinite(noise)) {
            throw new IllegalArgumentException(NAME + ": noise must be finite and >= 0, got " + noise);
        }
        this.noise = noise;
    }

    public Net2Net() {
        this(DEFAULT_NOISE);
    }

    Net2Net(Methods.Options o) {
        this(o.number("noise", DEFAULT_NOISE));
    }

    @Override
    public String name() {
        return NAME;
    }

    public double noise() {
        return noise;
    }

    @Override
    public Plan propose(GrowthContext ctx) {
        List<Site> sites = ctx.sites();
        SplittingMatrices.requireSites(sites);
        Rng rng = ctx.rng();
        int[] count = RandomNew.allocate(sites, ctx.budget(), rng);
        List<Plan.Split> splits = new ArrayList<>();
        for (int s = 0; s < sites.size(); s++) {
            Site site = sites.get(s);
            int n = site.neurons(), fan = site.fanIn();
            int k = Math.min(count[s], n);
            double[] w = site.layer().parameter("weight").toDoubleArray();
            double ss = 0;
            for (double x : w) {
                ss += x * x;
            }
            double sd = noise * Math.sqrt(ss / w.length);
            int[] order = new int[n];
            for (int i = 0; i < n; i++) {
                order[i] = i;
            }
            for (int j = 0; j < k; j++) { // partial Fisher-Yates: a uniform sample without replacement
                int pick = j + rng.nextInt(n - j);
                int t = order[j];
                order[j] = order[pick];
                order[pick] = t;
            }
            for (int j = 0; j < k; j++) {
                double[] copy = new double[fan];
                for (int t = 0; t < fan; t++) {
                    copy[t] = sd * rng.normal();
                }
                splits.add(new Plan.Split(site.name(), order[j], new double[fan], copy, 1.0, 0.5, 0.5, Double.NaN));
            }
        }
        return new Plan(splits, List.of());
    }

    @Override
    public String toString() {
        return NAME + "(noise=" + noise + ")";
    }
}
