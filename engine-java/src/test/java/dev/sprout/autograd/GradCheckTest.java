package dev.sprout.autograd;

import dev.sprout.backend.Activation;
import dev.sprout.tensor.DType;
import dev.sprout.tensor.Index;
import dev.sprout.tensor.Rng;
import dev.sprout.tensor.Shape;
import dev.sprout.tensor.Tensor;
import dev.sprout.testing.Tol;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The generic gradient checker: for every registered differentiable op, in f64,
 * <ol>
 *   <li>the gradient of {@code L = sum(R * f(x)) + 0.5 * sum(f(x)^2)} against central finite differences, and</li>
 *   <li>a Hessian-vector product of the same L (reverse over reverse, so the op's backward rule is itself
 *       differentiated) against central differences of gradients.</li>
 * </ol>
 * The quadratic term makes the Hessian non-zero even for linear ops, so their backward rules are exercised
 * twice. The test fails if a registered op has no case, or a case does not actually record its op.
 */
class GradCheckTest {

    /** One op's check: inputs (f64, fixed seed) and a function of them that must record the op. */
    record Case(Supplier<Tensor[]> inputs, Function<Tensor[], Tensor> f) {
    }

    private static Tensor randn(Rng rng, int... dims) {
        return Tensor.randn(rng, DType.F64, 1.0, dims);
    }

    /** Values in [lo, hi), away from kinks and singularities. */
    private static Tensor uniform(Rng rng, double lo, double hi, int... dims) {
        return Tensor.rand(rng, DType.F64, lo, hi, dims);
    }

    /** Normal values pushed at least {@code gap} away from zero (for relu, abs). */
    private static Tensor awayFromZero(Rng rng, double gap, int... dims) {
        Tensor t = randn(rng, dims);
        for (int i = 0; i < t.numel(); i++) {
            double v = t.getFlat(i);
            t.setFlat(i, v + Math.copySign(gap, v));
        }
        return t;
    }

    static Map<String, Case> cases() {
        Map<String, Case> c = new LinkedHashMap<>();
        c.put("add", new Case(() -> { Rng r = new Rng(1); return new Tensor[] {randn(r, 3, 4), randn(r, 4)}; },
                x -> x[0].add(x[1])));
        c.put("sub", new Case(() -> { Rng r = new Rng(2); return new Tensor[] {randn(r, 3, 1), randn(r, 1, 4)}; },
                x -> x[0].sub(x[1])));
        c.put("mul", new Case(() -> { Rng r = new Rng(3); return new Tensor[] {randn(r, 2, 3), randn(r, 2, 1, 3)}; },
                x -> x[0].mul(x[1])));
        c.put("div", new Case(() -> { Rng r = new Rng(4); return new Tensor[] {randn(r, 2, 3), uniform(r, 0.5, 2, 3)}; },
                x -> x[0].div(x[1])));
        c.put("neg", new Case(() -> new Tensor[] {randn(new Rng(5), 5)}, x -> x[0].neg()));
        c.put("scale", new Case(() -> new Tensor[] {randn(new Rng(6), 5)}, x -> x[0].mul(-2.5)));
        c.put("exp", new Case(() -> new Tensor[] {randn(new Rng(7), 2, 3)}, x -> x[0].exp()));
        c.put("log", new Case(() -> new Tensor[] {uniform(new Rng(8), 0.5, 3, 2, 3)}, x -> x[0].log()));
        c.put("sqrt", new Case(() -> new Tensor[] {uniform(new Rng(9), 0.5, 3, 4)}, x -> x[0].sqrt()));
        c.put("pow", new Case(() -> new Tensor[] {uniform(new Rng(10), 0.5, 2, 4)}, x -> x[0].pow(3.0).add(x[0].pow(0.5))));
        c.put("abs", new Case(() -> new Tensor[] {awayFromZero(new Rng(11), 0.1, 6)}, x -> x[0].abs()));
        c.put("sin", new Case(() -> new Tensor[] {randn(new Rng(12), 5)}, x -> x[0].sin()));
        c.put("cos", new Case(() -> new Tensor[] {randn(new Rng(13), 5)}, x -> x[0].cos()));
        // both backward layouts: row-major operands (x0, x3) and column-major views (x1^T as in a linear layer,
        // x2^T batched), whose gradients are computed transposed so that they arrive contiguous
        c.put("matmul", new Case(() -> { Rng r = new Rng(14);
                    return new Tensor[] {randn(r, 2, 3, 4), randn(r, 5, 4), randn(r, 2, 4, 3), randn(r, 4, 5)}; },
                x -> x[0].matmul(x[1].transpose(0, 1)).add(x[2].transpose(1, 2).matmul(x[3]))));
        // with and without bias; the weight also enters transposed-contiguous elsewhere in the graph
        c.put("linear", new Case(() -> { Rng r = new Rng(41);
                    return new Tensor[] {randn(r, 3, 4), randn(r, 5, 4), randn(r, 5)}; },
                x -> Ops.linear(x[0], x[1], x[2]).add(Ops.linear(x[0].mul(x[0]), x[1], null).mul(0.5))));
        // linear + ReLU in one op, with and without bias (random pre-activations: none within a step of the kink)
        c.put("linearRelu", new Case(() -> { Rng r = new Rng(43);
                    return new Tensor[] {randn(r, 3, 4), randn(r, 5, 4), randn(r, 5)}; },
                x -> Ops.linearRelu(x[0], x[1], x[2]).add(Ops.linearRelu(x[0].mul(x[0]), x[1], null).mul(0.5))));
        // x away from the kink: the mask is locally constant in x (zero gradient), linear in g
        c.put("reluMask", new Case(() -> { Rng r = new Rng(42);
                    return new Tensor[] {randn(r, 3, 5), awayFromZero(r, 0.1, 3, 5)}; },
                x -> Ops.reluMask(x[0].mul(x[1]), x[1])));
        // contiguous operands and a transposed one (copied row-major before the fused loop)
        c.put("dot", new Case(() -> { Rng r = new Rng(40);
                    return new Tensor[] {randn(r, 3, 4), randn(r, 3, 4), randn(r, 4, 3)}; },
                x -> x[0].dot(x[1]).add(x[0].transpose(0, 1).dot(x[2]).mul(0.5))));
        c.put("sum", new Case(() -> new Tensor[] {randn(new Rng(15), 2, 3, 4)}, x -> Ops.sum(x[0], new int[] {0, 2}, false)));
        c.put("max", new Case(() -> new Tensor[] {randn(new Rng(16), 3, 5)}, x -> x[0].max(1, false)));
        c.put("reshape", new Case(() -> new Tensor[] {randn(new Rng(17), 2, 6)}, x -> x[0].reshape(3, 4).mul(x[0].reshape(3, 4))));
        c.put("permute", new Case(() -> new Tensor[] {randn(new Rng(18), 2, 3, 4)}, x -> x[0].permute(2, 0, 1)));
        c.put("slice", new Case(() -> new Tensor[] {randn(new Rng(19), 4, 5)}, x -> x[0].slice(1, 1, 4)));
        c.put("embed", new Case(() -> new Tensor[] {randn(new Rng(20), 2, 3)}, x -> Ops.embed(x[0], Shape.of(2, 6), 1, 2)));
        c.put("expand", new Case(() -> new Tensor[] {randn(new Rng(21), 3, 1)}, x -> x[0].expand(2, 3, 4)));
        c.put("sumTo", new Case(() -> new Tensor[] {randn(new Rng(22), 2, 3, 4)}, x -> Ops.sumTo(x[0], Shape.of(3, 1))));
        c.put("contiguous", new Case(() -> new Tensor[] {randn(new Rng(23), 3, 4)}, x -> x[0].transpose(0, 1).contiguous()));
        Index gi = Index.of(new int[] {2, 0, 0, 1, 3, 3}, 2, 3);
        c.put("gather", new Case(() -> new Tensor[] {randn(new Rng(24), 2, 4)}, x -> x[0].gather(1, gi)));
        c.put("scatterAdd", new Case(() -> { Rng r = new Rng(25); return new Tensor[] {randn(r, 2, 4), randn(r, 2, 3)}; },
                x -> Ops.scatterAdd(x[0], 1, gi, x[1])));
        c.put("concat", new Case(() -> { Rng r = new Rng(26); return new Tensor[] {randn(r, 2, 3), randn(r, 2, 2)}; },
                x -> Ops.concat(1, x[0], x[1])));
        Tensor cond = Tensor.of(new double[] {1, 0, 0, 1, 1, 0}, 2, 3);
        c.put("where", new Case(() -> { Rng r = new Rng(27); return new Tensor[] {randn(r, 2, 3), randn(r, 3)}; },
                x -> Ops.where(cond, x[0], x[1])));
        dev.sprout.backend.ConvGeometry cg = dev.sprout.backend.ConvGeometry.square(2, 5, 4, 3, 2, 1);
        c.put("im2col", new Case(() -> new Tensor[] {randn(new Rng(28), 2, 2, 5, 4)}, x -> Ops.im2col(x[0], cg)));
        c.put("col2im", new Case(() -> new Tensor[] {randn(new Rng(29), 2, cg.colRows(), cg.colCols())},
                x -> Ops.col2im(x[0], cg)));
        c.put("conv2d", new Case(() -> { Rng r = new Rng(30); return new Tensor[] {randn(r, 2, 2, 5, 4), randn(r, 3, 2, 3, 3),
                randn(r, 3)}; }, x -> ConvOps.conv2d(x[0], x[1], x[2], cg)));
        // distinct values with gaps well above the finite-difference step, so no window has a tie
        c.put("maxpool2d", new Case(() -> {
            Tensor t = randn(new Rng(31), 2, 2, 5, 6);
            for (int i = 0; i < t.numel(); i++) {
                t.setFlat(i, t.getFlat(i) + 0.05 * i);
            }
            return new Tensor[] {t};
        }, x -> ConvOps.maxPool2d(x[0], 2, 2).add(ConvOps.maxPool2d(x[0], 3, 2).sum())));
        // random convolution outputs: no pooling window has a near-tie at the finite-difference step
        dev.sprout.backend.ConvGeometry cs = dev.sprout.backend.ConvGeometry.square(2, 6, 7, 3, 1, 1);
        c.put("conv2dMaxPool", new Case(() -> { Rng r = new Rng(32); return new Tensor[] {randn(r, 2, 2, 6, 7),
                randn(r, 3, 2, 3, 3), randn(r, 3)}; }, x -> ConvOps.conv2dMaxPool(x[0], x[1], x[2], cs, 2, 2)));
        c.put("conv2dRelu", new Case(() -> { Rng r = new Rng(33); return new Tensor[] {randn(r, 2, 2, 5, 4), randn(r, 3, 2, 3, 3),
                randn(r, 3)}; }, x -> ConvOps.conv2dRelu(x[0], x[1], x[2], cg)));
        long seed = 100;
        for (Activation f : Activation.values()) {
            if (f == Activation.IDENTITY) {
                continue;
            }
            // sigma, sigma' and sigma'' together: the HVP then differentiates up to the fourth derivative
            long s = seed++;
            double beta = f == Activation.SOFTPLUS ? 2.0 : 1.0;
            c.put(Ops.activationName(f), new Case(
                    () -> new Tensor[] {f == Activation.RELU ? awayFromZero(new Rng(s), 0.1, 7) : randn(new Rng(s), 7)},
                    x -> Ops.activation(x[0], f, 0, beta).add(Ops.activation(x[0], f, 1, beta).mul(0.7))
                            .add(Ops.activation(x[0], f, 2, beta).mul(0.4))));
        }
        return c;
    }

    private static Tensor[] leaves(Tensor[] xs) {
        Tensor[] out = new Tensor[xs.length];
        for (int i = 0; i < xs.length; i++) {
            out[i] = xs[i].detach().requiresGrad(true);
        }
        return out;
    }

    /** L = sum(R * f(x)) + 0.5 sum(f(x)^2), R fixed by the output shape. */
    private static Function<Tensor[], Tensor> loss(Function<Tensor[], Tensor> f) {
        return x -> {
            Tensor y = f.apply(x);
            Tensor r = Tensor.randn(new Rng(999), DType.F64, 1.0, y.shape().toArray());
            return y.mul(r).sum().add(y.mul(y).sum().mul(0.5));
        };
    }

    private static double eval(Function<Tensor[], Tensor> l, Tensor[] xs) {
        try (Autograd.Scope s = Autograd.noGrad()) {
            return l.apply(xs).item();
        }
    }

    private static Tensor[] copies(Tensor[] xs) {
        Tensor[] c = new Tensor[xs.length];
        for (int i = 0; i < xs.length; i++) {
            c[i] = xs[i].to(DType.F64);
        }
        return c;
    }

    private static boolean records(Tensor t, String op, Set<Tensor> seen) {
        if (t.gradFn() == null || !seen.add(t)) {
            return false;
        }
        if (t.gradFn().op().equals(op)) {
            return true;
        }
        for (Tensor in : t.gradFn().inputs()) {
            if (records(in, op, seen)) {
                return true;
            }
        }
        return false;
    }

    static void check(String op, Case c) {
        Tensor[] x0 = c.inputs().get();
        Function<Tensor[], Tensor> l = loss(c.f());
        Tensor[] xs = leaves(x0);
        Tensor out = c.f().apply(xs);
        assertTrue(records(out, op, java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>())),
                "case for " + op + " does not record that op");

        // 1. gradient against central differences
        Tensor[] g = Autograd.grad(l.apply(xs), xs, false);
        double h = Tol.FD_STEP;
        for (int i = 0; i < x0.length; i++) {
            for (int e = 0; e < x0[i].numel(); e++) {
                Tensor[] plus = copies(x0), minus = copies(x0);
                plus[i].setFlat(e, x0[i].getFlat(e) + h);
                minus[i].setFlat(e, x0[i].getFlat(e) - h);
                double fd = (eval(l, plus) - eval(l, minus)) / (2 * h);
                double an = g[i].getFlat(e);
                assertEquals(fd, an, Tol.GRAD_F64 * Math.max(1, Math.abs(fd)),
                        op + ": d/dx" + i + "[" + e + "] analytic " + an + " vs finite difference " + fd);
            }
        }

        // 2. Hessian-vector product against central differences of gradients
        Rng rv = new Rng(4242);
        Tensor[] v = new Tensor[x0.length];
        for (int i = 0; i < x0.length; i++) {
            v[i] = Tensor.randn(rv, DType.F64, 1.0, x0[i].shape().toArray());
        }
        Tensor[] hv = Autograd.hvp(l, leaves(x0), v);
        Tensor[] plus = copies(x0), minus = copies(x0);
        for (int i = 0; i < x0.length; i++) {
            plus[i].addScaled_(v[i], h);
            minus[i].addScaled_(v[i], -h);
        }
        Tensor[] pl = leaves(plus), mi = leaves(minus);
        Tensor[] gp = Autograd.grad(l.apply(pl), pl, false);
        Tensor[] gm = Autograd.grad(l.apply(mi), mi, false);
        for (int i = 0; i < x0.length; i++) {
            for (int e = 0; e < x0[i].numel(); e++) {
                double fd = (gp[i].getFlat(e) - gm[i].getFlat(e)) / (2 * h);
                double an = hv[i].getFlat(e);
                assertEquals(fd, an, Tol.HVP_F64 * Math.max(1, Math.abs(fd)),
                        op + ": (Hv)_" + i + "[" + e + "] reverse-over-reverse " + an + " vs finite difference " + fd);
            }
        }
    }

    @TestFactory
    List<DynamicTest> everyRegisteredOp() {
        Map<String, Case> cases = cases();
        List<DynamicTest> tests = new ArrayList<>();
        for (String op : Ops.REGISTERED) {
            Case c = cases.get(op);
            tests.add(DynamicTest.dynamicTest(op, () -> {
                if (c == null) {
                    fail("registered op " + op + " has no gradient-check case");
                }
                check(op, c);
            }));
        }
        return tests;
    }

    @Test
    void checkerCoversEveryRegisteredOpAndNothingElse() {
        Set<String> caseNames = new HashSet<>(cases().keySet());
        assertEquals(Ops.REGISTERED, caseNames, "gradient-check cases must match the registered ops exactly");
        // 37 structural/arithmetic ops + 5 activations (each with its derivative order as a parameter)
        assertEquals(42, Ops.REGISTERED.size(), "number of registered differentiable ops");
    }
}
