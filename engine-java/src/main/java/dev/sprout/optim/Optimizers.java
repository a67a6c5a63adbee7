package dev.sprout.optim;

import dev.sprout.nn.Module;

import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Builds an optimizer from its type name and hyper-parameters as strings, the form {@link Optimizer#type()} and
 * {@link Optimizer#hyperParameters()} give and a checkpoint stores. Missing settings take PyTorch's defaults;
 * unknown settings are refused (a typo must not silently fall back to a default).
 *
 * <table>
 *   <caption>types and settings</caption>
 *   <tr><td>{@code sgd}</td><td>lr (1e-3), momentum (0), dampening (0), nesterov (false), weight_decay (0)</td></tr>
 *   <tr><td>{@code adam}, {@code adamw}</td><td>lr (1e-3), beta1 (0.9), beta2 (0.999), eps (1e-8),
 *       weight_decay (0; 0.01 for adamw)</td></tr>
 *   <tr><td>{@code rmsprop}</td><td>lr (1e-2), alpha (0.99), eps (1e-8), momentum (0), centered (false),
 *       weight_decay (0)</td></tr>
 *   <tr><td>{@code adagrad}</td><td>lr (1e-2), eps (1e-10), initial_accumulator (0), weight_decay (0)</td></tr>
 * </table>
 */
public final class Optimizers {
    private Optimizers() {
    }

    public static final List<String> TYPES = List.of("sgd", "adam", "adamw", "rmsprop", "adagrad");

    public static Optimizer create(String type, Module module, Map<String, String> hyper) {
        String t = type.toLowerCase(Locale.ROOT);
        Settings h = new Settings(t, hyper == null ? Map.of() : hyper);
        Optimizer o = switch (t) {
            case "sgd" -> new SGD(module, h.d("lr", 1e-3), h.d("momentum", 0), h.d("dampening", 0), h.b("nesterov"),
                    h.d("weight_decay", 0));
            case "adam", "adamw" -> new Adam(module, h.d("lr", 1e-3), h.d("beta1", 0.9), h.d("beta2", 0.999), h.d("eps", 1e-8),
                    h.d("weight_decay", t.equals("adamw") ? 0.01 : 0), t.equals("adamw"));
            case "rmsprop" -> new RMSprop(module, h.d("lr", 1e-2), h.d("alpha", 0.99), h.d("eps", 1e-8), h.d("momentum", 0),
                    h.b("centered"), h.d("weight_decay", 0));
            case "adagrad" -> new Adagrad(module, h.d("lr", 1e-2), h.d("eps", 1e-10), h.d("initial_accumulator", 0),
                    h.d("weight_decay", 0));
            default -> throw new IllegalArgumentException("unknown optimizer type '" + type + "' (known: "
                    + String.join(", ", TYPES) + ")");
        };
        h.checkAllUsed();
        return o;
    }

    /** Reads settings and remembers which were asked for, to refuse the rest. */
    private static final class Settings {
        private final String type;
        private final Map<String, String> values;
        private final Set<String> used = new HashSet<>();

        Settings(String type, Map<String, String> values) {
            this.type = type;
            this.values = values;
        }

        double d(String key, double dflt) {
            used.add(key);
            String v = values.get(key);
            if (v == null) {
                return dflt;
            }
            try {
                return Double.parseDouble(v.strip());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(type + ": setting " + key + "='" + v + "' is not a number");
            }
        }

        boolean b(String key) {
            used.add(key);
            String v = values.get(key);
            if (v == null) {
                return false;
            }
            String s = v.strip().toLowerCase(Locale.ROOT);
            if (!s.equals("true") && !s.equals("false")) {
                throw new IllegalArgumentException(type + ": setting " + key + "='" + v + "' is not true or false");
            }
            return s.equals("true");
        }

        void checkAllUsed() {
            Set<String> unknown = new TreeSet<>(values.keySet());
            unknown.removeAll(used);
            if (!unknown.isEmpty()) {
                throw new IllegalArgumentException(type + ": unknown setting(s) " + unknown + " (known: " + new TreeSet<>(used) + ")");
            }
        }
    }
}
