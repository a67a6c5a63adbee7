package dev.sprout.nn;

import dev.sprout.tensor.DType;
import dev.sprout.tensor.Rng;

/** The model families the command line and the experiments build. */
public final class Models {
    private Models() {
    }

    /** An MLP {@code in - hidden... - out} with the given activation between linear layers. */
    public static Sequential mlp(int in, int[] hidden, int out, Act activation, Rng rng) {
        Sequential s = new Sequential();
        int prev = in;
        for (int h : hidden) {
            s.add(new Linear(prev, h, true, rng, DType.F32));
            s.add(new Act(activation.function(), activation.beta()));
            prev = h;
        }
        s.add(new Linear(prev, out, true, rng, DType.F32));
        return s;
    }

    /**
     * A small CNN for {@code [C, H, W]} images: two 3x3 convolutions (padding 1), each followed by batch norm, ReLU
     * and 2x2 max pooling, then a hidden fully connected layer and the classifier.
     */
    public static Sequential cnn(int channels, int height, int width, int c1, int c2, int hidden, int classes, Rng rng) {
        Sequential s = new Sequential();
        s.add(new Conv2d(channels, c1, 3, 1, 1, true, rng, DType.F32));
        s.add(BatchNorm.of2d(c1));
        s.add(Act.relu());
        s.add(Pool2d.max(2));
        s.add(new Conv2d(c1, c2, 3, 1, 1, true, rng, DType.F32));
        s.add(BatchNorm.of2d(c2));
        s.add(Act.relu());
        s.add(Pool2d.max(2));
        s.add(new Flatten());
        int flat = c2 * (height / 4) * (width / 4);
        s.add(new Linear(flat, hidden, true, rng, DType.F32));
        s.add(Act.relu());
        s.add(new Linear(hidden, classes, true, rng, DType.F32));
        return s;
    }
}
