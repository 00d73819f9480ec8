#!/usr/bin/python3
"""Why MASLN trails CCA on unseen Wikipedia classes: a diagnostic (issue 16), numpy only.

    /usr/bin/python3 tools/category/transfer_diagnostic.py RUNS DATA [ROW ...]
        RUNS: the output folder of tools/category/masln_table.sh; DATA: ../shared/data/wikipedia; each ROW a table
        row's name without its protocol (default: masln-lda10), whose ROW-extendable (split-k models) and
        ROW-standard (seed-k models) folders are read. Prints one summary line per row, then the first row's splits.

For each of the table's 5 seen/unseen splits, on the unseen classes' test pairs (the extendable protocol's
evaluation set), mean mAP of both directions of:
  - CCA fitted on the seen classes' training pairs (the table's baseline) and on ALL classes' pairs (an oracle that
    has seen the unseen classes);
  - MASLN trained on the seen classes (the split's model) and MASLN trained on all classes (the standard protocol's
    seed models, evaluated on the same unseen subset: the oracle);
so "what a model loses by not seeing a class" is measured for both. Then, for the seen-class MASLN models, where the
unseen classes' information lives in the 64-d code: mAP from the component of the codes in the span of the
classifier's 5 seen-class directions, and from its orthogonal complement; and the share of the unseen items' code
variance in that span. MASLN codes are computed here from the checkpoints' tensors (standardise, fc1, ReLU, fc2,
tanh), checked against `crossmodal eval` through the split models' mAP in RUNS/.../eval.json. Last, the same
span analysis for the standard protocol's models on all test pairs, next to the classifier's own posteriors.
"""
import json
import os
import struct
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "reference"))
from category_reference import cca_fit, map_both, load_wikipedia  # noqa: E402


def safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for k, v in header.items():
        if k == "__metadata__":
            continue
        a, b = v["data_offsets"]
        out[k] = np.frombuffer(data[a:b], dtype=np.float32).reshape(v["shape"]).astype(np.float64)
    return out


def codes(t, prefix, x):
    side = "img" if prefix == "img_enc" else "txt"
    h = (x - t[f"{side}_mean"]) * t[f"{side}_scale"]
    h = np.maximum(h @ t[f"{prefix}.fc1.weight"].T + t[f"{prefix}.fc1.bias"], 0)
    return np.tanh(h @ t[f"{prefix}.fc2.weight"].T + t[f"{prefix}.fc2.bias"])


def mean_map(img, txt, labels):
    i2t, t2i = map_both(img, txt, labels)
    return (i2t + t2i) / 2


def diagnose(runs, row, data_arrays, names):
    xtr, ytr, ltr, xte, yte, lte = data_arrays
    ext = json.load(open(os.path.join(runs, row + "-extendable", "eval.json")))["runs"]
    std_dir = os.path.join(runs, row + "-standard")
    std_models = [safetensors(os.path.join(std_dir, s, "model_best.safetensors")) for s in sorted(os.listdir(std_dir))
                  if s.startswith("seed-") and os.path.isdir(os.path.join(std_dir, s))]
    mx, my, wx, wy, _ = cca_fit(xtr, ytr, 10, 1e-4)
    rows = []
    for r in ext:
        # labels are 0-based indices into categories.txt
        seen = [names.index(c) for c in r["seen"]]
        unseen = [names.index(c) for c in r["unseen"]]
        tr = np.isin(ltr, seen)
        te = np.isin(lte, unseen)
        X, Y, L = xte[te], yte[te], lte[te]
        # CCA: seen-only (the baseline) and all classes (oracle)
        sx, sy, swx, swy, _ = cca_fit(xtr[tr], ytr[tr], 10, 1e-4)
        cca_seen = mean_map((X - sx) @ swx, (Y - sy) @ swy, L)
        cca_all = mean_map((X - mx) @ wx, (Y - my) @ wy, L)
        # the split's model, and the standard-protocol models on the same unseen subset
        split_dir = os.path.basename(os.path.dirname(r["path"]))   # split-k: eval.json's path may be relative
        t = safetensors(os.path.join(runs, row + "-extendable", split_dir, "model_best.safetensors"))
        ci, ct = codes(t, "img_enc", X), codes(t, "txt_enc", Y)
        seen_map = mean_map(ci, ct, L)
        reported = (r["unseen_metrics"]["i2t"]["map"] + r["unseen_metrics"]["t2i"]["map"]) / 2
        all_map = np.mean([mean_map(codes(s, "img_enc", X), codes(s, "txt_enc", Y), L) for s in std_models])
        # where the unseen information lives: the span of the classifier's seen-class rows vs its complement
        q, _ = np.linalg.qr(t["classifier.weight"].T)             # code_dim x seen classes, orthonormal
        proj = lambda c: c @ q @ q.T                               # noqa: E731
        in_span = mean_map(proj(ci), proj(ct), L)
        out_span = mean_map(ci - proj(ci), ct - proj(ct), L)
        cc = np.vstack([ci, ct])
        cc = cc - cc.mean(0)
        share = float(((cc @ q) ** 2).sum() / (cc ** 2).sum())
        rows.append(dict(unseen=",".join(r["unseen"]), cca_seen=cca_seen, cca_all=cca_all, seen=seen_map,
                         reported=reported, all=all_map, span=in_span, complement=out_span, share=share))
    json.dump(rows, open(os.path.join(runs, row + "-extendable", "transfer_diagnostic.json"), "w"), indent=1)
    return rows


def main():
    runs, data = sys.argv[1], sys.argv[2]
    row_names = sys.argv[3:] or ["masln-lda10"]
    arrays = load_wikipedia(data)
    names = [l.strip() for l in open(os.path.join(data, "categories.txt")) if l.strip()]
    results = {row: diagnose(runs, row, arrays, names) for row in row_names}
    mean = lambda rows, k: float(np.mean([r[k] for r in rows]))  # noqa: E731
    first = results[row_names[0]]
    print("| model | trained on the seen classes | trained on all classes (oracle) | cost of not seeing a class |")
    print("|---|---|---|---|")
    print(f"| CCA | {mean(first, 'cca_seen'):.3f} | {mean(first, 'cca_all'):.3f} | {mean(first, 'cca_all') - mean(first, 'cca_seen'):.3f} |")
    for row, rows in results.items():
        assert all(abs(r["seen"] - r["reported"]) < 1e-4 for r in rows), f"{row}: codes do not reproduce eval.json"
        print(f"| {row} | {mean(rows, 'seen'):.3f} | {mean(rows, 'all'):.3f} | {mean(rows, 'all') - mean(rows, 'seen'):.3f} |")
    keys = ["cca_seen", "cca_all", "seen", "reported", "all", "span", "complement", "share"]
    print(f"\n{row_names[0]}, per split:\n")
    print("| unseen classes | CCA seen | CCA all (oracle) | seen | (eval.json) | all (oracle) | "
          "seen model: code in classifier span | its complement | unseen variance in span |")
    print("|---|" + "---|" * len(keys))
    for r in first:
        print(f"| {r['unseen']} | " + " | ".join(f"{r[k]:.3f}" for k in keys) + " |")
    print("| mean | " + " | ".join(f"{mean(first, k):.3f}" for k in keys) + " |")
    m, n = standard_protocol(runs, row_names[0], arrays)
    print(f"\n{row_names[0]}, standard protocol (all test pairs, mean of {n} seeds): codes {m[0]:.3f}, their component in "
          f"the classifier's span {m[1]:.3f}, its complement {m[2]:.3f}, code variance in the span {m[3]:.2f}, the "
          f"classifier's posteriors as codes {m[4]:.3f}")


def standard_protocol(runs, row, data_arrays):
    """The standard protocol's models of ROW on all test pairs: mAP of the codes, of their component in the span of
    the classifier's rows and of its complement, the code variance in that span, and of the classifier's own
    posteriors used as codes (what semantic matching ranks by)."""
    _, _, _, xte, yte, lte = data_arrays
    std_dir = os.path.join(runs, row + "-standard")
    out = []
    for s in sorted(os.listdir(std_dir)):
        if not (s.startswith("seed-") and os.path.isdir(os.path.join(std_dir, s))):
            continue
        t = safetensors(os.path.join(std_dir, s, "model_best.safetensors"))
        ci, ct = codes(t, "img_enc", xte), codes(t, "txt_enc", yte)
        q, _ = np.linalg.qr(t["classifier.weight"].T)
        proj = lambda c: c @ q @ q.T                               # noqa: E731

        def posteriors(c):
            z = c @ t["classifier.weight"].T + t["classifier.bias"]
            e = np.exp(z - z.max(1, keepdims=True))
            return e / e.sum(1, keepdims=True)

        cc = np.vstack([ci, ct])
        cc = cc - cc.mean(0)
        out.append([mean_map(ci, ct, lte), mean_map(proj(ci), proj(ct), lte), mean_map(ci - proj(ci), ct - proj(ct), lte),
                    float(((cc @ q) ** 2).sum() / (cc ** 2).sum()), mean_map(posteriors(ci), posteriors(ct), lte)])
    return np.mean(out, 0), len(out)


if __name__ == "__main__":
    main()
