package dev.sprout.optim;

import dev.sprout.autograd.Autograd;
import dev.sprout.autograd.NonFiniteException;
import dev.sprout.nn.Act;
import dev.sprout.nn.Linear;
import dev.sprout.nn.Module;
import dev.sprout.nn.Sequential;
import dev.sprout.tensor.DType;
import dev.sprout.tensor.Rng;
import dev.sprout.tensor.Tensor;
import dev.sprout.testing.Tol;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Convergence, growth (remap, new parameters), refusal of non-finite gradients, state save and restore. */
class OptimizerBehaviourTest {

    // ------------------------------------------------------------------------------------------ convergence

    /** f(p) = 1/2 p^T A p - b^T p with A = [[3, 1], [1, 2]], b = [1, -1]: minimum at A^-1 b = (0.6, -0.8). */
    private static void assertConverges(Function<Module, Optimizer> make, int steps) {
        TwoParams m = new TwoParams(Tensor.of(new double[] {2.0, 2.0}, 2), Tensor.of(new double[] {0.0}, 1));
        Optimizer opt = make.apply(m);
        LrSchedule schedule = new CosineLr(opt.learningRate(), steps, 0.0);
        Tensor p = m.parameter("x");
        for (int k = 0; k < steps; k++) {
            double x0 = p.getFlat(0), x1 = p.getFlat(1);
            p.setGrad(Tensor.of(new double[] {3 * x0 + x1 - 1, x0 + 2 * x1 + 1}, 2));
            schedule.apply(opt, k);
            opt.step();
        }
        assertEquals(0.6, p.getFlat(0), Tol.OPTIM_CONVERGED, opt.type() + " x0");
        assertEquals(-0.8, p.getFlat(1), Tol.OPTIM_CONVERGED, opt.type() + " x1");
    }

    @Test
    void everyOptimizerConvergesOnAConvexQuadratic() {
        assertConverges(m -> new SGD(m, 0.1), 500);
        assertConverges(m -> new SGD(m, 0.05, 0.9), 500);
        assertConverges(m -> new SGD(m, 0.05, 0.9, 0, true, 0), 500);
        assertConverges(m -> new Adam(m, 0.05), 2000);
        assertConverges(m -> new RMSprop(m, 0.01), 2000);
        assertConverges(m -> new RMSprop(m, 0.005, 0.99, 1e-8, 0.5, true, 0), 2000);
        assertConverges(m -> new Adagrad(m, 0.5), 2000);
    }

    // ------------------------------------------------------------------------------------------ growth

    private static Tensor randomGrad(Rng r, Tensor p) {
        return Tensor.randn(r, p.dtype(), 1.0, p.shape().toArray());
    }

    private static void stepWithRandomGrads(Optimizer opt, Rng r) {
        for (Tensor p : opt.module().parameters()) {
            p.setGrad(randomGrad(r, p));
        }
        opt.step();
    }

    private static void assertSlice(Tensor expected, Tensor actual, String what) {
        assertArrayEquals(expected.contiguous().toDoubleArray(), actual.contiguous().toDoubleArray(), 0.0, what);
    }

    private static void assertZero(Tensor t, String what) {
        for (double v : t.contiguous().toDoubleArray()) {
            assertEquals(0.0, v, 0.0, what);
        }
    }

    @Test
    void remapKeepsOldSlicesOfAdamMomentsAndZeroesNewOnes() {
        Rng r = new Rng(3);
        TwoParams m = new TwoParams(Tensor.randn(r, DType.F64, 1.0, 2, 3), Tensor.randn(r, DType.F64, 1.0, 4));
        Adam opt = new Adam(m, 0.01);
        stepWithRandomGrads(opt, r);
        stepWithRandomGrads(opt, r);
        Map<String, Tensor> old = new LinkedHashMap<>(opt.state("x"));

        // rows: new 0 <- old 1, new 1 fresh, new 2 <- old 0, new 3 fresh
        int[] from = {1, -1, 0, -1};
        Tensor grown = Tensor.randn(r, DType.F64, 1.0, 4, 3);
        m.replaceParameter("x", grown);
        assertThrows(IllegalStateException.class, () -> stepWithRandomGrads(opt, r), "state no longer fits");
        opt.remap("x", grown, 0, from);
        for (String s : List.of(Adam.EXP_AVG, Adam.EXP_AVG_SQ, Adam.STEP)) {
            Tensor now = opt.state("x").get(s);
            assertArrayEquals(new int[] {4, 3}, now.shape().toArray(), s);
            for (int j = 0; j < from.length; j++) {
                if (from[j] >= 0) {
                    assertSlice(old.get(s).slice(0, from[j], from[j] + 1), now.slice(0, j, j + 1), s + " row " + j);
                } else {
                    assertZero(now.slice(0, j, j + 1), s + " new row " + j);
                }
            }
        }

        // Per-element step counts: a new row's next update is a first Adam step, lr * g / (|g| + eps).
        double before = grown.get(1, 2);
        Tensor gx = randomGrad(r, grown);
        grown.setGrad(gx);
        m.parameter("y").setGrad(randomGrad(r, m.parameter("y")));
        opt.step();
        double g = gx.get(1, 2);
        assertEquals(before - 0.01 * g / (Math.abs(g) + 1e-8), grown.get(1, 2), Tol.F64);
        assertEquals(1.0, opt.state("x").get(Adam.STEP).get(1, 2));
        assertEquals(3.0, opt.state("x").get(Adam.STEP).get(0, 0));
    }

    @Test
    void remapAlongColumnsKeepsSgdMomentum() {
        Rng r = new Rng(4);
        TwoParams m = new TwoParams(Tensor.randn(r, DType.F64, 1.0, 2, 3), Tensor.randn(r, DType.F64, 1.0, 4));
        SGD opt = new SGD(m, 0.1, 0.9);
        stepWithRandomGrads(opt, r);
        Tensor old = opt.state("x").get(SGD.MOMENTUM_BUFFER);
        int[] from = {0, 1, 2, -1, 2};
        Tensor grown = Tensor.zeros(DType.F64, 2, 5);
        opt.remap("x", grown, 1, from);
        Tensor now = opt.state("x").get(SGD.MOMENTUM_BUFFER);
        assertArrayEquals(new int[] {2, 5}, now.shape().toArray());
        for (int j = 0; j < from.length; j++) {
            if (from[j] >= 0) {
                assertSlice(old.slice(1, from[j], from[j] + 1), now.slice(1, j, j + 1), "column " + j);
            } else {
                assertZero(now.slice(1, j, j + 1), "new column " + j);
            }
        }
        assertThrows(IllegalArgumentException.class, () -> opt.remap("x", grown, 1, new int[] {0, 1, 2, 3, 5}), "from[] names a slice that does not exist");
        assertThrows(IllegalArgumentException.class, () -> opt.remap("x", grown, 1, new int[] {0, 1}));
    }

    @Test
    void plainSgdKeepsNoStateAndNeedsNoRemap() {
        Rng r = new Rng(12);
        TwoParams m = new TwoParams(Tensor.randn(r, DType.F64, 1.0, 2, 3), Tensor.randn(r, DType.F64, 1.0, 4));
        SGD opt = new SGD(m, 0.1);
        stepWithRandomGrads(opt, r);
        assertTrue(opt.stateTensors().isEmpty());
        Tensor grown = Tensor.zeros(DType.F64, 3, 3);
        m.replaceParameter("x", grown);
        opt.remap("x", grown, 0, new int[] {0, 1, -1});
        Tensor g = randomGrad(r, grown);
        grown.setGrad(g);
        opt.step();
        assertEquals(-0.1 * g.get(2, 1), grown.get(2, 1), Tol.F64);
    }

    @Test
    void grownLinearLayerTrainsOnAfterRemap() {
        Rng r = new Rng(5);
        Sequential net = new Sequential(new Linear(3, 2, true, r, DType.F32), Act.tanh(), new Linear(2, 1, true, r, DType.F32));
        Adam opt = new Adam(net, 0.01);
        stepWithRandomGrads(opt, r);
        // Split hidden neuron 1 into two (the new neuron 2 copies neuron 1's weights), the Net2Net way.
        int[] from = {0, 1, 1};
        Linear l0 = (Linear) net.get(0), l2 = (Linear) net.get(2);
        Tensor w0 = Tensor.zeros(DType.F32, 3, 3), b0 = Tensor.zeros(DType.F32, 3), w2 = Tensor.zeros(DType.F32, 1, 3);
        try (Autograd.Scope s = Autograd.noGrad()) {
            for (int j = 0; j < 3; j++) {
                w0.slice(0, j, j + 1).copy_(l0.weight().slice(0, from[j], from[j] + 1));
                b0.slice(0, j, j + 1).copy_(l0.parameter("bias").slice(0, from[j], from[j] + 1));
                w2.slice(1, j, j + 1).copy_(l2.weight().slice(1, from[j], from[j] + 1).mul(0.5));
            }
        }
        l0.replace(Map.of("weight", w0, "bias", b0), Map.of());
        l2.replaceParameter("weight", w2);
        // The new neuron's weights are a copy, but its optimizer state starts fresh: -1 in the state's from[].
        int[] stateFrom = {0, 1, -1};
        opt.remap("0.weight", w0, 0, stateFrom);
        opt.remap("0.bias", b0, 0, stateFrom);
        opt.remap("2.weight", w2, 1, stateFrom);
        stepWithRandomGrads(opt, r);
        assertEquals(2, opt.stepCount());
        Tensor steps = opt.state("0.weight").get(Adam.STEP);
        assertEquals(2.0, steps.get(0, 0));
        assertEquals(1.0, steps.get(2, 0));
        assertEquals(DType.F32, steps.dtype());
    }

    @Test
    void aParameterThatAppearsLaterGetsFreshState() {
        Rng r = new Rng(6);
        Sequential net = new Sequential(new Linear(2, 2, true, r, DType.F64));
        Adam opt = new Adam(net, 0.1);
        stepWithRandomGrads(opt, r);
        stepWithRandomGrads(opt, r);
        net.add(new Linear(2, 1, true, r, DType.F64));
        Tensor w = net.get(1).parameter("weight");
        double before = w.get(0, 1);
        Tensor g = randomGrad(r, w);
        for (Tensor p : net.parameters()) {
            p.setGrad(p == w ? g : randomGrad(r, p));
        }
        opt.step();
        double gi = g.get(0, 1);
        assertEquals(before - 0.1 * gi / (Math.abs(gi) + 1e-8), w.get(0, 1), Tol.F64);
        assertEquals(1.0, opt.state("1.weight").get(Adam.STEP).get(0, 1));
        opt.forget("1.weight");
        assertTrue(opt.state("1.weight").isEmpty());
    }

    // ------------------------------------------------------------------------------------------ non-finite

    private static Sequential mlp(Rng r) {
        return new Sequential(new Linear(4, 5, true, r, DType.F64), Act.relu(), new Linear(5, 4, true, r, DType.F64));
    }

    @Test
    void nanGradientIsRefusedNamingTheParameterAndNothingChanges() {
        Rng r = new Rng(7);
        Sequential net = mlp(r);
        SGD opt = new SGD(net, 0.1, 0.9);
        stepWithRandomGrads(opt, r);
        Map<String, double[]> params = new LinkedHashMap<>(), state = new LinkedHashMap<>();
        net.namedParameters().forEach((k, v) -> params.put(k, v.toDoubleArray()));
        opt.stateTensors().forEach((k, v) -> state.put(k, v.toDoubleArray()));
        for (Tensor p : net.parameters()) {
            p.setGrad(randomGrad(r, p));
        }
        net.namedParameters().get("2.weight").grad().setFlat(17, Double.NaN);
        NonFiniteException e = assertThrows(NonFiniteException.class, opt::step);
        assertTrue(e.getMessage().startsWith("gradient of 2.weight contains NaN at element 17"), e.getMessage());
        assertTrue(e.getMessage().endsWith("; refusing to update"), e.getMessage());
        assertTrue(e.getMessage().contains("[3, 2]"), e.getMessage());
        net.namedParameters().forEach((k, v) -> assertArrayEquals(params.get(k), v.toDoubleArray(), 0.0, k));
        opt.stateTensors().forEach((k, v) -> assertArrayEquals(state.get(k), v.toDoubleArray(), 0.0, k));
        assertEquals(1, opt.stepCount());

        net.namedParameters().get("2.weight").grad().setFlat(17, 0.5);
        net.namedParameters().get("0.bias").grad().setFlat(3, Double.NEGATIVE_INFINITY);
        e = assertThrows(NonFiniteException.class, opt::step);
        assertEquals("gradient of 0.bias contains -Infinity at element 3; refusing to update", e.getMessage());
    }

    @Test
    void nanGradientIsRefusedInF32Too() {
        Rng r = new Rng(8);
        Sequential net = new Sequential(new Linear(3, 2, r));
        Optimizer opt = new Adam(net, 0.1);
        Tensor w = net.namedParameters().get("0.weight");
        float[] before = w.toFloatArray();
        w.setGrad(Tensor.full(DType.F32, Float.NaN, 2, 3));
        NonFiniteException e = assertThrows(NonFiniteException.class, opt::step);
        assertTrue(e.getMessage().startsWith("gradient of 0.weight contains NaN at element 0"), e.getMessage());
        assertArrayEquals(before, w.toFloatArray());
        assertTrue(opt.stateTensors().isEmpty());
    }

    // ------------------------------------------------------------------------------------------ save and restore

    @Test
    void stateAndHyperParametersRebuildAnOptimizerThatContinuesIdentically() {
        for (String type : Optimizers.TYPES) {
            Rng r = new Rng(9);
            Sequential a = mlp(r);
            Map<String, String> hyper = switch (type) {
                case "sgd" -> Map.of("lr", "0.05", "momentum", "0.9", "nesterov", "true");
                case "rmsprop" -> Map.of("lr", "0.01", "momentum", "0.3", "centered", "true");
                case "adagrad" -> Map.of("initial_accumulator", "0.1");
                default -> Map.of("lr", "0.01", "weight_decay", "0.001");
            };
            Optimizer oa = Optimizers.create(type, a, hyper);
            assertEquals(type, oa.type());
            stepWithRandomGrads(oa, r);
            stepWithRandomGrads(oa, r);

            Sequential b = mlp(new Rng(99));
            try (Autograd.Scope s = Autograd.noGrad()) {
                a.namedParameters().forEach((k, v) -> b.namedParameters().get(k).copy_(v));
            }
            Optimizer ob = Optimizers.create(oa.type(), b, oa.hyperParameters());
            assertEquals(oa.hyperParameters(), ob.hyperParameters());
            ob.loadState(oa.stateTensors(), oa.stepCount());
            assertEquals(2, ob.stepCount());

            Rng ga = new Rng(10), gb = new Rng(10);
            stepWithRandomGrads(oa, ga);
            stepWithRandomGrads(ob, gb);
            a.namedParameters().forEach((k, v) ->
                    assertArrayEquals(v.toDoubleArray(), b.namedParameters().get(k).toDoubleArray(), 0.0, type + " " + k));
        }
    }

    @Test
    void loadStateChecksEverythingFirst() {
        Rng r = new Rng(11);
        Sequential net = mlp(r);
        Adam opt = new Adam(net, 0.01);
        stepWithRandomGrads(opt, r);
        Map<String, Tensor> saved = new LinkedHashMap<>(opt.stateTensors());

        Map<String, Tensor> unknownParam = new LinkedHashMap<>(saved);
        unknownParam.put("7.weight#exp_avg", Tensor.zeros(DType.F64, 1));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> opt.loadState(unknownParam, 5));
        assertTrue(e.getMessage().contains("7.weight"), e.getMessage());

        Map<String, Tensor> missing = new LinkedHashMap<>(saved);
        missing.remove("0.weight#exp_avg_sq");
        e = assertThrows(IllegalArgumentException.class, () -> opt.loadState(missing, 5));
        assertTrue(e.getMessage().contains("0.weight"), e.getMessage());

        Map<String, Tensor> wrongShape = new LinkedHashMap<>(saved);
        wrongShape.put("0.weight#exp_avg", Tensor.zeros(DType.F64, 4, 5));
        assertThrows(IllegalArgumentException.class, () -> opt.loadState(wrongShape, 5));

        SGD sgd = new SGD(net, 0.1, 0.9);
        e = assertThrows(IllegalArgumentException.class, () -> sgd.loadState(saved, 5));
        assertTrue(e.getMessage().contains("exp_avg"), e.getMessage());
        assertEquals(1, opt.stepCount());
        assertEquals(saved, opt.stateTensors());
    }

    @Test
    void factoryRefusesUnknownTypesAndSettings() {
        Module m = TwoParams.scalars(0, 0);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Optimizers.create("adam", m, Map.of("betta1", "0.8")));
        assertTrue(e.getMessage().contains("betta1"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Optimizers.create("lbfgs", m, Map.of()));
        assertTrue(e.getMessage().contains("lbfgs"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Optimizers.create("sgd", m, Map.of("lr", "fast")));
        assertThrows(IllegalArgumentException.class, () -> new SGD(m, 0.1, 0, 0, true, 0));
        assertThrows(IllegalArgumentException.class, () -> new Adam(m, 0.1, 1.0, 0.999, 1e-8, 0, false));
        assertThrows(IllegalArgumentException.class, () -> new SGD(m, Double.NaN));
        Optimizer sgd = Optimizers.create("SGD", m, Map.of());
        assertEquals(1e-3, sgd.learningRate());
        assertThrows(IllegalArgumentException.class, () -> sgd.setLearningRate(-1));
    }
}
