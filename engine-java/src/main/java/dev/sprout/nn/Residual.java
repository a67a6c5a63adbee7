package dev.sprout.nn;

import dev.sprout.autograd.Ops;
import dev.sprout.backend.Activation;
import dev.sprout.tensor.DType;
import dev.sprout.tensor.Rng;
import dev.sprout.tensor.Tensor;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * A dense residual block {@code y = x + W2 sigma(W1 x + b1) + b2} on {@code [N, C]} inputs, with {@code W1}
 * ({@code in_weight}, {@code [M, C]}), {@code b1} ({@code in_bias}, {@code [M]}), {@code W2} ({@code out_weight},
 * {@code [C, M]}) and {@code b2} ({@code out_bias}, {@code [C]}); {@code M} is the block's inner width (its neurons).
 * Built by the constructor as a <b>zero residual</b>: {@code W1, b1} as a {@link Linear} (uniform in
 * {@code +-1/sqrt(C)}), {@code W2 = 0, b2 = 0}, so the block computes the identity and a network that receives it
 * computes the same function, whatever {@code sigma}. Depth growth (Firefly's new-layer candidates for activations
 * other than ReLU) inserts it after a hidden layer; its gradients flow through the ordinary autograd ops, so
 * higher-order derivatives (Hessian-vector products) work through it as through any other layer.
 */
public final class Residual extends Module {
    private int features, hidden;
    private final Activation f;
    private final double beta;

    public Residual(int features, int hidden, Activation f, double beta, Rng rng, DType dtype) {
        if (features <= 0 || hidden <= 0) {
            throw new IllegalArgumentException("residual: sizes must be positive, got features=" + features + " hidden=" + hidden);
        }
        if (f == null || f == Activation.IDENTITY || !(beta > 0)) {
            throw new IllegalArgumentException("residual: need a non-identity activation and beta > 0, got " + f + ", " + beta);
        }
        this.features = features;
        this.hidden = hidden;
        this.f = f;
        this.beta = beta;
        double bound = 1.0 / Math.sqrt(features);
        registerParameter("in_weight", Tensor.rand(rng, dtype, -bound, bound, hidden, features));
        registerParameter("in_bias", Tensor.rand(rng, dtype, -bound, bound, hidden));
        registerParameter("out_weight", Tensor.zeros(dtype, features, hidden));
        registerParameter("out_bias", Tensor.zeros(dtype, features));
    }

    /** Width of the input and output ({@code C}). */
    public int features() {
        return features;
    }

    /** Inner width ({@code M}): the block's neurons. */
    public int hidden() {
        return hidden;
    }

    public Activation function() {
        return f;
    }

    public double beta() {
        return beta;
    }

    @Override
    public Tensor forward(Tensor x) {
        return apply(x, parameter("in_weight"), parameter("in_bias"), parameter("out_weight"), parameter("out_bias"));
    }

    /** The block's function with the given parameters (e.g. detached ones). */
    public Tensor apply(Tensor x, Tensor w1, Tensor b1, Tensor w2, Tensor b2) {
        if (x.rank() != 2 || x.dim(1) != features) {
            throw new dev.sprout.tensor.ShapeException("residual(" + features + ", hidden " + hidden + "): input "
                    + x.describe() + " must be [N, " + features + "]");
        }
        Tensor a = Ops.activation(x.matmul(w1.transpose(0, 1)).add(b1), f, 0, beta);
        return x.add(a.matmul(w2.transpose(0, 1)).add(b2));
    }

    @Override
    protected void onResized() {
        Tensor w1 = parameter("in_weight"), b1 = parameter("in_bias"), w2 = parameter("out_weight"), b2 = parameter("out_bias");
        if (w1.rank() != 2 || w2.rank() != 2 || b1.rank() != 1 || b2.rank() != 1 || w2.dim(0) != w1.dim(1)
                || w2.dim(1) != w1.dim(0) || b1.dim(0) != w1.dim(0) || b2.dim(0) != w1.dim(1)) {
            throw new dev.sprout.tensor.ShapeException("residual: inconsistent parameters after resize: in_weight " + w1.describe()
                    + ", in_bias " + b1.describe() + ", out_weight " + w2.describe() + ", out_bias " + b2.describe());
        }
        hidden = w1.dim(0);
        features = w1.dim(1);
    }

    @Override
    public String type() {
        return "residual";
    }

    @Override
    public Map<String, Object> config() {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("features", features);
        c.put("hidden", hidden);
        c.put("activation", f.name().toLowerCase(Locale.ROOT));
        if (f == Activation.SOFTPLUS) {
            c.put("beta", beta);
        }
        return c;
    }

    @Override
    public long flopsPerExample(int[] inputShape) {
        return 4L * features * hidden + 2L * hidden + 2L * features;
    }
}
