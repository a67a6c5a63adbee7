package dev.sprout.optim;

import dev.sprout.autograd.Autograd;
import dev.sprout.autograd.NonFiniteException;
import dev.sprout.backend.Backend;
import dev.sprout.backend.Backends;
import dev.sprout.backend.java.JavaBackend;
import dev.sprout.nn.Act;
import dev.sprout.nn.Linear;
import dev.sprout.nn.Losses;
import dev.sprout.nn.Module;
import dev.sprout.nn.Sequential;
import dev.sprout.tensor.DType;
import dev.sprout.tensor.Kernels;
import dev.sprout.tensor.Rng;
import dev.sprout.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link Optimizer#minimize}: backward and step in one call, where the step skips its finiteness pass over the
 * gradients that the backward pass proved finite while computing them ({@link Autograd#backwardProvingFinite}, the
 * linear layers' weights through {@link Kernels#matmulFinite}). It must give the bits of {@code backward(); step()},
 * skip exactly the proven gradients (counted through a backend that records every {@code allFinite} call), and
 * still refuse a NaN or infinite gradient with nothing updated.
 */
class MinimizeTest {
    private static Sequential mlp(DType dt, long seed) {
        Rng r = new Rng(seed);
        return new Sequential(new Linear(6, 9, true, r, dt), Act.relu(), new Linear(9, 7, true, r, dt), Act.relu(),
                new Linear(7, 3, true, r, dt));
    }

    private static Tensor loss(Module m, Tensor x, int[] y) {
        return Losses.crossEntropy(m.forward(x), y);
    }

    private static final int[] LABELS = {0, 2, 1, 1, 0};

    private static Tensor input(DType dt, long seed) {
        return Tensor.randn(new Rng(seed), dt, 1.0, 5, 6);
    }

    private static Map<String, double[]> values(Module m) {
        Map<String, double[]> out = new LinkedHashMap<>();
        m.namedParameters().forEach((k, p) -> out.put(k, p.toDoubleArray()));
        return out;
    }

    @Test
    void minimizeGivesTheBitsOfBackwardThenStep() {
        List<Function<Module, Optimizer>> makers = List.of(m -> new SGD(m, 0.1), m -> new SGD(m, 0.05, 0.9),
                m -> new Adam(m, 0.01));
        for (DType dt : new DType[] {DType.F32, DType.F64}) {
            for (Function<Module, Optimizer> make : makers) {
                Sequential a = mlp(dt, 3), b = mlp(dt, 3);
                Optimizer oa = make.apply(a), ob = make.apply(b);
                for (int step = 0; step < 4; step++) {
                    Tensor x = input(dt, 10 + step);
                    oa.zeroGrad();
                    Autograd.backward(loss(a, x, LABELS));
                    oa.step();
                    ob.zeroGrad();
                    ob.minimize(loss(b, x, LABELS));
                    Map<String, double[]> va = values(a), vb = values(b);
                    for (String k : va.keySet()) {
                        String what = oa + " " + dt + " step " + step + " " + k;
                        assertArrayEquals(va.get(k), vb.get(k), what + ": parameter");
                        assertArrayEquals(a.namedParameters().get(k).grad().toDoubleArray(),
                                b.namedParameters().get(k).grad().toDoubleArray(), what + ": gradient");
                    }
                    assertEquals(oa.stepCount(), ob.stepCount());
                }
            }
        }
    }

    @Test
    void theProofNamesTheLinearWeightsWrittenWholeByThisCall() {
        Sequential m = mlp(DType.F32, 4);
        Tensor x = input(DType.F32, 5);
        Map<String, Tensor> ps = m.namedParameters();
        for (int step = 0; step < 2; step++) {  // first call: fresh gradients; second: the storage zeroGrad kept
            m.zeroGrad();
            Set<Tensor> proven = Autograd.backwardProvingFinite(loss(m, x, LABELS));
            for (Map.Entry<String, Tensor> e : ps.entrySet()) {
                assertNotNull(e.getValue().grad(), e.getKey());
                assertEquals(e.getKey().endsWith("weight"), proven.contains(e.getValue()), "step " + step + " " + e.getKey());
            }
        }
        // without zeroGrad the new gradients are added to the old: nothing was written whole by the product
        Set<Tensor> added = Autograd.backwardProvingFinite(loss(m, x, LABELS));
        assertTrue(added.isEmpty(), "accumulated gradients proven: " + added.size());
        // plain backward proves nothing and leaves no listener behind
        m.zeroGrad();
        Autograd.backward(loss(m, x, LABELS));
        assertFalse(Autograd.provingFinite());
    }

    /**
     * A backend that records the length of each {@code allFinite} call and each {@code sgemmFinite} call made through
     * it, and forwards everything to the Java backend (whose sgemmFinite checks C by its own calls, not recorded).
     */
    private static Backend recording(List<Integer> finiteLengths, List<String> fusedProducts) {
        Backend real = new JavaBackend(1);
        return (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[] {Backend.class},
                (proxy, method, args) -> {
                    if (method.getName().equals("allFinite")) {
                        finiteLengths.add((Integer) args[2]);
                    } else if (method.getName().equals("sgemmFinite")) {
                        fusedProducts.add(args[0].toString());
                    }
                    try {
                        return method.invoke(real, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }

    @Test
    void minimizeSkipsTheSeparatePassOverProvenGradientsOnly() {
        Backend before = Backends.current();
        try {
            Sequential m = mlp(DType.F32, 6);
            SGD opt = new SGD(m, 0.1);
            Tensor x = input(DType.F32, 7);
            List<Integer> lengths = new ArrayList<>();
            List<String> fused = new ArrayList<>();
            Backends.use(recording(lengths, fused));
            opt.zeroGrad();
            Autograd.backward(loss(m, x, LABELS));
            opt.step();
            List<Integer> all = new ArrayList<>(), biases = new ArrayList<>();
            for (Map.Entry<String, Tensor> e : m.namedParameters().entrySet()) {
                all.add(e.getValue().numel());
                if (e.getKey().endsWith("bias")) {
                    biases.add(e.getValue().numel());
                }
            }
            assertEquals(sorted(all), sorted(lengths), "step() passes over every gradient");
            assertEquals(List.of(), fused, "plain backward checks nothing in its products");
            for (int step = 0; step < 2; step++) {  // fresh gradients, then the storage zeroGrad kept
                lengths.clear();
                fused.clear();
                opt.zeroGrad();
                opt.minimize(loss(m, x, LABELS));
                assertEquals(sorted(biases), sorted(lengths), "minimize, step " + step + ": the step passes over the biases only");
                assertEquals(3, fused.size(), "minimize, step " + step + ": the three weight gradients made by checking products: "
                        + fused);
            }
        } finally {
            Backends.use(before);
        }
    }

    private static List<Integer> sorted(List<Integer> xs) {
        List<Integer> out = new ArrayList<>(xs);
        out.sort(null);
        return out;
    }

    @Test
    void aNonFiniteGradientIsStillRefusedWithNothingUpdated() {
        for (DType dt : new DType[] {DType.F32, DType.F64}) {
            for (double bad : new double[] {Double.NaN, Double.POSITIVE_INFINITY}) {
                Sequential m = mlp(dt, 8);
                SGD opt = new SGD(m, 0.1, 0.9);
                opt.zeroGrad();
                opt.minimize(loss(m, input(dt, 9), LABELS));  // one good step: state exists, spare storage kept
                Map<String, double[]> before = values(m);
                Map<String, Tensor> state = opt.stateTensors();
                Map<String, double[]> stateBefore = new LinkedHashMap<>();
                state.forEach((k, t) -> stateBefore.put(k, t.toDoubleArray()));
                Tensor x = input(dt, 11);
                x.setFlat(7, bad);  // row 1 of the batch: every first-layer weight gradient in column 1 is poisoned
                opt.zeroGrad();
                NonFiniteException e = assertThrows(NonFiniteException.class, () -> opt.minimize(loss(m, x, LABELS)));
                assertTrue(e.getMessage().startsWith("gradient of 0.weight contains "), e.getMessage());
                Map<String, double[]> after = values(m);
                for (String k : before.keySet()) {
                    assertArrayEquals(before.get(k), after.get(k), dt + " " + bad + ": parameter " + k + " changed");
                }
                opt.stateTensors().forEach((k, t) -> assertArrayEquals(stateBefore.get(k), t.toDoubleArray(),
                        dt + " " + bad + ": state " + k + " changed"));
                assertEquals(1, opt.stepCount());
            }
        }
    }

    @Test
    void matmulFiniteReportsOverflowAndNaNAndRefusesBadDestinations() {
        Tensor a = Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3), b = Tensor.of(new float[] {1, 0, 1, 1, 1, 1}, 3, 2);
        Tensor into = Tensor.zeros(DType.F32, 2, 2);
        assertTrue(Kernels.matmulFinite(a, b, into));
        assertArrayEquals(Kernels.matmul(a, b).toDoubleArray(), into.toDoubleArray());
        Tensor big = Tensor.of(new float[] {3e38f, 3e38f, 0, 1, 1, 1}, 2, 3);
        assertFalse(Kernels.matmulFinite(big, b, into), "3e38 + 3e38 overflows f32");
        assertTrue(Float.isInfinite((float) into.getFlat(0)));
        Tensor nan = Tensor.of(new float[] {1, 2, 3, 4, Float.NaN, 6}, 2, 3);
        assertFalse(Kernels.matmulFinite(nan, b, into));
        assertThrows(RuntimeException.class, () -> Kernels.matmulFinite(a, b, Tensor.zeros(DType.F32, 2, 3)));
        assertThrows(RuntimeException.class, () -> Kernels.matmulFinite(a, b, Tensor.zeros(DType.F64, 2, 2)));
        assertThrows(IllegalArgumentException.class, () -> Kernels.matmulFinite(a, b, null));
    }
}
