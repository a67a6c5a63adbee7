package dev.sprout.backend.java;

/**
 * The scalar micro-kernel: used when the Vector API is not available (JVM started without
 * {@code --add-modules jdk.incubator.vector}), and as the {@code blockedScalar} variant.
 *
 * <p>Within the cache blocks of {@link PackedGemmF32} (the i-k-j order of the blocked loops: row panels of A~,
 * the k block, then the columns of B~) it keeps a {@value #MR} x {@value #NR} tile of C in 16 scalar registers
 * and, for each k, loads 4 values of A~ and 4 of B~ for 16 {@link Math#fma} (one instruction each on x86 with
 * FMA3). An earlier version that accumulated a row of the tile in a scratch array ran at 1.6 GFLOP/s, below the
 * naive loop: the store-to-load chain through memory serialised it. C2 does not vectorise this scalar code.
 */
final class ScalarKernelF32 extends MicroKernelF32 {
    static final int MR = 4;
    static final int NR = 4;

    ScalarKernelF32() {
        super("scalar " + MR + "x" + NR, MR, NR);
    }

    @Override
    void tile(int kc, float[] a, int aOff, boolean aRows, float[] b, int bOff, float alpha, float beta,
              float[] c, int cOff, int ldc, int mv, int nv, float[] t) {
        float c00 = 0f, c01 = 0f, c02 = 0f, c03 = 0f;
        float c10 = 0f, c11 = 0f, c12 = 0f, c13 = 0f;
        float c20 = 0f, c21 = 0f, c22 = 0f, c23 = 0f;
        float c30 = 0f, c31 = 0f, c32 = 0f, c33 = 0f;
        int rs = aRows ? KCS : 1;
        int ks = aRows ? 1 : MR;
        for (int p = 0; p < kc; p++) {
            int ai = aOff + p * ks;
            int bi = bOff + p * NR;
            float a0 = a[ai];
            float a1 = a[ai + rs];
            float a2 = a[ai + 2 * rs];
            float a3 = a[ai + 3 * rs];
            float b0 = b[bi];
            float b1 = b[bi + 1];
            float b2 = b[bi + 2];
            float b3 = b[bi + 3];
            c00 = Math.fma(a0, b0, c00);
            c01 = Math.fma(a0, b1, c01);
            c02 = Math.fma(a0, b2, c02);
            c03 = Math.fma(a0, b3, c03);
            c10 = Math.fma(a1, b0, c10);
            c11 = Math.fma(a1, b1, c11);
            c12 = Math.fma(a1, b2, c12);
            c13 = Math.fma(a1, b3, c13);
            c20 = Math.fma(a2, b0, c20);
            c21 = Math.fma(a2, b1, c21);
            c22 = Math.fma(a2, b2, c22);
            c23 = Math.fma(a2, b3, c23);
            c30 = Math.fma(a3, b0, c30);
            c31 = Math.fma(a3, b1, c31);
            c32 = Math.fma(a3, b2, c32);
            c33 = Math.fma(a3, b3, c33);
        }
        t[0] = c00;
        t[1] = c01;
        t[2] = c02;
        t[3] = c03;
        t[4] = c10;
        t[5] = c11;
        t[6] = c12;
        t[7] = c13;
        t[8] = c20;
        t[9] = c21;
        t[10] = c22;
        t[11] = c23;
        t[12] = c30;
        t[13] = c31;
        t[14] = c32;
        t[15] = c33;
        storeEdge(t, NR, mv, nv, alpha, beta, c, cOff, ldc);
    }
}
