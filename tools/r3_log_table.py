#!/usr/bin/env python3
"""R3 table from `sprout compare` logs (works on unfinished runs): per method, round-3 test accuracy, parameters
(computed from the widths of Models.vgg on 1x28x28) and growth seconds per round.
Usage: python3 tools/r3_log_table.py DIR   (reads DIR/r3-seed*.log)"""
import re, sys, glob, statistics as st, collections
def params(w):  # Models.vgg(1, 28, 28, c, 10): four bias-free 3x3 convs with BN (2 per channel), linear 10
    c = [1] + w
    return sum(c[i] * c[i + 1] * 9 + 2 * c[i + 1] for i in range(4)) + w[3] * 10 + 10
res = collections.defaultdict(dict)  # method -> seed -> (acc, params, growth s)
for f in sorted(glob.glob(sys.argv[1] + '/r3-seed*.log')):
    seed = int(re.search(r'seed(\d+)', f).group(1))
    method, widths, acc, gs = None, None, {}, []
    for line in open(f):
        m = re.match(r'== (\S+): start (\[[^\]]*\])', line)
        if m:
            method, widths, acc, gs = m.group(1), eval(m.group(2)), {}, []
            continue
        m = re.match(r'round (\d+): \S+ added .*-> (\[[^\]]*\]).*growth ([\d.]+) s', line)
        if m and method:
            widths = eval(m.group(2)); gs.append(float(m.group(3)))
        m = re.match(r'round (\d+): trained .*test accuracy ([\d.]+)', line)
        if m and method:
            acc[int(m.group(1))] = float(m.group(2))
            if int(m.group(1)) == 3:
                res[method][seed] = (float(m.group(2)), params(widths), sum(gs) / len(gs) if gs else 0.0, widths)
order = ['firefly', 'exact', 'fast', 'random-split', 'net2net', 'nash:children=2:epochs=1']
print('| method | seeds | test accuracy after round 3 | parameters | growth s per round | final widths (seed 1) |')
print('|---|---|---|---|---|---|')
for m in order + [k for k in res if k not in order]:
    r = res.get(m)
    if not r:
        continue
    accs = [v[0] for v in r.values()]; ps = [v[1] for v in r.values()]; g = [v[2] for v in r.values()]
    sd = lambda xs, fmt: fmt % st.mean(xs) + (' ± ' + fmt % st.stdev(xs) if len(xs) > 1 else '')
    print(f"| {m} | {','.join(str(s) for s in sorted(r))} | {sd(accs, '%.4f')} | {sd(ps, '%.0f')} | {sd(g, '%.1f')} | {r[min(r)][3]} |")
