#!/usr/bin/python3
"""Original-format IMRAM checkpoints and their evaluation similarity (issue 13), in the pattern of
checkpoint_fixtures.py. The model, the evaluation and the options are HuiChen24/IMRAM acada5c (model.py,
evaluation.py encode_data + shard_xattn_*_IMRAM, opts.py, train_gpus.py save_checkpoint) via imram_reference.py.

Run with Debian's interpreter (torch 1.13): /usr/bin/python3, never the pyenv python3 on PATH.

Mode 1, ``make`` (default): small IMRAM models (the original module structure, img_dim 512 = the f8k precomp
features, embed 32, word_dim 12, the f8k vocabulary of 3,159 words, bi-GRU, random weights from a fixed seed), saved
exactly as train_gpus.py saves them -- ``torch.save({'epoch': epoch + 1, 'model': model.state_dict(), 'best_rsum':
best_rsum, 'opt': opt}, ...)`` with ``model = nn.DataParallel(SCAN(opt))``, so the state-dict keys carry ``module.``
(``module.img_enc.fc_local.weight``, ``module.txt_enc.embed.weight``, ``module.txt_enc.rnn.*`` incl. ``_reverse``,
``module.linear_t2i.*``, ``module.gate_t2i.*``, ``module.linear_i2t.*``, ``module.gate_i2t.*``; all four gate
layers exist in every mode) and ``opt`` is opts.parse_opt()'s argparse.Namespace plus ``vocab_size``. Writes under
``tests/fixtures/checkpoints/``:

  imram_full_k3/    full_IMRAM, iteration_step 3, lambda_softmax 9, no_IMRAM_norm (the F30K script's flags)
  imram_text_k1/    text_IMRAM, iteration_step 1, lambda_softmax 11 (the COCO script's flags, K = 1)
    <m>.zip.pth.tar       torch.save default (zip)
    <m>.legacy.pth.tar    torch.save(..., _use_new_zipfile_serialization=False)
    img_emb.npy           float32 [6, 36, 32]  region embeddings (encode_data, every 5th row)
    cap_emb.npy           float32 [30, L, 32]  word embeddings, zero beyond each length (caption file order)
    sims.npy              float64 [6, 30]      evalrank's similarity (images x captions) from shard_xattn: float32
                                               encoders, float32 per-step scores, float64 sums
  imram_manifest.json     for every file: format, sha256, bytes, section offsets, top-level keys, epoch,
                          best_rsum, opt values and Python types, the state dict's names/shapes/dtypes (one dict,
                          not a list), and the model folders. Separate from manifest.json, whose entries are
                          VSE++/SCAN's [img_sd, txt_sd] lists with Eiters.

The evaluation inputs are checkpoint_fixtures.py's ``inputs/`` (6 f8k test images x their 30 captions). Re-running
is byte-stable (zip files are deterministic; legacy files are rewritten only when their content changed).

Mode 2, ``check-safetensors FILE [--expect SIMS.npy] [--tol 1e-4]``: reads a CrossModal safetensors checkpoint of an
IMRAM model -- tensors named like the original state dict WITHOUT ``module.`` (``img_enc.fc_local.weight``,
``txt_enc.embed.weight``, ``txt_enc.rnn.*``, ``linear_t2i.*``, ``gate_t2i.*``, ``linear_i2t.*``, ``gate_i2t.*``;
``optimizer.*`` ignored), metadata "format" = "crossmodal-checkpoint/1" and "model_config" JSON {"model": "imram",
"img_dim", "embed_size", "word_dim", "vocab_size", "num_layers", "bi_gru", "no_imgnorm", "no_txtnorm",
"model_mode", "iteration_step", "lambda_softmax", "no_IMRAM_norm", optionally "raw_feature_norm",
"precomp_enc_type", ...} (the original opt names) -- rebuilds the original model, loads it strictly, runs the
original evaluation on the shared inputs and compares with --expect. One JSON line; exit 1 on mismatch.
``make`` writes such a file from each fixture model and checks it this way (self-test of the reverse path).
"""
import argparse
import collections
import json
import os
import struct
import sys

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(__file__))
import checkpoint_fixtures as cf  # noqa: E402
import imram_reference as ref  # noqa: E402

OUT = cf.OUT
SEED = 20240613
MANIFEST = "imram_manifest.json"

COMMON = dict(data_path="../../data", data_name="f8k_precomp", vocab_path="vocab", word_dim=cf.WORD_DIM,
              embed_size=cf.EMBED, img_dim=512, max_violation=True, bi_gru=True, agg_func="Mean")
MODELS = collections.OrderedDict([
    # script/tune_f30k.sh with model_mode=full_IMRAM, iteration_step=3 (the paper's K)
    ("imram_full_k3", dict(COMMON, gpuid="1,2", model_mode="full_IMRAM", iteration_step=3, lambda_softmax=9.0,
                           no_IMRAM_norm=True, logger_name="checkpoint/f30k_scan//gpus_full_IMRAM_steps_3_softmax_9",
                           model_name="checkpoint/f30k_scan//gpus_full_IMRAM_steps_3_softmax_9")),
    # script/tune_coco.sh's flags (text_IMRAM, lambda 11, 20 epochs, lr 5e-4 decayed at 10) with K = 1
    ("imram_text_k1", dict(COMMON, gpuid="0,1,2,3,4,5,6,7", model_mode="text_IMRAM", iteration_step=1,
                           lambda_softmax=11.0, num_epochs=20, lr_update=10, learning_rate=.0005, no_IMRAM_norm=True,
                           logger_name="checkpoint/coco_scan//gpus_text_IMRAM_steps_1_softmax_11",
                           model_name="checkpoint/coco_scan//gpus_text_IMRAM_steps_1_softmax_11")),
])
EPOCHS = {"imram_full_k3": (17, 321.5), "imram_text_k1": (9, 288.25)}  # epoch + 1 as saved, best_rsum


def inputs():
    d = cf.load_inputs()
    ids = [list(map(int, row[:n])) for row, n in zip(d["caption_ids"], d["caption_lengths"])]
    ims = np.load(os.path.join(cf.DATA, "f8k-1k-precomp", "test_ims.npy"), mmap_mode="r")
    images = np.ascontiguousarray(ims[d["image_indices"]], dtype=np.float32)
    return images, ids, d


def evaluate(model, opt):
    """evalrank's sims for the shared inputs; also the embeddings, float32, zero beyond each caption's length."""
    images, ids, _ = inputs()
    sims, img_embs, cap_embs, cap_lens, _ = ref.evaluate_sims(model, images, ids, opt)
    return (np.ascontiguousarray(img_embs, dtype=np.float32), np.ascontiguousarray(cap_embs, dtype=np.float32),
            np.ascontiguousarray(sims, dtype=np.float64))


def state_dict_entry(sd):
    return [{"name": k, "shape": list(t.shape), "dtype": str(t.dtype).replace("torch.", "")} for k, t in sd.items()]


def checkpoint_entry(path, fmt, ck, fixture):
    opt = vars(ck["opt"])
    return {"file": os.path.relpath(path, OUT), "format": fmt, "sha256": cf.sha256(path),
            "bytes": os.path.getsize(path), "sections": cf.sections(path, fmt), "fixture": fixture,
            "top_keys": list(ck.keys()), "epoch": ck["epoch"], "best_rsum": ck["best_rsum"], "opt": opt,
            "opt_types": {k: cf.py_type(v) for k, v in opt.items()}, "state_dict": state_dict_entry(ck["model"])}


def verify_load(path, ck):
    back = torch.load(path, map_location="cpu")
    assert list(back.keys()) == list(ck.keys()), path
    assert back["epoch"] == ck["epoch"] and float(back["best_rsum"]) == float(ck["best_rsum"]), path
    assert vars(back["opt"]) == vars(ck["opt"]), path
    assert list(back["model"].keys()) == list(ck["model"].keys()), path
    for k, t in ck["model"].items():
        assert back["model"][k].dtype == t.dtype and torch.equal(back["model"][k], t), (path, k)


def save_legacy_if_changed(ck, path):
    if os.path.exists(path):
        try:
            verify_load(path, ck)
            return
        except (AssertionError, RuntimeError, KeyError):
            pass
    torch.save(ck, path, _use_new_zipfile_serialization=False)


def model_config(opt):
    o = vars(opt)
    keys = ("img_dim", "embed_size", "word_dim", "vocab_size", "num_layers", "bi_gru", "no_imgnorm", "no_txtnorm",
            "precomp_enc_type", "raw_feature_norm", "model_mode", "iteration_step", "lambda_softmax", "no_IMRAM_norm")
    return dict([("model", "imram")] + [(k, o[k]) for k in keys])


def safetensors_bytes(state_dict, config):
    """A CrossModal checkpoint of an IMRAM model: the state dict without 'module.', metadata as described above."""
    meta = {"format": "crossmodal-checkpoint/1", "model_config": json.dumps(config)}
    header, offset, blobs = {"__metadata__": meta}, 0, []
    for k, t in state_dict.items():
        name = k[len("module."):] if k.startswith("module.") else k
        b = t.detach().contiguous().numpy().tobytes()
        header[name] = {"dtype": cf.ST_NAMES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(b)]}
        offset += len(b)
        blobs.append(b)
    h = json.dumps(header).encode("utf-8")
    h += b" " * ((8 - len(h) % 8) % 8)
    return struct.pack("<Q", len(h)) + h + b"".join(blobs)


def opt_from_metadata(meta, name):
    if not str(meta.get("format", "")).startswith("crossmodal-checkpoint"):
        raise ValueError(f"{name}: metadata 'format' is {meta.get('format')!r}, expected 'crossmodal-checkpoint/1'")
    if "model_config" not in meta:
        raise ValueError(f"{name}: no 'model_config' metadata")
    config = json.loads(meta["model_config"])
    if config.get("model") != "imram":
        raise ValueError(f"{name}: model_config 'model' is {config.get('model')!r}, this mode reads 'imram'")
    required = ("img_dim", "embed_size", "word_dim", "vocab_size", "model_mode", "iteration_step", "lambda_softmax")
    missing = [k for k in required if k not in config]
    if missing:
        raise ValueError(f"{name}: model_config lacks {missing}")
    if config["model_mode"] not in ref.MODES:
        raise ValueError(f"{name}: model_mode {config['model_mode']!r} is not one of {list(ref.MODES)}")
    if int(config["iteration_step"]) < 1:
        raise ValueError(f"{name}: iteration_step {config['iteration_step']} must be at least 1")
    if not config.get("bi_gru", True) and int(config.get("num_layers", 1)) == 1:
        raise ValueError(f"{name}: the original IMRAM text encoder needs bi_gru (it indexes the GRU's ht[1])")
    defaults = vars(ref.imram_opt())
    known = {k: v for k, v in config.items() if k in defaults}
    ignored = sorted(k for k in config if k not in defaults and k not in ("model", "vocab_size"))
    opt = ref.imram_opt(vocab_size=int(config["vocab_size"]), **known)
    return opt, ignored


def check_safetensors_bytes(buf, name):
    tensors, meta = cf.parse_safetensors(buf, name)
    opt, ignored = opt_from_metadata(meta, name)
    model = ref.SCAN(opt)
    sd = collections.OrderedDict((k, v) for k, v in tensors.items() if not k.startswith("optimizer."))
    model.load_state_dict(sd, strict=True)
    return opt, ignored, evaluate(model, opt)


def check_safetensors(path, expect, tol):
    opt, ignored, (img_emb, cap_emb, sims) = check_safetensors_bytes(open(path, "rb").read(), path)
    result = {"file": path, "method": "imram", "model_mode": opt.model_mode, "iteration_step": opt.iteration_step,
              "lambda_softmax": opt.lambda_softmax, "no_IMRAM_norm": opt.no_IMRAM_norm, "shape": list(sims.shape),
              "ignored_config_keys": ignored}
    ok = True
    if expect is not None:
        ref_sims = np.load(expect)
        diff = float(np.abs(ref_sims - sims).max()) if ref_sims.shape == sims.shape else float("inf")
        ok = diff <= tol
        result.update({"expect": expect, "max_abs_diff": diff, "tol": tol, "ok": ok})
    print(json.dumps(result))
    return 0 if ok else 1


def make():
    _, _, d = inputs()
    vocab = json.load(open(os.path.join(cf.DATA, "vocab", "f8k_precomp_vocab.json"), encoding="utf-8"))
    vocab_size = int(vocab["idx"])
    manifest = {"generator": "tools/reference/imram_checkpoint_fixtures.py", "torch": torch.__version__, "seed": SEED,
                "original": "HuiChen24/IMRAM acada5c (train_gpus.py save_checkpoint, evaluation.evalrank)",
                "inputs": {"folder": "inputs", "image_split": "test", "images": d["image_indices"].tolist(),
                           "vocab": "vocab/f8k_precomp_vocab.json", "vocab_size": vocab_size},
                "models": {}, "checkpoints": []}
    for index, (name, over) in enumerate(MODELS.items()):
        opt = ref.imram_opt(vocab_size=vocab_size, **over)
        torch.manual_seed(SEED + index)
        model = ref.SCAN(opt)
        dp = nn.DataParallel(model)  # CPU: no devices, the wrapper only adds the 'module.' prefix
        img_emb, cap_emb, sims = evaluate(model, opt)
        folder = os.path.join(OUT, name)
        os.makedirs(folder, exist_ok=True)
        np.save(os.path.join(folder, "img_emb.npy"), img_emb)
        np.save(os.path.join(folder, "cap_emb.npy"), cap_emb)
        np.save(os.path.join(folder, "sims.npy"), sims)
        epoch, best = EPOCHS[name]
        ck = {"epoch": epoch, "model": dp.state_dict(), "best_rsum": best, "opt": opt}
        assert all(k.startswith("module.") for k in ck["model"]), list(ck["model"])[:3]
        manifest["models"][name] = {"method": "imram", "folder": name, "sims": name + "/sims.npy",
                                    "img_emb": name + "/img_emb.npy", "cap_emb": name + "/cap_emb.npy",
                                    "features": "f8k-1k-precomp", "model_mode": opt.model_mode,
                                    "iteration_step": opt.iteration_step, "lambda_softmax": opt.lambda_softmax,
                                    "no_IMRAM_norm": opt.no_IMRAM_norm,
                                    "score_range": [float(sims.min()), float(sims.max())]}
        zpath = os.path.join(folder, name + ".zip.pth.tar")
        lpath = os.path.join(folder, name + ".legacy.pth.tar")
        torch.save(ck, zpath)
        save_legacy_if_changed(ck, lpath)
        for p, fmt in ((zpath, "zip"), (lpath, "legacy")):
            verify_load(p, ck)
            manifest["checkpoints"].append(checkpoint_entry(p, fmt, ck, name))
        # The original test_gpus.py path: load the saved file into a fresh DataParallel model, evaluate model.module.
        back = torch.load(zpath, map_location="cpu")
        fresh = nn.DataParallel(ref.SCAN(back["opt"]))
        fresh.load_state_dict(back["model"])
        assert np.array_equal(evaluate(fresh.module, back["opt"])[2], sims), name
        # Reverse path: our safetensors layout -> the original model -> the same sims.
        got = check_safetensors_bytes(safetensors_bytes(ck["model"], model_config(opt)), "<self-test " + name + ">")[2][2]
        assert np.abs(got - sims).max() < 1e-12, name
    with open(os.path.join(OUT, MANIFEST), "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=1, ensure_ascii=False)
        f.write("\n")
    sizes = {n: sum(os.path.getsize(os.path.join(OUT, n, f)) for f in os.listdir(os.path.join(OUT, n))) for n in MODELS}
    print(json.dumps({"out": os.path.relpath(OUT, cf.REPO), "bytes": sizes}))


def write_safetensors(src, dst):
    """Converts one of the fixture .pth.tar files to the CrossModal layout (for trying check-safetensors by hand)."""
    ck = torch.load(src, map_location="cpu")
    with open(dst, "wb") as f:
        f.write(safetensors_bytes(ck["model"], model_config(ck["opt"])))
    print(json.dumps({"from": src, "to": dst}))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="mode")
    sub.add_parser("make")
    c = sub.add_parser("check-safetensors")
    c.add_argument("file")
    c.add_argument("--expect", default=None)
    c.add_argument("--tol", type=float, default=1e-4)
    w = sub.add_parser("to-safetensors", help="write a fixture .pth.tar in the CrossModal safetensors layout")
    w.add_argument("src")
    w.add_argument("dst")
    a = p.parse_args()
    torch.set_num_threads(1)
    if a.mode == "check-safetensors":
        try:
            sys.exit(check_safetensors(a.file, a.expect, a.tol))
        except (ValueError, RuntimeError, OSError, KeyError) as e:
            print(f"error: {e}", file=sys.stderr)
            sys.exit(2)
    if a.mode == "to-safetensors":
        write_safetensors(a.src, a.dst)
        return
    make()


if __name__ == "__main__":
    main()
