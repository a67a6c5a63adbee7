package dev.sprout.backend.java;

import dev.sprout.backend.GemmShape.Trans;

/**
 * A complex (c64, interleaved) product as a real f32 product of twice the size, so complex gemm runs on the same
 * packed driver and micro-kernels as sgemm, at the same FLOP rate (8mnk real flops either way).
 *
 * <p>With {@code z = x + iy} interleaved as {@code (x, y)}: C (m x n complex) is the real m x 2n matrix of its
 * floats; A~ is the real m x 2k matrix whose row i is {@code alpha * op(A)[i, :]} interleaved; B~ is the real
 * 2k x 2n matrix whose rows {@code 2l} and {@code 2l+1} are, for each complex {@code w = op(B)[l, j]}:
 * <pre>
 *   row 2l:   ( re w,  im w)
 *   row 2l+1: (-im w,  re w)
 * </pre>
 * Then {@code (A~ B~)[i, 2j] = sum_l re(a) re(w) - im(a) im(w)} and {@code (A~ B~)[i, 2j+1] = sum_l re(a) im(w) +
 * im(a) re(w)}: the complex product. The complex alpha is folded into A~ while packing (the kernel then uses
 * alpha = 1); {@link Trans#H} conjugates while packing. Offsets here are float indexes, leading
 * dimensions count complex elements.
 */
final class ComplexPanels {
    private ComplexPanels() {
    }

    /** A~ of a complex A: N uses the row layout (a scaled copy of each row), T/H the k-major layout. */
    static final class A extends PanelsF32.A {
        private final boolean trans;
        private final boolean conj;
        private final float[] a;
        private final int off;
        private final int ld;
        private final float ar;
        private final float ai;

        A(Trans t, float[] a, int floatOff, int ld, float alphaRe, float alphaIm) {
            this.trans = t.transposed();
            this.conj = t == Trans.H;
            this.a = a;
            this.off = floatOff;
            this.ld = ld;
            this.ar = alphaRe;
            this.ai = alphaIm;
        }

        @Override
        boolean rows() {
            return !trans;
        }

        @Override
        void pack(int i0, int mc, int p0, int kc, MicroKernelF32 k, float[] dst) {
            int kcs = MicroKernelF32.KCS;
            int mr = k.mr;
            int l0 = p0 >> 1;
            for (int q = 0; q < mc; q += mr) {
                int rowsHere = Math.min(mr, mc - q);
                int base = q * kcs;
                if (!trans) {
                    for (int r = 0; r < mr; r++) {
                        int d = base + r * kcs;
                        if (r >= rowsHere) {
                            java.util.Arrays.fill(dst, d, d + kc, 0f);
                            continue;
                        }
                        int s = off + 2 * ((i0 + q + r) * ld + l0);
                        for (int t = 0; t < kc; t += 2) {
                            float xr = a[s + t];
                            float xi = a[s + t + 1];
                            dst[d + t] = ar * xr - ai * xi;
                            dst[d + t + 1] = ar * xi + ai * xr;
                        }
                    }
                } else {
                    for (int t = 0; t < kc; t += 2) {
                        int s = off + 2 * ((l0 + (t >> 1)) * ld + i0 + q);
                        int d0 = base + t * mr;
                        int d1 = d0 + mr;
                        for (int r = 0; r < rowsHere; r++) {
                            float xr = a[s + 2 * r];
                            float xi = conj ? -a[s + 2 * r + 1] : a[s + 2 * r + 1];
                            dst[d0 + r] = ar * xr - ai * xi;
                            dst[d1 + r] = ar * xi + ai * xr;
                        }
                        for (int r = rowsHere; r < mr; r++) {
                            dst[d0 + r] = 0f;
                            dst[d1 + r] = 0f;
                        }
                    }
                }
            }
        }
    }

    /** B~ of a complex B (see the class comment). */
    static final class B extends PanelsF32.B {
        private final boolean trans;
        private final boolean conj;
        private final float[] b;
        private final int off;
        private final int ld;

        B(Trans t, float[] b, int floatOff, int ld) {
            this.trans = t.transposed();
            this.conj = t == Trans.H;
            this.b = b;
            this.off = floatOff;
            this.ld = ld;
        }

        @Override
        void pack(int p0, int kc, int j0, int nc, MicroKernelF32 k, float[] dst) {
            int nr = k.nr;
            int l0 = p0 >> 1;
            for (int jq = 0; jq < nc; jq += nr) {
                int colsHere = Math.min(nr, nc - jq);
                int base = jq * kc;
                int jBase = (j0 + jq) >> 1;
                for (int t = 0; t < kc; t += 2) {
                    int l = l0 + (t >> 1);
                    int d0 = base + t * nr;
                    int d1 = d0 + nr;
                    for (int cc = 0; cc < colsHere; cc += 2) {
                        int j = jBase + (cc >> 1);
                        int s = trans ? off + 2 * (j * ld + l) : off + 2 * (l * ld + j);
                        float wr = b[s];
                        float wi = conj ? -b[s + 1] : b[s + 1];
                        dst[d0 + cc] = wr;
                        dst[d0 + cc + 1] = wi;
                        dst[d1 + cc] = -wi;
                        dst[d1 + cc + 1] = wr;
                    }
                    for (int cc = colsHere; cc < nr; cc++) {
                        dst[d0 + cc] = 0f;
                        dst[d1 + cc] = 0f;
                    }
                }
            }
        }
    }
}
