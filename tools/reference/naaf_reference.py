#!/usr/bin/python3
"""NAAF (Zhang et al., CVPR 2022) as the original code computes it, ported only as far as PyTorch 1.13 on CPU needs.

Follows CrossmodalGroup/NAAF at commit cafcd6ffd053701c9909ee1f76e3132be955e491: model.py (EncoderImagePrecomp,
EncoderImageWeightNormPrecomp, EncoderText, GloveEmb, GloveRNNEncoder, get_mask_attention, cosine_similarity,
intra_relation, inter_relations, xattn_score = the training scorer with "Discriminative Mismatch Mining",
xattn_score_test, ContrastiveLoss) and evaluation.py (encode_data's float64 buffers, shard_xattn). Changes from the
original: `.cuda()` removed, `Variable` removed, `cap_lens[i]` cast to int; xattn_score takes two optional arguments
that do not change what it computes: `trace` (a dict that receives, per caption, the threshold it was scored with,
whether it was ranked correctly, the image picked as negative, and one record per threshold update) and `mining`
(False: score every caption at the fixed opt.thres without sampling or updating -- the scoring part alone).

Module structure and parameter names are the original ones: an image encoder with `fc.weight`, `fc.bias`; the
`basic` text encoder with `embed.weight` and `rnn.*`; the GloVe text encoder with `embed.glove.weight` and `rnn.*`
(the table is loaded with torch.load from the `glove_840B_{f30k,coco}_precomp.json.pkl` file, or given directly).

Also here: `xattn_score_batched` and `xattn_score_test_batched`, the same scores for all image-caption pairs at once
(no per-caption loop; used by train_reference.py --model naaf and as the model of the benchmark reference).
They never build the attended vectors: with s = word . region (raw attention) and p the positive attention weights,
the cosine's numerator word . (sum_r p_r v_r) is sum_r p_r s_r and the attended vector's squared norm is p^T G p with
G the regions' Gram matrix. The threshold learning runs caption by caption exactly as in the original (each caption
is scored with the threshold left by the previous one), but only the threshold-dependent terms of a caption are
recomputed when its threshold is not 0; the final scores and their gradients come from one batched pass.

    naaf_reference.py --check [--steps 40] [--embed-size 1024] [--state OUT.state.pt]

trains a basic NAAF on f8k-1k-precomp (f8k vocabulary) with the batched scorer -- from random weights, or from a
model trained by train_reference.py --model naaf (--state): the threshold learning only acts once a batch has more
than 200 words of correctly ranked captions, so only a trained state exercises it -- and, at several steps, runs the
original per-caption xattn_score and xattn_score_batched from the same weights and threshold state: prints the
largest differences of the scores, the parameter gradients after the hinge loss, the per-caption thresholds and the
threshold state (thres, thres_safe, mean/stnd pos/neg), and the number of differing ranking decisions; then compares
xattn_score_test with xattn_score_test_batched on the dev split in float64. Exit code 1 if a difference is too big.
Captions with a raw similarity within 1e-5 of their threshold are counted apart ("boundary flips"): there the
original scorer itself is discontinuous, and the two thresholds (float32 statistics reduced in another order) differ
by ~1e-7.
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.init
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence
from torch.nn.utils.weight_norm import weight_norm

NAAF_COMMIT = "cafcd6ffd053701c9909ee1f76e3132be955e491"
STATE_KEYS = ("thres", "thres_safe", "mean_pos", "stnd_pos", "mean_neg", "stnd_neg")


# ---------------------------------------------------------------------------------------------------------------
# model.py: normalisations and encoders
# ---------------------------------------------------------------------------------------------------------------

def l1norm(X, dim, eps=1e-8):
    norm = torch.abs(X).sum(dim=dim, keepdim=True) + eps
    return torch.div(X, norm)


def l2norm(X, dim, eps=1e-8):
    norm = torch.pow(X, 2).sum(dim=dim, keepdim=True).sqrt() + eps
    return torch.div(X, norm)


def EncoderImage(data_name, img_dim, embed_size, precomp_enc_type="basic", no_imgnorm=False):
    if precomp_enc_type == "basic":
        return EncoderImagePrecomp(img_dim, embed_size, no_imgnorm)
    if precomp_enc_type == "weight_norm":
        return EncoderImageWeightNormPrecomp(img_dim, embed_size, no_imgnorm)
    raise ValueError("Unknown precomp_enc_type: {}".format(precomp_enc_type))


class EncoderImagePrecomp(nn.Module):
    def __init__(self, img_dim, embed_size, no_imgnorm=False):
        super().__init__()
        self.embed_size = embed_size
        self.no_imgnorm = no_imgnorm
        self.fc = nn.Linear(img_dim, embed_size)
        self.init_weights()

    def init_weights(self):
        r = np.sqrt(6.) / np.sqrt(self.fc.in_features + self.fc.out_features)
        self.fc.weight.data.uniform_(-r, r)
        self.fc.bias.data.fill_(0)

    def forward(self, images):
        features = self.fc(images)
        if not self.no_imgnorm:
            features = l2norm(features, dim=-1)
        return features


class EncoderImageWeightNormPrecomp(nn.Module):
    def __init__(self, img_dim, embed_size, no_imgnorm=False):
        super().__init__()
        self.embed_size = embed_size
        self.no_imgnorm = no_imgnorm
        self.fc = weight_norm(nn.Linear(img_dim, embed_size), dim=None)

    def forward(self, images):
        features = self.fc(images)
        if not self.no_imgnorm:
            features = l2norm(features, dim=-1)
        return features


class EncoderText(nn.Module):
    """`basic`: learned embedding U(-0.1, 0.1), Bi-GRU (always bidirectional), directions averaged, l2norm."""

    def __init__(self, vocab_size, word_dim, embed_size, num_layers, no_txtnorm=False):
        super().__init__()
        self.embed_size = embed_size
        self.no_txtnorm = no_txtnorm
        self.embed = nn.Embedding(vocab_size, word_dim)
        self.rnn = nn.GRU(word_dim, embed_size, num_layers, batch_first=True, bidirectional=True)
        self.embed.weight.data.uniform_(-0.1, 0.1)

    def forward(self, x, lengths):
        x = self.embed(x)
        packed = pack_padded_sequence(x, lengths, batch_first=True)
        out, _ = self.rnn(packed)
        cap_emb, cap_len = pad_packed_sequence(out, batch_first=True)
        cap_emb = (cap_emb[:, :, :cap_emb.size(2) // 2] + cap_emb[:, :, cap_emb.size(2) // 2:]) / 2
        if not self.no_txtnorm:
            cap_emb = l2norm(cap_emb, dim=-1)
        return cap_emb, cap_len


class GloveEmb(nn.Module):
    """The table comes from torch.load(glove_path) (a V x 300 float tensor) or, here, from `glove_weight`."""

    def __init__(self, num_embeddings, glove_dim, glove_path=None, add_rand_embed=False, rand_dim=None,
                 glove_weight=None):
        super().__init__()
        self.num_embeddings = num_embeddings
        self.add_rand_embed = add_rand_embed
        self.glove_dim = glove_dim
        self.final_word_emb = glove_dim
        self.glove = nn.Embedding(num_embeddings, glove_dim)
        table = torch.load(glove_path) if glove_path is not None else glove_weight
        self.glove.weight = nn.Parameter(table)
        # As in the original: an attribute on the module, not on the parameter -- the table stays trainable.
        self.glove.requires_grad = False
        if add_rand_embed:
            self.embed = nn.Embedding(num_embeddings, rand_dim)
            self.final_word_emb = glove_dim + rand_dim

    def forward(self, x):
        emb = self.glove(x)
        if self.add_rand_embed:
            emb = torch.cat([emb, self.embed(x)], dim=2)
        return emb


class GloveRNNEncoder(nn.Module):
    def __init__(self, vocab_size, embed_dim, latent_size, num_layers=1, use_bi_gru=True, no_txtnorm=False,
                 glove_path=None, add_rand_embed=True, glove_weight=None):
        super().__init__()
        self.latent_size = latent_size
        self.no_txtnorm = no_txtnorm
        self.embed = GloveEmb(vocab_size, glove_dim=embed_dim, glove_path=glove_path, add_rand_embed=add_rand_embed,
                              rand_dim=embed_dim, glove_weight=glove_weight)
        self.use_bi_gru = use_bi_gru
        self.rnn = nn.GRU(self.embed.final_word_emb, latent_size, num_layers, batch_first=True,
                          bidirectional=use_bi_gru)

    def forward(self, captions, lengths):
        emb = self.embed(captions)
        packed = pack_padded_sequence(emb, lengths, batch_first=True)
        out, _ = self.rnn(packed)
        cap_emb, cap_len = pad_packed_sequence(out, batch_first=True)
        cap_emb = (cap_emb[:, :, :cap_emb.size(2) // 2] + cap_emb[:, :, cap_emb.size(2) // 2:]) / 2
        if not self.no_txtnorm:
            cap_emb = l2norm(cap_emb, dim=-1)
        return cap_emb, cap_len


def build_encoders(opt, glove_path=None, glove_weight=None):
    """NAAF.__init__'s choice of encoders (the GloVe file name there is vocab_path + glove_840B_f30k_precomp.json.pkl
    when data_name == 'f30k_precomp', else the coco one; no_txtnorm is hard-coded False for GloVe)."""
    img = EncoderImage(opt.data_name, opt.img_dim, opt.embed_size, precomp_enc_type=opt.precomp_enc_type,
                       no_imgnorm=opt.no_imgnorm)
    if opt.precomp_enc_text_type == "basic":
        txt = EncoderText(opt.vocab_size, opt.word_dim, opt.embed_size, opt.num_layers, no_txtnorm=opt.no_txtnorm)
    else:
        if glove_path is None and glove_weight is None:
            name = "glove_840B_f30k_precomp.json.pkl" if opt.data_name == "f30k_precomp" else "glove_840B_coco_precomp.json.pkl"
            glove_path = opt.vocab_path + name
        txt = GloveRNNEncoder(opt.vocab_size, opt.word_dim, opt.embed_size, opt.num_layers, use_bi_gru=True,
                              no_txtnorm=False, glove_path=glove_path, add_rand_embed=False, glove_weight=glove_weight)
    return img, txt


# ---------------------------------------------------------------------------------------------------------------
# model.py: attention pieces and the two scorers (the original per-caption loops)
# ---------------------------------------------------------------------------------------------------------------

def get_mask_attention(attn, batch_size, sourceL, queryL, lamda=1):
    mask_positive = attn.le(0)
    attn_pos = attn.masked_fill(mask_positive, torch.tensor(-1e9))
    attn_pos = torch.exp(attn_pos * lamda)
    attn_pos = l1norm(attn_pos, 1)
    attn_pos = attn_pos.view(batch_size, queryL, sourceL)
    return attn_pos


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    w12 = torch.sum(x1 * x2, dim)
    w2 = torch.norm(x2, 2, dim)
    return (w12 / (w2).clamp(min=eps)).squeeze()


def intra_relation(K, Q, xlambda):
    batch_size, KL = K.size(0), K.size(1)
    K = torch.transpose(K, 1, 2).contiguous()
    attn = torch.bmm(Q, K)
    attn = attn.view(batch_size * KL, KL)
    attn = nn.Softmax(dim=1)(attn * xlambda)
    attn = attn.view(batch_size, KL, KL)
    return attn


def inter_relations(attn, batch_size, sourceL, queryL, xlambda):
    attn = nn.LeakyReLU(0.1)(attn)
    attn = l2norm(attn, 2)
    attn = torch.transpose(attn, 1, 2).contiguous()
    attn = attn.view(batch_size * queryL, sourceL)
    attn = nn.Softmax(dim=1)(attn * xlambda)
    attn = attn.view(batch_size, queryL, sourceL)
    return attn


def xattn_score(images, captions, cap_lens, opt, trace=None, mining=True):
    """The training scorer (model.xattn_score). Updates opt.thres, opt.thres_safe, opt.mean_pos, opt.stnd_pos,
    opt.mean_neg, opt.stnd_neg in place, caption by caption. Returns (n_image, n_caption)."""
    similarities = []
    max_pos = []
    max_neg = []
    n_image = images.size(0)
    n_caption = captions.size(0)
    n_region = images.size(1)
    batch_size = n_image
    N_POS_WORD = 0
    if trace is not None:
        trace.setdefault("thres_used", [])
        trace.setdefault("correct", [])
        trace.setdefault("neg_index", [])
        trace.setdefault("updates", [])

    for i in range(n_caption):
        n_word = int(cap_lens[i])
        cap_i = captions[i, :n_word, :].unsqueeze(0).contiguous()
        cap_i_expand = cap_i.repeat(n_image, 1, 1)
        contextT = torch.transpose(images, 1, 2)
        attn = torch.bmm(cap_i_expand, contextT)
        attn_i = torch.transpose(attn, 1, 2).contiguous()
        if trace is not None:
            trace["thres_used"].append(opt.thres)
        attn_thres = attn - torch.ones_like(attn) * opt.thres

        # Neg-Pos Branch Matching
        batch_size, queryL, sourceL = images.size(0), cap_i_expand.size(1), images.size(1)
        attn_row = attn_thres.view(batch_size * queryL, sourceL)
        Row_max = torch.max(attn_row, 1)[0].unsqueeze(-1)
        attn_neg = Row_max.lt(0).float()
        t2i_sim_neg = Row_max * attn_neg
        t2i_sim_neg = t2i_sim_neg.view(batch_size, queryL)

        attn_pos = get_mask_attention(attn_row, batch_size, sourceL, queryL, opt.lambda_softmax)
        weiContext_pos = torch.bmm(attn_pos, images)
        t2i_sim_pos_f = cosine_similarity(cap_i_expand, weiContext_pos, dim=2)

        attn_weight = inter_relations(attn_i, batch_size, n_region, n_word, opt.lambda_softmax)
        t2i_sim_pos_r = attn.mul(attn_weight).sum(-1)

        t2i_sim_pos = t2i_sim_pos_f + t2i_sim_pos_r
        t2i_sim = t2i_sim_neg + t2i_sim_pos
        sim = t2i_sim.mean(dim=1, keepdim=True)

        if mining:
            # Discriminative Mismatch Mining
            wrong_index = sim.sort(0, descending=True)[1][0].item()
            neg_index = None
            if wrong_index == i:
                attn_max_row = torch.max(attn.reshape(batch_size * n_word, n_region).squeeze(), 1)[0]
                attn_max_row_pos = attn_max_row[(i * n_word): (i * n_word + n_word)]
                neg_index = sim.sort(0)[1][0].item()
                attn_max_row_neg = attn_max_row[(neg_index * n_word): (neg_index * n_word + n_word)]
                max_pos.append(attn_max_row_pos)
                max_neg.append(attn_max_row_neg)
                N_POS_WORD = N_POS_WORD + n_word
                if N_POS_WORD > 200:
                    max_pos_aggre = torch.cat(max_pos, 0)
                    max_neg_aggre = torch.cat(max_neg, 0)
                    mean_pos = max_pos_aggre.mean()
                    mean_neg = max_neg_aggre.mean()
                    stnd_pos = max_pos_aggre.std()
                    stnd_neg = max_neg_aggre.std()

                    A = stnd_pos.pow(2) - stnd_neg.pow(2)
                    B = 2 * ((mean_pos * stnd_neg.pow(2)) - (mean_neg * stnd_pos.pow(2)))
                    C = (mean_neg * stnd_pos).pow(2) - (mean_pos * stnd_neg).pow(2) + 2 * (stnd_pos * stnd_neg).pow(2) * torch.log(stnd_neg / (opt.alpha * stnd_pos) + 1e-8)

                    thres = opt.thres
                    thres_safe = opt.thres_safe
                    opt.stnd_pos = stnd_pos.item()
                    opt.stnd_neg = stnd_neg.item()
                    opt.mean_pos = mean_pos.item()
                    opt.mean_neg = mean_neg.item()

                    E = B.pow(2) - 4 * A * C
                    rec = {"caption": i, "n_pos_word": N_POS_WORD, "mean_pos": opt.mean_pos, "stnd_pos": opt.stnd_pos,
                           "mean_neg": opt.mean_neg, "stnd_neg": opt.stnd_neg, "A": A.item(), "B": B.item(),
                           "C": C.item(), "E": E.item(), "previous_thres": thres, "previous_thres_safe": thres_safe}
                    if E > 0:
                        opt.thres = ((-B + torch.sqrt(E)) / (2 * A + 1e-10)).item()
                        opt.thres_safe = (mean_pos - 3 * opt.stnd_pos).item()
                    rec["solved_thres"], rec["solved_thres_safe"] = opt.thres, opt.thres_safe

                    if opt.thres < 0:
                        opt.thres = 0
                    if opt.thres > 1:
                        opt.thres = 0

                    if opt.thres_safe < 0:
                        opt.thres_safe = 0
                    if opt.thres_safe > 1:
                        opt.thres_safe = 0

                    opt.thres = 0.7 * opt.thres + 0.3 * thres
                    opt.thres_safe = 0.7 * opt.thres_safe + 0.3 * thres_safe
                    rec["thres"], rec["thres_safe"] = opt.thres, opt.thres_safe
                    if trace is not None:
                        trace["updates"].append(rec)

            if N_POS_WORD < 200:
                opt.thres = 0
                opt.thres_safe = 0
            if trace is not None:
                trace["correct"].append(wrong_index == i)
                trace["neg_index"].append(-1 if neg_index is None else neg_index)

        similarities.append(sim)

    return torch.cat(similarities, 1)


def xattn_score_test(images, captions, cap_lens, opt):
    """The test scorer (model.xattn_score_test): threshold opt.thres_safe, intra-sentence smoothed negative mask.
    Note: it sets opt.using_intra_info = True (the original does)."""
    similarities = []
    n_image = images.size(0)
    n_caption = captions.size(0)
    n_region = images.size(1)
    batch_size = n_image
    opt.using_intra_info = True

    for i in range(n_caption):
        n_word = int(cap_lens[i])
        cap_i = captions[i, :n_word, :].unsqueeze(0).contiguous()
        cap_i_expand = cap_i.repeat(n_image, 1, 1)
        contextT = torch.transpose(images, 1, 2)
        attn = torch.bmm(cap_i_expand, contextT)
        attn_i = torch.transpose(attn, 1, 2).contiguous()
        attn_thres = attn - torch.ones_like(attn) * opt.thres_safe

        batch_size, queryL, sourceL = images.size(0), cap_i_expand.size(1), images.size(1)
        attn_row = attn_thres.view(batch_size * queryL, sourceL)
        Row_max = torch.max(attn_row, 1)[0].unsqueeze(-1)
        if opt.using_intra_info:
            attn_intra = intra_relation(cap_i, cap_i, 5)
            attn_intra = attn_intra.repeat(batch_size, 1, 1)
            Row_max_intra = torch.bmm(attn_intra, Row_max.reshape(batch_size, n_word).unsqueeze(-1)).reshape(batch_size * n_word, 1)
            attn_neg = Row_max_intra.lt(0).double()
            t2i_sim_neg = Row_max * attn_neg
        else:
            attn_neg = Row_max.lt(0).float()
            t2i_sim_neg = Row_max * attn_neg
        t2i_sim_neg = t2i_sim_neg.view(batch_size, queryL)

        attn_pos = get_mask_attention(attn_row, batch_size, sourceL, queryL, opt.lambda_softmax)
        weiContext_pos = torch.bmm(attn_pos, images)
        t2i_sim_pos_f = cosine_similarity(cap_i_expand, weiContext_pos, dim=2)

        attn_weight = inter_relations(attn_i, batch_size, n_region, n_word, opt.lambda_softmax)
        t2i_sim_pos_r = attn.mul(attn_weight).sum(-1)

        t2i_sim_pos = t2i_sim_pos_f + t2i_sim_pos_r
        t2i_sim = t2i_sim_neg + t2i_sim_pos
        sim = t2i_sim.mean(dim=1, keepdim=True)
        similarities.append(sim)

    return torch.cat(similarities, 1)


def shard_xattn(images, captions, caplens, opt, shard_size=128):
    """evaluation.shard_xattn: float64 numpy embeddings in, float64 (n_image, n_caption) out."""
    n_im_shard = (len(images) - 1) // shard_size + 1
    n_cap_shard = (len(captions) - 1) // shard_size + 1
    d1 = np.zeros((len(images), len(captions)))
    with torch.no_grad():
        for i in range(n_im_shard):
            im_start, im_end = shard_size * i, min(shard_size * (i + 1), len(images))
            for j in range(n_cap_shard):
                cap_start, cap_end = shard_size * j, min(shard_size * (j + 1), len(captions))
                im = torch.from_numpy(images[im_start:im_end])
                s = torch.from_numpy(captions[cap_start:cap_end])
                l = caplens[cap_start:cap_end]
                d1[im_start:im_end, cap_start:cap_end] = xattn_score_test(im, s, l, opt).numpy()
    return d1


class ContrastiveLoss(nn.Module):
    def __init__(self, margin=0, max_violation=True):
        super().__init__()
        self.margin = margin
        self.max_violation = max_violation

    def forward(self, scores, length):
        diagonal = scores.diag().view(length, 1)
        d1 = diagonal.expand_as(scores)
        d2 = diagonal.t().expand_as(scores)
        cost_s = (self.margin + scores - d1).clamp(min=0)
        cost_im = (self.margin + scores - d2).clamp(min=0)
        mask = torch.eye(scores.size(0)) > .5
        cost_s = cost_s.masked_fill_(mask, 0)
        cost_im = cost_im.masked_fill_(mask, 0)
        if self.max_violation:
            cost_s = cost_s.max(1)[0]
            cost_im = cost_im.max(0)[0]
        return cost_s.sum() + cost_im.sum()


# ---------------------------------------------------------------------------------------------------------------
# The same scores for all pairs at once
# ---------------------------------------------------------------------------------------------------------------

def _raw(images, captions, lengths):
    """s [c, i, w, r] = caption word . region, the word-validity mask [c, w]."""
    ni, nr, d = images.shape
    nc, nw, _ = captions.shape
    s = (captions.reshape(nc * nw, d) @ images.reshape(ni * nr, d).t()).view(nc, nw, ni, nr).permute(0, 2, 1, 3)
    valid = torch.arange(nw).unsqueeze(0) < torch.as_tensor(lengths).view(-1, 1)
    return s.contiguous(), valid


def _relevance(s, valid, lam):
    """Positive branch 2: LeakyReLU(0.1), l2norm across the caption's words (+1e-8), softmax over regions with lam,
    sum over regions of raw s x weight. [c, i, w]"""
    lk = nn.functional.leaky_relu(s, 0.1) * valid[:, None, :, None].to(s.dtype)
    l = lk / (lk.pow(2).sum(2, keepdim=True).sqrt() + 1e-8)
    q = torch.softmax(l * lam, dim=3)
    return (s * q).sum(3)


def _gram(images):
    return images @ images.transpose(1, 2)  # [i, r, r]


def _threshold_terms(s, gram, theta, lam):
    """The terms that depend on the threshold, for captions s [c, i, w, r] each with its threshold theta [c]:
    row max of s - theta (the negative branch input) and positive branch 1 (masked exp attention, cosine)."""
    nc, ni, nw, nr = s.shape
    x = s - theta.to(s.dtype).view(-1, 1, 1, 1)
    row_max = x.max(3)[0]
    e = torch.exp(x.masked_fill(x <= 0, -1e9) * lam)
    p = e / (e.abs().sum(3, keepdim=True) + 1e-8)
    num = (p * s).sum(3)
    pg = torch.bmm(p.permute(1, 0, 2, 3).reshape(ni, nc * nw, nr), gram).view(ni, nc, nw, nr).permute(1, 0, 2, 3)
    sq = (pg * p).sum(3)
    big = sq > 1e-16  # ||attended|| > 1e-8; below, the original's clamp gives 1e-8 and a zero gradient
    den = torch.where(big, torch.where(big, sq, torch.ones_like(sq)).sqrt(), torch.full_like(sq, 1e-8))
    return row_max, num / den


def _mean_words(total, valid, lengths):
    """[c, i, w] -> mean over each caption's words -> [i, c]."""
    v = valid[:, None, :].to(total.dtype)
    return ((total * v).sum(2) / torch.as_tensor(lengths, dtype=total.dtype).view(-1, 1)).t()


CHUNK_ELEMENTS = 1 << 20  # pairs x words x regions per chunk of captions: keeps the working set in cache


def _chunk(images, captions):
    ni, nr = images.shape[0], images.shape[1]
    return max(1, CHUNK_ELEMENTS // (ni * nr * captions.shape[1]))


def xattn_score_batched(images, captions, cap_lens, opt, trace=None, mining=True):
    """xattn_score for all pairs at once (same opt updates, same per-caption thresholds), in chunks of captions."""
    lengths = [int(l) for l in cap_lens]
    nc = captions.size(0)
    lam = opt.lambda_softmax
    k = _chunk(images, captions)
    gram = _gram(images)
    parts = []
    for c0, cap in zip(range(0, nc, k), captions.split(k, 0)):
        s, valid = _raw(images, cap, lengths[c0:c0 + k])
        parts.append((s, valid, _relevance(s, valid, lam)))
    if not mining:
        theta = torch.full((nc,), float(opt.thres), dtype=torch.float64)
    else:
        theta = torch.tensor(_mine(parts, gram.detach(), lengths, opt, trace), dtype=torch.float64)
    out = []
    for c0, (s, valid, rel) in zip(range(0, nc, k), parts):
        row_max, f = _threshold_terms(s, gram, theta[c0:c0 + k], lam)
        out.append(_mean_words(row_max * row_max.lt(0).to(s.dtype) + f + rel, valid, lengths[c0:c0 + k]))
    return torch.cat(out, 1)


def _mine(parts, gram, lengths, opt, trace):
    """The caption-by-caption threshold walk of xattn_score; returns the threshold each caption is scored with."""
    lam = opt.lambda_softmax
    if trace is not None:
        for key in ("thres_used", "correct", "neg_index", "updates"):
            trace.setdefault(key, [])
    with torch.no_grad():
        raw, row_max_raw, sims0 = [], [], []
        for s, valid, rel in parts:
            s, rel = s.detach(), rel.detach()
            row_max_raw.append(s.max(3)[0])  # [c, i, w]: the sampled word maxima (raw attention, no threshold)
            rm0, f0 = _threshold_terms(s, gram, torch.zeros(s.shape[0], dtype=torch.float64), lam)
            sims0.append(_mean_words(rm0 * rm0.lt(0).to(s.dtype) + f0 + rel, valid, [int(v) for v in valid.sum(1)]))
            raw += [(s[j:j + 1], valid[j:j + 1], rel[j:j + 1]) for j in range(s.shape[0])]
        row_max_raw = torch.cat(row_max_raw, 0)
        sims0 = torch.cat(sims0, 1)  # [i, c] at threshold 0
        used, max_pos, max_neg, n_pos_word = [], [], [], 0
        for i in range(len(lengths)):
            n_word = lengths[i]
            theta = opt.thres
            used.append(theta)
            if theta == 0:
                sim = sims0[:, i]
            else:
                s, valid, rel = raw[i]
                rm, f = _threshold_terms(s, gram, torch.tensor([float(theta)], dtype=torch.float64), lam)
                sim = _mean_words(rm * rm.lt(0).to(s.dtype) + f + rel, valid, lengths[i:i + 1])[:, 0]
            wrong_index = sim.sort(0, descending=True)[1][0].item()
            neg_index = None
            if wrong_index == i:
                neg_index = sim.sort(0)[1][0].item()
                max_pos.append(row_max_raw[i, i, :n_word])
                max_neg.append(row_max_raw[i, neg_index, :n_word])
                n_pos_word += n_word
                if n_pos_word > 200:
                    _update(opt, torch.cat(max_pos, 0), torch.cat(max_neg, 0), trace, i, n_pos_word)
            if n_pos_word < 200:
                opt.thres = 0
                opt.thres_safe = 0
            if trace is not None:
                trace["thres_used"].append(theta)
                trace["correct"].append(wrong_index == i)
                trace["neg_index"].append(-1 if neg_index is None else neg_index)
    return used


def _update(opt, pos, neg, trace, caption, n_pos_word):
    """One threshold update, the original's arithmetic (float32 tensors, Python floats in opt)."""
    mean_pos, mean_neg = pos.mean(), neg.mean()
    stnd_pos, stnd_neg = pos.std(), neg.std()
    A = stnd_pos.pow(2) - stnd_neg.pow(2)
    B = 2 * ((mean_pos * stnd_neg.pow(2)) - (mean_neg * stnd_pos.pow(2)))
    C = (mean_neg * stnd_pos).pow(2) - (mean_pos * stnd_neg).pow(2) + 2 * (stnd_pos * stnd_neg).pow(2) * torch.log(stnd_neg / (opt.alpha * stnd_pos) + 1e-8)
    thres, thres_safe = opt.thres, opt.thres_safe
    opt.stnd_pos, opt.stnd_neg, opt.mean_pos, opt.mean_neg = stnd_pos.item(), stnd_neg.item(), mean_pos.item(), mean_neg.item()
    E = B.pow(2) - 4 * A * C
    rec = {"caption": caption, "n_pos_word": n_pos_word, "mean_pos": opt.mean_pos, "stnd_pos": opt.stnd_pos,
           "mean_neg": opt.mean_neg, "stnd_neg": opt.stnd_neg, "A": A.item(), "B": B.item(), "C": C.item(),
           "E": E.item(), "previous_thres": thres, "previous_thres_safe": thres_safe}
    if E > 0:
        opt.thres = ((-B + torch.sqrt(E)) / (2 * A + 1e-10)).item()
        opt.thres_safe = (mean_pos - 3 * opt.stnd_pos).item()
    rec["solved_thres"], rec["solved_thres_safe"] = opt.thres, opt.thres_safe
    if opt.thres < 0 or opt.thres > 1:
        opt.thres = 0
    if opt.thres_safe < 0 or opt.thres_safe > 1:
        opt.thres_safe = 0
    opt.thres = 0.7 * opt.thres + 0.3 * thres
    opt.thres_safe = 0.7 * opt.thres_safe + 0.3 * thres_safe
    rec["thres"], rec["thres_safe"] = opt.thres, opt.thres_safe
    if trace is not None:
        trace["updates"].append(rec)


def xattn_score_test_batched(images, captions, cap_lens, opt):
    """xattn_score_test for all pairs at once (threshold opt.thres_safe, intra-sentence smoothed mask), in chunks."""
    lengths = [int(l) for l in cap_lens]
    lam = opt.lambda_softmax
    gram = _gram(images)
    k = _chunk(images, captions)
    out = []
    for c0, cap in zip(range(0, captions.size(0), k), captions.split(k, 0)):
        lens = lengths[c0:c0 + k]
        s, valid = _raw(images, cap, lens)
        rel = _relevance(s, valid, lam)
        row_max, f = _threshold_terms(s, gram, torch.full((cap.size(0),), float(opt.thres_safe), dtype=torch.float64), lam)
        intra = torch.softmax((cap @ cap.transpose(1, 2) * 5).masked_fill(~valid[:, None, :], float("-inf")), dim=2)
        row_max_intra = torch.bmm(row_max * valid[:, None, :].to(s.dtype), intra.transpose(1, 2))  # [c, i, w]
        neg = row_max * row_max_intra.lt(0).to(s.dtype)
        out.append(_mean_words(neg + f + rel, valid, lens))
    return torch.cat(out, 1)


# ---------------------------------------------------------------------------------------------------------------
# Options as NAAF's train.py has them (argparse order and defaults)
# ---------------------------------------------------------------------------------------------------------------

def naaf_opt(**over):
    """argparse.Namespace with train.py's options in their order and with their default values (the six threshold
    statistics default to the int 0: argparse does not convert non-string defaults); vocab_size goes last, as
    train.py sets it after parsing."""
    o = dict(data_path="/home/zhangkun/data/", data_name="f30k_precomp", vocab_path="/home/zhangkun/data/vocab/",
             margin=0.2, num_epochs=20, batch_size=128, word_dim=300, embed_size=1024, grad_clip=2., num_layers=1,
             learning_rate=.0005, lr_update=20, workers=10, log_step=200, val_step=10,
             logger_name="./runs/runX/log", logg_path="./runs/runX/logs", model_name="./runs/runX/checkpoint",
             resume="", precomp_enc_type="basic", precomp_enc_text_type="GloVe", img_dim=2048, no_imgnorm=False,
             no_txtnorm=False, lambda_softmax=20., mean_neg=0, stnd_neg=0, mean_pos=0, stnd_pos=0, thres=0,
             thres_safe=0, alpha=2.0, using_intra_info=False)
    vocab_size = over.pop("vocab_size", None)
    for k in over:
        if k not in o:
            raise KeyError(k)
    o.update(over)
    o["vocab_size"] = vocab_size
    return argparse.Namespace(**o)


# ---------------------------------------------------------------------------------------------------------------
# --check on real data
# ---------------------------------------------------------------------------------------------------------------

def _rel(a, b):
    return ((a - b).abs().max() / b.abs().max().clamp(min=1e-12)).item()


def _load_split(folder, split, word2idx, limit=None):
    sys.path.insert(0, os.path.dirname(__file__))
    from train_reference import Split  # noqa: E402  (tokenisation as the originals: NLTK word_tokenize, lower-case)
    return Split(folder, split, word2idx, limit)


def check(a):
    torch.manual_seed(a.seed)
    torch.set_num_threads(a.threads)
    with open(a.vocab, encoding="utf-8") as f:
        word2idx = json.load(f)["word2idx"]
    train = _load_split(a.data, "train", word2idx)
    dev = _load_split(a.data, "dev", word2idx)
    img_dim = train.ims.shape[-1]
    opt = naaf_opt(precomp_enc_text_type="basic", img_dim=img_dim, embed_size=a.embed_size, word_dim=a.word_dim,
                   data_name="f8k_precomp", vocab_size=len(word2idx), lambda_softmax=a.lambda_softmax, alpha=a.alpha)
    img, txt = build_encoders(opt)
    if a.state:
        # Start from a model trained by train_reference.py --model naaf (same parameter names), with its threshold state.
        st = torch.load(a.state)
        img.load_state_dict(st["img"])
        txt.load_state_dict(st["txt"])
        for k in STATE_KEYS:
            setattr(opt, k, st["naaf"][k])
        print(f"from {a.state} (epoch {st['epoch']}): " + ", ".join(f"{k} {getattr(opt, k):.4f}" for k in STATE_KEYS), flush=True)
    params = list(txt.parameters()) + list(img.fc.parameters())
    adam = torch.optim.Adam(params, lr=opt.learning_rate)
    crit = ContrastiveLoss(margin=opt.margin)
    g = torch.Generator().manual_seed(a.seed)
    perm = []
    worst = {"scores": 0.0, "grads": 0.0, "thres_used": 0.0, "state": 0.0}
    decisions, total_updates, checked, boundary_flips = 0, 0, 0, 0
    t_loop = t_batched = 0.0
    for step in range(a.steps):
        if len(perm) < opt.batch_size:
            perm += torch.randperm(len(train.caps), generator=g).tolist()
        idx, perm = perm[:opt.batch_size], perm[opt.batch_size:]
        images, tokens, lengths = train.batch(idx)
        compare = step in a.check_at or step == a.steps - 1
        results = []
        fns = (xattn_score, xattn_score_batched) if compare else (xattn_score_batched,)
        state0 = {k: getattr(opt, k) for k in STATE_KEYS}
        for fn in fns:
            for k, v in state0.items():
                setattr(opt, k, v)
            adam.zero_grad()
            t0 = time.perf_counter()
            cap_emb, _ = txt(tokens, lengths)
            trace = {}
            scores = fn(img(images), cap_emb, lengths, opt, trace=trace)
            loss = crit(scores, images.size(0))
            loss.backward()
            dt = time.perf_counter() - t0
            if compare:
                if fn is xattn_score:
                    t_loop += dt
                else:
                    t_batched += dt
            results.append((scores.detach(), [p.grad.clone() for p in params], trace,
                            {k: getattr(opt, k) for k in STATE_KEYS}))
        if compare:
            (s1, g1, tr1, st1), (s2, g2, tr2, st2) = results
            # The scorer is discontinuous where a raw similarity equals the caption's threshold (a region enters or
            # leaves the positive attention with weight exp(0)); thresholds that differ by ~1e-7 (float32 statistics
            # summed in another order) may put a region on either side. Such captions are counted, not compared.
            with torch.no_grad():
                im_e, cap_e = img(images), txt(tokens, lengths)[0]
                near = [bool((torch.einsum("td,ird->itr", cap_e[c, :n], im_e) - float(tr1["thres_used"][c])).abs().min()
                             < 1e-5) for c, n in enumerate(lengths)]
            col_diff = (s2 - s1).abs().max(0)[0] / s1.abs().max()
            flips = [c for c in range(len(lengths)) if col_diff[c] > 1e-5]
            unexplained = [c for c in flips if not near[c]]
            boundary_flips += len(flips) - len(unexplained)
            keep = torch.tensor([c not in flips or c in unexplained for c in range(len(lengths))])
            d_scores = _rel(s2[:, keep], s1[:, keep])
            d_grads = max(_rel(x, y) for x, y in zip(g2, g1))
            d_used = max(abs(x - y) for x, y in zip(tr1["thres_used"], tr2["thres_used"]))
            d_state = max(abs(st1[k] - st2[k]) for k in STATE_KEYS)
            mism = sum(x != y for x, y in zip(tr1["correct"], tr2["correct"])) + \
                sum(x != y for x, y in zip(tr1["neg_index"], tr2["neg_index"]))
            decisions += mism
            total_updates += len(tr1["updates"])
            checked += 1
            for k, v in (("scores", d_scores), ("grads", d_grads), ("thres_used", d_used), ("state", d_state)):
                worst[k] = max(worst[k], v)
            print(f"step {step}: correct {sum(tr1['correct'])}/{len(lengths)}, updates {len(tr1['updates'])}, "
                  f"thres {st1['thres']:.6f} thres_safe {st1['thres_safe']:.6f} | batched vs loop: scores {d_scores:.1e} "
                  f"(rel), grads {d_grads:.1e} (rel), per-caption thresholds {d_used:.1e}, state {d_state:.1e} (abs), "
                  f"differing decisions {mism}, captions with a region at the threshold that flipped "
                  f"{len(flips) - len(unexplained)}", flush=True)
        nn.utils.clip_grad_norm_(params, opt.grad_clip)
        adam.step()
    # Test time on the dev split, float64 as evaluation.encode_data/shard_xattn.
    img.eval(); txt.eval()
    with torch.no_grad():
        n = dev.n_images
        ims = torch.from_numpy(np.asarray(dev.ims[:n * 5 // dev.im_div:5 // dev.im_div])).float()
        im64 = img(ims).double()
        order = sorted(range(5 * n), key=lambda k: len(dev.caps[k]), reverse=True)
        _, tokens, lengths = dev.batch(order)
        cap64 = txt(tokens, lengths)[0].double()
        if a.test_thres_safe is not None:
            opt.thres_safe = a.test_thres_safe
        t0 = time.perf_counter()
        loop = shard_xattn(im64.numpy(), cap64.numpy(), lengths, opt)
        t1 = time.perf_counter()
        bat = np.concatenate([xattn_score_test_batched(im64, cap64[j:j + 128], lengths[j:j + 128], opt).numpy()
                              for j in range(0, 5 * n, 128)], 1)
        t2 = time.perf_counter()
    d_test = float(np.abs(bat - loop).max() / np.abs(loop).max())
    print(f"test time (dev {n} x {5 * n}, float64, thres_safe {opt.thres_safe:.6f}): batched vs loop {d_test:.1e} (rel); "
          f"loop {t1 - t0:.2f}s, batched {t2 - t1:.2f}s", flush=True)
    result = {"checked_steps": checked, "updates_in_checked_steps": total_updates, "differing_decisions": decisions,
              "boundary_flips": boundary_flips,
              "max_rel_scores": worst["scores"], "max_rel_grads": worst["grads"],
              "max_abs_thres_used": worst["thres_used"], "max_abs_state": worst["state"], "max_rel_test": d_test,
              "seconds_loop_step": t_loop / max(checked, 1), "seconds_batched_step": t_batched / max(checked, 1)}
    print(json.dumps(result))
    ok = worst["scores"] < 1e-4 and worst["grads"] < 1e-3 and worst["thres_used"] < 1e-4 and worst["state"] < 1e-4 \
        and d_test < 1e-9 and decisions == 0
    return 0 if ok else 1


def main():
    repo = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
    data = os.environ.get("CROSSMODAL_DATA") or os.path.join(repo, "..", "shared", "data")
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--check", action="store_true", help="compare the batched scorers with the original loops")
    p.add_argument("--data", default=os.path.join(data, "f8k-1k-precomp"))
    p.add_argument("--vocab", default=os.path.join(data, "vocab", "f8k_precomp_vocab.json"))
    p.add_argument("--steps", type=int, default=40, help="training steps (batch 128) of the check run")
    p.add_argument("--check-at", type=lambda v: [int(x) for x in v.split(",")], default=[0, 10, 20, 30])
    p.add_argument("--embed-size", type=int, default=1024)
    p.add_argument("--word-dim", type=int, default=300)
    p.add_argument("--lambda-softmax", type=float, default=20.0)
    p.add_argument("--alpha", type=float, default=2.0)
    p.add_argument("--test-thres-safe", type=float, default=None,
                   help="threshold for the test-time comparison (default: the learned thres_safe)")
    p.add_argument("--state", help="start from a train_reference.py --model naaf state file (OUT.state.pt); "
                                    "--embed-size/--word-dim must match it")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--threads", type=int, default=1)
    a = p.parse_args()
    if not a.check:
        p.print_help()
        return 0
    return check(a)


if __name__ == "__main__":
    sys.exit(main())
