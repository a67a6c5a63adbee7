package dev.sprout.nn;

import dev.sprout.autograd.Autograd;
import dev.sprout.tensor.DType;
import dev.sprout.tensor.Rng;
import dev.sprout.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link Act#relu1()}: the ReLU function exactly, with derivative 1 at 0 (GradMax's {@code relu1 = tf.maximum(x, 0)}),
 * never fused as a plain ReLU, and rebuilt from its description.
 */
class Relu1Test {

    @Test
    void sameFunctionAsReluWithUnitSlopeAtZero() {
        for (DType dt : new DType[] {DType.F32, DType.F64}) {
            double[] v = {-2.5, -1e-30, -0.0, 0.0, 1e-30, 0.75, 3};
            Tensor x = Tensor.of(v).to(dt);
            Tensor plain, one;
            try (Autograd.Scope s = Autograd.noGrad()) {
                plain = Act.relu().forward(x);
                one = Act.relu1().forward(x);
            }
            assertArrayEquals(plain.toDoubleArray(), one.toDoubleArray(), 0.0, dt.toString());
            Tensor xr = Tensor.of(v).to(dt).requiresGrad(true);
            double[] g1 = Autograd.grad(Act.relu1().forward(xr).sum(), new Tensor[] {xr}, false)[0].toDoubleArray();
            double[] g0 = Autograd.grad(Act.relu().forward(xr).sum(), new Tensor[] {xr}, false)[0].toDoubleArray();
            assertArrayEquals(new double[] {0, 0, 1, 1, 1, 1, 1}, g1, 0.0, "relu1' = [x >= 0]");
            assertArrayEquals(new double[] {0, 0, 0, 0, 1, 1, 1}, g0, 0.0, "relu' = [x > 0]");
            try (Autograd.Scope s = Autograd.noGrad()) {
                assertArrayEquals(g1, Act.relu1().derivative(x, 1).toDoubleArray(), 0.0);
                assertArrayEquals(new double[v.length], Act.relu1().derivative(x, 2).toDoubleArray(), 0.0);
                assertArrayEquals(plain.toDoubleArray(), Act.relu1().derivative(x, 0).toDoubleArray(), 0.0);
            }
        }
    }

    /**
     * A zero-weight conv channel followed by relu1 and max pooling (Sequential's fusions must not treat relu1 as a
     * ReLU) passes a gradient to its weights; with the plain ReLU it gets none.
     */
    @Test
    void zeroChannelGetsAGradientThroughRelu1AndPooling() {
        for (boolean unit : new boolean[] {true, false}) {
            Rng r = new Rng(3);
            Conv2d conv = new Conv2d(1, 2, 3, 1, 1, false, r, DType.F64);
            conv.replace(Map.of("weight", Tensor.zeros(DType.F64, 2, 1, 3, 3)), Map.of());
            Sequential net = new Sequential(conv, unit ? Act.relu1() : Act.relu(), Pool2d.max(2), new Flatten(),
                    new Linear(2 * 2 * 2, 1, true, r, DType.F64));
            Tensor x = Tensor.randn(new Rng(4), DType.F64, 1.0, 3, 1, 4, 4);
            Tensor out = net.forward(x);
            assertEquals(0.0, Math.abs(out.toDoubleArray()[0] - net.get(4).parameter("bias").toDoubleArray()[0]), 1e-15);
            double[] g = Autograd.grad(out.sum(), new Tensor[] {conv.parameter("weight")}, false)[0].toDoubleArray();
            double norm = 0;
            for (double e : g) {
                norm += e * e;
            }
            assertTrue(unit ? norm > 0 : norm == 0, "unit slope " + unit + ": " + norm);
        }
    }

    @Test
    void describedAndRebuilt() {
        Sequential net = new Sequential(new Linear(3, 4, new Rng(1)), Act.relu1(), new Linear(4, 2, new Rng(2)));
        String text = Modules.describe(net);
        assertTrue(text.contains("relu1"), text);
        Sequential back = (Sequential) Modules.parse(text, new Rng(0), DType.F32);
        assertTrue(((Act) back.get(1)).unitSlopeAtZero());
        assertEquals(text, Modules.describe(back));
        assertFalse(Act.relu().unitSlopeAtZero());
        assertTrue(Act.relu().isPlainRelu());
        assertFalse(Act.relu1().isPlainRelu());
        assertTrue(Act.relu1().copy().unitSlopeAtZero());
        net.replace(1, Act.relu());
        assertEquals(text.replace("relu1", "relu"), Modules.describe(net));
    }
}
