package dev.sprout.data;

/** A training set and a test set of the same task (the test set is never used to fit or to normalise). */
public record TrainTest(Dataset train, Dataset test) {
    public TrainTest {
        if (train.isClassification() != test.isClassification() || train.outputSize() != test.outputSize()
                || !java.util.Arrays.equals(train.exampleShape(), test.exampleShape())) {
            throw new IllegalArgumentException("TrainTest: " + train + " and " + test + " are not the same task");
        }
    }

    /** Both sets normalised with the training set's statistics. */
    public TrainTest normalised() {
        Dataset.Stats s = train.stats();
        return new TrainTest(train.normalised(s), test.normalised(s));
    }

    /** Both sets with images flattened to {@code [N, C*H*W]}. */
    public TrainTest flatten() {
        return new TrainTest(train.flatten(), test.flatten());
    }
}
