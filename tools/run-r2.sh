#!/usr/bin/env bash
# Reproduction plan R2 (growth-algorithms.md section 14): the 196-8-10 tanh MLP on the full Fashion-MNIST,
# 5 growth rounds at 35%, 3 epochs per phase (SGD lr 0.1, momentum 0.9, batch 128), growth statistics on the
# 6,000-example validation split, every method from the same start per seed; one thread, Java backend.
# Usage: tools/run-r2.sh OUTDIR SEED...   then: python3 tools/growth_table.py OUTDIR/r2-seed*.json
set -euo pipefail
cd "$(dirname "$0")/.."
out=$1; shift
mkdir -p "$out"
for s in "$@"; do
  /usr/bin/time -f "seed $s: wall %e s, max RSS %M KiB" ./sprout compare --backend java --threads 1 --no-progress \
    --dataset fashion-mnist --model mlp --methods firefly,exact,fast,random-split,net2net,gradmax,static \
    --seed "$s" --initial-width 8 --rounds 5 --grow-ratio 0.35 --epochs-per-round 3 --lr 0.1 --momentum 0.9 \
    --batch 128 --growth-samples 6000 --out "$out/r2-seed$s.json" > "$out/r2-seed$s.log" 2>&1
  tail -1 "$out/r2-seed$s.log"
done
