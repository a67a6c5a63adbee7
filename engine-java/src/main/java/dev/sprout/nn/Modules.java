package dev.sprout.nn;

import dev.sprout.backend.Activation;
import dev.sprout.tensor.DType;
import dev.sprout.tensor.Rng;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Architecture descriptions: {@link #describe} writes a module tree as text, one line per module in
 * pre-order ({@code path<TAB>type<TAB>key=value;...}), with the sizes it has now (a grown network is described
 * as grown); {@link #parse} rebuilds it, with freshly initialised parameters that a checkpoint then overwrites.
 */
public final class Modules {
    private Modules() {
    }

    public static String describe(Module root) {
        StringBuilder sb = new StringBuilder();
        describe("", root, sb);
        return sb.toString();
    }

    private static void describe(String path, Module m, StringBuilder sb) {
        sb.append(path.isEmpty() ? "." : path).append('\t').append(m.type()).append('\t');
        boolean first = true;
        for (Map.Entry<String, Object> e : m.config().entrySet()) {
            sb.append(first ? "" : ";").append(e.getKey()).append('=').append(e.getValue());
            first = false;
        }
        sb.append('\n');
        for (Map.Entry<String, Module> c : m.children().entrySet()) {
            describe(path.isEmpty() ? c.getKey() : path + "." + c.getKey(), c.getValue(), sb);
        }
    }

    /**
     * Rebuilds a module tree from {@link #describe}'s text.
     *
     * @throws IllegalArgumentException naming the line that cannot be understood
     */
    public static Module parse(String text, Rng rng, DType dtype) {
        String[] lines = text.lines().filter(l -> !l.isBlank()).toArray(String[]::new);
        Map<String, Module> byPath = new HashMap<>();
        Module root = null;
        for (int i = 0; i < lines.length; i++) {
            String[] f = lines[i].split("\t", -1);
            if (f.length != 3) {
                throw new IllegalArgumentException("architecture line " + (i + 1) + " is malformed: '" + lines[i] + "'");
            }
            Map<String, String> cfg = new HashMap<>();
            if (!f[2].isEmpty()) {
                for (String kv : f[2].split(";")) {
                    int eq = kv.indexOf('=');
                    if (eq <= 0) {
                        throw new IllegalArgumentException("architecture line " + (i + 1) + ": bad setting '" + kv + "'");
                    }
                    cfg.put(kv.substring(0, eq), kv.substring(eq + 1));
                }
            }
            Module m;
            try {
                m = create(f[1], cfg, rng, dtype);
            } catch (RuntimeException e) {
                throw new IllegalArgumentException("architecture line " + (i + 1) + " (" + f[1] + "): " + e.getMessage(), e);
            }
            String path = f[0];
            if (path.equals(".")) {
                root = m;
            } else {
                int dot = path.lastIndexOf('.');
                String parentPath = dot < 0 ? "." : path.substring(0, dot);
                Module parent = byPath.get(parentPath);
                if (!(parent instanceof Sequential seq)) {
                    throw new IllegalArgumentException("architecture line " + (i + 1) + ": parent of '" + path
                            + "' is missing or not a sequential");
                }
                seq.add(path.substring(dot + 1), m);
            }
            byPath.put(path, m);
        }
        if (root == null) {
            throw new IllegalArgumentException("architecture has no root line");
        }
        return root;
    }

    private static int i(Map<String, String> c, String k) {
        String v = c.get(k);
        if (v == null) {
            throw new IllegalArgumentException("missing setting '" + k + "'");
        }
        return Integer.parseInt(v);
    }

    private static double d(Map<String, String> c, String k, double dflt) {
        String v = c.get(k);
        return v == null ? dflt : Double.parseDouble(v);
    }

    private static boolean b(Map<String, String> c, String k) {
        return Boolean.parseBoolean(c.getOrDefault(k, "true"));
    }

    /** Creates one module from its type and settings. */
    public static Module create(String type, Map<String, String> c, Rng rng, DType dtype) {
        switch (type) {
            case "sequential":
                return new Sequential();
            case "linear":
                return new Linear(i(c, "in"), i(c, "out"), b(c, "bias"), rng, dtype);
            case "conv2d":
                return new Conv2d(i(c, "in"), i(c, "out"), i(c, "kernel"), i(c, "stride"), i(c, "padding"), b(c, "bias"), rng, dtype);
            case "batchnorm1d":
            case "batchnorm2d":
                return new BatchNorm(i(c, "features"), type.equals("batchnorm2d"), d(c, "momentum", 0.1), d(c, "eps", 1e-5), dtype);
            case "maxpool2d":
            case "avgpool2d":
                return new Pool2d(type.equals("maxpool2d"), i(c, "kernel"), i(c, "stride"));
            case "flatten":
                return new Flatten();
            case "residual": {
                Activation a = Activation.valueOf(c.getOrDefault("activation", "").toUpperCase(Locale.ROOT));
                return new Residual(i(c, "features"), i(c, "hidden"), a, d(c, "beta", 1.0), rng, dtype);
            }
            case "dropout":
                return new Dropout(d(c, "p", 0.5), Long.parseLong(c.getOrDefault("seed", "0")));
            case "relu1":
                return Act.relu1();
            default:
                for (Activation a : Activation.values()) {
                    if (a != Activation.IDENTITY && a.name().toLowerCase(Locale.ROOT).equals(type)) {
                        return new Act(a, d(c, "beta", 1.0));
                    }
                }
                List<String> known = new ArrayList<>(List.of("sequential", "linear", "conv2d", "batchnorm1d", "batchnorm2d",
                        "maxpool2d", "avgpool2d", "flatten", "dropout", "residual", "relu", "relu1", "tanh", "sigmoid", "softplus",
                        "rbf"));
                throw new IllegalArgumentException("unknown module type '" + type + "' (known: " + String.join(", ", known) + ")");
        }
    }
}
