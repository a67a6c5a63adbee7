package dev.sprout.bench;

import dev.sprout.backend.Backend;
import dev.sprout.backend.java.JavaBackend;
import dev.sprout.backend.nativecpu.NativeBackend;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.openblas.global.openblas_full;
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
 * A batch of symmetric f32 eigen-decompositions, all eigenpairs: {@code batch} matrices of {@code n x n} ({@code shape}
 * = {@code BATCHxN}: 1000x64, 100x256, 10x576). Sprout's native backend ({@code Backend.symEig}, tridiagonalisation
 * + implicit QL, batch items across {@code threads}), the Java backend (same contract), and OpenBLAS's
 * {@code LAPACKE_ssyevd} (divide and conquer) called once per matrix in a loop on a copy of the input, OpenBLAS at
 * one thread; with {@code threads = 2} two Java threads take half the batch each (threaded LAPACK is slower on these
 * sizes, cpu-limits.md 3).
 * Score: ms per batch (average time). Run: {@code java -jar benchmarks/target/benchmarks.jar EighBenchmark} with
 * {@code OPENBLAS_CORETYPE} unset.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 2, timeUnit = TimeUnit.SECONDS)
@Measurement(iterations = 3, time = 2, timeUnit = TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xss8m"})
@Threads(1)
public class EighBenchmark {
    public static final String NATIVE = "sprout-native";
    public static final String JAVA = "sprout-java";
    public static final String LAPACKE = "lapacke-ssyevd";

    @Param({"1000x64", "100x256", "10x576"})
    public String shape;

    @Param({NATIVE, JAVA, LAPACKE})
    public String impl;

    @Param({"1", "2"})
    public int threads;

    private int batch, n;
    private float[] a, w, v;
    private Backend backend;
    private FloatPointer[] pa, pw;
    private java.util.concurrent.ExecutorService pool;

    @Setup(Level.Trial)
    public void setUp() {
        String[] s = shape.split("x");
        batch = Integer.parseInt(s[0]);
        n = Integer.parseInt(s[1]);
        SplittableRandom r = new SplittableRandom(42);
        a = new float[batch * n * n];
        for (int b = 0; b < batch; b++) {
            for (int i = 0; i < n; i++) {
                for (int j = 0; j <= i; j++) {
                    float x = (float) r.nextGaussian();
                    a[b * n * n + i * n + j] = x;
                    a[b * n * n + j * n + i] = x;
                }
            }
        }
        w = new float[batch * n];
        v = new float[batch * n * n];
        String head = "# sprout-bench: impl=" + impl + " shape=" + shape + " threads=" + threads;
        switch (impl) {
            case NATIVE -> {
                backend = new NativeBackend(NativeBackend.best().isa(), threads);
                System.out.println(head + " " + backend.describe());
            }
            case JAVA -> {
                backend = new JavaBackend(threads);
                System.out.println(head + " " + backend.describe());
            }
            case LAPACKE -> {
                openblas_full.openblas_set_num_threads(1);
                pa = new FloatPointer[threads];
                pw = new FloatPointer[threads];
                for (int t = 0; t < threads; t++) {
                    pa[t] = new FloatPointer((long) n * n);
                    pw[t] = new FloatPointer(n);
                }
                pool = threads > 1 ? java.util.concurrent.Executors.newFixedThreadPool(threads - 1) : null;
                System.out.println(head + " corename=" + openblas_full.openblas_get_corename().getString());
            }
            default -> throw new IllegalArgumentException("impl: " + impl);
        }
        run();
    }

    private void run() {
        if (backend != null) {
            backend.symEig(batch, n, n, a, 0, w, 0, v, 0);
            return;
        }
        if (pool == null) {
            lapacke(0, 0, batch);
            return;
        }
        java.util.List<java.util.concurrent.Future<?>> fs = new java.util.ArrayList<>();
        for (int t = 1; t < threads; t++) {
            int slot = t;
            fs.add(pool.submit(() -> lapacke(slot, batch * slot / threads, batch * (slot + 1) / threads)));
        }
        lapacke(0, 0, batch / threads);
        for (java.util.concurrent.Future<?> f : fs) {
            try {
                f.get();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }
    }

    private void lapacke(int slot, int from, int to) {
        for (int b = from; b < to; b++) {
            pa[slot].put(a, b * n * n, n * n);
            int info = openblas_full.LAPACKE_ssyevd(openblas_full.LAPACK_ROW_MAJOR, (byte) 'V', (byte) 'L', n, pa[slot], n, pw[slot]);
            if (info != 0) {
                throw new IllegalStateException("LAPACKE_ssyevd info " + info);
            }
            pw[slot].get(w, b * n, n);
        }
    }

    @Benchmark
    public float eigh() {
        run();
        return w[0];
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (pa != null) {
            for (int t = 0; t < pa.length; t++) {
                pa[t].deallocate();
                pw[t].deallocate();
            }
            pa = pw = null;
        }
        if (pool != null) {
            pool.shutdownNow();
            pool = null;
        }
    }
}
