package dev.sprout.optim;

/**
 * Cosine annealing from {@code base} at epoch 0 to {@code min} at {@code totalEpochs}:
 * {@code min + (base - min) * (1 + cos(pi * epoch / totalEpochs)) / 2}, as PyTorch's {@code CosineAnnealingLR}
 * within its first half period; after {@code totalEpochs} it stays at {@code min} (PyTorch's would rise again).
 */
public record CosineLr(double base, int totalEpochs, double min) implements LrSchedule {
    public CosineLr {
        ScheduleChecks.checkRate("base", base);
        ScheduleChecks.checkRate("min", min);
        if (totalEpochs <= 0) {
            throw new IllegalArgumentException("learning-rate schedule: total epochs must be positive, got " + totalEpochs);
        }
    }

    @Override
    public double lr(int epoch) {
        ScheduleChecks.checkEpoch(epoch);
        if (epoch >= totalEpochs) {
            return min;
        }
        return min + (base - min) * (1 + Math.cos(Math.PI * epoch / totalEpochs)) / 2;
    }

    @Override
    public String describe() {
        return "cosine(base=" + base + ",total=" + totalEpochs + ",min=" + min + ")";
    }
}
