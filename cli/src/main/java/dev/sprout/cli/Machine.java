package dev.sprout.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** What the machine is: CPU model and flags, cores, JDK. Read from /proc where it exists. */
final class Machine {
    private Machine() {
    }

    static Map<String, Object> describe() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("cpu", cpuField("model name"));
        m.put("cores", Runtime.getRuntime().availableProcessors());
        m.put("jdk", Runtime.version().toString());
        m.put("vm", System.getProperty("java.vm.name"));
        m.put("os", System.getProperty("os.name") + " " + System.getProperty("os.arch"));
        return m;
    }

    /** A field of /proc/cpuinfo's first processor, or "unknown". */
    static String cpuField(String name) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith(name)) {
                    int colon = line.indexOf(':');
                    return colon < 0 ? "" : line.substring(colon + 1).trim();
                }
            }
        } catch (IOException | RuntimeException e) {
            return "unknown (" + e.getClass().getSimpleName() + ")";
        }
        return "unknown";
    }

    /** The SIMD flags that matter to the kernels, from /proc/cpuinfo. */
    static List<String> simdFlags() {
        String flags = " " + cpuField("flags") + " ";
        List<String> out = new java.util.ArrayList<>();
        for (String f : new String[] {"sse4_2", "avx", "avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512_bf16", "avx512_vnni"}) {
            if (flags.contains(" " + f + " ")) {
                out.add(f);
            }
        }
        return out;
    }
}
