package dev.sprout.autograd;

import dev.sprout.tensor.Kernels;
import dev.sprout.tensor.Tensor;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * Reverse-mode differentiation on the recorded graph, and the second-order entry points built on it.
 *
 * <ul>
 *   <li>{@link #grad} gives gradients of outputs with respect to chosen inputs; with {@code createGraph} the
 *       backward pass is itself recorded, so the gradients can be differentiated again.</li>
 *   <li>{@link #hvp} gives Hessian-vector products by reverse over reverse: {@code H v = d/dp (g(p) . v)}.</li>
 *   <li>{@link #jvp} gives Jacobian-vector products (forward directional derivatives) with the double-vjp trick:
 *       {@code u -> J^T u} is linear in {@code u}, so {@code J v = d/du ((J^T u) . v)}.</li>
 * </ul>
 *
 * Recording is per thread: {@link #noGrad()} turns it off in a try-with-resources scope; {@link #checked()}
 * turns on a mode in which every operation's result is checked for NaN and infinity, naming the first culprit.
 */
public final class Autograd {
    private Autograd() {
    }

    private static final ThreadLocal<boolean[]> RECORDING = ThreadLocal.withInitial(() -> new boolean[] {true});
    private static final ThreadLocal<boolean[]> CHECKED = ThreadLocal.withInitial(() -> new boolean[] {false});
    /** The leaves whose first-pass gradient {@link #hvp} only differentiates (their values are never read). */
    private static final ThreadLocal<Map<Tensor, Boolean>> VALUE_UNUSED = new ThreadLocal<>();
    /** Set while {@link #backward} computes leaf gradients: backward rules may then use storage kept by clearGrad. */
    private static final ThreadLocal<boolean[]> REUSE_LEAF_GRADS = ThreadLocal.withInitial(() -> new boolean[] {false});
    /** While {@link #backwardProvingFinite} runs: the gradient tensors its rules proved finite as they wrote them. */
    private static final ThreadLocal<Set<Tensor>> PROVEN_FINITE = new ThreadLocal<>();
    /** The op whose backward rule is running, named by checked mode's messages. */
    private static final ThreadLocal<String> IN_BACKWARD = new ThreadLocal<>();

    static String backwardContext() {
        return IN_BACKWARD.get();
    }

    /** A scope that restores the previous mode when closed. */
    public interface Scope extends AutoCloseable {
        @Override
        void close();
    }

    public static boolean isRecording() {
        return RECORDING.get()[0];
    }

    public static boolean isChecked() {
        return CHECKED.get()[0];
    }

    /**
     * Whether the gradient being built for {@code leaf} is only differentiated again, its value never read: true
     * inside {@link #hvp}'s first pass for its parameters (the second pass seeds the directions into the gradient's
     * graph, whose backward rules need their inputs, not the gradient's own value). A backward rule that produces
     * such a leaf's gradient as the last product of a chain may then record the product without computing it
     * ({@link Ops#linear}).
     */
    public static boolean gradientValueUnused(Tensor leaf) {
        Map<Tensor, Boolean> m = VALUE_UNUSED.get();
        return m != null && m.containsKey(leaf);
    }

    /**
     * Whether the running backward pass is {@link #backward}'s, which stores its results as the leaves' gradients: a
     * backward rule may then write a leaf's gradient into the storage {@link Tensor#clearGrad()} kept
     * ({@link Tensor#takeSpareGrad()}). Never during {@link #grad}, whose results belong to the caller.
     */
    public static boolean reusingLeafGradients() {
        return REUSE_LEAF_GRADS.get()[0];
    }

    /**
     * Engine use, from a backward rule: {@code g}, a gradient the rule has just written whole (a fresh tensor or the
     * storage {@link Tensor#takeSpareGrad()} handed out), holds no NaN or infinity, as the product that wrote it
     * checked ({@link Kernels#matmulFinite}). Noted only while {@link #backwardProvingFinite} runs; otherwise a no-op.
     */
    public static void provenFinite(Tensor g) {
        Set<Tensor> proven = PROVEN_FINITE.get();
        if (proven != null) {
            proven.add(g);
        }
    }

    /** Whether a backward rule's {@link #provenFinite} is being listened to (so a rule may skip a check it cannot use). */
    public static boolean provingFinite() {
        return PROVEN_FINITE.get() != null;
    }

    /** Turns gradient recording off until the scope closes. */
    public static Scope noGrad() {
        return setFlag(RECORDING.get(), false);
    }

    /** Turns gradient recording on until the scope closes. */
    public static Scope enableGrad() {
        return setFlag(RECORDING.get(), true);
    }

    /** Checks every result for NaN/infinity until the scope closes (costs a pass over each result). */
    public static Scope checked() {
        return setFlag(CHECKED.get(), true);
    }

    private static Scope setFlag(boolean[] flag, boolean value) {
        boolean prev = flag[0];
        flag[0] = value;
        return () -> flag[0] = prev;
    }

    /** Back-propagates a scalar into the {@code grad} of every leaf that requires it (accumulating). */
    public static void backward(Tensor loss) {
        backward(loss, null);
    }

    /**
     * {@link #backward(Tensor)}, and returns the leaves (by identity) whose gradient this call wrote whole and proved
     * finite while writing it: the linear layers' weight gradients, checked by the product that makes them
     * ({@link Kernels#matmulFinite}; the native backend folds each tile of C into the check from the registers as it stores it). A leaf that already
     * had a gradient (this call added to it), or whose gradient came from several uses or from a rule that proves
     * nothing, is not in the set. The proof is about the values as this call left them: it is for a caller that reads
     * the gradients right after, with nothing in between that could write them ({@code Optimizer.minimize}), and lets
     * it skip its own pass over them.
     */
    public static Set<Tensor> backwardProvingFinite(Tensor loss) {
        Set<Tensor> proven = Collections.newSetFromMap(new IdentityHashMap<>());
        Set<Tensor> outer = PROVEN_FINITE.get();
        PROVEN_FINITE.set(proven);
        try {
            return backward(loss, proven);
        } finally {
            PROVEN_FINITE.set(outer);
        }
    }

    private static Set<Tensor> backward(Tensor loss, Set<Tensor> proven) {
        if (loss.numel() != 1) {
            throw new IllegalArgumentException("backward: needs a one-element output, got " + loss.describe()
                    + "; use grad(outputs, gradOutputs, ...) for others");
        }
        if (!loss.requiresGrad()) {
            throw new IllegalStateException("backward: " + loss.describe() + " does not require grad (no parameter"
                    + " reached it, or it was computed under noGrad())");
        }
        List<Tensor> leaves = new ArrayList<>();
        for (Tensor t : topoOrder(new Tensor[] {loss})) {
            if (t.isLeaf() && t.requiresGrad()) {
                leaves.add(t);
            }
        }
        Tensor[] gs = grad(new Tensor[] {loss}, null, leaves.toArray(new Tensor[0]), false, true);
        Set<Tensor> provenLeaves = Collections.newSetFromMap(new IdentityHashMap<>());
        try (Scope s = noGrad()) {
            for (int i = 0; i < gs.length; i++) {
                Tensor leaf = leaves.get(i);
                Tensor g = gs[i];
                if (leaf.grad() == null) {
                    leaf.setGrad(g.isContiguous() ? g.detach() : Kernels.copy(g));
                    if (proven != null && proven.contains(g)) {
                        provenLeaves.add(leaf);
                    }
                } else {
                    leaf.grad().addScaled_(g, 1.0);
                }
            }
        }
        return provenLeaves;
    }

    /** Gradients of a scalar output with respect to inputs (zeros for inputs it does not depend on). */
    public static Tensor[] grad(Tensor output, Tensor[] inputs, boolean createGraph) {
        return grad(new Tensor[] {output}, null, inputs, createGraph);
    }

    /** Gradients of the sum of one-element outputs with respect to inputs. */
    public static Tensor[] grad(Tensor[] outputs, Tensor[] inputs, boolean createGraph) {
        return grad(outputs, null, inputs, createGraph);
    }

    /**
     * Gradients of {@code sum_i <gradOutputs[i], outputs[i]>} with respect to {@code inputs}.
     *
     * @param gradOutputs seeds, one per output (null: ones, only for one-element outputs)
     * @param createGraph record the backward pass so the results can be differentiated again
     */
    public static Tensor[] grad(Tensor[] outputs, Tensor[] gradOutputs, Tensor[] inputs, boolean createGraph) {
        return grad(outputs, gradOutputs, inputs, createGraph, false);
    }

    private static Tensor[] grad(Tensor[] outputs, Tensor[] gradOutputs, Tensor[] inputs, boolean createGraph,
                                 boolean intoLeafGrads) {
        Map<Tensor, Tensor> grads = new IdentityHashMap<>();
        try (Scope s = createGraph ? enableGrad() : noGrad(); Scope r = setFlag(REUSE_LEAF_GRADS.get(), intoLeafGrads)) {
            for (int i = 0; i < outputs.length; i++) {
                Tensor out = outputs[i];
                Tensor seed;
                if (gradOutputs == null || gradOutputs[i] == null) {
                    if (out.numel() != 1) {
                        throw new IllegalArgumentException("grad: output " + out.describe()
                                + " has more than one element; pass a gradOutput for it");
                    }
                    seed = Ops.constant(out, 1.0).reshape(out.shape().toArray());
                } else {
                    seed = gradOutputs[i];
                    if (!seed.shape().equals(out.shape()) || seed.dtype() != out.dtype()) {
                        throw new IllegalArgumentException("grad: gradOutput " + seed.describe() + " does not match output "
                                + out.describe());
                    }
                }
                accumulate(grads, out, seed);
            }
            List<Tensor> order = topoOrder(outputs);
            Map<Tensor, Boolean> wanted = new IdentityHashMap<>();
            for (Tensor in : inputs) {
                wanted.put(in, Boolean.TRUE);
            }
            // reverse topological order: outputs first
            for (int i = order.size() - 1; i >= 0; i--) {
                Tensor t = order.get(i);
                Node fn = t.gradFn();
                Tensor g = grads.get(t);
                if (fn == null || g == null) {
                    continue;
                }
                if (!wanted.containsKey(t)) {
                    // every contribution to t has arrived (reverse topological order): once its backward has run,
                    // its gradient is not needed again, so it need not stay reachable until the pass ends
                    grads.remove(t);
                }
                Tensor[] ins = fn.rawInputs();
                Tensor[] gin;
                String outer = IN_BACKWARD.get();
                IN_BACKWARD.set(fn.op());
                try {
                    gin = fn.backward().apply(g);
                } finally {
                    IN_BACKWARD.set(outer);
                }
                for (int j = 0; j < ins.length; j++) {
                    if (gin[j] == null || !ins[j].requiresGrad()) {
                        continue;
                    }
                    if (!gin[j].shape().equals(ins[j].shape())) {
                        throw new IllegalStateException("backward of " + fn.op() + " produced gradient " + gin[j].describe()
                                + " for input " + ins[j].describe());
                    }
                    if (isChecked()) {
                        Ops.checkFinite("backward of " + fn.op(), gin[j], ins);
                    }
                    accumulate(grads, ins[j], gin[j]);
                }
            }
            Tensor[] result = new Tensor[inputs.length];
            for (int i = 0; i < inputs.length; i++) {
                Tensor g = grads.get(inputs[i]);
                result[i] = g != null ? g : Tensor.zeros(inputs[i].dtype(), inputs[i].shape());
            }
            return result;
        }
    }

    private static void accumulate(Map<Tensor, Tensor> grads, Tensor t, Tensor g) {
        Tensor prev = grads.get(t);
        grads.put(t, prev == null ? g : prev.add(g));
    }

    /** Tensors reachable from the outputs through recorded nodes, inputs before the tensors made from them. */
    static List<Tensor> topoOrder(Tensor[] outputs) {
        List<Tensor> order = new ArrayList<>();
        Map<Tensor, Boolean> visited = new IdentityHashMap<>();
        ArrayDeque<Object[]> stack = new ArrayDeque<>();
        for (Tensor o : outputs) {
            if (o.requiresGrad() && !visited.containsKey(o)) {
                visited.put(o, Boolean.TRUE);
                stack.push(new Object[] {o, 0});
            }
            while (!stack.isEmpty()) {
                Object[] top = stack.peek();
                Tensor t = (Tensor) top[0];
                int next = (Integer) top[1];
                Node fn = t.gradFn();
                Tensor[] ins = fn == null ? new Tensor[0] : fn.rawInputs();
                if (next < ins.length) {
                    top[1] = next + 1;
                    Tensor in = ins[next];
                    if (in.requiresGrad() && !visited.containsKey(in)) {
                        visited.put(in, Boolean.TRUE);
                        stack.push(new Object[] {in, 0});
                    }
                } else {
                    stack.pop();
                    order.add(t);
                }
            }
        }
        return order;
    }

    /**
     * Hessian-vector products of a scalar function by reverse over reverse: for parameters {@code p} and
     * directions {@code v} (one per parameter, same shapes), returns {@code H v} per parameter. The function is
     * evaluated once, at the parameters as they are (those that do not require grad are treated as variables).
     */
    public static Tensor[] hvp(Function<Tensor[], Tensor> f, Tensor[] params, Tensor[] v) {
        checkDirections("hvp", params, v);
        try (Scope s = enableGrad()) {
            Tensor[] leaves = new Tensor[params.length];
            for (int i = 0; i < params.length; i++) {
                leaves[i] = params[i].requiresGrad() ? params[i] : params[i].detach().requiresGrad(true);
            }
            Tensor loss = f.apply(leaves);
            if (loss.numel() != 1) {
                throw new IllegalArgumentException("hvp: the function must return one element, got " + loss.describe());
            }
            Tensor[] g;
            Map<Tensor, Boolean> unused = new IdentityHashMap<>();
            for (Tensor l : leaves) {
                unused.put(l, Boolean.TRUE);
            }
            Map<Tensor, Boolean> outer = VALUE_UNUSED.get();
            VALUE_UNUSED.set(unused);
            try {
                // the values of g are never read below: only its graph is differentiated
                g = grad(new Tensor[] {loss}, null, leaves, true);
            } finally {
                VALUE_UNUSED.set(outer);
            }
            // H v = d/dp <g(p), v> = sum_i J_{g_i}^T v_i: the second pass is a vector-Jacobian product seeded with the
            // directions themselves, so no inner-product node is built (its forward and backward are two passes
            // over every parameter, a quarter of the non-gemm time of an MLP's HVP)
            List<Tensor> outs = new ArrayList<>(), seeds = new ArrayList<>();
            for (int i = 0; i < g.length; i++) {
                if (g[i].requiresGrad()) {
                    outs.add(g[i]);
                    seeds.add(v[i].detach());
                }
            }
            Tensor[] hv = new Tensor[params.length];
            if (outs.isEmpty()) {
                for (int i = 0; i < params.length; i++) {
                    hv[i] = Tensor.zeros(params[i].dtype(), params[i].shape());
                }
                return hv;
            }
            hv = grad(outs.toArray(new Tensor[0]), seeds.toArray(new Tensor[0]), leaves, false);
            for (int i = 0; i < hv.length; i++) {
                for (Tensor sd : seeds) { // a gradient that passes a seed through unchanged must not hand back v itself
                    if (hv[i].storage() == sd.storage()) {
                        hv[i] = Kernels.copy(hv[i]);
                        break;
                    }
                }
            }
            return hv;
        }
    }

    /**
     * The Jacobian-vector product {@code J v} of {@code f} at {@code inputs} (forward directional derivative),
     * computed by differentiating the vector-Jacobian product with respect to its seed. Returns the value of
     * {@code f} (detached) and {@code J v}.
     */
    public static Tensor[] jvp(Function<Tensor[], Tensor> f, Tensor[] inputs, Tensor[] v) {
        checkDirections("jvp", inputs, v);
        try (Scope s = enableGrad()) {
            Tensor[] leaves = new Tensor[inputs.length];
            for (int i = 0; i < inputs.length; i++) {
                leaves[i] = inputs[i].requiresGrad() ? inputs[i] : inputs[i].detach().requiresGrad(true);
            }
            Tensor y = f.apply(leaves);
            if (!y.requiresGrad()) {
                return new Tensor[] {y.detach(), Tensor.zeros(y.dtype(), y.shape())};
            }
            Tensor u = Tensor.zeros(y.dtype(), y.shape()).requiresGrad(true);
            Tensor[] vjp = grad(new Tensor[] {y}, new Tensor[] {u}, leaves, true);
            Tensor dot = null;
            for (int i = 0; i < vjp.length; i++) {
                if (!vjp[i].requiresGrad()) {
                    continue;
                }
                Tensor term = Ops.dot(vjp[i], v[i].detach());
                dot = dot == null ? term : dot.add(term);
            }
            Tensor jv = dot == null ? Tensor.zeros(y.dtype(), y.shape()) : grad(new Tensor[] {dot}, null, new Tensor[] {u}, false)[0];
            return new Tensor[] {y.detach(), jv};
        }
    }

    private static void checkDirections(String op, Tensor[] params, Tensor[] v) {
        if (params.length != v.length) {
            throw new IllegalArgumentException(op + ": " + params.length + " parameters but " + v.length + " directions");
        }
        for (int i = 0; i < params.length; i++) {
            if (!params[i].shape().equals(v[i].shape()) || params[i].dtype() != v[i].dtype()) {
                throw new IllegalArgumentException(op + ": direction " + i + " " + v[i].describe()
                        + " does not match parameter " + params[i].describe());
            }
        }
    }
}
