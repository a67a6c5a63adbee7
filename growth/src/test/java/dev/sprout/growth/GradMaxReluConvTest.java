package dev.sprout.growth;

import dev.sprout.autograd.Autograd;
import dev.sprout.backend.Activation;
import dev.sprout.data.Batches;
import dev.sprout.data.Dataset;
import dev.sprout.io.Checkpoint;
import dev.sprout.nn.Act;
import dev.sprout.nn.Conv2d;
import dev.sprout.nn.Flatten;
import dev.sprout.nn.Linear;
import dev.sprout.nn.Module;
import dev.sprout.nn.Modules;
import dev.sprout.nn.Pool2d;
import dev.sprout.nn.Sequential;
import dev.sprout.tensor.DType;
import dev.sprout.tensor.Rng;
import dev.sprout.tensor.Tensor;
import dev.sprout.train.Trainer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static dev.sprout.growth.GrowthFixtures.bn;
import static dev.sprout.growth.GrowthFixtures.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * GradMax on ReLU networks (grown ReLUs become relu1, derivative 1 at 0) and on convolution layers (conv + batch norm +
 * ReLU, max pooling between a layer and its consumer, the last conv feeding the classifier through global average
 * pooling or a flatten): function preservation (eval and train mode), the exactness of {@code M} against autograd on
 * the grown network, the R0 (g) identity, and that new ReLU neurons receive a gradient only through relu1.
 */
class GradMaxReluConvTest {
    private static final double SAME_FUNCTION = 1e-12;
    private static final double REL = 1e-9;

    /** A small VGG-like net: [3, 4, M, 5, M], global average pool, linear; batch norm and ReLU after every conv. */
    private static Sequential vgg(long seed) {
        Rng r = new Rng(seed);
        return new Sequential(new Conv2d(2, 3, 3, 1, 1, false, r, DType.F64), bn(3, true, r), Act.relu(),
                new Conv2d(3, 4, 3, 1, 1, false, r, DType.F64), bn(4, true, r), Act.relu(), Pool2d.max(2),
                new Conv2d(4, 5, 3, 1, 1, false, r, DType.F64), bn(5, true, r), Act.relu(), Pool2d.max(2),
                Pool2d.avg(2), new Flatten(), new Linear(5, 3, true, r, DType.F64));
    }

    /** conv (stride 2) + BN + ReLU + max pool, flatten (each channel owns 2x2 columns), dense ReLU layer, classifier. */
    private static Sequential cnnFlat(long seed) {
        Rng r = new Rng(seed);
        return new Sequential(new Conv2d(2, 3, 3, 2, 1, true, r, DType.F64), bn(3, true, r), Act.relu(), Pool2d.max(2),
                new Flatten(), new Linear(12, 6, true, r, DType.F64), bn(6, false, r), Act.relu(),
                new Linear(6, 3, true, r, DType.F64));
    }

    private static Sequential mlp(long seed, boolean batchNorm) {
        Rng r = new Rng(seed);
        Sequential s = new Sequential(new Linear(4, 6, true, r, DType.F64));
        if (batchNorm) {
            s.add(bn(6, false, r));
        }
        s.add(Act.relu());
        s.add(new Linear(6, 5, true, r, DType.F64));
        s.add(Act.relu());
        s.add(new Linear(5, 3, true, r, DType.F64));
        return s;
    }

    private static Dataset data(int... exampleShape) {
        Rng r = new Rng(12);
        int[] dims = new int[exampleShape.length + 1];
        dims[0] = 24;
        System.arraycopy(exampleShape, 0, dims, 1, exampleShape.length);
        Tensor x = Tensor.randn(r, DType.F32, 1.0, dims);
        int[] y = new int[24];
        for (int i = 0; i < y.length; i++) {
            y[i] = r.nextInt(3);
        }
        return Dataset.classification("data", x, y, 3);
    }

    private static GrowthContext ctx(Sequential net, Dataset data, double ratio, long seed) {
        return new GrowthContext(net, data, 16, ratio, new Rng(seed), new CostMeter()); // batches of 16 and 8
    }

    /** Train-mode output on a copy (so the network's running statistics are not touched). */
    private static Tensor trainForward(Sequential net, Tensor x) {
        Sequential copy = Networks.copy(net);
        copy.train(true);
        try (Autograd.Scope s = Autograd.noGrad()) {
            return copy.forward(x);
        }
    }

    /** dL/dW of {@code layer} (flattened) for the size-weighted mean loss over the batches, in train or eval mode. */
    private static double[] weightGradient(Sequential net, Module layer, List<Batches.Batch> batches, Dataset data, boolean train) {
        Tensor w = layer.parameter("weight");
        double[] grad = new double[w.numel()];
        int n = 0;
        for (Batches.Batch b : batches) {
            n += b.size();
        }
        boolean was = net.isTraining();
        net.train(train);
        for (Batches.Batch raw : batches) {
            Batches.Batch b = SplittingMatrices.inDType(raw, DType.F64);
            double[] g = Autograd.grad(Trainer.loss(net.forward(b.inputs()), b, data), new Tensor[] {w}, false)[0].toDoubleArray();
            for (int i = 0; i < grad.length; i++) {
                grad[i] += g[i] * b.size() / n;
            }
        }
        net.train(was);
        return grad;
    }

    /** Squared norms of the rows from {@code first} on of a gradient laid out {@code rows x fan}. */
    private static double[] rowNorms2(double[] grad, int fan, int first) {
        int rows = grad.length / fan;
        double[] out = new double[rows - first];
        for (int j = first; j < rows; j++) {
            for (int t = 0; t < fan; t++) {
                out[j - first] += grad[j * fan + t] * grad[j * fan + t];
            }
        }
        return out;
    }

    private static List<String> siteNames(Sequential net) {
        List<String> out = new ArrayList<>();
        Site.find(net).forEach(s -> out.add(s.name()));
        return out;
    }

    // ------------------------------------------------------------------------------------------ function preservation

    /** R0 (a) for ReLU nets: MLP (with and without batch norm), VGG-like and flatten CNNs; eval and train mode. */
    @Test
    void preservesTheFunctionOfReluNetworksInEvalAndTrainMode() {
        Object[][] cases = {{mlp(1, false), data(4), new int[] {7, 4}}, {mlp(2, true), data(4), new int[] {7, 4}},
                {vgg(3), data(2, 8, 8), new int[] {5, 2, 8, 8}}, {cnnFlat(4), data(2, 8, 8), new int[] {5, 2, 8, 8}}};
        for (Object[] k : cases) {
            Sequential net = (Sequential) k[0];
            Tensor x = Tensor.randn(new Rng(8), DType.F64, 1.5, (int[]) k[2]);
            Tensor evalBefore = net.predict(x), trainBefore = trainForward(net, x);
            List<String> names = siteNames(net);
            int[] widths = Site.find(net).stream().mapToInt(Site::neurons).toArray();
            GrowthContext c = ctx(net, (Dataset) k[1], 0.5, 9);
            Plan plan = new GradMax().propose(c);
            assertEquals(c.budget(), plan.size(), Modules.describe(net));
            assertEquals(names, plan.unitSlopeRelu(), "every grown relu becomes relu1");
            for (Plan.NewNeuron n : plan.additions()) {
                assertTrue(Arrays.stream(n.incoming()).allMatch(v -> v == 0) && n.bias() == 0, "zero incoming weights and bias");
                assertTrue(Arrays.stream(n.outgoing()).anyMatch(v -> v != 0), "non-zero outgoing weights");
            }
            Surgery.apply(net, plan, null);
            List<Site> after = Site.find(net);
            int grown = 0;
            for (int s = 0; s < after.size(); s++) {
                assertTrue(after.get(s).activation().unitSlopeAtZero(), "site " + after.get(s).name() + " has relu1");
                grown += after.get(s).neurons() - widths[s];
            }
            assertEquals(plan.size(), grown);
            assertClose(evalBefore, net.predict(x), SAME_FUNCTION, "eval " + Modules.describe(net));
            assertClose(trainBefore, trainForward(net, x), SAME_FUNCTION, "train " + Modules.describe(net));
        }
    }

    // ------------------------------------------------------------------------------------------ M and R0 (g)

    /**
     * {@code M} is the exact linear map from a new neuron's outgoing vector to its incoming-weight gradient: for random
     * outgoing vectors applied by Surgery (zero incoming weights, relu1), autograd on the grown network gives
     * {@code M^T w} for every site of both CNNs and the batch-norm MLP. For dense sites the probe also agrees with the
     * direct {@code E[dL/dz' h^T]} up to batch norm's {@code 1/sqrt(1 + eps)}.
     */
    @Test
    void probeMatrixIsTheExactGradientMap() {
        Object[][] cases = {{vgg(5), data(2, 8, 8)}, {cnnFlat(6), data(2, 8, 8)}, {mlp(7, true), data(4)}};
        for (Object[] k : cases) {
            Sequential net = (Sequential) k[0];
            Dataset data = (Dataset) k[1];
            GrowthContext c = ctx(net, data, 0.5, 10);
            List<Site> sites = Site.find(net);
            List<Plan.NewNeuron> add = new ArrayList<>();
            double[][] m = new double[sites.size()][];
            double[][][] w = new double[sites.size()][2][];
            int[] before = new int[sites.size()], fan = new int[sites.size()];
            Rng r = new Rng(13);
            for (int s = 0; s < sites.size(); s++) {
                Site site = sites.get(s);
                before[s] = site.neurons();
                fan[s] = site.fanIn();
                int q = GradMax.outgoingLength(site);
                m[s] = GradMax.auxGradient(site, c.batches(), data);
                assertEquals(q * fan[s], m[s].length);
                if (GradMax.isDenseDirect(site)) {
                    double[] direct = GradMax.gradientMatrix(site, c.batches(), data);
                    double kappa = site.batchNorm() == null ? 1 : 1 / Math.sqrt(1 + 1e-5);
                    for (int i = 0; i < direct.length; i++) {
                        assertEquals(kappa * direct[i], m[s][i], 1e-12, "dense probe vs direct at " + i);
                    }
                }
                for (int j = 0; j < 2; j++) {
                    w[s][j] = new double[q];
                    for (int i = 0; i < q; i++) {
                        w[s][j][i] = r.normal();
                    }
                    add.add(new Plan.NewNeuron(site.name(), new double[fan[s]], 0.0, w[s][j], Double.NaN));
                }
            }
            Surgery.apply(net, new Plan(List.of(), add).withUnitSlopeRelu(siteNames(net)), null);
            for (int s = 0; s < sites.size(); s++) {
                Site site = Site.find(net).get(s);
                double[] g = weightGradient(net, site.layer(), c.batches(), data, false);
                int d = fan[s], q = w[s][0].length, dNow = site.fanIn(); // old inputs first, then the grown input layer's

                double scaleOf = 0;
                for (double v : m[s]) {
                    scaleOf = Math.max(scaleOf, Math.abs(v));
                }
                assertTrue(scaleOf > 0, "M of site " + site.name() + " is not zero");
                for (int j = 0; j < 2; j++) {
                    for (int t = 0; t < d; t++) {
                        double expected = 0;
                        for (int i = 0; i < q; i++) {
                            expected += m[s][i * d + t] * w[s][j][i];
                        }
                        assertEquals(expected, g[(before[s] + j) * dNow + t], 1e-10 * scaleOf * Math.sqrt(q),
                                Modules.describe(net) + " site " + site.name() + " neuron " + j + " entry " + t);
                    }
                }
            }
        }
    }

    /**
     * R0 (g) for convolutions: after GradMax's step, new channel j of a conv layer has
     * {@code ||dL/dW_in_j||^2 = c^2 s_j^2} (autograd on the grown network, eval mode), so
     * {@code ||dL/dW_in||_F^2 = c^2 sum_{j<=k} s_j^2}, with {@code s_j} the singular values of {@code M} from the
     * eigenvalues of {@code M^T M}; every new ReLU channel gets a non-zero gradient.
     */
    @Test
    void convGradientNormIdentity() {
        for (Sequential net : List.of(vgg(14), cnnFlat(15))) {
            Dataset data = data(2, 8, 8);
            GrowthContext c = ctx(net, data, 0.5, 16);
            List<Site> sites = Site.find(net);
            int n = sites.size();
            double[][] m = new double[n][];
            double[] cNorm = new double[n];
            int[] before = new int[n], q = new int[n], d = new int[n];
            for (int s = 0; s < n; s++) {
                Site site = sites.get(s);
                before[s] = site.neurons();
                q[s] = GradMax.outgoingLength(site);
                d[s] = site.fanIn();
                m[s] = GradMax.auxGradient(site, c.batches(), data);
                cNorm[s] = GradMax.DEFAULT_SCALE * GradMax.meanOutgoingNorm(site);
            }
            Plan plan = new GradMax().propose(c);
            Surgery.apply(net, plan, null);
            int convChecked = 0;
            for (int s = 0; s < n; s++) {
                Site site = Site.find(net).get(s);
                int k = site.neurons() - before[s];
                assertTrue(k > 0, "layer " + site.name() + " grew");
                double[] sv2 = GrowthFixtures.squaredSingularValues(m[s], q[s], d[s]);
                double[] g = rowNorms2(weightGradient(net, site.layer(), c.batches(), data, false), site.fanIn(), before[s]);
                double sum = 0, expectedSum = 0;
                for (int j = 0; j < k; j++) {
                    double expected = cNorm[s] * cNorm[s] * sv2[j];
                    assertTrue(g[j] > 0, "new channel " + j + " of layer " + site.name() + " gets a gradient");
                    assertEquals(expected, g[j], REL * expected, Modules.describe(net) + " layer " + site.name() + " neuron " + j);
                    sum += g[j];
                    expectedSum += expected;
                }
                assertEquals(expectedSum, sum, REL * expectedSum);
                convChecked += site.isConv() ? 1 : 0;
            }
            assertTrue(convChecked >= 1);
        }
    }

    /**
     * The mechanism: with the engine's ReLU (derivative 0 at 0) the new neurons' incoming weights get exactly zero
     * gradient in both modes; with relu1, as GradMax's plan makes them, they get a non-zero gradient in train mode too
     * (train-mode batch norm of an all-zero channel passes {@code gamma/sqrt(eps)} times the centred gradient).
     */
    @Test
    void newReluNeuronsReceiveAGradientOnlyThroughRelu1() {
        for (boolean conv : new boolean[] {true, false}) {
            Sequential base = conv ? vgg(17) : mlp(18, true);
            Dataset data = conv ? data(2, 8, 8) : data(4);
            GrowthContext c = ctx(base, data, 0.5, 19);
            Plan plan = new GradMax().propose(c);
            Sequential relu1 = Networks.copy(base), plain = Networks.copy(base);
            int[] before = Site.find(base).stream().mapToInt(Site::neurons).toArray();
            Surgery.apply(relu1, plan, null);
            Surgery.apply(plain, plan.withUnitSlopeRelu(List.of()), null);
            for (boolean train : new boolean[] {false, true}) {
                for (int s = 0; s < before.length; s++) {
                    Site a = Site.find(relu1).get(s), b = Site.find(plain).get(s);
                    assertFalse(b.activation().unitSlopeAtZero());
                    double[] ga = rowNorms2(weightGradient(relu1, a.layer(), c.batches(), data, train), a.fanIn(), before[s]);
                    double[] gb = rowNorms2(weightGradient(plain, b.layer(), c.batches(), data, train), b.fanIn(), before[s]);
                    assertEquals(a.neurons(), b.neurons());
                    for (int j = 0; j < ga.length; j++) {
                        assertTrue(ga[j] > 1e-12, "relu1: new neuron " + j + " of " + a.name() + " train " + train + ": " + ga[j]);
                        assertEquals(0.0, gb[j], "plain relu: new neuron " + j + " of " + b.name() + " train " + train);
                    }
                }
            }
        }
    }

    /** R0 (g) for a ReLU MLP through the direct dense path, and the relu1 model survives a checkpoint. */
    @Test
    void reluMlpGradientNormIdentityAndCheckpoint(@TempDir Path dir) {
        Sequential net = mlp(20, false);
        Dataset data = data(4);
        GrowthContext c = ctx(net, data, 0.5, 21);
        List<Site> sites = Site.find(net);
        double[][] m = new double[sites.size()][];
        double[] cNorm = new double[sites.size()];
        int[] before = new int[sites.size()], q = new int[sites.size()], d = new int[sites.size()];
        for (int s = 0; s < sites.size(); s++) {
            before[s] = sites.get(s).neurons();
            q[s] = GradMax.outgoingLength(sites.get(s));
            d[s] = sites.get(s).fanIn();
            m[s] = GradMax.gradientMatrix(sites.get(s), c.batches(), data);
            cNorm[s] = GradMax.DEFAULT_SCALE * GradMax.meanOutgoingNorm(sites.get(s));
        }
        Surgery.apply(net, new GradMax().propose(c), null);
        for (int s = 0; s < sites.size(); s++) {
            Site site = Site.find(net).get(s);
            double[] sv2 = GrowthFixtures.squaredSingularValues(m[s], q[s], d[s]);
            double[] g = rowNorms2(weightGradient(net, site.layer(), c.batches(), data, false), site.fanIn(), before[s]);
            assertTrue(g.length > 0);
            for (int j = 0; j < g.length; j++) {
                double expected = cNorm[s] * cNorm[s] * sv2[j];
                assertTrue(g[j] > 0);
                assertEquals(expected, g[j], REL * expected, "layer " + site.name() + " neuron " + j);
            }
        }
        assertTrue(Modules.describe(net).contains("relu1"), Modules.describe(net));
        Path file = dir.resolve("grown.ck");
        Checkpoint.save(file, net, null, Map.of());
        Module loaded = Checkpoint.load(file).model(new Rng(0));
        assertEquals(Modules.describe(net), Modules.describe(loaded));
        Tensor x = Tensor.randn(new Rng(22), DType.F64, 1.5, 5, 4);
        assertClose(net.predict(x), loaded.predict(x), 0, "loaded");
        for (Site site : Site.find((Sequential) loaded)) {
            assertTrue(site.activation().unitSlopeAtZero());
        }
    }

    /** Activations with sigma(0) != 0 are still refused, naming the layer, and leave the network unchanged. */
    @Test
    void refusesActivationsThatWouldChangeTheFunction() {
        for (Activation f : new Activation[] {Activation.SIGMOID, Activation.SOFTPLUS, Activation.RBF}) {
            Rng r = new Rng(23);
            Sequential net = new Sequential(new Conv2d(2, 3, 3, 1, 1, false, r, DType.F64), bn(3, true, r), Act.relu(),
                    Pool2d.max(2), new Conv2d(3, 4, 3, 1, 1, false, r, DType.F64), new Act(f), Pool2d.avg(4), new Flatten(),
                    new Linear(4, 3, true, r, DType.F64));
            String arch = Modules.describe(net);
            Map<String, Tensor> state = Networks.state(net);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> new GradMax().propose(ctx(net, data(2, 8, 8), 0.5, 1)));
            assertTrue(e.getMessage().contains("layer 4") && e.getMessage().contains("sigma(0) = ")
                    && e.getMessage().contains(f.name().toLowerCase(java.util.Locale.ROOT)), e.getMessage());
            assertEquals(arch, Modules.describe(net));
            Map<String, Tensor> after = Networks.state(net);
            for (var en : state.entrySet()) {
                assertArrayEquals(en.getValue().toDoubleArray(), after.get(en.getKey()).toDoubleArray(), en.getKey());
            }
            assertEquals(e.getMessage(), assertThrows(IllegalArgumentException.class, () -> new GradMax().check(net)).getMessage());
        }
        // a plan cannot turn a non-relu activation into relu1
        Rng r = new Rng(24);
        Sequential tanh = new Sequential(new Linear(4, 6, true, r, DType.F64), Act.tanh(), new Linear(6, 3, true, r, DType.F64));
        String arch = Modules.describe(tanh);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Surgery.apply(tanh, Plan.empty().withUnitSlopeRelu(List.of("0")), null));
        assertTrue(e.getMessage().contains("relu1"), e.getMessage());
        assertEquals(arch, Modules.describe(tanh));
    }
}
