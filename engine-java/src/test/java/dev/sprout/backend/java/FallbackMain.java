package dev.sprout.backend.java;

import dev.sprout.backend.GemmShape;
import dev.sprout.backend.GemmShape.Trans;

import java.util.Arrays;

/**
 * Run by {@link VectorFallbackTest} in a JVM started WITHOUT {@code --add-modules jdk.incubator.vector}: the
 * gemm entry points must work on the scalar kernel (no Vector API class loaded) and log one line.
 */
public final class FallbackMain {
    private FallbackMain() {
    }

    public static void main(String[] args) {
        System.out.println("vectorized=" + JavaGemm.vectorized());
        System.out.println("kernel=" + JavaGemm.kernelDescription());
        System.out.println("variants=" + GemmVariants.all());
        int m = 45;
        int n = 70;
        int k = 300;
        float[] a = new float[m * k];
        float[] b = new float[k * n];
        for (int i = 0; i < a.length; i++) {
            a[i] = (i * 7 % 5) - 2;
        }
        for (int i = 0; i < b.length; i++) {
            b[i] = (i * 3 % 7) - 3;
        }
        for (Trans ta : new Trans[]{Trans.N, Trans.T}) {
            GemmShape gs = new GemmShape(ta, Trans.N, m, n, k, ta == Trans.N ? k : m, n, n, 1, 0, 0, 0);
            float[] want = new float[m * n];
            float[] got = new float[m * n];
            GemmVariants.get(GemmVariants.NAIVE).sgemm(gs, 1f, a, 0, b, 0, 0f, want, 0, 1);
            JavaGemm.sgemm(gs, 1f, a, 0, b, 0, 0f, got, 0, 2);
            if (!Arrays.equals(want, got)) {
                throw new AssertionError("sgemm " + ta + " differs from naive on the fallback kernel");
            }
            double[] wd = new double[m * n];
            double[] gd = new double[m * n];
            double[] ad = new double[a.length];
            double[] bd = new double[b.length];
            for (int i = 0; i < a.length; i++) {
                ad[i] = a[i];
            }
            for (int i = 0; i < b.length; i++) {
                bd[i] = b[i];
            }
            GemmVariants.get(GemmVariants.NAIVE).dgemm(gs, 1.0, ad, 0, bd, 0, 0.0, wd, 0, 1);
            JavaGemm.dgemm(gs, 1.0, ad, 0, bd, 0, 0.0, gd, 0, 1);
            if (!Arrays.equals(wd, gd)) {
                throw new AssertionError("dgemm " + ta + " differs from naive on the fallback kernel");
            }
        }
        float[] za = {1, 1, 2, 0};
        float[] zb = {2, -1, 0, 1};
        float[] zc = new float[2];
        JavaGemm.cgemm(GemmShape.of(false, false, 1, 1, 2), 1f, 0f, za, 0, zb, 0, 0f, 0f, zc, 0, 1);
        // (1+i)(2-i) + 2*i = 3+i + 2i = 3+3i
        if (zc[0] != 3f || zc[1] != 3f) {
            throw new AssertionError("cgemm on the fallback kernel: " + Arrays.toString(zc));
        }
        System.out.println("warmUp=" + JavaGemm.warmUp().toMillis() + "ms");
        System.out.println("ok");
    }
}
