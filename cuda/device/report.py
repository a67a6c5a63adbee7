#!/usr/bin/env python3
"""Merges the device check's parts into one JSON and prints a table.

Inputs in OUT (argument 1): jmh.json (JMH -rf json), torch.json (torch_peers.py), junit/*.xml (JUnit console
launcher's legacy XML reports), gpu.txt (nvidia-smi). Writes OUT/device-check.json with "device", "tests"
(counts and the names of failures) and "rows": {"kernel", "impl", "variant", "n", "ms", "gflops", "peer",
"peer_ms", "ratio"} where ratio is the peer's time over Sprout's (above 1: Sprout faster), both from this run.
"""
import glob
import json
import os
import sys
import xml.etree.ElementTree as ET

out = sys.argv[1]


def load(name, default):
    try:
        with open(os.path.join(out, name)) as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        print(f"report: {name}: {e}", file=sys.stderr)
        return default


tests = {"run": 0, "failures": 0, "errors": 0, "skipped": 0, "failed": []}
for path in glob.glob(os.path.join(out, "junit", "*.xml")):
    root = ET.parse(path).getroot()
    suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
    for s in suites:
        for case in s.findall("testcase"):
            tests["run"] += 1
            name = case.get("classname", "") + " " + case.get("name", "")
            if case.find("failure") is not None:
                tests["failures"] += 1
                tests["failed"].append(name + ": " + (case.find("failure").get("message") or "")[:300])
            elif case.find("error") is not None:
                tests["errors"] += 1
                tests["failed"].append(name + ": " + (case.find("error").get("message") or "")[:300])
            elif case.find("skipped") is not None:
                tests["skipped"] += 1

sprout = []
for r in load("jmh.json", []):
    kernel = r["benchmark"].rsplit(".", 1)[1]
    p = r.get("params", {})
    ms = r["primaryMetric"]["score"]
    row = {"kernel": kernel, "impl": "sprout-cuda", "variant": p.get("variant", ""), "n": int(p.get("n", p.get("eigN", p.get("solveN", 0)))), "ms": ms,
           "ms_error": r["primaryMetric"].get("scoreError")}
    if kernel == "sgemm":
        row["gflops"] = 2 * row["n"] ** 3 / ms / 1e6
    sprout.append(row)

peers = load("torch.json", {"rows": []})
rows = []
for s in sprout:
    for p in peers["rows"]:
        if p["kernel"] == s["kernel"] and p["n"] == s["n"] and p.get("variant", "") == s["variant"]:
            s = dict(s, peer=p["impl"], peer_ms=p["ms"], ratio=p["ms"] / s["ms"])
            if "gflops" in p:
                s["peer_gflops"] = p["gflops"]
    rows.append(s)

device = ""
try:
    device = open(os.path.join(out, "gpu.txt")).read().strip()
except OSError:
    pass
doc = {"suite": "cuda", "device": device, "torch": peers.get("torch"), "tests": tests, "rows": rows,
       "peer_rows": peers["rows"]}
with open(os.path.join(out, "device-check.json"), "w") as f:
    json.dump(doc, f, indent=1)

print(f"tests: {tests['run']} run, {tests['failures']} failures, {tests['errors']} errors, {tests['skipped']} skipped")
for name in tests["failed"]:
    print("  FAILED", name)
print(f"{'kernel':8} {'variant':7} {'n':>6} {'sprout ms':>10} {'peer':>20} {'peer ms':>9} {'peer/sprout':>11} {'GFLOP/s':>9}")
for r in rows:
    print(f"{r['kernel']:8} {r['variant']:7} {r['n']:>6} {r['ms']:>10.4f} {r.get('peer', '-'):>20} "
          f"{r.get('peer_ms', float('nan')):>9.4f} {r.get('ratio', float('nan')):>11.3f} {r.get('gflops', float('nan')):>9.0f}")
