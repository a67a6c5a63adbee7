package dev.sprout.cli;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * One real {@code sprout bench --suite gemm --quick} (builds the benchmarks jar if needed, then about two minutes of
 * JMH), tagged "full": {@code ./mvnw verify -Pfull -pl cli -am}.
 */
@Tag("full")
class FullBenchCommandTest {
    @TempDir
    Path tmp;

    @Test
    void quickGemmRunWritesSameRunRatiosAgainstOpenBlas() throws IOException {
        Path json = tmp.resolve("gemm.json");
        ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();
        int status = Main.run(new String[] {"bench", "--suite", "gemm", "--quick", "--out", json.toString()},
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        assertEquals(0, status, err.toString(StandardCharsets.UTF_8) + out.toString(StandardCharsets.UTF_8));
        JsonNode s = BenchReport.JSON.readTree(json.toFile());
        assertEquals("gemm", s.path("suite").asText());
        assertFalse(s.path("machine").path("openblas_core").isNull(), s.toString());
        // --quick: n = 256 and 1024, f32, native, Java and the interleaved native/OpenBLAS pair, 1 and 2 threads
        assertEquals(12, s.path("rows").size(), s.toString());
        for (JsonNode r : s.path("rows")) {
            assertEquals("sgemm", r.path("kernel").asText());
            double g = r.path("gflops").asDouble(), p = r.path("peer_gflops").asDouble();
            assertTrue(g > 0 && p > 0, r.toString());
            if (r.path("impl").asText().endsWith("(interleaved)")) {
                // median of per-iteration time ratios: near, not equal to, the ratio of the median rates
                double ratio = r.path("ratio").asDouble();
                assertTrue(ratio > 0.5 * g / p && ratio < 2 * g / p, r.toString());
                assertTrue(r.path("iterations").asInt() >= 3, r.toString());
            } else {
                assertEquals(g / p, r.path("ratio").asDouble(), 0.01 * g / p + 1e-3, r.toString());
            }
        }
        assertTrue(out.toString(StandardCharsets.UTF_8).contains("| sgemm | sprout-native | 1024 | 1 |"), out.toString(StandardCharsets.UTF_8));
    }
}
