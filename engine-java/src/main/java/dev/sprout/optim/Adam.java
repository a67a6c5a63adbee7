package dev.sprout.optim;

import dev.sprout.nn.Module;

import java.util.List;
import java.util.Map;

/**
 * Adam with bias correction and L2 weight decay, as PyTorch's {@code torch.optim.Adam}; with {@code decoupled}
 * it is AdamW ({@code torch.optim.AdamW}: the weight decays by {@code lr * weightDecay} apart from the gradient).
 * For each element with gradient {@code g}:
 * <pre>
 *   p = p * (1 - lr * weightDecay)                  AdamW only
 *   g = g + weightDecay * p                         Adam only
 *   t = step + 1
 *   m = beta1 * m + (1 - beta1) * g
 *   v = beta2 * v + (1 - beta2) * g^2
 *   p = p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
 * </pre>
 * <b>State:</b> {@code exp_avg} (m), {@code exp_avg_sq} (v) and {@code step} (t), all shaped like the parameter.
 * The step count is kept per element rather than per parameter so that neurons added by growth ({@link #remap}
 * gives them {@code m = v = t = 0}) get the same bias correction as a fresh parameter; with a per-parameter count
 * a new neuron's first update would be about {@code 1/sqrt(1-beta2)} times too large. The element counts are
 * stored in the parameter's dtype (exact up to 2^24 steps in f32).
 */
public final class Adam extends Optimizer {
    public static final String EXP_AVG = "exp_avg", EXP_AVG_SQ = "exp_avg_sq", STEP = "step";

    private final double beta1, beta2, eps, weightDecay;
    private final boolean decoupled;

    /** Adam with PyTorch's defaults (betas 0.9, 0.999, eps 1e-8, no weight decay). */
    public Adam(Module module, double lr) {
        this(module, lr, 0.9, 0.999, 1e-8, 0, false);
    }

    /**
     * @param decoupled false: L2 weight decay added to the gradient (Adam); true: decoupled decay (AdamW)
     */
    public Adam(Module module, double lr, double beta1, double beta2, double eps, double weightDecay, boolean decoupled) {
        super(module, lr);
        if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1) || !(eps >= 0) || Double.isInfinite(eps)
                || !(weightDecay >= 0) || Double.isInfinite(weightDecay)) {
            throw new IllegalArgumentException((decoupled ? "adamw" : "adam") + ": invalid beta1=" + beta1 + " beta2=" + beta2
                    + " eps=" + eps + " weight_decay=" + weightDecay + " (need 0 <= beta < 1, eps >= 0, weight_decay >= 0)");
        }
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
        this.decoupled = decoupled;
    }

    /** AdamW with PyTorch's defaults other than the weight decay given. */
    public static Adam adamW(Module module, double lr, double weightDecay) {
        return new Adam(module, lr, 0.9, 0.999, 1e-8, weightDecay, true);
    }

    public double beta1() {
        return beta1;
    }

    public double beta2() {
        return beta2;
    }

    public double eps() {
        return eps;
    }

    public double weightDecay() {
        return weightDecay;
    }

    public boolean decoupled() {
        return decoupled;
    }

    @Override
    public String type() {
        return decoupled ? "adamw" : "adam";
    }

    @Override
    public List<String> stateNames() {
        return List.of(EXP_AVG, EXP_AVG_SQ, STEP);
    }

    @Override
    protected void putHyperParameters(Map<String, String> out) {
        out.put("beta1", Double.toString(beta1));
        out.put("beta2", Double.toString(beta2));
        out.put("eps", Double.toString(eps));
        out.put("weight_decay", Double.toString(weightDecay));
    }

    @Override
    protected boolean updateF32(float[] p, int po, float[] g, int go, float[][] s, int[] so, int n, boolean fresh) {
        float[] m = s[0], v = s[1], step = s[2];
        int mo = so[0], vo = so[1], to = so[2];
        double lr = learningRate();
        float b1 = (float) beta1, b2 = (float) beta2, c1 = (float) (1 - beta1), c2 = (float) (1 - beta2);
        float wd = decoupled ? 0f : (float) weightDecay, decay = decoupled ? (float) (1 - lr * weightDecay) : 1f;
        float e = (float) eps, lastT = -1, stepSize = 0, sqrtBc2 = 0;
        for (int i = 0; i < n; i++) {
            float pi = p[po + i] * decay, gi = g[go + i] + wd * p[po + i];
            float t = step[to + i] + 1;
            step[to + i] = t;
            if (t != lastT) {
                lastT = t;
                stepSize = (float) (lr / (1 - Math.pow(beta1, t)));
                sqrtBc2 = (float) Math.sqrt(1 - Math.pow(beta2, t));
            }
            float mi = b1 * m[mo + i] + c1 * gi;
            float vi = b2 * v[vo + i] + c2 * gi * gi;
            m[mo + i] = mi;
            v[vo + i] = vi;
            p[po + i] = pi - stepSize * mi / ((float) Math.sqrt(vi) / sqrtBc2 + e);
        }
        return true;
    }

    @Override
    protected void update(String name, Elements p, Elements g, Elements[] s, boolean fresh) {
        Elements m = s[0], v = s[1], step = s[2];
        double lr = learningRate(), b1 = beta1, b2 = beta2, wd = weightDecay, decay = 1 - lr * weightDecay;
        double lastT = -1, stepSize = 0, sqrtBc2 = 0;
        for (int i = 0, n = p.size(); i < n; i++) {
            double pi = p.get(i), gi = g.get(i);
            if (decoupled) {
                pi *= decay;
            } else if (wd != 0) {
                gi += wd * pi;
            }
            double t = step.get(i) + 1;
            step.set(i, t);
            if (t != lastT) {
                lastT = t;
                stepSize = lr / (1 - Math.pow(b1, t));
                sqrtBc2 = Math.sqrt(1 - Math.pow(b2, t));
            }
            double mi = b1 * m.get(i) + (1 - b1) * gi;
            double vi = b2 * v.get(i) + (1 - b2) * gi * gi;
            m.set(i, mi);
            v.set(i, vi);
            p.set(i, pi - stepSize * mi / (Math.sqrt(vi) / sqrtBc2 + eps));
        }
    }
}
