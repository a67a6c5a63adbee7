#!/usr/bin/python3
"""The PyTorch side of an interleaved training-step comparison (sprout bench --suite train --interleaved).

The same work as shared/peers/torch_cpu.py's mlp, cnn and hvp sections (and Sprout's TrainBenchmark): one SGD step
(lr 0.01, no momentum, zero_grad(set_to_none=True)) of the MLP 784-1024-1024-10 (ReLU) or of the CNN
conv3x3(1-32)+ReLU+conv3x3(32-64)+ReLU+maxpool2+fc on a batch of 128, and one Hessian-vector product of the MLP's
cross-entropy (double backward), on one thread.

Protocol (as dev.sprout.bench.TrainWorker): prints "ready <description>", then answers each command line
"<work> <steps>" with "ok <thread CPU ms per step> <wall ms per step>" (or "error <message>"); end of input ends it.
Run with /usr/bin/python3 and Debian's python3-torch, OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1, without
OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE (OpenBLAS's AVX-512 kernels).
"""
import ctypes
import sys
import time

import torch

torch.set_num_threads(1)
B = 128


def mlp_model():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(784, 1024), torch.nn.ReLU(), torch.nn.Linear(1024, 1024),
                               torch.nn.ReLU(), torch.nn.Linear(1024, 10))


def sgd_step(model, x, y, lossf):
    opt = torch.optim.SGD(model.parameters(), lr=0.01)

    def step():
        opt.zero_grad(set_to_none=True)
        lossf(model(x), y).backward()
        opt.step()
    return step


def make(work):
    lossf = torch.nn.CrossEntropyLoss()
    if work == "mlp":
        model = mlp_model()
        x = torch.randn(B, 784); y = torch.randint(0, 10, (B,))
        return sgd_step(model, x, y, lossf)
    if work == "cnn":
        torch.manual_seed(0)
        model = torch.nn.Sequential(
            torch.nn.Conv2d(1, 32, 3, padding=1), torch.nn.ReLU(),
            torch.nn.Conv2d(32, 64, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
            torch.nn.Flatten(), torch.nn.Linear(64 * 14 * 14, 10))
        x = torch.randn(B, 1, 28, 28); y = torch.randint(0, 10, (B,))
        return sgd_step(model, x, y, lossf)
    if work == "hvp":
        model = mlp_model()
        params = list(model.parameters())
        x = torch.randn(B, 784); y = torch.randint(0, 10, (B,))
        v = [torch.randn_like(p) for p in params]

        def step():
            g = torch.autograd.grad(lossf(model(x), y), params, create_graph=True)
            torch.autograd.grad(sum((gi * vi).sum() for gi, vi in zip(g, v)), params)
        return step
    raise ValueError("work must be mlp, cnn or hvp, got " + work)


def blas():
    for name in ("libblas.so.3", "libopenblas.so.0"):
        try:
            lib = ctypes.CDLL(name)
            lib.openblas_get_config.restype = ctypes.c_char_p
            lib.openblas_get_corename.restype = ctypes.c_char_p
            return "%s corename=%s" % (lib.openblas_get_config().decode(), lib.openblas_get_corename().decode())
        except (OSError, AttributeError):
            continue
    return "BLAS: not OpenBLAS"


def main():
    steps = {}
    print("ready torch %s, 1 thread, %s" % (torch.__version__, blas()), flush=True)
    for line in sys.stdin:
        parts = line.split()
        try:
            if len(parts) != 2:
                raise ValueError("expected '<work> <steps>', got '%s'" % line.strip())
            work, n = parts[0], int(parts[1])
            if n < 1:
                raise ValueError("steps must be >= 1, got %d" % n)
            if work not in steps:
                steps[work] = make(work)
            f = steps[work]
            c0 = time.thread_time(); w0 = time.perf_counter()
            for _ in range(n):
                f()
            cpu = (time.thread_time() - c0) / n * 1e3; wall = (time.perf_counter() - w0) / n * 1e3
            print("ok %r %r" % (cpu, wall), flush=True)
        except Exception as e:  # the controller reports it and stops
            print("error %s" % str(e).replace("\n", " "), flush=True)


if __name__ == "__main__":
    main()
