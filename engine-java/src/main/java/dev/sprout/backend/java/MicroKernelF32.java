package dev.sprout.backend.java;

/**
 * A register-tile kernel of {@link PackedGemmF32}: from one packed panel of A~ ({@code mr} rows) and one packed
 * panel of B~ ({@code nr} columns) it computes the {@code mr x nr} tile {@code acc = A~ B~} over {@code kc} and
 * merges it into C as {@code C = alpha * acc + beta * C} ({@code beta == 0}: C is overwritten, never read, so NaN
 * in C does not survive, as in BLAS).
 *
 * <p>Packed layouts (all offsets in elements):
 * <ul>
 *   <li>A~ panel, row layout ({@code aRows}): element {@code (r, p)} at {@code aOff + r * KCS + p}. Used when the
 *       operand's rows run along k (A not transposed), so packing is a plain copy of row pieces.</li>
 *   <li>A~ panel, k-major layout: {@code (r, p)} at {@code aOff + p * mr + r}. Used when the operand is stored
 *       transposed (its columns run along k), so packing copies {@code mr} contiguous values per k.</li>
 *   <li>B~ panel: {@code (p, j)} at {@code bOff + p * nr + j}, always k-major.</li>
 * </ul>
 * Panels are padded with zeros to full {@code mr} rows / {@code nr} columns; the kernel always computes the
 * whole tile and stores only the valid {@code mv x nv} corner.
 */
abstract class MicroKernelF32 {
    /** Row stride of a row-layout A~ panel, and so the largest k-block ({@code KC}) a driver may use. */
    static final int KCS = 256;

    final String name;
    final int mr;
    final int nr;

    MicroKernelF32(String name, int mr, int nr) {
        this.name = name;
        this.mr = mr;
        this.nr = nr;
    }

    /**
     * Computes one tile (see the class comment).
     *
     * @param tile scratch of at least {@code mr * nr} elements, for edge tiles
     */
    abstract void tile(int kc, float[] a, int aOff, boolean aRows, float[] b, int bOff, float alpha, float beta,
                       float[] c, int cOff, int ldc, int mv, int nv, float[] tile);

    /**
     * Copies {@code rows} rows of {@code w} contiguous elements: {@code dst[d + i*w + j] = src[s + i*stride + j]}.
     * Packing a B~ panel of an untransposed B ({@code w = nr}) or an A~ panel of a transposed A ({@code w = mr})
     * is exactly this; vector kernels override it with vector loads and stores.
     */
    void copyRows(float[] src, int s, int stride, int rows, int w, float[] dst, int d) {
        for (int i = 0; i < rows; i++) {
            int si = s + i * stride;
            int di = d + i * w;
            for (int j = 0; j < w; j++) {
                dst[di + j] = src[si + j];
            }
        }
    }

    /**
     * Transposing copy: {@code dst[d + p*w + j] = src[s + j*stride + p]} for {@code j < w, p < rows}: packing a B~
     * panel of a transposed B. Done in 4 x 4 blocks held in locals (4 contiguous loads from each of 4 source rows,
     * then 4 contiguous stores to each of 4 destination rows): ~0.4 ns per element against ~0.55 for the plain
     * strided loop. (Vector gathers would be faster still but break C2's Vector API intrinsics; see
     * VectorKernelF32.copyRows.)
     */
    void copyColumns(float[] src, int s, int stride, int rows, int w, float[] dst, int d) {
        int p = 0;
        if (w % 4 == 0) {
            for (; p + 4 <= rows; p += 4) {
                for (int j = 0; j < w; j += 4) {
                    int s0 = s + j * stride + p;
                    int s1 = s0 + stride;
                    int s2 = s1 + stride;
                    int s3 = s2 + stride;
                    float x00 = src[s0], x01 = src[s0 + 1], x02 = src[s0 + 2], x03 = src[s0 + 3];
                    float x10 = src[s1], x11 = src[s1 + 1], x12 = src[s1 + 2], x13 = src[s1 + 3];
                    float x20 = src[s2], x21 = src[s2 + 1], x22 = src[s2 + 2], x23 = src[s2 + 3];
                    float x30 = src[s3], x31 = src[s3 + 1], x32 = src[s3 + 2], x33 = src[s3 + 3];
                    int di = d + p * w + j;
                    dst[di] = x00;
                    dst[di + 1] = x10;
                    dst[di + 2] = x20;
                    dst[di + 3] = x30;
                    di += w;
                    dst[di] = x01;
                    dst[di + 1] = x11;
                    dst[di + 2] = x21;
                    dst[di + 3] = x31;
                    di += w;
                    dst[di] = x02;
                    dst[di + 1] = x12;
                    dst[di + 2] = x22;
                    dst[di + 3] = x32;
                    di += w;
                    dst[di] = x03;
                    dst[di + 1] = x13;
                    dst[di + 2] = x23;
                    dst[di + 3] = x33;
                }
            }
        }
        for (int j = 0; j < w; j++) {
            int si = s + j * stride;
            int di = d + j;
            for (int q = p; q < rows; q++) {
                dst[di + q * w] = src[si + q];
            }
        }
    }

    /** Merges the valid {@code mv x nv} corner of an accumulator tile (row-major, row stride {@code nr}) into C. */
    static void storeEdge(float[] t, int nr, int mv, int nv, float alpha, float beta, float[] c, int cOff, int ldc) {
        for (int r = 0; r < mv; r++) {
            int ti = r * nr;
            int ci = cOff + r * ldc;
            if (beta == 0f) {
                for (int j = 0; j < nv; j++) {
                    c[ci + j] = alpha * t[ti + j];
                }
            } else {
                for (int j = 0; j < nv; j++) {
                    c[ci + j] = alpha * t[ti + j] + beta * c[ci + j];
                }
            }
        }
    }

    @Override
    public String toString() {
        return name;
    }
}
