package dev.sprout.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The accuracy bars on the full Fashion-MNIST (60,000 / 10,000 images): the MLP 784-256-256-10 at least 88%,
 * the small CNN at least 90%. Minutes per run on 2 cores, so tagged "full": {@code ./mvnw verify -Pfull -pl cli -am}.
 */
@Tag("full")
class FullFashionMnistTest {
    @TempDir
    Path tmp;

    private JsonNode train(String... args) throws IOException {
        Assumptions.assumeTrue(Files.isDirectory(Path.of("/usr/share/datasets/fashion-mnist")),
                "Fashion-MNIST not installed: apt-get install dataset-fashion-mnist");
        Path json = tmp.resolve("r.json");
        String[] full = new String[args.length + 5];
        System.arraycopy(args, 0, full, 0, args.length);
        System.arraycopy(new String[] {"--dataset", "fashion-mnist", "--no-progress", "--out", json.toString()}, 0, full,
                args.length, 5);
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = Main.run(full, System.out, new PrintStream(err, true, StandardCharsets.UTF_8));
        assertEquals(0, status, err.toString(StandardCharsets.UTF_8));
        return new ObjectMapper().readTree(json.toFile());
    }

    @Test
    void mlpReaches88Percent() throws IOException {
        JsonNode r = train("train", "--model", "mlp", "--hidden", "256,256", "--epochs", "12", "--batch", "128",
                "--optimizer", "sgd", "--lr", "0.05", "--momentum", "0.9");
        double acc = r.get("final").get("test_accuracy").asDouble();
        assertTrue(acc >= 0.88, "MLP test accuracy " + acc);
    }

    @Test
    void cnnReaches90Percent() throws IOException {
        JsonNode r = train("train", "--model", "cnn", "--epochs", "4", "--batch", "128", "--optimizer", "sgd",
                "--lr", "0.05", "--momentum", "0.9");
        double acc = r.get("final").get("test_accuracy").asDouble();
        assertTrue(acc >= 0.90, "CNN test accuracy " + acc);
    }
}
