"""Timing helpers shared by the benchmarks: best-of-k wall time and the
memory-copy bandwidth measured in the same run (the machines are shared and
noisy, so every number is reported as a ratio to a baseline timed beside it)."""

import time

import numpy as np


def best_time(fn, repeat=7, warmup=1):
    for _ in range(warmup):
        fn()
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def copy_bandwidth(n, dtype=np.float64, repeat=7):
    """Seconds and bytes/s of ``np.copyto`` of ``n`` values (one read + one write)."""
    src = np.random.default_rng(0).standard_normal(n).astype(dtype)
    dst = np.empty_like(src)
    t = best_time(lambda: np.copyto(dst, src), repeat=repeat)
    return t, 2 * src.nbytes / t
