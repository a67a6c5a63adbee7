package dev.sprout.autograd;

import dev.sprout.backend.Activation;
import dev.sprout.nn.Act;
import dev.sprout.nn.Linear;
import dev.sprout.nn.Losses;
import dev.sprout.nn.Sequential;
import dev.sprout.optim.SGD;
import dev.sprout.tensor.DType;
import dev.sprout.tensor.Kernels;
import dev.sprout.tensor.Rng;
import dev.sprout.tensor.ShapeException;
import dev.sprout.tensor.Tensor;
import dev.sprout.testing.Tol;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The fused dense-layer op ({@link Ops#linear}: bias as the gemm's start), the one-buffer ReLU gradient rule
 * ({@link Ops#reluMask}) and the reuse of parameter-gradient storage kept by {@link Tensor#clearGrad()} in
 * {@link Autograd#backward}. Gradients against finite differences are in {@link GradCheckTest}; here: agreement with
 * the unfused composition, storage identity, and that results handed to callers never share that storage.
 */
class LinearOpTest {

    @Test
    void forwardMatchesProductPlusBias() {
        Rng r = new Rng(1);
        for (DType dt : new DType[] {DType.F64, DType.F32}) {
            double tol = dt == DType.F64 ? Tol.F64 : Tol.F32;
            // k = 300 > one KC block of the native gemm: the bias is accumulated across several blocks
            Tensor x = Tensor.randn(r, dt, 1.0, 37, 300), w = Tensor.randn(r, dt, 1.0, 19, 300), b = Tensor.randn(r, dt, 1.0, 19);
            try (Autograd.Scope s = Autograd.noGrad()) {
                Tol.assertClose(x.matmul(w.transpose(0, 1)).add(b), Ops.linear(x, w, b), tol, dt + " with bias");
                Tol.assertClose(x.matmul(w.transpose(0, 1)), Ops.linear(x, w, null), tol, dt + " without bias");
            }
        }
    }

    @Test
    void gradientsMatchTheUnfusedComposition() {
        Rng r = new Rng(2);
        Tensor x = Tensor.randn(r, DType.F64, 1.0, 6, 5).requiresGrad(true);
        Tensor w = Tensor.randn(r, DType.F64, 1.0, 4, 5).requiresGrad(true);
        Tensor b = Tensor.randn(r, DType.F64, 1.0, 4).requiresGrad(true);
        Tensor c = Tensor.randn(r, DType.F64, 1.0, 6, 4);
        Tensor[] fused = Autograd.grad(Ops.linear(x, w, b).mul(c).sum(), new Tensor[] {x, w, b}, false);
        Tensor[] plain = Autograd.grad(x.matmul(w.transpose(0, 1)).add(b).mul(c).sum(), new Tensor[] {x, w, b}, false);
        for (int i = 0; i < 3; i++) {
            Tol.assertClose(plain[i], fused[i], Tol.F64, "gradient " + i);
            assertTrue(fused[i].isContiguous(), "gradient " + i + " contiguous");
        }
    }

    /** The fused linear + ReLU op gives the bits of the two ops in a row: values, gradients, HVPs, NaN kept. */
    @Test
    void linearReluIsLinearThenReluBitForBit() {
        Rng r = new Rng(7);
        for (DType dt : new DType[] {DType.F32, DType.F64}) {
            Tensor x0 = Tensor.randn(r, dt, 1.0, 9, 300), w0 = Tensor.randn(r, dt, 1.0, 37, 300), b0 = Tensor.randn(r, dt, 1.0, 37);
            x0.setFlat(5, Double.NaN);  // row 0: NaN through the product, kept by the ReLU
            Tensor c = Tensor.randn(r, dt, 1.0, 9, 37);
            Tensor[] a = {x0.detach().requiresGrad(true), w0.detach().requiresGrad(true), b0.detach().requiresGrad(true)};
            Tensor[] p = {x0.detach().requiresGrad(true), w0.detach().requiresGrad(true), b0.detach().requiresGrad(true)};
            Tensor fused = Ops.linearRelu(a[0], a[1], a[2]);
            Tensor plain = Ops.activation(Ops.linear(p[0], p[1], p[2]), Activation.RELU, 0, 0);
            assertArrayEquals(plain.toDoubleArray(), fused.toDoubleArray(), dt + " values");
            assertTrue(Double.isNaN(fused.getFlat(0)), dt + ": a NaN pre-activation stays NaN");
            assertEquals("linearRelu", fused.gradFn().op());
            Tensor[] ga = Autograd.grad(fused.mul(c).sum(), a, false), gp = Autograd.grad(plain.mul(c).sum(), p, false);
            for (int i = 0; i < 3; i++) {
                assertArrayEquals(gp[i].toDoubleArray(), ga[i].toDoubleArray(), dt + " gradient " + i);
            }
        }
        // second order (HVP), where the mask is a constant of the recorded backward
        Tensor x = Tensor.randn(r, DType.F64, 1.0, 6, 5), w = Tensor.randn(r, DType.F64, 1.0, 4, 5), b = Tensor.randn(r, DType.F64, 1.0, 4);
        Tensor c = Tensor.randn(r, DType.F64, 1.0, 6, 4);
        Tensor[] v = {Tensor.randn(r, DType.F64, 1.0, 4, 5), Tensor.randn(r, DType.F64, 1.0, 4)};
        java.util.function.Function<Tensor[], Tensor> lf = ps -> Ops.linearRelu(x, ps[0], ps[1]).mul(c).sum().pow(2.0);
        java.util.function.Function<Tensor[], Tensor> lp = ps -> Ops.activation(Ops.linear(x, ps[0], ps[1]), Activation.RELU, 0, 0)
                .mul(c).sum().pow(2.0);
        Tensor[] hf = Autograd.hvp(lf, new Tensor[] {w.detach().requiresGrad(true), b.detach().requiresGrad(true)}, v);
        Tensor[] hp = Autograd.hvp(lp, new Tensor[] {w.detach().requiresGrad(true), b.detach().requiresGrad(true)}, v);
        for (int i = 0; i < 2; i++) {
            assertArrayEquals(hp[i].toDoubleArray(), hf[i].toDoubleArray(), "HVP " + i);
        }
    }

    /** Sequential fuses a linear layer with a following plain ReLU (not with relu1), with the same results. */
    @Test
    void sequentialFusesLinearAndPlainRelu() {
        Rng r = new Rng(8);
        Linear l1 = new Linear(6, 5, true, r, DType.F32), l2 = new Linear(6, 5, true, r, DType.F32);
        Tensor x = Tensor.randn(r, DType.F32, 1.0, 4, 6);
        Tensor y = new Sequential(l1, Act.relu()).forward(x);
        assertEquals("linearRelu", y.gradFn().op());
        assertArrayEquals(Act.relu().forward(l1.forward(x)).toDoubleArray(), y.toDoubleArray());
        Tensor y1 = new Sequential(l2, Act.relu1()).forward(x);
        assertTrue(!y1.gradFn().op().equals("linearRelu"), "relu1 (slope 1 at zero) is not fused: " + y1.gradFn().op());
        // a rank-3 input keeps its leading axes
        Tensor x3 = Tensor.randn(r, DType.F32, 1.0, 2, 3, 6);
        assertArrayEquals(new int[] {2, 3, 5}, new Sequential(l1, Act.relu()).forward(x3).shape().toArray());
    }

    @Test
    void badShapesAreRefusedWithTheShapes() {
        Rng r = new Rng(3);
        Tensor x = Tensor.randn(r, 4, 5), w = Tensor.randn(r, 3, 6), b = Tensor.randn(r, 3);
        ShapeException e = assertThrows(ShapeException.class, () -> Ops.linear(x, w, b));
        assertTrue(e.getMessage().contains("[4, 5]") && e.getMessage().contains("[3, 6]"), e.getMessage());
        assertThrows(ShapeException.class, () -> Ops.linear(x, Tensor.randn(r, 3, 5), Tensor.randn(r, 4)));
        assertThrows(ShapeException.class, () -> Kernels.matmul(x, Tensor.randn(r, 5, 3), null, Tensor.zeros(DType.F32, 4, 4)));
        assertThrows(ShapeException.class, () -> Kernels.matmul(x, Tensor.randn(r, 5, 3), Tensor.randn(r, 4), null));
    }

    @Test
    void matmulIntoWritesTheGivenTensorAndIgnoresItsOldContents() {
        Rng r = new Rng(4);
        Tensor a = Tensor.randn(r, 7, 9), b = Tensor.randn(r, 9, 5);
        Tensor into = Tensor.full(DType.F32, Float.NaN, 7, 5);
        Tensor out = Kernels.matmul(a, b, null, into);
        assertSame(into, out);
        assertArrayEquals(Kernels.matmul(a, b).toFloatArray(), out.toFloatArray());
    }

    @Test
    void reluMaskEqualsTheProductWithTheDerivative() {
        float[] xs = {-2f, -0f, 0f, 1e-30f, 3f, Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 0.5f, -1f};
        float[] gs = {1f, 2f, 3f, 4f, Float.POSITIVE_INFINITY, 6f, 7f, 8f, Float.NaN, Float.NEGATIVE_INFINITY};
        Rng r = new Rng(5);
        for (DType dt : new DType[] {DType.F32, DType.F64}) {
            // special values first, then a long random tail (the vectorised loop's body)
            Tensor x = Tensor.randn(r, dt, 1.0, 1000), g = Tensor.randn(r, dt, 1.0, 1000);
            for (int i = 0; i < xs.length; i++) {
                x.setFlat(i, xs[i]);
                g.setFlat(i, gs[i]);
            }
            Tensor expected = g.mul(Kernels.activation(Activation.RELU, 1, 0, x));
            Tensor got = Ops.reluMask(g, x);
            for (int i = 0; i < 1000; i++) {
                assertEquals(Double.doubleToRawLongBits(expected.getFlat(i)), Double.doubleToRawLongBits(got.getFlat(i)),
                        dt + " element " + i + ": x=" + x.getFlat(i) + " g=" + g.getFlat(i));
            }
            // a transposed (non-contiguous) gradient
            Tensor gm = Tensor.randn(r, dt, 1.0, 8, 6).transpose(0, 1), xm = Tensor.randn(r, dt, 1.0, 6, 8);
            Tol.assertClose(gm.mul(Kernels.activation(Activation.RELU, 1, 0, xm)), Ops.reluMask(gm, xm), 0, dt + " strided");
        }
        assertThrows(ShapeException.class, () -> Ops.reluMask(Tensor.randn(r, 3), Tensor.randn(r, 4)));
    }

    private static Sequential mlp(Rng r) {
        return new Sequential(new Linear(5, 8, true, r, DType.F64), Act.relu(), new Linear(8, 3, true, r, DType.F64));
    }

    @Test
    void backwardWritesIntoTheStorageZeroGradKept() {
        Rng r = new Rng(6);
        Sequential m = mlp(r);
        Tensor x = Tensor.randn(r, DType.F64, 1.0, 10, 5);
        int[] y = {0, 1, 2, 0, 1, 2, 0, 1, 2, 0};
        List<Tensor> ps = m.parameters();
        Losses.crossEntropy(m.forward(x), y).backward();
        Tensor w0 = ps.get(0), g0 = w0.grad();
        double[] firstValues = g0.toDoubleArray();
        m.zeroGrad();
        assertNull(w0.grad(), "zeroGrad clears the gradient");
        // a reference result computed by grad(), which must not touch the kept storage
        Tensor x2 = x.mul(0.5);
        Tensor[] ref = Autograd.grad(Losses.crossEntropy(m.forward(x2), y), ps.toArray(new Tensor[0]), false);
        assertArrayEquals(firstValues, g0.toDoubleArray(), "grad() left the kept storage alone");
        assertNotSame(g0.storage(), ref[0].storage());
        Losses.crossEntropy(m.forward(x2), y).backward();
        assertSame(g0.storage(), w0.grad().storage(), "the weight gradient reuses the kept storage");
        for (int i = 0; i < ps.size(); i++) {
            assertArrayEquals(ref[i].toDoubleArray(), ps.get(i).grad().toDoubleArray(), "parameter " + i);
        }
        // without zeroGrad, backward accumulates as always
        Losses.crossEntropy(m.forward(x2), y).backward();
        Tol.assertClose(ref[0].mul(2.0), w0.grad(), Tol.F64, "accumulated");
        // setGrad(null) forgets the storage
        w0.setGrad(null);
        Losses.crossEntropy(m.forward(x2), y).backward();
        assertNotSame(g0.storage(), w0.grad().storage());
        assertArrayEquals(ref[0].toDoubleArray(), w0.grad().toDoubleArray());
    }

    @Test
    void aWeightUsedTwiceGetsBothContributions() {
        Rng r = new Rng(7);
        Linear l = new Linear(4, 4, true, r, DType.F64);
        Tensor x = Tensor.randn(r, DType.F64, 1.0, 3, 4);
        Tensor w = l.parameters().get(0);
        Tensor expected = Autograd.grad(l.forward(l.forward(x)).sum(), new Tensor[] {w}, false)[0];
        l.forward(x).sum().backward();
        l.zeroGrad();
        // one use's gradient goes into the kept storage, the other's is added to it
        l.forward(l.forward(x)).sum().backward();
        Tol.assertClose(expected, w.grad(), Tol.F64, "shared weight");
    }

    @Test
    void anOptimizerStepIsUnchangedByTheReuse() {
        // two identical models, one trained with zeroGrad (storage reuse), one with setGrad(null) before each step
        Sequential a = mlp(new Rng(8)), b = mlp(new Rng(8));
        SGD oa = new SGD(a, 0.1), ob = new SGD(b, 0.1);
        Rng r = new Rng(9);
        for (int step = 0; step < 4; step++) {
            Tensor x = Tensor.randn(r, DType.F64, 1.0, 10, 5);
            int[] y = {0, 1, 2, 0, 1, 2, 0, 1, 2, 0};
            oa.zeroGrad();
            for (Tensor p : b.parameters()) {
                p.setGrad(null);
            }
            Losses.crossEntropy(a.forward(x), y).backward();
            Losses.crossEntropy(b.forward(x), y).backward();
            oa.step();
            ob.step();
        }
        for (int i = 0; i < a.parameters().size(); i++) {
            assertArrayEquals(b.parameters().get(i).toDoubleArray(), a.parameters().get(i).toDoubleArray(), "parameter " + i);
        }
    }
}
