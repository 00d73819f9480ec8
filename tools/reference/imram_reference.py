#!/usr/bin/python3
"""IMRAM (Chen et al., CVPR 2020) as the original code computes it, plus a batched scorer for speed.

Part 1 is HuiChen24/IMRAM at commit acada5c ("stable version"), files model.py (l2norm, EncoderImagePrecomp,
EncoderText, func_attention, cosine_similarity, ContrastiveLoss, class SCAN with gated_memory_t2i/i2t, forward_emb,
forward_score, xattn_score_Text_IMRAM, xattn_score_Image_IMRAM), opts.py (option names, order and defaults) and
evaluation.py (encode_data, shard_xattn_{Full,Text,Image}_IMRAM), ported only as far as PyTorch 1.13 on CPU needs:
no .cuda(), the multi-GPU padding tensor is zeros instead of uninitialised memory (it is never read), F.tanh is
torch.tanh, the undefined l1norm_d branches raise. Module structure and parameter names are the original's
(img_enc.fc_local, txt_enc.embed, txt_enc.rnn, linear_t2i, gate_t2i, linear_i2t, gate_i2t); the class keeps its
original name SCAN (IMRAM is an alias).

Part 2, `batched_steps`, computes the same per-step scores for all image-caption pairs at once:
  * the gates' Linear(2d -> d) on z = [q; c] is split as W z = W_q q + W_c c, and because the attended vector c is
    a softmax mix of the context (c = P X), W_c c = P (X W_c^T): the context is projected once per image/caption,
    never per pair. W_q q is per caption (t2i) / per image (i2t) at step 1 and per pair only from step 2 on;
  * the cosine's numerator is sum_k p_k s_k (s = the raw logits of the ORIGINAL query items, p = the weights) and
    the attended vector's squared norm is p^T G p (G the context's Gram matrix), so the attended vectors are never
    built;
  * the update after the last step (computed and discarded by the original) is skipped;
  * padded words are kept out of every norm, softmax and mean.
  Optional `chunk`: captions in blocks, each block's forward recomputed in backward (torch.utils.checkpoint), so
  training memory is bounded by one block instead of the B x B x words x d tensors.

    /usr/bin/python3 tools/reference/imram_reference.py --check [--batch 24] [--embed-size 1024]

compares the two on one real f8k training batch (f8k-1k-precomp, the f8k vocabulary, random encoders and gates):
scores and the gradients of sum(scores * U) (U random) w.r.t. every parameter, every mode, K = 1 and 3, IMRAM norm
on and off, and prints the largest relative difference (max |a - b| / max |b| per tensor). Exit 1 above 1e-4.

    /usr/bin/python3 tools/reference/imram_reference.py --precision [--images 125]

measures how far float32 scoring moves the scores and the ranks relative to float64 on the f8k test split (R = 36,
d = 1024, random encoders): batched scorer in float64 (encoders, gates and scoring) vs the same weights in float32.
"""
import argparse
import json
import os
import sys
import time
from collections import OrderedDict

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DATA = os.environ.get("CROSSMODAL_DATA") or os.path.abspath(os.path.join(REPO, "..", "shared", "data"))

MODES = ("text_IMRAM", "image_IMRAM", "full_IMRAM")


# =================================================================================================================
# Part 1: the original (HuiChen24/IMRAM acada5c model.py, opts.py, evaluation.py)
# =================================================================================================================

def l2norm(X, dim, eps=1e-8):
    """L2-normalize columns of X"""
    norm = torch.pow(X, 2).sum(dim=dim, keepdim=True).sqrt() + eps
    X = torch.div(X, norm)
    return X


class EncoderImagePrecomp(nn.Module):

    def __init__(self, img_dim, embed_size, no_imgnorm=False):
        super(EncoderImagePrecomp, self).__init__()
        self.embed_size = embed_size
        self.no_imgnorm = no_imgnorm
        self.fc_local = nn.Linear(img_dim, embed_size)
        self.init_weights()

    def init_weights(self):
        """Xavier initialization for the fully connected layer"""
        r = np.sqrt(6.) / np.sqrt(self.fc_local.in_features + self.fc_local.out_features)
        self.fc_local.weight.data.uniform_(-r, r)
        self.fc_local.bias.data.fill_(0)

    def forward(self, images):
        feat_local = self.fc_local(images)
        if not self.no_imgnorm:
            feat_local = l2norm(feat_local, dim=-1)
        return feat_local.mean(1), feat_local


def EncoderImage(data_name, img_dim, embed_size, precomp_enc_type='basic', no_imgnorm=False):
    if precomp_enc_type == 'basic':
        return EncoderImagePrecomp(img_dim, embed_size, no_imgnorm)
    raise ValueError("precomp_enc_type {!r} is not ported (only 'basic')".format(precomp_enc_type))


class EncoderText(nn.Module):

    def __init__(self, opt, vocab_size, word_dim, embed_size, num_layers, use_bi_gru=False, no_txtnorm=False,
                 pos_emb=False):
        super(EncoderText, self).__init__()
        self.embed_size = embed_size
        self.no_txtnorm = no_txtnorm
        self.embed = nn.Embedding(vocab_size, word_dim)
        self.use_bi_gru = use_bi_gru
        self.rnn = nn.GRU(word_dim, embed_size, num_layers, batch_first=True, bidirectional=use_bi_gru)
        self.init_weights()

    def init_weights(self):
        self.embed.weight.data.uniform_(-0.1, 0.1)

    def forward(self, x, lengths):
        x_emb = self.embed(x)
        sorted_lengths, indices = torch.sort(lengths, descending=True)
        x_emb = x_emb[indices]
        inv_ix = indices.clone()
        inv_ix[indices] = torch.arange(0, len(indices)).type_as(inv_ix)

        packed = pack_padded_sequence(x_emb, sorted_lengths.data.tolist(), batch_first=True)
        out, ht = self.rnn(packed)

        padded = pad_packed_sequence(out, batch_first=True)
        cap_emb, cap_len = padded
        cap_emb = cap_emb[inv_ix]
        cap_len = cap_len[inv_ix]
        # The original indexes ht[1] unconditionally: a 1-layer unidirectional GRU raises IndexError here.
        ht[0] = ht[0][inv_ix]
        ht[1] = ht[1][inv_ix]

        if self.use_bi_gru:
            cap_emb = (cap_emb[:, :, :int(cap_emb.size(2) / 2)] + cap_emb[:, :, int(cap_emb.size(2) / 2):]) / 2
            ht = (ht[0] + ht[1]) / 2

        if not self.no_txtnorm:
            cap_emb = l2norm(cap_emb, dim=-1)
            ht = l2norm(ht, dim=-1)

        # For multi-GPUs (never true on one device: x is padded to the batch's longest caption)
        if cap_emb.size(1) < x_emb.size(1):
            pad_size = x_emb.size(1) - cap_emb.size(1)
            pad_emb = torch.zeros(cap_emb.size(0), pad_size, cap_emb.size(2), dtype=cap_emb.dtype)
            cap_emb = torch.cat([cap_emb, pad_emb], 1)

        return ht, cap_emb, cap_len


def func_attention(query, context, opt, smooth, eps=1e-8, weight=None):
    """query: (n_context, queryL, d), context: (n_context, sourceL, d)"""
    batch_size_q, queryL = query.size(0), query.size(1)
    batch_size, sourceL = context.size(0), context.size(1)
    queryT = torch.transpose(query, 1, 2)
    attn = torch.bmm(context, queryT)  # (batch, sourceL, queryL)
    if opt.raw_feature_norm == "softmax":
        attn = attn.view(batch_size * sourceL, queryL)
        attn = F.softmax(attn, dim=1)
        attn = attn.view(batch_size, sourceL, queryL)
    elif opt.raw_feature_norm == "l2norm":
        attn = l2norm(attn, 2)
    elif opt.raw_feature_norm == "clipped_l2norm":
        attn = nn.LeakyReLU(0.1)(attn)
        attn = l2norm(attn, 2)
    elif opt.raw_feature_norm == "clipped":
        attn = nn.LeakyReLU(0.1)(attn)
    elif opt.raw_feature_norm == "no_norm":
        pass
    else:  # l1norm / clipped_l1norm call an undefined l1norm_d in the original
        raise ValueError("unknown first norm type:", opt.raw_feature_norm)
    if weight is not None:
        attn = attn + weight
    attn_out = attn.clone()
    attn = torch.transpose(attn, 1, 2).contiguous()  # (batch, queryL, sourceL)
    attn = attn.view(batch_size * queryL, sourceL)
    attn = F.softmax(attn * smooth, dim=1)
    attn = attn.view(batch_size, queryL, sourceL)
    attnT = torch.transpose(attn, 1, 2).contiguous()  # (batch, sourceL, queryL)
    contextT = torch.transpose(context, 1, 2)  # (batch, d, sourceL)
    weightedContext = torch.bmm(contextT, attnT)  # (batch, d, queryL)
    weightedContext = torch.transpose(weightedContext, 1, 2)  # (batch, queryL, d)
    return weightedContext, attn_out


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """Returns cosine similarity between x1 and x2, computed along dim."""
    w12 = torch.sum(x1 * x2, dim)
    w1 = torch.norm(x1, 2, dim)
    w2 = torch.norm(x2, 2, dim)
    return (w12 / (w1 * w2).clamp(min=eps))


class ContrastiveLoss(nn.Module):
    def __init__(self, opt, margin=0, max_violation=False):
        super(ContrastiveLoss, self).__init__()
        self.opt = opt
        self.margin = margin
        self.max_violation = max_violation

    def forward(self, scores):
        diagonal = scores.diag().view(-1, 1)
        d1 = diagonal.expand_as(scores)
        d2 = diagonal.t().expand_as(scores)
        cost_s = (self.margin + scores - d1).clamp(min=0)
        cost_im = (self.margin + scores - d2).clamp(min=0)
        I = torch.eye(scores.size(0)) > .5
        cost_s = cost_s.masked_fill_(I, 0)
        cost_im = cost_im.masked_fill_(I, 0)
        if self.max_violation:
            cost_s = cost_s.max(1)[0]
            cost_im = cost_im.max(0)[0]
        return cost_s.sum() + cost_im.sum()


class SCAN(nn.Module):
    """IMRAM's model class (named SCAN in the original)."""

    def __init__(self, opt):
        super(SCAN, self).__init__()
        self.opt = opt
        self.img_enc = EncoderImage(opt.data_name, opt.img_dim, opt.embed_size,
                                    precomp_enc_type=opt.precomp_enc_type, no_imgnorm=opt.no_imgnorm)
        self.txt_enc = EncoderText(opt, opt.vocab_size, opt.word_dim, opt.embed_size, opt.num_layers,
                                   use_bi_gru=opt.bi_gru, no_txtnorm=opt.no_txtnorm)
        self.linear_t2i = nn.Linear(opt.embed_size * 2, opt.embed_size)
        self.gate_t2i = nn.Linear(opt.embed_size * 2, opt.embed_size)
        self.linear_i2t = nn.Linear(opt.embed_size * 2, opt.embed_size)
        self.gate_i2t = nn.Linear(opt.embed_size * 2, opt.embed_size)

    def gated_memory_t2i(self, input_0, input_1):
        input_cat = torch.cat([input_0, input_1], 2)
        input_1 = torch.tanh(self.linear_t2i(input_cat))
        gate = torch.sigmoid(self.gate_t2i(input_cat))
        output = input_0 * gate + input_1 * (1 - gate)
        return output

    def gated_memory_i2t(self, input_0, input_1):
        input_cat = torch.cat([input_0, input_1], 2)
        input_1 = torch.tanh(self.linear_i2t(input_cat))
        gate = torch.sigmoid(self.gate_i2t(input_cat))
        output = input_0 * gate + input_1 * (1 - gate)
        return output

    def forward_emb(self, images, captions, lengths, masks=None):
        img_fc, img_emb = self.img_enc(images)
        ht, cap_emb, cap_lens = self.txt_enc(captions, lengths)
        return img_fc, img_emb, ht, cap_emb, lengths

    def forward_score(self, img_fc, img_emb, ht, cap_emb, cap_len, **kwargs):
        if self.opt.model_mode == "full_IMRAM":
            scores_t2i = self.xattn_score_Text_IMRAM(img_fc, img_emb, ht, cap_emb, cap_len, self.opt)
            scores_i2t = self.xattn_score_Image_IMRAM(img_fc, img_emb, ht, cap_emb, cap_len, self.opt)
            scores_t2i = torch.stack(scores_t2i, 0).sum(0)
            scores_i2t = torch.stack(scores_i2t, 0).sum(0)
            score = scores_t2i + scores_i2t
        elif self.opt.model_mode == "image_IMRAM":
            scores_i2t = self.xattn_score_Image_IMRAM(img_fc, img_emb, ht, cap_emb, cap_len, self.opt)
            scores_i2t = torch.stack(scores_i2t, 0).sum(0)
            score = scores_i2t
        elif self.opt.model_mode == "text_IMRAM":
            scores_t2i = self.xattn_score_Text_IMRAM(img_fc, img_emb, ht, cap_emb, cap_len, self.opt)
            scores_t2i = torch.stack(scores_t2i, 0).sum(0)
            score = scores_t2i
        else:  # the original falls through and fails with UnboundLocalError
            raise ValueError("unknown model_mode {!r}".format(self.opt.model_mode))
        return score

    def forward(self, images, captions, lengths, masks=None, ids=None, *args):
        img_fc, img_emb, ht, cap_emb, cap_lens = self.forward_emb(images, captions, lengths, masks)
        scores = self.forward_score(img_fc, img_emb, ht, cap_emb, cap_lens)
        return scores

    def xattn_score_Text_IMRAM(self, images_fc, images, caption_ht, captions_all, cap_lens, opt):
        similarities = [[] for _ in range(opt.iteration_step)]
        n_image = images.size(0)
        n_caption = captions_all.size(0)
        images = images.float()
        captions_all = captions_all.float()
        caption_ht = caption_ht.float()
        images_fc = images.mean(1, keepdim=True)
        for i in range(n_caption):
            n_word = cap_lens[i]
            cap_i = captions_all[i, :n_word, :].unsqueeze(0).contiguous()
            cap_i_expand = cap_i.repeat(n_image, 1, 1)
            query = cap_i_expand
            context = images
            for j in range(opt.iteration_step):
                attn_feat, _ = func_attention(query, context, opt, smooth=opt.lambda_softmax)
                row_sim = cosine_similarity(cap_i_expand, attn_feat, dim=2)
                row_sim = row_sim.mean(dim=1, keepdim=True)
                similarities[j].append(row_sim)
                query = self.gated_memory_t2i(query, attn_feat)
                if not opt.no_IMRAM_norm:
                    query = l2norm(query, dim=-1)
        new_similarities = []
        for j in range(opt.iteration_step):
            if len(similarities[j]) == 0:
                new_similarities.append([])
                continue
            similarities_one = torch.cat(similarities[j], 1).double()
            if self.training:
                similarities_one = similarities_one.transpose(0, 1)
            new_similarities.append(similarities_one)
        return new_similarities

    def xattn_score_Image_IMRAM(self, images_fc, images, caption_ht, captions_all, cap_lens, opt):
        similarities = [[] for _ in range(opt.iteration_step)]
        n_image = images.size(0)
        n_caption = captions_all.size(0)
        images = images.float()
        captions_all = captions_all.float()
        caption_ht = caption_ht.float()
        images_fc = images.mean(1, keepdim=True)
        for i in range(n_caption):
            n_word = cap_lens[i]
            cap_i = captions_all[i, :n_word, :].unsqueeze(0).contiguous()
            cap_i_expand = cap_i.repeat(n_image, 1, 1)
            query = images
            context = cap_i_expand
            for j in range(opt.iteration_step):
                attn_feat, _ = func_attention(query, context, opt, smooth=opt.lambda_softmax)
                row_sim = cosine_similarity(images, attn_feat, dim=2)
                row_sim = row_sim.mean(dim=1, keepdim=True)
                similarities[j].append(row_sim)
                query = self.gated_memory_i2t(query, attn_feat)
                if not opt.no_IMRAM_norm:
                    query = l2norm(query, dim=-1)
        new_similarities = []
        for j in range(opt.iteration_step):
            if len(similarities[j]) == 0:
                new_similarities.append([])
                continue
            similarities_one = torch.cat(similarities[j], 1).double()
            if self.training:
                similarities_one = similarities_one.transpose(0, 1)
            new_similarities.append(similarities_one)
        return new_similarities


IMRAM = SCAN


def imram_opt(**over):
    """opts.parse_opt()'s Namespace (names, order and defaults of IMRAM's opts.py), then vocab_size as train_gpus.py
    appends it. Pass the published flags as overrides (max_violation, bi_gru, agg_func, model_mode, ...)."""
    o = OrderedDict(
        data_path='./data/', data_name='precomp', vocab_path='./vocab/', margin=0.2, num_epochs=30, batch_size=128,
        word_dim=300, embed_size=1024, grad_clip=2., num_layers=1, learning_rate=.0002, lr_update=15, workers=10,
        log_step=10, val_step=5000, logger_name='./runs/runX/log', model_name='./runs/runX/checkpoint', resume='',
        max_violation=False, img_dim=2048, no_imgnorm=False, no_txtnorm=False, raw_feature_norm="clipped_l2norm",
        agg_func="LogSumExp", cross_attn="t2i", precomp_enc_type="basic", bi_gru=False, lambda_lse=6.,
        lambda_softmax=9., pos_emb=False, gpuid=0, model_mode="vse", iteration_step=3, no_IMRAM_norm=False)
    vocab_size = over.pop("vocab_size", None)
    for k in over:
        if k not in o:
            raise KeyError("not an IMRAM option: " + k)
    o.update(over)
    ns = argparse.Namespace(**o)
    if vocab_size is not None:
        ns.vocab_size = vocab_size
    return ns


# ---- evaluation.py: encode_data and the shard scorers (CPU) ------------------------------------------------------

def collate_fn(data):
    """data.py collate_fn: sort by caption length (descending), pad with zeros."""
    data.sort(key=lambda x: len(x[1]), reverse=True)
    images, captions, ids, img_ids = zip(*data)
    images = torch.stack(images, 0)
    lengths = torch.LongTensor([len(cap) for cap in captions])
    targets = torch.zeros(len(captions), max(lengths)).long()
    masks = torch.zeros(len(captions), max(lengths)).long()
    for i, cap in enumerate(captions):
        end = lengths[i]
        targets[i, :end] = cap[:end]
        masks[i, :end] = 1
    return images, targets, lengths, masks, ids, None


def precomp_batches(images, caption_ids, batch_size=128):
    """What get_test_loader yields (shuffle=False) for a precomp split: item k = (image k // 5, caption k, k, k // 5).
    images: float32 [N, R, img_dim]; caption_ids: list of id lists (<start> ... <end>), 5 per image."""
    items = [(torch.Tensor(np.asarray(images[k // 5])), torch.Tensor(caption_ids[k]), k, k // 5)
             for k in range(len(caption_ids))]
    return [collate_fn(items[b:b + batch_size]) for b in range(0, len(items), batch_size)]


def encode_data(model, batches):
    """evaluation.encode_data: embeddings into float64 numpy buffers, rows by caption index."""
    img_fcs = img_embs = cap_hts = cap_embs = cap_lens = None
    max_n_word = 0
    n = sum(len(b[4]) for b in batches)
    for (images, captions, lengths, masks, ids, _) in batches:
        max_n_word = max(max_n_word, max(lengths))
    for (images, captions, lengths, masks, ids, _) in batches:
        img_fc, img_emb, cap_ht, cap_emb, cap_len = model.forward_emb(images, captions, lengths, masks)
        if img_embs is None:
            img_embs = np.zeros((n, img_emb.size(1), img_emb.size(2)))
            img_fcs = np.zeros((n, img_fc.size(1)))
            cap_embs = np.zeros((n, max_n_word, cap_emb.size(2)))
            cap_hts = np.zeros((n, cap_emb.size(2)))
            cap_lens = [0] * n
        ids = list(ids)
        img_embs[ids] = img_emb.data.cpu().numpy().copy()
        img_fcs[ids] = img_fc.data.cpu().numpy().copy()
        cap_embs[ids, :max(lengths), :] = cap_emb.data.cpu().numpy().copy()
        cap_hts[ids] = cap_ht.data.cpu().numpy().copy()
        for j, nid in enumerate(ids):
            cap_lens[nid] = cap_len[j]
    return img_fcs, img_embs, cap_hts, cap_embs, cap_lens


def shard_xattn(model, images_fc, images, caption_ht, captions, caplens, opt, shard_size=128):
    """evaluation.shard_xattn_{Full,Text,Image}_IMRAM: per-step float64 blocks, summed t2i steps then i2t steps."""
    if opt.model_mode not in MODES:
        raise ValueError("wrong model mode " + repr(opt.model_mode))
    dirs = {"full_IMRAM": ("t2i", "i2t"), "text_IMRAM": ("t2i",), "image_IMRAM": ("i2t",)}[opt.model_mode]
    n_im_shard = int((len(images) - 1) / shard_size) + 1
    n_cap_shard = int((len(captions) - 1) / shard_size) + 1
    d = {k: [np.zeros((len(images), len(captions))) for _ in range(opt.iteration_step)] for k in dirs}
    for i in range(n_im_shard):
        im_start, im_end = shard_size * i, min(shard_size * (i + 1), len(images))
        for j in range(n_cap_shard):
            cap_start, cap_end = shard_size * j, min(shard_size * (j + 1), len(captions))
            im_fc = torch.from_numpy(images_fc[im_start:im_end])
            im_emb = torch.from_numpy(images[im_start:im_end])
            h = torch.from_numpy(caption_ht[cap_start:cap_end])
            s = torch.from_numpy(captions[cap_start:cap_end])
            l = caplens[cap_start:cap_end]
            for k in dirs:
                fn = model.xattn_score_Text_IMRAM if k == "t2i" else model.xattn_score_Image_IMRAM
                sim_list = fn(im_fc, im_emb, h, s, l, opt)
                assert len(sim_list) == opt.iteration_step
                for step in range(opt.iteration_step):
                    d[k][step][im_start:im_end, cap_start:cap_end] = sim_list[step].data.cpu().numpy()
    score = 0
    for k in dirs:
        for step in range(opt.iteration_step):
            score += d[k][step]
    return score


def evaluate_sims(model, images, caption_ids, opt):
    """evalrank without fold5 up to the similarity matrix: encode, keep every 5th image row, shard_xattn."""
    model.eval()
    with torch.no_grad():
        img_fc, img_embs, cap_ht, cap_embs, cap_lens = encode_data(model, precomp_batches(images, caption_ids, opt.batch_size))
        img_embs_all = img_embs
        img_embs = np.array([img_embs[i] for i in range(0, len(img_embs), 5)])
        sims = shard_xattn(model, img_fc, img_embs, cap_ht, cap_embs, cap_lens, opt, shard_size=128)
    return sims, img_embs, cap_embs, cap_lens, img_embs_all


# =================================================================================================================
# Part 2: the same scores for all pairs at once
# =================================================================================================================

def _split_gates(linear, gate, d):
    """W z + b = W_q q + W_c c + b for z = [q; c]: the query halves (transposed, [d, 2d]) and the context halves of
    both layers stacked as [linear | gate] columns, and the two biases."""
    wq_t = torch.cat([linear.weight[:, :d], gate.weight[:, :d]], 0).t()
    wc_t = torch.cat([linear.weight[:, d:], gate.weight[:, d:]], 0).t()
    b = torch.cat([linear.bias, gate.bias], 0)
    return wq_t, wc_t, b


def _update(q, pctx, wq_t, d, norm):
    """q <- g * q + (1 - g) * tanh(h) with [h | g-preactivation] = W_q q + pctx (pctx = W_c attended + b).
    q: [n, m, d] (n = 1 at step 1: the unchanged query, shared by every pair of the block); pctx: [n', m, 2d]."""
    if q.size(0) == 1:  # step 1: project the shared query once, broadcast over the block
        pre = pctx + q[0] @ wq_t
    else:
        pre = torch.addmm(pctx.reshape(-1, 2 * d), q.reshape(-1, d), wq_t).view(pctx.shape)
    h, g = pre.chunk(2, dim=-1)
    q = torch.lerp(torch.tanh(h), q, torch.sigmoid(g))  # tanh(h) + g * (q - tanh(h))
    return l2norm(q, -1) if norm else q


def text_steps(images, captions, lengths, linear, gate, K, lam, norm):
    """Text-IMRAM (words query regions) for all pairs: K tensors [n_image, n_caption]."""
    ni, nr, d = images.shape
    nc, nw, _ = captions.shape
    mask = (torch.arange(nw).unsqueeze(0) < lengths.unsqueeze(1)).to(images.dtype)  # [c, w]
    s0 = (captions.reshape(nc * nw, d) @ images.reshape(ni * nr, d).t()).view(nc, nw, ni, nr).permute(2, 0, 1, 3)
    gram = images @ images.transpose(1, 2)  # [i, r, r]
    wnorm = captions.norm(2, 2)  # [c, w]
    wq_t, wc_t, b = _split_gates(linear, gate, d)
    # W_c applied to every region once; + b rides along because each word's weights over the regions sum to 1
    ctx_proj = torch.addmm(b, images.reshape(ni * nr, d), wc_t).view(ni, nr, 2 * d)
    q, s, steps = None, s0, []
    for k in range(K):
        a = F.leaky_relu(s, 0.1) * mask[None, :, :, None]  # padded words stay out of the norm over words
        a = a / (a.pow(2).sum(2, keepdim=True).sqrt() + 1e-8)
        p = torch.softmax(a * lam, dim=3)  # [i, c, w, r]: over regions
        pf = p.reshape(ni, nc * nw, nr)
        sq = (torch.bmm(pf, gram).view(ni, nc, nw, nr) * p).sum(3)  # |attended|^2
        cos = (p * s0).sum(3) / (wnorm.unsqueeze(0) * sq.clamp(min=0).sqrt()).clamp(min=1e-8)  # [i, c, w]
        steps.append((cos * mask).sum(2) / lengths.to(cos.dtype))
        if k == K - 1:
            break
        pctx = torch.bmm(pf, ctx_proj)  # [i, c*w, 2d] = W_c (attended vector) + b
        q = _update(captions.reshape(1, nc * nw, d) if q is None else q, pctx, wq_t, d, norm)
        s = torch.bmm(q, images.transpose(1, 2)).view(ni, nc, nw, nr)
    return steps


def image_steps(images, captions, lengths, linear, gate, K, lam, norm):
    """Image-IMRAM (regions query words) for all pairs: K tensors [n_image, n_caption]."""
    ni, nr, d = images.shape
    nc, nw, _ = captions.shape
    pad = (torch.arange(nw).unsqueeze(0) >= lengths.unsqueeze(1))[:, None, None, :]  # [c, 1, 1, w]
    s0 = (captions.reshape(nc * nw, d) @ images.reshape(ni * nr, d).t()).view(nc, nw, ni, nr).permute(0, 2, 3, 1)
    gram = captions @ captions.transpose(1, 2)  # [c, w, w]
    rnorm = images.norm(2, 2)  # [i, r]
    wq_t, wc_t, b = _split_gates(linear, gate, d)
    ctx_proj = torch.addmm(b, captions.reshape(nc * nw, d), wc_t).view(nc, nw, 2 * d)  # + b: weights sum to 1
    q, s, steps = None, s0, []
    for k in range(K):
        # norm over regions for each word; padded words get 1 (no 0/0 in the gradient) and -inf before the softmax
        a = F.leaky_relu(s, 0.1).masked_fill(pad, 1.0)
        a = a / (a.pow(2).sum(2, keepdim=True).sqrt() + 1e-8)
        p = torch.softmax((a * lam).masked_fill(pad, float("-inf")), dim=3)  # [c, i, r, w]: over words
        pf = p.reshape(nc, ni * nr, nw)
        sq = (torch.bmm(pf, gram).view(nc, ni, nr, nw) * p).sum(3)
        cos = (p * s0).sum(3) / (rnorm.unsqueeze(0) * sq.clamp(min=0).sqrt()).clamp(min=1e-8)  # [c, i, r]
        steps.append(cos.mean(2).t())
        if k == K - 1:
            break
        pctx = torch.bmm(pf, ctx_proj)  # [c, i*r, 2d] = W_c (attended vector) + b
        q = _update(images.reshape(1, ni * nr, d) if q is None else q, pctx, wq_t, d, norm)
        s = torch.bmm(q, captions.transpose(1, 2)).view(nc, ni, nr, nw)
    return steps


def _steps_block(model, opt, images, captions, lengths):
    out = []
    if opt.model_mode in ("full_IMRAM", "text_IMRAM"):
        out.append(torch.stack(text_steps(images, captions, lengths, model.linear_t2i, model.gate_t2i,
                                          opt.iteration_step, opt.lambda_softmax, not opt.no_IMRAM_norm)))
    if opt.model_mode in ("full_IMRAM", "image_IMRAM"):
        out.append(torch.stack(image_steps(images, captions, lengths, model.linear_i2t, model.gate_i2t,
                                           opt.iteration_step, opt.lambda_softmax, not opt.no_IMRAM_norm)))
    return tuple(out)


def batched_steps(model, images, captions, lengths, opt, chunk=None, checkpoint=False):
    """Per-step scores of every pair, as {'t2i': [K, n_image, n_caption], 'i2t': ...} (float32 if the inputs are).
    images [n_image, R, d] (the region embeddings), captions [n_caption, T, d] (word embeddings, any padding),
    lengths: sequence or LongTensor. chunk: captions per block; checkpoint: recompute each block in backward."""
    if opt.model_mode not in MODES:
        raise ValueError("unknown model_mode {!r}".format(opt.model_mode))
    if opt.raw_feature_norm != "clipped_l2norm":
        raise ValueError("the batched scorer implements raw_feature_norm clipped_l2norm only")
    lengths = torch.as_tensor(lengths, dtype=torch.long)
    nc = captions.size(0)
    chunk = chunk or nc
    blocks = []
    for j0 in range(0, nc, chunk):
        j1 = min(nc, j0 + chunk)
        lens = lengths[j0:j1]
        cap = captions[j0:j1, :int(lens.max())]
        if checkpoint and torch.is_grad_enabled():
            # Reentrant: the block's forward runs under no_grad and is replayed in backward. (torch 1.13's
            # non-reentrant variant kept most of each block's intermediates: 4.4 GB instead of 0.9 GB at batch 64.)
            from torch.utils.checkpoint import checkpoint as ckpt
            blocks.append(ckpt(lambda im, cp, ln=lens: _steps_block(model, opt, im, cp, ln), images, cap,
                               use_reentrant=True))
        else:
            blocks.append(_steps_block(model, opt, images, cap, lens))
    names = [n for n, m in (("t2i", ("full_IMRAM", "text_IMRAM")), ("i2t", ("full_IMRAM", "image_IMRAM")))
             if opt.model_mode in m]
    return {n: torch.cat([blk[i] for blk in blocks], 2) for i, n in enumerate(names)}


def combine(steps):
    """As forward_score / shard_xattn: each step's float32 scores to float64, summed over steps, t2i + i2t."""
    total = None
    for name in ("t2i", "i2t"):
        if name in steps:
            s = steps[name].double().sum(0)
            total = s if total is None else total + s
    return total


def batched_scores(model, images, captions, lengths, opt, chunk=None, checkpoint=False):
    """float64 [n_image, n_caption], the original's forward_score in eval orientation."""
    return combine(batched_steps(model, images, captions, lengths, opt, chunk, checkpoint))


class keep_float64:
    """Lets the original loop run in float64: its scorers cast their inputs with .float(); inside this context that
    cast keeps float64 tensors as they are (used only to tell float32 rounding from a real difference)."""

    def __enter__(self):
        self._orig = torch.Tensor.float
        orig = self._orig
        torch.Tensor.float = lambda t, *a, **k: t if t.dtype == torch.float64 else orig(t, *a, **k)
        return self

    def __exit__(self, *exc):
        torch.Tensor.float = self._orig
        return False


def loop_scores(model, images, captions, lengths, opt):
    """The original per-caption loop (forward_score), always returned as [n_image, n_caption]."""
    # img_fc and caption_ht are not used by the IMRAM scorers (only cast with .float())
    s = model.forward_score(images.mean(1), images, captions[:, 0], captions, lengths)
    return s.t() if model.training else s


def loop_steps(model, images, captions, lengths, opt):
    out = {}
    if opt.model_mode in ("full_IMRAM", "text_IMRAM"):
        out["t2i"] = model.xattn_score_Text_IMRAM(None, images, captions[:, 0], captions, lengths, opt)
    if opt.model_mode in ("full_IMRAM", "image_IMRAM"):
        out["i2t"] = model.xattn_score_Image_IMRAM(None, images, captions[:, 0], captions, lengths, opt)
    return {k: torch.stack([x.t() if model.training else x for x in v]) for k, v in out.items()}


# =================================================================================================================
# Real data for --check and --precision
# =================================================================================================================

def tokenize(caption):
    from nltk.tokenize import NLTKWordTokenizer
    from nltk.tokenize.punkt import PunktSentenceTokenizer
    text = caption.strip().lower()
    return [w for s in PunktSentenceTokenizer().tokenize(text) for w in NLTKWordTokenizer().tokenize(s)]


def load_split(split, data=None):
    """f8k-1k-precomp: features [N, 36, 512] float32, caption id lists (5 per image), the vocabulary size."""
    data = data or DATA
    vocab = json.load(open(os.path.join(data, "vocab", "f8k_precomp_vocab.json"), encoding="utf-8"))
    w2i = vocab["word2idx"]
    folder = os.path.join(data, "f8k-1k-precomp")
    ims = np.load(os.path.join(folder, split + "_ims.npy"), mmap_mode="r")
    caps = [l for l in open(os.path.join(folder, split + "_caps.txt"), encoding="utf-8").read().split("\n") if l.strip()]
    ids = [[w2i["<start>"]] + [w2i.get(t, w2i["<unk>"]) for t in tokenize(c)] + [w2i["<end>"]] for c in caps]
    return ims, ids, int(vocab["idx"])


def token_batch(id_lists):
    lengths = torch.tensor([len(x) for x in id_lists])
    tokens = torch.zeros(len(id_lists), int(lengths.max()), dtype=torch.long)
    for i, x in enumerate(id_lists):
        tokens[i, :len(x)] = torch.tensor(x)
    return tokens, lengths


def _rel(x, y):
    """max |x - y| / max |y| (inf if x is not finite)."""
    if not torch.isfinite(x).all():
        return float("inf")
    return ((x.double() - y.double()).abs().max() / y.double().abs().max().clamp(min=1e-30)).item()


def check(a):
    """Batched vs the original loop on one real batch: scores and all gradients, every mode, K 1 and 3, norm on/off.
    --double runs both in float64; --vs-double adds the original loop in float64 as the arbiter of the float32 pair."""
    ims, ids, vocab_size = load_split("train")
    pick = list(range(0, 5 * a.batch, 5))  # one caption of each of the first `batch` images: a training batch
    images = torch.from_numpy(np.ascontiguousarray(ims[[k // 5 for k in pick]], dtype=np.float32))
    tokens, lengths = token_batch([ids[k] for k in pick])
    g = torch.Generator().manual_seed(7)
    upstream = torch.randn(a.batch, a.batch, generator=g, dtype=torch.float64)
    worst = 0.0
    dtype = torch.float64 if a.double else torch.float32
    variants = [("loop", dtype), ("batched", dtype)] + ([("loop", torch.float64)] if a.vs_double and not a.double else [])
    print(f"{dtype}: batch {a.batch} x {a.batch}, regions {images.shape[1]}, embed {a.embed_size}, words {int(lengths.min())}-"
          f"{int(lengths.max())}, lambda {a.lambda_softmax}", flush=True)
    summary = {}
    for mode in MODES:
        for K in (1, 3):
            for no_norm in (True, False):
                opt = imram_opt(model_mode=mode, iteration_step=K, no_IMRAM_norm=no_norm, bi_gru=True,
                                max_violation=True, agg_func="Mean", img_dim=images.shape[2], embed_size=a.embed_size,
                                lambda_softmax=a.lambda_softmax, vocab_size=vocab_size)
                results, times = [], []
                for variant, dt in variants:
                    torch.manual_seed(0)
                    model = SCAN(opt)
                    model.train()
                    model.to(dt)
                    t0 = time.perf_counter()
                    _, img_emb, _, cap_emb, lens = model.forward_emb(images.to(dt), tokens, lengths)
                    if variant == "loop":
                        with keep_float64():
                            sc = loop_scores(model, img_emb, cap_emb, lens, opt)
                    else:
                        sc = batched_scores(model, img_emb, cap_emb, lens, opt, chunk=a.chunk, checkpoint=a.chunk is not None)
                    (sc * upstream).sum().backward()
                    times.append(time.perf_counter() - t0)
                    grads = OrderedDict((n, p.grad) for n, p in model.named_parameters() if p.grad is not None)
                    grads["scores"] = sc.detach()
                    results.append(grads)
                    del model, sc
                names = list(results[0])
                assert all(list(r) == names for r in results), [list(r) for r in results]
                rel = {n: _rel(results[1][n], results[0][n]) for n in names}
                m = max(rel.values())
                worst = max(worst, m)
                key = f"{mode} K={K} IMRAM_norm={'off' if no_norm else 'on'}"
                line = (f"{key}: batched vs loop {m:.2e} ({max(rel, key=rel.get)}), scores {rel['scores']:.2e}; "
                        f"{len(names) - 1} gradients")
                summary[key] = {"batched_vs_loop": m}
                if len(results) == 3:
                    r_loop = max(_rel(results[0][n], results[2][n]) for n in names)
                    r_batched = max(_rel(results[1][n], results[2][n]) for n in names)
                    line += f"; vs the float64 loop: loop32 {r_loop:.2e}, batched32 {r_batched:.2e}"
                    summary[key].update({"loop32_vs_loop64": r_loop, "batched32_vs_loop64": r_batched})
                print(line + "; seconds " + " ".join(f"{t:.1f}" for t in times), flush=True)
    print(json.dumps({"check": "imram batched vs loop", "dtype": str(dtype), "batch": a.batch, "embed": a.embed_size,
                      "max_relative_difference": worst, "settings": summary}))
    return worst


def ranks(sims):
    n = sims.shape[0]
    r_i2t = np.array([min(np.where(np.argsort(sims[i])[::-1] == c)[0][0] for c in range(5 * i, 5 * i + 5))
                      for i in range(n)])
    r_t2i = np.array([np.where(np.argsort(sims[:, c])[::-1] == c // 5)[0][0] for c in range(5 * n)])
    return r_i2t, r_t2i


def recalls(r):
    return [100.0 * np.mean(r < k) for k in (1, 5, 10)]


def precision(a):
    """float32 vs float64 scoring on the f8k test split through random encoders (R = 36, d = embed)."""
    ims, ids, vocab_size = load_split("test")
    n = min(a.images, ims.shape[0])
    images = torch.from_numpy(np.array(ims[:n], dtype=np.float32))
    tokens, lengths = token_batch(ids[:5 * n])
    out = {"images": n, "captions": 5 * n, "embed": a.embed_size, "regions": images.shape[1],
           "words": [int(lengths.min()), int(lengths.max()), float(lengths.double().mean())],
           "lambda_softmax": a.lambda_softmax, "settings": {}}
    for mode, K, no_norm in (("full_IMRAM", 3, True), ("text_IMRAM", 3, True), ("image_IMRAM", 3, True),
                             ("full_IMRAM", 3, False), ("full_IMRAM", 1, True)):
        opt = imram_opt(model_mode=mode, iteration_step=K, no_IMRAM_norm=no_norm, bi_gru=True, img_dim=images.shape[2],
                        embed_size=a.embed_size, lambda_softmax=a.lambda_softmax, vocab_size=vocab_size)
        torch.manual_seed(a.seed)
        model = SCAN(opt).eval()
        sims = {}
        t0 = time.perf_counter()
        with torch.no_grad():
            for dtype in (torch.float64, torch.float32):
                model.to(dtype)
                _, img_emb, _, cap_emb, lens = model.forward_emb(images.to(dtype), tokens, lengths)
                # The float32 embeddings are the float64 ones rounded: the comparison isolates the scoring.
                if dtype == torch.float32:
                    img_emb, cap_emb = emb64[0].float(), emb64[1].float()
                else:
                    emb64 = (img_emb, cap_emb)
                steps = batched_steps(model, img_emb, cap_emb, lens, opt, chunk=a.chunk)
                sims[str(dtype)] = combine(steps).numpy()  # float32 steps summed in float64, as the original
                if dtype == torch.float32:
                    s32 = None
                    for v in steps.values():
                        v = v.sum(0)
                        s32 = v if s32 is None else s32 + v
                    sims["pure32"] = s32.double().numpy()  # every addition in float32 too
            model.to(torch.float64)
        s64, s32, p32 = sims["torch.float64"], sims["torch.float32"], sims["pure32"]
        r64, r32 = ranks(s64), ranks(s32)
        # Gap between the two best-scored captions/images per query: how close ranks are to flipping.
        srt = np.sort(s64, axis=1)
        entry = {
            "score_range": [float(s64.min()), float(s64.max())],
            "max_abs_diff_f32_steps_f64_sum": float(np.abs(s32 - s64).max()),
            "max_rel_diff_f32_steps_f64_sum": float((np.abs(s32 - s64) / np.abs(s64).clip(1e-12)).max()),
            "max_abs_diff_pure_f32": float(np.abs(p32 - s64).max()),
            "mean_abs_diff_f32": float(np.abs(s32 - s64).mean()),
            "min_gap_between_adjacent_scores_in_a_row": float(np.diff(srt, axis=1).min()),
            "median_gap_between_adjacent_scores_in_a_row": float(np.median(np.diff(srt, axis=1))),
            "i2t_ranks_changed": int((r64[0] != r32[0]).sum()), "t2i_ranks_changed": int((r64[1] != r32[1]).sum()),
            "recalls_f64": recalls(r64[0]) + recalls(r64[1]), "recalls_f32": recalls(r32[0]) + recalls(r32[1]),
            "seconds": round(time.perf_counter() - t0, 1)}
        # Order changes anywhere in the rankings (not only at the ground truth).
        entry["row_orders_changed"] = int(sum((np.argsort(-s64[i], kind="stable") != np.argsort(-s32[i], kind="stable")).any()
                                              for i in range(n)))
        entry["column_orders_changed"] = int(sum((np.argsort(-s64[:, c], kind="stable") != np.argsort(-s32[:, c], kind="stable")).any()
                                                 for c in range(5 * n)))
        key = f"{mode}_K{K}_{'nonorm' if no_norm else 'norm'}"
        out["settings"][key] = entry
        print(key, json.dumps(entry), flush=True)
    print(json.dumps(out))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--check", action="store_true")
    p.add_argument("--double", action="store_true", help="--check in float64 (both the loop and the batched scorer)")
    p.add_argument("--vs-double", action="store_true", help="--check also runs the loop in float64 as the arbiter")
    p.add_argument("--precision", action="store_true")
    p.add_argument("--batch", type=int, default=24)
    p.add_argument("--images", type=int, default=125)
    p.add_argument("--embed-size", type=int, default=1024)
    p.add_argument("--lambda-softmax", type=float, default=9.0)
    p.add_argument("--chunk", type=int, default=None, help="captions per block in the batched scorer")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=None)
    a = p.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    if a.check:
        sys.exit(0 if check(a) < (1e-10 if a.double else 1e-4) else 1)
    if a.precision:
        precision(a)
        return
    p.print_help()


if __name__ == "__main__":
    main()
