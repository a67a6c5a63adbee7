package dev.sprout.autograd;

import dev.sprout.tensor.Tensor;

/**
 * How a tensor was made: the operation's name, its inputs, and its vector-Jacobian product. The backward rule
 * is written with differentiable tensor operations, so gradients can themselves be differentiated.
 */
public final class Node {
    /** Maps the gradient of the output to the gradients of the inputs (null entries: no gradient). */
    @FunctionalInterface
    public interface Backward {
        Tensor[] apply(Tensor gradOut);
    }

    private final String op;
    private final Tensor[] inputs;
    private final Backward backward;

    Node(String op, Tensor[] inputs, Backward backward) {
        this.op = op;
        this.inputs = inputs;
        this.backward = backward;
    }

    public String op() {
        return op;
    }

    public Tensor[] inputs() {
        return inputs.clone();
    }

    Tensor[] rawInputs() {
        return inputs;
    }

    Backward backward() {
        return backward;
    }
}
