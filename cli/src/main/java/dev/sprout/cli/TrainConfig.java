package dev.sprout.cli;

import picocli.CommandLine.Option;

/**
 * Every option of a training run. The same object is the picocli option holder of {@code sprout train}, the
 * {@code "config"} object of the results JSON, and what a checkpoint stores so {@code sprout resume} can rebuild
 * the run (public fields, so Jackson reads and writes them as they are).
 */
public final class TrainConfig {
    public enum ModelKind { mlp, cnn }

    public enum DatasetKind { builtin, fashion_mnist, teacher, clusters }

    @Option(names = "--model", description = "mlp or cnn (default: ${DEFAULT-VALUE})")
    public ModelKind model = ModelKind.mlp;

    @Option(names = "--dataset", converter = DatasetConverter.class,
            description = "builtin (5,000/1,000 Fashion-MNIST images in the jar), fashion-mnist, teacher (regression), clusters (default: ${DEFAULT-VALUE})")
    public DatasetKind dataset = DatasetKind.builtin;

    @Option(names = "--data", paramLabel = "DIR", description = "Fashion-MNIST folder (default: /usr/share/datasets/fashion-mnist)")
    public String data;

    @Option(names = "--epochs", description = "epochs to train (default: ${DEFAULT-VALUE})")
    public int epochs = 10;

    @Option(names = "--batch", description = "mini-batch size (default: ${DEFAULT-VALUE})")
    public int batch = 64;

    @Option(names = "--lr", description = "learning rate (default: ${DEFAULT-VALUE})")
    public double lr = 0.05;

    @Option(names = "--optimizer", description = "sgd, adam, adamw, rmsprop, adagrad (default: ${DEFAULT-VALUE})")
    public String optimizer = "sgd";

    @Option(names = "--momentum", description = "SGD/RMSprop momentum (default: ${DEFAULT-VALUE})")
    public double momentum = 0.9;

    @Option(names = "--weight-decay", description = "L2 weight decay (default: ${DEFAULT-VALUE})")
    public double weightDecay = 0;

    @Option(names = "--schedule", description = "learning-rate schedule: constant, cosine, step (default: ${DEFAULT-VALUE})")
    public String schedule = "cosine";

    @Option(names = "--hidden", description = "MLP hidden widths, comma separated; CNN: c1,c2,fc (default: 256,256 / 32,64,128)")
    public String hidden;

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

    @Option(names = "--checkpoint", paramLabel = "FILE", description = "save model and optimizer after every epoch")
    public String checkpoint;

    @Option(names = "--overwrite", description = "replace an existing --checkpoint file instead of refusing")
    public boolean overwrite;

    @Option(names = "--no-progress", description = "no progress bar (one line per epoch only)")
    public boolean noProgress;

    /** Stops the run after this epoch, as if it had been killed there (its checkpoint stays); for tests. */
    @Option(names = "--stop-after", hidden = true)
    public Integer stopAfter;

    /** The widths given by --hidden, or the model's defaults. */
    int[] hiddenWidths() {
        String h = hidden != null ? hidden : model == ModelKind.mlp ? "256,256" : "32,64,128";
        String[] parts = h.split(",");
        int[] w = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                w[i] = Integer.parseInt(parts[i].trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--hidden: '" + parts[i].trim() + "' is not a width (expected e.g. 256,256)");
            }
            if (w[i] <= 0) {
                throw new IllegalArgumentException("--hidden: widths must be positive, got " + w[i]);
            }
        }
        if (model == ModelKind.cnn && w.length != 3) {
            throw new IllegalArgumentException("--hidden for the cnn takes three widths: conv1,conv2,fc (got " + h + ")");
        }
        return w;
    }

    /** Checks the values that picocli's types do not. */
    void validate() {
        if (epochs < 1) {
            throw new IllegalArgumentException("--epochs must be at least 1, got " + epochs);
        }
        if (batch < 1) {
            throw new IllegalArgumentException("--batch must be at least 1, got " + batch);
        }
        if (!(lr > 0) || Double.isInfinite(lr)) {
            throw new IllegalArgumentException("--lr must be a positive number, got " + lr);
        }
        if (!(momentum >= 0 && momentum < 1)) {
            throw new IllegalArgumentException("--momentum must be in [0, 1), got " + momentum);
        }
        if (!(weightDecay >= 0)) {
            throw new IllegalArgumentException("--weight-decay must be >= 0, got " + weightDecay);
        }
        if (!java.util.List.of("constant", "cosine", "step").contains(schedule)) {
            throw new IllegalArgumentException("--schedule must be constant, cosine or step, got '" + schedule + "'");
        }
        if (threads != null && threads < 1) {
            throw new IllegalArgumentException("--threads must be at least 1, got " + threads);
        }
        if ((trainLimit != null && trainLimit < 1) || (testLimit != null && testLimit < 1)) {
            throw new IllegalArgumentException("--train-limit and --test-limit must be at least 1");
        }
        hiddenWidths();
    }

    /** Accepts fashion-mnist as well as fashion_mnist. */
    static final class DatasetConverter implements picocli.CommandLine.ITypeConverter<DatasetKind> {
        @Override
        public DatasetKind convert(String value) {
            try {
                return DatasetKind.valueOf(value.replace('-', '_'));
            } catch (IllegalArgumentException e) {
                throw new picocli.CommandLine.TypeConversionException("unknown dataset '" + value
                        + "' (known: builtin, fashion-mnist, teacher, clusters)");
            }
        }
    }
}
