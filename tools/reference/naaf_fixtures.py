#!/usr/bin/python3
"""Fixtures for NAAF's scorers and its threshold learning (issue 14), from the original code as ported in
naaf_reference.py (CrossmodalGroup/NAAF @ cafcd6f, model.py xattn_score / xattn_score_test).

    /usr/bin/python3 tools/reference/naaf_fixtures.py [tests/fixtures/naaf]

Writes (tests/fixtures/naaf/README.md describes every array and how to replay the sequences):
  test_inputs.safetensors, test_thres_{0,pos}.safetensors    (a) test-time scores (float64, as evaluation.py scores)
  train_inputs.safetensors, train_thres_{0,pos}.safetensors  (b) training-time scores at a fixed threshold (the
                                                                 scoring part of xattn_score), gradients
  dmm_alpha2.safetensors/.json, dmm_alpha20.safetensors/.json (c) the threshold learning over a sequence of
                                                                 training batches, state after each batch
  glove/                                                     NAAF's GloVe distribution format, generated (plus
                                                             wrong tables: rows short, int64, 1-D)

Inputs are generated from fixed seeds and searched so that every case the fixture must cover occurs and no value
sits within 1e-4 of a discontinuity (a region at the threshold, a smoothed maximum at 0, a tie between images in
a ranking decision, a tie for a word's maximum region): a float32 re-implementation then takes the same branches.
"""
import argparse
import collections
import json
import math
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(__file__))
import naaf_reference as N  # noqa: E402
import safetensors_io  # noqa: E402

STATE = N.STATE_KEYS
MARGIN = 1e-4


def nrm(x):
    return x / x.norm(dim=-1, keepdim=True)


# ---------------------------------------------------------------------------------------------------------------
# (a) test time
# ---------------------------------------------------------------------------------------------------------------

def test_parts(images, captions, lengths, thres_safe, lam):
    """The body of the original xattn_score_test, caption by caption, returning its intermediate values
    [Bc, Bi, T] (zero beyond each caption's length): Row_max, Row_max_intra, the negative term, the two positive
    terms. Its per-caption mean must equal xattn_score_test exactly (asserted by the caller)."""
    bi, bc, t = images.size(0), captions.size(0), captions.size(1)
    out = {k: torch.zeros(bc, bi, t, dtype=images.dtype) for k in ("row_max", "row_max_intra", "neg", "pos_f", "pos_r")}
    sims = torch.zeros(bi, bc, dtype=images.dtype)
    for i in range(bc):
        n_word = int(lengths[i])
        cap_i = captions[i, :n_word, :].unsqueeze(0).contiguous()
        cap_i_expand = cap_i.repeat(bi, 1, 1)
        attn = torch.bmm(cap_i_expand, torch.transpose(images, 1, 2))
        attn_i = torch.transpose(attn, 1, 2).contiguous()
        attn_row = (attn - torch.ones_like(attn) * thres_safe).view(bi * n_word, images.size(1))
        Row_max = torch.max(attn_row, 1)[0].unsqueeze(-1)
        attn_intra = N.intra_relation(cap_i, cap_i, 5).repeat(bi, 1, 1)
        Row_max_intra = torch.bmm(attn_intra, Row_max.reshape(bi, n_word).unsqueeze(-1)).reshape(bi * n_word, 1)
        neg = (Row_max * Row_max_intra.lt(0).double()).view(bi, n_word)
        attn_pos = N.get_mask_attention(attn_row, bi, images.size(1), n_word, lam)
        pos_f = N.cosine_similarity(cap_i_expand, torch.bmm(attn_pos, images), dim=2)
        pos_r = attn.mul(N.inter_relations(attn_i, bi, images.size(1), n_word, lam)).sum(-1)
        sims[:, i] = (neg + (pos_f + pos_r)).mean(dim=1)
        out["row_max"][i, :, :n_word] = Row_max.view(bi, n_word)
        out["row_max_intra"][i, :, :n_word] = Row_max_intra.view(bi, n_word)
        out["neg"][i, :, :n_word] = neg
        out["pos_f"][i, :, :n_word] = pos_f
        out["pos_r"][i, :, :n_word] = pos_r
    return sims, out


def test_inputs(seed):
    g = torch.Generator().manual_seed(seed)
    bi, r, d, lengths = 4, 6, 16, [8, 2, 6, 7, 5, 3]
    t = max(lengths)
    images = nrm(torch.randn(bi, r, d, generator=g, dtype=torch.float64))
    captions = torch.zeros(len(lengths), t, d, dtype=torch.float64)
    for c, n in enumerate(lengths):
        # words around a topic (so the intra-sentence weights spread), some pulled towards an image's region
        topic = torch.randn(d, generator=g, dtype=torch.float64)
        w = 0.8 * topic + torch.randn(n, d, generator=g, dtype=torch.float64)
        pick = images[c % bi, torch.randint(0, r, (n,), generator=g)]
        w = w + 2.0 * torch.rand(n, 1, generator=g, dtype=torch.float64) * pick * w.norm(dim=-1, keepdim=True)
        captions[c, :n] = nrm(w)
    return images, captions, lengths


def test_case_counts(images, captions, lengths, parts, thres_safe):
    valid = torch.zeros(parts["row_max"].shape, dtype=torch.bool)
    for c, n in enumerate(lengths):
        valid[c, :, :n] = True
    own, smooth = parts["row_max"][valid], parts["row_max_intra"][valid]
    s = torch.einsum("ctd,ird->citr", captions, images)
    s = s[valid]  # [words, r]
    return {
        "words": int(valid.sum()),
        "no_region_above_threshold": int((s.max(1)[0] <= thres_safe).sum()),
        "own_lt0_smoothed_lt0": int(((own < 0) & (smooth < 0)).sum()),
        "own_ge0_smoothed_lt0": int(((own >= 0) & (smooth < 0)).sum()),
        "own_lt0_smoothed_ge0": int(((own < 0) & (smooth >= 0)).sum()),
        "own_ge0_smoothed_ge0": int(((own >= 0) & (smooth >= 0)).sum()),
        "min_abs_s_minus_threshold": float((s - thres_safe).abs().min()),
        "min_abs_smoothed_max": float(smooth.abs().min()),
    }


def make_test(out):
    lam, thresholds = 20.0, {"0": 0.0, "pos": 0.3}
    for seed in range(1000):
        images, captions, lengths = test_inputs(seed)
        ok, results = True, {}
        for name, th in thresholds.items():
            sims, parts = test_parts(images, captions, lengths, th, lam)
            counts = test_case_counts(images, captions, lengths, parts, th)
            ok &= counts["min_abs_s_minus_threshold"] > MARGIN and counts["min_abs_smoothed_max"] > MARGIN
            if name == "pos":
                ok &= all(counts[k] >= 1 for k in ("no_region_above_threshold", "own_lt0_smoothed_lt0",
                                                   "own_ge0_smoothed_lt0", "own_lt0_smoothed_ge0", "own_ge0_smoothed_ge0"))
            results[name] = (th, sims, parts, counts)
        if ok:
            break
    else:
        raise RuntimeError("no test-time inputs cover every case")
    safetensors_io.save(os.path.join(out, "test_inputs.safetensors"), {
        "images": images.numpy(), "captions": captions.numpy(), "lengths": np.array(lengths, dtype=np.int64)},
        {"seed": seed, "lambda_softmax": lam})
    summary = {}
    for name, (th, sims, parts, counts) in results.items():
        opt = N.naaf_opt(lambda_softmax=lam, thres_safe=th)
        with torch.no_grad():
            want = N.xattn_score_test(images, captions, lengths, opt)
        assert torch.equal(want, sims), "test_parts must be the original scorer"
        assert opt.using_intra_info is True
        tensors = {"scores": want.numpy()}
        tensors.update({k: v.numpy() for k, v in parts.items()})
        safetensors_io.save(os.path.join(out, f"test_thres_{name}.safetensors"), tensors,
                            {"thres_safe": repr(th), "lambda_softmax": lam, "cases": json.dumps(counts)})
        summary[name] = counts
    return summary


# ---------------------------------------------------------------------------------------------------------------
# (b) training time at a fixed threshold
# ---------------------------------------------------------------------------------------------------------------

def train_inputs(seed):
    g = torch.Generator().manual_seed(seed)
    bi, r, d, lengths = 4, 6, 16, [7, 3, 5, 6, 4]
    images = nrm(torch.randn(bi, r, d, generator=g))
    captions = torch.zeros(len(lengths), max(lengths), d)
    for c, n in enumerate(lengths):
        w = torch.randn(n, d, generator=g)
        pick = images[c % bi, torch.randint(0, r, (n,), generator=g)]
        captions[c, :n] = nrm(w + 3.0 * torch.rand(n, 1, generator=g) * pick * w.norm(dim=-1, keepdim=True))
    upstream = torch.randn(bi, len(lengths), generator=g)
    return images, captions, lengths, upstream


def train_margins(images, captions, lengths, theta):
    mins = []
    for c, n in enumerate(lengths):
        s = torch.einsum("td,ird->itr", captions[c, :n].double(), images.double())
        top2 = s.topk(2, dim=2)[0]
        mins.append(min(float((s - theta).abs().min()), float((top2[..., 0] - top2[..., 1]).min())))
    return min(mins)


def make_train(out):
    lam, thresholds = 20.0, {"0": 0.0, "pos": 0.25}
    for seed in range(1000):
        images, captions, lengths, upstream = train_inputs(seed)
        if all(train_margins(images, captions, lengths, th) > MARGIN for th in thresholds.values()):
            s = torch.einsum("ctd,ird->citr", captions, images)
            no_pos = sum(int((s[c, :, :n].max(2)[0] <= thresholds["pos"]).sum()) for c, n in enumerate(lengths))
            if no_pos >= 2:
                break
    safetensors_io.save(os.path.join(out, "train_inputs.safetensors"), {
        "images": images.numpy(), "captions": captions.numpy(), "lengths": np.array(lengths, dtype=np.int64),
        "upstream": upstream.numpy()}, {"seed": seed, "lambda_softmax": lam})
    for name, th in thresholds.items():
        opt = N.naaf_opt(lambda_softmax=lam, thres=th)
        im, cp = images.clone().requires_grad_(True), captions.clone().requires_grad_(True)
        scores = N.xattn_score(im, cp, lengths, opt, mining=False)
        (scores * upstream).sum().backward()
        assert opt.thres == th
        safetensors_io.save(os.path.join(out, f"train_thres_{name}.safetensors"), {
            "scores": scores.detach().numpy(), "d_images": im.grad.numpy(), "d_captions": cp.grad.numpy()},
            {"thres": repr(th), "lambda_softmax": lam, "words_without_region_above_thres": no_pos if name == "pos" else 0})
    return {"seed": seed}


# ---------------------------------------------------------------------------------------------------------------
# (c) threshold learning over a sequence of batches
# ---------------------------------------------------------------------------------------------------------------

B, R, D, T = 20, 5, 16, 16
DMM_MARGIN = 2e-5  # 20 x 20 pairs x 16 words x 5 regions: 1e-4 is too rare a gap; float32 errors are ~1e-7


def dmm_batch(seed, topic, beta, scale=1.0, shift=0.0, min_len=10):
    """20 captions of 10-16 words (sorted by length, longest first, as the original collate_fn does) and their 20
    images (5 regions): words around a caption topic; the caption's image has regions around the caption's mean
    word. The last coordinate adds an offset: s = scale * (s_15d - shift)."""
    g = torch.Generator().manual_seed(seed)
    lengths = sorted(torch.randint(min_len, T + 1, (B,), generator=g).tolist(), reverse=True)
    caps, ims = torch.zeros(B, T, D), torch.zeros(B, R, D)
    for c in range(B):
        t = nrm(torch.randn(D - 1, generator=g))
        w = nrm(topic * t + torch.randn(lengths[c], D - 1, generator=g) / math.sqrt(D - 1))
        caps[c, :lengths[c], :D - 1] = scale * w
        caps[c, :lengths[c], D - 1] = scale
        ims[c, :, :D - 1] = nrm(beta * nrm(w.sum(0)) + torch.randn(R, D - 1, generator=g) / math.sqrt(D - 1))
        ims[c, :, D - 1] = -shift
    upstream = torch.randn(B, B, generator=g)
    return ims, caps, lengths, upstream


def run_batch(ims, caps, lengths, upstream, opt):
    im, cp = ims.clone().requires_grad_(True), caps.clone().requires_grad_(True)
    trace = {}
    scores = N.xattn_score(im, cp, lengths, opt, trace=trace)
    (scores * upstream).sum().backward()
    return scores.detach(), im.grad, cp.grad, trace


def dmm_margin(ims, caps, lengths, scores, trace):
    """Smallest distance to a discontinuity: a region at the caption's threshold, a tie for a word's maximum, a
    tie between the best two images of a caption (or the worst two, where the worst one is sampled), E at 0, a
    solved threshold at 0 or 1."""
    m = []
    for c, n in enumerate(lengths):
        s = torch.einsum("td,ird->itr", caps[c, :n].double(), ims.double())
        top2 = s.topk(2, dim=2)[0]
        m.append(float((s - float(trace["thres_used"][c])).abs().min()))
        m.append(float((top2[..., 0] - top2[..., 1]).min()))
        col = scores[:, c].double().sort(descending=True)[0]
        m.append(float(col[0] - col[1]))
        if trace["correct"][c]:
            m.append(float(col[-2] - col[-1]))
    for u in trace["updates"]:
        m.append(abs(u["E"]) / max(u["B"] ** 2, 1e-12))
        if u["E"] > 0:  # else the "solved" values are the previous ones, already inside [0, 1]
            for k in ("solved_thres", "solved_thres_safe"):
                m.append(min(abs(u[k]), abs(u[k] - 1)))
    return min(m)


def kinds(trace):
    ups = trace["updates"]
    return {
        "updates": len(ups),
        "E_le_0": sum(u["E"] <= 0 for u in ups),
        "E_gt_0": sum(u["E"] > 0 for u in ups),
        "thres_lt_0": sum(u["E"] > 0 and u["solved_thres"] < 0 for u in ups),
        "thres_gt_1": sum(u["E"] > 0 and u["solved_thres"] > 1 for u in ups),
        "thres_in": sum(u["E"] > 0 and 0 <= u["solved_thres"] <= 1 for u in ups),
        "safe_lt_0": sum(u["E"] > 0 and u["solved_thres_safe"] < 0 for u in ups),
        "safe_gt_1": sum(u["E"] > 0 and u["solved_thres_safe"] > 1 for u in ups),
        "safe_in": sum(u["E"] > 0 and 0 <= u["solved_thres_safe"] <= 1 for u in ups),
        "correct": sum(trace["correct"]),
    }


# Each batch: generator parameters and what it must show (a predicate on kinds()).
SEQUENCES = collections.OrderedDict([
    ("dmm_alpha2", {
        "alpha": 2.0,
        "initial": {"thres": 0.35, "thres_safe": 0.12, "mean_pos": 0.5, "stnd_pos": 0.13, "mean_neg": 0.2,
                    "stnd_neg": 0.15},
        "batches": [
            ("fewer than 200 matched words: no update, thresholds reset to 0, statistics kept",
             dict(topic=0.0, beta=0.45), lambda k: k["updates"] == 0 and k["correct"] >= 4),
            ("updates with the solved thresholds inside [0, 1]",
             dict(topic=1.0, beta=1.0), lambda k: k["updates"] >= 3 and k["thres_in"] == k["updates"] and k["safe_in"] >= 1),
            ("similarities scaled by 2.6: solved thres and thres_safe above 1, replaced by 0",
             dict(topic=1.5, beta=1.2, scale=2.6), lambda k: k["thres_gt_1"] >= 1 and k["safe_gt_1"] >= 1),
            ("similarities shifted by -0.8: solved thres and thres_safe below 0, replaced by 0",
             dict(topic=1.0, beta=1.0, shift=0.8), lambda k: k["thres_lt_0"] >= 1 and k["safe_lt_0"] >= 1),
            ("updates with thres inside [0, 1] and thres_safe = mu_p - 3 sigma_p below 0",
             dict(topic=0.0, beta=0.8), lambda k: k["updates"] >= 2 and k["thres_in"] >= 1 and k["safe_lt_0"] >= 1),
        ]}),
    ("dmm_alpha20", {
        "alpha": 20.0,
        "initial": {"thres": 0, "thres_safe": 0, "mean_pos": 0, "stnd_pos": 0, "mean_neg": 0, "stnd_neg": 0},
        "batches": [
            ("updates with E > 0",
             dict(topic=0.5, beta=1.0), lambda k: k["E_gt_0"] >= 2 and k["E_le_0"] == 0),
            ("an update with E <= 0: thres and thres_safe keep their values, then 0.7/0.3 smoothing",
             dict(topic=0.1, beta=0.8), lambda k: k["E_le_0"] >= 1),
            ("updates with E <= 0 and E > 0 in one batch",
             dict(topic=0.1, beta=0.85), lambda k: k["E_le_0"] >= 1 and k["E_gt_0"] >= 1),
        ]}),
])


def make_sequence(out, name, spec):
    lam = 20.0
    opt = N.naaf_opt(lambda_softmax=lam, alpha=spec["alpha"], **spec["initial"])
    tensors = {"initial_state": np.array([float(getattr(opt, k)) for k in STATE], dtype=np.float64)}
    log = {"alpha": spec["alpha"], "lambda_softmax": lam, "state_keys": list(STATE), "initial_state": spec["initial"],
           "batches": []}
    seed = 0
    for k, (what, params, want) in enumerate(spec["batches"]):
        state = {key: getattr(opt, key) for key in STATE}
        for seed in range(seed, seed + 20000):
            # Screen with the batched scorer (fast, no gradients); the fixture itself comes from the original loop.
            check = N.naaf_opt(lambda_softmax=lam, alpha=spec["alpha"], **state)
            ims, caps, lengths, up = dmm_batch(seed, **params)
            tr2 = {}
            with torch.no_grad():
                s2 = N.xattn_score_batched(ims, caps, lengths, check, trace=tr2)
            if want(kinds(tr2)) and dmm_margin(ims, caps, lengths, s2, tr2) > DMM_MARGIN:
                break
        else:
            raise RuntimeError(f"{name} batch {k}: no seed shows '{what}'")
        for key, v in state.items():
            setattr(opt, key, v)
        scores, d_im, d_cap, trace = run_batch(ims, caps, lengths, up, opt)
        kd = kinds(trace)
        assert want(kd), (name, k)
        # The batched scorer agrees (same thresholds, same decisions, same state).
        assert tr2["correct"] == trace["correct"] and tr2["neg_index"] == trace["neg_index"], (name, k)
        assert max(abs(getattr(check, x) - getattr(opt, x)) for x in STATE) < 1e-6, (name, k)
        assert float((s2 - scores).abs().max()) < 1e-5, (name, k)
        p = f"batch{k}."
        tensors.update({
            p + "images": ims.numpy(), p + "captions": caps.numpy(), p + "lengths": np.array(lengths, dtype=np.int64),
            p + "upstream": up.numpy(), p + "scores": scores.numpy(), p + "d_images": d_im.numpy(),
            p + "d_captions": d_cap.numpy(),
            p + "thres_used": np.array([float(x) for x in trace["thres_used"]], dtype=np.float64),
            p + "correct": np.array(trace["correct"], dtype=np.int64),
            p + "neg_index": np.array(trace["neg_index"], dtype=np.int64),
            p + "state": np.array([float(getattr(opt, key)) for key in STATE], dtype=np.float64)})
        log["batches"].append({"batch": k, "what": what, "seed": seed, "generator": params, "kinds": kd,
                               "state_before": state, "state_after": {key: getattr(opt, key) for key in STATE},
                               "state_after_types": {key: type(getattr(opt, key)).__name__ for key in STATE},
                               "thres_used": trace["thres_used"], "updates": trace["updates"]})
        seed += 1
    safetensors_io.save(os.path.join(out, name + ".safetensors"), tensors,
                        {"alpha": spec["alpha"], "lambda_softmax": lam, "batches": len(spec["batches"]),
                         "state_keys": ",".join(STATE)})
    with open(os.path.join(out, name + ".json"), "w") as f:
        json.dump(log, f, indent=1)
        f.write("\n")
    return [{"what": b["what"], **b["kinds"], "state_after": b["state_after"]} for b in log["batches"]]


# ---------------------------------------------------------------------------------------------------------------
# GloVe files as NAAF distributes them (generated vectors)
# ---------------------------------------------------------------------------------------------------------------

GLOVE_WORDS = ["a", "man", "dog", "is", "running", "on", "the", "grass", ".", "two", "children", "play"]
GLOVE_KNOWN = {"a", "man", "dog", "is", "running", "on", "the", "grass", ".", "two"}  # "children", "play": no vector


def make_glove(out):
    """f30k_precomp.json: the tokenizer state of jwehrmann/retrieval.pytorch (which NAAF copied with its vocab/
    folder): {"word2idx": {...}, "char_level": false, "max_len": null}, <pad> 0, <unk> 1, <start> 2, <end> 3, then
    the words. glove_840B_f30k_precomp.json.pkl: torch.save of the float32 [V, 300] matrix built by retrieval.pytorch's
    vocab/align_vocab.py -- row k = the GloVe vector of word k; <pad>, <start>, <end> zero rows; <unk> and words
    without a vector = the mean of all GloVe vectors. The 2020 file predates torch 1.6, so it is most likely the
    legacy format; the zip variant is what torch >= 1.6 writes. Vectors here: generated (no GloVe on our machines)."""
    folder = os.path.join(out, "glove")
    os.makedirs(folder, exist_ok=True)
    word2idx = {"<pad>": 0, "<unk>": 1, "<start>": 2, "<end>": 3}
    for w in GLOVE_WORDS:
        word2idx[w] = len(word2idx)
    with open(os.path.join(folder, "f30k_precomp.json"), "w") as f:
        json.dump({"word2idx": word2idx, "char_level": False, "max_len": None}, f)
    g = torch.Generator().manual_seed(840)
    glove = {w: torch.randn(300, generator=g, dtype=torch.float64) * 0.4 for w in sorted(GLOVE_KNOWN)}
    glove.update({f"other{k}": torch.randn(300, generator=g, dtype=torch.float64) * 0.4 for k in range(20)})
    mean = torch.stack(list(glove.values())).mean(0)
    matrix = torch.zeros(max(word2idx.values()) + 1, 300)
    for w, k in word2idx.items():
        if w in ("<pad>", "<start>", "<end>"):
            continue
        matrix[k] = glove.get(w, mean) if w != "<unk>" else mean
    path = os.path.join(folder, "glove_840B_f30k_precomp.json.pkl")
    legacy_ok = os.path.exists(path) and torch.equal(torch.load(path), matrix)
    if not legacy_ok:
        torch.save(matrix, path, _use_new_zipfile_serialization=False)
    torch.save(matrix, os.path.join(folder, "glove_840B_f30k_precomp.zip.json.pkl"))
    np.save(os.path.join(folder, "glove_840B_f30k_precomp.npy"), matrix.numpy())
    bad = os.path.join(folder, "glove_rows_mismatch.json.pkl")  # one row short of the vocabulary
    if not (os.path.exists(bad) and torch.equal(torch.load(bad), matrix[:-1])):
        torch.save(matrix[:-1].clone(), bad, _use_new_zipfile_serialization=False)
    # Two more tables a user could hand over by mistake: word ids instead of vectors (int64), and a flat vector.
    wrong = {"glove_int64.json.pkl": torch.arange(matrix.shape[0] * 4, dtype=torch.int64).view(-1, 4),
             "glove_flat.json.pkl": matrix[4].clone()}
    for name, t in wrong.items():
        q = os.path.join(folder, name)
        if not (os.path.exists(q) and torch.equal(torch.load(q), t)):
            torch.save(t, q, _use_new_zipfile_serialization=False)
    for p in (path, os.path.join(folder, "glove_840B_f30k_precomp.zip.json.pkl")):
        assert torch.equal(torch.load(p), matrix)
    return {"vocab": len(word2idx), "rows": int(matrix.shape[0]), "dim": 300,
            "zero_rows": ["<pad>", "<start>", "<end>"], "mean_rows": ["<unk>", "children", "play"]}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("out", nargs="?", default=os.path.join(os.path.dirname(__file__), "..", "..", "tests", "fixtures", "naaf"))
    a = p.parse_args()
    torch.set_num_threads(1)
    out = os.path.abspath(a.out)
    os.makedirs(out, exist_ok=True)
    summary = {"test": make_test(out), "train": make_train(out)}
    for name, spec in SEQUENCES.items():
        summary[name] = make_sequence(out, name, spec)
    summary["glove"] = make_glove(out)
    total = sum(os.path.getsize(os.path.join(r, n)) for r, _, ns in os.walk(out) for n in ns)
    summary["bytes"] = total
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
