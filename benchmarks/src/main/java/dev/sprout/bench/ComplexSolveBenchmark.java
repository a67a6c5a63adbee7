package dev.sprout.bench;

import dev.sprout.backend.Backend;
import dev.sprout.backend.java.JavaBackend;
import dev.sprout.backend.nativecpu.NativeBackend;
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
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * Complex (c64, interleaved) LU solve {@code A X = B} with partial pivoting, {@code n x n}, with one right-hand side
 * ({@code rhs = 1}) or {@code n} of them ({@code rhs = n}, an inverse's worth), one thread: Sprout's native backend
 * and Java backend ({@code Backend.cgesv}) against OpenBLAS's {@code LAPACKE_cgesv} (OpenBLAS at one thread). Every
 * call copies A and B first (the solvers overwrite them; O(n^2), included for all three). Score: ms per solve
 * (average time). Same work as torch_cpu.py's {@code torch.linalg.solve(A, b[n,1])} / {@code solve(A, I)}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1, timeUnit = TimeUnit.SECONDS)
@Measurement(iterations = 3, time = 1, timeUnit = TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xss8m"})
@Threads(1)
public class ComplexSolveBenchmark {
    public static final String NATIVE = "sprout-native";
    public static final String JAVA = "sprout-java";
    public static final String LAPACKE = "lapacke-cgesv";

    @Param({"64", "128", "256", "512"})
    public int n;

    @Param({"1", "n"})
    public String rhs;

    @Param({NATIVE, JAVA, LAPACKE})
    public String impl;

    private int nrhs;
    private float[] a0, b0, a, b;
    private int[] ipiv;
    private Backend backend;

    @Setup(Level.Trial)
    public void setUp() {
        nrhs = rhs.equals("n") ? n : Integer.parseInt(rhs);
        SplittableRandom r = new SplittableRandom(7);
        a0 = new float[2 * n * n];
        b0 = new float[2 * n * nrhs];
        for (int i = 0; i < a0.length; i++) {
            a0[i] = (float) r.nextGaussian();
        }
        for (int i = 0; i < b0.length; i++) {
            b0[i] = (float) r.nextGaussian();
        }
        a = new float[a0.length];
        b = new float[b0.length];
        ipiv = new int[n];
        String head = "# sprout-bench: impl=" + impl + " n=" + n + " rhs=" + nrhs + " threads=1";
        switch (impl) {
            case NATIVE -> backend = new NativeBackend(NativeBackend.best().isa(), 1);
            case JAVA -> backend = new JavaBackend(1);
            case LAPACKE -> openblas_full.openblas_set_num_threads(1);
            default -> throw new IllegalArgumentException("impl: " + impl);
        }
        System.out.println(head + (backend != null ? " " + backend.describe()
                : " corename=" + openblas_full.openblas_get_corename().getString()));
        solve();
        check();
    }

    private void solve() {
        System.arraycopy(a0, 0, a, 0, a0.length);
        System.arraycopy(b0, 0, b, 0, b0.length);
        int info = backend != null ? backend.cgesv(n, nrhs, a, 0, b, 0)
                : openblas_full.LAPACKE_cgesv(openblas_full.LAPACK_ROW_MAJOR, n, nrhs, a, n, ipiv, b, nrhs);
        if (info != 0) {
            throw new IllegalStateException(impl + ": cgesv info " + info);
        }
    }

    /** The residual of the first right-hand side, ||A x - b|| / (||A|| ||x||), must be at f32 rounding level. */
    private void check() {
        double res = 0, an = 0, xn = 0;
        for (int i = 0; i < n; i++) {
            double re = -b0[2 * i * nrhs], im = -b0[2 * i * nrhs + 1];
            for (int k = 0; k < n; k++) {
                double ar = a0[2 * (i * n + k)], ai = a0[2 * (i * n + k) + 1];
                double xr = b[2 * k * nrhs], xi = b[2 * k * nrhs + 1];
                re += ar * xr - ai * xi;
                im += ar * xi + ai * xr;
                an += ar * ar + ai * ai;
            }
            res += re * re + im * im;
            xn += b[2 * i * nrhs] * (double) b[2 * i * nrhs] + b[2 * i * nrhs + 1] * (double) b[2 * i * nrhs + 1];
        }
        double rel = Math.sqrt(res) / (Math.sqrt(an) * Math.sqrt(xn));
        if (!(rel < 1e-4)) {
            throw new IllegalStateException(impl + " n=" + n + ": relative residual " + rel);
        }
    }

    @Benchmark
    public float cgesv() {
        solve();
        return b[0];
    }
}
