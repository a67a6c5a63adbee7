package dev.sprout.optim;

import dev.sprout.autograd.Autograd;
import dev.sprout.autograd.NonFiniteException;
import dev.sprout.nn.Module;
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
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The f32 update loops ({@link Optimizer#updateF32}, float arithmetic) against the f64 path ({@link Optimizer#update},
 * double arithmetic) of the same optimizer: the same parameters and gradients, rounded to f32, stepped in both and
 * compared after every step. The parameter sizes (1, 37, 1000) put elements in the JIT's vector loops and in their
 * scalar tails; the comparison tolerance allows f32 rounding of each operation ({@link #TOL} relative to the
 * magnitude of the parameter, accumulated over {@link #STEPS} steps).
 */
class OptimizerF32Test {
    private static final int STEPS = 6;
    /** Relative agreement of f32 and f64 trajectories after a few steps (f32 rounding, amplified by divisions). */
    private static final double TOL = 50 * Tol.EPS_F32;

    private static final class Params extends Module {
        Params(DType dt, Rng r) {
            registerParameter("a", Tensor.randn(r, dt, 1.0, 1));
            registerParameter("b", Tensor.randn(r, dt, 1.0, 37));
            registerParameter("c", Tensor.randn(r, dt, 1.0, 40, 25));
        }

        @Override
        public Tensor forward(Tensor x) {
            throw new UnsupportedOperationException("test module");
        }

        @Override
        public String type() {
            return "params";
        }
    }

    private static void assertF32MatchesF64(String what, Function<Module, Optimizer> make) {
        Params f32 = new Params(DType.F32, new Rng(3)), f64 = new Params(DType.F64, new Rng(3));
        // same starting values: the f64 copy holds the f32 values exactly
        try (Autograd.Scope ignored = Autograd.noGrad()) {
            f32.namedParameters().forEach((k, p) -> f64.namedParameters().get(k).copy_(p.to(DType.F64)));
        }
        Optimizer o32 = make.apply(f32), o64 = make.apply(f64);
        Rng r = new Rng(11);
        for (int step = 1; step <= STEPS; step++) {
            for (Map.Entry<String, Tensor> e : f32.namedParameters().entrySet()) {
                Tensor g = Tensor.randn(r, DType.F32, 1.0, e.getValue().shape().toArray());
                if (step == 3) {
                    g = g.mul(1e-3); // small gradients: the eps terms matter
                }
                e.getValue().setGrad(g);
                f64.namedParameters().get(e.getKey()).setGrad(g.to(DType.F64));
            }
            o32.step();
            o64.step();
            for (String k : f32.namedParameters().keySet()) {
                double[] a = f32.namedParameters().get(k).toDoubleArray(), b = f64.namedParameters().get(k).toDoubleArray();
                for (int i = 0; i < a.length; i++) {
                    double tol = TOL * Math.max(1, Math.abs(b[i])) * step;
                    if (!(Math.abs(a[i] - b[i]) <= tol)) {
                        fail(what + ": parameter " + k + "[" + i + "] after step " + step + ": f32 " + a[i] + " vs f64 "
                                + b[i] + " (tolerance " + tol + ")");
                    }
                }
            }
        }
        Map<String, Tensor> s32 = o32.stateTensors(), s64 = o64.stateTensors();
        assertEquals(s64.keySet(), s32.keySet(), what + ": state names");
        for (String k : s32.keySet()) {
            assertEquals(DType.F32, s32.get(k).dtype(), what + ": state " + k + " keeps the parameter's dtype");
            double[] a = s32.get(k).toDoubleArray(), b = s64.get(k).toDoubleArray();
            for (int i = 0; i < a.length; i++) {
                assertEquals(b[i], a[i], TOL * Math.max(1, Math.abs(b[i])) * STEPS, what + ": state " + k + "[" + i + "]");
            }
        }
    }

    @Test
    void everyOptimizersF32LoopFollowsItsF64Rule() {
        Map<String, Function<Module, Optimizer>> cases = new LinkedHashMap<>();
        cases.put("sgd", m -> new SGD(m, 0.1));
        cases.put("sgd+wd", m -> new SGD(m, 0.1, 0, 0, false, 0.01));
        cases.put("sgd+momentum+dampening", m -> new SGD(m, 0.05, 0.9, 0.1, false, 0.01));
        cases.put("sgd+nesterov", m -> new SGD(m, 0.05, 0.9, 0, true, 1e-4));
        cases.put("adam", m -> new Adam(m, 0.01));
        cases.put("adam+l2", m -> new Adam(m, 0.01, 0.8, 0.99, 1e-6, 0.05, false));
        cases.put("adamw", m -> new Adam(m, 0.01, 0.9, 0.999, 1e-8, 0.05, true));
        cases.put("rmsprop", m -> new RMSprop(m, 0.01));
        cases.put("rmsprop centered+momentum+wd", m -> new RMSprop(m, 0.005, 0.99, 1e-6, 0.5, true, 0.01));
        cases.put("adagrad", m -> new Adagrad(m, 0.5));
        cases.forEach(OptimizerF32Test::assertF32MatchesF64);
        assertEquals(10, cases.size());
    }

    /** The reference finite check (the SPI's default); every backend's is in the conformance suite. */
    private static final dev.sprout.backend.Backend REF = new dev.sprout.backend.java.JavaBackend(1);

    @Test
    void f32FiniteCheckFindsNaNAndInfinityInVectorBodyAndTail() {
        for (int n : List.of(1, 7, 8, 9, 16, 1003)) {
            for (int at : List.of(0, n / 2, n - 1)) {
                for (float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}) {
                    float[] a = new float[n + 3];
                    java.util.Arrays.fill(a, 1e30f);
                    a[2 + at] = bad;
                    assertTrue(!REF.allFinite(a, 2, n), "n=" + n + " at=" + at + " value=" + bad);
                    assertTrue(REF.allFinite(a, 2 + at + 1, n - at - 1), "after the bad element: n=" + n + " at=" + at);
                }
            }
            float[] ok = new float[n];
            java.util.Arrays.fill(ok, -Float.MAX_VALUE);
            assertTrue(REF.allFinite(ok, 0, n), "finite extremes, n=" + n);
        }
    }

    @Test
    void f32InfinityDeepInALargeGradientIsRefusedWithItsIndex() {
        Params m = new Params(DType.F32, new Rng(5));
        SGD opt = new SGD(m, 0.1, 0.9);
        Map<String, float[]> before = new LinkedHashMap<>();
        m.namedParameters().forEach((k, p) -> {
            before.put(k, p.toFloatArray());
            p.setGrad(Tensor.zeros(DType.F32, p.shape().toArray()));
        });
        m.namedParameters().get("c").grad().setFlat(999, Double.POSITIVE_INFINITY);
        NonFiniteException e = assertThrows(NonFiniteException.class, opt::step);
        assertEquals("gradient of c contains +Infinity at element 999 (index [39, 24] of [40, 25]); refusing to update",
                e.getMessage());
        m.namedParameters().forEach((k, p) -> assertArrayEquals(before.get(k), p.toFloatArray(), k));
        assertEquals(0, opt.stepCount());
    }
}
