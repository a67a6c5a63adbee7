package dev.sprout.optim;

import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * A learning rate as a function of the epoch (or step: the unit is the caller's), stateless so that a resumed run
 * only needs the epoch it resumes at. {@link #describe()} and {@link #parse} round-trip a schedule through a
 * configuration string such as {@code cosine(base=0.1,total=200,min=0)}.
 */
public interface LrSchedule {
    /** The learning rate at {@code epoch} (0-based, >= 0). */
    double lr(int epoch);

    /** A string {@link #parse} turns back into an equal schedule. */
    String describe();

    /** Sets the optimizer's learning rate for {@code epoch}. */
    default void apply(Optimizer optimizer, int epoch) {
        optimizer.setLearningRate(lr(epoch));
    }

    /** Parses {@code constant(base=..)}, {@code step(base=..,step=..,gamma=..)} or {@code cosine(base=..,total=..,min=..)}. */
    static LrSchedule parse(String text) {
        String s = text.strip();
        int open = s.indexOf('(');
        if (open <= 0 || !s.endsWith(")")) {
            throw new IllegalArgumentException("learning-rate schedule '" + text + "' is not of the form name(key=value,...)");
        }
        String name = s.substring(0, open).strip().toLowerCase(Locale.ROOT);
        Map<String, String> kv = new HashMap<>();
        String body = s.substring(open + 1, s.length() - 1).strip();
        if (!body.isEmpty()) {
            for (String part : body.split(",")) {
                int eq = part.indexOf('=');
                if (eq <= 0) {
                    throw new IllegalArgumentException("learning-rate schedule '" + text + "': bad setting '" + part + "'");
                }
                kv.put(part.substring(0, eq).strip(), part.substring(eq + 1).strip());
            }
        }
        java.util.function.Function<String, String> get = k -> {
            String v = kv.remove(k);
            if (v == null) {
                throw new IllegalArgumentException("learning-rate schedule '" + text + "' lacks setting '" + k + "'");
            }
            return v;
        };
        LrSchedule out;
        try {
            out = switch (name) {
                case "constant" -> new ConstantLr(Double.parseDouble(get.apply("base")));
                case "step" -> new StepLr(Double.parseDouble(get.apply("base")), Integer.parseInt(get.apply("step")),
                        Double.parseDouble(get.apply("gamma")));
                case "cosine" -> new CosineLr(Double.parseDouble(get.apply("base")), Integer.parseInt(get.apply("total")),
                        Double.parseDouble(get.apply("min")));
                default -> throw new IllegalArgumentException("unknown learning-rate schedule '" + name
                        + "' (known: constant, step, cosine)");
            };
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("learning-rate schedule '" + text + "': " + e.getMessage());
        }
        if (!kv.isEmpty()) {
            throw new IllegalArgumentException("learning-rate schedule '" + text + "': unknown setting(s) " + kv.keySet());
        }
        return out;
    }
}
