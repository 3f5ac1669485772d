"""Steps per second of a whole online run: the Numba-driven loop vs a plain numpy loop.

Online least squares (one row of a Gaussian design per step, d = 1e3) with
ProxAdam-l1 (``proxgen``) and RDA-l1 (``rda``), T = 1e5 steps, one thread:

* ``proxlab.solvers.run`` with a Numba gradient oracle: gradient, step and
  records (loss before the step, non-zeros after it) in one compiled loop;
* a plain numpy loop of the same algorithm and the same records (the way one
  writes it without proxlab: vectorized per step, a Python loop over steps).

Both start from the same point; the script checks that their final iterates
agree (1e-9 relative) before reporting the ratio. Target: at least 20x.

Run: ``python benchmarks/bench_loop.py [--d D] [--T T] [--quick]`` or ``proxlab bench loop``.
"""

import argparse
import math
import os
import sys
import time

os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import numpy as np  # noqa: E402
from numba import njit  # noqa: E402

from proxlab import regularizers, solvers  # noqa: E402
from proxlab.solvers.run import Problem  # noqa: E402


@njit(cache=True)
def ls_grad(x, t, data, out):
    A, b = data
    i = (t - 1) % A.shape[0]
    a = A[i]
    r = np.dot(a, x) - b[i]
    for j in range(x.shape[0]):
        out[j] = r * a[j]


@njit(cache=True)
def ls_loss(x, t, data):
    A, b = data
    i = (t - 1) % A.shape[0]
    r = np.dot(A[i], x) - b[i]
    return 0.5 * r * r


def numpy_proxadam(A, b, x, T, lr, lam, b1=0.9, b2=0.999, eps=1e-8):
    m, v = np.zeros_like(x), np.zeros_like(x)
    loss, nnz = np.empty(T), np.empty(T, dtype=np.int64)
    for t in range(1, T + 1):
        a = A[(t - 1) % A.shape[0]]
        r = a @ x - b[(t - 1) % A.shape[0]]
        loss[t - 1] = 0.5 * r * r
        g = r * a
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        d = np.sqrt(v / (1 - b2 ** t)) + eps
        c = x - lr * (m / (1 - b1 ** t)) / d
        thr = lr * lam / d
        x = c - np.clip(c, -thr, thr)
        nnz[t - 1] = np.count_nonzero(x)
    return x, loss, nnz


def numpy_rda(A, b, x, T, gamma, lam):
    w0, gbar = x.copy(), np.zeros_like(x)
    loss, nnz = np.empty(T), np.empty(T, dtype=np.int64)
    for t in range(1, T + 1):
        a = A[(t - 1) % A.shape[0]]
        r = a @ x - b[(t - 1) % A.shape[0]]
        loss[t - 1] = 0.5 * r * r
        gbar = ((t - 1) / t) * gbar + (r / t) * a
        s = t / (gamma * math.sqrt(t))
        c = w0 - s * gbar
        x = c - np.clip(c, -s * lam, s * lam)
        nnz[t - 1] = np.count_nonzero(x)
    return x, loss, nnz


CASES = {
    "proxadam-l1": (lambda: solvers.get("proxgen", regularizer=regularizers.get("l1", lam=1e-3), lr=1e-3),
                    lambda A, b, x, T: numpy_proxadam(A, b, x, T, 1e-3, 1e-3)),
    "rda-l1": (lambda: solvers.get("rda", regularizer=regularizers.get("l1", lam=1e-3), gamma=50.0),
               lambda A, b, x, T: numpy_rda(A, b, x, T, 50.0, 1e-3)),
}


def run(d, T, rows_in_design, names):
    rng = np.random.default_rng(0)
    A = rng.standard_normal((rows_in_design, d)) / math.sqrt(d)
    truth = np.where(rng.random(d) < 0.05, rng.standard_normal(d), 0.0)
    b = A @ truth + 0.01 * rng.standard_normal(rows_in_design)
    x0 = rng.standard_normal(d) * 0.1
    problem = Problem(x0=x0, grad=ls_grad, loss=ls_loss, data=(A, b))
    out = []
    for name in names:
        make_alg, numpy_loop = CASES[name]
        alg = make_alg()
        solvers.run(alg, problem, 10, record=("loss", "nnz"))  # compile outside the timing
        t0 = time.perf_counter()
        traj = solvers.run(alg, problem, T, record=("loss", "nnz"))
        t_numba = time.perf_counter() - t0
        assert traj.compiled
        t0 = time.perf_counter()
        x_np, loss_np, nnz_np = numpy_loop(A, b, x0.copy(), T)
        t_numpy = time.perf_counter() - t0
        x_nb = traj.state["x"]
        err = float(np.max(np.abs(x_nb - x_np)) / max(1.0, float(np.max(np.abs(x_np)))))
        if not err <= 1e-9:
            raise AssertionError(f"{name}: numpy loop and Numba loop disagree ({err:.2e})")
        if not np.array_equal(nnz_np, traj.records["nnz"]):
            raise AssertionError(f"{name}: the recorded non-zero counts differ")
        out.append({"case": name, "d": d, "T": T, "numba_s": t_numba, "numpy_s": t_numpy,
                    "numba_steps_per_s": T / t_numba, "numpy_steps_per_s": T / t_numpy,
                    "speedup": t_numpy / t_numba, "max_rel_diff": err})
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--d", type=int, default=1000)
    p.add_argument("--T", type=int, default=100_000)
    p.add_argument("--only", nargs="+", choices=list(CASES), default=list(CASES))
    p.add_argument("--rows", type=int, nargs="+", default=[2000, 100],
                   help="rows of the design the stream cycles through (2000 x 1e3 doubles = 16 MB, read from "
                        "memory every step; 100 rows = 0.8 MB, cache-resident)")
    p.add_argument("--quick", action="store_true", help="T = 1e4")
    a = p.parse_args(argv)
    T = 10_000 if a.quick else a.T
    print("| run | d | design rows | T | Numba loop steps/s | numpy loop steps/s | speedup | final-iterate rel. diff |")
    print("|---|---|---|---|---:|---:|---:|---:|")
    for n_rows in a.rows:
        for r in run(a.d, T, n_rows, a.only):
            print(f"| {r['case']} | {r['d']} | {n_rows} | {r['T']:.0e} | {r['numba_steps_per_s']:,.0f} | "
                  f"{r['numpy_steps_per_s']:,.0f} | {r['speedup']:.1f}x | {r['max_rel_diff']:.1e} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
