package dev.sprout.growth;

import dev.sprout.data.Dataset;
import dev.sprout.io.Checkpoint;
import dev.sprout.nn.Act;
import dev.sprout.nn.BatchNorm;
import dev.sprout.nn.Linear;
import dev.sprout.nn.Module;
import dev.sprout.nn.Modules;
import dev.sprout.nn.Sequential;
import dev.sprout.tensor.DType;
import dev.sprout.tensor.Rng;
import dev.sprout.tensor.Tensor;
import dev.sprout.train.Trainer;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static dev.sprout.growth.GrowthFixtures.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Firefly depth growth (firefly-deep): identity-initialised layers and zero gates preserve the function (R0 (a)),
 * the new-layer score is the gate derivative, the grown network (a layer inserted together with width changes of the
 * same layers) is the over-grown one with the selected gates, and what is refused.
 */
class FireflyDeepTest {
    private static final double SAME_FUNCTION = 1e-11;
    private static final double GATE_FD_STEP = 1e-5;
    private static final double GATE_FD_REL = 1e-6;

    /** 4 -> 6 (BN, relu) -> 5 (relu) -> 3, f64, with non-trivial batch-norm statistics. */
    private static Sequential reluMlp(long seed) {
        Rng r = new Rng(seed);
        BatchNorm bn = new BatchNorm(6, false, 0.1, 1e-5, DType.F64);
        bn.replace(Map.of("weight", Tensor.rand(r, DType.F64, 0.5, 1.5, 6), "bias", Tensor.rand(r, DType.F64, -0.3, 0.3, 6)),
                Map.of("running_mean", Tensor.rand(r, DType.F64, -0.5, 0.5, 6), "running_var", Tensor.rand(r, DType.F64, 0.5, 2, 6)));
        return new Sequential(new Linear(4, 6, true, r, DType.F64), bn, Act.relu(), new Linear(6, 5, true, r, DType.F64),
                Act.relu(), new Linear(5, 3, true, r, DType.F64));
    }


    private static GrowthContext ctx(Sequential net, double ratio) {
        return new GrowthContext(net, GrowthFixtures.mlpData(), 16, ratio, new Rng(5), new CostMeter());
    }

    private static final FireflyCandidates.Init LOUD = new FireflyCandidates.Init(0.5, 0.5, 0.5);

    /** Moves every new-layer candidate away from the identity, so that a wrong write-back would show. */
    private static void perturbDepth(FireflyCandidates c, Rng r) {
        for (FireflyCandidates.SiteCandidates s : c.sites()) {
            if (s.hasDepth()) {
                Tensor w = s.depthWeight(), b = s.depthBias();
                for (int i = 0; i < w.numel(); i++) {
                    w.setFlat(i, w.getFlat(i) + 0.3 * r.normal());
                }
                for (int i = 0; i < b.numel(); i++) {
                    b.setFlat(i, 0.2 * r.normal());
                }
            }
        }
    }

    /**
     * R0 (a): with every gate at 0 the over-grown network is the network; at the identity start a new-layer
     * candidate changes nothing even with its gate at 1 (relu(relu(z)) = relu(z)); moved away from it, it does.
     */
    @Test
    void zeroGatesAndIdentityLayersPreserveTheFunction() {
        Sequential net = reluMlp(1);
        FireflyCandidates c = FireflyCandidates.create(net, new int[] {2, 2}, true, true, LOUD, new Rng(2));
        assertTrue(c.sites().stream().allMatch(FireflyCandidates.SiteCandidates::hasDepth), "both relu dense layers are candidates");
        Tensor x = Tensor.randn(new Rng(3), DType.F64, 1.5, 7, 4);
        Tensor before = net.predict(x);
        assertClose(before, c.forward(x, Map.of(), Map.of(), Map.of()), SAME_FUNCTION, "zero gates");
        Map<String, Double> on = Map.of("0", 1.0, "3", 1.0);
        assertClose(before, c.forward(x, Map.of(), Map.of(), on), SAME_FUNCTION, "identity layers, gates at 1");
        perturbDepth(c, new Rng(4));
        double diff = c.forward(x, Map.of(), Map.of(), on).sub(before).abs().sum().item();
        assertTrue(diff > 1e-3, "a trained layer changes the output: " + diff);
        // a Surgery insertion of the identity layer itself preserves the function
        Sequential other = reluMlp(1);
        double[] eye = new double[36];
        for (int i = 0; i < 6; i++) {
            eye[i * 6 + i] = 1;
        }
        int added = Surgery.apply(other, new Plan(List.of(), List.of(), List.of(new Plan.NewLayer("0", eye, new double[6], -1))), null);
        assertEquals(6, added);
        assertEquals(8, other.size());
        assertClose(before, other.predict(x), SAME_FUNCTION, "identity layer inserted");
        assertEquals(List.of("0", "grown", "3"), Site.find(other).stream().map(Site::name).toList(), "the new layer is a site");
    }

    /** The new-layer score is the derivative of the mean loss in its gate at 1 (central finite differences). */
    @Test
    void newLayerScoreIsTheGateDerivative() {
        Sequential net = reluMlp(5);
        GrowthContext ctx = ctx(net, 0.5);
        FireflyCandidates c = FireflyCandidates.create(net, new int[] {2, 2}, true, true, LOUD, new Rng(6));
        perturbDepth(c, new Rng(7));
        FireflyCandidates.Scores scores = c.score(ctx.batches(), ctx.sample());
        for (String site : List.of("0", "3")) {
            double expected = GrowthFixtures.depthGateDerivative(c, ctx, Map.of("0", 1.0, "3", 1.0), site, GATE_FD_STEP);
            double got = scores.depth().get(site)[0];
            assertEquals(expected, got, GATE_FD_REL * Math.max(1e-3, Math.abs(expected)) + 1e-9, "site " + site);
        }
    }

    /**
     * A new layer inserted together with splits and new neurons of the same layer and of its consumer: the grown
     * network is the over-grown one with the selected gates at 1 (offspring sharing their parent's row and column
     * of the new layer, new neurons passing through it), and its description rebuilds the same order.
     */
    @Test
    void aNewLayerWithWidthChangesIsTheOverGrownNetwork() {
        Sequential net = reluMlp(21);
        FireflyCandidates c = FireflyCandidates.create(net, new int[] {2, 2}, true, true, LOUD, new Rng(22));
        perturbDepth(c, new Rng(23));
        // scores that select: the layer after "0", splits 1 and 4 of "0", new neuron 1 of "0", split 2 and new 0 of "3"
        Map<String, double[]> split = new LinkedHashMap<>(), add = new LinkedHashMap<>(), depth = new LinkedHashMap<>();
        split.put("0", new double[] {0.1, -0.5, 0.1, 0.1, -0.4, 0.1});
        add.put("0", new double[] {0.1, -0.3});
        depth.put("0", new double[] {-6.0});
        split.put("3", new double[] {0.1, 0.1, -0.2, 0.1, 0.1});
        add.put("3", new double[] {-0.25, 0.1});
        depth.put("3", new double[] {0.5});
        Firefly.Analysis a = new Firefly.Analysis(c, new FireflyCandidates.Optimisation(Double.NaN, Double.NaN, 0),
                new FireflyCandidates.Scores(split, add, depth));
        Firefly deep = (Firefly) Methods.create("firefly-deep", Map.of("k", "2"));
        Plan plan = deep.plan(a, 11);
        assertEquals(1, plan.layers().size());
        assertEquals(3, plan.splits().size());
        assertEquals(2, plan.additions().size());
        Tensor x = Tensor.randn(new Rng(24), DType.F64, 1.5, 7, 4);
        Tensor expected = c.forward(x, Map.of("0", new double[] {0, 1, 0, 0, 1, 0}, "3", new double[] {0, 0, 1, 0, 0}),
                Map.of("0", new double[] {0, 1}, "3", new double[] {1, 0}), Map.of("0", 1.0));
        int added = Surgery.apply(net, plan, null);
        assertEquals(3 + 2 + (6 + 2 + 1), added, "splits, new neurons, and the new layer over the grown 9 channels");
        assertClose(expected, net.predict(x), SAME_FUNCTION, "grown network");
        assertEquals(List.of(9, 9, 7), Site.find(net).stream().map(Site::neurons).toList());
        String arch = Modules.describe(net);
        Module back = Modules.parse(arch, new Rng(1), DType.F64);
        assertEquals(arch, Modules.describe(back));
        assertEquals(net.parameterCount(), back.parameterCount());
        // a checkpoint of the deepened network reloads to the same function (the inserted layer in its place)
        java.nio.file.Path file = tmp.resolve("deep.ck");
        Checkpoint.save(file, net, null, Map.of());
        Module loaded = Checkpoint.load(file).model(new Rng(2));
        assertClose(expected, loaded.predict(x), SAME_FUNCTION, "reloaded grown network");
    }

    @org.junit.jupiter.api.io.TempDir
    java.nio.file.Path tmp;

    /** With a budget that can pay for a layer, firefly-deep end to end grows a layer or width and lowers the loss on a trained net. */
    @Test
    void deepGrowthEndToEnd() {
        Rng r = new Rng(31);
        Sequential net = new Sequential(new Linear(4, 6, true, r, DType.F32), Act.relu(), new Linear(6, 3, true, r, DType.F32));
        Dataset d = GrowthFixtures.mlpData();
        GrowthFixtures.pretrain(net, d);
        GrowthContext ctx = new GrowthContext(net, d, 20, 1.0, new Rng(5), new CostMeter());
        double before = Trainer.evaluate(net, d, 60).loss();
        Firefly deep = (Firefly) Methods.create("firefly-deep", Map.of("steps", "60", "batch", "20", "lr", "0.01"));
        Firefly.Analysis a = deep.analyse(ctx);
        List<Selection.Candidate> chosen = deep.select(a, ctx.budget());
        int cost = chosen.stream().mapToInt(x -> (int) x.cost()).sum();
        assertTrue(!chosen.isEmpty() && cost <= ctx.budget(), "cost " + cost + " within budget " + ctx.budget());
        assertTrue(a.scores().depth().get("0").length == 1, "a depth candidate was scored");
        Surgery.apply(net, deep.plan(a, ctx.budget()), null);
        assertTrue(Trainer.evaluate(net, d, 60).loss() < before);
    }

    @Test
    void depthIsRefusedWhereItCannotPreserveTheFunction() {
        Rng r = new Rng(41);
        Sequential tanh = new Sequential(new dev.sprout.nn.Conv2d(1, 2, 3, 1, 1, true, r, DType.F64), Act.tanh(),
                new dev.sprout.nn.Flatten(), new Linear(2 * 4 * 4, 3, true, r, DType.F64));
        String arch = Modules.describe(tanh);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Methods.create("firefly-deep").check(tanh));
        assertTrue(e.getMessage().contains("relu"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> Surgery.apply(tanh, new Plan(List.of(), List.of(), List.of(new Plan.NewLayer("0", new double[36], new double[2], 0))), null));
        assertTrue(e.getMessage().contains("relu") && e.getMessage().contains("tanh"), e.getMessage());
        Sequential relu = reluMlp(42);
        String reluArch = Modules.describe(relu);
        e = assertThrows(IllegalArgumentException.class,
                () -> Surgery.apply(relu, new Plan(List.of(), List.of(), List.of(new Plan.NewLayer("0", new double[35], new double[6], 0))), null));
        assertTrue(e.getMessage().contains("has 35 entries"), e.getMessage());
        assertEquals(reluArch, Modules.describe(relu));
        assertEquals(arch, Modules.describe(tanh));
        e = assertThrows(IllegalArgumentException.class, () -> Methods.create("firefly-deep", Map.of("as-official", "true")));
        assertTrue(e.getMessage().contains("no depth growth"), e.getMessage());
    }
}
