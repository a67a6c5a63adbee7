package dev.sprout.optim;

/** {@code base * gamma^floor(epoch / stepSize)}, as PyTorch's {@code StepLR}. */
public record StepLr(double base, int stepSize, double gamma) implements LrSchedule {
    public StepLr {
        ScheduleChecks.checkRate("base", base);
        ScheduleChecks.checkRate("gamma", gamma);
        if (stepSize <= 0) {
            throw new IllegalArgumentException("learning-rate schedule: step size must be positive, got " + stepSize);
        }
    }

    @Override
    public double lr(int epoch) {
        ScheduleChecks.checkEpoch(epoch);
        return base * Math.pow(gamma, epoch / stepSize);
    }

    @Override
    public String describe() {
        return "step(base=" + base + ",step=" + stepSize + ",gamma=" + gamma + ")";
    }
}
