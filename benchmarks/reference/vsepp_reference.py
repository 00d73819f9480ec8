#!/usr/bin/python3
"""PyTorch CPU reference for the VSE++ benchmarks: training steps (batch 128, GRU 300->1024, joint 1024, max of
hinges, clipping 2.0, Adam) and evaluation (encode 1,000 images and 5,000 captions, the similarity matrix, the
recall ranks), with the model of tools/reference/train_reference.py.

    vsepp_reference.py train --img-dim 4096 --steps 5
    vsepp_reference.py eval --img-dim 4096
"""
import argparse
import json
import os
import resource
import sys
import time

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tools", "reference"))
import train_reference as ref  # noqa: E402


def batch(g, n, vocab, min_len, max_len, img_dim):
    lengths = sorted(torch.randint(min_len, max_len + 1, (n,), generator=g).tolist(), reverse=True)
    tokens = torch.zeros(n, lengths[0], dtype=torch.long)
    for i, l in enumerate(lengths):
        tokens[i, :l] = torch.randint(4, vocab, (l,), generator=g)
    return torch.rand(n, img_dim, generator=g), tokens, lengths


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["train", "eval"])
    p.add_argument("--img-dim", type=int, default=4096)
    p.add_argument("--vocab", type=int, default=8481)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--min-len", type=int, default=8)
    p.add_argument("--max-len", type=int, default=20)
    a = p.parse_args()
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(1)
    img = ref.ImageEncoder(a.img_dim, 1024, 0.0, pool=True)
    txt = ref.TextEncoder(a.vocab, 300, 1024, bi=False, per_word=False, eps=0.0)
    if a.mode == "train":
        params = list(img.parameters()) + list(txt.parameters())
        opt = torch.optim.Adam(params, lr=2e-4)
        images, tokens, lengths = batch(g, a.batch, a.vocab, a.min_len, a.max_len, a.img_dim)
        times = []
        for step in range(a.steps + 1):
            t0 = time.perf_counter()
            loss = ref.hinge(img(images) @ txt(tokens, lengths).t(), 0.2, True)
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(params, 2.0)
            opt.step()
            if step:
                times.append(time.perf_counter() - t0)
        best = min(times)
        print(json.dumps({"seconds_per_step": best, "captions_per_second": a.batch / best, "torch": torch.__version__,
                          "threads": torch.get_num_threads()}))
    else:
        n = 1000
        with torch.no_grad():
            images = torch.rand(n, a.img_dim, generator=g)
            batches = [batch(g, 128, a.vocab, a.min_len, a.max_len, a.img_dim) for _ in range(5 * n // 128 + 1)]
            t0 = time.perf_counter()
            im = img(images)
            caps = torch.cat([txt(t, l) for _, t, l in batches], 0)[:5 * n]
            sims = (im @ caps.t()).numpy()
            t1 = time.perf_counter()
            ref.metrics(sims)
            t2 = time.perf_counter()
        print(json.dumps({"encode_and_score_seconds": t1 - t0, "ranks_seconds": t2 - t1, "seconds": t2 - t0,
                          "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


if __name__ == "__main__":
    main()
