package dev.sprout.cli;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code sprout bench} without running a benchmark: the summary JSON assembled from canned JMH results, console output
 * and torch_cpu.py output (src/test/resources/bench), and the argument errors. One real run is in
 * {@link FullBenchCommandTest} (tag "full").
 */
class BenchCommandTest {
    private static final double EPS = 1e-9;
    private final ByteArrayOutputStream out = new ByteArrayOutputStream(), err = new ByteArrayOutputStream();

    private int run(String... args) {
        return Main.run(args, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    private static String resource(String name) throws IOException {
        try (InputStream in = BenchCommandTest.class.getResourceAsStream("/bench/" + name)) {
            if (in == null) {
                throw new IOException("missing test resource /bench/" + name);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private static Map<String, Object> machine() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("cpu", "test cpu");
        m.put("cores", 2);
        return m;
    }

    private static JsonNode row(JsonNode summary, String kernel, String impl, int threads) {
        for (JsonNode r : summary.path("rows")) {
            if (r.path("kernel").asText().equals(kernel) && r.path("impl").asText().equals(impl) && r.path("threads").asInt() == threads) {
                return r;
            }
        }
        throw new AssertionError("no row " + kernel + " " + impl + " threads=" + threads + " in " + summary);
    }

    @Test
    void gemmSummaryTakesMediansAndSameRunRatiosAgainstOpenBlas() throws IOException {
        JsonNode s = BenchReport.assemble(BenchReport.Suite.GEMM, resource("gemm-jmh.json"), resource("gemm-console.txt"), null, machine());
        assertEquals("gemm", s.path("suite").asText());
        assertEquals("test cpu", s.path("machine").path("cpu").asText());
        assertEquals(2, s.path("machine").path("cores").asInt());
        assertEquals("17.0.15", s.path("machine").path("jdk").asText());
        assertEquals("Cooperlake", s.path("machine").path("openblas_core").asText());
        // OpenBLAS is the peer, not a row: native t1, java t1, native t2, and the interleaved pair
        assertEquals(4, s.path("rows").size(), s.toString());
        JsonNode nat = row(s, "sgemm", "sprout-native", 1);
        // medians of the iterations (150, 200), not the means (113.3, 143.3)
        assertEquals(150.0, nat.path("gflops").asDouble(), EPS);
        assertEquals(200.0, nat.path("peer_gflops").asDouble(), EPS);
        assertEquals("openblas", nat.path("peer").asText());
        assertEquals(0.75, nat.path("ratio").asDouble(), EPS);
        assertEquals(1024, nat.path("n").asInt());
        assertEquals(0.45, row(s, "sgemm", "sprout-java", 1).path("ratio").asDouble(), EPS);
        JsonNode t2 = row(s, "sgemm", "sprout-native", 2);
        assertEquals(250.0, t2.path("gflops").asDouble(), EPS);
        assertTrue(t2.path("peer").isNull() && t2.path("ratio").isNull(), "no OpenBLAS at 2 threads in the run: " + t2);
        String table = BenchReport.table(s);
        assertTrue(table.contains("| sgemm | sprout-native | 1024 | 1 | 150.0 GFLOP/s | openblas | 200.0 GFLOP/s | 0.75 |"), table);
        // CPU time per call: medians of 15, 14, 16 ms (native) and 12, 12, 13 ms (OpenBLAS): 15 ms vs 12 ms
        assertEquals(2.0 * 1024 * 1024 * 1024 / 15e6, nat.path("cpu_gflops").asDouble(), 1e-3);
        assertEquals(2.0 * 1024 * 1024 * 1024 / 12e6, nat.path("peer_cpu_gflops").asDouble(), 1e-3);
        assertEquals(0.8, nat.path("cpu_ratio").asDouble(), EPS);
        assertTrue(row(s, "sgemm", "sprout-java", 1).path("cpu_gflops").isNull(), "no CPU counters, no CPU figures");
        assertTrue(table.contains("| 143.2 / 179.0 / 0.80 |"), table);
        // interleaved: per iteration, time ratios 120/150 = 0.8, 200/200 = 1, 150/120 = 1.25 -> median 1.0; native per
        // call 15, 20, 12 ms -> median rate at 15 ms; OpenBLAS 12, 20, 15 ms -> at 15 ms; CPU ratios 0.9, 1, 1.2 -> 1.0
        JsonNode pair = row(s, "sgemm", "sprout-native (interleaved)", 1);
        double flop = 2.0 * 1024 * 1024 * 1024;
        assertEquals(1.0, pair.path("ratio").asDouble(), EPS);
        assertEquals(Math.round(flop / 15e6 * 1000) / 1000.0, pair.path("gflops").asDouble(), 1e-9);
        assertEquals(Math.round(flop / 15e6 * 1000) / 1000.0, pair.path("peer_gflops").asDouble(), 1e-9);
        assertEquals("openblas (interleaved)", pair.path("peer").asText());
        assertEquals(1.0, pair.path("cpu_ratio").asDouble(), EPS);
        assertEquals(flop / 14e6, pair.path("cpu_gflops").asDouble(), 1e-3);
        assertEquals(3, pair.path("iterations").asInt());
    }

    @Test
    void trainSummaryRatiosAreTimeOverPyTorchTime() throws IOException {
        JsonNode s = BenchReport.assemble(BenchReport.Suite.TRAIN, resource("train-jmh.json"), "", resource("train-peer.txt"), machine());
        assertEquals(4, s.path("rows").size(), s.toString());
        JsonNode mlp = row(s, "mlp 784-1024-1024-10 sgd step b128", "sprout-native", 1);
        assertEquals("ms", mlp.path("unit").asText());
        assertEquals(22.0, mlp.path("ms").asDouble(), EPS);
        assertEquals(25.0, mlp.path("peer_ms").asDouble(), EPS);
        assertEquals(0.88, mlp.path("ratio").asDouble(), EPS);
        // CPU time: median of 20, 18, 19 ms per step against the peer's cpuEq_median of 24 ms
        assertEquals(19.0, mlp.path("cpu_ms").asDouble(), EPS);
        assertEquals(24.0, mlp.path("peer_cpu_ms").asDouble(), EPS);
        assertEquals(19.0 / 24.0, mlp.path("cpu_ratio").asDouble(), 1e-3);
        assertTrue(mlp.path("gflops").isNull());
        assertEquals(128, mlp.path("n").asInt());
        assertEquals(1.2, row(s, "mlp 784-1024-1024-10 sgd step b128", "sprout-java", 1).path("ratio").asDouble(), EPS);
        assertEquals(0.75, row(s, "cnn conv(1-32)+conv(32-64)+pool+fc sgd step b128", "sprout-native", 1).path("ratio").asDouble(), EPS);
        // the canned peer output has no hvp line: the row stands without a peer
        JsonNode hvp = row(s, "mlp 784-1024-1024-10 loss hvp b128", "sprout-native", 1);
        assertEquals(55.0, hvp.path("ms").asDouble(), EPS);
        assertTrue(hvp.path("peer").isNull() && hvp.path("ratio").isNull(), hvp.toString());
        // no OpenBLAS in the JMH run: the core PyTorch's OpenBLAS reported
        assertEquals("SkylakeX (PyTorch's OpenBLAS)", s.path("machine").path("openblas_core").asText());
        assertTrue(s.path("machine").path("peer").asText().contains("torch 1.13.0"), s.path("machine").toString());
        assertTrue(s.path("machine").path("peer_blas").asText().contains("OpenBLAS 0.3.21"), s.path("machine").toString());
    }

    @Test
    void roundsGiveMediansAndTheMedianOfPerRoundRatios() throws IOException {
        // three rounds of the same Sprout run against a peer at 25, 20 and 40 ms per MLP step (the machine drifting)
        java.util.List<com.fasterxml.jackson.databind.node.ObjectNode> rounds = new java.util.ArrayList<>();
        String[] peerMs = {"25.000", "20.000", "40.000"};
        for (int i = 0; i < 3; i++) {
            Map<String, Object> m = machine();
            m.put("load_before", "load-" + i);
            String peer = resource("train-peer.txt").replace("median=25.000", "median=" + peerMs[i]);
            rounds.add(BenchReport.assemble(BenchReport.Suite.TRAIN, resource("train-jmh.json"), "", peer, m));
        }
        JsonNode s = BenchReport.combineRounds(rounds);
        assertEquals(3, s.path("rounds").asInt());
        assertEquals(4, s.path("rows").size());
        assertEquals("load-0", s.path("machine").path("load_before").asText(), "the first round's load");
        JsonNode mlp = row(s, "mlp 784-1024-1024-10 sgd step b128", "sprout-native", 1);
        assertEquals(22.0, mlp.path("ms").asDouble(), EPS);
        assertEquals(25.0, mlp.path("peer_ms").asDouble(), EPS);
        // per-round ratios 22/25, 22/20, 22/40 in round order; the row's ratio is their median
        JsonNode rr = mlp.path("round_ratios");
        assertEquals(3, rr.size());
        assertEquals(0.88, rr.get(0).asDouble(), EPS);
        assertEquals(1.1, rr.get(1).asDouble(), EPS);
        assertEquals(0.55, rr.get(2).asDouble(), EPS);
        assertEquals(0.88, mlp.path("ratio").asDouble(), EPS);
        // a row without a peer stays without a ratio
        JsonNode hvp = row(s, "mlp 784-1024-1024-10 loss hvp b128", "sprout-native", 1);
        assertTrue(hvp.path("ratio").isNull(), hvp.toString());
        String table = BenchReport.table(s);
        assertTrue(table.contains("0.88 (time) [0.55..1.10, 3 rounds]"), table);
        // rounds with different rows are refused
        com.fasterxml.jackson.databind.node.ObjectNode other = rounds.get(1).deepCopy();
        ((com.fasterxml.jackson.databind.node.ArrayNode) other.path("rows")).remove(0);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> BenchReport.combineRounds(java.util.List.of(rounds.get(0), other)));
        assertTrue(e.getMessage().contains("missing"), e.getMessage());
    }

    @Test
    void interleavedRowsAreMediansOfPairRatios() {
        com.fasterxml.jackson.databind.node.ArrayNode rows = BenchReport.JSON.createArrayNode();
        // wall times per step (CPU times are 90 % of them on Sprout's side, equal on the peer's)
        double[][] sp = {{9, 10}, {16.2, 18}, {27, 30}, {10.8, 12}, {14.4, 16}}, pe = {{20, 20}, {20, 20}, {30, 30}, {15, 15}, {32, 32}};
        JsonNode row = BenchReport.interleavedTrainRow(rows, "mlp", "native", sp, pe, 25);
        assertEquals("sprout-native (interleaved)", row.path("impl").asText());
        assertEquals("mlp 784-1024-1024-10 sgd step b128", row.path("kernel").asText());
        assertEquals(16.0, row.path("ms").asDouble(), EPS);
        assertEquals(20.0, row.path("peer_ms").asDouble(), EPS);
        // pair ratios 0.5, 0.9, 1.0, 0.8, 0.5: median 0.8, quartiles 0.5 and 0.9
        assertEquals(0.8, row.path("ratio").asDouble(), EPS);
        assertEquals(0.5, row.path("ratio_q1").asDouble(), EPS);
        assertEquals(0.9, row.path("ratio_q3").asDouble(), EPS);
        assertEquals(5, row.path("round_ratios").size());
        assertEquals(0.9, row.path("round_ratios").get(1).asDouble(), EPS);
        assertEquals(25, row.path("steps_per_batch").asInt());
        assertEquals(14.4, row.path("cpu_ms").asDouble(), EPS);
        assertEquals(20.0, row.path("peer_cpu_ms").asDouble(), EPS);
        assertEquals(0.72, row.path("cpu_ratio").asDouble(), EPS);
        com.fasterxml.jackson.databind.node.ObjectNode summary = BenchReport.JSON.createObjectNode();
        summary.set("rows", rows);
        String table = BenchReport.table(summary);
        assertTrue(table.contains("| 0.80 (time) [0.50..1.00, 5 pairs] |"), table);
        assertThrows(IllegalArgumentException.class, () -> BenchReport.interleavedTrainRow(rows, "mlp", "native",
                new double[][] {{1, 1}}, new double[][] {{1, 1}, {2, 2}}, 1));
    }

    /** A scripted worker: answers from a list and records the calls. */
    private static final class FakeWorker implements InterleavedTrain.Worker {
        final String name;
        final java.util.List<String> calls;
        final java.util.function.IntToDoubleFunction reply;
        int n;

        final java.util.function.IntToDoubleFunction jit;

        FakeWorker(String name, java.util.List<String> calls, java.util.function.IntToDoubleFunction reply) {
            this(name, calls, reply, null);
        }

        FakeWorker(String name, java.util.List<String> calls, java.util.function.IntToDoubleFunction reply,
                   java.util.function.IntToDoubleFunction jit) {
            this.name = name;
            this.calls = calls;
            this.reply = reply;
            this.jit = jit;
        }

        @Override
        public double[] run(String work, int steps) {
            calls.add(name + ":" + work + ":" + steps);
            int i = n++;
            double v = reply.applyAsDouble(i);
            return jit == null ? new double[] {v, v} : new double[] {v, v, jit.applyAsDouble(i)};
        }

        @Override
        public String description() {
            return name;
        }

        @Override
        public void close() {
        }
    }

    @Test
    void interleavingAlternatesTheOrderAndSizesBatchesFromTheCalibration() throws IOException {
        java.util.List<String> calls = new java.util.ArrayList<>();
        // Sprout 8 ms per step, the peer 10 ms: a 500 ms batch is 50 steps (the slower side sets it)
        FakeWorker s = new FakeWorker("s", calls, i -> 8.0), p = new FakeWorker("p", calls, i -> 10.0);
        com.fasterxml.jackson.databind.node.ArrayNode rows = BenchReport.JSON.createArrayNode();
        InterleavedTrain.measure(s, p, "native", java.util.List.of("hvp"), 4, 500, 1200, 0, 60_000, rows, null);
        // setup (2 steps each), calibration (3 each), warm-up (Sprout alone in batches of 400 ms until 1.2 s; then
        // the peer one batch), then S P, P S, S P, P S
        assertEquals(java.util.List.of("s:hvp:2", "p:hvp:2", "s:hvp:3", "p:hvp:3", "s:hvp:50", "s:hvp:50", "s:hvp:50",
                "p:hvp:50", "s:hvp:50", "p:hvp:50", "p:hvp:50", "s:hvp:50", "s:hvp:50", "p:hvp:50", "p:hvp:50",
                "s:hvp:50"), calls);
        assertEquals(1, rows.size());
        assertEquals(0.8, rows.get(0).path("ratio").asDouble(), EPS);
        assertEquals("mlp 784-1024-1024-10 loss hvp b128", rows.get(0).path("kernel").asText());
        assertEquals(1.2, rows.get(0).path("warmup_s").asDouble(), EPS);
        assertEquals(0, rows.get(0).path("sprout_jit_ms").asLong());
    }

    @Test
    void warmUpLastsUntilTheJitIsQuietAndStopsAtItsLimit() throws IOException {
        // Sprout's JIT compiles in its first 6 calls (setup, calibration, 4 warm-up batches of 400 ms), then never:
        // 1.2 s of minimum warm-up is not enough, 0.8 s of quiet batches is needed after the last compilation
        java.util.List<String> calls = new java.util.ArrayList<>();
        FakeWorker s = new FakeWorker("s", calls, i -> 8.0, i -> i < 6 ? 30.0 : 0.0), p = new FakeWorker("p", calls, i -> 10.0);
        com.fasterxml.jackson.databind.node.ArrayNode rows = BenchReport.JSON.createArrayNode();
        InterleavedTrain.measure(s, p, "native", java.util.List.of("mlp"), 2, 500, 1200, 800, 60_000, rows, null);
        long warm = calls.stream().filter(c -> c.equals("s:mlp:50")).count() - 2;
        assertEquals(6, warm, calls.toString()); // 4 compiling batches, then 2 quiet ones (800 ms)
        assertEquals(2.4, rows.get(0).path("warmup_s").asDouble(), EPS);
        assertEquals(0, rows.get(0).path("sprout_jit_ms").asLong());
        // a JIT that never settles: the warm-up stops at its limit and the measured batches' JIT time is reported
        calls.clear();
        s = new FakeWorker("s", calls, i -> 8.0, i -> 5.0);
        p = new FakeWorker("p", calls, i -> 10.0);
        rows = BenchReport.JSON.createArrayNode();
        InterleavedTrain.measure(s, p, "native", java.util.List.of("mlp"), 2, 500, 1200, 800, 2000, rows, null);
        assertEquals(2.0, rows.get(0).path("warmup_s").asDouble(), EPS);
        assertEquals(10, rows.get(0).path("sprout_jit_ms").asLong());
    }

    @Test
    void workersArePinnedToOneCpuWhenAsked() {
        java.nio.file.Path root = java.nio.file.Path.of("/r"), jar = java.nio.file.Path.of("/r/b.jar");
        var pinned = InterleavedTrain.commands(root, jar, "native", 1);
        assertEquals(java.util.List.of("taskset", "-c", "1"), pinned.get(0).subList(0, 3));
        assertEquals(java.util.List.of("taskset", "-c", "1"), pinned.get(1).subList(0, 3));
        assertTrue(pinned.get(0).contains("dev.sprout.bench.TrainWorker") && pinned.get(1).get(4).endsWith("torch_train_worker.py"),
                pinned.toString());
        assertTrue(pinned.get(0).containsAll(InterleavedTrain.EARLY_C2)
                && pinned.get(0).indexOf(InterleavedTrain.EARLY_C2.get(0)) < pinned.get(0).indexOf("-cp"),
                "the Sprout worker's JVM gets the early-C2 options before its class path: " + pinned.get(0));
        var free = InterleavedTrain.commands(root, jar, "native", -1);
        assertFalse(free.get(0).contains("taskset") || free.get(1).contains("taskset"), free.toString());
    }

    @Test
    void workerRepliesAreParsedAndErrorsNamed() throws IOException {
        assertEquals(12.5, InterleavedTrain.parseReply("torch", "ok 12.5 13.0")[0], EPS);
        assertEquals(13.0, InterleavedTrain.parseReply("torch", "ok 12.5 13.0")[1], EPS);
        assertEquals(0.0, InterleavedTrain.parseReply("torch", "ok 12.5 13.0")[2], EPS);
        assertEquals(42.0, InterleavedTrain.parseReply("sprout", "ok 12.5 13.0 42")[2], EPS);
        assertThrows(IOException.class, () -> InterleavedTrain.parseReply("sprout", "ok 12.5 13.0 -1"));
        assertThrows(IOException.class, () -> InterleavedTrain.parseReply("sprout", "ok 12.5 13.0 1 2"));
        assertThrows(IOException.class, () -> InterleavedTrain.parseReply("sprout", "ok 12.5"));
        IOException e = assertThrows(IOException.class, () -> InterleavedTrain.parseReply("torch", "error work must be mlp"));
        assertTrue(e.getMessage().equals("torch worker: work must be mlp"), e.getMessage());
        e = assertThrows(IOException.class, () -> InterleavedTrain.parseReply("sprout", "hello"));
        assertTrue(e.getMessage().contains("unexpected reply 'hello'"), e.getMessage());
        assertThrows(IOException.class, () -> InterleavedTrain.parseReply("sprout", "ok NaN 1"));
        assertThrows(IOException.class, () -> InterleavedTrain.parseReply("sprout", "ok -1 1"));
    }

    @Test
    void trainSummaryWithoutThePeerHasNoRatios() throws IOException {
        JsonNode s = BenchReport.assemble(BenchReport.Suite.TRAIN, resource("train-jmh.json"), "", null, machine());
        assertEquals(4, s.path("rows").size());
        for (JsonNode r : s.path("rows")) {
            assertTrue(r.path("ratio").isNull() && r.path("ms").asDouble() > 0, r.toString());
        }
        assertTrue(s.path("machine").path("openblas_core").isNull());
    }

    @Test
    void aResultOfAnotherSuiteIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> BenchReport.assemble(
                BenchReport.Suite.TRAIN, resource("gemm-jmh.json"), "", null, machine()));
        assertTrue(e.getMessage().contains("GemmBenchmark") && e.getMessage().contains("TrainBenchmark"), e.getMessage());
    }

    @Test
    void peerLinesAreParsedAndCommentsSkipped() throws IOException {
        var points = BenchReport.parsePeer(resource("train-peer.txt"));
        assertEquals(4, points.size(), points.toString());
        assertEquals("cnn", points.get(3).kind());
        assertEquals(400.0, points.get(3).median(), EPS);
        assertEquals("GFLOP/s", points.get(1).unit());
    }

    @Test
    void anUnknownSuiteIsOneLineListingTheSuites() {
        assertEquals(2, run("bench", "--suite", "fft"));
        String e = err.toString(StandardCharsets.UTF_8).trim();
        assertFalse(e.contains("\n"), e);
        assertTrue(e.startsWith("sprout: unknown suite 'fft'"), e);
        for (String s : new String[] {"gemm", "eigh", "complex", "train"}) {
            assertTrue(e.contains(s), e);
        }
        assertEquals("", out.toString(StandardCharsets.UTF_8));
    }

    @Test
    void argumentErrorsExitWithStatusTwo() {
        assertEquals(2, run("bench"));
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("--suite"), err.toString(StandardCharsets.UTF_8));
        err.reset();
        assertEquals(2, run("bench", "--suite", "train", "--threads", "2"));
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("1 thread"), err.toString(StandardCharsets.UTF_8));
        err.reset();
        assertEquals(2, run("bench", "--suite", "gemm", "--threads", "two"));
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("--threads"), err.toString(StandardCharsets.UTF_8));
        err.reset();
        assertEquals(2, run("bench", "--suite", "train", "--rounds", "0"));
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("--rounds"), err.toString(StandardCharsets.UTF_8));
        err.reset();
        assertEquals(2, run("bench", "--suite", "gemm", "--interleaved"));
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("--interleaved"), err.toString(StandardCharsets.UTF_8));
        err.reset();
        assertEquals(2, run("bench", "--suite", "train", "--interleaved", "--works", "mlp,rnn"));
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("--works"), err.toString(StandardCharsets.UTF_8));
    }
}
