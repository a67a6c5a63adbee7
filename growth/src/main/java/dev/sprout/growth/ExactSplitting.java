package dev.sprout.growth;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Splitting steepest descent, exact (S2D, spec section 2): the splitting matrix {@code S_i} of every neuron of every
 * growable layer ({@link SplittingMatrices}), its smallest eigenpair {@code (lambda_min, v_min)}, and the split
 * {@code theta_i +- eps v_min} with halved outgoing weights, which changes the loss by
 * {@code (eps^2/2) lambda_min + O(eps^4)}.
 *
 * <p>Selection: every neuron is a candidate scored by that predicted change; the {@code ctx.budget()} most negative
 * are taken across all layers ({@link Selection#topK}), and only those with {@code lambda_min < threshold}
 * ({@code threshold <= 0}; default 0). Unlike the official code, a neuron with {@code lambda_min >= 0} (splitting
 * stable) is never split and exactly {@code k}, not {@code k + 1}, neurons at most are taken; so at a
 * splitting-stable point the plan is empty (see {@link SignedSplitting} for a method that still grows there).
 *
 * <p>Options ({@link Methods}): {@code eps} (0.01, the official value), {@code surrogate-beta} (3: the softplus
 * surrogate for ReLU's {@code sigma''}), {@code threshold} (0).
 *
 * <p>Refuses (with {@link IllegalArgumentException}, before computing anything) a network with a layer whose
 * activation has {@code sigma'' = 0} everywhere (identity): splitting cannot move its loss.
 */
public final class ExactSplitting implements GrowthMethod {
    public static final String NAME = "exact";
    /** The official displacement of each offspring (unit {@code v}). */
    public static final double DEFAULT_EPS = 0.01;

    private final double eps, surrogateBeta, threshold;

    public ExactSplitting() {
        this(DEFAULT_EPS, SplittingMatrices.DEFAULT_SURROGATE_BETA, 0.0);
    }

    public ExactSplitting(double eps, double surrogateBeta, double threshold) {
        this.eps = checkEps(NAME, eps);
        this.surrogateBeta = checkBeta(NAME, surrogateBeta);
        if (!(threshold <= 0) || Double.isNaN(threshold)) {
            throw new IllegalArgumentException(NAME + ": threshold must be <= 0 (a split with lambda_min >= 0 cannot lower"
                    + " the loss at second order), got " + threshold);
        }
        this.threshold = threshold;
    }

    ExactSplitting(Methods.Options o) {
        this(o.number("eps", DEFAULT_EPS), o.number("surrogate-beta", SplittingMatrices.DEFAULT_SURROGATE_BETA),
                o.number("threshold", 0.0));
    }

    @Override
    public String name() {
        return NAME;
    }

    /** Refuses a network without growable layers or with a layer whose activation has sigma'' = 0 everywhere. */
    @Override
    public void check(dev.sprout.nn.Sequential net) {
        List<Site> sites = Site.find(net);
        SplittingMatrices.requireSites(sites);
        for (Site s : sites) {
            SplittingMatrices.checkSplittable(s);
        }
    }

    public double eps() {
        return eps;
    }

    public double surrogateBeta() {
        return surrogateBeta;
    }

    public double threshold() {
        return threshold;
    }

    /** What the method measured: per site (by name) the matrices and the smallest eigenpairs. */
    public record Analysis(Map<String, SplittingMatrices> matrices, Map<String, SplittingMatrices.Eigenpairs> smallest) {
    }

    /** Computes every site's splitting matrices and smallest eigenpairs (costs recorded in the context). */
    public Analysis analyse(GrowthContext ctx) {
        Map<String, SplittingMatrices> mats = new LinkedHashMap<>();
        Map<String, SplittingMatrices.Eigenpairs> eig = new LinkedHashMap<>();
        for (SplittingMatrices m : SplittingMatrices.all(ctx, surrogateBeta)) {
            mats.put(m.siteName(), m);
            eig.put(m.siteName(), m.smallest(ctx.cost()));
        }
        return new Analysis(mats, eig);
    }

    @Override
    public Plan propose(GrowthContext ctx) {
        return plan(analyse(ctx), ctx.budget());
    }

    /** The plan for an analysis and a budget: the most negative predicted changes, below the threshold. */
    public Plan plan(Analysis a, int budget) {
        List<Selection.Candidate> candidates = new ArrayList<>();
        for (Map.Entry<String, SplittingMatrices.Eigenpairs> e : a.smallest().entrySet()) {
            double[] lambda = e.getValue().values();
            for (int i = 0; i < lambda.length; i++) {
                if (lambda[i] < threshold) {
                    candidates.add(new Selection.Candidate(e.getKey(), i, predicted(eps, lambda[i]), 1));
                }
            }
        }
        List<Plan.Split> splits = new ArrayList<>();
        for (Selection.Candidate c : Selection.topK(candidates, budget)) {
            double[] v = a.smallest().get(c.site()).vectors()[c.neuron()];
            splits.add(Plan.Split.positive(c.site(), c.neuron(), v, eps, c.score()));
        }
        return new Plan(splits, List.of());
    }

    /** The predicted change in loss of a positive split: {@code (eps^2/2) lambda_min}. */
    public static double predicted(double eps, double lambdaMin) {
        return 0.5 * eps * eps * lambdaMin;
    }

    static double checkEps(String method, double eps) {
        if (!(eps >= 0) || !Double.isFinite(eps)) { // 0 is allowed: offspring are exact copies (function preserving)
            throw new IllegalArgumentException(method + ": eps must be finite and >= 0, got " + eps);
        }
        return eps;
    }

    static double checkBeta(String method, double beta) {
        if (!(beta > 0) || !Double.isFinite(beta)) {
            throw new IllegalArgumentException(method + ": surrogate-beta must be positive and finite, got " + beta);
        }
        return beta;
    }

    @Override
    public String toString() {
        return NAME + "(eps=" + eps + ", surrogate-beta=" + surrogateBeta + ", threshold=" + threshold + ")";
    }
}
