package dev.sprout.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sprout.backend.Backends;
import dev.sprout.io.Checkpoint;
import dev.sprout.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** End to end through the command line: training, results JSON, checkpoints and resume, and bad input. */
class MainTest {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();

    @TempDir
    Path tmp;

    private int run(String... args) {
        out.reset();
        err.reset();
        return Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    private String out() {
        return out.toString(StandardCharsets.UTF_8);
    }

    private String err() {
        return err.toString(StandardCharsets.UTF_8);
    }

    @Test
    void demoLearnsTheSpirals() {
        assertEquals(0, run("demo", "--epochs", "300", "--seed", "3"));
        Matcher m = Pattern.compile("test accuracy ([0-9.]+)").matcher(out());
        assertTrue(m.find(), out());
        // a linear classifier gets about 0.5-0.65 on two spirals; the MLP must do far better
        assertTrue(Double.parseDouble(m.group(1)) >= 0.9, out());
    }

    @Test
    void trainOnBuiltinDataWritesTheResultsContract() throws IOException {
        Path json = tmp.resolve("r.json");
        assertEquals(0, run("train", "--epochs", "2", "--train-limit", "2000", "--hidden", "64", "--no-progress",
                "--seed", "5", "--out", json.toString()), err());
        String auto = Backends.select("auto").backend().name();
        assertTrue(out().contains("backend: " + auto), out());
        JsonNode r = new ObjectMapper().readTree(json.toFile());
        assertEquals("train", r.get("command").asText());
        assertEquals(auto, r.get("backend").asText());
        assertEquals(5, r.get("config").get("seed").asLong());
        assertEquals("mlp", r.get("config").get("model").asText());
        assertEquals(2, r.get("epochs").size());
        for (JsonNode e : r.get("epochs")) {
            for (String k : new String[] {"epoch", "train_loss", "test_loss", "test_accuracy", "seconds"}) {
                assertTrue(e.has(k), "epoch row lacks " + k + ": " + e);
            }
        }
        JsonNode fin = r.get("final");
        double acc = fin.get("test_accuracy").asDouble();
        assertTrue(acc >= 0.7 && acc <= 1.0, "builtin Fashion-MNIST, 2 epochs on 2000 images, 784-64-10: accuracy " + acc);
        assertEquals(784 * 64 + 64 + 64 * 10 + 10, fin.get("params").asLong());
        assertEquals(2L * 784 * 64 + 64 + 64 + 2L * 64 * 10 + 10, fin.get("flops_per_example").asLong());
        assertTrue(fin.get("seconds").asDouble() > 0);
    }

    /** A run killed after epoch 2 and resumed ends with exactly the weights of an uninterrupted 3-epoch run. */
    @Test
    void resumeEndsBitForBitLikeAnUninterruptedRun() {
        Path full = tmp.resolve("full.ck"), part = tmp.resolve("part.ck");
        String[] common = {"train", "--epochs", "3", "--train-limit", "600", "--test-limit", "200", "--hidden", "32,16",
                "--seed", "9", "--no-progress", "--batch", "50", "--optimizer", "adam", "--lr", "0.003"};
        assertEquals(0, run(concat(common, new String[] {"--checkpoint", full.toString()})), err());
        assertEquals(0, run(concat(common, new String[] {"--checkpoint", part.toString(), "--stop-after", "2"})), err());
        assertTrue(out().contains("stopped after epoch 2 of 3"), out());
        assertEquals("2", Checkpoint.load(part).metadata("epoch", ""));
        assertEquals(0, run("resume", "--checkpoint", part.toString(), "--no-progress"), err());
        assertTrue(out().contains("after epoch 2 of 3"), out());
        Checkpoint a = Checkpoint.load(full), b = Checkpoint.load(part);
        assertEquals("3", b.metadata("epoch", ""));
        assertEquals(a.parameters().keySet(), b.parameters().keySet());
        for (String k : a.parameters().keySet()) {
            assertArrayEquals(a.parameters().get(k).toFloatArray(), b.parameters().get(k).toFloatArray(),
                    "parameter " + k + " differs after resume");
        }
        for (String k : a.optimizerState().keySet()) {
            assertArrayEquals(a.optimizerState().get(k).toFloatArray(), b.optimizerState().get(k).toFloatArray(),
                    "optimizer state " + k + " differs after resume");
        }
    }

    private static String[] concat(String[] a, String[] b) {
        String[] r = new String[a.length + b.length];
        System.arraycopy(a, 0, r, 0, a.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }

    @Test
    void doctorNamesTheBackends() {
        assertEquals(0, run("doctor"));
        // the CLI carries the native backend too: automatic selection picks it where this machine can run it
        String auto = Backends.select("auto").backend().name();
        assertTrue(out().contains("java") && out().contains("native") && out().contains("selected:  " + auto), out());
    }

    @Test
    void badInputGivesOneLineErrorsAndStatus2() throws IOException {
        assertEquals(2, run("frobnicate"));
        assertTrue(err().startsWith("sprout: Unmatched argument"), err());
        assertEquals(2, run("train", "--model", "resnet"));
        assertTrue(err().contains("--model") && err().contains("resnet"), err());
        assertEquals(1, err().strip().lines().count(), err());
        assertEquals(2, run("train", "--dataset", "fashion-mnist", "--data", tmp.resolve("nowhere").toString(), "--no-progress"));
        assertTrue(err().contains("nowhere") && !err().contains("\tat "), err());
        assertEquals(1, err().strip().lines().count(), err());
        Path bad = tmp.resolve("bad");
        Files.createDirectories(bad);
        Files.write(bad.resolve("train-images-idx3-ubyte"), new byte[] {0, 0, 9, 3, 0, 0, 0, 1});
        assertEquals(2, run("train", "--dataset", "fashion-mnist", "--data", bad.toString(), "--no-progress"));
        assertTrue(err().contains("train-images-idx3-ubyte"), err());
        Path notCk = tmp.resolve("x.ck");
        Files.writeString(notCk, "hello");
        assertEquals(2, run("resume", "--checkpoint", notCk.toString()));
        assertTrue(err().contains("x.ck"), err());
        // labels outside [0, 10)
        Path labels = tmp.resolve("labels");
        Files.createDirectories(labels);
        dev.sprout.data.Idx.write(labels.resolve("train-images-idx3-ubyte"), new dev.sprout.data.Idx.Data(new int[] {2, 28, 28}, new byte[2 * 784]), false);
        dev.sprout.data.Idx.write(labels.resolve("train-labels-idx1-ubyte"), new dev.sprout.data.Idx.Data(new int[] {2}, new byte[] {3, 11}), false);
        dev.sprout.data.Idx.write(labels.resolve("t10k-images-idx3-ubyte"), new dev.sprout.data.Idx.Data(new int[] {1, 28, 28}, new byte[784]), false);
        dev.sprout.data.Idx.write(labels.resolve("t10k-labels-idx1-ubyte"), new dev.sprout.data.Idx.Data(new int[] {1}, new byte[] {0}), false);
        assertEquals(2, run("train", "--dataset", "fashion-mnist", "--data", labels.toString(), "--no-progress"));
        assertTrue(err().contains("label 11") && err().contains("train-labels-idx1-ubyte"), err());
        assertEquals(1, err().strip().lines().count(), err());
        // a checkpoint of another architecture is not overwritten, and the message says what differs
        Path ck = tmp.resolve("other.ck");
        String[] small = {"train", "--epochs", "1", "--train-limit", "100", "--test-limit", "50", "--no-progress", "--checkpoint", ck.toString()};
        assertEquals(0, run(concat(small, new String[] {"--hidden", "16"})), err());
        byte[] before = Files.readAllBytes(ck);
        assertEquals(2, run(concat(small, new String[] {"--hidden", "24"})));
        assertTrue(err().contains("another architecture") && err().contains("out=16") && err().contains("out=24"), err());
        assertEquals(1, err().strip().lines().count(), err());
        assertArrayEquals(before, Files.readAllBytes(ck), "the existing checkpoint is untouched");
        assertEquals(2, run(concat(small, new String[] {"--hidden", "16"})));
        assertTrue(err().contains("sprout resume --checkpoint"), err());
        assertEquals(0, run(concat(small, new String[] {"--hidden", "24", "--overwrite"})), err());
        assertEquals(2, run("train", "--epochs", "0"));
        assertTrue(err().contains("--epochs"), err());
        assertEquals(2, run("train", "--hidden", "12,x"));
        assertTrue(err().contains("'x'"), err());
        // --verbose shows the stack trace
        assertEquals(2, run("--verbose", "resume", "--checkpoint", notCk.toString()));
        assertTrue(err().contains("\tat "), err());
        assertFalse(run("train", "--lr", "-1") == 0);
    }
}
