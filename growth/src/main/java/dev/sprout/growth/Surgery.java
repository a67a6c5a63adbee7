package dev.sprout.growth;

import dev.sprout.autograd.Autograd;
import dev.sprout.nn.Act;
import dev.sprout.nn.BatchNorm;
import dev.sprout.nn.Conv2d;
import dev.sprout.nn.Linear;
import dev.sprout.nn.Module;
import dev.sprout.nn.Residual;
import dev.sprout.nn.Sequential;
import dev.sprout.optim.Optimizer;
import dev.sprout.tensor.DType;
import dev.sprout.tensor.Tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Applies a {@link Plan} to a sequential network: the grown layer gets new rows (split offspring in the parent's
 * place and appended; new neurons appended), its batch norm gets the offspring's copied statistics (new neurons:
 * gamma 1, beta 0, mean 0, variance 1), and its consumer gets new input columns (a split neuron's columns times
 * {@code w1} in place and times {@code w2} appended; a new neuron's outgoing weights). Optimizer state is
 * remapped the same way (offspring copy their parent's state; new neurons start from zero state).
 *
 * <p>The whole plan is validated before anything changes: a plan naming a layer that is not growable, a neuron out
 * of range, a neuron split twice, directions of the wrong length or non-finite numbers is refused with a message
 * that names the problem, and the network and optimizer are left exactly as they were.
 *
 * <p>Row changes are applied before column changes, so when a layer is both grown and the consumer of a grown
 * layer, its split rows' displacements are themselves split across the duplicated input columns (as the official
 * S2D code does), and the function is preserved at {@code eps = 0} in every case (batch norm in eval mode).
 * A new neuron whose consumer also gains new neurons in the plan may connect to them too (see
 * {@link Plan.NewNeuron}); otherwise those connections start at zero.
 *
 * <p>New layers ({@link Plan.NewLayer}) are inserted last (named {@code grown}, {@code grown1}, ...), sized to the
 * site's width after the plan; existing layers keep their names. After a dense or convolutional site with ReLU: a
 * linear layer (or a 3x3 convolution, padding 1) and a copy of the activation, right after the site's activation;
 * after a dense site with another activation: a {@link Residual} block, also right after the site's activation (before
 * any residual blocks already there: the candidate was trained and scored on the activation's output). Residual blocks
 * between a site and its consumer are widened with the site: a split neuron's {@code W1} column is shared by its
 * offspring (times {@code w1}, {@code w2}) and its {@code W2} row and {@code b2} entry copied; a new neuron gets
 * zeros (it passes through the block unchanged). The ReLUs of the sites in {@link Plan#unitSlopeRelu} are replaced by
 * {@link Act#relu1()} (same name, same function). The return value counts the neurons added: one per split and new
 * neuron, each new ReLU layer's width, each residual block's inner width.
 */
public final class Surgery {
    private Surgery() {
    }

    /** What happened to one layer's rows and input columns. */
    private static final class Work {
        final Module layer;
        double[][] rows;            // current rows (row-major weight: rows x fan-in)
        double[] bias;              // may be null
        final List<Integer> rowOrigin = new ArrayList<>();  // per current row: the old row it came from, or -1
        int[] colOrigin;            // per current input block: the old block it came from, or -1 (set by column ops)
        boolean rowsChanged, colsChanged;

        Work(Module layer) {
            this.layer = layer;
            Tensor w = layer.parameter("weight");
            int n = w.dim(0), fan = w.numel() / n;
            double[] flat = w.toDoubleArray();
            rows = new double[n][];
            for (int r = 0; r < n; r++) {
                rows[r] = Arrays.copyOfRange(flat, r * fan, (r + 1) * fan);
                rowOrigin.add(r);
            }
            boolean hasBias = layer.namedParameters().containsKey("bias");
            bias = hasBias ? layer.parameter("bias").toDoubleArray() : null;
        }
    }

    /**
     * Applies the plan; {@code optimizer} may be null (new layers start with fresh state). Returns the number of
     * neurons added. A plan with trained state ({@link Plan#trained}) is first tried on a copy of the network, so a
     * state that does not fit the grown network is refused before anything changes; then the state is loaded after
     * the structural changes (optimizer state stays as remapped).
     */
    public static int apply(Sequential net, Plan plan, Optimizer optimizer) {
        if (!plan.trained().isEmpty()) {
            Sequential trial = Networks.copy(net);
            applyStructure(trial, plan, null);
            Networks.load(trial, plan.trained());
            int added = applyStructure(net, plan, optimizer);
            Networks.load(net, plan.trained());
            return added;
        }
        return applyStructure(net, plan, optimizer);
    }

    private static int applyStructure(Sequential net, Plan plan, Optimizer optimizer) {
        Map<String, Site> sites = new LinkedHashMap<>();
        for (Site s : Site.find(net)) {
            sites.put(s.name(), s);
        }
        validate(plan, sites);
        Map<Module, Work> work = new LinkedHashMap<>();
        Map<String, List<Integer>> bnOrigin = new HashMap<>();
        Map<Module, Map<String, Tensor>> newParams = new LinkedHashMap<>();
        Map<Residual, int[]> residualOrigin = new LinkedHashMap<>();

        // 1. rows of the grown layers (and batch-norm channel origins)
        for (String name : plan.sites()) {
            Site s = sites.get(name);
            Work w = work.computeIfAbsent(s.layer(), Work::new);
            List<double[]> appended = new ArrayList<>();
            List<Double> appendedBias = new ArrayList<>();
            List<Integer> origin = new ArrayList<>();
            for (int r = 0; r < s.neurons(); r++) {
                origin.add(r);
            }
            for (Plan.Split sp : plan.splits()) {
                if (!sp.site().equals(name)) {
                    continue;
                }
                double[] theta = w.rows[sp.neuron()];
                double[] a = theta.clone(), b = theta.clone();
                for (int j = 0; j < theta.length; j++) {
                    a[j] += sp.eps() * sp.delta1()[j];
                    b[j] += sp.eps() * sp.delta2()[j];
                }
                w.rows[sp.neuron()] = a;
                appended.add(b);
                appendedBias.add(w.bias == null ? 0.0 : w.bias[sp.neuron()]);
                origin.add(sp.neuron());
                w.rowOrigin.add(sp.neuron());
            }
            for (Plan.NewNeuron nn : plan.additions()) {
                if (!nn.site().equals(name)) {
                    continue;
                }
                appended.add(nn.incoming().clone());
                appendedBias.add(nn.bias());
                origin.add(-1);
                w.rowOrigin.add(-1);
            }
            double[][] rows = Arrays.copyOf(w.rows, w.rows.length + appended.size());
            for (int i = 0; i < appended.size(); i++) {
                rows[w.rows.length + i] = appended.get(i);
            }
            w.rows = rows;
            if (w.bias != null) {
                double[] nb = Arrays.copyOf(w.bias, w.bias.length + appendedBias.size());
                for (int i = 0; i < appendedBias.size(); i++) {
                    nb[w.bias.length + i] = appendedBias.get(i);
                }
                w.bias = nb;
            }
            w.rowsChanged = true;
            bnOrigin.put(name, origin);
        }

        // 2. input columns of the consumers
        for (String name : plan.sites()) {
            Site s = sites.get(name);
            Work c = work.computeIfAbsent(s.consumer(), Work::new);
            int block = block(s);
            int oldNeurons = s.neurons();
            List<Integer> origin = bnOrigin.get(name);
            double[] scale = new double[origin.size()];
            Arrays.fill(scale, 1.0);
            Map<Integer, double[]> outgoing = new HashMap<>();
            int k = oldNeurons;
            for (Plan.Split sp : plan.splits()) {
                if (sp.site().equals(name)) {
                    scale[sp.neuron()] = sp.w1();
                    scale[k++] = sp.w2();
                }
            }
            for (Plan.NewNeuron nn : plan.additions()) {
                if (nn.site().equals(name)) {
                    outgoing.put(k++, nn.outgoing());
                }
            }
            for (Residual r : s.residuals()) { // widened with the site (see the class comment)
                newParams.put(r, widenResidual(r, origin, scale));
                residualOrigin.put(r, origin.stream().mapToInt(Integer::intValue).toArray());
            }
            int consumerRows = s.consumer().parameter("weight").dim(0); // before this plan (replaced only in step 4)
            int newOrdinal = 0;
            for (int r = 0; r < c.rows.length; r++) {
                double[] row = c.rows[r];
                double[] nr = new double[origin.size() * block];
                int src = c.rowOrigin.get(r); // the consumer row this row descends from (-1: a new neuron of the consumer)
                // a new neuron of the consumer reads outgoing entries past the consumer's existing rows, if given
                int at = src >= 0 ? src : consumerRows + newOrdinal++;
                for (int j = 0; j < origin.size(); j++) {
                    int o = origin.get(j);
                    for (int t = 0; t < block; t++) {
                        double v;
                        if (o >= 0) {
                            v = scale[j] * row[o * block + t];
                        } else {
                            double[] out = outgoing.get(j);
                            v = (at + 1) * block <= out.length ? out[at * block + t] : 0.0;
                        }
                        nr[j * block + t] = v;
                    }
                }
                c.rows[r] = nr;
            }
            int[] colOrigin = new int[origin.size()];
            for (int j = 0; j < colOrigin.length; j++) {
                colOrigin[j] = origin.get(j);
            }
            c.colOrigin = colOrigin;
            c.colsChanged = true;
        }

        // 3. build every new tensor before replacing anything
        Map<Module, Map<String, Tensor>> newBuffers = new LinkedHashMap<>();
        for (Work w : work.values()) {
            Tensor old = w.layer.parameter("weight");
            int[] dims = old.shape().toArray();
            dims[0] = w.rows.length;
            int fan = w.rows[0].length;
            if (w.layer instanceof Conv2d) {
                dims[1] = fan / (dims[2] * dims[3]);
            } else {
                dims[1] = fan;
            }
            double[] flat = new double[w.rows.length * fan];
            for (int r = 0; r < w.rows.length; r++) {
                System.arraycopy(w.rows[r], 0, flat, r * fan, fan);
            }
            Map<String, Tensor> p = new LinkedHashMap<>();
            p.put("weight", Tensor.of(flat, dims).to(old.dtype()));
            if (w.bias != null && w.rowsChanged) {
                p.put("bias", Tensor.of(w.bias).to(old.dtype()));
            }
            newParams.put(w.layer, p);
        }
        for (String name : plan.sites()) {
            Site s = sites.get(name);
            BatchNorm bn = s.batchNorm();
            if (bn == null) {
                continue;
            }
            List<Integer> origin = bnOrigin.get(name);
            Map<String, Tensor> p = new LinkedHashMap<>(), b = new LinkedHashMap<>();
            p.put("weight", gatherChannels(bn.parameter("weight"), origin, 1.0));
            p.put("bias", gatherChannels(bn.parameter("bias"), origin, 0.0));
            b.put("running_mean", gatherChannels(bn.buffer("running_mean"), origin, 0.0));
            b.put("running_var", gatherChannels(bn.buffer("running_var"), origin, 1.0));
            newParams.put(bn, p);
            newBuffers.put(bn, b);
        }

        // new layers, built over the grown channels before anything is replaced
        List<Object[]> inserts = new ArrayList<>(); // {insertion index, modules...}
        int layerNeurons = 0;
        for (Plan.NewLayer nl : plan.layers()) {
            Site s = sites.get(nl.site());
            List<Integer> origin = bnOrigin.get(nl.site());
            if (origin == null) {
                origin = new ArrayList<>();
                for (int r = 0; r < s.neurons(); r++) {
                    origin.add(r);
                }
            }
            double[] weightOf = new double[origin.size()];
            Arrays.fill(weightOf, 1.0);
            int k = s.neurons();
            for (Plan.Split sp : plan.splits()) {
                if (sp.site().equals(nl.site())) {
                    weightOf[sp.neuron()] = sp.w1();
                    weightOf[k++] = sp.w2();
                }
            }
            switch (depthKind(s)) {
                case RELU_LAYER -> {
                    inserts.add(new Object[] {s.activationIndex() + 1, newLayer(s, nl, origin, weightOf), copyOf(s.activation())});
                    layerNeurons += origin.size();
                }
                case CONV -> {
                    inserts.add(new Object[] {s.activationIndex() + 1, newConv(s, nl, origin, weightOf), copyOf(s.activation())});
                    layerNeurons += origin.size();
                }
                case RESIDUAL -> {
                    inserts.add(new Object[] {s.activationIndex() + 1, newResidual(s, nl, origin, weightOf)});
                    layerNeurons += nl.bias().length;
                }
            }
        }

        // 4. replace (each module all-or-nothing) and remap optimizer state; insert new layers (last position first)
        for (Map.Entry<Module, Map<String, Tensor>> e : newParams.entrySet()) {
            e.getKey().replace(e.getValue(), newBuffers.getOrDefault(e.getKey(), Map.of()));
        }
        if (optimizer != null) {
            remap(net, optimizer, work, sites, plan, bnOrigin, residualOrigin);
        }
        // 5. ReLUs that become relu1 (same function, derivative 1 at 0), before any insertion moves the indices
        for (String name : plan.unitSlopeRelu()) {
            Site s = sites.get(name);
            if (!s.activation().unitSlopeAtZero()) {
                net.replace(s.activationIndex(), Act.relu1());
            }
        }
        inserts.sort((a, b) -> Integer.compare((Integer) b[0], (Integer) a[0]));
        for (Object[] in : inserts) {
            int at = (Integer) in[0];
            for (int j = 1; j < in.length; j++) {
                net.insert(at + j - 1, net.freshName("grown"), (Module) in[j]);
            }
        }
        return plan.splits().size() + plan.additions().size() + layerNeurons;
    }

    /**
     * The linear layer of a {@link Plan.NewLayer} over the site's channels after this plan: channel {@code p} came
     * from old neuron {@code origin[p]} (-1: a new neuron) with offspring weight {@code weightOf[p]}.
     */
    private static Linear newLayer(Site s, Plan.NewLayer nl, List<Integer> origin, double[] weightOf) {
        int c = s.neurons(), n = origin.size();
        double[] w = new double[n * n], b = new double[n];
        for (int p = 0; p < n; p++) {
            int op = origin.get(p);
            if (op < 0) {
                w[p * n + p] = 1; // a new neuron passes through (relu of a relu output is itself)
                continue;
            }
            b[p] = nl.bias()[op];
            for (int q = 0; q < n; q++) {
                int oq = origin.get(q);
                if (oq >= 0) {
                    w[p * n + q] = nl.weight()[op * c + oq] * weightOf[q];
                }
            }
        }
        Tensor like = s.layer().parameter("weight");
        Linear l = new Linear(n, n, true, new dev.sprout.tensor.Rng(0), like.dtype());
        l.replace(Map.of("weight", Tensor.of(w, n, n).to(like.dtype()), "bias", Tensor.of(b).to(like.dtype())), Map.of());
        return l;
    }

    /** The 3x3 convolution of a {@link Plan.NewLayer} after a conv site, over the site's channels after this plan. */
    private static Conv2d newConv(Site s, Plan.NewLayer nl, List<Integer> origin, double[] weightOf) {
        int c = s.neurons(), n = origin.size();
        double[] w = new double[n * n * 9], b = new double[n];
        for (int p = 0; p < n; p++) {
            int op = origin.get(p);
            if (op < 0) {
                w[(p * n + p) * 9 + 4] = 1; // a new channel passes through: centre tap
                continue;
            }
            b[p] = nl.bias()[op];
            for (int q = 0; q < n; q++) {
                int oq = origin.get(q);
                if (oq >= 0) {
                    for (int t = 0; t < 9; t++) {
                        w[(p * n + q) * 9 + t] = nl.weight()[(op * c + oq) * 9 + t] * weightOf[q];
                    }
                }
            }
        }
        Tensor like = s.layer().parameter("weight");
        Conv2d conv = new Conv2d(n, n, 3, 1, 1, true, new dev.sprout.tensor.Rng(0), like.dtype());
        conv.replace(Map.of("weight", Tensor.of(w, n, n, 3, 3).to(like.dtype()), "bias", Tensor.of(b).to(like.dtype())), Map.of());
        return conv;
    }

    /** The residual block of a {@link Plan.NewLayer} after a dense site, over the site's neurons after this plan. */
    private static Residual newResidual(Site s, Plan.NewLayer nl, List<Integer> origin, double[] weightOf) {
        int c = s.neurons(), m = nl.bias().length;
        DType dt = s.layer().parameter("weight").dtype();
        Residual r = new Residual(c, m, s.activation().function(), s.activation().beta(), new dev.sprout.tensor.Rng(0), dt);
        r.replace(Map.of("in_weight", Tensor.of(nl.weight(), m, c).to(dt), "in_bias", Tensor.of(nl.bias()).to(dt),
                "out_weight", Tensor.of(nl.outWeight(), c, m).to(dt), "out_bias", Tensor.of(nl.outBias()).to(dt)), Map.of());
        double[] scale = weightOf.clone();
        return origin.size() == c && isIdentity(origin) ? r : withNewParams(r, widenResidual(r, origin, scale));
    }

    private static boolean isIdentity(List<Integer> origin) {
        for (int i = 0; i < origin.size(); i++) {
            if (origin.get(i) != i) {
                return false;
            }
        }
        return true;
    }

    private static Residual withNewParams(Residual r, Map<String, Tensor> p) {
        Residual grown = new Residual(p.get("in_weight").dim(1), p.get("in_weight").dim(0), r.function(), r.beta(),
                new dev.sprout.tensor.Rng(0), p.get("in_weight").dtype());
        grown.replace(p, Map.of());
        return grown;
    }

    /**
     * A residual block's parameters over the site's channels after a plan: channel {@code p} came from old channel
     * {@code origin[p]} (-1: a new neuron) with offspring weight {@code scale[p]}: {@code W1} columns scaled, {@code W2}
     * rows and {@code b2} entries copied, zeros for new neurons.
     */
    private static Map<String, Tensor> widenResidual(Residual r, List<Integer> origin, double[] scale) {
        int c = r.features(), m = r.hidden(), n = origin.size();
        double[] w1 = r.parameter("in_weight").toDoubleArray(), w2 = r.parameter("out_weight").toDoubleArray();
        double[] b2 = r.parameter("out_bias").toDoubleArray();
        double[] nw1 = new double[m * n], nw2 = new double[n * m], nb2 = new double[n];
        for (int p = 0; p < n; p++) {
            int o = origin.get(p);
            if (o < 0) {
                continue;
            }
            for (int h = 0; h < m; h++) {
                nw1[h * n + p] = w1[h * c + o] * scale[p];
                nw2[p * m + h] = w2[o * m + h];
            }
            nb2[p] = b2[o];
        }
        DType dt = r.parameter("in_weight").dtype();
        Map<String, Tensor> out = new LinkedHashMap<>();
        out.put("in_weight", Tensor.of(nw1, m, n).to(dt));
        out.put("in_bias", r.parameter("in_bias"));
        out.put("out_weight", Tensor.of(nw2, n, m).to(dt));
        out.put("out_bias", Tensor.of(nb2).to(dt));
        return out;
    }

    private static Act copyOf(Act a) {
        return a.copy();
    }

    private static Tensor gatherChannels(Tensor t, List<Integer> origin, double fresh) {
        double[] v = t.toDoubleArray();
        double[] out = new double[origin.size()];
        for (int j = 0; j < out.length; j++) {
            out[j] = origin.get(j) >= 0 ? v[origin.get(j)] : fresh;
        }
        return Tensor.of(out).to(t.dtype());
    }

    /** Columns of one neuron per consumer row: k*k for a conv consumer, H*W (or 1) for a linear one. */
    static int block(Site s) {
        if (s.consumer() instanceof Conv2d c) {
            return c.kernel() * c.kernel();
        }
        return s.columnsPerNeuron();
    }

    private static void remap(Sequential net, Optimizer opt, Map<Module, Work> work, Map<String, Site> sites, Plan plan,
                              Map<String, List<Integer>> bnOrigin, Map<Residual, int[]> residualOrigin) {
        Map<Module, String> names = new HashMap<>();
        for (Map.Entry<String, Module> e : net.children().entrySet()) {
            names.put(e.getValue(), e.getKey());
        }
        try (Autograd.Scope s = Autograd.noGrad()) {
            for (Work w : work.values()) {
                String n = names.get(w.layer);
                Tensor weight = w.layer.parameter("weight");
                if (w.rowsChanged) {
                    int[] from = w.rowOrigin.stream().mapToInt(Integer::intValue).toArray();
                    opt.remap(n + ".weight", weight, 0, from);
                    if (w.bias != null) {
                        opt.remap(n + ".bias", w.layer.parameter("bias"), 0, from);
                    }
                }
                if (w.colsChanged) {
                    if (w.layer instanceof Conv2d) {
                        opt.remap(n + ".weight", weight, 1, w.colOrigin);
                    } else {
                        int block = weight.dim(1) / w.colOrigin.length;
                        int[] from = new int[weight.dim(1)];
                        for (int j = 0; j < w.colOrigin.length; j++) {
                            for (int t = 0; t < block; t++) {
                                from[j * block + t] = w.colOrigin[j] < 0 ? -1 : w.colOrigin[j] * block + t;
                            }
                        }
                        opt.remap(n + ".weight", weight, 1, from);
                    }
                }
            }
            for (Map.Entry<Residual, int[]> e : residualOrigin.entrySet()) {
                Residual r = e.getKey();
                String n = names.get(r);
                opt.remap(n + ".in_weight", r.parameter("in_weight"), 1, e.getValue());
                opt.remap(n + ".out_weight", r.parameter("out_weight"), 0, e.getValue());
                opt.remap(n + ".out_bias", r.parameter("out_bias"), 0, e.getValue());
            }
            for (String name : plan.sites()) {
                BatchNorm bn = sites.get(name).batchNorm();
                if (bn != null) {
                    int[] from = bnOrigin.get(name).stream().mapToInt(Integer::intValue).toArray();
                    String n = names.get(bn);
                    opt.remap(n + ".weight", bn.parameter("weight"), 0, from);
                    opt.remap(n + ".bias", bn.parameter("bias"), 0, from);
                }
            }
        }
    }

    /** Checks the whole plan against the network; throws naming the first problem. */
    static void validate(Plan plan, Map<String, Site> sites) {
        for (String name : plan.unitSlopeRelu()) {
            Site s = site(sites, name);
            if (s.activation().function() != dev.sprout.backend.Activation.RELU) {
                throw new IllegalArgumentException("plan: layer " + name + " has activation " + s.activation().type()
                        + ", only a relu can become relu1 (derivative 1 at 0)");
            }
        }
        Set<String> layered = new HashSet<>();
        for (Plan.NewLayer nl : plan.layers()) {
            Site s = site(sites, nl.site());
            DepthKind kind = depthKind(s);
            if (!layered.add(nl.site())) {
                throw new IllegalArgumentException("plan: two new layers after layer " + nl.site());
            }
            int c = s.neurons();
            if (kind == DepthKind.RESIDUAL) {
                if (!nl.residual() || nl.bias() == null || nl.bias().length < 1 || nl.outBias() == null) {
                    throw new IllegalArgumentException("plan: the new layer after layer " + nl.site() + " (" + s.activation().type()
                            + ") must be a residual block with W1, b1 (at least one neuron), W2 and b2");
                }
                int m = nl.bias().length;
                checkVector("W1 of the residual block after layer " + nl.site(), nl.weight(), m * c);
                checkVector("b1 of the residual block after layer " + nl.site(), nl.bias(), m);
                checkVector("W2 of the residual block after layer " + nl.site(), nl.outWeight(), c * m);
                checkVector("b2 of the residual block after layer " + nl.site(), nl.outBias(), c);
            } else {
                if (nl.residual() || nl.outBias() != null) {
                    throw new IllegalArgumentException("plan: the new layer after layer " + nl.site() + " is a relu layer;"
                            + " it takes no output weights (residual blocks follow dense layers with other activations)");
                }
                checkVector("weights of the new layer after layer " + nl.site(), nl.weight(), c * c * (kind == DepthKind.CONV ? 9 : 1));
                checkVector("bias of the new layer after layer " + nl.site(), nl.bias(), c);
            }
        }
        Set<String> seen = new HashSet<>();
        for (Plan.Split sp : plan.splits()) {
            Site s = site(sites, sp.site());
            if (sp.neuron() < 0 || sp.neuron() >= s.neurons()) {
                throw new IllegalArgumentException("plan: neuron " + sp.neuron() + " does not exist in " + s + " (0.."
                        + (s.neurons() - 1) + ")");
            }
            if (!seen.add(sp.site() + "/" + sp.neuron())) {
                throw new IllegalArgumentException("plan: neuron " + sp.neuron() + " of layer " + sp.site() + " is split twice");
            }
            checkVector("split direction delta1 of neuron " + sp.neuron() + " in layer " + sp.site(), sp.delta1(), s.fanIn());
            checkVector("split direction delta2 of neuron " + sp.neuron() + " in layer " + sp.site(), sp.delta2(), s.fanIn());
            if (!Double.isFinite(sp.eps()) || !Double.isFinite(sp.w1()) || !Double.isFinite(sp.w2())
                    || Math.abs(sp.w1() + sp.w2() - 1) > 1e-9) {
                throw new IllegalArgumentException("plan: split of neuron " + sp.neuron() + " in layer " + sp.site()
                        + " needs finite eps and offspring weights summing to 1, got eps=" + sp.eps() + " w1=" + sp.w1()
                        + " w2=" + sp.w2());
            }
        }
        Map<String, Integer> added = new HashMap<>();
        for (Plan.NewNeuron nn : plan.additions()) {
            added.merge(nn.site(), 1, Integer::sum);
        }
        for (Plan.NewNeuron nn : plan.additions()) {
            Site s = site(sites, nn.site());
            checkVector("incoming weights of a new neuron in layer " + nn.site(), nn.incoming(), s.fanIn());
            int consumerRows = s.consumer().parameter("weight").dim(0);
            int consumerNew = 0;
            for (Site t : sites.values()) {
                if (t.layer() == s.consumer()) {
                    consumerNew = added.getOrDefault(t.name(), 0);
                }
            }
            int len = nn.outgoing() == null ? -1 : nn.outgoing().length;
            int withNew = (consumerRows + consumerNew) * block(s);
            checkVector("outgoing weights of a new neuron in layer " + nn.site(), nn.outgoing(),
                    consumerNew > 0 && len == withNew ? withNew : consumerRows * block(s));
            if (!Double.isFinite(nn.bias())) {
                throw new IllegalArgumentException("plan: new neuron in layer " + nn.site() + " has bias " + nn.bias());
            }
        }
    }

    /** The kinds of new layer ({@link Plan.NewLayer}). */
    public enum DepthKind {
        /** identity-initialised linear + ReLU after a dense ReLU site */
        RELU_LAYER,
        /** identity-initialised (centre tap) 3x3 convolution + ReLU after a convolutional ReLU site */
        CONV,
        /** zero-residual block after a dense site with another activation */
        RESIDUAL
    }

    /**
     * The kind of new layer that can follow a site: after a dense or convolutional layer with ReLU, an identity-initialised
     * ReLU layer ({@code relu(I h) = h} for the site's non-negative outputs, which is what lets new neurons pass through
     * it unchanged); after a dense layer with another activation (not the identity), a residual block.
     *
     * @throws IllegalArgumentException naming the layer when none can (a convolution without ReLU, an identity activation)
     */
    public static DepthKind depthKind(Site s) {
        dev.sprout.backend.Activation f = s.activation().function();
        if (f == dev.sprout.backend.Activation.RELU) {
            return s.isConv() ? DepthKind.CONV : DepthKind.RELU_LAYER;
        }
        if (!s.isConv() && f != dev.sprout.backend.Activation.IDENTITY) {
            return DepthKind.RESIDUAL;
        }
        throw new IllegalArgumentException("plan: a new layer can follow a dense or convolutional layer with relu (an"
                + " identity-initialised relu layer) or a dense layer with another non-identity activation (a zero-residual"
                + " block); layer " + s.name() + " is " + s.layer().type() + " with " + s.activation().type());
    }

    static void checkLayerSite(Site s) {
        depthKind(s);
    }

    private static Site site(Map<String, Site> sites, String name) {
        Site s = sites.get(name);
        if (s == null) {
            throw new IllegalArgumentException("plan: no growable layer named '" + name + "' (growable: " + sites.keySet() + ")");
        }
        return s;
    }

    private static void checkVector(String what, double[] v, int length) {
        if (v == null || v.length != length) {
            throw new IllegalArgumentException("plan: " + what + " has " + (v == null ? "no" : v.length + "")
                    + " entries, the layer needs " + length);
        }
        for (int i = 0; i < v.length; i++) {
            if (!Double.isFinite(v[i])) {
                throw new IllegalArgumentException("plan: " + what + " has " + v[i] + " at entry " + i);
            }
        }
    }
}
