package dev.sprout.backend.java;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The Vector API is optional: a JVM without the incubator module must run gemm on the scalar kernel. */
class VectorFallbackTest {
    @Test
    void withoutTheIncubatorModuleGemmFallsBackAndLogsOneLine() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>(List.of(java, "-cp",
                System.getProperty("java.class.path"), FallbackMain.class.getName()));
        Path out = Files.createTempFile("sprout-fallback", ".out");
        Path err = Files.createTempFile("sprout-fallback", ".err");
        try {
            Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            assertTrue(p.waitFor(120, TimeUnit.SECONDS), "fallback JVM timed out");
            String stdout = Files.readString(out, StandardCharsets.UTF_8);
            String stderr = Files.readString(err, StandardCharsets.UTF_8);
            assertEquals(0, p.exitValue(), "stdout:\n" + stdout + "\nstderr:\n" + stderr);
            assertTrue(stdout.contains("vectorized=false"), stdout);
            assertTrue(stdout.contains("kernel=blockedScalar"), stdout);
            assertTrue(stdout.contains("ok"), stdout);
            assertTrue(!stdout.contains(GemmVariants.VECTOR_PACKED + ","), stdout);
            long lines = stderr.lines().filter(l -> l.contains("Vector API kernels off")).count();
            assertEquals(1, lines, "one log line expected in:\n" + stderr);
            assertTrue(stderr.contains("--add-modules jdk.incubator.vector"), stderr);
            assertTrue(!stderr.contains("Exception"), stderr);
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }
}
