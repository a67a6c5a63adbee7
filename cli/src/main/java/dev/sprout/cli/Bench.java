package dev.sprout.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * {@code sprout bench}: runs one JMH suite of the benchmarks module in a child JVM and writes a summary JSON
 * ({@link BenchReport}). Needs the source tree (it builds {@code benchmarks/target/benchmarks.jar} with the Maven
 * wrapper when the jar is missing or older than the sources). The child runs without {@code OPENBLAS_CORETYPE} and
 * {@code OPENBLAS_L2_SIZE} in its environment, so OpenBLAS picks its kernels by itself (AVX-512 where the CPU has it).
 * Suites with a PyTorch peer (eigh, complex, train) then run {@code shared/peers/torch_cpu.py} with Debian's
 * {@code /usr/bin/python3} at one thread, right after the JMH run.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = {"Run a benchmark suite (JMH, child JVM) and its peer; print a table and write summary JSON.",
                "Suites: gemm (native/Java sgemm, dgemm vs OpenBLAS, GFLOP/s), eigh (batched f32 eigh vs LAPACKE_ssyevd and "
                        + "torch), complex (c64 LU solve vs LAPACKE_cgesv and torch), train (MLP/CNN SGD step and MLP HVP, "
                        + "ms, vs torch). Extra JMH options after --, e.g. sprout bench --suite gemm -- -p n=1024 -p threads=1,2"})
final class Bench implements Callable<Integer> {
    @ParentCommand
    Main main;

    @Option(names = "--suite", required = true, description = "gemm, eigh, complex or train")
    String suite;

    @Option(names = "--quick", description = "fewer sizes and iterations (about two minutes)")
    boolean quick;

    @Option(names = "--threads", description = "kernel thread counts for gemm/eigh, e.g. 1 or 1,2 (default: the suite's)")
    String threads;

    @Option(names = "--out", description = "summary JSON (default: benchmarks/target/bench-SUITE-TIME.json)")
    Path outFile;

    @Option(names = "--rounds", description = "run the suite and its PyTorch peer this many times, back to back, and "
            + "report medians and the median of the per-round ratios (default 1; for a machine whose speed drifts); "
            + "with --interleaved: the number of batch pairs (default 15)")
    Integer rounds;

    @Option(names = "--interleaved", description = "train suite: alternate half-second batches of Sprout's and PyTorch's "
            + "steps in two live worker processes (--rounds pairs, default 15) instead of a JMH run then the peer")
    boolean interleaved;

    @Option(names = "--works", description = "with --interleaved: which of mlp, cnn, hvp (default mlp,cnn,hvp)")
    String works = "mlp,cnn,hvp";

    @Option(names = "--cpu", description = "with --interleaved: the CPU both workers are pinned to (taskset; default 0, "
            + "-1: not pinned)")
    int cpu = 0;

    @Option(names = "--no-peer", description = "skip the PyTorch peer")
    boolean noPeer;

    @Option(names = "--peer-system-blas", description = "run the PyTorch peer on the system's libblas.so.3 even when it is "
            + "not OpenBLAS (by default the peer then gets the benchmarks' OpenBLAS 0.3.31 through LD_LIBRARY_PATH)")
    boolean peerSystemBlas;

    @Parameters(description = "JMH options (after --)")
    List<String> jmhArgs = new ArrayList<>();

    static final String PYTHON = "/usr/bin/python3";

    @Override
    public Integer call() throws IOException, InterruptedException {
        BenchReport.Suite s = BenchReport.Suite.parse(suite);
        if (threads != null && !threads.matches("[1-9][0-9]*(,[1-9][0-9]*)*")) {
            throw new IllegalArgumentException("--threads: expected a list like 1 or 1,2, got '" + threads + "'");
        }
        if (rounds != null && (rounds < 1 || rounds > 200)) {
            throw new IllegalArgumentException("--rounds: expected 1 to 200, got " + rounds);
        }
        if (interleaved && (s != BenchReport.Suite.TRAIN || noPeer || !jmhArgs.isEmpty() || quick)) {
            throw new IllegalArgumentException("--interleaved applies to the train suite with its peer, without --quick, "
                    + "--no-peer or JMH options");
        }
        List<String> workList = List.of(works.split(","));
        for (String w : workList) {
            if (!Set.of("mlp", "cnn", "hvp").contains(w)) {
                throw new IllegalArgumentException("--works: expected a list of mlp, cnn, hvp, got '" + works + "'");
            }
        }
        int rounds = this.rounds != null ? this.rounds : interleaved ? 15 : 1;
        if (threads != null && s != BenchReport.Suite.GEMM && s != BenchReport.Suite.EIGH) {
            throw new IllegalArgumentException("--threads applies to the gemm and eigh suites; " + s.label() + " runs on 1 thread");
        }
        PrintStream o = main.out;
        Path root = findRoot();
        Path jar = root.resolve("benchmarks/target/benchmarks.jar");
        if (stale(root, jar)) {
            o.println("bench: building " + root.relativize(jar) + " (missing or older than the sources) ...");
            int rc = exec(root, List.of(root.resolve("mvnw").toString(), "-q", "-B", "-pl", "benchmarks", "-am", "package",
                    "-DskipTests"), null, o);
            if (rc != 0) {
                throw new IllegalStateException("building the benchmarks failed (./mvnw -pl benchmarks -am package exit " + rc + ")");
            }
        }
        if (interleaved) {
            return interleaved(root, jar, workList, rounds, o);
        }
        Path work = Files.createTempDirectory("sprout-bench");
        List<ObjectNode> summaries = new ArrayList<>();
        List<Path> results = new ArrayList<>();
        List<String> cmd = null;
        for (int round = 1; round <= rounds; round++) {
            Path result = work.resolve("jmh-" + round + ".json");
            cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-jar", jar.toString(), s.benchmark, "-rf", "json", "-rff", result.toString()));
            if (quick) {
                cmd.addAll(s.quickArgs());
            }
            if (threads != null) {
                cmd.addAll(List.of("-p", "threads=" + threads));
            }
            cmd.addAll(jmhArgs);
            String loadBefore = load();
            o.println("bench: " + (rounds > 1 ? "round " + round + "/" + rounds + ": " : "")
                    + String.join(" ", cmd.subList(1, cmd.size())) + "   (load " + loadBefore + ")");
            StringBuilder console = new StringBuilder();
            int rc = exec(root, cmd, console, o);
            if (rc != 0 || !Files.isRegularFile(result)) {
                throw new IllegalStateException("the " + s.label() + " benchmark failed (exit " + rc + "); its output is above");
            }
            String peer = null;
            if (!s.torchSections().isEmpty() && !noPeer) {
                peer = runPeer(root, jar, s, quick, peerSystemBlas, o);
            }
            Map<String, Object> machine = Machine.describe();
            machine.remove("jdk");
            machine.put("load_before", loadBefore);
            machine.put("load_after", load());
            summaries.add(BenchReport.assemble(s, Files.readString(result), console.toString(), peer, machine));
            results.add(result);
            if (rounds > 1) {
                o.print(BenchReport.table(summaries.get(round - 1)));
            }
        }
        ObjectNode summary = rounds == 1 ? summaries.get(0) : BenchReport.combineRounds(summaries);
        summary.put("quick", quick);
        summary.put("command", String.join(" ", cmd.subList(3, cmd.size())).replace(results.get(results.size() - 1).toString(),
                "JMH.json") + (rounds > 1 ? "   (x" + rounds + " rounds)" : ""));
        Path dest = outFile != null ? outFile : root.resolve("benchmarks/target/bench-" + s.label() + "-"
                + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")) + ".json");
        if (dest.toAbsolutePath().getParent() != null) {
            Files.createDirectories(dest.toAbsolutePath().getParent());
        }
        BenchReport.JSON.writerWithDefaultPrettyPrinter().writeValue(dest.toFile(), summary);
        String stem = dest.toString().replaceAll("\\.json$", "");
        for (int i = 0; i < results.size(); i++) {
            Files.copy(results.get(i), Path.of(stem + (rounds > 1 ? ".round" + (i + 1) : "") + ".jmh.json"),
                    java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
        o.println();
        o.println("machine: " + summary.path("machine"));
        o.print(BenchReport.table(summary));
        o.println("summary: " + dest);
        return 0;
    }

    /** The train suite as alternating batches of two live workers ({@link InterleavedTrain}). */
    private int interleaved(Path root, Path jar, List<String> workList, int pairs, PrintStream o)
            throws IOException, InterruptedException {
        if (!Files.isExecutable(Path.of(PYTHON))) {
            throw new IllegalStateException("--interleaved needs " + PYTHON + " with Debian's python3-torch");
        }
        Map<String, String> peerEnv = peerEnv(root, jar, peerSystemBlas, o);
        int pinTo = cpu;
        if (pinTo >= 0 && exec(root, List.of("taskset", "-c", Integer.toString(pinTo), "true"), new StringBuilder(), null) != 0) {
            o.println("bench: taskset cannot pin to CPU " + pinTo + " here: the workers run unpinned");
            pinTo = -1;
        }
        List<List<String>> cmds = InterleavedTrain.commands(root, jar, "native", pinTo);
        String loadBefore = load();
        o.println("bench: interleaved train, " + pairs + " pairs per work of " + workList
                + (pinTo >= 0 ? ", both workers on CPU " + pinTo : ", workers not pinned") + "   (load " + loadBefore + ")");
        com.fasterxml.jackson.databind.node.ArrayNode rows = BenchReport.JSON.createArrayNode();
        String sproutDesc, peerDesc;
        try (InterleavedTrain.ProcessWorker sw = new InterleavedTrain.ProcessWorker("sprout", root, cmds.get(0), Map.of());
             InterleavedTrain.ProcessWorker pw = new InterleavedTrain.ProcessWorker("torch", root, cmds.get(1), peerEnv)) {
            sproutDesc = sw.description();
            peerDesc = pw.description();
            o.println("bench: sprout worker: " + sproutDesc);
            o.println("bench: torch worker: " + peerDesc);
            InterleavedTrain.measure(sw, pw, "native", workList, pairs, 500, 25_000, 5_000, 90_000, rows, o);
        }
        ObjectNode summary = BenchReport.JSON.createObjectNode();
        summary.put("suite", "train");
        Map<String, Object> machine = Machine.describe();
        machine.put("load_before", loadBefore);
        machine.put("load_after", load());
        machine.put("sprout_worker", sproutDesc);
        machine.put("workers_cpu", pinTo >= 0 ? Integer.toString(pinTo) : "not pinned");
        machine.put("peer", peerDesc);
        summary.set("machine", BenchReport.JSON.valueToTree(machine));
        summary.put("interleaved", true);
        summary.put("rounds", pairs);
        summary.set("rows", rows);
        summary.put("command", "sprout bench --suite train --interleaved --rounds " + pairs + " --works " + String.join(",", workList)
                + " --cpu " + pinTo);
        Path dest = outFile != null ? outFile : root.resolve("benchmarks/target/bench-train-interleaved-"
                + LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")) + ".json");
        if (dest.toAbsolutePath().getParent() != null) {
            Files.createDirectories(dest.toAbsolutePath().getParent());
        }
        BenchReport.JSON.writerWithDefaultPrettyPrinter().writeValue(dest.toFile(), summary);
        o.println();
        o.println("machine: " + summary.path("machine"));
        o.print(BenchReport.table(summary));
        o.println("summary: " + dest);
        return 0;
    }

    /** Runs torch_cpu.py at one thread; returns its output, or null (with a message) when it cannot run. */
    private static String runPeer(Path root, Path jar, BenchReport.Suite s, boolean quick, boolean systemBlas, PrintStream o) throws IOException, InterruptedException {
        Path script = null;
        for (Path p : List.of(root.resolve("shared/peers/torch_cpu.py"), root.resolveSibling("shared").resolve("peers/torch_cpu.py"))) {
            if (Files.isRegularFile(p)) {
                script = p;
                break;
            }
        }
        if (script == null) {
            o.println("bench: peer skipped: no shared/peers/torch_cpu.py in " + root + " or beside it");
            return null;
        }
        if (!Files.isExecutable(Path.of(PYTHON)) || exec(root, List.of(PYTHON, "-c", "import torch, numpy"), new StringBuilder(), null) != 0) {
            o.println("bench: peer skipped: " + PYTHON + " cannot import torch and numpy (install Debian's python3-torch: "
                    + "apt-get install -y python3-torch python3-numpy)");
            return null;
        }
        List<String> cmd = new ArrayList<>(List.of(PYTHON, script.toString(), "1"));
        cmd.addAll(s.torchSections());
        StringBuilder out = new StringBuilder();
        // one thread: OMP/OPENBLAS/MKL_NUM_THREADS are read at load; quick: fewer, shorter samples (REPS, MIN_T, WARM)
        Map<String, String> env = peerEnv(root, jar, systemBlas, o);
        if (quick) {
            env.putAll(Map.of("REPS", "3", "MIN_T", "0.2", "WARM", "0.3"));
        }
        o.println("bench: peer: " + String.join(" ", cmd) + "   (load " + load() + ")");
        int rc = exec(root, cmd, out, o, env);
        if (rc != 0) {
            o.println("bench: peer failed (exit " + rc + "); rows have no peer");
            return null;
        }
        return out.toString();
    }

    static final String SYSTEM_BLAS = "/usr/lib/x86_64-linux-gnu/libblas.so.3";

    /**
     * The PyTorch peer's environment: one thread (OMP/OPENBLAS/MKL_NUM_THREADS are read at load) and, when the
     * system's {@code libblas.so.3} is not OpenBLAS and {@code systemBlas} is false, the benchmarks' OpenBLAS first on
     * LD_LIBRARY_PATH (said on {@code o}).
     */
    static Map<String, String> peerEnv(Path root, Path jar, boolean systemBlas, PrintStream o) throws IOException {
        Map<String, String> env = new java.util.HashMap<>(Map.of("OMP_NUM_THREADS", "1", "OPENBLAS_NUM_THREADS", "1",
                "MKL_NUM_THREADS", "1"));
        Path sys = Path.of(SYSTEM_BLAS);
        boolean sysIsOpenBlas = Files.exists(sys) && sys.toRealPath().toString().toLowerCase(java.util.Locale.ROOT).contains("openblas");
        if (!sysIsOpenBlas && !systemBlas) {
            Path dir = peerBlas(root, jar);
            String old = System.getenv("LD_LIBRARY_PATH");
            env.put("LD_LIBRARY_PATH", dir + (old == null || old.isEmpty() ? "" : ":" + old));
            o.println("bench: " + SYSTEM_BLAS + " is not OpenBLAS (" + (Files.exists(sys) ? sys.toRealPath() : "missing")
                    + "): the peer runs on the benchmarks' OpenBLAS from " + dir + " (--peer-system-blas to keep the system's)");
        }
        return env;
    }

    /**
     * A directory with the benchmarks jar's OpenBLAS (bytedeco 0.3.31, the in-run peer of gemm/eigh/complex) and the
     * libraries it needs, plus {@code libblas.so.3} and {@code liblapack.so.3} links to it: on LD_LIBRARY_PATH it
     * replaces a reference BLAS under Debian's PyTorch, which links libblas.so.3 / liblapack.so.3.
     */
    static Path peerBlas(Path root, Path jar) throws IOException {
        Path dir = root.resolve("benchmarks/target/peer-blas");
        Files.createDirectories(dir);
        try (java.util.zip.ZipFile z = new java.util.zip.ZipFile(jar.toFile())) {
            for (String lib : List.of("libopenblas.so.0", "libgfortran.so.5", "libquadmath.so.0", "libgcc_s.so.1")) {
                Path f = dir.resolve(lib);
                if (Files.isRegularFile(f) && !newer(jar, Files.getLastModifiedTime(f))) {
                    continue;
                }
                java.util.zip.ZipEntry e = z.getEntry("org/bytedeco/openblas/linux-x86_64/" + lib);
                if (e == null) {
                    throw new IllegalStateException(jar + " holds no org/bytedeco/openblas/linux-x86_64/" + lib);
                }
                try (InputStream in = z.getInputStream(e)) {
                    Files.copy(in, f, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                }
            }
        }
        for (String link : List.of("libblas.so.3", "liblapack.so.3")) {
            Path l = dir.resolve(link);
            Files.deleteIfExists(l);
            Files.createSymbolicLink(l, Path.of("libopenblas.so.0"));
        }
        return dir;
    }

    /** Runs a command in {@code dir} without the OpenBLAS pinning variables; echoes and captures its output. */
    static int exec(Path dir, List<String> cmd, StringBuilder capture, PrintStream echo) throws IOException, InterruptedException {
        return exec(dir, cmd, capture, echo, Map.of());
    }

    /** As above, with {@code extra} added to the environment. */
    static int exec(Path dir, List<String> cmd, StringBuilder capture, PrintStream echo, Map<String, String> extra)
            throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true);
        Map<String, String> env = pb.environment();
        env.remove("OPENBLAS_CORETYPE");
        env.remove("OPENBLAS_L2_SIZE");
        env.putAll(extra);
        Process p = pb.start();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) {
                if (capture != null) {
                    capture.append(line).append('\n');
                }
                if (echo != null) {
                    echo.println(line);
                }
            }
        }
        if (!p.waitFor(10, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            return 124;
        }
        return p.exitValue();
    }

    static String load() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (IOException | RuntimeException e) {
            return "unknown";
        }
    }

    /** The source tree: the first directory with mvnw and benchmarks/pom.xml above the working directory or the jar. */
    static Path findRoot() {
        List<Path> starts = new ArrayList<>();
        starts.add(Path.of("").toAbsolutePath());
        try {
            starts.add(Path.of(Bench.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toAbsolutePath());
        } catch (URISyntaxException | RuntimeException e) {
            // no code source: the working directory only
        }
        for (Path start : starts) {
            for (Path d = start; d != null; d = d.getParent()) {
                if (Files.isRegularFile(d.resolve("mvnw")) && Files.isRegularFile(d.resolve("benchmarks/pom.xml"))) {
                    return d;
                }
            }
        }
        throw new IllegalStateException("bench needs the Sprout source tree (mvnw and benchmarks/): run it inside the repository");
    }

    /** True when the jar is missing or a source or pom of the modules it holds is newer. */
    static boolean stale(Path root, Path jar) throws IOException {
        if (!Files.isRegularFile(jar)) {
            return true;
        }
        FileTime built = Files.getLastModifiedTime(jar);
        for (String dir : List.of("engine-java/src/main", "engine-native/src/main", "cuda/src/main", "benchmarks/src")) {
            Path d = root.resolve(dir);
            if (!Files.isDirectory(d)) {
                continue;
            }
            try (Stream<Path> files = Files.walk(d)) {
                if (files.anyMatch(f -> Files.isRegularFile(f) && newer(f, built))) {
                    return true;
                }
            }
        }
        for (String pom : List.of("pom.xml", "engine-java/pom.xml", "engine-native/pom.xml", "cuda/pom.xml", "benchmarks/pom.xml")) {
            Path f = root.resolve(pom);
            if (Files.isRegularFile(f) && newer(f, built)) {
                return true;
            }
        }
        return false;
    }

    private static boolean newer(Path f, FileTime t) {
        try {
            return Files.getLastModifiedTime(f).compareTo(t) > 0;
        } catch (IOException e) {
            return true;
        }
    }
}
