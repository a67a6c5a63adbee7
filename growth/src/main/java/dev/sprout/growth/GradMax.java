package dev.sprout.growth;

import dev.sprout.autograd.Autograd;
import dev.sprout.data.Batches;
import dev.sprout.data.Dataset;
import dev.sprout.linalg.Svd;
import dev.sprout.backend.Activation;
import dev.sprout.nn.Act;
import dev.sprout.nn.BatchNorm;
import dev.sprout.nn.Conv2d;
import dev.sprout.nn.Dropout;
import dev.sprout.nn.Flatten;
import dev.sprout.nn.Linear;
import dev.sprout.nn.Module;
import dev.sprout.nn.Pool2d;
import dev.sprout.nn.Sequential;
import dev.sprout.tensor.DType;
import dev.sprout.tensor.Rng;
import dev.sprout.tensor.Tensor;
import dev.sprout.train.Trainer;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * GradMax (Evci et al. 2022; spec section 7), growth method {@code "gradmax"}: new neurons with <b>zero incoming
 * weights</b> (so, with {@code sigma(0) = 0}, the function is unchanged) and outgoing weights chosen to maximise the
 * gradient norm of those incoming weights. A new neuron's incoming-weight gradient is linear in its outgoing vector
 * {@code w}: {@code dL/dW_in = A w}, {@code A} of shape {@code D x Q} ({@code D} the fan-in, {@code Q} the consumer's
 * rows times the neuron's block of input columns: 1 for a dense consumer, {@code k2*k2} for a convolution, {@code H*W}
 * after a flatten). Under orthogonal outgoing vectors of norm {@code c}, {@code sum_j ||dL/dW_in_j||^2} is largest,
 * equal to {@code c^2 sum_{j<=k} s_j^2}, when they are the top-k right singular vectors of {@code A} ({@link Svd} of
 * {@code M = A^T}, {@code Q x D}).
 *
 * <p>How {@code M} is obtained. Dense layer feeding a dense layer (only dropout between):
 * {@code M = E[dL/dz' h^T]} directly (the gradient at the consumer's output times the layer's input; through a batch
 * norm the new neuron's gradient is this times {@code 1/sqrt(1 + eps)}, which changes no singular vector). Any other
 * site (convolutions; max or average pooling, flatten or dropout between the activation and the consumer; the last
 * convolution feeding the classifier through global average pooling): the official code's auxiliary layer (a conv
 * with kernel {@code k1+k2-1}) maps the layer's input straight to the consumer's pre-activation and ignores what
 * stands between; here the exact linear map is differentiated instead. A probe copy of the site's path gets
 * {@code Q} new neurons with zero incoming weights, batch-norm channels as Surgery initialises them (gamma 1, beta 0,
 * mean 0, variance 1), the activation with slope 1 at 0, the same pooling/flatten modules, and the consumer's
 * weights for probe neuron {@code j} set to the {@code j}-th unit outgoing vector; with {@code G} the gradient at the
 * consumer's output (the new neurons add nothing to the forward pass, so {@code G} is the network's),
 * {@code d <Z_probe, G> / dW_in} is {@code M} (row {@code j} = {@code A e_j}). This is exact for the engine's max
 * pooling of an all-zero channel (the gradient goes to each window's first element), batch norm in evaluation mode,
 * and any stride or padding. Probe neurons are processed in chunks to bound memory.
 *
 * <p>As the official code ({@code growneuron/growers.py:AddGradmax}): {@code c = scale * (mean L2 norm of the
 * existing neurons' outgoing vectors)}, {@code scale} 0.5; new biases 0; new batch-norm channels identity.
 * {@code M} is computed over the whole growth sample (batches weighted by size; batch norm in evaluation mode,
 * dropout off; the official code uses one batch of 128). Budget: as {@link RandomNew#allocate} (proportional to
 * width), each layer capped at the numerical {@code rank(M) <= min(Q, D)} new neurons (more would need outgoing vectors
 * outside the singular vectors, which get no gradient; a layer feeding the classifier has rank at most classes - 1,
 * as cross-entropy gradients sum to zero over the classes; the official code's {@code svds} also needs {@code k < min(Q, D)},
 * growneuron issue #10); what a cap leaves over goes to layers with room, and if none has room the step adds fewer
 * neurons. Nothing is predicted ({@code predictedChange} NaN).
 *
 * <p>Activations: {@code sigma(0) = 0} and {@code sigma'(0) != 0} are needed. Tanh qualifies. The engine's ReLU has
 * derivative 0 at 0, so new neurons (pre-activation exactly 0) would never receive a gradient; as the official code
 * ({@code relu1 = tf.maximum(x, 0)}, gradient 1 at 0), the plan turns each grown site's ReLU into
 * {@link dev.sprout.nn.Act#relu1()} ({@link Plan#unitSlopeRelu}): the same function (so nothing else changes; it is
 * built from the ReLU kernels every backend has), derivative 1 at exactly 0. Sigmoid, softplus and RBF
 * ({@code sigma(0) != 0}) are refused naming the layer, before any work, and the network is left unchanged.
 *
 * <p>Batch norm in training mode (what the next training step sees): a new channel is all zero, so its batch
 * variance is 0 and its output stays 0 (the function is preserved in training mode too), but its incoming weights get
 * {@code gamma/sqrt(eps)} (316 with eps 1e-5) times the batch-centred gradient, and after the first step the channel
 * is normalised to unit variance whatever the step's size. In a diagnostic on the VGG net (SGD 0.1, momentum 0.9)
 * the new channels' incoming norms reached 2-25x the old ones within 24 steps, their running variance lagged far
 * behind, and evaluation-mode loss jumped; R3 accuracy after growth drops (results-summary/r3-vgg.md). That is the method's behaviour with batch norm (the official WRN configuration has no
 * normalisation; Keras's eps 1e-3 amplifies 32x); it is not corrected here. {@code M} itself is taken in evaluation
 * mode (spec section 10), where the new channel is the identity times {@code 1/sqrt(1 + eps)}.
 *
 * <p>Options: {@code scale} (0.5). Cost phases: {@code statistics} (the forward and backward passes for {@code M}),
 * {@code eigen} (the SVDs).
 */
public final class GradMax implements GrowthMethod {
    public static final String NAME = "gradmax";
    public static final double DEFAULT_SCALE = 0.5;

    private final double scale;

    public GradMax(double scale) {
        if (!(scale > 0) || !Double.isFinite(scale)) {
            throw new IllegalArgumentException(NAME + ": scale must be finite and > 0, got " + scale);
        }
        this.scale = scale;
    }

    public GradMax() {
        this(DEFAULT_SCALE);
    }

    GradMax(Methods.Options o) {
        this(o.number("scale", DEFAULT_SCALE));
    }

    @Override
    public String name() {
        return NAME;
    }

    public double scale() {
        return scale;
    }

    /** Refuses a site GradMax cannot grow, naming it and why. */
    public static void check(Site site) {
        String where = "gradmax: layer " + site.name() + " (" + site.layer().type() + ")";
        if (!(site.layer() instanceof Linear || site.layer() instanceof Conv2d)
                || !(site.consumer() instanceof Linear || site.consumer() instanceof Conv2d)) {
            throw new IllegalArgumentException(where + " is not supported: gradmax grows dense and convolution layers feeding"
                    + " dense or convolution layers");
        }
        for (int i = site.activationIndex() + 1; i < site.consumerIndex(); i++) {
            Module m = site.net().get(i);
            if (!(m instanceof Dropout || m instanceof Pool2d || m instanceof Flatten)) {
                throw new IllegalArgumentException(where + " is not supported: " + m.type()
                        + " stands between its activation and its consumer (only pooling, flatten and dropout may)");
            }
        }
        if (site.activation().function() == Activation.RELU) {
            return; // grown as relu1 (derivative 1 at 0), see the class comment
        }
        DType dt = site.layer().parameter("weight").dtype();
        Tensor zero = Tensor.zeros(dt, 1);
        double s0, d0;
        try (Autograd.Scope s = Autograd.noGrad()) {
            s0 = site.activation().forward(zero).getFlat(0);
            d0 = site.activation().derivative(zero, 1).getFlat(0);
        }
        if (d0 == 0) {
            throw new IllegalArgumentException(where + ": its activation " + site.activation().type() + " has sigma'(0) = 0, so"
                    + " new neurons with zero incoming weights would never receive a gradient; gradmax needs sigma'(0) != 0"
                    + " and sigma(0) = 0 (tanh; relu is grown as relu1, whose derivative at 0 is 1)");
        }
        if (s0 != 0) {
            throw new IllegalArgumentException(where + ": its activation " + site.activation().type() + " has sigma(0) = " + s0
                    + ", so new neurons with zero incoming weights would change the function; gradmax needs sigma(0) = 0"
                    + " (tanh; relu is grown as relu1, whose derivative at 0 is 1)");
        }
    }

    @Override
    public void check(Sequential net) {
        List<Site> sites = Site.find(net);
        SplittingMatrices.requireSites(sites);
        for (Site s : sites) {
            check(s);
        }
    }

    @Override
    public Plan propose(GrowthContext ctx) {
        List<Site> sites = ctx.sites();
        check(ctx.net());
        List<Batches.Batch> batches = ctx.batches();
        double forward = ctx.net().flopsPerExample(ctx.exampleShape());
        int n = sites.size();
        Svd[] svd = new Svd[n];
        int[] cap = new int[n];
        for (int s = 0; s < n; s++) {
            Site site = sites.get(s);
            int q = outgoingLength(site), d = site.fanIn();
            boolean direct = isDenseDirect(site);
            double[] m = ctx.cost().time("statistics", () -> direct ? gradientMatrix(site, batches, ctx.sample())
                    : auxGradient(site, batches, ctx.sample()));
            double probe = direct ? 2.0 * q * d : 3.0 * q * site.flopsPerNeuron(site.inputShape(ctx.exampleShape()));
            ctx.cost().addFlops((3 * forward + probe) * ctx.sample().size());
            svd[s] = ctx.cost().time("eigen", () -> Svd.decompose(q, d, m, 0));
            ctx.cost().addFlops(50.0 * Math.pow(Math.min(q, d), 2) * Math.max(q, d));
            cap[s] = numericalRank(svd[s], q, d, site.layer().parameter("weight").dtype());
            ctx.cost().sampleMemory();
        }
        int[] count = capped(RandomNew.allocate(sites, ctx.budget(), ctx.rng()), cap);
        List<Plan.NewNeuron> add = new ArrayList<>();
        List<String> relu1 = new ArrayList<>();
        for (int s = 0; s < n; s++) {
            if (count[s] == 0) {
                continue;
            }
            Site site = sites.get(s);
            double c = scale * meanOutgoingNorm(site);
            for (int j = 0; j < count[s]; j++) {
                double[] u = svd[s].leftVector(j);
                for (int i = 0; i < u.length; i++) {
                    u[i] *= c;
                }
                add.add(new Plan.NewNeuron(site.name(), new double[site.fanIn()], 0.0, u, Double.NaN));
            }
            if (site.activation().function() == Activation.RELU) {
                relu1.add(site.name());
            }
        }
        return new Plan(List.of(), add).withUnitSlopeRelu(relu1);
    }

    /**
     * Singular values above {@code s_max * max(q, d) * eps(dtype)} (numpy's matrix_rank tolerance): directions below
     * it carry no gradient. Cross-entropy gradients sum to zero over the classes, so a site feeding the classifier has
     * {@code rank(M) <= classes - 1}.
     */
    static int numericalRank(Svd svd, int q, int d, DType dt) {
        double[] sv = svd.singularValues();
        if (sv.length == 0 || !(sv[0] > 0)) {
            return 0;
        }
        double eps = dt == DType.F64 ? 0x1p-52 : 0x1p-23;
        double tol = sv[0] * Math.max(q, d) * eps;
        int r = 0;
        while (r < sv.length && sv[r] > tol) {
            r++;
        }
        return r;
    }

    /** Length of a new neuron's outgoing vector: the consumer's rows times the neuron's block of input columns. */
    static int outgoingLength(Site site) {
        return site.consumer().parameter("weight").dim(0) * Surgery.block(site);
    }

    /** A dense layer feeding a dense layer with only dropout between: {@code M} by {@link #gradientMatrix}. */
    static boolean isDenseDirect(Site site) {
        if (!(site.layer() instanceof Linear) || !(site.consumer() instanceof Linear)) {
            return false;
        }
        for (int i = site.activationIndex() + 1; i < site.consumerIndex(); i++) {
            if (!(site.net().get(i) instanceof Dropout)) {
                return false;
            }
        }
        return true;
    }

    /** Allocation with per-layer caps: overflow goes to the layers with the most room left, then is dropped. */
    static int[] capped(int[] count, int[] cap) {
        int[] out = count.clone();
        int over = 0;
        for (int s = 0; s < out.length; s++) {
            if (out[s] > cap[s]) {
                over += out[s] - cap[s];
                out[s] = cap[s];
            }
        }
        while (over > 0) {
            int best = -1;
            for (int s = 0; s < out.length; s++) {
                if (out[s] < cap[s] && (best < 0 || cap[s] - out[s] > cap[best] - out[best])) {
                    best = s;
                }
            }
            if (best < 0) {
                break;
            }
            out[best]++;
            over--;
        }
        return out;
    }

    /**
     * Mean L2 norm of the existing neurons' outgoing vectors (each neuron's block of input columns in every consumer
     * row); 1 if they are all zero.
     */
    static double meanOutgoingNorm(Site site) {
        Tensor w = site.consumer().parameter("weight");
        int r = w.dim(0), n = site.neurons(), block = Surgery.block(site), row = w.numel() / r;
        double[] a = w.toDoubleArray();
        double sum = 0;
        for (int j = 0; j < n; j++) {
            double ss = 0;
            for (int i = 0; i < r; i++) {
                for (int t = 0; t < block; t++) {
                    double v = a[i * row + j * block + t];
                    ss += v * v;
                }
            }
            sum += Math.sqrt(ss);
        }
        double mean = sum / n;
        return mean > 0 ? mean : 1.0;
    }

    /**
     * {@code M = sum_b (n_b / N) G_b^T U_b} ({@code R x D}, row-major): {@code G_b} the gradient of batch {@code b}'s
     * mean loss at the consumer's output ({@code [n_b, R]}), {@code U_b} the site's input ({@code [n_b, D]}); batch
     * norm in evaluation mode, dropout off.
     */
    public static double[] gradientMatrix(Site site, List<Batches.Batch> batches, Dataset data) {
        Sequential net = site.net();
        DType dt = site.layer().parameter("weight").dtype();
        int r = site.consumer().parameter("weight").dim(0), d = site.fanIn();
        long total = 0;
        for (Batches.Batch b : batches) {
            total += b.size();
        }
        double[] m = new double[r * d];
        boolean was = net.isTraining();
        net.train(false);
        try {
            for (Batches.Batch raw : batches) {
                Batches.Batch b = SplittingMatrices.inDType(raw, dt);
                Tensor h = b.inputs(), u;
                try (Autograd.Scope s = Autograd.noGrad()) {
                    for (int i = 0; i < site.index(); i++) {
                        h = net.get(i).forward(h);
                    }
                    u = h;
                    for (int i = site.index(); i <= site.consumerIndex(); i++) {
                        h = net.get(i).forward(h);
                    }
                }
                Tensor zc = h.detach().requiresGrad(true);
                Tensor out = zc;
                for (int i = site.consumerIndex() + 1; i < net.size(); i++) {
                    out = net.get(i).forward(out);
                }
                Tensor g = Autograd.grad(Trainer.loss(out, b, data), new Tensor[] {zc}, false)[0];
                double[] mb;
                try (Autograd.Scope s = Autograd.noGrad()) {
                    mb = g.transpose(0, 1).matmul(u.reshape(u.dim(0), d)).toDoubleArray();
                }
                double w = (double) b.size() / total;
                for (int i = 0; i < m.length; i++) {
                    m[i] += w * mb[i];
                }
            }
        } finally {
            net.train(was);
        }
        return m;
    }

    /** Most probe activations (elements of one probe layer output) held at once. */
    private static final long PROBE_ELEMENTS = 1L << 23;

    /**
     * {@code M} ({@code Q x D}, row-major; see the class comment) of any site, by differentiating a probe copy of the
     * site's path whose new neurons have zero incoming weights and unit outgoing vectors: row {@code j} is the
     * incoming-weight gradient of a new neuron with outgoing vector {@code e_j}, for the loss averaged over the sample
     * (batches weighted by size; batch norm in evaluation mode, dropout off). The network is not changed.
     */
    public static double[] auxGradient(Site site, List<Batches.Batch> batches, Dataset data) {
        Sequential net = site.net();
        Module layer = site.layer(), consumer = site.consumer();
        DType dt = layer.parameter("weight").dtype();
        int rows = consumer.parameter("weight").dim(0), block = Surgery.block(site);
        int q = rows * block, d = site.fanIn();
        long total = 0;
        for (Batches.Batch b : batches) {
            total += b.size();
        }
        double[] m = new double[q * d];
        boolean was = net.isTraining();
        net.train(false);
        try {
            for (Batches.Batch raw : batches) {
                Batches.Batch b = SplittingMatrices.inDType(raw, dt);
                Tensor h = b.inputs(), u, layerOut;
                try (Autograd.Scope s = Autograd.noGrad()) {
                    for (int i = 0; i < site.index(); i++) {
                        h = net.get(i).forward(h);
                    }
                    u = h;
                    layerOut = layer.forward(u);
                    h = layerOut;
                    for (int i = site.index() + 1; i <= site.consumerIndex(); i++) {
                        h = net.get(i).forward(h);
                    }
                }
                Tensor zc = h.detach().requiresGrad(true);
                Tensor out = zc;
                for (int i = site.consumerIndex() + 1; i < net.size(); i++) {
                    out = net.get(i).forward(out);
                }
                Tensor g = Autograd.grad(Trainer.loss(out, b, data), new Tensor[] {zc}, false)[0].detach();
                long perNeuron = layerOut.numel() / Math.max(1, layerOut.dim(1));
                int chunk = (int) Math.max(1, Math.min(q, PROBE_ELEMENTS / Math.max(1, perNeuron)));
                double w = (double) b.size() / total;
                for (int j0 = 0; j0 < q; j0 += chunk) {
                    int p = Math.min(chunk, q - j0);
                    double[] gw = probeGradient(site, u, g, j0, p, dt);
                    for (int jj = 0; jj < p; jj++) {
                        for (int t = 0; t < d; t++) {
                            m[(j0 + jj) * d + t] += w * gw[jj * d + t];
                        }
                    }
                }
            }
        } finally {
            net.train(was);
        }
        return m;
    }

    /** Incoming-weight gradients ({@code p x D}) of probe neurons {@code j0..j0+p-1} for {@code sum(Z_probe * g)}. */
    private static double[] probeGradient(Site site, Tensor u, Tensor g, int j0, int p, DType dt) {
        Module layer = site.layer(), consumer = site.consumer();
        Rng rng = new Rng(0);
        int rows = consumer.parameter("weight").dim(0), block = Surgery.block(site);
        Module lp;
        if (layer instanceof Conv2d c) {
            lp = new Conv2d(c.in(), p, c.kernel(), c.stride(), c.padding(), false, rng, dt);
            lp.replaceParameter("weight", Tensor.zeros(dt, p, c.in(), c.kernel(), c.kernel()));
        } else {
            Linear l = (Linear) layer;
            lp = new Linear(l.in(), p, false, rng, dt);
            lp.replaceParameter("weight", Tensor.zeros(dt, p, l.in()));
        }
        double[] basis = new double[rows * p * block];
        for (int jj = 0; jj < p; jj++) {
            int j = j0 + jj, o = j / block, t = j % block;
            basis[(o * p + jj) * block + t] = 1.0; // [rows, p * block]: probe neuron jj's block in row o
        }
        Module cp;
        if (consumer instanceof Conv2d c) {
            cp = new Conv2d(p, rows, c.kernel(), c.stride(), c.padding(), false, rng, dt);
            cp.replaceParameter("weight", Tensor.of(basis, rows, p, c.kernel(), c.kernel()).to(dt));
        } else {
            cp = new Linear(p * block, rows, false, rng, dt);
            cp.replaceParameter("weight", Tensor.of(basis, rows, p * block).to(dt));
        }
        List<Module> path = new ArrayList<>();
        path.add(lp);
        BatchNorm bn = site.batchNorm();
        if (bn != null) {
            Map<String, Object> cfg = bn.config();
            path.add(new BatchNorm(p, bn.type().equals("batchnorm2d"), ((Number) cfg.get("momentum")).doubleValue(),
                    ((Number) cfg.get("eps")).doubleValue(), dt));
        }
        Act act = site.activation();
        path.add(act.function() == Activation.RELU ? Act.relu1() : act.copy());
        for (int i = site.activationIndex() + 1; i < site.consumerIndex(); i++) {
            path.add(site.net().get(i)); // pooling, flatten, dropout: no parameters (dropout off in evaluation mode)
        }
        path.add(cp);
        Tensor x = u;
        for (Module mod : path) {
            mod.train(false);
            x = mod.forward(x);
        }
        Tensor gw = Autograd.grad(x.dot(g), new Tensor[] {lp.parameter("weight")}, false)[0];
        return gw.toDoubleArray();
    }

    @Override
    public String toString() {
        return NAME + "(scale=" + scale + ")";
    }
}
