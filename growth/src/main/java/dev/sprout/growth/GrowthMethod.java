package dev.sprout.growth;

/**
 * A way to grow a network: it looks at the network as trained so far and at a data sample (a validation split of
 * the training set, never the test set) and proposes a {@link Plan}; {@link Surgery} applies it. Implementations
 * record what each phase cost in the context's {@link CostMeter}.
 */
public interface GrowthMethod {

    /** The method's name as the command line knows it ({@code exact}, {@code fast}, ...). */
    String name();

    /**
     * Proposes how to grow the network in its current state.
     *
     * @throws IllegalArgumentException if the method does not support this network (naming what it needs)
     */
    Plan propose(GrowthContext ctx);

    /**
     * Refuses, before any training, a network this method cannot grow (the same refusal {@link #propose} would give
     * later); does nothing by default. It never changes the network.
     *
     * @throws IllegalArgumentException naming the layer and what the method needs
     */
    default void check(dev.sprout.nn.Sequential net) {
    }
}
