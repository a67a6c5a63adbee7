package dev.sprout.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code sprout continual} end to end: the accuracy matrix and its metrics in the table and the JSON; bad input. */
class ContinualCommandTest {
    /** Metrics recomputed from the JSON's accuracies: a few sums of doubles. */
    private static final double METRIC = 1e-12;

    private final ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();

    @TempDir
    Path tmp;

    private int run(String... args) {
        out.reset();
        err.reset();
        return Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    private String err() {
        return err.toString(StandardCharsets.UTF_8);
    }

    @Test
    void everyMethodReportsTheAccuracyMatrixAverageForgettingAndParameters() throws IOException {
        for (String method : new String[] {"firefly-cl", "finetune", "ewc", "fixed-expansion"}) {
            Path json = tmp.resolve(method + ".json");
            assertEquals(0, run("continual", "--tasks", "split-fashion-mnist", "--method", method, "--train-limit", "2500",
                    "--test-limit", "500", "--epochs", "1", "--width", "8", "--fisher-samples", "50", "--out", json.toString()), err());
            String text = out.toString(StandardCharsets.UTF_8);
            assertTrue(text.contains("average accuracy") && text.contains("forgetting") && text.contains("task 4"), text);
            JsonNode r = new ObjectMapper().readTree(json.toFile());
            assertEquals("continual", r.get("command").asText());
            assertEquals(method, r.get("method").asText());
            JsonNode tasks = r.get("tasks");
            assertEquals(5, tasks.size());
            double[][] acc = new double[5][];
            for (int i = 0; i < 5; i++) {
                JsonNode row = tasks.get(i).get("test_accuracy");
                assertEquals(i + 1, row.size(), "after task " + i + ": accuracy on tasks 0.." + i);
                acc[i] = new double[i + 1];
                for (int j = 0; j <= i; j++) {
                    acc[i][j] = row.get(j).asDouble();
                }
                assertTrue(acc[i][i] > 0.7, method + " learns task " + i + ": " + row);
            }
            JsonNode fin = r.get("final");
            double mean = 0;
            for (double a : acc[4]) {
                mean += a / 5;
            }
            assertEquals(mean, fin.get("average_accuracy").asDouble(), METRIC);
            double forgetting = 0;
            for (int j = 0; j < 4; j++) {
                double best = 0;
                for (int k = j; k < 4; k++) {
                    best = Math.max(best, acc[k][j]);
                }
                forgetting += (best - acc[4][j]) / 4;
            }
            assertEquals(forgetting, fin.get("forgetting").asDouble(), METRIC);
            long first = tasks.get(0).get("params").asLong(), last = fin.get("params").asLong();
            if (method.equals("firefly-cl") || method.equals("fixed-expansion")) {
                assertEquals(0.0, fin.get("forgetting").asDouble(), method + " freezes old tasks");
                for (int i = 1; i < 5; i++) {
                    assertEquals(acc[i - 1][0], acc[i][0], method + ": task 0 keeps its accuracy exactly");
                }
                assertTrue(last > first, method + " grows: " + first + " -> " + last);
            } else {
                assertEquals(first + 4 * (8 + 1) * 2, last, method + ": one shared network, a 2-class head per task");
            }
        }
    }

    @Test
    void badInputGivesOneLineErrors() {
        assertEquals(2, run("continual", "--tasks", "split-cifar"));
        assertTrue(err().contains("split-cifar") && err().contains("split-fashion-mnist"), err());
        assertEquals(2, run("continual", "--method", "magic"));
        assertTrue(err().contains("magic") && err().contains("firefly-cl") && err().contains("fixed-expansion"), err());
        assertEquals(1, err().strip().lines().count(), err());
        assertEquals(2, run("continual", "--target-accuracy", "1.5"));
        assertTrue(err().contains("target accuracy"), err());
        assertEquals(2, run("continual", "--dataset", "cifar"));
        assertTrue(err().contains("cifar") && err().contains("builtin"), err());
        assertEquals(1, err().strip().lines().count(), err());
    }
}
