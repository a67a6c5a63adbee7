package dev.sprout.backend.java;

import dev.sprout.backend.GemmShape.Trans;

/**
 * Packed, cache-blocked matrix product {@code C = alpha * A~ B~ + beta * C} for one (batch item of a)
 * product, around a register-tile {@link MicroKernelF32} (Goto / BLIS structure).
 *
 * <h2>Performance model (Zen 5 core: 48 KiB L1D, 1 MiB L2, 2 x 512-bit FMA pipes, FMA latency 4 cycles)</h2>
 * Loop nest, outermost first:
 * <pre>
 *   jc over n in steps of NC (2048)          B block  KC x NC  (f32: 2 MiB)  packed once per (jc, pc): L3
 *     pc over k in steps of KC (256)
 *       pack B~[pc.., jc..]                    into k-major NR-column panels
 *       ic over m in steps of MC (192)        A block  MC x KC  (f32: 192 KiB, f64: 384 KiB): L2
 *         pack A~[ic.., pc..]                  into MR-row panels (row layout when A is not transposed)
 *         jr over the NR-column panels        B panel  KC x NR  (32 KiB f32 and f64): L1, reused MC/MR times
 *           ir over the MR-row panels         A panel  MR x KC  (8 KiB f32) streamed from L2
 *             micro-kernel MR x NR over KC    accumulators in registers
 * </pre>
 * <ul>
 *   <li><b>Micro-kernel</b> (vector: MR = 8 rows x NR = 2 vectors = 16 zmm accumulators): per k it loads 2
 *       vectors of B~, broadcasts 8 values of A~ and issues 16 independent FMAs, which covers the 2 pipes x 4 cycles
 *       of FMA latency (8 FMAs in flight) twice over with 19 of the 32 vector registers.</li>
 *   <li><b>KC = 256</b>: the B~ panel (KC x 2 vectors = 32 KiB) plus the streaming A~ panel (8 KiB) fit the
 *       48 KiB L1D; longer KC would evict the B~ panel, shorter raises the C load/store overhead per FMA
 *       (C is touched once per KC FMAs per element).</li>
 *   <li><b>MC = 192</b>: the A~ block is re-read from L2 for each of the NC/NR B~ panels; 192 KiB (f32) leaves
 *       most of the 1 MiB L2 for the B~ panels streaming through and for the other thread's data.</li>
 *   <li><b>NC = 2048</b>: only bounds the packed-B~ buffer (2 MiB f32); B~ panels are read once per A block.</li>
 *   <li><b>Packing</b> costs O(mk + kn) copies against O(mnk) FMAs. Measured per element (f32, n = 256): A~ of an
 *       untransposed A (row layout: one arraycopy per row) 0.12 ns; A~ of a transposed A and B~ of an
 *       untransposed B (rows of MR / NR contiguous values: vector copies, {@link MicroKernelF32#copyRows}) 0.14-0.25
 *       ns; B~ of a transposed B (a transposition, 4 x 4 blocks) ~0.4-0.8 ns. At n = 256 that is 3-8 % of the
 *       product; before the vector copies the transposing and narrow-row packs cost up to 20 %.</li>
 *   <li><b>Edges</b>: partial panels are zero-padded, so the kernel always runs the full vector tile; only the
 *       store of an edge tile goes through a scratch tile and a scalar loop (O(m + n) tiles of O(mn / (MR NR))).</li>
 *   <li><b>beta</b> is applied with the first k-block only ({@code beta == 0}: C overwritten, never read); later
 *       k-blocks accumulate.</li>
 * </ul>
 * Measured (f32, one thread, JDK 17, JMH, this shared 2-core Zen 5 box; benchmarks/run-gemm.sh): 108-124 GFLOP/s at
 * n = 256..1024, 0.90-1.10x OpenBLAS 0.3.31's Cooperlake sgemm in the same run (which reached 112-121 there;
 * 165-185 on a quiet box per cpu-limits.md). All four transpose combinations are within ~10 % of that; f64 runs at
 * ~55-60 GFLOP/s (0.9x OpenBLAS dgemm), c64 at ~100-120 (8mnk flops). The kernel alone, on hot packed data,
 * reaches ~160 (75 % of the 211 GFLOP/s FMA peak); below n ~ 128 per-call costs (packing, tile set-up,
 * checks) take it to 0.5-0.7x OpenBLAS.
 *
 * <p>Thread-safe: packing buffers are per thread.
 */
final class PackedGemmF32 {
    /** Default block sizes (see the class comment). */
    static final int MC = 192;
    static final int KC = MicroKernelF32.KCS;
    static final int NC = 2048;

    /** Spare elements at the end of the packing buffers (at least one vector of the widest species). */
    private static final int SLACK = 64;

    private static final ThreadLocal<float[][]> WORK = ThreadLocal.withInitial(() -> new float[3][0]);

    final MicroKernelF32 kernel;
    private final int mc;
    private final int kc;
    private final int nc;

    PackedGemmF32(MicroKernelF32 kernel) {
        this(kernel, MC, KC, NC);
    }

    /** Block sizes are rounded to multiples of the tile; {@code kc} must be even and at most {@link MicroKernelF32#KCS}. */
    PackedGemmF32(MicroKernelF32 kernel, int mc, int kc, int nc) {
        if (kc < 2 || kc > MicroKernelF32.KCS || kc % 2 != 0 || mc < 1 || nc < 1) {
            throw new IllegalArgumentException("bad block sizes mc=" + mc + " kc=" + kc + " nc=" + nc);
        }
        this.kernel = kernel;
        this.mc = roundUp(mc, kernel.mr);
        this.kc = kc;
        this.nc = roundUp(nc, kernel.nr);
    }

    private static int roundUp(int x, int m) {
        return (x + m - 1) / m * m;
    }

    /** A real product on row-major operands; m, n, k > 0. */
    void gemm(Trans ta, Trans tb, int m, int n, int k, float alpha, float[] a, int aOff, int lda,
              float[] b, int bOff, int ldb, float beta, float[] c, int cOff, int ldc) {
        gemm(new PanelsF32.RealA(ta, a, aOff, lda), new PanelsF32.RealB(tb, b, bOff, ldb), m, n, k, alpha, beta, c, cOff, ldc);
    }

    /** {@code C = alpha * A~ B~ + beta * C} with C {@code m x n} at {@code c[cOff]}, row stride ldc; m, n, k > 0. */
    void gemm(PanelsF32.A aSrc, PanelsF32.B bSrc, int m, int n, int k, float alpha, float beta, float[] c, int cOff, int ldc) {
        final MicroKernelF32 kern = kernel;
        final int mr = kern.mr;
        final int nr = kern.nr;
        final int kcs = MicroKernelF32.KCS;
        final boolean rows = aSrc.rows();
        int mcMax = Math.min(mc, roundUp(m, mr));
        int ncMax = Math.min(nc, roundUp(n, nr));
        int kcMax = Math.min(kc, k);
        float[][] w = WORK.get();
        // + SLACK: vector packing may write one vector past the last panel (MicroKernelF32.copyRows)
        if (w[0].length < mcMax * kcs + SLACK) {
            w[0] = new float[mcMax * kcs + SLACK];
        }
        if (w[1].length < ncMax * kcMax + SLACK) {
            w[1] = new float[ncMax * kcMax + SLACK];
        }
        if (w[2].length < mr * nr) {
            w[2] = new float[mr * nr];
        }
        float[] ap = w[0];
        float[] bp = w[1];
        float[] tile = w[2];
        for (int jc = 0; jc < n; jc += nc) {
            int ncur = Math.min(nc, n - jc);
            for (int pc = 0; pc < k; pc += kc) {
                int kcur = Math.min(kc, k - pc);
                bSrc.pack(pc, kcur, jc, ncur, kern, bp);
                float betaHere = pc == 0 ? beta : 1f;
                for (int ic = 0; ic < m; ic += mc) {
                    int mcur = Math.min(mc, m - ic);
                    aSrc.pack(ic, mcur, pc, kcur, kern, ap);
                    for (int jr = 0; jr < ncur; jr += nr) {
                        int nv = Math.min(nr, ncur - jr);
                        int bo = jr * kcur;
                        int co = cOff + ic * ldc + jc + jr;
                        for (int ir = 0; ir < mcur; ir += mr) {
                            int mv = Math.min(mr, mcur - ir);
                            kern.tile(kcur, ap, ir * kcs, rows, bp, bo, alpha, betaHere, c, co + ir * ldc, ldc, mv, nv, tile);
                        }
                    }
                }
            }
        }
    }

    @Override
    public String toString() {
        return kernel.name + " (MC=" + mc + ", KC=" + kc + ", NC=" + nc + ")";
    }
}
