#!/usr/bin/env bash
# Sprout's exact-splitting statistics step (JMH SplittingStepBenchmark: weighted Gram + smallest eigenpairs of
# 64 matrices 576x576 from 6,000 rows) next to the official code's approach on the same shape
# (peers/official_splitting_step.py: PyTorch autograd trick per neuron + numpy.linalg.eig), in one script.
# Needs Debian's python3-torch for the peer (apt-get install -y python3-torch); without it only Sprout runs.
set -euo pipefail
cd "$(dirname "$0")/.."
JAR=benchmarks/target/benchmarks.jar
if [[ ! -f $JAR || -n $(find engine-java/src/main benchmarks/src benchmarks/pom.xml -newer "$JAR" -type f -print -quit) ]]; then
  ./mvnw -q -B -pl engine-java,benchmarks -am package -DskipTests
fi
out=benchmarks/target/splitting-$(date +%Y%m%d-%H%M%S)
java -jar "$JAR" SplittingStepBenchmark -rf json -rff "$out.json" "$@" | tee "$out.log" | grep -E "^Benchmark|SplittingStep"
if /usr/bin/python3 -c "import torch" 2>/dev/null; then
  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 \
    /usr/bin/python3 benchmarks/peers/official_splitting_step.py | tee "$out.peer.json"
else
  echo "peer skipped: /usr/bin/python3 has no torch (apt-get install -y python3-torch)"
fi
