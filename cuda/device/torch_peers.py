#!/usr/bin/env python3
"""The GPU peers of Sprout's CUDA kernels, measured on the same device in the same script (cuda/device-check.sh).

cuBLAS SGEMM (torch.mm with TF32 off) and TF32 (torch.mm with TF32 on), torch.linalg.eigh on 10,000 symmetric
64x64 f32 matrices, torch.linalg.solve on complex64 n x n systems with n right-hand sides. Times are medians of
CUDA-event timings after warm-up. Prints one JSON document: {"torch", "device", "rows": [...]}.
Usage: torch_peers.py [--quick] [--only=sgemm|eigh|csolve]
"""
import json
import sys

import torch


def median_ms(fn, reps, warmup=3):
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(reps):
        start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        stop.record()
        stop.synchronize()
        times.append(start.elapsed_time(stop))
    times.sort()
    return times[len(times) // 2]


def main():
    quick = "--quick" in sys.argv
    only = next((a.split("=", 1)[1] for a in sys.argv if a.startswith("--only=")), None)  # e.g. --only=csolve
    dev = torch.device("cuda")
    g = torch.Generator(device=dev).manual_seed(0)
    rows = []
    for n in () if only not in (None, "sgemm") else (1024, 2048, 4096) if quick else (1024, 2048, 4096, 8192):
        a = torch.rand(n, n, device=dev, generator=g) * 2 - 1
        b = torch.rand(n, n, device=dev, generator=g) * 2 - 1
        for tf32 in (False, True):
            torch.backends.cuda.matmul.allow_tf32 = tf32
            ms = median_ms(lambda: torch.mm(a, b), 10 if n >= 4096 else 30)
            rows.append({"kernel": "sgemm", "impl": "cublas-tf32" if tf32 else "cublas", "variant": "TF32" if tf32 else "SIMT",
                         "n": n, "ms": ms, "gflops": 2 * n ** 3 / ms / 1e6})
        del a, b
    torch.backends.cuda.matmul.allow_tf32 = False
    if only in (None, "eigh"):
        batch, n = 10000, 64
        m = torch.rand(batch, n, n, device=dev, generator=g) * 2 - 1
        m = (m + m.transpose(1, 2)) / 2
        ms = median_ms(lambda: torch.linalg.eigh(m), 3, warmup=1)  # ~7.6 s per call on an H200
        rows.append({"kernel": "eigh", "impl": "torch.linalg.eigh", "n": n, "batch": batch, "ms": ms})
    for n in (256, 512, 1024) if only in (None, "csolve") else ():
        a = torch.complex(torch.rand(n, n, device=dev, generator=g) * 2 - 1, torch.rand(n, n, device=dev, generator=g) * 2 - 1)
        a = a + n * torch.eye(n, device=dev, dtype=torch.complex64)
        b = torch.complex(torch.rand(n, n, device=dev, generator=g) * 2 - 1, torch.rand(n, n, device=dev, generator=g) * 2 - 1)
        ms = median_ms(lambda: torch.linalg.solve(a, b), 20)
        rows.append({"kernel": "csolve", "impl": "torch.linalg.solve", "n": n, "ms": ms})
    print(json.dumps({"torch": torch.__version__, "device": torch.cuda.get_device_name(0), "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
