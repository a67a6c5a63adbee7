package dev.sprout.cli;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MainTest {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();

    private int run(String... args) {
        return Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    @Test
    void demoLearnsTheSpirals() {
        assertEquals(0, run("demo"));
        Matcher m = Pattern.compile("test accuracy ([0-9.]+)").matcher(out.toString(StandardCharsets.UTF_8));
        assertTrue(m.find(), out.toString(StandardCharsets.UTF_8));
        // a linear classifier gets about 0.5-0.65 on two spirals; the MLP must do far better
        assertTrue(Double.parseDouble(m.group(1)) >= 0.9, out.toString(StandardCharsets.UTF_8));
    }

    @Test
    void backendsAndBadCommands() {
        assertEquals(0, run("backends"));
        assertTrue(out.toString(StandardCharsets.UTF_8).contains("auto-selection picks: java"));
        assertEquals(2, run("frobnicate"));
        assertTrue(err.toString(StandardCharsets.UTF_8).startsWith("sprout: unknown command 'frobnicate'"));
    }
}
