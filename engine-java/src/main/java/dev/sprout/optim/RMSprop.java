package dev.sprout.optim;

import dev.sprout.nn.Module;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * RMSprop as PyTorch's {@code torch.optim.RMSprop}. For each element with gradient {@code g}:
 * <pre>
 *   g = g + weightDecay * p
 *   sq = alpha * sq + (1 - alpha) * g^2
 *   avg = centered ? sqrt(sq - ga^2) + eps   with ga = alpha * ga + (1 - alpha) * g
 *                  : sqrt(sq) + eps
 *   if momentum > 0:  buf = momentum * buf + g / avg;  p = p - lr * buf
 *   else:             p = p - lr * g / avg
 * </pre>
 * <b>State:</b> {@code square_avg}; {@code grad_avg} when centered; {@code momentum_buffer} when momentum &gt; 0.
 */
public final class RMSprop extends Optimizer {
    public static final String SQUARE_AVG = "square_avg", GRAD_AVG = "grad_avg", MOMENTUM_BUFFER = "momentum_buffer";

    private final double alpha, eps, momentum, weightDecay;
    private final boolean centered;

    /** RMSprop with PyTorch's defaults (alpha 0.99, eps 1e-8, no momentum, not centered). */
    public RMSprop(Module module, double lr) {
        this(module, lr, 0.99, 1e-8, 0, false, 0);
    }

    public RMSprop(Module module, double lr, double alpha, double eps, double momentum, boolean centered, double weightDecay) {
        super(module, lr);
        if (!(alpha >= 0 && alpha <= 1) || !(eps >= 0) || Double.isInfinite(eps) || !(momentum >= 0)
                || Double.isInfinite(momentum) || !(weightDecay >= 0) || Double.isInfinite(weightDecay)) {
            throw new IllegalArgumentException("rmsprop: invalid alpha=" + alpha + " eps=" + eps + " momentum=" + momentum
                    + " weight_decay=" + weightDecay + " (need 0 <= alpha <= 1, eps, momentum, weight_decay >= 0)");
        }
        this.alpha = alpha;
        this.eps = eps;
        this.momentum = momentum;
        this.centered = centered;
        this.weightDecay = weightDecay;
    }

    public double alpha() {
        return alpha;
    }

    public double eps() {
        return eps;
    }

    public double momentum() {
        return momentum;
    }

    public boolean centered() {
        return centered;
    }

    public double weightDecay() {
        return weightDecay;
    }

    @Override
    public String type() {
        return "rmsprop";
    }

    @Override
    public List<String> stateNames() {
        List<String> s = new ArrayList<>(List.of(SQUARE_AVG));
        if (centered) {
            s.add(GRAD_AVG);
        }
        if (momentum > 0) {
            s.add(MOMENTUM_BUFFER);
        }
        return List.copyOf(s);
    }

    @Override
    protected void putHyperParameters(Map<String, String> out) {
        out.put("alpha", Double.toString(alpha));
        out.put("eps", Double.toString(eps));
        out.put("momentum", Double.toString(momentum));
        out.put("centered", Boolean.toString(centered));
        out.put("weight_decay", Double.toString(weightDecay));
    }

    @Override
    protected boolean updateF32(float[] p, int po, float[] g, int go, float[][] s, int[] so, int n, boolean fresh) {
        float lr = (float) learningRate(), a = (float) alpha, a1 = (float) (1 - alpha), wd = (float) weightDecay;
        float mu = (float) momentum, e = (float) eps;
        float[] sq = s[0], ga = centered ? s[1] : null, buf = momentum > 0 ? s[centered ? 2 : 1] : null;
        int sqo = so[0], gao = centered ? so[1] : 0, bo = momentum > 0 ? so[centered ? 2 : 1] : 0;
        for (int i = 0; i < n; i++) {
            float gi = g[go + i] + wd * p[po + i];
            float sqi = a * sq[sqo + i] + a1 * gi * gi;
            sq[sqo + i] = sqi;
            float avg;
            if (ga != null) {
                float gai = a * ga[gao + i] + a1 * gi;
                ga[gao + i] = gai;
                avg = (float) Math.sqrt(sqi - gai * gai) + e;
            } else {
                avg = (float) Math.sqrt(sqi) + e;
            }
            if (buf != null) {
                float b = mu * buf[bo + i] + gi / avg;
                buf[bo + i] = b;
                p[po + i] -= lr * b;
            } else {
                p[po + i] -= lr * gi / avg;
            }
        }
        return true;
    }

    @Override
    protected void update(String name, Elements p, Elements g, Elements[] s, boolean fresh) {
        Elements sq = s[0];
        Elements ga = centered ? s[1] : null;
        Elements buf = momentum > 0 ? s[centered ? 2 : 1] : null;
        double lr = learningRate(), a = alpha, wd = weightDecay, mu = momentum;
        for (int i = 0, n = p.size(); i < n; i++) {
            double pi = p.get(i), gi = g.get(i);
            if (wd != 0) {
                gi += wd * pi;
            }
            double sqi = a * sq.get(i) + (1 - a) * gi * gi;
            sq.set(i, sqi);
            double avg;
            if (ga != null) {
                double gai = a * ga.get(i) + (1 - a) * gi;
                ga.set(i, gai);
                avg = Math.sqrt(sqi - gai * gai) + eps;
            } else {
                avg = Math.sqrt(sqi) + eps;
            }
            if (buf != null) {
                double b = mu * buf.get(i) + gi / avg;
                buf.set(i, b);
                p.set(i, pi - lr * b);
            } else {
                p.set(i, pi - lr * gi / avg);
            }
        }
    }
}
