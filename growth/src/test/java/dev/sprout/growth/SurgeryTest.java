package dev.sprout.growth;

import dev.sprout.nn.Act;
import dev.sprout.nn.BatchNorm;
import dev.sprout.nn.Conv2d;
import dev.sprout.nn.Flatten;
import dev.sprout.nn.Linear;
import dev.sprout.nn.Losses;
import dev.sprout.nn.Modules;
import dev.sprout.nn.Pool2d;
import dev.sprout.nn.Sequential;
import dev.sprout.optim.Adam;
import dev.sprout.tensor.DType;
import dev.sprout.tensor.Rng;
import dev.sprout.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Network surgery: function preservation, bookkeeping of consumers, batch norm and optimizer state, bad plans. */
class SurgeryTest {
    private static final double EXACT = 1e-12;

    private static Sequential mlp(Rng r) {
        return new Sequential(new Linear(5, 4, true, r, DType.F64), Act.tanh(), new Linear(4, 3, true, r, DType.F64),
                new Act(dev.sprout.backend.Activation.SOFTPLUS, 2), new Linear(3, 2, true, r, DType.F64));
    }

    private static Sequential cnn(Rng r) {
        return new Sequential(new Conv2d(2, 3, 3, 1, 1, true, r, DType.F64), new BatchNorm(3, true, 0.1, 1e-5, DType.F64),
                Act.relu(), Pool2d.max(2), new Conv2d(3, 4, 3, 1, 1, false, r, DType.F64),
                new BatchNorm(4, true, 0.1, 1e-5, DType.F64), Act.relu(), new Flatten(), new Linear(4 * 4 * 4, 3, true, r, DType.F64));
    }

    private static double[] randomVector(Rng r, int n) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = r.normal();
        }
        return v;
    }

    private static void assertSameOutputs(Tensor a, Tensor b, double tol) {
        assertArrayEquals(a.shape().toArray(), b.shape().toArray());
        double[] x = a.toDoubleArray(), y = b.toDoubleArray();
        for (int i = 0; i < x.length; i++) {
            assertEquals(x[i], y[i], tol * Math.max(1, Math.abs(x[i])), "output " + i);
        }
    }

    @Test
    void sitesOfAnMlpAndACnn() {
        Sequential m = mlp(new Rng(1));
        List<Site> s = Site.find(m);
        assertEquals(List.of("0", "2"), s.stream().map(Site::name).toList());
        assertEquals(5, s.get(0).fanIn());
        Sequential c = cnn(new Rng(2));
        List<Site> cs = Site.find(c);
        assertEquals(List.of("0", "4"), cs.stream().map(Site::name).toList());
        assertEquals(16, cs.get(1).columnsPerNeuron(), "after a flatten each channel owns 4x4 columns");
        assertEquals(2 * 9, cs.get(0).fanIn());
        assertTrue(cs.get(0).batchNorm() != null);
    }

    /** R0 (a): splitting with eps = 0 and adding neurons with zero outgoing weights preserve the function exactly. */
    @Test
    void splitsAtEpsZeroAndSilentNewNeuronsPreserveTheMlpFunction() {
        Rng r = new Rng(3);
        Sequential net = mlp(r);
        Tensor x = Tensor.randn(r, DType.F64, 1.0, 7, 5);
        Tensor before = net.predict(x);
        Plan plan = new Plan(List.of(
                Plan.Split.positive("0", 1, randomVector(r, 5), 0.0, -0.1),
                Plan.Split.positive("0", 3, randomVector(r, 5), 0.0, -0.2),
                Plan.Split.signed("2", 0, randomVector(r, 4), 0.0, 3.0, -0.05),
                Plan.Split.positive("2", 2, randomVector(r, 4), 0.0, -0.01)),
                List.of(new Plan.NewNeuron("0", randomVector(r, 5), 0.3, new double[3], 0.0),
                        new Plan.NewNeuron("2", randomVector(r, 4), -0.2, new double[2], 0.0)));
        assertEquals(6, Surgery.apply(net, plan, null));
        assertEquals(4 + 3, ((Linear) net.get(0)).out());
        assertEquals(7, ((Linear) net.get(2)).in());
        assertEquals(3 + 3, ((Linear) net.get(2)).out());
        assertEquals(6, ((Linear) net.get(4)).in());
        assertSameOutputs(before, net.predict(x), EXACT);
        assertEquals(0.36, plan.predictedDecrease(), EXACT);
    }

    @Test
    void splitsPreserveTheCnnFunctionInEvalModeWithBatchNorm() {
        Rng r = new Rng(4);
        Sequential net = cnn(r);
        // give batch norm non-trivial statistics
        net.train(true);
        net.forward(Tensor.randn(r, DType.F64, 2.0, 6, 2, 8, 8));
        Tensor x = Tensor.randn(r, DType.F64, 1.0, 3, 2, 8, 8);
        Tensor before = net.predict(x);
        Plan plan = new Plan(List.of(Plan.Split.positive("0", 2, randomVector(r, 18), 0.0, -1),
                Plan.Split.positive("4", 1, randomVector(r, 27), 0.0, -1)),
                List.of(new Plan.NewNeuron("4", randomVector(r, 27), 0.0, new double[3 * 16], 0)));
        Surgery.apply(net, plan, null);
        assertEquals(4, ((Conv2d) net.get(0)).out());
        assertEquals(4, ((BatchNorm) net.get(1)).features());
        assertEquals(4, ((Conv2d) net.get(4)).in());
        assertEquals(6, ((Conv2d) net.get(4)).out());
        assertEquals(6 * 16, ((Linear) net.get(8)).in());
        assertSameOutputs(before, net.predict(x), EXACT);
        // the architecture description follows the growth
        assertTrue(Modules.describe(net).contains("conv2d\tin=4;out=6"), Modules.describe(net));
    }

    /** With eps != 0 the outputs move, by O(eps): the offspring really are displaced. */
    @Test
    void nonZeroEpsMovesTheOutputs() {
        Rng r = new Rng(5);
        Sequential net = mlp(r);
        Tensor x = Tensor.randn(r, DType.F64, 1.0, 4, 5);
        Tensor before = net.predict(x);
        Surgery.apply(net, new Plan(List.of(Plan.Split.positive("0", 0, randomVector(r, 5), 0.1, 0)), List.of()), null);
        double diff = net.predict(x).sub(before).abs().sum().item();
        assertTrue(diff > 1e-6 && diff < 1, "change " + diff);
    }

    @Test
    void optimizerStateFollowsTheNeurons() {
        Rng r = new Rng(6);
        Sequential net = mlp(r);
        Adam opt = new Adam(net, 1e-3);
        Tensor x = Tensor.randn(r, DType.F64, 1.0, 8, 5);
        Losses.crossEntropy(net.forward(x), new int[] {0, 1, 0, 1, 1, 0, 0, 1}).backward();
        opt.step();
        double[] m0 = opt.state("0.weight").get("exp_avg").toDoubleArray();
        double[] m2 = opt.state("2.weight").get("exp_avg").toDoubleArray();
        Surgery.apply(net, new Plan(List.of(Plan.Split.positive("0", 2, randomVector(r, 5), 0.01, 0)),
                List.of(new Plan.NewNeuron("0", randomVector(r, 5), 0, new double[3], 0))), opt);
        Tensor s0 = opt.state("0.weight").get("exp_avg");
        assertArrayEquals(new int[] {6, 5}, s0.shape().toArray());
        for (int j = 0; j < 5; j++) {
            assertEquals(m0[2 * 5 + j], s0.get(4, j), 0.0, "offspring copies its parent's moment");
            assertEquals(0.0, s0.get(5, j), 0.0, "a new neuron starts from zero state");
        }
        Tensor s2 = opt.state("2.weight").get("exp_avg");
        assertArrayEquals(new int[] {3, 6}, s2.shape().toArray());
        assertEquals(m2[2], s2.get(0, 4), 0.0, "consumer column of the offspring copies the parent column's state");
        assertEquals(0.0, s2.get(0, 5), 0.0);
        // and training goes on
        opt.zeroGrad();
        Losses.crossEntropy(net.forward(x), new int[] {0, 1, 0, 1, 1, 0, 0, 1}).backward();
        opt.step();
    }

    /**
     * A new neuron of layer 0 may reach the new neurons the same plan adds to its consumer (layer 2): the entries past
     * the consumer's existing rows land in the new rows' columns, in plan order; a split offspring of a consumer
     * row takes its parent's entry.
     */
    @Test
    void newNeuronsConnectToTheConsumersNewNeurons() {
        Rng r = new Rng(8);
        Sequential net = mlp(r);
        double[] out0 = {1, 2, 3, 4, 5}; // 3 existing rows of layer 2, then its 2 new neurons
        Plan plan = new Plan(List.of(Plan.Split.positive("2", 1, randomVector(r, 4), 0.0, 0)), List.of(
                new Plan.NewNeuron("0", randomVector(r, 5), 0, out0, 0),
                new Plan.NewNeuron("2", randomVector(r, 4), 0, new double[2], 0),
                new Plan.NewNeuron("2", randomVector(r, 4), 0, new double[2], 0)));
        Surgery.apply(net, plan, null);
        Tensor w2 = ((Linear) net.get(2)).weight(); // rows: 3 old, split copy of 1, 2 new; column 4 = the new neuron of 0
        assertArrayEquals(new int[] {6, 5}, w2.shape().toArray());
        double[] expected = {1, 2, 3, 2, 4, 5};
        for (int row = 0; row < 6; row++) {
            assertEquals(expected[row], w2.get(row, 4), 0.0, "row " + row);
        }
        // without the extra entries those connections are zero; a wrong length is refused and changes nothing
        Sequential other = mlp(new Rng(8));
        Plan shortPlan = new Plan(List.of(), List.of(new Plan.NewNeuron("0", randomVector(r, 5), 0, new double[] {1, 2, 3}, 0),
                new Plan.NewNeuron("2", randomVector(r, 4), 0, new double[2], 0)));
        Surgery.apply(other, shortPlan, null);
        assertEquals(0.0, ((Linear) other.get(2)).weight().get(3, 4), 0.0);
        Sequential third = mlp(new Rng(8));
        String arch = Modules.describe(third);
        Plan wrong = new Plan(List.of(), List.of(new Plan.NewNeuron("0", randomVector(r, 5), 0, new double[5], 0),
                new Plan.NewNeuron("2", randomVector(r, 4), 0, new double[2], 0)));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Surgery.apply(third, wrong, null));
        assertTrue(e.getMessage().contains("outgoing weights") && e.getMessage().contains("has 5 entries"), e.getMessage());
        assertEquals(arch, Modules.describe(third));
    }

    @Test
    void badPlansAreRefusedAndLeaveTheNetworkUnchanged() {
        Rng r = new Rng(7);
        Sequential net = mlp(r);
        String arch = Modules.describe(net);
        double[] w = ((Linear) net.get(0)).weight().toDoubleArray();
        List<Plan> bad = List.of(
                new Plan(List.of(Plan.Split.positive("9", 0, randomVector(r, 5), 0.01, 0)), List.of()),
                new Plan(List.of(Plan.Split.positive("4", 0, randomVector(r, 3), 0.01, 0)), List.of()),
                new Plan(List.of(Plan.Split.positive("0", 4, randomVector(r, 5), 0.01, 0)), List.of()),
                new Plan(List.of(Plan.Split.positive("0", 1, randomVector(r, 4), 0.01, 0)), List.of()),
                new Plan(List.of(Plan.Split.positive("0", 1, randomVector(r, 5), 0.01, 0),
                        Plan.Split.positive("0", 1, randomVector(r, 5), 0.01, 0)), List.of()),
                new Plan(List.of(), List.of(new Plan.NewNeuron("2", randomVector(r, 4), 0, new double[3], 0))),
                new Plan(List.of(new Plan.Split("0", 0, new double[5], new double[5], 0.01, 0.7, 0.7, 0)), List.of()),
                new Plan(List.of(Plan.Split.positive("0", 0, new double[] {0, 0, Double.NaN, 0, 0}, 0.01, 0)), List.of()));
        String[] expected = {"no growable layer named '9'", "no growable layer named '4'", "neuron 4 does not exist",
                "has 4 entries, the layer needs 5", "split twice", "outgoing weights", "summing to 1", "NaN at entry 2"};
        for (int i = 0; i < bad.size(); i++) {
            int k = i;
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Surgery.apply(net, bad.get(k), null));
            assertTrue(e.getMessage().contains(expected[i]), "plan " + i + ": " + e.getMessage());
            assertEquals(arch, Modules.describe(net), "plan " + i + " changed the architecture");
        }
        assertArrayEquals(w, ((Linear) net.get(0)).weight().toDoubleArray());
    }
}
