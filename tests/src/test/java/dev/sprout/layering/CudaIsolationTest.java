package dev.sprout.layering;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * JCuda is touched only inside the {@code cuda} module: no compiled class of another module refers to a
 * {@code jcuda/} class (its constant pool would name it). A JCuda class loaded elsewhere would fail with a bare
 * {@link NoClassDefFoundError} on machines without a driver instead of the probe's reason.
 */
class CudaIsolationTest {

    static final String[] MODULES = {"engine-java", "engine-native", "growth", "cli", "benchmarks"};

    @Test
    void noModuleButCudaReferencesJCuda() throws IOException {
        Path root = Path.of("").toAbsolutePath().getParent();
        List<String> offenders = new ArrayList<>();
        int scanned = 0;
        for (String module : MODULES) {
            Path classes = root.resolve(module).resolve("target/classes");
            if (!Files.isDirectory(classes)) {
                continue;
            }
            try (Stream<Path> files = Files.walk(classes)) {
                for (Path f : (Iterable<Path>) files.filter(p -> p.toString().endsWith(".class"))::iterator) {
                    scanned++;
                    String bytes = new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1);
                    if (bytes.contains("jcuda/")) {
                        offenders.add(root.relativize(f).toString());
                    }
                }
            }
        }
        assertTrue(scanned > 100, "compiled classes of the other modules were found (" + scanned + ")");
        assertEquals(List.of(), offenders, "classes outside the cuda module that refer to JCuda");
    }

    @Test
    void theCudaModuleDoesReferToJCuda() throws IOException {
        // guards the scan above against looking for the wrong string
        Path f = Path.of("").toAbsolutePath().getParent().resolve("cuda/target/classes/dev/sprout/cuda/CudaDevice.class");
        assertTrue(Files.isRegularFile(f), f + " exists");
        assertTrue(new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1).contains("jcuda/"));
    }
}
