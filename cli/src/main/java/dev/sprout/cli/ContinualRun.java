package dev.sprout.cli;

import dev.sprout.backend.Backends;
import dev.sprout.backend.java.JavaBackend;
import dev.sprout.data.FashionMnist;
import dev.sprout.data.TrainTest;
import dev.sprout.growth.continual.ContinualLearning;
import dev.sprout.growth.continual.Metrics;
import dev.sprout.growth.continual.SplitTasks;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code sprout continual}: a task-incremental stream (split Fashion-MNIST: 5 tasks of 2 classes, a head per task)
 * learned by one continual-learning method; prints the accuracy on every task after each task, the average accuracy,
 * forgetting and the parameter count, as a table, and writes them as JSON with --out.
 */
final class ContinualRun {
    private ContinualRun() {
    }

    static int run(ContinualConfig c, PrintStream out) throws IOException {
        ContinualLearning.Options o = c.options();
        long t0 = System.nanoTime();
        Backends.useNamed("auto");
        if (c.threads != null) {
            Backends.use(new JavaBackend(c.threads));
        }
        out.println("backend: " + Backends.current().name() + " (" + Backends.current().describe() + ")");
        TrainTest d = c.dataset.equals("builtin") ? FashionMnist.builtin()
                : FashionMnist.load(c.data == null ? FashionMnist.DEFAULT_DIR : Path.of(c.data));
        d = new TrainTest(TrainRun.limit(d.train(), c.trainLimit), TrainRun.limit(d.test(), c.testLimit));
        List<SplitTasks.Task> tasks = SplitTasks.split(d, 2, c.pool, c.validation, c.seed);
        out.printf(Locale.ROOT, "tasks: %s from %s, %d tasks of 2 classes; per task about %d training / %d validation / %d test"
                + " examples%n", c.tasks, c.dataset, tasks.size(), tasks.get(0).train().size(), tasks.get(0).validation().size(),
                tasks.get(0).test().size());
        out.printf(Locale.ROOT, "method: %s; %d hidden layers, %d neurons each to start; %d epochs per task%n", o.method().label(),
                o.layers(), o.width(), o.epochs());
        ContinualLearning.Result r = ContinualLearning.run(tasks, o, out::println);
        double seconds = (System.nanoTime() - t0) / 1e9;
        printTable(out, r);
        if (c.out != null) {
            Map<String, Object> root = TrainRun.resultsHeader("continual", c);
            root.put("method", o.method().label());
            List<Map<String, Object>> rows = new ArrayList<>();
            for (int i = 0; i < r.accuracy().length; i++) {
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("task", i);
                row.put("classes", tasks.get(i).classes());
                row.put("test_accuracy", r.accuracy()[i]);
                row.put("average_accuracy", Metrics.averageAccuracy(r.accuracy(), i));
                row.put("params", r.params()[i]);
                row.put("widths", r.widths()[i]);
                row.put("seconds", r.seconds()[i]);
                rows.add(row);
            }
            root.put("tasks", rows);
            List<Map<String, Object>> growth = new ArrayList<>();
            for (ContinualLearning.GrowthStep g : r.growth()) {
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("task", g.task());
                row.put("added", g.added());
                row.put("validation_accuracy_before", g.validationAccuracyBefore());
                row.put("loss_before", g.lossBefore());
                row.put("loss_after", g.lossAfter());
                row.put("seconds", g.seconds());
                growth.add(row);
            }
            root.put("growth", growth);
            Map<String, Object> fin = new LinkedHashMap<>();
            fin.put("average_accuracy", r.averageAccuracy());
            fin.put("forgetting", r.forgetting());
            fin.put("backward_transfer", r.backwardTransfer());
            fin.put("params", r.params()[r.params().length - 1]);
            fin.put("widths", r.widths()[r.widths().length - 1]);
            fin.put("seconds", seconds);
            root.put("final", fin);
            TrainRun.writeAtomically(Path.of(c.out), TrainRun.JSON.writeValueAsBytes(root));
            out.println("results: " + c.out);
        }
        return 0;
    }

    static void printTable(PrintStream out, ContinualLearning.Result r) {
        int n = r.accuracy().length;
        out.println();
        StringBuilder h = new StringBuilder(String.format(Locale.ROOT, "%-10s", "after"));
        for (int j = 0; j < n; j++) {
            h.append(String.format(Locale.ROOT, "  %7s", "task " + j));
        }
        h.append(String.format(Locale.ROOT, "  %8s  %10s  %s", "average", "params", "widths"));
        out.println(h);
        for (int i = 0; i < n; i++) {
            StringBuilder row = new StringBuilder(String.format(Locale.ROOT, "%-10s", "task " + i));
            for (int j = 0; j < n; j++) {
                row.append(j <= i ? String.format(Locale.ROOT, "  %7.4f", r.accuracy()[i][j]) : String.format(Locale.ROOT, "  %7s", "-"));
            }
            row.append(String.format(Locale.ROOT, "  %8.4f  %,10d  %s", Metrics.averageAccuracy(r.accuracy(), i), r.params()[i],
                    Arrays.toString(r.widths()[i])));
            out.println(row);
        }
        out.printf(Locale.ROOT, "%s: average accuracy %.4f, forgetting %.4f, backward transfer %+.4f, %,d parameters%n",
                r.method().label(), r.averageAccuracy(), r.forgetting(), r.backwardTransfer(), r.params()[n - 1]);
    }
}
