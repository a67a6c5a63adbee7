package dev.sprout.growth;

import dev.sprout.data.Batches;
import dev.sprout.nn.Sequential;
import dev.sprout.tensor.DType;
import dev.sprout.tensor.Tensor;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Fast (and energy-aware) splitting, growth method {@code "fast"} (Wang et al. 2019, spec section 3): each neuron's
 * splitting index {@code lambda_min(S_i)} and its eigenvector {@code v_min} come from a few matrix-free Lanczos
 * steps on the {@link SplittingOperator} (no {@code D x D} matrix is formed), instead of the official code's
 * epochs of RMSprop on the Rayleigh quotient. A neuron split along {@code +-eps v_min} with halved outgoing
 * weights changes the loss by {@code (eps^2 / 2) lambda_min + O(eps^3)}: that is its score.
 *
 * <p>Per site (in network order): the probes of every batch of the context's sample ({@link SiteProbe#run}, cost
 * phase {@code "statistics"}), then {@link Lanczos} with {@code min(D, steps)} steps on the operator (phase
 * {@code "eigen"}, the operator's products included). The probes of one site are released before the next site.
 *
 * <p>Selection, over all sites together (one group):
 * <ul>
 *   <li>default: the global top-k of the scores, {@code k = ctx.budget()}, negative scores only
 *   ({@link Selection#topK});</li>
 *   <li>{@code energy}: the knapsack of {@link Selection#knapsack} with cost {@code f_i = site.flopsPerNeuron(shape
 *   at the site)} (the FLOPs per example one more neuron costs) and budget {@code growRatio * sum_l C_l f_l}.
 *   (The official energy code uses {@code sqrt} of the FLOPs as the cost and an LP; with one budget the greedy
 *   ratio rule is the LP's solution up to the one fractional item.)</li>
 * </ul>
 *
 * <p>Cost accounting: wall time under {@code "statistics"} and {@code "eigen"}; FLOPs: each probe batch as
 * three forward passes of the network (forward plus backward), and the operator's GEMM FLOPs as it counts them
 * ({@link SplittingOperator#flops}: {@code 8 M D C} per application for {@link SplittingOperator.Product#HVP},
 * {@code 4 M D C} for the default cached product plus {@code 4 M D C} once); peak heap sampled after the probes
 * and after the eigen-solve of each site.
 */
public final class FastSplitting implements GrowthMethod {

    /** The method's name in a registry / on the command line. */
    public static final String NAME = "fast";
    public static final double DEFAULT_EPS = 0.01;
    public static final int DEFAULT_STEPS = Lanczos.DEFAULT_STEPS;
    private static final long SEED_SALT = 0x5f1a_7c0d_e5L;

    private final double eps;
    private final int steps;
    private final boolean energy;
    private final double surrogateBeta;
    private final SplittingOperator.Product product;

    /**
     * @param eps           the split displacement (offspring {@code theta +- eps v}); {@code >= 0}
     * @param steps         the maximum number of Lanczos steps per site (used: {@code min(D, steps)})
     * @param energy        energy-aware (knapsack) selection instead of the global top-k
     * @param surrogateBeta softplus parameter of the ReLU surrogate for {@code sigma''}
     * @param product       how the operator's products are computed
     */
    public FastSplitting(double eps, int steps, boolean energy, double surrogateBeta, SplittingOperator.Product product) {
        if (!(eps >= 0) || !Double.isFinite(eps)) {
            throw new IllegalArgumentException("fast: eps must be a finite number >= 0, got " + eps);
        }
        if (steps < 1) {
            throw new IllegalArgumentException("fast: steps must be >= 1, got " + steps);
        }
        if (!(surrogateBeta > 0) || !Double.isFinite(surrogateBeta)) {
            throw new IllegalArgumentException("fast: surrogate-beta must be a finite number > 0, got " + surrogateBeta);
        }
        if (product == null) {
            throw new IllegalArgumentException("fast: product must not be null");
        }
        this.eps = eps;
        this.steps = steps;
        this.energy = energy;
        this.surrogateBeta = surrogateBeta;
        this.product = product;
    }

    public FastSplitting(double eps, int steps, boolean energy, double surrogateBeta) {
        this(eps, steps, energy, surrogateBeta, SplittingOperator.Product.CACHED_HVP);
    }

    /** The defaults: eps 0.01, 30 steps, top-k selection, surrogate beta 3. */
    public FastSplitting() {
        this(DEFAULT_EPS, DEFAULT_STEPS, false, SplittingOperator.DEFAULT_SURROGATE_BETA);
    }

    /** Option names {@link #create} accepts. */
    public static final Set<String> OPTIONS = Set.of("eps", "steps", "energy", "surrogate-beta", "product");

    /**
     * The method from string options (for a registry / command line): {@code eps} (default 0.01), {@code steps}
     * (default 30), {@code energy} ({@code true}/{@code false}, default false), {@code surrogate-beta} (default 3),
     * {@code product} ({@code cached-hvp} (default), {@code hvp} or {@code direct}: how the splitting operator's
     * products are computed, see {@link SplittingOperator}; the results agree to rounding).
     *
     * @throws IllegalArgumentException for an unknown option or a malformed or out-of-range value
     */
    public static FastSplitting create(Map<String, String> options) {
        for (String k : options.keySet()) {
            if (!OPTIONS.contains(k)) {
                throw new IllegalArgumentException("fast: unknown option '" + k + "' (known: "
                        + String.join(", ", new java.util.TreeSet<>(OPTIONS)) + ")");
            }
        }
        double eps = number(options, "eps", DEFAULT_EPS);
        double beta = number(options, "surrogate-beta", SplittingOperator.DEFAULT_SURROGATE_BETA);
        int steps = DEFAULT_STEPS;
        if (options.containsKey("steps")) {
            String s = options.get("steps").trim();
            try {
                steps = Integer.parseInt(s);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("fast: option steps must be a positive integer, got '" + s + "'");
            }
        }
        boolean energy = false;
        if (options.containsKey("energy")) {
            String s = options.get("energy").trim().toLowerCase(Locale.ROOT);
            if (!s.equals("true") && !s.equals("false")) {
                throw new IllegalArgumentException("fast: option energy must be true or false, got '" + options.get("energy") + "'");
            }
            energy = s.equals("true");
        }
        SplittingOperator.Product product = SplittingOperator.Product.CACHED_HVP;
        if (options.containsKey("product")) {
            String s = options.get("product").trim().toLowerCase(Locale.ROOT);
            product = switch (s) {
                case "cached-hvp" -> SplittingOperator.Product.CACHED_HVP;
                case "hvp" -> SplittingOperator.Product.HVP;
                case "direct" -> SplittingOperator.Product.DIRECT;
                default -> throw new IllegalArgumentException("fast: option product must be cached-hvp, hvp or direct, got '"
                        + options.get("product") + "'");
            };
        }
        return new FastSplitting(eps, steps, energy, beta, product);
    }

    private static double number(Map<String, String> options, String key, double dflt) {
        if (!options.containsKey(key)) {
            return dflt;
        }
        String s = options.get(key).trim();
        try {
            return Double.parseDouble(s);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("fast: option " + key + " must be a number, got '" + s + "'");
        }
    }

    @Override
    public String name() {
        return NAME;
    }

    public double eps() {
        return eps;
    }

    public int steps() {
        return steps;
    }

    public boolean energy() {
        return energy;
    }

    public double surrogateBeta() {
        return surrogateBeta;
    }

    public SplittingOperator.Product product() {
        return product;
    }

    // ------------------------------------------------------------------------------------------ analysis

    /**
     * What the method measured at one site: the Lanczos result (both ends of each neuron's spectrum, for a signed
     * variant too), the cost of one more neuron, the operator's size.
     */
    public record SiteAnalysis(String site, int neurons, int dim, long costPerNeuron, Lanczos.Result eigen, long rows,
                               int samples) {
        /** The predicted loss change of splitting neuron {@code i} along {@code +-eps v_min}. */
        public double score(int i, double eps) {
            return eps * eps / 2 * eigen.lambdaMin()[i];
        }
    }

    /** Measures every site (probes, then Lanczos), recording costs in the context's meter. */
    public List<SiteAnalysis> analyse(GrowthContext ctx) {
        List<Batches.Batch> batches = ctx.batches();
        long seed = ctx.rng().nextLong() ^ SEED_SALT;
        Sequential net = ctx.net();
        List<SiteAnalysis> out = new ArrayList<>();
        int[] example = ctx.exampleShape();
        double forwardFlops = net.flopsPerExample(example);
        int siteNo = 0;
        for (Site site : ctx.sites()) {
            DType dt = site.layer().parameter("weight").dtype();
            List<SiteProbe> probes = ctx.cost().time("statistics", () -> {
                List<SiteProbe> ps = new ArrayList<>();
                for (Batches.Batch b : batches) {
                    Batches.Batch bb = inDType(b, dt);
                    ps.add(SiteProbe.run(site, bb.inputs(), ctx.loss(bb)));
                    ctx.cost().addFlops(3 * forwardFlops * b.size());
                }
                return ps;
            });
            ctx.cost().sampleMemory();
            SplittingOperator op = SplittingOperator.of(site, probes, surrogateBeta, product);
            probes = null; // the operator holds them now; dropped with it after this site
            long s = seed + 0x9E37_79B9_7F4A_7C15L * (siteNo++);
            Lanczos.Result r = ctx.cost().time("eigen", () -> Lanczos.run(op, steps, s));
            ctx.cost().sampleMemory();
            ctx.cost().addFlops(op.flops());
            out.add(new SiteAnalysis(site.name(), site.neurons(), site.fanIn(), costPerNeuron(site, example), r,
                    op.rows(), op.samples()));
        }
        return out;
    }

    /** FLOPs per example one more neuron of the site costs ({@link Site#flopsPerNeuron} at the site's input shape). */
    static long costPerNeuron(Site site, int[] exampleShape) {
        int[] s = exampleShape;
        for (int i = 0; i < site.index(); i++) {
            s = site.net().get(i).outputShape(s);
        }
        return site.flopsPerNeuron(s);
    }

    /** The batch with inputs (and regression targets) in the network's dtype (datasets hold f32). */
    static Batches.Batch inDType(Batches.Batch b, DType dt) {
        if (b.inputs().dtype() == dt && (b.targets() == null || b.targets().dtype() == dt)) {
            return b;
        }
        Tensor x = b.inputs().dtype() == dt ? b.inputs() : b.inputs().to(dt);
        Tensor y = b.targets() == null || b.targets().dtype() == dt ? b.targets() : b.targets().to(dt);
        return new Batches.Batch(b.index(), b.indices(), x, b.labels(), y);
    }

    // ------------------------------------------------------------------------------------------ selection

    /** One candidate per neuron of every analysed site, scored {@code (eps^2/2) lambda_min}, cost per neuron. */
    public List<Selection.Candidate> candidates(List<SiteAnalysis> analyses) {
        List<Selection.Candidate> all = new ArrayList<>();
        for (SiteAnalysis a : analyses) {
            for (int i = 0; i < a.neurons(); i++) {
                all.add(new Selection.Candidate(a.site(), i, a.score(i, eps), a.costPerNeuron()));
            }
        }
        return all;
    }

    /** The energy budget {@code growRatio * sum_l C_l f_l}. */
    public static double energyBudget(double growRatio, List<SiteAnalysis> analyses) {
        double total = 0;
        for (SiteAnalysis a : analyses) {
            total += (double) a.neurons() * a.costPerNeuron();
        }
        return growRatio * total;
    }

    /** The selected candidates: knapsack under the energy budget, or the global top-k. */
    public List<Selection.Candidate> select(GrowthContext ctx, List<SiteAnalysis> analyses) {
        List<Selection.Candidate> all = candidates(analyses);
        return energy ? Selection.knapsack(all, energyBudget(ctx.growRatio(), analyses)) : Selection.topK(all, ctx.budget());
    }

    @Override
    public Plan propose(GrowthContext ctx) {
        List<SiteAnalysis> analyses = analyse(ctx);
        List<Plan.Split> splits = new ArrayList<>();
        for (Selection.Candidate c : select(ctx, analyses)) {
            for (SiteAnalysis a : analyses) {
                if (a.site().equals(c.site())) {
                    splits.add(Plan.Split.positive(c.site(), c.neuron(), a.eigen().vMin()[c.neuron()], eps, c.score()));
                }
            }
        }
        return new Plan(splits, List.of());
    }

    @Override
    public String toString() {
        return "fast(eps=" + eps + ", steps=" + steps + ", energy=" + energy + ", surrogate-beta=" + surrogateBeta
                + ", product=" + product.name().toLowerCase(Locale.ROOT).replace('_', '-') + ")";
    }
}
