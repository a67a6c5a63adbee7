package dev.sprout.nn;

import dev.sprout.autograd.Autograd;
import dev.sprout.tensor.DType;
import dev.sprout.tensor.ShapeException;
import dev.sprout.tensor.Tensor;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A layer or a network of layers: named parameters (tensors that require grad), named buffers (state that is
 * saved but not trained, like batch-norm running statistics) and named child modules. Names are dotted paths
 * ({@code "2.weight"}), stable across growth, so optimizer state and checkpoints are keyed by them.
 *
 * <p>Every module describes its architecture as it is now ({@link #type()} and {@link #config()}), so a
 * checkpoint can rebuild a grown network exactly ({@link Modules#create}).
 */
public abstract class Module {
    private final Map<String, Tensor> params = new LinkedHashMap<>();
    private final Map<String, Tensor> buffers = new LinkedHashMap<>();
    private final Map<String, Module> children = new LinkedHashMap<>();
    private boolean training = true;

    /** The output of this module for a batch. */
    public abstract Tensor forward(Tensor x);

    /** The type name used in architecture descriptions ({@code linear}, {@code conv2d}, ...). */
    public abstract String type();

    /** The hyper-parameters that, with {@link #type()}, rebuild this module (current widths included). */
    public Map<String, Object> config() {
        return Map.of();
    }

    // ------------------------------------------------------------------------------------------ registration

    protected final Tensor registerParameter(String name, Tensor t) {
        checkName(name);
        if (!t.isLeaf()) {
            throw new IllegalArgumentException("parameter " + name + " must be a leaf tensor, got " + t);
        }
        t.requiresGrad(true);
        params.put(name, t);
        return t;
    }

    protected final Tensor registerBuffer(String name, Tensor t) {
        checkName(name);
        buffers.put(name, t);
        return t;
    }

    protected final <M extends Module> M registerModule(String name, M m) {
        checkName(name);
        children.put(name, m);
        return m;
    }

    /**
     * Registers a child at a position in the children's order (descriptions and checkpoints list children in
     * that order), for containers that insert layers, e.g. {@link Sequential#insert}.
     */
    protected final <M extends Module> M registerModuleAt(int position, String name, M m) {
        checkName(name);
        if (position < 0 || position > children.size()) {
            throw new IndexOutOfBoundsException("child position " + position + " outside [0, " + children.size() + "]");
        }
        Map<String, Module> reordered = new LinkedHashMap<>();
        int i = 0;
        for (Map.Entry<String, Module> e : children.entrySet()) {
            if (i++ == position) {
                reordered.put(name, m);
            }
            reordered.put(e.getKey(), e.getValue());
        }
        if (position == children.size()) {
            reordered.put(name, m);
        }
        children.clear();
        children.putAll(reordered);
        return m;
    }

    private static void checkName(String name) {
        if (name.isEmpty() || name.contains(".")) {
            throw new IllegalArgumentException("module member names must be non-empty and dot-free: '" + name + "'");
        }
    }

    /** This module's own parameter (not a child's). */
    public Tensor parameter(String name) {
        Tensor t = params.get(name);
        if (t == null) {
            throw new IllegalArgumentException(type() + " has no parameter '" + name + "' (has " + params.keySet() + ")");
        }
        return t;
    }

    public Tensor buffer(String name) {
        Tensor t = buffers.get(name);
        if (t == null) {
            throw new IllegalArgumentException(type() + " has no buffer '" + name + "' (has " + buffers.keySet() + ")");
        }
        return t;
    }

    /**
     * Replaces some of this module's own parameters and buffers at once (growth makes a layer wider this way),
     * then checks that the sizes agree ({@link #onResized()}); if they do not, everything is put back as it was
     * and the exception is rethrown, so a failed resize leaves the module unchanged.
     */
    public void replace(Map<String, Tensor> newParams, Map<String, Tensor> newBuffers) {
        Map<String, Tensor> oldP = new LinkedHashMap<>(params), oldB = new LinkedHashMap<>(buffers);
        try {
            for (Map.Entry<String, Tensor> e : newParams.entrySet()) {
                parameter(e.getKey());
                if (e.getValue().dtype() == DType.C64 || !e.getValue().isLeaf()) {
                    throw new IllegalArgumentException("replace: parameter " + e.getKey() + " must be a real leaf tensor");
                }
                params.put(e.getKey(), e.getValue().requiresGrad(true));
            }
            for (Map.Entry<String, Tensor> e : newBuffers.entrySet()) {
                buffer(e.getKey());
                buffers.put(e.getKey(), e.getValue());
            }
            onResized();
        } catch (RuntimeException e) {
            params.clear();
            params.putAll(oldP);
            buffers.clear();
            buffers.putAll(oldB);
            onResized();
            throw e;
        }
    }

    /** Replaces one parameter (see {@link #replace}). */
    public void replaceParameter(String name, Tensor t) {
        replace(Map.of(name, t), Map.of());
    }

    /** Called after a parameter or buffer was replaced; checks and updates derived sizes. */
    protected void onResized() {
    }

    // ------------------------------------------------------------------------------------------ traversal

    /** Every parameter of this module and its descendants, by dotted name, in registration order. */
    public Map<String, Tensor> namedParameters() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        collect("", out, true);
        return Collections.unmodifiableMap(out);
    }

    public Map<String, Tensor> namedBuffers() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        collect("", out, false);
        return Collections.unmodifiableMap(out);
    }

    private void collect(String prefix, Map<String, Tensor> out, boolean parameters) {
        for (Map.Entry<String, Tensor> e : (parameters ? params : buffers).entrySet()) {
            out.put(prefix + e.getKey(), e.getValue());
        }
        for (Map.Entry<String, Module> c : children.entrySet()) {
            c.getValue().collect(prefix + c.getKey() + ".", out, parameters);
        }
    }

    public List<Tensor> parameters() {
        return new ArrayList<>(namedParameters().values());
    }

    public Map<String, Module> children() {
        return Collections.unmodifiableMap(children);
    }

    /** Finds a descendant by dotted path ({@code ""} is this module). */
    public Module module(String path) {
        if (path.isEmpty()) {
            return this;
        }
        int dot = path.indexOf('.');
        String head = dot < 0 ? path : path.substring(0, dot);
        Module c = children.get(head);
        if (c == null) {
            throw new IllegalArgumentException("no module '" + head + "' in " + type() + " (has " + children.keySet() + ")");
        }
        return dot < 0 ? c : c.module(path.substring(dot + 1));
    }

    /** Number of trainable scalars. */
    public long parameterCount() {
        long n = 0;
        for (Tensor t : namedParameters().values()) {
            n += t.numel();
        }
        return n;
    }

    // ------------------------------------------------------------------------------------------ modes

    public boolean isTraining() {
        return training;
    }

    /** Switches this module and its descendants to training (true) or evaluation (false) mode. */
    public Module train(boolean on) {
        training = on;
        for (Module c : children.values()) {
            c.train(on);
        }
        return this;
    }

    public Module eval() {
        return train(false);
    }

    /**
     * Clears the gradients of all parameters ({@link Tensor#grad()} becomes null). Their storage is kept for the next
     * backward pass, which writes the new gradients into it ({@link Tensor#clearGrad()}): a gradient tensor taken
     * before this call changes then; copy it to keep it.
     */
    public void zeroGrad() {
        for (Tensor t : namedParameters().values()) {
            t.clearGrad();
        }
    }

    /** Forward pass without recording gradients, in evaluation mode; the mode is restored afterwards. */
    public Tensor predict(Tensor x) {
        boolean was = training;
        train(false);
        try (Autograd.Scope s = Autograd.noGrad()) {
            return forward(x);
        } finally {
            train(was);
        }
    }

    /** Floating-point operations (a multiply-add counts 2) of one example's forward pass, for an input shape without batch. */
    public long flopsPerExample(int[] inputShape) {
        return 0;
    }

    /** The output shape (without batch) for an input shape (without batch). */
    public int[] outputShape(int[] inputShape) {
        return inputShape;
    }

    protected static void requireRank(String layer, Tensor x, int rank, String expected) {
        if (x.rank() != rank) {
            throw new ShapeException(layer + ": expected input " + expected + ", got " + x.describe());
        }
    }

    @Override
    public String toString() {
        return type() + config();
    }
}
