#!/usr/bin/python3
"""Evaluates a CrossModal checkpoint with the PyTorch reference's own code: the encoders, cross attention, similarity
matrix and ranking metrics of tools/reference/train_reference.py, with the weights, options and vocabulary read from
our safetensors file. Equal metrics from `crossmodal eval` and from this script mean that a gap in the accuracy table
comes from training, not from encoding, scoring or ranking.

    env -u OPENBLAS_CORETYPE /usr/bin/python3 tools/accuracy/pytorch_eval.py CHECKPOINT.safetensors DATA_DIR [SPLIT]

Prints the test metrics as JSON (the same keys as `crossmodal eval --json`).
"""
import argparse
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "reference"))
import safetensors_io  # noqa: E402
import train_reference as ref  # noqa: E402


def main(checkpoint, data, split):
    tensors, meta = safetensors_io.load(checkpoint)
    cfg = json.loads(meta["model_config"])
    if cfg["model"] == "scan" and cfg.get("raw_feature_norm", "clipped_l2norm") != "clipped_l2norm":
        sys.exit(f"{checkpoint}: the reference implements raw_feature_norm clipped_l2norm only, found {cfg['raw_feature_norm']}")
    word2idx = json.loads(meta["vocab"])["word2idx"]
    scan = cfg["model"] == "scan"
    a = argparse.Namespace(model=cfg["model"], cross_attn=cfg.get("cross_attn", "t2i"), agg_func=cfg.get("agg_func", "Mean"),
                           lambda_softmax=cfg.get("lambda_softmax", 9.0), lambda_lse=cfg.get("lambda_lse", 6.0))
    s = ref.Split(data, split, word2idx)
    img = ref.ImageEncoder(s.ims.shape[-1], cfg["embed_size"], 1e-8 if scan else 0.0, pool=not scan)
    txt = ref.TextEncoder(len(word2idx), cfg["word_dim"], cfg["embed_size"], bi=cfg.get("bi_gru", False), per_word=scan,
                          eps=1e-8 if scan else 0.0)
    for module, prefix in ((img, "img_enc."), (txt, "txt_enc.")):
        module.load_state_dict({k[len(prefix):]: torch.from_numpy(np.array(v)) for k, v in tensors.items() if k.startswith(prefix)})
    m = ref.metrics(ref.similarity(img, txt, s, a))
    print(json.dumps({k: m[k] for k in ("i2t", "t2i", "rsum")}))


if __name__ == "__main__":
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2], sys.argv[3] if len(sys.argv) == 4 else "test")
