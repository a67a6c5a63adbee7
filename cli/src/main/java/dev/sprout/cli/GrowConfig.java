package dev.sprout.cli;

import picocli.CommandLine.Option;

/**
 * Every option of a growth run ({@code sprout grow}); also the {@code "config"} of its results JSON and what its
 * checkpoints store.
 */
public final class GrowConfig {
    public enum ModelKind { mlp, cnn, rbf }

    public enum DatasetKind { builtin, fashion_mnist, teacher, rbf_teacher }

    @Option(names = "--method", description = "exact, fast, signed, random-split, random-new (default: ${DEFAULT-VALUE})")
    public String method = "exact";

    @Option(names = "--model", description = "mlp, cnn or rbf (default: ${DEFAULT-VALUE})")
    public ModelKind model = ModelKind.mlp;

    @Option(names = "--dataset", converter = DatasetConverter.class,
            description = "builtin, fashion-mnist, teacher, rbf-teacher (default: ${DEFAULT-VALUE})")
    public DatasetKind dataset = DatasetKind.builtin;

    @Option(names = "--data", paramLabel = "DIR", description = "Fashion-MNIST folder (default: /usr/share/datasets/fashion-mnist)")
    public String data;

    @Option(names = "--activation", description = "hidden activation of the mlp: tanh, relu, softplus, sigmoid (default: ${DEFAULT-VALUE})")
    public String activation = "tanh";

    @Option(names = "--pool", description = "average-pool image inputs of the mlp by this factor first (default: ${DEFAULT-VALUE}: 28x28 -> 14x14)")
    public int pool = 2;

    @Option(names = "--initial-width", description = "starting width of every grown layer (default: ${DEFAULT-VALUE})")
    public int initialWidth = 8;

    @Option(names = "--layers", description = "hidden layers of the mlp (default: ${DEFAULT-VALUE})")
    public int layers = 1;

    @Option(names = "--rounds", description = "growth rounds after the first training phase (default: ${DEFAULT-VALUE})")
    public int rounds = 5;

    @Option(names = "--grow-ratio", description = "neurons added per round, as a fraction of the grown layers' neurons, in (0, 1] (default: ${DEFAULT-VALUE})")
    public double growRatio = 0.35;

    @Option(names = "--epochs-per-round", description = "training epochs before growth and after each round (default: ${DEFAULT-VALUE})")
    public int epochsPerRound = 2;

    @Option(names = "--eps", description = "split step size of the splitting methods (default: the method's, 0.01 as the official code)")
    public Double eps;

    @Option(names = "--validation", description = "fraction of the training set held out for growth statistics (default: ${DEFAULT-VALUE})")
    public double validation = 0.1;

    @Option(names = "--growth-samples", description = "at most this many validation examples feed the growth statistics (default: ${DEFAULT-VALUE})")
    public int growthSamples = 2000;

    @Option(names = "--batch", description = "mini-batch size (default: ${DEFAULT-VALUE})")
    public int batch = 64;

    @Option(names = "--lr", description = "learning rate, restarted (cosine) every round (default: ${DEFAULT-VALUE})")
    public double lr = 0.05;

    @Option(names = "--optimizer", description = "sgd, adam, adamw, rmsprop, adagrad (default: ${DEFAULT-VALUE})")
    public String optimizer = "sgd";

    @Option(names = "--momentum", description = "SGD/RMSprop momentum (default: ${DEFAULT-VALUE})")
    public double momentum = 0.9;

    @Option(names = "--keep-optimizer-state", description = "keep one optimizer through the run (surgery remaps its state) instead of a fresh one per phase as the official code does")
    public boolean keepOptimizerState;

    @Option(names = "--seed", description = "random seed (default: ${DEFAULT-VALUE})")
    public long seed = 1;

    @Option(names = "--backend", description = "auto, java, native, cuda (default: ${DEFAULT-VALUE})")
    public String backend = "auto";

    @Option(names = "--threads", description = "threads for the Java backend's kernels (default: all processors)")
    public Integer threads;

    @Option(names = "--train-limit", description = "use only the first N training examples")
    public Integer trainLimit;

    @Option(names = "--test-limit", description = "use only the first N test examples")
    public Integer testLimit;

    @Option(names = "--out", paramLabel = "FILE.json", description = "write the results as JSON")
    public String out;

    @Option(names = "--checkpoint", paramLabel = "FILE", description = "save the grown model after every round")
    public String checkpoint;

    @Option(names = "--overwrite", description = "replace an existing --checkpoint file")
    public boolean overwrite;

    @Option(names = "--no-progress", description = "no progress bars")
    public boolean noProgress;

    /** Stops after this round, as if killed there (its checkpoint stays); for tests. */
    @Option(names = "--stop-after", hidden = true)
    public Integer stopAfter;

    void validate() {
        if (!(growRatio > 0 && growRatio <= 1)) {
            throw new IllegalArgumentException("--grow-ratio must be in (0, 1], got " + growRatio);
        }
        if (rounds < 0 || epochsPerRound < 1 || initialWidth < 1 || layers < 1 || batch < 1) {
            throw new IllegalArgumentException("--rounds must be >= 0; --epochs-per-round, --initial-width, --layers and --batch >= 1");
        }
        if (!(validation > 0 && validation < 1)) {
            throw new IllegalArgumentException("--validation must be in (0, 1), got " + validation);
        }
        if (growthSamples < 1 || pool < 1 || !(lr > 0) || (eps != null && !(eps >= 0))) {
            throw new IllegalArgumentException("--growth-samples and --pool must be >= 1, --lr > 0, --eps >= 0");
        }
        if (!java.util.List.of("tanh", "relu", "softplus", "sigmoid").contains(activation)) {
            throw new IllegalArgumentException("--activation must be tanh, relu, softplus or sigmoid, got '" + activation + "'");
        }
        if (model == ModelKind.rbf && dataset != DatasetKind.rbf_teacher) {
            throw new IllegalArgumentException("--model rbf needs --dataset rbf-teacher (a regression task)");
        }
        if (dataset == DatasetKind.rbf_teacher && model != ModelKind.rbf) {
            throw new IllegalArgumentException("--dataset rbf-teacher is for --model rbf");
        }
    }

    /** The settings that {@code sprout train} shares, for the common data and backend code. */
    TrainConfig asTrainConfig() {
        TrainConfig t = new TrainConfig();
        t.model = model == ModelKind.cnn ? TrainConfig.ModelKind.cnn : TrainConfig.ModelKind.mlp;
        t.data = data;
        t.batch = batch;
        t.seed = seed;
        t.backend = backend;
        t.threads = threads;
        t.trainLimit = trainLimit;
        t.testLimit = testLimit;
        return t;
    }

    /** Accepts fashion-mnist and rbf-teacher as well as the underscore forms. */
    static final class DatasetConverter implements picocli.CommandLine.ITypeConverter<DatasetKind> {
        @Override
        public DatasetKind convert(String value) {
            try {
                return DatasetKind.valueOf(value.replace('-', '_'));
            } catch (IllegalArgumentException e) {
                throw new picocli.CommandLine.TypeConversionException("unknown dataset '" + value
                        + "' (known: builtin, fashion-mnist, teacher, rbf-teacher)");
            }
        }
    }
}
