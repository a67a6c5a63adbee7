package dev.sprout.growth.continual;

import dev.sprout.tensor.Tensor;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Elastic weight consolidation (Kirkpatrick et al. 2017) with a diagonal Fisher: after each task {@code t} the shared
 * parameters' values {@code theta*_t} and their Fisher diagonal {@code F_t} are kept, and later tasks add
 * {@code (lambda / 2) sum_t sum_i F_t,i (theta_i - theta*_t,i)^2} to their loss (one penalty per earlier task).
 */
public final class Ewc {
    /** One consolidated task: anchors and Fisher diagonals by parameter name (constants, no gradient). */
    public record Anchor(Map<String, Tensor> theta, Map<String, Tensor> fisher) {
    }

    private final double lambda;
    private final List<Anchor> anchors = new ArrayList<>();

    public Ewc(double lambda) {
        if (!(lambda >= 0) || !Double.isFinite(lambda)) {
            throw new IllegalArgumentException("ewc: lambda must be finite and >= 0, got " + lambda);
        }
        this.lambda = lambda;
    }

    public double lambda() {
        return lambda;
    }

    public void add(Anchor a) {
        anchors.add(a);
    }

    public List<Anchor> anchors() {
        return List.copyOf(anchors);
    }

    /** The penalty for the current parameters (by name), differentiable in them; null when nothing is consolidated. */
    public Tensor penalty(Map<String, Tensor> params) {
        Tensor total = null;
        for (Anchor a : anchors) {
            for (Map.Entry<String, Tensor> e : a.fisher().entrySet()) {
                Tensor p = params.get(e.getKey());
                if (p == null) {
                    throw new IllegalArgumentException("ewc: no parameter '" + e.getKey() + "' to consolidate");
                }
                Tensor d = p.sub(a.theta().get(e.getKey()));
                Tensor term = e.getValue().mul(d.mul(d)).sum();
                total = total == null ? term : total.add(term);
            }
        }
        return total == null ? null : total.mul(lambda / 2);
    }
}
