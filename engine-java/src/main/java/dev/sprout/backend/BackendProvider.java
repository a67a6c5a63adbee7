package dev.sprout.backend;

/**
 * A backend implementation found with {@link java.util.ServiceLoader}. Providers are tried in descending
 * {@link #rank()} order by automatic selection; {@link #probe()} must be cheap after its first call, must not
 * throw, and must say exactly why the backend cannot run when it cannot.
 */
public interface BackendProvider {

    /** The name used to select it: {@code -Dsprout.backend=NAME} or {@code SPROUT_BACKEND=NAME}. */
    String name();

    /** Preference in automatic selection; higher wins (CUDA 300, native 200, Java 100). */
    int rank();

    /** Whether this backend can run here, and a human-readable reason (what was found, or how to fix it). */
    Probe probe();

    /** Creates the backend; only called after a successful probe. */
    Backend create();

    /** The result of a probe. */
    record Probe(boolean available, String detail) {
        public static Probe ok(String detail) {
            return new Probe(true, detail);
        }

        public static Probe unavailable(String reason) {
            return new Probe(false, reason);
        }
    }
}
