package dev.sprout.autograd;

import dev.sprout.tensor.DType;
import dev.sprout.tensor.Rng;
import dev.sprout.tensor.Tensor;
import dev.sprout.testing.Tol;
import org.junit.jupiter.api.Test;

import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Hessian-vector and Jacobian-vector products against explicit Hessians, closed forms and finite differences. */
class HvpTest {

    private static Tensor f64(Rng r, int... dims) {
        return Tensor.randn(r, DType.F64, 1.0, dims);
    }

    /** Symmetric A: 0.5 x^T A x + b^T x has Hessian exactly A. */
    @Test
    void quadraticFormHessianIsTheMatrix() {
        Rng r = new Rng(11);
        int n = 6;
        Tensor m = f64(r, n, n);
        Tensor a = m.add(m.transpose(0, 1)).detach();
        Tensor b = f64(r, n, 1);
        Function<Tensor[], Tensor> f = p -> {
            Tensor x = p[0];
            return x.transpose(0, 1).matmul(a).matmul(x).mul(0.5).add(b.transpose(0, 1).matmul(x)).sum();
        };
        Tensor x = f64(r, n, 1);
        for (int j = 0; j < n; j++) {
            Tensor e = Tensor.zeros(DType.F64, n, 1);
            e.set(1.0, j, 0);
            Tensor col = Autograd.hvp(f, new Tensor[] {x}, new Tensor[] {e})[0];
            for (int i = 0; i < n; i++) {
                assertEquals(a.get(i, j), col.get(i, 0), Tol.F64 * 10, "H[" + i + "," + j + "]");
            }
        }
    }

    /** Loss of a 2-layer tanh network as a function of a flat parameter vector (so the Hessian is a matrix). */
    private static Function<Tensor[], Tensor> tanhNet(Tensor xs, Tensor ys, int in, int hidden, int out) {
        return p -> {
            Tensor theta = p[0];
            int n1 = hidden * in, n2 = out * hidden;
            Tensor w1 = theta.slice(0, 0, n1).reshape(hidden, in);
            Tensor w2 = theta.slice(0, n1, n1 + n2).reshape(out, hidden);
            Tensor h = xs.matmul(w1.transpose(0, 1)).tanh();
            Tensor pred = h.matmul(w2.transpose(0, 1));
            Tensor d = pred.sub(ys);
            return d.mul(d).mean();
        };
    }

    @Test
    void tanhNetworkHvpMatchesExplicitHessianAndFiniteDifferences() {
        Rng r = new Rng(12);
        int in = 3, hidden = 4, out = 2, samples = 5;
        Tensor xs = f64(r, samples, in), ys = f64(r, samples, out);
        Function<Tensor[], Tensor> f = tanhNet(xs, ys, in, hidden, out);
        int p = hidden * in + out * hidden;
        Tensor theta = Tensor.randn(r, DType.F64, 0.7, p);

        // explicit Hessian by central differences of gradients, one column per unit vector
        double h = Tol.FD_STEP;
        double[][] hess = new double[p][p];
        for (int j = 0; j < p; j++) {
            Tensor plus = theta.to(DType.F64), minus = theta.to(DType.F64);
            plus.setFlat(j, theta.getFlat(j) + h);
            minus.setFlat(j, theta.getFlat(j) - h);
            Tensor gp = grad(f, plus), gm = grad(f, minus);
            for (int i = 0; i < p; i++) {
                hess[i][j] = (gp.getFlat(i) - gm.getFlat(i)) / (2 * h);
            }
        }
        // the Hessian is symmetric
        for (int i = 0; i < p; i++) {
            for (int j = 0; j < i; j++) {
                assertEquals(hess[i][j], hess[j][i], Tol.HVP_F64, "finite-difference Hessian symmetric at " + i + "," + j);
            }
        }
        // H v for a random v equals the explicit product
        Tensor v = Tensor.randn(r, DType.F64, 1.0, p);
        Tensor hv = Autograd.hvp(f, new Tensor[] {theta}, new Tensor[] {v})[0];
        for (int i = 0; i < p; i++) {
            double expect = 0;
            for (int j = 0; j < p; j++) {
                expect += hess[i][j] * v.getFlat(j);
            }
            assertEquals(expect, hv.getFlat(i), Tol.HVP_F64 * Math.max(1, Math.abs(expect)), "(Hv)[" + i + "]");
        }
        // and the HVP of each unit vector is the Hessian's column
        for (int j = 0; j < p; j += 5) {
            Tensor e = Tensor.zeros(DType.F64, p);
            e.setFlat(j, 1);
            Tensor col = Autograd.hvp(f, new Tensor[] {theta}, new Tensor[] {e})[0];
            for (int i = 0; i < p; i++) {
                assertEquals(hess[i][j], col.getFlat(i), Tol.HVP_F64 * Math.max(1, Math.abs(hess[i][j])), "H[" + i + "," + j + "]");
            }
        }
    }

    private static Tensor grad(Function<Tensor[], Tensor> f, Tensor at) {
        Tensor leaf = at.detach().requiresGrad(true);
        return Autograd.grad(f.apply(new Tensor[] {leaf}), new Tensor[] {leaf}, false)[0];
    }

    @Test
    void jvpMatchesDirectionalFiniteDifference() {
        Rng r = new Rng(13);
        Tensor w = f64(r, 4, 3);
        Function<Tensor[], Tensor> f = p -> p[0].matmul(w.transpose(0, 1)).tanh().mul(p[1]);
        Tensor x = f64(r, 2, 3), s = f64(r, 2, 4);
        Tensor vx = f64(r, 2, 3), vs = f64(r, 2, 4);
        Tensor[] res = Autograd.jvp(f, new Tensor[] {x, s}, new Tensor[] {vx, vs});
        double h = Tol.FD_STEP;
        Tensor yp, ym;
        try (Autograd.Scope sc = Autograd.noGrad()) {
            yp = f.apply(new Tensor[] {x.add(vx.mul(h)), s.add(vs.mul(h))});
            ym = f.apply(new Tensor[] {x.sub(vx.mul(h)), s.sub(vs.mul(h))});
            Tensor y = f.apply(new Tensor[] {x, s});
            for (int i = 0; i < y.numel(); i++) {
                assertEquals(y.getFlat(i), res[0].getFlat(i), Tol.F64, "value");
            }
        }
        for (int i = 0; i < yp.numel(); i++) {
            double fd = (yp.getFlat(i) - ym.getFlat(i)) / (2 * h);
            assertEquals(fd, res[1].getFlat(i), Tol.GRAD_F64 * Math.max(1, Math.abs(fd)), "(Jv)[" + i + "]");
        }
    }

    /**
     * The HVP seeds the second pass with the directions (a vector-Jacobian product of the gradients); it must equal
     * the derivative of the explicit inner product sum_i <g_i, v_i>, for several parameters at once, one of which
     * (b) enters the loss linearly and one (c) not at all; and no result may be the caller's direction itself.
     */
    @Test
    void hvpEqualsTheGradientOfTheInnerProductWithTheDirections() {
        Rng r = new Rng(21);
        Tensor xs = f64(r, 5, 3), w = f64(r, 4, 3), b = f64(r, 4), c = f64(r, 2);
        Function<Tensor[], Tensor> f = p -> xs.matmul(p[0].transpose(0, 1)).tanh().sum().add(p[1].mul(p[1].detach()).sum())
                .add(p[0].mul(p[0]).sum().mul(0.25));
        Tensor[] params = {w, b, c};
        Tensor[] v = {f64(r, 4, 3), f64(r, 4), f64(r, 2)};
        Tensor[] hv = Autograd.hvp(f, params, v);
        Tensor[] leaves = {w.detach().requiresGrad(true), b.detach().requiresGrad(true), c.detach().requiresGrad(true)};
        Tensor[] ref;
        try (Autograd.Scope s = Autograd.enableGrad()) {
            Tensor[] g = Autograd.grad(new Tensor[] {f.apply(leaves)}, null, leaves, true);
            Tensor dot = Ops.dot(g[0], v[0]);
            ref = Autograd.grad(new Tensor[] {dot}, null, leaves, false);
        }
        for (int k = 0; k < 3; k++) {
            for (int i = 0; i < ref[k].numel(); i++) {
                assertEquals(ref[k].getFlat(i), hv[k].getFlat(i), 1e-12 * Math.max(1, Math.abs(ref[k].getFlat(i))), "param " + k + "[" + i + "]");
            }
            for (Tensor d : v) {
                assertEquals(false, hv[k].storage() == d.storage(), "result " + k + " shares the direction's storage");
            }
        }
        // b enters linearly (its gradient is a constant): its H v is zero; c does not enter: zero too
        for (int i = 0; i < 4; i++) {
            assertEquals(0.0, hv[1].getFlat(i), 0.0);
        }
        assertEquals(0.0, hv[2].getFlat(0), 0.0);
        // a gradient that is the identity of a parameter: f = 0.5 |p|^2 has g = p, so H v = v (a copy, not v)
        Tensor x = f64(r, 3), dir = f64(r, 3);
        Tensor id = Autograd.hvp(p -> p[0].mul(p[0]).sum().mul(0.5), new Tensor[] {x}, new Tensor[] {dir})[0];
        for (int i = 0; i < 3; i++) {
            assertEquals(dir.getFlat(i), id.getFlat(i), 1e-15);
        }
        assertEquals(false, id.storage() == dir.storage());
    }

    /**
     * Dense layers inside {@link Autograd#hvp} record their weight gradients without computing them (the values are
     * never read): H v of a two-layer ReLU/tanh network with a shared weight against the gradient of the inner product
     * built from real first-pass gradients; and Autograd.grad with createGraph outside hvp still returns the values.
     */
    @Test
    void denseLayerHvpSkipsOnlyUnreadGradientValues() {
        Rng r = new Rng(23);
        Tensor xs = f64(r, 6, 5), w1 = f64(r, 4, 5), b1 = f64(r, 4), w2 = f64(r, 4, 4), w3 = f64(r, 3, 4);
        Function<Tensor[], Tensor> f = p -> {
            Tensor h = Ops.linear(xs, p[0], p[1]).relu();
            Tensor h2 = Ops.linear(h, p[2], null).tanh();
            h2 = Ops.linear(h2, p[2], null).tanh(); // p[2] used twice
            return Ops.linear(h2, p[3], null).mul(Ops.linear(h2, p[3], null)).sum();
        };
        Tensor[] params = {w1, b1, w2, w3};
        Tensor[] v = {f64(r, 4, 5), f64(r, 4), f64(r, 4, 4), f64(r, 3, 4)};
        Tensor[] hv = Autograd.hvp(f, params, v);
        Tensor[] leaves = new Tensor[params.length];
        for (int i = 0; i < params.length; i++) {
            leaves[i] = params[i].detach().requiresGrad(true);
        }
        Tensor[] ref;
        try (Autograd.Scope s = Autograd.enableGrad()) {
            Tensor[] g = Autograd.grad(new Tensor[] {f.apply(leaves)}, null, leaves, true);
            // outside hvp the first-pass gradients are real: compare with a first-order pass
            Tensor[] g1 = Autograd.grad(f.apply(leaves), leaves, false);
            for (int k = 0; k < g.length; k++) {
                Tol.assertClose(g1[k], g[k], Tol.F64, "createGraph gradient " + k);
            }
            Tensor dot = Ops.dot(g[0], v[0]).add(Ops.dot(g[1], v[1])).add(Ops.dot(g[2], v[2])).add(Ops.dot(g[3], v[3]));
            ref = Autograd.grad(new Tensor[] {dot}, null, leaves, false);
        }
        for (int k = 0; k < params.length; k++) {
            Tol.assertClose(ref[k], hv[k], Tol.F64, "H v of param " + k);
        }
        assertEquals(false, Autograd.gradientValueUnused(w1), "the hvp-only mode ends with hvp");
    }

    @Test
    void hvpRejectsMismatchedDirections() {
        Tensor x = Tensor.zeros(DType.F64, 3);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Autograd.hvp(p -> p[0].sum(), new Tensor[] {x}, new Tensor[] {Tensor.zeros(DType.F64, 4)}));
        assertEquals(true, e.getMessage().contains("f64[4]") && e.getMessage().contains("f64[3]"), e.getMessage());
    }
}
