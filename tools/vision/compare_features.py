#!/usr/bin/python3
"""Compares recomputed image features with reference ones, split by split, image by image.

usage: compare_features.py OURS_DIR REFERENCE_DIR [--splits train,dev,test]

Both folders hold the SCAN precomp layout ({split}_ims.npy as N x regions x C or N x C, {split}_ids.txt).
Rows are matched by image id. Prints per split and overall: images compared, mean / worst per-image cosine
similarity of the flattened features, the fraction of images with cosine >= 0.999, the worst images, and the
max |diff|; the last line is JSON. Exit code 1 when the issue-7 criterion fails (>= 99% at >= 0.999, none < 0.99).
"""
import argparse
import json
import os
import sys

import numpy as np


def load(folder, split):
    ims = np.load(os.path.join(folder, split + "_ims.npy"))
    with open(os.path.join(folder, split + "_ids.txt")) as f:
        ids = [l.strip() for l in f if l.strip()]
    assert len(ids) == len(ims), (folder, split, len(ids), len(ims))
    return ims.reshape(len(ims), -1).astype(np.float64), ids


def main():
    p = argparse.ArgumentParser()
    p.add_argument("ours")
    p.add_argument("reference")
    p.add_argument("--splits", default="train,dev,test")
    a = p.parse_args()
    all_cos, worst, max_diff, missing = [], [], 0.0, 0
    for split in a.splits.split(","):
        ours, our_ids = load(a.ours, split)
        ref, ref_ids = load(a.reference, split)
        index = {n: i for i, n in enumerate(our_ids)}
        cos = []
        for j, n in enumerate(ref_ids):
            if n not in index:
                missing += 1
                continue
            x, y = ours[index[n]], ref[j]
            c = float(x @ y / (np.linalg.norm(x) * np.linalg.norm(y)))
            cos.append(c)
            worst.append((c, split, n))
            max_diff = max(max_diff, float(np.abs(x - y).max()))
        cos = np.array(cos)
        print("%-5s %4d images: mean cosine %.7f, worst %.7f, >= 0.999: %.2f%%" % (split, len(cos), cos.mean(), cos.min(), 100 * (cos >= 0.999).mean()))
        all_cos.extend(cos.tolist())
    c = np.array(all_cos)
    worst.sort()
    print("worst images:", ", ".join("%s/%s %.6f" % (s, n, v) for v, s, n in worst[:5]))
    ok = missing == 0 and (c >= 0.999).mean() >= 0.99 and c.min() >= 0.99
    print(json.dumps({"images": int(len(c)), "missing": missing, "mean_cosine": float(c.mean()), "worst_cosine": float(c.min()),
                      "fraction_ge_0.999": float((c >= 0.999).mean()), "max_abs_diff": max_diff, "criterion_met": bool(ok)}))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
