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

    /**
     * Central finite difference, step {@code h}, of the mean loss over the context's batches in the depth gate of
     * {@code site} at 1: every split and new-neuron gate at 1, the other depth gates as in {@code depthGates}.
     */
    static double depthGateDerivative(FireflyCandidates c, GrowthContext ctx, java.util.Map<String, Double> depthGates,
                                      String site, double h) {
        java.util.Map<String, double[]> sg = new java.util.HashMap<>(), ng = new java.util.HashMap<>();
        for (FireflyCandidates.SiteCandidates s : c.sites()) {
            double[] a = new double[s.neurons()], b = new double[s.newCount()];
            java.util.Arrays.fill(a, 1);
            java.util.Arrays.fill(b, 1);
            sg.put(s.name(), a);
            ng.put(s.name(), b);
        }
        double[] loss = new double[2];
        for (int t = 0; t < 2; t++) {
            java.util.Map<String, Double> dg = new java.util.HashMap<>(depthGates);
            dg.put(site, 1 + (t == 0 ? h : -h));
            double sum = 0;
            for (dev.sprout.data.Batches.Batch b : ctx.batches()) {
                dev.sprout.data.Batches.Batch bb = SplittingMatrices.inDType(b, DType.F64);
                try (dev.sprout.autograd.Autograd.Scope s = dev.sprout.autograd.Autograd.noGrad()) {
                    sum += dev.sprout.train.Trainer.loss(c.forward(bb.inputs(), sg, ng, dg), bb, ctx.sample()).item() * b.size();
                }
            }
            loss[t] = sum / ctx.sample().size();
        }
        return (loss[0] - loss[1]) / (2 * h);
    }

    /**
     * The squared singular values of the row-major {@code rows x cols} matrix {@code m}, descending: the
     * {@code min(rows, cols)} eigenvalues of the smaller Gram matrix ({@code M M^T} or {@code M^T M}).
     */
    static double[] squaredSingularValues(double[] m, int rows, int cols) {
        boolean byRows = rows <= cols;
        int n = Math.min(rows, cols), len = Math.max(rows, cols);
        double[] gram = new double[n * n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int t = 0; t < len; t++) {
                    s += byRows ? m[i * cols + t] * m[j * cols + t] : m[t * cols + i] * m[t * cols + j];
                }
                gram[i * n + j] = s;
            }
        }
        double[] w = new double[n], v = new double[n * n];
        dev.sprout.linalg.SymmetricEigen.full(n, gram, 0, w, 0, v, 0);
        java.util.Arrays.sort(w);
        double[] desc = new double[n];
        for (int i = 0; i < n; i++) {
            desc[i] = w[n - 1 - i];
        }
        return desc;
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
