#!/usr/bin/python3
"""Parity fixtures for VSRN (issue 15) from the original code: tools/reference/vsrn_reference.py, which follows
KunpengLi1994/VSRN @ 777ae74 (model.py, GCN_lib/Rs_GCN.py, models/*.py, misc/utils.py, data.py).

    /usr/bin/python3 tools/reference/vsrn_fixtures.py [tests/fixtures/vsrn]

Tiny sizes, original architecture: img_dim 16, 6 regions, embed_size 12 (= dim_vid), word_dim 10, vocab 20,
captioning dim_hidden 8, dim_word 7, max_len 9 (the decoder runs max_len - 1 = 8 teacher-forced steps), batch 5,
margin 0.2 with max_violation. float32 throughout, one thread.

inputs.safetensors
  images          F32 [5, 6, 16]   non-negative region features
  captions        I64 [5, 11]      <start>=1 ... <end>=2, zero-padded, sorted by length (descending) as collate_fn
  lengths         I64 [5]          11, 9, 8, 5, 3 (the first is longer than max_len: its target is truncated)
  caption_labels  I64 [5, 10]      data.py targets: [<start>] + words + [<end>] cut to max_len (last set to <end>),
                                   zero-padded to max_len + 1
  caption_masks   F32 [5, 10]      1 up to and including the first 0 of caption_labels
  metadata: the options (original names) as JSON under "opt"

{f30k_precomp,coco_precomp}.safetensors (the two data_name variants: f30k = no l2norm before the GCN, with bn;
coco = l2norm before the GCN, no bn). All dropout probabilities are 0 here (input_dropout_p = 0).
  param.<name>            every tensor of the model before the step, CrossModal checkpoint names
                          (img_enc.*, txt_enc.*, caption_model.encoder.*, caption_model.decoder.*), including the
                          BatchNorm running statistics and the I64 num_batches_tracked (7). Initialised by the
                          original code, then every BatchNorm's weight/bias/running stats are made non-trivial
                          (the original initialises the Rs_GCN BN weight and bias to 0, which would make the GCN an
                          identity with zero gradients for g/theta/phi/W.0 and test nothing).
  train.*                 train mode (img_enc/txt_enc .train(): BatchNorm with batch statistics):
    fc_out [5,6,12]       fc(images) (before the l2norm that coco applies)
    gcn1_out..gcn4_out    output of Rs_GCN_k, transposed to [5, 6, 12] (the module works on [B, D, N])
    gcn_emb [5,6,12]      l2norm(gcn4 output) over the regions: what img_rnn and the caption encoder read
    img_rnn_h [5,12]      the image GRU's final hidden state (before bn / l2norm)
    img_emb, cap_emb      the two embeddings [5, 12]
    scores [5,5]          img_emb @ cap_emb^T
    hinge []              ContrastiveLoss(margin 0.2, max_violation)
    encoder_outputs       [5, 6, 8] caption EncoderRNN outputs
    seq_logprobs          [5, 8, 20] DecoderRNN log-probabilities (teacher forcing)
    nll []                LanguageModelCriterion(seq_logprobs, labels[:, 1:], masks[:, 1:]) (sum / batch size)
    loss []               hinge + nll
  grad.<name>             d(hinge + nll)/d parameter, for every parameter (not the buffers)
  after.<bn buffer>       running_mean / running_var / num_batches_tracked after that one train-mode forward
                          (momentum 0.1, unbiased batch variance for running_var, count + 1)
  eval.*                  eval mode (running statistics from param.*): fc_out, gcn_emb, img_emb, cap_emb
  step1.<name>, step2.<name>
                          all parameters after one and two VSRN.train_emb calls on the same batch from param.*
                          (Adam lr 0.01, grad_clip 0.5 so that clipping is active), with the original's parameter
                          list in which every captioning parameter appears twice: clip_grad_norm_ counts those
                          twice in the norm and scales their gradients twice, Adam steps them twice per call.
  step1.clip_total_norm, step2.clip_total_norm []
                          the total norm clip_grad_norm_ computed (with the duplicates)
  step1.hinge, step1.nll, step2.hinge, step2.nll []
                          the losses of each train_emb call (computed before its update)

dropout.safetensors (coco_precomp weights = param.* of coco_precomp.safetensors, input_dropout_p 0.2 in both
captioning dropouts, exactly as train.py's default). PyTorch's random stream cannot be shared, so the masks are
given: a C# port that can take given masks reproduces these values exactly; otherwise test p > 0 statistically
and the math with p = 0 (the files above).
  mask.encoder  F32 [30, 8]      EncoderRNN.input_dropout keep-mask (1 keep, 0 drop) on vid2hid output [B*N, H]
  mask.decoder  F32 [8, 5, 15]   DecoderRNN.input_dropout keep-mask per step on cat(word embedding, context)
                                 [B, dim_word + H]; kept entries are scaled by 1 / (1 - p)
  train.seq_logprobs, train.nll, train.hinge, train.loss, grad.<name>   as above, with these masks
"""
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(__file__))
import safetensors_io  # noqa: E402
import vsrn_reference as V  # noqa: E402

SEED = 15
B, N, IMG_DIM, EMBED, WORD_DIM, VOCAB, HIDDEN, DIM_WORD, MAX_LEN = 5, 6, 16, 12, 10, 20, 8, 7, 9
WORD_COUNTS = [9, 7, 6, 3, 1]  # words per caption; + <start>/<end> -> lengths 11, 9, 8, 5, 3
STEP_LR, STEP_CLIP = 0.01, 0.5


def options(data_name, dropout):
    return V.default_opt(vocab_size=VOCAB, data_name=data_name, img_dim=IMG_DIM, embed_size=EMBED, dim_vid=EMBED,
                         word_dim=WORD_DIM, dim_hidden=HIDDEN, dim_word=DIM_WORD, max_len=MAX_LEN,
                         max_violation=True, input_dropout_p=dropout)


def make_inputs(g):
    images = torch.rand(B, N, IMG_DIM, generator=g) * 2.0
    items = []
    for k, n in enumerate(WORD_COUNTS):
        words = torch.randint(4, VOCAB, (n,), generator=g).tolist()
        if k == 2:
            words[1] = 3  # an <unk>
        items.append((images[k].numpy(), [1] + words + [2]))
    return V.collate(items, MAX_LEN)


def perturb_batchnorms(model, g):
    for module in list(model.img_enc.modules()):
        if isinstance(module, nn.BatchNorm1d):
            with torch.no_grad():
                module.weight.copy_(torch.rand(module.num_features, generator=g) + 0.5)
                module.bias.copy_(torch.randn(module.num_features, generator=g) * 0.1)
                module.running_mean.copy_(torch.randn(module.num_features, generator=g) * 0.1)
                module.running_var.copy_(torch.rand(module.num_features, generator=g) + 0.5)
                module.num_batches_tracked.fill_(7)


def hinge_is_robust(scores, margin=0.2, gap=2e-3):
    """Max of hinges: the maximum per row/column must be unique, and no hinge may sit at its kink."""
    s = scores.double()
    d = s.diag().view(-1, 1)
    eye = torch.eye(s.size(0), dtype=torch.bool)
    for cost in ((margin + s - d).masked_fill(eye, -1e9), (margin + s - d.t()).masked_fill(eye, -1e9).t()):
        if (cost.masked_fill(eye, 1.0).abs() < gap).any():
            return False
        top2 = cost.topk(2, dim=1).values
        if ((top2[:, 0] > 0) & (top2[:, 0] - top2[:, 1] < gap)).any():
            return False
    return True


class Recorder:
    """Forward hooks that keep the intermediate outputs of the image encoder and the caption encoder."""

    def __init__(self, model):
        self.out = {}
        enc = model.img_enc
        hooks = [(enc.fc, "fc_out", lambda o: o), (enc.img_rnn, "img_rnn_h", lambda o: o[1][0]),
                 (model.encoder, "encoder_outputs", lambda o: o[0])]
        hooks += [(getattr(enc, f"Rs_GCN_{k}"), f"gcn{k}_out", lambda o: o.permute(0, 2, 1)) for k in range(1, 5)]
        self.handles = [m.register_forward_hook(self._hook(name, pick)) for m, name, pick in hooks]

    def _hook(self, name, pick):
        def hook(module, inputs, output):
            self.out[name] = pick(output).detach().clone()
        return hook

    def remove(self):
        for h in self.handles:
            h.remove()


def forward_all(model, batch):
    images, captions, lengths, labels, masks = batch
    img_emb, cap_emb, gcn = model.forward_emb(images, captions, lengths)
    seq_logprobs, _ = model.caption_model(gcn, labels, 'train')
    nll = model.crit(seq_logprobs, labels[:, 1:], masks[:, 1:])
    hinge = model.forward_loss(img_emb, cap_emb)
    return img_emb, cap_emb, gcn, seq_logprobs, hinge, nll


def np32(t):
    return t.detach().numpy().astype(np.float32) if t.dtype.is_floating_point else t.detach().numpy()


def build(data_name, dropout, seed):
    torch.manual_seed(seed)
    model = V.VSRN(options(data_name, dropout))
    perturb_batchnorms(model, torch.Generator().manual_seed(seed + 1000))
    return model


def train_outputs(model, batch, prefix="train."):
    out = {}
    rec = Recorder(model)
    model.train_start()
    for p in model.params:
        p.grad = None
    img_emb, cap_emb, gcn, logp, hinge, nll = forward_all(model, batch)
    (hinge + nll).backward()
    rec.remove()
    for k, v in rec.out.items():
        out[prefix + k] = v
    out.update({prefix + "gcn_emb": gcn, prefix + "img_emb": img_emb, prefix + "cap_emb": cap_emb,
                prefix + "scores": img_emb @ cap_emb.t(), prefix + "hinge": hinge, prefix + "seq_logprobs": logp,
                prefix + "nll": nll, prefix + "loss": hinge + nll})
    for k, p in V.full_state_dict_params(model).items():
        out["grad." + k] = p.grad.clone() if p.grad is not None else torch.zeros_like(p)
    return out


def variant(data_name, batch):
    """Searches a seed whose hinge terms are robust (no ties, no kinks) and returns (tensors, model seed)."""
    for seed in range(SEED, SEED + 200):
        model = build(data_name, 0.0, seed)
        model.train_start()
        with torch.no_grad():
            img_emb, cap_emb, _ = model.forward_emb(*batch[:3])
        if hinge_is_robust(img_emb @ cap_emb.t()):
            break
    else:
        raise RuntimeError("no robust seed")
    model = build(data_name, 0.0, seed)
    params = V.full_state_dict(model)
    t = {"param." + k: v.clone() for k, v in params.items()}
    t.update(train_outputs(model, batch))
    for k, v in V.full_state_dict(model).items():
        if "running_" in k or "num_batches_tracked" in k:
            t["after." + k] = v.clone()
    # eval mode from the initial weights
    model = build(data_name, 0.0, seed)
    model.val_start()
    rec = Recorder(model)
    with torch.no_grad():
        img_emb, cap_emb, gcn = model.forward_emb(*batch[:3])
    rec.remove()
    t.update({"eval.fc_out": rec.out["fc_out"], "eval.gcn_emb": gcn, "eval.img_emb": img_emb, "eval.cap_emb": cap_emb})
    # two optimizer steps with the original parameter list (duplicated captioning parameters)
    model = build(data_name, 0.0, seed)
    model.grad_clip = STEP_CLIP
    for group in model.optimizer.param_groups:
        group["lr"] = STEP_LR
    images, captions, lengths, labels, masks = batch
    for step in (1, 2):
        norms = []
        original = torch.nn.utils.clip_grad_norm_

        def recording_clip(parameters, max_norm, *a, **k):
            n = original(parameters, max_norm, *a, **k)
            norms.append(n)
            return n
        torch.nn.utils.clip_grad_norm_ = recording_clip
        try:
            model.train_start()
            hinge, nll = model.train_emb(images, captions, lengths, None, labels, masks)
        finally:
            torch.nn.utils.clip_grad_norm_ = original
        assert norms[0] > STEP_CLIP, "clipping must be active in the step fixture"
        t[f"step{step}.clip_total_norm"] = norms[0].detach().clone()
        t[f"step{step}.hinge"] = torch.tensor(hinge)
        t[f"step{step}.nll"] = torch.tensor(nll)
        for k, v in V.full_state_dict(model).items():
            t[f"step{step}.{k}"] = v.clone()
    return t, seed


class GivenMaskDropout(nn.Module):
    """Dropout with recorded keep-masks: x * mask / (1 - p), the same as nn.Dropout in train mode."""

    def __init__(self, p, g):
        super().__init__()
        self.p, self.g, self.masks = p, g, []

    def forward(self, x):
        mask = torch.bernoulli(torch.full(x.shape, 1 - self.p), generator=self.g)
        self.masks.append(mask)
        return x * mask / (1 - self.p)


def dropout_variant(seed, batch, p=0.2):
    model = build("coco_precomp", p, seed)
    g = torch.Generator().manual_seed(seed + 2000)
    model.encoder.input_dropout = GivenMaskDropout(p, g)
    model.decoder.input_dropout = GivenMaskDropout(p, g)
    out = train_outputs(model, batch)
    t = {k: v for k, v in out.items() if k.startswith("grad.") or k in (
        "train.seq_logprobs", "train.nll", "train.hinge", "train.loss", "train.encoder_outputs")}
    t["mask.encoder"] = model.encoder.input_dropout.masks[0]
    t["mask.decoder"] = torch.stack(model.decoder.input_dropout.masks, 0)
    assert t["mask.decoder"].shape == (MAX_LEN - 1, B, DIM_WORD + HIDDEN)
    return t, p


def save(path, tensors, metadata):
    safetensors_io.save(path, {k: np32(v) for k, v in tensors.items()}, metadata)


def main(out):
    torch.set_num_threads(1)
    os.makedirs(out, exist_ok=True)
    batch = make_inputs(torch.Generator().manual_seed(SEED))
    images, captions, lengths, labels, masks = batch
    assert lengths == [11, 9, 8, 5, 3], lengths
    opt_json = json.dumps({k: v for k, v in vars(options("coco_precomp", 0.0)).items()
                           if k not in ("data_name", "input_dropout_p")})
    save(os.path.join(out, "inputs.safetensors"), {
        "images": images, "captions": captions, "lengths": torch.tensor(lengths, dtype=torch.long),
        "caption_labels": labels, "caption_masks": masks}, {"opt": opt_json, "generator": "tools/reference/vsrn_fixtures.py"})
    summary = {}
    seeds = {}
    for data_name in ("f30k_precomp", "coco_precomp"):
        t, seed = variant(data_name, batch)
        seeds[data_name] = seed
        meta = {"data_name": data_name, "input_dropout_p": 0.0, "seed": seed, "step_lr": STEP_LR,
                "step_grad_clip": STEP_CLIP, "torch": torch.__version__}
        save(os.path.join(out, data_name + ".safetensors"), t, meta)
        summary[data_name] = {"hinge": float(t["train.hinge"]), "nll": float(t["train.nll"]),
                              "clip_norms": [float(t["step1.clip_total_norm"]), float(t["step2.clip_total_norm"])]}
    t, p = dropout_variant(seeds["coco_precomp"], batch)
    save(os.path.join(out, "dropout.safetensors"), t, {"data_name": "coco_precomp", "input_dropout_p": p,
                                                        "seed": seeds["coco_precomp"], "torch": torch.__version__})
    summary["dropout"] = {"nll": float(t["train.nll"]), "kept": float(t["mask.decoder"].mean())}
    total = sum(os.path.getsize(os.path.join(out, f)) for f in os.listdir(out))
    print(json.dumps({"out": out, "bytes": total, **summary}))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures/vsrn")
