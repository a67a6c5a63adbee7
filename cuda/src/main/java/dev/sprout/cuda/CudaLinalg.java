package dev.sprout.cuda;

import dev.sprout.backend.Checks;
import dev.sprout.backend.GemmShape;
import dev.sprout.backend.GemmShape.Trans;
import jcuda.driver.CUdeviceptr;

/**
 * Host launchers of the dense linear-algebra kernels in {@code src/main/cuda/eigen.cu} and {@code lu.cu}: the
 * batched symmetric eigen-solver and batched LU solves (f32, f64, c64), with the contracts of
 * {@link dev.sprout.backend.Backend#symEig} and {@link dev.sprout.backend.Backend#gesv} (the Java references are
 * {@link dev.sprout.linalg.SymmetricEigen}, {@link dev.sprout.linalg.LU} and {@link dev.sprout.linalg.ComplexLU}).
 * Offsets are in elements (complex elements for {@link #cgesv}). Sizes, bounds and aliasing are checked before
 * anything is launched; scratch memory comes from the device's allocator and is released (to its cache) before
 * return, which is safe because all work is ordered on the device's one stream.
 *
 * <h2>symEig: parallel cyclic Jacobi, one block per matrix</h2>
 * {@code n <= 64} (and the working set fits the opt-in shared memory): {@code sprout_symeig_small_*}, the matrix,
 * the accumulated rotations and the tables in shared memory (f32 64x64: 35 KiB, f64: 69 KiB), 32-256 threads.
 * Larger n: {@code sprout_symeig_global_*}, the same code on a global scratch buffer ({@code m*m + m*n + 3m}
 * values and {@code 2m} ints per matrix, m = n rounded up to even), up to 512 threads, launched in chunks of at
 * most {@link #EIG_SCRATCH_BUDGET} bytes of scratch. Asynchronous.
 *
 * <h2>gesv / cgesv: LU with partial pivoting</h2>
 * {@code n <= 64}: {@code sprout_lu_small_*}, one block per matrix (A in shared memory, B in chunks of up to 64
 * columns). Larger n: per matrix, a blocked right-looking LU ({@code sprout_lu_panel_*} per panel of W columns,
 * W = 32 for f32 and 16 otherwise, one block, which also leaves a copy of L21 and the panel's row-move table in
 * scratch memory; then {@code sprout_lu_swap_*}, 32 columns per block over all n - W other columns, applies the row
 * moves and solves U12 = L11^-1 A12 for the trailing columns; then the trailing update
 * through {@link CudaGemm}, whose operands are thus in other buffers or disjoint extents, so its aliasing check
 * costs nothing), then a solve by inverted
 * diagonal blocks of {@link #SOLVE_BLOCK} rows ({@code sprout_lu_invdiag_*}) and gemms, with the permuted copy of B
 * and the copy back guarded by the device-side info ({@code sprout_lu_rowcopy_*}), so B is untouched when the
 * matrix is singular. These methods synchronise: they return the info of every matrix.
 *
 * <h2>CUDA graphs</h2>
 * The blocked path issues some 60-250 launches per matrix, each costing microseconds of host time through JCuda.
 * For a single matrix ({@code batch == 1}, {@code n > 64}) the whole sequence (clearing info, factorisation,
 * solve) is captured once into a CUDA graph ({@link CudaDevice#capture}) and replayed: no host decision in it
 * depends on device data (info is checked by the kernels themselves). Graphs are cached per device, least
 * recently used first, {@link #GRAPH_CACHE} of them, keyed by element type, n, nrhs and the device addresses
 * (buffer and offset) of A and B; each keeps its own scratch and info buffers, out of the allocator, until it
 * is evicted or {@link CudaDevice#freeCache} drops it. {@code -Dsprout.cuda.graphs=false} (read at every call)
 * runs the launches directly instead; both paths run the same kernels in the same order.
 */
public final class CudaLinalg {

    private CudaLinalg() {
    }

    /** Largest n that the shared-memory eigen kernel takes. */
    static final int EIG_SMALL_MAX = 64;
    /** Scratch bytes per launch of the global eigen kernel (at least one matrix is always launched). */
    static final long EIG_SCRATCH_BUDGET = 512L << 20;
    /** Largest n of the one-block-per-matrix LU kernel. */
    static final int LU_SMALL_MAX = 64;
    /** Columns of B held in shared memory at once by the small LU kernel. */
    static final int LU_SMALL_CHUNK = 64;
    /** Threads of the register panel kernel, and rows it takes (two per thread). */
    static final int PANEL_THREADS = 512, PANEL_MAX_ROWS = 1024;
    static final int PANEL_GENERIC_THREADS = 1024;
    /** Threads (= columns) per block of the swap kernel that follows each register panel (lu_detail::SWAP_THREADS). */
    static final int SWAP_THREADS = 32;
    /** Diagonal block size of the blocked solve (lu_detail::SB) and threads of its inversion kernel. */
    static final int SOLVE_BLOCK = 128, INV_THREADS = 1024;
    /** System property that switches the CUDA-graph replay of the single-matrix blocked LU (default true). */
    public static final String GRAPHS_PROPERTY = "sprout.cuda.graphs";
    /** Cached LU graphs per device. */
    static final int GRAPH_CACHE = 4;
    /** LU graphs captured and replayed so far, all devices (for tests). */
    static final java.util.concurrent.atomic.AtomicLong GRAPH_CAPTURES = new java.util.concurrent.atomic.AtomicLong(),
            GRAPH_REPLAYS = new java.util.concurrent.atomic.AtomicLong();

    /** Whether the single-matrix blocked LU is captured into and replayed from a CUDA graph (the property). */
    public static boolean graphsEnabled() {
        return !"false".equalsIgnoreCase(System.getProperty(GRAPHS_PROPERTY, "true").trim());
    }

    // ================================================================================================ symEig

    /** f32 eigenpairs: see {@link dev.sprout.backend.Backend#symEig}; {@code v} may be null (values only). */
    public static void symEigF32(CudaDevice d, int batch, int n, int k, DeviceBuffer a, long aOff, DeviceBuffer w,
                                 long wOff, DeviceBuffer v, long vOff) {
        symEig(d, false, batch, n, k, a, aOff, w, wOff, v, vOff);
    }

    /** f64 eigenpairs: see {@link dev.sprout.backend.Backend#symEig}; {@code v} may be null (values only). */
    public static void symEigF64(CudaDevice d, int batch, int n, int k, DeviceBuffer a, long aOff, DeviceBuffer w,
                                 long wOff, DeviceBuffer v, long vOff) {
        symEig(d, true, batch, n, k, a, aOff, w, wOff, v, vOff);
    }

    /** Shared bytes of sprout_symeig_small_* (layout in eigen.cu). */
    static long smallEigenBytes(int n, int threads, boolean wantV, int es) {
        long m = n + (n & 1);
        return es * (m * (m + 1) + (wantV ? m * (n + 1) : 0) + 3 * m + threads) + 4 * (2 * m);
    }

    /** Threads of an eigen kernel: a power of two covering the larger per-step task count, within [32, max]. */
    static int eigenThreads(int n, int max) {
        long m = n + (n & 1), h = m / 2;
        long work = Math.max(h * h, h * n);
        int t = 32;
        while (t < max && t < work) {
            t <<= 1;
        }
        return t;
    }

    private static void symEig(CudaDevice d, boolean dbl, int batch, int n, int k, DeviceBuffer a, long aOff,
                               DeviceBuffer w, long wOff, DeviceBuffer v, long vOff) {
        String op = "symEig";
        Checks.notNull(op, "device", d);
        Checks.sizes(op, "batch, n, k", batch, n, k);
        if (k > n) {
            throw new IllegalArgumentException(op + ": k = " + k + " eigenpairs requested of " + n + "x" + n + " matrices");
        }
        if (n > 32768) {
            throw new IllegalArgumentException(op + ": n = " + n + " is beyond the Jacobi solver's range (32768)");
        }
        int es = dbl ? 8 : 4;
        long an = (long) batch * n * n, wn = (long) batch * k, vn = (long) batch * n * k;
        buffer(op, "a", d, a, aOff, an, es);
        buffer(op, "w", d, w, wOff, wn, es);
        if (v != null) {
            buffer(op, "v", d, v, vOff, vn, es);
            disjoint(op, "v", v, vOff, vn, "w", w, wOff, wn);
            disjoint(op, "v", v, vOff, vn, "a", a, aOff, an);
        }
        disjoint(op, "w", w, wOff, wn, "a", a, aOff, an);
        if (batch == 0 || k == 0) {
            return;
        }
        String t = dbl ? "f64" : "f32";
        int wantV = v == null ? 0 : 1;
        CUdeviceptr vp = v == null ? new CUdeviceptr() : v.at(vOff * es);
        int smallThreads = eigenThreads(n, 256);
        long smallBytes = smallEigenBytes(n, smallThreads, v != null, es);
        if (n <= EIG_SMALL_MAX && smallBytes <= Math.max(48 * 1024, d.maxSharedPerBlockOptin())) {
            d.launch("sprout_symeig_small_" + t, batch, 1, 1, smallThreads, 1, 1, (int) smallBytes, n, k, wantV,
                    a.at(aOff * es), w.at(wOff * es), vp, (int) smallBytes);
            return;
        }
        int threads = eigenThreads(n, 512);
        long m = n + (n & 1);
        long strideT = m * m + m * n + 3 * m, strideI = 2 * m;
        long perMatrix = strideT * es + strideI * 4;
        int chunk = (int) Math.max(1, Math.min(batch, EIG_SCRATCH_BUDGET / perMatrix));
        int smem = threads * es;
        try (DeviceBuffer st = d.alloc(strideT * es * chunk); DeviceBuffer si = d.alloc(strideI * 4 * chunk)) {
            for (int b0 = 0; b0 < batch; b0 += chunk) {
                int cnt = Math.min(chunk, batch - b0);
                CUdeviceptr vb = v == null ? vp : v.at((vOff + (long) b0 * n * k) * es);
                d.launch("sprout_symeig_global_" + t, cnt, 1, 1, threads, 1, 1, smem, n, k, wantV,
                        a.at((aOff + (long) b0 * n * n) * es), w.at((wOff + (long) b0 * k) * es), vb, st, strideT, si,
                        strideI, smem);
            }
        }
    }

    // ================================================================================================ gesv

    /** The three element types of the LU kernels. */
    private enum Kind {
        F32("f32", "gesv", 4, 4, 32), F64("f64", "gesv", 8, 8, 16), C64("c64", "cgesv", 8, 4, 16);

        final String suffix, op;
        /** bytes of an element, of its real part, and the panel width W of the blocked factorisation */
        final int es, rs, panel;

        Kind(String suffix, String op, int es, int rs, int panel) {
            this.suffix = suffix;
            this.op = op;
            this.es = es;
            this.rs = rs;
            this.panel = panel;
        }
    }

    /**
     * Solves {@code batch} f32 systems {@code A X = B} in place (A n x n overwritten by its LU factors, B n x nrhs
     * by the solution, row-major, one after another from the offsets).
     *
     * @return per matrix 0, or {@code i + 1} if pivot i is exactly zero (that matrix's B is then unchanged)
     */
    public static int[] gesvF32(CudaDevice d, int batch, int n, int nrhs, DeviceBuffer a, long aOff, DeviceBuffer b,
                                long bOff) {
        return gesv(d, Kind.F32, batch, n, nrhs, a, aOff, b, bOff);
    }

    /** f64 twin of {@link #gesvF32}. */
    public static int[] gesvF64(CudaDevice d, int batch, int n, int nrhs, DeviceBuffer a, long aOff, DeviceBuffer b,
                                long bOff) {
        return gesv(d, Kind.F64, batch, n, nrhs, a, aOff, b, bOff);
    }

    /** c64 (interleaved re, im floats) twin of {@link #gesvF32}: n, nrhs and offsets count complex elements. */
    public static int[] cgesv(CudaDevice d, int batch, int n, int nrhs, DeviceBuffer a, long aOff, DeviceBuffer b,
                              long bOff) {
        return gesv(d, Kind.C64, batch, n, nrhs, a, aOff, b, bOff);
    }

    /** Shared bytes of sprout_lu_small_* (lu_detail::smallBytes). */
    static long smallLuBytes(int n, int cb, int es) {
        return (long) es * ((long) (n + 1) * n + (long) (n + 1) * cb) + 4L * (2 * n + 2);
    }

    /** Shared bytes of sprout_lu_panel_* (lu_detail::panelBytes). */
    static long panelBytes(int w, int es, int rs) {
        return (long) es * (2 * 32 * w + 2 * w) + (long) rs * 64 + 4L * (64 + 64 + 2 + 3 * w + 1);
    }

    /** Ints of the row-move table that sprout_lu_panel_* leaves for sprout_lu_swap_* (lu_detail::movesInts). */
    static int movesInts(int w) {
        return 3 * w + 1;
    }

    /** Shared bytes of sprout_lu_swap_* (lu_detail::swapBytes). */
    static long swapBytes(int w, int es) {
        return (long) es * w * w + 4L * movesInts(w);
    }

    /** Shared bytes of sprout_lu_panel_generic_* (lu_detail::panelGenericBytes). */
    static long panelGenericBytes(int w, int es, int rs) {
        return (long) es * w * w + (long) rs * 32 + 4L * 32;
    }

    /** Shared bytes of sprout_lu_invdiag_* (lu_detail::invBytes). */
    static long invBytes(int es) {
        return (long) es * (SOLVE_BLOCK * SOLVE_BLOCK + 2 * SOLVE_BLOCK);
    }

    private static int[] gesv(CudaDevice d, Kind kd, int batch, int n, int nrhs, DeviceBuffer a, long aOff,
                              DeviceBuffer b, long bOff) {
        String op = kd.op;
        Checks.notNull(op, "device", d);
        Checks.sizes(op, "batch, n, nrhs", batch, n, nrhs);
        int es = kd.es;
        long an = (long) batch * n * n, bn = (long) batch * n * nrhs;
        buffer(op, "a", d, a, aOff, an, es);
        buffer(op, "b", d, b, bOff, bn, es);
        disjoint(op, "a", a, aOff, an, "b", b, bOff, bn);
        int[] info = new int[batch];
        if (batch == 0 || n == 0) {
            return info;
        }
        int optin = Math.max(48 * 1024, d.maxSharedPerBlockOptin());
        if (batch == 1 && n > LU_SMALL_MAX && graphsEnabled()) {
            checkLarge(kd, optin);
            synchronized (d) { // lookup, capture, replay and the info download as one, so no eviction intervenes
                LuGraph g = luGraph(d, kd, n, nrhs, a, aOff, b, bOff);
                g.graph.launch();
                GRAPH_REPLAYS.incrementAndGet();
                d.download(g.dinfo, 0, info, 0, 1);
            }
            return checkInfo(op, n, nrhs, info);
        }
        try (DeviceBuffer dinfo = d.alloc(4L * batch)) {
            d.zero(dinfo);
            if (n <= LU_SMALL_MAX) {
                int cb = Math.min(LU_SMALL_CHUNK, nrhs);
                while (cb > 1 && smallLuBytes(n, cb, es) > optin) {
                    cb >>= 1;
                }
                long bytes = smallLuBytes(n, cb, es);
                if (bytes > optin) {
                    throw new IllegalStateException(op + ": " + bytes + " bytes of shared memory needed for n = " + n
                            + ", the device allows " + optin);
                }
                int threads = n <= 16 ? 64 : n <= 32 ? 128 : 256;
                d.launch("sprout_lu_small_" + kd.suffix, batch, 1, 1, threads, 1, 1, (int) bytes, n, nrhs, cb,
                        a.at(aOff * es), b.at(bOff * es), dinfo, (int) bytes);
            } else {
                large(d, kd, batch, n, nrhs, a, aOff, b, bOff, dinfo, optin);
            }
            d.download(dinfo, 0, info, 0, batch);
        }
        return checkInfo(op, n, nrhs, info);
    }

    private static int[] checkInfo(String op, int n, int nrhs, int[] info) {
        for (int i = 0; i < info.length; i++) {
            if (info[i] < 0) {
                throw new CudaException(op + ": an LU kernel refused its launch configuration (n = " + n + ", nrhs = "
                        + nrhs + ", matrix " + i + "); the host and kernel shared-memory layouts disagree");
            }
        }
        return info;
    }

    /** The blocked solve's shared memory must fit the device. */
    private static void checkLarge(Kind kd, int optin) {
        long iBytes = invBytes(kd.es);
        if (iBytes > optin) {
            throw new IllegalStateException(kd.op + ": the blocked solve needs " + iBytes
                    + " bytes of shared memory per block, the device allows " + optin);
        }
    }

    /** Scratch of the blocked path for one n x n matrix with nrhs right-hand sides. */
    private static final class LuScratch implements AutoCloseable {
        final DeviceBuffer perm, l21, moves, inv, y, bp;

        /** Allocates in the order of the original try-with-resources (so the cache hands out the same blocks). */
        LuScratch(CudaDevice d, Kind kd, int n, int nrhs) {
            int es = kd.es, wmax = kd.panel;
            int nb = (n + SOLVE_BLOCK - 1) / SOLVE_BLOCK;
            long sq = (long) SOLVE_BLOCK * SOLVE_BLOCK;
            long rhs = (long) n * nrhs;
            DeviceBuffer[] got = new DeviceBuffer[6];
            try {
                got[0] = d.alloc(4L * n);
                got[1] = d.alloc((long) n * wmax * es);
                got[2] = d.alloc(4L * movesInts(wmax));
                got[3] = nrhs == 0 ? null : d.alloc(2 * nb * sq * es);
                got[4] = nrhs == 0 ? null : d.alloc(rhs * es);
                got[5] = nrhs == 0 ? null : d.alloc(rhs * es);
            } catch (RuntimeException | Error e) {
                closeAll(got);
                throw e;
            }
            perm = got[0];
            l21 = got[1];
            moves = got[2];
            inv = got[3];
            y = got[4];
            bp = got[5];
        }

        @Override
        public void close() {
            closeAll(new DeviceBuffer[] {perm, l21, moves, inv, y, bp});
        }

        /** Closes in reverse order, like try-with-resources. */
        private static void closeAll(DeviceBuffer[] bufs) {
            for (int i = bufs.length - 1; i >= 0; i--) {
                if (bufs[i] != null) {
                    bufs[i].close();
                }
            }
        }
    }

    /** The blocked path, one matrix after another. */
    private static void large(CudaDevice d, Kind kd, int batch, int n, int nrhs, DeviceBuffer a, long aOff,
                              DeviceBuffer b, long bOff, DeviceBuffer dinfo, int optin) {
        checkLarge(kd, optin);
        try (LuScratch s = new LuScratch(d, kd, n, nrhs)) {
            for (int mat = 0; mat < batch; mat++) {
                long ao = aOff + (long) mat * n * n, bo = bOff + (long) mat * n * nrhs;
                largeOne(d, kd, n, nrhs, a, ao, b, bo, dinfo.at(4L * mat), s);
            }
        }
    }

    /**
     * Factorisation and solve of one matrix (A at element offset ao, B at bo) with the scratch s. Takes no host
     * decision from device data, so it can be captured into a CUDA graph.
     */
    private static void largeOne(CudaDevice d, Kind kd, int n, int nrhs, DeviceBuffer a, long ao, DeviceBuffer b,
                                 long bo, CUdeviceptr info, LuScratch sc) {
        int es = kd.es, wmax = kd.panel;
        long pBytes = panelBytes(wmax, es, kd.rs), gBytes = panelGenericBytes(wmax, es, kd.rs), iBytes = invBytes(es);
        long sBytes = swapBytes(wmax, es);
        int nb = (n + SOLVE_BLOCK - 1) / SOLVE_BLOCK;
        long sq = (long) SOLVE_BLOCK * SOLVE_BLOCK;
        DeviceBuffer perm = sc.perm, l21 = sc.l21, moves = sc.moves, inv = sc.inv, y = sc.y, bp = sc.bp;
        // ---- factorisation
        for (int jb = 0; jb < n; jb += wmax) {
            int w = Math.min(wmax, n - jb);
            if (n - jb <= PANEL_MAX_ROWS) {
                // the panel's columns on one block; then the row moves of the other n - w columns and the
                // U12 solve of the trailing ones on many blocks (move table in scratch)
                d.launch("sprout_lu_panel_" + kd.suffix, 1, 1, 1, PANEL_THREADS, 1, 1, (int) pBytes, n, jb,
                        a.at(ao * es), l21, perm, moves, info, (int) pBytes);
                int others = n - w;
                if (others > 0) {
                    d.launch("sprout_lu_swap_" + kd.suffix, (others + SWAP_THREADS - 1) / SWAP_THREADS, 1, 1,
                            SWAP_THREADS, 1, 1, (int) sBytes, n, jb, a.at(ao * es), moves, info, (int) sBytes);
                }
            } else {
                d.launch("sprout_lu_panel_generic_" + kd.suffix, 1, 1, 1, PANEL_GENERIC_THREADS, 1, 1,
                        (int) gBytes, n, jb, a.at(ao * es), l21, perm, info, (int) gBytes);
            }
            int je = jb + w;
            if (je < n) {
                // A22 -= L21 U12 (L21 from the panel kernel's copy, ld wmax)
                gemm(d, kd, n - je, n - je, w, -1, l21, 0, wmax, a, ao + (long) jb * n + je, n, 1, a,
                        ao + (long) je * n + je, n);
            }
        }
        if (nrhs == 0) {
            return;
        }
        // ---- solve: P B -> bp; L Y = bp; U X = Y (X in bp); bp -> B, all skipped on the device if info != 0.
        // Every row block of y is first written by a beta = 0 product (which never reads C), so y needs no
        // clearing.
        d.launch("sprout_lu_invdiag_" + kd.suffix, nb, 2, 1, INV_THREADS, 1, 1, (int) iBytes, n, a.at(ao * es),
                inv, info, (int) iBytes);
        rowCopy(d, es, n, nrhs, b.at(bo * es), bp.pointer(), perm.pointer(), info);
        for (int i = 0; i < nb; i++) {
            int s = i * SOLVE_BLOCK, bs = Math.min(SOLVE_BLOCK, n - s), e = s + bs;
            gemm(d, kd, bs, nrhs, bs, 1, inv, i * sq, SOLVE_BLOCK, bp, (long) s * nrhs, nrhs, 0, y,
                    (long) s * nrhs, nrhs);
            if (e < n) {
                gemm(d, kd, n - e, nrhs, bs, -1, a, ao + (long) e * n + s, n, y, (long) s * nrhs, nrhs, 1, bp,
                        (long) e * nrhs, nrhs);
            }
        }
        for (int i = nb - 1; i >= 0; i--) {
            int s = i * SOLVE_BLOCK, bs = Math.min(SOLVE_BLOCK, n - s);
            gemm(d, kd, bs, nrhs, bs, 1, inv, (nb + i) * sq, SOLVE_BLOCK, y, (long) s * nrhs, nrhs, 0, bp,
                    (long) s * nrhs, nrhs);
            if (s > 0) {
                gemm(d, kd, s, nrhs, bs, -1, a, ao + s, n, bp, (long) s * nrhs, nrhs, 1, y, 0, nrhs);
            }
        }
        rowCopy(d, es, n, nrhs, bp.pointer(), b.at(bo * es), new CUdeviceptr(), info);
    }

    // ------------------------------------------------------------------------------------------ graph cache

    /** Cache key: element type, sizes, and the device addresses (block identity and element offset) of A and B. */
    private static final class LuKey {
        final Kind kind;
        final int n, nrhs;
        /** The allocator's block objects: one object per device allocation until the cache is freed (which drops
         * the graphs first), so identity means the same device address. */
        final CUdeviceptr aBlock, bBlock;
        final long aOff, bOff;

        LuKey(Kind kind, int n, int nrhs, CUdeviceptr aBlock, long aOff, CUdeviceptr bBlock, long bOff) {
            this.kind = kind;
            this.n = n;
            this.nrhs = nrhs;
            this.aBlock = aBlock;
            this.aOff = aOff;
            this.bBlock = bBlock;
            this.bOff = bOff;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof LuKey k && k.kind == kind && k.n == n && k.nrhs == nrhs && k.aBlock == aBlock
                    && k.aOff == aOff && k.bBlock == bBlock && k.bOff == bOff;
        }

        @Override
        public int hashCode() {
            int h = kind.hashCode();
            h = 31 * h + n;
            h = 31 * h + nrhs;
            h = 31 * h + System.identityHashCode(aBlock);
            h = 31 * h + Long.hashCode(aOff);
            h = 31 * h + System.identityHashCode(bBlock);
            h = 31 * h + Long.hashCode(bOff);
            return h;
        }
    }

    /** A cached graph with the info and scratch buffers it writes (held open while it is cached). */
    private static final class LuGraph implements AutoCloseable {
        final CudaGraph graph;
        final DeviceBuffer dinfo;
        final LuScratch scratch;

        LuGraph(CudaGraph graph, DeviceBuffer dinfo, LuScratch scratch) {
            this.graph = graph;
            this.dinfo = dinfo;
            this.scratch = scratch;
        }

        @Override
        public void close() {
            try {
                graph.close();
            } finally {
                scratch.close();
                dinfo.close();
            }
        }
    }

    /** The cached graph for this solve, captured (with its own scratch, allocated outside the capture) if new. */
    private static LuGraph luGraph(CudaDevice d, Kind kd, int n, int nrhs, DeviceBuffer a, long aOff,
                                   DeviceBuffer b, long bOff) {
        LuKey key = new LuKey(kd, n, nrhs, a.raw(), aOff, b.raw(), bOff);
        if (d.cachedGraph(key) instanceof LuGraph g) {
            return g;
        }
        // load the kernels and opt in to their shared memory before the capture (no module or attribute calls in it)
        int es = kd.es, wmax = kd.panel;
        d.prepare("sprout_lu_panel_" + kd.suffix, (int) panelBytes(wmax, es, kd.rs));
        d.prepare("sprout_lu_swap_" + kd.suffix, (int) swapBytes(wmax, es));
        d.prepare("sprout_lu_panel_generic_" + kd.suffix, (int) panelGenericBytes(wmax, es, kd.rs));
        d.prepare("sprout_lu_invdiag_" + kd.suffix, (int) invBytes(es));
        d.prepare(es == 4 ? "sprout_lu_rowcopy_b32" : "sprout_lu_rowcopy_b64", 0);
        for (String k : CudaGemm.kernelNames()) {
            try {
                d.prepare(k, 0);
            } catch (RuntimeException ignored) {
                // only a preload: a kernel that is missing fails at its launch as it would without graphs
            }
        }
        DeviceBuffer dinfo = d.alloc(4L);
        LuScratch s;
        try {
            s = new LuScratch(d, kd, n, nrhs);
        } catch (RuntimeException | Error e) {
            dinfo.close();
            throw e;
        }
        CudaGraph graph;
        try {
            graph = d.capture(() -> {
                d.zero(dinfo);
                largeOne(d, kd, n, nrhs, a, aOff, b, bOff, dinfo.pointer(), s);
            });
        } catch (RuntimeException | Error e) {
            s.close();
            dinfo.close();
            throw e;
        }
        GRAPH_CAPTURES.incrementAndGet();
        LuGraph g = new LuGraph(graph, dinfo, s);
        d.cacheGraph(key, g, GRAPH_CACHE);
        return g;
    }

    /** Number of LU graphs cached on the device (for tests). */
    static int cachedGraphs(CudaDevice d) {
        return d.cachedGraphCount();
    }

    /** dst row i = src row perm[i] (perm a null pointer: row i), unless *info != 0. */
    private static void rowCopy(CudaDevice d, int es, int n, int ncols, CUdeviceptr src, CUdeviceptr dst,
                                CUdeviceptr perm, CUdeviceptr info) {
        int gx = (int) Math.min(64, (ncols + 255L) / 256), gy = Math.min(n, 65535);
        d.launch(es == 4 ? "sprout_lu_rowcopy_b32" : "sprout_lu_rowcopy_b64", gx, gy, 1, 256, 1, 1, 0, n, ncols, src,
                dst, perm, info);
    }

    /** C = alpha A B + beta C, all row-major and untransposed, alpha and beta real. */
    private static void gemm(CudaDevice d, Kind kd, int m, int n, int k, double alpha, DeviceBuffer a, long aOff,
                             int lda, DeviceBuffer b, long bOff, int ldb, double beta, DeviceBuffer c, long cOff,
                             int ldc) {
        GemmShape g = new GemmShape(Trans.N, Trans.N, m, n, k, lda, ldb, ldc, 1, 0, 0, 0);
        switch (kd) {
            case F32 -> CudaGemm.sgemm(d, CudaGemm.Variant.SIMT, g, (float) alpha, a, aOff, b, bOff, (float) beta, c,
                    cOff);
            case F64 -> CudaGemm.dgemm(d, g, alpha, a, aOff, b, bOff, beta, c, cOff);
            case C64 -> CudaGemm.cgemm(d, g, (float) alpha, 0f, a, aOff, b, bOff, (float) beta, 0f, c, cOff);
        }
    }

    // ================================================================================================ checks

    /** {@code [off, off + count)} elements of {@code es} bytes must lie in the (open, same-device) buffer. */
    private static void buffer(String op, String name, CudaDevice d, DeviceBuffer x, long off, long count, int es) {
        Checks.notNull(op, name, x);
        if (x.isClosed()) {
            throw new IllegalStateException(op + ": operand " + name + " is a closed device buffer");
        }
        if (x.device() != d) {
            throw new IllegalArgumentException(op + ": operand " + name + " lives on another device");
        }
        long have = x.bytes() / es;
        if (off < 0 || count < 0 || off > have || count > have - off) {
            throw new IndexOutOfBoundsException(op + ": operand " + name + " needs " + count + " values at offset " + off
                    + " but its buffer holds " + have);
        }
    }

    /** Two operands of one buffer must not overlap. */
    private static void disjoint(String op, String n1, DeviceBuffer x1, long off1, long len1, String n2,
                                 DeviceBuffer x2, long off2, long len2) {
        if (x1 == x2 && len1 > 0 && len2 > 0 && off1 < off2 + len2 && off2 < off1 + len1) {
            throw new IllegalArgumentException(op + ": operands " + n1 + " and " + n2 + " overlap in one device buffer");
        }
    }
}
