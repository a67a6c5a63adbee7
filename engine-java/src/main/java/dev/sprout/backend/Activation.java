package dev.sprout.backend;

/**
 * Pointwise activation functions with their first and second derivatives, as kernels see them. Splitting
 * methods need {@code sigma''}; every backend implements all three orders for each function.
 */
public enum Activation {
    /** max(0, x); sigma' is the step (0 at 0), sigma'' is 0 (splitting uses a softplus surrogate instead). */
    RELU,
    TANH,
    SIGMOID,
    /** log(1 + exp(beta x)) / beta, with the parameter beta. */
    SOFTPLUS,
    /** exp(-x^2 / 2). */
    RBF,
    IDENTITY;

    /** sigma^(order)(x) for order 0, 1, 2, in double precision (the reference every kernel is tested against). */
    public double eval(double x, int order, double beta) {
        switch (this) {
            case RELU:
                return order == 0 ? Math.max(0.0, x) : order == 1 ? (x > 0 ? 1.0 : 0.0) : 0.0;
            case TANH: {
                double t = Math.tanh(x);
                return order == 0 ? t : order == 1 ? 1 - t * t : -2 * t * (1 - t * t);
            }
            case SIGMOID: {
                double s = sigmoid(x);
                return order == 0 ? s : order == 1 ? s * (1 - s) : s * (1 - s) * (1 - 2 * s);
            }
            case SOFTPLUS: {
                double bx = beta * x;
                if (order == 0) {
                    return (bx > 30 ? bx : Math.log1p(Math.exp(bx))) / beta;
                }
                double s = sigmoid(bx);
                return order == 1 ? s : beta * s * (1 - s);
            }
            case RBF: {
                double e = Math.exp(-0.5 * x * x);
                return order == 0 ? e : order == 1 ? -x * e : (x * x - 1) * e;
            }
            case IDENTITY:
                return order == 0 ? x : order == 1 ? 1.0 : 0.0;
            default:
                throw new AssertionError(this);
        }
    }

    static double sigmoid(double x) {
        if (x >= 0) {
            return 1.0 / (1.0 + Math.exp(-x));
        }
        double e = Math.exp(x);
        return e / (1.0 + e);
    }
}
