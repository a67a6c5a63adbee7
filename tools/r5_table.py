#!/usr/bin/env python3
"""R5 tables from tools/run-r5.sh output: per round, mean test accuracy and parameters over seeds for each method,
the rounds in which firefly-deep selected a new layer, and the depth reports of the logs (score, cost, per-neuron
score, best width score). Usage: tools/r5_table.py DIR..."""
import glob
import json
import re
import statistics
import sys

for d in sys.argv[1:]:
    runs = {}
    for f in sorted(glob.glob(d + "/r5-seed*.json")):
        seed = int(re.search(r"seed(\d+)", f).group(1))
        for m in json.load(open(f))["methods"]:
            runs.setdefault(m["method"], {})[seed] = m["rounds"]
    print(f"### {d}\n")
    print("| method | round | params (mean) | test acc (mean ± sd) | per seed | layers added (per seed) |")
    print("|---|---|---|---|---|---|")
    for method, by_seed in runs.items():
        seeds = sorted(by_seed)
        for r in range(len(by_seed[seeds[0]])):
            rows = [by_seed[s][r] for s in seeds if r < len(by_seed[s])]
            acc = [x["test_accuracy"] for x in rows]
            sd = statistics.stdev(acc) if len(acc) > 1 else 0.0
            print(f"| {method} | {r} | {statistics.mean(x['params'] for x in rows):,.0f} | {statistics.mean(acc):.4f} ± {sd:.4f} | "
                  + " ".join(f"{a:.4f}" for a in acc) + " | " + " ".join(str(x.get("layers_added", 0)) for x in rows) + " |")
    print()
    for f in sorted(glob.glob(d + "/r5-seed*.log")) + sorted(glob.glob(d + "/r3-seed*.log")):
        lines = [l.strip() for l in open(f) if l.startswith("firefly-deep: budget")]
        if lines:
            print(f"{f}:\n")
            for i, l in enumerate(lines, 1):
                print(f"- round {i}: {l[len('firefly-deep: '):]}")
            print()
