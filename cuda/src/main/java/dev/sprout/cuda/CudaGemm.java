package dev.sprout.cuda;

import dev.sprout.backend.Checks;
import dev.sprout.backend.GemmShape;
import dev.sprout.backend.GemmShape.Trans;
import jcuda.driver.CUdeviceptr;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Host launchers of the matrix-product kernels in {@code src/main/cuda/gemm.cu}: f32 (SIMT or TF32 tensor cores),
 * f64 and c64, all batched, with the semantics of {@link dev.sprout.backend.java.JavaGemm}.
 *
 * <p>Semantics: {@code C[b] = alpha * op(A[b]) op(B[b]) + beta * C[b]}, row-major, with the transposes, leading
 * dimensions and batch strides of {@link GemmShape} (stride 0 broadcasts an operand; {@link Trans#H} is a plain
 * transpose for real data and the conjugate transpose for complex data). Offsets are in elements (complex
 * elements for {@link #cgemm}). {@code beta == 0} overwrites C without reading it; {@code k == 0} or
 * {@code alpha == 0} gives {@code C = beta * C} without reading A or B (as in the reference, A and B are still
 * bounds-checked when k > 0, and may be {@code null} only when k == 0);
 * {@code m, n or batch == 0} launches nothing.
 *
 * <p>Checks first, launch after: nulls, the device of every buffer, bounds ({@link GemmShape#checkBounds} against
 * the buffers' element counts) and aliasing (C may not overlap A or B when they are the same buffer; disjoint
 * blocks of one buffer, as in a blocked LU's trailing update, are allowed) all throw before any kernel runs.
 * Launches are asynchronous on the device's stream.
 *
 * <p>Kernel choice ({@link #describe}): f32 {@link Variant#SIMT} runs the 128x128x8 register-blocked kernel
 * ({@code sprout_sgemm_128x128_<ab>[_v4]}) when m and n exceed 64 and its grid has at least {@link #MIN_FAST_TILES}
 * tiles over the batch, else the 64x64 general kernel; {@link Variant#TF32} always runs the mma.sync kernel. {@code _v4} (float4 loads and
 * stores) is chosen when every leading dimension, offset and (for batches) stride is a multiple of 4. Batches
 * longer than 65535 are launched in chunks of 65535 (grid z) with offset pointers.
 */
public final class CudaGemm {

    /** The f32 strategies: exact FP32 on the SIMT cores (the default), or TF32 tensor cores (~1e-3 relative). */
    public enum Variant {
        SIMT, TF32
    }

    /** Which kernel family runs a product; package-private so that tests can force each one on every shape. */
    enum Path {
        GENERAL, SIMT128, TF32
    }

    static final int THREADS = 256;
    static final int FAST_TILE = 128;
    static final int GENERAL_TILE = 64;
    /** Fewest 128x128 tiles (over the whole batch) for which the SIMT path uses the 128x128 kernel. */
    static final int MIN_FAST_TILES = 32;
    static final int MAX_GRID_YZ = 65535;

    static final String GENERAL_F32 = "sprout_sgemm_general";
    static final String DGEMM = "sprout_dgemm";
    static final String CGEMM = "sprout_cgemm";
    private static final String[] LAYOUTS = {"nn", "nt", "tn", "tt"};

    private CudaGemm() {
    }

    /** Every kernel name this class launches (for tests: all must be in the fatbin). */
    static List<String> kernelNames() {
        List<String> names = new ArrayList<>();
        for (String family : new String[] {"sprout_sgemm_128x128_", "sprout_sgemm_tf32_"}) {
            for (String l : LAYOUTS) {
                names.add(family + l);
                names.add(family + l + "_v4");
            }
        }
        names.addAll(Arrays.asList(GENERAL_F32, DGEMM, CGEMM));
        return names;
    }

    /** One line: tile, threads and which kernel runs which shapes. */
    public static String describe(Variant v) {
        if (v == Variant.TF32) {
            return "sgemm TF32: sprout_sgemm_tf32_<ab>[_v4], mma.sync m16n8k8 tensor cores, 128x128x16 block tiles, "
                    + "256 threads (8 warps of 64x32), double-buffered shared memory, inputs rounded to TF32 "
                    + "(~1e-3 relative), fp32 accumulate; every shape; _v4 (float4 loads) when lds, offsets and strides "
                    + "are multiples of 4";
        }
        return "sgemm SIMT: sprout_sgemm_128x128_<ab>[_v4], 128x128x8 block tiles, 256 threads with 8x8 register tiles, "
                + "double-buffered shared memory, when m, n > 64 and the grid has >= " + MIN_FAST_TILES + " tiles (_v4: float4 "
                + "loads/stores when lds, offsets and strides are multiples of 4); smaller grids, k = 0 and alpha = 0 "
                + "run sprout_sgemm_general (64x64x16 tiles, 256 threads, 4x4 outputs each)";
    }

    // ------------------------------------------------------------------------------------------ f32

    /** {@code C = alpha * op(A) op(B) + beta * C} in f32; see the class comment. */
    public static void sgemm(CudaDevice d, Variant v, GemmShape g, float alpha, DeviceBuffer a, long aOff,
                             DeviceBuffer b, long bOff, float beta, DeviceBuffer c, long cOff) {
        if (v == null) {
            throw new NullPointerException("sgemm: variant is null");
        }
        sgemm(d, v == Variant.TF32 ? Path.TF32 : null, g, alpha, a, aOff, b, bOff, beta, c, cOff);
    }

    /** As the public sgemm, on a forced kernel family ({@code null}: the SIMT variant's own choice). */
    static void sgemm(CudaDevice d, Path forced, GemmShape g, float alpha, DeviceBuffer a, long aOff,
                      DeviceBuffer b, long bOff, float beta, DeviceBuffer c, long cOff) {
        boolean reads = check("sgemm", d, g, alpha != 0f, a, aOff, b, bOff, c, cOff, Float.BYTES);
        if (empty(g)) {
            return;
        }
        Path path = pathFor(g, reads, forced);
        boolean vec = aligned4(g, aOff, bOff, cOff);
        String kernel = switch (path) {
            case GENERAL -> GENERAL_F32;
            case SIMT128 -> "sprout_sgemm_128x128_" + layout(g) + (vec ? "_v4" : "");
            case TF32 -> "sprout_sgemm_tf32_" + layout(g) + (vec ? "_v4" : "");
        };
        launch(d, kernel, path, g, reads, Float.BYTES, a, aOff, b, bOff, c, cOff, path == Path.GENERAL,
                new Object[] {alpha}, new Object[] {beta});
    }

    // ------------------------------------------------------------------------------------------ f64

    /** {@code C = alpha * op(A) op(B) + beta * C} in f64 (the 64x64x16 tiled kernel); see the class comment. */
    public static void dgemm(CudaDevice d, GemmShape g, double alpha, DeviceBuffer a, long aOff, DeviceBuffer b,
                             long bOff, double beta, DeviceBuffer c, long cOff) {
        boolean reads = check("dgemm", d, g, alpha != 0.0, a, aOff, b, bOff, c, cOff, Double.BYTES);
        if (empty(g)) {
            return;
        }
        launch(d, DGEMM, Path.GENERAL, g, reads, Double.BYTES, a, aOff, b, bOff, c, cOff, true,
                new Object[] {alpha}, new Object[] {beta});
    }

    // ------------------------------------------------------------------------------------------ c64

    /**
     * Complex product on interleaved {@code (re, im)} floats: sizes, leading dimensions, strides and offsets count
     * complex elements; {@link Trans#H} conjugates; alpha and beta are complex. The 64x64x16 tiled kernel.
     */
    public static void cgemm(CudaDevice d, GemmShape g, float alphaRe, float alphaIm, DeviceBuffer a, long aOff,
                             DeviceBuffer b, long bOff, float betaRe, float betaIm, DeviceBuffer c, long cOff) {
        boolean reads = check("cgemm", d, g, alphaRe != 0f || alphaIm != 0f, a, aOff, b, bOff, c, cOff,
                2 * Float.BYTES);
        if (empty(g)) {
            return;
        }
        launch(d, CGEMM, Path.GENERAL, g, reads, 2 * Float.BYTES, a, aOff, b, bOff, c, cOff, true,
                new Object[] {alphaRe, alphaIm}, new Object[] {betaRe, betaIm});
    }

    // ------------------------------------------------------------------------------------------ launching

    private static boolean empty(GemmShape g) {
        return g.batch() == 0 || g.m() == 0 || g.n() == 0;
    }

    private static long fastTiles(GemmShape g) {
        return (long) ceilDiv(g.m(), FAST_TILE) * ceilDiv(g.n(), FAST_TILE);
    }

    /** The kernel family for a (non-empty) product. */
    static Path pathFor(GemmShape g, boolean reads, Path forced) {
        if (!reads) {
            return Path.GENERAL; // launched with k = 0: C = beta * C, A and B untouched
        }
        long tiles = fastTiles(g);
        if (tiles > Integer.MAX_VALUE) {
            return Path.GENERAL; // grid x of the tiled kernels is the tile count
        }
        if (forced != null) {
            return forced;
        }
        boolean wide = Math.min(g.m(), g.n()) > GENERAL_TILE; // else most of a 128x128 tile would idle
        return wide && tiles * g.batch() >= MIN_FAST_TILES ? Path.SIMT128 : Path.GENERAL;
    }

    private static String layout(GemmShape g) {
        return (g.transA().transposed() ? "t" : "n") + (g.transB().transposed() ? "t" : "n");
    }

    private static int transCode(Trans t) {
        return switch (t) {
            case N -> 0;
            case T -> 1;
            case H -> 2;
        };
    }

    /** Whether the float4 kernels may run: every ld, offset and (for a batch) stride a multiple of 4 elements. */
    static boolean aligned4(GemmShape g, long aOff, long bOff, long cOff) {
        boolean ok = aOff % 4 == 0 && bOff % 4 == 0 && cOff % 4 == 0
                && g.lda() % 4 == 0 && g.ldb() % 4 == 0 && g.ldc() % 4 == 0;
        if (g.batch() > 1) {
            ok &= g.strideA() % 4 == 0 && g.strideB() % 4 == 0 && g.strideC() % 4 == 0;
        }
        return ok;
    }

    private static int ceilDiv(int x, int y) {
        return (x + y - 1) / y;
    }

    /**
     * Launches one kernel over the batch, in chunks of at most 65535 items (grid z) with offset pointers. All
     * pointers are formed before the first launch. {@code transArgs}: the kernel takes (ta, tb) first (the general
     * template); {@code alpha}/{@code beta}: one value, or (re, im).
     */
    private static void launch(CudaDevice d, String kernel, Path path, GemmShape g, boolean reads, int esz,
                               DeviceBuffer a, long aOff, DeviceBuffer b, long bOff, DeviceBuffer c, long cOff,
                               boolean transArgs, Object[] alpha, Object[] beta) {
        int k = reads ? g.k() : 0;
        int gx, gy;
        if (path == Path.GENERAL) {
            gx = ceilDiv(g.n(), GENERAL_TILE);
            gy = Math.min(ceilDiv(g.m(), GENERAL_TILE), MAX_GRID_YZ);
        } else {
            gx = (int) fastTiles(g); // pathFor keeps this <= Integer.MAX_VALUE
            gy = 1;
        }
        int chunks = ceilDiv(g.batch(), MAX_GRID_YZ);
        List<Object[]> launches = new ArrayList<>(chunks);
        for (int z0 = 0; z0 < g.batch(); z0 += MAX_GRID_YZ) {
            int nb = Math.min(MAX_GRID_YZ, g.batch() - z0);
            CUdeviceptr pc = c.at(esz * (cOff + z0 * g.strideC()));
            CUdeviceptr pa = reads ? a.at(esz * (aOff + z0 * g.strideA())) : pc;
            CUdeviceptr pb = reads ? b.at(esz * (bOff + z0 * g.strideB())) : pc;
            List<Object> args = new ArrayList<>(20);
            if (transArgs) {
                args.add(transCode(g.transA()));
                args.add(transCode(g.transB()));
            }
            args.add(g.m());
            args.add(g.n());
            args.add(k);
            args.addAll(Arrays.asList(alpha));
            args.add(pa);
            args.add(g.lda());
            args.add(g.strideA());
            args.add(pb);
            args.add(g.ldb());
            args.add(g.strideB());
            args.addAll(Arrays.asList(beta));
            args.add(pc);
            args.add(g.ldc());
            args.add(g.strideC());
            args.add(nb);
            launches.add(args.toArray());
        }
        for (int i = 0; i < launches.size(); i++) {
            int nb = Math.min(MAX_GRID_YZ, g.batch() - i * MAX_GRID_YZ);
            d.launch(kernel, gx, gy, nb, THREADS, 1, 1, 0, launches.get(i));
        }
    }

    // ------------------------------------------------------------------------------------------ checks

    /**
     * Checks nulls, devices, bounds and aliasing before anything is launched. Lengths and offsets in elements of
     * {@code esz} bytes.
     *
     * @return whether A and B will be read (non-empty, k > 0, alpha != 0)
     */
    private static boolean check(String op, CudaDevice d, GemmShape g, boolean alphaNonZero, DeviceBuffer a, long aOff,
                                 DeviceBuffer b, long bOff, DeviceBuffer c, long cOff, int esz) {
        if (d == null) {
            throw new NullPointerException(op + ": device is null");
        }
        if (g == null) {
            throw new NullPointerException(op + ": shape is null");
        }
        if (c == null) {
            throw new NullPointerException(op + ": operand C is null");
        }
        boolean reads = !empty(g) && g.k() > 0 && alphaNonZero;
        if (reads && a == null) {
            throw new NullPointerException(op + ": operand A is null");
        }
        if (reads && b == null) {
            throw new NullPointerException(op + ": operand B is null");
        }
        onDevice(op, d, "C", c);
        if (reads) {
            onDevice(op, d, "A", a);
            onDevice(op, d, "B", b);
        }
        long aLen = a == null ? 0 : a.bytes() / esz;
        long bLen = b == null ? 0 : b.bytes() / esz;
        try {
            g.checkBounds(aLen, aOff, bLen, bOff, c.bytes() / esz, cOff);
        } catch (IndexOutOfBoundsException e) {
            throw new IndexOutOfBoundsException(op + " " + g + ": " + e.getMessage());
        }
        if (reads) {
            int colsA = g.transA().transposed() ? g.m() : g.k();
            int colsB = g.transB().transposed() ? g.k() : g.n();
            Checks.noOverlap(op, g, "A", a, aOff, g.storedRowsA(), colsA, g.lda(), g.strideA(), c, cOff);
            Checks.noOverlap(op, g, "B", b, bOff, g.storedRowsB(), colsB, g.ldb(), g.strideB(), c, cOff);
        }
        return reads;
    }

    private static void onDevice(String op, CudaDevice d, String name, DeviceBuffer x) {
        if (x.isClosed()) {
            throw new IllegalStateException(op + ": operand " + name + " is a closed device buffer");
        }
        if (x.device() != d) {
            throw new IllegalArgumentException(op + ": operand " + name + " lives on another device");
        }
    }
}
