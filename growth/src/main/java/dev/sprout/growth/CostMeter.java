package dev.sprout.growth;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * What a growth step cost: wall time per phase ({@code statistics}, {@code eigen}, {@code surgery}, ...), the
 * floating-point operations the method counted, and the peak heap in use (sampled at phase boundaries and by
 * methods at points of high use).
 */
public final class CostMeter {
    private final Map<String, Double> seconds = new LinkedHashMap<>();
    private double flops;
    private long peakBytes;

    /** Runs {@code body} as (part of) a phase, adding its wall time. */
    public <T> T time(String phase, Supplier<T> body) {
        sampleMemory();
        long t0 = System.nanoTime();
        try {
            return body.get();
        } finally {
            seconds.merge(phase, (System.nanoTime() - t0) / 1e9, Double::sum);
            sampleMemory();
        }
    }

    public void time(String phase, Runnable body) {
        time(phase, () -> {
            body.run();
            return null;
        });
    }

    public void addFlops(double f) {
        flops += f;
    }

    /** Records the heap in use now if it is the largest seen. */
    public void sampleMemory() {
        Runtime rt = Runtime.getRuntime();
        peakBytes = Math.max(peakBytes, rt.totalMemory() - rt.freeMemory());
    }

    public Map<String, Double> seconds() {
        return Map.copyOf(seconds);
    }

    public double seconds(String phase) {
        return seconds.getOrDefault(phase, 0.0);
    }

    public double totalSeconds() {
        return seconds.values().stream().mapToDouble(Double::doubleValue).sum();
    }

    public double flops() {
        return flops;
    }

    public long peakBytes() {
        return peakBytes;
    }
}
