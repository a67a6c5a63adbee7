package dev.sprout.nn;

import dev.sprout.autograd.ConvOps;
import dev.sprout.autograd.Ops;
import dev.sprout.backend.ConvGeometry;
import dev.sprout.tensor.DType;
import dev.sprout.tensor.Rng;
import dev.sprout.tensor.ShapeException;
import dev.sprout.tensor.Tensor;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * 2-D convolution lowered to matrix products by the fused {@link ConvOps#conv2d}: each image is unfolded by the
 * backend's im2col into {@code [C*k*k, outH*outW]} (a scratch buffer that stays in cache) and multiplied by the
 * weight viewed as {@code [out, C*k*k]}, with the bias as the product's initial value. {@link #forwardComposite}
 * is the same computation from separate ops.
 * Weight {@code [out, in, k, k]}: filter i (a row of the viewed weight) is neuron i's incoming vector.
 */
public final class Conv2d extends Module {
    private int in, out;
    private final int kernel, stride, padding;
    private final boolean bias;

    public Conv2d(int in, int out, int kernel, int stride, int padding, boolean bias, Rng rng, DType dtype) {
        if (in <= 0 || out <= 0 || kernel <= 0 || stride <= 0 || padding < 0) {
            throw new IllegalArgumentException("conv2d: invalid in=" + in + " out=" + out + " kernel=" + kernel
                    + " stride=" + stride + " padding=" + padding);
        }
        this.in = in;
        this.out = out;
        this.kernel = kernel;
        this.stride = stride;
        this.padding = padding;
        this.bias = bias;
        double bound = 1.0 / Math.sqrt((double) in * kernel * kernel);
        registerParameter("weight", Tensor.rand(rng, dtype, -bound, bound, out, in, kernel, kernel));
        if (bias) {
            registerParameter("bias", Tensor.rand(rng, dtype, -bound, bound, out));
        }
    }

    public int in() {
        return in;
    }

    public int out() {
        return out;
    }

    public int kernel() {
        return kernel;
    }

    public int stride() {
        return stride;
    }

    public int padding() {
        return padding;
    }

    public boolean hasBias() {
        return bias;
    }

    /** The geometry for one input image of size h x w. */
    public ConvGeometry geometry(int h, int w) {
        return new ConvGeometry(in, h, w, kernel, kernel, stride, stride, padding, padding);
    }

    @Override
    public Tensor forward(Tensor x) {
        if (x.rank() != 4 || x.dim(1) != in) {
            throw new ShapeException("conv2d(" + in + "->" + out + "): input " + x.describe() + " must be [N, " + in + ", H, W]");
        }
        ConvGeometry g = geometry(x.dim(2), x.dim(3));
        return ConvOps.conv2d(x, parameter("weight"), bias ? parameter("bias") : null, g);
    }

    /** {@code relu(forward(x))} by the fused {@link ConvOps#conv2dRelu} (the ReLU applied to each image in cache). */
    public Tensor forwardRelu(Tensor x) {
        if (x.rank() != 4 || x.dim(1) != in) {
            throw new ShapeException("conv2d(" + in + "->" + out + "): input " + x.describe() + " must be [N, " + in + ", H, W]");
        }
        return ConvOps.conv2dRelu(x, parameter("weight"), bias ? parameter("bias") : null, geometry(x.dim(2), x.dim(3)));
    }

    /**
     * {@code pool.forward(forward(x))} for a max pooling, by the fused {@link ConvOps#conv2dMaxPool} (the
     * convolution's output is pooled image by image and never stored whole).
     */
    public Tensor forwardPooled(Tensor x, Pool2d pool) {
        if (!pool.isMax()) {
            throw new IllegalArgumentException("conv2d: forwardPooled needs a max pooling, got " + pool.type());
        }
        if (x.rank() != 4 || x.dim(1) != in) {
            throw new ShapeException("conv2d(" + in + "->" + out + "): input " + x.describe() + " must be [N, " + in + ", H, W]");
        }
        ConvGeometry g = geometry(x.dim(2), x.dim(3));
        return ConvOps.conv2dMaxPool(x, parameter("weight"), bias ? parameter("bias") : null, g, pool.kernel(), pool.stride());
    }

    /**
     * The composite form of {@link #forward}: im2col of the whole batch, one batched matrix product and a
     * broadcast bias add. Same values and gradients, more memory; kept as the reference the fused op is tested against.
     */
    public Tensor forwardComposite(Tensor x) {
        if (x.rank() != 4 || x.dim(1) != in) {
            throw new ShapeException("conv2d(" + in + "->" + out + "): input " + x.describe() + " must be [N, " + in + ", H, W]");
        }
        ConvGeometry g = geometry(x.dim(2), x.dim(3));
        Tensor cols = Ops.im2col(x, g);                                    // [N, C*k*k, L]
        Tensor w = parameter("weight").reshape(out, in * kernel * kernel); // [out, C*k*k]
        Tensor y = w.matmul(cols);                                         // [N, out, L]
        if (bias) {
            y = y.add(parameter("bias").reshape(out, 1));
        }
        return y.reshape(x.dim(0), out, g.outH(), g.outW());
    }

    @Override
    protected void onResized() {
        Tensor w = parameter("weight");
        if (w.rank() != 4 || w.dim(2) != kernel || w.dim(3) != kernel
                || (bias && parameter("bias").dim(0) != w.dim(0))) {
            throw new ShapeException("conv2d: inconsistent parameters after resize: weight " + w.describe());
        }
        out = w.dim(0);
        in = w.dim(1);
    }

    @Override
    public String type() {
        return "conv2d";
    }

    @Override
    public Map<String, Object> config() {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("in", in);
        c.put("out", out);
        c.put("kernel", kernel);
        c.put("stride", stride);
        c.put("padding", padding);
        c.put("bias", bias);
        return c;
    }

    @Override
    public int[] outputShape(int[] s) {
        ConvGeometry g = geometry(s[1], s[2]);
        return new int[] {out, g.outH(), g.outW()};
    }

    @Override
    public long flopsPerExample(int[] s) {
        ConvGeometry g = geometry(s[1], s[2]);
        return (2L * in * kernel * kernel + (bias ? 1 : 0)) * out * g.outH() * g.outW();
    }
}
