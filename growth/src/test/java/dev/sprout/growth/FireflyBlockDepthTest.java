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
import dev.sprout.nn.Residual;
import dev.sprout.nn.Sequential;
import dev.sprout.tensor.DType;
import dev.sprout.tensor.Rng;
import dev.sprout.tensor.Tensor;
import dev.sprout.train.Trainer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static dev.sprout.growth.GrowthFixtures.bn;
import static dev.sprout.growth.GrowthFixtures.mlpData;
import static dev.sprout.growth.GrowthFixtures.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Firefly depth growth beyond dense ReLU layers (issue 7): zero-residual blocks after dense layers with tanh / sigmoid
 * / softplus, and identity-initialised 3x3 conv + ReLU layers after conv + BN + ReLU blocks. Function preservation
 * (eval and train mode), scores as gate derivatives, grown = over-grown with the selected gates (also with width
 * changes around an existing block), checkpoints, the new blocks train, and refusals that leave the model as it was.
 */
class FireflyBlockDepthTest {
    private static final double SAME = 1e-11;
    private static final double FD_STEP = 1e-5;
    private static final double FD_REL = 1e-6;

    @TempDir
    Path tmp;

    /** 4 -> 6 (BN, tanh) -> 5 (sigmoid) -> 3, f64. */
    private static Sequential smoothMlp(long seed) {
        Rng r = new Rng(seed);
        return new Sequential(new Linear(4, 6, true, r, DType.F64), bn(6, false, r), Act.tanh(), new Linear(6, 5, true, r, DType.F64),
                new Act(Activation.SIGMOID), new Linear(5, 3, true, r, DType.F64));
    }

    /** A VGG-like net on 1x8x8: conv 3 (BN relu), conv 3 (BN relu), max pool 2, conv 4 (BN relu), avg pool 4, flatten, linear 3. */
    private static Sequential cnn(long seed) {
        Rng r = new Rng(seed);
        return new Sequential(new Conv2d(1, 3, 3, 1, 1, true, r, DType.F64), bn(3, true, r), Act.relu(),
                new Conv2d(3, 3, 3, 1, 1, true, r, DType.F64), bn(3, true, r), Act.relu(), new Pool2d(true, 2, 2),
                new Conv2d(3, 4, 3, 1, 1, true, r, DType.F64), bn(4, true, r), Act.relu(), new Pool2d(false, 4, 4),
                new Flatten(), new Linear(4, 3, true, r, DType.F64));
    }

    /** One SGD step on the MLP data in f64. */
    private static void sgdStep(Sequential net, dev.sprout.optim.Optimizer opt) {
        Dataset d = mlpData();
        Batches.Batch b = SplittingMatrices.inDType(Batches.epoch(d, d.size(), 0, 0, false, false).get(0), DType.F64);
        Tensor[] params = net.parameters().toArray(new Tensor[0]);
        Tensor[] g = Autograd.grad(Trainer.loss(net.forward(b.inputs()), b, d), params, false);
        for (int p = 0; p < params.length; p++) {
            params[p].setGrad(g[p]);
        }
        opt.step();
    }

    private static Dataset imageData() {
        Rng r = new Rng(12);
        Tensor x = Tensor.randn(r, DType.F32, 1.0, 24, 1, 8, 8);
        int[] y = new int[24];
        for (int i = 0; i < y.length; i++) {
            y[i] = r.nextInt(3);
        }
        return Dataset.classification("image-data", x, y, 3);
    }

    private static final FireflyCandidates.Init LOUD = new FireflyCandidates.Init(0.5, 0.5, 0.5);

    /** Moves every depth candidate away from its start (W2 off zero, the conv off the identity). */
    private static void perturbDepth(FireflyCandidates c, Rng r) {
        for (FireflyCandidates.SiteCandidates s : c.sites()) {
            for (Tensor t : new Tensor[] {s.depthWeight(), s.depthBias(), s.depthOutWeight(), s.depthOutBias()}) {
                if (t != null) {
                    for (int i = 0; i < t.numel(); i++) {
                        t.setFlat(i, t.getFlat(i) + 0.3 * r.normal());
                    }
                }
            }
        }
    }

    private static Map<String, Double> depthGates(FireflyCandidates c, double g) {
        Map<String, Double> m = new HashMap<>();
        for (FireflyCandidates.SiteCandidates s : c.sites()) {
            m.put(s.name(), g);
        }
        return m;
    }

    private static Tensor trainModeOutput(Sequential net, Tensor x) {
        boolean was = net.isTraining();
        net.train(true);
        try (Autograd.Scope s = Autograd.noGrad()) {
            return net.forward(x);
        } finally {
            net.train(was);
        }
    }

    @Test
    void zeroResidualCandidatesAndBlocksPreserveTheFunction() {
        Sequential net = smoothMlp(1);
        FireflyCandidates c = FireflyCandidates.create(net, new int[] {2, 2}, true, true, LOUD, new Rng(2));
        for (FireflyCandidates.SiteCandidates s : c.sites()) {
            assertEquals(Surgery.DepthKind.RESIDUAL, s.depthKind(), "site " + s.name());
            assertEquals(s.neurons(), s.depthNeurons(), "inner width defaults to the layer's width");
            assertEquals(0.0, s.depthOutWeight().abs().sum().item(), "W2 starts at zero");
        }
        Tensor x = Tensor.randn(new Rng(3), DType.F64, 1.5, 7, 4);
        Tensor before = net.predict(x);
        assertClose(before, c.forward(x, Map.of(), Map.of(), Map.of()), SAME, "zero gates");
        assertClose(before, c.forward(x, Map.of(), Map.of(), depthGates(c, 1.0)), SAME, "zero residuals, gates at 1");
        perturbDepth(c, new Rng(4));
        double diff = c.forward(x, Map.of(), Map.of(), depthGates(c, 1.0)).sub(before).abs().sum().item();
        assertTrue(diff > 1e-3, "a trained block changes the output: " + diff);
        // Surgery inserting zero-residual blocks (W2 = 0, b2 = 0) after both layers preserves eval and train mode
        Sequential grown = Networks.copy(net);
        Rng r = new Rng(5);
        double[] w1a = Tensor.randn(r, DType.F64, 1, 6 * 6).toDoubleArray(), w1b = Tensor.randn(r, DType.F64, 1, 4 * 5).toDoubleArray();
        Plan plan = new Plan(List.of(), List.of(), List.of(
                new Plan.NewLayer("0", w1a, new double[6], new double[36], new double[6], -1),
                new Plan.NewLayer("3", w1b, new double[] {0.1, 0.2, 0.3, 0.4}, new double[20], new double[5], -1)));
        assertEquals(10, Surgery.apply(grown, plan, null), "a residual block costs its inner width");
        assertEquals(8, grown.size());
        assertTrue(grown.get(3) instanceof Residual && grown.get(6) instanceof Residual, Modules.describe(grown));
        assertEquals(List.of("0", "3"), Site.find(grown).stream().map(Site::name).toList(), "the sites stay, blocks in between");
        assertClose(before, grown.predict(x), SAME, "eval mode");
        Sequential again = Networks.copy(net);
        assertClose(trainModeOutput(again, x), trainModeOutput(Networks.copy(grown), x), SAME, "train mode (batch statistics)");
    }

    @Test
    void residualScoreIsTheGateDerivative() {
        Sequential net = smoothMlp(5);
        Dataset d = mlpData();
        GrowthContext ctx = new GrowthContext(net, d, 16, 0.5, new Rng(5), new CostMeter());
        FireflyCandidates c = FireflyCandidates.create(net, new int[] {2, 2}, true, true, 3, LOUD, new Rng(6));
        assertEquals(3, c.site("0").depthNeurons());
        perturbDepth(c, new Rng(7));
        checkDepthScores(c, ctx);
    }

    @Test
    void convDepthScoreIsTheGateDerivative() {
        Sequential net = cnn(8);
        GrowthContext ctx = new GrowthContext(net, imageData(), 12, 0.5, new Rng(5), new CostMeter());
        FireflyCandidates c = FireflyCandidates.create(net, new int[] {1, 1, 1}, true, true, LOUD, new Rng(6));
        perturbDepth(c, new Rng(9));
        // keep relu(A h + b) off zero: where a whole max-pooling window is 0 at gate 1, the loss has a kink in the gate
        // (below 1 the window's max is (1 - g) h > 0, above it 0 or below), so only one-sided derivatives exist there
        for (FireflyCandidates.SiteCandidates s : c.sites()) {
            for (int i = 0; i < s.depthBias().numel(); i++) {
                s.depthBias().setFlat(i, s.depthBias().getFlat(i) + 3.0);
            }
        }
        checkDepthScores(c, ctx);
    }

    private static void checkDepthScores(FireflyCandidates c, GrowthContext ctx) {
        FireflyCandidates.Scores scores = c.score(ctx.batches(), ctx.sample());
        for (FireflyCandidates.SiteCandidates site : c.sites()) {
            double expected = GrowthFixtures.depthGateDerivative(c, ctx, depthGates(c, 1.0), site.name(), FD_STEP);
            double got = scores.depth().get(site.name())[0];
            assertTrue(Math.abs(expected) > 1e-6, "a perturbed block has a non-trivial score at site " + site.name());
            assertEquals(expected, got, FD_REL * Math.max(1e-3, Math.abs(expected)) + 1e-9, "site " + site.name());
        }
    }

    @Test
    void identityConvCandidatesAndLayersPreserveTheFunction() {
        Sequential net = cnn(21);
        FireflyCandidates c = FireflyCandidates.create(net, new int[] {1, 1, 1}, true, true, LOUD, new Rng(22));
        for (FireflyCandidates.SiteCandidates s : c.sites()) {
            assertEquals(Surgery.DepthKind.CONV, s.depthKind());
            assertEquals(s.neurons(), s.depthNeurons());
        }
        Tensor x = Tensor.randn(new Rng(23), DType.F64, 1.0, 5, 1, 8, 8);
        Tensor before = net.predict(x);
        assertClose(before, c.forward(x, Map.of(), Map.of(), depthGates(c, 1.0)), SAME, "identity convs, gates at 1");
        // identity 3x3 convs inserted by Surgery after every conv block: same function in eval and in train mode
        Sequential grown = Networks.copy(net);
        List<Plan.NewLayer> layers = new java.util.ArrayList<>();
        for (Site s : Site.find(grown)) {
            int n = s.neurons();
            double[] w = new double[n * n * 9];
            for (int i = 0; i < n; i++) {
                w[(i * n + i) * 9 + 4] = 1;
            }
            layers.add(new Plan.NewLayer(s.name(), w, new double[n], -1));
        }
        assertEquals(3 + 3 + 4, Surgery.apply(grown, new Plan(List.of(), List.of(), layers), null));
        assertEquals(net.size() + 6, grown.size());
        assertEquals(6, Site.find(grown).size(), "the inserted convs are sites");
        assertClose(before, grown.predict(x), SAME, "eval mode");
        assertClose(trainModeOutput(Networks.copy(net), x), trainModeOutput(Networks.copy(grown), x), SAME, "train mode");
    }

    /**
     * A conv layer inserted with splits and new channels of the same conv and of its consumer: the grown network is
     * the over-grown one with the selected gates at 1; it saves and reloads to the same function; its new layer trains.
     */
    @Test
    void convLayerWithWidthChangesIsTheOverGrownNetworkAndReloads() throws Exception {
        Sequential net = cnn(31);
        FireflyCandidates c = FireflyCandidates.create(net, new int[] {2, 2, 2}, true, true, LOUD, new Rng(32));
        perturbDepth(c, new Rng(33));
        String s0 = Site.find(net).get(0).name(), s1 = Site.find(net).get(1).name(), s2 = Site.find(net).get(2).name();
        Map<String, double[]> split = new LinkedHashMap<>(), add = new LinkedHashMap<>(), depth = new LinkedHashMap<>();
        split.put(s0, new double[] {0.1, -0.5, 0.1});
        add.put(s0, new double[] {-0.3, 0.1});
        depth.put(s0, new double[] {0.2});
        split.put(s1, new double[] {-0.4, 0.1, 0.1});
        add.put(s1, new double[] {0.1, -0.2});
        depth.put(s1, new double[] {-3.0});
        split.put(s2, new double[] {0.1, 0.1, 0.1, 0.1});
        add.put(s2, new double[] {0.1, 0.1});
        depth.put(s2, new double[] {0.3});
        Firefly.Analysis a = new Firefly.Analysis(c, new FireflyCandidates.Optimisation(Double.NaN, Double.NaN, 0),
                new FireflyCandidates.Scores(split, add, depth));
        Firefly deep = (Firefly) Methods.create("firefly-deep", Map.of("k", "2"));
        Plan plan = deep.plan(a, 10);
        assertEquals(1, plan.layers().size());
        assertEquals(s1, plan.layers().get(0).site());
        assertEquals(2, plan.splits().size());
        assertEquals(2, plan.additions().size());
        Tensor x = Tensor.randn(new Rng(34), DType.F64, 1.0, 4, 1, 8, 8);
        Tensor expected = c.forward(x, Map.of(s0, new double[] {0, 1, 0}, s1, new double[] {1, 0, 0}),
                Map.of(s0, new double[] {1, 0}, s1, new double[] {0, 1}), Map.of(s1, 1.0));
        assertEquals(2 + 2 + 5, Surgery.apply(net, plan, null));
        assertClose(expected, net.predict(x), SAME, "grown network");
        assertEquals(List.of(5, 5, 5, 4), Site.find(net).stream().map(Site::neurons).toList());
        Path file = tmp.resolve("conv-deep.ck");
        Checkpoint.save(file, net, null, Map.of());
        Module loaded = Checkpoint.load(file).model(new Rng(2));
        assertEquals(Modules.describe(net), Modules.describe(loaded));
        assertClose(expected, loaded.predict(x), SAME, "reloaded");
        // the inserted conv trains: its gradients are non-zero
        Conv2d inserted = (Conv2d) net.get(Site.find(net).get(2).index());
        assertTrue(gradNorm(net, imageData(), inserted.parameter("weight")) > 0, "inserted conv weight gradient");
    }

    private static double gradNorm(Sequential net, Dataset d, Tensor p) {
        Batches.Batch b = SplittingMatrices.inDType(Batches.epoch(d, d.size(), 0, 0, false, false).get(0), DType.F64);
        Tensor loss = Trainer.loss(net.forward(b.inputs()), b, d);
        Tensor g = Autograd.grad(loss, new Tensor[] {p}, false)[0];
        return g.abs().sum().item();
    }

    /**
     * A residual block chosen with width changes of its site; next round a second block, with width changes of the
     * site that now has a block between it and its consumer: each time the grown network is the over-grown one with
     * the selected gates; the deepened network saves and reloads; its blocks train.
     */
    @Test
    void residualBlocksWithWidthChangesAreTheOverGrownNetwork() throws Exception {
        Sequential net = smoothMlp(41);
        Tensor x = Tensor.randn(new Rng(44), DType.F64, 1.5, 7, 4);
        for (int round = 0; round < 2; round++) {
            // an optimizer with momentum state, kept through the surgery (its state is remapped, blocks included)
            dev.sprout.optim.SGD sgd = new dev.sprout.optim.SGD(net, 0.01, 0.9);
            sgdStep(net, sgd);
            FireflyCandidates c = FireflyCandidates.create(net, new int[] {2, 2}, true, true, 4, LOUD, new Rng(42 + round));
            perturbDepth(c, new Rng(43 + round));
            Map<String, double[]> split = new LinkedHashMap<>(), add = new LinkedHashMap<>(), depth = new LinkedHashMap<>();
            int n0 = c.site("0").neurons(), n3 = c.site("3").neurons();
            double[] sp0 = new double[n0], sp3 = new double[n3];
            Arrays.fill(sp0, 0.1);
            Arrays.fill(sp3, 0.1);
            sp0[1] = -0.5;
            sp3[2] = -0.2;
            split.put("0", sp0);
            split.put("3", sp3);
            add.put("0", new double[] {0.1, -0.3});
            add.put("3", new double[] {-0.25, 0.1});
            depth.put("0", new double[] {-6.0});
            depth.put("3", new double[] {0.5});
            Firefly.Analysis a = new Firefly.Analysis(c, new FireflyCandidates.Optimisation(Double.NaN, Double.NaN, 0),
                    new FireflyCandidates.Scores(split, add, depth));
            Firefly deep = ((Firefly) Methods.create("firefly-deep", Map.of("k", "2", "depth-width", "4")));
            Plan plan = deep.plan(a, 8);
            assertEquals(1, plan.layers().size(), "round " + round);
            assertTrue(plan.layers().get(0).residual());
            assertEquals(2, plan.splits().size());
            assertEquals(2, plan.additions().size());
            double[] g0 = new double[n0], g3 = new double[n3];
            g0[1] = 1;
            g3[2] = 1;
            Tensor expected = c.forward(x, Map.of("0", g0, "3", g3), Map.of("0", new double[] {0, 1}, "3", new double[] {1, 0}),
                    Map.of("0", 1.0));
            assertEquals(2 + 2 + 4, Surgery.apply(net, plan, sgd));
            assertClose(expected, net.predict(x), SAME, "round " + round);
            sgdStep(net, sgd); // the remapped state fits the grown parameters
        }
        assertEquals(List.of(10, 9), Site.find(net).stream().map(Site::neurons).toList());
        List<Residual> blocks = Site.find(net).get(0).residuals();
        assertEquals(2, blocks.size(), "the second block goes in right after the activation, before the first");
        assertEquals(10, blocks.get(0).features());
        assertEquals(10, blocks.get(1).features(), "the first block (8 wide when inserted) was widened with its site");
        Path file = tmp.resolve("residual-deep.ck");
        Checkpoint.save(file, net, null, Map.of());
        Module loaded = Checkpoint.load(file).model(new Rng(2));
        assertEquals(Modules.describe(net), Modules.describe(loaded));
        assertClose(net.predict(x), loaded.predict(x), SAME, "reloaded");
        for (String p : List.of("in_weight", "in_bias", "out_weight", "out_bias")) {
            assertTrue(gradNorm(net, mlpData(), blocks.get(1).parameter(p)) > 0, "gradient of " + p);
        }
        // one more neuron of the site costs what paramsPerNeuron says, its entries in both blocks included
        Site s0 = Site.find(net).get(0);
        long per = s0.paramsPerNeuron(), params = net.parameterCount();
        Tensor y = net.predict(x);
        Surgery.apply(net, new Plan(List.of(), List.of(new Plan.NewNeuron("0", new double[4], 0, new double[9], -1))), null);
        assertEquals(params + per, net.parameterCount());
        assertClose(y, net.predict(x), SAME, "a new neuron with zero outgoing weights passes through the blocks");
    }

    /** Softplus (with its beta): the block takes the site's activation, and a checkpoint rebuilds it with the same beta. */
    @Test
    void softplusBlockKeepsItsBetaThroughACheckpoint() throws Exception {
        Rng r = new Rng(81);
        Sequential net = new Sequential(new Linear(4, 5, true, r, DType.F64), new Act(Activation.SOFTPLUS, 2.0),
                new Linear(5, 3, true, r, DType.F64));
        FireflyCandidates c = FireflyCandidates.create(net, new int[] {1}, true, true, 2, LOUD, new Rng(82));
        assertEquals(Surgery.DepthKind.RESIDUAL, c.site("0").depthKind());
        perturbDepth(c, new Rng(83));
        Tensor x = Tensor.randn(new Rng(84), DType.F64, 1.5, 6, 4);
        Tensor expected = c.forward(x, Map.of(), Map.of(), Map.of("0", 1.0));
        FireflyCandidates.SiteCandidates s = c.site("0");
        Surgery.apply(net, new Plan(List.of(), List.of(), List.of(new Plan.NewLayer("0", s.depthWeight().toDoubleArray(),
                s.depthBias().toDoubleArray(), s.depthOutWeight().toDoubleArray(), s.depthOutBias().toDoubleArray(), -1))), null);
        Residual block = (Residual) net.get(2);
        assertEquals(Activation.SOFTPLUS, block.function());
        assertEquals(2.0, block.beta());
        assertClose(expected, net.predict(x), SAME, "the inserted block is the candidate at gate 1");
        Path file = tmp.resolve("softplus.ck");
        Checkpoint.save(file, net, null, Map.of());
        Module loaded = Checkpoint.load(file).model(new Rng(2));
        assertEquals(2.0, ((Residual) ((Sequential) loaded).get(2)).beta());
        assertClose(expected, loaded.predict(x), SAME, "reloaded");
    }

    /** A block inserted as a zero residual (W2 = 0) trains: its output weights get gradients at once. */
    @Test
    void aZeroResidualBlockGetsGradients() {
        Sequential net = smoothMlp(51);
        Plan plan = new Plan(List.of(), List.of(), List.of(
                new Plan.NewLayer("3", Tensor.randn(new Rng(1), DType.F64, 1, 6 * 5).toDoubleArray(), new double[6], new double[30],
                        new double[5], -1)));
        Surgery.apply(net, plan, null);
        Residual r = Site.find(net).get(1).residuals().get(0);
        assertTrue(gradNorm(net, mlpData(), r.parameter("out_weight")) > 0);
        assertTrue(gradNorm(net, mlpData(), r.parameter("out_bias")) > 0);
        assertEquals(0.0, gradNorm(net, mlpData(), r.parameter("in_weight")), "W1 waits for W2 (its gradient is W2^T ...)");
        // second derivatives run through the block (Hessian-vector products)
        Dataset d = mlpData();
        Batches.Batch b = SplittingMatrices.inDType(Batches.epoch(d, d.size(), 0, 0, false, false).get(0), DType.F64);
        Tensor w2 = r.parameter("out_weight"), w1 = r.parameter("in_weight");
        Tensor[] g;
        try (Autograd.Scope s = Autograd.enableGrad()) {
            Tensor loss = Trainer.loss(net.forward(b.inputs()), b, d);
            g = Autograd.grad(loss, new Tensor[] {w2}, true);
            Tensor hv = Autograd.grad(g[0].sum(), new Tensor[] {w1}, false)[0];
            assertTrue(hv.abs().sum().item() > 0, "d/dW1 of dL/dW2");
        }
    }

    @Test
    void deepGrowthEndToEndOnTanh() {
        Rng r = new Rng(61);
        Sequential net = new Sequential(new Linear(4, 6, true, r, DType.F32), Act.tanh(), new Linear(6, 3, true, r, DType.F32));
        Dataset d = mlpData();
        GrowthFixtures.pretrain(net, d);
        GrowthContext ctx = new GrowthContext(net, d, 20, 1.0, new Rng(5), new CostMeter());
        Firefly deep = (Firefly) Methods.create("firefly-deep", Map.of("steps", "60", "batch", "20", "lr", "0.01",
                "splits", "false", "k", "0"));
        Firefly.Analysis a = deep.analyse(ctx);
        double s = a.scores().depth().get("0")[0];
        assertTrue(s < 0, "after optimising, switching the block on lowers the loss: score " + s);
        Plan plan = deep.plan(a, ctx.budget());
        assertEquals(1, plan.layers().size());
        double before = Trainer.evaluate(net, d, 60).loss();
        Surgery.apply(net, plan, null);
        assertTrue(net.get(2) instanceof Residual);
        assertTrue(Trainer.evaluate(net, d, 60).loss() < before);
    }

    @Test
    void badDepthInputIsRefusedAndLeavesTheModelUnchanged() {
        Sequential tanh = smoothMlp(71);
        String arch = Modules.describe(tanh);
        Tensor x = Tensor.randn(new Rng(1), DType.F64, 1, 3, 4);
        Tensor before = tanh.predict(x);
        // a relu-style layer after tanh
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Surgery.apply(tanh,
                new Plan(List.of(), List.of(), List.of(new Plan.NewLayer("0", new double[36], new double[6], 0))), null));
        assertTrue(e.getMessage().contains("residual block") && e.getMessage().contains("tanh"), e.getMessage());
        // W2 of the wrong length, together with a valid split (nothing at all may change)
        Plan bad = new Plan(List.of(Plan.Split.positive("0", 1, new double[4], 1, -1)), List.of(),
                List.of(new Plan.NewLayer("0", new double[12], new double[2], new double[11], new double[6], -1)));
        e = assertThrows(IllegalArgumentException.class, () -> Surgery.apply(tanh, bad, null));
        assertTrue(e.getMessage().contains("W2") && e.getMessage().contains("has 11 entries"), e.getMessage());
        // non-finite b1
        e = assertThrows(IllegalArgumentException.class, () -> Surgery.apply(tanh, new Plan(List.of(), List.of(),
                List.of(new Plan.NewLayer("3", new double[5], new double[] {Double.NaN}, new double[5], new double[5], -1))), null));
        assertTrue(e.getMessage().contains("b1") && e.getMessage().contains("NaN"), e.getMessage());
        assertEquals(arch, Modules.describe(tanh));
        assertClose(before, tanh.predict(x), 0, "unchanged");
        // a residual block after a relu layer; a conv without relu; an identity activation
        Sequential relu = new Sequential(new Linear(4, 6, true, new Rng(1), DType.F64), Act.relu(), new Linear(6, 3, true, new Rng(2), DType.F64));
        e = assertThrows(IllegalArgumentException.class, () -> Surgery.apply(relu, new Plan(List.of(), List.of(),
                List.of(new Plan.NewLayer("0", new double[36], new double[6], new double[36], new double[6], 0))), null));
        assertTrue(e.getMessage().contains("relu layer"), e.getMessage());
        Sequential convTanh = new Sequential(new Conv2d(1, 2, 3, 1, 1, true, new Rng(3), DType.F64), Act.tanh(), new Flatten(),
                new Linear(2 * 8 * 8, 3, true, new Rng(4), DType.F64));
        e = assertThrows(IllegalArgumentException.class, () -> Methods.create("firefly-deep").check(convTanh));
        assertTrue(e.getMessage().contains("no layer can take a new layer"), e.getMessage());
        Sequential ident = new Sequential(new Linear(4, 6, true, new Rng(1), DType.F64), new Act(Activation.IDENTITY),
                new Linear(6, 3, true, new Rng(2), DType.F64));
        e = assertThrows(IllegalArgumentException.class, () -> Surgery.depthKind(Site.find(ident).get(0)));
        assertTrue(e.getMessage().contains("identity"), e.getMessage());
        // options and the block itself
        e = assertThrows(IllegalArgumentException.class, () -> Methods.create("firefly-deep", Map.of("depth-width", "0")));
        assertTrue(e.getMessage().contains("depth-width"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Methods.create("firefly", Map.of("depth-width", "3")));
        assertTrue(e.getMessage().contains("depth-width"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new Residual(4, 0, Activation.TANH, 1, new Rng(1), DType.F64));
        assertThrows(IllegalArgumentException.class, () -> new Residual(4, 2, Activation.IDENTITY, 1, new Rng(1), DType.F64));
        Residual r = new Residual(4, 2, Activation.TANH, 1, new Rng(1), DType.F64);
        assertThrows(RuntimeException.class, () -> r.replace(Map.of("out_weight", Tensor.zeros(DType.F64, 4, 3)), Map.of()));
        assertEquals(2, r.hidden());
        assertNull(null);
        assertThrows(RuntimeException.class, () -> r.forward(Tensor.zeros(DType.F64, 2, 5)));
    }
}
