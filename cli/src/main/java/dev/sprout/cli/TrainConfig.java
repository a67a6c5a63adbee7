package dev.sprout.cli;

import com.fasterxml.jackson.annotation.JsonUnwrapped;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Every option of a training run. The same object is the picocli option holder of {@code sprout train}, the
 * {@code "config"} object of the results JSON, and what a checkpoint stores so {@code sprout resume} can rebuild
 * the run (public fields, so Jackson reads and writes them as they are).
 */
public final class TrainConfig {
    /** The options shared with the other run command (unwrapped into the JSON config). */
    @Mixin
    @JsonUnwrapped
    public RunOptions run = new RunOptions();

    public enum ModelKind { mlp, cnn }

    public enum DatasetKind { builtin, fashion_mnist, teacher, clusters }

    @Option(names = "--model", description = "mlp or cnn (default: ${DEFAULT-VALUE})")
    public ModelKind model = ModelKind.mlp;

    @Option(names = "--dataset", converter = DatasetConverter.class,
            description = "builtin (5,000/1,000 Fashion-MNIST images in the jar), fashion-mnist, teacher (regression), clusters (default: ${DEFAULT-VALUE})")
    public DatasetKind dataset = DatasetKind.builtin;

    @Option(names = "--epochs", description = "epochs to train (default: ${DEFAULT-VALUE})")
    public int epochs = 10;

    @Option(names = "--weight-decay", description = "L2 weight decay (default: ${DEFAULT-VALUE})")
    public double weightDecay = 0;

    @Option(names = "--schedule", description = "learning-rate schedule: constant, cosine, step (default: ${DEFAULT-VALUE})")
    public String schedule = "cosine";

    @Option(names = "--hidden", description = "MLP hidden widths, comma separated; CNN: c1,c2,fc (default: 256,256 / 32,64,128)")
    public String hidden;

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
        run.validate();
        if (epochs < 1) {
            throw new IllegalArgumentException("--epochs must be at least 1, got " + epochs);
        }
        if (!(weightDecay >= 0)) {
            throw new IllegalArgumentException("--weight-decay must be >= 0, got " + weightDecay);
        }
        if (!java.util.List.of("constant", "cosine", "step").contains(schedule)) {
            throw new IllegalArgumentException("--schedule must be constant, cosine or step, got '" + schedule + "'");
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
