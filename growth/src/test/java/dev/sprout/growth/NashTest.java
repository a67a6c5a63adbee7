package dev.sprout.growth;

import dev.sprout.data.Dataset;
import dev.sprout.nn.Act;
import dev.sprout.nn.Linear;
import dev.sprout.nn.Sequential;
import dev.sprout.tensor.DType;
import dev.sprout.tensor.Rng;
import dev.sprout.tensor.Tensor;
import dev.sprout.train.Trainer;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** NASH: the kept child is the one with the lowest validation loss, and the grown network is that child. */
class NashTest {
    /** Validation losses recomputed on an identical network: the same f32 operations in the same order. */
    private static final double SAME_LOSS = 1e-6;

    private static Sequential mlp() {
        Rng r = new Rng(3);
        return new Sequential(new Linear(4, 3, true, r, DType.F32), Act.tanh(), new Linear(3, 2, true, r, DType.F32));
    }

    private static Dataset data(String name, int n, int label, long seed) {
        Tensor x = Tensor.randn(new Rng(seed), DType.F32, 1.0, n, 4);
        int[] y = new int[n];
        java.util.Arrays.fill(y, label);
        return Dataset.classification(name, x, y, 2);
    }

    /**
     * A morphism that hands out fixed changes in turn: child c gets one new neuron in layer 0 that is constant
     * (zero incoming weights, bias 1: tanh(1) for every input) and pushes class c's logit up and the other's down.
     */
    private static final class Scripted implements GrowthMethod {
        private int next;

        @Override
        public String name() {
            return "scripted";
        }

        @Override
        public Plan propose(GrowthContext ctx) {
            int c = next++;
            double[] out = c == 0 ? new double[] {4, -4} : c == 1 ? new double[] {-4, 4} : new double[] {0, 0};
            return new Plan(List.of(), List.of(new Plan.NewNeuron("0", new double[4], 1.0, out, Double.NaN)));
        }
    }

    private static Nash.Analysis analyse(Dataset train, Dataset validation, int epochs) {
        Sequential net = mlp();
        GrowthContext ctx = new GrowthContext(net, validation, 64, 0.35, new Rng(9), new CostMeter(), train);
        return new Nash(3, epochs, 0.05, 0.9, 16, new Scripted()).analyse(ctx);
    }

    /**
     * The constructed case: with no training, the child favouring the validation labels has the lowest validation
     * loss and is kept, whichever class the validation labels are, although the training labels favour the other;
     * each child's loss is that of the parent grown by its change.
     */
    @Test
    void keepsTheChildWithTheBestValidationLoss() {
        for (int label : new int[] {0, 1}) {
            Dataset train = data("train", 40, 1 - label, 1), validation = data("validation", 30, label, 2);
            Nash.Analysis a = analyse(train, validation, 0);
            assertEquals(3, a.children().size());
            assertEquals(label, a.best(), "validation labels are all " + label);
            for (int c = 0; c < 3; c++) {
                Sequential grown = mlp();
                Surgery.apply(grown, a.children().get(c).change(), null);
                assertEquals(Trainer.evaluate(grown, validation, 64).loss(), a.children().get(c).validationLoss(), SAME_LOSS);
            }
        }
    }

    /** With training, the kept child is still the argmin of validation losses, and surgery yields exactly that child. */
    @Test
    void theGrownNetworkIsTheKeptTrainedChild() {
        Dataset train = data("train", 64, 0, 5), validation = data("validation", 32, 1, 6);
        Nash.Analysis a = analyse(train, validation, 2);
        int argmin = 0;
        for (int c = 1; c < a.children().size(); c++) {
            if (a.children().get(c).validationLoss() < a.children().get(argmin).validationLoss()) {
                argmin = c;
            }
        }
        assertEquals(argmin, a.best());
        // training moved the weights: the kept state is not the untrained grown parent's
        Sequential untrained = mlp();
        Surgery.apply(untrained, a.chosen().change(), null);
        assertNotEquals(Trainer.evaluate(untrained, validation, 64).loss(), a.chosen().validationLoss(), SAME_LOSS);

        Sequential net = mlp();
        GrowthContext ctx = new GrowthContext(net, validation, 64, 0.35, new Rng(9), new CostMeter(), train);
        Nash nash = new Nash(3, 2, 0.05, 0.9, 16, new Scripted());
        Plan plan = nash.propose(ctx);
        assertEquals(1, Surgery.apply(net, plan, null));
        assertEquals(4, ((Linear) net.get(0)).out());
        assertEquals(a.chosen().validationLoss(), Trainer.evaluate(net, validation, 64).loss(), SAME_LOSS);
        assertArrayEquals(a.chosen().state().get("2.weight").toFloatArray(), net.get(2).parameter("weight").toFloatArray());
        assertTrue(ctx.cost().seconds("children") > 0 && ctx.cost().flops() > 0);
    }

    /** A plan's trained state that does not fit the grown network is refused before the network changes. */
    @Test
    void aMisfitTrainedStateLeavesTheNetworkAlone() {
        Sequential net = mlp();
        float[] before = net.get(0).parameter("weight").toFloatArray();
        Plan bad = new Scripted().propose(null).withTrained(Map.of("0.weight", Tensor.zeros(DType.F32, 3, 4)));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Surgery.apply(net, bad, null));
        assertTrue(e.getMessage().contains("0.weight"), e.getMessage());
        assertEquals(3, ((Linear) net.get(0)).out());
        assertArrayEquals(before, net.get(0).parameter("weight").toFloatArray());
    }

    @Test
    void registeredWithItsOptions() {
        assertTrue(Methods.names().contains("nash"));
        assertEquals("nash", Methods.create("nash", Map.of("children", "2", "morphism", "net2net")).name());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Methods.create("nash", Map.of("morphism", "nash")));
        assertTrue(e.getMessage().contains("random-split"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Methods.create("nash", Map.of("children", "0")));
    }
}
