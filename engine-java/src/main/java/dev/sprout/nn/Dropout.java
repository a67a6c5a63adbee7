package dev.sprout.nn;

import dev.sprout.tensor.DType;
import dev.sprout.tensor.Rng;
import dev.sprout.tensor.Tensor;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Inverted dropout: in training, zeroes each value with probability p and scales the rest by 1/(1-p). The mask
 * of the k-th training call comes from a generator seeded by (seed, k), and k is a buffer, so a run resumed
 * from a checkpoint draws the same masks as an uninterrupted one.
 */
public final class Dropout extends Module {
    private final double p;
    private final long seed;

    public Dropout(double p, long seed) {
        if (!(p >= 0 && p < 1)) {
            throw new IllegalArgumentException("dropout: probability must be in [0, 1), got " + p);
        }
        this.p = p;
        this.seed = seed;
        registerBuffer("calls", Tensor.zeros(DType.F64, 1));
    }

    @Override
    public Tensor forward(Tensor x) {
        if (!isTraining() || p == 0) {
            return x;
        }
        Tensor calls = buffer("calls");
        long k = (long) calls.getFlat(0);
        calls.setFlat(0, k + 1);
        Rng rng = new Rng(seed * 0x9E3779B97F4A7C15L + k);
        Tensor mask = Tensor.zeros(x.dtype(), x.shape());
        double keep = 1.0 / (1 - p);
        for (int i = 0; i < mask.numel(); i++) {
            mask.setFlat(i, rng.uniform() >= p ? keep : 0.0);
        }
        return x.mul(mask);
    }

    @Override
    public String type() {
        return "dropout";
    }

    @Override
    public Map<String, Object> config() {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("p", p);
        c.put("seed", seed);
        return c;
    }
}
