package dev.sprout.cli;

import picocli.CommandLine.Option;

/**
 * Every option of a growth run ({@code sprout grow}): the shared {@link GrowthSchedule} and the method; also the
 * {@code "config"} of its results JSON and what its checkpoints store.
 */
public final class GrowConfig extends GrowthSchedule {
    @Option(names = "--method", description = "firefly, firefly-deep, exact, fast, signed, net2net, gradmax, nash, random-split, random-new,"
            + " with options after colons as in compare, e.g. firefly-deep:depth-width=4 or exact:eps=0.02 (default: ${DEFAULT-VALUE})")
    public String method = "firefly";

    @Option(names = "--as-official", description = "firefly: keep the official code's bugs (k+1 selection without a sign check,"
            + " classifier outgoing weights of new neurons dropped, classifier bias re-randomised), to compare with the fixed method")
    public boolean asOfficial;

    @Option(names = "--eps", description = "split step size of the splitting methods (default: the method's, 0.01 as the official code)")
    public Double eps;

    @Override
    void validate() {
        super.validate();
        if (eps != null && !(eps >= 0)) {
            throw new IllegalArgumentException("--eps must be >= 0, got " + eps);
        }
    }
}
