package dev.sprout.growth;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;

/**
 * The growth methods by name, for the command line and experiments:
 * {@code Methods.create("exact", Map.of("eps", "0.01"))}.
 *
 * <p>Each method is registered by one line in {@link #REGISTRY}: its name and a factory that reads its options
 * from an {@link Options} ({@code options.number("eps", 0.01)}). Every option a factory does not read is an
 * error naming the options the method knows, so a misspelt option never goes silently unused. A method that
 * parses a {@code Map<String, String>} itself registers as {@code REGISTRY.put(NAME, o -> Method.create(o.all()))}
 * and must refuse unknown options on its own.
 */
public final class Methods {
    private Methods() {
    }

    private static final Map<String, Function<Options, GrowthMethod>> REGISTRY = new LinkedHashMap<>();

    static {
        REGISTRY.put(ExactSplitting.NAME, ExactSplitting::new);
        REGISTRY.put(SignedSplitting.NAME, SignedSplitting::new);
        REGISTRY.put(RandomSplit.NAME, RandomSplit::new);
        REGISTRY.put(RandomNew.NAME, RandomNew::new);
        REGISTRY.put(FastSplitting.NAME, o -> FastSplitting.create(o.all()));
        REGISTRY.put(Firefly.NAME, Firefly::new);
        REGISTRY.put(Firefly.DEEP_NAME, o -> new Firefly(o, true));
        REGISTRY.put(Net2Net.NAME, Net2Net::new);
        REGISTRY.put(GradMax.NAME, GradMax::new);
        REGISTRY.put(Nash.NAME, Nash::new);
    }

    /** The registered names, in registration order. */
    public static List<String> names() {
        return List.copyOf(REGISTRY.keySet());
    }

    /** The method with its default options. */
    public static GrowthMethod create(String name) {
        return create(name, Map.of());
    }

    /**
     * The method {@code name} configured by {@code options} (option name to value, as text).
     *
     * @throws IllegalArgumentException for an unknown method (listing the known ones), an option the method does
     *                                  not know (listing the ones it does), or a value it cannot use
     */
    public static GrowthMethod create(String name, Map<String, String> options) {
        Function<Options, GrowthMethod> factory = name == null ? null : REGISTRY.get(name.toLowerCase(Locale.ROOT));
        if (factory == null) {
            throw new IllegalArgumentException("unknown growth method '" + name + "' (known: " + String.join(", ", names()) + ")");
        }
        Options o = new Options(name.toLowerCase(Locale.ROOT), options == null ? Map.of() : options);
        GrowthMethod m = factory.apply(o);
        o.checkAllUsed();
        return m;
    }

    /**
     * A method's options as text, read with typed getters that supply defaults; it remembers which names were
     * asked for, so that {@link Methods#create} can refuse the rest.
     */
    public static final class Options {
        private final String method;
        private final Map<String, String> values;
        private final Set<String> known = new LinkedHashSet<>();

        public Options(String method, Map<String, String> values) {
            this.method = method;
            this.values = Collections.unmodifiableMap(new LinkedHashMap<>(values));
        }

        /** No options. */
        public static Options none(String method) {
            return new Options(method, Map.of());
        }

        public String method() {
            return method;
        }

        /** The option as a number, or {@code fallback} when absent. */
        public double number(String key, double fallback) {
            known.add(key);
            String v = values.get(key);
            if (v == null) {
                return fallback;
            }
            try {
                return Double.parseDouble(v.trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("growth method " + method + ": option " + key + " must be a number, got '" + v + "'");
            }
        }

        /** The option as an integer, or {@code fallback} when absent. */
        public int integer(String key, int fallback) {
            known.add(key);
            String v = values.get(key);
            if (v == null) {
                return fallback;
            }
            try {
                return Integer.parseInt(v.trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("growth method " + method + ": option " + key + " must be an integer, got '" + v + "'");
            }
        }

        /**
         * Every option as given, for a method that parses and validates its options itself (it must refuse the
         * ones it does not know); all of them count as read. E.g. {@code o -> FastSplitting.create(o.all())}.
         */
        public Map<String, String> all() {
            known.addAll(values.keySet());
            return values;
        }

        /** The option as {@code true} or {@code false}, or {@code fallback} when absent. */
        public boolean flag(String key, boolean fallback) {
            known.add(key);
            String v = values.get(key);
            if (v == null) {
                return fallback;
            }
            String t = v.trim().toLowerCase(java.util.Locale.ROOT);
            if (!t.equals("true") && !t.equals("false")) {
                throw new IllegalArgumentException("growth method " + method + ": option " + key + " must be true or false, got '" + v + "'");
            }
            return t.equals("true");
        }

        /** The option as text, or {@code fallback} when absent. */
        public String text(String key, String fallback) {
            known.add(key);
            return values.getOrDefault(key, fallback);
        }

        void checkAllUsed() {
            Set<String> unknown = new TreeSet<>(values.keySet());
            unknown.removeAll(known);
            if (!unknown.isEmpty()) {
                throw new IllegalArgumentException("growth method " + method + ": unknown option" + (unknown.size() > 1 ? "s " : " ")
                        + String.join(", ", unknown) + " (known: " + (known.isEmpty() ? "none" : String.join(", ", known)) + ")");
            }
        }
    }
}
