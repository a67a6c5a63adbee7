package dev.sprout.cuda;

import dev.sprout.backend.Checks;

/**
 * Launcher of the weighted Gram kernels ({@code src/main/cuda/gram.cu}): for every neuron {@code i},
 * {@code S[i] += sum_n w[n, i] x[n] x[n]^T}, with {@code x [samples, d]}, {@code w [samples, neurons]} and
 * {@code s [neurons, d, d]} row-major on the device; offsets in elements.
 *
 * <p>Semantics are the Java backend's: the Gram matrix is added to {@code s} and the two triangles are
 * averaged, so {@code s} comes out exactly symmetric ({@code 0.5 (S + S^T) + G}); with no samples (or no
 * neurons, or d = 0) nothing is done. {@code s} must not overlap {@code x} or {@code w}.
 *
 * <p>Performance model: one block per (neuron, 64 x 64 tile on or below the diagonal), shared-memory staging
 * of 8 (f32) or 16 (f64) sample rows at a time and 8 x 8 (f32) or 4 x 4 (f64) register tiles per thread; see
 * the head comment of gram.cu. FMA-bound: {@code neurons * samples * tiles (tiles + 1) / 2 * 64^2}
 * multiply-adds, {@code tiles = ceil(d / 64)}.
 */
public final class CudaGram {
    private CudaGram() {
    }

    /** Edge of the square tile of S that one block computes ({@code gram_detail::TILE}). */
    static final int TILE = 64;
    /** Threads per block, fixed by the kernels' launch bounds ({@code gram_detail::Shape<T>::THREADS}). */
    static final int THREADS_F32 = 64, THREADS_F64 = 256;
    static final String KERNEL_F32 = "sprout_weighted_gram_f32", KERNEL_F64 = "sprout_weighted_gram_f64";
    /** Beyond this many tiles the kernel's 32-bit tile-pair arithmetic would overflow. */
    private static final long MAX_TILES = 46340;
    private static final int GRID_YZ = 65535;

    public static void weightedGramF32(CudaDevice d, int samples, int dim, int neurons, DeviceBuffer x, long xOff,
                                       DeviceBuffer w, long wOff, DeviceBuffer s, long sOff) {
        gram(d, KERNEL_F32, THREADS_F32, 4, samples, dim, neurons, x, xOff, w, wOff, s, sOff);
    }

    public static void weightedGramF64(CudaDevice d, int samples, int dim, int neurons, DeviceBuffer x, long xOff,
                                       DeviceBuffer w, long wOff, DeviceBuffer s, long sOff) {
        gram(d, KERNEL_F64, THREADS_F64, 8, samples, dim, neurons, x, xOff, w, wOff, s, sOff);
    }

    /** Number of 64 x 64 tiles on or below the diagonal of a d x d matrix: the kernel's grid x. */
    static long tilePairs(int dim) {
        long tiles = (dim + (long) TILE - 1) / TILE;
        return tiles * (tiles + 1) / 2;
    }

    /** Multiply-adds the kernel performs (tiles padded to 64, diagonal tiles computed whole). */
    public static double kernelFma(int samples, int dim, int neurons) {
        return (double) tilePairs(dim) * TILE * TILE * samples * neurons;
    }

    private static void gram(CudaDevice d, String kernel, int threads, int elem, int samples, int dim, int neurons,
                             DeviceBuffer x, long xOff, DeviceBuffer w, long wOff, DeviceBuffer s, long sOff) {
        String op = "weightedGram";
        CudaPointwise.device(op, d);
        Checks.sizes(op, "samples, d, neurons", samples, dim, neurons);
        long xn = (long) samples * dim, wn = (long) samples * neurons, sn = (long) neurons * dim * dim;
        CudaPointwise.range(op, "x", d, x, xOff, xn, elem);
        CudaPointwise.range(op, "w", d, w, wOff, wn, elem);
        CudaPointwise.range(op, "s", d, s, sOff, sn, elem);
        CudaPointwise.disjoint(op, "s", s, sOff, sn, "x", x, xOff, xn, false);
        CudaPointwise.disjoint(op, "s", s, sOff, sn, "w", w, wOff, wn, false);
        long tiles = (dim + (long) TILE - 1) / TILE;
        if (tiles > MAX_TILES) {
            throw new IllegalArgumentException(op + ": d = " + dim + " is too large for the kernel (at most "
                    + MAX_TILES * TILE + ")");
        }
        if (samples == 0 || dim == 0 || neurons == 0) {
            return;
        }
        int pairs = (int) tilePairs(dim);
        d.launch(kernel, pairs, Math.min(neurons, GRID_YZ), 1, threads, 1, 1, 0, samples, dim, neurons,
                x.at(xOff * elem), w.at(wOff * elem), s.at(sOff * elem));
    }
}
