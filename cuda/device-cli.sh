#!/usr/bin/env bash
# End to end on a GPU machine without Java: the `sprout` command itself (cli/target/sprout.jar, copied to
# .device/sprout.jar by `cuda/device-prepare.sh`) with the small JRE. Prints `sprout doctor`, then trains
# the same MLP for two epochs on each backend (auto must pick cuda) and runs the default `sprout grow`
# on cuda; writes the results JSON of each run to $OUT.
set -uo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-/tmp/sprout-device}
mkdir -p "$out"
sprout() { .device/jre/bin/java --add-modules jdk.incubator.vector -Xss8m -jar .device/sprout.jar "$@" 2>&1 | grep -v 'incubator modules'; }
sprout doctor
for b in auto cuda native java; do
  echo "== train --backend $b"
  TIMEFORMAT='wall %R s'
  time (sprout train --backend "$b" --model mlp --hidden 1024,1024 --epochs 2 --batch 128 --no-progress --out "$out/train-$b.json" | tail -4; echo)
done
echo "== grow --backend cuda"
sprout grow --backend cuda --no-progress --out "$out/grow-cuda.json" | tail -12
