package dev.sprout.backend;

import dev.sprout.backend.java.JavaBackend;
import dev.sprout.tensor.Rng;
import dev.sprout.testing.Tol;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The Java backend's non-gemm kernels against closed forms, finite differences and explicit loops. */
class JavaBackendTest {
    private final Backend be = new JavaBackend(2);

    private static double[] randn(Rng r, int n) {
        double[] x = new double[n];
        for (int i = 0; i < n; i++) {
            x[i] = r.normal();
        }
        return x;
    }

    private static float[] toF(double[] x) {
        float[] f = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            f[i] = (float) x[i];
        }
        return f;
    }

    /** Each derivative order equals the central difference of the order below it. */
    @Test
    void activationDerivativesMatchFiniteDifferences() {
        double h = 1e-5;
        double[] xs = randn(new Rng(3), 40);
        for (Activation f : Activation.values()) {
            for (int order = 1; order <= Activation.MAX_ORDER; order++) {
                for (double x : xs) {
                    if (f == Activation.RELU && Math.abs(x) < 1e-3) {
                        continue;
                    }
                    double fd = (f.eval(x + h, order - 1, 1.5) - f.eval(x - h, order - 1, 1.5)) / (2 * h);
                    double an = f.eval(x, order, 1.5);
                    assertEquals(fd, an, 1e-6 * Math.max(1, Math.abs(fd)), f + " order " + order + " at " + x);
                }
            }
        }
    }

    @Test
    void activationClosedForms() {
        assertEquals(Math.log(2), Activation.SOFTPLUS.eval(0, 0, 1), Tol.F64);
        assertEquals(Math.log(2) / 3, Activation.SOFTPLUS.eval(0, 0, 3), Tol.F64);
        assertEquals(0.25 * 3, Activation.SOFTPLUS.eval(0, 2, 3), Tol.F64);   // beta s(1-s) at 0
        assertEquals(-1, Activation.RBF.eval(0, 2, 1), Tol.F64);              // (x^2-1) e^{-x^2/2}
        assertEquals(0, Activation.TANH.eval(0, 2, 1), Tol.F64);
        assertEquals(-2, Activation.TANH.eval(0, 3, 1), Tol.F64);             // tanh''' (0) = -2
        assertEquals(0.25, Activation.SIGMOID.eval(0, 1, 1), Tol.F64);
        assertThrows(IllegalArgumentException.class, () -> Activation.TANH.eval(0, Activation.MAX_ORDER + 1, 1));
    }

    @Test
    void activationKernelsMatchTheReference() {
        double[] x = randn(new Rng(4), 37);
        float[] xf = toF(x);
        for (Activation f : Activation.values()) {
            for (int order = 0; order <= Activation.MAX_ORDER; order++) {
                double[] y = new double[40];
                float[] yf = new float[40];
                be.activation(f, order, 2.0, x, 0, y, 3, 37);
                be.activation(f, order, 2.0f, xf, 0, yf, 3, 37);
                for (int i = 0; i < 37; i++) {
                    double ref = f.eval(x[i], order, 2.0);
                    assertEquals(ref, y[3 + i], Tol.F64 * Math.max(1, Math.abs(ref)), f + "^(" + order + ") f64");
                    double reff = f.eval(xf[i], order, 2.0);
                    assertEquals(reff, yf[3 + i], Tol.F32 * Math.max(1, Math.abs(reff)), f + "^(" + order + ") f32");
                }
            }
        }
        IndexOutOfBoundsException e = assertThrows(IndexOutOfBoundsException.class,
                () -> be.activation(Activation.TANH, 0, 1f, xf, 0, new float[10], 0, 37));
        assertTrue(e.getMessage().contains("operand y"), e.getMessage());
    }

    @Test
    void sumAxisKnownAnswer() {
        float[] x = new float[24];
        for (int i = 0; i < 24; i++) {
            x[i] = i;
        }
        float[] out = new float[8];
        be.sumAxis(x, 0, 2, 3, 4, out, 0); // [2,3,4] over the middle axis
        assertArrayEquals(new float[] {12, 15, 18, 21, 48, 51, 54, 57}, out);
        float[] rows = new float[6];
        be.sumAxis(x, 0, 6, 4, 1, rows, 0);
        assertArrayEquals(new float[] {6, 22, 38, 54, 70, 86}, rows);
        assertThrows(IndexOutOfBoundsException.class, () -> be.sumAxis(x, 1, 2, 3, 4, out, 0));
    }

    @Test
    void im2colKnownAnswerWithPaddingAndStride() {
        // one channel 3x3 image 1..9, 2x2 kernel, stride 1, pad 0: 4 rows (kernel positions) x 4 columns
        float[] img = {1, 2, 3, 4, 5, 6, 7, 8, 9};
        ConvGeometry g = ConvGeometry.square(1, 3, 3, 2, 1, 0);
        float[] col = new float[16];
        be.im2col(g, img, 0, col, 0);
        assertArrayEquals(new float[] {1, 2, 4, 5, 2, 3, 5, 6, 4, 5, 7, 8, 5, 6, 8, 9}, col);
        // 3x3 kernel, stride 2, pad 1 on the same image: output 2x2; centre tap reads 1, 3, 7, 9
        ConvGeometry g2 = ConvGeometry.square(1, 3, 3, 3, 2, 1);
        assertEquals(2, g2.outH());
        float[] col2 = new float[9 * 4];
        be.im2col(g2, img, 0, col2, 0);
        assertArrayEquals(new float[] {1, 3, 7, 9}, java.util.Arrays.copyOfRange(col2, 4 * 4, 5 * 4));
        assertArrayEquals(new float[] {0, 0, 0, 5}, java.util.Arrays.copyOfRange(col2, 0, 4)); // top-left tap
        assertThrows(IllegalArgumentException.class, () -> ConvGeometry.square(1, 2, 2, 5, 1, 0));
    }

    /** col2im is the adjoint of im2col: <im2col(x), y> = <x, col2im(y)>, for several geometries. */
    @Test
    void col2imIsTheAdjointOfIm2col() {
        Rng r = new Rng(5);
        ConvGeometry[] gs = {ConvGeometry.square(3, 7, 6, 3, 1, 1), ConvGeometry.square(2, 9, 9, 3, 2, 1),
                new ConvGeometry(4, 5, 8, 2, 3, 1, 2, 0, 1), ConvGeometry.square(1, 28, 28, 5, 1, 2)};
        for (ConvGeometry g : gs) {
            double[] x = randn(r, g.imageSize());
            double[] y = randn(r, g.colRows() * g.colCols());
            double[] col = new double[y.length];
            double[] back = new double[x.length];
            be.im2col(g, x, 0, col, 0);
            be.col2im(g, y, 0, back, 0);
            double lhs = 0, rhs = 0;
            for (int i = 0; i < y.length; i++) {
                lhs += col[i] * y[i];
            }
            for (int i = 0; i < x.length; i++) {
                rhs += x[i] * back[i];
            }
            assertEquals(lhs, rhs, Tol.f64(y.length) * (Math.abs(lhs) + y.length), g.toString());
            float[] colF = new float[y.length], backF = new float[x.length];
            be.im2col(g, toF(x), 0, colF, 0);
            be.col2im(g, toF(y), 0, backF, 0);
            for (int i = 0; i < y.length; i++) {
                assertEquals((float) col[i], colF[i], 0f, "f32 im2col copies exactly");
            }
        }
    }

    @Test
    void weightedGramMatchesExplicitSums() {
        Rng r = new Rng(6);
        int samples = 13, d = 9, neurons = 5;
        double[] x = randn(r, samples * d), w = randn(r, samples * neurons);
        double[] s = new double[neurons * d * d];
        float[] sf = new float[neurons * d * d];
        be.weightedGram(samples, d, neurons, x, 0, w, 0, s, 0);
        be.weightedGram(samples, d, neurons, toF(x), 0, toF(w), 0, sf, 0);
        for (int i = 0; i < neurons; i++) {
            for (int a = 0; a < d; a++) {
                for (int b = 0; b < d; b++) {
                    double ref = 0, abs = 0;
                    for (int n = 0; n < samples; n++) {
                        double t = w[n * neurons + i] * x[n * d + a] * x[n * d + b];
                        ref += t;
                        abs += Math.abs(t);
                    }
                    int p = i * d * d + a * d + b;
                    assertEquals(ref, s[p], Tol.f64(samples) * abs, "S[" + i + "][" + a + "," + b + "]");
                    assertEquals(ref, sf[p], 4 * Tol.f32(samples) * abs, "f32 S[" + i + "][" + a + "," + b + "]");
                    assertEquals(s[p], s[i * d * d + b * d + a], 0.0, "symmetric");
                }
            }
        }
        // accumulates: a second call doubles
        double before = s[7];
        be.weightedGram(samples, d, neurons, x, 0, w, 0, s, 0);
        assertEquals(2 * before, s[7], Tol.F64 * Math.abs(before) * 4);
        IndexOutOfBoundsException e = assertThrows(IndexOutOfBoundsException.class,
                () -> be.weightedGram(samples, d, neurons + 1, x, 0, w, 0, s, 0));
        assertTrue(e.getMessage().contains("weightedGram") && e.getMessage().contains("operand w"), e.getMessage());
    }
}
