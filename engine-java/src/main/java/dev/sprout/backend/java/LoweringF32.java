package dev.sprout.backend.java;

import dev.sprout.backend.ConvGeometry;
import dev.sprout.backend.GemmShape;

/**
 * The Java backend's f32 lowering kernels: im2col/col2im for convolutions and the weighted Gram matrices of
 * splitting. This is the template of {@code LoweringF64}, which tools/gen_gemm.py generates from it; the
 * backend checks every argument before calling either.
 */
final class LoweringF32 {
    private LoweringF32() {
    }

    /** Unfolds one image into columns (arguments already checked by the backend). */
    static void im2col(ConvGeometry g, float[] x, int xOff, float[] col, int colOff) {
        int oh = g.outH(), ow = g.outW(), H = g.height(), W = g.width();
        int row = 0;
        for (int c = 0; c < g.channels(); c++) {
            for (int ki = 0; ki < g.kernelH(); ki++) {
                for (int kj = 0; kj < g.kernelW(); kj++, row++) {
                    int dst = colOff + row * oh * ow;
                    for (int oy = 0; oy < oh; oy++) {
                        int iy = oy * g.strideH() - g.padH() + ki;
                        boolean rowIn = iy >= 0 && iy < H;
                        int src = xOff + (c * H + iy) * W;
                        for (int ox = 0; ox < ow; ox++) {
                            int ix = ox * g.strideW() - g.padW() + kj;
                            col[dst++] = rowIn && ix >= 0 && ix < W ? x[src + ix] : 0f;
                        }
                    }
                }
            }
        }
    }

    /** Folds columns back into one image, zeroing it first (arguments already checked by the backend). */
    static void col2im(ConvGeometry g, float[] col, int colOff, float[] x, int xOff) {
        int oh = g.outH(), ow = g.outW(), H = g.height(), W = g.width();
        java.util.Arrays.fill(x, xOff, xOff + g.imageSize(), 0f);
        int row = 0;
        for (int c = 0; c < g.channels(); c++) {
            for (int ki = 0; ki < g.kernelH(); ki++) {
                for (int kj = 0; kj < g.kernelW(); kj++, row++) {
                    int src = colOff + row * oh * ow;
                    for (int oy = 0; oy < oh; oy++) {
                        int iy = oy * g.strideH() - g.padH() + ki;
                        if (iy < 0 || iy >= H) {
                            src += ow;
                            continue;
                        }
                        int dst = xOff + (c * H + iy) * W;
                        for (int ox = 0; ox < ow; ox++, src++) {
                            int ix = ox * g.strideW() - g.padW() + kj;
                            if (ix >= 0 && ix < W) {
                                x[dst + ix] += col[src];
                            }
                        }
                    }
                }
            }
        }
    }

    /**
     * One gemm per neuron: {@code S_i += (diag(w_i) X)^T X}, with the scaled copy of X in a per-thread buffer;
     * neurons are spread over threads. Cost {@code neurons * samples * d^2} multiply-adds.
     */
    static void weightedGram(int samples, int d, int neurons, float[] x, int xOff, float[] w, int wOff, float[] s, int sOff,
                             int threads) {
        if (samples == 0 || d == 0 || neurons == 0) {
            return;
        }
        GemmShape g = new GemmShape(GemmShape.Trans.T, GemmShape.Trans.N, d, d, samples, d, d, d, 1, 0, 0, 0);
        double work = (double) samples * d * d;
        Parallel.forRange(neurons, threads, work, (lo, hi) -> {
            float[] scaled = new float[samples * d];
            for (int i = lo; i < hi; i++) {
                for (int n = 0; n < samples; n++) {
                    float wi = w[wOff + n * neurons + i];
                    int xr = xOff + n * d, yr = n * d;
                    for (int j = 0; j < d; j++) {
                        scaled[yr + j] = wi * x[xr + j];
                    }
                }
                int so = sOff + i * d * d;
                JavaGemm.gemm(g, 1f, scaled, 0, x, xOff, 1f, s, so, 1);
                symmetrize(s, so, d);
            }
        });
    }

    /** Averages the two triangles so the result is exactly symmetric despite blocked summation orders. */
    static void symmetrize(float[] s, int off, int d) {
        for (int r = 0; r < d; r++) {
            for (int c = 0; c < r; c++) {
                float v = 0.5f * (s[off + r * d + c] + s[off + c * d + r]);
                s[off + r * d + c] = v;
                s[off + c * d + r] = v;
            }
        }
    }
}
