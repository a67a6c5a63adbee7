package dev.sprout.autograd;

import dev.sprout.backend.Activation;
import dev.sprout.nn.Pool2d;
import dev.sprout.tensor.DType;
import dev.sprout.tensor.Rng;
import dev.sprout.tensor.Tensor;
import dev.sprout.testing.Tol;
import org.junit.jupiter.api.Test;

import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * {@link FusedOps} against the {@link Ops} chains they replace (values and gradients, f32 and f64) and their
 * gradients against central finite differences in f64.
 */
class FusedOpsTest {
    private static final double[] SCALE = {0.7, 1.3, -0.4}, SHIFT = {0.1, -0.2, 0.05};

    private static Tensor rand(Rng r, DType dt, int... dims) {
        return Tensor.randn(r, dt, 1.0, dims);
    }

    private static Tensor perChannel(double[] v, DType dt, int rank) {
        int[] shape = new int[rank - 1];
        java.util.Arrays.fill(shape, 1);
        shape[0] = v.length;
        return Tensor.of(v).to(dt).reshape(shape);
    }

    /** The unfused chain: 0.5 (f(BN(z + g p)) + f(BN(z - g p))). */
    private static Tensor splitReference(Tensor z, Tensor p, Tensor gate, Activation f, double beta) {
        int rank = z.rank();
        Tensor a = perChannel(SCALE, z.dtype(), rank), b = perChannel(SHIFT, z.dtype(), rank);
        Tensor gp = p.mul(gate.reshape(perChannel(new double[3], z.dtype(), rank).shape().toArray()));
        Tensor plus = Ops.activation(z.add(gp).mul(a).add(b), f, 0, beta);
        Tensor minus = Ops.activation(z.sub(gp).mul(a).add(b), f, 0, beta);
        return plus.add(minus).mul(0.5);
    }

    private static Tensor gatedReference(Tensor x, Tensor gate, double a, Activation f, double beta) {
        return Ops.activation(x.mul(a), f, 0, beta).mul(gate.reshape(perChannel(new double[3], x.dtype(), x.rank()).shape().toArray()));
    }

    /** Values and gradients of {@code sum(R * f(xs))} of the fused op and its reference agree. */
    private static void compare(Tensor[] xs, Function<Tensor[], Tensor> fused, Function<Tensor[], Tensor> ref, double tol) {
        Tensor[] a = leaves(xs), b = leaves(xs);
        Tensor of = fused.apply(a), or = ref.apply(b);
        Tol.assertClose(or, of, tol, "value");
        Tensor weights = Tensor.randn(new Rng(99), of.dtype(), 1.0, of.shape().toArray());
        Tensor[] ga = Autograd.grad(of.mul(weights).sum(), a, false), gb = Autograd.grad(or.mul(weights).sum(), b, false);
        for (int i = 0; i < xs.length; i++) {
            Tol.assertClose(gb[i], ga[i], tol * 10, "gradient " + i);
        }
    }

    private static Tensor[] leaves(Tensor[] xs) {
        Tensor[] out = new Tensor[xs.length];
        for (int i = 0; i < xs.length; i++) {
            out[i] = xs[i].detach().contiguousData().mul(1.0).detach().requiresGrad(true);
        }
        return out;
    }

    @Test
    void splitActivationMatchesTheOpsChain() {
        for (DType dt : new DType[] {DType.F64, DType.F32}) {
            for (Activation f : new Activation[] {Activation.RELU, Activation.TANH, Activation.SOFTPLUS}) {
                for (int[] shape : new int[][] {{4, 3}, {2, 3, 4, 5}}) {
                    Rng r = new Rng(1);
                    Tensor[] xs = {rand(r, dt, shape), rand(r, dt, shape), rand(r, dt, 3)};
                    compare(xs, t -> FusedOps.splitActivation(t[0], t[1], t[2], SCALE, SHIFT, f, 2.0),
                            t -> splitReference(t[0], t[1], t[2], f, 2.0), dt == DType.F64 ? 1e-12 : 1e-5);
                }
            }
        }
    }

    /** Gradients when only some inputs require them (the scoring pass: only the gates). */
    @Test
    void gradientsForASubsetOfTheInputs() {
        for (DType dt : new DType[] {DType.F32, DType.F64}) {
            for (boolean[] need : new boolean[][] {{false, false, true}, {false, true, true}, {true, false, true}}) {
                Rng r = new Rng(8);
                Tensor[] xs = {rand(r, dt, 2, 3, 5), rand(r, dt, 2, 3, 5), rand(r, dt, 3)};
                Tensor[] a = leaves(xs), b = leaves(xs);
                for (int i = 0; i < 3; i++) {
                    a[i].requiresGrad(need[i]);
                    b[i].requiresGrad(need[i]);
                }
                Tensor of = FusedOps.splitActivation(a[0], a[1], a[2], SCALE, SHIFT, Activation.RELU, 1.0);
                Tensor or = splitReference(b[0], b[1], b[2], Activation.RELU, 1.0);
                Tensor gn = FusedOps.gatedActivation(a[0], a[2], 0.9, Activation.RELU, 1.0);
                Tensor gr = gatedReference(b[0], b[2], 0.9, Activation.RELU, 1.0);
                Tensor w = Tensor.randn(new Rng(9), dt, 1.0, 2, 3, 5);
                Tensor[] ga = Autograd.grad(of.add(gn).mul(w).sum(), a, false), gb = Autograd.grad(or.add(gr).mul(w).sum(), b, false);
                for (int i = 0; i < 3; i++) {
                    Tol.assertClose(gb[i], ga[i], dt == DType.F64 ? 1e-11 : 1e-4, "gradient " + i);
                }
            }
        }
    }

    @Test
    void splitActivationWithoutDisplacementIsTheAffineActivation() {
        for (DType dt : new DType[] {DType.F64, DType.F32}) {
            Rng r = new Rng(2);
            Tensor[] xs = {rand(r, dt, 2, 3, 4)};
            compare(xs, t -> FusedOps.splitActivation(t[0], null, null, SCALE, SHIFT, Activation.RELU, 1.0),
                    t -> Ops.activation(t[0].mul(perChannel(SCALE, dt, 3)).add(perChannel(SHIFT, dt, 3)), Activation.RELU, 0, 1.0),
                    dt == DType.F64 ? 1e-12 : 1e-5);
        }
    }

    @Test
    void gatedActivationMatchesTheOpsChain() {
        for (DType dt : new DType[] {DType.F64, DType.F32}) {
            for (Activation f : new Activation[] {Activation.RELU, Activation.SIGMOID}) {
                Rng r = new Rng(3);
                Tensor[] xs = {rand(r, dt, 2, 3, 2, 3), rand(r, dt, 3)};
                compare(xs, t -> FusedOps.gatedActivation(t[0], t[1], 0.9, f, 1.0), t -> gatedReference(t[0], t[1], 0.9, f, 1.0),
                        dt == DType.F64 ? 1e-12 : 1e-5);
            }
        }
    }

    /** Central finite differences of {@code sum(R * f(xs))} in f64 for every input. */
    private static void finiteDifferences(Tensor[] xs, Function<Tensor[], Tensor> f) {
        Tensor[] a = leaves(xs);
        Tensor out = f.apply(a);
        Tensor weights = Tensor.randn(new Rng(7), DType.F64, 1.0, out.shape().toArray());
        Tensor[] g = Autograd.grad(out.mul(weights).sum(), a, false);
        double h = 1e-6;
        for (int i = 0; i < xs.length; i++) {
            for (int j = 0; j < xs[i].numel(); j++) {
                Tensor[] p = leaves(xs), m = leaves(xs);
                p[i].detach().setFlat(j, xs[i].getFlat(j) + h);
                m[i].detach().setFlat(j, xs[i].getFlat(j) - h);
                double fd;
                try (Autograd.Scope s = Autograd.noGrad()) {
                    fd = (f.apply(p).mul(weights).sum().item() - f.apply(m).mul(weights).sum().item()) / (2 * h);
                }
                assertEquals(fd, g[i].getFlat(j), 1e-6 * (1 + Math.abs(fd)), "input " + i + " element " + j);
            }
        }
    }

    @Test
    void gradientsMatchFiniteDifferences() {
        Rng r = new Rng(5);
        finiteDifferences(new Tensor[] {rand(r, DType.F64, 2, 3, 3), rand(r, DType.F64, 2, 3, 3), rand(r, DType.F64, 3)},
                t -> FusedOps.splitActivation(t[0], t[1], t[2], SCALE, SHIFT, Activation.TANH, 1.0));
        finiteDifferences(new Tensor[] {rand(r, DType.F64, 2, 3, 4), rand(r, DType.F64, 3)},
                t -> FusedOps.gatedActivation(t[0], t[1], 0.8, Activation.SOFTPLUS, 3.0));
    }

    @Test
    void secondOrderIsRefused() {
        Tensor x = rand(new Rng(6), DType.F64, 2, 3).requiresGrad(true), g = Tensor.ones(DType.F64, 3);
        Tensor y = FusedOps.gatedActivation(x, g, 1.0, Activation.TANH, 1.0).sum();
        assertThrows(UnsupportedOperationException.class, () -> Autograd.grad(y, new Tensor[] {x}, true));
        assertArrayEquals(new int[] {2, 3}, Autograd.grad(y, new Tensor[] {x}, false)[0].shape().toArray());
    }
}
