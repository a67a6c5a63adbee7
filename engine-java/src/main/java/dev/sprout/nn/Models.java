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
            s.add(activation.copy());
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

    /**
     * The VGG-like net of the growth spec's CNN experiment (R3) for {@code [C, H, W]} images: {@code [c, c, M, 2c, 2c,
     * M]} (3x3 convolutions with padding 1, each followed by batch norm and ReLU; M = 2x2 max pooling), then a global
     * average pool over the remaining {@code H/4 x W/4} map and a linear classifier on the {@code 2c} channels. H and W
     * must be multiples of 4.
     */
    public static Sequential vgg(int channels, int height, int width, int c, int classes, Rng rng) {
        if (height % 4 != 0 || width % 4 != 0 || height / 4 != width / 4) {
            throw new IllegalArgumentException("vgg: needs square images with sides a multiple of 4, got " + height + "x" + width);
        }
        Sequential s = new Sequential();
        int in = channels;
        for (int block = 0; block < 2; block++) {
            int out = c << block;
            for (int layer = 0; layer < 2; layer++) {
                s.add(new Conv2d(in, out, 3, 1, 1, false, rng, DType.F32));
                s.add(BatchNorm.of2d(out));
                s.add(Act.relu());
                in = out;
            }
            s.add(Pool2d.max(2));
        }
        s.add(Pool2d.avg(height / 4));
        s.add(new Flatten());
        s.add(new Linear(in, classes, true, rng, DType.F32));
        return s;
    }
}
