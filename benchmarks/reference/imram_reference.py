#!/usr/bin/python3
"""PyTorch CPU reference for the IMRAM benchmarks (issue 13): the math of HuiChen24/IMRAM (model.py, evaluation.py),
imported from tools/reference/imram_reference.py (the original ported to CPU, plus the batched scorer).

    imram_reference.py train --batch 128 --regions 36 --img-dim 2048 --embed 1024 --steps 2 [--algo batched --chunk 8]
    imram_reference.py score --images 1000 --captions 5000 --regions 36 --embed 1024 --caption-fraction 0.01

--algo batched (default): imram_reference.batched_steps -- every pair of a block at once with batched tensor ops,
  the gates' context half applied once per image/caption (W_c P X = P (X W_c^T)), the attended vectors never built,
  the update after the last step skipped. Training: blocks of --chunk captions x all images, each block's forward
  recomputed in backward (torch.utils.checkpoint), so memory is bounded by a block; --chunk 0 = the whole batch at
  once (B x B x words x d tensors kept for backward: does not fit 24 GB at batch 128).
--algo loop: the original per-caption loop (xattn_score_Text_IMRAM / xattn_score_Image_IMRAM: each caption repeated
  over the image block, func_attention, the gates on cat([query, attended]), the discarded last update included).
  Training keeps every caption's graph until backward, as the original does.

Model: full_IMRAM, K = 3, lambda 9, no_IMRAM_norm (the published flags), Bi-GRU over 300-d words (vocab 8,481),
per-region Linear(img_dim -> embed) + l2norm; hinge loss with max violation on the float64 score matrix, clipping at
2.0 over all parameters, Adam. Captions of 8-20 tokens, images uniform [0, 1) (train) / l2-normalised Gaussian
region embeddings (score), as scan_reference.py.

Prints one JSON line: seconds per step (train; the first step, which allocates, is not timed) or seconds for the
timed fraction (after --warmup untimed shards), pairs/s and the extrapolated full matrix (score), the process's
peak RSS in MB, the threads.
--max-gb caps the address space (RLIMIT_AS): an allocation beyond it ends the run with {"error": "out of memory"}
instead of pushing a shared machine into the OOM killer.
"""
import argparse
import json
import os
import resource
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools", "reference"))
import imram_reference as ref  # noqa: E402


def options(a):
    return ref.imram_opt(model_mode=a.mode, iteration_step=a.iteration_step, lambda_softmax=a.lambda_softmax,
                         no_IMRAM_norm=not a.imram_norm, bi_gru=True, max_violation=True, agg_func="Mean",
                         img_dim=a.img_dim, embed_size=a.embed, word_dim=300, vocab_size=a.vocab)


def peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def train(a):
    opt = options(a)
    torch.manual_seed(0)
    model = ref.SCAN(opt)
    model.train()
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-4)
    criterion = ref.ContrastiveLoss(opt, margin=0.2, max_violation=True)
    g = torch.Generator().manual_seed(1)
    lengths = sorted(torch.randint(a.min_len, a.max_len + 1, (a.batch,), generator=g).tolist(), reverse=True)
    tokens = torch.zeros(a.batch, max(lengths), dtype=torch.long)
    for i, l in enumerate(lengths):
        tokens[i, :l] = torch.randint(4, a.vocab, (l,), generator=g)
    images = torch.rand(a.batch, a.regions, a.img_dim, generator=g)
    lens = torch.tensor(lengths)
    times, cpu = [], []
    for step in range(a.steps + 1):
        t0, c0 = time.perf_counter(), time.process_time()
        _, img_emb, _, cap_emb, _ = model.forward_emb(images, tokens, lens)
        if a.algo == "loop":
            scores = model.forward_score(None, img_emb, cap_emb[:, 0], cap_emb, lens)  # [captions, images], as trained
        else:
            scores = ref.batched_scores(model, img_emb, cap_emb, lengths, opt, chunk=a.chunk or None,
                                        checkpoint=bool(a.chunk))
        loss = criterion(scores)
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 2.0)
        optimizer.step()
        if step > 0:
            times.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
        print(f"step {step}: {time.perf_counter() - t0:.2f} s, peak RSS {peak_mb():.0f} MB", file=sys.stderr, flush=True)
    print(json.dumps({"seconds_per_step": min(times), "mean_seconds": sum(times) / len(times),
                      "cpu_seconds_per_step": min(cpu), "batch": a.batch,
                      "algo": a.algo, "chunk": a.chunk if a.algo == "batched" else None, "mode": a.mode,
                      "iteration_step": a.iteration_step, "words": sum(lengths),
                      "peak_rss_mb": peak_mb(), "torch": torch.__version__, "threads": torch.get_num_threads()}))


def score(a):
    opt = options(a)
    torch.manual_seed(3)
    model = ref.SCAN(opt).eval()
    g = torch.Generator().manual_seed(2)
    images = ref.l2norm(torch.randn(a.images, a.regions, a.embed, generator=g), -1)
    n_caps = max(1, int(round(a.captions * a.caption_fraction)))
    lengths = torch.randint(a.min_len, a.max_len + 1, (n_caps,), generator=g)
    captions = ref.l2norm(torch.randn(n_caps, int(lengths.max()), a.embed, generator=g), -1)
    for c in range(n_caps):
        captions[c, lengths[c]:] = 0
    with torch.no_grad():
        # One untimed shard first (as our side does): the timed shards then run with the allocator's memory already
        # touched, as every shard after the first of a real 1,000 x 5,000 evaluation does.
        for _ in range(a.warmup):
            im, cap, ln = images[:a.shard], captions[:a.shard], lengths[:a.shard]
            if a.algo == "loop":
                ref.loop_steps(model, im, cap, ln, opt)
            else:
                ref.batched_steps(model, im, cap, ln, opt, chunk=a.chunk or None)
        t0, c0 = time.perf_counter(), time.process_time()
        # evaluation.shard_xattn_*_IMRAM: blocks of 128 images x 128 captions.
        for i0 in range(0, a.images, a.shard):
            for j0 in range(0, n_caps, a.shard):
                im, cap, ln = images[i0:i0 + a.shard], captions[j0:j0 + a.shard], lengths[j0:j0 + a.shard]
                if a.algo == "loop":
                    ref.loop_steps(model, im, cap, ln, opt)
                else:
                    ref.batched_steps(model, im, cap, ln, opt, chunk=a.chunk or None)
        dt, dc = time.perf_counter() - t0, time.process_time() - c0
    pairs = a.images * n_caps
    print(json.dumps({"seconds": dt, "cpu_seconds": dc, "pairs": pairs, "pairs_per_second": pairs / dt,
                      "extrapolated_full_seconds": dt * a.images * a.captions / pairs, "algo": a.algo,
                      "chunk": a.chunk if a.algo == "batched" else None, "mode": a.mode,
                      "iteration_step": a.iteration_step, "words": int(lengths.sum()),
                      "peak_rss_mb": peak_mb(), "torch": torch.__version__, "threads": torch.get_num_threads()}))


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("what", choices=["train", "score"])
    p.add_argument("--algo", choices=["batched", "loop"], default="batched")
    p.add_argument("--chunk", type=int, default=None,
                   help="captions per block (train default 8, recomputed in backward, 0 = all; score default 32)")
    p.add_argument("--mode", choices=list(ref.MODES), default="full_IMRAM")
    p.add_argument("--iteration-step", type=int, default=3)
    p.add_argument("--lambda-softmax", type=float, default=9.0)
    p.add_argument("--imram-norm", action="store_true", help="l2-normalise the updated query (default: no_IMRAM_norm)")
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--regions", type=int, default=36)
    p.add_argument("--img-dim", type=int, default=2048)
    p.add_argument("--embed", type=int, default=1024)
    p.add_argument("--vocab", type=int, default=8481)
    p.add_argument("--min-len", type=int, default=8)
    p.add_argument("--max-len", type=int, default=20)
    p.add_argument("--steps", type=int, default=2)
    p.add_argument("--images", type=int, default=1000)
    p.add_argument("--captions", type=int, default=5000)
    p.add_argument("--caption-fraction", type=float, default=0.01)
    p.add_argument("--shard", type=int, default=128)
    p.add_argument("--warmup", type=int, default=1, help="untimed shards before the timed ones (score)")
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--max-gb", type=float, default=None, help="address-space cap (RLIMIT_AS) in GB")
    a = p.parse_args()
    if a.chunk is None:
        a.chunk = 8 if a.what == "train" else 32
    if a.threads:
        torch.set_num_threads(a.threads)
    if a.max_gb:
        limit = int(a.max_gb * 2 ** 30)
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    try:
        train(a) if a.what == "train" else score(a)
    except (RuntimeError, MemoryError) as e:
        if "alloc" not in str(e) and not isinstance(e, MemoryError):
            raise
        print(json.dumps({"error": "out of memory", "detail": str(e).splitlines()[0][:200], "what": a.what,
                          "algo": a.algo, "batch": a.batch, "chunk": a.chunk, "max_gb": a.max_gb,
                          "peak_rss_mb": peak_mb(), "threads": torch.get_num_threads()}))
        sys.exit(3)
