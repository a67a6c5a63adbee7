package dev.sprout.growth.experiments;

import dev.sprout.backend.Activation;
import dev.sprout.data.Dataset;
import dev.sprout.data.Synthetic;
import dev.sprout.growth.CostMeter;
import dev.sprout.growth.GrowthContext;
import dev.sprout.growth.GrowthMethod;
import dev.sprout.growth.Methods;
import dev.sprout.growth.Plan;
import dev.sprout.growth.Surgery;
import dev.sprout.nn.Act;
import dev.sprout.nn.Linear;
import dev.sprout.nn.Losses;
import dev.sprout.nn.Module;
import dev.sprout.nn.Sequential;
import dev.sprout.optim.Adam;
import dev.sprout.tensor.DType;
import dev.sprout.tensor.Rng;
import dev.sprout.tensor.Tensor;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Spec section 14, R1: the toy RBF regression of splitting steepest descent. A 1-D target, the sum of 15 random RBF
 * bumps ({@link Synthetic#rbfTeacher}, 1000 points on [-3, 3], no noise), is fitted by the mean squared error with a
 * student RBF network {@code 1 -> h -> 1}: {@code Linear(1, h)}, {@code Act(RBF)} ({@code exp(-z^2/2)}),
 * {@code Linear(h, 1)}, in f64. The student starts with one neuron; each round trains it with full-batch Adam for a
 * fixed number of steps (to near convergence, the learning rate annealed by a cosine within the round, the
 * optimizer reset at each growth as in the official code), then grows it by one neuron with a growth method, up to
 * {@code maxNeurons}. Every method starts from the same trained one-neuron network and gets the same number of
 * training steps, so the curves differ only in how the neurons were added.
 *
 * <p>A splitting method that finds nothing to split (exact at a splitting-stable point: every {@code lambda_min >= 0})
 * does not grow that round; the network keeps its size and is trained for the round's steps all the same, so
 * its curve entry is the loss of a smaller network ({@link Curve#neurons} says which size, {@link Curve#stalls} how
 * often that happened).
 *
 * <p>Directions of a split cover a neuron's incoming weights: with the default student (bias in the layer) that is
 * the single input weight, the bias being copied to both offspring as the official code does. With
 * {@link Options#biasAsInput} the input is augmented by a constant 1 and the layer has no bias, so the directions
 * cover (weight, bias), i.e. the whole {@code theta} of the S2D derivation.
 *
 * <p>{@code main} prints the mean over seeds of the training loss at each size, per method:
 * <pre>java ... dev.sprout.growth.experiments.ToyRbf [--seeds 5] [--steps 1500] [--max 8] [--lr 0.02] [--bias-as-input] [--per-seed]</pre>
 */
public final class ToyRbf {
    private ToyRbf() {
    }

    /** The compared methods, in table order. */
    public static final List<String> METHODS = List.of("exact", "signed", "random-split", "random-new");

    /**
     * Settings of one run.
     *
     * @param bumps       teacher neurons (15)
     * @param points      training points (1000)
     * @param maxNeurons  the largest student (8)
     * @param steps       Adam steps per round (1500)
     * @param lr          Adam's learning rate at the start of each round (annealed by a cosine to {@code lr/100})
     * @param biasAsInput whether splits may also move the bias (input augmented by a constant 1)
     * @param methods     methods to compare (names for {@link Methods#create})
     */
    public record Options(int bumps, int points, int maxNeurons, int steps, double lr, boolean biasAsInput,
                          List<String> methods) {
        public Options {
            if (bumps < 1 || points < 2 || maxNeurons < 1 || steps < 0 || !(lr > 0)) {
                throw new IllegalArgumentException("toy rbf: invalid options " + bumps + ", " + points + ", " + maxNeurons
                        + ", " + steps + ", " + lr);
            }
            methods = List.copyOf(methods);
        }

        public static Options defaults() {
            return new Options(15, 1000, 8, 1500, 0.02, false, METHODS);
        }

        public Options withSteps(int s) {
            return new Options(bumps, points, maxNeurons, s, lr, biasAsInput, methods);
        }

        public Options withMaxNeurons(int m) {
            return new Options(bumps, points, m, steps, lr, biasAsInput, methods);
        }

        public Options withLr(double l) {
            return new Options(bumps, points, maxNeurons, steps, l, biasAsInput, methods);
        }

        public Options withBiasAsInput(boolean b) {
            return new Options(bumps, points, maxNeurons, steps, lr, b, methods);
        }
    }

    /**
     * One method's curve: {@code loss[t]} is the training MSE after round {@code t} (round 0: the trained
     * one-neuron network; round t: after t growth attempts and the training that followed), {@code neurons[t]}
     * the network's size then.
     */
    public record Curve(String method, double[] loss, int[] neurons, int stalls) {
        public double finalLoss() {
            return loss[loss.length - 1];
        }
    }

    /** A seed's curves, by method name in the options' order. */
    public record Result(long seed, Map<String, Curve> curves) {
    }

    /** Runs R1 for one seed (teacher, data, student initialisation and growth randomness all follow from it). */
    public static Result run(long seed, Options o) {
        Dataset train = Synthetic.rbfTeacher(1, o.bumps(), o.points(), 1, 0.0, seed).train();
        if (o.biasAsInput()) {
            float[] x = train.inputs().toFloatArray();
            float[] aug = new float[2 * x.length];
            for (int i = 0; i < x.length; i++) {
                aug[2 * i] = x[i];
                aug[2 * i + 1] = 1f;
            }
            train = Dataset.regression(train.name() + "+1", Tensor.of(aug, x.length, 2), train.targets());
        }
        Tensor xs = train.inputs().to(DType.F64), ys = train.targets().to(DType.F64);
        Rng root = new Rng(seed ^ 0x70b_ab1eL);
        Sequential start = student(o.biasAsInput(), root.split());
        train(start, xs, ys, o);
        double startLoss = mse(start, xs, ys);
        Map<String, Curve> curves = new LinkedHashMap<>();
        for (String name : o.methods()) {
            GrowthMethod method = Methods.create(name);
            Rng growthRng = new Rng(seed * 31 + name.hashCode());
            Sequential net = copy(start);
            int rounds = o.maxNeurons();
            double[] loss = new double[rounds];
            int[] neurons = new int[rounds];
            loss[0] = startLoss;
            neurons[0] = 1;
            int stalls = 0;
            for (int t = 1; t < rounds; t++) {
                int h = width(net);
                GrowthContext ctx = new GrowthContext(net, train, o.points(), 1.0 / (h + 1), growthRng, new CostMeter());
                Plan plan = method.propose(ctx);
                if (plan.size() == 0) {
                    stalls++;
                } else {
                    Surgery.apply(net, plan, null);
                }
                train(net, xs, ys, o);
                loss[t] = mse(net, xs, ys);
                neurons[t] = width(net);
            }
            curves.put(name, new Curve(name, loss, neurons, stalls));
        }
        return new Result(seed, curves);
    }

    /** The student {@code in -> 1 -> 1}: Linear (with a bias unless the input carries the constant), RBF, Linear. */
    static Sequential student(boolean biasAsInput, Rng rng) {
        int in = biasAsInput ? 2 : 1;
        return new Sequential(new Linear(in, 1, !biasAsInput, rng, DType.F64), new Act(Activation.RBF),
                new Linear(1, 1, true, rng, DType.F64));
    }

    static int width(Sequential net) {
        return ((Linear) net.get(0)).out();
    }

    /** A copy of the student with the same parameters (fresh tensors). */
    static Sequential copy(Sequential net) {
        Linear a = (Linear) net.get(0), b = (Linear) net.get(2);
        Rng dummy = new Rng(0);
        Sequential out = new Sequential(new Linear(a.in(), a.out(), a.hasBias(), dummy, DType.F64), new Act(Activation.RBF),
                new Linear(b.in(), b.out(), b.hasBias(), dummy, DType.F64));
        for (int i : new int[] {0, 2}) {
            Module src = net.get(i), dst = out.get(i);
            Map<String, Tensor> p = new LinkedHashMap<>();
            for (Map.Entry<String, Tensor> e : src.namedParameters().entrySet()) {
                p.put(e.getKey(), Tensor.of(e.getValue().toDoubleArray(), e.getValue().shape().toArray()));
            }
            dst.replace(p, Map.of());
        }
        return out;
    }

    /** Full-batch Adam for {@code o.steps()} steps, learning rate annealed by a cosine from lr to lr/100. */
    static void train(Sequential net, Tensor x, Tensor y, Options o) {
        net.train(true);
        Adam opt = new Adam(net, o.lr());
        double min = o.lr() / 100;
        for (int s = 0; s < o.steps(); s++) {
            opt.setLearningRate(min + (o.lr() - min) * (1 + Math.cos(Math.PI * s / o.steps())) / 2);
            opt.zeroGrad();
            Tensor l = Losses.mse(net.forward(x), y);
            l.backward();
            opt.step();
        }
    }

    static double mse(Sequential net, Tensor x, Tensor y) {
        return Losses.mse(net.predict(x), y).item();
    }

    // ------------------------------------------------------------------------------------------ reporting

    /** Mean over results of each method's loss at each round. */
    public static Map<String, double[]> meanCurves(List<Result> results) {
        Map<String, double[]> out = new LinkedHashMap<>();
        for (Result r : results) {
            for (Curve c : r.curves().values()) {
                double[] acc = out.computeIfAbsent(c.method(), k -> new double[c.loss().length]);
                for (int t = 0; t < acc.length; t++) {
                    acc[t] += c.loss()[t] / results.size();
                }
            }
        }
        return out;
    }

    /** The table {@code main} prints: rounds (neurons after growth) as rows, methods as columns, mean MSE. */
    public static String table(List<Result> results) {
        Map<String, double[]> mean = meanCurves(results);
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "%-8s", "neurons"));
        for (String m : mean.keySet()) {
            sb.append(String.format(Locale.ROOT, " %14s", m));
        }
        sb.append('\n');
        int rounds = mean.values().iterator().next().length;
        for (int t = 0; t < rounds; t++) {
            sb.append(String.format(Locale.ROOT, "%-8d", t + 1));
            for (double[] v : mean.values()) {
                sb.append(String.format(Locale.ROOT, " %14.6f", v[t]));
            }
            sb.append('\n');
        }
        sb.append(String.format(Locale.ROOT, "%-8s", "stalls"));
        for (String m : mean.keySet()) {
            int stalls = 0;
            for (Result r : results) {
                stalls += r.curves().get(m).stalls();
            }
            sb.append(String.format(Locale.ROOT, " %14d", stalls));
        }
        sb.append('\n');
        return sb.toString();
    }

    /** Each seed's final loss per method (one row per seed). */
    public static String finalLosses(List<Result> results) {
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "%-8s", "seed"));
        for (String m : results.get(0).curves().keySet()) {
            sb.append(String.format(Locale.ROOT, " %14s", m));
        }
        sb.append('\n');
        for (Result r : results) {
            sb.append(String.format(Locale.ROOT, "%-8d", r.seed()));
            for (Curve c : r.curves().values()) {
                sb.append(String.format(Locale.ROOT, " %14.6f", c.finalLoss()));
            }
            sb.append('\n');
        }
        return sb.toString();
    }

    public static void main(String[] args) {
        Options o = Options.defaults();
        int seeds = 5;
        boolean perSeed = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--seeds" -> seeds = Integer.parseInt(args[++i]);
                case "--steps" -> o = o.withSteps(Integer.parseInt(args[++i]));
                case "--max" -> o = o.withMaxNeurons(Integer.parseInt(args[++i]));
                case "--lr" -> o = o.withLr(Double.parseDouble(args[++i]));
                case "--bias-as-input" -> o = o.withBiasAsInput(true);
                case "--per-seed" -> perSeed = true;
                default -> throw new IllegalArgumentException("toy rbf: unknown argument " + args[i]
                        + " (known: --seeds N, --steps N, --max N, --lr X, --bias-as-input, --per-seed)");
            }
        }
        long t0 = System.nanoTime();
        List<Result> results = new ArrayList<>();
        for (int s = 1; s <= seeds; s++) {
            results.add(run(s, o));
        }
        System.out.printf(Locale.ROOT, "R1 toy RBF: teacher %d bumps, %d points, %d Adam steps per round (lr %g), %s, mean of %d seeds%n",
                o.bumps(), o.points(), o.steps(), o.lr(), o.biasAsInput() ? "splits move (weight, bias)" : "splits move the weight (bias copied)", seeds);
        System.out.print(table(results));
        if (perSeed) {
            System.out.print("final loss per seed\n" + finalLosses(results));
        }
        System.out.printf(Locale.ROOT, "(%.1f s)%n", (System.nanoTime() - t0) / 1e9);
    }
}
