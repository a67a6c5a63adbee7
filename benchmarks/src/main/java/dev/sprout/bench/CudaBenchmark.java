package dev.sprout.bench;

import dev.sprout.backend.GemmShape;
import dev.sprout.cuda.CudaDevice;
import dev.sprout.cuda.CudaGemm;
import dev.sprout.cuda.CudaLinalg;
import dev.sprout.cuda.DeviceBuffer;
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

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * Sprout's CUDA kernels on device-resident data (no host copies in the timed region): each invocation launches
 * the kernel(s) and waits for the stream, so the time is the kernel time plus one synchronisation (~10 us,
 * negligible at these sizes). The peers (cuBLAS through {@code torch.mm}, {@code torch.linalg.eigh},
 * {@code torch.linalg.solve}) are measured by {@code cuda/device/torch_peers.py} in the same device script
 * ({@code cuda/device-check.sh}), on the same inputs' shapes.
 *
 * <ul>
 *   <li>{@code sgemm}: square f32 {@code C = A B}, n = 1024..8192, SIMT and TF32 variants; {@code flop}
 *       counts 2 n^3 per call (GFLOP/s = flop / 1e9).</li>
 *   <li>{@code eigh}: 10,000 symmetric 64x64 f32 matrices, all eigenpairs (batched Jacobi).</li>
 *   <li>{@code csolve}: one complex64 system {@code A X = B} with n right-hand sides (the Cayley transform's
 *       solve), n = 256..1024; A and B are restored from pristine copies by device-to-device copies inside the
 *       timed call (the solve overwrites them), as torch.linalg.solve also copies its inputs.</li>
 * </ul>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1, timeUnit = TimeUnit.SECONDS)
@Measurement(iterations = 5, time = 1, timeUnit = TimeUnit.SECONDS)
@Fork(1)
public class CudaBenchmark {

    @AuxCounters(AuxCounters.Type.OPERATIONS)
    @State(Scope.Thread)
    public static class Flops {
        public long flop;

        @Setup(Level.Iteration)
        public void reset() {
            flop = 0;
        }
    }

    static DeviceBuffer random(CudaDevice d, int count, long seed, boolean symmetricN, int n) {
        float[] x = new float[count];
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = 0; i < count; i++) {
            x[i] = (float) (r.nextDouble() * 2 - 1);
        }
        if (symmetricN) {
            for (int base = 0; base < count; base += n * n) {
                for (int i = 0; i < n; i++) {
                    for (int j = 0; j < i; j++) {
                        x[base + j * n + i] = x[base + i * n + j];
                    }
                }
            }
        }
        return d.upload(x, 0, count);
    }

    @State(Scope.Thread)
    public static class Gemm {
        @Param({"1024", "2048", "4096", "8192"})
        public int n;

        @Param({"SIMT", "TF32"})
        public String variant;

        CudaDevice d;
        DeviceBuffer a, b, c;
        GemmShape shape;
        CudaGemm.Variant v;

        @Setup(Level.Trial)
        public void setUp() {
            d = CudaDevice.shared();
            a = random(d, n * n, 1, false, 0);
            b = random(d, n * n, 2, false, 0);
            c = d.alloc(4L * n * n);
            shape = GemmShape.of(false, false, n, n, n);
            v = CudaGemm.Variant.valueOf(variant);
            System.out.println("# sprout-bench: cuda " + d.describe() + " sgemm " + CudaGemm.describe(v));
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            a.close();
            b.close();
            c.close();
        }
    }

    @Benchmark
    public void sgemm(Gemm s, Flops f) {
        CudaGemm.sgemm(s.d, s.v, s.shape, 1f, s.a, 0, s.b, 0, 0f, s.c, 0);
        s.d.synchronize();
        f.flop += 2L * s.n * s.n * s.n;
    }

    @State(Scope.Thread)
    public static class Eigh {
        @Param({"10000"})
        public int batch;

        @Param({"64"})
        public int eigN;

        CudaDevice d;
        DeviceBuffer a, w, v;

        @Setup(Level.Trial)
        public void setUp() {
            d = CudaDevice.shared();
            a = random(d, batch * eigN * eigN, 3, true, eigN);
            w = d.alloc(4L * batch * eigN);
            v = d.alloc(4L * batch * eigN * eigN);
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            a.close();
            w.close();
            v.close();
        }
    }

    @Benchmark
    public void eigh(Eigh s) {
        CudaLinalg.symEigF32(s.d, s.batch, s.eigN, s.eigN, s.a, 0, s.w, 0, s.v, 0);
        s.d.synchronize();
    }

    @State(Scope.Thread)
    public static class Solve {
        @Param({"256", "512", "1024"})
        public int solveN;

        /** CUDA-graph replay of the blocked LU ({@code -Dsprout.cuda.graphs}, read by every solve). */
        @Param({"true", "false"})
        public String graphs;

        CudaDevice d;
        DeviceBuffer a0, b0, a, b;

        @Setup(Level.Trial)
        public void setUp() {
            System.setProperty(CudaLinalg.GRAPHS_PROPERTY, graphs);
            d = CudaDevice.shared();
            // a well-conditioned system: random entries plus n on the diagonal
            float[] x = new float[2 * solveN * solveN];
            SplittableRandom r = new SplittableRandom(4);
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) (r.nextDouble() * 2 - 1);
            }
            for (int i = 0; i < solveN; i++) {
                x[2 * (i * solveN + i)] += solveN;
            }
            a0 = d.upload(x, 0, x.length);
            b0 = random(d, 2 * solveN * solveN, 5, false, 0);
            a = d.alloc(8L * solveN * solveN);
            b = d.alloc(8L * solveN * solveN);
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            a0.close();
            b0.close();
            a.close();
            b.close();
            d.dropCachedGraphs();
            System.clearProperty(CudaLinalg.GRAPHS_PROPERTY);
        }
    }

    @Benchmark
    public int csolve(Solve s) {
        int n = s.solveN;
        s.d.copy(s.a0, 0, s.a, 0, 8L * n * n);
        s.d.copy(s.b0, 0, s.b, 0, 8L * n * n);
        return CudaLinalg.cgesv(s.d, 1, n, n, s.a, 0, s.b, 0)[0]; // synchronises (returns the info)
    }
}
