package dev.sprout.growth.continual;

import dev.sprout.autograd.Autograd;
import dev.sprout.autograd.Ops;
import dev.sprout.data.Batches;
import dev.sprout.data.Dataset;
import dev.sprout.growth.Selection;
import dev.sprout.nn.Losses;
import dev.sprout.nn.Module;
import dev.sprout.optim.Adam;
import dev.sprout.tensor.DType;
import dev.sprout.tensor.Rng;
import dev.sprout.tensor.Tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Task-incremental continual learning on a {@link ColumnNet} (spec sections 5.4 and 14 R4), one of four methods:
 * <ul>
 *   <li>{@code finetune}: one shared network of {@code width} neurons per layer trained on every task in turn, a head
 *   per task (old heads are not trained again; the shared layers forget);</li>
 *   <li>{@code ewc}: the same plus the EWC penalty of every earlier task ({@link Ewc}), with the diagonal Fisher of the
 *   shared layers computed after each task on {@code fisherSamples} of its training examples as the expectation over
 *   the model's own predictive distribution, {@code sum_y p(y|x) (d log p(y|x) / d theta)^2};</li>
 *   <li>{@code fixed-expansion} ("progressive-lite"): task 0 gets {@code width} neurons per layer, every later task
 *   {@code expansion} new ones per layer that read all older neurons; older neurons are frozen;</li>
 *   <li>{@code firefly-cl}: task 0 gets {@code width} neurons per layer; a later task first only <b>reuses</b> the frozen
 *   older neurons, through a learned mask over them ({@code sigmoid} of a logit per neuron, starting at
 *   {@code maskLogit}) and its head; then, while its validation accuracy is below {@code targetAccuracy} (at most
 *   {@code growSteps} times; task 0 too), it <b>grows</b> by Firefly descent: {@code candidates} gated new-neuron
 *   candidates per layer ({@link Candidates}) are trained for {@code candidateSteps} mini-batches of Adam on the
 *   task's training examples, scored by the derivative of the validation loss in their gates, the (at most)
 *   {@code growNeurons} most negative become the task's neurons ({@link Selection#topK}), and the task trains again.
 *   Older tasks are untouched, bit for bit.</li>
 * </ul>
 * Training: Adam at {@code lr}, {@code epochs} epochs per task (and again after each growth step), batches of
 * {@code batch}. After each task every task learned so far is tested, giving the accuracy matrix.
 *
 * <p>Deviations from the spec's suggestion (section 5.4, itself unconfirmed): "unlocking" an old neuron (a trainable
 * task copy) is not a candidate here; reuse is the learned mask instead.
 */
public final class ContinualLearning {
    private ContinualLearning() {
    }

    public enum Method {
        FIREFLY_CL("firefly-cl"), FINETUNE("finetune"), EWC("ewc"), FIXED_EXPANSION("fixed-expansion");

        private final String label;

        Method(String label) {
            this.label = label;
        }

        public String label() {
            return label;
        }

        public static Method parse(String s) {
            for (Method m : values()) {
                if (m.label.equals(s == null ? null : s.trim().toLowerCase(Locale.ROOT))) {
                    return m;
                }
            }
            throw new IllegalArgumentException("unknown continual-learning method '" + s + "' (known: " + String.join(", ", labels()) + ")");
        }

        public static List<String> labels() {
            List<String> l = new ArrayList<>();
            for (Method m : values()) {
                l.add(m.label);
            }
            return l;
        }
    }

    /** Every setting (see the class comment). */
    public record Options(Method method, int layers, int width, int epochs, int batch, double lr, long seed, double ewcLambda,
                          int fisherSamples, int expansion, double targetAccuracy, int growSteps, int growNeurons, int candidates,
                          int candidateSteps, double candidateLr, double maskLogit) {
        public Options {
            if (layers < 1 || width < 1 || epochs < 1 || batch < 1 || fisherSamples < 1 || expansion < 1 || growSteps < 0
                    || growNeurons < 1 || candidates < 1 || candidateSteps < 0) {
                throw new IllegalArgumentException("continual: layers, width, epochs, batch, fisher samples, expansion, grow neurons"
                        + " and candidates must be >= 1; grow steps and candidate steps >= 0");
            }
            if (!(lr > 0) || !(candidateLr > 0) || !Double.isFinite(lr) || !Double.isFinite(candidateLr)) {
                throw new IllegalArgumentException("continual: learning rates must be positive, got " + lr + ", " + candidateLr);
            }
            if (!(ewcLambda >= 0) || !Double.isFinite(ewcLambda)) {
                throw new IllegalArgumentException("continual: EWC lambda must be finite and >= 0, got " + ewcLambda);
            }
            if (!(targetAccuracy >= 0 && targetAccuracy <= 1)) {
                throw new IllegalArgumentException("continual: target accuracy must be in [0, 1], got " + targetAccuracy);
            }
        }

        /** The defaults for a method. */
        public static Options defaults(Method m) {
            return new Options(m, 2, 16, 2, 64, 2e-3, 1, 100, 200, 8, 0.97, 3, 8, 16, 50, 1e-2, 2.0);
        }

        public Options with(Method m) {
            return new Options(m, layers, width, epochs, batch, lr, seed, ewcLambda, fisherSamples, expansion, targetAccuracy, growSteps,
                    growNeurons, candidates, candidateSteps, candidateLr, maskLogit);
        }
    }

    /** One growth step of firefly-cl: what it added and the validation loss around it. */
    public record GrowthStep(int task, int[] added, double validationAccuracyBefore, double lossBefore, double lossAfter,
                             double seconds) {
    }

    /**
     * What a run measured: {@code accuracy[i][j]} = test accuracy on task {@code j} after task {@code i} ({@code j <= i}),
     * the parameters and layer widths after each task, the growth steps, and seconds per task.
     */
    public record Result(Method method, double[][] accuracy, long[] params, int[][] widths, List<GrowthStep> growth,
                         double[] seconds) {
        public double averageAccuracy() {
            return Metrics.averageAccuracy(accuracy, accuracy.length - 1);
        }

        public double forgetting() {
            return Metrics.forgetting(accuracy);
        }

        public double backwardTransfer() {
            return Metrics.backwardTransfer(accuracy);
        }
    }

    /** A learner in the middle of a task stream (tests look at its network between tasks). */
    public static final class Learner {
        private final Options o;
        private final ColumnNet net;
        private final Ewc ewc;
        private final Rng rng;
        private final List<GrowthStep> growth = new ArrayList<>();
        private final Consumer<String> log;

        public Learner(Options o, int inputs, Consumer<String> log) {
            this.o = o;
            this.net = new ColumnNet(inputs, o.layers());
            this.ewc = o.method() == Method.EWC ? new Ewc(o.ewcLambda()) : null;
            this.rng = new Rng(o.seed()).split();
            this.log = log == null ? s -> { } : log;
        }

        public ColumnNet net() {
            return net;
        }

        public List<GrowthStep> growth() {
            return List.copyOf(growth);
        }

        /** Learns the next task (its index must be the number of tasks learned so far). */
        public void learn(SplitTasks.Task t) {
            int s = t.index();
            if (s != net.tasks()) {
                throw new IllegalArgumentException("continual: task " + s + " comes after " + net.tasks() + " tasks; learn them in order");
            }
            Method m = o.method();
            boolean shared = m == Method.FINETUNE || m == Method.EWC;
            if (s == 0 || m == Method.FIXED_EXPANSION) {
                int n = s == 0 ? o.width() : o.expansion();
                for (int l = 0; l < net.layers(); l++) {
                    net.addNeurons(l, s, n, rng);
                }
            }
            net.addHead(s, t.numClasses());
            if (m == Method.FIREFLY_CL && s > 0) {
                net.addMask(s, o.maskLogit());
            }
            train(t, shared);
            if (m == Method.FIREFLY_CL) {
                for (int step = 0; step < o.growSteps(); step++) {
                    Evaluation v = evaluate(net, s, t.validation());
                    if (v.accuracy() >= o.targetAccuracy()) {
                        break;
                    }
                    if (!grow(t, v)) {
                        break;
                    }
                    train(t, false);
                }
            }
            if (ewc != null) {
                ewc.add(fisher(net, s, t.train(), o.fisherSamples()));
            }
        }

        private void train(SplitTasks.Task t, boolean shared) {
            int s = t.index();
            net.refreshLeaves();
            Map<String, Tensor> params = net.trainables(s, shared);
            for (Tensor x : net.all().values()) {
                x.requiresGrad(false);
            }
            Adam opt = new Adam(new Holder(params), o.lr());
            Map<String, Tensor> consolidated = shared ? params : Map.of();
            Dataset d = t.train();
            int b = Math.min(o.batch(), d.size());
            for (int e = 0; e < o.epochs(); e++) {
                for (Batches.Batch batch : Batches.epoch(d, b, o.seed() * 7919 + s, e + 1 + 100 * growth.size(), true, false)) {
                    opt.zeroGrad();
                    Tensor loss = Losses.crossEntropy(net.forward(s, batch.inputs()), batch.labels());
                    Tensor pen = ewc == null ? null : ewc.penalty(consolidated);
                    if (pen != null) {
                        loss = loss.add(pen);
                    }
                    opt.minimize(loss);
                }
            }
            for (Tensor x : params.values()) {
                x.requiresGrad(false).setGrad(null);
            }
        }

        /** One Firefly-CL growth step; false when no candidate would lower the loss. */
        private boolean grow(SplitTasks.Task t, Evaluation before) {
            long t0 = System.nanoTime();
            int s = t.index();
            net.refreshLeaves();
            for (Tensor x : net.all().values()) {
                x.requiresGrad(false);
            }
            Candidates c = Candidates.create(net, s, o.candidates(), 0.01, rng);
            Adam opt = new Adam(new Holder(c.weights()), o.candidateLr());
            Dataset d = t.train();
            int b = Math.min(o.batch(), d.size()), done = 0;
            for (int e = 1; done < o.candidateSteps(); e++) {
                for (Batches.Batch batch : Batches.epoch(d, b, o.seed() * 31 + s, e, true, false)) {
                    if (done++ >= o.candidateSteps()) {
                        break;
                    }
                    opt.zeroGrad();
                    opt.minimize(Losses.crossEntropy(net.forward(s, batch.inputs(), c), batch.labels()));
                }
            }
            double[][] score = score(net, c, t.validation());
            List<Selection.Candidate> all = new ArrayList<>();
            for (int l = 0; l < score.length; l++) {
                for (int j = 0; j < score[l].length; j++) {
                    all.add(new Selection.Candidate(Integer.toString(l), j, score[l][j], 1));
                }
            }
            List<Selection.Candidate> chosen = Selection.topK(all, o.growNeurons());
            if (chosen.isEmpty()) {
                log.accept(String.format(Locale.ROOT, "task %d: no candidate lowers the validation loss; growth stops", s));
                return false;
            }
            int[][] pick = new int[net.layers()][];
            int[] added = new int[net.layers()];
            for (int l = 0; l < pick.length; l++) {
                final int layer = l;
                pick[l] = chosen.stream().filter(x -> x.site().equals(Integer.toString(layer))).mapToInt(Selection.Candidate::neuron)
                        .sorted().toArray();
                added[l] = pick[l].length;
            }
            c.materialise(net, pick);
            Evaluation after = evaluate(net, s, t.validation());
            GrowthStep g = new GrowthStep(s, added, before.accuracy(), before.loss(), after.loss(), (System.nanoTime() - t0) / 1e9);
            growth.add(g);
            log.accept(String.format(Locale.ROOT, "task %d: validation accuracy %.4f < %.4f: grew %s neurons per layer; validation"
                    + " loss %.4f -> %.4f (%.1f s)", s, before.accuracy(), o.targetAccuracy(), Arrays.toString(added), before.loss(),
                    after.loss(), g.seconds()));
            return true;
        }
    }

    /** Runs the whole stream of tasks; {@code log} gets a line per task and growth step (may be null). */
    public static Result run(List<SplitTasks.Task> tasks, Options o, Consumer<String> log) {
        Consumer<String> out = log == null ? s -> { } : log;
        Learner learner = new Learner(o, tasks.get(0).train().exampleSize(), log);
        int n = tasks.size();
        double[][] acc = new double[n][];
        long[] params = new long[n];
        int[][] widths = new int[n][];
        double[] seconds = new double[n];
        for (int i = 0; i < n; i++) {
            long t0 = System.nanoTime();
            learner.learn(tasks.get(i));
            seconds[i] = (System.nanoTime() - t0) / 1e9;
            acc[i] = new double[i + 1];
            for (int j = 0; j <= i; j++) {
                acc[i][j] = evaluate(learner.net(), j, tasks.get(j).test()).accuracy();
            }
            params[i] = learner.net().parameterCount();
            widths[i] = learner.net().widths();
            out.accept(String.format(Locale.ROOT, "task %d (classes %s): test accuracy on tasks 0..%d %s; average %.4f; widths %s; %,d"
                    + " parameters; %.1f s", i, Arrays.toString(tasks.get(i).classes()), i, fmt(acc[i]),
                    Metrics.averageAccuracy(acc, i), Arrays.toString(widths[i]), params[i], seconds[i]));
        }
        return new Result(o.method(), acc, params, widths, learner.growth(), seconds);
    }

    private static String fmt(double[] a) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < a.length; i++) {
            sb.append(i == 0 ? "" : ", ").append(String.format(Locale.ROOT, "%.4f", a[i]));
        }
        return sb.append(']').toString();
    }

    /** Loss and accuracy of task {@code s}'s head on a dataset with local labels. */
    public record Evaluation(double loss, double accuracy) {
    }

    public static Evaluation evaluate(ColumnNet net, int s, Dataset d) {
        double loss = 0;
        int correct = 0;
        try (Autograd.Scope sc = Autograd.noGrad()) {
            for (Batches.Batch b : Batches.epoch(d, Math.min(512, d.size()), 0, 0, false, false)) {
                Tensor out = net.forward(s, b.inputs());
                loss += Losses.crossEntropy(out, b.labels()).item() * b.size();
                int[] pred = out.argmax(1).toArray();
                for (int i = 0; i < pred.length; i++) {
                    correct += pred[i] == b.labels()[i] ? 1 : 0;
                }
            }
        }
        return new Evaluation(loss / d.size(), (double) correct / d.size());
    }

    /** Mean over the sample of {@code dL/dg} for every candidate's gate, per layer (batch means weighted by size). */
    static double[][] score(ColumnNet net, Candidates c, Dataset sample) {
        for (Tensor w : c.weights().values()) {
            w.requiresGrad(false);
        }
        double[][] out = new double[c.gate.length][c.k];
        for (Tensor g : c.gate) {
            g.requiresGrad(true);
        }
        for (Batches.Batch b : Batches.epoch(sample, Math.min(256, sample.size()), 0, 0, false, false)) {
            Tensor loss = Losses.crossEntropy(net.forward(c.task, b.inputs(), c), b.labels());
            Tensor[] g = Autograd.grad(loss, c.gate, false);
            for (int l = 0; l < g.length; l++) {
                double[] v = g[l].toDoubleArray();
                for (int j = 0; j < v.length; j++) {
                    out[l][j] += v[j] * b.size() / sample.size();
                }
            }
        }
        return out;
    }

    /**
     * The diagonal Fisher of task {@code s}'s shared-block parameters (every block the task sees, not its head) on the
     * first {@code samples} examples: {@code mean_x sum_y p(y|x) (d log p(y|x) / d theta)^2}, with the parameters'
     * current values as the anchor.
     */
    public static Ewc.Anchor fisher(ColumnNet net, int s, Dataset d, int samples) {
        Map<String, Tensor> params = new LinkedHashMap<>();
        for (Map.Entry<String, Tensor> e : net.trainables(s, true).entrySet()) {
            if (e.getKey().startsWith("l")) {
                params.put(e.getKey(), e.getValue());
            }
        }
        Tensor[] p = params.values().toArray(new Tensor[0]);
        double[][] f = new double[p.length][];
        for (int i = 0; i < p.length; i++) {
            f[i] = new double[p[i].numel()];
            p[i].requiresGrad(true);
        }
        int n = Math.min(samples, d.size());
        for (Batches.Batch b : Batches.epoch(d.head(n), 1, 0, 0, false, false)) {
            Tensor logp = Ops.logSoftmax(net.forward(s, b.inputs()), 1);
            double[] lp = logp.toDoubleArray();
            for (int y = 0; y < lp.length; y++) {
                Tensor[] g = Autograd.grad(logp.slice(1, y, y + 1).sum(), p, false);
                double py = Math.exp(lp[y]);
                for (int i = 0; i < p.length; i++) {
                    double[] gv = g[i].toDoubleArray();
                    for (int k = 0; k < gv.length; k++) {
                        f[i][k] += py * gv[k] * gv[k] / n;
                    }
                }
            }
        }
        Map<String, Tensor> theta = new LinkedHashMap<>(), fisher = new LinkedHashMap<>();
        int i = 0;
        for (Map.Entry<String, Tensor> e : params.entrySet()) {
            Tensor t = e.getValue();
            t.requiresGrad(false);
            theta.put(e.getKey(), Tensor.of(t.toFloatArray(), t.shape().toArray()));
            fisher.put(e.getKey(), Tensor.of(f[i++], t.shape().toArray()).to(DType.F32));
        }
        return new Ewc.Anchor(theta, fisher);
    }

    /** Hands a set of tensors to an optimizer as a module's parameters. */
    static final class Holder extends Module {
        Holder(Map<String, Tensor> params) {
            params.forEach(this::registerParameter);
        }

        @Override
        public Tensor forward(Tensor x) {
            throw new UnsupportedOperationException("a parameter holder has no forward pass");
        }

        @Override
        public String type() {
            return "holder";
        }
    }
}
