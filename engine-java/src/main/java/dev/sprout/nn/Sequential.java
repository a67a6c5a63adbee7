package dev.sprout.nn;

import dev.sprout.tensor.Tensor;

import java.util.ArrayList;
import java.util.List;

/** Modules applied in order. Children are named by position ({@code "0"}, {@code "1"}, ...) unless named. */
public final class Sequential extends Module {
    private final List<Module> layers = new ArrayList<>();

    public Sequential(Module... modules) {
        for (Module m : modules) {
            add(m);
        }
    }

    /** Appends a module named by its position. */
    public Sequential add(Module m) {
        return add(Integer.toString(layers.size()), m);
    }

    public Sequential add(String name, Module m) {
        if (children().containsKey(name)) {
            throw new IllegalArgumentException("sequential: a child named '" + name + "' exists already");
        }
        registerModule(name, m);
        layers.add(m);
        return this;
    }

    /**
     * Inserts a module at position {@code index} (0 = first), under a name no child has; the modules after it move
     * one place on but keep their names (so parameter names, optimizer state and checkpoints stay valid), and the
     * description lists children in layer order, so a checkpoint rebuilds the same order. Growth inserts layers
     * this way.
     */
    public Sequential insert(int index, String name, Module m) {
        if (index < 0 || index > layers.size()) {
            throw new IndexOutOfBoundsException("sequential: insert at " + index + " outside [0, " + layers.size() + "]");
        }
        if (children().containsKey(name)) {
            throw new IllegalArgumentException("sequential: a child named '" + name + "' exists already");
        }
        registerModuleAt(index, name, m);
        layers.add(index, m);
        return this;
    }

    /**
     * Replaces the module at position {@code index} by {@code m}, which takes the old module's name and place (so
     * the description and checkpoints keep their order). Growth uses it to swap an activation for an equivalent one.
     */
    public Sequential replace(int index, Module m) {
        if (index < 0 || index >= layers.size()) {
            throw new IndexOutOfBoundsException("sequential: replace at " + index + " outside [0, " + layers.size() + ")");
        }
        Module old = layers.get(index);
        String name = null;
        for (var e : children().entrySet()) {
            if (e.getValue() == old) {
                name = e.getKey();
            }
        }
        registerModule(name, m); // same key: keeps the children's order
        layers.set(index, m);
        return this;
    }

    /** A child name that no child has: {@code prefix}, or {@code prefix} followed by a number. */
    public String freshName(String prefix) {
        if (!children().containsKey(prefix)) {
            return prefix;
        }
        for (int i = 1; ; i++) {
            if (!children().containsKey(prefix + i)) {
                return prefix + i;
            }
        }
    }

    public List<Module> layers() {
        return List.copyOf(layers);
    }

    public int size() {
        return layers.size();
    }

    public Module get(int i) {
        return layers.get(i);
    }

    @Override
    public Tensor forward(Tensor x) {
        for (int i = 0; i < layers.size(); i++) {
            Module m = layers.get(i);
            if (m instanceof Conv2d c && i + 2 < layers.size() && Pool2d.commutesAfter(layers.get(i + 1), layers.get(i + 2))) {
                // conv, ReLU, max pooling: the pooling fused into the conv, then the ReLU (same result)
                x = layers.get(i + 1).forward(c.forwardPooled(x, (Pool2d) layers.get(i + 2)));
                i += 2;
            } else if (m instanceof Conv2d c && i + 1 < layers.size() && layers.get(i + 1) instanceof Act a
                    && a.isPlainRelu()) {
                x = c.forwardRelu(x); // conv then ReLU, fused (same result)
                i++;
            } else if (m instanceof Linear l && i + 1 < layers.size() && layers.get(i + 1) instanceof Act a
                    && a.isPlainRelu()) {
                x = l.forwardRelu(x); // linear then ReLU, fused (same result, one buffer)
                i++;
            } else if (i + 1 < layers.size() && Pool2d.commutesAfter(m, layers.get(i + 1))) {
                x = m.forward(layers.get(++i).forward(x)); // ReLU after max pooling: same result, 1/k^2 of the work
            } else {
                x = m.forward(x);
            }
        }
        return x;
    }

    @Override
    public String type() {
        return "sequential";
    }

    @Override
    public int[] outputShape(int[] s) {
        for (Module m : layers) {
            s = m.outputShape(s);
        }
        return s;
    }

    @Override
    public long flopsPerExample(int[] s) {
        long f = 0;
        for (Module m : layers) {
            f += m.flopsPerExample(s);
            s = m.outputShape(s);
        }
        return f;
    }
}
