#!/usr/bin/env bash
# Prepares .device/ for cuda/device-check.sh (and, with --cli, for cuda/device-cli.sh) on a GPU machine with no Java and no network: builds the jars
# (Maven, tests skipped), a small JRE (shared/tools/device-jre.sh, or ../shared/tools beside the checkout),
# the JUnit console launcher, and two class-path files. Keeps what travels under the 64 MiB limit: of JCuda's
# natives only the driver-API library goes (the other bindings are unused and 24 MiB).
set -euo pipefail
root=$(git rev-parse --show-toplevel)
cd "$root"
./mvnw -q -B -DskipTests package -pl tests,benchmarks -am
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
lib=.device/lib
rm -rf "$lib"; mkdir -p "$lib"
v=0.1.0-SNAPSHOT
m2=${MAVEN_REPO:-$HOME/.m2/repository}
cp engine-java/target/sprout-engine-java-$v.jar engine-java/target/sprout-engine-java-$v-tests.jar cuda/target/sprout-cuda-$v.jar "$lib/"
cp benchmarks/target/sprout-benchmarks-$v.jar "$lib/"
(cd cuda/target/test-classes && jar cf "$root/$lib/sprout-cuda-tests.jar" .)
(cd tests/target/test-classes && jar cf "$root/$lib/sprout-conformance-tests.jar" .)
cp "$m2/org/jcuda/jcuda/12.6.0/jcuda-12.6.0.jar" "$lib/"
tmp=$(mktemp -d)
(cd "$tmp" && unzip -q "$m2/org/jcuda/jcuda-natives/12.6.0/jcuda-natives-12.6.0-linux-x86_64.jar" 'lib/libJCudaDriver-*' \
  && jar cf "$root/$lib/jcuda-natives-driver.jar" lib)
rm -rf "$tmp"
jmh=$(ls "$m2"/org/openjdk/jmh/jmh-core/1.37/jmh-core-1.37.jar)
cp "$jmh" "$m2"/net/sf/jopt-simple/jopt-simple/5.0.4/jopt-simple-5.0.4.jar "$m2"/org/apache/commons/commons-math3/3.6.1/commons-math3-3.6.1.jar "$lib/"
console="$m2/org/junit/platform/junit-platform-console-standalone/1.14.4/junit-platform-console-standalone-1.14.4.jar"
[ -f "$console" ] || ./mvnw -q -B dependency:get -Dartifact=org.junit.platform:junit-platform-console-standalone:1.14.4 >/dev/null
cp "$console" "$lib/junit-platform-console-standalone.jar"
common="$lib/sprout-engine-java-$v.jar:$lib/sprout-cuda-$v.jar:$lib/jcuda-12.6.0.jar:$lib/jcuda-natives-driver.jar"
echo "$common:$lib/sprout-engine-java-$v-tests.jar:$lib/sprout-cuda-tests.jar:$lib/sprout-conformance-tests.jar" > .device/test-classpath
echo "$common:$lib/sprout-benchmarks-$v.jar:$lib/jmh-core-1.37.jar:$lib/jopt-simple-5.0.4.jar:$lib/commons-math3-3.6.1.jar" > .device/bench-classpath
if [ "${1:-}" = "--cli" ]; then # the sprout command itself, for cuda/device-cli.sh
  ./mvnw -q -B -DskipTests package -pl cli -am
  cp cli/target/sprout.jar .device/sprout.jar
fi
unzip -l cuda/target/sprout-cuda-$v.jar | grep -q sprout.fatbin || { echo "device-prepare: the cuda jar has no fatbin (was nvcc found?)" >&2; exit 1; }
du -sh .device .device/lib
echo "ready: carry .device and run: bash cuda/device-check.sh"
