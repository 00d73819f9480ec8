#!/usr/bin/python3
"""Fixture for NAAF's whole training step (issue 14): SCAN's region encoder and Bi-GRU word encoder as NAAF's
model.py builds them (EncoderImagePrecomp, EncoderText), the training scores of xattn_score (naaf_reference, a port of
CrossmodalGroup/NAAF @ cafcd6f model.py), ContrastiveLoss with max violation (margin 0.2), clip_grad_norm(params, 2)
and Adam(lr 5e-4) over txt_enc + img_enc.fc parameters, as NAAF.train_emb does it: three steps from the same
initial weights on three batches.

    /usr/bin/python3 tools/reference/naaf_step_fixtures.py [tests/fixtures/naaf]

Writes train_steps.safetensors: init.<name> (our parameter names), step<k>.images [6, 3, 6], step<k>.tokens [6, T]
(int64, lengths descending as the collate function sorts them), step<k>.lengths, step<k>.loss, and after.<name> (the
weights after the three steps). The batches are below NAAF's 200-word trigger, so the threshold stays 0 (its learning
rule has its own fixtures, dmm_*).

Why it exists: a trained model's word-region similarities differed between one seed of each side (issue 14). The
gradients of every parameter at a trained state were equal within 1e-6, and the reference started from our initial
weights in our caption order ended like ours; this keeps the whole step (encoders, scores, loss, clipping, Adam) tied
to the reference.
"""
import argparse
import os
import sys

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(__file__))
import naaf_reference as N  # noqa: E402
import safetensors_io  # noqa: E402
import train_reference as tr  # noqa: E402


def main():
    p = argparse.ArgumentParser()
    p.add_argument("out", nargs="?", default=os.path.join(os.path.dirname(__file__), "../../tests/fixtures/naaf"))
    a = p.parse_args()
    torch.manual_seed(14)
    vocab, word_dim, embed, img_dim, regions, batch = 12, 4, 8, 6, 3, 6
    img = tr.ImageEncoder(img_dim, embed, 1e-8, pool=False)
    txt = tr.TextEncoder(vocab, word_dim, embed, bi=True, per_word=True, eps=1e-8)
    named = lambda: {**{"img_enc." + k: v for k, v in img.named_parameters()}, **{"txt_enc." + k: v for k, v in txt.named_parameters()}}
    out = {"init." + k: v.detach().numpy().copy() for k, v in named().items()}
    params = list(txt.parameters()) + list(img.fc.parameters())
    opt = torch.optim.Adam(params, lr=5e-4)
    naaf = N.naaf_opt(lambda_softmax=20.0)
    g = torch.Generator().manual_seed(5)
    for k in range(3):
        lengths = sorted(torch.randint(3, 7, (batch,), generator=g).tolist(), reverse=True)
        tokens = torch.zeros(batch, lengths[0], dtype=torch.long)
        for i, n in enumerate(lengths):
            tokens[i, :n] = torch.randint(1, vocab, (n,), generator=g)
        images = torch.rand(batch, regions, img_dim, generator=g)
        im, cap = img(images), txt(tokens, lengths)
        with torch.no_grad():  # no similarity near the threshold 0 (a float32 port then takes the same branches)
            s = torch.einsum("cwd,brd->cbwr", cap, im)
            valid = torch.arange(lengths[0])[None, :] < torch.tensor(lengths)[:, None]
            assert float(s[valid[:, None, :, None].expand_as(s)].abs().min()) > 1e-4
        scores = N.xattn_score(im, cap, lengths, naaf)
        loss = tr.hinge(scores, 0.2, True)
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(params, 2.0)
        opt.step()
        assert naaf.thres == 0
        out.update({f"step{k}.images": images.numpy(), f"step{k}.tokens": tokens.numpy(),
                    f"step{k}.lengths": np.array(lengths, dtype=np.int64), f"step{k}.loss": np.array(loss.item(), dtype=np.float32)})
        print(f"step {k}: loss {loss.item():.6f}")
    out.update({"after." + k: v.detach().numpy().copy() for k, v in named().items()})
    safetensors_io.save(os.path.join(a.out, "train_steps.safetensors"), out,
                        {"lr": 5e-4, "grad_clip": 2.0, "margin": 0.2, "lambda_softmax": 20.0})


if __name__ == "__main__":
    main()
