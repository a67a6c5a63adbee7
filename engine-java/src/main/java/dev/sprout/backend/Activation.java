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

    /** Highest derivative order every backend evaluates (so that autograd can differentiate sigma'' twice more). */
    public static final int MAX_ORDER = 6;

    /*
     * Derivatives of every order come from polynomial recurrences, with coefficient tables built once:
     *   tanh:    sigma^(k) = T_k(t),  t = tanh x,         T_0 = t,  T_{k+1} = T_k'(t) (1 - t^2)
     *   sigmoid: sigma^(k) = S_k(s),  s = sigmoid x,      S_0 = s,  S_{k+1} = S_k'(s) (s - s^2)
     *   softplus(beta), k >= 1: beta^(k-1) S_{k-1}(sigmoid(beta x))
     *   rbf:     sigma^(k) = R_k(x) exp(-x^2/2),           R_0 = 1,  R_{k+1} = R_k'(x) - x R_k(x)
     */
    private static final double[][] TANH_POLY = table(new double[] {0, 1}, new double[] {1, 0, -1}, false);
    private static final double[][] SIGMOID_POLY = table(new double[] {0, 1}, new double[] {0, 1, -1}, false);
    private static final double[][] RBF_POLY = table(new double[] {1}, null, true);

    private static double[][] table(double[] p0, double[] factor, boolean rbf) {
        double[][] t = new double[MAX_ORDER + 1][];
        t[0] = p0;
        for (int k = 0; k < MAX_ORDER; k++) {
            double[] p = t[k];
            double[] dp = new double[Math.max(1, p.length - 1)];
            for (int i = 1; i < p.length; i++) {
                dp[i - 1] = i * p[i];
            }
            double[] next;
            if (rbf) { // R' - x R
                next = new double[p.length + 1];
                for (int i = 0; i < dp.length; i++) {
                    next[i] += dp[i];
                }
                for (int i = 0; i < p.length; i++) {
                    next[i + 1] -= p[i];
                }
            } else { // P' * factor
                next = new double[dp.length + factor.length - 1];
                for (int i = 0; i < dp.length; i++) {
                    for (int j = 0; j < factor.length; j++) {
                        next[i + j] += dp[i] * factor[j];
                    }
                }
            }
            t[k + 1] = next;
        }
        return t;
    }

    /**
     * The coefficients (constant term first; a copy) of the polynomial P through which {@link #eval} gives
     * {@code sigma^(order)}: TANH {@code P(tanh x)}, SIGMOID {@code P(sigmoid x)}, RBF {@code P(x) exp(-x^2/2)},
     * SOFTPLUS (order >= 1) {@code beta^(order-1) P(sigmoid(beta x))}. Empty where no polynomial is involved
     * (RELU, IDENTITY, SOFTPLUS order 0). For orders 0 and 1 {@code eval} uses the equivalent closed forms.
     * Accelerated backends pass these to their kernels, so every backend evaluates the same polynomials.
     */
    public static double[] polynomial(Activation f, int order) {
        if (order < 0 || order > MAX_ORDER) {
            throw new IllegalArgumentException(f + ": derivative order " + order + " not available (0.." + MAX_ORDER + ")");
        }
        switch (f) {
            case TANH:
                return TANH_POLY[order].clone();
            case SIGMOID:
                return SIGMOID_POLY[order].clone();
            case SOFTPLUS:
                return order == 0 ? new double[0] : SIGMOID_POLY[order - 1].clone();
            case RBF:
                return RBF_POLY[order].clone();
            default:
                return new double[0];
        }
    }

    private static double horner(double[] p, double x) {
        double r = 0;
        for (int i = p.length - 1; i >= 0; i--) {
            r = r * x + p[i];
        }
        return r;
    }

    /**
     * sigma^(order)(x) for order 0..{@link #MAX_ORDER}, in double precision (the reference every kernel is
     * tested against). For ReLU, orders >= 2 are 0 (its kink is not modelled).
     */
    public double eval(double x, int order, double beta) {
        if (order < 0 || order > MAX_ORDER) {
            throw new IllegalArgumentException(this + ": derivative order " + order + " not available (0.." + MAX_ORDER + ")");
        }
        switch (this) {
            case RELU:
                return order == 0 ? Math.max(0.0, x) : order == 1 ? (x > 0 ? 1.0 : 0.0) : 0.0;
            case TANH: {
                double t = Math.tanh(x);
                return order == 0 ? t : order == 1 ? 1 - t * t : horner(TANH_POLY[order], t);
            }
            case SIGMOID: {
                double s = sigmoid(x);
                return order == 0 ? s : order == 1 ? s * (1 - s) : horner(SIGMOID_POLY[order], s);
            }
            case SOFTPLUS: {
                double bx = beta * x;
                if (order == 0) {
                    return (bx > 30 ? bx : Math.log1p(Math.exp(bx))) / beta;
                }
                double s = sigmoid(bx);
                return order == 1 ? s : Math.pow(beta, order - 1) * horner(SIGMOID_POLY[order - 1], s);
            }
            case RBF:
                return horner(RBF_POLY[order], x) * Math.exp(-0.5 * x * x);
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
