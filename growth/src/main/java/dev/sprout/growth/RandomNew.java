package dev.sprout.growth;

import dev.sprout.tensor.Rng;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * New random neurons, the baseline that adds capacity without looking at the data: {@code ctx.budget()} new neurons,
 * spread over the growable layers in proportion to their current width (largest-remainder rounding, ties broken
 * at random with {@code ctx.rng()}).
 *
 * <p>Each new neuron's incoming weights are drawn like the layer's own initialisation, uniform in
 * {@code +-1/sqrt(fan-in)} ({@link dev.sprout.nn.Linear} and {@link dev.sprout.nn.Conv2d} use that bound), its
 * bias is 0, and its <b>outgoing weights are zero</b>, so the network computes exactly the same function after the
 * step (function preservation; with batch norm, the new channel gets gamma 1, beta 0 and running statistics 0 / 1
 * from {@link Surgery}). Why zero outgoing rather than zero incoming weights: zero outgoing weights preserve the
 * function for every activation, whereas zero incoming weights do so only when {@code sigma(bias) = 0} (not for
 * RBF, sigmoid or softplus, where {@code sigma(0) != 0}), and they would make every new neuron of a layer receive
 * incoming gradients along the same vector (GradMax's choice of outgoing weights exists to fix exactly that). With
 * random incoming and zero outgoing weights, the gradient of the outgoing weights, {@code dL/da_ji = sum g'_j h_i},
 * is non-zero as soon as the neuron's random features {@code h_i} correlate with the back-propagated error, so the
 * neuron starts learning at the first step; its incoming weights start
 * learning once its outgoing weights have moved away from zero. Nothing is predicted ({@code predictedChange} NaN).
 *
 * <p>No options.
 */
public final class RandomNew implements GrowthMethod {
    public static final String NAME = "random-new";

    public RandomNew() {
    }

    RandomNew(Methods.Options o) {
        this();
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public Plan propose(GrowthContext ctx) {
        List<Site> sites = ctx.sites();
        SplittingMatrices.requireSites(sites);
        Rng rng = ctx.rng();
        int[] count = allocate(sites, ctx.budget(), rng);
        List<Plan.NewNeuron> add = new ArrayList<>();
        for (int s = 0; s < sites.size(); s++) {
            Site site = sites.get(s);
            int fan = site.fanIn();
            int outLen = site.consumer().parameter("weight").dim(0) * Surgery.block(site);
            double bound = 1.0 / Math.sqrt(fan);
            for (int j = 0; j < count[s]; j++) {
                double[] in = new double[fan];
                for (int t = 0; t < fan; t++) {
                    in[t] = -bound + 2 * bound * rng.uniform();
                }
                add.add(new Plan.NewNeuron(site.name(), in, 0.0, new double[outLen], Double.NaN));
            }
        }
        return new Plan(List.of(), add);
    }

    /** New neurons per site: {@code budget * width / total width}, rounded by largest remainder. */
    static int[] allocate(List<Site> sites, int budget, Rng rng) {
        int n = sites.size();
        long total = 0;
        for (Site s : sites) {
            total += s.neurons();
        }
        int[] count = new int[n];
        double[] rem = new double[n];
        double[] tie = new double[n];
        int given = 0;
        for (int s = 0; s < n; s++) {
            double exact = (double) budget * sites.get(s).neurons() / total;
            count[s] = (int) Math.floor(exact);
            rem[s] = exact - count[s];
            tie[s] = rng.uniform();
            given += count[s];
        }
        List<Integer> order = new ArrayList<>();
        for (int s = 0; s < n; s++) {
            order.add(s);
        }
        order.sort(Comparator.comparingDouble((Integer s) -> -rem[s]).thenComparingDouble(s -> tie[s]));
        for (int j = 0; given < budget; j = (j + 1) % n) {
            count[order.get(j)]++;
            given++;
        }
        return count;
    }

    @Override
    public String toString() {
        return NAME;
    }
}
