#!/usr/bin/env bash
# Reproduction plan R3 (growth-algorithms.md section 14), scaled to this 2-core box: the spec's VGG-like net
# (--model vgg: conv c, c, pool, 2c, 2c, pool with BN + ReLU, global average pool, linear; c = 8; R3_MODEL=cnn
# gives the CLI's small CNN of the first R3) on the first 12,000 Fashion-MNIST training images (10,800 train /
# 1,200 validation = growth sample), 3 rounds at 35%, 2 epochs per phase, SGD lr 0.1 momentum 0.9 batch 128, full
# 10k test set; one thread, native backend. Methods: R3_METHODS (default below). Table: tools/growth_table.py on the
# JSON files, or tools/r3_log_table.py OUTDIR on the logs (also for unfinished runs).
# Usage: tools/run-r3.sh OUTDIR SEED...
set -euo pipefail
cd "$(dirname "$0")/.."
out=$1; shift
methods=${R3_METHODS:-firefly,exact,fast,random-split,net2net,nash:children=2:epochs=1,static}
mkdir -p "$out"
for s in "$@"; do
  # one thread on the native backend (the third session's runs; the first R3 used --backend java --threads 1)
  SPROUT_JAVA_OPTS="-Dsprout.threads=1 ${SPROUT_JAVA_OPTS:-}" \
  /usr/bin/time -f "seed $s: wall %e s, max RSS %M KiB" ./sprout compare --backend native --no-progress \
    --dataset fashion-mnist --model "${R3_MODEL:-vgg}" --methods "$methods" --train-limit 12000 \
    --seed "$s" --initial-width 8 --rounds 3 --grow-ratio 0.35 --epochs-per-round 2 --lr 0.1 --momentum 0.9 \
    --batch 128 --growth-samples 1200 --out "$out/r3-seed$s.json" > "$out/r3-seed$s.log" 2>&1
  tail -1 "$out/r3-seed$s.log"
done
