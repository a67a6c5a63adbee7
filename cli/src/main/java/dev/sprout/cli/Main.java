package dev.sprout.cli;

import dev.sprout.backend.Backends;

import java.io.PrintStream;

/**
 * The {@code sprout} command, until the training command set lands: {@code demo} (the default: a small network
 * trained by autograd on a built-in task) and {@code backends} (what every backend probe found, and which one
 * automatic selection picks).
 */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    /** Runs a command; returns the process exit status. */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        String cmd = args.length == 0 ? "demo" : args[0];
        try {
            switch (cmd) {
                case "demo":
                    return SpiralsDemo.run(new SpiralsDemo.Options(300, 1, 32, 0.3), out);
                case "backends":
                    for (Backends.Status s : Backends.probeAll()) {
                        out.printf("%-8s rank %3d  %-11s %s%n", s.name(), s.rank(), s.available() ? "available" : "unavailable",
                                s.detail());
                    }
                    out.println("auto-selection picks: " + Backends.select("auto").backend().name());
                    return 0;
                default:
                    err.println("sprout: unknown command '" + cmd + "' (known: demo, backends)");
                    return 2;
            }
        } catch (IllegalArgumentException | IllegalStateException e) {
            err.println("sprout: " + e.getMessage());
            return 2;
        }
    }
}
