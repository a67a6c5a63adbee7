package dev.sprout.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The train suite measured as alternating batches ({@code sprout bench --suite train --interleaved}): a Sprout worker
 * process (dev.sprout.bench.TrainWorker) and a PyTorch worker process (benchmarks/peers/torch_train_worker.py) stay
 * alive, and the controller asks them in turn for a batch of about half a second of steps of the same work, in the
 * order S P, P S, S P, ... Each pair of batches is measured within about a second, so its ratio does not see the
 * drift of this shared machine's speed between a JMH run and a peer run minutes later; the row's ratio is the
 * median of the pair ratios, by wall time as JMH measures (and by thread CPU time as well: both workers run one
 * thread; the idle worker uses none, checked: the JVM's CPU between its batches was 0 ms in the median gap).
 */
final class InterleavedTrain {
    private InterleavedTrain() {
    }

    /**
     * One side: runs {@code steps} steps of {@code work}, returns {thread CPU ms, wall ms} per step and, as a third
     * element where the worker reports it, the JIT compilation ms spent during the batch.
     */
    interface Worker extends AutoCloseable {
        double[] run(String work, int steps) throws IOException;

        String description();

        @Override
        void close() throws IOException;
    }

    /**
     * Measures each work with {@code pairs} alternating pairs of batches and appends one row per work to
     * {@code rows} (as {@link BenchReport#interleavedTrainRow}).
     *
     * <p>Warm-up: Sprout alone, in batches of the measured size, for at least {@code warmMs} and until its JIT has
     * compiled nothing for {@code quietMs} of batches in a row (the JVM's C2 still compiles methods that run a few
     * times per step 30-50 s into a run whose steps take milliseconds; with both workers pinned to one CPU that time
     * would be charged to the measured batches), at most {@code maxWarmMs}. The row records the warm-up's length and
     * any JIT time left inside the measured batches ({@code sprout_jit_ms}).
     *
     * @param batchMs the target length of one batch (its step count is set from a calibration batch)
     */
    static void measure(Worker sprout, Worker peer, String backend, List<String> works, int pairs, double batchMs,
                        double warmMs, double quietMs, double maxWarmMs, ArrayNode rows, PrintStream log) throws IOException {
        for (String work : works) {
            // setup and first steps, then a calibration batch of each
            sprout.run(work, 2);
            peer.run(work, 2);
            double s0 = sprout.run(work, 3)[1], p0 = peer.run(work, 3)[1];
            int steps = (int) Math.max(1, Math.round(batchMs / Math.max(1e-3, Math.max(s0, p0))));
            double warmed = 0, quiet = 0;
            while (warmed < maxWarmMs && (warmed < warmMs || quiet < quietMs)) {
                double[] w = sprout.run(work, steps);
                warmed += w[1] * steps;
                quiet = jitMs(w) > 0 ? 0 : quiet + w[1] * steps;
            }
            if (log != null) {
                log.printf(java.util.Locale.ROOT, "bench: %s warm-up %.1f s%s%n", work, warmed / 1000,
                        quiet >= quietMs ? ", JIT quiet for the last " + Math.round(quiet / 1000) + " s"
                                : ", JIT still compiling at the limit");
            }
            peer.run(work, steps);
            double[][] s = new double[pairs][], p = new double[pairs][];
            double jitInPairs = 0;
            for (int r = 0; r < pairs; r++) {
                if (r % 2 == 0) {
                    s[r] = sprout.run(work, steps);
                    p[r] = peer.run(work, steps);
                } else {
                    p[r] = peer.run(work, steps);
                    s[r] = sprout.run(work, steps);
                }
                jitInPairs += jitMs(s[r]);
                if (log != null) {
                    log.printf(java.util.Locale.ROOT, "bench: %s pair %d/%d: sprout %.2f ms, torch %.2f ms per step (wall; %d steps each), ratio %.3f%s%n",
                            work, r + 1, pairs, s[r][1], p[r][1], steps, s[r][1] / p[r][1],
                            jitMs(s[r]) > 0 ? " (Sprout's JIT compiled for " + Math.round(jitMs(s[r])) + " ms)" : "");
                }
            }
            ObjectNode row = BenchReport.interleavedTrainRow(rows, work, backend, s, p, steps);
            row.put("warmup_s", Math.round(warmed / 100) / 10.0);
            row.put("sprout_jit_ms", Math.round(jitInPairs));
        }
    }

    private static double jitMs(double[] reply) {
        return reply.length > 2 ? reply[2] : 0;
    }

    /** A worker process speaking the line protocol of TrainWorker / torch_train_worker.py. */
    static final class ProcessWorker implements Worker {
        private final Process process;
        private final BufferedReader in;
        private final Writer out;
        private final Path stderr;
        private final String description;
        private final String name;

        ProcessWorker(String name, Path dir, List<String> cmd, Map<String, String> env) throws IOException {
            this.name = name;
            this.stderr = Files.createTempFile("sprout-" + name + "-worker", ".log");
            ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile())
                    .redirectError(ProcessBuilder.Redirect.to(stderr.toFile()));
            pb.environment().remove("OPENBLAS_CORETYPE");
            pb.environment().remove("OPENBLAS_L2_SIZE");
            pb.environment().putAll(env);
            process = pb.start();
            in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
            out = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
            String first = readLine();
            if (!first.startsWith("ready")) {
                throw new IOException(name + " worker did not start: '" + first + "'" + stderrTail());
            }
            description = first.substring(5).trim();
        }

        private String readLine() throws IOException {
            String l = in.readLine();
            if (l == null) {
                throw new IOException(name + " worker exited (" + cmdExit() + ")" + stderrTail());
            }
            return l;
        }

        private String cmdExit() {
            try {
                return process.waitFor(5, java.util.concurrent.TimeUnit.SECONDS) ? "exit " + process.exitValue() : "still running";
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return "interrupted";
            }
        }

        private String stderrTail() {
            try {
                List<String> lines = Files.readAllLines(stderr);
                return lines.isEmpty() ? "" : "; its stderr ends: " + String.join(" | ",
                        lines.subList(Math.max(0, lines.size() - 5), lines.size()));
            } catch (IOException e) {
                return "";
            }
        }

        @Override
        public double[] run(String work, int steps) throws IOException {
            out.write(work + " " + steps + "\n");
            out.flush();
            String l = readLine();
            return parseReply(name, l);
        }

        @Override
        public String description() {
            return description;
        }

        @Override
        public void close() throws IOException {
            out.close();
            try {
                if (!process.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                process.destroyForcibly();
            }
            Files.deleteIfExists(stderr);
        }
    }

    /**
     * {thread CPU ms, wall ms, JIT ms} of an {@code ok <cpu> <wall> [<jit>]} reply (JIT 0 where the worker reports
     * none, as the PyTorch worker); an error reply or anything else throws.
     */
    static double[] parseReply(String worker, String line) throws IOException {
        String[] f = line.trim().split("\\s+");
        if (f.length >= 3 && f.length <= 4 && f[0].equals("ok")) {
            try {
                double cpu = Double.parseDouble(f[1]), wall = Double.parseDouble(f[2]);
                double jit = f.length == 4 ? Double.parseDouble(f[3]) : 0;
                if (cpu > 0 && wall > 0 && jit >= 0 && Double.isFinite(cpu) && Double.isFinite(wall) && Double.isFinite(jit)) {
                    return new double[] {cpu, wall, jit};
                }
            } catch (NumberFormatException e) {
                // reported below
            }
        }
        throw new IOException(worker + " worker: " + (f[0].equals("error") ? line.trim().substring(5).trim() : "unexpected reply '" + line + "'"));
    }

    /**
     * The Sprout worker's JIT settings: C2 compiles a method after 500-1000 calls instead of 5000-15000. Methods that
     * run once or twice per step (Sequential.forward, Module.zeroGrad, the autograd glue) otherwise reach C2 only
     * 60-100 s into a run of 10-20 ms steps (measured with -XX:+PrintCompilation: C2 compilations at 50-66 s, 200 ms of
     * compiler time inside single measured batches, charged to Sprout's wall time on the shared CPU); with these
     * thresholds the last ones come at ~30 s, inside the warm-up. The steady-state code is the same C2 code.
     */
    static final List<String> EARLY_C2 = List.of("-XX:Tier4InvocationThreshold=500", "-XX:Tier4MinInvocationThreshold=100",
            "-XX:Tier4CompileThreshold=1000");

    /**
     * Both worker commands for this tree (the Sprout worker on {@code jar}, the peer with /usr/bin/python3), each
     * prefixed with {@code taskset -c cpu} when {@code cpu >= 0}: both on the same CPU, so they run on the same
     * hardware thread and each side's background work (the JVM's compiler and GC threads, anything of the peer's)
     * takes its time from its own batches' wall time.
     */
    static List<List<String>> commands(Path root, Path jar, String backend, int cpu) {
        List<String> pin = cpu >= 0 ? List.of("taskset", "-c", Integer.toString(cpu)) : List.of();
        List<String> java = new ArrayList<>(pin);
        java.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        java.addAll(EARLY_C2);
        java.addAll(List.of("--add-modules", "jdk.incubator.vector", "-Xss8m", "-cp", jar.toString(),
                "dev.sprout.bench.TrainWorker", backend));
        List<String> torch = new ArrayList<>(pin);
        torch.addAll(List.of(Bench.PYTHON, root.resolve("benchmarks/peers/torch_train_worker.py").toString()));
        return List.of(java, torch);
    }
}
