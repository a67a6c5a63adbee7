package dev.sprout.backend.java;

import dev.sprout.backend.GemmShape.Trans;

/** The plain triple loop: the reference every other gemm variant of this element type is tested against. */
final class NaiveF32 {
    private NaiveF32() {
    }

    static void gemm(Trans ta, Trans tb, int m, int n, int k, float alpha, float[] a, int aOff, int lda,
                     float[] b, int bOff, int ldb, float beta, float[] c, int cOff, int ldc) {
        boolean at = ta.transposed();
        boolean bt = tb.transposed();
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                float s = 0f;
                for (int p = 0; p < k; p++) {
                    s += a[at ? aOff + p * lda + i : aOff + i * lda + p] * b[bt ? bOff + j * ldb + p : bOff + p * ldb + j];
                }
                int ci = cOff + i * ldc + j;
                c[ci] = beta == 0f ? alpha * s : alpha * s + beta * c[ci];
            }
        }
    }
}
