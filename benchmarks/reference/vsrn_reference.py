#!/usr/bin/python3
"""PyTorch CPU reference for the VSRN benchmarks (issue 15), with the original model of
tools/reference/vsrn_reference.py (KunpengLi1994/VSRN: EncoderImagePrecompAttn with four Rs_GCN blocks and the image
GRU, EncoderText, ContrastiveLoss with max violation, the captioning EncoderRNN/DecoderRNN/Attention and
LanguageModelCriterion, VSRN.train_emb: one Adam over the original parameter list, clipping at 2).

    vsrn_reference.py train  --batch 128 --regions 36 --img-dim 2048 --embed 2048 --steps 2 [--attention hoisted]
    vsrn_reference.py encode --images 1000 --regions 36 --img-dim 2048 --embed 2048
    vsrn_reference.py check  (original vs hoisted attention: same loss and gradients, small sizes)

train: one full training step (forward of both encoders and the captioning branch with its dropouts active,
hinge + caption NLL, backward, clip_grad_norm_, Adam step) on a fixed random batch: captions of 8..20 tokens,
caption targets padded to max_len + 1 = 61 as data.py builds them, vocabulary 8,481 (F30K). The first step is a
warm-up; prints the best and the mean of the timed steps.
encode: the image encoder in eval mode (running statistics, no grad) over N images in batches of --batch, as
evaluation.encode_data does.

--attention original (default) computes the decoder attention as the original does: every one of the max_len - 1
steps applies linear1 to cat(encoder_outputs, hidden) for all 36 regions. --attention hoisted computes the same
numbers with the encoder half of linear1 applied once per batch (linear1([e; h]) = W_e e + W_h h + b): the same math,
about 20% fewer FLOPs at embed 2048 (check mode verifies they agree).

FLOPs: counted analytically (2 per multiply-add) for every matrix product: Linear/Conv1d(k=1) layers, the GCN
relation products, the GRU gate products (input and hidden), the attention, the output layer; backward = 2x forward
except the first image Linear (no gradient for the input features: 1x) and the similarity/loss products (tiny).
Element-wise work (activations, softmaxes, BatchNorm, normalisation, Adam) is not counted.
Prints one JSON line with seconds (wall; the best of the timed steps), the process CPU seconds (= wall at one
thread on an idle machine; a check when the machine is shared), GFLOP, GFLOP/s, the peak RSS in MB, threads and the
torch version.
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
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools", "reference"))
import vsrn_reference as V  # noqa: E402


class HoistedAttention(nn.Module):
    """The original Attention's math with the encoder half of linear1 computed once per encoder_outputs tensor
    (the decoder passes the same tensor object at every step). Same parameters (linear1, linear2)."""

    def __init__(self, original):
        super().__init__()
        self.dim = original.dim
        self.linear1 = original.linear1
        self.linear2 = original.linear2
        self._key, self._proj = None, None

    def forward(self, hidden_state, encoder_outputs):
        if self._key is not encoder_outputs:
            w = self.linear1.weight
            self._key = encoder_outputs
            self._proj = F.linear(encoder_outputs, w[:, :self.dim], self.linear1.bias)  # (B, N, dim)
        h = F.linear(hidden_state, self.linear1.weight[:, self.dim:])  # (B, dim)
        o = self.linear2(torch.tanh(self._proj + h.unsqueeze(1)))  # (B, N, 1)
        alpha = F.softmax(o.squeeze(2), dim=1)
        return torch.bmm(alpha.unsqueeze(1), encoder_outputs).squeeze(1)


def options(a, vocab):
    return V.default_opt(data_name=a.data_name, img_dim=a.img_dim, embed_size=a.embed, dim_vid=a.embed,
                         word_dim=a.word_dim, vocab_size=vocab, max_violation=True, max_len=a.max_len,
                         dim_hidden=a.dim_hidden, dim_word=a.dim_word)


def make_model(a, vocab, attention):
    model = V.VSRN(options(a, vocab))
    if attention == "hoisted":
        model.decoder.attention = HoistedAttention(model.decoder.attention)
    return model


def make_batch(a, g, vocab):
    lengths = sorted(torch.randint(a.min_len, a.max_len_text + 1, (a.batch,), generator=g).tolist(), reverse=True)
    tokens = torch.zeros(a.batch, lengths[0], dtype=torch.long)
    for i, n in enumerate(lengths):
        tokens[i, 0], tokens[i, n - 1] = 1, 2
        tokens[i, 1:n - 1] = torch.randint(4, vocab, (n - 2,), generator=g)
    pairs = [V.caption_target(tokens[i, :lengths[i]].tolist(), a.max_len) for i in range(a.batch)]
    labels = torch.from_numpy(np.stack([p[0] for p in pairs]))
    masks = torch.from_numpy(np.stack([p[1] for p in pairs]))
    images = torch.rand(a.batch, a.regions, a.img_dim, generator=g)
    return images, tokens, lengths, labels, masks


def gemm(m, n, k):
    return 2.0 * m * n * k


def train_flops(a, lengths, vocab, attention):
    b, n, d, e, h, w = a.batch, a.regions, a.img_dim, a.embed, a.dim_hidden, a.dim_word
    steps = a.max_len - 1
    rows = b * n
    fc = gemm(rows, e, d)
    gcn = 4 * (4 * gemm(rows, e, e) + 2 * b * gemm(n, n, e))
    img_rnn = gemm(rows, 3 * e, e) * 2
    txt_rnn = gemm(sum(lengths), 3 * e, a.word_dim) + gemm(sum(lengths), 3 * e, e)
    enc = gemm(rows, h, e) + gemm(rows, 3 * h, h) * 2
    if attention == "original":
        att = steps * (gemm(rows, h, 2 * h) + gemm(rows, 1, h) + b * gemm(1, h, n))
    else:
        att = gemm(rows, h, h) + steps * (gemm(b, h, h) + gemm(rows, 1, h) + b * gemm(1, h, n))
    dec = steps * (gemm(b, 3 * h, w + h) + gemm(b, 3 * h, h) + gemm(b, vocab, h))
    forward = fc + gcn + img_rnn + txt_rnn + enc + att + dec
    return forward + 2 * (forward - fc) + fc  # backward: 2x, the first Linear only its weight gradient


def encode_flops(a, images):
    rows = images * a.regions
    e = a.embed
    return gemm(rows, e, a.img_dim) + 4 * (4 * gemm(rows, e, e) + 2 * images * gemm(a.regions, a.regions, e)) \
        + 2 * gemm(rows, 3 * e, e)


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def train(a):
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(1)
    model = make_model(a, a.vocab, a.attention)
    images, tokens, lengths, labels, masks = make_batch(a, g, a.vocab)
    times, cpu = [], []
    for step in range(a.steps + 1):
        t0, c0 = time.perf_counter(), time.process_time()
        model.train_start()
        model.train_emb(images, tokens, lengths, None, labels, masks)
        if step:
            times.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
    flops = train_flops(a, lengths, a.vocab, a.attention)
    best = min(times)
    print(json.dumps({"mode": "train", "attention": a.attention, "seconds_per_step": best,
                      "mean_seconds": sum(times) / len(times), "cpu_seconds_per_step": min(cpu), "steps": a.steps, "gflop": flops / 1e9,
                      "gflops_per_second": flops / 1e9 / best,
                      "gflop_original": train_flops(a, lengths, a.vocab, "original") / 1e9,
                      "gflop_hoisted": train_flops(a, lengths, a.vocab, "hoisted") / 1e9,
                      "batch": a.batch, "regions": a.regions, "img_dim": a.img_dim, "embed": a.embed,
                      "vocab": a.vocab, "max_len": a.max_len, "caption_tokens": sum(lengths),
                      "peak_rss_mb": peak_rss_mb(), "torch": torch.__version__, "threads": torch.get_num_threads()}))


class FoldedGcn(nn.Module):
    """An Rs_GCN block in eval mode with its weights folded, as CrossModal's FoldedRsGcn: with theta = Wt v + bt,
    phi = Wp v + bp, g = Wg v + bg and the BatchNorm after W an affine map (scale s), N R = U v^T + (v p + c) 1^T with
    U = v (Wt^T Wp) + (Wp^T bt), and BN(W(R g)) = R P + (R 1) h^T + k with P = v (diag(s) Ww Wg)^T: one GEMM of the
    regions with the stacked [2D, D] matrix instead of four 1x1 convolutions. (B, D, N) -> (B, D, N)."""

    def __init__(self, block):
        super().__init__()
        wg, wt, wp, ww = (m.weight[:, :, 0] for m in (block.g, block.theta, block.phi, block.W[0]))
        bg, bt, bp, bw = block.g.bias, block.theta.bias, block.phi.bias, block.W[0].bias
        bn = block.W[1]
        s = bn.weight / torch.sqrt(bn.running_var + bn.eps)
        self.d = wg.shape[1]
        self.stacked = torch.cat([wp.t() @ wt, s[:, None] * (ww @ wg)], 0)
        self.bias = torch.cat([wp.t() @ bt, torch.zeros(self.d)])
        self.p, self.c = wt.t() @ bp, bt @ bp
        self.h, self.k = s * (ww @ bg), s * (bw - bn.running_mean) + bn.bias

    def forward(self, v):
        x = v.permute(0, 2, 1)
        up = F.linear(x, self.stacked, self.bias)
        u, p = up[..., :self.d], up[..., self.d:]
        r = (torch.matmul(u, x.transpose(1, 2)) + (x @ self.p + self.c)[..., None]) / x.size(1)
        y = torch.matmul(r, p) + r.sum(2, keepdim=True) * self.h + self.k + x
        return y.permute(0, 2, 1)


def fold(enc):
    for k in range(1, 5):
        setattr(enc, "Rs_GCN_%d" % k, FoldedGcn(getattr(enc, "Rs_GCN_%d" % k)))


def encode(a):
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(2)
    enc = V.EncoderImagePrecompAttn(a.img_dim, a.embed, a.data_name)
    enc.eval()
    images = torch.rand(a.images, a.regions, a.img_dim, generator=g)
    out = torch.empty(a.images, a.embed)
    with torch.no_grad():
        if a.gcn == "folded":
            # Non-trivial BatchNorms (a fresh block's weight is 0), checked against the original blocks once.
            for k in range(1, 5):
                bn = getattr(enc, "Rs_GCN_%d" % k).W[1]
                for t, lo, hi in ((bn.weight, 0.5, 1.5), (bn.bias, -0.1, 0.1), (bn.running_mean, -0.1, 0.1), (bn.running_var, 0.5, 1.5)):
                    t.copy_(lo + (hi - lo) * torch.rand(t.shape, generator=g))
            probe = images[:4]
            expected = enc(probe)[0]
            fold(enc)
            folded_error = float((enc(probe)[0] - expected).abs().max())
        enc(images[:min(a.batch, a.images)])  # warm-up
        t0, c0 = time.perf_counter(), time.process_time()
        for i in range(0, a.images, a.batch):
            out[i:i + a.batch] = enc(images[i:i + a.batch])[0]
        dt, cpu = time.perf_counter() - t0, time.process_time() - c0
    flops = encode_flops(a, a.images)
    extra = {"folded_max_abs_error": folded_error} if a.gcn == "folded" else {}
    print(json.dumps({**extra, "mode": "encode", "gcn": a.gcn, "seconds": dt, "cpu_seconds": cpu, "images_per_second": a.images / dt, "images": a.images,
                      "gflop": flops / 1e9, "gflops_per_second": flops / 1e9 / dt, "batch": a.batch,
                      "regions": a.regions, "img_dim": a.img_dim, "embed": a.embed, "peak_rss_mb": peak_rss_mb(),
                      "torch": torch.__version__, "threads": torch.get_num_threads()}))


def check(a):
    """Original vs hoisted attention at small sizes (dropout off): loss and every gradient."""
    a.batch, a.regions, a.img_dim, a.embed, a.dim_hidden, a.dim_word, a.word_dim = 6, 5, 16, 12, 8, 7, 10
    a.max_len, a.min_len, a.max_len_text = 9, 3, 11
    vocab = 20
    g = torch.Generator().manual_seed(3)
    batch = make_batch(a, g, vocab)
    results = []
    for attention in ("original", "hoisted"):
        torch.manual_seed(0)
        model = make_model(a, vocab, attention)
        model.encoder.input_dropout.p = model.decoder.input_dropout.p = 0.0
        model.train_start()
        images, tokens, lengths, labels, masks = batch
        img_emb, cap_emb, gcn = model.forward_emb(images, tokens, lengths)
        loss = model.forward_loss(img_emb, cap_emb) + model.calcualte_caption_loss(gcn, labels, masks)
        loss.backward()
        results.append([loss.detach()] + [p.grad.clone() for p in V.full_state_dict_params(model).values()])
    worst = max(((x - y).abs().max() / y.abs().max().clamp(min=1e-12)).item() for x, y in zip(*results))
    print(json.dumps({"mode": "check", "max_relative_difference": worst, "ok": worst < 1e-5}))
    return 0 if worst < 1e-5 else 1


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["train", "encode", "check"])
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--regions", type=int, default=36)
    p.add_argument("--img-dim", type=int, default=2048)
    p.add_argument("--embed", type=int, default=2048)
    p.add_argument("--word-dim", type=int, default=300)
    p.add_argument("--vocab", type=int, default=8481)
    p.add_argument("--data-name", default="f30k_precomp")
    p.add_argument("--max-len", type=int, default=60, help="caption targets; the decoder runs max_len - 1 steps")
    p.add_argument("--dim-hidden", type=int, default=512)
    p.add_argument("--dim-word", type=int, default=300)
    p.add_argument("--min-len", type=int, default=8, help="retrieval caption length incl. <start>/<end>")
    p.add_argument("--max-len-text", type=int, default=20)
    p.add_argument("--steps", type=int, default=2)
    p.add_argument("--images", type=int, default=1000)
    p.add_argument("--attention", choices=["original", "hoisted"], default="original")
    p.add_argument("--gcn", choices=["original", "folded"], default="original",
                   help="encode: the original Rs_GCN blocks, or each folded into one GEMM as CrossModal evaluates them (folded once, outside the timing)")
    a = p.parse_args()
    if a.mode == "train":
        train(a)
    elif a.mode == "encode":
        encode(a)
    else:
        sys.exit(check(a))


if __name__ == "__main__":
    main()
