package dev.sprout.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.sprout.backend.Backends;
import dev.sprout.backend.java.JavaBackend;
import dev.sprout.data.Dataset;
import dev.sprout.data.FashionMnist;
import dev.sprout.data.Synthetic;
import dev.sprout.data.TrainTest;
import dev.sprout.io.Checkpoint;
import dev.sprout.nn.Act;
import dev.sprout.nn.Models;
import dev.sprout.nn.Module;
import dev.sprout.optim.ConstantLr;
import dev.sprout.optim.CosineLr;
import dev.sprout.optim.LrSchedule;
import dev.sprout.optim.Optimizer;
import dev.sprout.optim.Optimizers;
import dev.sprout.optim.StepLr;
import dev.sprout.tensor.Rng;
import dev.sprout.train.Trainer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * One training run, fresh ({@code sprout train}) or continued from a checkpoint ({@code sprout resume}): data,
 * model, optimizer and schedule from a {@link TrainConfig}; a progress bar per epoch; a line per epoch; a
 * checkpoint after every epoch when asked; the results JSON at the end.
 */
final class TrainRun {
    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private TrainRun() {
    }

    /** Per-epoch results, in the results-JSON contract's names. */
    record EpochRow(int epoch, double train_loss, double test_loss, double test_accuracy, double seconds, double lr) {
    }

    static int run(TrainConfig c, String command, Checkpoint resume, PrintStream out) throws IOException {
        c.validate();
        long t0 = System.nanoTime();
        selectBackend(c);
        out.println("backend: " + Backends.current().name() + " (" + Backends.current().describe() + ")");
        TrainTest data = loadData(c);
        Dataset train = data.train(), test = data.test();
        out.printf(Locale.ROOT, "data: %s, %d training / %d test examples%n", c.dataset.name().replace('_', '-'),
                train.size(), test.size());

        Module model;
        Optimizer opt;
        List<EpochRow> history = new ArrayList<>();
        int start = 1;
        double priorSeconds = 0;
        if (resume == null) {
            model = buildModel(c, train);
            if (c.run.checkpoint != null && !c.run.overwrite && Files.exists(Path.of(c.run.checkpoint))) {
                refuseToOverwrite(Path.of(c.run.checkpoint), model);
            }
            opt = newOptimizer(c.run.optimizer, model, c.run.lr, c.run.momentum, c.weightDecay);
        } else {
            model = resume.model(new Rng(c.run.seed));
            opt = resume.optimizer(model);
            int done = Integer.parseInt(resume.metadata("epoch", "0"));
            start = done + 1;
            priorSeconds = Double.parseDouble(resume.metadata("seconds", "0"));
            for (JsonNode n : JSON.readTree(resume.metadata("history", "[]"))) {
                history.add(JSON.treeToValue(n, EpochRow.class));
            }
            out.printf(Locale.ROOT, "resuming %s after epoch %d of %d%n", resume.path(), done, c.epochs);
        }
        int[] exampleShape = train.exampleShape();
        long flops = model.flopsPerExample(exampleShape);
        out.printf(Locale.ROOT, "model: %s, %,d parameters, %,d FLOPs per example (forward)%n", c.model,
                model.parameterCount(), flops);
        LrSchedule schedule = switch (c.schedule) {
            case "cosine" -> new CosineLr(c.run.lr, c.epochs, 0.0);
            case "step" -> new StepLr(c.run.lr, Math.max(1, c.epochs / 3), 0.1);
            default -> new ConstantLr(c.run.lr);
        };

        for (int epoch = start; epoch <= c.epochs; epoch++) {
            long e0 = System.nanoTime();
            opt.setLearningRate(schedule.lr(epoch - 1));
            double trainLoss;
            // the bar redraws one line with carriage returns: only on a terminal, never in logs or pipes
            boolean bar = !c.run.noProgress && System.console() != null;
            try (ProgressBar pb = bar ? progressBar(epoch, c.epochs, train.size(), c.run.batch) : null) {
                trainLoss = Trainer.trainEpoch(model, opt, train, c.run.batch, c.run.seed, epoch, new Trainer.Listener() {
                    @Override
                    public void batch(int e, int b, int batches, double loss, double rate) {
                        if (pb != null) {
                            pb.stepTo(b);
                            pb.setExtraMessage(String.format(Locale.ROOT, "loss %.4f  %,.0f ex/s", loss, rate));
                        }
                    }
                });
            }
            Trainer.Evaluation ev = Trainer.evaluate(model, test, Math.max(c.run.batch, 256));
            double secs = (System.nanoTime() - e0) / 1e9;
            EpochRow row = new EpochRow(epoch, trainLoss, ev.loss(), ev.accuracy(), secs, opt.learningRate());
            history.add(row);
            out.printf(Locale.ROOT, "epoch %d/%d  train loss %.4f  test loss %.4f%s  %.1f s%n", epoch, c.epochs, trainLoss,
                    ev.loss(), train.isClassification() ? String.format(Locale.ROOT, "  test accuracy %.4f", ev.accuracy()) : "",
                    secs);
            if (c.run.checkpoint != null) {
                Map<String, String> meta = new LinkedHashMap<>();
                meta.put("command", command);
                meta.put("config", JSON.writeValueAsString(c));
                meta.put("epoch", Integer.toString(epoch));
                meta.put("history", JSON.writeValueAsString(history));
                meta.put("seconds", Double.toString(priorSeconds + (System.nanoTime() - t0) / 1e9));
                Checkpoint.save(Path.of(c.run.checkpoint), model, opt, meta);
            }
            if (c.run.stopAfter != null && epoch >= c.run.stopAfter && epoch < c.epochs) {
                out.printf(Locale.ROOT, "stopped after epoch %d of %d (--stop-after)%n", epoch, c.epochs);
                return 0;
            }
        }
        double total = priorSeconds + (System.nanoTime() - t0) / 1e9;
        EpochRow last = history.isEmpty() ? null : history.get(history.size() - 1);
        double acc = last == null ? Double.NaN : last.test_accuracy();
        if (train.isClassification()) {
            out.printf(Locale.ROOT, "final test accuracy %.4f after %d epochs (%.1f s)%n", acc, c.epochs, total);
        } else {
            out.printf(Locale.ROOT, "final test loss %.6f after %d epochs (%.1f s)%n", last == null ? Double.NaN : last.test_loss(),
                    c.epochs, total);
        }
        if (c.run.out != null) {
            writeResults(Path.of(c.run.out), command, c, history, model.parameterCount(), flops, total, acc);
            out.println("results: " + c.run.out);
        }
        return 0;
    }

    /** An optimizer from the command line's settings (momentum only where the optimizer has one). */
    static Optimizer newOptimizer(String type, Module model, double lr, double momentum, double weightDecay) {
        Map<String, String> hyper = new LinkedHashMap<>();
        hyper.put("lr", Double.toString(lr));
        if (type.equals("sgd") || type.equals("rmsprop")) {
            hyper.put("momentum", Double.toString(momentum));
        }
        hyper.put("weight_decay", Double.toString(weightDecay));
        return Optimizers.create(type, model, hyper);
    }

    /**
     * An existing checkpoint is never overwritten silently: say whether it belongs to another architecture or
     * to a run that can be resumed.
     */
    static void refuseToOverwrite(Path file, Module model) {
        Checkpoint ck = Checkpoint.load(file);
        String mine = dev.sprout.nn.Modules.describe(model), theirs = ck.architecture();
        if (!mine.strip().equals(theirs.strip())) {
            String[] a = theirs.strip().split("\n"), b = mine.strip().split("\n");
            int i = 0;
            while (i < Math.min(a.length, b.length) && a[i].equals(b[i])) {
                i++;
            }
            String was = i < a.length ? a[i].replace('\t', ' ') : "(nothing)", now = i < b.length ? b[i].replace('\t', ' ') : "(nothing)";
            throw new IllegalArgumentException(file + ": checkpoint is for another architecture (it has '" + was
                    + "' where this run has '" + now + "'); choose another --checkpoint file or pass --overwrite");
        }
        throw new IllegalArgumentException(file + ": a checkpoint of this architecture exists (epoch "
                + ck.metadata("epoch", "?") + "); continue it with 'sprout resume --checkpoint " + file
                + "' or pass --overwrite");
    }

    private static ProgressBar progressBar(int epoch, int epochs, int examples, int batch) {
        return new ProgressBarBuilder().setTaskName(String.format(Locale.ROOT, "epoch %d/%d", epoch, epochs))
                .setInitialMax((examples + batch - 1) / batch).setStyle(ProgressBarStyle.ASCII).setUpdateIntervalMillis(250)
                .setUnit(" batches", 1).showSpeed().setMaxRenderedLength(110).clearDisplayOnFinish().build();
    }

    static void selectBackend(TrainConfig c) {
        Backends.useNamed(c.run.backend);
        if (c.run.threads != null) {
            if (!Backends.current().name().equals("java")) {
                throw new IllegalArgumentException("--threads sets the Java backend's threads; the " + Backends.current().name()
                        + " backend was selected");
            }
            Backends.use(new JavaBackend(c.run.threads));
        }
    }

    static TrainTest loadData(TrainConfig c) {
        TrainTest d = switch (c.dataset) {
            case builtin -> FashionMnist.builtin();
            case fashion_mnist -> FashionMnist.load(c.run.data == null ? FashionMnist.DEFAULT_DIR : Path.of(c.run.data));
            case teacher -> Synthetic.teacher(20, 16, 1, 4000, 1000, 0.05, c.run.seed);
            case clusters -> Synthetic.clusters(5, 20, 4000, 1000, 3.0, 1.0, 0.0, c.run.seed);
        };
        if (c.run.data != null && c.dataset != TrainConfig.DatasetKind.fashion_mnist) {
            throw new IllegalArgumentException("--data is only used with --dataset fashion-mnist");
        }
        Dataset train = limit(d.train(), c.run.trainLimit), test = limit(d.test(), c.run.testLimit);
        TrainTest t = new TrainTest(train, test).normalised();
        if (c.model == TrainConfig.ModelKind.mlp) {
            t = t.flatten();
        } else if (t.train().exampleShape().length != 3) {
            throw new IllegalArgumentException("--model cnn needs image data; dataset " + c.dataset + " has examples of shape "
                    + java.util.Arrays.toString(t.train().exampleShape()));
        }
        return t;
    }

    static Module buildModel(TrainConfig c, Dataset train) {
        Rng rng = new Rng(c.run.seed).split();
        int[] w = c.hiddenWidths();
        int outputs = train.isClassification() ? train.numClasses() : train.outputSize();
        if (c.model == TrainConfig.ModelKind.mlp) {
            return Models.mlp(train.exampleSize(), w, outputs, Act.relu(), rng);
        }
        int[] s = train.exampleShape();
        return Models.cnn(s[0], s[1], s[2], w[0], w[1], w[2], outputs, rng);
    }

    /** Writes the results JSON (the contract in the README) via a temporary file and a rename. */
    static void writeResults(Path file, String command, TrainConfig c, List<EpochRow> history, long params, long flops,
                             double seconds, double accuracy) throws IOException {
        Map<String, Object> root = resultsHeader(command, c);
        root.put("epochs", history);
        Map<String, Object> fin = new LinkedHashMap<>();
        fin.put("test_accuracy", Double.isNaN(accuracy) ? null : accuracy);
        fin.put("test_loss", history.isEmpty() ? null : history.get(history.size() - 1).test_loss());
        fin.put("params", params);
        fin.put("flops_per_example", flops);
        fin.put("seconds", seconds);
        root.put("final", fin);
        writeAtomically(file, JSON.writeValueAsBytes(root));
    }

    /** The keys every results JSON starts with: command, config, backend (and how it runs), machine. */
    static Map<String, Object> resultsHeader(String command, Object config) {
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("command", command);
        root.put("config", config);
        root.put("backend", Backends.current().name());
        root.put("backend_detail", Backends.current().describe());
        root.put("machine", Machine.describe());
        return root;
    }

    /** The first n examples when a limit is given. */
    static Dataset limit(Dataset d, Integer n) {
        return n == null ? d : d.head(n);
    }

    static void writeAtomically(Path file, byte[] bytes) throws IOException {
        Path abs = file.toAbsolutePath();
        Path dir = abs.getParent();
        if (dir != null && !Files.isDirectory(dir)) {
            throw new IllegalArgumentException("cannot write " + file + ": folder " + dir + " does not exist");
        }
        Path tmp = Files.createTempFile(dir, abs.getFileName().toString(), ".tmp");
        try {
            Files.write(tmp, bytes);
            try { // a temporary file is private (rw-------); a results file is for anyone to read, like any other file
                Files.setPosixFilePermissions(tmp, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
            } catch (UnsupportedOperationException e) {
                // not a POSIX file system: keep its defaults
            }
            Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}
