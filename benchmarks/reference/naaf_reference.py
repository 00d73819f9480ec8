#!/usr/bin/python3
"""PyTorch CPU reference for the NAAF benchmarks: the math of CrossmodalGroup/NAAF (model.py xattn_score with its
threshold learning, xattn_score_test) with batched tensor ops -- tools/reference/naaf_reference.py's
xattn_score_batched / xattn_score_test_batched, which `naaf_reference.py --check` compares with the original
per-caption loops. No per-caption loop over pairs: all pairs of a shard at once, no attended vectors (the cosine
uses sum_r p_r s_r and p^T G p with the regions' Gram matrix G), captions in cache-sized chunks.

    naaf_reference.py train --batch 128 --regions 36 --img-dim 2048 --embed 1024 --steps 3
    naaf_reference.py score --images 1000 --captions 5000 --regions 36 --embed 1024 --caption-fraction 0.02

train: one training step (Bi-GRU over 300-d words, captions of 8-20 tokens, image FC + l2norm, scores with the
threshold walk of the original (each caption scored with the threshold the previous one left), hinge loss with the
hardest negative, clip_grad_norm 2.0, Adam); prints seconds per step (best and mean of the timed steps).
score: test-time scores (threshold thres_safe, intra-sentence smoothed negative mask) of a fraction of the 5,000
captions against the 1,000 images in shards of 128 x 128 as evaluation.shard_xattn does; prints the seconds, pairs/s
and the extrapolation to the full matrix. `--impl loop` times the original per-caption xattn_score_test instead,
`--dtype float64` scores in float64 as the original evaluation does (float32 by default).
Both print one JSON line with the process's peak RSS in MB and its CPU time next to the wall time (on a busy machine
the CPU time of a one-thread run is the better estimate of the idle wall time).
"""
import argparse
import json
import os
import resource
import sys
import time

import torch
import torch.nn as nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools", "reference"))
import naaf_reference as N  # noqa: E402


def train(a):
    torch.manual_seed(0)
    opt = N.naaf_opt(precomp_enc_text_type="basic", img_dim=a.img_dim, embed_size=a.embed, word_dim=300,
                     vocab_size=a.vocab, lambda_softmax=20.0, alpha=2.0)
    img, txt = N.build_encoders(opt)
    params = list(txt.parameters()) + list(img.fc.parameters())
    adam = torch.optim.Adam(params, lr=opt.learning_rate)
    crit = N.ContrastiveLoss(margin=opt.margin)
    g = torch.Generator().manual_seed(1)
    lengths = sorted(torch.randint(a.min_len, a.max_len + 1, (a.batch,), generator=g).tolist(), reverse=True)
    tokens = torch.zeros(a.batch, max(lengths), dtype=torch.long)
    for i, l in enumerate(lengths):
        tokens[i, :l] = torch.randint(4, a.vocab, (l,), generator=g)
    images = torch.rand(a.batch, a.regions, a.img_dim, generator=g)
    scorer = N.xattn_score_batched if a.impl == "batched" else N.xattn_score
    times, cpu, correct, updates = [], [], 0, 0
    for step in range(a.steps + 1):
        t0, c0 = time.perf_counter(), time.process_time()
        cap, _ = txt(tokens, lengths)
        trace = {}
        scores = scorer(img(images), cap, lengths, opt, trace=trace)
        loss = crit(scores, a.batch)
        adam.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(params, opt.grad_clip)
        adam.step()
        if step > 0:
            times.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
            correct += sum(trace["correct"])
            updates += len(trace["updates"])
    print(json.dumps({"seconds_per_step": min(times), "mean_seconds": sum(times) / len(times),
                      "cpu_seconds_per_step": min(cpu),
                      "correct_captions_per_step": correct / len(times), "threshold_updates_per_step": updates / len(times),
                      "impl": a.impl, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "torch": torch.__version__, "threads": torch.get_num_threads()}))


def score(a):
    dtype = torch.float64 if a.dtype == "float64" else torch.float32
    g = torch.Generator().manual_seed(2)
    images = N.l2norm(torch.randn(a.images, a.regions, a.embed, generator=g), -1).to(dtype)
    n_caps = max(1, int(round(a.captions * a.caption_fraction)))
    lengths = torch.randint(a.min_len, a.max_len + 1, (n_caps,), generator=g).tolist()
    captions = N.l2norm(torch.randn(n_caps, max(lengths), a.embed, generator=g), -1).to(dtype)
    for c, l in enumerate(lengths):
        captions[c, l:] = 0
    # A threshold that puts part of the regions above and part below it (as a learned thres_safe does).
    opt = N.naaf_opt(lambda_softmax=20.0, thres_safe=a.thres_safe)
    scorer = N.xattn_score_test_batched if a.impl == "batched" else N.xattn_score_test
    with torch.no_grad():
        # One untimed shard first: our side is timed warm (best of its repetitions after one untimed), and the
        # reference's cold first shard pays first-touch page faults (as imram_reference.py found).
        scorer(images[:a.shard], captions[:a.shard], lengths[:a.shard], opt)
        t0, c0 = time.perf_counter(), time.process_time()
        for i0 in range(0, a.images, a.shard):
            for j0 in range(0, n_caps, a.shard):
                scorer(images[i0:i0 + a.shard], captions[j0:j0 + a.shard], lengths[j0:j0 + a.shard], opt)
        dt, dc = time.perf_counter() - t0, time.process_time() - c0
    pairs = a.images * n_caps
    print(json.dumps({"seconds": dt, "cpu_seconds": dc, "pairs": pairs, "pairs_per_second": pairs / dt,
                      "extrapolated_full_seconds": dt * a.images * a.captions / pairs, "impl": a.impl, "dtype": a.dtype,
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "torch": torch.__version__, "threads": torch.get_num_threads()}))


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["train", "score"])
    p.add_argument("--impl", choices=["batched", "loop"], default="batched")
    p.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--regions", type=int, default=36)
    p.add_argument("--img-dim", type=int, default=2048)
    p.add_argument("--embed", type=int, default=1024)
    p.add_argument("--vocab", type=int, default=8481)
    p.add_argument("--min-len", type=int, default=8)
    p.add_argument("--max-len", type=int, default=20)
    p.add_argument("--steps", type=int, default=3)
    p.add_argument("--images", type=int, default=1000)
    p.add_argument("--captions", type=int, default=5000)
    p.add_argument("--caption-fraction", type=float, default=0.02)
    p.add_argument("--shard", type=int, default=128)
    p.add_argument("--thres-safe", type=float, default=0.05)
    a = p.parse_args()
    train(a) if a.mode == "train" else score(a)
