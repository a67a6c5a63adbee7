package dev.sprout.nn;

import dev.sprout.autograd.ConvOps;
import dev.sprout.autograd.Ops;
import dev.sprout.backend.ConvGeometry;
import dev.sprout.tensor.ShapeException;
import dev.sprout.tensor.Tensor;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Max or average pooling over {@code k x k} windows with a stride (no padding). Max pooling is the fused
 * {@link ConvOps#maxPool2d} (the gradient goes to the first maximal element of each window); average pooling,
 * and {@link #forwardComposite} for both, unfold each channel by im2col as a one-channel image and reduce over the
 * window axis with differentiable ops.
 */
public final class Pool2d extends Module {
    private final boolean max;
    private final int kernel, stride;

    public Pool2d(boolean max, int kernel, int stride) {
        if (kernel <= 0 || stride <= 0) {
            throw new IllegalArgumentException("pool: kernel and stride must be positive, got " + kernel + ", " + stride);
        }
        this.max = max;
        this.kernel = kernel;
        this.stride = stride;
    }

    public static Pool2d max(int kernel) {
        return new Pool2d(true, kernel, kernel);
    }

    public static Pool2d avg(int kernel) {
        return new Pool2d(false, kernel, kernel);
    }

    @Override
    public Tensor forward(Tensor x) {
        requireRank(type(), x, 4, "[N, C, H, W]");
        if (x.dim(2) < kernel || x.dim(3) < kernel) {
            throw new ShapeException(type() + ": window " + kernel + " larger than input " + x.describe());
        }
        if (max) {
            return ConvOps.maxPool2d(x, kernel, stride);
        }
        return forwardComposite(x);
    }

    /** The composite form: im2col of every channel as a one-channel image, then max or mean over the window axis. */
    public Tensor forwardComposite(Tensor x) {
        requireRank(type(), x, 4, "[N, C, H, W]");
        int n = x.dim(0), c = x.dim(1), h = x.dim(2), w = x.dim(3);
        if (h < kernel || w < kernel) {
            throw new ShapeException(type() + ": window " + kernel + " larger than input " + x.describe());
        }
        ConvGeometry g = new ConvGeometry(1, h, w, kernel, kernel, stride, stride, 0, 0);
        Tensor cols = Ops.im2col(x.reshape(n * c, 1, h, w), g);            // [N*C, k*k, L]
        Tensor r = max ? cols.max(1, false) : cols.mean(1, false);          // [N*C, L]
        return r.reshape(n, c, g.outH(), g.outW());
    }

    public boolean isMax() {
        return max;
    }

    public int kernel() {
        return kernel;
    }

    public int stride() {
        return stride;
    }

    /**
     * Whether {@code act} followed by {@code next} may run as {@code act(next(x))}: a ReLU then a max pooling. Max
     * pooling commutes with ReLU (monotone), so pooling first gives the same values and the same gradients (the
     * gradient of a window goes to its first maximum times {@code relu'} there, which is 0 exactly when the window
     * maximum is {@code <= 0}, in both orders) while the ReLU and its backward touch {@code 1/k^2} of the elements.
     * Only inputs holding NaN can differ ({@code relu(NaN) = 0}).
     */
    public static boolean commutesAfter(Module act, Module next) {
        return act instanceof Act a && a.isPlainRelu() && next instanceof Pool2d p && p.max;
    }

    @Override
    public String type() {
        return max ? "maxpool2d" : "avgpool2d";
    }

    @Override
    public Map<String, Object> config() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("kernel", kernel);
        m.put("stride", stride);
        return m;
    }

    @Override
    public int[] outputShape(int[] s) {
        return new int[] {s[0], (s[1] - kernel) / stride + 1, (s[2] - kernel) / stride + 1};
    }

    @Override
    public long flopsPerExample(int[] s) {
        int[] o = outputShape(s);
        return (long) o[0] * o[1] * o[2] * kernel * kernel;
    }
}
