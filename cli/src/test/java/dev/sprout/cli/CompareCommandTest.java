package dev.sprout.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code sprout compare}: one table, one JSON with an entry per method, one PNG; bad method names. */
class CompareCommandTest {
    private static final byte[] PNG_SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};

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

    private static final String[] SMALL = {"compare", "--train-limit", "1200", "--test-limit", "300", "--rounds", "2",
            "--epochs-per-round", "1", "--growth-samples", "150", "--no-progress", "--seed", "4"};

    private static String[] with(String[] a, String... b) {
        String[] r = new String[a.length + b.length];
        System.arraycopy(a, 0, r, 0, a.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }

    @Test
    void twoMethodsAndStaticGiveOneJsonAndOnePng() throws IOException {
        Path json = tmp.resolve("c.json"), png = tmp.resolve("c.png");
        assertEquals(0, run(with(SMALL, "--methods", "random-split,random-new,static", "--out", json.toString())), err());
        String text = out.toString(StandardCharsets.UTF_8);
        assertTrue(text.contains("static (size of random-split, random-new)"), text);
        assertTrue(text.contains("plot: " + png), text);

        JsonNode r = new ObjectMapper().readTree(json.toFile());
        assertEquals("compare", r.get("command").asText());
        assertEquals(4, r.get("config").get("seed").asLong());
        JsonNode methods = r.get("methods");
        List<String> labels = new ArrayList<>();
        methods.forEach(m -> labels.add(m.get("method").asText()));
        assertEquals(List.of("random-split", "random-new", "static"), labels);
        JsonNode split = methods.get(0).get("rounds"), fresh = methods.get(1).get("rounds");
        assertEquals(3, split.size());
        assertEquals(3, fresh.size());
        // the same seed and schedule: both start from the same network and train it the same way before growing
        assertEquals(split.get(0).get("params").asLong(), fresh.get(0).get("params").asLong());
        assertEquals(split.get(0).get("test_accuracy").asDouble(), fresh.get(0).get("test_accuracy").asDouble());
        assertEquals(split.get(0).get("train_loss").asDouble(), fresh.get(0).get("train_loss").asDouble());
        // then they grow differently (splits versus new neurons), to the same widths
        assertTrue(split.get(1).get("neurons_split").asInt() > 0 && fresh.get(1).get("neurons_new").asInt() > 0);
        assertEquals(split.get(2).get("widths"), fresh.get(2).get("widths"));
        // static: one network for the one final architecture both reached, of that size
        JsonNode st = methods.get(2);
        assertEquals(1, st.get("rounds").size(), st.toString());
        assertEquals("random-split, random-new", st.get("size_of").get(0).asText());
        assertEquals(split.get(2).get("params").asLong(), st.get("rounds").get(0).get("params").asLong());
        assertTrue(st.get("rounds").get(0).get("test_accuracy").asDouble() > 0.3);

        byte[] bytes = Files.readAllBytes(png);
        assertTrue(bytes.length > 5_000, "a plot with lines and text, not an empty image: " + bytes.length + " bytes");
        byte[] head = new byte[8];
        System.arraycopy(bytes, 0, head, 0, 8);
        assertArrayEquals(PNG_SIGNATURE, head);
        ByteBuffer ihdr = ByteBuffer.wrap(bytes, 12, 12);
        assertEquals("IHDR", new String(bytes, 12, 4, StandardCharsets.US_ASCII));
        ihdr.position(16);
        assertEquals(Plot.WIDTH, ihdr.getInt());
        assertEquals(Plot.HEIGHT, ihdr.getInt());
        BufferedImage img = ImageIO.read(new ByteArrayInputStream(bytes));
        assertNotNull(img, "the PNG decodes");
        assertEquals(Plot.WIDTH, img.getWidth());
        assertTrue(Files.list(tmp).noneMatch(p -> p.toString().endsWith(".tmp")), "no temporary file left");
        assertTrue(Files.getPosixFilePermissions(png).contains(java.nio.file.attribute.PosixFilePermission.OTHERS_READ),
                "the plot is readable like any file, not private like a temporary file");
    }

    /**
     * The spec's R3 net (--model vgg: four 3x3 convolutions with batch norm, two pools, global average pooling) grows
     * under every method of the R3 comparison: each adds neurons to its conv layers, all from one start.
     */
    @Test
    void theVggNetGrowsUnderEveryR3Method() throws IOException {
        Path json = tmp.resolve("vgg.json");
        // Firefly with a short candidate budget (its default, 50 steps of 128, is the R3 setting, not a test)
        List<String> methods = List.of("firefly:steps=5:batch=32", "exact", "fast", "random-split", "net2net");
        assertEquals(0, run("compare", "--model", "vgg", "--initial-width", "4", "--rounds", "1", "--train-limit", "600",
                "--test-limit", "200", "--epochs-per-round", "1", "--growth-samples", "100", "--no-progress", "--seed", "4",
                "--methods", String.join(",", methods), "--out", json.toString()), err());
        JsonNode r = new ObjectMapper().readTree(json.toFile());
        assertEquals(methods.size(), r.get("methods").size());
        long start = -1;
        for (JsonNode m : r.get("methods")) {
            JsonNode rounds = m.get("rounds");
            assertEquals(2, rounds.size(), m.get("method") + ": " + rounds);
            assertEquals(List.of(4, 4, 8, 8), widths(rounds.get(0)), m.get("method").asText());
            if (start < 0) {
                start = rounds.get(0).get("params").asLong();
            }
            assertEquals(start, rounds.get(0).get("params").asLong(), "one starting network");
            assertTrue(rounds.get(1).get("params").asLong() > start, m.get("method") + " grew: " + rounds.get(1));
            int before = widths(rounds.get(0)).stream().mapToInt(Integer::intValue).sum();
            int after = widths(rounds.get(1)).stream().mapToInt(Integer::intValue).sum();
            assertEquals(before + (int) Math.floor(0.35 * before), after, m.get("method") + " grows by the ratio");
        }
    }

    /**
     * Round 0 is trained once and shared: the log has one round-0 phase, and every method's rows equal, value for
     * value, those of the same method compared alone (which trains its own round 0); with --keep-optimizer-state each
     * method trains its own round 0 again.
     */
    @Test
    void roundZeroIsTrainedOnceAndEachMethodEndsAsIfAlone() throws IOException {
        Path both = tmp.resolve("both.json"), alone = tmp.resolve("alone.json");
        assertEquals(0, run(with(SMALL, "--methods", "random-split,net2net", "--out", both.toString())), err());
        String text = out.toString(StandardCharsets.UTF_8);
        assertEquals(1, text.lines().filter(l -> l.startsWith("round 0: ")).count(), text);
        assertTrue(text.contains("round 0, shared by the 2 methods"), text);
        assertEquals(0, run(with(SMALL, "--methods", "net2net", "--out", alone.toString())), err());
        ObjectMapper json = new ObjectMapper();
        JsonNode a = json.readTree(both.toFile()).get("methods").get(1), b = json.readTree(alone.toFile()).get("methods").get(0);
        assertEquals("net2net", a.get("method").asText());
        assertEquals(b.get("rounds").size(), a.get("rounds").size());
        for (int i = 0; i < a.get("rounds").size(); i++) {
            for (String key : List.of("widths", "params", "test_accuracy", "test_loss", "train_loss", "loss_before_growth",
                    "loss_after_growth")) {
                assertEquals(b.get("rounds").get(i).get(key), a.get("rounds").get(i).get(key), "round " + i + " " + key);
            }
        }
        assertTrue(a.get("rounds").get(2).get("loss_before_growth").isNumber() && a.get("rounds").get(2).get("test_accuracy").isNumber(),
                a.get("rounds").get(2).toString());
        assertEquals(0, run(with(SMALL, "--methods", "random-split,net2net", "--keep-optimizer-state")), err());
        text = out.toString(StandardCharsets.UTF_8);
        assertEquals(2, text.lines().filter(l -> l.startsWith("round 0: ")).count(), text);
    }

    private static List<Integer> widths(JsonNode round) {
        List<Integer> w = new ArrayList<>();
        round.get("widths").forEach(x -> w.add(x.asInt()));
        return w;
    }

    @Test
    void badMethodNamesGiveOneLineErrors() {
        assertEquals(2, run(with(SMALL, "--methods", "random-split,magic")));
        assertTrue(err().contains("'magic'") && err().contains("firefly") && err().contains("nash") && err().contains("static"), err());
        assertEquals(1, err().strip().lines().count(), err());
        assertFalse(out.toString(StandardCharsets.UTF_8).contains("trained"), "nothing trains before the names are checked");
        assertEquals(2, run(with(SMALL, "--methods", "static")));
        assertTrue(err().contains("static") && err().contains("growth method"), err());
        assertEquals(2, run(with(SMALL, "--methods", "exact:eps")));
        assertTrue(err().contains("key=value"), err());
        assertEquals(2, run(with(SMALL, "--methods", "exact:magic=1")));
        assertTrue(err().contains("magic") && err().contains("eps"), err());
        assertEquals(2, run(with(SMALL, "--methods", "exact", "--plot", tmp.resolve("p.svg").toString())));
        assertTrue(err().contains(".png"), err());
        assertEquals(2, run(with(SMALL, "--methods", "exact,exact")));
        assertTrue(err().contains("twice"), err());
        assertEquals(1, err().strip().lines().count(), err());
    }
}
