#!/usr/bin/python3
"""PyTorch twin of bench_learn.c: MLP 784-256-256-10 (tanh), softmax cross-entropy, plain SGD (0.05), batch 64,
random inputs of Fashion-MNIST's shape; written as a PyTorch user would (nn.Sequential, autograd, optim.SGD).

usage: torch_learn.py THREADS STEPS    prints "RESULT ms_per_step=.. epoch_s=.. cpu_ms_per_step=.."
"""
import statistics
import sys
import time

import torch


def main():
    threads, steps = int(sys.argv[1]), int(sys.argv[2])
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    net = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.Tanh(), torch.nn.Linear(256, 256), torch.nn.Tanh(),
                              torch.nn.Linear(256, 10))
    opt = torch.optim.SGD(net.parameters(), lr=0.05)
    loss_fn = torch.nn.CrossEntropyLoss()
    nb = 16
    x = torch.randn(nb, 64, 784)
    y = torch.randint(0, 10, (nb, 64))
    times, cpu = [], 0.0
    for s in range(-3, steps):
        k = (s + 3) % nb
        t0, c0 = time.perf_counter(), time.process_time()
        opt.zero_grad()
        loss = loss_fn(net(x[k]), y[k])
        loss.backward()
        opt.step()
        if s >= 0:
            times.append(1e3 * (time.perf_counter() - t0))
            cpu += 1e3 * (time.process_time() - c0) / steps
    ms = statistics.median(times)
    print("RESULT ms_per_step=%.4f epoch_s=%.3f cpu_ms_per_step=%.4f" % (ms, ms * 937 / 1e3, cpu))


if __name__ == "__main__":
    main()
