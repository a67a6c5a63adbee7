package dev.sprout.nn;

import dev.sprout.autograd.Ops;
import dev.sprout.tensor.DType;
import dev.sprout.tensor.Rng;
import dev.sprout.tensor.ShapeException;
import dev.sprout.tensor.Tensor;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code y = x W^T + b} with {@code W} of shape {@code [out, in]}: row i of W holds neuron i's incoming weights
 * (the vector growth methods split), column j the weights leaving input j. Initialised like PyTorch:
 * uniform in +-1/sqrt(in) for both.
 */
public final class Linear extends Module {
    private int in, out;
    private final boolean bias;

    public Linear(int in, int out, boolean bias, Rng rng, DType dtype) {
        if (in <= 0 || out <= 0) {
            throw new IllegalArgumentException("linear: sizes must be positive, got in=" + in + " out=" + out);
        }
        this.in = in;
        this.out = out;
        this.bias = bias;
        double bound = 1.0 / Math.sqrt(in);
        registerParameter("weight", Tensor.rand(rng, dtype, -bound, bound, out, in));
        if (bias) {
            registerParameter("bias", Tensor.rand(rng, dtype, -bound, bound, out));
        }
    }

    public Linear(int in, int out, Rng rng) {
        this(in, out, true, rng, DType.F32);
    }

    public int in() {
        return in;
    }

    public int out() {
        return out;
    }

    public boolean hasBias() {
        return bias;
    }

    public Tensor weight() {
        return parameter("weight");
    }

    @Override
    public Tensor forward(Tensor x) {
        return apply(x, false);
    }

    /** The layer on the last axis of {@code x} (leading axes flattened for the product), optionally with a ReLU. */
    private Tensor apply(Tensor x, boolean relu) {
        if (x.rank() < 1 || x.dim(-1) != in) {
            throw new ShapeException("linear(" + in + "->" + out + "): input " + x.describe() + " must end in " + in);
        }
        Tensor x2 = x.rank() == 2 ? x : x.reshape(-1, in);
        Tensor b = bias ? parameter("bias") : null;
        Tensor y = relu ? Ops.linearRelu(x2, weight(), b) : Ops.linear(x2, weight(), b);
        if (x.rank() != 2) {
            int[] d = x.shape().toArray();
            d[d.length - 1] = out;
            y = y.reshape(d);
        }
        return y;
    }

    /**
     * {@code relu(forward(x))} by the fused {@link Ops#linearRelu} (the ReLU applied in place to the product's output:
     * one buffer and one pass fewer); the same values and gradients. {@link Sequential} uses it for a linear layer
     * followed by a plain ReLU.
     */
    public Tensor forwardRelu(Tensor x) {
        return apply(x, true);
    }

    @Override
    protected void onResized() {
        Tensor w = weight();
        if (w.rank() != 2 || (bias && (parameter("bias").rank() != 1 || parameter("bias").dim(0) != w.dim(0)))) {
            throw new ShapeException("linear: inconsistent parameters after resize: weight " + w.describe()
                    + (bias ? ", bias " + parameter("bias").describe() : ""));
        }
        out = w.dim(0);
        in = w.dim(1);
    }

    @Override
    public String type() {
        return "linear";
    }

    @Override
    public Map<String, Object> config() {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("in", in);
        c.put("out", out);
        c.put("bias", bias);
        return c;
    }

    @Override
    public long flopsPerExample(int[] inputShape) {
        return 2L * in * out + (bias ? out : 0);
    }

    @Override
    public int[] outputShape(int[] inputShape) {
        return new int[] {out};
    }
}
