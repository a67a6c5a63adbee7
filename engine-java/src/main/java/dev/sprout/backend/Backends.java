package dev.sprout.backend;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.ServiceLoader;

/**
 * Finds backends with {@link ServiceLoader} and picks one.
 *
 * <p>The request comes from {@code -Dsprout.backend=NAME}, else the environment variable {@code SPROUT_BACKEND},
 * else {@code auto}. Automatic selection tries providers by descending rank (CUDA, native, Java) and logs one
 * line for every provider it skips, with the probe's reason; an explicit request that cannot be met fails with
 * that reason instead of falling back. The choice is logged once, at INFO.
 */
public final class Backends {
    private Backends() {
    }

    public static final String PROPERTY = "sprout.backend";
    public static final String ENV = "SPROUT_BACKEND";

    private static final System.Logger LOG = System.getLogger("dev.sprout.backend");
    private static volatile Selection selected;

    /** What a selection chose, and what it found on the way. */
    public record Selection(Backend backend, String requested, List<String> log) {
    }

    /** The status of one provider, for diagnostics ({@code sprout doctor}). */
    public record Status(String name, int rank, boolean available, String detail) {
    }

    /** The backend in use, selected on first call. */
    public static Backend current() {
        Selection s = selected;
        if (s == null) {
            synchronized (Backends.class) {
                s = selected;
                if (s == null) {
                    s = select(requested());
                    for (String line : s.log()) {
                        LOG.log(System.Logger.Level.INFO, line);
                    }
                    selected = s;
                }
            }
        }
        return s.backend();
    }

    /** The current selection (selecting if needed). */
    public static Selection selection() {
        current();
        return selected;
    }

    /** Replaces the backend in use (tests, the CLI's --backend flag). */
    public static synchronized void use(Backend backend) {
        selected = new Selection(backend, backend.name(), List.of("sprout: backend " + backend.name() + " set explicitly"));
    }

    /** Selects by name ({@code auto} or a provider's name) and makes it current; returns the selection. */
    public static synchronized Selection useNamed(String name) {
        Selection s = select(name);
        for (String line : s.log()) {
            LOG.log(System.Logger.Level.INFO, line);
        }
        selected = s;
        return s;
    }

    /** The requested backend name: system property, then environment, then {@code auto}. */
    public static String requested() {
        String p = System.getProperty(PROPERTY);
        if (p == null || p.isBlank()) {
            p = System.getenv(ENV);
        }
        return p == null || p.isBlank() ? "auto" : p.trim().toLowerCase(Locale.ROOT);
    }

    /** All providers on the class path, highest rank first. */
    public static List<BackendProvider> providers() {
        List<BackendProvider> list = new ArrayList<>();
        for (BackendProvider p : ServiceLoader.load(BackendProvider.class, Backends.class.getClassLoader())) {
            list.add(p);
        }
        list.sort(Comparator.comparingInt(BackendProvider::rank).reversed());
        return list;
    }

    /** Probes every provider. */
    public static List<Status> probeAll() {
        List<Status> out = new ArrayList<>();
        for (BackendProvider p : providers()) {
            BackendProvider.Probe pr = safeProbe(p);
            out.add(new Status(p.name(), p.rank(), pr.available(), pr.detail()));
        }
        return out;
    }

    private static BackendProvider.Probe safeProbe(BackendProvider p) {
        try {
            return p.probe();
        } catch (Throwable t) { // a probe must not take the engine down: report it
            return BackendProvider.Probe.unavailable("probe failed: " + t);
        }
    }

    /**
     * Selects a backend without making it current.
     *
     * @throws IllegalStateException if a named backend is unknown or unavailable (with the probe's reason)
     */
    public static Selection select(String name) {
        String req = name == null ? "auto" : name.trim().toLowerCase(Locale.ROOT);
        List<BackendProvider> providers = providers();
        List<String> log = new ArrayList<>();
        if (!req.equals("auto")) {
            for (BackendProvider p : providers) {
                if (p.name().equals(req)) {
                    BackendProvider.Probe pr = safeProbe(p);
                    if (!pr.available()) {
                        throw new IllegalStateException("backend '" + req + "' was requested but is unavailable: "
                                + pr.detail());
                    }
                    Backend b = p.create();
                    log.add("sprout: backend " + b.name() + " (requested) - " + b.describe());
                    return new Selection(b, req, log);
                }
            }
            List<String> names = new ArrayList<>();
            providers.forEach(p -> names.add(p.name()));
            throw new IllegalStateException("unknown backend '" + req + "'; known: auto, " + String.join(", ", names)
                    + " (set by -D" + PROPERTY + " or " + ENV + ")");
        }
        for (BackendProvider p : providers) {
            BackendProvider.Probe pr = safeProbe(p);
            if (pr.available()) {
                Backend b = p.create();
                log.add("sprout: backend " + b.name() + " (auto) - " + b.describe());
                return new Selection(b, req, log);
            }
            log.add("sprout: skipped backend " + p.name() + ": " + pr.detail());
        }
        // The Java backend is always there; reaching this means the service file is missing from the class path.
        Backend b = new dev.sprout.backend.java.JavaBackend();
        log.add("sprout: no backend provider found on the class path; using " + b.name() + " - " + b.describe());
        return new Selection(b, req, log);
    }
}
