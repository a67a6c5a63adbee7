package dev.sprout.growth;

import dev.sprout.nn.Module;
import dev.sprout.nn.Modules;
import dev.sprout.nn.Sequential;
import dev.sprout.tensor.DType;
import dev.sprout.tensor.Rng;
import dev.sprout.tensor.Tensor;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Copies of networks and of their state (parameters and buffers by dotted name), for methods that try changes on a
 * copy before choosing one (NASH's children) and for baselines that retrain an architecture from scratch.
 */
public final class Networks {
    private Networks() {
    }

    /** A network of the same architecture (names included) with the same parameters and buffers (fresh tensors). */
    public static Sequential copy(Sequential net) {
        Sequential out = fresh(net, new Rng(0));
        load(out, state(net));
        out.train(net.isTraining());
        return out;
    }

    /** A network of the same architecture, freshly initialised from {@code rng} (as a new network of that size). */
    public static Sequential fresh(Sequential net, Rng rng) {
        DType dtype = net.namedParameters().values().iterator().next().dtype();
        Module m = Modules.parse(Modules.describe(net), rng, dtype);
        return (Sequential) m;
    }

    /** Every parameter and buffer by dotted name, as fresh tensors (a snapshot). */
    public static Map<String, Tensor> state(Module net) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (Map.Entry<String, Tensor> e : net.namedParameters().entrySet()) {
            out.put(e.getKey(), snapshot(e.getValue()));
        }
        for (Map.Entry<String, Tensor> e : net.namedBuffers().entrySet()) {
            out.put(e.getKey(), snapshot(e.getValue()));
        }
        return out;
    }

    private static Tensor snapshot(Tensor t) {
        return Tensor.of(t.toDoubleArray(), t.shape().toArray()).to(t.dtype());
    }

    /**
     * Sets parameters and buffers by dotted name ({@code "2.weight"}); every name must exist with the same shape.
     * All names are checked before anything changes.
     *
     * @throws IllegalArgumentException naming the first unknown name or mismatched shape
     */
    public static void load(Module net, Map<String, Tensor> state) {
        Map<String, Tensor> params = net.namedParameters(), buffers = net.namedBuffers();
        Map<String, Map<String, Tensor>> newParams = new LinkedHashMap<>(), newBuffers = new LinkedHashMap<>();
        for (Map.Entry<String, Tensor> e : state.entrySet()) {
            String name = e.getKey();
            Tensor now = params.containsKey(name) ? params.get(name) : buffers.get(name);
            if (now == null) {
                throw new IllegalArgumentException("state: the network has no parameter or buffer '" + name + "'");
            }
            if (!now.shape().equals(e.getValue().shape())) {
                throw new IllegalArgumentException("state: '" + name + "' has shape " + e.getValue().shape() + ", the network's is "
                        + now.shape());
            }
            int dot = name.lastIndexOf('.');
            String path = dot < 0 ? "" : name.substring(0, dot), member = name.substring(dot + 1);
            Tensor value = snapshot(e.getValue()).to(now.dtype());
            (params.containsKey(name) ? newParams : newBuffers).computeIfAbsent(path, k -> new LinkedHashMap<>()).put(member, value);
        }
        java.util.Set<String> modules = new java.util.LinkedHashSet<>(newParams.keySet());
        modules.addAll(newBuffers.keySet());
        for (String path : modules) {
            net.module(path).replace(newParams.getOrDefault(path, Map.of()), newBuffers.getOrDefault(path, Map.of()));
        }
    }
}
