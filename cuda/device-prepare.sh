#!/usr/bin/env bash
# Prepares .device/ for cuda/device-check.sh and cuda/device-cli.sh on a GPU machine with no Java and no network:
# builds the jars (Maven, tests skipped), a small JRE (the runtime of shared/tools/device-jre.sh plus what the JUnit
# console launcher needs), the launcher, and two class-path files. What travels must stay under 64 MiB with the
# working tree, so the shaded `sprout` jar (engine, native and CUDA backends, JCuda's driver binding) is the one
# copy of the main classes for the tests, the benchmarks and the CLI, and the JRE's libjvm.so is stripped.
set -euo pipefail
root=$(git rev-parse --show-toplevel)
cd "$root"
./mvnw -q -B -DskipTests package -pl tests,benchmarks,cli -am
rm -rf .device/jre.tmp
# The runtime of shared/tools/device-jre.sh plus java.xml and jdk.zipfs (the JUnit console launcher writes XML reports and scans jars).
modules=java.base,java.logging,java.management,jdk.management,jdk.unsupported,jdk.incubator.vector,java.xml,jdk.zipfs
if ! .device/jre/bin/java --list-modules 2>/dev/null | grep -q "^jdk.zipfs"; then
  jdk=${JAVA_HOME:-$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")}
  rm -rf .device/jre
  "$jdk/bin/jlink" --add-modules "$modules" --compress=2 --strip-debug --no-header-files --no-man-pages \
    --output .device/jre 2>&1 | grep -v 'incubator modules' || true
  grep -qx '/.device/' .git/info/exclude 2>/dev/null || echo '/.device/' >> .git/info/exclude
fi
strip --strip-unneeded .device/jre/lib/server/libjvm.so # 24 -> 20 MiB (jlink's --strip-debug leaves its symbols)
lib=.device/lib
rm -rf "$lib"; mkdir -p "$lib"
v=0.1.0-SNAPSHOT
m2=${MAVEN_REPO:-$HOME/.m2/repository}
cp cli/target/sprout.jar .device/sprout.jar
cp engine-java/target/sprout-engine-java-$v-tests.jar benchmarks/target/sprout-benchmarks-$v.jar "$lib/"
(cd cuda/target/test-classes && jar cf "$root/$lib/sprout-cuda-tests.jar" .)
(cd tests/target/test-classes && jar cf "$root/$lib/sprout-conformance-tests.jar" .)
jmh=$(ls "$m2"/org/openjdk/jmh/jmh-core/1.37/jmh-core-1.37.jar)
cp "$jmh" "$m2"/net/sf/jopt-simple/jopt-simple/5.0.4/jopt-simple-5.0.4.jar "$m2"/org/apache/commons/commons-math3/3.6.1/commons-math3-3.6.1.jar "$lib/"
console="$m2/org/junit/platform/junit-platform-console-standalone/1.14.4/junit-platform-console-standalone-1.14.4.jar"
[ -f "$console" ] || ./mvnw -q -B dependency:get -Dartifact=org.junit.platform:junit-platform-console-standalone:1.14.4 >/dev/null
cp "$console" "$lib/junit-platform-console-standalone.jar"
common=.device/sprout.jar
echo "$common:$lib/sprout-engine-java-$v-tests.jar:$lib/sprout-cuda-tests.jar:$lib/sprout-conformance-tests.jar" > .device/test-classpath
echo "$common:$lib/sprout-benchmarks-$v.jar:$lib/jmh-core-1.37.jar:$lib/jopt-simple-5.0.4.jar:$lib/commons-math3-3.6.1.jar" > .device/bench-classpath
unzip -Z1 .device/sprout.jar dev/sprout/cuda/sprout.fatbin >/dev/null 2>&1 || { echo "device-prepare: .device/sprout.jar has no CUDA fatbin (was nvcc found when cuda was built?)" >&2; exit 1; }
du -sh .device .device/lib
echo "ready: carry .device and run: bash cuda/device-check.sh; bash cuda/device-cli.sh"
