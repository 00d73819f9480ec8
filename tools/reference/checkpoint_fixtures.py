#!/usr/bin/python3
"""Reference fixtures for reading PyTorch checkpoints of the original VSE++, SCAN (issue 6) and VSRN (issue 15) code.

Run with Debian's interpreter (torch 1.13, numpy, nltk): /usr/bin/python3, never the pyenv python3 on PATH.

Mode 1, ``make`` (default): builds small VSE++ and SCAN models with the ORIGINAL module structure and parameter
names (fartashf/vsepp ``model.py``, kuanghuei/SCAN ``model.py``; re-written here from the methods reference,
sections 4.1, 4.2 and 8), random weights from a fixed seed, and writes under ``tests/fixtures/checkpoints/``:

  inputs/                       shared evaluation inputs (6 f8k test images x their 30 captions)
    image_indices.npy           int64 [6]      rows of {f8k-1k-precomp,f8k-1k-precomp-global}/test_ims.npy
    caption_indices.npy         int64 [30]     lines of test_caps.txt (captions 5i..5i+4 belong to image i)
    caption_ids.npy             int64 [30, L]  <start> tokens <end>, zero-padded, in file order (NOT sorted)
    caption_lengths.npy         int64 [30]     true lengths (tokens + 2)
    captions.jsonl              one {"line", "caption", "tokens"} object per caption (for humans and debugging)
  <model>/                      one folder per model
    <model>.zip.pth.tar         torch.save default (zip, torch >= 1.6)
    <model>.legacy.pth.tar      torch.save(..., _use_new_zipfile_serialization=False) (what 2018-2019 code wrote)
    img_emb.npy                 float32, VSE++ [6, E], SCAN [6, 36, E]   (encoder outputs, for localising bugs)
    cap_emb.npy                 float32, VSE++ [30, E], SCAN [30, L, E]  (SCAN: zero beyond each length)
    sims.npy                    float64 [6, 30], the evaluation similarity (images x captions) as the original
                                evaluation computes it (float32 encoders, float64 scoring)
  vsrn_f30k/, vsrn_coco/        VSRN (KunpengLi1994/VSRN @ 777ae74 through tools/reference/vsrn_reference.py) for
                                data_name f30k_precomp (bn, no l2norm before the GCN) and coco_precomp: img_dim 512,
                                embed 32, word_dim 6, the f8k vocabulary; BatchNorms with non-zero weight/bias and the
                                running statistics of 64 f8k training images. Saved as train.py saves:
                                {epoch, model: [img_enc.state_dict(), txt_enc.state_dict()] (no captioning modules),
                                best_rsum (float), opt: Namespace of train.py's options + vocab_size, Eiters}.
    <m>.zip.pth.tar             torch.save default
    <m>.py2legacy.pth.tar       what VSRN's Python 2.7 / PyTorch 0.4.1 train.py wrote: the legacy format with
                                _rebuild_tensor_v2 (6 arguments, backward_hooks None), torch.cuda.FloatStorage and
                                torch.cuda.LongStorage (int64 0-d num_batches_tracked), and each GRU's four tensors
                                as views at offsets 0, 3H*in, 3H*(in+H), 3H*(in+H)+3H of ONE storage (as cuDNN's
                                flattened weights are saved from the GPU)
    img_emb.npy, cap_emb.npy, sims.npy   as for VSE++ (eval mode: BatchNorm running statistics)
  vsrn_vocab/f8k_precomp_vocab.pkl
                                the f8k vocabulary (same words and ids as vocab/f8k_precomp_vocab.json) pickled as
                                VSRN's vocab.py did under Python 2.7: protocol 2, __main__.Vocabulary (NEWOBJ + BUILD)
                                with idx2word (int -> word), word2idx, idx; specials as byte strings, words unicode.
  naaf_basic/, naaf_glove/     NAAF (CrossmodalGroup/NAAF @ cafcd6f, via naaf_reference.py): the `basic` text encoder
                                with the SCAN f8k vocabulary, and the `GloVe` text encoder (`embed.glove.weight`, a
                                generated table) with the same words in NAAF's GloVe vocabulary order (<pad> 0, <unk> 1,
                                <start> 2, <end> 3: naaf_glove/f8k_precomp.json, naaf_glove/caption_ids.npy). Saved as
                                NAAF's train.py saves: {epoch, model: [img_sd, txt_sd], best_rsum, opt, Eiters} with the
                                whole train.py Namespace in argparse order (thres, thres_safe, mean_pos, stnd_pos,
                                mean_neg, stnd_neg, precomp_enc_text_type, lambda_softmax, alpha, using_intra_info set
                                True by the validation's test scorer, vocab_size last). naaf_basic holds learned-looking
                                float thresholds; naaf_glove holds thres = thres_safe = int 0, the state after a last
                                batch that collected fewer than 200 matched words (argparse's int defaults too).
                                sims.npy = evaluation.shard_xattn -> xattn_score_test in float64 with opt.thres_safe.
                                Listed under "naaf_models" in the manifest (and their files under "checkpoints").
  scan_t2i_lse/scan_t2i_lse.py2legacy.pth.tar
                                the same checkpoint as a Python 2 / torch 0.3 era legacy file: byte strings
                                (SHORT_BINSTRING), OrderedDict pickled from a list of [key, value] pairs,
                                torch._utils._rebuild_tensor (4 arguments), torch.cuda.FloatStorage on 'cuda:0'.
                                Emitted by a small pickler below and verified with torch.load.
  tensors/tensors.{zip,legacy}.pth.tar
                                a zoo of tensors and Python values: non-contiguous (transposed, strided), storage
                                offsets, shared storages, stride-0 expansion, float64/float16/bfloat16/int64/int32/
                                int16/int8/uint8/bool, 0-d and empty tensors, an nn.Parameter, tuples, sets,
                                bytes, big and negative integers, unicode strings.
  manifest.json                 for every file: format, sha256, top-level keys, epoch/best_rsum/Eiters, opt values
                                and Python types, state-dict names/shapes/dtypes per list entry, and the fixture
                                folder; for tensors/*: each entry's dtype, shape and values (as float64 lists).

Re-running is byte-stable: zip files are deterministic, and torch's legacy files (whose storages are named by memory
address) are only rewritten when their content changed.

Captions are tokenised like the originals: strip, lower-case, NLTK word_tokenize. NLTK's trained punkt data is
not installed here (offline), so the sentence split uses an untrained PunktSentenceTokenizer followed by
NLTKWordTokenizer -- exactly how ../shared/data/tokenizer-golden was made (verified: identical tokens on all 5,000
F30K test captions). Single-sentence captions are unaffected by the choice of punkt parameters.

Mode 3, ``write-safetensors {vsrn_f30k,vsrn_coco} OUT [--with-caption]``: converts a VSRN fixture checkpoint into
the CrossModal format below (optionally with freshly initialised caption_model.* tensors), to test mode 2.

Mode 4, ``naaf-safetensors {naaf_basic,naaf_glove} OUT [--scalar-dtype F32] [--no-vocab]``: the same for a NAAF
fixture (threshold scalars F64 by default; the vocabulary JSON as "vocab" metadata unless --no-vocab).

Mode 2, ``check-safetensors FILE [--expect SIMS.npy] [--tol 1e-4]``: the reverse check (VSE++, SCAN, VSRN and NAAF). Reads a CrossModal
safetensors checkpoint (format below; written by ``crossmodal import`` or ``crossmodal train``) with a plain-Python
parser (python3-safetensors is not installed), rebuilds the original PyTorch modules from its configuration,
loads the weights strictly, encodes the shared inputs, recomputes the similarity matrix in PyTorch and compares it
with --expect. Prints one JSON line; exit 1 on mismatch.

CrossModal safetensors checkpoint (CrossModal.Training.Checkpoint, "crossmodal-checkpoint/1")
---------------------------------------------------------------------------------------------
* Standard safetensors (8-byte little-endian header size, JSON header, raw little-endian data).
* Model tensors: the original state-dict entries of the two encoders, named ``img_enc.<name>`` and
  ``txt_enc.<name>`` (``img_enc.fc.weight`` [E, img_dim], ``img_enc.fc.bias``, ``txt_enc.embed.weight`` [V, word_dim],
  ``txt_enc.rnn.weight_ih_l0`` [3E, word_dim], ``txt_enc.rnn.weight_hh_l0`` [3E, E], ``txt_enc.rnn.bias_ih_l0``,
  ``txt_enc.rnn.bias_hh_l0`` and the ``_reverse`` four for a bi-GRU), F32, shapes exactly as in PyTorch. Training
  checkpoints add optimizer state under ``optimizer.`` (ignored here).
* ``__metadata__`` (strings): "format": "crossmodal-checkpoint/1"; "model_config": JSON with the model's settings
  in snake_case ({"model": "vsepp"|"scan", "img_dim", "embed_size", "word_dim", "vocab_size", "num_layers",
  "no_imgnorm", "no_txtnorm", "bi_gru", "precomp_enc_type", "cross_attn", "raw_feature_norm", "agg_func",
  "lambda_softmax", "lambda_lse"}, the original flag names);
  optional "vocab" (SCAN vocabulary JSON), "train_options", "train_state", "optimizer_step".
* Splitting names at the ``img_enc.``/``txt_enc.`` prefixes gives back the original ``model = [img_sd, txt_sd]``.
* VSRN: model_config {"model": "vsrn", "data_name", "img_dim", "embed_size", "word_dim", "vocab_size", "num_layers",
  "max_len", "dim_vid", "dim_hidden", "dim_word", "input_dropout_p", "rnn_dropout_p", "rnn_type", "bidirectional",
  "no_imgnorm", "use_abs", "measure", "margin", "max_violation"} (train.py's names); tensors img_enc.<EncoderImage-
  PrecompAttn names> (fc, img_rnn, Rs_GCN_{1..4}.{g,theta,phi,W.0,W.1}, bn for f30k_precomp; I64
  num_batches_tracked), txt_enc.<embed, rnn>, and optionally caption_model.encoder.{vid2hid,rnn}.* and
  caption_model.decoder.{embedding,attention.linear1,attention.linear2,rnn,out}.* (the S2VTAttModel state dict;
  absent after importing an original checkpoint, which has no captioning modules). Loaded strictly.
* NAAF ({"model": "naaf", "img_dim", "embed_size", "word_dim", "vocab_size", "num_layers", "precomp_enc_type",
  "precomp_enc_text_type" ("basic" | "GloVe"), "no_imgnorm", "no_txtnorm", "lambda_softmax", "alpha"}, other keys
  ignored): ``txt_enc.embed.weight`` (basic) or ``txt_enc.embed.glove.weight`` (GloVe), ``txt_enc.rnn.*`` always
  bidirectional, and the learned threshold state as top-level scalars ``thres``, ``thres_safe``, ``mean_pos``,
  ``stnd_pos``, ``mean_neg``, ``stnd_neg`` (any float dtype, shape [] or [1]); test-time scores use ``thres_safe``.
  Captions are tokenised with the checkpoint's "vocab" metadata when present (SCAN or NAAF GloVe JSON: both have
  word2idx), else with the fixture ids of the encoder type.
"""
import argparse
import collections
import hashlib
import io
import json
import os
import pickle
import struct
import sys
import zipfile

import numpy as np
import torch
import torch.nn as nn
import torch.nn.init
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vsrn_reference as V  # noqa: E402  (the original VSRN modules, KunpengLi1994/VSRN @ 777ae74)
import naaf_reference  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DATA = os.environ.get("CROSSMODAL_DATA") or os.path.abspath(os.path.join(REPO, "..", "shared", "data"))
OUT = os.path.join(REPO, "tests", "fixtures", "checkpoints")

IMAGE_INDICES = [0, 13, 37, 58, 91, 124]
SEED = 20240606
EMBED = 32
WORD_DIM = 12


# ---------------------------------------------------------------------------------------------------------------
# VSE++ (fartashf/vsepp model.py), precomputed-feature variant
# ---------------------------------------------------------------------------------------------------------------

def l2norm_vsepp(x):
    """VSE++: divide by the L2 norm over dim 1, no epsilon."""
    norm = torch.pow(x, 2).sum(dim=1, keepdim=True).sqrt()
    return torch.div(x, norm)


class VseEncoderImagePrecomp(nn.Module):
    def __init__(self, img_dim, embed_size, use_abs=False, no_imgnorm=False):
        super().__init__()
        self.embed_size = embed_size
        self.no_imgnorm = no_imgnorm
        self.use_abs = use_abs
        self.fc = nn.Linear(img_dim, embed_size)
        r = np.sqrt(6.) / np.sqrt(self.fc.in_features + self.fc.out_features)
        self.fc.weight.data.uniform_(-r, r)
        self.fc.bias.data.fill_(0)

    def forward(self, images):
        features = self.fc(images)
        if not self.no_imgnorm:
            features = l2norm_vsepp(features)
        if self.use_abs:
            features = torch.abs(features)
        return features


class VseEncoderText(nn.Module):
    def __init__(self, vocab_size, word_dim, embed_size, num_layers, use_abs=False):
        super().__init__()
        self.use_abs = use_abs
        self.embed_size = embed_size
        self.embed = nn.Embedding(vocab_size, word_dim)
        self.rnn = nn.GRU(word_dim, embed_size, num_layers, batch_first=True)
        self.embed.weight.data.uniform_(-0.1, 0.1)

    def forward(self, x, lengths):
        x = self.embed(x)
        packed = pack_padded_sequence(x, lengths, batch_first=True)
        out, _ = self.rnn(packed)
        padded = pad_packed_sequence(out, batch_first=True)
        index = torch.LongTensor(lengths).view(-1, 1, 1)
        index = index.expand(x.size(0), 1, self.embed_size) - 1
        out = torch.gather(padded[0], 1, index).squeeze(1)
        out = l2norm_vsepp(out)
        if self.use_abs:
            out = torch.abs(out)
        return out


def vsepp_order_sim(im, s):
    """VSE++ order-violation similarity: -||max(0, s - im)||_2, shape (n_image, n_caption)."""
    diff = s.unsqueeze(1).expand(s.size(0), im.size(0), s.size(1)) - im.unsqueeze(0).expand(s.size(0), im.size(0), s.size(1))
    return -diff.clamp(min=0).pow(2).sum(2).sqrt().t()


# ---------------------------------------------------------------------------------------------------------------
# SCAN (kuanghuei/SCAN model.py)
# ---------------------------------------------------------------------------------------------------------------

def l2norm_scan(x, dim, eps=1e-8):
    norm = torch.pow(x, 2).sum(dim=dim, keepdim=True).sqrt() + eps
    return torch.div(x, norm)


class ScanEncoderImagePrecomp(nn.Module):
    def __init__(self, img_dim, embed_size, no_imgnorm=False):
        super().__init__()
        self.embed_size = embed_size
        self.no_imgnorm = no_imgnorm
        self.fc = nn.Linear(img_dim, embed_size)
        r = np.sqrt(6.) / np.sqrt(self.fc.in_features + self.fc.out_features)
        self.fc.weight.data.uniform_(-r, r)
        self.fc.bias.data.fill_(0)

    def forward(self, images):
        features = self.fc(images)
        if not self.no_imgnorm:
            features = l2norm_scan(features, dim=-1)
        return features


class ScanEncoderText(nn.Module):
    def __init__(self, vocab_size, word_dim, embed_size, num_layers, use_bi_gru=False, no_txtnorm=False):
        super().__init__()
        self.embed_size = embed_size
        self.no_txtnorm = no_txtnorm
        self.embed = nn.Embedding(vocab_size, word_dim)
        self.use_bi_gru = use_bi_gru
        self.rnn = nn.GRU(word_dim, embed_size, num_layers, batch_first=True, bidirectional=use_bi_gru)
        self.embed.weight.data.uniform_(-0.1, 0.1)

    def forward(self, x, lengths):
        x = self.embed(x)
        packed = pack_padded_sequence(x, lengths, batch_first=True)
        out, _ = self.rnn(packed)
        cap_emb, cap_len = pad_packed_sequence(out, batch_first=True)
        if self.use_bi_gru:
            half = cap_emb.size(2) // 2  # the py2 original wrote "/ 2"
            cap_emb = (cap_emb[:, :, :half] + cap_emb[:, :, half:]) / 2
        if not self.no_txtnorm:
            cap_emb = l2norm_scan(cap_emb, dim=-1)
        return cap_emb, cap_len


def func_attention(query, context, opt, smooth, eps=1e-8):
    """query (n, queryL, d), context (n, sourceL, d) -> weighted context (n, queryL, d)."""
    batch_size, query_len = query.size(0), query.size(1)
    source_len = context.size(1)
    attn = torch.bmm(context, torch.transpose(query, 1, 2))  # (n, sourceL, queryL)
    if opt.raw_feature_norm == "softmax":
        attn = torch.softmax(attn.view(batch_size * source_len, query_len), dim=1).view(batch_size, source_len, query_len)
    elif opt.raw_feature_norm == "l2norm":
        attn = l2norm_scan(attn, 2)
    elif opt.raw_feature_norm == "clipped_l2norm":
        attn = nn.LeakyReLU(0.1)(attn)
        attn = l2norm_scan(attn, 2)
    elif opt.raw_feature_norm == "clipped":
        attn = nn.LeakyReLU(0.1)(attn)
    elif opt.raw_feature_norm == "no_norm":
        pass
    else:
        raise ValueError("unknown first norm type: " + opt.raw_feature_norm)
    attn = torch.transpose(attn, 1, 2).contiguous().view(batch_size * query_len, source_len)
    attn = torch.softmax(attn * smooth, dim=1).view(batch_size, query_len, source_len)
    attn_t = torch.transpose(attn, 1, 2).contiguous()  # (n, sourceL, queryL)
    weighted = torch.bmm(torch.transpose(context, 1, 2), attn_t)  # (n, d, queryL)
    return torch.transpose(weighted, 1, 2), attn_t


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    w12 = torch.sum(x1 * x2, dim)
    w1 = torch.norm(x1, 2, dim)
    w2 = torch.norm(x2, 2, dim)
    return (w12 / (w1 * w2).clamp(min=eps)).squeeze()


def aggregate(row_sim, opt):
    if opt.agg_func == "LogSumExp":
        row_sim = row_sim.mul(opt.lambda_lse).exp()
        return torch.log(row_sim.sum(dim=1, keepdim=True)) / opt.lambda_lse
    if opt.agg_func == "Max":
        return row_sim.max(dim=1, keepdim=True)[0]
    if opt.agg_func == "Sum":
        return row_sim.sum(dim=1, keepdim=True)
    if opt.agg_func == "Mean":
        return row_sim.mean(dim=1, keepdim=True)
    raise ValueError("unknown aggfunc: " + opt.agg_func)


def xattn_score_t2i(images, captions, cap_lens, opt):
    sims = []
    n_image = images.size(0)
    for i in range(captions.size(0)):
        n_word = int(cap_lens[i])
        cap_i = captions[i, :n_word, :].unsqueeze(0).contiguous().repeat(n_image, 1, 1)
        context, _ = func_attention(cap_i, images, opt, smooth=opt.lambda_softmax)
        row_sim = cosine_similarity(cap_i, context.contiguous(), dim=2)  # (n_image, n_word)
        sims.append(aggregate(row_sim, opt))
    return torch.cat(sims, 1)


def xattn_score_i2t(images, captions, cap_lens, opt):
    sims = []
    n_image = images.size(0)
    for i in range(captions.size(0)):
        n_word = int(cap_lens[i])
        cap_i = captions[i, :n_word, :].unsqueeze(0).contiguous().repeat(n_image, 1, 1)
        context, _ = func_attention(images, cap_i, opt, smooth=opt.lambda_softmax)
        row_sim = cosine_similarity(images, context.contiguous(), dim=2)  # (n_image, n_region)
        sims.append(aggregate(row_sim, opt))
    return torch.cat(sims, 1)


# ---------------------------------------------------------------------------------------------------------------
# Options (original names and defaults of the two train.py argument parsers)
# ---------------------------------------------------------------------------------------------------------------

def vsepp_opt(vocab_size, **over):
    o = dict(data_path="/data", data_name="f8k_precomp", vocab_path="./vocab/", margin=0.2, num_epochs=30,
             batch_size=128, word_dim=WORD_DIM, embed_size=EMBED, grad_clip=2.0, crop_size=224, num_layers=1,
             learning_rate=0.0002, lr_update=15, workers=10, log_step=10, val_step=500,
             logger_name="runs/runX", resume="", max_violation=True, img_dim=512, finetune=False,
             cnn_type="vgg19", use_restval=False, measure="cosine", use_abs=False, no_imgnorm=False,
             reset_train=False, vocab_size=vocab_size)
    o.update(over)
    return argparse.Namespace(**o)


def scan_opt(vocab_size, **over):
    o = dict(data_path="./data/", data_name="f8k_precomp", vocab_path="./vocab/", margin=0.2, num_epochs=30,
             batch_size=128, word_dim=WORD_DIM, embed_size=EMBED, grad_clip=2.0, num_layers=1,
             learning_rate=0.0002, lr_update=15, workers=10, log_step=10, val_step=500,
             logger_name="./runs/runX/log", model_name="./runs/runX/checkpoint", resume="",
             max_violation=True, img_dim=512, no_imgnorm=False, no_txtnorm=False,
             raw_feature_norm="clipped_l2norm", agg_func="LogSumExp", cross_attn="t2i",
             precomp_enc_type="basic", bi_gru=True, lambda_lse=6.0, lambda_softmax=9.0, vocab_size=vocab_size)
    o.update(over)
    return argparse.Namespace(**o)


MODELS = collections.OrderedDict([
    ("vsepp", ("vsepp", dict())),
    # Order0 of the VSE++ README: order-violation measure on |embeddings|.
    ("vsepp_order", ("vsepp", dict(measure="order", use_abs=True, margin=0.05, learning_rate=0.001))),
    # VSE0 of the VSE++ README: no image normalisation (sum of hinges).
    ("vse0", ("vsepp", dict(no_imgnorm=True, max_violation=False))),
    ("scan_t2i_lse", ("scan", dict(agg_func="LogSumExp", cross_attn="t2i", lambda_lse=6.0, lambda_softmax=9.0))),
    ("scan_t2i_mean", ("scan", dict(agg_func="Mean", cross_attn="t2i", lambda_softmax=9.0))),
    ("scan_i2t_lse", ("scan", dict(agg_func="LogSumExp", cross_attn="i2t", lambda_lse=5.0, lambda_softmax=4.0))),
    ("scan_i2t_mean", ("scan", dict(agg_func="Mean", cross_attn="i2t", lambda_softmax=4.0))),
])


# VSRN (KunpengLi1994/VSRN): tools/reference/vsrn_reference.py. data_name decides the l2norm before the GCN and the
# bn layer; checkpoints as train.py saves them: model = [img_enc.state_dict(), txt_enc.state_dict()], no captioning.
VSRN_MODELS = collections.OrderedDict([("vsrn_f30k", "f30k_precomp"), ("vsrn_coco", "coco_precomp")])
VSRN_WORD_DIM = 6  # small, to keep the two files per folder well under 1 MB (the embedding table is V x word_dim)


def vsrn_opt(vocab_size, data_name, name):
    """train.py's option names and defaults, with the published command's flags (--max_violation, --lr_update 10
    for F30K) and the small sizes of these fixtures (dim_vid must equal embed_size)."""
    return V.default_opt(data_path="./data/", data_name=data_name, max_violation=True, word_dim=VSRN_WORD_DIM,
                         embed_size=EMBED, img_dim=512, dim_vid=EMBED,
                         lr_update=10 if data_name == "f30k_precomp" else 15, logger_name="runs/" + name,
                         vocab_size=vocab_size)


def vsrn_trained_like(model, g, tracked):
    """Like a trained model: every BatchNorm gets a non-trivial weight and bias (the original initialises the Rs_GCN
    ones to 0, i.e. every GCN block would be an identity) and the running statistics of real inputs: one train-mode
    forward over the first 64 f8k training images with momentum None (running stats = that batch's statistics).
    Random running statistics would not do: R = theta(v)^T phi(v) / N is cubic in v, so four blocks whose BN does
    not normalise overflow float32 on these un-normalised features (f30k_precomp has no l2norm before the GCN)."""
    bns = [m for m in model.img_enc.modules() if isinstance(m, nn.BatchNorm1d)]
    with torch.no_grad():
        for module in bns:
            module.weight.copy_(torch.rand(module.num_features, generator=g) + 0.5)
            module.bias.copy_(torch.randn(module.num_features, generator=g) * 0.1)
            module.reset_running_stats()
            module.momentum = None
        ims = np.load(os.path.join(DATA, "f8k-1k-precomp", "train_ims.npy"), mmap_mode="r")
        model.img_enc.train()
        model.img_enc(torch.from_numpy(np.array(ims[:64], dtype=np.float32)))
        model.img_enc.eval()
        for module in bns:
            module.momentum = 0.1
            module.num_batches_tracked.fill_(tracked)


def build_vsrn(opt):
    model = V.VSRN(opt)
    model.val_start()
    return model


def build(method, opt):
    if method == "vsrn":
        model = build_vsrn(opt)
        return model.img_enc, model.txt_enc
    if method == "vsepp":
        img = VseEncoderImagePrecomp(opt.img_dim, opt.embed_size, opt.use_abs, opt.no_imgnorm)
        txt = VseEncoderText(opt.vocab_size, opt.word_dim, opt.embed_size, opt.num_layers, opt.use_abs)
    else:
        img = ScanEncoderImagePrecomp(opt.img_dim, opt.embed_size, opt.no_imgnorm)
        txt = ScanEncoderText(opt.vocab_size, opt.word_dim, opt.embed_size, opt.num_layers,
                              use_bi_gru=opt.bi_gru, no_txtnorm=opt.no_txtnorm)
    img.eval()
    txt.eval()
    return img, txt


# ---------------------------------------------------------------------------------------------------------------
# Inputs and evaluation
# ---------------------------------------------------------------------------------------------------------------

def tokenize(caption):
    from nltk.tokenize import NLTKWordTokenizer
    from nltk.tokenize.punkt import PunktSentenceTokenizer
    text = caption.strip().lower()
    return [w for s in PunktSentenceTokenizer().tokenize(text) for w in NLTKWordTokenizer().tokenize(s)]


def make_inputs():
    vocab = json.load(open(os.path.join(DATA, "vocab", "f8k_precomp_vocab.json"), encoding="utf-8"))
    w2i = vocab["word2idx"]
    caps = open(os.path.join(DATA, "f8k-1k-precomp", "test_caps.txt"), encoding="utf-8").read().splitlines()
    cap_lines = [5 * i + k for i in IMAGE_INDICES for k in range(5)]
    rows, tokens = [], []
    for line in cap_lines:
        toks = tokenize(caps[line])
        tokens.append(toks)
        rows.append([w2i["<start>"]] + [w2i.get(t, w2i["<unk>"]) for t in toks] + [w2i["<end>"]])
    lengths = np.array([len(r) for r in rows], dtype=np.int64)
    ids = np.zeros((len(rows), lengths.max()), dtype=np.int64)
    for i, r in enumerate(rows):
        ids[i, :len(r)] = r
    return dict(vocab_size=int(vocab["idx"]), word2idx=w2i, image_indices=np.array(IMAGE_INDICES, dtype=np.int64),
                caption_indices=np.array(cap_lines, dtype=np.int64), caption_ids=ids, caption_lengths=lengths,
                captions=[caps[l] for l in cap_lines], tokens=tokens)


def load_images(method, image_indices):
    folder = "f8k-1k-precomp-global" if method == "vsepp" else "f8k-1k-precomp"  # VSRN, SCAN: 36 regions
    ims = np.load(os.path.join(DATA, folder, "test_ims.npy"), mmap_mode="r")
    return torch.from_numpy(np.ascontiguousarray(ims[image_indices], dtype=np.float32))


def encode_captions(txt, method, ids, lengths):
    """Runs the text encoder the way the original collate does (sorted by length), returns file order."""
    order = np.argsort(-lengths, kind="stable")
    x = torch.from_numpy(ids[order][:, :lengths.max()])
    with torch.no_grad():
        out = txt(x, [int(l) for l in lengths[order]])
    emb = out if method in ("vsepp", "vsrn") else out[0]
    result = torch.zeros_like(emb)
    result[torch.from_numpy(order)] = emb
    return result


def similarities(method, opt, img, txt, inputs):
    images = load_images(method, inputs["image_indices"])
    with torch.no_grad():
        img_emb = img(images)
    if method == "vsrn":
        img_emb = img_emb[0]  # (features, GCN region features)
    cap_emb = encode_captions(txt, method, inputs["caption_ids"], inputs["caption_lengths"])
    # The original evaluation stores encoder outputs in float64 numpy arrays and scores in float64.
    im64, cap64 = img_emb.double(), cap_emb.double()
    with torch.no_grad():
        if method == "vsrn":
            sims = im64 @ cap64.t()  # evaluation.i2t/t2i: numpy.dot of the float64 embedding arrays
        elif method == "vsepp":
            sims = im64 @ cap64.t() if opt.measure == "cosine" else vsepp_order_sim(im64, cap64)
        elif opt.cross_attn == "t2i":
            sims = xattn_score_t2i(im64, cap64, inputs["caption_lengths"], opt)
        else:
            sims = xattn_score_i2t(im64, cap64, inputs["caption_lengths"], opt)
    return img_emb.numpy(), cap_emb.numpy(), sims.numpy()



# ---------------------------------------------------------------------------------------------------------------
# NAAF (CrossmodalGroup/NAAF model.py / train.py / evaluation.py, ported in naaf_reference.py)
# ---------------------------------------------------------------------------------------------------------------

NAAF_MODELS = collections.OrderedDict([
    ("naaf_basic", dict(precomp_enc_text_type="basic")),
    ("naaf_glove", dict(precomp_enc_text_type="GloVe")),
])


def glove_vocab(scan_word2idx):
    """The f8k words in NAAF's GloVe vocabulary order (retrieval.pytorch Tokenizer): <pad> 0, <unk> 1, <start> 2,
    <end> 3, then the other words in the SCAN file's index order (so their ids stay the same)."""
    special = {"<pad>": 0, "<unk>": 1, "<start>": 2, "<end>": 3}
    w2i = dict(special)
    for w, k in sorted(scan_word2idx.items(), key=lambda kv: kv[1]):
        if w not in special:
            w2i[w] = k
    assert sorted(w2i.values()) == list(range(len(w2i)))
    return w2i


def naaf_caption_ids(inputs, w2i):
    rows = [[w2i["<start>"]] + [w2i.get(t, w2i["<unk>"]) for t in toks] + [w2i["<end>"]] for toks in inputs["tokens"]]
    ids = np.zeros_like(inputs["caption_ids"])
    for i, r in enumerate(rows):
        ids[i, :len(r)] = r
    return ids


def naaf_similarities(opt, img, txt, images, ids, lengths):
    """evaluation.encode_data (float32 encoders into float64 buffers, zero beyond each caption) + shard_xattn."""
    with torch.no_grad():
        img_emb = img(images)
    cap_emb = encode_captions(txt, "scan", ids, lengths)
    sims = naaf_reference.shard_xattn(img_emb.double().numpy(), cap_emb.double().numpy(), [int(l) for l in lengths], opt)
    return img_emb.numpy(), cap_emb.numpy(), sims


def naaf_threshold_state(name, img, txt, images, ids, lengths):
    """Threshold statistics as the training rule would compute them from these 30 captions (positives: word maxima
    against the caption's image; negatives: against its lowest-scoring image, scored at threshold 0), and a
    thres_safe placed where no raw similarity is within 1e-5 of it (90,000 of them: a positive weight appears or
    vanishes there) and no intra-smoothed maximum within 1e-4 of 0 (the negative term switches there)."""
    if name == "naaf_glove":
        # The state after a last batch with fewer than 200 matched words: thresholds reset to the int 0, statistics kept.
        return dict(thres=0, thres_safe=0, mean_pos=0.3117952346801758, stnd_pos=0.0841638445854187,
                    mean_neg=0.2264397442340851, stnd_neg=0.0772542729973793)
    with torch.no_grad():
        im = img(images).double()
        cap = encode_captions(txt, "scan", ids, lengths).double()
        opt0 = naaf_reference.naaf_opt(lambda_softmax=20.0)
        sims = naaf_reference.xattn_score_test(im, cap, lengths, opt0)
        pos, neg = [], []
        for c, n in enumerate(lengths):
            s = torch.einsum("td,ird->itr", cap[c, :int(n)], im).max(2)[0]  # [i, w]
            pos.append(s[c // 5])
            neg.append(s[int(sims[:, c].argmin())])
        pos, neg = torch.cat(pos).float(), torch.cat(neg).float()
        stats = dict(mean_pos=pos.mean().item(), stnd_pos=pos.std().item(), mean_neg=neg.mean().item(),
                     stnd_neg=neg.std().item())
        raw = torch.cat([torch.einsum("td,ird->itr", cap[c, :int(n)], im).flatten() for c, n in enumerate(lengths)])
        row_max = torch.cat([torch.einsum("td,ird->itr", cap[c, :int(n)], im).max(2)[0].flatten()
                             for c, n in enumerate(lengths)])
        for q in np.linspace(0.35, 0.65, 301):  # about half of the words' best regions below the threshold
            ts = round(float(torch.quantile(row_max, float(q))), 6)
            parts_ok = 0 < ts < 1 and bool((raw - ts).abs().min() > 1e-5)
            for c, n in enumerate(lengths):
                s = torch.einsum("td,ird->itr", cap[c, :int(n)], im)
                m = (s - ts).max(2)[0]  # [i, w]
                intra = naaf_reference.intra_relation(cap[c:c + 1, :int(n)], cap[c:c + 1, :int(n)], 5)[0]
                parts_ok &= bool((m @ intra.t()).abs().min() > 1e-4)
            if parts_ok:
                return dict(thres=ts + 0.0612, thres_safe=ts, **stats)
    raise RuntimeError("no robust thres_safe")


def naaf_opt_for(name, over, vocab_size, state):
    o = dict(data_path="./data/", data_name="f8k_precomp", vocab_path="./vocab/", word_dim=WORD_DIM, embed_size=EMBED,
             img_dim=512, lr_update=10, precomp_enc_text_type=over["precomp_enc_text_type"], using_intra_info=True,
             vocab_size=vocab_size)
    o.update(state)
    return naaf_reference.naaf_opt(**o)


def make_naaf(manifest, inputs, scan_w2i):
    images = load_images("scan", inputs["image_indices"])
    lengths = inputs["caption_lengths"]
    for index, (name, over) in enumerate(NAAF_MODELS.items()):
        folder = os.path.join(OUT, name)
        os.makedirs(folder, exist_ok=True)
        torch.manual_seed(SEED + 100 + index)
        glove = over["precomp_enc_text_type"] == "GloVe"
        w2i = glove_vocab(scan_w2i) if glove else scan_w2i
        ids = naaf_caption_ids(inputs, w2i)
        if not glove:
            assert np.array_equal(ids, inputs["caption_ids"])
        # A generated GloVe-like table: <pad> a zero row (never trained: it only meets packed-out positions), the
        # rest random -- NAAF fine-tunes the table (requires_grad is set on the module, not the parameter).
        table = None
        if glove:
            g = torch.Generator().manual_seed(SEED + 300)
            table = torch.randn(len(w2i), WORD_DIM, generator=g) * 0.3
            table[w2i["<pad>"]] = 0
        opt = naaf_opt_for(name, over, len(w2i), {})
        img, txt = naaf_reference.build_encoders(opt, glove_weight=table)
        img.eval(); txt.eval()
        state = naaf_threshold_state(name, img, txt, images, ids, lengths)
        opt = naaf_opt_for(name, over, len(w2i), state)
        img_emb, cap_emb, sims = naaf_similarities(opt, img, txt, images, ids, lengths)
        assert opt.using_intra_info is True
        np.save(os.path.join(folder, "img_emb.npy"), np.ascontiguousarray(img_emb, dtype=np.float32))
        np.save(os.path.join(folder, "cap_emb.npy"), np.ascontiguousarray(cap_emb, dtype=np.float32))
        np.save(os.path.join(folder, "sims.npy"), np.ascontiguousarray(sims, dtype=np.float64))
        if glove:
            np.save(os.path.join(folder, "caption_ids.npy"), ids)
            with open(os.path.join(folder, "f8k_precomp.json"), "w", encoding="utf-8") as f:
                json.dump({"word2idx": w2i, "char_level": False, "max_len": None}, f)
        ck = {"epoch": 12 + index, "model": [img.state_dict(), txt.state_dict()], "best_rsum": 301.5 + index,
              "opt": opt, "Eiters": 360 * (index + 1) + 11}
        zpath = os.path.join(folder, name + ".zip.pth.tar")
        lpath = os.path.join(folder, name + ".legacy.pth.tar")
        torch.save(ck, zpath)
        save_legacy_if_changed(ck, lpath)
        for p, fmt in ((zpath, "zip"), (lpath, "legacy")):
            verify_load(p, ck)
            manifest["checkpoints"].append(checkpoint_entry(p, fmt, ck, name))
        manifest["naaf_models"][name] = {
            "method": "naaf", "folder": name, "precomp_enc_text_type": over["precomp_enc_text_type"],
            "sims": name + "/sims.npy", "img_emb": name + "/img_emb.npy", "cap_emb": name + "/cap_emb.npy",
            "caption_ids": (name + "/caption_ids.npy") if glove else "inputs/caption_ids.npy",
            "vocab": (name + "/f8k_precomp.json") if glove else "vocab/f8k_precomp_vocab.json (shared data)",
            "features": "f8k-1k-precomp", "thres_safe": opt.thres_safe,
            "threshold_state": {k: getattr(opt, k) for k in naaf_reference.STATE_KEYS}}
        # Self-check of the reverse path: write our safetensors format -> read it back -> same sims.
        vocab_json = json.dumps({"word2idx": w2i, "char_level": False, "max_len": None}) if glove else None
        got = check_safetensors_bytes(naaf_safetensors_bytes(ck, vocab_json), "<self-test " + name + ">")[2]
        assert np.abs(got - sims).max() < 1e-9, name


def naaf_safetensors_bytes(ck, vocab_json=None, scalar_dtype=torch.float64):
    """A CrossModal NAAF checkpoint (format in the module docstring), for the self-check and for tests."""
    o = vars(ck["opt"])
    entries = [("img_enc." + k, t) for k, t in ck["model"][0].items()] + [("txt_enc." + k, t) for k, t in ck["model"][1].items()]
    entries += [(k, torch.tensor(float(o[k]), dtype=scalar_dtype)) for k in naaf_reference.STATE_KEYS]
    config = {"model": "naaf", "img_dim": o["img_dim"], "embed_size": o["embed_size"], "word_dim": o["word_dim"],
              "vocab_size": o["vocab_size"], "num_layers": o["num_layers"], "precomp_enc_type": o["precomp_enc_type"],
              "precomp_enc_text_type": o["precomp_enc_text_type"], "no_imgnorm": o["no_imgnorm"],
              "no_txtnorm": o["no_txtnorm"], "lambda_softmax": o["lambda_softmax"], "alpha": o["alpha"]}
    meta = {"format": "crossmodal-checkpoint/1", "model_config": json.dumps(config)}
    if vocab_json is not None:
        meta["vocab"] = vocab_json
    return safetensors_from(entries, meta)


def safetensors_from(entries, meta):
    header, offset, blobs = {"__metadata__": meta}, 0, []
    for k, t in entries:
        b = t.detach().contiguous().numpy().tobytes()
        header[k] = {"dtype": ST_NAMES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(b)]}
        offset += len(b)
        blobs.append(b)
    h = json.dumps(header).encode("utf-8")
    h += b" " * ((8 - len(h) % 8) % 8)
    return struct.pack("<Q", len(h)) + h + b"".join(blobs)


def check_naaf_tensors(tensors, meta, name):
    config = json.loads(meta["model_config"])
    text_type = config.get("precomp_enc_text_type", "basic")
    if text_type not in ("basic", "GloVe"):
        raise ValueError(f"{name}: precomp_enc_text_type {text_type!r}, expected 'basic' or 'GloVe'")
    state = {}
    for k in naaf_reference.STATE_KEYS:
        if k not in tensors:
            raise ValueError(f"{name}: NAAF checkpoint without the scalar {k!r}")
        t = tensors[k]
        if t.numel() != 1 or not t.is_floating_point():
            raise ValueError(f"{name}: {k!r} is {t.dtype} {list(t.shape)}, expected one floating-point value")
        state[k] = float(t.reshape(()).double())
    opt = naaf_reference.naaf_opt(
        img_dim=config["img_dim"], embed_size=config["embed_size"], word_dim=config["word_dim"],
        vocab_size=config["vocab_size"], num_layers=config.get("num_layers", 1),
        precomp_enc_type=config.get("precomp_enc_type", "basic"), precomp_enc_text_type=text_type,
        no_imgnorm=config.get("no_imgnorm", False), no_txtnorm=config.get("no_txtnorm", False),
        lambda_softmax=config.get("lambda_softmax", 20.0), alpha=config.get("alpha", 2.0), **state)
    placeholder = torch.zeros(config["vocab_size"], config["word_dim"]) if text_type == "GloVe" else None
    img, txt = naaf_reference.build_encoders(opt, glove_weight=placeholder)
    img_sd = collections.OrderedDict((k[len("img_enc."):], v) for k, v in tensors.items() if k.startswith("img_enc."))
    txt_sd = collections.OrderedDict((k[len("txt_enc."):], v) for k, v in tensors.items() if k.startswith("txt_enc."))
    other = [k for k in tensors if not k.startswith(("img_enc.", "txt_enc.", "optimizer.")) and k not in state]
    if other:
        raise ValueError(f"{name}: unexpected tensors {other[:5]}")
    img.load_state_dict(img_sd, strict=True)
    txt.load_state_dict(txt_sd, strict=True)
    img.eval(); txt.eval()
    inputs = load_inputs()
    if "vocab" in meta:
        w2i = json.loads(meta["vocab"])["word2idx"]
        toks = [json.loads(l)["tokens"] for l in open(os.path.join(OUT, "inputs", "captions.jsonl"), encoding="utf-8")]
        ids = naaf_caption_ids({"tokens": toks, "caption_ids": inputs["caption_ids"]}, w2i)
    elif text_type == "GloVe":
        ids = np.load(os.path.join(OUT, "naaf_glove", "caption_ids.npy"))
    else:
        ids = inputs["caption_ids"]
    images = load_images("scan", inputs["image_indices"])
    return meta, "naaf", naaf_similarities(opt, img, txt, images, ids, inputs["caption_lengths"])[2]


# ---------------------------------------------------------------------------------------------------------------
# A Python 2 / torch 0.3 style legacy writer (protocol 2 with byte strings), for the py2legacy fixture
# ---------------------------------------------------------------------------------------------------------------

class Py2Pickler:
    """Emits protocol-2 opcodes the way Python 2.7's pickle did for torch.save (str = byte strings)."""

    def __init__(self):
        self.out = io.BytesIO()
        self.memo = 0
        self.globals = {}

    def op(self, b):
        self.out.write(b)

    def put(self):
        if self.memo < 256:
            self.op(b"q" + bytes([self.memo]))
        else:
            self.op(b"r" + struct.pack("<I", self.memo))
        self.memo += 1

    def glob(self, module, name):
        key = (module, name)
        if key in self.globals:
            index = self.globals[key]
            self.op((b"h" + bytes([index])) if index < 256 else (b"j" + struct.pack("<I", index)))
            return
        self.op(b"c" + module.encode() + b"\n" + name.encode() + b"\n")
        self.globals[key] = self.memo
        self.put()

    def save(self, v):
        if v is None:
            self.op(b"N")
        elif v is True:
            self.op(b"\x88")
        elif v is False:
            self.op(b"\x89")
        elif isinstance(v, int):
            if 0 <= v < 256:
                self.op(b"K" + bytes([v]))
            elif 0 <= v < 65536:
                self.op(b"M" + struct.pack("<H", v))
            else:
                self.op(b"J" + struct.pack("<i", v))
        elif isinstance(v, np.float64):
            # Python 2 numpy: scalar(dtype('f8'), <8 raw bytes as a byte string>); dtype rebuilt from ('f8', 0, 1)
            # plus BUILD state (3, '<', None, None, None, -1, -1, 0). SCAN/VSE++ stored best_rsum like this.
            self.glob("numpy.core.multiarray", "scalar")
            self.glob("numpy", "dtype")
            self.save(("f8", 0, 1))
            self.op(b"R")
            self.put()
            self.save((3, "<", None, None, None, -1, -1, 0))
            self.op(b"b")
            raw = struct.pack("<d", float(v))
            self.op(b"U" + bytes([len(raw)]) + raw)
            self.put()
            self.op(b"\x86R")
            self.put()
        elif isinstance(v, float):
            self.op(b"G" + struct.pack(">d", v))
        elif isinstance(v, str):
            b = v.encode("utf-8")
            self.op((b"U" + bytes([len(b)])) if len(b) < 256 else (b"T" + struct.pack("<i", len(b))))
            self.out.write(b)
            self.put()
        elif isinstance(v, tuple):
            if len(v) == 0:
                self.op(b")")
                return
            if len(v) <= 3:  # protocol 2 writes short tuples with TUPLE1/2/3
                for x in v:
                    self.save(x)
                self.op(bytes([0x84 + len(v)]))
            else:
                self.op(b"(")
                for x in v:
                    self.save(x)
                self.op(b"t")
            self.put()
        elif isinstance(v, list):
            self.op(b"]")
            self.put()
            if v:
                self.op(b"(")
                for x in v:
                    self.save(x)
                self.op(b"e")
        elif isinstance(v, collections.OrderedDict):
            # Python 2.7: OrderedDict.__reduce__ -> (OrderedDict, ([[k, v], ...],))
            self.glob("collections", "OrderedDict")
            self.save(([[k, x] for k, x in v.items()],))
            self.op(b"R")
            self.put()
        elif isinstance(v, dict):
            self.op(b"}")
            self.put()
            if v:
                self.op(b"(")
                for k, x in v.items():
                    self.save(k)
                    self.save(x)
                self.op(b"u")
        elif isinstance(v, argparse.Namespace):
            self.glob("argparse", "Namespace")
            self.op(b")\x81")
            self.put()
            self.save(dict(vars(v)))
            self.op(b"b")
        elif isinstance(v, Py2TensorV2):
            # torch 0.4: _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks),
            # backward_hooks = tensor._backward_hooks = None for a state-dict tensor; the persistent id is
            # ('storage', storage class, root key, location, root numel, view_metadata None).
            self.glob("torch._utils", "_rebuild_tensor_v2")
            self.op(b"(")
            self.op(b"(")
            self.shared_str("storage")
            self.glob("torch.cuda", v.storage_class)
            self.save(v.key)
            self.save("cuda:0")
            self.save(v.storage_numel)
            self.op(b"N")
            self.op(b"t")
            self.put()
            self.op(b"Q")
            self.save(v.offset)
            self.save(v.size)
            self.save(v.stride)
            self.save(False)
            self.op(b"N")
            self.op(b"t")
            self.put()
            self.op(b"R")
            self.put()
        elif isinstance(v, Py2Tensor):
            # torch 0.3: _rebuild_tensor(storage, storage_offset, size, stride); storage = persistent id
            self.glob("torch._utils", "_rebuild_tensor")
            self.op(b"(")
            self.op(b"(")
            self.save("storage")
            self.glob("torch.cuda", "FloatStorage")
            self.save(v.key)
            self.save("cuda:0")
            self.save(v.numel)
            self.op(b"N")
            self.op(b"t")
            self.put()
            self.op(b"Q")
            self.save(0)
            self.save(v.size)
            self.save(v.stride)
            self.op(b"t")
            self.put()
            self.op(b"R")
            self.put()
        else:
            raise TypeError(type(v))

    def shared_str(self, v):
        """A string constant of the saving code (one object in Python 2, so the pickler's memo returns it with
        BINGET after its first use)."""
        if not hasattr(self, "strings"):
            self.strings = {}
        if v in self.strings:
            index = self.strings[v]
            self.op((b"h" + bytes([index])) if index < 256 else (b"j" + struct.pack("<I", index)))
            return
        self.strings[v] = self.memo
        self.save(v)

    def dumps(self, v):
        self.op(b"\x80\x02")
        self.save(v)
        self.op(b".")
        return self.out.getvalue()


class Py2Tensor:
    def __init__(self, key, t):
        self.key, self.numel, self.size, self.stride = key, t.numel(), tuple(t.size()), tuple(t.stride())


def save_py2_legacy(path, checkpoint):
    storages = []

    def convert(v):
        if isinstance(v, torch.Tensor):
            key = str(140000000 + 4096 * len(storages))
            storages.append((key, v.detach().contiguous().float()))
            return Py2Tensor(key, v)
        if isinstance(v, collections.OrderedDict):
            return collections.OrderedDict((k, convert(x)) for k, x in v.items())
        if isinstance(v, dict):
            return {k: convert(x) for k, x in v.items()}
        if isinstance(v, list):
            return [convert(x) for x in v]
        return v

    obj = convert(checkpoint)
    out = io.BytesIO()
    out.write(b"\x80\x02\x8a\x0a" + (0x1950a86a20f9469cfc6c).to_bytes(10, "little") + b".")
    out.write(Py2Pickler().dumps(1001))
    out.write(Py2Pickler().dumps({"protocol_version": 1001, "little_endian": True,
                                  "type_sizes": {"short": 2, "int": 4, "long": 8}}))
    out.write(Py2Pickler().dumps(obj))
    out.write(Py2Pickler().dumps(sorted(k for k, _ in storages)))
    for key, t in sorted(storages, key=lambda kv: kv[0]):
        out.write(struct.pack("<q", t.numel()))
        out.write(t.numpy().astype("<f4").tobytes())
    with open(path, "wb") as f:
        f.write(out.getvalue())


class Py2TensorV2:
    def __init__(self, key, storage_class, storage_numel, offset, t):
        self.key, self.storage_class, self.storage_numel = key, storage_class, storage_numel
        self.offset, self.size, self.stride = offset, tuple(t.size()), tuple(t.stride())


STORAGE_CLASS = {torch.float32: ("FloatStorage", "<f4"), torch.int64: ("LongStorage", "<i8")}


def save_py2_legacy_torch04(path, checkpoint, flat_groups=()):
    """What VSRN's train.py wrote (Python 2.7, PyTorch 0.4.1, model on the GPU): torch.save's legacy format with
    protocol-2 pickles, byte strings, OrderedDict from [key, value] pairs, argparse.Namespace via NEWOBJ + BUILD,
    torch._utils._rebuild_tensor_v2 (6 arguments), torch.cuda.FloatStorage / torch.cuda.LongStorage (the int64
    num_batches_tracked buffers) on 'cuda:0'. flat_groups: tuples of state-dict names whose tensors share one storage
    at increasing offsets, as cuDNN's flattened GRU weights (weight_ih, weight_hh, bias_ih, bias_hh) do on the GPU."""
    storages = collections.OrderedDict()  # key -> (class, dtype, list of flat tensors)
    placement = {}

    def new_key():
        return str(140000000 + 4096 * len(storages))

    for sd_index, sd in enumerate(checkpoint["model"]):
        for group in flat_groups:
            names = [n for n in group if n in sd]
            if len(names) != len(group):
                continue
            key = new_key()
            parts, offset = [], 0
            for n in names:
                placement[(sd_index, n)] = (key, offset)
                parts.append(sd[n].detach().contiguous().view(-1))
                offset += sd[n].numel()
            storages[key] = ("FloatStorage", "<f4", parts)
    numel = {}
    for key, (_, _, parts) in storages.items():
        numel[key] = sum(p.numel() for p in parts)

    def convert(v, path_):
        if isinstance(v, torch.Tensor):
            sd_index, name = path_
            cls, fmt = STORAGE_CLASS[v.dtype]
            if (sd_index, name) in placement:
                key, offset = placement[(sd_index, name)]
                return Py2TensorV2(key, cls, numel[key], offset, v.contiguous())
            key = new_key()
            storages[key] = (cls, fmt, [v.detach().contiguous().view(-1)])
            numel[key] = v.numel()
            return Py2TensorV2(key, cls, v.numel(), 0, v.contiguous())
        if isinstance(v, collections.OrderedDict):
            return collections.OrderedDict((k, convert(x, (path_, k))) for k, x in v.items())
        if isinstance(v, dict):
            return {k: convert(x, k) for k, x in v.items()}
        if isinstance(v, list):
            return [convert(x, i) for i, x in enumerate(v)]
        return v

    obj = dict(checkpoint)
    obj["model"] = [collections.OrderedDict((k, convert(x, (i, k))) for k, x in sd.items())
                    for i, sd in enumerate(checkpoint["model"])]
    out = io.BytesIO()
    out.write(b"\x80\x02\x8a\x0a" + (0x1950a86a20f9469cfc6c).to_bytes(10, "little") + b".")
    out.write(Py2Pickler().dumps(1001))
    out.write(Py2Pickler().dumps({"protocol_version": 1001, "little_endian": True,
                                  "type_sizes": {"short": 2, "int": 4, "long": 8}}))
    out.write(Py2Pickler().dumps(obj))
    keys = sorted(storages)
    out.write(Py2Pickler().dumps(keys))
    for key in keys:
        _, fmt, parts = storages[key]
        flat = torch.cat(parts) if len(parts) > 1 else parts[0]
        out.write(struct.pack("<q", flat.numel()))
        out.write(flat.numpy().astype(fmt).tobytes())
    with open(path, "wb") as f:
        f.write(out.getvalue())


# ---------------------------------------------------------------------------------------------------------------
# The tensor zoo
# ---------------------------------------------------------------------------------------------------------------

def tensor_zoo():
    g = torch.Generator().manual_seed(SEED + 7)
    base = torch.randn(4, 6, generator=g)
    shared = torch.arange(24, dtype=torch.float32)
    zoo = collections.OrderedDict()
    zoo["contiguous"] = base
    zoo["transposed"] = base.t()                       # strides (1, 6)
    zoo["strided_slice"] = base[1:, ::2]               # offset 6, strides (6, 2)
    zoo["shared_a"] = shared.view(4, 6)[2]             # offset 12 into a shared storage
    zoo["shared_b"] = shared.view(2, 3, 4).permute(2, 0, 1)  # same storage, permuted
    zoo["expanded"] = torch.tensor([1.5, -2.5, 3.25]).view(3, 1).expand(3, 4)  # stride (1, 0)
    zoo["float64"] = torch.tensor([[1e-3, -2.0, 3.141592653589793], [1e30, -1e-30, 0.0]], dtype=torch.float64)
    zoo["float16"] = torch.tensor([0.5, -1.25, 65504.0, 6.1e-5], dtype=torch.float16)
    zoo["bfloat16"] = torch.tensor([1.0, -3.5, 1e20], dtype=torch.bfloat16)
    zoo["int64"] = torch.tensor([[-(2 ** 40), 7], [123456789, -1]], dtype=torch.int64)
    zoo["int32"] = torch.tensor([-5, 2 ** 30], dtype=torch.int32)
    zoo["int16"] = torch.tensor([-300, 301], dtype=torch.int16)
    zoo["int8"] = torch.tensor([-128, 127], dtype=torch.int8)
    zoo["uint8"] = torch.tensor([0, 1, 255], dtype=torch.uint8)
    zoo["bool"] = torch.tensor([True, False, True])
    zoo["scalar"] = torch.tensor(2.75)
    zoo["empty"] = torch.zeros(0, 3)
    zoo["parameter"] = nn.Parameter(torch.tensor([[0.25, -0.5]]))
    values = {
        "tensors": zoo,
        "tuple": (1, "two", 3.0, None, True, False),
        "nested": [[1, [2, [3]]], {"k": (4,)}],
        "set": {1, 2, 3},
        "frozenset": frozenset(["a"]),
        "bytes": b"\x00\x01\xffabc",
        "big_int": 2 ** 100 + 1,
        "negative_int": -123456789012,
        "small_negative": -1,
        "unicode": "caf\u00e9 \u2013 \U0001F600",
        "float": -0.1,
        "int_keys": {1: "one", -2: "minus two"},
    }
    return values


# ---------------------------------------------------------------------------------------------------------------
# make
# ---------------------------------------------------------------------------------------------------------------

class _Stub:
    """Stands in for every global while measuring pickle boundaries (nothing is reconstructed)."""

    def __init__(self, *a, **k):
        pass

    def __setstate__(self, state):
        pass

    def __setitem__(self, k, v):
        pass

    def append(self, v):
        pass

    def extend(self, v):
        pass


ELEMENT_SIZE = {"FloatStorage": 4, "DoubleStorage": 8, "HalfStorage": 2, "BFloat16Storage": 2, "LongStorage": 8,
                "IntStorage": 4, "ShortStorage": 2, "CharStorage": 1, "ByteStorage": 1, "BoolStorage": 1}


def sections(path, fmt):
    """Byte offsets where the file's sections end/begin: the truncation points the C# tests cut at.

    legacy: after the magic, protocol, sys-info, object and key-list pickles, then after each storage's count
    and after its data. zip: each entry's local header, data start and data end, the central directory and the
    end-of-central-directory record.
    """
    data = open(path, "rb").read()
    if fmt.startswith("legacy"):
        f = io.BytesIO(data)
        cuts = []
        for _ in range(3):
            pickle.load(f)
            cuts.append(f.tell())
        sizes = {}

        class Measure(pickle.Unpickler):
            def find_class(self, module, name):
                return type(name, (_Stub,), {"qual": module + "." + name})

            def persistent_load(self, pid):
                sizes[pid[2]] = ELEMENT_SIZE[pid[1].__name__]
                return None

        Measure(f, encoding="latin1").load()
        cuts.append(f.tell())
        keys = pickle.load(f, encoding="latin1")
        cuts.append(f.tell())
        for k in keys:
            (count,) = struct.unpack("<q", f.read(8))
            cuts.append(f.tell())
            f.seek(count * sizes[k], 1)
            cuts.append(f.tell())
        assert f.tell() == len(data), path
        return cuts
    z = zipfile.ZipFile(path)
    cuts = []
    for info in z.infolist():
        name_len, extra_len = struct.unpack("<HH", data[info.header_offset + 26:info.header_offset + 30])
        start = info.header_offset + 30 + name_len + extra_len
        cuts += [info.header_offset, start, start + info.compress_size]
    cuts.append(z.start_dir)
    cuts.append(data.rfind(b"PK\x05\x06"))
    return sorted(set(cuts))


# ---------------------------------------------------------------------------------------------------------------
# A pickle corpus: one value pickled with every protocol, plus Python 2 style byte strings and numpy scalars
# ---------------------------------------------------------------------------------------------------------------

def pickle_corpus_value():
    shared = [1, "shared"]
    return {
        "none": None, "true": True, "false": False,
        "int_small": 7, "int_neg": -3, "int_mid": 70000, "int_min32": -2 ** 31, "int_max64": 2 ** 63 - 1,
        "int_big": 2 ** 64 + 5, "int_negbig": -(2 ** 70),
        "float": 0.1, "float_tiny": -2.5e-300, "float_inf": float("inf"), "float_int": 6.0,
        "str": "hello", "unicode": "caf\u00e9 \u2013 \U0001F600 \\ \n", "empty_str": "", "long_str": "x" * 300,
        "bytes": b"\x00\xffab\n", "empty_bytes": b"", "bytearray": bytearray(b"\x01\x02"),
        "list": [1, [2, 3], []], "tuple0": (), "tuple1": (1,), "tuple2": (1, 2), "tuple3": (1, 2, 3),
        "tuple5": (1, 2, 3, 4, 5), "set": {1, 2}, "frozenset": frozenset({"a"}),
        "ordered": collections.OrderedDict([("b", 1), ("a", 2)]),
        "namespace": argparse.Namespace(x=1, y="z", flag=True),
        "int_keys": {1: "a", (1, 2): "tuple key", None: "none key"},
        "shared": [shared, shared],
        "np_f64": np.float64(123.25), "np_f32": np.float32(0.5), "np_i64": np.int64(-7), "np_bool": np.bool_(True),
        "many": list(range(1500)),
    }


def describe(v):
    """JSON description of a Python value, shared by the pickle corpus and the tensor zoo."""
    if isinstance(v, torch.Tensor):
        return {"tensor": {"dtype": str(v.dtype).replace("torch.", ""), "shape": list(v.shape),
                           "values": v.detach().double().flatten().tolist(), "requires_grad": bool(v.requires_grad),
                           "parameter": isinstance(v, nn.Parameter)}}
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if v is None or isinstance(v, str):
        return v
    if isinstance(v, (int, np.integer)):
        return {"int": str(int(v))}
    if isinstance(v, (float, np.floating)):
        return {"float": repr(float(v))}
    if isinstance(v, (bytes, bytearray)):
        return {"bytes": list(v)}
    if isinstance(v, collections.OrderedDict):
        return {"ordered_dict": [[describe(k), describe(x)] for k, x in v.items()]}
    if isinstance(v, dict):
        return {"dict": [[describe(k), describe(x)] for k, x in v.items()]}
    if isinstance(v, argparse.Namespace):
        return {"namespace": [[k, describe(x)] for k, x in vars(v).items()]}
    if isinstance(v, list):
        return {"list": [describe(x) for x in v]}
    if isinstance(v, tuple):
        return {"tuple": [describe(x) for x in v]}
    if isinstance(v, (set, frozenset)):
        return {type(v).__name__: sorted((describe(x) for x in v), key=json.dumps)}
    raise TypeError(type(v))


def make_pickles():
    folder = os.path.join(OUT, "pickles")
    os.makedirs(folder, exist_ok=True)
    value = pickle_corpus_value()
    files = []
    for protocol in range(0, 6):
        data = pickle.dumps(value, protocol=protocol)
        assert describe(pickle.loads(data)) == describe(value)
        name = f"corpus.p{protocol}.pkl"
        open(os.path.join(folder, name), "wb").write(data)
        files.append(name)
    # Python 2 style (byte strings, OrderedDict from pairs, numpy scalar from a byte string).
    py2_value = collections.OrderedDict([
        ("str", "hello"), ("int", 5), ("neg", -70000), ("float", 0.25), ("none", None), ("true", True),
        ("list", [1, "two"]), ("tuple", (1, 2)), ("dict", {"k": "v"}), ("np_f64", np.float64(501.5)),
        ("namespace", argparse.Namespace(data_name="f30k_precomp", lambda_lse=6.0, bi_gru=True)),
        ("long_str", "y" * 300),
    ])
    data = Py2Pickler().dumps(py2_value)
    assert describe(pickle.loads(data, encoding="latin1")) == describe(py2_value)
    open(os.path.join(folder, "py2.p2.pkl"), "wb").write(data)
    files.append("py2.p2.pkl")
    return {"folder": "pickles", "files": files, "value": describe(value), "py2_value": describe(py2_value)}


def sha256(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def py_type(v):
    return type(v).__name__


def checkpoint_entry(path, fmt, ck, fixture):
    sds = []
    for sd in ck["model"]:
        sds.append([{"name": k, "shape": list(t.shape), "dtype": str(t.dtype).replace("torch.", "")} for k, t in sd.items()])
    opt = vars(ck["opt"])
    return {"file": os.path.relpath(path, OUT), "format": fmt, "sha256": sha256(path), "bytes": os.path.getsize(path),
            "sections": sections(path, fmt),
            "fixture": fixture, "top_keys": list(ck.keys()), "epoch": ck["epoch"], "best_rsum": ck["best_rsum"],
            "Eiters": ck["Eiters"], "opt": opt, "opt_types": {k: py_type(v) for k, v in opt.items()},
            "state_dicts": sds}


def verify_load(path, ck, **kw):
    """torch.load must give back exactly what was saved (guards the hand-written py2 emitter too)."""
    back = torch.load(path, map_location="cpu", **kw)
    assert float(back["best_rsum"]) == float(ck["best_rsum"]), path
    assert list(back.keys()) == list(ck.keys()), path
    assert vars(back["opt"]) == vars(ck["opt"]), path
    for a, b in zip(back["model"], ck["model"]):
        assert list(a.keys()) == list(b.keys()), path
        for k in a:
            assert a[k].dtype == b[k].dtype and torch.equal(a[k], b[k]), (path, k)


def save_legacy_if_changed(ck, path):
    """Legacy files name storages by memory address, so each run writes different bytes for the same content;
    keep an existing file whose content torch.load confirms, to spare the repository a binary churn."""
    if os.path.exists(path):
        try:
            verify_load(path, ck)
            return
        except (AssertionError, RuntimeError, KeyError):
            pass
    torch.save(ck, path, _use_new_zipfile_serialization=False)


def make():
    os.makedirs(OUT, exist_ok=True)
    inputs = make_inputs()
    d = os.path.join(OUT, "inputs")
    os.makedirs(d, exist_ok=True)
    for name in ("image_indices", "caption_indices", "caption_ids", "caption_lengths"):
        np.save(os.path.join(d, name + ".npy"), inputs[name])
    with open(os.path.join(d, "captions.jsonl"), "w", encoding="utf-8") as f:
        for line, cap, toks in zip(inputs["caption_indices"], inputs["captions"], inputs["tokens"]):
            f.write(json.dumps({"line": int(line), "caption": cap, "tokens": toks}, ensure_ascii=False) + "\n")

    manifest = {"generator": "tools/reference/checkpoint_fixtures.py", "torch": torch.__version__,
                "seed": SEED, "inputs": {"folder": "inputs", "image_split": "test", "images": IMAGE_INDICES,
                                         "vocab": "vocab/f8k_precomp_vocab.json",
                                         "vocab_size": inputs["vocab_size"]},
                "models": {}, "naaf_models": {}, "checkpoints": []}
    for index, (name, (method, over)) in enumerate(MODELS.items()):
        torch.manual_seed(SEED + index)
        opt = (vsepp_opt if method == "vsepp" else scan_opt)(inputs["vocab_size"], **over)
        img, txt = build(method, opt)
        img_emb, cap_emb, sims = similarities(method, opt, img, txt, inputs)
        folder = os.path.join(OUT, name)
        os.makedirs(folder, exist_ok=True)
        np.save(os.path.join(folder, "img_emb.npy"), np.ascontiguousarray(img_emb, dtype=np.float32))
        np.save(os.path.join(folder, "cap_emb.npy"), np.ascontiguousarray(cap_emb, dtype=np.float32))
        np.save(os.path.join(folder, "sims.npy"), np.ascontiguousarray(sims, dtype=np.float64))
        # Values that a float32 re-implementation can reproduce: random weights give well-separated scores.
        ck = {"epoch": 3 + index, "model": [img.state_dict(), txt.state_dict()], "best_rsum": 123.25 + index,
              "opt": opt, "Eiters": 1000 * (index + 1) + 7}
        manifest["models"][name] = {"method": method, "folder": name, "sims": name + "/sims.npy",
                                    "img_emb": name + "/img_emb.npy", "cap_emb": name + "/cap_emb.npy",
                                    "features": "f8k-1k-precomp-global" if method == "vsepp" else "f8k-1k-precomp"}
        zpath = os.path.join(folder, name + ".zip.pth.tar")
        lpath = os.path.join(folder, name + ".legacy.pth.tar")
        torch.save(ck, zpath)
        save_legacy_if_changed(ck, lpath)
        for p, fmt in ((zpath, "zip"), (lpath, "legacy")):
            verify_load(p, ck)
            manifest["checkpoints"].append(checkpoint_entry(p, fmt, ck, name))
        if name == "scan_t2i_lse":
            # As the original code saved it: best_rsum is a numpy.float64 (rsum is computed with numpy).
            ck_py2 = dict(ck, best_rsum=np.float64(ck["best_rsum"]))
            ppath = os.path.join(folder, name + ".py2legacy.pth.tar")
            save_py2_legacy(ppath, ck_py2)
            verify_load(ppath, ck, encoding="latin1")
            manifest["checkpoints"].append(checkpoint_entry(ppath, "legacy-py2", ck, name))
        # Self-check of the reverse path (cosine models; CrossModal has no order measure): write -> read -> same sims.
        if getattr(opt, "measure", "cosine") == "cosine":
            buf = safetensors_bytes(ck, method)
            got = check_safetensors_bytes(buf, "<self-test " + name + ">")[2]
            assert np.abs(got - sims).max() < 1e-9, name

    make_vsrn(inputs, manifest)
    make_naaf(manifest, inputs, inputs["word2idx"])

    zoo = tensor_zoo()
    folder = os.path.join(OUT, "tensors")
    os.makedirs(folder, exist_ok=True)
    files = []
    for fname, fmt, kw in (("tensors.zip.pth.tar", "zip", {}),
                           ("tensors.legacy.pth.tar", "legacy", {"_use_new_zipfile_serialization": False}),
                           ("tensors.p4.zip.pth.tar", "zip", {"pickle_protocol": 4}),
                           ("tensors.p5.zip.pth.tar", "zip", {"pickle_protocol": 5})):
        path = os.path.join(folder, fname)
        if not (fmt == "legacy" and os.path.exists(path) and describe(torch.load(path)) == describe(zoo)):
            torch.save(zoo, path, **kw)
        assert describe(torch.load(path)) == describe(zoo), path
        files.append({"file": os.path.relpath(path, OUT), "format": fmt, "sha256": sha256(path),
                      "sections": sections(path, fmt)})
    manifest["tensors"] = {"files": files, "value": describe(zoo)}
    manifest["pickles"] = make_pickles()

    # What users get wrong: torch.save(model) pickles the nn.Module class itself; it must be refused by name.
    folder = os.path.join(OUT, "refused")
    os.makedirs(folder, exist_ok=True)
    torch.manual_seed(1)
    module = nn.Linear(3, 2)
    torch.save(module, os.path.join(folder, "whole_module.zip.pth"))
    legacy_module = os.path.join(folder, "whole_module.legacy.pth")
    if not os.path.exists(legacy_module):
        torch.save(module, legacy_module, _use_new_zipfile_serialization=False)
    manifest["refused"] = {"whole_module.zip.pth": "torch.nn.modules.linear.Linear",
                           "whole_module.legacy.pth": "torch.nn.modules.linear.Linear"}
    with open(os.path.join(OUT, "manifest.json"), "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=1, ensure_ascii=False)
        f.write("\n")
    total = sum(os.path.getsize(os.path.join(r, n)) for r, _, ns in os.walk(OUT) for n in ns)
    print(json.dumps({"out": os.path.relpath(OUT, REPO), "files": sum(len(ns) for _, _, ns in os.walk(OUT)),
                      "bytes": total}))


VSRN_FLAT_GRUS = (("img_rnn.weight_ih_l0", "img_rnn.weight_hh_l0", "img_rnn.bias_ih_l0", "img_rnn.bias_hh_l0"),
                  ("rnn.weight_ih_l0", "rnn.weight_hh_l0", "rnn.bias_ih_l0", "rnn.bias_hh_l0"))


def make_vsrn(inputs, manifest):
    """vsrn_f30k/, vsrn_coco/: the zip file (torch 1.13 default) and the Python 2.7 / torch 0.4.1 legacy file VSRN's
    train.py wrote, img_emb/cap_emb/sims as evaluation.encode_data + i2t compute them; vsrn_vocab/: the pickled
    vocabulary of the f8k words as VSRN ships its vocab/*.pkl."""
    for index, (name, data_name) in enumerate(VSRN_MODELS.items()):
        torch.manual_seed(SEED + 100 + index)
        opt = vsrn_opt(inputs["vocab_size"], data_name, name)
        model = build_vsrn(opt)
        eiters = 1500 + 7 * index
        vsrn_trained_like(model, torch.Generator().manual_seed(SEED + 200 + index), eiters)
        img, txt = model.img_enc, model.txt_enc
        img_emb, cap_emb, sims = similarities("vsrn", opt, img, txt, inputs)
        assert np.isfinite(sims).all() and np.isfinite(img_emb).all(), name
        folder = os.path.join(OUT, name)
        os.makedirs(folder, exist_ok=True)
        np.save(os.path.join(folder, "img_emb.npy"), np.ascontiguousarray(img_emb, dtype=np.float32))
        np.save(os.path.join(folder, "cap_emb.npy"), np.ascontiguousarray(cap_emb, dtype=np.float32))
        np.save(os.path.join(folder, "sims.npy"), np.ascontiguousarray(sims, dtype=np.float64))
        # train.py: best_rsum = r1 + r5 + r1i + r5i (Python floats), epoch = epoch + 1.
        ck = {"epoch": 14 + index, "model": [img.state_dict(), txt.state_dict()], "best_rsum": 231.75 + index,
              "opt": opt, "Eiters": eiters}
        # Not under "models": that list is what the VSE++/SCAN model-parity tests iterate.
        manifest.setdefault("vsrn_models", {})[name] = {"method": "vsrn", "data_name": data_name, "folder": name,
                                    "sims": name + "/sims.npy", "img_emb": name + "/img_emb.npy",
                                    "cap_emb": name + "/cap_emb.npy", "features": "f8k-1k-precomp",
                                    "vocab_pickle": "vsrn_vocab/f8k_precomp_vocab.pkl"}
        zpath = os.path.join(folder, name + ".zip.pth.tar")
        ppath = os.path.join(folder, name + ".py2legacy.pth.tar")
        torch.save(ck, zpath)
        save_py2_legacy_torch04(ppath, ck, VSRN_FLAT_GRUS)
        verify_load(zpath, ck)
        verify_load(ppath, ck, encoding="latin1")
        manifest["checkpoints"].append(checkpoint_entry(zpath, "zip", ck, name))
        manifest["checkpoints"].append(checkpoint_entry(ppath, "legacy-py2", ck, name))
        # Self-check of the reverse path, with and without the captioning modules.
        for caption in (None, model.caption_model.state_dict()):
            got = check_safetensors_bytes(vsrn_safetensors_bytes(ck, caption), "<self-test " + name + ">")[2]
            assert np.abs(got - sims).max() < 1e-9, name
    folder = os.path.join(OUT, "vsrn_vocab")
    os.makedirs(folder, exist_ok=True)
    vocab = json.load(open(os.path.join(DATA, "vocab", "f8k_precomp_vocab.json"), encoding="utf-8"))
    vpath = os.path.join(folder, "f8k_precomp_vocab.pkl")
    data = vsrn_vocab_pickle(vocab)
    open(vpath, "wb").write(data)
    back = VocabStubUnpickler(io.BytesIO(data), encoding="latin1").load()
    assert back.word2idx == vocab["word2idx"] and back.idx == vocab["idx"], vpath
    assert back.idx2word == {int(k): w for k, w in vocab["idx2word"].items()}, vpath
    manifest["vsrn_vocab"] = {"file": "vsrn_vocab/f8k_precomp_vocab.pkl", "sha256": sha256(vpath),
                              "class": "__main__.Vocabulary", "attributes": ["idx2word", "word2idx", "idx"],
                              "same_as": "vocab/f8k_precomp_vocab.json", "size": vocab["idx"]}


class VocabStub:
    pass


class VocabStubUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) == ("__main__", "Vocabulary"):
            return VocabStub
        raise pickle.UnpicklingError(f"unexpected global {module}.{name}")


def vsrn_vocab_pickle(vocab):
    """vocab.py's pickle.dump(vocab, f, pickle.HIGHEST_PROTOCOL) under Python 2.7, opcode for opcode as VSRN's shipped
    vocab/*_precomp_vocab.pkl: PROTO 2; GLOBAL '__main__ Vocabulary'; EMPTY_TUPLE NEWOBJ; the instance dict
    {'idx2word', 'word2idx', 'idx'} then BUILD. Attribute names and the four special tokens (added as str literals)
    are byte strings (SHORT_BINSTRING), the words from word_tokenize are unicode (BINUNICODE); word2idx's keys are
    the same objects as idx2word's values (BINGET/LONG_BINGET); dict items in batches of 1000 (MARK ... SETITEMS);
    ints as BININT1/BININT2."""
    out = io.BytesIO()
    memo = [0]

    def put():
        out.write((b"q" + bytes([memo[0]])) if memo[0] < 256 else (b"r" + struct.pack("<I", memo[0])))
        memo[0] += 1
        return memo[0] - 1

    def get(i):
        out.write((b"h" + bytes([i])) if i < 256 else (b"j" + struct.pack("<I", i)))

    def integer(v):
        out.write((b"K" + bytes([v])) if v < 256 else (b"M" + struct.pack("<H", v)))

    def text(v, byte_string):
        b = v.encode("utf-8")
        out.write((b"U" + bytes([len(b)]) + b) if byte_string else (b"X" + struct.pack("<I", len(b)) + b))
        return put()

    def batched(items, emit):
        for start in range(0, len(items), 1000):
            chunk = items[start:start + 1000]
            out.write(b"(")
            for item in chunk:
                emit(item)
            out.write(b"u")

    specials = {"<pad>", "<start>", "<end>", "<unk>"}
    out.write(b"\x80\x02c__main__\nVocabulary\n")
    put()
    out.write(b")\x81")
    put()
    out.write(b"}")
    put()
    out.write(b"(")
    text("idx2word", True)
    out.write(b"}")
    put()
    where = {}
    idx2word = sorted(((int(k), w) for k, w in vocab["idx2word"].items()))

    def emit_idx2word(item):
        k, w = item
        integer(k)
        where[w] = text(w, w in specials)
    batched(idx2word, emit_idx2word)
    text("word2idx", True)
    out.write(b"}")
    put()

    def emit_word2idx(item):
        w, k = item
        get(where[w])
        integer(k)
    batched(list(vocab["word2idx"].items()), emit_word2idx)
    text("idx", True)
    integer(vocab["idx"])
    out.write(b"ub.")
    return out.getvalue()


def vsrn_safetensors_bytes(ck, caption_sd=None):
    """A CrossModal VSRN checkpoint: img_enc.*, txt_enc.* and (from training) caption_model.* tensors; model_config
    with the original option names."""
    entries = []
    for prefix, sd in (("img_enc.", ck["model"][0]), ("txt_enc.", ck["model"][1]),
                       ("caption_model.", caption_sd or {})):
        for k, t in sd.items():
            entries.append((prefix + k, t.detach().contiguous()))
    o = vars(ck["opt"])
    keys = ("data_name", "img_dim", "embed_size", "word_dim", "vocab_size", "num_layers", "max_len", "dim_vid",
            "dim_hidden", "dim_word", "input_dropout_p", "rnn_dropout_p", "rnn_type", "bidirectional", "no_imgnorm",
            "use_abs", "measure", "margin", "max_violation")
    config = {"model": "vsrn", **{k: o[k] for k in keys}}
    return safetensors_from_entries(entries, {"format": "crossmodal-checkpoint/1", "model_config": json.dumps(config)})


def safetensors_from_entries(entries, meta):
    header, offset, blobs = {"__metadata__": meta}, 0, []
    for k, t in entries:
        b = t.numpy().tobytes()
        header[k] = {"dtype": ST_NAMES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(b)]}
        offset += len(b)
        blobs.append(b)
    h = json.dumps(header).encode("utf-8")
    h += b" " * ((8 - len(h) % 8) % 8)
    return struct.pack("<Q", len(h)) + h + b"".join(blobs)


# ---------------------------------------------------------------------------------------------------------------
# safetensors (plain Python: python3-safetensors is not a Debian package here)
# ---------------------------------------------------------------------------------------------------------------

ST_DTYPES = {"F32": torch.float32, "F64": torch.float64, "F16": torch.float16, "BF16": torch.bfloat16,
             "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8, "U8": torch.uint8,
             "BOOL": torch.bool}
ST_NAMES = {v: k for k, v in ST_DTYPES.items()}


def parse_safetensors(buf, name):
    if len(buf) < 8:
        raise ValueError(f"{name}: shorter than a safetensors header")
    (n,) = struct.unpack("<Q", buf[:8])
    if n > len(buf) - 8:
        raise ValueError(f"{name}: header length {n} exceeds the file")
    header = json.loads(buf[8:8 + n].decode("utf-8"))
    data = memoryview(buf)[8 + n:]
    meta = header.pop("__metadata__", {}) or {}
    tensors = collections.OrderedDict()
    for key, e in header.items():
        begin, end = e["data_offsets"]
        dtype = ST_DTYPES[e["dtype"]]
        raw = bytes(data[begin:end])
        t = torch.frombuffer(bytearray(raw), dtype=dtype) if raw else torch.zeros(0, dtype=dtype)
        tensors[key] = t.reshape(e["shape"]).clone()
    return tensors, meta


def safetensors_bytes(ck, method):
    """Writes a CrossModal checkpoint (format above) -- used for the self-check of the reverse path."""
    entries = []
    for prefix, sd in (("img_enc.", ck["model"][0]), ("txt_enc.", ck["model"][1])):
        for k, t in sd.items():
            entries.append((prefix + k, t.detach().contiguous()))
    o = vars(ck["opt"])
    config = {"model": method, "img_dim": o["img_dim"], "embed_size": o["embed_size"], "word_dim": o["word_dim"],
              "vocab_size": o["vocab_size"], "num_layers": o["num_layers"], "no_imgnorm": o["no_imgnorm"],
              "no_txtnorm": o.get("no_txtnorm", False), "bi_gru": o.get("bi_gru", False),
              "precomp_enc_type": o.get("precomp_enc_type", "basic"), "cross_attn": o.get("cross_attn", "t2i"),
              "raw_feature_norm": o.get("raw_feature_norm", "clipped_l2norm"), "agg_func": o.get("agg_func", "LogSumExp"),
              "lambda_softmax": o.get("lambda_softmax", 9.0), "lambda_lse": o.get("lambda_lse", 6.0)}
    meta = {"format": "crossmodal-checkpoint/1", "model_config": json.dumps(config)}
    header, offset, blobs = {"__metadata__": meta}, 0, []
    for k, t in entries:
        b = t.numpy().tobytes()
        header[k] = {"dtype": ST_NAMES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(b)]}
        offset += len(b)
        blobs.append(b)
    h = json.dumps(header).encode("utf-8")
    h += b" " * ((8 - len(h) % 8) % 8)
    return struct.pack("<Q", len(h)) + h + b"".join(blobs)


def opt_from_metadata(meta, name):
    """The original-style options (argparse names) from a CrossModal checkpoint's model_config."""
    if not str(meta.get("format", "")).startswith("crossmodal-checkpoint"):
        raise ValueError(f"{name}: metadata 'format' is {meta.get('format')!r}, expected 'crossmodal-checkpoint/1'")
    config = json.loads(meta["model_config"])
    method = config.pop("model")
    if method == "vsrn":
        return method, V.default_opt(**config)
    opt = dict(config)
    opt.setdefault("measure", "cosine")
    opt.setdefault("use_abs", False)
    if method == "vsepp" and opt.get("bi_gru"):
        raise ValueError(f"{name}: a bidirectional VSE++ text encoder is not in the original code")
    if opt.get("precomp_enc_type", "basic") != "basic":
        raise ValueError(f"{name}: precomp_enc_type {opt['precomp_enc_type']!r} is not built by this script")
    return method, argparse.Namespace(**opt)


def check_safetensors_bytes(buf, name):
    tensors, meta = parse_safetensors(buf, name)
    if not str(meta.get("format", "")).startswith("crossmodal-checkpoint"):
        raise ValueError(f"{name}: metadata 'format' is {meta.get('format')!r}, expected 'crossmodal-checkpoint/1'")
    if json.loads(meta["model_config"]).get("model") == "naaf":
        return check_naaf_tensors(tensors, meta, name)
    method, opt = opt_from_metadata(meta, name)
    if method == "vsrn":
        return meta, method, check_vsrn_tensors(tensors, opt, name)
    img, txt = build(method, opt)
    img_sd = collections.OrderedDict((k[len("img_enc."):], v) for k, v in tensors.items() if k.startswith("img_enc."))
    txt_sd = collections.OrderedDict((k[len("txt_enc."):], v) for k, v in tensors.items() if k.startswith("txt_enc."))
    other = [k for k in tensors if not k.startswith(("img_enc.", "txt_enc.", "optimizer."))]
    if other:
        raise ValueError(f"{name}: tensors without an img_enc./txt_enc. prefix: {other[:5]}")
    img.load_state_dict(img_sd, strict=True)
    txt.load_state_dict(txt_sd, strict=True)
    inputs = load_inputs()
    return meta, method, similarities(method, opt, img, txt, inputs)[2]


def check_vsrn_tensors(tensors, opt, name):
    """Loads img_enc./txt_enc. strictly (every original name, nothing else) and caption_model. strictly when present
    (an import of an original checkpoint has none: train.py does not save the captioning modules); returns sims."""
    model = build_vsrn(opt)
    parts = {"img_enc.": model.img_enc, "txt_enc.": model.txt_enc, "caption_model.": model.caption_model}
    other = [k for k in tensors if not k.startswith(tuple(parts) + ("optimizer.",))]
    if other:
        raise ValueError(f"{name}: tensors outside img_enc./txt_enc./caption_model./optimizer.: {other[:5]}")
    for prefix, module in parts.items():
        sd = collections.OrderedDict((k[len(prefix):], v) for k, v in tensors.items() if k.startswith(prefix))
        if prefix == "caption_model." and not sd:
            continue
        nn.Module.load_state_dict(module, sd, strict=True)  # not the original's filtering load_state_dict
    return similarities("vsrn", opt, model.img_enc, model.txt_enc, load_inputs())[2]


def load_inputs():
    d = os.path.join(OUT, "inputs")
    return {n: np.load(os.path.join(d, n + ".npy"))
            for n in ("image_indices", "caption_indices", "caption_ids", "caption_lengths")}


def check_safetensors(path, expect, tol):
    meta, method, sims = check_safetensors_bytes(open(path, "rb").read(), path)
    result = {"file": path, "method": method, "shape": list(sims.shape)}
    ok = True
    if expect is not None:
        ref = np.load(expect)
        diff = float(np.abs(ref - sims).max()) if ref.shape == sims.shape else float("inf")
        ok = diff <= tol
        result.update({"expect": expect, "max_abs_diff": diff, "tol": tol, "ok": ok})
    print(json.dumps(result))
    return 0 if ok else 1


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="mode")
    sub.add_parser("make")
    c = sub.add_parser("check-safetensors")
    c.add_argument("file")
    c.add_argument("--expect", default=None)
    c.add_argument("--tol", type=float, default=1e-4)
    w = sub.add_parser("write-safetensors", help="convert a fixture's zip checkpoint to a CrossModal file (tests this script)")
    w.add_argument("fixture", choices=list(VSRN_MODELS))
    w.add_argument("out")
    w.add_argument("--with-caption", action="store_true", help="add freshly initialised caption_model.* tensors")
    n = sub.add_parser("naaf-safetensors", help="write a NAAF fixture checkpoint in CrossModal's safetensors format "
                                                 "(to test check-safetensors and readers)")
    n.add_argument("name", choices=list(NAAF_MODELS))
    n.add_argument("out")
    n.add_argument("--scalar-dtype", choices=["F64", "F32"], default="F64", help="dtype of the threshold scalars")
    n.add_argument("--no-vocab", action="store_true", help="leave out the 'vocab' metadata")
    a = p.parse_args()
    torch.set_num_threads(1)
    if a.mode == "check-safetensors":
        sys.exit(check_safetensors(a.file, a.expect, a.tol))
    if a.mode == "write-safetensors":
        ck = torch.load(os.path.join(OUT, a.fixture, a.fixture + ".zip.pth.tar"))
        caption = build_vsrn(ck["opt"]).caption_model.state_dict() if a.with_caption else None
        data = vsrn_safetensors_bytes(ck, caption)
        with open(a.out + ".tmp", "wb") as f:
            f.write(data)
        os.replace(a.out + ".tmp", a.out)
        print(json.dumps({"out": a.out, "bytes": len(data)}))
        return
    if a.mode == "naaf-safetensors":
        ck = torch.load(os.path.join(OUT, a.name, a.name + ".zip.pth.tar"))
        vocab = None
        if not a.no_vocab:
            path = os.path.join(OUT, a.name, "f8k_precomp.json") if a.name == "naaf_glove" else \
                os.path.join(DATA, "vocab", "f8k_precomp_vocab.json")
            vocab = open(path, encoding="utf-8").read()
        dtype = torch.float32 if a.scalar_dtype == "F32" else torch.float64
        with open(a.out + ".tmp", "wb") as f:
            f.write(naaf_safetensors_bytes(ck, vocab, dtype))
        os.replace(a.out + ".tmp", a.out)
        print(json.dumps({"out": a.out, "bytes": os.path.getsize(a.out)}))
        return
    make()


if __name__ == "__main__":
    main()
