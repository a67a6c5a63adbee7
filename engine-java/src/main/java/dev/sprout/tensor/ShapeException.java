package dev.sprout.tensor;

/** An operation was given operands whose shapes (or dtypes) do not fit; the message names the op and operands. */
public class ShapeException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    public ShapeException(String message) {
        super(message);
    }
}
