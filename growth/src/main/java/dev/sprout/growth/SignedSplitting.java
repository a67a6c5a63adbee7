package dev.sprout.growth;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Signed splitting (S3D, spec section 4): offspring weights may be negative ({@code w1 + w2 = 1},
 * {@code |w1| + |w2| <= c}), which removes splitting stability. For each neuron both extreme eigenpairs of its
 * splitting matrix are computed and the better of two splits is proposed:
 * <ul>
 *   <li>the positive split (S2D): {@code theta +- eps v_min}, weights {@code 1/2, 1/2}, predicted change
 *       {@code (eps^2/2) lambda_min};</li>
 *   <li>the signed split: {@code delta1 = v_max}, {@code delta2 = -r v_max}, weights {@code w1 = -(c-1)/2},
 *       {@code w2 = (c+1)/2}, {@code r = w1/w2 = -(c-1)/(c+1)}, predicted change
 *       {@code (eps^2/2) r lambda_max = -(eps^2/2) (c-1)/(c+1) lambda_max} ({@link Plan.Split#signed}).</li>
 * </ul>
 * The signed split lowers the loss whenever {@code lambda_max > 0}, so the method can grow at a point where every
 * {@code lambda_min >= 0}. Selection as in {@link ExactSplitting}: the {@code ctx.budget()} most negative predicted
 * changes across all layers, negative ones only.
 *
 * <p>The parameterisation is the spec's derivation (checked numerically in the tests); whether it is exactly the
 * paper's is unconfirmed (no official code exists). Options: {@code eps} (0.01), {@code c} (3, must exceed 1),
 * {@code surrogate-beta} (3). Identity-activated layers are refused as in {@link ExactSplitting}.
 */
public final class SignedSplitting implements GrowthMethod {
    public static final String NAME = "signed";
    public static final double DEFAULT_C = 3.0;

    private final double eps, c, surrogateBeta;

    public SignedSplitting() {
        this(ExactSplitting.DEFAULT_EPS, DEFAULT_C, SplittingMatrices.DEFAULT_SURROGATE_BETA);
    }

    public SignedSplitting(double eps, double c, double surrogateBeta) {
        this.eps = ExactSplitting.checkEps(NAME, eps);
        if (!(c > 1) || !Double.isFinite(c)) {
            throw new IllegalArgumentException(NAME + ": c (the bound on |w1| + |w2|) must be finite and > 1, got " + c);
        }
        this.c = c;
        this.surrogateBeta = ExactSplitting.checkBeta(NAME, surrogateBeta);
    }

    SignedSplitting(Methods.Options o) {
        this(o.number("eps", ExactSplitting.DEFAULT_EPS), o.number("c", DEFAULT_C),
                o.number("surrogate-beta", SplittingMatrices.DEFAULT_SURROGATE_BETA));
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

    public double c() {
        return c;
    }

    /** {@code r = w1 / w2 = -(c-1)/(c+1)}, the factor of the signed split's second-order term. */
    public double ratio() {
        return -(c - 1) / (c + 1);
    }

    /** Per site (by name): the matrices and both extreme eigenpairs. */
    public record Analysis(Map<String, SplittingMatrices> matrices, Map<String, SplittingMatrices.Eigenpairs> smallest,
                           Map<String, SplittingMatrices.Eigenpairs> largest) {
    }

    public Analysis analyse(GrowthContext ctx) {
        Map<String, SplittingMatrices> mats = new LinkedHashMap<>();
        Map<String, SplittingMatrices.Eigenpairs> lo = new LinkedHashMap<>(), hi = new LinkedHashMap<>();
        for (SplittingMatrices m : SplittingMatrices.all(ctx, surrogateBeta)) {
            mats.put(m.siteName(), m);
            lo.put(m.siteName(), m.smallest(ctx.cost()));
            hi.put(m.siteName(), m.largest(ctx.cost()));
        }
        return new Analysis(mats, lo, hi);
    }

    @Override
    public Plan propose(GrowthContext ctx) {
        return plan(analyse(ctx), ctx.budget());
    }

    /** The plan for an analysis and a budget. */
    public Plan plan(Analysis a, int budget) {
        List<Selection.Candidate> candidates = new ArrayList<>();
        Map<String, Boolean> signedChoice = new LinkedHashMap<>();
        for (String site : a.smallest().keySet()) {
            double[] lmin = a.smallest().get(site).values(), lmax = a.largest().get(site).values();
            for (int i = 0; i < lmin.length; i++) {
                double pos = ExactSplitting.predicted(eps, lmin[i]);
                double sgn = 0.5 * eps * eps * ratio() * lmax[i];
                boolean signed = sgn < pos;
                signedChoice.put(site + "/" + i, signed);
                candidates.add(new Selection.Candidate(site, i, signed ? sgn : pos, 1));
            }
        }
        List<Plan.Split> splits = new ArrayList<>();
        for (Selection.Candidate cand : Selection.topK(candidates, budget)) {
            if (signedChoice.get(cand.site() + "/" + cand.neuron())) {
                double[] v = a.largest().get(cand.site()).vectors()[cand.neuron()];
                splits.add(Plan.Split.signed(cand.site(), cand.neuron(), v, eps, c, cand.score()));
            } else {
                double[] v = a.smallest().get(cand.site()).vectors()[cand.neuron()];
                splits.add(Plan.Split.positive(cand.site(), cand.neuron(), v, eps, cand.score()));
            }
        }
        return new Plan(splits, List.of());
    }

    @Override
    public String toString() {
        return NAME + "(eps=" + eps + ", c=" + c + ", surrogate-beta=" + surrogateBeta + ")";
    }
}
