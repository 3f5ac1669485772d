"""One update step on n parameters: Numba kernel vs numpy vs the bandwidth bound.

For ProxAdam-l1 (``proxgen``), RDA-l1 (``rda``), RAMDA with group lasso (exact
subproblem, groups of 16) and Group Adam (``group_adam``, when registered),
time, in one run and one thread:

* the fused Numba kernel behind ``Algorithm.step`` (state and gradient
  preallocated);
* a straightforward numpy implementation of the same step (written here, with
  ``out=`` arguments where numpy has them);
* the memory-bandwidth bound: the bytes the step must move (every state array
  and the gradient read once, every updated array written once) divided by the
  copy bandwidth of ``np.copyto`` measured in the same run.

Targets (float64): Numba >= 5x numpy; within 1.25x of the bound for the
closed-form methods (ProxAdam-l1, RDA-l1, Group Adam).

Run: ``python benchmarks/bench_steps.py [--n N] [--dtype float32] [--quick]``
or ``proxlab bench steps``.
"""

import argparse
import math
import os
import sys

os.environ.setdefault("NUMBA_NUM_THREADS", "1")

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _timing import best_time, copy_bandwidth  # noqa: E402

from proxlab import regularizers, solvers  # noqa: E402


def _soft(z, thr, out):
    np.clip(z, -thr, thr, out=out)
    np.subtract(z, out, out=out)


def numpy_proxadam(x, g, m, v, t, lr, b1, b2, eps, lam, tmp):
    m *= b1
    m += (1 - b1) * g
    v *= b2
    v += (1 - b2) * g * g
    np.sqrt(v / (1 - b2 ** t), out=tmp)
    tmp += eps
    x -= lr * (m / (1 - b1 ** t)) / tmp
    _soft(x, lr * lam / tmp, x)


def numpy_rda(x, g, gbar, w0, t, gamma, lam):
    gbar *= (t - 1) / t
    gbar += g / t
    s = t / (gamma * math.sqrt(t))
    np.subtract(w0, s * gbar, out=x)
    _soft(x, s * lam, x)


def numpy_ramda(x, g, W0, V, U, What, t, alpha, lr, c, eps, lam, k):
    s = lr * math.sqrt(t)
    V += s * g
    U += s * g * g
    P = np.cbrt(U) + eps
    z = W0 - V / P
    zg, Pg = z.reshape(-1, k), P.reshape(-1, k)
    tau = alpha * lam * math.sqrt(k)
    # exact metric group prox: zero test, then bisection of the secular equation (60 halvings)
    nrm = np.linalg.norm(Pg * zg, axis=1)
    keep = nrm > tau
    zk, ck = zg[keep], tau / Pg[keep]
    lo = np.maximum(0.0, np.linalg.norm(zk, axis=1) - ck.max(axis=1))
    hi = np.linalg.norm(zk, axis=1) - ck.min(axis=1)
    for _ in range(60):
        r = 0.5 * (lo + hi)
        f = np.sum((zk / (r[:, None] + ck)) ** 2, axis=1) - 1.0
        lo = np.where(f > 0, r, lo)
        hi = np.where(f > 0, hi, r)
    out = np.zeros_like(zg)
    out[keep] = zk * (r[:, None] / (r[:, None] + ck))
    What[:] = out.ravel()
    x *= 1 - c
    x += c * What


CASES = {
    # name: (algorithm factory, arrays read, arrays written)
    "proxadam-l1": (lambda n: solvers.get("proxgen", regularizer=regularizers.get("l1", lam=1e-3), lr=1e-3), 4, 3),
    "rda-l1": (lambda n: solvers.get("rda", regularizer=regularizers.get("l1", lam=1e-3)), 3, 2),
    "ramda-group-exact": (lambda n: solvers.get("ramda", regularizer=regularizers.get("group_l2", lam=1e-4, n=n,
                                                                                         groups=16)), 5, 4),
    "group-adam": (lambda n: solvers.get("group_adam", lam1=1e-4, lam21=1e-4, lam2=0.0, n=n, groups=16), 5, 4),
}


def run(n, dtype, repeat, names):
    rng = np.random.default_rng(0)
    dt = np.dtype(dtype)
    t_copy, bw = copy_bandwidth(n, dt, repeat)
    rows = []
    for name in names:
        factory, reads, writes = CASES[name]
        try:
            alg = factory(n)
        except ValueError as exc:
            if "unknown algorithm" in str(exc):
                print(f"{name}: not registered yet, skipped")
                continue
            raise
        x0 = rng.standard_normal(n).astype(dt)
        state = alg.init(x0)
        g = rng.standard_normal(n).astype(dt)
        for _ in range(3):
            alg.step(state, g)
        t_numba = best_time(lambda: alg.step(state, g), repeat=repeat)
        # numpy counterpart on its own copies of the state
        x = state["x"].copy()
        tmp = np.empty_like(x)
        t = state.t + 1
        if name == "proxadam-l1":
            m, v = state["m"].copy(), state["v"].copy()
            f = lambda: numpy_proxadam(x, g, m, v, t, 1e-3, 0.9, 0.999, 1e-8, 1e-3, tmp)  # noqa: E731
        elif name == "rda-l1":
            gbar, w0 = state["gbar"].copy(), state["w0"].copy()
            f = lambda: numpy_rda(x, g, gbar, w0, t, 1.0, 1e-3)  # noqa: E731
        elif name == "ramda-group-exact":
            W0, V, U, What = (state[k].copy() for k in ("W0", "V", "U", "W_hat"))
            f = lambda: numpy_ramda(x, g, W0, V, U, What, t, state.scalar("alpha"), 1e-2, 0.1, 1e-6, 1e-4,  # noqa
                                    16)
        else:
            f = None
        t_numpy = best_time(f, repeat=max(3, repeat // 2)) if f is not None else math.nan
        bound = (reads + writes) * x.nbytes / bw
        rows.append({"step": name, "dtype": dt.name, "n": n, "numba_ms": 1e3 * t_numba,
                     "numpy_ms": 1e3 * t_numpy, "bound_ms": 1e3 * bound,
                     "numpy_over_numba": t_numpy / t_numba, "numba_over_bound": t_numba / bound})
    return bw, rows


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=10_000_000)
    p.add_argument("--dtype", default="float64", choices=["float64", "float32"])
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--only", nargs="+", choices=list(CASES), default=list(CASES))
    p.add_argument("--quick", action="store_true", help="n = 1e6, 3 repeats")
    a = p.parse_args(argv)
    n, repeat = (1_000_000, 3) if a.quick else (a.n, a.repeat)
    n -= n % 16
    bw, rows = run(n, a.dtype, repeat, a.only)
    print(f"copy bandwidth (np.copyto, read+write, one thread): {bw / 1e9:.1f} GB/s")
    print("| step | dtype | n | Numba ms | numpy ms | bound ms | numpy / Numba | Numba / bound |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['step']} | {r['dtype']} | {r['n']:.0e} | {r['numba_ms']:.1f} | {r['numpy_ms']:.1f} "
              f"| {r['bound_ms']:.1f} | {r['numpy_over_numba']:.1f}x | {r['numba_over_bound']:.2f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
