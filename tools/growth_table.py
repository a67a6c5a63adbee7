#!/usr/bin/env python3
"""Mean +- sd tables over seeds from `sprout compare --out` JSON files (one file per seed).

Usage: python3 tools/growth_table.py FILE.json... [--md]
Prints, per method and round: parameters, test accuracy, growth seconds, and the validation-loss change the growth
step itself made (after - before; negative = growth lowered the loss); then the final accuracy with each method's
paired difference to random-split (same seed, same start) and how often each method was best.
"""
import json
import statistics as st
import sys


def ms(xs, fmt="{:.4f}"):
    xs = [x for x in xs if x is not None]
    if not xs:
        return "-"
    if len(xs) == 1:
        return fmt.format(xs[0])
    return fmt.format(st.mean(xs)) + " ± " + fmt.replace("+", "").format(st.stdev(xs))


def sizes(entry, j):
    s = entry.get("size_of")
    if not s:
        return "?"
    s = s[j] if isinstance(s, list) and len(s) == len(entry["rounds"]) else s
    return s if isinstance(s, str) else ", ".join(s)


def main(argv):
    files = [a for a in argv if not a.startswith("--")]
    runs = [json.load(open(f)) for f in files]
    seeds = [r["config"].get("seed", r["config"].get("run", {}).get("seed")) if isinstance(r.get("config"), dict) else None for r in runs]
    methods = [m["method"] for m in runs[0]["methods"] if m["method"] != "static"]
    print(f"{len(runs)} seeds: {seeds}\n")
    print("| method | round | params | test acc (mean ± sd) | growth s | val loss change at growth |")
    print("|---|---|---|---|---|---|")
    for name in methods:
        per_seed = [next(m for m in r["methods"] if m["method"] == name)["rounds"] for r in runs]
        for i in range(max(len(p) for p in per_seed)):
            rows = [p[i] for p in per_seed if i < len(p)]
            params = sorted({row["params"] for row in rows})
            ptxt = str(params[0]) if len(params) == 1 else ms([row["params"] for row in rows], "{:.0f}")
            change = [None if row.get("loss_after_growth") is None or row.get("loss_before_growth") is None
                      else row["loss_after_growth"] - row["loss_before_growth"] for row in rows]
            print(f"| {name} | {i} | {ptxt} | {ms([row['test_accuracy'] for row in rows])} | "
                  f"{ms([row['growth_seconds'] for row in rows], '{:.2f}')} | {ms(change, '{:+.5f}')} |")
    static = [next((m for m in r["methods"] if m["method"] == "static"), None) for r in runs]
    if all(s is not None for s in static):
        for j, row in enumerate(static[0]["rounds"]):
            accs = [s["rounds"][j]["test_accuracy"] for s in static]
            print(f"| static {row['widths']} (size of {sizes(static[0], j)}) "
                  f"| - | {row['params']} | {ms(accs)} | 0 | - |")

    print("\nFinal network, paired over seeds (difference to random-split on the same seed):\n")
    print("| method | final params | final test acc | growth s total | acc - random-split | best in seeds |")
    print("|---|---|---|---|---|---|")
    final = {n: [next(m for m in r["methods"] if m["method"] == n)["final"] for r in runs] for n in methods}
    best = {n: 0 for n in methods}
    for k in range(len(runs)):
        top = max(final[n][k]["test_accuracy"] for n in methods)
        for n in methods:
            if final[n][k]["test_accuracy"] == top:
                best[n] += 1
    ref = final.get("random-split")
    for n in methods:
        diff = [f["test_accuracy"] - r["test_accuracy"] for f, r in zip(final[n], ref)] if ref else []
        print(f"| {n} | {ms([f['params'] for f in final[n]], '{:.0f}')} | {ms([f['test_accuracy'] for f in final[n]])} | "
              f"{ms([f['growth_seconds'] for f in final[n]], '{:.2f}')} | {ms(diff, '{:+.4f}')} | {best[n]}/{len(runs)} |")


if __name__ == "__main__":
    main(sys.argv[1:])
