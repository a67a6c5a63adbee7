package dev.sprout.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.sprout.backend.Backends;
import dev.sprout.io.Checkpoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code sprout grow} end to end: the results contract, resume in the middle of growth, bad input. */
class GrowCommandTest {
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

    private static final String[] SMALL = {"grow", "--train-limit", "1500", "--test-limit", "300", "--rounds", "2",
            "--epochs-per-round", "1", "--growth-samples", "150", "--no-progress", "--seed", "4"};

    private static String[] with(String[] a, String... b) {
        String[] r = new String[a.length + b.length];
        System.arraycopy(a, 0, r, 0, a.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }

    @Test
    void growWritesTheResultsContract() throws IOException {
        Path json = tmp.resolve("g.json");
        assertEquals(0, run(with(SMALL, "--method", "exact", "--out", json.toString())), err());
        String text = out.toString(StandardCharsets.UTF_8);
        assertTrue(text.contains("round") && text.contains("growth s"), text);
        JsonNode r = new ObjectMapper().readTree(json.toFile());
        assertEquals("grow", r.get("command").asText());
        assertEquals("exact", r.get("method").asText());
        assertEquals(Backends.select("auto").backend().name(), r.get("backend").asText());
        assertEquals(4, r.get("config").get("seed").asLong());
        JsonNode rounds = r.get("rounds");
        assertEquals(3, rounds.size());
        String[] keys = {"round", "widths", "params", "test_accuracy", "train_loss", "loss_before_growth", "loss_after_growth",
                "predicted_decrease", "growth_seconds", "train_seconds", "growth_flops", "peak_bytes"};
        for (JsonNode row : rounds) {
            for (String k : keys) {
                assertTrue(row.has(k), "round row lacks " + k + ": " + row);
            }
        }
        assertEquals(0, rounds.get(0).get("round").asInt());
        assertTrue(rounds.get(0).get("loss_before_growth").isNull(), "round 0 is the starting network");
        assertEquals(8, rounds.get(0).get("widths").get(0).asInt());
        int w1 = rounds.get(1).get("widths").get(0).asInt(), w2 = rounds.get(2).get("widths").get(0).asInt();
        assertTrue(w1 > 8 && w2 > w1, "widths grow: " + rounds);
        assertTrue(rounds.get(1).get("growth_seconds").asDouble() > 0);
        assertTrue(rounds.get(1).get("growth_flops").asDouble() > 0);
        assertTrue(rounds.get(1).get("peak_bytes").asLong() > 0);
        // exact splitting predicts a decrease, and a small eps achieves almost exactly that
        double pred = rounds.get(1).get("predicted_decrease").asDouble(), got = rounds.get(1).get("achieved_decrease").asDouble();
        assertTrue(pred > 0, "predicted decrease " + pred);
        assertEquals(pred, got, 0.2 * pred, "achieved vs predicted decrease");
        JsonNode fin = r.get("final");
        assertEquals(rounds.get(2).get("params").asLong(), fin.get("params").asLong());
        double acc = fin.get("test_accuracy").asDouble();
        assertTrue(acc > 0.5 && acc <= 1, "accuracy " + acc);
    }

    /** A growth run stopped after round 1 and resumed ends exactly like the uninterrupted run, grown architecture included. */
    @Test
    void resumeInTheMiddleOfGrowth() {
        Path full = tmp.resolve("full.ck"), part = tmp.resolve("part.ck");
        assertEquals(0, run(with(SMALL, "--method", "random-split", "--checkpoint", full.toString())), err());
        assertEquals(0, run(with(SMALL, "--method", "random-split", "--checkpoint", part.toString(), "--stop-after", "1")), err());
        Checkpoint mid = Checkpoint.load(part);
        assertEquals("1", mid.metadata("round", ""));
        assertTrue(mid.architecture().contains("out=10"), "the grown architecture is saved: " + mid.architecture());
        assertEquals(0, run("resume", "--checkpoint", part.toString(), "--no-progress"), err());
        assertTrue(out.toString(StandardCharsets.UTF_8).contains("resuming"), out.toString(StandardCharsets.UTF_8));
        Checkpoint a = Checkpoint.load(full), b = Checkpoint.load(part);
        assertEquals(a.architecture(), b.architecture());
        for (String k : a.parameters().keySet()) {
            assertArrayEquals(a.parameters().get(k).toFloatArray(), b.parameters().get(k).toFloatArray(), "parameter " + k);
        }
    }

    @Test
    void badGrowthInputGivesOneLineErrors() {
        assertEquals(2, run("grow", "--grow-ratio", "1.5"));
        assertTrue(err().contains("--grow-ratio") && err().contains("(0, 1]"), err());
        assertEquals(2, run("grow", "--grow-ratio", "0"));
        assertTrue(err().contains("--grow-ratio"), err());
        assertEquals(2, run("grow", "--method", "magic"));
        assertTrue(err().contains("magic") && err().contains("exact"), err());
        assertEquals(1, err().strip().lines().count(), err());
        // an existing checkpoint (here the first run grown to 13) of another architecture is named and left alone
        Path ck = tmp.resolve("other.ck");
        assertEquals(0, run(with(SMALL, "--method", "exact", "--checkpoint", ck.toString())), err());
        assertEquals(2, run(with(SMALL, "--initial-width", "6", "--checkpoint", ck.toString())));
        assertTrue(err().contains("another architecture") && err().contains("out=13") && err().contains("out=6"), err());
        assertEquals(2, run("grow", "--model", "rbf"));
        assertTrue(err().contains("rbf-teacher"), err());
        // --as-official belongs to firefly: another method refuses it by name, and so does firefly --eps
        assertEquals(2, run(with(SMALL, "--method", "exact", "--as-official")));
        assertTrue(err().contains("as-official") && err().contains("exact"), err());
        assertEquals(2, run(with(SMALL, "--eps", "0.1")));
        assertTrue(err().contains("firefly") && err().contains("eps"), err());
        // a model the method cannot grow is refused before any training (gradmax grows relu as relu1, not sigmoid)
        assertEquals(2, run(with(SMALL, "--method", "gradmax", "--activation", "sigmoid")));
        assertTrue(err().contains("sigma(0) = 0.5"), err());
        assertTrue(!out.toString(StandardCharsets.UTF_8).contains("trained"), out.toString(StandardCharsets.UTF_8));
    }

    /**
     * --method takes options after colons, as compare's --methods: they reach the method (the same run as with the
     * flag), a clash with a flag, a malformed option and an unknown key are one-line errors before any training.
     */
    @Test
    void methodOptionsAfterColons() throws IOException {
        Path a = tmp.resolve("a.json"), b = tmp.resolve("b.json");
        assertEquals(0, run(with(SMALL, "--method", "exact:eps=0.05", "--out", a.toString())), err());
        assertEquals(0, run(with(SMALL, "--method", "exact", "--eps", "0.05", "--out", b.toString())), err());
        com.fasterxml.jackson.databind.ObjectMapper m = new com.fasterxml.jackson.databind.ObjectMapper();
        com.fasterxml.jackson.databind.JsonNode ja = m.readTree(a.toFile()), jb = m.readTree(b.toFile());
        assertEquals("exact:eps=0.05", ja.path("config").path("method").asText(), ja.path("config").toString());
        for (int i = 0; i < jb.path("rounds").size(); i++) {
            assertEquals(jb.path("rounds").get(i).path("widths"), ja.path("rounds").get(i).path("widths"));
            assertEquals(jb.path("rounds").get(i).path("test_accuracy"), ja.path("rounds").get(i).path("test_accuracy"));
        }
        assertEquals(2, run(with(SMALL, "--method", "exact:eps=0.05", "--eps", "0.02")));
        assertTrue(err().contains("eps=0.05") && err().contains("0.02"), err());
        assertEquals(2, run(with(SMALL, "--method", "exact:eps")));
        assertTrue(err().contains("--method") && err().contains("key=value"), err());
        assertEquals(2, run(with(SMALL, "--method", "exact:epsilon=0.1")));
        assertTrue(err().contains("epsilon"), err());
        assertEquals(1, err().strip().lines().count(), err());
        assertTrue(!out.toString(StandardCharsets.UTF_8).contains("trained"), out.toString(StandardCharsets.UTF_8));
    }

    /**
     * firefly-deep runs on a relu MLP (every row counts the layers it added, and each added layer is one more width) and
     * on a tanh MLP (added layers are residual blocks).
     */
    @Test
    void fireflyDeepCountsItsLayers() throws IOException {
        Path json = tmp.resolve("d.json");
        assertEquals(0, run(with(SMALL, "--method", "firefly-deep", "--activation", "relu", "--grow-ratio", "1", "--out",
                json.toString())), err());
        JsonNode rounds = new ObjectMapper().readTree(json.toFile()).get("rounds");
        int layers = 1;
        for (JsonNode row : rounds) {
            layers += row.get("layers_added").asInt();
            assertEquals(layers, row.get("widths").size(), row.toString());
        }
        // tanh: depth candidates are zero-residual blocks, reported in residual_blocks (the widths stay one per site)
        Path tanh = tmp.resolve("t.json");
        assertEquals(0, run(with(SMALL, "--method", "firefly-deep", "--grow-ratio", "1", "--out", tanh.toString())), err());
        int blocks = 0;
        for (JsonNode row : new ObjectMapper().readTree(tanh.toFile()).get("rounds")) {
            blocks += row.get("layers_added").asInt();
            assertEquals(blocks, row.get("residual_blocks").size(), row.toString());
            assertEquals(1, row.get("widths").size(), row.toString());
        }
    }

    /**
     * Firefly is the default method; it never adds more than the budget (floor(0.35 * width)), with splits and new
     * neurons counted in the rows. --as-official reproduces the official selection's off-by-one: k + 1 each round.
     */
    @Test
    void growDefaultsToFireflyAndAsOfficialTakesKPlusOne() throws IOException {
        Path fixed = tmp.resolve("f.json"), official = tmp.resolve("o.json");
        assertEquals(0, run(with(SMALL, "--out", fixed.toString())), err());
        assertTrue(out.toString(StandardCharsets.UTF_8).contains("method: firefly"), out.toString(StandardCharsets.UTF_8));
        assertEquals(0, run(with(SMALL, "--as-official", "--out", official.toString())), err());
        for (Path p : new Path[] {fixed, official}) {
            JsonNode r = new ObjectMapper().readTree(p.toFile());
            assertEquals("firefly", r.get("method").asText());
            boolean asOfficial = p.equals(official);
            assertEquals(asOfficial, r.get("config").get("asOfficial").asBoolean());
            JsonNode rounds = r.get("rounds");
            int width = rounds.get(0).get("widths").get(0).asInt();
            for (int i = 1; i < rounds.size(); i++) {
                JsonNode row = rounds.get(i);
                int budget = (int) Math.floor(0.35 * width), added = row.get("neurons_added").asInt();
                assertEquals(added, row.get("neurons_split").asInt() + row.get("neurons_new").asInt(), row.toString());
                if (asOfficial) {
                    assertEquals(budget + 1, added, "official selection takes k + 1: " + row);
                } else {
                    assertTrue(added >= 1 && added <= budget, "fixed selection keeps to the budget " + budget + ": " + row);
                }
                assertTrue(row.get("growth_phase_seconds").has("optimise"), row.toString());
                width += added;
                assertEquals(width, row.get("widths").get(0).asInt());
            }
        }
    }

    /**
     * NASH's children train on the training split and are chosen on the validation split: the test set never feeds
     * growth, so a run with another test set grows and trains exactly the same network.
     */
    @Test
    void nashNeverSeesTheTestSet() throws IOException {
        Path a = tmp.resolve("a.ck"), b = tmp.resolve("b.ck"), ja = tmp.resolve("a.json"), jb = tmp.resolve("b.json");
        String[] nash = {"grow", "--method", "nash", "--train-limit", "800", "--rounds", "1", "--epochs-per-round", "1",
                "--growth-samples", "100", "--no-progress", "--seed", "4"};
        assertEquals(0, run(with(nash, "--test-limit", "300", "--checkpoint", a.toString(), "--out", ja.toString())), err());
        assertEquals(0, run(with(nash, "--test-limit", "50", "--checkpoint", b.toString(), "--out", jb.toString())), err());
        JsonNode ra = new ObjectMapper().readTree(ja.toFile()).get("rounds"), rb = new ObjectMapper().readTree(jb.toFile()).get("rounds");
        assertEquals("nash", new ObjectMapper().readTree(ja.toFile()).get("method").asText());
        assertTrue(ra.get(1).get("neurons_split").asInt() > 0, ra.toString());
        assertTrue(ra.get(1).get("growth_phase_seconds").has("children"), ra.toString());
        for (String k : new String[] {"loss_before_growth", "loss_after_growth", "train_loss"}) {
            assertEquals(ra.get(1).get(k).asDouble(), rb.get(1).get(k).asDouble(), k);
        }
        Checkpoint ca = Checkpoint.load(a), cb = Checkpoint.load(b);
        assertEquals(ca.architecture(), cb.architecture());
        for (String k : ca.parameters().keySet()) {
            assertArrayEquals(ca.parameters().get(k).toFloatArray(), cb.parameters().get(k).toFloatArray(), "parameter " + k);
        }
    }
}
