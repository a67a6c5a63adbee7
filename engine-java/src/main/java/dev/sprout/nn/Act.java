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
 *
 * <p>{@link #relu1()} (type {@code relu1}) is the ReLU of GradMax's official code, {@code relu1 = tf.maximum(x, 0)}:
 * the same function as ReLU, but with derivative 1 at exactly 0 ({@code [x >= 0]}, where ReLU has {@code [x > 0]}),
 * so that neurons whose incoming weights are all zero (pre-activation exactly 0) still receive a gradient. It is
 * computed as {@code x + relu(-x)} from the ReLU kernels every backend has (forward bit-identical to ReLU for every
 * non-NaN input; derivative {@code 1 - relu'(-x) = [x >= 0]}; higher derivatives 0), so no backend needs a new
 * kernel. It is not fused with a preceding convolution or a following max pooling (those fusions assume
 * {@code relu'(0) = 0}). {@link #function()} is {@link Activation#RELU} for both.
 */
public final class Act extends Module {
    private final Activation f;
    private final double beta;
    private final boolean unitSlopeAtZero;

    public Act(Activation f, double beta) {
        this(f, beta, false);
    }

    private Act(Activation f, double beta, boolean unitSlopeAtZero) {
        if (f == null || !(beta > 0)) {
            throw new IllegalArgumentException("activation: need a function and beta > 0, got " + f + ", " + beta);
        }
        if (unitSlopeAtZero && f != Activation.RELU) {
            throw new IllegalArgumentException("activation: only relu has a unit-slope-at-zero variant, not " + f);
        }
        this.f = f;
        this.beta = beta;
        this.unitSlopeAtZero = unitSlopeAtZero;
    }

    public Act(Activation f) {
        this(f, 1.0);
    }

    public static Act relu() {
        return new Act(Activation.RELU);
    }

    /** ReLU with derivative 1 at exactly 0 (type {@code relu1}; see the class comment). */
    public static Act relu1() {
        return new Act(Activation.RELU, 1.0, true);
    }

    /** A new module computing the same activation (same function, beta and slope at zero). */
    public Act copy() {
        return new Act(f, beta, unitSlopeAtZero);
    }

    /** Whether this is {@link #relu1()}: ReLU with derivative 1 at 0. */
    public boolean unitSlopeAtZero() {
        return unitSlopeAtZero;
    }

    /** Whether this is the plain ReLU (derivative 0 at 0), the one convolution and pooling fusions assume. */
    public boolean isPlainRelu() {
        return f == Activation.RELU && !unitSlopeAtZero;
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
        if (unitSlopeAtZero) {
            if (order == 0) {
                return forward(z);
            }
            // d^k/dx^k relu(-x) = (-1)^k relu^(k)(-x): order 1 gives 1 - relu'(-x) = [x >= 0]; higher orders are 0
            Tensor r = Ops.activation(z.neg(), f, order, beta);
            return order == 1 ? r.neg().add(1.0) : (order % 2 == 0 ? r : r.neg());
        }
        return Ops.activation(z, f, order, beta);
    }

    @Override
    public Tensor forward(Tensor x) {
        if (unitSlopeAtZero) {
            return x.add(Ops.activation(x.neg(), f, 0, beta)); // max(x, 0) with gradient [x >= 0]
        }
        return Ops.activation(x, f, 0, beta);
    }

    @Override
    public String type() {
        return unitSlopeAtZero ? "relu1" : f.name().toLowerCase(Locale.ROOT);
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
