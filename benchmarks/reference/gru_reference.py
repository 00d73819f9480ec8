"""PyTorch CPU reference for the `gru` benchmark suite (benchmarks/CrossModal.Benchmarks/Suites/GruSuite.cs).

Times GRU forward + backward on a zero-padded batch [B, T, I] with per-caption lengths, fed as a packed sequence
(pack_padded_sequence(enforce_sorted=False), as the SCAN/VSE++ text encoders do), loss = sum(padded_output * G)
with a fixed random G, input requiring a gradient. Prints one JSON line: seconds per batch (best of --reps after a
warm-up) for the unidirectional and the bidirectional GRU.
"""
import argparse
import json
import time

import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence


def time_gru(bidirectional, args, lengths):
    torch.manual_seed(0)
    gru = torch.nn.GRU(args.input, args.hidden, batch_first=True, bidirectional=bidirectional)
    t = max(lengths)
    x = torch.randn(len(lengths), t, args.input, requires_grad=True)
    g = torch.randn(len(lengths), t, args.hidden * (2 if bidirectional else 1))
    lens = torch.tensor(lengths, dtype=torch.int64)

    def step():
        packed = pack_padded_sequence(x, lens, batch_first=True, enforce_sorted=False)
        out, _ = gru(packed)
        padded, _ = pad_packed_sequence(out, batch_first=True, total_length=t)
        (padded * g).sum().backward()

    step()  # warm-up
    best = float("inf")
    for _ in range(args.reps):
        start = time.perf_counter()
        step()
        best = min(best, time.perf_counter() - start)
    return best


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--input", type=int, default=300)
    p.add_argument("--hidden", type=int, default=1024)
    p.add_argument("--lengths", required=True, help="comma-separated caption lengths (the batch)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--reps", type=int, default=5)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    lengths = [int(v) for v in args.lengths.split(",")]
    result = {
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "unidirectional_s": time_gru(False, args, lengths),
        "bidirectional_s": time_gru(True, args, lengths),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
