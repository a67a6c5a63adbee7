package dev.sprout.growth;

import dev.sprout.autograd.Autograd;
import dev.sprout.backend.Activation;
import dev.sprout.backend.Backends;
import dev.sprout.data.Batches;
import dev.sprout.data.Dataset;
import dev.sprout.tensor.DType;
import dev.sprout.tensor.Tensor;
import dev.sprout.train.Trainer;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * The splitting matrices of every neuron of one growable {@link Site} (spec section 2.1):
 * <pre>
 *   S_i = E_x [ sum_p  g_i(x,p) sigma''(z_i(x,p)) c_i^2 u(x,p) u(x,p)^T ]        (D x D, D = the site's fan-in)
 * </pre>
 * the second-order coefficient of the loss change when neuron {@code i} is split: for offspring
 * {@code theta_i +- eps v} with halved outgoing weights, {@code L(eps) - L(0) = (eps^2/2) v^T S_i v + O(eps^4)}.
 *
 * <h2>How it is computed</h2>
 * For each batch of the sample, {@link SiteProbe#run} gives the layer inputs {@code u} ({@code [M, D]}), and
 * {@link SiteProbe#splittingWeights} the weights {@code a = g sigma''(z) c^2} ({@code [M, C]}); then one call of
 * {@link dev.sprout.backend.Backend#weightedGram} accumulates {@code S_i += sum_m a[m, i] u_m u_m^T} for all
 * neurons at once (the direct formula {@code S_i = X^T diag(a_i) X} of spec section 2.3, no autograd trick). The
 * probe's gradient is that of the batch-mean loss, and each batch is weighted by {@code n_b / N}, so the result
 * is the splitting matrix of the mean loss over the whole sample (with equal batches: the batch-mean average,
 * i.e. the sum over batches divided by their number). Batch norm is in evaluation mode (running statistics),
 * ReLU's {@code sigma''} comes from the softplus surrogate with parameter {@code surrogateBeta} (3 in the
 * official code), as {@link SiteProbe} does.
 *
 * <p>The matrices keep the model's dtype: an f32 model accumulates in {@code float[]}, an f64 model in
 * {@code double[]}. Batch inputs (f32 in a {@link Dataset}) and regression targets are converted to the model's
 * dtype first.
 *
 * <h2>Cost</h2>
 * Accumulation: {@code 2 M D^2} flops per neuron per batch ({@code M} = samples times output positions), recorded
 * with the probe's wall time under the phase {@code statistics}. Memory: {@code C D^2} numbers of the model's
 * dtype. Eigenpairs ({@link #smallest}, {@link #largest}): the backend's smallest-k path, about
 * {@code 4/3 D^3 + 2 D^2 k} flops per matrix (tridiagonalisation plus back-transformation, see
 * {@link dev.sprout.linalg.SymmetricEigen}), recorded under {@code eigen}.
 */
public final class SplittingMatrices {
    /** The official code's softplus surrogate parameter for ReLU's {@code sigma''}. */
    public static final double DEFAULT_SURROGATE_BETA = 3.0;

    private final Site site;
    private final String siteName;
    private final int neurons, dim, batches;
    private final long rows;
    private final DType dtype;
    private final float[] s32;   // [C, D, D] for an f32 model, else null
    private final double[] s64;  // [C, D, D] for an f64 model, else null

    private SplittingMatrices(Site site, int neurons, int dim, int batches, long rows, DType dtype, float[] s32,
                              double[] s64) {
        this.site = site;
        this.siteName = site.name();
        this.neurons = neurons;
        this.dim = dim;
        this.batches = batches;
        this.rows = rows;
        this.dtype = dtype;
        this.s32 = s32;
        this.s64 = s64;
    }

    /** One extreme eigenpair per neuron: {@code values[i]} and the unit vector {@code vectors[i]} (length D). */
    public record Eigenpairs(double[] values, double[][] vectors) {
        /** Index of the neuron with the smallest value. */
        public int argmin() {
            int best = 0;
            for (int i = 1; i < values.length; i++) {
                if (values[i] < values[best]) {
                    best = i;
                }
            }
            return best;
        }
    }

    // ------------------------------------------------------------------------------------------ computing

    /**
     * Refuses a site whose {@code sigma''} is zero everywhere (identity activation): its splitting matrices are
     * zero and splitting cannot change the loss at second order. ReLU is accepted (softplus surrogate).
     *
     * @throws IllegalArgumentException naming the layer
     */
    public static void checkSplittable(Site site) {
        Activation f = site.activation().function();
        if (f == Activation.IDENTITY) {
            throw new IllegalArgumentException("splitting: layer " + site.name() + " (" + site.layer().type()
                    + ") is followed by an identity activation, whose sigma'' is 0 everywhere, so its splitting matrices"
                    + " vanish and splitting cannot lower the loss; use a non-linear activation (tanh, softplus, rbf,"
                    + " sigmoid, or relu with the softplus surrogate) or a method that adds new neurons");
        }
    }

    /** The splitting matrices of every site of the context's network, in site order (all sites checked first). */
    public static List<SplittingMatrices> all(GrowthContext ctx, double surrogateBeta) {
        List<Site> sites = ctx.sites();
        requireSites(sites);
        for (Site s : sites) {
            checkSplittable(s);
        }
        List<Batches.Batch> batches = ctx.batches();
        List<SplittingMatrices> out = new ArrayList<>();
        for (Site s : sites) {
            out.add(of(s, batches, ctx.sample(), surrogateBeta, ctx.cost()));
        }
        return out;
    }

    /** The splitting matrices of one site, over the context's batches. */
    public static SplittingMatrices of(Site site, GrowthContext ctx, double surrogateBeta) {
        return of(site, ctx.batches(), ctx.sample(), surrogateBeta, ctx.cost());
    }

    /**
     * The splitting matrices of one site over the given batches of {@code data} (the loss is the one training
     * uses for {@code data}: cross-entropy or MSE).
     *
     * @param cost where the time ({@code statistics}) and flops are recorded; may be null
     */
    public static SplittingMatrices of(Site site, List<Batches.Batch> batches, Dataset data, double surrogateBeta,
                                       CostMeter cost) {
        checkSplittable(site);
        if (!(surrogateBeta > 0) || !Double.isFinite(surrogateBeta)) {
            throw new IllegalArgumentException("splitting: surrogate beta must be positive and finite, got " + surrogateBeta);
        }
        if (batches.isEmpty()) {
            throw new IllegalArgumentException("splitting: no batches to measure on");
        }
        CostMeter meter = cost != null ? cost : new CostMeter();
        return meter.time("statistics", () -> accumulate(site, batches, data, surrogateBeta, meter));
    }

    private static SplittingMatrices accumulate(Site site, List<Batches.Batch> batches, Dataset data, double beta,
                                                CostMeter meter) {
        DType dt = modelDType(site);
        int c = site.neurons(), d = site.fanIn();
        long len = (long) c * d * d;
        if (len > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("splitting: " + c + " matrices of " + d + " x " + d + " for layer "
                    + site.name() + " do not fit in one array (" + len + " entries); use a matrix-free method (fast)");
        }
        float[] s32 = dt == DType.F32 ? new float[(int) len] : null;
        double[] s64 = dt == DType.F64 ? new double[(int) len] : null;
        meter.sampleMemory();
        long total = 0;
        for (Batches.Batch b : batches) {
            total += b.size();
        }
        long rows = 0;
        for (Batches.Batch b : batches) {
            Batches.Batch cb = inDType(b, dt);
            SiteProbe probe = SiteProbe.run(site, cb.inputs(), lossFor(cb, data));
            Tensor a;
            try (Autograd.Scope s = Autograd.noGrad()) {
                a = probe.splittingWeights(site.activation(), beta).mul((double) b.size() / total);
            }
            int m = probe.rows();
            if (dt == DType.F32) {
                Backends.current().weightedGram(m, d, c, probe.u().toFloatArray(), 0, a.toFloatArray(), 0, s32, 0);
            } else {
                Backends.current().weightedGram(m, d, c, probe.u().toDoubleArray(), 0, a.toDoubleArray(), 0, s64, 0);
            }
            meter.addFlops(2.0 * m * d * (double) d * c);
            meter.sampleMemory();
            rows += m;
        }
        return new SplittingMatrices(site, c, d, batches.size(), rows, dt, s32, s64);
    }

    static void requireSites(List<Site> sites) {
        if (sites.isEmpty()) {
            throw new IllegalArgumentException("growth: the network has no growable layer (a linear or conv layer"
                    + " followed by an activation and consumed by another linear or conv layer)");
        }
    }

    /** The dtype of the site's weights (the model's dtype). */
    static DType modelDType(Site site) {
        DType dt = site.layer().parameter("weight").dtype();
        if (dt != DType.F32 && dt != DType.F64) {
            throw new IllegalArgumentException("splitting: layer " + site.name() + " has " + dt + " weights; only f32 and f64 are supported");
        }
        return dt;
    }

    /** The batch with inputs (and regression targets) converted to {@code dt}. */
    static Batches.Batch inDType(Batches.Batch b, DType dt) {
        Tensor x = b.inputs().dtype() == dt ? b.inputs() : b.inputs().to(dt);
        Tensor y = b.targets() == null || b.targets().dtype() == dt ? b.targets() : b.targets().to(dt);
        return new Batches.Batch(b.index(), b.indices(), x, b.labels(), y);
    }

    /** The batch-mean loss training uses, for a batch already in the model's dtype. */
    static Function<Tensor, Tensor> lossFor(Batches.Batch b, Dataset data) {
        return out -> Trainer.loss(out, b, data);
    }

    // ------------------------------------------------------------------------------------------ access

    /** The site these matrices belong to (as it was when they were computed). */
    public Site site() {
        return site;
    }

    /** The site's name. */
    public String siteName() {
        return siteName;
    }

    public int neurons() {
        return neurons;
    }

    /** D, the neurons' fan-in (matrix size). */
    public int dim() {
        return dim;
    }

    /** The dtype the matrices were accumulated in (the model's). */
    public DType dtype() {
        return dtype;
    }

    /** Number of batches accumulated. */
    public int batches() {
        return batches;
    }

    /** Total rows (samples times output positions) accumulated. */
    public long rows() {
        return rows;
    }

    /** A copy of neuron {@code i}'s matrix, row-major {@code D x D}, in double. */
    public double[] matrix(int i) {
        checkNeuron(i);
        double[] out = new double[dim * dim];
        int off = i * dim * dim;
        for (int k = 0; k < out.length; k++) {
            out[k] = at(off + k);
        }
        return out;
    }

    /** {@code v^T S_i v} (in double). */
    public double quadraticForm(int i, double[] v) {
        checkNeuron(i);
        if (v.length != dim) {
            throw new IllegalArgumentException("quadraticForm: vector of length " + v.length + ", matrices are " + dim + " x " + dim);
        }
        int off = i * dim * dim;
        double q = 0;
        for (int r = 0; r < dim; r++) {
            double row = 0;
            for (int k = 0; k < dim; k++) {
                row += at(off + r * dim + k) * v[k];
            }
            q += v[r] * row;
        }
        return q;
    }

    private double at(int k) {
        return s32 != null ? s32[k] : s64[k];
    }

    private void checkNeuron(int i) {
        if (i < 0 || i >= neurons) {
            throw new IndexOutOfBoundsException("neuron " + i + " outside [0, " + neurons + ") of layer " + siteName);
        }
    }

    // ------------------------------------------------------------------------------------------ eigenpairs

    /** The smallest eigenpair ({@code lambda_min}, unit {@code v_min}) of every neuron's matrix. */
    public Eigenpairs smallest(CostMeter cost) {
        return extreme(false, cost);
    }

    /** The largest eigenpair ({@code lambda_max}, unit {@code v_max}): the smallest of {@code -S_i}, negated. */
    public Eigenpairs largest(CostMeter cost) {
        return extreme(true, cost);
    }

    private Eigenpairs extreme(boolean largest, CostMeter cost) {
        CostMeter meter = cost != null ? cost : new CostMeter();
        return meter.time("eigen", () -> {
            int n = dim, c = neurons;
            double[] values = new double[c];
            double[][] vectors = new double[c][n];
            if (s32 != null) {
                float[] a = s32;
                if (largest) {
                    a = s32.clone();
                    for (int k = 0; k < a.length; k++) {
                        a[k] = -a[k];
                    }
                }
                float[] w = new float[c], v = new float[c * n];
                Backends.current().symEig(c, n, 1, a, 0, w, 0, v, 0);
                for (int i = 0; i < c; i++) {
                    values[i] = largest ? -w[i] : w[i];
                    for (int k = 0; k < n; k++) {
                        vectors[i][k] = v[i * n + k];
                    }
                }
            } else {
                double[] a = s64;
                if (largest) {
                    a = s64.clone();
                    for (int k = 0; k < a.length; k++) {
                        a[k] = -a[k];
                    }
                }
                double[] w = new double[c], v = new double[c * n];
                Backends.current().symEig(c, n, 1, a, 0, w, 0, v, 0);
                for (int i = 0; i < c; i++) {
                    values[i] = largest ? -w[i] : w[i];
                    System.arraycopy(v, i * n, vectors[i], 0, n);
                }
            }
            meter.addFlops(c * (4.0 / 3.0 * n * (double) n * n + 2.0 * n * (double) n));
            meter.sampleMemory();
            return new Eigenpairs(values, vectors);
        });
    }
}
