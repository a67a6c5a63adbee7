package dev.sprout.nn;

import dev.sprout.autograd.Ops;
import dev.sprout.tensor.Index;
import dev.sprout.tensor.ShapeException;
import dev.sprout.tensor.Tensor;

/** Loss functions, as differentiable compositions of engine ops. */
public final class Losses {
    private Losses() {
    }

    /** Mean softmax cross-entropy of logits {@code [N, K]} against class labels in [0, K). */
    public static Tensor crossEntropy(Tensor logits, int[] labels) {
        if (logits.rank() != 2 || logits.dim(0) != labels.length) {
            throw new ShapeException("crossEntropy: logits " + logits.describe() + " must be [" + labels.length + ", K]");
        }
        int k = logits.dim(1);
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] < 0 || labels[i] >= k) {
                throw new IllegalArgumentException("crossEntropy: label " + labels[i] + " of example " + i
                        + " is outside [0, " + k + ")");
            }
        }
        Tensor picked = Ops.logSoftmax(logits, 1).gather(1, Index.of(labels, labels.length, 1));
        return picked.mean().neg();
    }

    /** Mean squared error over all elements. */
    public static Tensor mse(Tensor prediction, Tensor target) {
        if (!prediction.shape().equals(target.shape())) {
            throw new ShapeException("mse: prediction " + prediction.describe() + " and target " + target.describe()
                    + " differ in shape");
        }
        Tensor d = prediction.sub(target);
        return d.mul(d).mean();
    }
}
