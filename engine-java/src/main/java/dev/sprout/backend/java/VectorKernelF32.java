package dev.sprout.backend.java;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The Vector API micro-kernel of {@link PackedGemmF32}: an {@value #MR} x (2 vectors) register tile.
 *
 * <p>Loaded only after {@link VectorProbe} found {@code jdk.incubator.vector} readable (this class's constant pool
 * names Vector API types; loading it without the module fails).
 *
 * <p>Per k step: two vector loads of B~, {@value #MR} broadcasts of A~ (C2 emits {@code vbroadcastss} from
 * memory) and 16 FMAs into 16 accumulators (2 FMA pipes x 4 cycles latency need >= 8 in flight). Everything that
 * touches a vector lives in one method (no vector crosses a call: a vector passed to a method that C2 does not
 * inline is boxed, ~100x slower). One method per A~ layout and per full/edge tile keeps each small enough for
 * C1's profiling tier, without which C2 never gets to compile it. The loop indexes are affine in the loop
 * variable so C2 hoists the bounds checks. The bodies between the {@code @generated} markers are written by
 * {@code gen_gemm.py}.
 */
final class VectorKernelF32 extends MicroKernelF32 {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    /** Lanes per vector (16 floats with 512-bit vectors). */
    static final int L = S.length();
    static final int MR = 8;
    static final int NR = 2 * L;

    VectorKernelF32() {
        super("vector " + MR + "x" + NR + " (" + S.vectorBitSize() + "-bit)", MR, NR);
    }

    @Override
    void tile(int kc, float[] a, int aOff, boolean aRows, float[] b, int bOff, float alpha, float beta,
              float[] c, int cOff, int ldc, int mv, int nv, float[] t) {
        if (mv == MR && nv == NR) {
            if (aRows) {
                rows(kc, a, aOff, b, bOff, alpha, beta, c, cOff, ldc);
            } else {
                kMajor(kc, a, aOff, b, bOff, alpha, beta, c, cOff, ldc);
            }
        } else if (aRows) {
            rowsEdge(kc, a, aOff, b, bOff, alpha, beta, c, cOff, ldc, mv, nv, t);
        } else {
            kMajorEdge(kc, a, aOff, b, bOff, alpha, beta, c, cOff, ldc, mv, nv, t);
        }
    }

    /**
     * Vector copies for packing. Only species {@link #S} is used anywhere, and no gathers: a second species (say
     * 256-bit for 8-float rows, or the int index vectors of a gather, 512-bit for f32 and 256-bit for f64) makes the
     * Vector API's shared call sites polymorphic, and C2 then fails to intrinsify loads, stores and even FMAs (the
     * transposed-B products ran at half speed with gathers in the f32 and f64 packers). Rows narrower than a vector ({@code w < L}, the 8-float A~ rows of f32) are copied as whole vectors
     * whose tails overlap the next row's slot and are overwritten by it; the last tail lands in packing space not
     * yet written (the caller leaves {@code L} elements of slack at the end of the buffer).
     */
    @Override
    void copyRows(float[] src, int s, int stride, int rows, int w, float[] dst, int d) {
        if (w == NR) {
            for (int i = 0; i < rows; i++) {
                int si = s + i * stride;
                int di = d + i * NR;
                FloatVector.fromArray(S, src, si).intoArray(dst, di);
                FloatVector.fromArray(S, src, si + L).intoArray(dst, di + L);
            }
        } else if (w == L) {
            for (int i = 0; i < rows; i++) {
                FloatVector.fromArray(S, src, s + i * stride).intoArray(dst, d + i * L);
            }
        } else if (w < L && d + (rows - 1) * w + L <= dst.length) {
            int i = 0;
            for (; i < rows && s + i * stride + L <= src.length; i++) {
                FloatVector.fromArray(S, src, s + i * stride).intoArray(dst, d + i * w);
            }
            if (i < rows) {
                super.copyRows(src, s + i * stride, stride, rows - i, w, dst, d + i * w);
            }
        } else {
            super.copyRows(src, s, stride, rows, w, dst, d);
        }
    }

    // @generated-begin micro-kernels (gen_gemm.py)

    /** 8 x 2 vectors, full tile; A~ in row layout: (r, p) at aOff + r * KCS + p. */
    private static void rows(int kc, float[] a, int aOff, float[] b, int bOff, float alpha, float beta,
            float[] c, int cOff, int ldc) {
        FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S);
        FloatVector c10 = FloatVector.zero(S), c11 = FloatVector.zero(S);
        FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S);
        FloatVector c30 = FloatVector.zero(S), c31 = FloatVector.zero(S);
        FloatVector c40 = FloatVector.zero(S), c41 = FloatVector.zero(S);
        FloatVector c50 = FloatVector.zero(S), c51 = FloatVector.zero(S);
        FloatVector c60 = FloatVector.zero(S), c61 = FloatVector.zero(S);
        FloatVector c70 = FloatVector.zero(S), c71 = FloatVector.zero(S);
        for (int p = 0; p < kc; p++) {
            int ai = aOff + p;
            int bi = bOff + p * NR;
            FloatVector b0 = FloatVector.fromArray(S, b, bi);
            FloatVector b1 = FloatVector.fromArray(S, b, bi + L);
            FloatVector x;
            x = FloatVector.broadcast(S, a[ai]);
            c00 = x.fma(b0, c00); c01 = x.fma(b1, c01);
            x = FloatVector.broadcast(S, a[ai + KCS]);
            c10 = x.fma(b0, c10); c11 = x.fma(b1, c11);
            x = FloatVector.broadcast(S, a[ai + 2 * KCS]);
            c20 = x.fma(b0, c20); c21 = x.fma(b1, c21);
            x = FloatVector.broadcast(S, a[ai + 3 * KCS]);
            c30 = x.fma(b0, c30); c31 = x.fma(b1, c31);
            x = FloatVector.broadcast(S, a[ai + 4 * KCS]);
            c40 = x.fma(b0, c40); c41 = x.fma(b1, c41);
            x = FloatVector.broadcast(S, a[ai + 5 * KCS]);
            c50 = x.fma(b0, c50); c51 = x.fma(b1, c51);
            x = FloatVector.broadcast(S, a[ai + 6 * KCS]);
            c60 = x.fma(b0, c60); c61 = x.fma(b1, c61);
            x = FloatVector.broadcast(S, a[ai + 7 * KCS]);
            c70 = x.fma(b0, c70); c71 = x.fma(b1, c71);
        }
        FloatVector va = FloatVector.broadcast(S, alpha);
        if (beta == 0f) {
            c00.mul(va).intoArray(c, cOff); c01.mul(va).intoArray(c, cOff + L);
            c10.mul(va).intoArray(c, cOff + ldc); c11.mul(va).intoArray(c, cOff + ldc + L);
            c20.mul(va).intoArray(c, cOff + 2 * ldc); c21.mul(va).intoArray(c, cOff + 2 * ldc + L);
            c30.mul(va).intoArray(c, cOff + 3 * ldc); c31.mul(va).intoArray(c, cOff + 3 * ldc + L);
            c40.mul(va).intoArray(c, cOff + 4 * ldc); c41.mul(va).intoArray(c, cOff + 4 * ldc + L);
            c50.mul(va).intoArray(c, cOff + 5 * ldc); c51.mul(va).intoArray(c, cOff + 5 * ldc + L);
            c60.mul(va).intoArray(c, cOff + 6 * ldc); c61.mul(va).intoArray(c, cOff + 6 * ldc + L);
            c70.mul(va).intoArray(c, cOff + 7 * ldc); c71.mul(va).intoArray(c, cOff + 7 * ldc + L);
        } else {
            FloatVector vb = FloatVector.broadcast(S, beta);
            c00.fma(va, FloatVector.fromArray(S, c, cOff).mul(vb)).intoArray(c, cOff);
            c01.fma(va, FloatVector.fromArray(S, c, cOff + L).mul(vb)).intoArray(c, cOff + L);
            c10.fma(va, FloatVector.fromArray(S, c, cOff + ldc).mul(vb)).intoArray(c, cOff + ldc);
            c11.fma(va, FloatVector.fromArray(S, c, cOff + ldc + L).mul(vb)).intoArray(c, cOff + ldc + L);
            c20.fma(va, FloatVector.fromArray(S, c, cOff + 2 * ldc).mul(vb)).intoArray(c, cOff + 2 * ldc);
            c21.fma(va, FloatVector.fromArray(S, c, cOff + 2 * ldc + L).mul(vb)).intoArray(c, cOff + 2 * ldc + L);
            c30.fma(va, FloatVector.fromArray(S, c, cOff + 3 * ldc).mul(vb)).intoArray(c, cOff + 3 * ldc);
            c31.fma(va, FloatVector.fromArray(S, c, cOff + 3 * ldc + L).mul(vb)).intoArray(c, cOff + 3 * ldc + L);
            c40.fma(va, FloatVector.fromArray(S, c, cOff + 4 * ldc).mul(vb)).intoArray(c, cOff + 4 * ldc);
            c41.fma(va, FloatVector.fromArray(S, c, cOff + 4 * ldc + L).mul(vb)).intoArray(c, cOff + 4 * ldc + L);
            c50.fma(va, FloatVector.fromArray(S, c, cOff + 5 * ldc).mul(vb)).intoArray(c, cOff + 5 * ldc);
            c51.fma(va, FloatVector.fromArray(S, c, cOff + 5 * ldc + L).mul(vb)).intoArray(c, cOff + 5 * ldc + L);
            c60.fma(va, FloatVector.fromArray(S, c, cOff + 6 * ldc).mul(vb)).intoArray(c, cOff + 6 * ldc);
            c61.fma(va, FloatVector.fromArray(S, c, cOff + 6 * ldc + L).mul(vb)).intoArray(c, cOff + 6 * ldc + L);
            c70.fma(va, FloatVector.fromArray(S, c, cOff + 7 * ldc).mul(vb)).intoArray(c, cOff + 7 * ldc);
            c71.fma(va, FloatVector.fromArray(S, c, cOff + 7 * ldc + L).mul(vb)).intoArray(c, cOff + 7 * ldc + L);
        }
    }

    /** 8 x 2 vectors, full tile; A~ in k-major layout: (r, p) at aOff + p * MR + r. */
    private static void kMajor(int kc, float[] a, int aOff, float[] b, int bOff, float alpha, float beta,
            float[] c, int cOff, int ldc) {
        FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S);
        FloatVector c10 = FloatVector.zero(S), c11 = FloatVector.zero(S);
        FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S);
        FloatVector c30 = FloatVector.zero(S), c31 = FloatVector.zero(S);
        FloatVector c40 = FloatVector.zero(S), c41 = FloatVector.zero(S);
        FloatVector c50 = FloatVector.zero(S), c51 = FloatVector.zero(S);
        FloatVector c60 = FloatVector.zero(S), c61 = FloatVector.zero(S);
        FloatVector c70 = FloatVector.zero(S), c71 = FloatVector.zero(S);
        for (int p = 0; p < kc; p++) {
            int ai = aOff + p * MR;
            int bi = bOff + p * NR;
            FloatVector b0 = FloatVector.fromArray(S, b, bi);
            FloatVector b1 = FloatVector.fromArray(S, b, bi + L);
            FloatVector x;
            x = FloatVector.broadcast(S, a[ai]);
            c00 = x.fma(b0, c00); c01 = x.fma(b1, c01);
            x = FloatVector.broadcast(S, a[ai + 1]);
            c10 = x.fma(b0, c10); c11 = x.fma(b1, c11);
            x = FloatVector.broadcast(S, a[ai + 2]);
            c20 = x.fma(b0, c20); c21 = x.fma(b1, c21);
            x = FloatVector.broadcast(S, a[ai + 3]);
            c30 = x.fma(b0, c30); c31 = x.fma(b1, c31);
            x = FloatVector.broadcast(S, a[ai + 4]);
            c40 = x.fma(b0, c40); c41 = x.fma(b1, c41);
            x = FloatVector.broadcast(S, a[ai + 5]);
            c50 = x.fma(b0, c50); c51 = x.fma(b1, c51);
            x = FloatVector.broadcast(S, a[ai + 6]);
            c60 = x.fma(b0, c60); c61 = x.fma(b1, c61);
            x = FloatVector.broadcast(S, a[ai + 7]);
            c70 = x.fma(b0, c70); c71 = x.fma(b1, c71);
        }
        FloatVector va = FloatVector.broadcast(S, alpha);
        if (beta == 0f) {
            c00.mul(va).intoArray(c, cOff); c01.mul(va).intoArray(c, cOff + L);
            c10.mul(va).intoArray(c, cOff + ldc); c11.mul(va).intoArray(c, cOff + ldc + L);
            c20.mul(va).intoArray(c, cOff + 2 * ldc); c21.mul(va).intoArray(c, cOff + 2 * ldc + L);
            c30.mul(va).intoArray(c, cOff + 3 * ldc); c31.mul(va).intoArray(c, cOff + 3 * ldc + L);
            c40.mul(va).intoArray(c, cOff + 4 * ldc); c41.mul(va).intoArray(c, cOff + 4 * ldc + L);
            c50.mul(va).intoArray(c, cOff + 5 * ldc); c51.mul(va).intoArray(c, cOff + 5 * ldc + L);
            c60.mul(va).intoArray(c, cOff + 6 * ldc); c61.mul(va).intoArray(c, cOff + 6 * ldc + L);
            c70.mul(va).intoArray(c, cOff + 7 * ldc); c71.mul(va).intoArray(c, cOff + 7 * ldc + L);
        } else {
            FloatVector vb = FloatVector.broadcast(S, beta);
            c00.fma(va, FloatVector.fromArray(S, c, cOff).mul(vb)).intoArray(c, cOff);
            c01.fma(va, FloatVector.fromArray(S, c, cOff + L).mul(vb)).intoArray(c, cOff + L);
            c10.fma(va, FloatVector.fromArray(S, c, cOff + ldc).mul(vb)).intoArray(c, cOff + ldc);
            c11.fma(va, FloatVector.fromArray(S, c, cOff + ldc + L).mul(vb)).intoArray(c, cOff + ldc + L);
            c20.fma(va, FloatVector.fromArray(S, c, cOff + 2 * ldc).mul(vb)).intoArray(c, cOff + 2 * ldc);
            c21.fma(va, FloatVector.fromArray(S, c, cOff + 2 * ldc + L).mul(vb)).intoArray(c, cOff + 2 * ldc + L);
            c30.fma(va, FloatVector.fromArray(S, c, cOff + 3 * ldc).mul(vb)).intoArray(c, cOff + 3 * ldc);
            c31.fma(va, FloatVector.fromArray(S, c, cOff + 3 * ldc + L).mul(vb)).intoArray(c, cOff + 3 * ldc + L);
            c40.fma(va, FloatVector.fromArray(S, c, cOff + 4 * ldc).mul(vb)).intoArray(c, cOff + 4 * ldc);
            c41.fma(va, FloatVector.fromArray(S, c, cOff + 4 * ldc + L).mul(vb)).intoArray(c, cOff + 4 * ldc + L);
            c50.fma(va, FloatVector.fromArray(S, c, cOff + 5 * ldc).mul(vb)).intoArray(c, cOff + 5 * ldc);
            c51.fma(va, FloatVector.fromArray(S, c, cOff + 5 * ldc + L).mul(vb)).intoArray(c, cOff + 5 * ldc + L);
            c60.fma(va, FloatVector.fromArray(S, c, cOff + 6 * ldc).mul(vb)).intoArray(c, cOff + 6 * ldc);
            c61.fma(va, FloatVector.fromArray(S, c, cOff + 6 * ldc + L).mul(vb)).intoArray(c, cOff + 6 * ldc + L);
            c70.fma(va, FloatVector.fromArray(S, c, cOff + 7 * ldc).mul(vb)).intoArray(c, cOff + 7 * ldc);
            c71.fma(va, FloatVector.fromArray(S, c, cOff + 7 * ldc + L).mul(vb)).intoArray(c, cOff + 7 * ldc + L);
        }
    }

    /** 8 x 2 vectors, edge tile: accumulators to the scratch tile, then the valid corner to C; A~ in row layout: (r, p) at aOff + r * KCS + p. */
    private static void rowsEdge(int kc, float[] a, int aOff, float[] b, int bOff, float alpha, float beta,
            float[] c, int cOff, int ldc, int mv, int nv, float[] t) {
        FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S);
        FloatVector c10 = FloatVector.zero(S), c11 = FloatVector.zero(S);
        FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S);
        FloatVector c30 = FloatVector.zero(S), c31 = FloatVector.zero(S);
        FloatVector c40 = FloatVector.zero(S), c41 = FloatVector.zero(S);
        FloatVector c50 = FloatVector.zero(S), c51 = FloatVector.zero(S);
        FloatVector c60 = FloatVector.zero(S), c61 = FloatVector.zero(S);
        FloatVector c70 = FloatVector.zero(S), c71 = FloatVector.zero(S);
        for (int p = 0; p < kc; p++) {
            int ai = aOff + p;
            int bi = bOff + p * NR;
            FloatVector b0 = FloatVector.fromArray(S, b, bi);
            FloatVector b1 = FloatVector.fromArray(S, b, bi + L);
            FloatVector x;
            x = FloatVector.broadcast(S, a[ai]);
            c00 = x.fma(b0, c00); c01 = x.fma(b1, c01);
            x = FloatVector.broadcast(S, a[ai + KCS]);
            c10 = x.fma(b0, c10); c11 = x.fma(b1, c11);
            x = FloatVector.broadcast(S, a[ai + 2 * KCS]);
            c20 = x.fma(b0, c20); c21 = x.fma(b1, c21);
            x = FloatVector.broadcast(S, a[ai + 3 * KCS]);
            c30 = x.fma(b0, c30); c31 = x.fma(b1, c31);
            x = FloatVector.broadcast(S, a[ai + 4 * KCS]);
            c40 = x.fma(b0, c40); c41 = x.fma(b1, c41);
            x = FloatVector.broadcast(S, a[ai + 5 * KCS]);
            c50 = x.fma(b0, c50); c51 = x.fma(b1, c51);
            x = FloatVector.broadcast(S, a[ai + 6 * KCS]);
            c60 = x.fma(b0, c60); c61 = x.fma(b1, c61);
            x = FloatVector.broadcast(S, a[ai + 7 * KCS]);
            c70 = x.fma(b0, c70); c71 = x.fma(b1, c71);
        }
        c00.intoArray(t, 0); c01.intoArray(t, L);
        c10.intoArray(t, NR); c11.intoArray(t, NR + L);
        c20.intoArray(t, 2 * NR); c21.intoArray(t, 2 * NR + L);
        c30.intoArray(t, 3 * NR); c31.intoArray(t, 3 * NR + L);
        c40.intoArray(t, 4 * NR); c41.intoArray(t, 4 * NR + L);
        c50.intoArray(t, 5 * NR); c51.intoArray(t, 5 * NR + L);
        c60.intoArray(t, 6 * NR); c61.intoArray(t, 6 * NR + L);
        c70.intoArray(t, 7 * NR); c71.intoArray(t, 7 * NR + L);
        storeEdge(t, NR, mv, nv, alpha, beta, c, cOff, ldc);
    }

    /** 8 x 2 vectors, edge tile: accumulators to the scratch tile, then the valid corner to C; A~ in k-major layout: (r, p) at aOff + p * MR + r. */
    private static void kMajorEdge(int kc, float[] a, int aOff, float[] b, int bOff, float alpha, float beta,
            float[] c, int cOff, int ldc, int mv, int nv, float[] t) {
        FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S);
        FloatVector c10 = FloatVector.zero(S), c11 = FloatVector.zero(S);
        FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S);
        FloatVector c30 = FloatVector.zero(S), c31 = FloatVector.zero(S);
        FloatVector c40 = FloatVector.zero(S), c41 = FloatVector.zero(S);
        FloatVector c50 = FloatVector.zero(S), c51 = FloatVector.zero(S);
        FloatVector c60 = FloatVector.zero(S), c61 = FloatVector.zero(S);
        FloatVector c70 = FloatVector.zero(S), c71 = FloatVector.zero(S);
        for (int p = 0; p < kc; p++) {
            int ai = aOff + p * MR;
            int bi = bOff + p * NR;
            FloatVector b0 = FloatVector.fromArray(S, b, bi);
            FloatVector b1 = FloatVector.fromArray(S, b, bi + L);
            FloatVector x;
            x = FloatVector.broadcast(S, a[ai]);
            c00 = x.fma(b0, c00); c01 = x.fma(b1, c01);
            x = FloatVector.broadcast(S, a[ai + 1]);
            c10 = x.fma(b0, c10); c11 = x.fma(b1, c11);
            x = FloatVector.broadcast(S, a[ai + 2]);
            c20 = x.fma(b0, c20); c21 = x.fma(b1, c21);
            x = FloatVector.broadcast(S, a[ai + 3]);
            c30 = x.fma(b0, c30); c31 = x.fma(b1, c31);
            x = FloatVector.broadcast(S, a[ai + 4]);
            c40 = x.fma(b0, c40); c41 = x.fma(b1, c41);
            x = FloatVector.broadcast(S, a[ai + 5]);
            c50 = x.fma(b0, c50); c51 = x.fma(b1, c51);
            x = FloatVector.broadcast(S, a[ai + 6]);
            c60 = x.fma(b0, c60); c61 = x.fma(b1, c61);
            x = FloatVector.broadcast(S, a[ai + 7]);
            c70 = x.fma(b0, c70); c71 = x.fma(b1, c71);
        }
        c00.intoArray(t, 0); c01.intoArray(t, L);
        c10.intoArray(t, NR); c11.intoArray(t, NR + L);
        c20.intoArray(t, 2 * NR); c21.intoArray(t, 2 * NR + L);
        c30.intoArray(t, 3 * NR); c31.intoArray(t, 3 * NR + L);
        c40.intoArray(t, 4 * NR); c41.intoArray(t, 4 * NR + L);
        c50.intoArray(t, 5 * NR); c51.intoArray(t, 5 * NR + L);
        c60.intoArray(t, 6 * NR); c61.intoArray(t, 6 * NR + L);
        c70.intoArray(t, 7 * NR); c71.intoArray(t, 7 * NR + L);
        storeEdge(t, NR, mv, nv, alpha, beta, c, cOff, ldc);
    }
    // @generated-end
}
