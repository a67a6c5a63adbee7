package dev.sprout.cli;

import dev.sprout.backend.Backends;
import dev.sprout.data.DataException;
import dev.sprout.io.Checkpoint;
import dev.sprout.io.CheckpointException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/**
 * The {@code sprout} command. Errors in what the user asked for (bad options, missing or corrupt files) end with
 * one line naming the problem and exit status 2; other failures with exit status 1; stack traces only with
 * {@code --verbose}.
 */
@Command(name = "sprout", mixinStandardHelpOptions = true, version = "sprout 0.1.0",
        description = "A numerical engine on which neural networks grow.",
        subcommands = {Main.Train.class, Main.Grow.class, Main.Compare.class, Main.Continual.class, Main.Resume.class, Main.Doctor.class, Main.Demo.class, Bench.class})
public final class Main implements Callable<Integer> {
    @Option(names = "--verbose", description = "print stack traces of errors", scope = CommandLine.ScopeType.INHERIT)
    boolean verbose;

    PrintStream out = System.out;

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    /** Runs a command line; returns the exit status. */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        Main main = new Main();
        main.out = out;
        CommandLine cl = new CommandLine(main);
        cl.setOut(new PrintWriter(out, true, StandardCharsets.UTF_8));
        cl.setErr(new PrintWriter(err, true, StandardCharsets.UTF_8));
        cl.setParameterExceptionHandler((ex, a) -> {
            err.println("sprout: " + ex.getMessage() + " (see: sprout " + commandName(ex.getCommandLine()) + "--help)");
            return 2;
        });
        cl.setExecutionExceptionHandler((ex, c, parsed) -> {
            boolean user = isUserError(ex);
            err.println("sprout: " + message(ex));
            if (main.verbose) {
                ex.printStackTrace(err);
            }
            return user ? 2 : 1;
        });
        return cl.execute(args);
    }

    private static String commandName(CommandLine c) {
        return c.getParent() == null ? "" : c.getCommandName() + " ";
    }

    static boolean isUserError(Throwable ex) {
        return ex instanceof IllegalArgumentException || ex instanceof DataException || ex instanceof CheckpointException
                || ex instanceof IllegalStateException;
    }

    static String message(Throwable ex) {
        String m = ex.getMessage();
        return m == null || m.isBlank() ? ex.getClass().getSimpleName() : m.replace('\n', ' ');
    }

    @Override
    public Integer call() {
        CommandLine.usage(this, out);
        return 0;
    }

    @Command(name = "train", mixinStandardHelpOptions = true,
            description = "Train a model; prints progress and the final test accuracy, writes results JSON with --out.")
    static final class Train implements Callable<Integer> {
        @ParentCommand
        Main main;
        @Mixin
        TrainConfig config;

        @Override
        public Integer call() throws Exception {
            return TrainRun.run(config, "train", null, main.out);
        }
    }

    @Command(name = "grow", mixinStandardHelpOptions = true,
            description = "Grow a small network by rounds of training and growth; prints a table per round, writes JSON with --out.")
    static final class Grow implements Callable<Integer> {
        @ParentCommand
        Main main;
        @Mixin
        GrowConfig config;

        @Override
        public Integer call() throws Exception {
            return GrowRun.run(config, "grow", null, main.out);
        }
    }

    @Command(name = "compare", mixinStandardHelpOptions = true,
            description = "Grow the same network by several methods (same seed, data and schedule); prints one table, writes"
                    + " one JSON (--out) and one PNG plot of test accuracy against parameters (--plot).")
    static final class Compare implements Callable<Integer> {
        @ParentCommand
        Main main;
        @Mixin
        CompareConfig config;

        @Override
        public Integer call() throws Exception {
            return CompareRun.run(config, main.out);
        }
    }

    @Command(name = "continual", mixinStandardHelpOptions = true,
            description = "Learn a task-incremental stream (split Fashion-MNIST) by a continual-learning method; prints the"
                    + " accuracy on every task after each task, average accuracy, forgetting and parameters; JSON with --out.")
    static final class Continual implements Callable<Integer> {
        @ParentCommand
        Main main;
        @Mixin
        ContinualConfig config;

        @Override
        public Integer call() throws Exception {
            return ContinualRun.run(config, main.out);
        }
    }

    @Command(name = "resume", mixinStandardHelpOptions = true,
            description = "Continue a run from its checkpoint; it ends as the uninterrupted run would have.")
    static final class Resume implements Callable<Integer> {
        @ParentCommand
        Main main;
        @Option(names = "--checkpoint", required = true, paramLabel = "FILE", description = "checkpoint written by train --checkpoint")
        String checkpoint;
        @Option(names = "--epochs", description = "train to this many epochs in total (default: as the run was started)")
        Integer epochs;
        @Option(names = "--out", paramLabel = "FILE.json", description = "write the results as JSON")
        String out;
        @Option(names = "--no-progress", description = "no progress bar")
        boolean noProgress;

        @Override
        public Integer call() throws Exception {
            Checkpoint ck = Checkpoint.load(Path.of(checkpoint));
            String json = ck.metadata("config", null);
            if (json == null) {
                throw new IllegalArgumentException(checkpoint + ": checkpoint has no run configuration (not written by sprout train or grow)");
            }
            if (ck.metadata("command", "train").equals("grow")) {
                GrowConfig g = TrainRun.JSON.readValue(json, GrowConfig.class);
                g.run.checkpoint = checkpoint;
                g.run.stopAfter = null;
                if (epochs != null) {
                    throw new IllegalArgumentException("--epochs does not apply to a growth run; it continues its rounds");
                }
                if (out != null) {
                    g.run.out = out;
                }
                g.run.noProgress |= noProgress;
                return GrowRun.run(g, "resume", ck, main.out);
            }
            TrainConfig c = TrainRun.JSON.readValue(json, TrainConfig.class);
            c.run.checkpoint = checkpoint;
            c.run.stopAfter = null;
            if (epochs != null) {
                c.epochs = epochs;
            }
            if (out != null) {
                c.run.out = out;
            }
            c.run.noProgress |= noProgress;
            return TrainRun.run(c, "resume", ck, main.out);
        }
    }

    @Command(name = "doctor", mixinStandardHelpOptions = true,
            description = "What every backend probe found, and which backend automatic selection picks.")
    static final class Doctor implements Callable<Integer> {
        @ParentCommand
        Main main;

        @Override
        public Integer call() {
            PrintStream o = main.out;
            o.println("JDK:     " + Runtime.version() + " (" + System.getProperty("java.vm.name") + "), "
                    + Runtime.getRuntime().availableProcessors() + " processor(s)");
            o.println("CPU:     " + Machine.cpuField("model name"));
            o.println("SIMD:    " + String.join(" ", Machine.simdFlags()));
            o.println("Vector API module: " + (ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent()
                    ? "readable" : "not readable (start java with --add-modules jdk.incubator.vector)"));
            o.println("backends:");
            for (Backends.Status s : Backends.probeAll()) {
                o.printf("  %-7s rank %3d  %-11s %s%n", s.name(), s.rank(), s.available() ? "available" : "unavailable", s.detail());
            }
            o.println("requested: " + Backends.requested() + " (-D" + Backends.PROPERTY + " or " + Backends.ENV + ")");
            try {
                o.println("selected:  " + Backends.select(Backends.requested()).backend().name());
            } catch (IllegalStateException e) {
                o.println("selected:  none - " + e.getMessage());
                return 2;
            }
            return 0;
        }
    }

    @Command(name = "demo", mixinStandardHelpOptions = true,
            description = "Train a small tanh MLP by autograd on the built-in two-spirals task.")
    static final class Demo implements Callable<Integer> {
        @ParentCommand
        Main main;
        @Option(names = "--epochs", description = "default: ${DEFAULT-VALUE}")
        int epochs = 300;
        @Option(names = "--seed", description = "default: ${DEFAULT-VALUE}")
        long seed = 1;
        @Option(names = "--hidden", description = "default: ${DEFAULT-VALUE}")
        int hidden = 32;
        @Option(names = "--lr", description = "default: ${DEFAULT-VALUE}")
        double lr = 0.3;

        @Override
        public Integer call() {
            return SpiralsDemo.run(new SpiralsDemo.Options(epochs, seed, hidden, lr), main.out);
        }
    }
}
