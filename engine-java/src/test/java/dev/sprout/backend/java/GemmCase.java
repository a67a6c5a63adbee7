package dev.sprout.backend.java;

import dev.sprout.backend.GemmShape;
import dev.sprout.backend.GemmShape.Trans;
import dev.sprout.testing.Tol;

import java.util.Random;

/**
 * One gemm test case: a shape with padded leading dimensions, offsets and batch strides, random operands, and
 * a double-precision reference with an error bound per element (the naive loop in f64, which also checks the
 * {@code naive} variant itself).
 */
final class GemmCase {
    enum Type { F32, F64, C64 }

    final Type type;
    final GemmShape g;
    final double alphaRe;
    final double alphaIm;
    final double betaRe;
    final double betaIm;
    final int aOff;
    final int bOff;
    final int cOff;
    /** Operands as doubles (values exactly representable in f32), complex interleaved. */
    final double[] a;
    final double[] b;
    final double[] c0;
    /** Reference result and allowed absolute error per element of c (same layout as c0). */
    final double[] want;
    final double[] tol;

    GemmCase(Type type, Trans ta, Trans tb, int batch, int m, int n, int k, boolean broadcastA, boolean broadcastB,
             int pad, double alphaRe, double alphaIm, double betaRe, double betaIm, long seed) {
        this.type = type;
        this.alphaRe = alphaRe;
        this.alphaIm = type == Type.C64 ? alphaIm : 0;
        this.betaRe = betaRe;
        this.betaIm = type == Type.C64 ? betaIm : 0;
        int rowsA = ta.transposed() ? k : m;
        int colsA = ta.transposed() ? m : k;
        int rowsB = tb.transposed() ? n : k;
        int colsB = tb.transposed() ? k : n;
        int lda = Math.max(1, colsA + pad);
        int ldb = Math.max(1, colsB + 2 * pad);
        int ldc = Math.max(1, n + pad);
        long sizeA = (long) rowsA * lda;
        long sizeB = (long) rowsB * ldb;
        long sizeC = (long) m * ldc;
        long sA = batch > 1 && !broadcastA ? sizeA + pad : 0;
        long sB = batch > 1 && !broadcastB ? sizeB + 3 : 0;
        long sC = batch > 1 ? sizeC + 2 * pad + 1 : sizeC;
        this.g = new GemmShape(ta, tb, m, n, k, lda, ldb, ldc, batch, sA, sB, sC);
        this.aOff = pad + 1;
        this.bOff = 2;
        this.cOff = 3 * pad;
        int w = type == Type.C64 ? 2 : 1;
        int lenA = (int) (aOff + Math.max(0, batch - 1) * sA + sizeA + 1);
        int lenB = (int) (bOff + Math.max(0, batch - 1) * sB + sizeB + 2);
        int lenC = (int) (cOff + Math.max(0, batch - 1) * sC + sizeC + 1);
        Random r = new Random(seed);
        a = random(r, lenA * w);
        b = random(r, lenB * w);
        c0 = random(r, lenC * w);
        want = c0.clone();
        tol = new double[c0.length];
        reference(w);
    }

    private static double[] random(Random r, int len) {
        double[] x = new double[len];
        for (int i = 0; i < len; i++) {
            x[i] = (float) (2 * r.nextDouble() - 1);
        }
        return x;
    }

    private void reference(int w) {
        boolean at = g.transA().transposed();
        boolean bt = g.transB().transposed();
        double ac = g.transA() == Trans.H ? -1 : 1;
        double bc = g.transB() == Trans.H ? -1 : 1;
        int k = g.k();
        double rel = type == Type.F64 ? Tol.f64(w * k + 2) : Tol.f32(w * k + 2);
        double tiny = type == Type.F64 ? Double.MIN_NORMAL : Float.MIN_NORMAL;
        double alphaAbs = Math.hypot(alphaRe, alphaIm);
        double betaAbs = Math.hypot(betaRe, betaIm);
        for (int bi = 0; bi < g.batch(); bi++) {
            long ao = aOff + bi * g.strideA();
            long bo = bOff + bi * g.strideB();
            long co = cOff + bi * g.strideC();
            for (int i = 0; i < g.m(); i++) {
                for (int j = 0; j < g.n(); j++) {
                    double sr = 0;
                    double si = 0;
                    double abs = 0;
                    for (int p = 0; p < k; p++) {
                        int ia = (int) (w * (at ? ao + (long) p * g.lda() + i : ao + (long) i * g.lda() + p));
                        int ib = (int) (w * (bt ? bo + (long) j * g.ldb() + p : bo + (long) p * g.ldb() + j));
                        if (w == 1) {
                            sr += a[ia] * b[ib];
                            abs += Math.abs(a[ia] * b[ib]);
                        } else {
                            double xr = a[ia];
                            double xi = ac * a[ia + 1];
                            double yr = b[ib];
                            double yi = bc * b[ib + 1];
                            sr += xr * yr - xi * yi;
                            si += xr * yi + xi * yr;
                            abs += (Math.abs(xr) + Math.abs(xi)) * (Math.abs(yr) + Math.abs(yi));
                        }
                    }
                    int ic = (int) (w * (co + (long) i * g.ldc() + j));
                    if (w == 1) {
                        double old = c0[ic];
                        want[ic] = alphaRe * sr + (betaRe == 0 ? 0 : betaRe * old);
                        tol[ic] = rel * (alphaAbs * abs + (betaRe == 0 ? 0 : betaAbs * Math.abs(old))) + tiny;
                    } else {
                        double or = c0[ic];
                        double oi = c0[ic + 1];
                        double zr = alphaRe * sr - alphaIm * si;
                        double zi = alphaRe * si + alphaIm * sr;
                        boolean useC = betaRe != 0 || betaIm != 0;
                        if (useC) {
                            zr += betaRe * or - betaIm * oi;
                            zi += betaRe * oi + betaIm * or;
                        }
                        want[ic] = zr;
                        want[ic + 1] = zi;
                        double t = rel * ((Math.abs(alphaRe) + Math.abs(alphaIm)) * abs
                                + (useC ? (Math.abs(betaRe) + Math.abs(betaIm)) * (Math.abs(or) + Math.abs(oi)) : 0)) + tiny;
                        tol[ic] = t;
                        tol[ic + 1] = t;
                    }
                }
            }
        }
    }

    static float[] floats(double[] x) {
        float[] f = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            f[i] = (float) x[i];
        }
        return f;
    }

    /** Runs the case on one variant and returns C as doubles. */
    double[] run(GemmVariant v, int threads) {
        switch (type) {
            case F32: {
                float[] c = floats(c0);
                v.sgemm(g, (float) alphaRe, floats(a), aOff, floats(b), bOff, (float) betaRe, c, cOff, threads);
                return widen(c);
            }
            case F64: {
                double[] c = c0.clone();
                v.dgemm(g, alphaRe, a.clone(), aOff, b.clone(), bOff, betaRe, c, cOff, threads);
                return c;
            }
            default: {
                float[] c = floats(c0);
                v.cgemm(g, (float) alphaRe, (float) alphaIm, floats(a), aOff, floats(b), bOff, (float) betaRe, (float) betaIm,
                        c, cOff, threads);
                return widen(c);
            }
        }
    }

    static double[] widen(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            d[i] = f[i];
        }
        return d;
    }

    /** The first element out of tolerance (elements outside C must keep their value exactly), or null. */
    String mismatch(double[] got) {
        for (int i = 0; i < got.length; i++) {
            double err = Math.abs(got[i] - want[i]);
            if (!(err <= tol[i])) {
                return "element " + i + ": got " + got[i] + ", want " + want[i] + " (tolerance " + tol[i] + ")";
            }
        }
        return null;
    }

    @Override
    public String toString() {
        return type + " " + g + " " + g.transA() + g.transB() + " lda=" + g.lda() + " ldb=" + g.ldb() + " ldc=" + g.ldc()
                + " strides=" + g.strideA() + "/" + g.strideB() + "/" + g.strideC() + " alpha=" + alphaRe
                + (type == Type.C64 ? "+" + alphaIm + "i" : "") + " beta=" + betaRe + (type == Type.C64 ? "+" + betaIm + "i" : "");
    }
}
