package dev.sprout.cli;

import dev.sprout.growth.continual.ContinualLearning;
import picocli.CommandLine.Option;

/** The options of {@code sprout continual}; also the {@code "config"} of its results JSON. */
public final class ContinualConfig {
    private static final ContinualLearning.Options D = ContinualLearning.Options.defaults(ContinualLearning.Method.FIREFLY_CL);

    @Option(names = "--tasks", description = "the task stream: split-fashion-mnist (5 tasks of 2 classes, a head per task) (default: ${DEFAULT-VALUE})")
    public String tasks = "split-fashion-mnist";

    @Option(names = "--method", description = "firefly-cl, finetune, ewc, fixed-expansion (default: ${DEFAULT-VALUE})")
    public String method = "firefly-cl";

    @Option(names = "--dataset", description = "builtin (the 5,000/1,000-image subset in the jar) or fashion-mnist (default: ${DEFAULT-VALUE})")
    public String dataset = "builtin";

    @Option(names = "--data", paramLabel = "DIR", description = "Fashion-MNIST folder (default: /usr/share/datasets/fashion-mnist)")
    public String data;

    @Option(names = "--train-limit", description = "use only the first N training examples (before the split into tasks)")
    public Integer trainLimit;

    @Option(names = "--test-limit", description = "use only the first N test examples")
    public Integer testLimit;

    @Option(names = "--pool", description = "average-pool images by this factor, then flatten (default: ${DEFAULT-VALUE}: 28x28 -> 14x14)")
    public int pool = 2;

    @Option(names = "--validation", description = "fraction of each task's training examples held out for growth decisions (default: ${DEFAULT-VALUE})")
    public double validation = 0.1;

    @Option(names = "--layers", description = "hidden layers (default: ${DEFAULT-VALUE})")
    public int layers = D.layers();

    @Option(names = "--width", description = "neurons per layer of task 0 (and of the shared network of finetune and ewc) (default: ${DEFAULT-VALUE})")
    public int width = D.width();

    @Option(names = "--epochs", description = "training epochs per task, and again after each growth step (default: ${DEFAULT-VALUE})")
    public int epochs = D.epochs();

    @Option(names = "--batch", description = "mini-batch size (default: ${DEFAULT-VALUE})")
    public int batch = D.batch();

    @Option(names = "--lr", description = "Adam learning rate (default: ${DEFAULT-VALUE})")
    public double lr = D.lr();

    @Option(names = "--seed", description = "random seed (default: ${DEFAULT-VALUE})")
    public long seed = D.seed();

    @Option(names = "--ewc-lambda", description = "ewc: penalty strength (default: ${DEFAULT-VALUE})")
    public double ewcLambda = D.ewcLambda();

    @Option(names = "--fisher-samples", description = "ewc: examples per task for the Fisher diagonal (default: ${DEFAULT-VALUE})")
    public int fisherSamples = D.fisherSamples();

    @Option(names = "--expansion", description = "fixed-expansion: new neurons per layer for each task after the first (default: ${DEFAULT-VALUE})")
    public int expansion = D.expansion();

    @Option(names = "--target-accuracy", description = "firefly-cl: grow while a task's validation accuracy is below this (default: ${DEFAULT-VALUE})")
    public double targetAccuracy = D.targetAccuracy();

    @Option(names = "--grow-steps", description = "firefly-cl: at most this many growth steps per task (default: ${DEFAULT-VALUE})")
    public int growSteps = D.growSteps();

    @Option(names = "--grow-neurons", description = "firefly-cl: at most this many neurons per growth step, over all layers (default: ${DEFAULT-VALUE})")
    public int growNeurons = D.growNeurons();

    @Option(names = "--candidates", description = "firefly-cl: new-neuron candidates per layer (default: ${DEFAULT-VALUE})")
    public int candidates = D.candidates();

    @Option(names = "--candidate-steps", description = "firefly-cl: Adam steps that train the candidates (default: ${DEFAULT-VALUE})")
    public int candidateSteps = D.candidateSteps();

    @Option(names = "--threads", description = "threads for the Java backend's kernels (default: all processors)")
    public Integer threads;

    @Option(names = "--out", paramLabel = "FILE.json", description = "write the results as JSON")
    public String out;

    ContinualLearning.Options options() {
        if (!tasks.equals("split-fashion-mnist")) {
            throw new IllegalArgumentException("unknown task stream '" + tasks + "' for --tasks (known: split-fashion-mnist)");
        }
        if (!dataset.equals("builtin") && !dataset.equals("fashion-mnist")) {
            throw new IllegalArgumentException("unknown dataset '" + dataset + "' for --dataset (known: builtin, fashion-mnist)");
        }
        if (data != null && !dataset.equals("fashion-mnist")) {
            throw new IllegalArgumentException("--data is only used with --dataset fashion-mnist");
        }
        if ((trainLimit != null && trainLimit < 1) || (testLimit != null && testLimit < 1) || pool < 1) {
            throw new IllegalArgumentException("--train-limit, --test-limit and --pool must be at least 1");
        }
        if (!(validation > 0 && validation < 1)) {
            throw new IllegalArgumentException("--validation must be in (0, 1), got " + validation);
        }
        if (threads != null && threads < 1) {
            throw new IllegalArgumentException("--threads must be at least 1, got " + threads);
        }
        return new ContinualLearning.Options(ContinualLearning.Method.parse(method), layers, width, epochs, batch, lr, seed, ewcLambda,
                fisherSamples, expansion, targetAccuracy, growSteps, growNeurons, candidates, candidateSteps, D.candidateLr(),
                D.maskLogit());
    }
}
