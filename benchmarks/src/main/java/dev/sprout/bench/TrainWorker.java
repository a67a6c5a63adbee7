package dev.sprout.bench;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

/**
 * The Sprout side of an interleaved training-step comparison ({@code sprout bench --suite train --interleaved}): a
 * process that runs {@link TrainBenchmark}'s work on command, so that a controller can alternate batches of Sprout
 * steps with batches of the PyTorch peer's ({@code benchmarks/peers/torch_train_worker.py}, the same protocol) and
 * compare batches measured seconds apart instead of JMH runs minutes apart.
 *
 * <p>Protocol, one line each way: it prints {@code ready <description>}; then for each command {@code <work> <steps>}
 * ({@code work} = mlp, cnn or hvp) it runs that many steps on the calling thread and answers
 * {@code ok <thread CPU ms per step> <wall ms per step> <JIT compilation ms during the batch>}, or
 * {@code error <message>}; end of input ends it. The third figure (the JVM's compiler threads, from
 * CompilationMXBean) lets the controller warm up until the compilers are done: C2 still compiles methods that run a
 * few times per step 30-50 s into a run, and with both workers pinned to one CPU that time is taken from the batches.
 * Argument: the backend ({@code native} or {@code java}, one thread).
 */
public final class TrainWorker {
    private TrainWorker() {
    }

    public static void main(String[] args) throws Exception {
        String backend = args.length > 0 ? args[0] : "native";
        PrintStream out = new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), true, StandardCharsets.UTF_8);
        // setUp() prints a description line; keep the protocol on its own stream
        System.setOut(new PrintStream(java.io.OutputStream.nullOutputStream()));
        ThreadMXBean mx = ManagementFactory.getThreadMXBean();
        java.lang.management.CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
        boolean jitTimed = jit != null && jit.isCompilationTimeMonitoringSupported();
        Map<String, TrainBenchmark> works = new HashMap<>();
        CpuClock clock = new CpuClock();
        out.println("ready sprout " + TrainBenchmark.backend(backend).describe());
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        for (String line; (line = in.readLine()) != null; ) {
            String[] t = line.trim().split("\\s+");
            try {
                if (t.length != 2) {
                    throw new IllegalArgumentException("expected '<work> <steps>', got '" + line + "'");
                }
                int steps = Integer.parseInt(t[1]);
                if (steps < 1) {
                    throw new IllegalArgumentException("steps must be >= 1, got " + steps);
                }
                TrainBenchmark b = works.get(t[0]);
                if (b == null) {
                    b = new TrainBenchmark();
                    b.work = t[0];
                    b.backend = backend;
                    b.setUp();
                    works.put(t[0], b);
                }
                long j0 = jitTimed ? jit.getTotalCompilationTime() : 0;
                long c0 = mx.getCurrentThreadCpuTime(), w0 = System.nanoTime();
                for (int i = 0; i < steps; i++) {
                    b.step(clock);
                }
                double cpu = (mx.getCurrentThreadCpuTime() - c0) / 1e6 / steps, wall = (System.nanoTime() - w0) / 1e6 / steps;
                long jitMs = jitTimed ? jit.getTotalCompilationTime() - j0 : 0;
                out.println("ok " + cpu + " " + wall + " " + jitMs);
            } catch (RuntimeException e) {
                out.println("error " + String.valueOf(e.getMessage()).replace('\n', ' '));
            }
        }
    }
}
