package dev.sprout.data;

import dev.sprout.tensor.Rng;

/**
 * Seeded synthetic tasks, reproducible bit for bit: the same arguments give the same datasets on every run and
 * every JDK (arithmetic in double with {@link StrictMath}, rounded to f32 once at the end).
 *
 * <p>Every task draws from independent streams split off {@code new Rng(seed)}, in this order: the task itself
 * (teacher weights, cluster centres), the training set, the test set; each set splits its stream again into one
 * for inputs and one for noise. So the teacher and the test set do not depend on {@code nTrain}; the inputs do not
 * depend on the noise level (noisy and clean targets can be compared example by example); and the first {@code m}
 * examples of a set of size {@code n > m} are exactly the set of size {@code m}.
 */
public final class Synthetic {
    private Synthetic() {
    }

    // ------------------------------------------------------------------------------------------ teacher network

    /**
     * Regression on a random teacher network {@code y = tanh(x W1 + b1) W2 + b2 + noise}: inputs
     * {@code x ~ N(0, I_D)}; weights {@code W1 [D, H] ~ N(0, 1/D)}, {@code W2 [H, K] ~ N(0, 1/H)}, biases
     * {@code b1 ~ N(0, 1)}, {@code b2 ~ N(0, 1/H)}; target noise {@code N(0, noiseStd^2)} per output (0: none).
     * Inputs are {@code [N, D]}, targets {@code [N, K]}.
     */
    public static TrainTest teacher(int inputDim, int hidden, int outputs, int nTrain, int nTest, double noiseStd,
                                    long seed) {
        positive("teacher", "inputDim", inputDim);
        positive("teacher", "hidden", hidden);
        positive("teacher", "outputs", outputs);
        counts("teacher", nTrain, nTest, Math.max(inputDim, outputs));
        nonNegative("teacher", "noiseStd", noiseStd);
        Rng root = new Rng(seed);
        Rng task = root.split(), trainRng = root.split(), testRng = root.split();
        int d = inputDim, h = hidden, k = outputs;
        double[] w1 = normals(task, d * h, 1 / Math.sqrt(d));
        double[] b1 = normals(task, h, 1);
        double[] w2 = normals(task, h * k, 1 / Math.sqrt(h));
        double[] b2 = normals(task, k, 1 / Math.sqrt(h));
        String name = "teacher(D=" + d + ", H=" + h + ", K=" + k + ", noise=" + noiseStd + ", seed=" + seed + ")";
        Dataset[] sets = new Dataset[2];
        int[] sizes = {nTrain, nTest};
        Rng[] rngs = {trainRng, testRng};
        for (int s = 0; s < 2; s++) {
            int n = sizes[s];
            Rng xr = rngs[s].split(), nr = rngs[s].split();
            float[] x = new float[n * d], y = new float[n * k];
            double[] xi = new double[d], hid = new double[h];
            for (int i = 0; i < n; i++) {
                for (int a = 0; a < d; a++) {
                    xi[a] = xr.normal();
                    x[i * d + a] = (float) xi[a];
                }
                for (int j = 0; j < h; j++) {
                    double z = b1[j];
                    for (int a = 0; a < d; a++) {
                        z += xi[a] * w1[a * h + j];
                    }
                    hid[j] = StrictMath.tanh(z);
                }
                for (int o = 0; o < k; o++) {
                    double z = b2[o];
                    for (int j = 0; j < h; j++) {
                        z += hid[j] * w2[j * k + o];
                    }
                    double noise = noiseStd > 0 ? noiseStd * nr.normal() : 0;
                    y[i * k + o] = (float) (z + noise);
                }
            }
            sets[s] = Dataset.regressionOwned(name + (s == 0 ? "/train" : "/test"), Dataset.owned(x, n, d),
                    Dataset.owned(y, n, k));
        }
        return new TrainTest(sets[0], sets[1]);
    }

    // ------------------------------------------------------------------------------------------ clusters

    /**
     * Classification among {@code classes} Gaussian clusters in {@code dim} dimensions: centres
     * {@code ~ N(0, separation^2 I)}, points {@code centre + N(0, spread^2 I)}. Example {@code i} belongs to
     * cluster {@code i mod classes} (so every set is balanced); with probability {@code labelNoise} its label is then
     * replaced by a uniformly drawn class (which may be the true one). Inputs {@code [N, dim]}.
     */
    public static TrainTest clusters(int classes, int dim, int nTrain, int nTest, double separation, double spread,
                                     double labelNoise, long seed) {
        positive("clusters", "classes", classes);
        positive("clusters", "dim", dim);
        counts("clusters", nTrain, nTest, dim);
        nonNegative("clusters", "separation", separation);
        nonNegative("clusters", "spread", spread);
        if (!(labelNoise >= 0 && labelNoise <= 1)) {
            throw new IllegalArgumentException("clusters: labelNoise " + labelNoise + " must lie in [0, 1]");
        }
        Rng root = new Rng(seed);
        Rng task = root.split(), trainRng = root.split(), testRng = root.split();
        double[] centres = normals(task, classes * dim, separation);
        String name = "clusters(K=" + classes + ", D=" + dim + ", sep=" + separation + ", spread=" + spread
                + ", labelNoise=" + labelNoise + ", seed=" + seed + ")";
        Dataset[] sets = new Dataset[2];
        int[] sizes = {nTrain, nTest};
        Rng[] rngs = {trainRng, testRng};
        for (int s = 0; s < 2; s++) {
            int n = sizes[s];
            Rng r = rngs[s].split(), nr = rngs[s].split();
            float[] x = new float[n * dim];
            int[] labels = new int[n];
            for (int i = 0; i < n; i++) {
                int c = i % classes;
                for (int a = 0; a < dim; a++) {
                    x[i * dim + a] = (float) (centres[c * dim + a] + spread * r.normal());
                }
                labels[i] = c;
                if (labelNoise > 0 && nr.uniform() < labelNoise) {
                    labels[i] = nr.nextInt(classes);
                }
            }
            sets[s] = Dataset.classificationOwned(name + (s == 0 ? "/train" : "/test"), Dataset.owned(x, n, dim),
                    labels, classes, null);
        }
        return new TrainTest(sets[0], sets[1]);
    }

    // ------------------------------------------------------------------------------------------ RBF teacher

    /**
     * Low-dimensional regression whose target is a sum of RBF bumps,
     * {@code y = sum_j a_j exp(-(w_j . x + b_j)^2 / 2) + noise}, the function class of an RBF network (one output).
     * Inputs {@code x ~ U[-3, 3]^D}. Bump {@code j} has a centre {@code c_j ~ U[-2.5, 2.5]^D}, a width
     * {@code s_j ~ U[0.3, 1]}, a random unit direction {@code u_j}, so {@code w_j = u_j / s_j} and
     * {@code b_j = -w_j . c_j}; amplitude {@code a_j ~ N(0, 1)}. In 1-D the bump is centred at {@code c_j} with
     * width {@code s_j}. Target noise {@code N(0, noiseStd^2)} (0: none). Inputs {@code [N, D]}, targets
     * {@code [N, 1]}.
     */
    public static TrainTest rbfTeacher(int inputDim, int bumps, int nTrain, int nTest, double noiseStd, long seed) {
        positive("rbfTeacher", "inputDim", inputDim);
        positive("rbfTeacher", "bumps", bumps);
        counts("rbfTeacher", nTrain, nTest, inputDim);
        nonNegative("rbfTeacher", "noiseStd", noiseStd);
        int d = inputDim;
        Rng root = new Rng(seed);
        Rng task = root.split(), trainRng = root.split(), testRng = root.split();
        double[] w = new double[bumps * d], b = new double[bumps], amp = new double[bumps];
        for (int j = 0; j < bumps; j++) {
            double[] centre = new double[d], u = normals(task, d, 1);
            double norm = 0;
            for (int a = 0; a < d; a++) {
                centre[a] = -2.5 + 5 * task.uniform();
                norm += u[a] * u[a];
            }
            norm = Math.sqrt(norm);
            double width = 0.3 + 0.7 * task.uniform();
            double dot = 0;
            for (int a = 0; a < d; a++) {
                double unit = norm > 0 ? u[a] / norm : (a == 0 ? 1 : 0);
                w[j * d + a] = unit / width;
                dot += w[j * d + a] * centre[a];
            }
            b[j] = -dot;
            amp[j] = task.normal();
        }
        String name = "rbfTeacher(D=" + d + ", bumps=" + bumps + ", noise=" + noiseStd + ", seed=" + seed + ")";
        Dataset[] sets = new Dataset[2];
        int[] sizes = {nTrain, nTest};
        Rng[] rngs = {trainRng, testRng};
        for (int s = 0; s < 2; s++) {
            int n = sizes[s];
            Rng r = rngs[s].split(), nr = rngs[s].split();
            float[] x = new float[n * d], y = new float[n];
            double[] xi = new double[d];
            for (int i = 0; i < n; i++) {
                for (int a = 0; a < d; a++) {
                    xi[a] = -3 + 6 * r.uniform();
                    x[i * d + a] = (float) xi[a];
                }
                double sum = 0;
                for (int j = 0; j < bumps; j++) {
                    double z = b[j];
                    for (int a = 0; a < d; a++) {
                        z += w[j * d + a] * xi[a];
                    }
                    sum += amp[j] * StrictMath.exp(-0.5 * z * z);
                }
                y[i] = (float) (sum + (noiseStd > 0 ? noiseStd * nr.normal() : 0));
            }
            sets[s] = Dataset.regressionOwned(name + (s == 0 ? "/train" : "/test"), Dataset.owned(x, n, d),
                    Dataset.owned(y, n, 1));
        }
        return new TrainTest(sets[0], sets[1]);
    }

    // ------------------------------------------------------------------------------------------ helpers

    private static double[] normals(Rng rng, int n, double std) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = std * rng.normal();
        }
        return v;
    }

    private static void positive(String task, String what, int v) {
        if (v <= 0) {
            throw new IllegalArgumentException(task + ": " + what + " " + v + " must be positive");
        }
    }

    private static void nonNegative(String task, String what, double v) {
        if (!(v >= 0) || !Double.isFinite(v)) {
            throw new IllegalArgumentException(task + ": " + what + " " + v + " must be finite and >= 0");
        }
    }

    private static void counts(String task, int nTrain, int nTest, int perExample) {
        if (nTrain <= 0 || nTest < 0) {
            throw new IllegalArgumentException(task + ": nTrain " + nTrain + " must be positive and nTest " + nTest
                    + " must be >= 0");
        }
        if ((long) Math.max(nTrain, nTest) * perExample > Idx.MAX_ELEMENTS) {
            throw new IllegalArgumentException(task + ": " + Math.max(nTrain, nTest) + " examples of " + perExample
                    + " values exceed one Java array");
        }
    }
}
