package dev.sprout.backend.nativecpu;

import dev.sprout.backend.Backend;
import dev.sprout.backend.BackendProvider;
import dev.sprout.backend.java.Parallel;

import java.util.List;

/**
 * Provides the native CPU backend ({@code native}, rank 200: after CUDA, before Java). The probe is cheap after its
 * first call and says exactly why the backend cannot run: not linux-x86_64, the CPU lacks AVX2/FMA, the library is
 * missing or failed to load, or a forced ISA variant ({@code -Dsprout.native.isa=avx2|avx512}) that this CPU cannot
 * run. Automatic selection then falls back to Java with one log line ({@link dev.sprout.backend.Backends}).
 */
public final class NativeBackendProvider implements BackendProvider {
    /** System property forcing an ISA variant ({@code avx2} or {@code avx512}); default: the widest the CPU runs. */
    public static final String ISA_PROPERTY = "sprout.native.isa";

    @Override
    public String name() {
        return "native";
    }

    @Override
    public int rank() {
        return 200;
    }

    @Override
    public Probe probe() {
        NativeLibrary.Status st = NativeLibrary.status();
        if (!st.loaded()) {
            return Probe.unavailable(st.detail());
        }
        Isa isa;
        try {
            isa = chosenIsa(st.runnable());
        } catch (IllegalArgumentException | IllegalStateException e) {
            return Probe.unavailable(e.getMessage());
        }
        return Probe.ok(isa.label() + " kernels (runnable here: " + st.runnable() + "); " + st.detail());
    }

    private static Isa chosenIsa(List<Isa> runnable) {
        String forced = System.getProperty(ISA_PROPERTY);
        if (forced != null && !forced.isBlank()) {
            Isa isa = Isa.byLabel(forced);
            if (!runnable.contains(isa)) {
                throw new IllegalStateException("-D" + ISA_PROPERTY + "=" + forced + " but this CPU runs only " + runnable);
            }
            return isa;
        }
        if (runnable.isEmpty()) {
            throw new IllegalStateException("no ISA variant of the library runs on this CPU");
        }
        return runnable.get(runnable.size() - 1);
    }

    @Override
    public Backend create() {
        return new NativeBackend(chosenIsa(NativeLibrary.status().runnable()), Parallel.defaultThreads());
    }
}
