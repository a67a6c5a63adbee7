package dev.sprout.backend.java;

import dev.sprout.backend.Backend;
import dev.sprout.backend.BackendProvider;

/** Provides the pure-Java backend: always available, lowest rank. */
public final class JavaBackendProvider implements BackendProvider {
    @Override
    public String name() {
        return "java";
    }

    @Override
    public int rank() {
        return 100;
    }

    @Override
    public Probe probe() {
        return Probe.ok("always available; JDK " + Runtime.version() + ", " + Runtime.getRuntime().availableProcessors()
                + " processor(s), gemm: " + JavaGemm.kernelDescription());
    }

    @Override
    public Backend create() {
        return new JavaBackend();
    }
}
