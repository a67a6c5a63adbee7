package dev.sprout.nn;

import dev.sprout.autograd.Autograd;
import dev.sprout.backend.Activation;
import dev.sprout.tensor.DType;
import dev.sprout.tensor.Rng;
import dev.sprout.tensor.Tensor;
import dev.sprout.testing.Tol;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Finite-difference checks of whole layers and losses in f64: the gradient of a scalar loss with respect to
 * the input and to every parameter, against central differences.
 */
class LayerGradientTest {

    record Case(Supplier<Module> layer, int[] inputShape, Function<Tensor, Tensor> loss) {
    }

    private static final DType F64 = DType.F64;

    static Map<String, Case> cases() {
        Map<String, Case> c = new LinkedHashMap<>();
        Function<Tensor, Tensor> weighted = y -> y.mul(Tensor.randn(new Rng(77), F64, 1.0, y.shape().toArray())).sum();
        c.put("linear", new Case(() -> new Linear(5, 4, true, new Rng(1), F64), new int[] {3, 5}, weighted));
        c.put("conv2d stride 1 pad 1", new Case(() -> new Conv2d(2, 3, 3, 1, 1, true, new Rng(2), F64), new int[] {2, 2, 5, 5}, weighted));
        c.put("conv2d stride 2 no bias", new Case(() -> new Conv2d(3, 2, 3, 2, 0, false, new Rng(3), F64), new int[] {2, 3, 7, 6}, weighted));
        c.put("batchnorm1d train", new Case(() -> new BatchNorm(4, false, 0.1, 1e-5, F64), new int[] {6, 4}, y -> y.mul(y).mul(y).sum()));
        c.put("batchnorm2d train", new Case(() -> new BatchNorm(3, true, 0.1, 1e-5, F64), new int[] {2, 3, 3, 2}, y -> y.mul(y).mul(y).sum()));
        c.put("batchnorm1d eval", new Case(() -> {
            BatchNorm b = new BatchNorm(4, false, 0.1, 1e-5, F64);
            b.buffer("running_mean").copy_(Tensor.of(new double[] {0.1, -0.2, 0.3, 0}));
            b.buffer("running_var").copy_(Tensor.of(new double[] {1.5, 0.5, 2, 1}));
            b.eval();
            return b;
        }, new int[] {3, 4}, weighted));
        c.put("maxpool2d", new Case(() -> Pool2d.max(2), new int[] {2, 2, 4, 6}, weighted));
        c.put("avgpool2d stride 1", new Case(() -> new Pool2d(false, 2, 1), new int[] {1, 2, 3, 3}, weighted));
        c.put("softplus", new Case(() -> new Act(Activation.SOFTPLUS, 3.0), new int[] {3, 4}, weighted));
        c.put("rbf", new Case(() -> new Act(Activation.RBF), new int[] {3, 4}, weighted));
        c.put("residual tanh", new Case(() -> { // W2, b2 moved off their zero start so every parameter has a gradient
            Residual r = new Residual(4, 3, Activation.TANH, 1.0, new Rng(9), F64);
            r.replace(Map.of("out_weight", Tensor.randn(new Rng(10), F64, 0.5, 4, 3), "out_bias", Tensor.randn(new Rng(11), F64, 0.5, 4)),
                    Map.of());
            return r;
        }, new int[] {3, 4}, weighted));
        c.put("residual softplus zero start", new Case(() -> new Residual(4, 2, Activation.SOFTPLUS, 2.0, new Rng(12), F64),
                new int[] {3, 4}, y -> y.mul(y).sum()));
        c.put("cross-entropy", new Case(() -> new Linear(4, 3, true, new Rng(4), F64), new int[] {5, 4},
                y -> Losses.crossEntropy(y, new int[] {0, 2, 1, 1, 0})));
        c.put("mse", new Case(() -> new Linear(4, 2, true, new Rng(5), F64), new int[] {5, 4},
                y -> Losses.mse(y, Tensor.randn(new Rng(6), F64, 1.0, 5, 2))));
        c.put("mlp relu", new Case(() -> new Sequential(new Linear(4, 6, true, new Rng(7), F64), Act.relu(),
                new Linear(6, 3, true, new Rng(8), F64)), new int[] {4, 4}, y -> Losses.crossEntropy(y, new int[] {0, 1, 2, 1})));
        return c;
    }

    private static double value(Module m, Tensor x, Function<Tensor, Tensor> loss) {
        try (Autograd.Scope s = Autograd.noGrad()) {
            return loss.apply(m.forward(x)).item();
        }
    }

    static void check(String name, Case c) {
        Module m = c.layer().get();
        Tensor x0 = Tensor.randn(new Rng(99), F64, 1.0, c.inputShape());
        if (name.startsWith("maxpool")) { // keep window maxima distinct: add a ramp
            for (int i = 0; i < x0.numel(); i++) {
                x0.setFlat(i, x0.getFlat(i) + 0.01 * i);
            }
        }
        List<Tensor> targets = new ArrayList<>(m.namedParameters().values());
        Tensor x = x0.detach().requiresGrad(true);
        targets.add(x);
        // batch norm in training mode updates running statistics on every call; they do not affect the output
        Tensor[] g = Autograd.grad(c.loss().apply(m.forward(x)), targets.toArray(new Tensor[0]), false);
        double h = Tol.FD_STEP;
        int checked = 0;
        for (int t = 0; t < targets.size(); t++) {
            Tensor p = targets.get(t);
            for (int e = 0; e < p.numel(); e++) {
                double old = p.getFlat(e);
                double fp, fm;
                try (Autograd.Scope s = Autograd.noGrad()) {
                    p.setFlat(e, old + h);
                    fp = value(m, x, c.loss());
                    p.setFlat(e, old - h);
                    fm = value(m, x, c.loss());
                    p.setFlat(e, old);
                }
                double fd = (fp - fm) / (2 * h);
                assertEquals(fd, g[t].getFlat(e), Tol.GRAD_F64 * Math.max(1, Math.abs(fd)),
                        name + ": target " + t + " element " + e);
                checked++;
            }
        }
        assertEquals(true, checked > 0);
    }

    @TestFactory
    List<DynamicTest> layers() {
        List<DynamicTest> tests = new ArrayList<>();
        cases().forEach((n, c) -> tests.add(DynamicTest.dynamicTest(n, () -> check(n, c))));
        return tests;
    }
}
