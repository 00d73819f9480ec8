#!/usr/bin/python3
"""PyTorch reference fixtures for the engine parity tests (tests/CrossModal.Tensors.Tests/Parity).

Run from anywhere with Debian's Python, which has PyTorch 1.13 (the `python3` on PATH does not):

    /usr/bin/python3 tools/reference/engine_fixtures.py

It rewrites tests/fixtures/engine/*.safetensors. CI never runs it; the fixtures are committed. Everything is
float32 on the CPU with one thread and fixed seeds, so a rerun reproduces the files.

Each file holds the inputs, the weights under PyTorch's state-dict names (prefixed by the module's attribute name,
e.g. "gru.weight_ih_l0"), the outputs, a random upstream gradient per output ("grad_output", ...) and every
resulting gradient ("grad.<name>"). "__metadata__" carries the configuration (sizes, flags, hyperparameters) as
strings. Integer tensors (lengths, ids, counters) are stored as I64. Files are written with
tools/reference/safetensors_io.py (the safetensors package is not installed here).
"""
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

sys.path.insert(0, os.path.dirname(__file__))
import safetensors_io  # noqa: E402  (the repository's minimal safetensors writer)

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(ROOT, "tests", "fixtures", "engine")

torch.set_num_threads(1)
torch.set_default_dtype(torch.float32)


def write_safetensors(name, tensors, metadata=None):
    """Writes {name: tensor/array} (in insertion order; floats as F32, integers as I64) and string metadata to
    OUT/name.safetensors, atomically."""
    arrays = {}
    for key, value in tensors.items():
        a = value.detach().cpu().numpy() if isinstance(value, torch.Tensor) else np.asarray(value)
        if a.dtype.kind == "f":
            arrays[key] = a.astype(np.float32)
        elif a.dtype.kind in "iu":
            arrays[key] = a.astype(np.int64)
        else:
            raise TypeError(f"{key}: unsupported dtype {a.dtype}")
    os.makedirs(OUT, exist_ok=True)
    path = os.path.join(OUT, name + ".safetensors")
    safetensors_io.save(path + ".tmp", arrays, metadata)
    os.replace(path + ".tmp", path)
    print(f"{path}: {os.path.getsize(path)} bytes, {len(tensors)} tensors")


# ---- GRU ------------------------------------------------------------------------------------------------------

def gru_case(name, seed, bidirectional, layers, lengths, enforce_sorted, with_h0=False, B=4, T=6, I=5, H=7):
    """GRU fed a packed batch (batch_first); padded input positions hold random values that must be ignored."""
    torch.manual_seed(seed)
    holder = torch.nn.Module()
    holder.gru = torch.nn.GRU(I, H, num_layers=layers, bidirectional=bidirectional, batch_first=True)
    D = 2 if bidirectional else 1
    x = torch.randn(B, T, I, requires_grad=True)
    lens = torch.tensor(lengths, dtype=torch.int64)
    h0 = torch.randn(layers * D, B, H, requires_grad=True) if with_h0 else None
    before = {f"gru.{k}": v.clone() for k, v in holder.gru.state_dict().items()}
    packed = pack_padded_sequence(x, lens, batch_first=True, enforce_sorted=enforce_sorted)
    out_packed, h_n = holder.gru(packed, h0)
    out, out_lens = pad_packed_sequence(out_packed, batch_first=True, total_length=T)
    assert out_lens.tolist() == lengths
    g_out = torch.randn_like(out)
    g_h = torch.randn_like(h_n)
    torch.autograd.backward([out, h_n], [g_out, g_h])
    t = dict(before)
    t["input"] = x
    t["lengths"] = lens
    if with_h0:
        t["h0"] = h0
    t["output"] = out
    t["h_n"] = h_n
    t["grad_output"] = g_out
    t["grad_h_n"] = g_h
    t["grad.input"] = x.grad
    if with_h0:
        t["grad.h0"] = h0.grad
    for k, p in holder.gru.named_parameters():
        t[f"grad.gru.{k}"] = p.grad
    write_safetensors(name, t, {
        "input_size": I, "hidden_size": H, "num_layers": layers,
        "bidirectional": str(bidirectional).lower(), "enforce_sorted": str(enforce_sorted).lower(),
        "with_h0": str(with_h0).lower(),
    })


# ---- Linear, Conv1d, BatchNorm1d, Embedding ---------------------------------------------------------------------

def linear_case(name, seed, in_shape, out_features, bias):
    torch.manual_seed(seed)
    holder = torch.nn.Module()
    holder.linear = torch.nn.Linear(in_shape[-1], out_features, bias=bias)
    x = torch.randn(*in_shape, requires_grad=True)
    y = holder.linear(x)
    g = torch.randn_like(y)
    y.backward(g)
    t = {f"linear.{k}": v for k, v in holder.linear.state_dict().items()}
    t.update({"input": x, "output": y, "grad_output": g, "grad.input": x.grad})
    t.update({f"grad.linear.{k}": p.grad for k, p in holder.linear.named_parameters()})
    write_safetensors(name, t, {"in_features": in_shape[-1], "out_features": out_features, "bias": str(bias).lower()})


def conv1d_case(name, seed, B=2, C_in=3, C_out=4, L=5):
    torch.manual_seed(seed)
    holder = torch.nn.Module()
    holder.conv = torch.nn.Conv1d(C_in, C_out, kernel_size=1)
    x = torch.randn(B, C_in, L, requires_grad=True)
    y = holder.conv(x)
    g = torch.randn_like(y)
    y.backward(g)
    t = {f"conv.{k}": v for k, v in holder.conv.state_dict().items()}
    t.update({"input": x, "output": y, "grad_output": g, "grad.input": x.grad})
    t.update({f"grad.conv.{k}": p.grad for k, p in holder.conv.named_parameters()})
    write_safetensors(name, t, {"in_channels": C_in, "out_channels": C_out})


def batchnorm_case(name, seed, shape, training):
    """BatchNorm1d from non-default affine parameters and running statistics (num_batches_tracked starts at 3)."""
    torch.manual_seed(seed)
    C = shape[1]
    holder = torch.nn.Module()
    holder.bn = torch.nn.BatchNorm1d(C)
    with torch.no_grad():
        holder.bn.weight.uniform_(0.5, 1.5)
        holder.bn.bias.uniform_(-1, 1)
        holder.bn.running_mean.uniform_(-1, 1)
        holder.bn.running_var.uniform_(0.5, 2)
        holder.bn.num_batches_tracked.fill_(3)
    holder.train(training)
    before = {f"bn.{k}": v.clone() for k, v in holder.bn.state_dict().items()}
    x = (torch.randn(*shape) * 2 + 0.5).requires_grad_()
    y = holder.bn(x)
    g = torch.randn_like(y)
    y.backward(g)
    t = dict(before)
    t.update({"input": x, "output": y, "grad_output": g, "grad.input": x.grad})
    t.update({f"grad.bn.{k}": p.grad for k, p in holder.bn.named_parameters()})
    t.update({f"after.bn.{k}": v for k, v in holder.bn.state_dict().items()})
    write_safetensors(name, t, {"num_features": C, "training": str(training).lower(), "eps": holder.bn.eps,
                                "momentum": holder.bn.momentum})


def embedding_case(name, seed, V=6, D=4):
    """Repeated ids: the weight gradient must sum every occurrence."""
    torch.manual_seed(seed)
    holder = torch.nn.Module()
    holder.embedding = torch.nn.Embedding(V, D)
    ids = torch.tensor([[1, 3, 1], [5, 1, 0]], dtype=torch.int64)
    y = holder.embedding(ids)
    g = torch.randn_like(y)
    y.backward(g)
    write_safetensors(name, {
        "embedding.weight": holder.embedding.weight, "ids": ids, "output": y, "grad_output": g,
        "grad.embedding.weight": holder.embedding.weight.grad,
    }, {"num_embeddings": V, "embedding_dim": D})


# ---- softmax / log_softmax / logsumexp / l2norm along each axis, and chains -------------------------------------

def l2norm(x, dim, eps=1e-8):
    """The field's l2norm (SCAN's and VSE++'s): x / (||x||_2 + eps)."""
    return x / (x.norm(dim=dim, keepdim=True) + eps)


def reductions_case(name, seed):
    torch.manual_seed(seed)
    x = (torch.randn(3, 4, 5) * 2).requires_grad_()
    t = {"input": x}
    ops = {
        "softmax": lambda v, a: torch.softmax(v, a),
        "log_softmax": lambda v, a: torch.log_softmax(v, a),
        "logsumexp": lambda v, a: torch.logsumexp(v, a),
        "logsumexp_keepdim": lambda v, a: torch.logsumexp(v, a, keepdim=True),
        "l2norm": lambda v, a: l2norm(v, a, 1e-8),
        "l2norm_eps0": lambda v, a: l2norm(v, a, 0.0),
        "max": lambda v, a: torch.max(v, a).values,
    }
    # Chains as the models use them: scaled cosine logits, log-softmax over one axis, logsumexp over another.
    chains = {
        "chain_a": lambda v: torch.logsumexp(torch.log_softmax(l2norm(v, 2) * 4.0, 1), 0),
        "chain_b": lambda v: torch.softmax(l2norm(v, 0) * 9.0, 2) * torch.log_softmax(v, 1),
        "chain_c": lambda v: l2norm(torch.logsumexp(v * 6.0, 1, keepdim=True) / 6.0 + torch.softmax(v, 0), 1),
    }
    for op, f in ops.items():
        for axis in (0, 1, 2, -1):
            x.grad = None
            y = f(x, axis)
            g = torch.randn_like(y)
            y.backward(g)
            t[f"{op}.{axis}.output"] = y
            t[f"{op}.{axis}.grad_output"] = g
            t[f"{op}.{axis}.grad.input"] = x.grad.clone()
    # Zero rows: the norm's own gradient is 0 there (PyTorch masks it), so the gradient is g / eps.
    z = torch.randn(4, 5)
    z[1] = 0.0
    z[:, 3] = 0.0
    z.requires_grad_()
    for axis in (0, 1):
        z.grad = None
        y = l2norm(z, axis, 1e-8)
        g = torch.randn_like(y)
        y.backward(g)
        t[f"l2norm_zero.{axis}.input"] = z
        t[f"l2norm_zero.{axis}.output"] = y
        t[f"l2norm_zero.{axis}.grad_output"] = g
        t[f"l2norm_zero.{axis}.grad.input"] = z.grad.clone()
    for op, f in chains.items():
        x.grad = None
        y = f(x)
        g = torch.randn_like(y)
        y.backward(g)
        t[f"{op}.output"] = y
        t[f"{op}.grad_output"] = g
        t[f"{op}.grad.input"] = x.grad.clone()
    write_safetensors(name, t, {"ops": ",".join(ops), "axes": "0,1,2,-1", "chains": ",".join(chains)})


def scan_case(name, seed, n_image=3, regions=5, words=4, d=6, lambda_softmax=9.0, lambda_lse=6.0):
    """SCAN's text-to-image attention for one caption against n_image images, written as SCAN writes it
    (func_attention with raw_feature_norm=clipped_l2norm, cosine similarity, LogSumExp aggregation)."""
    torch.manual_seed(seed)
    images = torch.randn(n_image, regions, d, requires_grad=True)
    caption = torch.randn(1, words, d, requires_grad=True)
    cap_expand = caption.repeat(n_image, 1, 1)
    query_t = torch.transpose(cap_expand, 1, 2)
    attn = torch.bmm(images, query_t)                      # [n, R, W]
    attn = torch.nn.LeakyReLU(0.1)(attn)
    attn = l2norm(attn, 2)
    attn = torch.transpose(attn, 1, 2).contiguous()        # [n, W, R]
    attn = attn.view(n_image * words, regions)
    attn = torch.softmax(attn * lambda_softmax, dim=1)
    attn = attn.view(n_image, words, regions)
    attn_t = torch.transpose(attn, 1, 2).contiguous()      # [n, R, W]
    context_t = torch.transpose(images, 1, 2)              # [n, d, R]
    weighted = torch.bmm(context_t, attn_t)                # [n, d, W]
    weighted = torch.transpose(weighted, 1, 2)             # [n, W, d]
    row_sim = F.cosine_similarity(cap_expand, weighted, dim=2)   # [n, W]
    sim = torch.log(torch.exp(row_sim * lambda_lse).sum(dim=1, keepdim=True)) / lambda_lse  # [n, 1]
    g_weighted = torch.randn_like(weighted)
    g_sim = torch.randn_like(sim)
    torch.autograd.backward([weighted, sim], [g_weighted, g_sim])
    write_safetensors(name, {
        "images": images, "caption": caption, "attention": attn, "weighted": weighted, "sim": sim,
        "grad_weighted": g_weighted, "grad_sim": g_sim, "grad.images": images.grad, "grad.caption": caption.grad,
    }, {"lambda_softmax": lambda_softmax, "lambda_lse": lambda_lse, "leaky_slope": 0.1, "eps": 1e-8})


# ---- optimizers and clipping ------------------------------------------------------------------------------------

def optimizer_case(name, seed, make, hyper, steps=5, absent=None):
    """Five steps from given parameters with a given gradient sequence; the parameters after each step.
    absent maps a parameter to the steps at which its gradient is None (PyTorch then skips it entirely: its step
    count, moments and momentum buffer do not advance); the fixture has no gradient entry for those steps."""
    absent = absent or {}
    torch.manual_seed(seed)
    params = {"p0": torch.randn(3, 4), "p1": torch.randn(5)}
    t = {f"init.{k}": v.clone() for k, v in params.items()}
    tensors = [torch.nn.Parameter(v.clone()) for v in params.values()]
    opt = make(tensors)
    for s in range(1, steps + 1):
        for (k, _), p in zip(params.items(), tensors):
            g = torch.randn_like(p) * (0.1 if s % 2 else 2.0)   # alternating magnitudes exercise the moments
            if k == "p1" and s == 3:
                g[1] = 0.0
            if s in absent.get(k, ()):
                p.grad = None
                continue
            p.grad = g
            t[f"step{s}.grad.{k}"] = g.clone()
        opt.step()
        for (k, _), p in zip(params.items(), tensors):
            t[f"step{s}.{k}"] = p.detach().clone()
    meta = dict(hyper)
    meta["steps"] = steps
    meta["params"] = ",".join(params)
    write_safetensors(name, t, meta)


def clip_case(name, seed, scale, max_norm=2.0):
    torch.manual_seed(seed)
    shapes = {"g0": (3, 4), "g1": (5,), "g2": (2, 3)}
    params = {k: torch.nn.Parameter(torch.zeros(*s)) for k, s in shapes.items()}
    t = {}
    for k, p in params.items():
        p.grad = torch.randn(*shapes[k]) * scale
        t[f"grad.{k}"] = p.grad.clone()
    total = torch.nn.utils.clip_grad_norm_(list(params.values()), max_norm)
    t["total_norm"] = total
    for k, p in params.items():
        t[f"clipped.{k}"] = p.grad
    write_safetensors(name, t, {"max_norm": max_norm, "grads": ",".join(shapes)})


def main():
    # GRU: unsorted lengths (enforce_sorted=False) with 1 and max T, sorted lengths, ties, max length < T, h0.
    gru_case("gru_l1_uni_unsorted", 101, False, 1, [3, 6, 1, 4], False)
    gru_case("gru_l1_uni_sorted", 102, False, 1, [6, 5, 3, 2], True)
    gru_case("gru_l1_bi_unsorted", 103, True, 1, [3, 6, 1, 4], False)
    gru_case("gru_l1_bi_sorted", 104, True, 1, [6, 5, 3, 2], True)
    gru_case("gru_l2_uni_unsorted", 105, False, 2, [2, 5, 5, 3], False)
    gru_case("gru_l2_uni_sorted", 106, False, 2, [6, 5, 3, 2], True)
    gru_case("gru_l2_bi_unsorted", 107, True, 2, [2, 5, 5, 3], False)
    gru_case("gru_l2_bi_sorted", 108, True, 2, [6, 6, 4, 1], True)
    gru_case("gru_l2_bi_h0", 109, True, 2, [3, 6, 1, 4], False, with_h0=True)
    # Wider: the GEMMs span several register blocks (B*T = 54 rows, 3H = 96 columns).
    gru_case("gru_l1_bi_wide", 110, True, 1, [9, 4, 7, 1, 9, 5], False, B=6, T=9, I=24, H=32)

    linear_case("linear_2d", 201, (4, 5), 7, True)
    linear_case("linear_3d", 202, (2, 3, 5), 7, True)
    linear_case("linear_nobias", 203, (4, 5), 3, False)
    conv1d_case("conv1d_k1", 204)
    batchnorm_case("batchnorm_train_2d", 211, (6, 4), True)
    batchnorm_case("batchnorm_train_3d", 212, (4, 3, 5), True)
    batchnorm_case("batchnorm_eval_2d", 213, (6, 4), False)
    batchnorm_case("batchnorm_eval_3d", 214, (4, 3, 5), False)
    embedding_case("embedding_repeated_ids", 221)

    reductions_case("reductions", 301)
    scan_case("scan_attention", 302)

    optimizer_case("adam", 401, lambda p: torch.optim.Adam(p, lr=0.01), {"optimizer": "adam", "lr": 0.01, "weight_decay": 0.0})
    optimizer_case("adam_wd", 402, lambda p: torch.optim.Adam(p, lr=0.01, weight_decay=0.1),
                   {"optimizer": "adam", "lr": 0.01, "weight_decay": 0.1})
    optimizer_case("adamw", 403, lambda p: torch.optim.AdamW(p, lr=0.01),
                   {"optimizer": "adamw", "lr": 0.01, "weight_decay": 0.01})
    optimizer_case("adamw_wd", 404, lambda p: torch.optim.AdamW(p, lr=0.01, weight_decay=0.5),
                   {"optimizer": "adamw", "lr": 0.01, "weight_decay": 0.5})
    optimizer_case("sgd_momentum", 405, lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9),
                   {"optimizer": "sgd", "lr": 0.1, "momentum": 0.9, "dampening": 0.0, "weight_decay": 0.0, "nesterov": "false"})
    optimizer_case("sgd_nesterov_wd", 406,
                   lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, weight_decay=1e-2, nesterov=True),
                   {"optimizer": "sgd", "lr": 0.1, "momentum": 0.9, "dampening": 0.0, "weight_decay": 0.01, "nesterov": "true"})
    optimizer_case("sgd_dampening", 407, lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, dampening=0.5),
                   {"optimizer": "sgd", "lr": 0.1, "momentum": 0.9, "dampening": 0.5, "weight_decay": 0.0, "nesterov": "false"})
    # A parameter without a gradient at some steps (e.g. not yet used by the loss): per-parameter step counts.
    optimizer_case("adam_absent_grads", 408, lambda p: torch.optim.Adam(p, lr=0.01),
                   {"optimizer": "adam", "lr": 0.01, "weight_decay": 0.0}, absent={"p1": {1, 2, 4}})
    optimizer_case("adamw_absent_grads", 409, lambda p: torch.optim.AdamW(p, lr=0.01, weight_decay=0.1),
                   {"optimizer": "adamw", "lr": 0.01, "weight_decay": 0.1}, absent={"p1": {1, 2, 4}})
    optimizer_case("sgd_absent_grads", 410, lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9),
                   {"optimizer": "sgd", "lr": 0.1, "momentum": 0.9, "dampening": 0.0, "weight_decay": 0.0, "nesterov": "false"},
                   absent={"p1": {1, 4}})

    clip_case("clip_above", 501, 1.0)   # total norm about 4.5 > 2: scaled
    clip_case("clip_below", 502, 0.25)  # total norm about 1.1 < 2: unchanged


if __name__ == "__main__":
    main()
