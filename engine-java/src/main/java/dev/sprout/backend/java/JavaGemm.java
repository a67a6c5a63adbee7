package dev.sprout.backend.java;

import dev.sprout.backend.GemmShape;
import dev.sprout.backend.GemmShape.Trans;

import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.time.Duration;

/**
 * The pure-Java matrix products: static entry points with full BLAS semantics, run by the production variant of
 * {@link GemmVariants} ({@code vectorPacked} when the Vector API is readable, else {@code blockedScalar}).
 *
 * <p>Semantics (all three types): {@code C[b] = alpha * op(A[b]) op(B[b]) + beta * C[b]} for each batch item b,
 * row-major, with the transposes, leading dimensions and batch strides of {@link GemmShape} (stride 0 broadcasts
 * an operand). {@code beta == 0} overwrites C without reading it (NaN in C does not survive); {@code k == 0} or
 * {@code alpha == 0} gives {@code C = beta * C} without reading A or B; {@code m, n or batch == 0} does nothing.
 * Shapes, bounds ({@link GemmShape#checkBounds}) and nulls are checked first, and C may not overlap A or B
 * ({@link IllegalArgumentException} naming the operands).
 *
 * <p>Speed: see {@link PackedGemmF32} for the performance model. The Vector API kernels are ~1000x slower until
 * C2 has compiled them: call {@link #warmUp()} once at start-up (it takes 1-5 s) before timing anything.
 *
 * <p>Threads: {@code threads} caps how many threads one call may use ({@link Parallel}); 1 runs on the caller.
 */
public final class JavaGemm {
    private static volatile boolean warm;

    private JavaGemm() {
    }

    /** f32 product; see the class comment. */
    public static void sgemm(GemmShape g, float alpha, float[] a, int aOff, float[] b, int bOff, float beta, float[] c,
                             int cOff, int threads) {
        GemmVariants.best().sgemm(g, alpha, a, aOff, b, bOff, beta, c, cOff, threads);
    }

    /** f64 product; see the class comment. */
    public static void dgemm(GemmShape g, double alpha, double[] a, int aOff, double[] b, int bOff, double beta, double[] c,
                             int cOff, int threads) {
        GemmVariants.best().dgemm(g, alpha, a, aOff, b, bOff, beta, c, cOff, threads);
    }

    /** {@link #sgemm} under a name shared with the f64 overload, for kernels generated from one f32 template. */
    public static void gemm(GemmShape g, float alpha, float[] a, int aOff, float[] b, int bOff, float beta, float[] c,
                            int cOff, int threads) {
        sgemm(g, alpha, a, aOff, b, bOff, beta, c, cOff, threads);
    }

    /** {@link #dgemm} under a name shared with the f32 overload. */
    public static void gemm(GemmShape g, double alpha, double[] a, int aOff, double[] b, int bOff, double beta, double[] c,
                            int cOff, int threads) {
        dgemm(g, alpha, a, aOff, b, bOff, beta, c, cOff, threads);
    }

    /**
     * Complex (c64, interleaved {@code re, im}) product; offsets, leading dimensions and strides count complex
     * elements; {@link Trans#H} is the conjugate transpose.
     */
    public static void cgemm(GemmShape g, float alphaRe, float alphaIm, float[] a, int aOff, float[] b, int bOff,
                             float betaRe, float betaIm, float[] c, int cOff, int threads) {
        GemmVariants.best().cgemm(g, alphaRe, alphaIm, a, aOff, b, bOff, betaRe, betaIm, c, cOff, threads);
    }

    /** Whether the Vector API kernels are on. */
    public static boolean vectorized() {
        return VectorProbe.available();
    }

    /** One line: which kernel runs, its tile and block sizes, and why the Vector API is off if it is. */
    public static String kernelDescription() {
        if (VectorProbe.available()) {
            return GemmVariants.VECTOR_PACKED + " (" + VectorKernels.describe() + "; MC=" + PackedGemmF32.MC + " KC="
                    + PackedGemmF32.KC + " NC=" + PackedGemmF32.NC + ")";
        }
        return GemmVariants.BLOCKED_SCALAR + " (" + ScalarKernelF32.MR + "x" + ScalarKernelF32.NR
                + " scalar tiles; Vector API off: " + VectorProbe.reason() + ")";
    }

    /**
     * A warm-up round must reach this rate before warm-up may stop: C2-compiled vector kernels run these small
     * products at 10-40 GFLOP/s; interpreted or C1-compiled ones (which box every vector) below 1.
     */
    static final double WARM_FLOPS_PER_SECOND = 3e9;

    /** Longest {@link #warmUp()} runs before it gives up waiting for the JIT. */
    static final Duration WARM_UP_CAP = Duration.ofSeconds(20);

    /**
     * Runs the production kernels (f32, f64 and complex; both packed-A layouts; full and edge tiles; beta 0, 1 and
     * other) on small products until C2 has compiled them, and returns how long that took ({@link Duration#ZERO}
     * if an earlier call already did it).
     *
     * <p>Why: interpreted or C1-compiled Vector API code allocates an object per vector operation and runs ~1000x
     * slower than C2's code (a 128^3 sgemm: ~7 ms to ~400 ms before, ~30 us after); C2 compiles a kernel only after
     * ~600 calls and ~15 000 loop iterations of it. Call this once at start-up, and before any benchmark.
     *
     * <p>How long: rounds of the same small products (~1 MFLOP per round) until the best round runs at
     * {@link #WARM_FLOPS_PER_SECOND} or more (with the Vector API) and has not improved by 10 % for 50 rounds and
     * 300 ms while the JIT compiled nothing new, after at least 150 rounds; at most {@link #WARM_UP_CAP}. About
     * 1.5-5 s on JDK 17 on this 2-core machine.
     */
    public static Duration warmUp() {
        if (warm) {
            return Duration.ZERO;
        }
        synchronized (JavaGemm.class) {
            if (warm) {
                return Duration.ZERO;
            }
            long start = System.nanoTime();
            long cap = start + WARM_UP_CAP.toNanos();
            CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
            boolean jitTime = jit != null && jit.isCompilationTimeMonitoringSupported();
            WarmUpWork work = new WarmUpWork();
            long best = Long.MAX_VALUE;
            int bestRound = 0;
            long bestAt = start;
            long jitSeen = jitTime ? jit.getTotalCompilationTime() : 0;
            long jitQuietSince = start;
            for (int round = 0; ; round++) {
                long t0 = System.nanoTime();
                work.run(round);
                long t1 = System.nanoTime();
                if (t1 - t0 < best * 0.9) {
                    bestRound = round;
                    bestAt = t1;
                }
                best = Math.min(best, t1 - t0);
                if (jitTime) {
                    long now = jit.getTotalCompilationTime();
                    if (now != jitSeen) {
                        jitSeen = now;
                        jitQuietSince = t1;
                    }
                }
                boolean fast = !VectorProbe.available() || WarmUpWork.FLOPS / best * 1e9 >= WARM_FLOPS_PER_SECOND;
                boolean settled = fast && round >= 150 && round - bestRound >= 50 && t1 - bestAt >= 300_000_000L
                        && (!jitTime || t1 - jitQuietSince >= 200_000_000L);
                if (settled || t1 > cap) {
                    break;
                }
            }
            warm = true;
            return Duration.ofNanos(System.nanoTime() - start);
        }
    }

    /** The fixed products of one warm-up round. */
    private static final class WarmUpWork {
        private static final int M = 24;
        private static final int N = 37;
        private static final int K = 40;
        private static final float[] BETAS = {0f, 1f, 0.5f};
        /** Flops of one round: 3 sgemm + 3 dgemm + 2 cgemm. */
        static final double FLOPS = (3 * 2.0 + 3 * 2.0 + 2 * 8.0) * M * N * K;
        private final float[] a = new float[M * K * 2];
        private final float[] b = new float[K * N * 2];
        private final float[] c = new float[M * N * 2];
        private final double[] ad = new double[M * K];
        private final double[] bd = new double[K * N];
        private final double[] cd = new double[M * N];

        WarmUpWork() {
            for (int i = 0; i < a.length; i++) {
                a[i] = (i % 7) * 0.25f - 0.5f;
            }
            for (int i = 0; i < b.length; i++) {
                b[i] = (i % 5) * 0.25f - 0.5f;
            }
            for (int i = 0; i < ad.length; i++) {
                ad[i] = a[i];
            }
            for (int i = 0; i < bd.length; i++) {
                bd[i] = b[i];
            }
        }

        void run(int round) {
            float beta = BETAS[round % BETAS.length];
            GemmVariant v = GemmVariants.best();
            GemmShape nn = GemmShape.of(false, false, M, N, K);
            GemmShape tn = GemmShape.of(true, false, M, N, K);
            GemmShape nt = GemmShape.of(false, true, M, N, K);
            java.util.Arrays.fill(c, 0f);
            java.util.Arrays.fill(cd, 0.0);
            v.sgemm(nn, 1f, a, 0, b, 0, beta, c, 0, 1);
            v.sgemm(tn, 0.5f, a, 0, b, 0, beta, c, 0, 1);
            v.sgemm(nt, 0.5f, a, 0, b, 0, beta, c, 0, 1);
            v.dgemm(nn, 1.0, ad, 0, bd, 0, beta, cd, 0, 1);
            v.dgemm(tn, 0.5, ad, 0, bd, 0, beta, cd, 0, 1);
            v.dgemm(nt, 0.5, ad, 0, bd, 0, beta, cd, 0, 1);
            java.util.Arrays.fill(c, 0f);
            v.cgemm(nn, 1f, 0.5f, a, 0, b, 0, beta, 0f, c, 0, 1);
            v.cgemm(tn.withTrans(Trans.H, Trans.N), 1f, 0f, a, 0, b, 0, beta, 0f, c, 0, 1);
        }
    }
}
