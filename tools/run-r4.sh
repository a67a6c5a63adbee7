#!/usr/bin/env bash
# Spec R4 (issue 7): split Fashion-MNIST task-incremental learning, firefly-cl / finetune / ewc / fixed-expansion
# with the `sprout continual` defaults (2 layers of 16, 2 epochs per task), seeds 1..5, one thread per run.
# Usage: tools/run-r4.sh [OUT_DIR] (default results-summary/r4-runs); runs already in OUT_DIR are kept.
# Needs the built CLI (cli/target/sprout.jar, `./mvnw -q -pl cli -am package -DskipTests`) and the Debian dataset.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
jar="$root/cli/target/sprout.jar"
out="${1:-$root/results-summary/r4-runs}"
mkdir -p "$out"
cd "$out"
for s in 1 2 3 4 5; do
  for m in firefly-cl finetune ewc fixed-expansion; do
    [[ -f r4-$m-s$s.json ]] && continue
    java --add-modules jdk.incubator.vector -jar "$jar" continual --dataset fashion-mnist --method "$m" --threads 1 \
      --seed "$s" --out "r4-$m-s$s.json" > "r4-$m-s$s.log" 2>&1
    tail -n 1 "r4-$m-s$s.log"
  done
done
python3 "$root/tools/r4_table.py" "$out"
