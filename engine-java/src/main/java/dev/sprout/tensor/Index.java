package dev.sprout.tensor;

import java.util.Arrays;

/** An integer tensor used to index (gather, scatter, argmax results): a shape and row-major {@code int} data. */
public final class Index {
    private final Shape shape;
    private final int[] data;

    public Index(Shape shape, int[] data) {
        if (shape.numel() != data.length) {
            throw new ShapeException("Index: " + data.length + " values do not fill shape " + shape);
        }
        this.shape = shape;
        this.data = data;
    }

    public static Index of(int[] data, int... dims) {
        return new Index(dims.length == 0 ? Shape.of(data.length) : Shape.of(dims), data.clone());
    }

    public Shape shape() {
        return shape;
    }

    public int get(int flat) {
        return data[flat];
    }

    public int[] toArray() {
        return data.clone();
    }

    int[] raw() {
        return data;
    }

    @Override
    public String toString() {
        return "Index" + shape + (data.length <= 32 ? " " + Arrays.toString(data) : "");
    }
}
