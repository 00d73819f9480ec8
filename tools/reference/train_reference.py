#!/usr/bin/python3
"""PyTorch reference for the README's accuracy tables: VSE++ and SCAN trained with the original recipe on a
precomp folder, the best epoch by validation rsum evaluated on the test split.

Written from the method descriptions (methods-reference.md sections 1-4): captions lower-cased and tokenised like
NLTK's word_tokenize (untrained Punkt sentence split + NLTK word tokenizer, as the golden files), ids
[<start>] + words + [<end>]; batches of captions with their images, sorted by length; VSE++ = FC + l2norm image
encoder (regions averaged), GRU last state + l2norm; SCAN = per-region FC + l2norm (eps 1e-8), Bi-GRU with averaged
directions + l2norm, stacked cross attention; hinge loss (sum or max of hinges, summed over the batch), Adam,
lr x0.1 every lr_update epochs, clip_grad_norm_ 2.0.

    env -u OPENBLAS_CORETYPE /usr/bin/python3 tools/reference/train_reference.py --model vsepp \
        --data ../shared/data/f8k-1k-precomp-global --vocab ../shared/data/vocab/f8k_precomp_vocab.json \
        --seed 1 --out result.json

VSRN (`--model vsrn`) is the original code itself (tools/reference/vsrn_reference.py: KunpengLi1994/VSRN's modules and
train_emb semantics): GCN image encoder + GRU text encoder + the captioning branch, loss = hinge + caption NLL
(x --caption-weight, 1 in the original), one Adam over the original parameter list (the captioning parameters twice:
clipped and stepped twice, as there), validation as train.py does it: R1+R5 of both directions on dev every --val-step
iterations and at every epoch end, the best model on that sum. --data-name decides the l2norm before the GCN and the
bn layer as in the original (f8k_precomp, the default here, behaves like coco_precomp). The original's embed size is
2048; --embed-size defaults to 1024 (the issue's recipe for 512-d features). Timing: --max-batches N stops each epoch
after N batches (the log prints seconds per batch), e.g.

    OMP_NUM_THREADS=1 env -u OPENBLAS_CORETYPE /usr/bin/python3 tools/reference/train_reference.py --model vsrn \
        --data ../shared/data/f8k-1k-precomp --vocab ../shared/data/vocab/f8k_precomp_vocab.json --seed 1 \
        --embed-size 1024 --out vsrn_s1.json

NAAF (`--model naaf`, CrossmodalGroup/NAAF via naaf_reference.py): SCAN's image encoder and Bi-GRU text encoder (the
`basic` text encoder), the negative-aware t2i scores with the threshold learned inside every training forward
(`--lambda-softmax`, default 20 for NAAF, `--alpha` 2.0), the hinge loss always with max violation, and the NAAF recipe
as defaults (20 epochs, lr 5e-4 decayed x0.1 at epoch 10, batch 128); the scores come from
naaf_reference.xattn_score_batched (`--xattn batched`, the default for NAAF) or the original loop (`--xattn loop`);
evaluation is the original test scorer in float64 with the learned thres_safe. The threshold state (thres,
thres_safe, mean/stnd pos/neg) is part of the resumable state, and every epoch logs it:

    env -u OPENBLAS_CORETYPE /usr/bin/python3 tools/reference/train_reference.py --model naaf \
        --data ../shared/data/f8k-1k-precomp --vocab ../shared/data/vocab/f8k_precomp_vocab.json --seed 1 --out naaf.json

SCAN's scores come from the original per-caption attention loop (`--xattn loop`, the default) or from the same math for
all pairs at once (`--xattn batched`, about 3x faster per step, used for the README runs); `--check-xattn` prints the
largest relative difference of the two in scores and gradients, both directions, every aggregation (about 1e-6).

Prints one log line per epoch and writes the test metrics (and optionally the test similarity matrix) as JSON/npy.
After every epoch the full training state goes to OUT.state.pt (atomically); a rerun with the same arguments
continues from it, so the long SCAN runs can be spread over several sessions.
"""
import argparse
import json
import os
import random
import resource
import time

import sys

import numpy as np
import torch
import torch.nn as nn
from nltk.tokenize import NLTKWordTokenizer
from nltk.tokenize.punkt import PunktSentenceTokenizer
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vsrn_reference as V  # noqa: E402
import naaf_reference  # noqa: E402

_PUNKT = PunktSentenceTokenizer()
_WORDS = NLTKWordTokenizer()


def tokenize(caption):
    text = caption.strip().lower()
    return [t for s in _PUNKT.tokenize(text) for t in _WORDS.tokenize(s)]


class Split:
    def __init__(self, folder, split, word2idx, max_captions=None):
        self.ims = np.load(os.path.join(folder, f"{split}_ims.npy"), mmap_mode="r")
        with open(os.path.join(folder, f"{split}_caps.txt"), encoding="utf-8") as f:
            caps = [l for l in f.read().split("\n") if l.strip()]
        if max_captions:
            caps = caps[:max_captions]
        self.caps = [[1] + [word2idx.get(w, 3) for w in tokenize(c)] + [2] for c in caps]
        self.im_div = 5 if self.ims.shape[0] != len(self.caps) else 1
        self.n_images = len(self.caps) // 5

    def batch(self, idx):
        idx = sorted(idx, key=lambda k: len(self.caps[k]), reverse=True)
        lengths = [len(self.caps[k]) for k in idx]
        tokens = torch.zeros(len(idx), lengths[0], dtype=torch.long)
        for i, k in enumerate(idx):
            tokens[i, :lengths[i]] = torch.tensor(self.caps[k])
        images = torch.from_numpy(np.stack([np.asarray(self.ims[k // self.im_div]) for k in idx])).float()
        return images, tokens, lengths


def l2norm(x, dim, eps):
    return x / (x.pow(2).sum(dim=dim, keepdim=True).sqrt() + eps)


class ImageEncoder(nn.Module):
    def __init__(self, img_dim, embed, eps, pool):
        super().__init__()
        self.fc = nn.Linear(img_dim, embed)
        r = np.sqrt(6.) / np.sqrt(img_dim + embed)
        self.fc.weight.data.uniform_(-r, r)
        self.fc.bias.data.fill_(0)
        self.eps, self.pool = eps, pool

    def forward(self, x):
        y = self.fc(x)
        if self.pool and y.dim() == 3:
            y = y.mean(1)
        return l2norm(y, -1, self.eps)


class TextEncoder(nn.Module):
    def __init__(self, vocab, word_dim, embed, bi, per_word, eps):
        super().__init__()
        self.embed = nn.Embedding(vocab, word_dim)
        self.embed.weight.data.uniform_(-0.1, 0.1)
        self.rnn = nn.GRU(word_dim, embed, 1, batch_first=True, bidirectional=bi)
        self.bi, self.per_word, self.eps = bi, per_word, eps

    def forward(self, tokens, lengths):
        out, h = self.rnn(pack_padded_sequence(self.embed(tokens), lengths, batch_first=True))
        if not self.per_word:
            return l2norm(h[-1] if not self.bi else (h[-1] + h[-2]) / 2, -1, self.eps)
        out, _ = pad_packed_sequence(out, batch_first=True)
        if self.bi:
            half = out.size(2) // 2
            out = (out[:, :, :half] + out[:, :, half:]) / 2
        return l2norm(out, -1, self.eps)


def func_attention(query, context, lam):
    attn = torch.bmm(context, query.transpose(1, 2))
    attn = l2norm(nn.functional.leaky_relu(attn, 0.1), 2, 1e-8)
    n, sl, ql = attn.shape
    attn = torch.softmax(attn.transpose(1, 2).reshape(n * ql, sl) * lam, dim=1).reshape(n, ql, sl)
    return torch.bmm(context.transpose(1, 2), attn.transpose(1, 2)).transpose(1, 2)


def cosine(x1, x2, dim):
    return (x1 * x2).sum(dim) / (x1.norm(2, dim) * x2.norm(2, dim)).clamp(min=1e-8)


def xattn(images, captions, lengths, a):
    sims = []
    for i in range(captions.size(0)):
        cap = captions[i, :lengths[i], :].unsqueeze(0).repeat(images.size(0), 1, 1)
        if a.cross_attn == "t2i":
            row = cosine(cap, func_attention(cap, images, a.lambda_softmax), 2)
        else:
            row = cosine(images, func_attention(images, cap, a.lambda_softmax), 2)
        if a.agg_func == "LogSumExp":
            row = torch.log(torch.exp(row * a.lambda_lse).sum(1, keepdim=True)) / a.lambda_lse
        elif a.agg_func == "Max":
            row = row.max(1, keepdim=True)[0]
        elif a.agg_func == "Sum":
            row = row.sum(1, keepdim=True)
        else:
            row = row.mean(1, keepdim=True)
        sims.append(row)
    return torch.cat(sims, 1)


def xattn_batched(images, captions, lengths, a):
    """The same scores as xattn for all image-caption pairs at once, without the per-pair attended vectors: the
    cosine's numerator is sum_k p_k s_k (s = the raw attention logits, p = the attention weights) and the attended
    vector's squared norm is p^T G p with G the Gram matrix of the attended-over features. Padded words are kept out
    of every norm, softmax and aggregation. `--check-xattn` compares scores and gradients with xattn."""
    ni, nr, d = images.shape
    nc, nw, _ = captions.shape
    mask = torch.arange(nw).unsqueeze(0) < torch.tensor(lengths).unsqueeze(1)  # [c, w]
    s = (images.reshape(ni * nr, d) @ captions.reshape(nc * nw, d).t()).view(ni, nr, nc, nw)
    if a.cross_attn == "t2i":  # words attend to regions: l2norm over words, softmax over regions
        s = s.permute(0, 2, 3, 1).contiguous()  # [i, c, w, r]
        att = l2norm(nn.functional.leaky_relu(s, 0.1), 2, 1e-8)
        p = torch.softmax(att * a.lambda_softmax, dim=3)
        gram = images @ images.transpose(1, 2)  # [i, r, r]
        sq = (torch.bmm(p.view(ni, nc * nw, nr), gram).view(ni, nc, nw, nr) * p).sum(3)
        cos = (p * s).sum(3) / (captions.norm(2, 2).unsqueeze(0) * sq.clamp(min=0).sqrt()).clamp(min=1e-8)  # [i, c, w]
        valid = mask.unsqueeze(0).expand_as(cos)
    else:  # regions attend to the caption's words: l2norm over regions, softmax over words
        s = s.permute(2, 0, 1, 3).contiguous()  # [c, i, r, w]
        pad = ~mask[:, None, None, :]
        att = l2norm(nn.functional.leaky_relu(s, 0.1).masked_fill(pad, 1.0), 2, 1e-8)  # 1: no 0/0 in sqrt's gradient
        p = torch.softmax((att * a.lambda_softmax).masked_fill(pad, float("-inf")), dim=3)
        gram = captions @ captions.transpose(1, 2)  # [c, w, w]
        sq = (torch.bmm(p.view(nc, ni * nr, nw), gram).view(nc, ni, nr, nw) * p).sum(3)
        cos = (p * s).sum(3) / (images.norm(2, 2).unsqueeze(0) * sq.clamp(min=0).sqrt()).clamp(min=1e-8)  # [c, i, r]
        valid = torch.ones_like(cos, dtype=torch.bool)
    zero = torch.zeros_like(cos)
    if a.agg_func == "LogSumExp":
        out = torch.log(torch.where(valid, torch.exp(cos * a.lambda_lse), zero).sum(2)) / a.lambda_lse
    elif a.agg_func == "Max":
        out = cos.masked_fill(~valid, float("-inf")).max(2)[0]
    else:
        total = torch.where(valid, cos, zero).sum(2)
        out = total if a.agg_func == "Sum" else total / valid.sum(2)
    return out if a.cross_attn == "t2i" else out.t()


def check_xattn(train, word2idx, img_dim, a):
    """Scores and gradients of xattn_batched against the original per-caption loop on one training batch."""
    images, tokens, lengths = train.batch(list(range(0, 5 * 48, 5)))
    worst = 0.0
    for direction in ("t2i", "i2t"):
        for agg in ("LogSumExp", "Mean", "Max", "Sum"):
            a.cross_attn, a.agg_func = direction, agg
            results = []
            for fn in (xattn, xattn_batched):
                torch.manual_seed(0)
                img = ImageEncoder(img_dim, a.embed_size, 1e-8, pool=False)
                txt = TextEncoder(len(word2idx), a.word_dim, a.embed_size, bi=True, per_word=True, eps=1e-8)
                sc = fn(img(images), txt(tokens, lengths), lengths, a)
                hinge(sc, a.margin, True).backward()
                results.append([sc.detach()] + [q.grad for q in list(img.parameters()) + list(txt.parameters())])
            rel = max(((x - y).abs().max() / y.abs().max().clamp(min=1e-12)).item() for x, y in zip(*results))
            if not all(torch.isfinite(x).all() for x in results[1]):
                rel = float("inf")
            worst = max(worst, rel)
            print(f"{direction} {agg}: max relative difference of scores and gradients {rel:.2e}", flush=True)
    return worst


def hinge(scores, margin, max_violation):
    d = scores.diag().view(-1, 1)
    cost_s = (margin + scores - d.expand_as(scores)).clamp(min=0)
    cost_im = (margin + scores - d.t().expand_as(scores)).clamp(min=0)
    mask = torch.eye(scores.size(0)) > .5
    cost_s, cost_im = cost_s.masked_fill(mask, 0), cost_im.masked_fill(mask, 0)
    if max_violation:
        return cost_s.max(1)[0].sum() + cost_im.max(0)[0].sum()
    return cost_s.sum() + cost_im.sum()


def caption_targets(tokens, lengths, max_len):
    """data.py's caption_label / caption_mask for a sorted batch (the same ids as the retrieval caption)."""
    pairs = [V.caption_target(tokens[i, :lengths[i]].tolist(), max_len) for i in range(len(lengths))]
    return (torch.from_numpy(np.stack([g for g, _ in pairs])), torch.from_numpy(np.stack([m for _, m in pairs])))


def vsrn_step(model, images, tokens, lengths, a):
    """VSRN.train_emb with the caption loss weighted by --caption-weight (1 = the original)."""
    labels, masks = caption_targets(tokens, lengths, a.max_len)
    model.Eiters += 1
    model.train_start()
    img_emb, cap_emb, gcn = model.forward_emb(images, tokens, lengths)
    caption_loss = model.calcualte_caption_loss(gcn, labels, masks)
    retrieval_loss = model.forward_loss(img_emb, cap_emb)
    loss = retrieval_loss + a.caption_weight * caption_loss
    model.optimizer.zero_grad()
    loss.backward()
    if model.grad_clip > 0:
        nn.utils.clip_grad_norm_(model.params, model.grad_clip)
    model.optimizer.step()
    return retrieval_loss.item(), caption_loss.item()


def vsrn_score(m):
    """train.py validate(): r1 + r5 + r1i + r5i."""
    return m["i2t"]["r1"] + m["i2t"]["r5"] + m["t2i"]["r1"] + m["t2i"]["r5"]


def scores_of(img, txt, images, tokens, lengths, a, naaf=None):
    im, cap = img(images), txt(tokens, lengths)
    if a.model == "naaf":
        return NAAF_XATTN[a.xattn](im, cap, lengths, naaf)
    return im @ cap.t() if a.model == "vsepp" else XATTN[a.xattn](im, cap, lengths, a)


def similarity(img, txt, split, a, naaf=None):
    img.eval(); txt.eval()
    with torch.no_grad():
        n = split.n_images
        ims = torch.from_numpy(np.asarray(split.ims[:n * 5 // split.im_div:5 // split.im_div])).float()
        im = img(ims)
        if isinstance(im, tuple):  # VSRN: (embedding, GCN region features)
            im = im[0]
        sims = torch.zeros(n, 5 * n, dtype=torch.float64 if a.model == "naaf" else torch.float32)
        for j0 in range(0, 5 * n, 128):
            idx = list(range(j0, min(5 * n, j0 + 128)))
            order = sorted(idx, key=lambda k: len(split.caps[k]), reverse=True)
            _, tokens, lengths = split.batch(order)
            cap = txt(tokens, lengths)
            if a.model == "naaf":  # evaluation.encode_data keeps float64 embeddings; shard_xattn scores them so
                block = torch.cat([naaf_reference.xattn_score_test_batched(im[i0:i0 + 128].double(), cap.double(), lengths, naaf)
                                   for i0 in range(0, n, 128)], 0)
            else:
                block = im @ cap.t() if a.model in ("vsepp", "vsrn") else torch.cat(
                    [XATTN[a.xattn](im[i0:i0 + 128], cap, lengths, a) for i0 in range(0, n, 128)], 0)
            sims[:, order] = block.to(sims.dtype)
    img.train(); txt.train()
    return sims.numpy()


XATTN = {"loop": xattn, "batched": xattn_batched}
NAAF_XATTN = {"loop": naaf_reference.xattn_score, "batched": naaf_reference.xattn_score_batched}
DEFAULTS = {  # the papers' recipes: epochs, lr decay epoch, learning rate, lambda_softmax
    "vsepp": (30, 15, 2e-4, 9.0), "scan": (30, 15, 2e-4, 9.0), "vsrn": (30, 15, 2e-4, 9.0), "naaf": (20, 10, 5e-4, 20.0)}


def metrics(sims):
    n = sims.shape[0]
    r_i2t = np.zeros(n)
    for i in range(n):
        order = np.argsort(sims[i])[::-1]
        r_i2t[i] = min(np.where(order == c)[0][0] for c in range(5 * i, 5 * i + 5))
    r_t2i = np.zeros(5 * n)
    for c in range(5 * n):
        order = np.argsort(sims[:, c])[::-1]
        r_t2i[c] = np.where(order == c // 5)[0][0]

    def d(r):
        return {"r1": 100.0 * np.mean(r < 1), "r5": 100.0 * np.mean(r < 5), "r10": 100.0 * np.mean(r < 10),
                "medr": float(np.floor(np.median(r)) + 1), "meanr": float(r.mean() + 1)}
    i2t, t2i = d(r_i2t), d(r_t2i)
    return {"i2t": i2t, "t2i": t2i, "rsum": sum(i2t[k] + t2i[k] for k in ("r1", "r5", "r10"))}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", choices=["vsepp", "scan", "vsrn", "naaf"], default="vsepp")
    p.add_argument("--data", required=True)
    p.add_argument("--vocab", required=True)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--num-epochs", type=int, default=None, help="default 30 (VSE++, SCAN, VSRN), 20 (NAAF)")
    p.add_argument("--lr-update", type=int, default=None, help="default 15 (VSE++, SCAN, VSRN), 10 (NAAF)")
    p.add_argument("--learning-rate", type=float, default=None, help="default 2e-4 (VSE++, SCAN, VSRN), 5e-4 (NAAF)")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--margin", type=float, default=0.2)
    p.add_argument("--no-max-violation", action="store_true")
    p.add_argument("--grad-clip", type=float, default=2.0)
    p.add_argument("--embed-size", type=int, default=1024)
    p.add_argument("--word-dim", type=int, default=300)
    p.add_argument("--cross-attn", default="t2i")
    p.add_argument("--agg-func", default="LogSumExp")
    p.add_argument("--lambda-lse", type=float, default=6.0)
    p.add_argument("--lambda-softmax", type=float, default=None, help="default 9 (SCAN), 20 (NAAF)")
    p.add_argument("--alpha", type=float, default=2.0, help="NAAF: penalty of the threshold's closed form")
    p.add_argument("--xattn", choices=["loop", "batched"], default=None,
                   help="loop: the original per-caption code; batched: the same scores for all pairs at once (faster); "
                        "default loop for SCAN, batched for NAAF")
    p.add_argument("--check-xattn", action="store_true", help="compare batched with loop on one batch and exit")
    p.add_argument("--data-name", default="f8k_precomp",
                   help="VSRN: f30k_precomp = no l2norm before the GCN and a bn layer; anything else as coco_precomp")
    p.add_argument("--max-len", type=int, default=60, help="VSRN: caption targets (decoder steps = max_len - 1)")
    p.add_argument("--dim-hidden", type=int, default=512, help="VSRN: captioning GRU size")
    p.add_argument("--dim-word", type=int, default=300, help="VSRN: captioning word embedding size")
    p.add_argument("--input-dropout-p", type=float, default=0.2, help="VSRN: the two captioning dropouts")
    p.add_argument("--caption-weight", type=float, default=1.0, help="VSRN: loss = hinge + w * caption NLL")
    p.add_argument("--val-step", type=int, default=500, help="VSRN: validate every N iterations (and at epoch ends)")
    p.add_argument("--max-batches", type=int, default=0, help="stop every epoch after N batches (timing)")
    p.add_argument("--out")
    p.add_argument("--sims-out")
    a = p.parse_args()
    defaults = dict(zip(("num_epochs", "lr_update", "learning_rate", "lambda_softmax"), DEFAULTS[a.model]))
    for k, v in defaults.items():
        if getattr(a, k) is None:
            setattr(a, k, v)
    if a.xattn is None:
        a.xattn = "batched" if a.model == "naaf" else "loop"
    if a.model == "naaf" and a.no_max_violation:
        p.error("NAAF's loss always takes the hardest negative (--no-max-violation is not an option of NAAF)")
    torch.manual_seed(a.seed); np.random.seed(a.seed); random.seed(a.seed)
    with open(a.vocab, encoding="utf-8") as f:
        word2idx = json.load(f)["word2idx"]
    train, dev, test = Split(a.data, "train", word2idx), Split(a.data, "dev", word2idx, 5000), Split(a.data, "test", word2idx)
    scan = a.model in ("scan", "naaf")
    img_dim = train.ims.shape[-1]
    if a.check_xattn:
        raise SystemExit(0 if check_xattn(train, word2idx, img_dim, a) < 1e-4 else 1)
    if not a.out:
        p.error("--out is required")
    if a.model == "vsrn":
        return train_vsrn(a, train, dev, test, word2idx, img_dim)
    img = ImageEncoder(img_dim, a.embed_size, 1e-8 if scan else 0.0, pool=not scan)
    txt = TextEncoder(len(word2idx), a.word_dim, a.embed_size, bi=scan, per_word=scan, eps=1e-8 if scan else 0.0)
    params = list(img.parameters()) + list(txt.parameters())
    opt = torch.optim.Adam(params, lr=a.learning_rate)
    g = torch.Generator().manual_seed(a.seed)
    # NAAF's learned threshold and the statistics behind it (opt.thres, ... in the original), argparse's int 0 at start.
    naaf = argparse.Namespace(thres=0, thres_safe=0, mean_pos=0, stnd_pos=0, mean_neg=0, stnd_neg=0,
                              lambda_softmax=a.lambda_softmax, alpha=a.alpha) if a.model == "naaf" else None
    best, best_state, best_naaf, log, start = -1, None, None, [], 0
    state_path = a.out + ".state.pt"
    if os.path.exists(state_path):
        st = torch.load(state_path)
        img.load_state_dict(st["img"]); txt.load_state_dict(st["txt"]); opt.load_state_dict(st["opt"])
        g.set_state(st["generator"])
        best, best_state, log, start = st["best"], st["best_state"], st["log"], st["epoch"]
        if naaf is not None:
            for k, v in st["naaf"].items():
                setattr(naaf, k, v)
            best_naaf = st["best_naaf"]
        print(f"resuming after epoch {start} from {state_path}", flush=True)
    for epoch in range(start, a.num_epochs):
        for group in opt.param_groups:
            group["lr"] = a.learning_rate * (0.1 ** (epoch // a.lr_update))
        t0, c0, total, updates, updated_batches = time.time(), time.process_time(), 0.0, 0, 0
        perm = torch.randperm(len(train.caps), generator=g).tolist()
        for b0 in range(0, len(perm), a.batch_size):
            images, tokens, lengths = train.batch(perm[b0:b0 + a.batch_size])
            if naaf is not None:
                trace = {}
                loss = hinge(NAAF_XATTN[a.xattn](img(images), txt(tokens, lengths), lengths, naaf, trace=trace), a.margin, True)
                updates += len(trace["updates"])
                updated_batches += bool(trace["updates"])
            else:
                loss = hinge(scores_of(img, txt, images, tokens, lengths, a), a.margin, not a.no_max_violation)
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(params, a.grad_clip)
            opt.step()
            total += loss.item()
        train_seconds, train_cpu = time.time() - t0, time.process_time() - c0  # CPU time: a busy machine's honest measure
        m = metrics(similarity(img, txt, dev, a, naaf))
        if m["rsum"] > best:
            best = m["rsum"]
            best_state = ([v.clone() for v in img.state_dict().values()], [v.clone() for v in txt.state_dict().values()])
            best_naaf = dict(vars(naaf)) if naaf is not None else None
        entry = {"epoch": epoch + 1, "loss": total, "dev_rsum": m["rsum"], "train_seconds": train_seconds,
                 "train_cpu_seconds": train_cpu, "seconds": time.time() - t0}
        line = (f"epoch {epoch + 1} loss {total:.2f} dev rsum {m['rsum']:.1f} ({train_seconds:.1f}s training, "
                f"{train_cpu:.1f}s CPU, {time.time() - t0:.1f}s)")
        if naaf is not None:
            entry.update({k: getattr(naaf, k) for k in naaf_reference.STATE_KEYS})
            entry.update({"threshold_updates": updates, "batches_with_updates": updated_batches})
            line += (f" thres {naaf.thres:.4f} thres_safe {naaf.thres_safe:.4f} mean_pos {naaf.mean_pos:.4f} "
                     f"stnd_pos {naaf.stnd_pos:.4f} mean_neg {naaf.mean_neg:.4f} stnd_neg {naaf.stnd_neg:.4f} "
                     f"updates {updates} in {updated_batches} batches")
        print(line, flush=True)
        log.append(entry)
        torch.save({"img": img.state_dict(), "txt": txt.state_dict(), "opt": opt.state_dict(), "generator": g.get_state(),
                    "best": best, "best_state": best_state, "log": log, "epoch": epoch + 1,
                    "naaf": dict(vars(naaf)) if naaf is not None else None, "best_naaf": best_naaf}, state_path + ".tmp")
        os.replace(state_path + ".tmp", state_path)
    for module, state in zip((img, txt), best_state):
        for (k, v), s in zip(module.state_dict().items(), state):
            v.copy_(s)
    if naaf is not None:  # the original's model_best.pth.tar carries the opt (thresholds) of its epoch
        for k, v in best_naaf.items():
            setattr(naaf, k, v)
    sims = similarity(img, txt, test, a, naaf)
    result = metrics(sims)
    result.update({"best_dev_rsum": best, "epochs": log, "seed": a.seed, "model": a.model, "torch": torch.__version__})
    if naaf is not None:
        result["threshold_of_best"] = {k: best_naaf[k] for k in naaf_reference.STATE_KEYS}
    with open(a.out, "w") as f:
        json.dump(result, f, indent=1)
    if a.sims_out:
        np.save(a.sims_out, sims.astype(np.float32))
    print(json.dumps({k: result[k] for k in ("i2t", "t2i", "rsum")}))


def train_vsrn(a, train, dev, test, word2idx, img_dim):
    opt = V.default_opt(data_name=a.data_name, img_dim=img_dim, embed_size=a.embed_size, dim_vid=a.embed_size,
                        word_dim=a.word_dim, vocab_size=len(word2idx), margin=a.margin,
                        max_violation=not a.no_max_violation, grad_clip=a.grad_clip, learning_rate=a.learning_rate,
                        lr_update=a.lr_update, num_epochs=a.num_epochs, batch_size=a.batch_size, max_len=a.max_len,
                        dim_hidden=a.dim_hidden, dim_word=a.dim_word, input_dropout_p=a.input_dropout_p,
                        val_step=a.val_step)
    model = V.VSRN(opt)
    g = torch.Generator().manual_seed(a.seed)
    best, best_state, log, start = -1.0, None, [], 0
    state_path = a.out + ".state.pt"

    def validate():
        m = metrics(similarity(model.img_enc, model.txt_enc, dev, a))
        return m, vsrn_score(m)

    def keep_if_best(score):
        nonlocal best, best_state
        if score > best:  # train.py: is_best = rsum > best_rsum
            best = score
            best_state = [{k: v.clone() for k, v in model.img_enc.state_dict().items()},
                          {k: v.clone() for k, v in model.txt_enc.state_dict().items()}]

    if os.path.exists(state_path):
        st = torch.load(state_path)
        for module, key in ((model.img_enc, "img"), (model.txt_enc, "txt"), (model.caption_model, "caption")):
            nn.Module.load_state_dict(module, st[key])
        model.optimizer.load_state_dict(st["opt"])
        g.set_state(st["generator"])
        torch.set_rng_state(st["torch_rng"])  # the captioning dropouts draw from the global generator
        model.Eiters = st["Eiters"]
        best, best_state, log, start = st["best"], st["best_state"], st["log"], st["epoch"]
        print(f"resuming after epoch {start} (iteration {model.Eiters}) from {state_path}", flush=True)
    n_batches = (len(train.caps) + a.batch_size - 1) // a.batch_size
    if a.max_batches:
        n_batches = min(n_batches, a.max_batches)
    for epoch in range(start, a.num_epochs):
        V.adjust_learning_rate(opt, model.optimizer, epoch)
        t0, c0, total_r, total_c, val_seconds, val_cpu = time.time(), time.process_time(), 0.0, 0.0, 0.0, 0.0
        perm = torch.randperm(len(train.caps), generator=g).tolist()
        for b in range(n_batches):
            tb, cb = time.time(), time.process_time()
            images, tokens, lengths = train.batch(perm[b * a.batch_size:(b + 1) * a.batch_size])
            r, c = vsrn_step(model, images, tokens, lengths, a)
            total_r, total_c = total_r + r, total_c + c
            if a.max_batches:
                print(f"  batch {b + 1}: {time.time() - tb:.2f}s wall, {time.process_time() - cb:.2f}s CPU", flush=True)
            if model.Eiters % a.val_step == 0:
                tv, cv = time.time(), time.process_time()
                m, score = validate()
                keep_if_best(score)
                val_seconds += time.time() - tv
                val_cpu += time.process_time() - cv
                print(f"  iteration {model.Eiters}: dev R1+R5 sum {score:.1f} (rsum {m['rsum']:.1f})", flush=True)
        train_seconds = time.time() - t0 - val_seconds
        train_cpu = time.process_time() - c0 - val_cpu
        tv, cv = time.time(), time.process_time()
        m, score = validate()
        keep_if_best(score)
        val_seconds += time.time() - tv
        val_cpu += time.process_time() - cv
        print(f"epoch {epoch + 1} hinge {total_r:.2f} caption {total_c:.2f} dev R1+R5 sum {score:.1f} "
              f"(rsum {m['rsum']:.1f}) train {train_seconds:.1f}s ({train_seconds / n_batches:.2f}s/batch, "
              f"{n_batches} batches; CPU {train_cpu:.1f}s) validation {val_seconds:.1f}s (CPU {val_cpu:.1f}s), "
              f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB", flush=True)
        log.append({"epoch": epoch + 1, "hinge": total_r, "caption_nll": total_c, "dev_r1r5": score,
                    "dev_rsum": m["rsum"], "train_seconds": train_seconds, "batches": n_batches,
                    "validation_seconds": val_seconds, "train_cpu_seconds": train_cpu,
                    "validation_cpu_seconds": val_cpu, "iterations": model.Eiters})
        torch.save({"img": model.img_enc.state_dict(), "txt": model.txt_enc.state_dict(),
                    "caption": model.caption_model.state_dict(), "opt": model.optimizer.state_dict(),
                    "generator": g.get_state(), "torch_rng": torch.get_rng_state(), "Eiters": model.Eiters,
                    "best": best, "best_state": best_state, "log": log, "epoch": epoch + 1}, state_path + ".tmp")
        os.replace(state_path + ".tmp", state_path)
    nn.Module.load_state_dict(model.img_enc, best_state[0])
    nn.Module.load_state_dict(model.txt_enc, best_state[1])
    sims = similarity(model.img_enc, model.txt_enc, test, a)
    result = metrics(sims)
    result.update({"best_dev_r1r5": best, "epochs": log, "seed": a.seed, "model": "vsrn", "data_name": a.data_name,
                   "embed_size": a.embed_size, "torch": torch.__version__, "threads": torch.get_num_threads()})
    with open(a.out, "w") as f:
        json.dump(result, f, indent=1)
    if a.sims_out:
        np.save(a.sims_out, sims.astype(np.float32))
    print(json.dumps({k: result[k] for k in ("i2t", "t2i", "rsum")}))


if __name__ == "__main__":
    main()
