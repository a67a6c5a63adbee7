package dev.sprout.optim;

import dev.sprout.testing.Tol;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Known values of the learning-rate schedules, and their text form. */
class LrScheduleTest {

    @Test
    void constant() {
        LrSchedule s = new ConstantLr(0.25);
        assertEquals(0.25, s.lr(0));
        assertEquals(0.25, s.lr(1000));
    }

    @Test
    void stepDecaysByGammaEveryStepSizeEpochs() {
        LrSchedule s = new StepLr(0.1, 30, 0.1);
        assertEquals(0.1, s.lr(0));
        assertEquals(0.1, s.lr(29));
        assertEquals(0.01, s.lr(30), Tol.F64);
        assertEquals(0.01, s.lr(59), Tol.F64);
        assertEquals(0.001, s.lr(60), Tol.F64);
        LrSchedule halves = new StepLr(1.0, 2, 0.5);
        assertEquals(0.25, halves.lr(5));
    }

    @Test
    void cosineAnnealsFromBaseToMin() {
        LrSchedule s = new CosineLr(0.1, 100, 0.0);
        assertEquals(0.1, s.lr(0), Tol.F64);
        assertEquals(0.05 * (1 + Math.sqrt(0.5)), s.lr(25), Tol.F64);
        assertEquals(0.05, s.lr(50), Tol.F64);
        assertEquals(0.05 * (1 - Math.sqrt(0.5)), s.lr(75), Tol.F64);
        assertEquals(0.0, s.lr(100), Tol.F64);
        assertEquals(0.0, s.lr(150));
        LrSchedule floor = new CosineLr(1.0, 4, 0.2);
        assertEquals(0.6, floor.lr(2), Tol.F64);
        assertEquals(0.2, floor.lr(4));
    }

    @Test
    void applySetsTheOptimizersRate() {
        Optimizer opt = new SGD(TwoParams.scalars(0, 0), 1.0);
        new StepLr(0.5, 1, 0.5).apply(opt, 2);
        assertEquals(0.125, opt.learningRate());
    }

    @Test
    void describeAndParseRoundTrip() {
        for (LrSchedule s : new LrSchedule[] {new ConstantLr(0.3), new StepLr(0.1, 30, 0.2), new CosineLr(0.05, 200, 1e-4)}) {
            assertEquals(s, LrSchedule.parse(s.describe()));
        }
        assertEquals(new StepLr(0.1, 3, 0.5), LrSchedule.parse(" step( base=0.1, step=3, gamma=0.5 ) "));
        assertThrows(IllegalArgumentException.class, () -> LrSchedule.parse("linear(base=1)"));
        assertThrows(IllegalArgumentException.class, () -> LrSchedule.parse("step(base=1,step=2)"));
        assertThrows(IllegalArgumentException.class, () -> LrSchedule.parse("constant(base=1,gamma=2)"));
        assertThrows(IllegalArgumentException.class, () -> new CosineLr(0.1, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> new ConstantLr(0.1).lr(-1));
    }
}
