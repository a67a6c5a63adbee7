package dev.sprout.nn;

import dev.sprout.tensor.DType;
import dev.sprout.tensor.Rng;
import dev.sprout.tensor.ShapeException;
import dev.sprout.tensor.Tensor;
import dev.sprout.testing.Tol;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Layers against direct computations and known answers; architecture descriptions round-trip. */
class LayersTest {

    @Test
    void conv2dMatchesDirectConvolution() {
        Rng r = new Rng(1);
        Conv2d conv = new Conv2d(2, 3, 3, 2, 1, true, r, DType.F64);
        Tensor x = Tensor.randn(r, DType.F64, 1.0, 2, 2, 6, 5);
        Tensor y = conv.forward(x);
        assertArrayEquals(new int[] {2, 3, 3, 3}, y.shape().toArray());
        Tensor w = conv.parameter("weight"), b = conv.parameter("bias");
        for (int n = 0; n < 2; n++) {
            for (int o = 0; o < 3; o++) {
                for (int oy = 0; oy < 3; oy++) {
                    for (int ox = 0; ox < 3; ox++) {
                        double s = b.getFlat(o);
                        for (int c = 0; c < 2; c++) {
                            for (int ki = 0; ki < 3; ki++) {
                                for (int kj = 0; kj < 3; kj++) {
                                    int iy = oy * 2 - 1 + ki, ix = ox * 2 - 1 + kj;
                                    if (iy >= 0 && iy < 6 && ix >= 0 && ix < 5) {
                                        s += w.get(o, c, ki, kj) * x.get(n, c, iy, ix);
                                    }
                                }
                            }
                        }
                        assertEquals(s, y.get(n, o, oy, ox), 1e-12);
                    }
                }
            }
        }
        assertEquals(3L * 9 * (2 * 2 * 9 + 1), conv.flopsPerExample(new int[] {2, 6, 5}));
    }

    @Test
    void batchNormNormalisesAndTracksRunningStatistics() {
        BatchNorm bn = BatchNorm.of1d(3);
        Tensor x = Tensor.randn(new Rng(2), DType.F32, 3.0, 64, 3).add(Tensor.of(new float[] {5, -2, 0}));
        Tensor y = bn.forward(x);
        Tensor mean = y.mean(0, false), var = y.mul(y).mean(0, false);
        for (int f = 0; f < 3; f++) {
            assertEquals(0, mean.getFlat(f), 1e-5);
            assertEquals(1, var.getFlat(f), 1e-3);
        }
        double batchMean0 = x.mean(0, false).getFlat(0);
        assertEquals(0.1 * batchMean0, bn.buffer("running_mean").getFlat(0), 1e-4);
        bn.eval();
        Tensor ye = bn.forward(x);
        // eval uses running statistics: after one update they are far from the batch's, so outputs differ
        assertTrue(Math.abs(ye.getFlat(0) - y.getFlat(0)) > 0.1);
        assertThrows(ShapeException.class, () -> bn.forward(Tensor.zeros(4, 4)));
    }

    @Test
    void poolingKnownAnswers() {
        Tensor x = Tensor.arange(DType.F32, 0, 16, 1).reshape(1, 1, 4, 4);
        assertArrayEquals(new float[] {5, 7, 13, 15}, Pool2d.max(2).forward(x).toFloatArray());
        assertArrayEquals(new float[] {2.5f, 4.5f, 10.5f, 12.5f}, Pool2d.avg(2).forward(x).toFloatArray());
        assertArrayEquals(new int[] {1, 1, 3, 3}, new Pool2d(true, 2, 1).forward(x).shape().toArray());
    }

    @Test
    void crossEntropyKnownAnswer() {
        // logits [0, 0] -> log 2; logits [ln 3, 0] with label 0 -> -log(3/4)
        Tensor logits = Tensor.of(new double[] {0, 0, Math.log(3), 0}, 2, 2);
        double l = Losses.crossEntropy(logits, new int[] {1, 0}).item();
        assertEquals((Math.log(2) - Math.log(0.75)) / 2, l, Tol.F64);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Losses.crossEntropy(logits, new int[] {1, 2}));
        assertTrue(e.getMessage().contains("label 2"), e.getMessage());
        assertEquals(2.5, Losses.mse(Tensor.of(new double[] {1, 2}), Tensor.of(new double[] {0, 4})).item(), 0);
    }

    @Test
    void dropoutIsReproducibleAndInactiveInEval() {
        Dropout d1 = new Dropout(0.5, 7), d2 = new Dropout(0.5, 7);
        Tensor x = Tensor.ones(DType.F32, 1000);
        Tensor a = d1.forward(x), b = d2.forward(x);
        assertArrayEquals(a.toFloatArray(), b.toFloatArray());
        double kept = a.sum().item() / 2; // kept values are scaled by 2
        assertEquals(500, kept, 60);
        assertTrue(!java.util.Arrays.equals(a.toFloatArray(), d1.forward(x).toFloatArray()), "next call, new mask");
        d1.eval();
        assertArrayEquals(x.toFloatArray(), d1.forward(x).toFloatArray());
    }

    @Test
    void architectureRoundTripsWithGrownWidths() {
        Rng r = new Rng(3);
        Sequential net = new Sequential(new Conv2d(1, 4, 3, 1, 1, true, r, DType.F32), BatchNorm.of2d(4), Act.relu(),
                Pool2d.max(2), new Flatten(), new Linear(4 * 14 * 14, 16, r), new Act(dev.sprout.backend.Activation.SOFTPLUS, 2.5),
                new Dropout(0.2, 11), new Linear(16, 10, r));
        // grow the hidden linear layer from 16 to 20 neurons
        Linear hidden = (Linear) net.get(5), head = (Linear) net.get(8);
        ShapeException bad = assertThrows(ShapeException.class, () -> hidden.replaceParameter("bias", Tensor.zeros(20)));
        assertTrue(bad.getMessage().contains("bias f32[20]"), bad.getMessage());
        assertEquals(16, hidden.out(), "a failed resize leaves the layer unchanged");
        assertEquals(16, hidden.parameter("bias").dim(0));
        hidden.replace(java.util.Map.of("weight", Tensor.zeros(20, 4 * 14 * 14), "bias", Tensor.zeros(20)), java.util.Map.of());
        head.replaceParameter("weight", Tensor.zeros(10, 20));
        assertEquals(20, hidden.out());
        assertEquals(20, head.in());
        String arch = Modules.describe(net);
        Module back = Modules.parse(arch, new Rng(4), DType.F32);
        assertEquals(arch, Modules.describe(back));
        assertEquals(net.parameterCount(), back.parameterCount());
        assertArrayEquals(new int[] {10}, back.outputShape(new int[] {1, 28, 28}));
        Tensor out = back.predict(Tensor.zeros(2, 1, 28, 28));
        assertArrayEquals(new int[] {2, 10}, out.shape().toArray());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Modules.parse(".\tsequential\t\n0\tlstm\tin=3", new Rng(1), DType.F32));
        assertTrue(e.getMessage().contains("unknown module type 'lstm'"), e.getMessage());
    }

    /** An inserted layer keeps every other name, runs in its place, and a description rebuilds the same order. */
    @Test
    void insertedLayersKeepNamesAndOrder() {
        Sequential net = new Sequential(new Linear(3, 4, new Rng(1)), Act.relu(), new Linear(4, 2, new Rng(2)));
        Linear mid = new Linear(4, 4, new Rng(3));
        String name = net.freshName("d");
        net.insert(2, name, mid);
        net.insert(3, net.freshName("d"), Act.relu());
        assertEquals(java.util.List.of("0", "1", "d", "d1", "2"), java.util.List.copyOf(net.children().keySet()));
        assertTrue(net.get(2) == mid && net.get(4) instanceof Linear);
        assertEquals(java.util.List.of("0.weight", "0.bias", "d.weight", "d.bias", "2.weight", "2.bias"),
                java.util.List.copyOf(net.namedParameters().keySet()));
        Tensor x = Tensor.randn(new Rng(4), 5, 3);
        Tensor direct = net.get(4).forward(Act.relu().forward(mid.forward(Act.relu().forward(net.get(0).forward(x)))));
        assertArrayEquals(direct.toFloatArray(), net.predict(x).toFloatArray());
        String arch = Modules.describe(net);
        Module back = Modules.parse(arch, new Rng(5), DType.F32);
        assertEquals(arch, Modules.describe(back));
        assertTrue(((Sequential) back).get(2) instanceof Linear && ((Sequential) back).get(3) instanceof Act);
        assertThrows(IllegalArgumentException.class, () -> net.insert(0, "d", Act.tanh()));
        assertThrows(IndexOutOfBoundsException.class, () -> net.insert(9, "e", Act.tanh()));
        assertEquals(5, net.size(), "refused inserts change nothing");
    }

    @Test
    void namedParametersUseDottedPaths() {
        Sequential net = new Sequential(new Linear(3, 4, new Rng(1)), Act.tanh(), new Linear(4, 2, new Rng(2)));
        assertEquals(java.util.List.of("0.weight", "0.bias", "2.weight", "2.bias"), java.util.List.copyOf(net.namedParameters().keySet()));
        assertEquals(3 * 4 + 4 + 4 * 2 + 2, net.parameterCount());
        assertEquals(2L * 3 * 4 + 4 + 4 + 2L * 4 * 2 + 2, net.flopsPerExample(new int[] {3}));
        assertThrows(ShapeException.class, () -> net.forward(Tensor.zeros(2, 5)));
        assertTrue(net.module("2") instanceof Linear);
    }
}
