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
import dev.sprout.nn.Modules;
import dev.sprout.nn.Pool2d;
import dev.sprout.nn.Sequential;
import dev.sprout.tensor.DType;
import dev.sprout.tensor.Rng;
import dev.sprout.tensor.Tensor;
import dev.sprout.train.Trainer;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static dev.sprout.growth.GrowthFixtures.mlpData;
import static dev.sprout.growth.GrowthFixtures.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Firefly width growth: spec section 14 R0 (a) for zero-gated candidates and R0 (e) for the split score, the scores
 * as gate derivatives (against finite differences), the grown network against the over-grown one, the official
 * bugs kept by {@code as-official}, and bad input. Small f64 networks.
 */
class FireflyTest {
    /** Function preservation and materialisation: the same function up to rounding of a different operation order. */
    private static final double SAME_FUNCTION = 1e-11;
    /** Split score against {@code s^2 v^T S v}: the relative error is O(s^2), so at s = 1e-2 it is about 1e-4. */
    private static final double[] SCALES = {1e-1, 1e-2};
    private static final double SPLIT_SCORE_REL = 1e-3;
    /** Each decade of s must shrink that error by at least this much (100 in theory). */
    private static final double SECOND_ORDER_DECADE_GAIN = 30;
    /** Central finite differences of the loss in one gate, step and relative tolerance. */
    private static final double GATE_FD_STEP = 1e-5;
    private static final double GATE_FD_REL = 1e-6;

    // ------------------------------------------------------------------------------------------ models and data

    /** 4 -> 6 -> 5 -> 3 with two growable layers (the second reads the first's new neurons); f64. */
    private static Sequential mlp(long seed, Activation second) {
        Rng r = new Rng(seed);
        return new Sequential(new Linear(4, 6, true, r, DType.F64), Act.tanh(), new Linear(6, 5, true, r, DType.F64),
                new Act(second, 2), new Linear(5, 3, true, r, DType.F64));
    }

    /**
     * conv(2->3, bias) + BN + tanh + avgpool + conv(3->4) + BN + softplus + flatten + linear(64->5) + tanh + linear:
     * a conv site feeding a conv site, a conv site feeding a dense one after a flatten, and a dense site; f64 with
     * non-trivial batch-norm statistics.
     */
    private static Sequential cnn(long seed) {
        Rng r = new Rng(seed);
        Sequential net = new Sequential(new Conv2d(2, 3, 3, 1, 1, true, r, DType.F64), new BatchNorm(3, true, 0.1, 1e-5, DType.F64),
                Act.tanh(), Pool2d.avg(2), new Conv2d(3, 4, 3, 1, 1, false, r, DType.F64),
                new BatchNorm(4, true, 0.1, 1e-5, DType.F64), new Act(Activation.SOFTPLUS, 1.5), new Flatten(),
                new Linear(4 * 4 * 4, 5, true, r, DType.F64), Act.tanh(), new Linear(5, 3, true, r, DType.F64));
        for (int i : new int[] {1, 5}) {
            BatchNorm bn = (BatchNorm) net.get(i);
            int c = bn.features();
            bn.replace(Map.of("weight", Tensor.rand(r, DType.F64, 0.5, 1.5, c), "bias", Tensor.rand(r, DType.F64, -0.3, 0.3, c)), Map.of());
        }
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

    private static GrowthContext ctx(Sequential net, Dataset data, int batch, double ratio) {
        return new GrowthContext(net, data, batch, ratio, new Rng(5), new CostMeter());
    }

    /** Candidates with weights large enough that any leak through a zero gate would show. */
    private static final FireflyCandidates.Init LOUD = new FireflyCandidates.Init(0.5, 0.5, 0.5);

    private static int[] widths(Sequential net) {
        return Site.find(net).stream().mapToInt(Site::neurons).toArray();
    }

    private static double maxAbsDiff(Tensor a, Tensor b) {
        double[] x = a.toDoubleArray(), y = b.toDoubleArray();
        double m = 0;
        for (int i = 0; i < x.length; i++) {
            m = Math.max(m, Math.abs(x[i] - y[i]));
        }
        return m;
    }

    /** The mean loss over the context's batches (batches weighted by size), of the over-grown net with some gates. */
    private static double gatedLoss(FireflyCandidates c, GrowthContext ctx, Map<String, double[]> sg, Map<String, double[]> ng) {
        double sum = 0;
        int n = 0;
        for (Batches.Batch b : ctx.batches()) {
            Batches.Batch bb = SplittingMatrices.inDType(b, DType.F64);
            try (Autograd.Scope s = Autograd.noGrad()) {
                sum += Trainer.loss(c.forward(bb.inputs(), sg, ng), bb, ctx.sample()).item() * b.size();
            }
            n += b.size();
        }
        return sum / n;
    }

    private static Map<String, double[]> ones(FireflyCandidates c, boolean add) {
        Map<String, double[]> m = new HashMap<>();
        for (FireflyCandidates.SiteCandidates s : c.sites()) {
            double[] g = new double[add ? s.newCount() : s.neurons()];
            java.util.Arrays.fill(g, 1.0);
            m.put(s.name(), g);
        }
        return m;
    }

    // ------------------------------------------------------------------------------------------ R0 (a)

    /**
     * R0 (a): with every gate at 0 the over-grown network computes the network's function exactly, whatever the
     * candidate weights, for tanh, softplus and sigmoid (sigma(0) != 0) layers, and for a CNN with batch norm in
     * eval mode; with the gates at 1 the candidates really change the output.
     */
    @Test
    void zeroGatedCandidatesLeaveTheFunctionUnchanged() {
        List<Sequential> nets = List.of(mlp(1, Activation.SOFTPLUS), mlp(2, Activation.SIGMOID), cnn(3));
        List<Tensor> inputs = List.of(Tensor.randn(new Rng(4), DType.F64, 1.5, 7, 4), Tensor.randn(new Rng(5), DType.F64, 1.5, 7, 4),
                Tensor.randn(new Rng(6), DType.F64, 1.0, 3, 2, 8, 8));
        for (int n = 0; n < nets.size(); n++) {
            Sequential net = nets.get(n);
            int[] k = {2, 3, 2};
            FireflyCandidates c = FireflyCandidates.create(net, java.util.Arrays.copyOf(k, Site.find(net).size()), true, LOUD, new Rng(7));
            Tensor x = inputs.get(n);
            Tensor before = net.predict(x);
            Tensor zero = c.forward(x, Map.of(), Map.of());
            assertClose(before, zero, SAME_FUNCTION, "net " + n + " with zero gates");
            assertTrue(maxAbsDiff(before, c.forward(x)) > 1e-3, "net " + n + ": the candidates at gate 1 change the output");
            assertClose(before, net.predict(x), 0, "net " + n + " itself is untouched");
        }
    }

    // ------------------------------------------------------------------------------------------ R0 (e)

    /**
     * R0 (e): with the split displacements set to {@code s v} (v unit, no optimisation), the score of split i is
     * {@code s^2 v^T S_i v}, i.e. {@code dL/ds = s v^T S_i v}, with {@code S_i} from {@link SplittingMatrices} (the
     * independent weighted-Gram reference); the error falls as s^2. All splits of all layers are in place at once.
     */
    @Test
    void splitScoreIsSTimesVTransposeSV() {
        checkSplitScores(mlp(21, Activation.SOFTPLUS), mlpData(), 20);
        checkSplitScores(cnn(22), cnnData(), 8);
    }

    private static void checkSplitScores(Sequential net, Dataset data, int batch) {
        GrowthContext ctx = ctx(net, data, batch, 0.5);
        List<Site> sites = Site.find(net);
        Map<String, SplittingMatrices> mats = new LinkedHashMap<>();
        for (Site s : sites) {
            mats.put(s.name(), SplittingMatrices.of(s, ctx.batches(), data, SplittingMatrices.DEFAULT_SURROGATE_BETA, null));
        }
        Rng r = new Rng(31);
        Map<String, double[][]> dirs = new LinkedHashMap<>();
        for (Site s : sites) {
            double[][] v = new double[s.neurons()][];
            for (int i = 0; i < v.length; i++) {
                v[i] = RandomSplit.unitVector(r, s.fanIn());
            }
            dirs.put(s.name(), v);
        }
        double[] worst = new double[SCALES.length];
        for (int t = 0; t < SCALES.length; t++) {
            double scale = SCALES[t];
            FireflyCandidates c = FireflyCandidates.create(net, new int[sites.size()], true, LOUD, new Rng(1));
            for (FireflyCandidates.SiteCandidates sc : c.sites()) {
                double[][] v = dirs.get(sc.name());
                for (int i = 0; i < v.length; i++) {
                    for (int j = 0; j < v[i].length; j++) {
                        sc.split().set(scale * v[i][j], i, j);
                    }
                }
            }
            FireflyCandidates.Scores scores = c.score(ctx.batches(), data);
            double norm = 0;
            for (Site s : sites) {
                for (int i = 0; i < s.neurons(); i++) {
                    norm = Math.max(norm, Math.abs(mats.get(s.name()).quadraticForm(i, dirs.get(s.name())[i])));
                }
            }
            for (Site s : sites) {
                double[] got = scores.split().get(s.name());
                for (int i = 0; i < s.neurons(); i++) {
                    double vsv = mats.get(s.name()).quadraticForm(i, dirs.get(s.name())[i]);
                    double dLds = got[i] / scale; // the gate scales s: dL/dg = s dL/ds
                    double err = Math.abs(dLds - scale * vsv) / (scale * norm);
                    worst[t] = Math.max(worst[t], err);
                }
            }
            assertTrue(scores.add().values().stream().allMatch(a -> a.length == 0), "no new candidates were asked for");
        }
        assertTrue(worst[SCALES.length - 1] < SPLIT_SCORE_REL, "relative error at s=" + SCALES[SCALES.length - 1] + ": " + worst[1]);
        assertTrue(worst[0] / worst[1] > SECOND_ORDER_DECADE_GAIN, "error must fall as s^2: " + worst[0] + " -> " + worst[1]);
    }

    // ------------------------------------------------------------------------------------------ scores

    /** Every score is the derivative of the mean loss in that candidate's gate at 1 (central finite differences). */
    @Test
    void scoresAreGateDerivatives() {
        for (Sequential net : List.of(mlp(41, Activation.TANH), cnn(42))) {
            Dataset data = net.get(0) instanceof Conv2d ? cnnData() : mlpData();
            GrowthContext ctx = ctx(net, data, 16, 0.5);
            int[] k = java.util.Arrays.copyOf(new int[] {2, 3, 2}, Site.find(net).size());
            FireflyCandidates c = FireflyCandidates.create(net, k, true, LOUD, new Rng(43));
            FireflyCandidates.Scores scores = c.score(ctx.batches(), data);
            int checked = 0;
            for (FireflyCandidates.SiteCandidates s : c.sites()) {
                for (boolean add : new boolean[] {false, true}) {
                    int n = add ? s.newCount() : s.neurons();
                    for (int i = 0; i < n; i += Math.max(1, n - 1)) { // first and last of each kind
                        Map<String, double[]> sg = ones(c, false), ng = ones(c, true);
                        Map<String, double[]> m = add ? ng : sg;
                        m.get(s.name())[i] = 1 + GATE_FD_STEP;
                        double up = gatedLoss(c, ctx, sg, ng);
                        m.get(s.name())[i] = 1 - GATE_FD_STEP;
                        double down = gatedLoss(c, ctx, sg, ng);
                        double fd = (up - down) / (2 * GATE_FD_STEP);
                        double got = (add ? scores.add() : scores.split()).get(s.name())[i];
                        assertEquals(fd, got, GATE_FD_REL * Math.max(1e-3, Math.abs(fd)) + 1e-9,
                                "site " + s.name() + (add ? " new " : " split ") + i);
                        checked++;
                    }
                }
            }
            assertTrue(checked >= 4 * c.sites().size() - 2, "checked " + checked);
        }
    }

    // ------------------------------------------------------------------------------------------ materialisation

    /**
     * The grown network is the over-grown network with the selected candidates' gates at 1 and the others at 0:
     * splits as offspring {@code theta +- v} with halved outgoing weights, new neurons with their trained incoming
     * and outgoing weights (into the classifier too, and into the next layer's selected new neurons), batch norm
     * as a new channel's.
     */
    @Test
    void theGrownNetworkIsTheOverGrownOneWithTheSelectedGates() {
        for (Sequential net : List.of(mlp(51, Activation.SOFTPLUS), cnn(52))) {
            boolean conv = net.get(0) instanceof Conv2d;
            Dataset data = conv ? cnnData() : mlpData();
            Firefly ff = new Firefly(2, true, 10, 16, 1e-2, 1e-2, LOUD, false);
            GrowthContext ctx = ctx(net, data, 16, 0.6);
            Firefly.Analysis a = ff.analyse(ctx);
            List<Selection.Candidate> chosen = ff.select(a, ctx.budget());
            assertFalse(chosen.isEmpty(), "something is selected");
            Map<String, double[]> sg = new HashMap<>(), ng = new HashMap<>();
            for (FireflyCandidates.SiteCandidates s : a.candidates().sites()) {
                sg.put(s.name(), new double[s.neurons()]);
                ng.put(s.name(), new double[s.newCount()]);
            }
            int splits = 0, adds = 0;
            for (Selection.Candidate c : chosen) {
                FireflyCandidates.SiteCandidates s = a.candidates().site(c.site());
                if (c.neuron() < s.neurons()) {
                    sg.get(c.site())[c.neuron()] = 1;
                    splits++;
                } else {
                    ng.get(c.site())[c.neuron() - s.neurons()] = 1;
                    adds++;
                }
            }
            Tensor x = conv ? Tensor.randn(new Rng(53), DType.F64, 1.0, 3, 2, 8, 8) : Tensor.randn(new Rng(53), DType.F64, 1.5, 7, 4);
            Tensor expected = a.candidates().forward(x, sg, ng);
            int[] before = widths(net);
            Plan plan = ff.plan(a, ctx.budget());
            assertEquals(splits, plan.splits().size());
            assertEquals(adds, plan.additions().size());
            Surgery.apply(net, plan, null);
            int[] after = widths(net);
            int grown = 0;
            for (int i = 0; i < before.length; i++) {
                grown += after[i] - before[i];
            }
            assertEquals(chosen.size(), grown);
            assertClose(expected, net.predict(x), SAME_FUNCTION, (conv ? "cnn" : "mlp") + " grown by " + splits + " splits and "
                    + adds + " new neurons");
        }
    }

    /** The default method, end to end on a small trained MLP: it keeps to the budget, picks negative scores, lowers the loss. */
    @Test
    void growthLowersTheLossWithinTheBudget() {
        Rng r = new Rng(61); // f32, as the command line trains
        Sequential net = new Sequential(new Linear(4, 6, true, r, DType.F32), Act.tanh(), new Linear(6, 5, true, r, DType.F32),
                Act.tanh(), new Linear(5, 3, true, r, DType.F32));
        Dataset data = mlpData();
        GrowthFixtures.pretrain(net, data);
        GrowthContext ctx = ctx(net, data, 20, 0.35);
        double before = Trainer.evaluate(net, data, 60).loss();
        Firefly ff = (Firefly) Methods.create("firefly", Map.of("steps", "40", "batch", "20", "lr", "0.01", "loss-before", "true"));
        Firefly.Analysis a = ff.analyse(ctx);
        Firefly.Analysis plain = ((Firefly) Methods.create("firefly", Map.of("steps", "40", "batch", "20", "lr", "0.01")))
                .analyse(ctx(net, data, 20, 0.35));
        assertTrue(Double.isNaN(plain.optimisation().lossBefore()), "the loss before is measured only on request");
        assertEquals(a.optimisation().lossAfter(), plain.optimisation().lossAfter(), 1e-6, "the same candidates either way");
        assertEquals(a.optimisation().lossAfter(), a.candidates().meanLoss(data, 60), 1e-5,
                "the loss after (from the scoring pass) is the over-grown network's mean loss on the sample");
        assertTrue(a.optimisation().lossAfter() < a.optimisation().lossBefore(), "candidate optimisation lowers the over-grown loss: "
                + a.optimisation());
        Plan plan = ff.plan(a, ctx.budget());
        assertTrue(plan.size() > 0 && plan.size() <= ctx.budget(), plan.size() + " of budget " + ctx.budget());
        for (Selection.Candidate c : ff.select(a, ctx.budget())) {
            assertTrue(c.score() < 0, "a selected score is negative: " + c);
        }
        Surgery.apply(net, plan, null);
        double after = Trainer.evaluate(net, data, 60).loss();
        assertTrue(after < before, "loss " + before + " -> " + after);
        assertTrue(plan.predictedDecrease() > 0, "predicted decrease " + plan.predictedDecrease());
        assertTrue(ctx.cost().seconds("optimise") > 0 && ctx.cost().seconds("statistics") > 0 && ctx.cost().flops() > 0);
    }

    // ------------------------------------------------------------------------------------------ as official

    /**
     * as-official keeps the official selection (k + 1 candidates, positive scores too) and drops the classifier's
     * outgoing weights of new neurons; the fixed method takes at most k negative scores and writes them back.
     */
    @Test
    void asOfficialKeepsTheSelectionAndClassifierBugs() {
        Sequential net = mlp(71, Activation.TANH);
        FireflyCandidates c = FireflyCandidates.create(net, new int[] {2, 2}, true, LOUD, new Rng(72));
        // hand-made scores: two negatives, the rest positive and distinct; new neuron 1 of the last site is the best
        Map<String, double[]> split = new LinkedHashMap<>(), add = new LinkedHashMap<>();
        split.put("0", new double[] {0.5, 0.6, 0.7, 0.8, 0.9, 1.0});
        add.put("0", new double[] {1.1, 1.2});
        split.put("2", new double[] {-0.2, 1.3, 1.4, 1.5, 1.6});
        add.put("2", new double[] {1.7, -0.9});
        Firefly.Analysis a = new Firefly.Analysis(c, new FireflyCandidates.Optimisation(Double.NaN, Double.NaN, 0),
                new FireflyCandidates.Scores(split, add));
        Firefly fixed = new Firefly(2, true, 0, 16, 1e-3, 0, LOUD, false), official = new Firefly(2, true, 0, 16, 1e-3, 0, LOUD, true);
        int budget = 3;
        Plan pf = fixed.plan(a, budget), po = official.plan(a, budget);
        assertEquals(2, pf.size(), "fixed: only the two negative scores");
        assertEquals(budget + 1, po.size(), "official: k + 1, positive scores included");
        assertTrue(po.splits().stream().anyMatch(s -> s.site().equals("0") && s.neuron() == 0 && s.predictedChange() > 0));
        Plan.NewNeuron nf = pf.additions().get(0), no = po.additions().get(0);
        assertEquals("2", nf.site());
        double[] outOld = c.site("2").outOld().toDoubleArray();
        for (int r = 0; r < 3; r++) {
            assertEquals(outOld[r * 2 + 1], nf.outgoing()[r], 0.0, "fixed: trained outgoing weight into class " + r);
            assertEquals(0.0, no.outgoing()[r], 0.0, "official: the classifier's columns are never written back");
        }
        assertArrayEquals(nf.incoming(), no.incoming());
    }

    /** as-official re-draws the classifier's bias before optimising; the fixed method leaves the network untouched. */
    @Test
    void asOfficialRerandomisesTheClassifierBias() {
        for (boolean official : new boolean[] {false, true}) {
            Sequential net = mlp(81, Activation.TANH);
            String arch = Modules.describe(net);
            Map<String, double[]> params = new LinkedHashMap<>();
            net.namedParameters().forEach((k, v) -> params.put(k, v.toDoubleArray()));
            Firefly ff = new Firefly(2, true, 3, 16, 1e-3, 1e-2, Firefly.OFFICIAL_INIT, official);
            ff.propose(ctx(net, mlpData(), 20, 0.35));
            assertEquals(arch, Modules.describe(net), "propose never grows the network");
            for (Map.Entry<String, double[]> e : params.entrySet()) {
                double[] now = net.namedParameters().get(e.getKey()).toDoubleArray();
                boolean changed = !java.util.Arrays.equals(e.getValue(), now);
                assertEquals(official && e.getKey().equals("4.bias"), changed, (official ? "official: " : "fixed: ") + e.getKey());
            }
        }
    }

    // ------------------------------------------------------------------------------------------ bad input

    @Test
    void badInputIsRefusedAndLeavesTheNetworkUnchanged() {
        Sequential flat = new Sequential(new Linear(4, 3, true, new Rng(1), DType.F64));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new Firefly().propose(ctx(flat, mlpData(), 20, 0.35)));
        assertTrue(e.getMessage().contains("no growable layer"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Methods.create("firefly", Map.of("k", "-2")));
        assertTrue(e.getMessage().contains("option k"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Methods.create("firefly", Map.of("eps", "0.1")));
        assertTrue(e.getMessage().contains("unknown option eps") && e.getMessage().contains("as-official"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Methods.create("firefly", Map.of("as-official", "maybe")));
        assertTrue(e.getMessage().contains("true or false"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Methods.create("firefly", Map.of("splits", "false", "k", "0")));
        assertTrue(e.getMessage().contains("no candidates"), e.getMessage());
        Sequential net = mlp(91, Activation.TANH);
        e = assertThrows(IllegalArgumentException.class, () -> ctx(net, mlpData(), 20, 1.5));
        assertTrue(e.getMessage().contains("(0, 1]"), e.getMessage());
        assertTrue(Methods.names().contains("firefly"));
        assertNotEquals(-1, Methods.create("firefly", Map.of("as-official", "true")).toString().indexOf("as-official=true"));
        // a non-finite candidate loss is refused without touching the network
        String arch = Modules.describe(net);
        double[] w = ((Linear) net.get(0)).weight().toDoubleArray();
        Firefly wild = new Firefly(2, true, 5, 20, 1e-3, 0, new FireflyCandidates.Init(0.1, 1, Double.MAX_VALUE), false);
        Trainer.NonFiniteLossException nf = assertThrows(Trainer.NonFiniteLossException.class,
                () -> wild.propose(ctx(net, mlpData(), 20, 0.35)));
        assertTrue(nf.getMessage().contains("over-grown"), nf.getMessage());
        assertEquals(arch, Modules.describe(net));
        assertArrayEquals(w, ((Linear) net.get(0)).weight().toDoubleArray());
    }
}
