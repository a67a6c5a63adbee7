#!/usr/bin/env bash
# Reproduction plan R5 (growth-algorithms.md section 14, depth growth), scaled to this 2-core box: an MLP
# 784 -> h -> 10 with tanh (one hidden layer, no input pooling), initial h = 16, on the first 12,000 Fashion-MNIST
# training images (10,800 train / 1,200 validation = growth sample), R5_ROUNDS rounds (default 3) at R5_RATIO
# (default 1.0), 2 epochs per phase, SGD lr 0.05 momentum 0.9 batch 128, full 10k test set; one thread, native
# backend. Methods: firefly (width only) and firefly-deep (width + zero-residual tanh blocks; R5_DEEP_OPTS, e.g.
# ":depth-width=4", sets the blocks' inner width; R5_OPTS, e.g. ":lr=0.01", goes to both), same seed and schedule.
# Usage: tools/run-r5.sh OUTDIR SEED...
set -euo pipefail
cd "$(dirname "$0")/.."
out=$1; shift
mkdir -p "$out"
for s in "$@"; do
  SPROUT_JAVA_OPTS="-Dsprout.threads=1 ${SPROUT_JAVA_OPTS:-}" \
  /usr/bin/time -f "seed $s: wall %e s, max RSS %M KiB" ./sprout compare --backend native --no-progress \
    --dataset fashion-mnist --model mlp --activation tanh --layers 1 --pool 1 \
    --methods "firefly${R5_OPTS:-},firefly-deep${R5_OPTS:-}${R5_DEEP_OPTS:-}" --train-limit 12000 \
    --seed "$s" --initial-width 16 --rounds "${R5_ROUNDS:-3}" --grow-ratio "${R5_RATIO:-1.0}" --epochs-per-round 2 \
    --lr 0.05 --momentum 0.9 --batch 128 --growth-samples 1200 --out "$out/r5-seed$s.json" > "$out/r5-seed$s.log" 2>&1
  tail -1 "$out/r5-seed$s.log"
done
