package dev.sprout.optim;

/** The same learning rate at every epoch. */
public record ConstantLr(double base) implements LrSchedule {
    public ConstantLr {
        ScheduleChecks.checkRate("base", base);
    }

    @Override
    public double lr(int epoch) {
        ScheduleChecks.checkEpoch(epoch);
        return base;
    }

    @Override
    public String describe() {
        return "constant(base=" + base + ")";
    }
}
