package dev.sprout.nn;

import dev.sprout.tensor.Tensor;

/** {@code [N, ...]} to {@code [N, prod(...)]}. */
public final class Flatten extends Module {
    @Override
    public Tensor forward(Tensor x) {
        requireRank("flatten", x, x.rank() < 1 ? 1 : x.rank(), "[N, ...]");
        return x.reshape(x.dim(0), -1);
    }

    @Override
    public String type() {
        return "flatten";
    }

    @Override
    public int[] outputShape(int[] s) {
        int n = 1;
        for (int d : s) {
            n *= d;
        }
        return new int[] {n};
    }
}
