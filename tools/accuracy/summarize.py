#!/usr/bin/python3
"""Summarises tools/accuracy/run_f8k.sh results as the README's Markdown table: per configuration, mean and spread
(min-max) over the seeds of R@1/5/10 in both directions and rsum, CrossModal next to the PyTorch reference. The
reference ensemble is computed here the way the originals do it: the average of the two models' test similarity
matrices, ranked with the shared rules.

    tools/accuracy/summarize.py OUT_DIR
"""
import glob
import json
import os
import sys

import numpy as np


def metrics(sims):
    n = sims.shape[0]
    r_i2t = np.array([min(np.where(np.argsort(sims[i])[::-1] == c)[0][0] for c in range(5 * i, 5 * i + 5)) for i in range(n)])
    r_t2i = np.array([np.where(np.argsort(sims[:, c])[::-1] == c // 5)[0][0] for c in range(5 * n)])
    d = lambda r: {"r1": 100.0 * np.mean(r < 1), "r5": 100.0 * np.mean(r < 5), "r10": 100.0 * np.mean(r < 10)}
    i2t, t2i = d(r_i2t), d(r_t2i)
    return {"i2t": i2t, "t2i": t2i, "rsum": sum(i2t.values()) + sum(t2i.values())}


def load(side, config, out):
    runs = []
    for path in sorted(glob.glob(os.path.join(out, side, f"{config}_seed*.json"))):
        with open(path) as f:
            runs.append(json.load(f))
    if not runs and side == "reference" and config == "scan-ensemble":
        for seed in (1, 2, 3):
            a = os.path.join(out, side, f"scan-t2i-avg_seed{seed}.npy")
            b = os.path.join(out, side, f"scan-i2t-lse_seed{seed}.npy")
            if os.path.exists(a) and os.path.exists(b):
                runs.append(metrics((np.load(a).astype(np.float64) + np.load(b)) / 2))
    return runs


def cell(values):
    if not values:
        return "–"
    v = np.array(values)
    return f"{v.mean():.1f} ({v.min():.1f}–{v.max():.1f})" if len(v) > 1 else f"{v[0]:.1f}"


def main(out):
    rows = [("vsepp", "VSE++ (global 512-d)"), ("scan-t2i-avg", "SCAN t2i AVG"), ("scan-i2t-lse", "SCAN i2t LSE"),
            ("scan-ensemble", "SCAN t2i AVG + i2t LSE"), ("vsepp-regions", "VSE++ (36 regions averaged)")]
    print("| model | code | seeds | i2t R@1 | R@5 | R@10 | t2i R@1 | R@5 | R@10 | rsum |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for config, label in rows:
        for side, name in (("ours", "CrossModal"), ("reference", "PyTorch")):
            runs = load(side, config, out)
            vals = lambda d, k: [r[d][k] for r in runs]
            print(f"| {label} | {name} | {len(runs)} | " + " | ".join(cell(vals(d, k)) for d in ("i2t", "t2i") for k in ("r1", "r5", "r10"))
                  + f" | {cell([r['rsum'] for r in runs])} |")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "runs")
