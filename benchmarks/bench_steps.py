"""One update step on n parameters: Numba kernel vs numpy vs the bandwidth bound.

For ProxAdam-l1 (``proxgen``), RDA-l1 (``rda``), RAMDA with group lasso (exact
subproblem, groups of 16) and Group Adam (``group_adam``, when registered),
time, in one run and one thread:

* the fused Numba kernel that ``Algorithm.step`` calls (``alg.kernel()``,
  state, gradient and scratch preallocated), and ``Algorithm.step`` itself
  (the kernel plus its input check: one more read of the gradient for NaN/Inf);
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


def _soft_inplace(z, thr, tmp):
    """``z <- z - clip(z, -thr, thr)`` (soft-thresholding) with ``tmp`` as scratch."""
    np.clip(z, -thr, thr, out=tmp)
    z -= tmp


def numpy_proxadam(x, g, m, v, t, lr, b1, b2, eps, lam, tmp):
    m *= b1
    m += (1 - b1) * g
    v *= b2
    v += (1 - b2) * g * g
    np.sqrt(v / (1 - b2 ** t), out=tmp)
    tmp += eps
    x -= lr * (m / (1 - b1 ** t)) / tmp
    thr = lr * lam / tmp
    _soft_inplace(x, thr, tmp)


def numpy_rda(x, g, gbar, w0, t, gamma, lam, tmp):
    gbar *= (t - 1) / t
    gbar += g / t
    s = t / (gamma * math.sqrt(t))
    np.subtract(w0, s * gbar, out=x)
    _soft_inplace(x, s * lam, tmp)


def numpy_group_adam(x, g, z, sig, m, v, t, lr, b1, b2, eps, lam1, lam21, k, tmp, s):
    """GA Algorithm 1 with Adam's moments, practical form (line 10), groups of k."""
    m *= b1
    m += (1 - b1) * g
    v *= b2
    v += (1 - b2) * g * g
    np.sqrt(v / (1 - b2 ** t), out=tmp)
    tmp += eps
    tmp /= lr  # D_t = Sigma_t
    z += m / (1 - b1 ** t)
    z -= (tmp - sig) * x  # Q_t / alpha = Sigma_t - Sigma_{t-1}
    sig[:] = tmp
    np.clip(z, -lam1, lam1, out=s)
    s -= z  # -soft(z, lam1)
    nrm = np.linalg.norm(s.reshape(-1, k), axis=1)
    thr = lam21 * math.sqrt(k)
    f = np.where(nrm > thr, 1.0 - thr / np.where(nrm > 0, nrm, 1.0), 0.0)
    np.divide(s, tmp, out=x)
    x.reshape(-1, k)[:] *= f[:, None]


def numpy_ramda(x, g, W0, V, U, What, t, alpha_prev, lr, c, eps, lam, k):
    s = lr * math.sqrt(t)
    alpha = alpha_prev + s  # alpha_t = sum_{k <= t} s_k
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
    # reads x, g, z, sigma, m, v; writes x, z, sigma, m, v
    "group-adam": (lambda n: solvers.get("group_adam", lam1=1e-4, lam21=1e-4, lam2=0.0, n=n, groups=16), 6, 5),
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
        kernel, spec, h = alg.kernel(), alg._spec(), alg.h
        work = alg._workspace(n)
        snap = state.copy()  # the numpy counterpart starts from here
        check = snap.copy()
        kernel(snap.t + 1, check["x"], g, check["S"], check["sc"], h, *spec, work)
        t_step = best_time(lambda: alg.step(state, g), repeat=repeat)
        t_numba = best_time(lambda: kernel(state.t + 1, state["x"], g, state["S"], state["sc"], h, *spec, work),
                            repeat=repeat)
        # numpy counterpart on its own copies of the state; its first step must agree with the kernel's
        state = snap
        x = state["x"].copy()
        tmp = np.empty_like(x)
        t = state.t + 1
        if name == "proxadam-l1":
            m, v = state["m"].copy(), state["v"].copy()
            f = lambda: numpy_proxadam(x, g, m, v, t, 1e-3, 0.9, 0.999, 1e-8, 1e-3, tmp)  # noqa: E731
        elif name == "rda-l1":
            gbar, w0 = state["gbar"].copy(), state["w0"].copy()
            f = lambda: numpy_rda(x, g, gbar, w0, t, 1.0, 1e-3, tmp)  # noqa: E731
        elif name == "ramda-group-exact":
            W0, V, U, What = (state[k].copy() for k in ("W0", "V", "U", "W_hat"))
            f = lambda: numpy_ramda(x, g, W0, V, U, What, t, state.scalar("alpha"), 1e-2, 0.1, 1e-6, 1e-4,  # noqa
                                    16)
        elif name == "group-adam":
            z, sig, m, v = (state[k].copy() for k in ("z", "sigma", "m", "v"))
            s_ = np.empty_like(x)
            f = lambda: numpy_group_adam(x, g, z, sig, m, v, t, 1e-3, 0.9, 0.999, 1e-8, 1e-4, 1e-4, 16,  # noqa
                                         tmp, s_)
        else:
            f = None
        if f is not None:
            f()
            err = float(np.max(np.abs(x - check["x"])) / max(1.0, float(np.max(np.abs(check["x"])))))
            tol = 1e-5 if dt == np.float32 else 1e-9
            if not err <= tol:
                raise AssertionError(f"{name}: the numpy baseline disagrees with the kernel ({err:.2e} > {tol:g})")
        t_numpy = best_time(f, repeat=max(3, repeat // 2)) if f is not None else math.nan
        bound = (reads + writes) * x.nbytes / bw
        rows.append({"step": name, "dtype": dt.name, "n": n, "numba_ms": 1e3 * t_numba, "step_ms": 1e3 * t_step,
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
    print("| step | dtype | n | Numba kernel ms | step() ms | numpy ms | bound ms | numpy / Numba "
          "| Numba / bound | step() / bound |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['step']} | {r['dtype']} | {r['n']:.0e} | {r['numba_ms']:.1f} | {r['step_ms']:.1f} "
              f"| {r['numpy_ms']:.1f} | {r['bound_ms']:.1f} | {r['numpy_over_numba']:.1f}x "
              f"| {r['numba_over_bound']:.2f}x | {r['step_ms'] / r['bound_ms']:.2f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
