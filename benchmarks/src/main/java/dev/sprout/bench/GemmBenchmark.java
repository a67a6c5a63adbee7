package dev.sprout.bench;

import dev.sprout.backend.GemmShape;
import dev.sprout.backend.java.JavaGemm;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.openblas.global.openblas_full;
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
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * Square f32 matrix product {@code C = A B} (row-major, n x n, beta = 0) on one thread: Sprout's pure-Java kernel
 * ({@link JavaGemm}) against OpenBLAS ({@code cblas_sgemm} from bytedeco's OpenBLAS 0.3.31 on off-heap
 * {@link FloatPointer}s, {@code openblas_set_num_threads(1)}).
 *
 * <p>GFLOP/s = the {@code flop} secondary metric (ops/s) / 1e9 ({@code 2 n^3} flops per call). Run it with
 * {@code benchmarks/run-gemm.sh}, which clears {@code OPENBLAS_CORETYPE} / {@code OPENBLAS_L2_SIZE} for the run
 * (they pin this box to the Haswell kernels, half speed) and prints a table. The setup prints one
 * {@code # sprout-bench:} line per trial with the OpenBLAS core (kernel family) or the Sprout kernel and its
 * warm-up time; the script reports them.
 *
 * <p>Warm-up: {@link JavaGemm#warmUp()} in the trial setup (Vector API code is ~1000x slower before C2 compiles
 * it), then 5 x 1 s of JMH warm-up iterations; measurement 5 x 1 s; one fork with the Vector API module.
 * {@code n} may be set to any value in [64, 2048] with {@code -p n=...}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 5, time = 1, timeUnit = TimeUnit.SECONDS)
@Measurement(iterations = 5, time = 1, timeUnit = TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
@Threads(1)
public class GemmBenchmark {
    public static final String SPROUT = "sprout-java";
    public static final String OPENBLAS = "openblas";

    @Param({"256", "512", "1024"})
    public int n;

    @Param({SPROUT, OPENBLAS})
    public String impl;

    private float[] a;
    private float[] b;
    private float[] c;
    private GemmShape shape;
    private FloatPointer pa;
    private FloatPointer pb;
    private FloatPointer pc;

    /** Floating-point operations done in the current iteration (JMH reports them per second). */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Flops {
        public long flop;

        @Setup(Level.Iteration)
        public void reset() {
            flop = 0;
        }
    }

    @Setup(Level.Trial)
    public void setUp() {
        if (n < 64 || n > 2048) {
            throw new IllegalArgumentException("n must be in [64, 2048], got " + n);
        }
        SplittableRandom r = new SplittableRandom(42);
        a = new float[n * n];
        b = new float[n * n];
        c = new float[n * n];
        for (int i = 0; i < n * n; i++) {
            a[i] = (float) (r.nextDouble() - 0.5);
            b[i] = (float) (r.nextDouble() - 0.5);
        }
        shape = GemmShape.of(false, false, n, n, n);
        switch (impl) {
            case SPROUT:
                long ms = JavaGemm.warmUp().toMillis();
                System.out.println("# sprout-bench: impl=" + SPROUT + " n=" + n + " kernel=" + JavaGemm.kernelDescription()
                        + " warmUp=" + ms + "ms jdk=" + Runtime.version());
                break;
            case OPENBLAS:
                openblas_full.openblas_set_num_threads(1);
                pa = new FloatPointer(a);
                pb = new FloatPointer(b);
                pc = new FloatPointer((long) n * n);
                System.out.println("# sprout-bench: impl=" + OPENBLAS + " n=" + n + " corename="
                        + openblas_full.openblas_get_corename().getString() + " config=" + openblas_full.openblas_get_config().getString()
                        + " OPENBLAS_CORETYPE=" + System.getenv("OPENBLAS_CORETYPE"));
                break;
            default:
                throw new IllegalArgumentException("impl must be " + SPROUT + " or " + OPENBLAS + ", got " + impl);
        }
        run();
        check();
    }

    /** One product; the result stays in c / pc, which outlive the call, so it cannot be optimised away. */
    private void run() {
        if (pa == null) {
            JavaGemm.sgemm(shape, 1f, a, 0, b, 0, 0f, c, 0, 1);
        } else {
            openblas_full.cblas_sgemm(openblas_full.CblasRowMajor, openblas_full.CblasNoTrans, openblas_full.CblasNoTrans,
                    n, n, n, 1f, pa, n, pb, n, 0f, pc, n);
        }
    }

    /** A few entries against a double-precision dot product: a wrong kernel must not produce a number. */
    private void check() {
        for (int t = 0; t < 5; t++) {
            int i = (t * 7919) % n;
            int j = (t * 104729 + 3) % n;
            double want = 0;
            double abs = 0;
            for (int p = 0; p < n; p++) {
                want += (double) a[i * n + p] * b[p * n + j];
                abs += Math.abs((double) a[i * n + p] * b[p * n + j]);
            }
            float got = pa == null ? c[i * n + j] : pc.get((long) i * n + j);
            if (Math.abs(got - want) > 1e-5 * abs + 1e-6) {
                throw new IllegalStateException(impl + " n=" + n + ": C[" + i + "," + j + "] = " + got + ", expected " + want);
            }
        }
    }

    @Benchmark
    public void sgemm(Flops f) {
        run();
        f.flop += 2L * n * n * n;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (pa != null) {
            pa.deallocate();
            pb.deallocate();
            pc.deallocate();
            pa = null;
        }
    }
}
