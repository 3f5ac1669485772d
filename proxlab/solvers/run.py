"""Driving an algorithm over a problem: ``run(algorithm, problem, T, record=...)``.

When the problem's gradient oracle is a Numba function and the algorithm has
a Numba kernel for its regularizer, the whole loop (gradient, step, records)
runs inside one compiled function; otherwise the same loop runs in Python.
Both give the same numbers (a test holds them against each other).

A problem is anything with ``x0`` (1-D array), ``data`` (a tuple of arrays
handed to the oracles), ``grad(x, t, data, out)`` (writes the gradient of
``f_t`` at ``x`` into ``out``; ``t = 1, 2, ...``) and optionally
``loss(x, t, data) -> float`` (``f_t(x)``). :class:`Problem` bundles them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numba import njit

from ._base import first_nonfinite

RECORDABLE = ("x", "prox_point", "loss", "nnz", "prox_nnz")


@dataclass
class Problem:
    """An online / stochastic problem for :func:`run`.

    ``grad`` and ``loss`` are ``@njit`` functions for the compiled loop, or
    plain Python callables (then the loop runs in Python).
    """

    x0: np.ndarray
    grad: object
    data: tuple = ()
    loss: object = None
    name: str = ""
    meta: dict = field(default_factory=dict)


@dataclass
class Trajectory:
    """What :func:`run` recorded. ``steps[k]`` is the step count after which
    record ``k`` was taken (``loss[k]`` is ``f_t`` at the iterate *before* step
    ``t = steps[k]``, the online loss of regret)."""

    steps: np.ndarray
    records: dict
    state: object
    compiled: bool


def _is_numba(fn):
    return hasattr(fn, "py_func") and hasattr(fn, "signatures")


@njit(cache=True)
def _no_loss(x, t, data):
    return np.nan


# Not cache=True: the loop takes functions (kernel, oracles) as arguments, and Numba's
# on-disk index re-pickles every entry when it adds one; entries whose functions are not
# alive in this process (specialized kernels, another script's oracles) fail that with
# "ReferenceError: underlying object has vanished". Compiling per process costs ~1 s.
@njit
def _run_compiled(kernel, grad_fn, loss_fn, want_loss, t0, T, every, x, S, sc, h, kind, rp, idx, ptr, gw,
                  data, pp_row, X_rec, P_rec, L_rec, N_rec, M_rec):
    n = x.shape[0]
    g = np.empty(n, dtype=x.dtype)
    work = np.empty((2, n))
    k = 0
    for j in range(T):
        t = t0 + j + 1
        record = (j + 1) % every == 0
        if record and want_loss:
            L_rec[k] = loss_fn(x, t, data)
        grad_fn(x, t, data, g)
        if first_nonfinite(g) >= 0:
            return j, k  # stop before the step: the state is left as it was after step t - 1
        kernel(t, x, g, S, sc, h, kind, rp, idx, ptr, gw, work)
        if record:
            if X_rec.shape[0] > 0:
                X_rec[k] = x
            pp = S[pp_row] if pp_row >= 0 else x
            if P_rec.shape[0] > 0:
                P_rec[k] = pp
            if N_rec.shape[0] > 0:
                c = 0
                for i in range(n):
                    c += x[i] != 0.0
                N_rec[k] = c
            if M_rec.shape[0] > 0:
                c = 0
                for i in range(n):
                    c += pp[i] != 0.0
                M_rec[k] = c
            k += 1
    return T, k


def run(algorithm, problem, T, record=("loss", "nnz"), every=1, state=None, progress=False):
    """Run ``T`` steps of ``algorithm`` on ``problem``.

    Parameters
    ----------
    algorithm : proxlab.solvers.Algorithm
    problem : Problem (or any object with x0, grad, data, loss)
    T : int
        Number of steps.
    record : iterable of {"x", "prox_point", "loss", "nnz", "prox_nnz"}
        ``loss`` is ``f_t(x_t)`` before step ``t``; ``nnz`` counts non-zeros of
        ``x`` and ``prox_nnz`` of the prox point (they differ for averaging
        methods, RAMDA/RMDA: only the prox point has exact zeros).
    every : int
        Record after every ``every``-th step.
    state : State, optional
        Continue from this state (default: ``algorithm.init(problem.x0)``).

    Returns
    -------
    Trajectory
    """
    from .._validation import check_int

    T = check_int("T", T, low=0)
    every = check_int("every", every, low=1)
    record = tuple(record)
    bad = [r for r in record if r not in RECORDABLE]
    if bad:
        raise ValueError(f"record: unknown item(s) {bad}; choose from {RECORDABLE}")
    if "loss" in record and problem.loss is None:
        raise ValueError("record asks for 'loss' but the problem has no loss oracle")
    if state is None:
        state = algorithm.init(problem.x0)
    n, R = state["x"].shape[0], T // every
    dt = state["x"].dtype
    X = np.empty((R if "x" in record else 0, n), dtype=dt)
    P = np.empty((R if "prox_point" in record else 0, n), dtype=dt)
    L = np.full(R if "loss" in record else 0, np.nan)
    N = np.zeros(R if "nnz" in record else 0, dtype=np.int64)
    M = np.zeros(R if "prox_nnz" in record else 0, dtype=np.int64)
    pp_row = state.fields.index(algorithm.prox_point_field) if algorithm.prox_point_field else -1
    spec = algorithm._spec()
    kernel = algorithm.kernel()
    compiled = (kernel is not None and _is_numba(problem.grad)
                and (problem.loss is None or _is_numba(problem.loss)))
    t0 = state.t
    if compiled:
        loss_fn = problem.loss if problem.loss is not None else _no_loss
        done, k = _run_compiled(kernel, problem.grad, loss_fn, "loss" in record, t0, T, every,
                                state["x"], state["S"], state["sc"], algorithm.h, *spec, problem.data, pp_row,
                                X, P, L, N, M)
        state["t"] = t0 + done
        if done < T:
            raise ValueError(f"the gradient oracle returned a non-finite value at step t = {t0 + done + 1}; "
                             f"the run stopped there and the state holds the iterate after step {t0 + done}")
    else:
        g = np.empty(n, dtype=dt)
        k = 0
        iterator = range(T)
        if progress:
            from tqdm.auto import tqdm

            iterator = tqdm(iterator, desc=algorithm.name, leave=False)
        for j in iterator:
            t = t0 + j + 1
            rec = (j + 1) % every == 0
            if rec and "loss" in record:
                L[k] = problem.loss(state["x"], t, problem.data)
            problem.grad(state["x"], t, problem.data, g)
            algorithm.step(state, g)
            if rec:
                pp = algorithm.prox_point(state)
                if X.shape[0]:
                    X[k] = state["x"]
                if P.shape[0]:
                    P[k] = pp
                if N.shape[0]:
                    N[k] = np.count_nonzero(state["x"])
                if M.shape[0]:
                    M[k] = np.count_nonzero(pp)
                k += 1
    steps = t0 + every * np.arange(1, k + 1)
    names = {"x": X, "prox_point": P, "loss": L, "nnz": N, "prox_nnz": M}
    return Trajectory(steps=steps, records={r: names[r][:k] for r in record}, state=state, compiled=compiled)
