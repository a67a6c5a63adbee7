package dev.sprout.cli;

import dev.sprout.autograd.Autograd;
import dev.sprout.autograd.Ops;
import dev.sprout.backend.Backends;
import dev.sprout.tensor.DType;
import dev.sprout.tensor.Index;
import dev.sprout.tensor.Rng;
import dev.sprout.tensor.Tensor;

import java.io.PrintStream;
import java.util.Locale;

/**
 * The built-in demo: a 2-H-H-2 tanh MLP learns the two-spirals task (two interleaved spirals of 2-D points,
 * a classic problem a linear model cannot solve) with softmax cross-entropy and full-batch SGD with momentum,
 * all through Sprout's autograd. It prints the backend, the loss every few epochs and the final accuracy on a
 * held-out set drawn from the same distribution.
 */
final class SpiralsDemo {
    private SpiralsDemo() {
    }

    record Options(int epochs, long seed, int hidden, double lr) {
        Options {
            if (epochs < 1 || hidden < 1 || !(lr > 0)) {
                throw new IllegalArgumentException("demo: --epochs and --hidden must be >= 1 and --lr > 0");
            }
        }
    }

    /** Two spirals, {@code perClass} points each, with Gaussian noise. Returns {x [2n, 2], labels}. */
    static Object[] spirals(Rng rng, int perClass) {
        int n = 2 * perClass;
        float[] x = new float[2 * n];
        int[] y = new int[n];
        for (int c = 0; c < 2; c++) {
            for (int i = 0; i < perClass; i++) {
                double t = 0.25 + 2.75 * Math.PI * i / perClass;
                double r = t / (3 * Math.PI);
                double sign = c == 0 ? 1 : -1;
                int k = c * perClass + i;
                x[2 * k] = (float) (sign * r * Math.cos(t) + 0.02 * rng.normal());
                x[2 * k + 1] = (float) (sign * r * Math.sin(t) + 0.02 * rng.normal());
                y[k] = c;
            }
        }
        return new Object[] {Tensor.of(x, n, 2), y};
    }

    static int run(Options o, PrintStream out) {
        long start = System.nanoTime();
        out.println("sprout demo: " + Backends.current().name() + " backend (" + Backends.current().describe() + ")");
        Rng rng = new Rng(o.seed());
        Object[] train = spirals(rng.split(), 200), test = spirals(rng.split(), 100);
        Tensor x = (Tensor) train[0], xt = (Tensor) test[0];
        int[] y = (int[]) train[1], yt = (int[]) test[1];
        Rng init = rng.split();
        int h = o.hidden();
        Tensor w1 = Tensor.randn(init, DType.F32, Math.sqrt(1.0 / 2), 2, h).requiresGrad(true);
        Tensor b1 = Tensor.zeros(h).requiresGrad(true);
        Tensor w2 = Tensor.randn(init, DType.F32, Math.sqrt(1.0 / h), h, h).requiresGrad(true);
        Tensor b2 = Tensor.zeros(h).requiresGrad(true);
        Tensor w3 = Tensor.randn(init, DType.F32, Math.sqrt(1.0 / h), h, 2).requiresGrad(true);
        Tensor b3 = Tensor.zeros(2).requiresGrad(true);
        Tensor[] params = {w1, b1, w2, b2, w3, b3};
        Tensor[] velocity = new Tensor[params.length];
        for (int i = 0; i < params.length; i++) {
            velocity[i] = Tensor.zeros(DType.F32, params[i].shape());
        }
        out.printf(Locale.ROOT, "two spirals: %d training / %d test points; MLP 2-%d-%d-2 (tanh), %d parameters%n",
                y.length, yt.length, h, h, 2 * h + h + h * h + h + 2 * h + 2);
        Index target = Index.of(y, y.length, 1);
        double loss = Double.NaN;
        for (int epoch = 1; epoch <= o.epochs(); epoch++) {
            Tensor logits = forward(x, params);
            Tensor l = Ops.logSoftmax(logits, 1).gather(1, target).mean().neg();
            loss = l.item();
            if (!Double.isFinite(loss)) {
                throw new IllegalStateException("demo: loss became " + loss + " at epoch " + epoch + "; lower --lr");
            }
            Tensor[] g = Autograd.grad(l, params, false);
            try (Autograd.Scope s = Autograd.noGrad()) {
                for (int i = 0; i < params.length; i++) {
                    velocity[i].scale_(0.9).addScaled_(g[i], 1.0);
                    params[i].addScaled_(velocity[i], -o.lr());
                }
            }
            if (epoch == 1 || epoch % 50 == 0 || epoch == o.epochs()) {
                out.printf(Locale.ROOT, "epoch %4d  loss %.4f  train accuracy %.3f%n", epoch, loss, accuracy(x, y, params));
            }
        }
        double acc = accuracy(xt, yt, params);
        out.printf(Locale.ROOT, "test accuracy %.3f (loss %.4f) in %.1f s%n", acc, loss, (System.nanoTime() - start) / 1e9);
        return 0;
    }

    private static Tensor forward(Tensor x, Tensor[] p) {
        Tensor h1 = x.matmul(p[0]).add(p[1]).tanh();
        Tensor h2 = h1.matmul(p[2]).add(p[3]).tanh();
        return h2.matmul(p[4]).add(p[5]);
    }

    private static double accuracy(Tensor x, int[] y, Tensor[] params) {
        try (Autograd.Scope s = Autograd.noGrad()) {
            int[] pred = forward(x, params).argmax(1).toArray();
            int ok = 0;
            for (int i = 0; i < y.length; i++) {
                ok += pred[i] == y[i] ? 1 : 0;
            }
            return (double) ok / y.length;
        }
    }
}
