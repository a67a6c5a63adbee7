package dev.sprout.train;

import dev.sprout.autograd.Autograd;
import dev.sprout.data.Batches;
import dev.sprout.data.Dataset;
import dev.sprout.nn.Losses;
import dev.sprout.nn.Module;
import dev.sprout.optim.Optimizer;
import dev.sprout.tensor.Tensor;

/**
 * The training loop shared by {@code sprout train}, growth and experiments: one epoch of mini-batch SGD-style
 * training, and evaluation. Classification uses softmax cross-entropy, regression the mean squared error. The
 * batch order of epoch e depends only on (seed, e), so a run resumed at an epoch boundary is identical to an
 * uninterrupted one. A non-finite loss stops training with an exception that says where it happened; it is
 * never back-propagated.
 */
public final class Trainer {
    private Trainer() {
    }

    /** Progress callbacks; every method has a no-op default. */
    public interface Listener {
        default void batch(int epoch, int batch, int batches, double loss, double examplesPerSecond) {
        }
    }

    /** Loss and, for classification, accuracy (a fraction in [0, 1]; NaN for regression). */
    public record Evaluation(double loss, double accuracy, int examples) {
    }

    /** The loss of a batch of model outputs against the batch's labels or targets. */
    public static Tensor loss(Tensor output, Batches.Batch b, Dataset d) {
        return d.isClassification() ? Losses.crossEntropy(output, b.labels()) : Losses.mse(output, b.targets());
    }

    /**
     * Trains one epoch; returns the mean training loss over its examples.
     *
     * @throws NonFiniteLossException if a batch loss is NaN or infinite (parameters are left as before that batch)
     */
    public static double trainEpoch(Module model, Optimizer opt, Dataset train, int batchSize, long seed, int epoch,
                                    Listener listener) {
        model.train(true);
        Batches.Epoch batches = Batches.epoch(train, batchSize, seed, epoch, true, false);
        double sum = 0;
        int seen = 0;
        long start = System.nanoTime();
        for (Batches.Batch b : batches) {
            opt.zeroGrad();
            Tensor l = loss(model.forward(b.inputs()), b, train);
            double v = l.item();
            if (!Double.isFinite(v)) {
                throw new NonFiniteLossException("training loss became " + v + " at epoch " + epoch + ", batch "
                        + b.index() + " of " + batches.size() + " (learning rate " + opt.learningRate()
                        + "); lower the learning rate or check the data");
            }
            opt.minimize(l);
            sum += v * b.size();
            seen += b.size();
            if (listener != null) {
                double secs = (System.nanoTime() - start) / 1e9;
                listener.batch(epoch, b.index() + 1, batches.size(), sum / seen, seen / Math.max(secs, 1e-9));
            }
        }
        return sum / Math.max(1, seen);
    }

    /** Loss and accuracy over a dataset in evaluation mode, without recording gradients. */
    public static Evaluation evaluate(Module model, Dataset data, int batchSize) {
        boolean was = model.isTraining();
        model.train(false);
        double sum = 0;
        int correct = 0;
        try (Autograd.Scope s = Autograd.noGrad()) {
            for (Batches.Batch b : Batches.epoch(data, Math.min(batchSize, data.size()), 0, 0, false, false)) {
                Tensor out = model.forward(b.inputs());
                sum += loss(out, b, data).item() * b.size();
                if (data.isClassification()) {
                    int[] pred = out.argmax(1).toArray();
                    int[] y = b.labels();
                    for (int i = 0; i < pred.length; i++) {
                        correct += pred[i] == y[i] ? 1 : 0;
                    }
                }
            }
        } finally {
            model.train(was);
        }
        int n = data.size();
        return new Evaluation(sum / Math.max(1, n), data.isClassification() ? (double) correct / Math.max(1, n) : Double.NaN, n);
    }

    /** Thrown when a loss is NaN or infinite. */
    public static final class NonFiniteLossException extends ArithmeticException {
        private static final long serialVersionUID = 1L;

        public NonFiniteLossException(String message) {
            super(message);
        }
    }
}
