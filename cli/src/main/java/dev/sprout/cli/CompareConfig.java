package dev.sprout.cli;

import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.List;

/**
 * The options of {@code sprout compare}: the shared {@link GrowthSchedule} (data, model, rounds, seed) and the methods
 * to run on it, each with the same seed and schedule.
 */
public final class CompareConfig extends GrowthSchedule {
    @Option(names = "--methods", required = true, split = ",", paramLabel = "METHOD[:OPTION=VALUE...]",
            description = "comma-separated growth methods (as sprout grow --method), each optionally with its options after"
                    + " colons (e.g. exact:eps=0.02, firefly:as-official=true, nash:children=2), and 'static': a network of"
                    + " each method's final size trained from scratch for the same epochs")
    public List<String> methods = new ArrayList<>();

    @Option(names = "--plot", paramLabel = "FILE.png",
            description = "write the plot (test accuracy against parameters, a line per method) here (default: beside --out,"
                    + " as .png)")
    public String plot;

    @Override
    void validate() {
        super.validate();
        if (run.checkpoint != null || run.stopAfter != null) {
            throw new IllegalArgumentException("compare does not take --checkpoint (it runs several networks; grow them one by"
                    + " one with sprout grow to checkpoint them)");
        }
        if (plot != null && !plot.toLowerCase(java.util.Locale.ROOT).endsWith(".png")) {
            throw new IllegalArgumentException("--plot writes a PNG: give a file name ending in .png, got '" + plot + "'");
        }
    }

    /** Where the plot goes: --plot, or --out with .png for its extension, or nowhere. */
    String plotPath() {
        if (plot != null) {
            return plot;
        }
        if (run.out == null) {
            return null;
        }
        String o = run.out;
        return (o.toLowerCase(java.util.Locale.ROOT).endsWith(".json") ? o.substring(0, o.length() - 5) : o) + ".png";
    }
}
