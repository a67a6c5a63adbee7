package dev.sprout.autograd;

import dev.sprout.tensor.DType;
import dev.sprout.tensor.Tensor;
import dev.sprout.testing.Tol;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AutogradTest {

    /** f(x, y) = x^2 y + sin(x) y: df/dx = 2xy + cos(x) y, df/dy = x^2 + sin(x), derived by hand. */
    @Test
    void knownAnswerGradient() {
        double xv = 0.7, yv = -1.3;
        Tensor x = Tensor.scalar(DType.F64, xv).requiresGrad(true);
        Tensor y = Tensor.scalar(DType.F64, yv).requiresGrad(true);
        Tensor f = x.mul(x).mul(y).add(x.sin().mul(y));
        f.backward();
        assertEquals(2 * xv * yv + Math.cos(xv) * yv, x.grad().item(), Tol.F64);
        assertEquals(xv * xv + Math.sin(xv), y.grad().item(), Tol.F64);
    }

    /** Linear layer with mean squared error: dL/dW = 2/N (W x - y) x^T, exact on small integers. */
    @Test
    void knownAnswerLinearLayer() {
        Tensor w = Tensor.of(new double[] {1, 2, 3, 4}, 2, 2).requiresGrad(true);
        Tensor x = Tensor.of(new double[] {1, -1}, 2, 1);
        Tensor y = Tensor.of(new double[] {0, 1}, 2, 1);
        Tensor d = w.matmul(x).sub(y); // [-1, -2]
        d.mul(d).mean().backward();  // L = (1 + 4) / 2
        // dL/dW = (2/2) d x^T = [[-1, 1], [-2, 2]]
        assertEquals(-1, w.grad().get(0, 0), 0);
        assertEquals(1, w.grad().get(0, 1), 0);
        assertEquals(-2, w.grad().get(1, 0), 0);
        assertEquals(2, w.grad().get(1, 1), 0);
    }

    @Test
    void backwardAccumulatesAcrossCalls() {
        Tensor x = Tensor.of(new double[] {1, 2, 3}).requiresGrad(true);
        x.mul(x).sum().backward();
        x.mul(x).sum().backward();
        assertEquals(8.0, x.grad().getFlat(1), 0); // 2 * (2x) at x=2
    }

    @Test
    void noGradScopeRecordsNothingAndRestores() {
        Tensor x = Tensor.of(new double[] {1, 2}).requiresGrad(true);
        Tensor y;
        try (Autograd.Scope s = Autograd.noGrad()) {
            y = x.mul(x);
            assertFalse(Autograd.isRecording());
        }
        assertTrue(Autograd.isRecording());
        assertNull(y.gradFn());
        assertFalse(y.requiresGrad());
        assertTrue(x.mul(x).requiresGrad());
    }

    @Test
    void gradOfUnusedInputIsZero() {
        Tensor x = Tensor.of(new double[] {1, 2}).requiresGrad(true);
        Tensor z = Tensor.of(new double[] {5, 6, 7}).requiresGrad(true);
        Tensor[] g = Autograd.grad(x.sum(), new Tensor[] {x, z}, false);
        assertEquals(0.0, g[1].sum().item(), 0);
        assertEquals(3, g[1].numel());
    }

    @Test
    void sharedSubexpressionGradientsAdd() {
        Tensor x = Tensor.scalar(DType.F64, 3).requiresGrad(true);
        Tensor a = x.mul(2.0);
        Tensor f = a.mul(a).add(a); // 4x^2 + 2x
        f.backward();
        assertEquals(8 * 3 + 2, x.grad().item(), 0);
    }

    @Test
    void checkedModeNamesTheOpThatProducedTheFirstNaN() {
        Tensor x = Tensor.of(new double[] {1, -1, 2}).requiresGrad(true);
        NonFiniteException e;
        try (Autograd.Scope s = Autograd.checked()) {
            e = assertThrows(NonFiniteException.class, () -> x.mul(2.0).log().sum());
        }
        assertTrue(e.getMessage().startsWith("log produced NaN at flat position 1"), e.getMessage());
        assertTrue(e.getMessage().contains("f64[3]"), e.getMessage());
        // outside the scope the same computation goes through and yields NaN
        assertTrue(Double.isNaN(x.mul(2.0).log().sum().item()));
    }

    @Test
    void checkedModeCatchesNonFiniteGradients() {
        Tensor x = Tensor.of(new double[] {0.0, 1.0}).requiresGrad(true);
        try (Autograd.Scope s = Autograd.checked()) {
            Tensor y = x.sqrt().sum(); // forward finite, d sqrt / dx at 0 is infinite
            NonFiniteException e = assertThrows(NonFiniteException.class, y::backward);
            assertTrue(e.getMessage().startsWith("in the backward of sqrt: div produced Infinity at flat position 0"), e.getMessage());
        }
    }

    @Test
    void backwardNeedsAScalarThatRequiresGrad() {
        Tensor x = Tensor.of(new double[] {1, 2}).requiresGrad(true);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> x.mul(x).backward());
        assertTrue(e.getMessage().contains("f64[2]"), e.getMessage());
        assertThrows(IllegalStateException.class, () -> Tensor.of(new double[] {1}).sum().backward());
    }

    @Test
    void inPlaceChangeOfParameterWhileRecordingIsRefused() {
        Tensor x = Tensor.of(new double[] {1, 2}).requiresGrad(true);
        assertThrows(IllegalStateException.class, () -> x.fill_(0));
        try (Autograd.Scope s = Autograd.noGrad()) {
            x.addScaled_(Tensor.of(new double[] {1, 1}), -0.5);
        }
        assertEquals(0.5, x.getFlat(0), 0);
    }
}
