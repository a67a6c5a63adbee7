#!/usr/bin/env bash
# Same-process A/B of the native backend's C++ kernels against OpenBLAS, robust on a shared machine: one process,
# interleaved rounds, medians of thread CPU time (1 thread) and wall time (2 threads). Compiles
# benchmarks/native-ab/ab.cpp with the flags of libjniNativeKernels (engine-native/pom.xml) against the kernel
# headers, dlopens bytedeco's libopenblas (from the local Maven repository) and prints:
#   sgemm/dgemm n = 64..2048: Sprout 1 thread vs OpenBLAS 1 thread (CPU time, and wall), and 2 threads (wall;
#     Sprout splits rows across 2 threads as NativeBackend does, OpenBLAS with openblas_set_num_threads(2));
#   batched f32 eigh (1000 x 64, 50 x 256, 10 x 576, all pairs) vs LAPACKE_ssyevd in a loop (1 thread);
#   c64 LU solve n = 64..1024 with 1 and n right-hand sides vs LAPACKE_cgesv (1 thread).
# The JMH suites (run-gemm.sh) measure the same through JNI; this one isolates the kernels and takes ~2 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
ver=$(sed -n 's:.*<openblas.version>\(.*\)</openblas.version>.*:\1:p' pom.xml)
jar=${M2_REPO:-$HOME/.m2/repository}/org/bytedeco/openblas/$ver/openblas-$ver-linux-x86_64.jar
[[ -f $jar ]] || { echo "missing $jar: run ./mvnw -pl benchmarks -am package first" >&2; exit 2; }
out=benchmarks/target/native-ab
mkdir -p "$out/lib"
[[ -f $out/lib/libopenblas.so.0 ]] || (cd "$out/lib" && unzip -o -q -j "$jar" 'org/bytedeco/openblas/linux-x86_64/*.so*')
cflags=$(sed -n 's:.*<sprout.native.cflags>\(.*\)</sprout.native.cflags>.*:\1:p' engine-native/pom.xml)
g++ -O3 $cflags -std=c++17 -Iengine-native/src/main/cpp benchmarks/native-ab/ab.cpp -o "$out/ab" -ldl -pthread
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)  load before: $(cut -d' ' -f1-3 /proc/loadavg)"
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE LD_LIBRARY_PATH="$out/lib" "$out/ab" "$out/lib/libopenblas.so.0"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
