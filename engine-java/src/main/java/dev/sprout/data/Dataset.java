package dev.sprout.data;

import dev.sprout.tensor.DType;
import dev.sprout.tensor.Rng;
import dev.sprout.tensor.Shape;
import dev.sprout.tensor.Storage;
import dev.sprout.tensor.Tensor;

import java.util.Arrays;
import java.util.List;

/**
 * An immutable labelled dataset of {@code N} examples.
 *
 * <ul>
 *   <li>Classification: f32 inputs {@code [N, C, H, W]} (images) or {@code [N, D]} (features), {@code int} labels in
 *       {@code [0, numClasses)}, optional class names.</li>
 *   <li>Regression: f32 inputs {@code [N, D]} and f32 targets {@code [N, K]}.</li>
 * </ul>
 *
 * <p>Inputs and targets are held as contiguous f32 tensors that belong to this dataset: the public factories copy
 * what they are given, and the tensors returned by {@link #inputs()} and {@link #targets()} must be treated as
 * read-only (views such as {@link #flatten()} share them). Every transformation returns a new dataset.
 *
 * <p>Normalisation: compute {@link Stats} on the training set ({@link #stats()}) and apply the same statistics to
 * the training, validation and test sets ({@link #normalised(Stats)}), so no information leaks from the held-out
 * data.
 */
public final class Dataset {
    private final String name;
    private final Tensor inputs;
    private final int[] labels;       // null for regression
    private final int numClasses;     // 0 for regression
    private final List<String> classNames;
    private final Tensor targets;     // null for classification

    private Dataset(String name, Tensor inputs, int[] labels, int numClasses, List<String> classNames,
                    Tensor targets) {
        this.name = name;
        this.inputs = inputs;
        this.labels = labels;
        this.numClasses = numClasses;
        this.classNames = classNames;
        this.targets = targets;
    }

    // ------------------------------------------------------------------------------------------ creation

    /**
     * A classification dataset. {@code inputs} ({@code [N, C, H, W]} or {@code [N, D]}) and {@code labels} are
     * copied; every label must lie in {@code [0, numClasses)}.
     *
     * @param classNames one name per class, or {@code null} for "0", "1", ...
     */
    public static Dataset classification(String name, Tensor inputs, int[] labels, int numClasses,
                                         List<String> classNames) {
        return classificationOwned(name, ownedCopy(name, inputs), labels.clone(), numClasses, classNames);
    }

    /** A classification dataset without class names. */
    public static Dataset classification(String name, Tensor inputs, int[] labels, int numClasses) {
        return classification(name, inputs, labels, numClasses, null);
    }

    /** A regression dataset: inputs {@code [N, D]} and targets {@code [N, K]}, both copied to f32. */
    public static Dataset regression(String name, Tensor inputs, Tensor targets) {
        return regressionOwned(name, ownedCopy(name, inputs), ownedCopy(name, targets));
    }

    /** Internal: takes ownership of {@code inputs} (contiguous f32, offset 0) and {@code labels}; validates. */
    static Dataset classificationOwned(String name, Tensor inputs, int[] labels, int numClasses,
                                       List<String> classNames) {
        checkName(name);
        checkInputs(name, inputs);
        if (numClasses < 1) {
            throw new IllegalArgumentException("dataset '" + name + "': numClasses " + numClasses + " must be >= 1");
        }
        if (labels.length != inputs.dim(0)) {
            throw new IllegalArgumentException("dataset '" + name + "': " + labels.length + " labels for "
                    + inputs.dim(0) + " examples (inputs " + inputs.shape() + ")");
        }
        int bad = firstLabelOutside(labels, numClasses);
        if (bad >= 0) {
            throw new IllegalArgumentException("dataset '" + name + "': label " + labels[bad] + " at index " + bad
                    + " outside [0, " + numClasses + ")");
        }
        List<String> names;
        if (classNames == null) {
            String[] n = new String[numClasses];
            for (int c = 0; c < numClasses; c++) {
                n[c] = Integer.toString(c);
            }
            names = List.of(n);
        } else {
            if (classNames.size() != numClasses) {
                throw new IllegalArgumentException("dataset '" + name + "': " + classNames.size()
                        + " class names for " + numClasses + " classes");
            }
            names = List.copyOf(classNames);
        }
        return new Dataset(name, inputs, labels, numClasses, names, null);
    }

    /** Internal: takes ownership of {@code inputs} and {@code targets} (contiguous f32, offset 0); validates. */
    static Dataset regressionOwned(String name, Tensor inputs, Tensor targets) {
        checkName(name);
        checkInputs(name, inputs);
        if (inputs.rank() != 2) {
            throw new IllegalArgumentException("dataset '" + name + "': regression inputs must be [N, D], got "
                    + inputs.shape());
        }
        if (targets.rank() != 2 || targets.dim(0) != inputs.dim(0)) {
            throw new IllegalArgumentException("dataset '" + name + "': regression targets must be [N, K] with N = "
                    + inputs.dim(0) + ", got " + targets.shape());
        }
        checkFinite(name, "target", targets);
        return new Dataset(name, inputs, null, 0, List.of(), targets);
    }

    /** Index of the first label outside [0, numClasses), or -1. */
    static int firstLabelOutside(int[] labels, int numClasses) {
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] < 0 || labels[i] >= numClasses) {
                return i;
            }
        }
        return -1;
    }

    private static void checkName(String name) {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("dataset name must not be blank");
        }
    }

    private static void checkInputs(String name, Tensor inputs) {
        if (inputs.dtype() != DType.F32 || !inputs.isContiguous() || inputs.offset() != 0
                || inputs.storage().length() != inputs.numel()) {
            throw new IllegalStateException("dataset '" + name + "': internal: inputs not owned contiguous f32");
        }
        if (inputs.rank() != 2 && inputs.rank() != 4) {
            throw new IllegalArgumentException("dataset '" + name + "': inputs must be [N, D] or [N, C, H, W], got "
                    + inputs.shape());
        }
        checkFinite(name, "input", inputs);
    }

    private static void checkFinite(String name, String what, Tensor t) {
        float[] f = t.storage().floats();
        for (int i = 0; i < f.length; i++) {
            if (!Float.isFinite(f[i])) {
                throw new IllegalArgumentException("dataset '" + name + "': " + what + " element " + i + " is "
                        + f[i]);
            }
        }
    }

    /** A contiguous f32 copy with offset 0 that nobody else holds. */
    private static Tensor ownedCopy(String name, Tensor t) {
        if (t.dtype().isComplex()) {
            throw new IllegalArgumentException("dataset '" + name + "': complex tensor " + t.describe()
                    + " cannot be a dataset input or target");
        }
        return owned(t.toFloatArray(), t.shape().toArray());
    }

    static Tensor owned(float[] data, int... dims) {
        return Tensor.wrap(Storage.wrap(data, false), Shape.of(dims));
    }

    // ------------------------------------------------------------------------------------------ accessors

    public String name() {
        return name;
    }

    /** Number of examples. */
    public int size() {
        return inputs.dim(0);
    }

    public boolean isClassification() {
        return labels != null;
    }

    /** The inputs, {@code [N, ...]} f32, contiguous. Read-only: shared with this dataset. */
    public Tensor inputs() {
        return inputs;
    }

    /** The shape of one example's input ({@code [C, H, W]} or {@code [D]}). */
    public int[] exampleShape() {
        int[] s = inputs.shape().toArray();
        return Arrays.copyOfRange(s, 1, s.length);
    }

    /** Elements per example input ({@code C*H*W} or {@code D}). */
    public int exampleSize() {
        int n = 1;
        for (int d : exampleShape()) {
            n *= d;
        }
        return n;
    }

    /** A copy of the labels (classification only). */
    public int[] labels() {
        return requireLabels().clone();
    }

    /** Label of example {@code i} (classification only). */
    public int label(int i) {
        return requireLabels()[i];
    }

    /** Number of classes; 0 for a regression dataset. */
    public int numClasses() {
        return numClasses;
    }

    /** One name per class (empty for regression). */
    public List<String> classNames() {
        return classNames;
    }

    /** How many examples each class has (classification only). */
    public int[] classCounts() {
        int[] h = new int[numClasses];
        for (int l : requireLabels()) {
            h[l]++;
        }
        return h;
    }

    /** The regression targets {@code [N, K]} f32 (regression only). Read-only: shared with this dataset. */
    public Tensor targets() {
        if (targets == null) {
            throw new IllegalStateException("dataset '" + name + "' is a classification task: it has labels, not"
                    + " targets");
        }
        return targets;
    }

    /** Outputs per example: the class count, or {@code K} for regression. */
    public int outputSize() {
        return labels != null ? numClasses : targets.dim(1);
    }

    private int[] requireLabels() {
        if (labels == null) {
            throw new IllegalStateException("dataset '" + name + "' is a regression task: it has targets, not"
                    + " labels");
        }
        return labels;
    }

    /** A copy of this dataset under another name. */
    public Dataset named(String newName) {
        checkName(newName);
        return new Dataset(newName, inputs, labels, numClasses, classNames, targets);
    }

    // ------------------------------------------------------------------------------------------ selections

    /** The first {@code n} examples (this dataset itself when it has no more than {@code n}). */
    public Dataset head(int n) {
        if (n < 0) {
            throw new IllegalArgumentException("dataset '" + name + "': head(" + n + ") needs n >= 0");
        }
        if (n >= size()) {
            return this;
        }
        int[] idx = new int[n];
        for (int i = 0; i < n; i++) {
            idx[i] = i;
        }
        return subset(idx);
    }

    /** The examples at {@code indices}, in that order (copied; repeats allowed). */
    public Dataset subset(int[] indices) {
        return subset(indices, name);
    }

    /** The examples at {@code indices}, in that order, under another name. */
    public Dataset subset(int[] indices, String newName) {
        int n = size();
        for (int j = 0; j < indices.length; j++) {
            if (indices[j] < 0 || indices[j] >= n) {
                throw new IndexOutOfBoundsException("dataset '" + name + "': subset index " + indices[j]
                        + " at position " + j + " outside [0, " + n + ")");
            }
        }
        Tensor x = gatherRows(inputs, indices);
        if (labels != null) {
            int[] l = new int[indices.length];
            for (int j = 0; j < indices.length; j++) {
                l[j] = labels[indices[j]];
            }
            return new Dataset(newName, x, l, numClasses, classNames, null);
        }
        return new Dataset(newName, x, null, 0, classNames, gatherRows(targets, indices));
    }

    /** Rows {@code indices} of a contiguous f32 tensor, as a new contiguous tensor (no autograd). */
    static Tensor gatherRows(Tensor t, int[] indices) {
        int[] dims = t.shape().toArray();
        int row = dims[0] == 0 ? 0 : t.numel() / dims[0];
        float[] src = t.storage().floats();
        int base = t.offset();
        float[] dst = new float[indices.length * row];
        for (int j = 0; j < indices.length; j++) {
            System.arraycopy(src, base + indices[j] * row, dst, j * row, row);
        }
        dims[0] = indices.length;
        return owned(dst, dims);
    }

    /** Training and validation parts of a {@link #split}. */
    public record Split(Dataset train, Dataset validation) {
    }

    /**
     * Holds out a random {@code fraction} of the examples for validation (at least one example in each part). Both
     * parts keep the original order of their examples. For classification the split is stratified: each class
     * gives {@code round(fraction * count)} of its examples (a class with a single example stays in training).
     */
    public Split split(double fraction, Rng rng) {
        int n = size();
        if (!(fraction > 0 && fraction < 1)) {
            throw new IllegalArgumentException("dataset '" + name + "': validation fraction " + fraction
                    + " must lie in (0, 1)");
        }
        boolean[] held = new boolean[n];
        int heldCount = 0;
        if (labels != null) {
            int[][] byClass = indicesByClass();
            for (int[] members : byClass) {
                int take = (int) Math.min(members.length - 1L, Math.round(fraction * members.length));
                int[] p = rng.permutation(members.length);
                for (int j = 0; j < take; j++) {
                    held[members[p[j]]] = true;
                }
                heldCount += Math.max(take, 0);
            }
        } else {
            heldCount = (int) Math.round(fraction * n);
            int[] p = rng.permutation(n);
            for (int j = 0; j < heldCount; j++) {
                held[p[j]] = true;
            }
        }
        if (heldCount < 1 || heldCount > n - 1) {
            throw new IllegalArgumentException("dataset '" + name + "': validation fraction " + fraction + " of "
                    + n + " examples leaves " + heldCount + " for validation and " + (n - heldCount)
                    + " for training; each part needs at least one");
        }
        int[] tr = new int[n - heldCount], va = new int[heldCount];
        int a = 0, b = 0;
        for (int i = 0; i < n; i++) {
            if (held[i]) {
                va[b++] = i;
            } else {
                tr[a++] = i;
            }
        }
        return new Split(subset(tr, name + "/train"), subset(va, name + "/validation"));
    }

    /** For each class, the indices of its examples in increasing order (classification only). */
    public int[][] indicesByClass() {
        int[] counts = classCounts();
        int[][] out = new int[numClasses][];
        for (int c = 0; c < numClasses; c++) {
            out[c] = new int[counts[c]];
        }
        int[] fill = new int[numClasses];
        for (int i = 0; i < labels.length; i++) {
            out[labels[i]][fill[labels[i]]++] = i;
        }
        return out;
    }

    // ------------------------------------------------------------------------------------------ transforms

    /**
     * Per-channel (images {@code [N, C, H, W]}) or per-feature ({@code [N, D]}) mean and standard deviation of a
     * dataset's inputs, used to normalise inputs as {@code (x - mean) / std}.
     */
    public record Stats(double[] mean, double[] std) {
        public Stats {
            if (mean.length != std.length || mean.length == 0) {
                throw new IllegalArgumentException("Stats: " + mean.length + " means and " + std.length + " stds");
            }
            for (int i = 0; i < std.length; i++) {
                if (!(std[i] > 0) || !Double.isFinite(std[i]) || !Double.isFinite(mean[i])) {
                    throw new IllegalArgumentException("Stats: entry " + i + " has mean " + mean[i] + " and std "
                            + std[i] + "; std must be positive and finite");
                }
            }
            mean = mean.clone();
            std = std.clone();
        }

        /** The same mean and std for every channel. */
        public static Stats uniform(int channels, double mean, double std) {
            double[] m = new double[channels], s = new double[channels];
            Arrays.fill(m, mean);
            Arrays.fill(s, std);
            return new Stats(m, s);
        }

        @Override
        public double[] mean() {
            return mean.clone();
        }

        @Override
        public double[] std() {
            return std.clone();
        }

        @Override
        public String toString() {
            return "Stats(mean=" + Arrays.toString(mean) + ", std=" + Arrays.toString(std) + ")";
        }
    }

    /** Standard deviations below this are replaced by 1 (a constant channel is only centred, not blown up). */
    public static final double MIN_STD = 1e-8;

    /**
     * Mean and (population) standard deviation of the inputs: per channel for images, per feature for
     * {@code [N, D]}; computed in double with two passes. Compute them on the training set only.
     */
    public Stats stats() {
        int n = size();
        if (n == 0) {
            throw new IllegalStateException("dataset '" + name + "': statistics of an empty dataset");
        }
        int groups = inputs.dim(1);
        int inner = inputs.rank() == 4 ? inputs.dim(2) * inputs.dim(3) : 1;
        float[] x = inputs.storage().floats();
        double[] sum = new double[groups];
        for (int i = 0; i < n; i++) {
            for (int g = 0; g < groups; g++) {
                int base = (i * groups + g) * inner;
                double s = 0;
                for (int k = 0; k < inner; k++) {
                    s += x[base + k];
                }
                sum[g] += s;
            }
        }
        double count = (double) n * inner;
        double[] mean = new double[groups];
        for (int g = 0; g < groups; g++) {
            mean[g] = sum[g] / count;
        }
        double[] ss = new double[groups];
        for (int i = 0; i < n; i++) {
            for (int g = 0; g < groups; g++) {
                int base = (i * groups + g) * inner;
                double m = mean[g], s = 0;
                for (int k = 0; k < inner; k++) {
                    double d = x[base + k] - m;
                    s += d * d;
                }
                ss[g] += s;
            }
        }
        double[] std = new double[groups];
        for (int g = 0; g < groups; g++) {
            double sd = Math.sqrt(ss[g] / count);
            std[g] = sd < MIN_STD ? 1.0 : sd;
        }
        return new Stats(mean, std);
    }

    /** Inputs normalised as {@code (x - mean[c]) / std[c]} per channel (images) or feature ({@code [N, D]}). */
    public Dataset normalised(Stats stats) {
        int groups = inputs.dim(1);
        if (stats.mean.length != groups) {
            throw new IllegalArgumentException("dataset '" + name + "': statistics for " + stats.mean.length
                    + " channels, inputs " + inputs.shape() + " have " + groups);
        }
        int n = size();
        int inner = inputs.rank() == 4 ? inputs.dim(2) * inputs.dim(3) : 1;
        float[] x = inputs.storage().floats();
        float[] y = new float[x.length];
        for (int i = 0; i < n; i++) {
            for (int g = 0; g < groups; g++) {
                int base = (i * groups + g) * inner;
                double m = stats.mean[g], inv = 1.0 / stats.std[g];
                for (int k = 0; k < inner; k++) {
                    y[base + k] = (float) ((x[base + k] - m) * inv);
                }
            }
        }
        return new Dataset(name, owned(y, inputs.shape().toArray()), labels, numClasses, classNames, targets);
    }

    /** Inputs normalised as {@code (x - mean) / std}, the same for every channel or feature. */
    public Dataset normalised(double mean, double std) {
        return normalised(Stats.uniform(inputs.dim(1), mean, std));
    }

    /** Images {@code [N, C, H, W]} as {@code [N, C*H*W]} (a view on the same data); {@code [N, D]} unchanged. */
    public Dataset flatten() {
        if (inputs.rank() == 2) {
            return this;
        }
        Tensor flat = Tensor.wrap(inputs.storage(), Shape.of(size(), exampleSize()));
        return new Dataset(name, flat, labels, numClasses, classNames, targets);
    }

    @Override
    public String toString() {
        return "Dataset(" + name + ", " + size() + " examples, inputs " + inputs.shape()
                + (labels != null ? ", " + numClasses + " classes" : ", targets " + targets.shape()) + ")";
    }
}
