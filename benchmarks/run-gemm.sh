#!/usr/bin/env bash
# Sprout's pure-Java sgemm against OpenBLAS (bytedeco 0.3.31, 1 thread): JMH GemmBenchmark, then a table.
#
#   benchmarks/run-gemm.sh                         # n = 256, 512, 1024 (about 3 minutes)
#   benchmarks/run-gemm.sh -p n=128,2048 -f 2      # any JMH options are passed on
#   JAVA=/usr/lib/jvm/temurin-25-jdk-amd64/bin/java benchmarks/run-gemm.sh   # another JDK (JDK 25: faster Vector API)
#
# Builds benchmarks/target/benchmarks.jar when it is missing or older than the sources. OPENBLAS_CORETYPE and
# OPENBLAS_L2_SIZE are removed for the benchmark command only: this box sets them to pin old OpenBLAS builds to
# the Haswell kernels, which halves 0.3.31's sgemm (it detects Zen 5 as Cooperlake, AVX-512, by itself).
# Results: benchmarks/target/gemm-<time>.json (JMH JSON) and .log (console, with the '# sprout-bench:' lines).
# Run nothing else heavy meanwhile: the numbers are CPU-bound on a small, shared machine.
set -euo pipefail
cd "$(dirname "$0")/.."
JAVA=${JAVA:-java}
JAR=benchmarks/target/benchmarks.jar
if [[ ! -f $JAR || -n $(find engine-java/src/main benchmarks/src benchmarks/pom.xml engine-java/pom.xml -newer "$JAR" -type f -print -quit) ]]; then
  echo "building $JAR ..." >&2
  ./mvnw -q -B -pl engine-java,benchmarks -am package -DskipTests
fi
stamp=$(date +%Y%m%d-%H%M%S)
out=benchmarks/target/gemm-$stamp
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)  java: $("$JAVA" -version 2>&1 | head -1)" | tee "$out.log"
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$JAVA" -jar "$JAR" GemmBenchmark -rf json -rff "$out.json" "$@" 2>&1 | tee -a "$out.log"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out.log"
python3 - "$out.json" "$out.log" <<'PY'
import json, re, sys
res = json.load(open(sys.argv[1]))
log = open(sys.argv[2]).read()
cores = sorted(set(re.findall(r"# sprout-bench: impl=openblas n=\d+ corename=(\S+)", log)))
kernels = sorted(set(re.findall(r"# sprout-bench: impl=sprout-java n=\d+ kernel=(.*?) warmUp=", log)))
rows = {}
for r in res:
    p = r["params"]
    m = r["secondaryMetrics"]["flop"]
    rows.setdefault(int(p["n"]), {})[p["impl"]] = (float(m["score"]) / 1e9, float(m["scoreError"]) / 1e9)
print()
print("JDK %s (%s), JMH %s, %d fork(s) x %d x %s measurement" % (res[0]["jdkVersion"], res[0]["vmName"], res[0]["jmhVersion"],
      res[0]["forks"], res[0]["measurementIterations"], res[0]["measurementTime"]))
print("Sprout kernel: " + "; ".join(kernels))
print()
print("| n | Sprout GFLOP/s | OpenBLAS GFLOP/s | ratio | OpenBLAS core |")
print("|---|---|---|---|---|")
for n in sorted(rows):
    s = rows[n].get("sprout-java"); o = rows[n].get("openblas")
    fmt = lambda x: "%.1f ± %.1f" % x if x else "-"
    ratio = "%.2f" % (s[0] / o[0]) if s and o else "-"
    print("| %d | %s | %s | %s | %s |" % (n, fmt(s), fmt(o), ratio, ",".join(cores) or "-"))
PY
