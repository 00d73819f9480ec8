#!/usr/bin/python3
"""PyTorch CPU reference for the SCAN benchmarks (same math as kuanghuei/SCAN, batched tensor ops, per-caption loop
over an image block as the original does).

    scan_reference.py train --batch 128 --regions 36 --img-dim 2048 --embed 1024 --steps 3
    scan_reference.py score --images 1000 --captions 5000 --regions 36 --embed 1024 --caption-fraction 0.02

Prints one JSON line with seconds per step (train) or seconds for the timed fraction and pairs/s (score), and the
process's peak RSS in MB.
"""
import argparse
import json
import resource
import time

import torch
import torch.nn as nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

EPS = 1e-8


def l2norm(x, dim):
    return x / (x.pow(2).sum(dim=dim, keepdim=True).sqrt() + EPS)


def func_attention(query, context, smooth):
    attn = torch.bmm(context, query.transpose(1, 2))
    attn = l2norm(nn.functional.leaky_relu(attn, 0.1), 2)
    n, sl, ql = attn.shape
    attn = attn.transpose(1, 2).reshape(n * ql, sl)
    attn = torch.softmax(attn * smooth, dim=1).reshape(n, ql, sl)
    return torch.bmm(context.transpose(1, 2), attn.transpose(1, 2)).transpose(1, 2)


def cosine(x1, x2, dim):
    return (x1 * x2).sum(dim) / (x1.norm(2, dim) * x2.norm(2, dim)).clamp(min=EPS)


def xattn_t2i(images, captions, lengths, lam=9.0, lse=6.0):
    n_image = images.size(0)
    sims = []
    for i in range(captions.size(0)):
        cap = captions[i, :lengths[i], :].unsqueeze(0).repeat(n_image, 1, 1)
        ctx = func_attention(cap, images, lam)
        row = cosine(cap, ctx, 2)
        sims.append(torch.log(torch.exp(row * lse).sum(dim=1, keepdim=True)) / lse)
    return torch.cat(sims, 1)


class Model(nn.Module):
    def __init__(self, vocab, img_dim, embed, word_dim=300):
        super().__init__()
        self.fc = nn.Linear(img_dim, embed)
        self.embed = nn.Embedding(vocab, word_dim)
        self.rnn = nn.GRU(word_dim, embed, 1, batch_first=True, bidirectional=True)

    def forward(self, images, tokens, lengths):
        img = l2norm(self.fc(images), -1)
        x = self.embed(tokens)
        packed = pack_padded_sequence(x, lengths, batch_first=True)
        out, _ = self.rnn(packed)
        cap, _ = pad_packed_sequence(out, batch_first=True)
        h = cap.size(2) // 2
        cap = l2norm((cap[:, :, :h] + cap[:, :, h:]) / 2, -1)
        return img, cap


def hinge_mh(scores, margin=0.2):
    d = scores.diag().view(-1, 1)
    cost_s = (margin + scores - d.expand_as(scores)).clamp(min=0)
    cost_im = (margin + scores - d.t().expand_as(scores)).clamp(min=0)
    mask = torch.eye(scores.size(0)) > .5
    cost_s = cost_s.masked_fill(mask, 0)
    cost_im = cost_im.masked_fill(mask, 0)
    return cost_s.max(1)[0].sum() + cost_im.max(0)[0].sum()


def train(a):
    torch.manual_seed(0)
    model = Model(a.vocab, a.img_dim, a.embed)
    opt = torch.optim.Adam(model.parameters(), lr=2e-4)
    g = torch.Generator().manual_seed(1)
    lengths = sorted(torch.randint(a.min_len, a.max_len + 1, (a.batch,), generator=g).tolist(), reverse=True)
    tokens = torch.zeros(a.batch, max(lengths), dtype=torch.long)
    for i, l in enumerate(lengths):
        tokens[i, :l] = torch.randint(4, a.vocab, (l,), generator=g)
    images = torch.rand(a.batch, a.regions, a.img_dim, generator=g)
    times = []
    for step in range(a.steps + 1):
        t0 = time.perf_counter()
        img, cap = model(images, tokens, lengths)
        loss = hinge_mh(xattn_t2i(img, cap, lengths))
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 2.0)
        opt.step()
        if step > 0:
            times.append(time.perf_counter() - t0)
    print(json.dumps({"seconds_per_step": min(times), "mean_seconds": sum(times) / len(times),
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "torch": torch.__version__, "threads": torch.get_num_threads()}))


def score(a):
    g = torch.Generator().manual_seed(2)
    images = l2norm(torch.randn(a.images, a.regions, a.embed, generator=g), -1)
    n_caps = max(1, int(round(a.captions * a.caption_fraction)))
    lengths = torch.randint(a.min_len, a.max_len + 1, (n_caps,), generator=g).tolist()
    captions = l2norm(torch.randn(n_caps, max(lengths), a.embed, generator=g), -1)
    with torch.no_grad():
        t0 = time.perf_counter()
        # SCAN's shard_xattn_t2i: blocks of 128 images x 128 captions.
        for i0 in range(0, a.images, a.shard):
            for j0 in range(0, n_caps, a.shard):
                xattn_t2i(images[i0:i0 + a.shard], captions[j0:j0 + a.shard], lengths[j0:j0 + a.shard])
        dt = time.perf_counter() - t0
    pairs = a.images * n_caps
    print(json.dumps({"seconds": dt, "pairs": pairs, "pairs_per_second": pairs / dt,
                      "extrapolated_full_seconds": dt * a.images * a.captions / pairs,
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "torch": torch.__version__, "threads": torch.get_num_threads()}))


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["train", "score"])
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
    a = p.parse_args()
    train(a) if a.mode == "train" else score(a)
