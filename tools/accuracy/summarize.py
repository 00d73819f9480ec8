#!/usr/bin/python3
"""Summarises tools/accuracy/run_f8k.sh results as the README's Markdown table: per configuration, mean and spread
(min-max) over the seeds of R@1/5/10 in both directions and rsum, CrossModal next to the PyTorch reference. The
reference ensemble is computed here the way the originals do it: the average of the two models' test similarity
matrices, ranked with the shared rules.

    tools/accuracy/summarize.py OUT_DIR [--naaf-svg PLOT.svg]

For NAAF it also prints both sides' training per epoch and seed (loss per batch, dev rsum, the learned threshold
thres/thres_safe) and, with --naaf-svg, plots the threshold trajectories. Ours come from <run>/metrics.jsonl (the
threshold terms are epoch means of the state after each step), the reference's from its JSON or, while it still
trains, its .state.pt (the state at each epoch's end).
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
    paths = sorted(glob.glob(os.path.join(out, side, f"{config}_seed*.json"))) or glob.glob(os.path.join(out, side, f"{config}.json"))
    for path in paths:
        with open(path) as f:
            runs.append(json.load(f))
    if not runs and side == "reference":
        for a, b in REFERENCE_ENSEMBLES.get(config, []):
            a, b = (os.path.join(out, side, name + ".npy") for name in (a, b))
            if os.path.exists(a) and os.path.exists(b):
                runs.append(metrics((np.load(a).astype(np.float64) + np.load(b)) / 2))
    return runs


# The reference's ensembles, computed here as the originals do (the two models' similarity matrices averaged): SCAN's
# per seed (that seed's t2i AVG and i2t LSE), VSRN's of seeds 1 and 2 (its published numbers).
REFERENCE_ENSEMBLES = {
    "scan-ensemble": [(f"scan-t2i-avg_seed{seed}", f"scan-i2t-lse_seed{seed}") for seed in (1, 2, 3)],
    "vsrn-ensemble": [("vsrn_seed1", "vsrn_seed2")],
}


def cell(values):
    if not values:
        return "–"
    v = np.array(values)
    return f"{v.mean():.1f} ({v.min():.1f}–{v.max():.1f})" if len(v) > 1 else f"{v[0]:.1f}"


def main(out):
    rows = [("vsepp", "VSE++ (global 512-d)"), ("scan-t2i-avg", "SCAN t2i AVG"), ("scan-i2t-lse", "SCAN i2t LSE"),
            ("scan-ensemble", "SCAN t2i AVG + i2t LSE"), ("vsepp-regions", "VSE++ (36 regions averaged)"),
            ("naaf", "NAAF (basic text encoder)"), ("imram-full", "IMRAM full_IMRAM"), ("imram-text", "IMRAM text_IMRAM"),
            ("imram-image", "IMRAM image_IMRAM"), ("vsrn", "VSRN (one model)"), ("vsrn-ensemble", "VSRN (ensemble of seeds 1 and 2)")]
    print("| model | code | seeds | i2t R@1 | R@5 | R@10 | t2i R@1 | R@5 | R@10 | rsum |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for config, label in rows:
        sides = [(name, load(side, config, out)) for side, name in (("ours", "CrossModal"), ("reference", "PyTorch"))]
        if not any(runs for _, runs in sides):
            continue
        for name, runs in sides:
            vals = lambda d, k: [r[d][k] for r in runs]
            print(f"| {label} | {name} | {len(runs)} | " + " | ".join(cell(vals(d, k)) for d in ("i2t", "t2i") for k in ("r1", "r5", "r10"))
                  + f" | {cell([r['rsum'] for r in runs])} |")
    naaf(out)


def naaf_epochs(out):
    """{(side, seed): [{epoch, loss (per batch), dev_rsum, thres, thres_safe}]} of every NAAF run found under out."""
    runs = {}
    for path in sorted(glob.glob(os.path.join(out, "ours", "naaf_seed*", "metrics.jsonl"))):
        seed = int(os.path.basename(os.path.dirname(path))[len("naaf_seed"):])
        with open(path) as f:
            lines = [json.loads(line) for line in f if line.strip()]
        runs[("ours", seed)] = [{"epoch": e["epoch"], "loss": e["loss"], "dev_rsum": e["rsum"], "thres": e["terms"].get("thres"),
                                 "thres_safe": e["terms"].get("thres_safe")} for e in lines if "iteration" not in e]
    for path in sorted(glob.glob(os.path.join(out, "reference", "naaf_seed*.json*"))):
        name = os.path.basename(path)
        seed = int(name[len("naaf_seed"):].split(".")[0])
        if name.endswith(".json"):
            with open(path) as f:
                log = json.load(f)["epochs"]
        elif name.endswith(".json.state.pt") and not os.path.exists(path[:-len(".state.pt")]):
            import torch
            log = torch.load(path)["log"]
        else:
            continue
        runs[("reference", seed)] = [{"epoch": e["epoch"], "loss": e["loss"] / e["steps"], "dev_rsum": e["dev_rsum"],
                                      "thres": e["thres"], "thres_safe": e["thres_safe"]} for e in log]
    return runs


def naaf(out):
    runs = naaf_epochs(out)
    if not runs:
        return
    print("\nNAAF per epoch (loss = mean per batch; thres ours = epoch mean, reference = epoch end):")
    print("| side | seed | epoch | loss | dev rsum | thres | thres_safe |")
    print("|---|---|---|---|---|---|---|")
    for (side, seed), epochs in sorted(runs.items()):
        for e in epochs:
            print(f"| {side} | {seed} | {e['epoch']} | {e['loss']:.3f} | {e['dev_rsum']:.1f} | {e['thres']:.4f} | {e['thres_safe']:.4f} |")
    return runs


def naaf_svg(runs, path):
    """Plain SVG: thres (solid) and thres_safe (dashed) per epoch, ours blue, reference red, one line per seed."""
    w, h, left, right, top, bottom = 720, 360, 60, 20, 40, 50
    pw, ph = w - left - right, h - top - bottom
    n = max(e["epoch"] for epochs in runs.values() for e in epochs)
    hi = max(max(e["thres"], e["thres_safe"]) for epochs in runs.values() for e in epochs) or 1.0
    x = lambda epoch: left + pw * (epoch - 1) / max(1, n - 1)
    y = lambda v: top + ph - ph * v / hi
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" font-family="sans-serif" font-size="12">',
             '<rect width="100%" height="100%" fill="white"/>',
             f'<text x="{w / 2}" y="22" text-anchor="middle" font-size="15">NAAF on f8k-1k-precomp: the learned threshold per epoch</text>',
             f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="#888"/>']
    for (side, seed), epochs in sorted(runs.items()):
        colour = "#1f77b4" if side == "ours" else "#d62728"
        for key, dash in (("thres", ""), ("thres_safe", ' stroke-dasharray="5,3"')):
            pts = " ".join(f"{x(e['epoch']):.1f},{y(e[key]):.1f}" for e in epochs)
            parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="1.5"{dash} points="{pts}"/>')
    for t in range(5):
        parts.append(f'<text x="{left - 6}" y="{top + ph - ph * t / 4 + 4:.1f}" text-anchor="end">{hi * t / 4:.3f}</text>')
    for epoch in range(1, n + 1):
        parts.append(f'<text x="{x(epoch):.1f}" y="{top + ph + 18}" text-anchor="middle">{epoch}</text>')
    parts.append(f'<text x="{w / 2}" y="{h - 12}" text-anchor="middle">epoch</text>')
    parts.append(f'<text x="{left + 10}" y="{top + 16}" fill="#1f77b4">CrossModal (epoch mean)</text>')
    parts.append(f'<text x="{left + 180}" y="{top + 16}" fill="#d62728">PyTorch reference (epoch end)</text>')
    parts.append(f'<text x="{left + 390}" y="{top + 16}">solid thres, dashed thres_safe</text>')
    parts.append("</svg>\n")
    with open(path, "w") as f:
        f.write("\n".join(parts))


if __name__ == "__main__":
    args = sys.argv[1:]
    svg = None
    if "--naaf-svg" in args:
        i = args.index("--naaf-svg")
        svg = args[i + 1]
        del args[i:i + 2]
    main(args[0] if args else "runs")
    if svg:
        runs = naaf_epochs(args[0] if args else "runs")
        if runs:
            naaf_svg(runs, svg)
