package dev.sprout.cli;

import dev.sprout.backend.Backends;
import dev.sprout.growth.GrowthMethod;
import dev.sprout.growth.Methods;
import dev.sprout.growth.Networks;
import dev.sprout.nn.Sequential;
import dev.sprout.tensor.Rng;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code sprout compare}: each listed growth method grows the same starting network (same seed, same data and
 * validation split, same schedule) by the rounds of {@code sprout grow}, from one shared round 0 (trained once, copied
 * for each method); {@code static} trains, for each method's final
 * architecture, a freshly initialised network of that architecture on the same schedule (the same phases and
 * epochs, without growth). One table on stdout, one results JSON ({@code "methods"}: one entry per method with its
 * rounds), one PNG plot of test accuracy (test loss for regression) against parameters, a line per method.
 */
final class CompareRun {
    static final String STATIC = "static";

    private CompareRun() {
    }

    /** One entry of --methods: the label it was given, the method's name and its options. */
    record Spec(String label, String name, Map<String, String> options) {
    }

    /** What one method did: its rounds and its final network. */
    record Outcome(Spec spec, List<GrowRun.RoundRow> rows, Sequential net, double seconds) {
    }

    /**
     * Parses {@code name[:key=value[:key=value...]]} entries; refuses unknown names (listing the known ones), malformed
     * options, repeats, and a lone {@code static}.
     */
    static List<Spec> parse(List<String> entries) {
        List<String> known = new ArrayList<>(Methods.names());
        known.add(STATIC);
        List<Spec> out = new ArrayList<>();
        java.util.Set<String> labels = new java.util.HashSet<>();
        for (String raw : entries) {
            Spec spec = entry("--methods", raw, known);
            String e = spec.label(), name = spec.name();
            Map<String, String> options = spec.options();
            if (name.equals(STATIC) && !options.isEmpty()) {
                throw new IllegalArgumentException("--methods: static takes no options");
            }
            if (!labels.add(e)) {
                throw new IllegalArgumentException("--methods lists '" + e + "' twice");
            }
            out.add(new Spec(e, name, options));
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException("--methods needs at least one method");
        }
        if (out.stream().allMatch(s -> s.name().equals(STATIC))) {
            throw new IllegalArgumentException("--methods: static trains networks of the other methods' final sizes; list a growth"
                    + " method too");
        }
        return out;
    }

    /**
     * One {@code name[:key=value...]} entry of {@code option} ({@code --methods}, or grow's {@code --method}); refuses
     * a name outside {@code known} (listing them) and an option without {@code =}.
     */
    static Spec entry(String option, String raw, List<String> known) {
        String e = raw.trim();
        String[] parts = e.split(":");
        String name = parts[0].trim().toLowerCase(Locale.ROOT);
        if (!known.contains(name)) {
            throw new IllegalArgumentException("unknown method '" + parts[0].trim() + "' in " + option + " (known: "
                    + String.join(", ", known) + ")");
        }
        Map<String, String> options = new LinkedHashMap<>();
        for (int i = 1; i < parts.length; i++) {
            int eq = parts[i].indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException(option + ": option '" + parts[i] + "' of " + name + " must be key=value");
            }
            options.put(parts[i].substring(0, eq).trim(), parts[i].substring(eq + 1).trim());
        }
        return new Spec(e, name, options);
    }

    static int run(CompareConfig c, PrintStream out) throws IOException {
        c.validate();
        long t0 = System.nanoTime();
        List<Spec> specs = parse(c.methods);
        boolean withStatic = false;
        List<Spec> growing = new ArrayList<>();
        List<GrowthMethod> methods = new ArrayList<>();
        for (Spec s : specs) {
            if (s.name().equals(STATIC)) {
                withStatic = true;
            } else {
                growing.add(s);
                methods.add(Methods.create(s.name(), s.options()));
            }
        }
        TrainRun.selectBackend(c.asTrainConfig());
        out.println("backend: " + Backends.current().name() + " (" + Backends.current().describe() + ")");
        GrowRun.Data d = GrowRun.data(c, out);
        for (GrowthMethod m : methods) { // every method checks the starting network before anything trains
            GrowRun.check(GrowRun.buildModel(c, d.train()), m);
        }

        // Round 0 (the starting network's first phase, before any growth) is the same for every method: same
        // initialisation, data order and schedule, and a fresh optimizer per phase. It is trained once and every method
        // grows a copy of the result (bit for bit what each would have trained itself). With --keep-optimizer-state
        // the optimizer carries its state from round 0 on, so each method then trains its own round 0.
        Sequential start = null;
        List<GrowRun.RoundRow> startRows = new ArrayList<>();
        double startSeconds = 0;
        if (!c.keepOptimizerState && growing.size() > 1) {
            start = GrowRun.buildModel(c, d.train());
            out.printf(Locale.ROOT, "%n== round 0, shared by the %d methods: start %s, %,d parameters, %d epochs%n", growing.size(),
                    GrowRun.widths(start), start.parameterCount(), c.epochsPerRound);
            long s0 = System.nanoTime();
            GrowRun.rounds(c, methods.get(0), d, start, 0, startRows, null, (round, n, opt, rows) -> true, out);
            startSeconds = (System.nanoTime() - s0) / 1e9;
        }
        List<Outcome> outcomes = new ArrayList<>();
        for (int i = 0; i < growing.size(); i++) {
            Spec s = growing.get(i);
            Sequential net = start != null ? Networks.copy(start) : GrowRun.buildModel(c, d.train());
            out.printf(Locale.ROOT, "%n== %s: start %s, %,d parameters; %d rounds at %.0f%%, %d epochs per phase%s%n", s.label(),
                    GrowRun.widths(net), net.parameterCount(), c.rounds, 100 * c.growRatio, c.epochsPerRound,
                    start != null ? " (round 0 above)" : "");
            long m0 = System.nanoTime();
            List<GrowRun.RoundRow> rows = new ArrayList<>(startRows);
            GrowRun.rounds(c, methods.get(i), d, net, start != null ? 1 : 0, rows, null, null, out);
            outcomes.add(new Outcome(s, rows, net, (System.nanoTime() - m0) / 1e9 + startSeconds));
        }
        List<GrowRun.RoundRow> staticRows = new ArrayList<>();
        List<String> sizeOf = new ArrayList<>();
        double staticSeconds = 0;
        if (withStatic) {
            Map<String, Integer> byArchitecture = new LinkedHashMap<>(); // one static network per distinct final architecture
            for (Outcome o : outcomes) {
                String arch = dev.sprout.nn.Modules.describe(o.net());
                Integer at = byArchitecture.get(arch);
                if (at != null) {
                    sizeOf.set(at, sizeOf.get(at) + ", " + o.spec().label());
                    continue;
                }
                Sequential net = Networks.fresh(o.net(), new Rng(c.run.seed).split());
                out.printf(Locale.ROOT, "%n== static, the final architecture of %s: %s, %,d parameters, %d phases of %d epochs%n",
                        o.spec().label(), GrowRun.widths(net), net.parameterCount(), c.rounds + 1, c.epochsPerRound);
                long m0 = System.nanoTime();
                List<GrowRun.RoundRow> rows = new ArrayList<>();
                GrowRun.rounds(c, null, d, net, 0, rows, null, null, out);
                staticSeconds += (System.nanoTime() - m0) / 1e9;
                byArchitecture.put(arch, staticRows.size());
                staticRows.add(rows.get(rows.size() - 1));
                sizeOf.add(o.spec().label());
            }
        }
        boolean cls = d.test().isClassification();
        printTable(out, outcomes, staticRows, sizeOf, cls);
        List<Plot.Series> series = new ArrayList<>();
        for (Outcome o : outcomes) {
            series.add(series(o.spec().label(), o.rows(), cls));
        }
        if (withStatic) {
            List<GrowRun.RoundRow> sorted = new ArrayList<>(staticRows);
            sorted.sort(java.util.Comparator.comparingLong(GrowRun.RoundRow::params));
            series.add(series(STATIC, sorted, cls));
        }
        if (c.run.out != null) {
            Map<String, Object> root = TrainRun.resultsHeader("compare", c);
            List<Map<String, Object>> entries = new ArrayList<>();
            for (Outcome o : outcomes) {
                Map<String, Object> e = new LinkedHashMap<>();
                e.put("method", o.spec().label());
                e.put("name", o.spec().name());
                e.put("options", o.spec().options());
                e.put("rounds", o.rows());
                e.put("final", fin(o.rows(), o.seconds()));
                entries.add(e);
            }
            if (withStatic) {
                Map<String, Object> e = new LinkedHashMap<>();
                e.put("method", STATIC);
                e.put("name", STATIC);
                e.put("size_of", sizeOf); // per row: the methods whose final architecture it has
                e.put("rounds", staticRows);
                e.put("seconds", staticSeconds);
                entries.add(e);
            }
            root.put("methods", entries);
            root.put("seconds", (System.nanoTime() - t0) / 1e9);
            TrainRun.writeAtomically(Path.of(c.run.out), TrainRun.JSON.writeValueAsBytes(root));
            out.println("results: " + c.run.out);
        }
        String plot = c.plotPath();
        if (plot != null) {
            Plot.write(Path.of(plot), cls, "sprout compare: " + c.dataset.name().replace('_', '-') + ", " + c.model + ", seed " + c.run.seed,
                    "parameters", cls ? "test accuracy" : "test loss", series);
            out.println("plot: " + plot);
        }
        return 0;
    }

    private static Plot.Series series(String name, List<GrowRun.RoundRow> rows, boolean cls) {
        double[] x = new double[rows.size()], y = new double[rows.size()];
        for (int i = 0; i < x.length; i++) {
            x[i] = rows.get(i).params();
            y[i] = cls ? rows.get(i).test_accuracy() : rows.get(i).test_loss();
        }
        return new Plot.Series(name, x, y);
    }

    private static Map<String, Object> fin(List<GrowRun.RoundRow> rows, double seconds) {
        GrowRun.RoundRow last = rows.get(rows.size() - 1);
        Map<String, Object> f = new LinkedHashMap<>();
        f.put("test_accuracy", Double.isNaN(last.test_accuracy()) ? null : last.test_accuracy());
        f.put("test_loss", last.test_loss());
        f.put("params", last.params());
        f.put("widths", last.widths());
        f.put("growth_seconds", rows.stream().mapToDouble(GrowRun.RoundRow::growth_seconds).sum());
        f.put("seconds", seconds);
        return f;
    }

    static void printTable(PrintStream out, List<Outcome> outcomes, List<GrowRun.RoundRow> staticRows, List<String> sizeOf,
                           boolean cls) {
        List<String> names = new ArrayList<>();
        outcomes.forEach(o -> names.add(o.spec().label()));
        sizeOf.forEach(s -> names.add("static (size of " + s + ")"));
        int w = Math.max(6, names.stream().mapToInt(String::length).max().orElse(6));
        String head = "%-" + w + "s  %-16s %10s  %9s  %9s  %9s%n";
        out.println();
        out.printf(Locale.ROOT, head, "method", "final widths", "params", cls ? "test acc" : "test loss", "growth s", "total s");
        for (Outcome o : outcomes) {
            GrowRun.RoundRow last = o.rows().get(o.rows().size() - 1);
            out.printf(Locale.ROOT, "%-" + w + "s  %-16s %,10d  %9.4f  %9.2f  %9.1f%n", o.spec().label(), last.widths(), last.params(),
                    cls ? last.test_accuracy() : last.test_loss(), o.rows().stream().mapToDouble(GrowRun.RoundRow::growth_seconds).sum(),
                    o.seconds());
        }
        for (int i = 0; i < staticRows.size(); i++) {
            GrowRun.RoundRow r = staticRows.get(i);
            out.printf(Locale.ROOT, "%-" + w + "s  %-16s %,10d  %9.4f  %9s  %9s%n", "static (size of " + sizeOf.get(i) + ")", r.widths(),
                    r.params(), cls ? r.test_accuracy() : r.test_loss(), "-", "-");
        }
    }
}
