#!/usr/bin/python3
"""Reference fixtures for the hinge triplet loss (VSE++ ContrastiveLoss), written with the original semantics.

Run with Debian's PyTorch (apt-get install python3-torch):
    /usr/bin/python3 tools/reference/loss_fixtures.py tests/fixtures/models
Writes loss_scores.npy (B x B scores) and, for sum (sh) and max (mh) of hinges: loss_{sh,mh}_value.npy and
loss_{sh,mh}_grad.npy (d loss / d scores).
"""
import os
import sys

import numpy as np
import torch


def contrastive_loss(scores, margin, max_violation):
    # As in vsepp/model.py ContrastiveLoss.forward (cosine measure).
    diagonal = scores.diag().view(scores.size(0), 1)
    d1 = diagonal.expand_as(scores)
    d2 = diagonal.t().expand_as(scores)
    cost_s = (margin + scores - d1).clamp(min=0)
    cost_im = (margin + scores - d2).clamp(min=0)
    mask = torch.eye(scores.size(0)) > .5
    cost_s = cost_s.masked_fill_(mask, 0)
    cost_im = cost_im.masked_fill_(mask, 0)
    if max_violation:
        cost_s = cost_s.max(1)[0]
        cost_im = cost_im.max(0)[0]
    return cost_s.sum() + cost_im.sum()


def main(out):
    os.makedirs(out, exist_ok=True)
    g = torch.Generator().manual_seed(7)
    b = 12
    # Cosine-like scores with a stronger diagonal, so some hinges are active and some are not.
    scores = torch.rand(b, b, generator=g) * 0.8 - 0.4
    scores += torch.eye(b) * 0.3
    np.save(os.path.join(out, "loss_scores.npy"), scores.numpy().astype(np.float32))
    for name, mh in (("sh", False), ("mh", True)):
        s = scores.clone().requires_grad_(True)
        loss = contrastive_loss(s, 0.2, mh)
        loss.backward()
        np.save(os.path.join(out, f"loss_{name}_value.npy"), np.array([loss.item()], dtype=np.float32))
        np.save(os.path.join(out, f"loss_{name}_grad.npy"), s.grad.numpy().astype(np.float32))
        print(name, loss.item())


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures/models")
