package dev.sprout.nn;

import dev.sprout.autograd.Ops;
import dev.sprout.backend.Activation;
import dev.sprout.tensor.Tensor;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * A pointwise activation layer: ReLU, tanh, sigmoid, softplus(beta), RBF {@code exp(-z^2/2)}. Its function
 * and derivatives of any order up to {@link Activation#MAX_ORDER} are available through {@link #derivative}
 * (splitting methods need sigma'').
 */
public final class Act extends Module {
    private final Activation f;
    private final double beta;

    public Act(Activation f, double beta) {
        if (f == null || !(beta > 0)) {
            throw new IllegalArgumentException("activation: need a function and beta > 0, got " + f + ", " + beta);
        }
        this.f = f;
        this.beta = beta;
    }

    public Act(Activation f) {
        this(f, 1.0);
    }

    public static Act relu() {
        return new Act(Activation.RELU);
    }

    public static Act tanh() {
        return new Act(Activation.TANH);
    }

    public Activation function() {
        return f;
    }

    public double beta() {
        return beta;
    }

    /** sigma^(order) applied to pre-activations z (differentiable). */
    public Tensor derivative(Tensor z, int order) {
        return Ops.activation(z, f, order, beta);
    }

    @Override
    public Tensor forward(Tensor x) {
        return Ops.activation(x, f, 0, beta);
    }

    @Override
    public String type() {
        return f.name().toLowerCase(Locale.ROOT);
    }

    @Override
    public Map<String, Object> config() {
        Map<String, Object> c = new LinkedHashMap<>();
        if (f == Activation.SOFTPLUS) {
            c.put("beta", beta);
        }
        return c;
    }

    @Override
    public long flopsPerExample(int[] s) {
        long n = 1;
        for (int d : s) {
            n *= d;
        }
        return n;
    }
}
