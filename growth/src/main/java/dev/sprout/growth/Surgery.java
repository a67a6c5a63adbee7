package dev.sprout.growth;

import dev.sprout.autograd.Autograd;
import dev.sprout.nn.Act;
import dev.sprout.nn.BatchNorm;
import dev.sprout.nn.Conv2d;
import dev.sprout.nn.Linear;
import dev.sprout.nn.Module;
import dev.sprout.nn.Sequential;
import dev.sprout.optim.Optimizer;
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
 * <p>New layers ({@link Plan.NewLayer}) are inserted last, right after their site's activation, as a linear layer
 * (named {@code grown}, {@code grown1}, ...) and a copy of the activation, sized to the site's width after the plan;
 * existing layers keep their names. The ReLUs of the sites in {@link Plan#unitSlopeRelu} are replaced by
 * {@link Act#relu1()} (same name, same function). The return value counts the neurons added: one per split and new neuron, and
 * each new layer's width.
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
        Map<Module, Map<String, Tensor>> newParams = new LinkedHashMap<>();
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
        List<Object[]> inserts = new ArrayList<>(); // {activation index, linear, activation}
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
            inserts.add(new Object[] {s.activationIndex(), newLayer(s, nl, origin, weightOf), copyOf(s.activation())});
            layerNeurons += origin.size();
        }

        // 4. replace (each module all-or-nothing) and remap optimizer state; insert new layers (last position first)
        for (Map.Entry<Module, Map<String, Tensor>> e : newParams.entrySet()) {
            e.getKey().replace(e.getValue(), newBuffers.getOrDefault(e.getKey(), Map.of()));
        }
        if (optimizer != null) {
            remap(net, optimizer, work, sites, plan, bnOrigin);
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
            int at = (Integer) in[0] + 1;
            net.insert(at, net.freshName("grown"), (Module) in[1]);
            net.insert(at + 1, net.freshName("grown"), (Module) in[2]);
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
                              Map<String, List<Integer>> bnOrigin) {
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
            checkLayerSite(s);
            if (!layered.add(nl.site())) {
                throw new IllegalArgumentException("plan: two new layers after layer " + nl.site());
            }
            checkVector("weights of the new layer after layer " + nl.site(), nl.weight(), s.neurons() * s.neurons());
            checkVector("bias of the new layer after layer " + nl.site(), nl.bias(), s.neurons());
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

    /**
     * A new layer can follow a dense layer with a ReLU activation: the inserted {@code relu(I h)} of the layer's own
     * (non-negative) outputs is {@code h}, which is what lets new neurons pass through it unchanged.
     *
     * @throws IllegalArgumentException naming the layer otherwise
     */
    static void checkLayerSite(Site s) {
        if (!(s.layer() instanceof dev.sprout.nn.Linear) || s.activation().function() != dev.sprout.backend.Activation.RELU) {
            throw new IllegalArgumentException("plan: a new layer can only follow a dense layer with relu (identity-initialised"
                    + " relu layers preserve the function); layer " + s.name() + " is " + s.layer().type() + " with "
                    + s.activation().type());
        }
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
