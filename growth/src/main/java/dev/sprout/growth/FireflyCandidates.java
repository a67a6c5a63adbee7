package dev.sprout.growth;

import dev.sprout.autograd.Autograd;
import dev.sprout.autograd.FusedOps;
import dev.sprout.autograd.Ops;
import dev.sprout.backend.ConvGeometry;
import dev.sprout.data.Batches;
import dev.sprout.data.Dataset;
import dev.sprout.nn.Act;
import dev.sprout.nn.BatchNorm;
import dev.sprout.nn.Conv2d;
import dev.sprout.nn.Dropout;
import dev.sprout.nn.Flatten;
import dev.sprout.nn.Linear;
import dev.sprout.nn.Module;
import dev.sprout.nn.Pool2d;
import dev.sprout.nn.Residual;
import dev.sprout.nn.Sequential;
import dev.sprout.optim.RMSprop;
import dev.sprout.tensor.DType;
import dev.sprout.tensor.Rng;
import dev.sprout.tensor.Tensor;
import dev.sprout.train.Trainer;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Firefly's "over-grown" network (spec section 5.2): the network as it is, plus trainable candidates at every
 * growable {@link Site}, each with a scalar gate. The network's own parameters are never changed (they are read
 * detached); only the candidates are trained and scored.
 *
 * <h2>Candidates of a site with {@code C} neurons of fan-in {@code D}</h2>
 * <ul>
 *   <li><b>split</b> {@code i < C}: a displacement {@code v_i} ({@code split}, {@code [C, D]}). Neuron {@code i}
 *       becomes the mean of {@code sigma(BN(z_i + g_i v_i . u))} and {@code sigma(BN(z_i - g_i v_i . u))}: two
 *       offspring {@code theta_i +- v_i} with halved outgoing weights, exactly what {@link Surgery} builds from
 *       {@link Plan.Split#positive} with {@code eps = 1}.</li>
 *   <li><b>new neuron</b> {@code j < K}: incoming weights from the layer's existing inputs ({@code newIn},
 *       {@code [K, D]}), bias 0, batch norm (if the site has one) as {@link Surgery} gives a new channel (gamma 1,
 *       beta 0, running mean 0, variance 1); its output {@code g_j sigma(BN(zn_j))} feeds the consumer's existing
 *       rows through {@code outOld} ({@code [R, K * block]}, laid out like the consumer's input columns: a new
 *       neuron owns {@code block} consecutive columns, 1 for a dense consumer, {@code H*W} after a flatten, the
 *       {@code k*k} taps for a convolution) and, when the consumer is itself a site, its new neurons through
 *       {@code outNew} ({@code [K', K * block]}). These are the official code's {@code vno} and {@code vni}.</li>
 * </ul>
 * <b>New layer</b> (firefly-deep; spec section 5.3), one kind per site ({@link Surgery#depthKind}):
 * <ul>
 *   <li>after a dense site with ReLU: {@code A} ({@code [C, C]}, starting at the identity) and {@code b}
 *   ({@code [C]}, starting at 0); the site's output {@code h} becomes {@code h + g (relu(A h + b) - h)}, so at gate 1
 *   it is a new ReLU layer; at the identity start {@code relu(h) = h} for any gate;</li>
 *   <li>after a convolutional site with ReLU: the same with a 3x3 convolution (stride 1, padding 1; {@code A}
 *   {@code [C, C * 9]}, starting at the centre-tap identity), applied to the site's output before any pooling;</li>
 *   <li>after a dense site with another activation: a zero-residual block, {@code h + g (W2 sigma(W1 h + b1) + b2)}
 *   with {@code W1} ({@code depthWeight}, {@code [M, C]}) and {@code b1} drawn as a {@link dev.sprout.nn.Linear}'s
 *   (uniform in {@code +-1/sqrt(C)}), {@code W2} ({@code depthOutWeight}, {@code [C, M]}) and {@code b2} starting at
 *   0, so the function is unchanged for any gate until they are trained; at gate 1 it is the
 *   {@link dev.sprout.nn.Residual} block {@link Surgery} inserts. {@code M} defaults to the site's width {@code C}
 *   (so the block costs as many neurons as a new ReLU layer would).</li>
 * </ul>
 * {@link Surgery} inserts the chosen one from a {@link Plan.NewLayer}. Residual blocks already in the network (from
 * earlier growth) are applied as they are; new neurons pass through them unchanged (their rows and columns there
 * are zero after {@link Surgery}).
 *
 * <p>The gate {@code g} of a split scales its displacement, the gate of a new neuron its output (everything it sends
 * on), the gate of a new layer its change of the site's output. With every gate at 0 the over-grown network computes exactly the network's function, whatever the candidate
 * weights and the activation ({@code sigma(0)} need not be 0). With the gates at 1 the candidates are in place
 * with their trained values; the score of a candidate is {@code dL/dg} there ({@link #score}).
 *
 * <h2>Evaluation</h2>
 * Batch norm is in evaluation mode (running statistics) and dropout is off, as in the official scoring code; the
 * network's mode is restored afterwards. Supported modules: {@link Linear}, {@link Conv2d}, {@link BatchNorm},
 * {@link Act}, {@link Pool2d}, {@link Dropout}, {@link Flatten}, in a {@link Sequential}.
 */
public final class FireflyCandidates {

    /** How the candidates start (the official code's values are the defaults of {@link Firefly}). */
    public record Init(double split, double newIn, double out) {
        public Init {
            for (double d : new double[] {split, newIn, out}) {
                if (!(d >= 0) || !Double.isFinite(d)) {
                    throw new IllegalArgumentException("firefly: candidate initial scales must be finite and >= 0, got "
                            + split + ", " + newIn + ", " + out);
                }
            }
        }
    }

    /** The candidates of one site. */
    public static final class SiteCandidates {
        private final Site site;
        private final int position, neurons, fanIn, newCount, block, consumerRows;
        private final boolean conv;
        private Tensor split;   // [C, D] or null (no split candidates)
        private Tensor newIn;   // [K, D] or null (K = 0)
        private Tensor outOld;  // [R, K * block] or null
        private Tensor outNew;  // [K', K * block] or null (consumer not a site, or K' = 0)
        private Tensor depthW;  // [C, C] or null (no new-layer candidate)
        private Tensor depthB;  // [C] or [M] (residual) or null
        private Tensor depthW2; // [C, M] residual only
        private Tensor depthB2; // [C] residual only
        private Surgery.DepthKind depthKind; // null: no new-layer candidate
        private SiteCandidates consumer; // the consumer's candidates when the consumer is a site

        private SiteCandidates(Site site, int position, int newCount) {
            this.site = site;
            this.position = position;
            this.neurons = site.neurons();
            this.fanIn = site.fanIn();
            this.newCount = newCount;
            this.block = Surgery.block(site);
            this.consumerRows = site.consumer().parameter("weight").dim(0);
            this.conv = site.isConv();
        }

        public Site site() {
            return site;
        }

        public String name() {
            return site.name();
        }

        /** The site's position among the network's sites. */
        public int position() {
            return position;
        }

        public int neurons() {
            return neurons;
        }

        public int fanIn() {
            return fanIn;
        }

        /** K, the number of new-neuron candidates. */
        public int newCount() {
            return newCount;
        }

        /** Columns one neuron owns per consumer row. */
        public int block() {
            return block;
        }

        public int consumerRows() {
            return consumerRows;
        }

        /** Split displacements {@code [C, D]} (null without split candidates); live, so tests may set them. */
        public Tensor split() {
            return split;
        }

        /** Incoming weights of the new neurons {@code [K, D]} (null when K = 0). */
        public Tensor newIn() {
            return newIn;
        }

        /** Outgoing weights of the new neurons into the consumer's existing rows {@code [R, K * block]}. */
        public Tensor outOld() {
            return outOld;
        }

        /** Outgoing weights of the new neurons into the consumer's new neurons {@code [K', K * block]}, or null. */
        public Tensor outNew() {
            return outNew;
        }

        /** The new-layer candidate's weights {@code [C, C]}, or null when the site has none. */
        public Tensor depthWeight() {
            return depthW;
        }

        /** The new-layer candidate's bias {@code [C]}, or null. */
        public Tensor depthBias() {
            return depthB;
        }

        /** The residual candidate's {@code W2} ({@code [C, M]}), or null. */
        public Tensor depthOutWeight() {
            return depthW2;
        }

        /** The residual candidate's {@code b2} ({@code [C]}), or null. */
        public Tensor depthOutBias() {
            return depthB2;
        }

        /** The kind of the new-layer candidate, or null. */
        public Surgery.DepthKind depthKind() {
            return depthKind;
        }

        /** Neurons the new-layer candidate costs: its inner width (residual) or the site's width; 0 without one. */
        public int depthNeurons() {
            return depthKind == null ? 0 : depthB.dim(0);
        }

        /** Whether a new layer is a candidate after this site. */
        public boolean hasDepth() {
            return depthW != null;
        }

        /** The consumer's candidates, or null when the consumer is not a site (the classifier). */
        public SiteCandidates consumer() {
            return consumer;
        }

        List<Tensor> tensors() {
            List<Tensor> t = new ArrayList<>();
            for (Tensor x : new Tensor[] {split, newIn, outOld, outNew, depthW, depthB, depthW2, depthB2}) {
                if (x != null) {
                    t.add(x);
                }
            }
            return t;
        }
    }

    /**
     * Scores of every candidate: {@code dL/dg} at the trained candidates, per site (depth: one value or none), and the
     * over-grown network's mean loss over the scored data with every gate at 1 (NaN where not measured).
     */
    public record Scores(Map<String, double[]> split, Map<String, double[]> add, Map<String, double[]> depth, double loss) {
        /** Scores without the loss. */
        public Scores(Map<String, double[]> split, Map<String, double[]> add, Map<String, double[]> depth) {
            this(split, add, depth, Double.NaN);
        }

        /** Scores without depth candidates. */
        public Scores(Map<String, double[]> split, Map<String, double[]> add) {
            this(split, add, Map.of());
        }
    }

    /** Whether a new layer may follow the site (see {@link Surgery#depthKind}). */
    public static boolean depthEligible(Site s) {
        try {
            Surgery.checkLayerSite(s);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    private final Sequential net;
    private final List<SiteCandidates> sites;
    private final Map<Integer, SiteCandidates> byIndex = new HashMap<>();
    private final DType dtype;

    private FireflyCandidates(Sequential net, List<SiteCandidates> sites, DType dtype) {
        this.net = net;
        this.sites = sites;
        this.dtype = dtype;
        for (SiteCandidates s : sites) {
            byIndex.put(s.site.index(), s);
        }
    }

    /**
     * Checks that the network can be over-grown: a sequential of supported modules with at least one growable layer,
     * in f32 or f64.
     *
     * @throws IllegalArgumentException naming the first problem
     */
    public static void check(Sequential net) {
        SplittingMatrices.requireSites(Site.find(net));
        List<Module> layers = net.layers();
        for (int i = 0; i < layers.size(); i++) {
            Module m = layers.get(i);
            if (!(m instanceof Linear || m instanceof Conv2d || m instanceof BatchNorm || m instanceof Act
                    || m instanceof Pool2d || m instanceof Dropout || m instanceof Flatten || m instanceof Residual)) {
                throw new IllegalArgumentException("firefly: layer " + i + " (" + m.type() + ") is not supported; the"
                        + " over-grown network handles linear, conv2d, batch norm, activations, pooling, dropout, flatten and residual blocks");
            }
        }
        DType dt = net.get(Site.find(net).get(0).index()).parameter("weight").dtype();
        if (dt != DType.F32 && dt != DType.F64) {
            throw new IllegalArgumentException("firefly: the network has " + dt + " weights; only f32 and f64 are supported");
        }
    }

    /**
     * Candidates for every site of {@code net}: {@code newPerSite[s]} new neurons at site {@code s} (site order),
     * split candidates for every neuron if {@code splits}, drawn as the official code does: displacements uniform in
     * {@code +-init.split()}, new incoming weights normal with standard deviation {@code init.newIn()}, outgoing
     * weights uniform in {@code +-init.out()}.
     */
    public static FireflyCandidates create(Sequential net, int[] newPerSite, boolean splits, Init init, Rng rng) {
        return create(net, newPerSite, splits, false, init, rng);
    }

    /**
     * As {@link #create(Sequential, int[], boolean, Init, Rng)}, with a new-layer candidate (identity weights, zero
     * bias) after every site that may take one if {@code depth}.
     */
    public static FireflyCandidates create(Sequential net, int[] newPerSite, boolean splits, boolean depth, Init init, Rng rng) {
        return create(net, newPerSite, splits, depth, -1, init, rng);
    }

    /**
     * As {@link #create(Sequential, int[], boolean, boolean, Init, Rng)}, with residual candidates of inner width
     * {@code depthWidth} ({@code -1}: the site's width).
     */
    public static FireflyCandidates create(Sequential net, int[] newPerSite, boolean splits, boolean depth, int depthWidth,
                                           Init init, Rng rng) {
        if (depthWidth == 0 || depthWidth < -1) {
            throw new IllegalArgumentException("firefly: the residual candidates' width must be >= 1 (or -1: the layer's width), got "
                    + depthWidth);
        }
        check(net);
        List<Site> found = Site.find(net);
        if (newPerSite.length != found.size()) {
            throw new IllegalArgumentException("firefly: " + newPerSite.length + " new-neuron counts for " + found.size() + " sites");
        }
        DType dt = found.get(0).layer().parameter("weight").dtype();
        List<SiteCandidates> list = new ArrayList<>();
        for (int s = 0; s < found.size(); s++) {
            if (newPerSite[s] < 0) {
                throw new IllegalArgumentException("firefly: negative number of new-neuron candidates " + newPerSite[s]);
            }
            list.add(new SiteCandidates(found.get(s), s, newPerSite[s]));
        }
        for (SiteCandidates a : list) {
            for (SiteCandidates b : list) {
                if (b.site.index() == a.site.consumerIndex()) {
                    a.consumer = b;
                }
            }
        }
        for (SiteCandidates c : list) {
            if (splits) {
                c.split = Tensor.rand(rng, dt, -init.split(), init.split(), c.neurons, c.fanIn);
            }
            if (c.newCount > 0) {
                c.newIn = Tensor.randn(rng, dt, init.newIn(), c.newCount, c.fanIn);
                c.outOld = Tensor.rand(rng, dt, -init.out(), init.out(), c.consumerRows, c.newCount * c.block);
                if (c.consumer != null && c.consumer.newCount > 0) {
                    c.outNew = Tensor.rand(rng, dt, -init.out(), init.out(), c.consumer.newCount, c.newCount * c.block);
                }
            }
            if (depth && depthEligible(c.site)) {
                c.depthKind = Surgery.depthKind(c.site);
                int n = c.neurons;
                switch (c.depthKind) {
                    case RELU_LAYER, CONV -> {
                        int taps = c.depthKind == Surgery.DepthKind.CONV ? 9 : 1;
                        double[] eye = new double[n * n * taps];
                        for (int i = 0; i < n; i++) {
                            eye[(i * n + i) * taps + taps / 2] = 1; // the (centre tap) identity
                        }
                        c.depthW = Tensor.of(eye, n, n * taps).to(dt);
                        c.depthB = Tensor.zeros(dt, n);
                    }
                    case RESIDUAL -> {
                        int m = depthWidth < 0 ? n : depthWidth;
                        double bound = 1.0 / Math.sqrt(n);
                        c.depthW = Tensor.rand(rng, dt, -bound, bound, m, n);
                        c.depthB = Tensor.rand(rng, dt, -bound, bound, m);
                        c.depthW2 = Tensor.zeros(dt, n, m);
                        c.depthB2 = Tensor.zeros(dt, n);
                    }
                }
            }
        }
        return new FireflyCandidates(net, list, dt);
    }

    public Sequential net() {
        return net;
    }

    public List<SiteCandidates> sites() {
        return List.copyOf(sites);
    }

    /** The candidates of the site named {@code name}. */
    public SiteCandidates site(String name) {
        for (SiteCandidates s : sites) {
            if (s.name().equals(name)) {
                return s;
            }
        }
        throw new IllegalArgumentException("firefly: no site named '" + name + "'");
    }

    /** Every candidate tensor (the trainable perturbation). */
    public List<Tensor> tensors() {
        List<Tensor> out = new ArrayList<>();
        for (SiteCandidates s : sites) {
            out.addAll(s.tensors());
        }
        return out;
    }

    /** Total number of candidates (splits and new neurons). */
    public int count() {
        int n = 0;
        for (SiteCandidates s : sites) {
            n += (s.split != null ? s.neurons : 0) + s.newCount + (s.depthKind != null ? 1 : 0);
        }
        return n;
    }

    // ------------------------------------------------------------------------------------------ forward

    /** The over-grown network's output with every gate at 1 (all candidates in place). */
    public Tensor forward(Tensor x) {
        return forward(x, unitGates(false), unitGates(true), unitDepthGates());
    }

    private Tensor[] unitDepthGates() {
        Tensor[] g = new Tensor[sites.size()];
        for (SiteCandidates s : sites) {
            g[s.position] = Tensor.ones(dtype, 1);
        }
        return g;
    }

    /**
     * The output with the given gates (by site name: split gates of length C, new-neuron gates of length K; a site
     * missing from a map has all those gates at 0).
     */
    public Tensor forward(Tensor x, Map<String, double[]> splitGates, Map<String, double[]> newGates) {
        return forward(x, splitGates, newGates, Map.of());
    }

    /** As {@link #forward(Tensor, Map, Map)}, with new-layer gates (one value per site; absent: 0). */
    public Tensor forward(Tensor x, Map<String, double[]> splitGates, Map<String, double[]> newGates,
                          Map<String, Double> depthGates) {
        Tensor[] sg = new Tensor[sites.size()], ng = new Tensor[sites.size()], dg = new Tensor[sites.size()];
        for (SiteCandidates s : sites) {
            double[] a = splitGates.getOrDefault(s.name(), new double[s.neurons]);
            double[] b = newGates.getOrDefault(s.name(), new double[s.newCount]);
            if (a.length != s.neurons || b.length != s.newCount) {
                throw new IllegalArgumentException("firefly: gates of site " + s.name() + " must have " + s.neurons + " and "
                        + s.newCount + " entries, got " + a.length + " and " + b.length);
            }
            sg[s.position] = Tensor.of(a).to(dtype);
            ng[s.position] = Tensor.of(b).to(dtype);
            dg[s.position] = Tensor.of(new double[] {depthGates.getOrDefault(s.name(), 0.0)}).to(dtype);
        }
        return forward(x, sg, ng, dg);
    }

    private Tensor[] unitGates(boolean add) {
        Tensor[] g = new Tensor[sites.size()];
        for (SiteCandidates s : sites) {
            int n = add ? s.newCount : s.neurons;
            g[s.position] = Tensor.ones(dtype, n);
        }
        return g;
    }

    /** The over-grown forward pass with gate tensors per site (in site order); evaluation mode. */
    Tensor forward(Tensor x, Tensor[] splitGates, Tensor[] newGates, Tensor[] depthGates) {
        boolean was = net.isTraining();
        net.train(false);
        try {
            Tensor h = x.dtype() == dtype ? x : x.to(dtype);
            Tensor hn = null;                 // outputs of the new neurons of `pending`
            SiteCandidates pending = null;    // the site whose new neurons hn are
            List<Module> layers = net.layers();
            int i = 0;
            while (i < layers.size()) {
                Module m = layers.get(i);
                SiteCandidates sc = byIndex.get(i);
                if (sc != null) {
                    Tensor[] r = site(sc, h, hn, pending, splitGates[sc.position], newGates[sc.position],
                            depthGates[sc.position]);
                    h = r[0];
                    hn = r[1];
                    pending = hn == null ? null : sc;
                    i = sc.site.activationIndex() + 1;
                    continue;
                }
                if (m instanceof Linear || m instanceof Conv2d) {
                    Tensor z = weightLayer(m, h);
                    if (hn != null) {
                        if (pending.site.consumerIndex() != i) {
                            throw new IllegalStateException("firefly: new neurons of site " + pending.name()
                                    + " reached layer " + i + ", not their consumer");
                        }
                        z = z.add(into(m, hn, pending.outOld, pending.newCount));
                    }
                    h = z;
                    hn = null;
                    pending = null;
                } else if (m instanceof BatchNorm bn) {
                    requireNoPending(hn, i);
                    h = batchNorm(bn, h);
                } else if (m instanceof Act) {
                    requireNoPending(hn, i);
                    h = m.forward(h);
                } else if (m instanceof Residual r) { // new channels pass through it unchanged (zero rows and columns)
                    h = r.apply(h, r.parameter("in_weight").detach(), r.parameter("in_bias").detach(),
                            r.parameter("out_weight").detach(), r.parameter("out_bias").detach());
                } else {
                    h = passThrough(m, h); // pooling, dropout (off), flatten: per channel, so the same for new channels
                    if (hn != null) {
                        hn = passThrough(m, hn);
                    }
                }
                i++;
            }
            return h;
        } finally {
            net.train(was);
        }
    }

    /** A pass-through layer (batch norm, pooling, flatten) as it is; max pooling runs ConvOps' one-pass kernel. */
    private static Tensor passThrough(Module m, Tensor h) {
        return m.forward(h);
    }

    private static void requireNoPending(Tensor hn, int i) {
        if (hn != null) {
            throw new IllegalStateException("firefly: layer " + i + " stands between a site's activation and its consumer");
        }
    }

    /** One site: returns {old-channel output, new-channel output (gated) or null}. */
    private Tensor[] site(SiteCandidates sc, Tensor h, Tensor hn, SiteCandidates pending, Tensor splitGate, Tensor newGate,
                          Tensor depthGate) {
        Module layer = sc.site.layer();
        int c = sc.neurons, k = sc.newCount;
        Tensor z, pert = null, zn = null;
        int[] outShape;
        if (layer instanceof Conv2d conv) {
            ConvGeometry g = conv.geometry(h.dim(2), h.dim(3));
            Tensor cols = Ops.im2col(h, g); // [N, D, L]
            z = conv.parameter("weight").detach().reshape(c, sc.fanIn).matmul(cols);
            if (conv.hasBias()) {
                z = z.add(conv.parameter("bias").detach().reshape(c, 1));
            }
            if (sc.split != null) {
                pert = sc.split.matmul(cols); // the gate is applied by the fused activation
            }
            if (k > 0) {
                zn = sc.newIn.matmul(cols);
            }
            if (hn != null) {
                Tensor colsN = Ops.im2col(hn, newChannels(conv, pending.newCount, hn));
                z = z.add(pending.outOld.matmul(colsN));
                if (k > 0) {
                    zn = zn.add(pending.outNew.matmul(colsN));
                }
            }
            outShape = new int[] {h.dim(0), -1, g.outH(), g.outW()};
        } else {
            Linear lin = (Linear) layer;
            z = h.matmul(lin.weight().detach().transpose(0, 1));
            if (lin.hasBias()) {
                z = z.add(lin.parameter("bias").detach());
            }
            if (sc.split != null) {
                pert = h.matmul(sc.split.transpose(0, 1)); // the gate is applied by the fused activation
            }
            if (k > 0) {
                zn = h.matmul(sc.newIn.transpose(0, 1));
            }
            if (hn != null) {
                z = z.add(hn.matmul(pending.outOld.transpose(0, 1)));
                if (k > 0) {
                    zn = zn.add(hn.matmul(pending.outNew.transpose(0, 1)));
                }
            }
            outShape = new int[] {h.dim(0), -1};
        }
        BatchNorm bn = sc.site.batchNorm();
        Act act = sc.site.activation();
        // mean of act(BN(z + g v.u)) and act(BN(z - g v.u)), or act(BN(z)): one fused pass (FusedOps)
        double[][] affine = affine(bn, c);
        Tensor out = FusedOps.splitActivation(z.reshape(withChannels(outShape, c)),
                pert == null ? null : pert.reshape(withChannels(outShape, c)), pert == null ? null : splitGate,
                affine[0], affine[1], act.function(), act.beta());
        if (sc.depthKind != null) {
            out = out.add(depthChange(sc, out, act).mul(depthGate));
        }
        Tensor outNew = null;
        if (k > 0) {
            // a new channel's batch norm: gamma 1, beta 0, mean 0, variance 1; then act, times the gate (fused)
            double a = bn != null ? 1.0 / Math.sqrt(1.0 + bnEps(bn)) : 1.0;
            outNew = FusedOps.gatedActivation(zn.reshape(withChannels(outShape, k)), newGate, a, act.function(), act.beta());
        }
        return new Tensor[] {out, outNew};
    }

    /**
     * What the site's new-layer candidate adds to its output {@code h} at gate 1: {@code relu(A h + b) - h} (a ReLU
     * layer, dense or 3x3 convolution) or {@code W2 sigma(W1 h + b1) + b2} (a residual block).
     */
    private static Tensor depthChange(SiteCandidates sc, Tensor h, Act act) {
        switch (sc.depthKind) {
            case RELU_LAYER:
                return act.forward(h.matmul(sc.depthW.transpose(0, 1)).add(sc.depthB)).sub(h);
            case CONV: {
                int c = sc.neurons;
                ConvGeometry g = new ConvGeometry(c, h.dim(2), h.dim(3), 3, 3, 1, 1, 1, 1);
                Tensor z = sc.depthW.matmul(Ops.im2col(h, g)).add(sc.depthB.reshape(c, 1));
                return act.forward(z.reshape(h.dim(0), c, g.outH(), g.outW())).sub(h);
            }
            default: {
                Tensor a = act.forward(h.matmul(sc.depthW.transpose(0, 1)).add(sc.depthB));
                return a.matmul(sc.depthW2.transpose(0, 1)).add(sc.depthB2);
            }
        }
    }

    private static int[] withChannels(int[] shape, int c) {
        int[] s = shape.clone();
        s[1] = c;
        return s;
    }

    /** The geometry of a consumer convolution applied to K new channels. */
    private static ConvGeometry newChannels(Conv2d conv, int k, Tensor hn) {
        return new ConvGeometry(k, hn.dim(2), hn.dim(3), conv.kernel(), conv.kernel(), conv.stride(), conv.stride(),
                conv.padding(), conv.padding());
    }

    /** A weight layer (not a site) applied with its detached parameters. */
    private static Tensor weightLayer(Module m, Tensor h) {
        if (m instanceof Conv2d conv) {
            ConvGeometry g = conv.geometry(h.dim(2), h.dim(3));
            Tensor z = conv.parameter("weight").detach().reshape(conv.out(), conv.in() * conv.kernel() * conv.kernel())
                    .matmul(Ops.im2col(h, g));
            if (conv.hasBias()) {
                z = z.add(conv.parameter("bias").detach().reshape(conv.out(), 1));
            }
            return z.reshape(h.dim(0), conv.out(), g.outH(), g.outW());
        }
        Linear lin = (Linear) m;
        Tensor z = (h.rank() == 2 ? h : h.reshape(h.dim(0), -1)).matmul(lin.weight().detach().transpose(0, 1));
        return lin.hasBias() ? z.add(lin.parameter("bias").detach()) : z;
    }

    /** The contribution of K new channels {@code hn} to a (non-site) consumer through weights {@code w [R, K*block]}. */
    private static Tensor into(Module m, Tensor hn, Tensor w, int k) {
        if (m instanceof Conv2d conv) {
            ConvGeometry g = newChannels(conv, k, hn);
            return w.matmul(Ops.im2col(hn, g)).reshape(hn.dim(0), conv.out(), g.outH(), g.outW());
        }
        return hn.matmul(w.transpose(0, 1));
    }

    private static double bnEps(BatchNorm bn) {
        return ((Number) bn.config().get("eps")).doubleValue();
    }

    /** Batch norm in evaluation mode as a per-channel affine map {scale, shift} (identity when {@code bn} is null). */
    private static double[][] affine(BatchNorm bn, int c) {
        double[] scale = new double[c], shift = new double[c];
        if (bn == null) {
            java.util.Arrays.fill(scale, 1.0);
            return new double[][] {scale, shift};
        }
        double eps = bnEps(bn);
        double[] gamma = bn.parameter("weight").toDoubleArray(), beta = bn.parameter("bias").toDoubleArray();
        double[] mean = bn.buffer("running_mean").toDoubleArray(), var = bn.buffer("running_var").toDoubleArray();
        for (int i = 0; i < c; i++) {
            scale[i] = gamma[i] / Math.sqrt(var[i] + eps);
            shift[i] = beta[i] - mean[i] * scale[i];
        }
        return new double[][] {scale, shift};
    }

    private static Tensor batchNorm(BatchNorm bn, Tensor z) {
        int f = bn.features();
        double eps = bnEps(bn);
        double[] gamma = bn.parameter("weight").toDoubleArray(), beta = bn.parameter("bias").toDoubleArray();
        double[] mean = bn.buffer("running_mean").toDoubleArray(), var = bn.buffer("running_var").toDoubleArray();
        double[] scale = new double[f], shift = new double[f];
        for (int i = 0; i < f; i++) {
            scale[i] = gamma[i] / Math.sqrt(var[i] + eps);
            shift[i] = beta[i] - mean[i] * scale[i];
        }
        int[] shape = z.rank() == 4 ? new int[] {f, 1, 1} : new int[] {f};
        return z.mul(Tensor.of(scale, shape).to(z.dtype())).add(Tensor.of(shift, shape).to(z.dtype()));
    }

    // ------------------------------------------------------------------------------------------ optimise, score

    /** The batch with inputs and targets in the network's dtype. */
    private Batches.Batch inDType(Batches.Batch b) {
        return SplittingMatrices.inDType(b, dtype);
    }

    /**
     * What {@link #optimise} did: the over-grown network's mean loss over the held-out data (all gates at 1, without
     * the penalty) before and after, and the steps taken.
     */
    public record Optimisation(double lossBefore, double lossAfter, int steps) {
    }

    /** The over-grown network's mean loss over {@code data} with every gate at 1 (no gradients). */
    public double meanLoss(Dataset data, int batch) {
        Tensor[] sg = unitGates(false), ng = unitGates(true), dg = unitDepthGates();
        double sum = 0;
        try (Autograd.Scope s = Autograd.noGrad()) {
            for (Batches.Batch raw : Batches.epoch(data, Math.min(batch, data.size()), 0, 0, false, false)) {
                Batches.Batch b = inDType(raw);
                sum += Trainer.loss(forward(b.inputs(), sg, ng, dg), b, data).item() * b.size();
            }
        }
        return sum / data.size();
    }

    /**
     * Trains the candidates (the network stays fixed) for {@code steps} mini-batches of {@code batch} examples of
     * {@code data} (shuffled epochs, cycled), minimising the over-grown network's loss plus
     * {@code penalty * (||split||^2 + 0.01 ||newIn||^2)} (the official {@code spffn_penalty}), with RMSprop
     * ({@code lr}, alpha 0.9, momentum 0.1: the official settings). The loss before and after is measured on
     * {@code held} (the validation sample).
     */
    public Optimisation optimise(Dataset data, Dataset held, int steps, int batch, double lr, double penalty, long seed) {
        return optimise(data, held, steps, batch, lr, penalty, seed, true, true);
    }

    /**
     * As {@link #optimise(Dataset, Dataset, int, int, double, double, long)}; the loss before / after is measured only
     * if asked (else NaN): {@link #score} on the same data gives the loss after ({@link Scores#loss}) without another pass.
     */
    Optimisation optimise(Dataset data, Dataset held, int steps, int batch, double lr, double penalty, long seed,
                          boolean lossBefore, boolean lossAfter) {
        if (steps < 0 || batch < 1 || !(lr > 0) || !(penalty >= 0)) {
            throw new IllegalArgumentException("firefly: optimisation needs steps >= 0, batch >= 1, lr > 0, penalty >= 0; got "
                    + steps + ", " + batch + ", " + lr + ", " + penalty);
        }
        if (steps == 0) {
            return new Optimisation(Double.NaN, Double.NaN, 0);
        }
        double before = lossBefore ? meanLoss(held, batch) : Double.NaN;
        Holder holder = new Holder(tensors());
        RMSprop opt = new RMSprop(holder, lr, 0.9, 1e-8, 0.1, false, 0);
        Tensor[] params = holder.parameters().toArray(new Tensor[0]);
        Tensor[] sg = unitGates(false), ng = unitGates(true), dg = unitDepthGates();
        int done = 0;
        for (int epoch = 1; done < steps; epoch++) {
            for (Batches.Batch raw : Batches.epoch(data, Math.min(batch, data.size()), seed, epoch, true, false)) {
                if (done == steps) {
                    break;
                }
                Batches.Batch b = inDType(raw);
                Tensor loss = Trainer.loss(forward(b.inputs(), sg, ng, dg), b, data);
                double v = loss.item();
                if (!Double.isFinite(v)) {
                    throw new Trainer.NonFiniteLossException("firefly: the over-grown network's loss became " + v
                            + " at candidate step " + done + "; lower the candidate learning rate");
                }
                Tensor total = loss;
                for (SiteCandidates s : sites) {
                    if (s.split != null && penalty > 0) {
                        total = total.add(s.split.square().sum().mul(penalty));
                    }
                    if (s.newIn != null && penalty > 0) {
                        total = total.add(s.newIn.square().sum().mul(penalty * 0.01));
                    }
                }
                Tensor[] g = Autograd.grad(total, params, false);
                for (int p = 0; p < params.length; p++) {
                    params[p].setGrad(g[p]);
                }
                opt.step();
                done++;
            }
        }
        for (Tensor p : params) {
            p.setGrad(null);
            p.requiresGrad(false);
        }
        return new Optimisation(before, lossAfter ? meanLoss(held, batch) : Double.NaN, done);
    }

    /**
     * The score of every candidate: {@code dL/dg} with all gates at 1 (the trained candidates in place), for the
     * mean loss over the batches of {@code data} (each batch weighted by its share of the examples). For a split
     * along {@code v} this is {@code v^T S v + O(|v|^4)} ({@code S} the neuron's splitting matrix): the loss is even
     * in each displacement, so it changes by {@code g^2/2 v^T S v} to second order. For a new neuron it is the
     * first-order change of the loss when its output is switched on.
     */
    public Scores score(List<Batches.Batch> batches, Dataset data) {
        long total = 0;
        for (Batches.Batch b : batches) {
            total += b.size();
        }
        Map<String, double[]> split = new java.util.LinkedHashMap<>(), add = new java.util.LinkedHashMap<>(),
                depth = new java.util.LinkedHashMap<>();
        for (SiteCandidates s : sites) {
            split.put(s.name(), new double[s.split == null ? 0 : s.neurons]);
            add.put(s.name(), new double[s.newCount]);
            depth.put(s.name(), new double[s.depthKind == null ? 0 : 1]);
        }
        for (Tensor t : tensors()) {
            t.requiresGrad(false); // only the gates' gradients are wanted
        }
        double lossSum = 0;
        for (Batches.Batch raw : batches) {
            Batches.Batch b = inDType(raw);
            Tensor[] sg = unitGates(false), ng = unitGates(true), dg = unitDepthGates();
            List<Tensor> leaves = new ArrayList<>();
            for (SiteCandidates s : sites) {
                sg[s.position].requiresGrad(s.split != null);
                ng[s.position].requiresGrad(s.newCount > 0);
                dg[s.position].requiresGrad(s.depthKind != null);
                leaves.add(sg[s.position]);
                leaves.add(ng[s.position]);
                leaves.add(dg[s.position]);
            }
            Tensor[] g;
            try (Autograd.Scope scope = Autograd.enableGrad()) {
                Tensor loss = Trainer.loss(forward(b.inputs(), sg, ng, dg), b, data);
                lossSum += loss.item() * b.size();
                g = Autograd.grad(loss, leaves.toArray(new Tensor[0]), false);
            }
            double w = (double) b.size() / total;
            for (SiteCandidates s : sites) {
                addScaled(split.get(s.name()), g[3 * s.position], w);
                addScaled(add.get(s.name()), g[3 * s.position + 1], w);
                addScaled(depth.get(s.name()), g[3 * s.position + 2], w);
            }
        }
        return new Scores(split, add, depth, total == 0 ? Double.NaN : lossSum / total);
    }

    private static void addScaled(double[] acc, Tensor g, double w) {
        if (acc.length == 0) {
            return;
        }
        double[] v = g.toDoubleArray();
        for (int i = 0; i < acc.length; i++) {
            acc[i] += w * v[i];
        }
    }

    /**
     * FLOPs of one example's forward pass through the over-grown network: the network's own, plus per site the split
     * displacements ({@code 2 D C} per output position, and a second batch-norm and activation pass) and the
     * {@code K} new neurons (each costing {@link Site#flopsPerNeuron}).
     */
    public double forwardFlopsPerExample(int[] exampleShape) {
        double f = net.flopsPerExample(exampleShape);
        for (SiteCandidates s : sites) {
            int[] in = s.site.inputShape(exampleShape);
            int[] out = s.site.layer().outputShape(in);
            long positions = out.length == 3 ? (long) out[1] * out[2] : 1;
            if (s.split != null) {
                f += (2.0 * s.fanIn + 8) * s.neurons * positions;
            }
            f += (double) s.newCount * s.site.flopsPerNeuron(in);
            if (s.depthKind == Surgery.DepthKind.RELU_LAYER) {
                f += (2.0 * s.neurons + 4) * s.neurons;
            } else if (s.depthKind == Surgery.DepthKind.CONV) {
                f += (18.0 * s.neurons + 4) * s.neurons * positions;
            } else if (s.depthKind == Surgery.DepthKind.RESIDUAL) {
                int m = s.depthNeurons();
                f += 4.0 * s.neurons * m + 3.0 * m + 3.0 * s.neurons;
            }
        }
        return f;
    }

    /** Holds the candidate tensors as parameters, so an {@link dev.sprout.optim.Optimizer} can step them. */
    private static final class Holder extends Module {
        Holder(List<Tensor> tensors) {
            for (int i = 0; i < tensors.size(); i++) {
                registerParameter("c" + i, tensors.get(i));
            }
        }

        @Override
        public Tensor forward(Tensor x) {
            throw new UnsupportedOperationException("candidate holder");
        }

        @Override
        public String type() {
            return "firefly-candidates";
        }
    }
}
