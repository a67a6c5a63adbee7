#!/usr/bin/env python3
"""Table and summary JSON from a GemmBenchmark run: gemm_summary.py JMH.json CONSOLE.log SUMMARY.json"""
import json, os, platform, re, sys

res = json.load(open(sys.argv[1]))
log = open(sys.argv[2]).read()
cores = sorted(set(re.findall(r"# sprout-bench: impl=openblas .*?corename=(\S+)", log)))
isas = sorted(set(re.findall(r"# sprout-bench: impl=sprout-native .*?isa=(\S+)", log)))
kernels = sorted(set(re.findall(r"# sprout-bench: impl=sprout-java .*?kernel=(.*?) warmUp=", log)))
loads = re.findall(r"load (?:before|after): (\S+ \S+ \S+)", log)

score = {}
for r in res:
    p = r["params"]
    m = r["secondaryMetrics"]["flop"]
    key = (p["dtype"], int(p["n"]), int(p["threads"]), p["impl"])
    score[key] = (float(m["score"]) / 1e9, float(m["scoreError"]) / 1e9,
                  sorted(x / 1e9 for it in m["rawData"] for x in it))

def cpu_model():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()

rows = []
print()
print("JDK %s, JMH %s, %d fork(s) x %d x %s measurement; load %s" % (res[0]["jdkVersion"], res[0]["jmhVersion"],
      res[0]["forks"], res[0]["measurementIterations"], res[0]["measurementTime"], " -> ".join(loads)))
print("OpenBLAS core: %s; Sprout native ISA: %s; Sprout Java: %s" % (",".join(cores) or "-", ",".join(isas) or "-",
      "; ".join(kernels) or "-"))
print()
print("| kernel | n | threads | sprout-native GFLOP/s | sprout-java GFLOP/s | OpenBLAS GFLOP/s | native/OpenBLAS | java/OpenBLAS |")
print("|---|---|---|---|---|---|---|---|")
for (dtype, n, t) in sorted({k[:3] for k in score}):
    kernel = "sgemm" if dtype == "f32" else "dgemm"
    get = lambda impl: score.get((dtype, n, t, impl))
    nat, jav, ob = get("sprout-native"), get("sprout-java"), get("openblas")
    fmt = lambda x: "%.1f ± %.1f" % x[:2] if x else "-"
    ratio = lambda x: "%.2f" % (x[0] / ob[0]) if x and ob else "-"
    print("| %s | %d | %d | %s | %s | %s | %s | %s |" % (kernel, n, t, fmt(nat), fmt(jav), fmt(ob), ratio(nat), ratio(jav)))
    for impl, x in (("sprout-native", nat), ("sprout-java", jav)):
        if x:
            rows.append({"kernel": kernel, "impl": impl, "n": n, "threads": t, "gflops": round(x[0], 2),
                         "gflops_error": round(x[1], 2), "peer": "openblas",
                         "peer_gflops": round(ob[0], 2) if ob else None,
                         "ratio": round(x[0] / ob[0], 3) if ob else None})
summary = {"suite": "gemm", "machine": {"cpu": cpu_model(), "cores": os.cpu_count(), "jdk": res[0]["jdkVersion"],
                                        "load": loads},
           "openblas_core": ",".join(cores), "native_isa": ",".join(isas), "rows": rows}
json.dump(summary, open(sys.argv[3], "w"), indent=1)
print()
print("summary: " + sys.argv[3])
