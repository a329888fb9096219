#!/usr/bin/env python3
"""Markdown table of a defaults sweep (scripts/defaults_sweep.sh): one row per dataset, one column per setting,
the metric's mean over seeds (with the range when there are several), n seeds, KL_ic per trial and best epoch."""
import collections
import statistics
import sys

rows = collections.defaultdict(list)
metric = {}
order_ds, order_set = [], []
for line in open(sys.argv[1] if len(sys.argv) > 1 else "sweep.tsv"):
    f = line.rstrip("\n").split("\t")
    if len(f) < 7:
        continue
    ds, setting, seed, m, value, kl, best = f[:7]
    rows[(ds, setting)].append((float(value), float(kl), int(best)))
    metric[ds] = m
    if ds not in order_ds:
        order_ds.append(ds)
    if setting not in order_set:
        order_set.append(setting)
pref = ["old", "kl.1", "l2.1", "weak", "vweak"]
order_set.sort(key=lambda s: pref.index(s) if s in pref else len(pref))
print("| dataset (metric) | " + " | ".join(order_set) + " |")
print("|---|" + "---|" * len(order_set))
for ds in order_ds:
    cells = []
    for s in order_set:
        r = rows.get((ds, s))
        if not r:
            cells.append("-")
            continue
        v = [x[0] for x in r]
        txt = f"{statistics.mean(v):.3f}"
        if len(v) > 1:
            txt += f" ({min(v):.3f}-{max(v):.3f}, n={len(v)})"
        txt += f"; KL_ic {statistics.mean(x[1] for x in r):.1f}; ep {round(statistics.mean(x[2] for x in r))}"
        cells.append(txt)
    print(f"| {ds} ({metric[ds]}) | " + " | ".join(cells) + " |")
