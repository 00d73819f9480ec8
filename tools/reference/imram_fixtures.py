#!/usr/bin/python3
"""IMRAM scoring fixtures from the original code (HuiChen24/IMRAM acada5c model.py, via imram_reference.py):
xattn_score_Text_IMRAM / xattn_score_Image_IMRAM, the per-caption loop, on tiny non-degenerate shapes.

    /usr/bin/python3 tools/reference/imram_fixtures.py tests/fixtures/imram

inputs.safetensors
  images     F32 [3, 5, 8]   region embeddings (l2-normalised rows)
  captions   F32 [4, 6, 8]   word embeddings (l2-normalised), zero beyond each length
  lengths    I64 [4]         4, 1, 6, 2 (not sorted)
  upstream   F32 [3, 4]      the upstream gradient of the score matrix (images x captions)
  linear_t2i.weight F32 [8, 16], linear_t2i.bias F32 [8], and the same for gate_t2i, linear_i2t, gate_i2t
  (PyTorch's default Linear init from a fixed seed; z = [query; attended] so columns 0-7 act on the query)

{text_IMRAM,image_IMRAM,full_IMRAM}_k{1,3}_{norm,nonorm}.safetensors (nonorm = --no_IMRAM_norm, the published
setting; norm = the argparse default, the updated query l2-normalised after every update), lambda_softmax 9,
raw_feature_norm clipped_l2norm, metadata with those options:
  scores       F64 [3, 4]  what the original returns (model.eval(): images x captions): every step computed in
                           float32, each step's matrix cast to float64, summed over steps, t2i + i2t
  scores_f32   F32 [3, 4]  the same float32 steps summed in float32
  scores_f64   F64 [3, 4]  everything in float64 (the batched form of the same math in double precision; it agrees
                           with the float32 loop to ~1e-7 and with itself to ~1e-15)
  t2i_steps    F64 [K, 3, 4]  the per-step matrices of the original (text and full modes)
  i2t_steps    F64 [K, 3, 4]  (image and full modes)
  d_images     F32 [3, 5, 8]  gradient of sum(scores * upstream) (float64 loss, float32 graph, as the original)
  d_captions   F32 [4, 6, 8]  (zero beyond each length)
  d_<layer>.weight / d_<layer>.bias  F32, for every gate layer the original gives a gradient; absent = None in the
                           original (the layer is not on the score's path: the other direction's layers, and every
                           gate layer when K = 1, since the update after the last step is computed and discarded)
  scores_loop_f64, d_images_f64, d_captions_f64, d_<layer>.weight_f64, d_<layer>.bias_f64  F64: the original loop
                           run entirely in float64 (imram_reference.keep_float64), the arbiter of float32 rounding:
                           with K = 3 in the t2i direction the float32 original is itself up to ~1e-4 (relative to
                           the array's largest value) away from it, IMRAM norm on (see tests/fixtures/imram/README.md)
"""
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(__file__))
import imram_reference as ref  # noqa: E402
import safetensors_io  # noqa: E402

BI, BC, R, D = 3, 4, 5, 8
LENGTHS = [4, 1, 6, 2]
LAMBDA = 9.0
LAYERS = ("linear_t2i", "gate_t2i", "linear_i2t", "gate_i2t")


def make_model(mode, K, no_norm):
    opt = ref.imram_opt(model_mode=mode, iteration_step=K, no_IMRAM_norm=no_norm, lambda_softmax=LAMBDA,
                        embed_size=D, img_dim=4, word_dim=4, vocab_size=6, bi_gru=True, agg_func="Mean")
    torch.manual_seed(11)  # the same gate weights for every setting
    return ref.SCAN(opt).eval(), opt


def main(out):
    os.makedirs(out, exist_ok=True)
    g = torch.Generator().manual_seed(5)
    images = ref.l2norm(torch.randn(BI, R, D, generator=g), -1)
    captions = ref.l2norm(torch.randn(BC, max(LENGTHS), D, generator=g), -1)
    for c, l in enumerate(LENGTHS):
        captions[c, l:] = 0
    upstream = torch.randn(BI, BC, generator=g)
    lengths = torch.tensor(LENGTHS)
    model, _ = make_model("full_IMRAM", 3, True)
    inputs = {"images": images.numpy(), "captions": captions.numpy(), "lengths": lengths.numpy().astype(np.int64),
              "upstream": upstream.numpy()}
    for layer in LAYERS:
        m = getattr(model, layer)
        inputs[layer + ".weight"] = m.weight.detach().numpy()
        inputs[layer + ".bias"] = m.bias.detach().numpy()
    safetensors_io.save(os.path.join(out, "inputs.safetensors"), inputs)

    worst = 0.0
    for mode in ref.MODES:
        for K in (1, 3):
            for no_norm in (False, True):
                model, opt = make_model(mode, K, no_norm)
                for layer in LAYERS:  # same weights as inputs.safetensors
                    assert np.array_equal(getattr(model, layer).weight.detach().numpy(), inputs[layer + ".weight"])
                im = images.clone().requires_grad_(True)
                cp = captions.clone().requires_grad_(True)
                steps = ref.loop_steps(model, im, cp, lengths, opt)
                scores = ref.loop_scores(model, im, cp, lengths, opt)
                (scores * upstream.double()).sum().backward()
                t = {"scores": scores.detach().numpy()}
                s32 = None
                for name in ("t2i", "i2t"):
                    if name in steps:
                        t[name + "_steps"] = steps[name].detach().numpy()
                        part = steps[name].detach().float().sum(0)
                        s32 = part if s32 is None else s32 + part
                t["scores_f32"] = s32.numpy()
                with torch.no_grad():
                    m64 = model.double()
                    t["scores_f64"] = ref.batched_scores(m64, images.double(), captions.double(), lengths, opt).numpy()
                    model.float()
                t["d_images"] = im.grad.numpy()
                t["d_captions"] = cp.grad.numpy()
                for n, p in model.named_parameters():
                    if p.grad is not None:
                        assert n.split(".")[0] in LAYERS, n
                        t["d_" + n] = p.grad.numpy()
                # The arbiter of float32 rounding: the original loop itself in float64 (same weights and inputs).
                m64, _ = make_model(mode, K, no_norm)
                m64 = m64.double()
                im64 = images.double().clone().requires_grad_(True)
                cp64 = captions.double().clone().requires_grad_(True)
                with ref.keep_float64():
                    s64 = ref.loop_scores(m64, im64, cp64, lengths, opt)
                (s64 * upstream.double()).sum().backward()
                t["scores_loop_f64"] = s64.detach().numpy()
                t["d_images_f64"] = im64.grad.numpy()
                t["d_captions_f64"] = cp64.grad.numpy()
                for n, p in m64.named_parameters():
                    if p.grad is not None:
                        t["d_" + n + "_f64"] = p.grad.numpy()
                assert np.abs(t["d_captions"][np.arange(max(LENGTHS))[None, :] >= lengths.numpy()[:, None]]).max() == 0
                worst = max(worst, float(np.abs(t["scores_f64"] - t["scores"]).max()))
                name = f"{mode}_k{K}_{'nonorm' if no_norm else 'norm'}"
                safetensors_io.save(os.path.join(out, name + ".safetensors"), t, {
                    "model_mode": mode, "iteration_step": K, "lambda_softmax": LAMBDA, "no_IMRAM_norm": no_norm,
                    "raw_feature_norm": opt.raw_feature_norm, "generator": "tools/reference/imram_fixtures.py"})
    total = sum(os.path.getsize(os.path.join(out, f)) for f in os.listdir(out))
    print(f"wrote {out}: {len(os.listdir(out))} files, {total} bytes; max |float64 - original| {worst:.2e}")


if __name__ == "__main__":
    torch.set_num_threads(1)
    main(sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures/imram")
