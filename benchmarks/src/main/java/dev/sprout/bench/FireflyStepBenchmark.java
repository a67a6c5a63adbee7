package dev.sprout.bench;

import dev.sprout.backend.Backends;
import dev.sprout.backend.java.JavaBackend;
import dev.sprout.backend.java.JavaGemm;
import dev.sprout.backend.nativecpu.Isa;
import dev.sprout.backend.nativecpu.NativeBackend;
import dev.sprout.data.Dataset;
import dev.sprout.data.FashionMnist;
import dev.sprout.data.TrainTest;
import dev.sprout.growth.CostMeter;
import dev.sprout.growth.Firefly;
import dev.sprout.growth.GrowthContext;
import dev.sprout.growth.Plan;
import dev.sprout.nn.Act;
import dev.sprout.nn.BatchNorm;
import dev.sprout.nn.Conv2d;
import dev.sprout.nn.Flatten;
import dev.sprout.nn.Linear;
import dev.sprout.nn.Module;
import dev.sprout.nn.Pool2d;
import dev.sprout.nn.Sequential;
import dev.sprout.tensor.DType;
import dev.sprout.tensor.Rng;
import dev.sprout.tensor.Tensor;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One Firefly growth step (width growth, the official {@code fireflyn}: spec section 5.2) on the shapes the anchor
 * document ({@code anchor-firefly-official.md}) measured for the official PyTorch code on this machine: the official
 * VGG-11 {@code Classifier} with all 8 3x3 conv layers (batch norm, ReLU, no bias, 5 max-pools) at a uniform width
 * {@code width}, a 1x32x32 Fashion-MNIST input (28x28 zero-padded, as the official net rows), a linear head to 10 classes
 * (the official 1x1 conv on the 1x1 map), {@code K = 70} new-neuron candidates per layer plus a split candidate per
 * neuron, candidates optimised for {@code steps} RMSprop batches of 128 and scored on {@code samples} examples
 * (the anchor's setup: growth statistics on the first 1,280 training images, i.e. 10 batches per phase).
 * The measured operation is {@link Firefly#propose} (over-grow, optimise, score, select), one thread, the Java backend (or {@code -p backend=native}).
 *
 * <p>Memory: the {@code peakHeapMiB} counter is the {@link CostMeter}'s peak heap in use during the step minus the heap
 * in use (after a GC) before it, i.e. what the step itself holds at its high point; {@code rssMiB} is the forked JVM's
 * peak resident set (VmHWM) so far, comparable to the anchor's process peak RSS (but it includes the JVM, JIT and the
 * dataset). {@code cpuS} is the benchmark thread's CPU time for the step. Run {@code -prof gc} for allocation rates. {@code benchmarks/run-firefly.sh} runs it.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xmx3g"})
@Warmup(iterations = 1)
@Measurement(iterations = 2)
public class FireflyStepBenchmark {
    @Param({"16", "32"})
    public int width;
    @Param({"70"})
    public int k;
    @Param({"10"})
    public int steps;
    @Param({"1280"})
    public int samples;
    /** {@code java} (the pure-Java backend) or {@code native} (the C++ backend), both on one thread. */
    @Param({"java"})
    public String backend;

    private Sequential net;
    private Dataset data;
    private long heapBefore;

    /** Per-iteration memory counters (JMH sums EVENTS over the iteration: one step per iteration). */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.EVENTS)
    public static class Memory {
        public double peakHeapMiB;
        public double rssMiB;
        /** CPU seconds of the benchmark thread during the step (the box may be shared: wall time can include waiting). */
        public double cpuS;

        @Setup(Level.Iteration)
        public void clear() {
            peakHeapMiB = 0;
            rssMiB = 0;
            cpuS = 0;
        }
    }

    /** The official vgg11 cfg [1,M,2,M,4,4,M,8,8,M,8,8,M] with every conv at {@code width} (growth mode). */
    static Sequential vgg11(int width, Rng r) {
        List<Module> m = new ArrayList<>();
        int in = 1;
        String cfg = "CMCMCCMCCMCCM";
        for (char c : cfg.toCharArray()) {
            if (c == 'M') {
                m.add(Pool2d.max(2));
            } else {
                m.add(new Conv2d(in, width, 3, 1, 1, false, r, DType.F32));
                m.add(new BatchNorm(width, true, 0.1, 1e-5, DType.F32));
                m.add(Act.relu());
                in = width;
            }
        }
        m.add(new Flatten());
        m.add(new Linear(in, 10, true, r, DType.F32));
        return new Sequential(m.toArray(new Module[0]));
    }

    /** The first {@code n} Fashion-MNIST training images zero-padded to 32x32 (random images if the files are absent). */
    static Dataset data(int n, Rng r) {
        float[] x = new float[n * 32 * 32];
        int[] y = new int[n];
        if (Files.isDirectory(FashionMnist.DEFAULT_DIR)) {
            TrainTest t = FashionMnist.load().normalised();
            float[] src = t.train().inputs().toFloatArray();
            int[] lab = t.train().labels();
            for (int i = 0; i < n; i++) {
                y[i] = lab[i];
                for (int row = 0; row < 28; row++) {
                    System.arraycopy(src, i * 784 + row * 28, x, i * 1024 + (row + 2) * 32 + 2, 28);
                }
            }
        } else {
            for (int i = 0; i < n; i++) {
                y[i] = r.nextInt(10);
            }
            float[] g = Tensor.randn(r, DType.F32, 1.0, n * 1024).toFloatArray();
            System.arraycopy(g, 0, x, 0, x.length);
        }
        return Dataset.classification("fashion-mnist-32", Tensor.of(x, n, 1, 32, 32), y, 10);
    }

    @Setup(Level.Trial)
    public void setup() {
        JavaGemm.warmUp();
        List<Isa> isas = NativeBackend.runnable();
        Backends.use(backend.equals("native") ? new NativeBackend(isas.get(isas.size() - 1), 1) : new JavaBackend(1));
        Rng r = new Rng(0);
        data = data(Math.max(samples, steps * 128), r);
        net = vgg11(width, r);
        net.train(false);
    }

    @Setup(Level.Invocation)
    public void gc() {
        System.gc();
        Runtime rt = Runtime.getRuntime();
        heapBefore = rt.totalMemory() - rt.freeMemory();
    }

    @Benchmark
    public Plan step(Memory mem) {
        CostMeter cost = new CostMeter();
        Firefly ff = new Firefly(k, true, steps, 128, Firefly.DEFAULT_LR, Firefly.DEFAULT_PENALTY, Firefly.OFFICIAL_INIT, false);
        Dataset sample = samples == data.size() ? data : data.subset(java.util.stream.IntStream.range(0, samples).toArray());
        GrowthContext ctx = new GrowthContext(net, sample, 128, 0.35, new Rng(1), cost, data);
        java.lang.management.ThreadMXBean threads = java.lang.management.ManagementFactory.getThreadMXBean();
        long cpu0 = threads.getCurrentThreadCpuTime();
        Plan p = ff.propose(ctx);
        mem.cpuS += (threads.getCurrentThreadCpuTime() - cpu0) / 1e9;
        cost.sampleMemory();
        mem.peakHeapMiB += Math.max(0, cost.peakBytes() - heapBefore) / (1024.0 * 1024.0);
        mem.rssMiB += rssMiB();
        return p;
    }

    @TearDown(Level.Trial)
    public void report() {
        System.out.printf("%nFireflyStep %s width=%d k=%d steps=%d samples=%d: peak RSS %.0f MiB%n", backend, width, k, steps, samples,
                rssMiB());
    }

    static double rssMiB() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmHWM:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024.0;
                }
            }
        } catch (IOException | RuntimeException e) {
            return Double.NaN;
        }
        return Double.NaN;
    }
}
