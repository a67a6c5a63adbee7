package dev.sprout.cli;

import com.fasterxml.jackson.annotation.JsonUnwrapped;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * The options every growth run shares, whatever grows it: data, model, rounds and their training (the shared
 * {@link RunOptions} among them). {@link GrowConfig} ({@code sprout grow}) adds the method, {@link CompareConfig}
 * ({@code sprout compare}) the list of methods. Subclass fields are serialised flat into the results' and
 * checkpoints' {@code "config"}.
 */
public class GrowthSchedule {
    /** The options shared with the other run command (unwrapped into the JSON config). */
    @Mixin
    @JsonUnwrapped
    public RunOptions run = new RunOptions();

    public enum ModelKind { mlp, cnn, vgg, rbf }

    public enum DatasetKind { builtin, fashion_mnist, teacher, rbf_teacher }

    @Option(names = "--model", description = "mlp; cnn (conv w, conv 2w, fc 4w); vgg (the spec's R3 net: conv w, w, pool,"
            + " 2w, 2w, pool, global average pool, linear); rbf (default: ${DEFAULT-VALUE})")
    public ModelKind model = ModelKind.mlp;

    @Option(names = "--dataset", converter = DatasetConverter.class,
            description = "builtin, fashion-mnist, teacher, rbf-teacher (default: ${DEFAULT-VALUE})")
    public DatasetKind dataset = DatasetKind.builtin;

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

    @Option(names = "--validation", description = "fraction of the training set held out for growth statistics (default: ${DEFAULT-VALUE})")
    public double validation = 0.1;

    @Option(names = "--growth-samples", description = "at most this many validation examples feed the growth statistics (default: ${DEFAULT-VALUE})")
    public int growthSamples = 2000;

    @Option(names = "--keep-optimizer-state", description = "keep one optimizer through the run (surgery remaps its state) instead of a fresh one per phase as the official code does")
    public boolean keepOptimizerState;

    void validate() {
        if (!(growRatio > 0 && growRatio <= 1)) {
            throw new IllegalArgumentException("--grow-ratio must be in (0, 1], got " + growRatio);
        }
        run.validate();
        if (rounds < 0 || epochsPerRound < 1 || initialWidth < 1 || layers < 1) {
            throw new IllegalArgumentException("--rounds must be >= 0; --epochs-per-round, --initial-width and --layers >= 1");
        }
        if (!(validation > 0 && validation < 1)) {
            throw new IllegalArgumentException("--validation must be in (0, 1), got " + validation);
        }
        if (growthSamples < 1 || pool < 1) {
            throw new IllegalArgumentException("--growth-samples and --pool must be >= 1");
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

    /** The shared settings as a training configuration, for the common data and backend code. */
    TrainConfig asTrainConfig() {
        TrainConfig t = new TrainConfig();
        t.model = model == ModelKind.cnn || model == ModelKind.vgg ? TrainConfig.ModelKind.cnn : TrainConfig.ModelKind.mlp;
        t.run = run;
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
