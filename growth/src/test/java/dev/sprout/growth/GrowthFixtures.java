package dev.sprout.growth;

import dev.sprout.data.Dataset;
import dev.sprout.tensor.DType;
import dev.sprout.tensor.Rng;
import dev.sprout.tensor.Tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Helpers shared by the growth tests. */
final class GrowthFixtures {
    private GrowthFixtures() {
    }

    /** Same shape, and every element within {@code tol} relative to {@code max(1, |expected|)}. */
    static void assertClose(Tensor expected, Tensor actual, double tol, String what) {
        assertArrayEquals(expected.shape().toArray(), actual.shape().toArray(), what);
        double[] a = expected.toDoubleArray(), b = actual.toDoubleArray();
        for (int i = 0; i < a.length; i++) {
            assertEquals(a[i], b[i], tol * Math.max(1, Math.abs(a[i])), what + " at " + i);
        }
    }

    /** Batch norm over {@code c} features (2-D: channels) with random affine weights and running statistics, f64. */
    static dev.sprout.nn.BatchNorm bn(int c, boolean twoD, Rng r) {
        dev.sprout.nn.BatchNorm bn = new dev.sprout.nn.BatchNorm(c, twoD, 0.1, 1e-5, DType.F64);
        bn.replace(java.util.Map.of("weight", Tensor.rand(r, DType.F64, 0.5, 1.5, c), "bias", Tensor.rand(r, DType.F64, -0.3, 0.3, c)),
                java.util.Map.of("running_mean", Tensor.rand(r, DType.F64, -0.5, 0.5, c), "running_var",
                        Tensor.rand(r, DType.F64, 0.5, 2, c)));
        return bn;
    }

    /** 30 epochs of SGD (lr 0.1, momentum 0.9, batches of 20): a trained start for a growth step. */
    static void pretrain(dev.sprout.nn.Sequential net, Dataset d) {
        dev.sprout.optim.SGD sgd = new dev.sprout.optim.SGD(net, 0.1, 0.9);
        for (int e = 1; e <= 30; e++) {
            dev.sprout.train.Trainer.trainEpoch(net, sgd, d, 20, 3, e, null);
        }
    }

    /** 60 random 4-feature examples with 3 random classes (seed 11). */
    static Dataset mlpData() {
        Rng r = new Rng(11);
        Tensor x = Tensor.randn(r, DType.F32, 1.5, 60, 4);
        int[] y = new int[60];
        for (int i = 0; i < y.length; i++) {
            y[i] = r.nextInt(3);
        }
        return Dataset.classification("mlp-data", x, y, 3);
    }
}
