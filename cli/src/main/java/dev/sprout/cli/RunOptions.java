package dev.sprout.cli;

import picocli.CommandLine.Option;

/**
 * The options that {@code sprout train} and {@code sprout grow} share: data, optimizer, seed, backend, outputs.
 * A picocli mixin of both configurations, unwrapped into their JSON, so the results' {@code "config"} stays flat.
 */
public final class RunOptions {
    @Option(names = "--data", paramLabel = "DIR", description = "Fashion-MNIST folder (default: /usr/share/datasets/fashion-mnist)")
    public String data;

    @Option(names = "--batch", description = "mini-batch size (default: ${DEFAULT-VALUE})")
    public int batch = 64;

    @Option(names = "--lr", description = "learning rate (default: ${DEFAULT-VALUE})")
    public double lr = 0.05;

    @Option(names = "--optimizer", description = "sgd, adam, adamw, rmsprop, adagrad (default: ${DEFAULT-VALUE})")
    public String optimizer = "sgd";

    @Option(names = "--momentum", description = "SGD/RMSprop momentum (default: ${DEFAULT-VALUE})")
    public double momentum = 0.9;

    @Option(names = "--seed", description = "random seed: data order, initialisation, synthetic data (default: ${DEFAULT-VALUE})")
    public long seed = 1;

    @Option(names = "--backend", description = "auto, java, native, cuda (default: ${DEFAULT-VALUE})")
    public String backend = "auto";

    @Option(names = "--threads", description = "threads for the Java backend's kernels (default: all processors)")
    public Integer threads;

    @Option(names = "--train-limit", description = "use only the first N training examples (quick runs, tests)")
    public Integer trainLimit;

    @Option(names = "--test-limit", description = "use only the first N test examples")
    public Integer testLimit;

    @Option(names = "--out", paramLabel = "FILE.json", description = "write the results as JSON")
    public String out;

    @Option(names = "--checkpoint", paramLabel = "FILE", description = "save model and optimizer after every epoch (train) or round (grow)")
    public String checkpoint;

    @Option(names = "--overwrite", description = "replace an existing --checkpoint file instead of refusing")
    public boolean overwrite;

    @Option(names = "--no-progress", description = "no progress bar (one line per epoch only)")
    public boolean noProgress;

    /** Stops the run after this epoch (train) or round (grow), as if it had been killed there; for tests. */
    @Option(names = "--stop-after", hidden = true)
    public Integer stopAfter;

    /** Checks the values that picocli's types do not. */
    void validate() {
        if (batch < 1) {
            throw new IllegalArgumentException("--batch must be at least 1, got " + batch);
        }
        if (!(lr > 0) || Double.isInfinite(lr)) {
            throw new IllegalArgumentException("--lr must be a positive number, got " + lr);
        }
        if (!(momentum >= 0 && momentum < 1)) {
            throw new IllegalArgumentException("--momentum must be in [0, 1), got " + momentum);
        }
        if (threads != null && threads < 1) {
            throw new IllegalArgumentException("--threads must be at least 1, got " + threads);
        }
        if ((trainLimit != null && trainLimit < 1) || (testLimit != null && testLimit < 1)) {
            throw new IllegalArgumentException("--train-limit and --test-limit must be at least 1");
        }
    }
}
