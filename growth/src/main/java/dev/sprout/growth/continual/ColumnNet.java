package dev.sprout.growth.continual;

import dev.sprout.autograd.Ops;
import dev.sprout.tensor.DType;
import dev.sprout.tensor.Rng;
import dev.sprout.tensor.Tensor;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A multi-task MLP that grows by task (spec section 5.4): every hidden layer is a list of neuron <b>blocks</b>, each
 * owned by the task that created it, in task order; every task has its own <b>head</b> (a linear classifier over the
 * last hidden layer), and may have a learned <b>mask</b> over the neurons older tasks own.
 *
 * <p>A block of task {@code b} in layer {@code l} reads the neurons of layer {@code l-1} in blocks of tasks
 * {@code <= b} (a prefix of the layer, since blocks are in task order): old neurons never read newer ones. The forward
 * pass for task {@code s} uses the blocks of tasks {@code <= s}; its mask {@code sigmoid(a_{s,l})} scales the outputs
 * of layer {@code l}'s neurons of tasks {@code < s} (its own neurons are unmasked) as task {@code s} sees them; then
 * its head. So when task {@code s}'s own blocks, head and mask are the only tensors trained, every older task's
 * function stays bit-identical. Which tensors train is the learner's choice ({@link #trainables}); fine-tuning and EWC
 * train the one shared block of task 0 on every task.
 *
 * <p>Activation ReLU; f32.
 */
public final class ColumnNet {
    /** Neurons of one task in one layer: incoming weights {@code [n, in]} and biases {@code [n]}. */
    public static final class Block {
        final int task;
        Tensor w, b;

        Block(int task, Tensor w, Tensor b) {
            this.task = task;
            this.w = w;
            this.b = b;
        }

        public int task() {
            return task;
        }

        public int neurons() {
            return w.dim(0);
        }

        public Tensor weight() {
            return w;
        }

        public Tensor bias() {
            return b;
        }
    }

    private final int inputs;
    private final List<List<Block>> layers = new ArrayList<>();
    private final List<Tensor[]> heads = new ArrayList<>();          // per task: {weight [k, width], bias [k]}
    private final Map<Integer, Tensor[]> masks = new LinkedHashMap<>(); // per task: one logit vector per layer

    /** A network of {@code layers} hidden layers with no neuron yet. */
    public ColumnNet(int inputs, int layers) {
        if (inputs < 1 || layers < 1) {
            throw new IllegalArgumentException("column net: inputs and layers must be >= 1, got " + inputs + ", " + layers);
        }
        this.inputs = inputs;
        for (int l = 0; l < layers; l++) {
            this.layers.add(new ArrayList<>());
        }
    }

    public int inputs() {
        return inputs;
    }

    public int layers() {
        return layers.size();
    }

    public int tasks() {
        return heads.size();
    }

    public List<Block> blocks(int layer) {
        return List.copyOf(layers.get(layer));
    }

    /** Layer {@code l}'s neurons visible to task {@code s} (its blocks of tasks {@code <= s}). */
    public int width(int l, int s) {
        int n = 0;
        for (Block b : layers.get(l)) {
            if (b.task <= s) {
                n += b.neurons();
            }
        }
        return n;
    }

    /** Neurons of layer {@code l} owned by tasks before {@code s}. */
    public int older(int l, int s) {
        return width(l, s - 1);
    }

    /** Task {@code s}'s own block in layer {@code l}, or null. */
    public Block own(int l, int s) {
        for (Block b : layers.get(l)) {
            if (b.task == s) {
                return b;
            }
        }
        return null;
    }

    /** Inputs of a neuron of task {@code s} in layer {@code l}. */
    public int fanIn(int l, int s) {
        return l == 0 ? inputs : width(l - 1, s);
    }

    /** Every hidden layer's total width. */
    public int[] widths() {
        int[] w = new int[layers.size()];
        for (int l = 0; l < w.length; l++) {
            w[l] = width(l, Integer.MAX_VALUE);
        }
        return w;
    }

    /**
     * Adds {@code n} neurons of task {@code s} to layer {@code l} (appended to its own block, created if need be),
     * initialised like a linear layer (uniform in {@code +-1/sqrt(fan-in)}); the neurons of task {@code s} in layer
     * {@code l+1} get zero weights from them, and so does its head, so the function is unchanged. Only the newest task
     * may grow.
     */
    public void addNeurons(int l, int s, int n, Rng rng) {
        int fan = fanIn(l, s);
        double bound = 1 / Math.sqrt(fan);
        append(l, s, Tensor.rand(rng, DType.F32, -bound, bound, n, fan), new double[n], null, null);
    }

    /**
     * Appends neurons to task {@code s}'s block of layer {@code l}: their incoming weights {@code rows [n, fanIn]} and
     * biases; their outgoing weights into task {@code s}'s neurons of layer {@code l+1} ({@code outNext [own_{l+1}, n]},
     * null: zero), or, for the last layer, into its head ({@code outHead [k, n]}, null: zero).
     */
    void append(int l, int s, Tensor rows, double[] bias, Tensor outNext, Tensor outHead) {
        if (s < heads.size() - 1) {
            throw new IllegalArgumentException("column net: task " + s + " is not the newest (" + (heads.size() - 1)
                    + "); its neurons are frozen");
        }
        int n = rows.dim(0);
        if (n == 0) {
            return;
        }
        if (rows.dim(1) != fanIn(l, s)) {
            throw new IllegalArgumentException("column net: new neurons of layer " + l + " need " + fanIn(l, s) + " inputs, got " + rows.dim(1));
        }
        Block own = own(l, s);
        Tensor b = Tensor.of(bias, n).to(DType.F32);
        if (own == null) {
            layers.get(l).add(new Block(s, rows.detach().contiguous(), b));
        } else {
            own.w = Ops.concat(0, own.w.detach(), rows.detach()).detach();
            own.b = Ops.concat(0, own.b.detach(), b).detach();
        }
        if (l + 1 < layers.size()) {
            Block next = own(l + 1, s);
            if (next != null) {
                Tensor cols = outNext != null ? outNext.detach() : Tensor.zeros(DType.F32, next.neurons(), n);
                next.w = Ops.concat(1, next.w.detach(), cols).detach().contiguous();
            }
        } else if (s < heads.size()) {
            Tensor[] h = heads.get(s);
            Tensor cols = outHead != null ? outHead.detach() : Tensor.zeros(DType.F32, h[0].dim(0), n);
            h[0] = Ops.concat(1, h[0].detach(), cols).detach().contiguous();
        }
    }

    /**
     * Adds task {@code s}'s head ({@code classes} outputs over the last layer as it is now), starting at zero: a new
     * task starts from uniform predictions, whatever the scale of the older neurons it reuses.
     */
    public void addHead(int s, int classes) {
        if (s != heads.size()) {
            throw new IllegalArgumentException("column net: the next head is task " + heads.size() + "'s, not " + s + "'s");
        }
        int width = width(layers.size() - 1, s);
        heads.add(new Tensor[] {Tensor.zeros(DType.F32, classes, width), Tensor.zeros(DType.F32, classes)});
    }

    public Tensor[] head(int s) {
        return heads.get(s);
    }

    /** Gives task {@code s} a learned mask over the older tasks' neurons of every layer, logits starting at {@code logit}. */
    public void addMask(int s, double logit) {
        Tensor[] m = new Tensor[layers.size()];
        for (int l = 0; l < m.length; l++) {
            int old = older(l, s);
            m[l] = old == 0 ? null : Tensor.full(DType.F32, logit, old);
        }
        masks.put(s, m);
    }

    /** Task {@code s}'s mask logits per layer (entries null where a layer has no older neuron), or null. */
    public Tensor[] mask(int s) {
        return masks.get(s);
    }

    /** The logits of task {@code s} (no candidates). */
    public Tensor forward(int s, Tensor x) {
        return forward(s, x, null);
    }

    /** The logits of task {@code s}, with the gated candidates {@code c} of task {@code s} in place when not null. */
    Tensor forward(int s, Tensor x, Candidates c) {
        if (s < 0 || s >= heads.size()) {
            throw new IllegalArgumentException("column net: no head for task " + s + " (tasks 0.." + (heads.size() - 1) + ")");
        }
        Tensor prev = x, prevC = null;
        for (int l = 0; l < layers.size(); l++) {
            List<Tensor> outs = new ArrayList<>();
            for (Block b : layers.get(l)) {
                if (b.task > s) {
                    continue;
                }
                int in = b.w.dim(1);
                Tensor input = prev.dim(1) == in ? prev : prev.slice(1, 0, in);
                Tensor z = input.matmul(b.w.transpose(0, 1)).add(b.b);
                if (c != null && b.task == s && prevC != null && c.outOwn[l] != null) {
                    z = z.add(prevC.matmul(c.outOwn[l].transpose(0, 1)));
                }
                outs.add(z.relu());
            }
            if (outs.isEmpty()) {
                throw new IllegalStateException("column net: layer " + l + " has no neuron for task " + s);
            }
            Tensor h = outs.size() == 1 ? outs.get(0) : Ops.concat(1, outs.toArray(new Tensor[0]));
            Tensor[] m = masks.get(s);
            if (m != null && m[l] != null) {
                int own = h.dim(1) - m[l].dim(0);
                Tensor gate = m[l].sigmoid();
                if (own > 0) {
                    gate = Ops.concat(0, gate, Tensor.ones(DType.F32, own));
                }
                h = h.mul(gate);
            }
            if (c != null) {
                Tensor zc = prev.matmul(c.in[l].transpose(0, 1));
                if (prevC != null) {
                    zc = zc.add(prevC.matmul(c.fromPrev[l].transpose(0, 1)));
                }
                prevC = zc.relu().mul(c.gate[l]);
            }
            prev = h;
        }
        Tensor[] head = heads.get(s);
        Tensor logits = prev.matmul(head[0].transpose(0, 1)).add(head[1]);
        if (c != null) {
            logits = logits.add(prevC.matmul(c.outHead.transpose(0, 1)));
        }
        return logits;
    }

    /**
     * The tensors task {@code s} trains under a policy: its own blocks, head and mask ({@code shared = false}: older
     * tasks frozen), or, with {@code shared = true}, its head and every block (fine-tuning, EWC). Names are stable:
     * {@code "l<layer>t<task>w"}, {@code "l<layer>t<task>b"}, {@code "head<task>w"}, {@code "mask<task>l<layer>"}.
     */
    public Map<String, Tensor> trainables(int s, boolean shared) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (int l = 0; l < layers.size(); l++) {
            for (Block b : layers.get(l)) {
                if (b.task == s || (shared && b.task <= s)) {
                    out.put("l" + l + "t" + b.task + "w", b.w);
                    out.put("l" + l + "t" + b.task + "b", b.b);
                }
            }
        }
        out.put("head" + s + "w", heads.get(s)[0]);
        out.put("head" + s + "b", heads.get(s)[1]);
        Tensor[] m = masks.get(s);
        if (m != null) {
            for (int l = 0; l < m.length; l++) {
                if (m[l] != null) {
                    out.put("mask" + s + "l" + l, m[l]);
                }
            }
        }
        return out;
    }

    /** Every tensor of the network by the names of {@link #trainables}, for snapshots and parameter counts. */
    public Map<String, Tensor> all() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (int s = 0; s < heads.size(); s++) {
            out.putAll(trainables(s, false));
        }
        return out;
    }

    /** Parameters: every block's weights and biases, every head, every mask logit. */
    public long parameterCount() {
        long n = 0;
        for (Tensor t : all().values()) {
            n += t.numel();
        }
        return n;
    }

    /**
     * Replaces the tensor named as in {@link #trainables} by a new leaf of the same values (training works on
     * leaves; growth builds tensors by concatenation).
     */
    void refreshLeaves() {
        for (List<Block> blocks : layers) {
            for (Block b : blocks) {
                b.w = leaf(b.w);
                b.b = leaf(b.b);
            }
        }
        for (Tensor[] h : heads) {
            h[0] = leaf(h[0]);
            h[1] = leaf(h[1]);
        }
        for (Tensor[] m : masks.values()) {
            for (int l = 0; l < m.length; l++) {
                if (m[l] != null) {
                    m[l] = leaf(m[l]);
                }
            }
        }
    }

    private static Tensor leaf(Tensor t) {
        return t.isLeaf() ? t : Tensor.of(t.toFloatArray(), t.shape().toArray());
    }
}
