"""Elementwise prox throughput as a fraction of the copy bandwidth.

For l1, l0 and l1/2 on ``n`` float64 values (default 1e7), one thread: time the
Numba kernel behind ``Regularizer.prox`` writing into a preallocated output (it
reads z once and writes x once, the same traffic as a copy), the public
``Regularizer.prox`` call (which also checks z for NaN/Inf and allocates the
output), numpy's best expression of the same operator into a preallocated
output, and ``np.copyto`` of the same array, all in one run. Reported: GB/s and
the fraction of the measured copy bandwidth. Target: >= 80% for the kernels.

Run: ``python benchmarks/bench_elementwise.py [--n N] [--dtype float32]`` or
``proxlab bench elementwise``.
"""

import argparse
import os
import sys

os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _timing import best_time, copy_bandwidth  # noqa: E402

from proxlab import regularizers  # noqa: E402
from proxlab.regularizers.l1 import soft_threshold  # noqa: E402
from proxlab.regularizers.lq import half_thresholding, hard_threshold  # noqa: E402


def numpy_forms(lam, step):
    thr1 = lam * step
    thr0 = np.sqrt(2 * lam * step)
    mu = lam * step
    thr_half = 1.5 * mu ** (2 / 3)

    def l1(z, out):
        np.clip(z, -thr1, thr1, out=out)
        np.subtract(z, out, out=out)

    def l0(z, out):
        np.multiply(z, np.abs(z) > thr0, out=out)

    def half(z, out):
        a = np.abs(z)
        phi = np.arccos(np.minimum((mu / 4) * (np.maximum(a, thr_half) / 3) ** -1.5, 1.0))
        x = (2 / 3) * z * (1 + np.cos(2 * np.pi / 3 - (2 / 3) * phi))
        np.multiply(x, a > thr_half, out=out)

    return {"l1": l1, "l0": l0, "l_half": half}


def run(n=10_000_000, dtype="float64", repeat=7):
    dtype = np.dtype(dtype)
    rng = np.random.default_rng(0)
    z = (rng.standard_normal(n) * 2).astype(dtype)
    lam, step = 0.5, 1.0
    t_copy, bw = copy_bandwidth(n, dtype, repeat)
    rows = []
    forms = numpy_forms(lam, step)
    out = np.empty_like(z)
    kernels = {
        "l1": lambda: soft_threshold(z, dtype.type(lam * step), out),
        "l0": lambda: hard_threshold(z, step, lam, out),
        "l_half": lambda: half_thresholding(z, step, lam, out),
    }
    for name in ("l1", "l0", "l_half"):
        reg = regularizers.get(name, lam=lam)
        t_kernel = best_time(kernels[name], repeat=repeat)
        t_api = best_time(lambda: reg.prox(z, step), repeat=repeat)
        t_numpy = best_time(lambda: forms[name](z, out), repeat=repeat)
        moved = 2 * z.nbytes
        rows.append({
            "operator": name, "n": n, "dtype": dtype.name,
            "numba_GBps": moved / t_kernel / 1e9, "numba_frac_copy": t_copy / t_kernel,
            "api_frac_copy": t_copy / t_api,
            "numpy_GBps": moved / t_numpy / 1e9, "numpy_frac_copy": t_copy / t_numpy,
            "numba_over_numpy": t_numpy / t_kernel,
        })
    return bw, rows


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=10_000_000)
    p.add_argument("--dtype", default="float64", choices=["float64", "float32"])
    p.add_argument("--repeat", type=int, default=7)
    p.add_argument("--quick", action="store_true", help="n = 1e6, 3 repeats")
    a = p.parse_args(argv)
    n, repeat = (1_000_000, 3) if a.quick else (a.n, a.repeat)
    bw, rows = run(n, a.dtype, repeat)
    print(f"copy bandwidth (np.copyto, read+write, one thread): {bw / 1e9:.1f} GB/s")
    print("| operator | dtype | n | kernel GB/s | kernel / copy | `prox()` call / copy | numpy GB/s | numpy / copy "
          "| kernel speed-up over numpy |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['operator']} | {r['dtype']} | {r['n']:.0e} | {r['numba_GBps']:.1f} | {r['numba_frac_copy']:.0%} "
              f"| {r['api_frac_copy']:.0%} | {r['numpy_GBps']:.1f} | {r['numpy_frac_copy']:.0%} "
              f"| {r['numba_over_numpy']:.1f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
