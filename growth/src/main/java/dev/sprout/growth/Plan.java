package dev.sprout.growth;

import dev.sprout.tensor.Tensor;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a growth method proposes: neurons to split (with offspring directions and weights) and new neurons to add
 * (with their weights), each with the change in loss it predicts (negative: a decrease). {@link Surgery} applies it.
 *
 * <p>A split of neuron {@code theta} in layer {@code site} makes two offspring, {@code theta + eps * delta1} (in the
 * neuron's place) and {@code theta + eps * delta2} (appended), whose outgoing weights are the parent's times
 * {@code w1} and {@code w2} ({@code w1 + w2 = 1}, so at {@code eps = 0} the network computes the same function).
 * Directions cover the neuron's incoming weights (its row of a linear layer, its {@code C_in x k x k} filter of a
 * convolution); the bias and batch-norm statistics are copied.
 *
 * <p>{@code trained}: parameters and buffers (by dotted name, shaped as after the plan) that the grown network takes
 * once the structure has changed; empty for every method that only grows. NASH uses it: its plan is the random
 * change of the child it kept, and {@code trained} that child's weights after its brief training.
 *
 * <p>{@code unitSlopeRelu}: names of sites whose ReLU becomes {@link dev.sprout.nn.Act#relu1()} (the same function,
 * derivative 1 at 0), so that new neurons with zero incoming weights receive a gradient (GradMax); empty otherwise.
 */
public record Plan(List<Split> splits, List<NewNeuron> additions, List<NewLayer> layers, Map<String, Tensor> trained,
                   List<String> unitSlopeRelu) {

    public Plan {
        splits = List.copyOf(splits);
        additions = List.copyOf(additions);
        layers = List.copyOf(layers);
        trained = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(trained));
        unitSlopeRelu = List.copyOf(unitSlopeRelu);
    }

    /** A plan without activation changes. */
    public Plan(List<Split> splits, List<NewNeuron> additions, List<NewLayer> layers, Map<String, Tensor> trained) {
        this(splits, additions, layers, trained, List.of());
    }

    /** A plan that widens and deepens, without trained state. */
    public Plan(List<Split> splits, List<NewNeuron> additions, List<NewLayer> layers) {
        this(splits, additions, layers, Map.of());
    }

    /** A plan that only widens layers. */
    public Plan(List<Split> splits, List<NewNeuron> additions) {
        this(splits, additions, List.of());
    }

    /** The same changes, after which the network takes {@code state} (see the class comment). */
    public Plan withTrained(Map<String, Tensor> state) {
        return new Plan(splits, additions, layers, state, unitSlopeRelu);
    }

    /** The same changes, after which the ReLUs of these sites have derivative 1 at 0 ({@code relu1}). */
    public Plan withUnitSlopeRelu(List<String> sites) {
        return new Plan(splits, additions, layers, trained, sites);
    }

    public static Plan empty() {
        return new Plan(List.of(), List.of());
    }

    /** One neuron split in two. */
    public record Split(String site, int neuron, double[] delta1, double[] delta2, double eps, double w1, double w2,
                        double predictedChange) {
        /** The positive split of splitting steepest descent: offspring {@code theta +- eps v}, outgoing weights halved. */
        public static Split positive(String site, int neuron, double[] v, double eps, double predictedChange) {
            double[] minus = new double[v.length];
            for (int i = 0; i < v.length; i++) {
                minus[i] = -v[i];
            }
            return new Split(site, neuron, v.clone(), minus, eps, 0.5, 0.5, predictedChange);
        }

        /**
         * The signed split with ratio {@code c > 1} along the top eigenvector {@code v}: weights
         * {@code w1 = -(c-1)/2, w2 = (c+1)/2}, displacements {@code delta1 = v, delta2 = -r v} with {@code r = w1/w2},
         * so the mean displacement {@code w1 delta1 + w2 delta2} is zero.
         */
        public static Split signed(String site, int neuron, double[] v, double eps, double c, double predictedChange) {
            if (!(c > 1)) {
                throw new IllegalArgumentException("signed split: c must be > 1, got " + c);
            }
            double w1 = -(c - 1) / 2, w2 = (c + 1) / 2, r = w1 / w2;
            double[] d2 = new double[v.length];
            for (int i = 0; i < v.length; i++) {
                d2[i] = -r * v[i];
            }
            return new Split(site, neuron, v.clone(), d2, eps, w1, w2, predictedChange);
        }
    }

    /**
     * A new neuron: incoming weights (fan-in long: from the layer's existing inputs), bias, and outgoing weights
     * laid out as the consumer's rows ({@code consumerRows * block} values, where block is the neuron's columns per
     * consumer row: 1 for a linear consumer, {@code H*W} after a flatten, {@code k*k} for a convolution).
     *
     * <p>When the consumer is itself grown by the same plan, {@code outgoing} may also reach the consumer's new
     * neurons: {@code (consumerRows + m) * block} values, where the last {@code m * block} are for the {@code m}
     * new neurons the plan adds to the consumer, in plan order (Firefly's new neurons read from the previous
     * layer's new neurons). With only {@code consumerRows * block} values those connections are zero. A split
     * offspring of a consumer neuron always gets its parent's value.
     */
    public record NewNeuron(String site, double[] incoming, double bias, double[] outgoing, double predictedChange) {
    }

    /**
     * A new hidden layer (Firefly's depth growth) after a site, reading the site's {@code C} neurons as they were before
     * this plan. Three kinds, by the site ({@link Surgery#depthKind}):
     * <ul>
     *   <li>after a dense layer with ReLU: a linear layer and a copy of the ReLU, inserted right after the site's
     *   activation ({@code weight}: {@code C x C} row-major; {@code bias}: {@code C}). With {@code weight = I} and a
     *   zero bias it computes {@code relu(relu(z)) = relu(z)}: the function is unchanged;</li>
     *   <li>after a convolution with ReLU: a 3x3 convolution (stride 1, padding 1, {@code C -> C}) and a ReLU, right
     *   after the site's activation ({@code weight}: {@code C x C x 3 x 3}; {@code bias}: {@code C}); the identity
     *   start is the centre tap {@code W[c, c, 1, 1] = 1}. No batch norm is inserted, so identity is exact in
     *   training mode too;</li>
     *   <li>after a dense layer with another activation (tanh, sigmoid, softplus, ...): a {@link dev.sprout.nn.Residual}
     *   block {@code h + W2 sigma(W1 h + b1) + b2} right after the site's activation ({@code weight}: {@code W1},
     *   {@code M x C}; {@code bias}: {@code b1}, {@code M}; {@code outWeight}: {@code W2}, {@code C x M};
     *   {@code outBias}: {@code b2}, {@code C}); with {@code W2 = 0, b2 = 0} the function is unchanged.</li>
     * </ul>
     * It is applied after the plan's width changes of the same site: a split neuron's two offspring both take its row
     * (and its {@code W2} row) and share its column (weighted by the split's {@code w1, w2}); a new neuron passes
     * through by an identity row and column (ReLU kinds) or has zero {@code W1} column and {@code W2} row (residual).
     */
    public record NewLayer(String site, double[] weight, double[] bias, double[] outWeight, double[] outBias,
                           double predictedChange) {
        /** A new layer of the ReLU kinds (no output weights). */
        public NewLayer(String site, double[] weight, double[] bias, double predictedChange) {
            this(site, weight, bias, null, null, predictedChange);
        }

        /** Whether this is a residual block (it has output weights). */
        public boolean residual() {
            return outWeight != null;
        }
    }

    /** The loss decrease the plan predicts (the negated sum of predicted changes). */
    public double predictedDecrease() {
        double s = 0;
        for (Split x : splits) {
            s += x.predictedChange();
        }
        for (NewNeuron n : additions) {
            s += n.predictedChange();
        }
        for (NewLayer l : layers) {
            s += l.predictedChange();
        }
        return -s;
    }

    /** Number of growth steps in the plan: splits, new neurons and new layers. */
    public int size() {
        return splits.size() + additions.size() + layers.size();
    }

    /** Names of the sites whose width this plan changes (splits and new neurons), in first-use order. */
    public List<String> sites() {
        List<String> out = new ArrayList<>();
        for (Split s : splits) {
            if (!out.contains(s.site())) {
                out.add(s.site());
            }
        }
        for (NewNeuron n : additions) {
            if (!out.contains(n.site())) {
                out.add(n.site());
            }
        }
        return out;
    }
}
