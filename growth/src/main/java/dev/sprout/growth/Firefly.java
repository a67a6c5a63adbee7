package dev.sprout.growth;

import dev.sprout.nn.Conv2d;
import dev.sprout.nn.Linear;
import dev.sprout.nn.Module;
import dev.sprout.nn.Sequential;
import dev.sprout.tensor.Rng;
import dev.sprout.tensor.Tensor;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;

/**
 * Firefly neural architecture descent, width growth (Wu et al. 2020; spec section 5.2, the official
 * {@code method=fireflyn}), growth method {@code "firefly"}:
 * <ol>
 *   <li><b>over-grow</b>: every growable layer gets split candidates (a trainable displacement {@code v_i} for each of
 *   its neurons) and {@code K} new-neuron candidates (trainable incoming and outgoing weights), each behind a gate
 *   ({@link FireflyCandidates}; with the gates at 0 the network's function is unchanged);</li>
 *   <li><b>optimise</b> the candidates (only them) for a short budget on the training set: {@code steps}
 *   mini-batches of RMSprop, as the official code's one epoch (phase {@code "optimise"});</li>
 *   <li><b>score</b> each candidate by the first-order Taylor score, {@code dL/dg} at its trained perturbation
 *   (gate 1), averaged over the growth sample (phase {@code "statistics"}). A split's score is
 *   {@code v^T S v + O(|v|^4)} (its splitting matrix {@code S}); a new neuron's the first-order loss change of switching
 *   it on;</li>
 *   <li><b>select</b> greedily the {@code k = ctx.budget()} most negative scores over all layers, splits and new
 *   neurons in one pool ({@link Selection#topK}), and build the {@link Plan}: a split becomes offspring
 *   {@code theta +- v} (no further eps: the trained {@code v} is the displacement), a new neuron keeps its trained
 *   incoming weights, bias 0, and its trained outgoing weights into the consumer (also into the consumer's selected
 *   new neurons).</li>
 * </ol>
 * <h2>Depth: {@code "firefly-deep"} (spec section 5.3; the official code has none)</h2>
 * The same, plus one new-layer candidate after every layer that can take one ({@link Surgery#depthKind}): after a
 * dense (or convolutional) layer with ReLU, a ReLU layer {@code relu(A h + b)} of the layer's width (a 3x3
 * convolution, padding 1, for a conv layer), starting at the identity ({@code A = I}, the centre tap for a
 * convolution, {@code b = 0}, which changes nothing since {@code relu(h) = h} for the layer's non-negative outputs;
 * no batch norm is added, so this holds in training mode too); after a dense layer with another activation (tanh,
 * sigmoid, softplus), a zero-residual block {@code h + W2 sigma(W1 h + b1) + b2} ({@code W2 = 0, b2 = 0} at the start,
 * inner width the layer's width unless option {@code depth-width} says otherwise: the same cost as a new ReLU layer
 * and as many hidden units as the layer it refines). Each is trained with the other candidates and scored by the
 * derivative in its gate; the selected one is inserted with its trained weights, as splits and new neurons are.
 * A new layer costs as many neurons as it has,
 * so width and depth compete in one selection by predicted decrease per neuron under the same neuron budget
 * ({@link Selection#knapsack}); a layer wider than the budget cannot be taken, so depth needs a grow ratio that can
 * pay for a whole layer. The chosen layer is inserted by {@link Surgery} ({@link Plan.NewLayer}) after the layer's
 * width changes of the same step. Networks where no layer can take one are refused ({@link #check}).
 *
 * <p>The plan's predicted change per candidate is the Taylor estimate of switching it on: a split's loss is even and
 * quadratic in its gate, so {@code score / 2}; a new neuron's or a new layer's is about linear, so {@code score}.
 * Interactions between candidates are ignored, as in the paper.
 *
 * <h2>The official code's bugs (spec sections 5.2 and 13), fixed here; {@code as-official=true} keeps them</h2>
 * <ul>
 *   <li>score sign: the official selection takes positive scores too; fixed: only negative scores;</li>
 *   <li>off-by-one: it takes every score {@code <= sorted[k]}, i.e. {@code k + 1} (more with ties); fixed: at most
 *   {@code k} ({@link Selection#officialThreshold} reproduces it);</li>
 *   <li>the classifier's outgoing weights of new neurons: the classifier is not a split layer there, so the trained
 *   outgoing weights of the last hidden layer's new neurons are never written back (they become 0 although the
 *   score counted them); fixed: written back. As official: every consumer that is not itself a growable layer
 *   gets zero columns for new neurons;</li>
 *   <li>the re-randomised classifier bias: the official code enlarges the classifier with a fresh, randomly
 *   initialised bias that is never copied, so the candidates are optimised and scored, and the grown network goes
 *   on, with a random bias; fixed: the bias is kept. As official: {@link #propose} re-draws the bias of every
 *   consumer that is not a growable layer (uniform in {@code +-1/sqrt(fan-in)} of the enlarged layer, PyTorch's
 *   default) <b>before</b> optimising, and the network keeps it: the only change {@code propose} makes itself.</li>
 * </ul>
 *
 * <h2>Options ({@link Methods})</h2>
 * {@code k} (new-neuron candidates per layer: {@code width} = as many as the layer has neurons (default; the spec's
 * reproduction plans use K = width) or a number {@code >= 0}; the official code hard-codes 70), {@code splits}
 * (true), {@code steps} (50 candidate optimisation steps), {@code batch} (128), {@code lr} (1e-3), {@code penalty}
 * (1e-2), {@code split-init} (0.1: displacements uniform in +-0.1), {@code new-init} (0.1: standard deviation of new
 * incoming weights), {@code out-init} (0.01: outgoing weights uniform in +-0.01), {@code as-official} (false),
 * {@code loss-before} (false: the diagnostic loss before optimising, see {@link #withLossBefore}); firefly-deep only:
 * {@code depth-width} ({@code width}: inner width of residual blocks, see {@link #withDepthWidth}). firefly-deep logs
 * one line per growth on its depth candidates ({@link #depthReport}, java.util.logging INFO).
 *
 * <h2>Data</h2>
 * The candidates are trained on the context's training set (as the official code, which trains them for one epoch
 * of it); their scores, and so the selection, come from the context's sample, a validation split held out of the
 * training set (never the test set; the official code scores on the training set too). Scoring on held-out data
 * keeps a candidate that merely fits its optimisation batches from looking good. {@code as-official} keeps this
 * split of the data on purpose: selecting on held-out data is a rule of this project, not a bug to reproduce.
 *
 * <h2>Cost</h2>
 * FLOPs: each optimisation step and each scored example as three over-grown forward passes
 * ({@link FireflyCandidates#forwardFlopsPerExample}); no second derivatives and no eigen-solves. Memory: the
 * candidates ({@code C D + K (D + block (R + K'))} numbers per layer) and one batch's over-grown activations.
 */
public final class Firefly implements GrowthMethod {
    public static final String NAME = "firefly", DEEP_NAME = "firefly-deep";
    public static final int DEFAULT_STEPS = 50, DEFAULT_BATCH = 128;
    public static final double DEFAULT_LR = 1e-3, DEFAULT_PENALTY = 1e-2;
    /** The official initial scales of the candidates. */
    public static final FireflyCandidates.Init OFFICIAL_INIT = new FireflyCandidates.Init(0.1, 0.1, 0.01);

    private final int k;              // new candidates per site; -1: the site's width
    private final boolean splits, asOfficial, deep;
    private final int steps, batch;
    private final double lr, penalty;
    private final FireflyCandidates.Init init;
    private final boolean lossBefore; // measure the over-grown loss before optimising (a diagnostic pass)
    private int depthWidth = -1;      // inner width of residual candidates; -1: the layer's width

    /**
     * @param k          new-neuron candidates per layer ({@code -1}: as many as the layer has neurons)
     * @param splits     whether existing neurons are split candidates
     * @param asOfficial keep the official code's bugs (see the class comment)
     */
    public Firefly(int k, boolean splits, int steps, int batch, double lr, double penalty, FireflyCandidates.Init init,
                   boolean asOfficial) {
        this(k, splits, steps, batch, lr, penalty, init, asOfficial, false);
    }

    /**
     * @param deep also a new-layer candidate after every dense ReLU layer (firefly-deep; no official code exists,
     *             so {@code asOfficial} must be false)
     */
    public Firefly(int k, boolean splits, int steps, int batch, double lr, double penalty, FireflyCandidates.Init init,
                   boolean asOfficial, boolean deep) {
        if (deep && asOfficial) {
            throw new IllegalArgumentException(DEEP_NAME + ": as-official does not apply (the official code has no depth growth)");
        }
        if (k < -1) {
            throw new IllegalArgumentException(NAME + ": k must be 'width' or >= 0, got " + k);
        }
        if (!splits && k == 0 && !deep) {
            throw new IllegalArgumentException(NAME + ": no candidates (splits=false and k=0)");
        }
        if (steps < 0 || batch < 1) {
            throw new IllegalArgumentException(NAME + ": steps must be >= 0 and batch >= 1, got " + steps + ", " + batch);
        }
        if (!(lr > 0) || !Double.isFinite(lr) || !(penalty >= 0) || !Double.isFinite(penalty)) {
            throw new IllegalArgumentException(NAME + ": lr must be > 0 and penalty >= 0 (finite), got " + lr + ", " + penalty);
        }
        this.k = k;
        this.splits = splits;
        this.steps = steps;
        this.batch = batch;
        this.lr = lr;
        this.penalty = penalty;
        this.init = init;
        this.asOfficial = asOfficial;
        this.deep = deep;
        this.lossBefore = false;
    }

    private Firefly(Firefly f, boolean lossBefore) {
        this.k = f.k;
        this.splits = f.splits;
        this.steps = f.steps;
        this.batch = f.batch;
        this.lr = f.lr;
        this.penalty = f.penalty;
        this.init = f.init;
        this.asOfficial = f.asOfficial;
        this.deep = f.deep;
        this.lossBefore = lossBefore;
        this.depthWidth = f.depthWidth;
    }

    /**
     * This method with residual depth candidates (after dense layers whose activation is not ReLU) of inner width
     * {@code width} ({@code -1}: the layer's width, the default; option {@code depth-width}). A residual block costs
     * its inner width in neurons, so a narrower block fits a smaller growth budget.
     */
    public Firefly withDepthWidth(int width) {
        if (width == 0 || width < -1) {
            throw new IllegalArgumentException(DEEP_NAME + ": depth-width must be 'width' or an integer >= 1, got " + width);
        }
        Firefly f = new Firefly(this, lossBefore);
        f.depthWidth = width;
        return f;
    }

    public int depthWidth() {
        return depthWidth;
    }

    /**
     * This method, measuring (or not) the over-grown network's loss on the sample before the candidates are optimised
     * ({@link FireflyCandidates.Optimisation#lossBefore}; NaN when not measured). It is a diagnostic, not part of the
     * algorithm (the official code has none) and costs one forward pass of the over-grown network over the sample; off
     * by default (option {@code loss-before}). The loss after is always reported: the scoring pass gives it.
     */
    public Firefly withLossBefore(boolean measure) {
        return new Firefly(this, measure);
    }

    /** The defaults: K = width, splits, 50 steps of batch 128, lr 1e-3, penalty 1e-2, official initial scales, bugs fixed. */
    public Firefly() {
        this(-1, true, DEFAULT_STEPS, DEFAULT_BATCH, DEFAULT_LR, DEFAULT_PENALTY, OFFICIAL_INIT, false);
    }

    Firefly(Methods.Options o) {
        this(o, false);
    }

    Firefly(Methods.Options o, boolean deep) {
        this(parseK(o.text("k", "width")), o.flag("splits", true), o.integer("steps", DEFAULT_STEPS),
                o.integer("batch", DEFAULT_BATCH), o.number("lr", DEFAULT_LR), o.number("penalty", DEFAULT_PENALTY),
                new FireflyCandidates.Init(o.number("split-init", OFFICIAL_INIT.split()),
                        o.number("new-init", OFFICIAL_INIT.newIn()), o.number("out-init", OFFICIAL_INIT.out())),
                o.flag("as-official", false), deep, o.flag("loss-before", false));
        if (deep) {
            String w = o.text("depth-width", "width").trim();
            try {
                depthWidth = w.equalsIgnoreCase("width") ? -1 : Integer.parseInt(w);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(DEEP_NAME + ": option depth-width must be 'width' or an integer >= 1, got '" + w + "'");
            }
            if (depthWidth == 0 || depthWidth < -1) {
                throw new IllegalArgumentException(DEEP_NAME + ": option depth-width must be 'width' or an integer >= 1, got '" + w + "'");
            }
        }
    }

    private Firefly(int k, boolean splits, int steps, int batch, double lr, double penalty, FireflyCandidates.Init init,
                    boolean asOfficial, boolean deep, boolean lossBefore) {
        this(new Firefly(k, splits, steps, batch, lr, penalty, init, asOfficial, deep), lossBefore);
    }

    private static int parseK(String s) {
        String t = s.trim().toLowerCase(Locale.ROOT);
        if (t.equals("width")) {
            return -1;
        }
        try {
            int v = Integer.parseInt(t);
            if (v < 0) {
                throw new IllegalArgumentException(NAME + ": option k must be 'width' or an integer >= 0, got '" + s + "'");
            }
            return v;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(NAME + ": option k must be 'width' or an integer >= 0, got '" + s + "'");
        }
    }

    @Override
    public String name() {
        return deep ? DEEP_NAME : NAME;
    }

    public boolean deep() {
        return deep;
    }

    public boolean asOfficial() {
        return asOfficial;
    }

    /** New-neuron candidates per site, in site order. */
    int[] newPerSite(List<Site> sites) {
        int[] out = new int[sites.size()];
        for (int s = 0; s < out.length; s++) {
            out[s] = k < 0 ? sites.get(s).neurons() : k;
        }
        return out;
    }

    @Override
    public void check(Sequential net) {
        FireflyCandidates.check(net);
        if (deep && Site.find(net).stream().noneMatch(FireflyCandidates::depthEligible)) {
            throw new IllegalArgumentException(DEEP_NAME + ": no layer can take a new layer after it; depth candidates follow"
                    + " dense or conv layers with relu (identity-initialised relu layers) or dense layers with another"
                    + " non-identity activation (zero-residual blocks)");
        }
    }

    /** What the method measured: the trained candidates, how their optimisation went, and their scores. */
    public record Analysis(FireflyCandidates candidates, FireflyCandidates.Optimisation optimisation,
                           FireflyCandidates.Scores scores) {
    }

    /**
     * Over-grows, optimises and scores (costs in the context's meter). As official, first re-draws the bias of
     * every consumer that is not a growable layer (see the class comment).
     */
    public Analysis analyse(GrowthContext ctx) {
        Sequential net = ctx.net();
        check(net);
        List<Site> sites = ctx.sites();
        int[] perSite = newPerSite(sites);
        if (asOfficial) {
            rerandomiseClassifierBias(sites, perSite, ctx.rng());
        }
        FireflyCandidates c = FireflyCandidates.create(net, perSite, splits, deep, depthWidth, init, ctx.rng());
        double fwd = c.forwardFlopsPerExample(ctx.exampleShape());
        long seed = ctx.rng().nextLong();
        // the loss after optimising is the scoring pass's (same data, same gates): no separate pass for it
        FireflyCandidates.Optimisation o = ctx.cost().time("optimise",
                () -> c.optimise(ctx.train(), ctx.sample(), steps, batch, lr, penalty, seed, lossBefore, false));
        ctx.cost().addFlops(3 * fwd * Math.min(batch, ctx.train().size()) * (double) o.steps()
                + (o.steps() > 0 && lossBefore ? fwd * ctx.sample().size() : 0)); // steps, and the loss before
        ctx.cost().sampleMemory();
        FireflyCandidates.Scores s = ctx.cost().time("statistics", () -> c.score(ctx.batches(), ctx.sample()));
        ctx.cost().addFlops(3 * fwd * ctx.sample().size());
        if (o.steps() > 0) {
            o = new FireflyCandidates.Optimisation(o.lossBefore(), s.loss(), o.steps());
        }
        return new Analysis(c, o, s);
    }

    @Override
    public Plan propose(GrowthContext ctx) {
        int budget = ctx.budget(); // counted on the network before over-growing, as the official n_elites
        Analysis a = analyse(ctx);
        if (deep) {
            LOG.info(() -> depthReport(a, budget));
        }
        return plan(a, budget);
    }

    private static final java.util.logging.Logger LOG = java.util.logging.Logger.getLogger(Firefly.class.getName());

    /**
     * One line on the depth candidates of an analysis: per site, the new layer's score, its cost and score per neuron,
     * the best width candidate's score there, and whether the selection took it (a diagnostic for depth vs width).
     */
    public String depthReport(Analysis a, int budget) {
        List<Selection.Candidate> chosen = select(a, budget);
        StringBuilder sb = new StringBuilder(DEEP_NAME + ": budget " + budget + " neurons; depth candidates:");
        for (FireflyCandidates.SiteCandidates s : a.candidates().sites()) {
            double[] dp = a.scores().depth().getOrDefault(s.name(), new double[0]);
            if (dp.length != 1) {
                continue;
            }
            double best = Double.POSITIVE_INFINITY;
            for (double v : a.scores().split().get(s.name())) {
                best = Math.min(best, v);
            }
            for (double v : a.scores().add().get(s.name())) {
                best = Math.min(best, v);
            }
            int id = s.neurons() + s.newCount();
            boolean taken = chosen.stream().anyMatch(c -> c.site().equals(s.name()) && c.neuron() == id);
            sb.append(String.format(Locale.ROOT, " [site %s %s: score %.4g, cost %d, per neuron %.3g; best width score %.3g;"
                    + " %s]", s.name(), s.depthKind().name().toLowerCase(Locale.ROOT), dp[0], s.depthNeurons(),
                    dp[0] / s.depthNeurons(), best, taken ? "selected" : "not selected"));
        }
        return sb.toString();
    }

    /**
     * Every candidate with its score and its cost in neurons: split {@code i} of a site as neuron {@code i}, new
     * neuron {@code j} as {@code C + j} (cost 1 each), a new layer after the site as {@code C + K} (cost {@code C}).
     */
    public static List<Selection.Candidate> candidates(Analysis a) {
        List<Selection.Candidate> all = new ArrayList<>();
        for (FireflyCandidates.SiteCandidates s : a.candidates().sites()) {
            double[] sp = a.scores().split().get(s.name()), nw = a.scores().add().get(s.name());
            for (int i = 0; i < sp.length; i++) {
                all.add(new Selection.Candidate(s.name(), i, sp[i], 1));
            }
            for (int j = 0; j < nw.length; j++) {
                all.add(new Selection.Candidate(s.name(), s.neurons() + j, nw[j], 1));
            }
            double[] dp = a.scores().depth().getOrDefault(s.name(), new double[0]);
            if (dp.length == 1) {
                all.add(new Selection.Candidate(s.name(), s.neurons() + s.newCount(), dp[0], s.depthNeurons()));
            }
        }
        return all;
    }

    /**
     * The selected candidates: fixed, the top-k of the negative scores; as official, the threshold rule; deep, the
     * negative scores by decrease per neuron while their neurons fit the budget ({@link Selection#knapsack}: a new
     * layer costs as many neurons as it has), so width and depth compete in one selection.
     */
    public List<Selection.Candidate> select(Analysis a, int budget) {
        List<Selection.Candidate> all = candidates(a);
        if (deep) {
            return Selection.knapsack(all, budget);
        }
        return asOfficial ? Selection.officialThreshold(all, budget) : Selection.topK(all, budget);
    }

    /** The plan for an analysis and a budget. */
    public Plan plan(Analysis a, int budget) {
        Map<String, TreeSet<Integer>> chosenSplit = new LinkedHashMap<>(), chosenNew = new LinkedHashMap<>();
        List<String> chosenLayer = new ArrayList<>();
        Map<String, Double> score = new LinkedHashMap<>();
        for (FireflyCandidates.SiteCandidates s : a.candidates().sites()) {
            chosenSplit.put(s.name(), new TreeSet<>());
            chosenNew.put(s.name(), new TreeSet<>());
        }
        for (Selection.Candidate c : select(a, budget)) {
            FireflyCandidates.SiteCandidates s = a.candidates().site(c.site());
            if (c.neuron() < s.neurons()) {
                chosenSplit.get(c.site()).add(c.neuron());
            } else if (c.neuron() < s.neurons() + s.newCount()) {
                chosenNew.get(c.site()).add(c.neuron() - s.neurons());
            } else {
                chosenLayer.add(c.site());
            }
            score.put(c.site() + "/" + c.neuron(), c.score());
        }
        List<Plan.Split> splitList = new ArrayList<>();
        List<Plan.NewNeuron> addList = new ArrayList<>();
        List<Plan.NewLayer> layerList = new ArrayList<>();
        for (FireflyCandidates.SiteCandidates s : a.candidates().sites()) {
            for (int i : chosenSplit.get(s.name())) {
                double[] v = row(s.split(), i);
                splitList.add(Plan.Split.positive(s.name(), i, v, 1.0, score.get(s.name() + "/" + i) / 2));
            }
            FireflyCandidates.SiteCandidates consumer = s.consumer();
            List<Integer> consumerNew = consumer == null ? List.of() : new ArrayList<>(chosenNew.get(consumer.name()));
            boolean dropOutgoing = asOfficial && consumer == null; // the official code never writes the classifier's back
            int b = s.block(), rows = s.consumerRows();
            double[] outOld = s.newCount() > 0 ? s.outOld().toDoubleArray() : null;
            double[] outNew = s.outNew() == null ? null : s.outNew().toDoubleArray();
            int width = s.newCount() * b; // columns of outOld / outNew
            for (int j : chosenNew.get(s.name())) {
                double[] out = new double[(rows + consumerNew.size()) * b];
                if (!dropOutgoing) {
                    for (int r = 0; r < rows; r++) {
                        System.arraycopy(outOld, r * width + j * b, out, r * b, b);
                    }
                }
                for (int q = 0; q < consumerNew.size(); q++) {
                    System.arraycopy(outNew, consumerNew.get(q) * width + j * b, out, (rows + q) * b, b);
                }
                addList.add(new Plan.NewNeuron(s.name(), row(s.newIn(), j), 0.0, out,
                        score.get(s.name() + "/" + (s.neurons() + j))));
            }
            if (chosenLayer.contains(s.name())) { // a new layer: predicted change = score (about linear in its gate)
                double predicted = score.get(s.name() + "/" + (s.neurons() + s.newCount()));
                // the trained candidate is what was scored, so it is inserted as trained (as splits and new neurons are)
                layerList.add(s.depthOutWeight() == null
                        ? new Plan.NewLayer(s.name(), s.depthWeight().toDoubleArray(), s.depthBias().toDoubleArray(), predicted)
                        : new Plan.NewLayer(s.name(), s.depthWeight().toDoubleArray(), s.depthBias().toDoubleArray(),
                                s.depthOutWeight().toDoubleArray(), s.depthOutBias().toDoubleArray(), predicted));
            }
        }
        return new Plan(splitList, addList, layerList);
    }

    private static double[] row(Tensor t, int i) {
        int d = t.dim(1);
        double[] all = t.toDoubleArray();
        double[] r = new double[d];
        System.arraycopy(all, i * d, r, 0, d);
        return r;
    }

    /**
     * The official bug: each consumer that is not a growable layer (the classifier) gets a fresh bias, uniform in
     * {@code +-1/sqrt(fan-in)} of the layer enlarged by the K candidates of the site feeding it.
     */
    private static void rerandomiseClassifierBias(List<Site> sites, int[] perSite, Rng rng) {
        for (int s = 0; s < sites.size(); s++) {
            Site site = sites.get(s);
            Module c = site.consumer();
            boolean isSite = false;
            for (Site t : sites) {
                isSite |= t.layer() == c;
            }
            if (isSite || !c.namedParameters().containsKey("bias")) {
                continue;
            }
            double fan;
            if (c instanceof Conv2d conv) {
                fan = (double) (conv.in() + perSite[s]) * conv.kernel() * conv.kernel();
            } else {
                fan = ((Linear) c).in() + (double) perSite[s] * Surgery.block(site);
            }
            double bound = 1 / Math.sqrt(fan);
            Tensor old = c.parameter("bias");
            c.replaceParameter("bias", Tensor.rand(rng, old.dtype(), -bound, bound, old.dim(0)));
        }
    }

    @Override
    public String toString() {
        return name() + "(k=" + (k < 0 ? "width" : Integer.toString(k)) + ", splits=" + splits + ", steps=" + steps + ", batch="
                + batch + ", lr=" + lr + ", penalty=" + penalty + ", init=" + init + ", as-official=" + asOfficial + (lossBefore ? ", loss-before=true" : "")
                + (deep && depthWidth > 0 ? ", depth-width=" + depthWidth : "") + ")";
    }
}
