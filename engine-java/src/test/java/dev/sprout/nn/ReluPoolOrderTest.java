package dev.sprout.nn;

import dev.sprout.autograd.Autograd;
import dev.sprout.tensor.DType;
import dev.sprout.tensor.Rng;
import dev.sprout.tensor.Tensor;
import dev.sprout.testing.Tol;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link Sequential} runs a ReLU followed by a max pooling as pooling first ({@link Pool2d#commutesAfter}), a
 * convolution, ReLU and max pooling as the fused {@link Conv2d#forwardPooled} then the ReLU, and a convolution and
 * ReLU as the fused {@link Conv2d#forwardRelu}: values, gradients and Hessian-vector products must equal those of
 * the layers run one by one in their written order.
 */
class ReluPoolOrderTest {

    /** Integer conv weights and zero bias: conv outputs are small integers, with many ties and exact zeros. */
    private static Sequential net(DType dt) {
        Conv2d conv = new Conv2d(2, 3, 3, 1, 1, true, new Rng(1), dt);
        try (Autograd.Scope sc = Autograd.noGrad()) {
            Tensor w = conv.parameter("weight");
            Rng r = new Rng(4);
            for (int i = 0; i < w.numel(); i++) {
                w.setFlat(i, r.nextInt(3) - 1);
            }
            conv.parameter("bias").fill_(0);
        }
        Conv2d second = new Conv2d(3, 3, 3, 1, 1, true, new Rng(6), dt);
        return new Sequential(conv, Act.relu(), second, Act.relu(), Pool2d.max(2), new Flatten(),
                new Linear(3 * 3 * 4, 4, true, new Rng(2), dt));
    }

    /** ReLU and pooling after something other than a convolution: only their order changes, nothing is fused. */
    private static Sequential plain(DType dt) {
        return new Sequential(Act.tanh(), Act.relu(), Pool2d.max(2), new Flatten(), new Linear(2 * 3 * 4, 4, true, new Rng(2), dt));
    }

    /** The layers one by one, in written order (no reordering). */
    private static Tensor inOrder(Sequential s, Tensor x) {
        for (Module m : s.layers()) {
            x = m.forward(x);
        }
        return x;
    }

    /** Integer-valued inputs in {-1, 0, 1}. */
    private static Tensor input(DType dt) {
        Tensor t = Tensor.zeros(dt, 3, 2, 6, 8);
        Rng r = new Rng(3);
        for (int i = 0; i < t.numel(); i++) {
            t.setFlat(i, r.nextInt(3) - 1);
        }
        return t;
    }

    @Test
    void predicateOnlyPairsReluWithMaxPooling() {
        assertTrue(Pool2d.commutesAfter(Act.relu(), Pool2d.max(2)));
        assertFalse(Pool2d.commutesAfter(Act.relu(), Pool2d.avg(2)));
        assertFalse(Pool2d.commutesAfter(Act.tanh(), Pool2d.max(2)));
        assertFalse(Pool2d.commutesAfter(Pool2d.max(2), Act.relu()));
    }

    @Test
    void sameValuesGradientsAndHvpAsTheWrittenOrder() {
        for (DType dt : List.of(DType.F32, DType.F64)) {
            check(dt, net(dt));
            check(dt, plain(dt));
        }
    }

    private static void check(DType dt, Sequential s) {
        Tensor x = input(dt);
        int[] y = {0, 3, 1};
        Tensor[] params = s.parameters().toArray(new Tensor[0]);
        Tensor a, b;
        try (Autograd.Scope sc = Autograd.noGrad()) {
            a = s.forward(x);
            b = inOrder(s, x);
        }
        for (int i = 0; i < a.numel(); i++) {
            assertEquals(b.getFlat(i), a.getFlat(i), 0.0, dt + " value " + i);
        }
        Tensor z;
        try (Autograd.Scope sc = Autograd.noGrad()) {
            z = s.get(0).forward(x);
        }
        int zeros = 0;
        for (int i = 0; i < z.numel(); i++) {
            zeros += z.getFlat(i) == 0 ? 1 : 0;
        }
        assertTrue(zeros > 10, "the case must have exact zeros (ties at the ReLU kink), got " + zeros);
        Tensor xg = x.detach().requiresGrad(true);
        List<Tensor> targets = new ArrayList<>(List.of(params));
        targets.add(xg);
        Tensor[] t = targets.toArray(new Tensor[0]);
        Tensor[] g1 = Autograd.grad(Losses.crossEntropy(s.forward(xg), y), t, false);
        Tensor[] g2 = Autograd.grad(Losses.crossEntropy(inOrder(s, xg), y), t, false);
        for (int p = 0; p < t.length; p++) {
            for (int i = 0; i < g1[p].numel(); i++) {
                assertEquals(g2[p].getFlat(i), g1[p].getFlat(i), dt == DType.F64 ? Tol.F64 : Tol.F32,
                        dt + " gradient " + p + "[" + i + "]");
            }
        }
        if (dt == DType.F64) {
            Tensor[] v = new Tensor[params.length];
            for (int i = 0; i < v.length; i++) {
                v[i] = Tensor.randn(new Rng(10 + i), dt, 1.0, params[i].shape().toArray());
            }
            Tensor[] h1 = Autograd.hvp(q -> Losses.crossEntropy(s.forward(x), y), params, v);
            Tensor[] h2 = Autograd.hvp(q -> Losses.crossEntropy(inOrder(s, x), y), params, v);
            for (int p = 0; p < params.length; p++) {
                for (int i = 0; i < h1[p].numel(); i++) {
                    assertEquals(h2[p].getFlat(i), h1[p].getFlat(i), Tol.F64 * 100, "hvp " + p + "[" + i + "]");
                }
            }
        }
    }
}
