#!/usr/bin/python3
"""The official Firefly/S2D code's exact-splitting statistics step, on the shape of SplittingStepBenchmark.

One layer with D = 576 inputs per neuron, C = 64 neurons, M = 6000 sample rows. As sp/conv.py does: one zero D x D
tensor S_i per neuron with requires_grad; the forward adds a_i * (u^T S_i u) for every row u (a = g * sigma'' * c^2);
backward leaves S_i.grad = sum_m a[m,i] u_m u_m^T; then the stack is symmetrised and numpy.linalg.eig (general,
as the official code) gives the smallest eigenvalue and its eigenvector per neuron.

Run with Debian's torch, one thread, OpenBLAS AVX-512 kernels:
  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 /usr/bin/python3 official_splitting_step.py
Prints one JSON line: median seconds of the statistics (autograd trick) and of the eigen-solves over REPS runs.
"""
import json, os, statistics, sys, time
import numpy as np
import torch

D, C, M = (int(a) for a in (sys.argv[1:4] if len(sys.argv) >= 4 else (576, 64, 6000)))
REPS = int(os.environ.get("REPS", "3"))
torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
g = torch.Generator().manual_seed(42)
X = torch.randn(M, D, generator=g)
A = torch.randn(M, C, generator=g)


def statistics_step():
    S = [torch.zeros(D, D, requires_grad=True) for _ in range(C)]
    loss = 0.0
    for i in range(C):  # the official Python loop over neurons: [M, D] x [D, D] per neuron, kept by autograd
        loss = loss + (A[:, i] * ((X @ S[i]) * X).sum(1)).sum()
    loss.backward()
    return torch.stack([s.grad for s in S]).numpy()


def eigen_step(stack):
    sym = (stack + np.transpose(stack, (0, 2, 1))) / 2
    w, v = np.linalg.eig(sym)  # general, not symmetric: the official choice
    w = w.real
    idx = w.argmin(axis=1)
    return w[np.arange(C), idx], v.real[np.arange(C), :, idx]


stats_t, eig_t = [], []
stack = statistics_step()  # warm-up
for _ in range(REPS):
    t0 = time.perf_counter()
    stack = statistics_step()
    t1 = time.perf_counter()
    eigen_step(stack)
    t2 = time.perf_counter()
    stats_t.append(t1 - t0)
    eig_t.append(t2 - t1)
print(json.dumps({"peer": "official S2D step (torch autograd trick + numpy.linalg.eig)", "torch": torch.__version__,
                  "threads": torch.get_num_threads(), "d": D, "neurons": C, "samples": M,
                  "statistics_s": statistics.median(stats_t), "eigen_s": statistics.median(eig_t),
                  "step_s": statistics.median(stats_t) + statistics.median(eig_t)}))
