package dev.sprout.optim;

import dev.sprout.nn.Module;

import java.util.List;
import java.util.Map;

/**
 * Adagrad as PyTorch's {@code torch.optim.Adagrad} (without learning-rate decay; use an {@link LrSchedule}). For
 * each element with gradient {@code g}:
 * <pre>
 *   g = g + weightDecay * p
 *   sum = sum + g^2                     (sum starts at initialAccumulator, 0 by default)
 *   p = p - lr * g / (sqrt(sum) + eps)
 * </pre>
 * <b>State:</b> {@code sum}. New slices after {@link #remap} start at {@code initialAccumulator}.
 */
public final class Adagrad extends Optimizer {
    public static final String SUM = "sum";

    private final double eps, initialAccumulator, weightDecay;

    /** Adagrad with PyTorch's defaults (eps 1e-10, accumulator starting at 0, no weight decay). */
    public Adagrad(Module module, double lr) {
        this(module, lr, 1e-10, 0, 0);
    }

    public Adagrad(Module module, double lr, double eps, double initialAccumulator, double weightDecay) {
        super(module, lr);
        if (!(eps >= 0) || Double.isInfinite(eps) || !(initialAccumulator >= 0) || Double.isInfinite(initialAccumulator)
                || !(weightDecay >= 0) || Double.isInfinite(weightDecay)) {
            throw new IllegalArgumentException("adagrad: invalid eps=" + eps + " initial_accumulator=" + initialAccumulator
                    + " weight_decay=" + weightDecay + " (need all finite and >= 0)");
        }
        this.eps = eps;
        this.initialAccumulator = initialAccumulator;
        this.weightDecay = weightDecay;
    }

    public double eps() {
        return eps;
    }

    public double initialAccumulator() {
        return initialAccumulator;
    }

    public double weightDecay() {
        return weightDecay;
    }

    @Override
    public String type() {
        return "adagrad";
    }

    @Override
    public List<String> stateNames() {
        return List.of(SUM);
    }

    @Override
    protected double initialValue(String stateName) {
        return initialAccumulator;
    }

    @Override
    protected void putHyperParameters(Map<String, String> out) {
        out.put("eps", Double.toString(eps));
        out.put("initial_accumulator", Double.toString(initialAccumulator));
        out.put("weight_decay", Double.toString(weightDecay));
    }

    @Override
    protected boolean updateF32(float[] p, int po, float[] g, int go, float[][] s, int[] so, int n, boolean fresh) {
        float lr = (float) learningRate(), wd = (float) weightDecay, e = (float) eps;
        float[] sum = s[0];
        int o = so[0];
        for (int i = 0; i < n; i++) {
            float gi = g[go + i] + wd * p[po + i];
            float si = sum[o + i] + gi * gi;
            sum[o + i] = si;
            p[po + i] -= lr * gi / ((float) Math.sqrt(si) + e);
        }
        return true;
    }

    @Override
    protected void update(String name, Elements p, Elements g, Elements[] s, boolean fresh) {
        Elements sum = s[0];
        double lr = learningRate(), wd = weightDecay;
        for (int i = 0, n = p.size(); i < n; i++) {
            double pi = p.get(i), gi = g.get(i);
            if (wd != 0) {
                gi += wd * pi;
            }
            double si = sum.get(i) + gi * gi;
            sum.set(i, si);
            p.set(i, pi - lr * gi / (Math.sqrt(si) + eps));
        }
    }
}
