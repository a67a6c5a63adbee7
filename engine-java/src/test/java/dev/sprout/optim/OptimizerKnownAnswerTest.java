package dev.sprout.optim;

import dev.sprout.tensor.Tensor;
import dev.sprout.testing.Tol;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Each optimizer's first three steps on f(x, y) = (x - 3)^2 + 2 (y + 1)^2, from (x, y) = (0.5, 0.25), against
 * the update formulas written out here in scalar double arithmetic. The gradient (2 (x - 3), 4 (y + 1)) is set by
 * hand, so only the optimizer is under test.
 */
class OptimizerKnownAnswerTest {
    private static final double X0 = 0.5, Y0 = 0.25;
    private static final int STEPS = 3;

    private static double gx(double x) {
        return 2 * (x - 3);
    }

    private static double gy(double y) {
        return 4 * (y + 1);
    }

    /** Sets the hand-computed gradients, steps, and returns {x, y}. */
    private static double[] step(Optimizer opt, TwoParams m) {
        Tensor x = m.parameter("x"), y = m.parameter("y");
        x.setGrad(Tensor.of(new double[] {gx(x.item())}, 1));
        y.setGrad(Tensor.of(new double[] {gy(y.item())}, 1));
        opt.step();
        return new double[] {x.item(), y.item()};
    }

    private static void assertStep(int k, double[] expected, double[] actual) {
        assertEquals(expected[0], actual[0], Tol.F64, "x after step " + k);
        assertEquals(expected[1], actual[1], Tol.F64, "y after step " + k);
    }

    @Test
    void sgdWithMomentumAndWeightDecay() {
        double lr = 0.05, mu = 0.9, wd = 0.1;
        TwoParams m = TwoParams.scalars(X0, Y0);
        Optimizer opt = new SGD(m, lr, mu, 0, false, wd);
        double[] p = {X0, Y0}, buf = new double[2];
        for (int k = 1; k <= STEPS; k++) {
            double[] g = {gx(p[0]), gy(p[1])};
            for (int i = 0; i < 2; i++) {
                double d = g[i] + wd * p[i];
                buf[i] = k == 1 ? d : mu * buf[i] + d;
                p[i] = p[i] - lr * buf[i];
            }
            assertStep(k, p, step(opt, m));
        }
        assertEquals(STEPS, opt.stepCount());
    }

    @Test
    void sgdNesterov() {
        double lr = 0.05, mu = 0.8;
        TwoParams m = TwoParams.scalars(X0, Y0);
        Optimizer opt = new SGD(m, lr, mu, 0, true, 0);
        double[] p = {X0, Y0}, buf = new double[2];
        for (int k = 1; k <= STEPS; k++) {
            double[] g = {gx(p[0]), gy(p[1])};
            for (int i = 0; i < 2; i++) {
                buf[i] = k == 1 ? g[i] : mu * buf[i] + g[i];
                p[i] = p[i] - lr * (g[i] + mu * buf[i]);
            }
            assertStep(k, p, step(opt, m));
        }
    }

    @Test
    void sgdWithDampening() {
        double lr = 0.1, mu = 0.5, damp = 0.25;
        TwoParams m = TwoParams.scalars(X0, Y0);
        Optimizer opt = new SGD(m, lr, mu, damp, false, 0);
        double[] p = {X0, Y0}, buf = new double[2];
        for (int k = 1; k <= STEPS; k++) {
            double[] g = {gx(p[0]), gy(p[1])};
            for (int i = 0; i < 2; i++) {
                buf[i] = k == 1 ? g[i] : mu * buf[i] + (1 - damp) * g[i];
                p[i] = p[i] - lr * buf[i];
            }
            assertStep(k, p, step(opt, m));
        }
    }

    @Test
    void adamWithL2WeightDecay() {
        double lr = 0.1, b1 = 0.9, b2 = 0.999, eps = 1e-8, wd = 0.01;
        TwoParams m = TwoParams.scalars(X0, Y0);
        Optimizer opt = new Adam(m, lr, b1, b2, eps, wd, false);
        double[] p = {X0, Y0}, mm = new double[2], vv = new double[2];
        for (int t = 1; t <= STEPS; t++) {
            double[] g = {gx(p[0]), gy(p[1])};
            for (int i = 0; i < 2; i++) {
                double d = g[i] + wd * p[i];
                mm[i] = b1 * mm[i] + (1 - b1) * d;
                vv[i] = b2 * vv[i] + (1 - b2) * d * d;
                double mHat = mm[i] / (1 - Math.pow(b1, t));
                double vHat = vv[i] / (1 - Math.pow(b2, t));
                p[i] = p[i] - lr * mHat / (Math.sqrt(vHat) + eps);
            }
            assertStep(t, p, step(opt, m));
        }
        assertEquals(STEPS, opt.state("x").get(Adam.STEP).item());
    }

    @Test
    void adamWDecouplesWeightDecay() {
        double lr = 0.1, b1 = 0.9, b2 = 0.999, eps = 1e-8, wd = 0.2;
        TwoParams m = TwoParams.scalars(X0, Y0);
        Optimizer opt = Adam.adamW(m, lr, wd);
        assertEquals("adamw", opt.type());
        double[] p = {X0, Y0}, mm = new double[2], vv = new double[2];
        for (int t = 1; t <= STEPS; t++) {
            double[] g = {gx(p[0]), gy(p[1])};
            for (int i = 0; i < 2; i++) {
                p[i] = p[i] * (1 - lr * wd);
                mm[i] = b1 * mm[i] + (1 - b1) * g[i];
                vv[i] = b2 * vv[i] + (1 - b2) * g[i] * g[i];
                double mHat = mm[i] / (1 - Math.pow(b1, t));
                double vHat = vv[i] / (1 - Math.pow(b2, t));
                p[i] = p[i] - lr * mHat / (Math.sqrt(vHat) + eps);
            }
            assertStep(t, p, step(opt, m));
        }
    }

    @Test
    void rmspropPlain() {
        double lr = 0.01, alpha = 0.99, eps = 1e-8;
        TwoParams m = TwoParams.scalars(X0, Y0);
        Optimizer opt = new RMSprop(m, lr);
        double[] p = {X0, Y0}, sq = new double[2];
        for (int k = 1; k <= STEPS; k++) {
            double[] g = {gx(p[0]), gy(p[1])};
            for (int i = 0; i < 2; i++) {
                sq[i] = alpha * sq[i] + (1 - alpha) * g[i] * g[i];
                p[i] = p[i] - lr * g[i] / (Math.sqrt(sq[i]) + eps);
            }
            assertStep(k, p, step(opt, m));
        }
    }

    @Test
    void rmspropCenteredWithMomentumAndWeightDecay() {
        double lr = 0.01, alpha = 0.9, eps = 1e-6, mu = 0.5, wd = 0.05;
        TwoParams m = TwoParams.scalars(X0, Y0);
        Optimizer opt = new RMSprop(m, lr, alpha, eps, mu, true, wd);
        double[] p = {X0, Y0}, sq = new double[2], ga = new double[2], buf = new double[2];
        for (int k = 1; k <= STEPS; k++) {
            double[] g = {gx(p[0]), gy(p[1])};
            for (int i = 0; i < 2; i++) {
                double d = g[i] + wd * p[i];
                sq[i] = alpha * sq[i] + (1 - alpha) * d * d;
                ga[i] = alpha * ga[i] + (1 - alpha) * d;
                double avg = Math.sqrt(sq[i] - ga[i] * ga[i]) + eps;
                buf[i] = mu * buf[i] + d / avg;
                p[i] = p[i] - lr * buf[i];
            }
            assertStep(k, p, step(opt, m));
        }
    }

    @Test
    void adagradWithWeightDecay() {
        double lr = 0.5, eps = 1e-10, wd = 0.1;
        TwoParams m = TwoParams.scalars(X0, Y0);
        Optimizer opt = new Adagrad(m, lr, eps, 0, wd);
        double[] p = {X0, Y0}, sum = new double[2];
        for (int k = 1; k <= STEPS; k++) {
            double[] g = {gx(p[0]), gy(p[1])};
            for (int i = 0; i < 2; i++) {
                double d = g[i] + wd * p[i];
                sum[i] = sum[i] + d * d;
                p[i] = p[i] - lr * d / (Math.sqrt(sum[i]) + eps);
            }
            assertStep(k, p, step(opt, m));
        }
    }

    @Test
    void adagradInitialAccumulator() {
        double lr = 0.5, eps = 1e-10, init = 0.25;
        TwoParams m = TwoParams.scalars(X0, Y0);
        Optimizer opt = new Adagrad(m, lr, eps, init, 0);
        double[] p = {X0, Y0}, sum = {init, init};
        for (int k = 1; k <= STEPS; k++) {
            double[] g = {gx(p[0]), gy(p[1])};
            for (int i = 0; i < 2; i++) {
                sum[i] = sum[i] + g[i] * g[i];
                p[i] = p[i] - lr * g[i] / (Math.sqrt(sum[i]) + eps);
            }
            assertStep(k, p, step(opt, m));
        }
    }

    @Test
    void parametersWithoutGradientAreSkipped() {
        TwoParams m = TwoParams.scalars(X0, Y0);
        Optimizer opt = new Adam(m, 0.1);
        m.parameter("x").setGrad(Tensor.of(new double[] {1.0}, 1));
        opt.step();
        assertEquals(Y0, m.parameter("y").item());
        assertEquals(java.util.List.of("x"), opt.statefulParameters());
        opt.zeroGrad();
        opt.step();
        assertEquals(2, opt.stepCount());
        assertEquals(1.0, opt.state("x").get(Adam.STEP).item());
    }
}
