package dev.sprout.bench;

import dev.sprout.autograd.Autograd;
import dev.sprout.backend.Backend;
import dev.sprout.backend.Backends;
import dev.sprout.backend.java.JavaBackend;
import dev.sprout.backend.nativecpu.NativeBackend;
import dev.sprout.nn.Act;
import dev.sprout.nn.Conv2d;
import dev.sprout.nn.Flatten;
import dev.sprout.nn.Linear;
import dev.sprout.nn.Losses;
import dev.sprout.nn.Pool2d;
import dev.sprout.nn.Sequential;
import dev.sprout.optim.SGD;
import dev.sprout.tensor.DType;
import dev.sprout.tensor.Rng;
import dev.sprout.tensor.Tensor;
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
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Training-step work through the whole engine (nn, autograd, optim) on one backend thread, the same work as the
 * {@code mlp}, {@code cnn} and {@code hvp} sections of {@code shared/peers/torch_cpu.py}:
 * <ul>
 *   <li>{@code mlp}: one SGD step (zero grad, forward, cross-entropy, backward, update; lr 0.01, no momentum) of the
 *       MLP 784-1024-1024-10 (ReLU) on a batch of 128; backward and update through {@link
 *       dev.sprout.optim.Optimizer#minimize}, as the trainer runs them (the step's finiteness check of the weight
 *       gradients done inside the products that make them);</li>
 *   <li>{@code cnn}: one SGD step of conv3x3(1-32, pad 1) + ReLU + conv3x3(32-64, pad 1) + ReLU + maxpool 2 + flatten +
 *       linear(64*14*14 - 10), batch 128 of 1x28x28 (no batch norm: torch_cpu.py's model has none);</li>
 *   <li>{@code hvp}: one Hessian-vector product of the MLP's cross-entropy loss with respect to all its parameters
 *       ({@link Autograd#hvp}: forward, gradient with create-graph, dot with v, second backward).</li>
 * </ul>
 * {@code backend} = {@code java} ({@link JavaBackend}, 1 thread) or {@code native} ({@link NativeBackend}, widest ISA,
 * 1 thread), made current with {@link Backends#use} in the trial setup before the model is built. Score: ms per
 * call (average time). Run: {@code ./sprout bench --suite train} or
 * {@code java -jar benchmarks/target/benchmarks.jar TrainBenchmark}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
// 10 s of warm-up: with steps of milliseconds, methods called a few times per step reach C2 late, and the compiler
// threads were still busy ~10 s into a run (on this 2-vCPU box they share a core with the measured thread)
@Warmup(iterations = 5, time = 2, timeUnit = TimeUnit.SECONDS)
@Measurement(iterations = 5, time = 2, timeUnit = TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xss8m"})
@Threads(1)
public class TrainBenchmark {
    public static final int BATCH = 128;

    @Param({"mlp", "cnn", "hvp"})
    public String work;

    @Param({"native", "java"})
    public String backend;

    private Sequential model;
    private SGD opt;
    private Tensor x;
    private int[] y;
    private Tensor[] params, v;

    /** The MLP of torch_cpu.py's {@code mlp_model()}: 784-1024-1024-10 with ReLU. */
    public static Sequential mlp(Rng rng) {
        return new Sequential(new Linear(784, 1024, true, rng, DType.F32), Act.relu(),
                new Linear(1024, 1024, true, rng, DType.F32), Act.relu(), new Linear(1024, 10, true, rng, DType.F32));
    }

    /** The CNN of torch_cpu.py's {@code cnn()}. */
    public static Sequential cnn(Rng rng) {
        return new Sequential(new Conv2d(1, 32, 3, 1, 1, true, rng, DType.F32), Act.relu(),
                new Conv2d(32, 64, 3, 1, 1, true, rng, DType.F32), Act.relu(), Pool2d.max(2), new Flatten(),
                new Linear(64 * 14 * 14, 10, true, rng, DType.F32));
    }

    static Backend backend(String name) {
        return switch (name) {
            case "native" -> new NativeBackend(NativeBackend.best().isa(), 1);
            case "java" -> new JavaBackend(1);
            default -> throw new IllegalArgumentException("backend must be native or java, got " + name);
        };
    }

    @Setup(Level.Trial)
    public void setUp() {
        Backend b = backend(backend);
        Backends.use(b);
        Rng rng = new Rng(0);
        boolean conv = work.equals("cnn");
        if (!conv && !work.equals("mlp") && !work.equals("hvp")) {
            throw new IllegalArgumentException("work must be mlp, cnn or hvp, got " + work);
        }
        model = conv ? cnn(rng) : mlp(rng);
        opt = new SGD(model, 0.01);
        x = conv ? Tensor.randn(rng, BATCH, 1, 28, 28) : Tensor.randn(rng, BATCH, 784);
        y = new int[BATCH];
        for (int i = 0; i < BATCH; i++) {
            y[i] = rng.nextInt(10);
        }
        List<Tensor> ps = model.parameters();
        params = ps.toArray(new Tensor[0]);
        v = new Tensor[params.length];
        for (int i = 0; i < params.length; i++) {
            v[i] = Tensor.randn(rng, params[i].shape().toArray());
        }
        int[] out = model.outputShape(conv ? new int[] {1, 28, 28} : new int[] {784});
        if (out.length != 1 || out[0] != 10) {
            throw new IllegalStateException(work + ": model output " + java.util.Arrays.toString(out) + ", expected [10]");
        }
        System.out.println("# sprout-bench: work=" + work + " backend=" + b.name() + " describe=" + b.describe()
                + " parameters=" + model.parameterCount() + " batch=" + BATCH);
        double before = loss();
        call();
        if (!work.equals("hvp") && !(loss() < before)) {
            throw new IllegalStateException(work + ": one SGD step did not lower the loss (" + before + " -> " + loss() + ")");
        }
    }

    private double loss() {
        try (Autograd.Scope s = Autograd.noGrad()) {
            return Losses.crossEntropy(model.forward(x), y).item();
        }
    }

    private Object call() {
        if (work.equals("hvp")) {
            return Autograd.hvp(ps -> Losses.crossEntropy(model.forward(x), y), params, v);
        }
        opt.zeroGrad();
        Tensor loss = Losses.crossEntropy(model.forward(x), y);
        opt.minimize(loss);
        return loss;
    }

    /** Also timed in CPU time of this thread ({@link CpuClock}; every backend here runs on one thread). */
    @Benchmark
    public Object step(CpuClock cpu) {
        long t0 = CpuClock.now(1);
        Object r = call();
        cpu.add(t0, 1);
        return r;
    }
}
