#!/usr/bin/python3
"""PyTorch reference for the `squeezenet` benchmark suite: SqueezeNet 1.1 built in torch.nn with the weights of
../shared/data/squeezenet/SqueezeNet_fp16.onnx (exported by our own ONNX reader to safetensors, widened to float32,
so no onnx package is needed), timed on the same input, batch and single image, at the given thread count.

usage: squeezenet_reference.py WEIGHTS.safetensors INPUT.npy OURS.npy --threads T [--reps R]
Prints one JSON line: images/s for batch and single, and max |diff| between torch's softmax and ours (OURS.npy).
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools", "reference"))
import safetensors_io  # noqa: E402


class Fire(nn.Module):
    def __init__(self, w, name):
        super().__init__()
        self.squeeze = conv(w, name + "/squeeze1x1", 0)
        self.expand1 = conv(w, name + "/expand1x1", 0)
        self.expand3 = conv(w, name + "/expand3x3", 1)

    def forward(self, x):
        x = F.relu(self.squeeze(x))
        return torch.cat([F.relu(self.expand1(x)), F.relu(self.expand3(x))], 1)


def conv(w, name, padding, stride=1):
    weight = torch.from_numpy(w[name + "_w_0"])
    c = nn.Conv2d(weight.shape[1], weight.shape[0], weight.shape[2], stride=stride, padding=padding)
    with torch.no_grad():
        c.weight.copy_(weight)
        c.bias.copy_(torch.from_numpy(w[name + "_b_0"]))
    return c


class SqueezeNet11(nn.Module):
    """The ONNX graph: conv1 s2 -> relu -> maxpool 3/2 -> fire2, fire3 -> maxpool -> fire4, fire5 -> maxpool ->
    fire6..9 -> (dropout) -> conv10 -> relu -> global average -> softmax."""

    def __init__(self, w):
        super().__init__()
        self.conv1 = conv(w, "conv1", 0, stride=2)
        self.fires = nn.ModuleList([Fire(w, "fire%d" % i) for i in range(2, 10)])
        self.conv10 = conv(w, "conv10", 0)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 3, 2)
        for i, f in enumerate(self.fires):
            x = f(x)
            if i in (1, 3):
                x = F.max_pool2d(x, 3, 2)
        x = F.relu(self.conv10(x))
        return F.softmax(F.adaptive_avg_pool2d(x, 1), dim=1)


def best_rate(fn, images, reps, min_seconds=0.5):
    fn()
    best = float("inf")
    start = time.perf_counter()
    i = 0
    while i < reps or time.perf_counter() - start < min_seconds:
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
        i += 1
        if i > 200:
            break
    return images / best


def cpu_ms(fn, reps):
    c = time.process_time()
    for _ in range(reps):
        fn()
    return (time.process_time() - c) * 1000 / reps


def main():
    p = argparse.ArgumentParser()
    p.add_argument("weights")
    p.add_argument("input")
    p.add_argument("ours")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--reps", type=int, default=5)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    w, _ = safetensors_io.load(a.weights)
    model = SqueezeNet11(w).eval()
    batch = torch.from_numpy(np.load(a.input))
    single = batch[:1].contiguous()
    with torch.inference_mode():
        out = model(batch)
        diff = float(np.abs(out.numpy().reshape(len(batch), -1) - np.load(a.ours).reshape(len(batch), -1)).max())
        batch_rate = best_rate(lambda: model(batch), len(batch), a.reps)
        single_rate = best_rate(lambda: model(single), 1, a.reps * 3)
        batch_cpu = cpu_ms(lambda: model(batch), max(1, a.reps // 2)) / len(batch)
        single_cpu = cpu_ms(lambda: model(single), a.reps * 3)
    print(json.dumps({"batch_images_per_s": batch_rate, "single_images_per_s": single_rate, "batch": len(batch),
                      "batch_cpu_ms_per_image": batch_cpu, "single_cpu_ms_per_image": single_cpu,
                      "threads": a.threads, "max_abs_diff_vs_ours": diff, "torch": torch.__version__}))


if __name__ == "__main__":
    main()
