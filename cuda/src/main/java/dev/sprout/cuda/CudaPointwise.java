package dev.sprout.cuda;

import dev.sprout.backend.Activation;
import dev.sprout.backend.Checks;
import dev.sprout.backend.ConvGeometry;

/**
 * Launchers of the pointwise and convolution-lowering kernels ({@code src/main/cuda/pointwise.cu} and
 * {@code conv.cu}) on device buffers: activation functions with their derivatives, sums over one axis,
 * im2col and col2im. Offsets and counts are in elements. Every method checks sizes, bounds and overlap of its
 * operands (naming the operation and the operand) before it launches anything; launches are asynchronous on
 * the device's stream, so a result is ready after the next synchronising call (a download, for instance).
 *
 * <p>Performance model: all four are bound by memory bandwidth; see the kernel files' head comments. The
 * activation kernels evaluate f32 and f64 alike in double precision with the same operations and the same
 * polynomial coefficients ({@link Activation#polynomial}) as {@link Activation#eval}, so they agree with the
 * Java backend to within the last-ulp differences of the CUDA and Java transcendental functions.
 */
public final class CudaPointwise {
    private CudaPointwise() {
    }

    /** Threads per block of every kernel launched here. */
    static final int BLOCK = 256;
    /** Most coefficients a polynomial kernel parameter list carries (c0..c7 of {@code sprout_activation_*}). */
    static final int MAX_COEFFICIENTS = 8;
    /** Grid-stride kernels get at most this many blocks per multiprocessor. */
    private static final int BLOCKS_PER_SM = 32;
    /** Limit of the grid's y (and z) dimension. */
    private static final int GRID_YZ = 65535;
    /** The convolution kernels index within a row, an image or a channel with 32-bit integers. */
    private static final long INDEX_LIMIT = 1L << 30;

    /** Activation.polynomial for every (function, order), fetched once. */
    private static final double[][][] POLY = new double[Activation.values().length][Activation.MAX_ORDER + 1][];

    static {
        for (Activation f : Activation.values()) {
            for (int order = 0; order <= Activation.MAX_ORDER; order++) {
                double[] p = Activation.polynomial(f, order);
                if (p.length > MAX_COEFFICIENTS) {
                    throw new ExceptionInInitializerError("activation kernel takes at most " + MAX_COEFFICIENTS
                            + " coefficients; " + f + " order " + order + " has " + p.length);
                }
                POLY[f.ordinal()][order] = p;
            }
        }
    }

    /** The function codes of {@code pointwise_detail::Fn} in pointwise.cu. */
    static int code(Activation f) {
        switch (f) {
            case RELU:
                return 0;
            case TANH:
                return 1;
            case SIGMOID:
                return 2;
            case SOFTPLUS:
                return 3;
            case RBF:
                return 4;
            case IDENTITY:
                return 5;
            default:
                throw new IllegalArgumentException("activation: no CUDA kernel for " + f);
        }
    }

    // ------------------------------------------------------------------------------------------ checks

    /**
     * Fails unless {@code b} is an open buffer of {@code dev} holding {@code count} values of {@code elemBytes}
     * bytes from element {@code off}.
     */
    static void range(String op, String operand, CudaDevice dev, DeviceBuffer b, long off, long count, int elemBytes) {
        Checks.notNull(op, operand, b);
        if (b.isClosed()) {
            throw new IllegalStateException(op + ": operand " + operand + " is a closed device buffer");
        }
        if (b.device() != dev) {
            throw new IllegalArgumentException(op + ": operand " + operand + " is a buffer of another device");
        }
        long capacity = b.bytes() / elemBytes;
        if (off < 0 || count < 0 || off > capacity - count) {
            throw new IndexOutOfBoundsException(op + ": operand " + operand + " needs " + count + " values at offset "
                    + off + " but its device buffer holds " + capacity);
        }
    }

    /** Fails if the element ranges overlap (same buffer, both non-empty); {@code allowSame} admits identical ranges. */
    static void disjoint(String op, String outName, DeviceBuffer out, long outOff, long outCount, String inName,
                         DeviceBuffer in, long inOff, long inCount, boolean allowSame) {
        if (out != in || outCount == 0 || inCount == 0) {
            return;
        }
        if (allowSame && outOff == inOff && outCount == inCount) {
            return;
        }
        if (outOff < inOff + inCount && inOff < outOff + outCount) {
            throw new IllegalArgumentException(op + ": output " + outName + " [" + outOff + ", " + (outOff + outCount)
                    + ") overlaps input " + inName + " [" + inOff + ", " + (inOff + inCount) + ") in the same buffer");
        }
    }

    static void device(String op, CudaDevice dev) {
        Checks.notNull(op, "device", dev);
    }

    private static int strideBlocks(CudaDevice dev, long work) {
        long cap = (long) Math.max(1, dev.multiprocessors()) * BLOCKS_PER_SM;
        return (int) Math.max(1, Math.min((work + BLOCK - 1) / BLOCK, cap));
    }

    // ------------------------------------------------------------------------------------------ activation

    /** {@code y[i] = f^(order)(x[i])} for {@code n} elements; {@code y} may be {@code x} itself (same offset). */
    public static void activationF32(CudaDevice d, Activation f, int order, float beta, DeviceBuffer x, long xOff,
                                     DeviceBuffer y, long yOff, long n) {
        activation(d, "sprout_activation_f32", 4, f, order, beta, x, xOff, y, yOff, n);
    }

    /** {@code y[i] = f^(order)(x[i])} for {@code n} elements; {@code y} may be {@code x} itself (same offset). */
    public static void activationF64(CudaDevice d, Activation f, int order, double beta, DeviceBuffer x, long xOff,
                                     DeviceBuffer y, long yOff, long n) {
        activation(d, "sprout_activation_f64", 8, f, order, beta, x, xOff, y, yOff, n);
    }

    private static void activation(CudaDevice d, String kernel, int elem, Activation f, int order, double beta,
                                   DeviceBuffer x, long xOff, DeviceBuffer y, long yOff, long n) {
        String op = "activation";
        device(op, d);
        Checks.notNull(op, "f", f);
        if (order < 0 || order > Activation.MAX_ORDER) {
            throw new IllegalArgumentException(op + ": derivative order " + order + " of " + f + " not available (0.."
                    + Activation.MAX_ORDER + ")");
        }
        if (n < 0) {
            throw new IllegalArgumentException(op + ": negative size n = " + n);
        }
        range(op, "x", d, x, xOff, n, elem);
        range(op, "y", d, y, yOff, n, elem);
        disjoint(op, "y", y, yOff, n, "x", x, xOff, n, true);
        int fn = code(f);
        if (n == 0) {
            return;
        }
        double[] p = POLY[f.ordinal()][order];
        double[] c = new double[MAX_COEFFICIENTS];
        System.arraycopy(p, 0, c, 0, p.length);
        d.launch(kernel, strideBlocks(d, n), 1, 1, BLOCK, 1, 1, 0,
                fn, order, beta, p.length, c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7],
                x.at(xOff * elem), y.at(yOff * elem), n);
    }

    // ------------------------------------------------------------------------------------------ sumAxis

    /** Sums {@code x} viewed as {@code [outer, len, inner]} over its middle axis into {@code out [outer, inner]} (overwritten). */
    public static void sumAxisF32(CudaDevice d, DeviceBuffer x, long xOff, int outer, int len, int inner,
                                  DeviceBuffer out, long outOff) {
        sumAxis(d, "f32", 4, x, xOff, outer, len, inner, out, outOff);
    }

    /** Sums {@code x} viewed as {@code [outer, len, inner]} over its middle axis into {@code out [outer, inner]} (overwritten). */
    public static void sumAxisF64(CudaDevice d, DeviceBuffer x, long xOff, int outer, int len, int inner,
                                  DeviceBuffer out, long outOff) {
        sumAxis(d, "f64", 8, x, xOff, outer, len, inner, out, outOff);
    }

    /**
     * Which sum kernel a shape gets: one thread per output ({@code sprout_sum_axis_per_output_*}) when the
     * summed axis is short or the outputs alone fill the GPU with coalesced reads, otherwise a block per
     * (outer row, tile of inner columns) with a tree over the summed axis ({@code sprout_sum_axis_*}).
     */
    static boolean sumPerOutput(int outer, int len, int inner) {
        return len <= 16 || (inner >= 32 && (long) outer * inner >= (1L << 17));
    }

    /** log2 of the tiled sum kernel's inner tile: the power of two >= inner, at most 32. */
    static int sumTileLog2(int inner) {
        return Math.min(5, 32 - Integer.numberOfLeadingZeros(Math.max(1, inner) - 1));
    }

    private static void sumAxis(CudaDevice d, String suffix, int elem, DeviceBuffer x, long xOff, int outer, int len,
                                int inner, DeviceBuffer out, long outOff) {
        String op = "sumAxis";
        device(op, d);
        Checks.sizes(op, "outer, len, inner", outer, len, inner);
        long total = (long) outer * len * inner, outs = (long) outer * inner;
        range(op, "x", d, x, xOff, total, elem);
        range(op, "out", d, out, outOff, outs, elem);
        disjoint(op, "out", out, outOff, outs, "x", x, xOff, total, false);
        if (outs == 0) {
            return;
        }
        if (sumPerOutput(outer, len, inner)) {
            d.launch("sprout_sum_axis_per_output_" + suffix, strideBlocks(d, outs), 1, 1, BLOCK, 1, 1, 0,
                    x.at(xOff * elem), out.at(outOff * elem), (long) outer, (long) len, (long) inner);
        } else {
            int txLog2 = sumTileLog2(inner);
            long tiles = ((long) inner + (1 << txLog2) - 1) >> txLog2;
            int gx = (int) Math.min(outer, (long) Math.max(1, d.multiprocessors()) * BLOCKS_PER_SM * 8);
            int gy = (int) Math.min(tiles, GRID_YZ);
            d.launch("sprout_sum_axis_" + suffix, gx, gy, 1, BLOCK, 1, 1, 0,
                    x.at(xOff * elem), out.at(outOff * elem), (long) outer, (long) len, (long) inner, txLog2);
        }
    }

    // ------------------------------------------------------------------------------------------ im2col / col2im

    /** Unfolds one image {@code [C, H, W]} into columns {@code [C*kh*kw, outH*outW]}. */
    public static void im2colF32(CudaDevice d, ConvGeometry g, DeviceBuffer x, long xOff, DeviceBuffer col, long colOff) {
        lowering(d, "im2col", "sprout_im2col_f32", 4, g, x, xOff, col, colOff);
    }

    /** Unfolds one image {@code [C, H, W]} into columns {@code [C*kh*kw, outH*outW]}. */
    public static void im2colF64(CudaDevice d, ConvGeometry g, DeviceBuffer x, long xOff, DeviceBuffer col, long colOff) {
        lowering(d, "im2col", "sprout_im2col_f64", 8, g, x, xOff, col, colOff);
    }

    /** The adjoint of im2col: overwrites the image {@code x} with the sum of the column entries that map onto each pixel. */
    public static void col2imF32(CudaDevice d, ConvGeometry g, DeviceBuffer col, long colOff, DeviceBuffer x, long xOff) {
        lowering(d, "col2im", "sprout_col2im_f32", 4, g, x, xOff, col, colOff);
    }

    /** The adjoint of im2col: overwrites the image {@code x} with the sum of the column entries that map onto each pixel. */
    public static void col2imF64(CudaDevice d, ConvGeometry g, DeviceBuffer col, long colOff, DeviceBuffer x, long xOff) {
        lowering(d, "col2im", "sprout_col2im_f64", 8, g, x, xOff, col, colOff);
    }

    private static void lowering(CudaDevice d, String op, String kernel, int elem, ConvGeometry g, DeviceBuffer x,
                                 long xOff, DeviceBuffer col, long colOff) {
        device(op, d);
        Checks.notNull(op, "geometry", g);
        long channel = (long) g.height() * g.width();
        long image = g.channels() * channel;
        long rows = (long) g.channels() * g.kernelH() * g.kernelW();
        long pixels = (long) g.outH() * g.outW();
        range(op, "image", d, x, xOff, image, elem);
        range(op, "col", d, col, colOff, rows * pixels, elem);
        boolean im2col = op.equals("im2col");
        disjoint(op, im2col ? "col" : "image", im2col ? col : x, im2col ? colOff : xOff, im2col ? rows * pixels : image,
                im2col ? "image" : "col", im2col ? x : col, im2col ? xOff : colOff, im2col ? image : rows * pixels, false);
        if (image >= INDEX_LIMIT || rows >= INDEX_LIMIT || pixels >= INDEX_LIMIT
                || (long) g.height() + 2L * g.padH() >= INDEX_LIMIT || (long) g.width() + 2L * g.padW() >= INDEX_LIMIT) {
            throw new IllegalArgumentException(op + ": geometry " + g + " too large for the kernel's 32-bit indexing");
        }
        int cap = Math.max(1, d.multiprocessors()) * BLOCKS_PER_SM;
        if (im2col) {
            int gx = (int) Math.min((pixels + BLOCK - 1) / BLOCK, cap);
            int gy = (int) Math.min(rows, GRID_YZ);
            d.launch(kernel, gx, gy, 1, BLOCK, 1, 1, 0, x.at(xOff * elem), col.at(colOff * elem), g.channels(),
                    g.height(), g.width(), g.kernelH(), g.kernelW(), g.strideH(), g.strideW(), g.padH(), g.padW(),
                    g.outH(), g.outW());
        } else {
            int gx = (int) Math.min((channel + BLOCK - 1) / BLOCK, cap);
            int gy = Math.min(g.channels(), GRID_YZ);
            d.launch(kernel, gx, gy, 1, BLOCK, 1, 1, 0, col.at(colOff * elem), x.at(xOff * elem), g.channels(),
                    g.height(), g.width(), g.kernelH(), g.kernelW(), g.strideH(), g.strideW(), g.padH(), g.padW(),
                    g.outH(), g.outW());
        }
    }
}
