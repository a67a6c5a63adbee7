#!/usr/bin/env bash
# Compiles every .cu file under src/main/cuda into one fatbin: sm_80 and sm_90 machine code plus compute_90
# PTX (so newer GPUs JIT it). Called by Maven (exec-maven-plugin, generate-resources) with the output path.
# Without nvcc (not on the PATH, not under CUDA_HOME) it prints a notice and exits 0: the build goes on and
# the CUDA backend's probe says "built without CUDA kernels".
# Skips the compile when the fatbin is newer than every source.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: build-fatbin.sh OUT.fatbin}
src=$here/src/main/cuda
nvcc=$(command -v nvcc || true)
if [[ -z "$nvcc" && -n "${CUDA_HOME:-}" && -x "$CUDA_HOME/bin/nvcc" ]]; then nvcc=$CUDA_HOME/bin/nvcc; fi
if [[ -z "$nvcc" ]]; then
  echo "[sprout-cuda] nvcc not found (PATH, CUDA_HOME): building without CUDA kernels"
  rm -f "$out"
  exit 0
fi
mkdir -p "$(dirname "$out")"
if [[ -f "$out" ]] && [[ -z "$(find "$src" -newer "$out" -name '*.cu*' -print -quit)" ]]; then
  echo "[sprout-cuda] $(basename "$out") is up to date"
  exit 0
fi
unity=$(mktemp --suffix=.cu)
trap 'rm -f "$unity" "$out.tmp"' EXIT
for f in $(cd "$src" && ls *.cu | sort); do echo "#include \"$src/$f\"" >> "$unity"; done
echo "[sprout-cuda] $nvcc: compiling $(cd "$src" && ls *.cu | tr '\n' ' ')for sm_80, sm_90 (+ compute_90 PTX)"
"$nvcc" -std=c++17 -O3 --threads 0 -lineinfo --expt-relaxed-constexpr -I"$src" \
  -gencode arch=compute_80,code=sm_80 -gencode arch=compute_90,code=sm_90 -gencode arch=compute_90,code=compute_90 \
  -fatbin -o "$out.tmp" "$unity"
mv "$out.tmp" "$out"
echo "[sprout-cuda] wrote $out ($(stat -c %s "$out") bytes)"
