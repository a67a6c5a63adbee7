package dev.sprout.growth.continual;

import dev.sprout.data.FashionMnist;
import dev.sprout.data.TrainTest;
import dev.sprout.tensor.DType;
import dev.sprout.tensor.Rng;
import dev.sprout.tensor.Tensor;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Continual learning: metrics, the EWC penalty's gradient, frozen old tasks, and exact Firefly-CL candidates. */
class ContinualTest {
    /** Metrics of a hand-made matrix: sums of three numbers. */
    private static final double METRIC = 1e-12;
    /** Central differences of a quadratic in f64: exact up to rounding. */
    private static final double FD_REL = 1e-7;
    /** The grown network against the gated over-grown one: the same f32 products summed in another order. */
    private static final double SAME_FUNCTION_F32 = 1e-5;

    private static List<SplitTasks.Task> tasks;

    @BeforeAll
    static void data() {
        TrainTest b = FashionMnist.builtin();
        tasks = SplitTasks.split(new TrainTest(b.train().head(2500), b.test().head(500)), 2, 2, 0.1, 1);
    }

    @Test
    void splitFashionMnistHasFiveTwoClassTasksWithLocalLabels() {
        assertEquals(5, tasks.size());
        for (SplitTasks.Task t : tasks) {
            assertArrayEquals(new int[] {2 * t.index(), 2 * t.index() + 1}, t.classes());
            assertEquals(2, t.train().numClasses());
            assertEquals(196, t.train().exampleSize(), "28x28 pooled by 2, flattened");
            int[] counts = t.train().classCounts();
            assertTrue(counts[0] > 50 && counts[1] > 50, java.util.Arrays.toString(counts));
            assertTrue(t.validation().size() > 0 && t.test().size() > 0);
        }
        assertThrows(IllegalArgumentException.class, () -> SplitTasks.split(FashionMnist.builtin(), 3, 2, 0.1, 1));
    }

    @Test
    void metricsOfAHandMadeAccuracyMatrix() {
        double[][] r = {{0.9}, {0.7, 0.95}, {0.6, 0.8, 0.92}};
        assertEquals(0.9, Metrics.averageAccuracy(r, 0), METRIC);
        assertEquals((0.7 + 0.95) / 2, Metrics.averageAccuracy(r, 1), METRIC);
        assertEquals((0.6 + 0.8 + 0.92) / 3, Metrics.averageAccuracy(r, 2), METRIC);
        assertEquals(((0.9 - 0.6) + (0.95 - 0.8)) / 2, Metrics.forgetting(r), METRIC);
        assertEquals(((0.6 - 0.9) + (0.8 - 0.95)) / 2, Metrics.backwardTransfer(r), METRIC);
        // forgetting takes the best earlier accuracy, not the one right after learning: here they differ
        double[][] q = {{0.5}, {0.9, 0.8}, {0.7, 0.85, 0.9}};
        assertEquals(((0.9 - 0.7) + (0.8 - 0.85)) / 2, Metrics.forgetting(q), METRIC);
        assertEquals(((0.7 - 0.5) + (0.85 - 0.8)) / 2, Metrics.backwardTransfer(q), METRIC);
        assertEquals(0, Metrics.forgetting(new double[][] {{0.7}}));
        assertThrows(IllegalArgumentException.class, () -> Metrics.forgetting(new double[][] {{0.7}, {0.5}}));
    }

    @Test
    void ewcPenaltyGradientMatchesFiniteDifferences() {
        Rng rng = new Rng(5);
        Map<String, Tensor> params = new LinkedHashMap<>();
        params.put("w", Tensor.randn(rng, DType.F64, 1.0, 3, 4).requiresGrad(true));
        params.put("b", Tensor.randn(rng, DType.F64, 1.0, 3).requiresGrad(true));
        Ewc ewc = new Ewc(7.5);
        for (int t = 0; t < 2; t++) {
            Map<String, Tensor> theta = new LinkedHashMap<>(), fisher = new LinkedHashMap<>();
            for (Map.Entry<String, Tensor> e : params.entrySet()) {
                int[] shape = e.getValue().shape().toArray();
                theta.put(e.getKey(), Tensor.randn(rng, DType.F64, 1.0, shape));
                fisher.put(e.getKey(), Tensor.rand(rng, DType.F64, 0.0, 2.0, shape));
            }
            ewc.add(new Ewc.Anchor(theta, fisher));
        }
        Tensor pen = ewc.penalty(params);
        pen.backward();
        double h = 1e-5;
        for (Map.Entry<String, Tensor> e : params.entrySet()) {
            Tensor p = e.getValue();
            double[] grad = p.grad().toDoubleArray(), base = p.toDoubleArray();
            for (int i = 0; i < base.length; i++) {
                double[] plus = base.clone(), minus = base.clone();
                plus[i] += h;
                minus[i] -= h;
                double fd = (value(ewc, params, e.getKey(), plus) - value(ewc, params, e.getKey(), minus)) / (2 * h);
                assertEquals(fd, grad[i], FD_REL * Math.max(1, Math.abs(fd)), e.getKey() + "[" + i + "]");
                // and the closed form: lambda * sum_t F_t (theta - theta*_t)
                double closed = 0;
                for (Ewc.Anchor a : ewc.anchors()) {
                    closed += 7.5 * a.fisher().get(e.getKey()).toDoubleArray()[i] * (base[i] - a.theta().get(e.getKey()).toDoubleArray()[i]);
                }
                assertEquals(closed, grad[i], FD_REL * Math.max(1, Math.abs(closed)));
            }
        }
        assertEquals(null, new Ewc(1).penalty(params), "nothing consolidated: no penalty");
    }

    private static double value(Ewc ewc, Map<String, Tensor> params, String key, double[] v) {
        Map<String, Tensor> p = new LinkedHashMap<>(params);
        p.put(key, Tensor.of(v, params.get(key).shape().toArray()));
        return ewc.penalty(p).item();
    }

    private static ContinualLearning.Options small(ContinualLearning.Method m) {
        // target accuracy 1: firefly-cl always tries to grow (once per task)
        return new ContinualLearning.Options(m, 2, 8, 1, 64, 2e-3, 3, 100, 50, 4, 1.0, 1, 4, 6, 10, 1e-2, 2.0);
    }

    private static Map<String, float[]> snapshot(ColumnNet net, int task) {
        Map<String, float[]> out = new LinkedHashMap<>();
        net.trainables(task, false).forEach((k, v) -> out.put(k, v.toFloatArray()));
        return out;
    }

    /**
     * After task 0, firefly-cl and fixed-expansion never change a bit of task 0's weights, head or outputs while they
     * learn tasks 1 and 2 (firefly-cl grows in them); fine-tuning does change them.
     */
    @Test
    void freezingLeavesOldTasksBitIdentical() {
        for (ContinualLearning.Method m : ContinualLearning.Method.values()) {
            if (m == ContinualLearning.Method.EWC) {
                continue;
            }
            ContinualLearning.Learner learner = new ContinualLearning.Learner(small(m), 196, null);
            learner.learn(tasks.get(0));
            ColumnNet net = learner.net();
            Map<String, float[]> before = snapshot(net, 0);
            Tensor x = tasks.get(0).test().inputs();
            float[] logits = net.forward(0, x).toFloatArray();
            learner.learn(tasks.get(1));
            learner.learn(tasks.get(2));
            Map<String, float[]> after = snapshot(net, 0);
            boolean same = true;
            for (String k : before.keySet()) {
                same &= java.util.Arrays.equals(before.get(k), after.get(k));
            }
            boolean outputsSame = java.util.Arrays.equals(logits, net.forward(0, x).toFloatArray());
            if (m == ContinualLearning.Method.FINETUNE) {
                assertFalse(same, "fine-tuning trains the shared layers");
                assertFalse(outputsSame);
                continue;
            }
            assertTrue(same, m + ": task 0's tensors are bit-identical");
            assertTrue(outputsSame, m + ": task 0's logits are bit-identical");
            assertTrue(net.widths()[0] > 8, m + " added neurons for later tasks: " + java.util.Arrays.toString(net.widths()));
            if (m == ContinualLearning.Method.FIREFLY_CL) {
                assertTrue(learner.growth().stream().anyMatch(g -> g.task() > 0), "firefly-cl grew in a later task");
                assertNotNull(net.mask(1));
            }
        }
    }

    /** The chosen candidates, made neurons, compute exactly what the over-grown network computed with only their gates on. */
    @Test
    void materialisedCandidatesActAsTheyDidGated() {
        Rng rng = new Rng(11);
        ColumnNet net = new ColumnNet(5, 2);
        net.addNeurons(0, 0, 3, rng);
        net.addNeurons(1, 0, 3, rng);
        net.addHead(0, 2);
        net.addHead(1, 3);
        net.addMask(1, 0.5);
        net.addNeurons(1, 1, 2, rng); // task 1 owns neurons in layer 1 only: candidates of layer 0 feed them
        Tensor x = Tensor.randn(rng, DType.F32, 1.0, 7, 5);
        float[] task0 = net.forward(0, x).toFloatArray();
        Candidates c = Candidates.create(net, 1, 4, 0.3, rng);
        int[][] chosen = {{1, 3}, {0, 2}};
        for (int l = 0; l < 2; l++) {
            float[] g = new float[4];
            for (int j : chosen[l]) {
                g[j] = 1;
            }
            c.gate[l] = Tensor.of(g, 4);
        }
        float[] gated = net.forward(1, x, c).toFloatArray();
        float[] none = net.forward(1, x).toFloatArray();
        c.materialise(net, chosen);
        assertArrayEquals(new int[] {5, 7}, net.widths());
        float[] grown = net.forward(1, x).toFloatArray();
        double diff = 0;
        for (int i = 0; i < grown.length; i++) {
            assertEquals(gated[i], grown[i], SAME_FUNCTION_F32);
            diff = Math.max(diff, Math.abs(grown[i] - none[i]));
        }
        assertTrue(diff > 1e-3, "the candidates changed task 1's function: " + diff);
        assertArrayEquals(task0, net.forward(0, x).toFloatArray(), "task 0 untouched");
    }

    @Test
    void badOptionsAreRefusedByName() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ContinualLearning.Method.parse("magic"));
        assertTrue(e.getMessage().contains("magic") && e.getMessage().contains("firefly-cl") && e.getMessage().contains("ewc"));
        assertThrows(IllegalArgumentException.class, () -> new ContinualLearning.Options(ContinualLearning.Method.EWC, 2, 8, 1, 64,
                2e-3, 3, -1, 50, 4, 1.0, 1, 4, 6, 10, 1e-2, 2.0));
    }
}
