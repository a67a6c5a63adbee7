package dev.sprout.nn;

import dev.sprout.autograd.Autograd;
import dev.sprout.autograd.Ops;
import dev.sprout.tensor.DType;
import dev.sprout.tensor.ShapeException;
import dev.sprout.tensor.Tensor;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Batch normalisation over the features of {@code [N, F]} (1-D) or the channels of {@code [N, C, H, W]} (2-D).
 * Training mode normalises with the batch's mean and biased variance and updates running statistics
 * ({@code running = (1 - momentum) running + momentum batch}, unbiased variance, as PyTorch); evaluation mode
 * uses the running statistics.
 */
public final class BatchNorm extends Module {
    private int features;
    private final boolean twoD;
    private final double momentum, eps;

    public BatchNorm(int features, boolean twoD, double momentum, double eps, DType dtype) {
        if (features <= 0 || !(momentum >= 0 && momentum <= 1) || !(eps > 0)) {
            throw new IllegalArgumentException("batchnorm: invalid features=" + features + " momentum=" + momentum + " eps=" + eps);
        }
        this.features = features;
        this.twoD = twoD;
        this.momentum = momentum;
        this.eps = eps;
        registerParameter("weight", Tensor.ones(dtype, features));
        registerParameter("bias", Tensor.zeros(dtype, features));
        registerBuffer("running_mean", Tensor.zeros(dtype, features));
        registerBuffer("running_var", Tensor.ones(dtype, features));
    }

    public static BatchNorm of1d(int features) {
        return new BatchNorm(features, false, 0.1, 1e-5, DType.F32);
    }

    public static BatchNorm of2d(int channels) {
        return new BatchNorm(channels, true, 0.1, 1e-5, DType.F32);
    }

    public int features() {
        return features;
    }

    @Override
    public Tensor forward(Tensor x) {
        int rank = twoD ? 4 : 2;
        if (x.rank() != rank || x.dim(1) != features) {
            throw new ShapeException(type() + "(" + features + "): input " + x.describe() + " must be "
                    + (twoD ? "[N, " + features + ", H, W]" : "[N, " + features + "]"));
        }
        int[] axes = twoD ? new int[] {0, 2, 3} : new int[] {0};
        int[] shape = twoD ? new int[] {1, features, 1, 1} : new int[] {1, features};
        Tensor mean, var;
        if (isTraining()) {
            long count = (long) x.numel() / features;
            if (count < 2) {
                throw new ShapeException(type() + ": training needs more than one value per feature, got " + x.describe());
            }
            mean = Ops.mean(x, axes, true);
            Tensor xc = x.sub(mean);
            var = Ops.mean(xc.mul(xc), axes, true);
            try (Autograd.Scope s = Autograd.noGrad()) {
                Tensor rm = buffer("running_mean"), rv = buffer("running_var");
                rm.scale_(1 - momentum).addScaled_(mean.detach().reshape(features), momentum);
                rv.scale_(1 - momentum).addScaled_(var.detach().reshape(features), momentum * count / (count - 1.0));
            }
            Tensor xhat = xc.div(var.add(eps).sqrt());
            return xhat.mul(parameter("weight").reshape(shape)).add(parameter("bias").reshape(shape));
        }
        mean = buffer("running_mean").reshape(shape);
        var = buffer("running_var").reshape(shape);
        Tensor xhat = x.sub(mean).div(var.add(eps).sqrt());
        return xhat.mul(parameter("weight").reshape(shape)).add(parameter("bias").reshape(shape));
    }

    @Override
    protected void onResized() {
        int f = parameter("weight").dim(0);
        for (Tensor t : new Tensor[] {parameter("bias"), buffer("running_mean"), buffer("running_var")}) {
            if (t.rank() != 1 || t.dim(0) != f) {
                throw new ShapeException("batchnorm: weight has " + f + " features but another parameter or buffer is "
                        + t.describe());
            }
        }
        features = f;
    }

    @Override
    public String type() {
        return twoD ? "batchnorm2d" : "batchnorm1d";
    }

    @Override
    public Map<String, Object> config() {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("features", features);
        c.put("momentum", momentum);
        c.put("eps", eps);
        return c;
    }

    @Override
    public long flopsPerExample(int[] s) {
        long n = 1;
        for (int d : s) {
            n *= d;
        }
        return 4 * n;
    }
}
