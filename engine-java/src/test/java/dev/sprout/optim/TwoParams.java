package dev.sprout.optim;

import dev.sprout.nn.Module;
import dev.sprout.tensor.Tensor;

/** A test module with two f64 parameters {@code x} and {@code y} of any shapes; it has no forward pass. */
final class TwoParams extends Module {
    TwoParams(Tensor x, Tensor y) {
        registerParameter("x", x);
        registerParameter("y", y);
    }

    /** Two scalars (shape [1]). */
    static TwoParams scalars(double x, double y) {
        return new TwoParams(Tensor.of(new double[] {x}, 1), Tensor.of(new double[] {y}, 1));
    }

    @Override
    public Tensor forward(Tensor x) {
        throw new UnsupportedOperationException("test module");
    }

    @Override
    public String type() {
        return "two_params";
    }
}
