#!/usr/bin/env bash
# Sprout's native and pure-Java gemm against OpenBLAS (bytedeco 0.3.31): JMH GemmBenchmark, then a table and a
# summary JSON ({"suite": "gemm", "machine", "openblas_core", "rows": [{"kernel", "impl", "n", "threads", "gflops",
# "peer", "peer_gflops", "ratio"}]}).
#
#   benchmarks/run-gemm.sh                      # n = 64..2048, f32 + f64, 1 + 2 threads, all impls (~12 minutes)
#   benchmarks/run-gemm.sh --quick              # n = 256, 1024; f32; 1 + 2 threads (~2 minutes)
#   benchmarks/run-gemm.sh -p n=512 -p dtype=f32 -p impl=sprout-native,openblas   # any JMH options are passed on
#   JAVA=/usr/lib/jvm/temurin-25-jdk-amd64/bin/java benchmarks/run-gemm.sh   # another JDK (JDK 25: faster Vector API)
#
# Builds benchmarks/target/benchmarks.jar when it is missing or older than the sources (engine-native's build needs
# g++). OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are removed for the benchmark command only: a box that sets them to
# pin old OpenBLAS builds to the Haswell kernels halves 0.3.31's sgemm (it picks its AVX-512 kernels by itself).
# Results: benchmarks/target/gemm-<time>.json (JMH JSON), -summary.json, and .log (console, '# sprout-bench:' lines).
# Numbers are wall-clock: run nothing else heavy meanwhile; on a shared machine quote same-run ratios.
set -euo pipefail
cd "$(dirname "$0")/.."
JAVA=${JAVA:-java}
JAR=benchmarks/target/benchmarks.jar
args=()
for a in "$@"; do
  if [[ $a == --quick ]]; then args+=(-p n=256,1024 -p dtype=f32); else args+=("$a"); fi
done
if [[ ! -f $JAR || -n $(find engine-java/src/main engine-native/src/main benchmarks/src benchmarks/pom.xml engine-java/pom.xml \
      engine-native/pom.xml -newer "$JAR" -type f -print -quit) ]]; then
  echo "building $JAR ..." >&2
  ./mvnw -q -B -pl benchmarks -am package -DskipTests
fi
stamp=$(date +%Y%m%d-%H%M%S)
out=benchmarks/target/gemm-$stamp
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)  java: $("$JAVA" -version 2>&1 | head -1)" | tee "$out.log"
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$JAVA" -jar "$JAR" GemmBenchmark -rf json -rff "$out.json" "${args[@]}" 2>&1 | tee -a "$out.log"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out.log"
python3 benchmarks/gemm_summary.py "$out.json" "$out.log" "$out-summary.json"
