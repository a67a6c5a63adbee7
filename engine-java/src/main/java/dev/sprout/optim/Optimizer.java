package dev.sprout.optim;

import dev.sprout.autograd.Autograd;
import dev.sprout.autograd.NonFiniteException;
import dev.sprout.backend.Backends;
import dev.sprout.nn.Module;
import dev.sprout.tensor.DType;
import dev.sprout.tensor.Shape;
import dev.sprout.tensor.Tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Updates the parameters of one {@link Module} from their gradients.
 *
 * <h2>State keyed by name</h2>
 * Every piece of per-parameter state is a tensor shaped like its parameter, kept under the parameter's dotted
 * name ({@code "2.weight"}) and the state's name ({@code "exp_avg"}). Names, not tensor identities, because growth
 * replaces parameter tensors ({@link Module#replace}); each {@link #step()} reads the module's parameters afresh.
 * Which state tensors an optimizer keeps is listed by {@link #stateNames()} and in each subclass's comment.
 *
 * <h2>Growth</h2>
 * <ul>
 *   <li>A parameter that appears later (a new layer) gets fresh state at its first step.</li>
 *   <li>A parameter that was widened must be told about with {@link #remap}: each state tensor is rebuilt along the
 *       grown axis, old slices copied, new slices fresh (zero). Stepping a parameter whose state no longer fits
 *       its shape throws, rather than guessing.</li>
 *   <li>{@link #forget} drops a parameter's state (it starts fresh at its next step).</li>
 * </ul>
 *
 * <h2>Safety</h2>
 * {@link #step()} first checks every gradient (shape, dtype, finiteness) and every state tensor's shape, and only
 * then updates anything: a refused step leaves all parameters, all state and {@link #stepCount()} unchanged. A NaN
 * or infinite gradient is refused with a {@link NonFiniteException} naming the parameter and the element.
 * {@link #minimize} (backward and step in one call) gives the same guarantee at less cost: gradients whose products
 * proved them finite as they wrote them are not read a second time.
 *
 * <h2>Checkpoints</h2>
 * {@link #type()}, {@link #hyperParameters()}, {@link #stepCount()} and {@link #stateTensors()} are everything a
 * checkpoint needs; {@link Optimizers#create} and {@link #loadState} rebuild the optimizer from them.
 *
 * <p>Arithmetic: f64 parameters are updated per element in double precision through {@link #update}; f32 parameters
 * through {@link #updateF32} in float arithmetic, as PyTorch does (a loop the JIT can vectorise: converting every
 * element to double and back costs ~6 ns per element, ten times the float loop, on the 1.9M-parameter MLP of the
 * train benchmark that was 14 ms of a 48 ms step). An optimizer without an f32 loop falls back to {@link #update}.
 * State tensors have the parameter's dtype, as in PyTorch. Not thread-safe.
 */
public abstract class Optimizer {
    /** Separates parameter name and state name in {@link #stateTensors()} keys: {@code "2.weight#exp_avg"}. */
    public static final char STATE_SEPARATOR = '#';

    private final Module module;
    private double lr;
    private long steps;
    private final Map<String, Map<String, Tensor>> state = new LinkedHashMap<>();

    protected Optimizer(Module module, double lr) {
        if (module == null) {
            throw new IllegalArgumentException("optimizer: module is null");
        }
        this.module = module;
        setLearningRate(lr);
    }

    /** The name {@link Optimizers#create} knows this optimizer by ({@code "sgd"}, {@code "adam"}, ...). */
    public abstract String type();

    /**
     * The names of the per-parameter state tensors this optimizer keeps under its settings, each shaped like its
     * parameter (empty for plain SGD).
     */
    public abstract List<String> stateNames();

    /** The value fresh state starts with (at a parameter's first step and in new slices after {@link #remap}). */
    protected double initialValue(String stateName) {
        return 0.0;
    }

    /** Adds the hyper-parameters other than the learning rate, as strings that parse back exactly. */
    protected abstract void putHyperParameters(Map<String, String> out);

    /**
     * Updates one parameter in place. The views are contiguous element arrays of the parameter, its gradient and
     * its state tensors (in {@link #stateNames()} order); {@code fresh} is true when the state was created for
     * this step (the parameter's first update since it appeared or was forgotten).
     */
    protected abstract void update(String name, Elements param, Elements grad, Elements[] state, boolean fresh);

    /**
     * Updates one f32 parameter in place in float arithmetic: elements {@code p[po + i]}, {@code g[go + i]} and
     * {@code s[k][so[k] + i]} for {@code i < n}, state in {@link #stateNames()} order; same rule as {@link #update}.
     *
     * @return false when this optimizer has no f32 loop (then {@link #update} runs instead)
     */
    protected boolean updateF32(float[] p, int po, float[] g, int go, float[][] s, int[] so, int n, boolean fresh) {
        return false;
    }

    // ------------------------------------------------------------------------------------------ accessors

    public final Module module() {
        return module;
    }

    public final double learningRate() {
        return lr;
    }

    public final void setLearningRate(double lr) {
        if (!(lr >= 0) || Double.isInfinite(lr)) {
            throw new IllegalArgumentException(getClass().getSimpleName() + ": learning rate must be finite and >= 0, got " + lr);
        }
        this.lr = lr;
    }

    /** How many times {@link #step()} has updated the model. */
    public final long stepCount() {
        return steps;
    }

    /** The hyper-parameters ({@code lr} first), as strings that {@link Optimizers#create} parses back exactly. */
    public final Map<String, String> hyperParameters() {
        Map<String, String> out = new LinkedHashMap<>();
        out.put("lr", Double.toString(lr));
        putHyperParameters(out);
        return Collections.unmodifiableMap(out);
    }

    /** The state of one parameter by state name (live tensors), empty when it has none yet. */
    public final Map<String, Tensor> state(String paramName) {
        Map<String, Tensor> s = state.get(paramName);
        return s == null ? Map.of() : Collections.unmodifiableMap(s);
    }

    /** Names of the parameters that have state. */
    public final List<String> statefulParameters() {
        return List.copyOf(state.keySet());
    }

    /** Clears the gradients of the module's parameters, keeping their storage for reuse ({@link Module#zeroGrad()}). */
    public void zeroGrad() {
        module.zeroGrad();
    }

    // ------------------------------------------------------------------------------------------ step

    /**
     * Updates every parameter that has a gradient (parameters without one are skipped, their state untouched),
     * under {@link Autograd#noGrad()}, then counts the step.
     *
     * @throws NonFiniteException   when a gradient holds NaN or infinity (nothing is updated)
     * @throws IllegalStateException when a parameter's state no longer fits it (it was grown without {@link #remap})
     */
    public final void step() {
        step(Set.of());
    }

    /**
     * One update from a loss: {@link Autograd#backward} of {@code loss} into the parameters' gradients, then
     * {@link #step()}. The same result as those two calls, with the same refusals (a non-finite gradient updates
     * nothing), and faster: {@link Autograd#backwardProvingFinite} returns the parameters whose gradients the
     * backward pass proved finite as it computed them (the linear layers' weights, checked by the product that writes
     * them, on the native backend from the registers as each tile is stored), and the step skips its finiteness pass over exactly
     * those -- sound because no code runs between the two. The others (biases, convolutions, accumulated gradients)
     * are checked as in {@link #step()}. As with {@code backward}, gradients add to existing ones: call
     * {@link #zeroGrad()} first for a fresh step.
     *
     * @throws NonFiniteException   when a gradient holds NaN or infinity (nothing is updated; gradients are left as
     *                              backward wrote them)
     * @throws IllegalStateException when a parameter's state no longer fits it (it was grown without {@link #remap})
     */
    public final void minimize(Tensor loss) {
        step(Autograd.backwardProvingFinite(loss));
    }

    /** {@link #step()}, skipping the finiteness check of the parameters in {@code provenFinite} (by identity). */
    private void step(Set<Tensor> provenFinite) {
        List<String> names = new ArrayList<>();
        List<Tensor> params = new ArrayList<>();
        for (Map.Entry<String, Tensor> e : module.namedParameters().entrySet()) {
            Tensor p = e.getValue(), g = p.grad();
            if (g == null) {
                continue;
            }
            String name = e.getKey();
            if (p.dtype() == DType.C64 || g.dtype() != p.dtype()) {
                throw new IllegalArgumentException(type() + ": parameter " + name + " is " + p.describe() + " with gradient "
                        + g.describe() + "; optimizers update real parameters whose gradient has their dtype");
            }
            if (!g.shape().equals(p.shape())) {
                throw new IllegalStateException(type() + ": gradient of " + name + " has shape " + g.shape()
                        + " but the parameter has " + p.shape());
            }
            if (!provenFinite.contains(p)) {
                checkFinite(name, g);
            }
            Map<String, Tensor> s = state.get(name);
            if (s != null) {
                for (Map.Entry<String, Tensor> se : s.entrySet()) {
                    if (!se.getValue().shape().equals(p.shape())) {
                        throw new IllegalStateException(type() + ": state " + se.getKey() + " of " + name + " has shape "
                                + se.getValue().shape() + " but the parameter is now " + p.shape()
                                + "; after growth call remap(\"" + name + "\", ...) or forget(\"" + name + "\")");
                    }
                }
            }
            names.add(name);
            params.add(p);
        }
        List<String> stateNames = stateNames();
        try (Autograd.Scope ignored = Autograd.noGrad()) {
            for (int k = 0; k < names.size(); k++) {
                String name = names.get(k);
                Tensor p = params.get(k);
                Map<String, Tensor> s = state.get(name);
                boolean fresh = s == null;
                if (fresh) {
                    s = new LinkedHashMap<>();
                    for (String sn : stateNames) {
                        s.put(sn, Tensor.full(p.dtype(), initialValue(sn), p.shape().toArray()));
                    }
                    if (!s.isEmpty()) {
                        state.put(name, s);
                    }
                }
                Tensor work = p.isContiguous() ? p : p.contiguousData();
                Tensor g = p.grad().contiguousData();
                if (!(p.dtype() == DType.F32 && stepF32(work, g, s, stateNames, fresh))) {
                    Elements[] se = new Elements[stateNames.size()];
                    for (int i = 0; i < se.length; i++) {
                        se[i] = Elements.of(s.get(stateNames.get(i)));
                    }
                    update(name, Elements.of(work), Elements.of(g), se, fresh);
                }
                if (work != p) {
                    p.copy_(work);
                }
            }
        }
        steps++;
    }

    /** Unpacks parameter, gradient and state arrays for {@link #updateF32}. */
    private boolean stepF32(Tensor work, Tensor g, Map<String, Tensor> s, List<String> stateNames, boolean fresh) {
        float[][] sa = new float[stateNames.size()][];
        int[] so = new int[sa.length];
        for (int i = 0; i < sa.length; i++) {
            Tensor t = s.get(stateNames.get(i));
            if (!t.isContiguous()) {
                throw new IllegalStateException(type() + ": state " + stateNames.get(i) + " is not contiguous");
            }
            sa[i] = t.storage().floats();
            so[i] = t.offset();
        }
        return updateF32(work.storage().floats(), work.offset(), g.storage().floats(), g.offset(), sa, so, work.numel(), fresh);
    }

    private static void checkFinite(String name, Tensor g) {
        Tensor c = g.contiguousData();
        if (c.dtype() == DType.F32 ? Backends.current().allFinite(c.storage().floats(), c.offset(), c.numel())
                : c.dtype() == DType.F64 && Backends.current().allFinite(c.storage().doubles(), c.offset(), c.numel())) {
            return;
        }
        Elements e = Elements.of(c);
        for (int i = 0; i < e.size(); i++) {
            double v = e.get(i);
            if (!Double.isFinite(v)) {
                String what = Double.isNaN(v) ? "NaN" : v > 0 ? "+Infinity" : "-Infinity";
                throw new NonFiniteException("gradient of " + name + " contains " + what + " at element " + i
                        + (g.rank() > 1 ? " (index " + Arrays.toString(unravel(i, g.shape())) + " of " + g.shape() + ")" : "")
                        + "; refusing to update");
            }
        }
    }

    private static int[] unravel(int flat, Shape s) {
        int[] idx = new int[s.rank()];
        for (int d = s.rank() - 1; d >= 0; d--) {
            idx[d] = flat % s.dim(d);
            flat /= s.dim(d);
        }
        return idx;
    }

    // ------------------------------------------------------------------------------------------ growth

    /**
     * Rebuilds the state of parameter {@code name} after it grew (or shrank, or was permuted) along {@code axis}:
     * slice {@code j} of each new state tensor is a copy of old slice {@code from[j]}, or fresh ({@link
     * #initialValue}: zero, or Adagrad's initial accumulator) where {@code from[j] == -1}. The state's sizes on the other axes
     * are kept, so growing two axes of one parameter is two calls. Does nothing when the parameter has no state
     * (not stepped yet, or an optimizer without state such as plain SGD).
     *
     * @param newParam the parameter's new tensor (its dtype is used; its size along {@code axis} must be
     *                 {@code from.length})
     */
    public final void remap(String name, Tensor newParam, int axis, int[] from) {
        Map<String, Tensor> s = state.get(name);
        if (s == null || s.isEmpty()) {
            return;
        }
        if (newParam.dtype() == DType.C64) {
            throw new IllegalArgumentException("remap " + name + ": parameter " + newParam.describe() + " is complex");
        }
        Tensor any = s.values().iterator().next();
        Shape old = any.shape();
        if (newParam.rank() != old.rank() || axis < 0 || axis >= old.rank()) {
            throw new IllegalArgumentException("remap " + name + ": axis " + axis + " and new parameter " + newParam.describe()
                    + " do not fit state of shape " + old);
        }
        if (newParam.dim(axis) != from.length) {
            throw new IllegalArgumentException("remap " + name + ": new parameter " + newParam.describe() + " has "
                    + newParam.dim(axis) + " slices along axis " + axis + " but from[] has " + from.length);
        }
        for (int j = 0; j < from.length; j++) {
            if (from[j] < -1 || from[j] >= old.dim(axis)) {
                throw new IllegalArgumentException("remap " + name + ": from[" + j + "] = " + from[j] + " is not -1 or a slice of "
                        + old.dim(axis) + " along axis " + axis);
            }
        }
        Shape shape = old.with(axis, from.length);
        Map<String, Tensor> rebuilt = new LinkedHashMap<>();
        try (Autograd.Scope ignored = Autograd.noGrad()) {
            for (Map.Entry<String, Tensor> e : s.entrySet()) {
                Tensor src = e.getValue().dtype() == newParam.dtype() ? e.getValue() : e.getValue().to(newParam.dtype());
                Tensor dst = Tensor.full(newParam.dtype(), initialValue(e.getKey()), shape.toArray());
                for (int j = 0; j < from.length; j++) {
                    if (from[j] >= 0) {
                        dst.slice(axis, j, j + 1).copy_(src.slice(axis, from[j], from[j] + 1));
                    }
                }
                rebuilt.put(e.getKey(), dst);
            }
        }
        state.put(name, rebuilt);
    }

    /** Drops the state of one parameter; it starts fresh at its next step. */
    public final void forget(String name) {
        state.remove(name);
    }

    // ------------------------------------------------------------------------------------------ checkpoints

    /**
     * Every state tensor, keyed {@code paramName + '#' + stateName} (live tensors: copy them to keep them; do not
     * modify them).
     */
    public final Map<String, Tensor> stateTensors() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (Map.Entry<String, Map<String, Tensor>> e : state.entrySet()) {
            for (Map.Entry<String, Tensor> se : e.getValue().entrySet()) {
                out.put(stateKey(e.getKey(), se.getKey()), se.getValue());
            }
        }
        return Collections.unmodifiableMap(out);
    }

    public static String stateKey(String paramName, String stateName) {
        return paramName + STATE_SEPARATOR + stateName;
    }

    /**
     * Replaces all state with copies of {@code tensors} (keyed as {@link #stateTensors()}) and sets the step count.
     * Everything is checked first (each parameter exists in the module with that shape, each state name is one this
     * optimizer keeps, each parameter has all of them); on failure nothing changes.
     */
    public final void loadState(Map<String, Tensor> tensors, long stepCount) {
        if (stepCount < 0) {
            throw new IllegalArgumentException(type() + ": negative step count " + stepCount);
        }
        List<String> names = stateNames();
        Map<String, Tensor> params = module.namedParameters();
        Map<String, Map<String, Tensor>> loaded = new LinkedHashMap<>();
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            String key = e.getKey();
            int sep = key.lastIndexOf(STATE_SEPARATOR);
            if (sep <= 0) {
                throw new IllegalArgumentException(type() + ": malformed state key '" + key + "' (expected param#state)");
            }
            String pn = key.substring(0, sep), sn = key.substring(sep + 1);
            if (!names.contains(sn)) {
                throw new IllegalArgumentException(type() + ": state '" + sn + "' of " + pn + " is not kept by this optimizer"
                        + " (it keeps " + names + ")");
            }
            Tensor p = params.get(pn);
            if (p == null) {
                throw new IllegalArgumentException(type() + ": state for parameter " + pn + " which the model does not have");
            }
            Tensor t = e.getValue();
            if (!t.shape().equals(p.shape()) || t.dtype().isComplex()) {
                throw new IllegalArgumentException(type() + ": state " + key + " is " + t.describe() + " but the parameter is "
                        + p.describe());
            }
            Tensor copy = t.dtype() == p.dtype() ? t.contiguousData() : t.to(p.dtype());
            if (copy == t) {
                copy = Tensor.zeros(p.dtype(), p.shape());
                try (Autograd.Scope ignored = Autograd.noGrad()) {
                    copy.copy_(t);
                }
            }
            loaded.computeIfAbsent(pn, k -> new LinkedHashMap<>()).put(sn, copy);
        }
        for (Map.Entry<String, Map<String, Tensor>> e : loaded.entrySet()) {
            if (e.getValue().size() != names.size()) {
                throw new IllegalArgumentException(type() + ": parameter " + e.getKey() + " has state " + e.getValue().keySet()
                        + " but this optimizer keeps " + names);
            }
            Map<String, Tensor> ordered = new LinkedHashMap<>();
            for (String sn : names) {
                ordered.put(sn, e.getValue().get(sn));
            }
            e.setValue(ordered);
        }
        state.clear();
        state.putAll(loaded);
        steps = stepCount;
    }

    @Override
    public String toString() {
        return type() + hyperParameters();
    }

    // ------------------------------------------------------------------------------------------ element access

    /**
     * The elements of a contiguous real tensor, read and written as doubles (f32 values are rounded on write).
     */
    public static final class Elements {
        private final float[] f;
        private final double[] d;
        private final int off, n;

        private Elements(float[] f, double[] d, int off, int n) {
            this.f = f;
            this.d = d;
            this.off = off;
            this.n = n;
        }

        static Elements of(Tensor t) {
            if (!t.isContiguous()) {
                throw new IllegalArgumentException("Elements: " + t.describe() + " is not contiguous");
            }
            return switch (t.dtype()) {
                case F32 -> new Elements(t.storage().floats(), null, t.offset(), t.numel());
                case F64 -> new Elements(null, t.storage().doubles(), t.offset(), t.numel());
                case C64 -> throw new IllegalArgumentException("Elements: complex tensor " + t.describe());
            };
        }

        public int size() {
            return n;
        }

        public double get(int i) {
            return f != null ? f[off + i] : d[off + i];
        }

        public void set(int i, double v) {
            if (f != null) {
                f[off + i] = (float) v;
            } else {
                d[off + i] = v;
            }
        }
    }
}
