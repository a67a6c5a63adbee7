package dev.sprout.growth;

import dev.sprout.autograd.Autograd;
import dev.sprout.data.Batches;
import dev.sprout.data.Dataset;
import dev.sprout.linalg.Svd;
import dev.sprout.nn.Dropout;
import dev.sprout.nn.Linear;
import dev.sprout.nn.Sequential;
import dev.sprout.tensor.DType;
import dev.sprout.tensor.Tensor;
import dev.sprout.train.Trainer;

import java.util.ArrayList;
import java.util.List;

/**
 * GradMax (Evci et al. 2022; spec section 7), growth method {@code "gradmax"}: new neurons with <b>zero incoming
 * weights</b> (so, with {@code sigma(0) = 0}, the function is unchanged) and outgoing weights chosen to maximise the
 * gradient norm of those incoming weights. For a site with input {@code h} (its layer's input) and consumer
 * pre-activation {@code z'}, a new neuron with outgoing weights {@code w} gets
 * {@code dL/dW_in = sigma'(0) kappa w^T M}, {@code M = E[dL/dz' h^T]} ({@code R x D}; {@code kappa} = 1, or
 * {@code 1/sqrt(1 + eps)} through a batch norm whose new channel has gamma 1, beta 0, mean 0, variance 1). Under
 * orthogonal outgoing vectors of norm {@code c}, {@code sum_j ||dL/dW_in_j||^2} is largest, equal to
 * {@code (sigma'(0) kappa c)^2 sum_{j<=k} s_j^2}, when they are the top-k left singular vectors of {@code M}
 * ({@link Svd}).
 *
 * <p>As the official code ({@code growneuron/growers.py:AddGradmax}): {@code c = scale * (mean L2 norm of the
 * existing neurons' outgoing vectors)}, {@code scale} 0.5; new biases 0. {@code M} is computed directly (the gradient
 * at the consumer's output times the site's input, over the whole growth sample, batches weighted by size; the
 * official code differentiates a zero auxiliary layer on one batch of 128, which gives the same matrix). Budget: as
 * {@link RandomNew#allocate} (proportional to width), each layer capped at {@code rank(M) <= min(R, D)} new neurons
 * (more would need outgoing vectors outside the singular vectors, which get no gradient; the official code's
 * {@code svds} also needs {@code k < min(R, D)}, growneuron issue #10); what a cap leaves over goes to layers with
 * room, and if none has room the step adds fewer neurons. Nothing is predicted ({@code predictedChange} NaN).
 *
 * <p>Supported: dense layers ({@link Linear}) whose consumer is dense, with only dropout between the activation and
 * the consumer, and an activation with {@code sigma(0) = 0} and {@code sigma'(0) != 0} (tanh; not the engine's
 * ReLU, whose derivative at 0 is 0, so zero incoming weights would never move, nor sigmoid, softplus or RBF, whose
 * {@code sigma(0) != 0} would change the function). Anything else is refused naming the layer, before any work.
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
        if (!(site.layer() instanceof Linear) || !(site.consumer() instanceof Linear)) {
            throw new IllegalArgumentException(where + " is not supported: gradmax grows dense layers that feed dense layers"
                    + " (convolutions would need the official auxiliary-convolution gradient, not implemented here)");
        }
        for (int i = site.activationIndex() + 1; i < site.consumerIndex(); i++) {
            if (!(site.net().get(i) instanceof Dropout)) {
                throw new IllegalArgumentException(where + " is not supported: " + site.net().get(i).type()
                        + " stands between its activation and its consumer");
            }
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
                    + " and sigma(0) = 0 (tanh)");
        }
        if (s0 != 0) {
            throw new IllegalArgumentException(where + ": its activation " + site.activation().type() + " has sigma(0) = " + s0
                    + ", so new neurons with zero incoming weights would change the function; gradmax needs sigma(0) = 0 (tanh)");
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
        int[] cap = new int[sites.size()];
        for (int s = 0; s < cap.length; s++) {
            cap[s] = Math.min(sites.get(s).consumer().parameter("weight").dim(0), sites.get(s).fanIn());
        }
        int[] count = capped(RandomNew.allocate(sites, ctx.budget(), ctx.rng()), cap);
        List<Batches.Batch> batches = ctx.batches();
        double forward = ctx.net().flopsPerExample(ctx.exampleShape());
        List<Plan.NewNeuron> add = new ArrayList<>();
        for (int s = 0; s < sites.size(); s++) {
            if (count[s] == 0) {
                continue;
            }
            Site site = sites.get(s);
            int r = site.consumer().parameter("weight").dim(0), d = site.fanIn(), k = count[s];
            double[] m = ctx.cost().time("statistics", () -> gradientMatrix(site, batches, ctx.sample()));
            ctx.cost().addFlops(3 * forward * ctx.sample().size() + 2.0 * r * d * ctx.sample().size());
            Svd svd = ctx.cost().time("eigen", () -> Svd.decompose(r, d, m, 0));
            ctx.cost().addFlops(50.0 * Math.pow(Math.min(r, d), 2) * Math.max(r, d));
            double c = scale * meanOutgoingNorm(site);
            for (int j = 0; j < k; j++) {
                double[] u = svd.leftVector(j);
                for (int i = 0; i < u.length; i++) {
                    u[i] *= c;
                }
                add.add(new Plan.NewNeuron(site.name(), new double[d], 0.0, u, Double.NaN));
            }
            ctx.cost().sampleMemory();
        }
        return new Plan(List.of(), add);
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

    /** Mean L2 norm of the existing neurons' outgoing vectors (the consumer's input columns); 1 if they are all zero. */
    static double meanOutgoingNorm(Site site) {
        Tensor w = site.consumer().parameter("weight");
        int r = w.dim(0), n = w.dim(1);
        double[] a = w.toDoubleArray();
        double sum = 0;
        for (int j = 0; j < n; j++) {
            double ss = 0;
            for (int i = 0; i < r; i++) {
                ss += a[i * n + j] * a[i * n + j];
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

    @Override
    public String toString() {
        return NAME + "(scale=" + scale + ")";
    }
}
