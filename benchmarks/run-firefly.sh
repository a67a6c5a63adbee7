#!/usr/bin/env bash
# Sprout's Firefly growth step (JMH FireflyStepBenchmark: over-grow with K = 70 new candidates + a split candidate
# per neuron, optimise 10 RMSprop batches of 128, score 1,280 examples, select) on the official VGG-11 stack at
# uniform widths 16 and 32, 1x32x32 Fashion-MNIST, one thread, Java backend; with JMH's gc profiler for allocation.
# Compare with anchor-firefly-official.md (official code, same machine): growth CPU s per round (r0 at width 16: 47 s)
# and the per-batch phase-1/phase-2 costs of its "net vgg11" rows (w16: 1.57/1.63 s, w32: 2.08/2.13 s).
# Extra JMH arguments pass through, e.g. -p width=64 or -p steps=1 -p samples=128.
set -euo pipefail
cd "$(dirname "$0")/.."
JAR=benchmarks/target/benchmarks.jar
if [[ ! -f $JAR || -n $(find engine-java/src/main growth/src/main benchmarks/src benchmarks/pom.xml -newer "$JAR" -type f -print -quit) ]]; then
  ./mvnw -o -q -B -pl benchmarks -am package -DskipTests
fi
out=benchmarks/target/firefly-$(date +%Y%m%d-%H%M%S)
# -Djmh.ignoreLock: the lock only stops two JMH runs at once; set JMH_IGNORE_LOCK=1 on a shared box where another
# engineer's one-thread JMH run holds it.
java ${JMH_IGNORE_LOCK:+-Djmh.ignoreLock=true} -jar "$JAR" FireflyStepBenchmark -prof gc -rf json -rff "$out.json" "$@" | tee "$out.log" \
  | grep -E "^Benchmark|FireflyStep|peak RSS"
echo "results: $out.json, log: $out.log"
