package dev.sprout.growth;

import dev.sprout.autograd.Autograd;
import dev.sprout.autograd.Ops;
import dev.sprout.backend.Activation;
import dev.sprout.nn.Act;
import dev.sprout.tensor.DType;
import dev.sprout.tensor.Tensor;

import java.util.ArrayList;
import java.util.List;

/**
 * The splitting matrices {@code S_i} of all neurons of a {@link Site}, as a matrix-free operator: given one
 * direction per neuron ({@code V = [C, D]}, row {@code i} = {@code v_i}) it returns {@code [C, D]} with row
 * {@code i} = {@code S_i v_i}, without ever forming a {@code D x D} matrix.
 *
 * <h2>Definition</h2>
 * For one batch, with its {@link SiteProbe} ({@code u [M, D]}, post-BN pre-activations {@code z [M, C]},
 * {@code g = dL/dh [M, C]} held fixed, BN scales {@code c}) and the layer's weights {@code Theta [C, D]},
 * <pre>
 *   f(Theta) = sum_{m,i} g[m,i] * sigma( c_i * (theta_i . u_m) + k[m,i] ),    k = z - c * (u Theta^T)  (at the current weights)
 * </pre>
 * The offset {@code k} makes the argument equal {@code z} at the current weights, and the neurons do not
 * interact, so the Hessian of {@code f} with respect to {@code Theta} is block diagonal with blocks exactly
 * {@code S_i = sum_m g[m,i] sigma''(z[m,i]) c_i^2 u_m u_m^T} (for ReLU, sigma is the softplus surrogate with
 * {@code surrogateBeta}, so sigma'' is {@link SiteProbe#sigma2}). Hence the Hessian-vector product of {@code f}
 * at {@code V} is the block product wanted. Over several batches the operator is their sample-weighted mean,
 * {@code S = sum_b (N_b / N) S_b} (the plain mean over batches when they are of equal size), which is the
 * splitting matrix of the mean loss over the whole sample, since each probe's {@code g} is the gradient of its
 * batch-mean loss.
 *
 * <h2>Products</h2>
 * <ul>
 *   <li>{@link Product#HVP}: {@link Autograd#hvp}{@code (f, {Theta}, {V})} per batch and application: the
 *   engine's reverse-over-reverse product. Four GEMMs of {@code 2 M D C} flops each (forward, gradient, and the two
 *   of the second backward pass), of which the first two do not depend on {@code V}.</li>
 *   <li>{@link Product#CACHED_HVP} (the default): the same reverse-over-reverse product, but the gradient
 *   {@code G(Theta) = df/dTheta} is built once per batch with its graph recorded, and each application only runs the
 *   second backward pass, {@code Autograd.grad({G}, {V}, {Theta})} = {@code d<G, V>/dTheta}: two GEMMs per
 *   application (plus two once per batch).</li>
 *   <li>{@link Product#DIRECT}: the formula {@code S_i v_i = U^T (a_i * (U v_i))} with
 *   {@code a = g sigma''(z) c^2} ({@link SiteProbe#splittingWeights}), for all neurons at once as
 *   {@code ((U V^T) * a)^T U}: two GEMMs per application. It is the independent reference the tests compare the
 *   Hessian-vector products with.</li>
 * </ul>
 *
 * <h2>Memory</h2>
 * The probes are computed once per batch (not once per Lanczos step) and turned into the operator's data at
 * construction: consecutive batches are concatenated into parts of up to {@link #MERGE_ROWS} rows (so that the
 * products run as a few large GEMMs rather than many small ones), each part holding {@code u} ({@code M x D}; for
 * a convolution {@code M = N * outH * outW} im2col rows, so this dominates), and three {@code M x C} arrays (the
 * weighted {@code g}, the offset {@code k}, the weighted {@code a}); with {@link Product#CACHED_HVP} the recorded
 * gradient graph adds about four more {@code M x C} intermediates. In all about {@code rows() * (D + 7 C)} values of
 * the network's dtype for the whole sample ({@link #bytes()}), held for the operator's lifetime; the operator keeps
 * no reference to the probes, so their {@code z}, {@code g} (and {@code u}, where batches were merged) can be
 * collected once the caller drops them (the peak during construction is about twice {@code u}). Examples: a
 * 196-input dense layer with 40 neurons over 6000 samples in f32, about 11 MB; a 3x3 convolution at 28x28 holds
 * {@code 784 * (9 C_in + 7 C)} values per sample, e.g. 0.4 MB per sample in f32 for {@code C_in = C = 16}, so
 * convolutional sites want growth samples of a few thousand images at most (or a smaller {@code batches} list).
 */
public final class SplittingOperator implements Lanczos.BlockOperator {

    /** Default softplus parameter of the ReLU surrogate (the official code's value). */
    public static final double DEFAULT_SURROGATE_BETA = 3.0;

    /** How {@link #apply(Tensor)} computes the products (see the class comment). */
    public enum Product {
        HVP, CACHED_HVP, DIRECT
    }

    /** Consecutive batches are merged into parts of at most this many rows (unless one batch alone is larger). */
    public static final int MERGE_ROWS = 8192;

    /** A run of consecutive batches, merged: rows of every batch, with its weight n_b / N folded into g and a. */
    private static final class Part {
        final Tensor u;          // [M, D]
        final Tensor gw;         // (n_b/N) g, [M, C]
        final Tensor offset;     // k = z - c * (u Theta^T), [M, C]
        final Tensor a;          // (n_b/N) g sigma''(z) c^2, [M, C]
        Tensor leaf, gradient;   // CACHED_HVP: Theta leaf and df/dTheta with its graph, built on first use

        Part(Tensor u, Tensor gw, Tensor offset, Tensor a) {
            this.u = u;
            this.gw = gw;
            this.offset = offset;
            this.a = a;
        }

        int rows() {
            return u.dim(0);
        }
    }

    private final String siteName;
    private final Act act;
    private final Activation sigma;
    private final double sigmaBeta, surrogateBeta;
    private final Product product;
    private final Tensor theta;   // [C, D], detached copy of the weights
    private final Tensor cScale;  // [C] or null when every c_i is 1
    private final List<Part> parts = new ArrayList<>();
    private final int neurons, dim;
    private final long rows;
    private final int samples;
    private int applications;
    private double flops;

    private SplittingOperator(Site site, List<SiteProbe> probes, double surrogateBeta, Product product) {
        if (probes.isEmpty()) {
            throw new IllegalArgumentException("splitting operator for " + site + ": no probes (empty sample)");
        }
        if (!(surrogateBeta > 0)) {
            throw new IllegalArgumentException("splitting operator: surrogate beta must be > 0, got " + surrogateBeta);
        }
        this.siteName = site.name();
        this.act = site.activation();
        this.surrogateBeta = surrogateBeta;
        this.product = product;
        boolean relu = act.function() == Activation.RELU;
        this.sigma = relu ? Activation.SOFTPLUS : act.function();
        this.sigmaBeta = relu ? surrogateBeta : act.beta();
        this.neurons = site.neurons();
        this.dim = site.fanIn();
        Tensor w = site.layer().parameter("weight");
        DType dt = w.dtype();
        this.theta = Tensor.of(w.toDoubleArray(), neurons, dim).to(dt);
        double[] c = probes.get(0).c();
        boolean ones = true;
        for (double x : c) {
            ones &= x == 1.0;
        }
        this.cScale = ones ? null : Tensor.of(c.clone(), neurons).to(dt);
        int n = 0;
        long m = 0;
        for (SiteProbe p : probes) {
            if (p.u().dim(1) != dim || p.z().dim(1) != neurons || p.g().dim(1) != neurons || p.c().length != neurons) {
                throw new IllegalArgumentException("splitting operator for " + site + ": probe shapes u " + p.u().describe()
                        + ", z " + p.z().describe() + " do not match " + neurons + " neurons of fan-in " + dim);
            }
            if (p.u().dtype() != dt) {
                throw new IllegalArgumentException("splitting operator for " + site + ": probe dtype " + p.u().dtype()
                        + " differs from the weights' " + dt);
            }
            n += p.samples();
            m += p.rows();
        }
        this.samples = n;
        this.rows = m;
        try (Autograd.Scope s = Autograd.noGrad()) {
            List<Tensor> us = new ArrayList<>(), gs = new ArrayList<>(), ks = new ArrayList<>(), as = new ArrayList<>();
            int held = 0;
            for (SiteProbe p : probes) {
                if (held > 0 && held + p.rows() > MERGE_ROWS) {
                    parts.add(merge(us, gs, ks, as));
                    held = 0;
                }
                double wb = (double) p.samples() / n;
                Tensor pre = p.u().matmul(theta.transpose(0, 1));
                if (cScale != null) {
                    pre = pre.mul(cScale);
                }
                us.add(p.u());
                gs.add(p.g().mul(wb));
                ks.add(p.z().sub(pre));
                as.add(p.splittingWeights(act, surrogateBeta).mul(wb));
                held += p.rows();
            }
            parts.add(merge(us, gs, ks, as));
        }
    }

    private static Part merge(List<Tensor> us, List<Tensor> gs, List<Tensor> ks, List<Tensor> as) {
        Part p = new Part(cat(us), cat(gs), cat(ks), cat(as));
        us.clear();
        gs.clear();
        ks.clear();
        as.clear();
        return p;
    }

    private static Tensor cat(List<Tensor> ts) {
        return ts.size() == 1 ? ts.get(0).contiguous() : Ops.concat(0, ts.toArray(new Tensor[0]));
    }

    /**
     * The operator of a site over the probes of its batches (each from {@link SiteProbe#run} on the network as it
     * is now; the weights are read now).
     */
    public static SplittingOperator of(Site site, List<SiteProbe> probes, double surrogateBeta, Product product) {
        return new SplittingOperator(site, List.copyOf(probes), surrogateBeta, java.util.Objects.requireNonNull(product, "product"));
    }

    /** The operator with the default product ({@link Product#CACHED_HVP}). */
    public static SplittingOperator of(Site site, List<SiteProbe> probes, double surrogateBeta) {
        return of(site, probes, surrogateBeta, Product.CACHED_HVP);
    }

    // ------------------------------------------------------------------------------------------ products

    /** Row {@code i} of the result is {@code S_i v_i}; {@code v} is {@code [C, D]} (any real dtype). */
    public Tensor apply(Tensor v) {
        return switch (product) {
            case HVP -> hvp(v);
            case CACHED_HVP -> cachedHvp(v);
            case DIRECT -> direct(v);
        };
    }

    /** The products by {@link Autograd#hvp} of {@code f} (the Hessian of {@code f} is block diagonal in the S_i). */
    public Tensor hvp(Tensor v) {
        Tensor vv = check(v);
        Tensor sum = null;
        for (Part p : parts) {
            Tensor hv = Autograd.hvp(th -> f(th[0], p), new Tensor[] {theta}, new Tensor[] {vv})[0];
            sum = accumulate(sum, hv);
            flops += 8.0 * p.rows() * dim * neurons;
        }
        applications++;
        return sum;
    }

    /** The same products as {@link #hvp}, re-using each batch's recorded gradient graph (second backward only). */
    public Tensor cachedHvp(Tensor v) {
        Tensor vv = check(v);
        Tensor sum = null;
        for (Part p : parts) {
            if (p.gradient == null) {
                p.leaf = theta.detach().requiresGrad(true);
                try (Autograd.Scope s = Autograd.enableGrad()) {
                    p.gradient = Autograd.grad(f(p.leaf, p), new Tensor[] {p.leaf}, true)[0];
                }
                flops += 4.0 * p.rows() * dim * neurons;
            }
            Tensor hv = p.gradient.requiresGrad()
                    ? Autograd.grad(new Tensor[] {p.gradient}, new Tensor[] {vv}, new Tensor[] {p.leaf}, false)[0]
                    : Tensor.zeros(theta.dtype(), neurons, dim); // f is affine in Theta (identity activation)
            sum = accumulate(sum, hv);
            flops += 4.0 * p.rows() * dim * neurons;
        }
        applications++;
        return sum;
    }

    /** The direct formula {@code ((U V^T) * a)^T U}. */
    public Tensor direct(Tensor v) {
        Tensor vv = check(v);
        Tensor sum = null;
        try (Autograd.Scope s = Autograd.noGrad()) {
            for (Part p : parts) {
                Tensor uv = p.u.matmul(vv.transpose(0, 1));          // [M, C]: column i = U v_i
                Tensor r = uv.mul(p.a).transpose(0, 1).matmul(p.u); // [C, D]
                sum = accumulate(sum, r);
                flops += 4.0 * p.rows() * dim * neurons;
            }
        }
        applications++;
        return sum;
    }

    @Override
    public void apply(double[] in, double[] out) {
        Tensor r = apply(Tensor.of(in, neurons, dim).to(theta.dtype()));
        double[] d = r.toDoubleArray();
        System.arraycopy(d, 0, out, 0, d.length);
    }

    /** f(Theta) = sum gw * sigma(c * (u Theta^T) + k) for one part. */
    private Tensor f(Tensor th, Part p) {
        Tensor pre = p.u.matmul(th.transpose(0, 1)); // [M, C]
        if (cScale != null) {
            pre = pre.mul(cScale);
        }
        return Ops.activation(pre.add(p.offset), sigma, 0, sigmaBeta).mul(p.gw).sum();
    }

    private Tensor check(Tensor v) {
        if (v.rank() != 2 || v.dim(0) != neurons || v.dim(1) != dim) {
            throw new IllegalArgumentException("splitting operator of site " + siteName + ": directions " + v.describe()
                    + " must be [" + neurons + ", " + dim + "]");
        }
        return (v.dtype() == theta.dtype() ? v : v.to(theta.dtype())).detach();
    }

    private static Tensor accumulate(Tensor sum, Tensor x) {
        try (Autograd.Scope s = Autograd.noGrad()) {
            if (sum == null) {
                return x.detach().contiguous().mul(1.0); // a fresh tensor: never a view of the graph's or the caller's
            }
            return sum.addScaled_(x.detach().contiguous(), 1.0);
        }
    }

    // ------------------------------------------------------------------------------------------ facts

    /** Neurons (operators): C. */
    @Override
    public int count() {
        return neurons;
    }

    /** Fan-in: D. */
    @Override
    public int dim() {
        return dim;
    }

    /** Rows {@code M} of all batches together (samples times output positions). */
    public long rows() {
        return rows;
    }

    /** Samples over all batches. */
    public int samples() {
        return samples;
    }

    public int batches() {
        return parts.size();
    }

    public Product product() {
        return product;
    }

    /** Applications so far. */
    public int applications() {
        return applications;
    }

    /** Floating-point operations of the applications so far (GEMMs only; see the class comment). */
    public double flops() {
        return flops;
    }

    /** Rough heap held for the probes and cached arrays (see the class comment). */
    public long bytes() {
        return rows * (dim + 7L * neurons) * (theta.dtype() == DType.F64 ? 8 : 4);
    }
}
