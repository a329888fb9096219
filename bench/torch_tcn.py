#!/usr/bin/python3
"""The PyTorch twin of neurodyn's neuron TCN (src/models/tcn.c) for bench/run_bench.py: the same layers
(causal Conv1d -> ReLU -> BatchNorm1d, spike and voltage heads), the same loss (BCE with logits + squared error)
and Adam, on the same binary input batch. The input is dense [B, SYN, T], as the source article's Keras model
and any PyTorch port take it. Prints one `RESULT key=value ...` line.

  torch_tcn.py train PATH SYN T B DEPTH WIDTH K0 K THREADS STEPS
"""
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class TCN(nn.Module):
    def __init__(self, syn, depth, width, k0, k):
        super().__init__()
        self.convs = nn.ModuleList()
        self.norms = nn.ModuleList()
        for layer in range(depth):
            self.convs.append(nn.Conv1d(syn if layer == 0 else width, width, k0 if layer == 0 else k))
            self.norms.append(nn.BatchNorm1d(width, momentum=0.05))
        self.spike = nn.Conv1d(width, 1, 1)
        self.volt = nn.Conv1d(width, 1, 1)

    def forward(self, x):
        for conv, norm in zip(self.convs, self.norms):
            x = F.pad(x, (conv.kernel_size[0] - 1, 0))  # causal
            x = norm(F.relu(conv(x)))
        return self.spike(x)[:, 0], self.volt(x)[:, 0]


def main():
    a = sys.argv[2:]
    path, syn, T, B = a[0], int(a[1]), int(a[2]), int(a[3])
    depth, width, k0, k, threads, steps = (int(v) for v in a[4:10])
    torch.set_num_threads(threads)
    x = np.fromfile(path, dtype=np.uint8).reshape(B, T, syn)
    x = torch.from_numpy(x.transpose(0, 2, 1).astype(np.float32).copy())
    i = np.arange(T * B).reshape(T, B).T  # the same targets as bench_tcn.c (time-major index)
    ys = torch.from_numpy((i % 97 == 0).astype(np.float32))
    yv = torch.from_numpy(((i % 13) - 6).astype(np.float32) / 6)
    model = TCN(syn, depth, width, k0, k)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    times = []
    for s in range(steps + 1):
        t0 = time.perf_counter()
        logit, v = model(x)
        loss = (F.binary_cross_entropy_with_logits(logit, ys, reduction="sum") + ((v - yv) ** 2).sum()) / (T * B)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if s:
            times.append(time.perf_counter() - t0)
    print("RESULT ms_per_step=%.3f" % (1e3 * float(np.median(times))))


if __name__ == "__main__":
    main()
