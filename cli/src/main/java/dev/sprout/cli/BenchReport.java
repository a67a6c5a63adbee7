package dev.sprout.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Assembles the {@code sprout bench} summary from what a run produced: the JMH result JSON, the benchmark's console
 * output (its {@code # sprout-bench:} lines name the OpenBLAS core) and, where the suite has one, the output of
 * {@code torch_cpu.py} (tab-separated lines). Pure: no processes, no files.
 *
 * <p>Summary: {@code {"suite", "machine": {...}, "rows": [{"kernel", "impl", "n", "threads", "unit", "gflops",
 * "peer", "peer_gflops", "ratio", ...}]}}. Throughput suites (gemm) fill {@code gflops}/{@code peer_gflops} and
 * {@code ratio = gflops / peer_gflops} (higher is better for Sprout). Time suites (eigh, complex, train) have
 * {@code unit = "ms"}, fill {@code ms}/{@code peer_ms}, leave the GFLOP/s fields null, and
 * {@code ratio = ms / peer_ms} (Sprout's time as a fraction of the peer's: below 1 Sprout is faster). Every value
 * is the median over the measured iterations of one run; peers come from the same run (OpenBLAS inside the JMH
 * run, PyTorch right after it).
 *
 * <p>CPU time (gemm at n >= 256 and train): {@code cpu_gflops}/{@code peer_cpu_gflops} (flop per CPU-second of the
 * thread, or of the process times the threads for multi-threaded rows) and {@code cpu_ratio = cpu_gflops /
 * peer_cpu_gflops}; train rows {@code cpu_ms}/{@code peer_cpu_ms} (the peer's {@code cpuEq}) and {@code cpu_ratio =
 * cpu_ms / peer_cpu_ms}. On a shared machine the wall-clock ratio also measures which of the two got more time
 * slices; the CPU-time ratio does not (cache and memory interference remain). Null where not measured.
 */
final class BenchReport {
    private BenchReport() {
    }

    static final ObjectMapper JSON = new ObjectMapper();

    /** The suites: the JMH benchmark class each runs. */
    enum Suite {
        GEMM("GemmBenchmark"), EIGH("EighBenchmark"), COMPLEX("ComplexSolveBenchmark"), TRAIN("TrainBenchmark");

        final String benchmark;

        Suite(String benchmark) {
            this.benchmark = benchmark;
        }

        String label() {
            return name().toLowerCase(Locale.ROOT);
        }

        static String names() {
            return String.join(", ", Arrays.stream(values()).map(Suite::label).toList());
        }

        static Suite parse(String s) {
            for (Suite x : values()) {
                if (x.label().equals(s == null ? "" : s.trim().toLowerCase(Locale.ROOT))) {
                    return x;
                }
            }
            throw new IllegalArgumentException("unknown suite '" + s + "': choose one of " + names());
        }

        /** The torch_cpu.py sections that measure the same work, or none. */
        List<String> torchSections() {
            return switch (this) {
                case GEMM -> List.of();
                case EIGH -> List.of("info", "eigh");
                case COMPLEX -> List.of("info", "csolve");
                case TRAIN -> List.of("info", "mlp", "cnn", "hvp");
            };
        }

        /** JMH options for {@code --quick} (about two minutes with the peer). */
        List<String> quickArgs() {
            return switch (this) {
                case GEMM -> List.of("-p", "n=256,1024", "-p", "dtype=f32");
                case EIGH -> List.of("-p", "shape=1000x64", "-wi", "1", "-w", "1s", "-i", "3", "-r", "1s");
                case COMPLEX -> List.of("-p", "n=256", "-wi", "2", "-i", "3");
                case TRAIN -> List.of("-wi", "2", "-w", "1s", "-i", "3", "-r", "1s");
            };
        }
    }

    /** One torch_cpu.py measurement: its wall-clock median and {@code cpuEq} median (NaN when the line has none). */
    record PeerPoint(String kind, String impl, String dtype, String shape, int threads, double median, String unit,
                     double cpuMedian) {
        PeerPoint(String kind, String impl, String dtype, String shape, int threads, double median, String unit) {
            this(kind, impl, dtype, shape, threads, median, unit, Double.NaN);
        }
    }

    /** The measurement lines of torch_cpu.py's output (comment lines and anything else are skipped). */
    static List<PeerPoint> parsePeer(String text) {
        List<PeerPoint> out = new ArrayList<>();
        if (text == null) {
            return out;
        }
        for (String line : text.split("\n")) {
            String[] f = line.split("\t");
            if (f.length < 8 || !f[4].startsWith("thr=") || !f[5].startsWith("median=")) {
                continue;
            }
            try {
                double cpu = Double.NaN;
                for (String field : f) {
                    if (field.startsWith("cpuEq_median=")) {
                        cpu = Double.parseDouble(field.substring("cpuEq_median=".length()));
                    }
                }
                out.add(new PeerPoint(f[0], f[1], f[2], f[3], Integer.parseInt(f[4].substring(4)),
                        Double.parseDouble(f[5].substring(7)), f[7], cpu));
            } catch (NumberFormatException e) {
                // not a measurement line
            }
        }
        return out;
    }

    /** The distinct OpenBLAS core names in {@code corename=X} fields of the console's {@code # sprout-bench:} lines. */
    static List<String> openblasCores(String console) {
        Set<String> s = new LinkedHashSet<>();
        Matcher m = Pattern.compile("(?m)^.*# sprout-bench: .*?corename=(\\S+)").matcher(console == null ? "" : console);
        while (m.find()) {
            s.add(m.group(1));
        }
        return new ArrayList<>(s);
    }

    /** The OpenBLAS core torch_cpu.py's {@code info} section reports, or null. */
    static String peerCore(String peer) {
        Matcher m = Pattern.compile("corename=(\\S+)").matcher(peer == null ? "" : peer);
        return m.find() ? m.group(1) : null;
    }

    static double median(double[] v) {
        if (v.length == 0) {
            return Double.NaN;
        }
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    /** The median over all measured iterations of a JMH metric ({@code rawData}: forks x iterations). */
    static double medianOf(JsonNode metric) {
        List<Double> xs = new ArrayList<>();
        for (JsonNode fork : metric.path("rawData")) {
            for (JsonNode x : fork) {
                xs.add(x.asDouble());
            }
        }
        if (xs.isEmpty()) {
            return metric.path("score").asDouble(Double.NaN);
        }
        return median(xs.stream().mapToDouble(Double::doubleValue).toArray());
    }

    /**
     * The median over iterations of a {@code CpuClock}-timed benchmark's CPU time per call in ns (its {@code cpuNs}
     * and {@code calls} counters, iteration by iteration), or NaN when it has none.
     */
    static double cpuNsPerCall(JsonNode result) {
        JsonNode cpu = result.path("secondaryMetrics").path("cpuNs").path("rawData");
        JsonNode calls = result.path("secondaryMetrics").path("calls").path("rawData");
        List<Double> xs = new ArrayList<>();
        for (int f = 0; f < cpu.size(); f++) {
            for (int i = 0; i < cpu.path(f).size(); i++) {
                double c = cpu.path(f).path(i).asDouble(), k = calls.path(f).path(i).asDouble();
                if (k > 0 && c > 0) {
                    xs.add(c / k);
                }
            }
        }
        return xs.isEmpty() ? Double.NaN : median(xs.stream().mapToDouble(Double::doubleValue).toArray());
    }

    /**
     * The summary of one run.
     *
     * @param jmhJson the JMH result file's text ({@code -rf json})
     * @param console the benchmark's console output
     * @param peer    torch_cpu.py's output, or null when it did not run
     * @param machine what to report under {@code machine} (cpu, cores, load ...); jdk and openblas_core are added
     */
    static ObjectNode assemble(Suite suite, String jmhJson, String console, String peer, Map<String, Object> machine)
            throws IOException {
        JsonNode results = JSON.readTree(jmhJson);
        if (!results.isArray()) {
            throw new IllegalArgumentException("JMH result is not a JSON array");
        }
        List<PeerPoint> peers = parsePeer(peer);
        ArrayNode rows = JSON.createArrayNode();
        Map<String, JsonNode> byKey = new LinkedHashMap<>();
        String jdk = null;
        for (JsonNode r : results) {
            String bench = r.path("benchmark").asText();
            if (!bench.contains("." + suite.benchmark + ".")) {
                throw new IllegalArgumentException("JMH result holds " + bench + ", not the " + suite.label() + " suite's "
                        + suite.benchmark);
            }
            jdk = r.path("jdkVersion").asText(null);
            byKey.put(key(r.path("params")), r);
        }
        for (JsonNode r : results) {
            JsonNode p = r.path("params");
            switch (suite) {
                case GEMM -> gemmRow(rows, r, p, byKey);
                case EIGH -> eighRows(rows, r, p, byKey, peers);
                case COMPLEX -> complexRows(rows, r, p, byKey, peers);
                case TRAIN -> trainRow(rows, r, p, peers);
            }
        }
        ObjectNode out = JSON.createObjectNode();
        out.put("suite", suite.label());
        ObjectNode m = out.putObject("machine");
        for (Map.Entry<String, Object> e : machine.entrySet()) {
            m.set(e.getKey(), JSON.valueToTree(e.getValue()));
        }
        m.put("jdk", jdk);
        List<String> cores = openblasCores(console);
        String pc = peerCore(peer);
        if (!cores.isEmpty()) {
            m.put("openblas_core", String.join(",", cores));
        } else if (pc != null) {
            m.put("openblas_core", pc + " (PyTorch's OpenBLAS)");
        } else {
            m.putNull("openblas_core");
        }
        if (pc != null) {
            m.put("peer_openblas_core", pc);
        }
        for (String line : (peer == null ? "" : peer).split("\n")) {
            if (line.startsWith("# python ")) {
                m.put("peer", line.substring(2));
            } else if (line.startsWith("# BLAS")) {
                m.put("peer_blas", line.substring(2));
            }
        }
        out.set("rows", rows);
        return out;
    }

    private static String key(JsonNode params) {
        List<String> kv = new ArrayList<>();
        params.fieldNames().forEachRemaining(k -> kv.add(k + "=" + params.path(k).asText()));
        kv.sort(null);
        return String.join(",", kv);
    }

    private static JsonNode sibling(Map<String, JsonNode> byKey, JsonNode params, String field, String value) {
        ObjectNode p = params.deepCopy();
        p.put(field, value);
        return byKey.get(key(p));
    }

    /** The {@code impl} of GemmBenchmark's interleaved trials (Sprout native and OpenBLAS alternately). */
    static final String INTERLEAVED = "native-vs-openblas";

    /** A JMH secondary metric's per-iteration values (all forks), in order. */
    static double[] iterations(JsonNode result, String metric) {
        List<Double> xs = new ArrayList<>();
        for (JsonNode fork : result.path("secondaryMetrics").path(metric).path("rawData")) {
            for (JsonNode x : fork) {
                xs.add(x.asDouble());
            }
        }
        return xs.stream().mapToDouble(Double::doubleValue).toArray();
    }

    /**
     * The row of an interleaved trial: per iteration, each side's GFLOP/s over its own summed time and the ratio of
     * the two times (the same moments' load for both); the row holds the medians over iterations, wall and CPU.
     */
    private static void interleavedRow(ArrayNode rows, JsonNode r, JsonNode p) {
        int n = p.path("n").asInt(), threads = p.path("threads").asInt(1);
        double flop = 2.0 * n * n * n;
        double[] pairs = iterations(r, "pairs");
        double[][] ns = {iterations(r, "nativeNs"), iterations(r, "openblasNs"), iterations(r, "nativeCpuNs"),
                iterations(r, "openblasCpuNs")};
        int it = pairs.length;
        for (double[] v : ns) {
            if (v.length != it) {
                throw new IllegalArgumentException("interleaved gemm n=" + n + ": counters with " + v.length + " iterations, pairs with " + it);
            }
        }
        double[] g = new double[it], pg = new double[it], ratio = new double[it], cg = new double[it], cpg = new double[it],
                cratio = new double[it];
        for (int i = 0; i < it; i++) {
            g[i] = flop * pairs[i] / ns[0][i];
            pg[i] = flop * pairs[i] / ns[1][i];
            ratio[i] = ns[1][i] / ns[0][i];
            cg[i] = flop * pairs[i] / (ns[2][i] / threads);
            cpg[i] = flop * pairs[i] / (ns[3][i] / threads);
            cratio[i] = ns[3][i] / ns[2][i];
        }
        ObjectNode row = rows.addObject();
        row.put("kernel", p.path("dtype").asText().equals("f64") ? "dgemm" : "sgemm");
        row.put("impl", "sprout-native (interleaved)");
        row.put("n", n);
        row.put("threads", threads);
        row.put("unit", "GFLOP/s");
        putOrNull(row, "gflops", it == 0 ? null : round(median(g)));
        row.put("peer", "openblas (interleaved)");
        putOrNull(row, "peer_gflops", it == 0 ? null : round(median(pg)));
        putOrNull(row, "ratio", median(ratio));
        putOrNull(row, "cpu_gflops", median(cg));
        putOrNull(row, "peer_cpu_gflops", median(cpg));
        putOrNull(row, "cpu_ratio", median(cratio));
        row.put("iterations", it);
    }

    private static void gemmRow(ArrayNode rows, JsonNode r, JsonNode p, Map<String, JsonNode> byKey) {
        String impl = p.path("impl").asText();
        if (impl.equals("openblas")) {
            return;
        }
        if (impl.equals(INTERLEAVED)) {
            interleavedRow(rows, r, p);
            return;
        }
        double g = medianOf(r.path("secondaryMetrics").path("flop")) / 1e9;
        JsonNode peer = sibling(byKey, p, "impl", "openblas");
        Double pg = peer == null ? null : medianOf(peer.path("secondaryMetrics").path("flop")) / 1e9;
        ObjectNode row = rows.addObject();
        row.put("kernel", p.path("dtype").asText().equals("f64") ? "dgemm" : "sgemm");
        row.put("impl", impl);
        row.put("n", p.path("n").asInt());
        row.put("threads", p.path("threads").asInt());
        row.put("unit", "GFLOP/s");
        row.put("gflops", round(g));
        row.put("peer", peer == null ? null : "openblas");
        putOrNull(row, "peer_gflops", pg);
        putOrNull(row, "ratio", pg == null ? null : g / pg);
        // CPU-normalised rates (flop per CPU-ns, times the threads): robust to time slices lost to other processes
        int threads = p.path("threads").asInt(1), n = p.path("n").asInt();
        double flop = 2.0 * n * n * n, c = cpuNsPerCall(r), pc = peer == null ? Double.NaN : cpuNsPerCall(peer);
        putOrNull(row, "cpu_gflops", flop / (c / threads));
        putOrNull(row, "peer_cpu_gflops", flop / (pc / threads));
        putOrNull(row, "cpu_ratio", pc / c);
    }

    private static ObjectNode timeRow(ArrayNode rows, String kernel, String impl, int n, int threads, double ms,
                                      String peer, Double peerMs) {
        ObjectNode row = rows.addObject();
        row.put("kernel", kernel);
        row.put("impl", impl);
        row.put("n", n);
        row.put("threads", threads);
        row.put("unit", "ms");
        row.putNull("gflops");
        row.put("peer", peer);
        row.putNull("peer_gflops");
        putOrNull(row, "ratio", peerMs == null ? null : ms / peerMs);
        row.put("ms", round(ms));
        putOrNull(row, "peer_ms", peerMs);
        return row;
    }

    private static PeerPoint find(List<PeerPoint> peers, String kind, String implPrefix, String dtype, String shape) {
        for (PeerPoint q : peers) {
            if (q.kind().equals(kind) && q.impl().startsWith(implPrefix) && q.unit().equals("ms") && q.threads() == 1
                    && (dtype == null || q.dtype().equals(dtype)) && (shape == null || q.shape().equals(shape))) {
                return q;
            }
        }
        return null;
    }

    private static void eighRows(ArrayNode rows, JsonNode r, JsonNode p, Map<String, JsonNode> byKey, List<PeerPoint> peers) {
        String impl = p.path("impl").asText();
        if (impl.startsWith("lapacke")) {
            return;
        }
        String[] shape = p.path("shape").asText().split("x");
        int batch = Integer.parseInt(shape[0]), n = Integer.parseInt(shape[1]);
        int threads = p.path("threads").asInt();
        String kernel = "eigh f32 " + batch + "x" + n + "x" + n;
        double ms = medianOf(r.path("primaryMetric"));
        JsonNode lap = sibling(byKey, p, "impl", "lapacke-ssyevd");
        timeRow(rows, kernel, impl, n, threads, ms, lap == null ? null : "lapacke-ssyevd (loop)",
                lap == null ? null : medianOf(lap.path("primaryMetric")));
        PeerPoint t = find(peers, "eigh", "torch.linalg.eigh", "f32", batch + "x" + n + "x" + n);
        if (t != null) {
            timeRow(rows, kernel, impl, n, threads, ms, "torch.linalg.eigh (1 thread)", t.median());
        }
    }

    private static void complexRows(ArrayNode rows, JsonNode r, JsonNode p, Map<String, JsonNode> byKey, List<PeerPoint> peers) {
        String impl = p.path("impl").asText();
        if (impl.startsWith("lapacke")) {
            return;
        }
        int n = p.path("n").asInt();
        boolean many = p.path("rhs").asText().equals("n");
        String kernel = "cgesv c64 rhs=" + (many ? "n" : p.path("rhs").asText());
        double ms = medianOf(r.path("primaryMetric"));
        JsonNode lap = sibling(byKey, p, "impl", "lapacke-cgesv");
        timeRow(rows, kernel, impl, n, 1, ms, lap == null ? null : "lapacke-cgesv",
                lap == null ? null : medianOf(lap.path("primaryMetric")));
        PeerPoint t = find(peers, "csolve", many ? "torch.linalg.solve(A,I)" : "torch.linalg.solve(A,b[n,1])", "c64", "n=" + n);
        if (t != null && (many || p.path("rhs").asText().equals("1"))) {
            timeRow(rows, kernel, impl, n, 1, ms, "torch.linalg.solve (1 thread)", t.median());
        }
    }

    private static String trainKernel(String work) {
        return switch (work) {
            case "mlp" -> "mlp 784-1024-1024-10 sgd step b128";
            case "cnn" -> "cnn conv(1-32)+conv(32-64)+pool+fc sgd step b128";
            case "hvp" -> "mlp 784-1024-1024-10 loss hvp b128";
            default -> work;
        };
    }

    /**
     * A train row from alternating batches ({@link InterleavedTrain}): {@code sprout[i]} and {@code peer[i]} are the
     * {thread CPU ms, wall ms} per step of pair i. {@code ms}/{@code peer_ms} are wall-time medians and {@code ratio}
     * the median of the wall-time pair ratios (as JMH's time), {@code cpu_ms}/{@code peer_cpu_ms}/{@code cpu_ratio}
     * the same by CPU time; {@code round_ratios} lists the wall-time pair ratios in order, {@code ratio_q1}/{@code
     * ratio_q3} are their quartiles.
     */
    static ObjectNode interleavedTrainRow(ArrayNode rows, String work, String backend, double[][] sprout, double[][] peer,
                                          int stepsPerBatch) {
        if (sprout.length != peer.length || sprout.length == 0) {
            throw new IllegalArgumentException("interleaved " + work + ": " + sprout.length + " Sprout batches vs "
                    + peer.length + " peer batches");
        }
        int n = sprout.length;
        double[] wall = new double[n], cpu = new double[n], sw = new double[n], pw = new double[n], sc = new double[n],
                pc = new double[n];
        for (int i = 0; i < n; i++) {
            sc[i] = sprout[i][0];
            sw[i] = sprout[i][1];
            pc[i] = peer[i][0];
            pw[i] = peer[i][1];
            wall[i] = sw[i] / pw[i];
            cpu[i] = sc[i] / pc[i];
        }
        ObjectNode row = timeRow(rows, trainKernel(work), "sprout-" + backend + " (interleaved)", 128, 1, median(sw),
                "torch (1 thread)", median(pw));
        putOrNull(row, "ratio", median(wall));
        putOrNull(row, "cpu_ms", median(sc));
        putOrNull(row, "peer_cpu_ms", median(pc));
        putOrNull(row, "cpu_ratio", median(cpu));
        double[] sorted = wall.clone();
        Arrays.sort(sorted);
        putOrNull(row, "ratio_q1", quantile(sorted, 0.25));
        putOrNull(row, "ratio_q3", quantile(sorted, 0.75));
        row.put("steps_per_batch", stepsPerBatch);
        ArrayNode rr = row.putArray("round_ratios");
        for (double r : wall) {
            rr.add(round(r));
        }
        return row;
    }

    /** Linear-interpolated quantile of sorted values. */
    private static double quantile(double[] sorted, double q) {
        double pos = q * (sorted.length - 1);
        int lo = (int) Math.floor(pos), hi = (int) Math.ceil(pos);
        return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
    }

    private static void trainRow(ArrayNode rows, JsonNode r, JsonNode p, List<PeerPoint> peers) {
        String work = p.path("work").asText();
        String impl = "sprout-" + p.path("backend").asText();
        double ms = medianOf(r.path("primaryMetric"));
        PeerPoint t = switch (work) {
            case "mlp" -> find(peers, "mlp", "sgd_step 784-1024-1024-10", null, null);
            case "cnn" -> find(peers, "cnn", "sgd_step conv3x3", null, null);
            case "hvp" -> find(peers, "hvp", "mlp 784-1024-1024-10", null, null);
            default -> null;
        };
        String kernel = trainKernel(work);
        ObjectNode row = timeRow(rows, kernel, impl, 128, 1, ms, t == null ? null : "torch (1 thread)", t == null ? null : t.median());
        // CPU time per step of the calling thread, against torch_cpu.py's cpuEq (the same measure)
        double cpu = cpuNsPerCall(r) / 1e6, peerCpu = t == null ? Double.NaN : t.cpuMedian();
        putOrNull(row, "cpu_ms", cpu);
        putOrNull(row, "peer_cpu_ms", peerCpu);
        putOrNull(row, "cpu_ratio", cpu / peerCpu);
    }

    private static void putOrNull(ObjectNode row, String field, Double v) {
        if (v == null || v.isNaN()) {
            row.putNull(field);
        } else {
            row.put(field, round(v));
        }
    }

    private static double round(double v) {
        return Math.round(v * 1000.0) / 1000.0;
    }

    /** Numeric row fields that {@link #combineRounds} replaces by their median over the rounds. */
    private static final List<String> ROUND_MEDIANS = List.of("gflops", "peer_gflops", "ms", "peer_ms", "cpu_gflops",
            "peer_cpu_gflops", "cpu_ms", "peer_cpu_ms");

    /**
     * One summary from several rounds of the same suite (each round: the JMH run, then the peer, back to back), for a
     * machine whose speed drifts by more than the effect measured: every row (matched by kernel, impl, n, threads and
     * peer) gets the median of each measured value over the rounds, {@code ratio} and {@code cpu_ratio} become the
     * median of the per-round ratios (each one Sprout and peer minutes apart at most), and {@code round_ratios} lists
     * those per-round ratios in round order. Machine: the last round's, with the first round's {@code load_before}.
     *
     * @throws IllegalArgumentException when the rounds do not hold the same rows
     */
    static ObjectNode combineRounds(List<? extends JsonNode> rounds) {
        if (rounds.isEmpty()) {
            throw new IllegalArgumentException("combineRounds: no rounds");
        }
        JsonNode first = rounds.get(0), last = rounds.get(rounds.size() - 1);
        ObjectNode out = first.deepCopy();
        ObjectNode machine = last.path("machine").deepCopy();
        if (first.path("machine").has("load_before")) {
            machine.set("load_before", first.path("machine").path("load_before"));
        }
        out.set("machine", machine);
        out.put("rounds", rounds.size());
        ArrayNode rows = JSON.createArrayNode();
        for (JsonNode r0 : first.path("rows")) {
            List<JsonNode> same = new ArrayList<>();
            for (JsonNode round : rounds) {
                JsonNode match = null;
                for (JsonNode r : round.path("rows")) {
                    if (rowKey(r).equals(rowKey(r0))) {
                        match = r;
                        break;
                    }
                }
                if (match == null) {
                    throw new IllegalArgumentException("combineRounds: row " + rowKey(r0) + " is missing from a round");
                }
                same.add(match);
            }
            ObjectNode row = r0.deepCopy();
            for (String f : ROUND_MEDIANS) {
                if (row.has(f)) {
                    putOrNull(row, f, medianField(same, f));
                }
            }
            putOrNull(row, "ratio", medianField(same, "ratio"));
            if (row.has("cpu_ratio")) {
                putOrNull(row, "cpu_ratio", medianField(same, "cpu_ratio"));
            }
            ArrayNode rr = row.putArray("round_ratios");
            for (JsonNode r : same) {
                rr.add(r.path("ratio"));
            }
            rows.add(row);
        }
        out.set("rows", rows);
        return out;
    }

    private static String rowKey(JsonNode r) {
        return r.path("kernel").asText() + " | " + r.path("impl").asText() + " | n=" + r.path("n").asInt() + " | threads="
                + r.path("threads").asInt() + " | peer=" + r.path("peer").asText("-");
    }

    /** The median of a numeric field over rows (entries that are null or missing are left out; NaN if none is left). */
    private static double medianField(List<JsonNode> rows, String field) {
        List<Double> xs = new ArrayList<>();
        for (JsonNode r : rows) {
            if (r.path(field).isNumber()) {
                xs.add(r.path(field).asDouble());
            }
        }
        return median(xs.stream().mapToDouble(Double::doubleValue).toArray());
    }

    /** A Markdown table of the summary's rows. */
    static String table(JsonNode summary) {
        StringBuilder sb = new StringBuilder();
        sb.append("| kernel | impl | n | threads | Sprout | peer | peer value | ratio | CPU-time: Sprout / peer / ratio |\n"
                + "|---|---|---|---|---|---|---|---|---|\n");
        for (JsonNode row : summary.path("rows")) {
            boolean ms = row.path("unit").asText().equals("ms");
            String unit = ms ? " ms" : " GFLOP/s";
            JsonNode v = ms ? row.path("ms") : row.path("gflops"), pv = ms ? row.path("peer_ms") : row.path("peer_gflops");
            JsonNode cv = ms ? row.path("cpu_ms") : row.path("cpu_gflops"), cpv = ms ? row.path("peer_cpu_ms") : row.path("peer_cpu_gflops");
            String cpu = cv.isNumber() ? fmt(cv) + " / " + (cpv.isNumber() ? fmt(cpv) : "-") + " / "
                    + (row.path("cpu_ratio").isNumber() ? String.format(Locale.ROOT, "%.2f", row.path("cpu_ratio").asDouble()) : "-") : "-";
            sb.append(String.format(Locale.ROOT, "| %s | %s | %d | %d | %s | %s | %s | %s | %s |%n", row.path("kernel").asText(),
                    row.path("impl").asText(), row.path("n").asInt(), row.path("threads").asInt(),
                    fmt(v) + unit, row.path("peer").isNull() ? "-" : row.path("peer").asText(),
                    pv.isNull() || pv.isMissingNode() ? "-" : fmt(pv) + unit,
                    row.path("ratio").isNull() ? "-" : String.format(Locale.ROOT, "%.2f%s", row.path("ratio").asDouble(),
                            ms ? " (time)" : "")
                            + roundRange(row), cpu));
        }
        return sb.toString();
    }

    /** " [min..max over N rounds]" for a row combined from rounds, else "". */
    private static String roundRange(JsonNode row) {
        JsonNode rr = row.path("round_ratios");
        double lo = Double.POSITIVE_INFINITY, hi = Double.NEGATIVE_INFINITY;
        int n = 0;
        for (JsonNode r : rr) {
            if (r.isNumber()) {
                lo = Math.min(lo, r.asDouble());
                hi = Math.max(hi, r.asDouble());
                n++;
            }
        }
        boolean pairs = row.path("impl").asText().endsWith("(interleaved)");
        return rr.size() < 2 || n == 0 ? "" : String.format(Locale.ROOT, " [%.2f..%.2f, %d %s]", lo, hi, rr.size(),
                pairs ? "pairs" : "rounds");
    }

    private static String fmt(JsonNode v) {
        if (v == null || v.isNull() || v.isMissingNode()) {
            return "-";
        }
        double x = v.asDouble();
        return String.format(Locale.ROOT, x >= 100 ? "%.1f" : "%.2f", x);
    }
}
