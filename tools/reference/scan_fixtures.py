#!/usr/bin/python3
"""PyTorch reference for SCAN's cross attention (xattn_score_t2i / xattn_score_i2t of kuanghuei/SCAN), written from
the method's description with batched tensor ops: per caption, the caption is repeated over the image block, the
raw similarities normalised across the query axis, softmax over the context axis with lambda_softmax, attended
vectors built explicitly, cosine similarity with the product of norms clamped at 1e-8, pooled per pair.

    /usr/bin/python3 tools/reference/scan_fixtures.py tests/fixtures/scan

Writes inputs.safetensors (images [Bi,R,d], captions [Bc,T,d], lengths) and one file per setting
{t2i,i2t}_{norm}_{agg}.safetensors with the scores [Bi,Bc], the upstream gradient used, and the gradients w.r.t.
images and captions.
"""
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(__file__))
import safetensors_io  # noqa: E402

EPS = 1e-8


def l2norm(x, dim):
    return x / (x.pow(2).sum(dim=dim, keepdim=True).sqrt() + EPS)


def func_attention(query, context, raw_norm, smooth):
    # query (n, qL, d), context (n, sL, d)
    attn = torch.bmm(context, query.transpose(1, 2))  # (n, sL, qL)
    n, sl, ql = attn.shape
    if raw_norm == "softmax":
        attn = torch.softmax(attn.reshape(n * sl, ql), dim=1).reshape(n, sl, ql)
    elif raw_norm == "l2norm":
        attn = l2norm(attn, 2)
    elif raw_norm == "clipped_l2norm":
        attn = l2norm(torch.nn.functional.leaky_relu(attn, 0.1), 2)
    elif raw_norm == "clipped":
        attn = torch.nn.functional.leaky_relu(attn, 0.1)
    attn = attn.transpose(1, 2).reshape(n * ql, sl)
    attn = torch.softmax(attn * smooth, dim=1).reshape(n, ql, sl)
    weighted = torch.bmm(context.transpose(1, 2), attn.transpose(1, 2)).transpose(1, 2)  # (n, qL, d)
    return weighted


def cosine(x1, x2, dim):
    w12 = (x1 * x2).sum(dim)
    w1 = x1.norm(2, dim)
    w2 = x2.norm(2, dim)
    return w12 / (w1 * w2).clamp(min=EPS)


def pool(row, agg, lambda_lse):
    if agg == "LogSumExp":
        return torch.log(torch.exp(row * lambda_lse).sum(dim=1, keepdim=True)) / lambda_lse
    if agg == "Max":
        return row.max(dim=1, keepdim=True)[0]
    if agg == "Sum":
        return row.sum(dim=1, keepdim=True)
    return row.mean(dim=1, keepdim=True)


def xattn(images, captions, lengths, t2i, raw_norm, lambda_softmax, agg, lambda_lse):
    n_image = images.size(0)
    sims = []
    for i in range(captions.size(0)):
        cap = captions[i, :lengths[i], :].unsqueeze(0).repeat(n_image, 1, 1)
        if t2i:
            ctx = func_attention(cap, images, raw_norm, lambda_softmax)
            row = cosine(cap, ctx, 2)
        else:
            ctx = func_attention(images, cap, raw_norm, lambda_softmax)
            row = cosine(images, ctx, 2)
        sims.append(pool(row, agg, lambda_lse))
    return torch.cat(sims, 1)


def main(out):
    os.makedirs(out, exist_ok=True)
    g = torch.Generator().manual_seed(3)
    bi, r, bc, t, d = 4, 6, 5, 7, 16
    images = l2norm(torch.randn(bi, r, d, generator=g), 2)
    captions = l2norm(torch.randn(bc, t, d, generator=g), 2)
    lengths = [7, 3, 5, 6, 4]
    for c, l in enumerate(lengths):
        captions[c, l:] = 0
    upstream = torch.randn(bi, bc, generator=g)
    safetensors_io.save(os.path.join(out, "inputs.safetensors"), {
        "images": images.numpy(), "captions": captions.numpy(), "lengths": np.array(lengths, dtype=np.int64),
        "upstream": upstream.numpy()})
    for t2i in (True, False):
        for raw_norm in ("clipped_l2norm", "l2norm", "softmax", "clipped", "no_norm"):
            for agg in ("LogSumExp", "Mean", "Max", "Sum"):
                lam = 9.0 if t2i else 4.0
                lse = 6.0 if t2i else 5.0
                im = images.clone().requires_grad_(True)
                cp = captions.clone().requires_grad_(True)
                s = xattn(im, cp, lengths, t2i, raw_norm, lam, agg, lse)
                (s * upstream).sum().backward()
                name = f"{'t2i' if t2i else 'i2t'}_{raw_norm}_{agg}"
                safetensors_io.save(os.path.join(out, name + ".safetensors"), {
                    "scores": s.detach().numpy(), "d_images": im.grad.numpy(), "d_captions": cp.grad.numpy()},
                    {"lambda_softmax": lam, "lambda_lse": lse})
    print("wrote", out)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures/scan")
