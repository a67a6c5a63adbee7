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
 * <p>Directions of a split cover the neuron's whole parameter {@code theta = (w, b)}, as in the S2D derivation
 * ({@code f(x) = sum_i a_i sigma(w_i x + b_i)}, the split moves {@code theta_i}): the input is augmented by a constant
 * 1 and the first layer has no bias ({@link Options#biasAsInput}, the default). {@code --bias-copied} keeps the
 * variant of the official conv code, where the layer's bias is copied to both offspring and the directions cover the
 * input weight only; with a 1-D input its splitting matrix is {@code 1 x 1}, and exact splitting is then splitting
 * stable (proposes nothing) in most rounds.
 *
 * <p>Methods are given as {@code name[:key=value...]} (options for {@link Methods#create}), e.g. {@code firefly:k=5}
 * (the spec's K = 5 new candidates). {@code main} prints the mean and standard deviation over seeds of the training
 * loss after each round, per method, with the mean number of neurons where a method did not always grow:
 * <pre>java ... dev.sprout.growth.experiments.ToyRbf [--seeds 5] [--steps 1500] [--max 8] [--lr 0.02] [--bias-copied]
 *     [--methods exact,signed,random-split,random-new,net2net,firefly:k=5] [--per-seed] [--neurons] [--markdown]</pre>
 */
public final class ToyRbf {
    private ToyRbf() {
    }

    /** The methods of R1's prediction, in table order: two splitting methods and two random baselines. */
    public static final List<String> METHODS = List.of("exact", "signed", "random-split", "random-new");
    /**
     * R1 (g), not a growth method: at every round, a network of that round's size trained from scratch (a fresh random
     * initialisation) for as many Adam steps as the grown networks had in all by then ({@code (t + 1) * steps}, one
     * cosine schedule over them).
     */
    public static final String STATIC = "static";
    /** What {@code main} compares by default: {@link #METHODS}, Net2Net (copy + noise), Firefly with K = 5 and static. */
    public static final List<String> DEFAULT_METHODS = List.of("exact", "signed", "random-split", "random-new", "net2net",
            "firefly:k=5", STATIC);

    /**
     * Settings of one run.
     *
     * @param bumps       teacher neurons (15)
     * @param points      training points (1000)
     * @param maxNeurons  the largest student (8)
     * @param steps       Adam steps per round (1500)
     * @param lr          Adam's learning rate at the start of each round (annealed by a cosine to {@code lr/100})
     * @param biasAsInput whether splits also move the bias (input augmented by a constant 1; the default), or the
     *                    bias is copied to both offspring ({@code --bias-copied})
     * @param methods     methods to compare: {@code name[:key=value...]} ({@link #method})
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
            return new Options(15, 1000, 8, 1500, 0.02, true, METHODS);
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

        public Options withMethods(List<String> m) {
            return new Options(bumps, points, maxNeurons, steps, lr, biasAsInput, m);
        }
    }

    /**
     * One method's curve: {@code loss[t]} is the training MSE after round {@code t} (round 0: the trained
     * one-neuron network; round t: after t growth attempts and the training that followed), {@code neurons[t]}
     * the network's size then; {@code finalNeurons}: the final network's neurons as {@code {centre, width,
     * amplitude}} ({@link #neurons}); {@code seconds}: wall time of the method's growth and training rounds.
     */
    public record Curve(String method, double[] loss, int[] neurons, int stalls, double[][] finalNeurons,
                        double seconds) {
        /** A curve without the final network's neurons and timing. */
        public Curve(String method, double[] loss, int[] neurons, int stalls) {
            this(method, loss, neurons, stalls, new double[0][], 0);
        }

        public double finalLoss() {
            return loss[loss.length - 1];
        }
    }

    /** A seed's curves, by method name in the options' order. */
    public record Result(long seed, Map<String, Curve> curves) {
    }

    /**
     * The growth method of an entry {@code name[:key=value[:key=value...]]}, e.g. {@code firefly:k=5}.
     *
     * @throws IllegalArgumentException for an unknown method or option, or an option without {@code =}
     */
    public static GrowthMethod method(String entry) {
        String[] parts = entry.trim().split(":");
        Map<String, String> options = new LinkedHashMap<>();
        for (int i = 1; i < parts.length; i++) {
            int eq = parts[i].indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("toy rbf: option '" + parts[i] + "' of " + parts[0] + " must be key=value");
            }
            options.put(parts[i].substring(0, eq).trim(), parts[i].substring(eq + 1).trim());
        }
        return Methods.create(parts[0].trim(), options);
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
            if (name.equals(STATIC)) {
                curves.put(name, fromScratch(seed, xs, ys, startLoss, o));
                continue;
            }
            GrowthMethod method = method(name);
            Rng growthRng = new Rng(seed * 31 + name.hashCode());
            long t0 = System.nanoTime();
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
            curves.put(name, new Curve(name, loss, neurons, stalls, neurons(net), (System.nanoTime() - t0) / 1e9));
        }
        return new Result(seed, curves);
    }

    /**
     * R1 (g): round {@code t}'s entry is a network of {@code t + 1} neurons trained from a fresh initialisation for
     * {@code (t + 1) * steps} steps, the budget the grown networks had in all by then; round 0 is the shared start.
     */
    static Curve fromScratch(long seed, Tensor xs, Tensor ys, double startLoss, Options o) {
        long t0 = System.nanoTime();
        int rounds = o.maxNeurons();
        double[] loss = new double[rounds];
        int[] neurons = new int[rounds];
        loss[0] = startLoss;
        neurons[0] = 1;
        Sequential net = null;
        for (int t = 1; t < rounds; t++) {
            net = student(o.biasAsInput(), t + 1, new Rng(seed * 131 + t));
            train(net, xs, ys, o.withSteps((t + 1) * o.steps()));
            loss[t] = mse(net, xs, ys);
            neurons[t] = t + 1;
        }
        return new Curve(STATIC, loss, neurons, 0, net == null ? new double[0][] : neurons(net),
                (System.nanoTime() - t0) / 1e9);
    }

    /** The student {@code in -> 1 -> 1}: Linear (with a bias unless the input carries the constant), RBF, Linear. */
    static Sequential student(boolean biasAsInput, Rng rng) {
        return student(biasAsInput, 1, rng);
    }

    /** The student {@code in -> h -> 1} with the layers' default initialisation. */
    static Sequential student(boolean biasAsInput, int h, Rng rng) {
        int in = biasAsInput ? 2 : 1;
        return new Sequential(new Linear(in, h, !biasAsInput, rng, DType.F64), new Act(Activation.RBF),
                new Linear(h, 1, true, rng, DType.F64));
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
            opt.minimize(l);
        }
    }

    static double mse(Sequential net, Tensor x, Tensor y) {
        return Losses.mse(net.predict(x), y).item();
    }

    /**
     * The hidden neurons of a student as {@code {centre, width, amplitude}}: the bump
     * {@code a exp(-(w x + b)^2/2)} is centred at {@code -b/w}, has width {@code 1/|w|} and height {@code a}.
     */
    static double[][] neurons(Sequential net) {
        Linear in = (Linear) net.get(0), out = (Linear) net.get(2);
        int h = in.out(), fan = in.in();
        double[] w = in.parameter("weight").toDoubleArray(), a = out.parameter("weight").toDoubleArray();
        double[] bias = in.hasBias() ? in.parameter("bias").toDoubleArray() : null;
        double[][] res = new double[h][];
        for (int i = 0; i < h; i++) {
            double wi = w[i * fan], bi = bias != null ? bias[i] : w[i * fan + 1];
            res[i] = new double[] {-bi / wi, 1 / Math.abs(wi), a[i]};
        }
        return res;
    }

    // ------------------------------------------------------------------------------------------ reporting

    /** Mean over results of each method's loss at each round. */
    public static Map<String, double[]> meanCurves(List<Result> results) {
        return stat(results, false, false);
    }

    /** Sample standard deviation over results of each method's loss at each round (0 for one result). */
    public static Map<String, double[]> sdCurves(List<Result> results) {
        return stat(results, false, true);
    }

    /** Mean over results of each method's number of neurons at each round. */
    public static Map<String, double[]> meanNeurons(List<Result> results) {
        return stat(results, true, false);
    }

    private static Map<String, double[]> stat(List<Result> results, boolean neurons, boolean sd) {
        Map<String, double[]> sum = new LinkedHashMap<>(), sq = new LinkedHashMap<>();
        for (Result r : results) {
            for (Curve c : r.curves().values()) {
                double[] acc = sum.computeIfAbsent(c.method(), k -> new double[c.loss().length]);
                double[] acc2 = sq.computeIfAbsent(c.method(), k -> new double[c.loss().length]);
                for (int t = 0; t < acc.length; t++) {
                    double v = neurons ? c.neurons()[t] : c.loss()[t];
                    acc[t] += v;
                    acc2[t] += v * v;
                }
            }
        }
        int n = results.size();
        Map<String, double[]> out = new LinkedHashMap<>();
        for (Map.Entry<String, double[]> e : sum.entrySet()) {
            double[] s = e.getValue(), s2 = sq.get(e.getKey()), v = new double[s.length];
            for (int t = 0; t < s.length; t++) {
                double mean = s[t] / n;
                v[t] = !sd ? mean : n < 2 ? 0 : Math.sqrt(Math.max(0, (s2[t] - n * mean * mean) / (n - 1)));
            }
            out.put(e.getKey(), v);
        }
        return out;
    }

    /**
     * The table {@code main} prints: one row per round (round 0: the shared one-neuron network; round t: after t
     * growth attempts, i.e. {@code t + 1} neurons for a method that always grew), one column per method, each cell
     * the mean and standard deviation of the training MSE over the results. A method that did not grow in some round
     * (exact splitting at a splitting-stable point) has fewer neurons there; its cell then ends with the mean
     * number of neurons in brackets, so that its loss is never read as that of a larger network.
     */
    public static String table(List<Result> results) {
        return render(results, false);
    }

    /** {@link #table} as a Markdown table. */
    public static String markdown(List<Result> results) {
        return render(results, true);
    }

    private static String render(List<Result> results, boolean md) {
        Map<String, double[]> mean = meanCurves(results), sd = sdCurves(results), nrn = meanNeurons(results);
        StringBuilder sb = new StringBuilder();
        int rounds = mean.values().iterator().next().length;
        List<String> head = new ArrayList<>(List.of("round", "neurons"));
        head.addAll(mean.keySet());
        row(sb, head, md, true);
        if (md) {
            row(sb, java.util.Collections.nCopies(head.size(), "---"), true, false);
        }
        for (int t = 0; t < rounds; t++) {
            List<String> cells = new ArrayList<>(List.of(Integer.toString(t), Integer.toString(t + 1)));
            for (String m : mean.keySet()) {
                String cell = String.format(Locale.ROOT, "%.6f ± %.6f", mean.get(m)[t], sd.get(m)[t]);
                double n = nrn.get(m)[t];
                if (Math.abs(n - (t + 1)) > 1e-9) {
                    cell += String.format(Locale.ROOT, " [%.1f]", n);
                }
                cells.add(cell);
            }
            row(sb, cells, md, false);
        }
        List<String> secs = new ArrayList<>(List.of("s/seed", ""));
        for (String m : mean.keySet()) {
            double tot = 0;
            for (Result r : results) {
                tot += r.curves().get(m).seconds();
            }
            secs.add(String.format(Locale.ROOT, "%.1f", tot / results.size()));
        }
        row(sb, secs, md, false);
        List<String> stalls = new ArrayList<>(List.of("stalls", ""));
        for (String m : mean.keySet()) {
            int k = 0;
            for (Result r : results) {
                k += r.curves().get(m).stalls();
            }
            stalls.add(Integer.toString(k));
        }
        row(sb, stalls, md, false);
        return sb.toString();
    }

    private static void row(StringBuilder sb, List<String> cells, boolean md, boolean header) {
        for (int i = 0; i < cells.size(); i++) {
            if (md) {
                sb.append("| ").append(cells.get(i)).append(' ');
            } else {
                sb.append(String.format(Locale.ROOT, i < 2 ? "%-8s" : " %-30s", cells.get(i)));
            }
        }
        sb.append(md ? "|\n" : "\n");
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

    /**
     * Each seed's final neurons per method, sorted by centre, as {@code centre/width/amplitude}, and the spread of
     * the centres (largest minus smallest): how much of the input range [-3, 3] the network's bumps reach.
     */
    public static String finalNeurons(List<Result> results) {
        StringBuilder sb = new StringBuilder();
        for (Result r : results) {
            for (Curve c : r.curves().values()) {
                double[][] nrn = c.finalNeurons().clone();
                java.util.Arrays.sort(nrn, java.util.Comparator.comparingDouble(v -> v[0]));
                sb.append(String.format(Locale.ROOT, "seed %d %-14s centre range %5.2f:", r.seed(), c.method(),
                        nrn.length == 0 ? 0.0 : nrn[nrn.length - 1][0] - nrn[0][0]));
                for (double[] v : nrn) {
                    sb.append(String.format(Locale.ROOT, " %.2f/%.2f/%.2f", v[0], v[1], v[2]));
                }
                sb.append('\n');
            }
        }
        return sb.toString();
    }

    public static void main(String[] args) {
        Options o = Options.defaults().withMethods(DEFAULT_METHODS);
        int seeds = 5;
        boolean perSeed = false, showNeurons = false, md = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--seeds" -> seeds = Integer.parseInt(args[++i]);
                case "--steps" -> o = o.withSteps(Integer.parseInt(args[++i]));
                case "--max" -> o = o.withMaxNeurons(Integer.parseInt(args[++i]));
                case "--lr" -> o = o.withLr(Double.parseDouble(args[++i]));
                case "--bias-as-input" -> o = o.withBiasAsInput(true);
                case "--bias-copied" -> o = o.withBiasAsInput(false);
                case "--methods" -> o = o.withMethods(List.of(args[++i].split(",")));
                case "--per-seed" -> perSeed = true;
                case "--neurons" -> showNeurons = true;
                case "--markdown" -> md = true;
                default -> throw new IllegalArgumentException("toy rbf: unknown argument " + args[i]
                        + " (known: --seeds N, --steps N, --max N, --lr X, --bias-as-input (default), --bias-copied,"
                        + " --methods a,b:key=value,..., --per-seed, --neurons, --markdown)");
            }
        }
        for (String m : o.methods()) {
            if (!m.equals(STATIC)) {
                method(m); // refuse a bad entry before running anything
            }
        }
        long t0 = System.nanoTime();
        List<Result> results = new ArrayList<>();
        for (int s = 1; s <= seeds; s++) {
            results.add(run(s, o));
        }
        System.out.printf(Locale.ROOT, "R1 toy RBF: teacher %d bumps, %d points, %d Adam steps per round (lr %g), %s, training MSE, mean ± sd of %d seeds%n",
                o.bumps(), o.points(), o.steps(), o.lr(), o.biasAsInput() ? "splits move (weight, bias)" : "splits move the weight (bias copied)", seeds);
        System.out.print(md ? markdown(results) : table(results));
        if (perSeed) {
            System.out.print("final loss per seed\n" + finalLosses(results));
        }
        if (showNeurons) {
            System.out.print("final neurons (centre/width/amplitude)\n" + finalNeurons(results));
        }
        System.out.printf(Locale.ROOT, "(%.1f s)%n", (System.nanoTime() - t0) / 1e9);
    }
}
