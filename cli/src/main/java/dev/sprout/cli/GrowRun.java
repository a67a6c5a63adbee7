package dev.sprout.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sprout.backend.Activation;
import dev.sprout.backend.Backends;
import dev.sprout.data.Dataset;
import dev.sprout.data.FashionMnist;
import dev.sprout.data.Synthetic;
import dev.sprout.data.TrainTest;
import dev.sprout.growth.CostMeter;
import dev.sprout.growth.GrowthContext;
import dev.sprout.growth.GrowthMethod;
import dev.sprout.growth.Methods;
import dev.sprout.growth.Plan;
import dev.sprout.growth.Site;
import dev.sprout.growth.Surgery;
import dev.sprout.io.Checkpoint;
import dev.sprout.nn.Act;
import dev.sprout.nn.Flatten;
import dev.sprout.nn.Linear;
import dev.sprout.nn.Models;
import dev.sprout.nn.Module;
import dev.sprout.nn.Pool2d;
import dev.sprout.nn.Sequential;
import dev.sprout.optim.CosineLr;
import dev.sprout.optim.Optimizer;
import dev.sprout.tensor.DType;
import dev.sprout.tensor.Rng;
import dev.sprout.train.Trainer;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A growth run ({@code sprout grow}, or its continuation by {@code sprout resume}): train the small starting network
 * for a phase, then for each round measure on a validation split taken from the training set (never the test set),
 * grow by the chosen method, and train another phase. Every round records its cost (statistics, eigen-solves and
 * surgery time separately, FLOPs counted by the method, peak heap), the validation loss just before and just after
 * growth, and the decrease the method predicted. After every round the grown network is checkpointed.
 */
final class GrowRun {
    private GrowRun() {
    }

    /** One row of the results' {@code "rounds"} list (the JSON contract's names). */
    record RoundRow(int round, List<Integer> widths, long params, double test_accuracy, double test_loss, double train_loss,
                    Double loss_before_growth, Double loss_after_growth, Double predicted_decrease, Double achieved_decrease,
                    int neurons_added, int neurons_split, int neurons_new, int layers_added, List<Integer> residual_blocks,
                    double growth_seconds, Map<String, Double> growth_phase_seconds, double train_seconds,
                    double growth_flops, long peak_bytes) {
    }

    /** The data of a growth run: training set, validation split (and the growth sample taken from it), test set. */
    record Data(Dataset train, Dataset validation, Dataset sample, Dataset test) {
    }

    /** Called after every round (the rows so far); returns true to stop the run there. */
    interface RoundHook {
        boolean after(int round, Sequential net, Optimizer opt, List<RoundRow> rows) throws IOException;
    }

    static int run(GrowConfig c, String command, Checkpoint resume, PrintStream out) throws IOException {
        c.validate();
        long t0 = System.nanoTime();
        TrainRun.selectBackend(c.asTrainConfig());
        out.println("backend: " + Backends.current().name() + " (" + Backends.current().describe() + ")");
        GrowthMethod method = method(c);
        Data d = data(c, out);

        Sequential net;
        List<RoundRow> rows = new ArrayList<>();
        int startRound = 0;
        double prior = 0;
        if (resume == null) {
            net = buildModel(c, d.train());
            if (c.run.checkpoint != null && !c.run.overwrite && Files.exists(Path.of(c.run.checkpoint))) {
                TrainRun.refuseToOverwrite(Path.of(c.run.checkpoint), net);
            }
        } else {
            Module m = resume.model(new Rng(c.run.seed));
            if (!(m instanceof Sequential s)) {
                throw new IllegalArgumentException(resume.path() + ": checkpoint does not hold a sequential network");
            }
            net = s;
            startRound = Integer.parseInt(resume.metadata("round", "-1")) + 1;
            prior = Double.parseDouble(resume.metadata("seconds", "0"));
            for (JsonNode n : TrainRun.JSON.readTree(resume.metadata("rounds", "[]"))) {
                rows.add(TrainRun.JSON.treeToValue(n, RoundRow.class));
            }
            out.printf(Locale.ROOT, "resuming %s after round %d of %d; widths %s%n", resume.path(), startRound - 1, c.rounds,
                    widths(net));
        }
        check(net, method);
        out.printf(Locale.ROOT, "method: %s; start %s, %,d parameters; %d rounds at %.0f%%, %d epochs per phase%n", method.name(),
                widths(net), net.parameterCount(), c.rounds, 100 * c.growRatio, c.epochsPerRound);

        Optimizer kept = c.keepOptimizerState && resume != null && resume.hasOptimizer() ? resume.optimizer(net) : null;
        double priorSeconds = prior;
        boolean stopped = rounds(c, method, d, net, startRound, rows, kept, (round, n, opt, r) -> {
            if (c.run.checkpoint != null) {
                Map<String, String> meta = new LinkedHashMap<>();
                meta.put("command", "grow");
                meta.put("config", TrainRun.JSON.writeValueAsString(c));
                meta.put("round", Integer.toString(round));
                meta.put("rounds", TrainRun.JSON.writeValueAsString(r));
                meta.put("seconds", Double.toString(priorSeconds + (System.nanoTime() - t0) / 1e9));
                Checkpoint.save(Path.of(c.run.checkpoint), n, opt, meta);
            }
            if (c.run.stopAfter != null && round >= c.run.stopAfter && round < c.rounds) {
                out.printf(Locale.ROOT, "stopped after round %d of %d (--stop-after)%n", round, c.rounds);
                return true;
            }
            return false;
        }, out);
        if (stopped) {
            return 0;
        }
        double total = prior + (System.nanoTime() - t0) / 1e9;
        printTable(out, rows, d.test().isClassification());
        if (c.run.out != null) {
            writeResults(Path.of(c.run.out), command, c, method.name(), rows, net, net.flopsPerExample(d.train().exampleShape()), total);
            out.println("results: " + c.run.out);
        }
        return 0;
    }

    /** Loads the data, holds out the validation split (seeded by the run's seed) and says what it has. */
    static Data data(GrowthSchedule c, PrintStream out) {
        TrainTest data = loadData(c);
        Rng splitRng = new Rng(c.run.seed ^ 0x5EED5EEDL);
        Dataset.Split split = data.train().split(c.validation, splitRng);
        Dataset train = split.train(), validation = split.validation(), test = data.test();
        Dataset sample = validation.head(c.growthSamples);
        out.printf(Locale.ROOT, "data: %s, %d training / %d validation (growth statistics on %d) / %d test examples%n",
                c.dataset.name().replace('_', '-'), train.size(), validation.size(), sample.size(), test.size());
        return new Data(train, validation, sample, test);
    }

    /** Refuses, before any training, a network without growable layers or one the method cannot grow. */
    static void check(Sequential net, GrowthMethod method) {
        if (Site.find(net).isEmpty()) {
            throw new IllegalArgumentException("model has no growable layer (a linear or conv layer followed by an activation"
                    + " and another weight layer)");
        }
        if (method != null) {
            method.check(net); // an unsupported model is refused before any training
        }
    }

    /**
     * Rounds {@code startRound..c.rounds} of a run: growth by {@code method} (none in round 0, nor at all when the
     * method is null: a static network trained on the same schedule), then a training phase; appends a row per round
     * to {@code rows}. {@code kept}: the optimizer to keep through the run (--keep-optimizer-state; null: a new one,
     * or a fresh one per phase). Returns true when the hook stopped the run.
     */
    static boolean rounds(GrowthSchedule c, GrowthMethod method, Data d, Sequential net, int startRound, List<RoundRow> rows,
                          Optimizer kept, RoundHook hook, PrintStream out) throws IOException {
        Dataset train = d.train(), sample = d.sample(), test = d.test();
        if (c.keepOptimizerState && kept == null) {
            kept = optimizer(c, net);
        }
        String label = method == null ? "static" : method.name();
        for (int round = startRound; round <= c.rounds; round++) {
            Optimizer opt = kept != null ? kept : optimizer(c, net);
            Double before = null, after = null, predicted = null;
            int added = 0, splitCount = 0, fresh = 0, layersAdded = 0;
            CostMeter cost = new CostMeter();
            if (round > 0 && method != null) {
                before = Trainer.evaluate(net, sample, 256).loss();
                GrowthContext ctx = new GrowthContext(net, sample, 256, c.growRatio, new Rng(c.run.seed * 31 + round), cost,
                        train);
                Plan plan = method.propose(ctx);
                added = cost.time("surgery", () -> Surgery.apply(net, plan, opt));
                splitCount = plan.splits().size();
                fresh = plan.additions().size();
                layersAdded = plan.layers().size();
                after = Trainer.evaluate(net, sample, 256).loss();
                predicted = plan.predictedDecrease();
                if (Double.isNaN(predicted)) {
                    predicted = null;
                }
                out.printf(Locale.ROOT, "round %d: %s added %d neurons (%d splits, %d new%s) -> %s; validation loss %.4f -> %.4f%s;"
                        + " growth %.2f s%n", round, label, added, splitCount, fresh,
                        layersAdded == 0 ? "" : ", " + layersAdded + (layersAdded == 1 ? " layer" : " layers"),
                        widths(net) + (residualBlocks(net).isEmpty() ? "" : " + residual blocks " + residualBlocks(net)), before, after,
                        predicted == null ? "" : String.format(Locale.ROOT, " (predicted decrease %.3g)", predicted), cost.totalSeconds());
            }
            long tr0 = System.nanoTime();
            double trainLoss = Double.NaN;
            CosineLr schedule = new CosineLr(c.run.lr, c.epochsPerRound, 0.0);
            for (int e = 0; e < c.epochsPerRound; e++) {
                opt.setLearningRate(schedule.lr(e));
                trainLoss = Trainer.trainEpoch(net, opt, train, c.run.batch, c.run.seed + 1000L * round, e + 1, null);
            }
            double trainSeconds = (System.nanoTime() - tr0) / 1e9;
            Trainer.Evaluation ev = Trainer.evaluate(net, test, 256);
            rows.add(new RoundRow(round, widths(net), net.parameterCount(), ev.accuracy(), ev.loss(), trainLoss, before, after,
                    predicted, before == null ? null : before - after, added, splitCount, fresh, layersAdded, residualBlocks(net),
                    cost.totalSeconds(), cost.seconds(), trainSeconds,
                    cost.flops(), cost.peakBytes()));
            out.printf(Locale.ROOT, "round %d: %strained %d epochs in %.1f s; train loss %.4f, test %s %.4f%n", round,
                    method == null ? "(static " + widths(net) + ") " : "", c.epochsPerRound, trainSeconds, trainLoss,
                    test.isClassification() ? "accuracy" : "loss", test.isClassification() ? ev.accuracy() : ev.loss());
            if (hook != null && hook.after(round, net, opt, rows)) {
                return true;
            }
        }
        return false;
    }

    /**
     * The growth method of {@code --method name[:key=value...]} (as an entry of compare's {@code --methods}, e.g.
     * {@code firefly-deep:depth-width=4}), with the options of --eps and --as-official added; an option given both
     * ways with different values is refused.
     */
    static GrowthMethod method(GrowConfig c) {
        CompareRun.Spec s = CompareRun.entry("--method", c.method, Methods.names());
        Map<String, String> o = new LinkedHashMap<>(s.options());
        for (Map.Entry<String, String> e : methodOptions(c).entrySet()) {
            String had = o.putIfAbsent(e.getKey(), e.getValue());
            if (had != null && !had.equals(e.getValue())) {
                throw new IllegalArgumentException("--method " + c.method + " sets " + e.getKey() + "=" + had + " but the "
                        + e.getKey() + " flag says " + e.getValue());
            }
        }
        return Methods.create(s.name(), o);
    }

    /** The method's options from the command line (a method that does not know one refuses it, naming its own). */
    static Map<String, String> methodOptions(GrowConfig c) {
        Map<String, String> o = new LinkedHashMap<>();
        if (c.eps != null) {
            o.put("eps", Double.toString(c.eps));
        }
        if (c.asOfficial) {
            o.put("as-official", "true");
        }
        return o;
    }

    /**
     * A fresh optimizer per phase, as the official growth code does after growth (its learning rate restarts too);
     * with --keep-optimizer-state one optimizer lives through the run and surgery remaps its state.
     */
    private static Optimizer optimizer(GrowthSchedule c, Module net) {
        return TrainRun.newOptimizer(c.run.optimizer, net, c.run.lr, c.run.momentum, 0.0);
    }

    /** Inner widths of the network's residual blocks (firefly-deep after non-ReLU dense layers), in layer order. */
    static List<Integer> residualBlocks(Sequential net) {
        List<Integer> w = new ArrayList<>();
        for (dev.sprout.nn.Module m : net.layers()) {
            if (m instanceof dev.sprout.nn.Residual r) {
                w.add(r.hidden());
            }
        }
        return w;
    }

    static List<Integer> widths(Sequential net) {
        List<Integer> w = new ArrayList<>();
        for (Site s : Site.find(net)) {
            w.add(s.neurons());
        }
        return w;
    }

    static TrainTest loadData(GrowthSchedule c) {
        TrainTest d = switch (c.dataset) {
            case builtin -> FashionMnist.builtin();
            case fashion_mnist -> FashionMnist.load(c.run.data == null ? FashionMnist.DEFAULT_DIR : Path.of(c.run.data));
            case teacher -> Synthetic.teacher(20, 16, 1, 4000, 1000, 0.05, c.run.seed);
            case rbf_teacher -> Synthetic.rbfTeacher(1, 15, 1000, 500, 0.0, c.run.seed);
        };
        if (c.run.data != null && c.dataset != GrowthSchedule.DatasetKind.fashion_mnist) {
            throw new IllegalArgumentException("--data is only used with --dataset fashion-mnist");
        }
        TrainTest t = new TrainTest(TrainRun.limit(d.train(), c.run.trainLimit), TrainRun.limit(d.test(), c.run.testLimit));
        if (c.dataset != GrowthSchedule.DatasetKind.rbf_teacher) {
            t = t.normalised();
        }
        boolean images = t.train().exampleShape().length == 3;
        boolean conv = c.model == GrowthSchedule.ModelKind.cnn || c.model == GrowthSchedule.ModelKind.vgg;
        if (conv && !images) {
            throw new IllegalArgumentException("--model " + c.model + " needs image data; dataset " + c.dataset + " has feature vectors");
        }
        if (!conv && images && c.pool == 1) {
            t = t.flatten();
        }
        return t;
    }

    static Sequential buildModel(GrowthSchedule c, Dataset train) {
        Rng rng = new Rng(c.run.seed).split();
        int w = c.initialWidth;
        int outputs = train.isClassification() ? train.numClasses() : train.outputSize();
        switch (c.model) {
            case cnn: {
                int[] s = train.exampleShape();
                return Models.cnn(s[0], s[1], s[2], w, 2 * w, 4 * w, outputs, rng);
            }
            case vgg: {
                int[] s = train.exampleShape();
                return Models.vgg(s[0], s[1], s[2], w, outputs, rng);
            }
            case rbf: {
                Sequential net = new Sequential();
                net.add(new Linear(train.exampleSize(), w, true, rng, DType.F32));
                net.add(new Act(Activation.RBF));
                net.add(new Linear(w, outputs, true, rng, DType.F32));
                return net;
            }
            default: {
                Sequential net = new Sequential();
                int in = train.exampleSize();
                int[] s = train.exampleShape();
                if (s.length == 3) {
                    if (c.pool > 1) {
                        net.add(Pool2d.avg(c.pool));
                        in = s[0] * (s[1] / c.pool) * (s[2] / c.pool);
                    }
                    net.add(new Flatten());
                }
                Activation a = Activation.valueOf(c.activation.toUpperCase(Locale.ROOT));
                int prev = in;
                for (int l = 0; l < c.layers; l++) {
                    net.add(new Linear(prev, w, true, rng, DType.F32));
                    net.add(new Act(a, a == Activation.SOFTPLUS ? 3.0 : 1.0));
                    prev = w;
                }
                net.add(new Linear(prev, outputs, true, rng, DType.F32));
                return net;
            }
        }
    }

    static void printTable(PrintStream out, List<RoundRow> rows, boolean classification) {
        out.println();
        out.printf(Locale.ROOT, "%5s  %-16s %10s  %9s  %10s  %10s  %9s%n", "round", "widths", "params",
                classification ? "test acc" : "test loss", "pred. dec.", "achieved", "growth s");
        for (RoundRow r : rows) {
            out.printf(Locale.ROOT, "%5d  %-16s %,10d  %9.4f  %10s  %10s  %9.2f%n", r.round(), r.widths(), r.params(),
                    classification ? r.test_accuracy() : r.test_loss(), fmt(r.predicted_decrease()), fmt(r.achieved_decrease()),
                    r.growth_seconds());
        }
    }

    private static String fmt(Double d) {
        return d == null ? "-" : String.format(Locale.ROOT, "%.3g", d);
    }

    static void writeResults(Path file, String command, GrowthSchedule c, String method, List<RoundRow> rows, Sequential net,
                             long flops, double seconds) throws IOException {
        Map<String, Object> root = TrainRun.resultsHeader(command, c);
        root.put("method", method);
        root.put("rounds", rows);
        RoundRow last = rows.get(rows.size() - 1);
        Map<String, Object> fin = new LinkedHashMap<>();
        fin.put("test_accuracy", Double.isNaN(last.test_accuracy()) ? null : last.test_accuracy());
        fin.put("test_loss", last.test_loss());
        fin.put("params", net.parameterCount());
        fin.put("widths", last.widths());
        fin.put("flops_per_example", flops);
        fin.put("growth_seconds", rows.stream().mapToDouble(RoundRow::growth_seconds).sum());
        fin.put("seconds", seconds);
        root.put("final", fin);
        TrainRun.writeAtomically(file, TrainRun.JSON.writeValueAsBytes(root));
    }
}
