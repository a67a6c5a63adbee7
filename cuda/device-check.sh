#!/usr/bin/env bash
# The CUDA backend's checks on a GPU machine that has no Java and no network. Prepare here with
# cuda/device-prepare.sh (builds the jars and a small JRE into .device/), carry .device/ there, and run this
# from the repository root:  bash cuda/device-check.sh [--quick | --tests]  (--tests: part 1 alone)
# It runs, on the one GPU: (1) the CUDA unit tests and the cross-backend conformance suite (JUnit console
# launcher), (2) the JMH kernel benchmarks (CudaBenchmark: sgemm n = 1024..8192 SIMT and TF32, 10,000 batched
# 64x64 eigen-solves, complex solve n = 256..1024), (3) the peers on the same GPU (cuda/device/torch_peers.py:
# cuBLAS SGEMM and TF32 via torch.mm, torch.linalg.eigh, torch.linalg.solve), then (4) writes
# $OUT/device-check.json and prints the table (cuda/device/report.py). Each part runs even if an earlier fails.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
out=${OUT:-/tmp/sprout-device}
mkdir -p "$out"
quick=${1:-}
if [ "$quick" = "--quick" ]; then t_tests=180 t_jmh=150 t_peers=120; else t_tests=150 t_jmh=300 t_peers=150; fi
java=.device/jre/bin/java
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv,noheader > "$out/gpu.txt" 2>&1
cat "$out/gpu.txt"
echo "== 1. tests"
mkdir -p /tmp/junit
timeout $t_tests "$java" --add-modules jdk.incubator.vector -Xss8m -Dsprout.cuda.offloadMin=0 -Dsprout.cuda.sync=true -jar .device/lib/junit-platform-console-standalone.jar execute \
  --class-path "$(cat .device/test-classpath)" --select-package dev.sprout.cuda \
  --select-class dev.sprout.conformance.BackendConformanceTest --reports-dir /tmp/junit --details=summary \
  --disable-banner > "$out/tests.log" 2>&1
echo "tests exit $?"; grep -v "^\s*at " "$out/tests.log" | grep -E "✘|MethodSource|=>|Exception|expected|sprout-cuda|\[ .*(tests|containers)" | head -80
mkdir -p "$out/junit"; cp /tmp/junit/TEST-junit-jupiter.xml "$out/junit/" 2>/dev/null
[ "$quick" = "--tests" ] && exit 0
echo "== 2. JMH"
if [ "$quick" = "--quick" ]; then jmh=(-wi 2 -w 500ms -i 3 -r 500ms -p n=1024,4096 -p solveN=256,1024); else jmh=(); fi
timeout $t_jmh "$java" --add-modules jdk.incubator.vector -cp "$(cat .device/bench-classpath)" org.openjdk.jmh.Main 'CudaBenchmark' "${jmh[@]}" \
  -rf json -rff "$out/jmh.json" > "$out/jmh.log" 2>&1
echo "jmh exit $?"; grep -E '^(Benchmark|CudaBenchmark)|# sprout-bench|Exception|Error' "$out/jmh.log" | head -60
echo "== 3. peers"
PYTHONUNBUFFERED=1 timeout $t_peers python3 cuda/device/torch_peers.py $quick > "$out/torch.json" 2> "$out/torch.err"
echo "peers exit $?"; tail -5 "$out/torch.err"
echo "== 4. report"
python3 cuda/device/report.py "$out"
rm -f "$out/torch.err"
