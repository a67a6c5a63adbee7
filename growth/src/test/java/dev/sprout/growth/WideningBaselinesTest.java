package dev.sprout.growth;

import dev.sprout.autograd.Autograd;
import dev.sprout.backend.Activation;
import dev.sprout.data.Batches;
import dev.sprout.data.Dataset;
import dev.sprout.nn.Act;
import dev.sprout.nn.BatchNorm;
import dev.sprout.nn.Conv2d;
import dev.sprout.nn.Flatten;
import dev.sprout.nn.Linear;
import dev.sprout.nn.Models;
import dev.sprout.nn.Modules;
import dev.sprout.nn.Pool2d;
import dev.sprout.nn.Sequential;
import dev.sprout.tensor.DType;
import dev.sprout.tensor.Rng;
import dev.sprout.tensor.Tensor;
import dev.sprout.train.Trainer;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static dev.sprout.growth.GrowthFixtures.mlpData;
import static dev.sprout.growth.GrowthFixtures.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The widening baselines: Net2Net (function-preserving copies) and GradMax (spec R0 (a) for both, R0 (g) for GradMax's
 * gradient-norm identity against an independent auxiliary-layer gradient and eigenvalues), and what they refuse.
 */
class WideningBaselinesTest {
    private static final double SAME_FUNCTION = 1e-12;
    /** The gradient-norm identity: both sides are sums of a few hundred f64 products. */
    private static final double GRADMAX_IDENTITY_REL = 1e-9;

    private static Sequential mlp(long seed, boolean batchNorm) {
        Rng r = new Rng(seed);
        Sequential s = new Sequential();
        s.add(new Linear(4, 6, true, r, DType.F64));
        if (batchNorm) {
            BatchNorm bn = new BatchNorm(6, false, 0.1, 1e-5, DType.F64);
            bn.replace(Map.of("weight", Tensor.rand(r, DType.F64, 0.5, 1.5, 6), "bias", Tensor.rand(r, DType.F64, -0.3, 0.3, 6)),
                    Map.of("running_mean", Tensor.rand(r, DType.F64, -0.5, 0.5, 6), "running_var", Tensor.rand(r, DType.F64, 0.5, 2, 6)));
            s.add(bn);
        }
        s.add(Act.tanh());
        s.add(new Linear(6, 5, true, r, DType.F64));
        s.add(Act.tanh());
        s.add(new Linear(5, 3, true, r, DType.F64));
        return s;
    }

    private static Sequential cnn(long seed) {
        Rng r = new Rng(seed);
        Sequential net = new Sequential(new Conv2d(2, 3, 3, 1, 1, true, r, DType.F64), new BatchNorm(3, true, 0.1, 1e-5, DType.F64),
                Act.relu(), Pool2d.max(2), new Conv2d(3, 4, 3, 1, 1, false, r, DType.F64),
                new BatchNorm(4, true, 0.1, 1e-5, DType.F64), new Act(Activation.SOFTPLUS, 1.5), new Flatten(),
                new Linear(4 * 4 * 4, 3, true, r, DType.F64));
        net.train(true);
        try (Autograd.Scope s = Autograd.noGrad()) {
            net.forward(Tensor.randn(r, DType.F64, 2.0, 16, 2, 8, 8));
        }
        net.train(false);
        return net;
    }

    private static Dataset cnnData() {
        Rng r = new Rng(12);
        Tensor x = Tensor.randn(r, DType.F32, 1.0, 20, 2, 8, 8);
        int[] y = new int[20];
        for (int i = 0; i < y.length; i++) {
            y[i] = r.nextInt(3);
        }
        return Dataset.classification("cnn-data", x, y, 3);
    }

    private static GrowthContext ctx(Sequential net, Dataset data, double ratio, long seed) {
        return new GrowthContext(net, data, 16, ratio, new Rng(seed), new CostMeter());
    }

    private static int total(Sequential net) {
        return Site.find(net).stream().mapToInt(Site::neurons).sum();
    }

    // ------------------------------------------------------------------------------------------ Net2Net

    /** R0 (a): Net2Net widening without noise preserves the function exactly (MLP; CNN with batch norm in eval mode). */
    @Test
    void net2netWithoutNoisePreservesTheFunction() {
        for (Sequential net : List.of(mlp(1, true), cnn(2))) {
            boolean conv = net.get(0) instanceof Conv2d;
            Tensor x = conv ? Tensor.randn(new Rng(3), DType.F64, 1.0, 3, 2, 8, 8) : Tensor.randn(new Rng(3), DType.F64, 1.5, 7, 4);
            Tensor before = net.predict(x);
            int neurons = total(net);
            GrowthContext c = ctx(net, conv ? cnnData() : mlpData(), 0.5, 4);
            int budget = c.budget();
            Plan plan = Methods.create("net2net", Map.of("noise", "0")).propose(c);
            assertEquals(budget, plan.size());
            Surgery.apply(net, plan, null);
            assertEquals(neurons + budget, total(net));
            assertClose(before, net.predict(x), SAME_FUNCTION, conv ? "cnn" : "mlp");
        }
    }

    /**
     * The spec's R3 net (Models.vgg: consecutive convolutions with batch norm, two pools, global average pooling)
     * widened by Net2Net without noise computes the same function (eval mode, f32).
     */
    @Test
    void net2netPreservesTheVggNet() {
        Rng r = new Rng(8);
        Sequential net = Models.vgg(1, 8, 8, 3, 4, r);
        net.train(true);
        try (Autograd.Scope s = Autograd.noGrad()) {
            net.forward(Tensor.randn(r, DType.F32, 1.0, 16, 1, 8, 8)); // batch-norm statistics that are not 0 / 1
        }
        net.train(false);
        Tensor x = Tensor.randn(new Rng(9), DType.F32, 1.0, 5, 1, 8, 8);
        Tensor before = net.predict(x);
        int neurons = total(net);
        assertEquals(3 + 3 + 6 + 6, neurons, "four grown conv layers, the classifier not");
        Tensor imgs = Tensor.randn(new Rng(10), DType.F32, 1.0, 20, 1, 8, 8);
        int[] y = new int[20];
        for (int i = 0; i < y.length; i++) {
            y[i] = i % 4;
        }
        GrowthContext c = ctx(net, Dataset.classification("vgg-data", imgs, y, 4), 0.5, 4);
        int budget = c.budget();
        Plan plan = Methods.create("net2net", Map.of("noise", "0")).propose(c);
        assertEquals(budget, plan.size());
        Surgery.apply(net, plan, null);
        assertEquals(neurons + budget, total(net));
        assertClose(before, net.predict(x), 1e-5, "vgg");
    }

    /** Each copy is its parent plus small noise, the parent is untouched, and both share the parent's outgoing weights. */
    @Test
    void net2netCopiesDistinctParentsAndHalvesTheirOutgoingWeights() {
        Sequential net = mlp(5, false);
        double[] w0 = ((Linear) net.get(0)).weight().toDoubleArray(), w2 = ((Linear) net.get(2)).weight().toDoubleArray();
        Plan plan = new Net2Net(0.1).propose(ctx(net, mlpData(), 1.0, 6));
        Set<String> parents = new HashSet<>();
        for (Plan.Split s : plan.splits()) {
            assertTrue(parents.add(s.site() + "/" + s.neuron()), "parents are distinct: " + s.site() + "/" + s.neuron());
        }
        Surgery.apply(net, plan, null);
        Tensor g0 = ((Linear) net.get(0)).weight(), g2 = ((Linear) net.get(2)).weight();
        int copy = 6;
        double rms = Math.sqrt(Arrays.stream(w0).map(v -> v * v).sum() / w0.length);
        for (Plan.Split s : plan.splits()) {
            if (!s.site().equals("0")) {
                continue;
            }
            int p = s.neuron();
            double dev = 0;
            for (int j = 0; j < 4; j++) {
                assertEquals(w0[p * 4 + j], g0.get(p, j), 0.0, "the parent keeps its incoming weights");
                double d = g0.get(copy, j) - w0[p * 4 + j];
                dev = Math.max(dev, Math.abs(d));
            }
            assertTrue(dev > 0 && dev < 0.1 * rms * 6, "the copy is its parent plus noise of about 0.1 rms(W): " + dev);
            for (int r = 0; r < 5; r++) { // consumer rows 0..4 (layer 2 existing rows; its own copies follow)
                assertEquals(w2[r * 6 + p] / 2, g2.get(r, p), 1e-15, "parent column halved");
                assertEquals(w2[r * 6 + p] / 2, g2.get(r, copy), 1e-15, "copy column is the other half");
            }
            copy++;
        }
        assertEquals(12, ((Linear) net.get(0)).out(), "a ratio of 1 doubles the layer");
    }

    // ------------------------------------------------------------------------------------------ GradMax

    /** R0 (a): zero incoming weights with tanh (sigma(0) = 0) preserve the function, with and without batch norm. */
    @Test
    void gradmaxPreservesTheFunction() {
        for (boolean bn : new boolean[] {false, true}) {
            Sequential net = mlp(7, bn);
            Tensor x = Tensor.randn(new Rng(8), DType.F64, 1.5, 7, 4);
            Tensor before = net.predict(x);
            int neurons = total(net);
            GrowthContext c = ctx(net, mlpData(), 0.5, 9);
            Plan plan = new GradMax().propose(c);
            assertEquals(c.budget(), plan.size());
            for (Plan.NewNeuron n : plan.additions()) {
                assertTrue(Arrays.stream(n.incoming()).allMatch(v -> v == 0) && n.bias() == 0, "zero incoming weights and bias");
                assertTrue(Arrays.stream(n.outgoing()).anyMatch(v -> v != 0), "non-zero outgoing weights");
            }
            Surgery.apply(net, plan, null);
            assertEquals(neurons + plan.size(), total(net));
            assertClose(before, net.predict(x), SAME_FUNCTION, "batch norm " + bn);
        }
    }

    /**
     * R0 (g): after GradMax's step, new neuron j of a layer has {@code ||dL/dW_in_j||^2 = (kappa c s_j)^2}, so the layer's
     * new rows have {@code ||G||_F^2 = (kappa c)^2 sum_{j<=k} s_j^2}, with the singular values {@code s_j} of
     * {@code M = E[dL/dz' h^T]} computed independently (the official auxiliary zero layer's gradient, and the
     * eigenvalues of {@code M M^T}); random orthonormal outgoing vectors of the same norm give less.
     */
    @Test
    void gradmaxGradientNormIdentity() {
        for (boolean bn : new boolean[] {false, true}) {
            Sequential net = mlp(10, bn);
            Dataset data = mlpData();
            GrowthContext c = ctx(net, data, 0.5, 11);
            List<Site> sites = Site.find(net);
            int[] before = sites.stream().mapToInt(Site::neurons).toArray();
            double[][] m = new double[sites.size()][];
            double[] cNorm = new double[sites.size()];
            int[] rowsBefore = new int[sites.size()], fanBefore = new int[sites.size()];
            for (int s = 0; s < sites.size(); s++) {
                rowsBefore[s] = sites.get(s).consumer().parameter("weight").dim(0);
                fanBefore[s] = sites.get(s).fanIn();
                m[s] = auxGradient(net, sites.get(s), c.batches(), data);
                cNorm[s] = GradMax.DEFAULT_SCALE * meanColumnNorm(((Linear) sites.get(s).consumer()).weight());
            }
            Plan plan = new GradMax().propose(c);
            Surgery.apply(net, plan, null);
            for (int s = 0; s < sites.size(); s++) {
                Site site = Site.find(net).get(s);
                int k = site.neurons() - before[s];
                assertTrue(k > 0, "layer " + site.name() + " grew");
                int rows = rowsBefore[s], d = fanBefore[s]; // M's shape: before growth
                double[] sv2 = GrowthFixtures.squaredSingularValues(m[s], rows, d);
                double kappa = site.batchNorm() == null ? 1 : 1 / Math.sqrt(1 + 1e-5);
                double[] g = newRowGradients(net, site, before[s], c.batches(), data);
                double sum = 0, expectedSum = 0;
                for (int j = 0; j < k; j++) {
                    double expected = kappa * kappa * cNorm[s] * cNorm[s] * sv2[j];
                    assertEquals(expected, g[j], GRADMAX_IDENTITY_REL * expected, "bn " + bn + " layer " + site.name() + " neuron " + j);
                    sum += g[j];
                    expectedSum += expected;
                }
                // any other orthonormal outgoing vectors of the same norm: at most the same (Ky Fan), here strictly less
                double random = randomOrthonormalGradient(m[s], rows, d, k, kappa * cNorm[s], new Rng(12 + s));
                assertTrue(random < sum * (1 - 1e-6), "random " + random + " vs gradmax " + sum);
                assertEquals(expectedSum, sum, GRADMAX_IDENTITY_REL * expectedSum);
            }
        }
    }

    /** The official trick, independently: the gradient of a zero auxiliary layer from the site's input to its consumer's output. */
    private static double[] auxGradient(Sequential net, Site site, List<Batches.Batch> batches, Dataset data) {
        int rows = site.consumer().parameter("weight").dim(0), d = site.fanIn();
        double[] m = new double[rows * d];
        int n = 0;
        for (Batches.Batch b : batches) {
            n += b.size();
        }
        net.train(false);
        for (Batches.Batch raw : batches) {
            Batches.Batch b = SplittingMatrices.inDType(raw, DType.F64);
            Tensor aux = Tensor.zeros(DType.F64, rows, d).requiresGrad(true);
            Tensor h = b.inputs(), u = null;
            for (int i = 0; i < net.size(); i++) {
                if (i == site.index()) {
                    u = h;
                }
                h = net.get(i).forward(h);
                if (i == site.consumerIndex()) {
                    h = h.add(u.matmul(aux.transpose(0, 1)));
                }
            }
            double[] g = Autograd.grad(Trainer.loss(h, b, data), new Tensor[] {aux}, false)[0].toDoubleArray();
            for (int i = 0; i < m.length; i++) {
                m[i] += g[i] * b.size() / n;
            }
        }
        return m;
    }

    private static double meanColumnNorm(Tensor w) {
        int r = w.dim(0), n = w.dim(1);
        double sum = 0;
        for (int j = 0; j < n; j++) {
            double ss = 0;
            for (int i = 0; i < r; i++) {
                ss += w.get(i, j) * w.get(i, j);
            }
            sum += Math.sqrt(ss);
        }
        return sum / n;
    }

    /** {@code ||dL/dW_j||^2} of the layer's rows from {@code first} on, for the mean loss over the batches. */
    private static double[] newRowGradients(Sequential net, Site site, int first, List<Batches.Batch> batches, Dataset data) {
        Tensor w = site.layer().parameter("weight");
        int rows = w.dim(0), d = w.dim(1);
        double[] grad = new double[rows * d];
        int n = 0;
        for (Batches.Batch b : batches) {
            n += b.size();
        }
        net.train(false);
        for (Batches.Batch raw : batches) {
            Batches.Batch b = SplittingMatrices.inDType(raw, DType.F64);
            double[] g = Autograd.grad(Trainer.loss(net.forward(b.inputs()), b, data), new Tensor[] {w}, false)[0].toDoubleArray();
            for (int i = 0; i < grad.length; i++) {
                grad[i] += g[i] * b.size() / n;
            }
        }
        double[] out = new double[rows - first];
        for (int j = first; j < rows; j++) {
            for (int t = 0; t < d; t++) {
                out[j - first] += grad[j * d + t] * grad[j * d + t];
            }
        }
        return out;
    }

    /** {@code sum_j ||c q_j^T M||^2} for k random orthonormal vectors q_j (Gram-Schmidt on Gaussian vectors). */
    private static double randomOrthonormalGradient(double[] m, int rows, int d, int k, double c, Rng rng) {
        double[][] q = new double[k][];
        double total = 0;
        for (int j = 0; j < k; j++) {
            double[] v = new double[rows];
            for (int i = 0; i < rows; i++) {
                v[i] = rng.normal();
            }
            for (int p = 0; p < j; p++) {
                double dot = 0;
                for (int i = 0; i < rows; i++) {
                    dot += v[i] * q[p][i];
                }
                for (int i = 0; i < rows; i++) {
                    v[i] -= dot * q[p][i];
                }
            }
            double norm = Math.sqrt(Arrays.stream(v).map(x -> x * x).sum());
            for (int i = 0; i < rows; i++) {
                v[i] /= norm;
            }
            q[j] = v;
            for (int t = 0; t < d; t++) {
                double s = 0;
                for (int i = 0; i < rows; i++) {
                    s += v[i] * m[i * d + t];
                }
                total += c * c * s * s;
            }
        }
        return total;
    }

    /**
     * GradMax refuses what it cannot grow (activations with {@code sigma(0) != 0}), naming the layer and why, and
     * leaves the network unchanged; ReLU and convolutions are grown (see GradMaxReluConvTest).
     */
    @Test
    void gradmaxRefusesUnsupportedNetworks() {
        Rng r = new Rng(20);
        Sequential sigmoid = new Sequential(new Linear(4, 6, true, r, DType.F64), new Act(Activation.SIGMOID),
                new Linear(6, 3, true, r, DType.F64));
        Sequential conv = cnn(21); // layer 4 has softplus
        Object[][] cases = {{sigmoid, mlpData(), "sigma(0) = 0.5", "layer 0"}, {conv, cnnData(), "softplus", "layer 4"}};
        for (Object[] k : cases) {
            Sequential net = (Sequential) k[0];
            String arch = Modules.describe(net);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> new GradMax().propose(ctx(net, (Dataset) k[1], 0.5, 1)));
            assertTrue(e.getMessage().contains((String) k[2]) && e.getMessage().contains((String) k[3]), e.getMessage());
            assertEquals(arch, Modules.describe(net));
            IllegalArgumentException early = assertThrows(IllegalArgumentException.class, () -> new GradMax().check(net));
            assertEquals(e.getMessage(), early.getMessage(), "check refuses before training, with the same message");
        }
        Sequential relu = new Sequential(new Linear(4, 6, true, r, DType.F64), Act.relu(), new Linear(6, 3, true, r, DType.F64));
        new GradMax().check(relu); // grown as relu1
        assertThrows(IllegalArgumentException.class, () -> Methods.create("gradmax", Map.of("scale", "0")));
        assertThrows(IllegalArgumentException.class, () -> Methods.create("net2net", Map.of("noise", "-1")));
        assertTrue(Methods.names().containsAll(List.of("net2net", "gradmax")));
    }

    /** The per-layer cap of GradMax's allocation sends what it cuts to the layers with room. */
    @Test
    void gradmaxAllocationRespectsTheRank() {
        assertArrayEquals(new int[] {3, 3, 0}, GradMax.capped(new int[] {5, 1, 0}, new int[] {3, 4, 0}));
        assertArrayEquals(new int[] {3, 1, 2}, GradMax.capped(new int[] {5, 1, 0}, new int[] {3, 2, 4}));
        assertArrayEquals(new int[] {3}, GradMax.capped(new int[] {5}, new int[] {3}));
        // a 4 -> 6 -> 3 tanh net grown by 100%: the last layer can take only 2: its consumer has 3 rows, and the
        // cross-entropy gradients sum to zero over the 3 classes, so rank(M) = 2
        Rng r = new Rng(22);
        Sequential net = new Sequential(new Linear(4, 6, true, r, DType.F64), Act.tanh(), new Linear(6, 3, true, r, DType.F64));
        Plan plan = new GradMax().propose(ctx(net, mlpData(), 1.0, 2));
        assertEquals(2, plan.size());
    }
}
