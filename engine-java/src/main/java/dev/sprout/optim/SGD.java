package dev.sprout.optim;

import dev.sprout.backend.Backends;
import dev.sprout.nn.Module;

import java.util.List;
import java.util.Map;

/**
 * Stochastic gradient descent with momentum, dampening, Nesterov momentum and L2 weight decay, with PyTorch's
 * {@code torch.optim.SGD} semantics. For each parameter {@code p} with gradient {@code g}:
 * <pre>
 *   g = g + weightDecay * p
 *   if momentum != 0:
 *       buf = g                                      at the parameter's first step
 *       buf = momentum * buf + (1 - dampening) * g   afterwards
 *       g = nesterov ? g + momentum * buf : buf
 *   p = p - lr * g
 * </pre>
 * <b>State:</b> {@code momentum_buffer} when {@code momentum != 0}, else none. After {@link #remap} new slices have a
 * zero buffer, so their next update uses {@code (1 - dampening) * g} (with the default dampening 0 that is exactly
 * the first-step rule).
 */
public final class SGD extends Optimizer {
    public static final String MOMENTUM_BUFFER = "momentum_buffer";

    private final double momentum, dampening, weightDecay;
    private final boolean nesterov;

    /** Plain SGD. */
    public SGD(Module module, double lr) {
        this(module, lr, 0, 0, false, 0);
    }

    /** SGD with momentum (dampening 0, no Nesterov, no weight decay). */
    public SGD(Module module, double lr, double momentum) {
        this(module, lr, momentum, 0, false, 0);
    }

    public SGD(Module module, double lr, double momentum, double dampening, boolean nesterov, double weightDecay) {
        super(module, lr);
        if (!(momentum >= 0) || Double.isInfinite(momentum) || !(dampening >= 0 && dampening <= 1)
                || !(weightDecay >= 0) || Double.isInfinite(weightDecay)) {
            throw new IllegalArgumentException("sgd: invalid momentum=" + momentum + " dampening=" + dampening
                    + " weight_decay=" + weightDecay + " (need momentum >= 0, 0 <= dampening <= 1, weight_decay >= 0)");
        }
        if (nesterov && (momentum <= 0 || dampening != 0)) {
            throw new IllegalArgumentException("sgd: Nesterov momentum needs momentum > 0 and dampening 0, got momentum="
                    + momentum + " dampening=" + dampening);
        }
        this.momentum = momentum;
        this.dampening = dampening;
        this.nesterov = nesterov;
        this.weightDecay = weightDecay;
    }

    public double momentum() {
        return momentum;
    }

    public double dampening() {
        return dampening;
    }

    public boolean nesterov() {
        return nesterov;
    }

    public double weightDecay() {
        return weightDecay;
    }

    @Override
    public String type() {
        return "sgd";
    }

    @Override
    public List<String> stateNames() {
        return momentum != 0 ? List.of(MOMENTUM_BUFFER) : List.of();
    }

    @Override
    protected void putHyperParameters(Map<String, String> out) {
        out.put("momentum", Double.toString(momentum));
        out.put("dampening", Double.toString(dampening));
        out.put("nesterov", Boolean.toString(nesterov));
        out.put("weight_decay", Double.toString(weightDecay));
    }

    @Override
    protected boolean updateF32(float[] p, int po, float[] g, int go, float[][] s, int[] so, int n, boolean fresh) {
        float lr = (float) learningRate(), mu = (float) momentum, keep = (float) (1 - dampening), wd = (float) weightDecay;
        if (momentum == 0) {
            if (wd == 0) {
                // p - lr * g through the backend (the JIT's loop over offset arrays ran at ~half the memory speed)
                Backends.current().axpy(n, -lr, g, go, p, po);
            } else {
                for (int i = 0; i < n; i++) {
                    p[po + i] -= lr * (g[go + i] + wd * p[po + i]);
                }
            }
            return true;
        }
        float[] buf = s[0];
        int bo = so[0];
        for (int i = 0; i < n; i++) {
            float gi = g[go + i] + wd * p[po + i];
            float b = fresh ? gi : mu * buf[bo + i] + keep * gi;
            buf[bo + i] = b;
            p[po + i] -= lr * (nesterov ? gi + mu * b : b);
        }
        return true;
    }

    @Override
    protected void update(String name, Elements p, Elements g, Elements[] s, boolean fresh) {
        double lr = learningRate(), mu = momentum, keep = 1 - dampening, wd = weightDecay;
        Elements buf = momentum != 0 ? s[0] : null;
        for (int i = 0, n = p.size(); i < n; i++) {
            double pi = p.get(i), gi = g.get(i);
            if (wd != 0) {
                gi += wd * pi;
            }
            if (buf != null) {
                double b = fresh ? gi : mu * buf.get(i) + keep * gi;
                buf.set(i, b);
                gi = nesterov ? gi + mu * b : b;
            }
            p.set(i, pi - lr * gi);
        }
    }
}
