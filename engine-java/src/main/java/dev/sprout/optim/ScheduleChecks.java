package dev.sprout.optim;

/** Argument checks shared by the schedules. */
final class ScheduleChecks {
    private ScheduleChecks() {
    }

    static void checkEpoch(int epoch) {
        if (epoch < 0) {
            throw new IllegalArgumentException("learning-rate schedule: negative epoch " + epoch);
        }
    }

    static void checkRate(String what, double v) {
        if (!(v >= 0) || Double.isInfinite(v)) {
            throw new IllegalArgumentException("learning-rate schedule: " + what + " must be finite and >= 0, got " + v);
        }
    }
}
