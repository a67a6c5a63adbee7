package dev.sprout.bench;

import dev.sprout.backend.Backend;
import dev.sprout.backend.java.JavaBackend;
import dev.sprout.backend.java.JavaGemm;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * One exact-splitting (S2D) statistics step on the shape the official Firefly code meets in a wide VGG layer:
 * a layer with {@code D = 576} inputs per neuron (64 channels x 3x3 patches), {@code C = 64} neurons and
 * {@code M = 6000} sample rows. Sprout forms every splitting matrix {@code S_i = X^T diag(a_i) X} with the backend's
 * weighted-Gram kernel ({@code gram}), then takes each matrix's smallest eigenpair with the backend's batched
 * symmetric eigen-solver ({@code eigen}); {@code step} is both. The official code's approach on the same data is
 * measured by {@code benchmarks/peers/official_splitting_step.py} (PyTorch autograd trick per neuron, then
 * {@code numpy.linalg.eig} on the stack), one thread; {@code benchmarks/run-splitting.sh} runs both.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xmx4g"})
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
public class SplittingStepBenchmark {
    @Param({"576"})
    public int d;
    @Param({"64"})
    public int neurons;
    @Param({"6000"})
    public int samples;
    @Param({"1", "2"})
    public int threads;

    private Backend backend;
    private float[] x, a, s, w, v;

    @Setup
    public void setup() {
        JavaGemm.warmUp();
        backend = new JavaBackend(threads);
        SplittableRandom r = new SplittableRandom(42);
        x = new float[samples * d];
        a = new float[samples * neurons];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) r.nextGaussian();
        }
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) r.nextGaussian();
        }
        s = new float[neurons * d * d];
        w = new float[neurons];
        v = new float[neurons * d];
        gram();
    }

    @Benchmark
    public float[] gram() {
        java.util.Arrays.fill(s, 0f);
        backend.weightedGram(samples, d, neurons, x, 0, a, 0, s, 0);
        return s;
    }

    @Benchmark
    public float[] eigen() {
        backend.symEig(neurons, d, 1, s, 0, w, 0, v, 0);
        return v;
    }

    @Benchmark
    public float[] step() {
        gram();
        return eigen();
    }
}
