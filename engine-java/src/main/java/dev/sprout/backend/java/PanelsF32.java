package dev.sprout.backend.java;

import dev.sprout.backend.GemmShape.Trans;

import java.util.Arrays;

/**
 * Operands of {@link PackedGemmF32} as sources of packed panels. The driver sees a real product
 * {@code C~ = A~ B~} ({@code m x k} times {@code k x n}); a source knows how its operand is stored (as is,
 * transposed, or, in {@link ComplexPanels}, a complex matrix written as a real one) and copies a block of it into
 * the layout the micro-kernel reads ({@link MicroKernelF32}).
 */
final class PanelsF32 {
    private PanelsF32() {
    }

    /** The left operand A~. */
    abstract static class A {
        /** Whether panels use the row layout ({@code true}) or the k-major layout. */
        abstract boolean rows();

        /**
         * Packs rows {@code [i0, i0 + mc)} and columns {@code [p0, p0 + kc)} of A~ into panels of {@code k.mr} rows;
         * panel {@code q} starts at {@code dst[q * mr * KCS]}. Rows past {@code mc} in the last panel are zero.
         */
        abstract void pack(int i0, int mc, int p0, int kc, MicroKernelF32 k, float[] dst);
    }

    /** The right operand B~. */
    abstract static class B {
        /**
         * Packs rows {@code [p0, p0 + kc)} and columns {@code [j0, j0 + nc)} of B~ into k-major panels of
         * {@code k.nr} columns; panel {@code q} starts at {@code dst[q * nr * kc]}. Columns past {@code nc} in the
         * last panel are zero.
         */
        abstract void pack(int p0, int kc, int j0, int nc, MicroKernelF32 k, float[] dst);
    }

    /** A real, row-major A with leading dimension {@code ld}: A~ = A or A^T. */
    static final class RealA extends A {
        private final boolean trans;
        private final float[] a;
        private final int off;
        private final int ld;

        RealA(Trans t, float[] a, int off, int ld) {
            this.trans = t.transposed();
            this.a = a;
            this.off = off;
            this.ld = ld;
        }

        @Override
        boolean rows() {
            return !trans;
        }

        @Override
        void pack(int i0, int mc, int p0, int kc, MicroKernelF32 k, float[] dst) {
            int kcs = MicroKernelF32.KCS;
            int mr = k.mr;
            for (int q = 0; q < mc; q += mr) {
                int rowsHere = Math.min(mr, mc - q);
                int base = q * kcs;
                if (!trans) {
                    // A~(i, p) = a[off + i*ld + p]: one contiguous copy per row
                    for (int r = 0; r < rowsHere; r++) {
                        System.arraycopy(a, off + (i0 + q + r) * ld + p0, dst, base + r * kcs, kc);
                    }
                    for (int r = rowsHere; r < mr; r++) {
                        Arrays.fill(dst, base + r * kcs, base + r * kcs + kc, 0f);
                    }
                } else if (rowsHere == mr) {
                    // A~(i, p) = a[off + p*ld + i]: mr contiguous values per k
                    k.copyRows(a, off + p0 * ld + i0 + q, ld, kc, mr, dst, base);
                } else {
                    for (int p = 0; p < kc; p++) {
                        int s = off + (p0 + p) * ld + i0 + q;
                        int d = base + p * mr;
                        for (int r = 0; r < rowsHere; r++) {
                            dst[d + r] = a[s + r];
                        }
                        for (int r = rowsHere; r < mr; r++) {
                            dst[d + r] = 0f;
                        }
                    }
                }
            }
        }
    }

    /** A real, row-major B with leading dimension {@code ld}: B~ = B or B^T. */
    static final class RealB extends B {
        private final boolean trans;
        private final float[] b;
        private final int off;
        private final int ld;

        RealB(Trans t, float[] b, int off, int ld) {
            this.trans = t.transposed();
            this.b = b;
            this.off = off;
            this.ld = ld;
        }

        @Override
        void pack(int p0, int kc, int j0, int nc, MicroKernelF32 k, float[] dst) {
            int nr = k.nr;
            for (int jq = 0; jq < nc; jq += nr) {
                int colsHere = Math.min(nr, nc - jq);
                int base = jq * kc;
                if (!trans && colsHere == nr) {
                    // B~(p, j) = b[off + p*ld + j]: nr contiguous values per k
                    k.copyRows(b, off + p0 * ld + j0 + jq, ld, kc, nr, dst, base);
                } else if (!trans) {
                    for (int p = 0; p < kc; p++) {
                        int s = off + (p0 + p) * ld + j0 + jq;
                        int d = base + p * nr;
                        for (int j = 0; j < colsHere; j++) {
                            dst[d + j] = b[s + j];
                        }
                        for (int j = colsHere; j < nr; j++) {
                            dst[d + j] = 0f;
                        }
                    }
                } else if (colsHere == nr) {
                    // B~(p, j) = b[off + j*ld + p]: a transposing copy
                    k.copyColumns(b, off + (j0 + jq) * ld + p0, ld, kc, nr, dst, base);
                } else {
                    for (int j = 0; j < colsHere; j++) {
                        int s = off + (j0 + jq + j) * ld + p0;
                        int d = base + j;
                        for (int p = 0; p < kc; p++) {
                            dst[d + p * nr] = b[s + p];
                        }
                    }
                    for (int j = colsHere; j < nr; j++) {
                        for (int p = 0; p < kc; p++) {
                            dst[base + j + p * nr] = 0f;
                        }
                    }
                }
            }
        }
    }
}
