package dev.sprout.bench;

import dev.sprout.backend.GemmShape;
import dev.sprout.backend.java.JavaGemm;
import dev.sprout.backend.nativecpu.NativeBackend;
import org.bytedeco.javacpp.DoublePointer;
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
 * Square matrix product {@code C = A B} (row-major, n x n, beta = 0), f32 and f64, on 1 or 2 kernel threads:
 * Sprout's native backend ({@link NativeBackend}, widest ISA the CPU runs), Sprout's pure-Java kernel
 * ({@link JavaGemm}), and OpenBLAS ({@code cblas_sgemm}/{@code cblas_dgemm} from bytedeco's OpenBLAS 0.3.31 on off-heap
 * pointers, {@code openblas_set_num_threads(threads)}).
 *
 * <p>{@code threads} is the kernel's thread count (one JMH thread calls it): the native backend splits a product
 * into row ranges across its threads when each piece holds ~1 ms of work, the Java kernel likewise, OpenBLAS as it
 * does. GFLOP/s = the {@code flop} secondary metric (ops/s) / 1e9 ({@code 2 n^3} flops per call). Run it with
 * {@code benchmarks/run-gemm.sh}, which clears {@code OPENBLAS_CORETYPE} / {@code OPENBLAS_L2_SIZE} for the run
 * (OpenBLAS then picks its AVX-512 kernels where the CPU has them), prints a table with the ratio to OpenBLAS and
 * writes the summary JSON. The setup prints one {@code # sprout-bench:} line per trial with the OpenBLAS core (kernel
 * family), the native ISA or the Java kernel; the script reports them.
 *
 * <p>{@code impl = native-vs-openblas} runs Sprout's native product and OpenBLAS's alternately within one invocation
 * (the order flips every call) and times each separately ({@link Pair}: wall and CPU nanoseconds per side): both see
 * the same moment's load, so their ratio holds on a shared machine where consecutive trials can differ by 2x (other
 * tenants slow the core itself, and the CPU time with it). Its {@code flop} counter counts both products.
 *
 * <p>Warm-up: {@link JavaGemm#warmUp()} for the Java kernel (Vector API code is ~1000x slower before C2 compiles
 * it), then 3 x 1 s of JMH warm-up iterations; measurement 3 x 1 s; one fork per trial. {@code n} may be set to any
 * value in [64, 2048] with {@code -p n=...}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1, timeUnit = TimeUnit.SECONDS)
@Measurement(iterations = 3, time = 1, timeUnit = TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xss8m"})
@Threads(1)
public class GemmBenchmark {
    public static final String NATIVE = "sprout-native";
    public static final String SPROUT = "sprout-java";
    public static final String OPENBLAS = "openblas";
    public static final String INTERLEAVED = "native-vs-openblas";

    @Param({"64", "128", "256", "512", "1024", "2048"})
    public int n;

    @Param({NATIVE, SPROUT, OPENBLAS, INTERLEAVED})
    public String impl;

    @Param({"f32", "f64"})
    public String dtype;

    @Param({"1", "2"})
    public int threads;

    private float[] a, b, c;
    private double[] ad, bd, cd;
    private GemmShape shape;
    private NativeBackend nat;
    private FloatPointer pa, pb, pc;
    private DoublePointer pad, pbd, pcd;
    private boolean f64;

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

    /**
     * Per-side times of the interleaved products ({@link #INTERLEAVED}), summed over an iteration: wall and CPU
     * nanoseconds (CPU: this thread's at one kernel thread, the process's otherwise) and the number of pairs.
     */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.EVENTS)
    public static class Pair {
        public long nativeNs, openblasNs, nativeCpuNs, openblasCpuNs, pairs;

        @Setup(Level.Iteration)
        public void reset() {
            nativeNs = openblasNs = nativeCpuNs = openblasCpuNs = pairs = 0;
        }
    }

    private boolean nativeFirst;

    @Setup(Level.Trial)
    public void setUp() {
        if (n < 64 || n > 2048) {
            throw new IllegalArgumentException("n must be in [64, 2048], got " + n);
        }
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        }
        f64 = switch (dtype) {
            case "f32" -> false;
            case "f64" -> true;
            default -> throw new IllegalArgumentException("dtype must be f32 or f64, got " + dtype);
        };
        SplittableRandom r = new SplittableRandom(42);
        a = new float[n * n];
        b = new float[n * n];
        c = new float[n * n];
        ad = new double[n * n];
        bd = new double[n * n];
        cd = new double[n * n];
        for (int i = 0; i < n * n; i++) {
            a[i] = (float) (r.nextDouble() - 0.5);
            b[i] = (float) (r.nextDouble() - 0.5);
            ad[i] = a[i];
            bd[i] = b[i];
        }
        shape = GemmShape.of(false, false, n, n, n);
        String head = "# sprout-bench: impl=" + impl + " dtype=" + dtype + " n=" + n + " threads=" + threads;
        switch (impl) {
            case NATIVE:
                nat = new NativeBackend(NativeBackend.best().isa(), threads);
                System.out.println(head + " isa=" + nat.isa().label() + " describe=" + nat.describe());
                break;
            case INTERLEAVED:
                nat = new NativeBackend(NativeBackend.best().isa(), threads);
                openblasSetUp();
                System.out.println(head + " isa=" + nat.isa().label() + " corename="
                        + openblas_full.openblas_get_corename().getString() + " OPENBLAS_CORETYPE=" + System.getenv("OPENBLAS_CORETYPE"));
                break;
            case SPROUT:
                long ms = JavaGemm.warmUp().toMillis();
                System.out.println(head + " kernel=" + JavaGemm.kernelDescription() + " warmUp=" + ms + "ms jdk=" + Runtime.version());
                break;
            case OPENBLAS:
                openblasSetUp();
                System.out.println(head + " corename=" + openblas_full.openblas_get_corename().getString() + " config="
                        + openblas_full.openblas_get_config().getString() + " OPENBLAS_CORETYPE=" + System.getenv("OPENBLAS_CORETYPE"));
                break;
            default:
                throw new IllegalArgumentException("impl must be " + NATIVE + ", " + SPROUT + ", " + OPENBLAS + " or "
                        + INTERLEAVED + ", got " + impl);
        }
        if (impl.equals(INTERLEAVED)) {
            run(NATIVE);
            check(false);
            run(OPENBLAS);
            check(true);
        } else {
            run(impl);
            check(impl.equals(OPENBLAS));
        }
    }

    private void openblasSetUp() {
        openblas_full.openblas_set_num_threads(threads);
        if (f64) {
            pad = new DoublePointer(ad);
            pbd = new DoublePointer(bd);
            pcd = new DoublePointer((long) n * n);
        } else {
            pa = new FloatPointer(a);
            pb = new FloatPointer(b);
            pc = new FloatPointer((long) n * n);
        }
    }

    /** One product; the result stays in c / pc, which outlive the call, so it cannot be optimised away. */
    private void run(String which) {
        switch (which) {
            case NATIVE -> {
                if (f64) {
                    nat.dgemm(shape, 1.0, ad, 0, bd, 0, 0.0, cd, 0);
                } else {
                    nat.sgemm(shape, 1f, a, 0, b, 0, 0f, c, 0);
                }
            }
            case SPROUT -> {
                if (f64) {
                    JavaGemm.dgemm(shape, 1.0, ad, 0, bd, 0, 0.0, cd, 0, threads);
                } else {
                    JavaGemm.sgemm(shape, 1f, a, 0, b, 0, 0f, c, 0, threads);
                }
            }
            default -> {
                if (f64) {
                    openblas_full.cblas_dgemm(openblas_full.CblasRowMajor, openblas_full.CblasNoTrans, openblas_full.CblasNoTrans,
                            n, n, n, 1.0, pad, n, pbd, n, 0.0, pcd, n);
                } else {
                    openblas_full.cblas_sgemm(openblas_full.CblasRowMajor, openblas_full.CblasNoTrans, openblas_full.CblasNoTrans,
                            n, n, n, 1f, pa, n, pb, n, 0f, pc, n);
                }
            }
        }
    }

    /** A few entries against a double-precision dot product: a wrong kernel must not produce a number. */
    private void check(boolean openblas) {
        for (int t = 0; t < 5; t++) {
            int i = (t * 7919) % n;
            int j = (t * 104729 + 3) % n;
            double want = 0;
            double abs = 0;
            for (int p = 0; p < n; p++) {
                want += (double) a[i * n + p] * b[p * n + j];
                abs += Math.abs((double) a[i * n + p] * b[p * n + j]);
            }
            double got;
            if (openblas) {
                got = f64 ? pcd.get((long) i * n + j) : pc.get((long) i * n + j);
            } else {
                got = f64 ? cd[i * n + j] : c[i * n + j];
            }
            if (Math.abs(got - want) > 1e-5 * abs + 1e-6) {
                throw new IllegalStateException(impl + " " + dtype + " n=" + n + ": C[" + i + "," + j + "] = " + got + ", expected " + want);
            }
        }
    }

    /**
     * Products of n >= 256 (0.1 ms or more) are also timed in CPU time ({@link CpuClock}); the interleaved pair times
     * each side ({@link Pair}) at every n.
     */
    @Benchmark
    public void gemm(Flops f, CpuClock cpu, Pair pair) {
        if (impl.equals(INTERLEAVED)) {
            nativeFirst = !nativeFirst;
            timed(nativeFirst ? NATIVE : OPENBLAS, pair);
            timed(nativeFirst ? OPENBLAS : NATIVE, pair);
            pair.pairs++;
            f.flop += 4L * n * n * n;
            return;
        }
        if (n >= 256) {
            long t0 = CpuClock.now(threads);
            run(impl);
            cpu.add(t0, threads);
        } else {
            run(impl);
        }
        f.flop += 2L * n * n * n;
    }

    private void timed(String which, Pair pair) {
        long c0 = CpuClock.now(threads), w0 = System.nanoTime();
        run(which);
        long w = System.nanoTime() - w0, c = CpuClock.now(threads) - c0;
        if (which.equals(NATIVE)) {
            pair.nativeNs += w;
            pair.nativeCpuNs += c;
        } else {
            pair.openblasNs += w;
            pair.openblasCpuNs += c;
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        for (org.bytedeco.javacpp.Pointer p : new org.bytedeco.javacpp.Pointer[] {pa, pb, pc, pad, pbd, pcd}) {
            if (p != null) {
                p.deallocate();
            }
        }
        pa = pb = pc = null;
        pad = pbd = pcd = null;
    }
}
