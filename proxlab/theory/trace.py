r"""A run that records what the theory needs.

:func:`proxlab.solvers.run.run` records iterates, losses and sparsity from a
compiled loop. The bounds and monitors need more: the gradient ``g_t`` and the
point ``x_t`` it was taken at, the algorithm's moments and metric after every
step and, for condition (7) of ramda.txt, how well each step solved its own
subproblem. :func:`record` runs the same update (``algorithm.step``, the same
Numba kernel) in a Python loop and keeps all of it; it is meant for the
theory-sized runs of the studies (``T x n`` floats per recorded array).

The ``*_quantities`` helpers translate a trace into the symbols of each paper.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .._validation import check_int

__all__ = ["Trace", "record", "ga_quantities", "proxgen_quantities", "ramda_quantities",
           "dual_averaging_quantities"]


@dataclass
class Trace:
    """What :func:`record` kept (step ``t = 1..T`` is row ``t - 1``).

    Attributes
    ----------
    x : (T, n)
        ``x_t``: the iterate the gradient of step ``t`` was taken at (before the step).
    g : (T, n)
        ``g_t = grad f_t(x_t)``.
    loss : (T,) or None
        ``f_t(x_t)`` (the online loss of regret).
    prox_point : (T, n)
        The structured point after step ``t`` (``x_{t+1}``, or ``W_hat_t`` for
        averaging methods).
    fields : dict name -> (T, n)
        The state fields after step ``t``.
    scalars : dict name -> (T,)
        The scalar state after step ``t``.
    x_final : (n,)
        The iterate after the last step.
    sub_residual : (T,) or None
        ``scale_t * dist(0, dQ(prox_t))`` for the subproblem ``Q`` of step ``t``
        (ramda.txt condition (7), first half; ``scale`` = 1, or ``alpha_t`` for
        RAMDA/RMDA whose paper objective is ``alpha_t`` times proxlab's).
    sub_descent : (T,) or None
        ``scale_t * (Q(prox_t) - Q(x_t))``: <= 0 is (7)'s second half
        ``Q_t(W_hat_t) <= Q_t(W_{t-1})``.
    sub_objective : (T,) or None
        ``scale_t * Q(x_t)`` (for a relative rounding allowance on ``sub_descent``).
    algorithm : str
    """

    x: np.ndarray
    g: np.ndarray
    loss: np.ndarray | None
    prox_point: np.ndarray
    fields: dict
    scalars: dict
    x_final: np.ndarray
    sub_residual: np.ndarray | None = None
    sub_descent: np.ndarray | None = None
    sub_objective: np.ndarray | None = None
    algorithm: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def T(self):
        return self.x.shape[0]

    @property
    def steps(self):
        return np.arange(1, self.T + 1)


def record(algorithm, problem, T, *, fields="all", subproblems=False, state=None):
    """Run ``T`` steps of ``algorithm`` on ``problem`` and keep a :class:`Trace`.

    Parameters
    ----------
    algorithm : proxlab.solvers.Algorithm
    problem : Problem
    T : int >= 1
    fields : "all" or iterable of state field names
    subproblems : bool
        Build ``algorithm.subproblem(state, g)`` before every step and measure
        the step's prox point against it (``sub_residual``, ``sub_descent``).
    state : State, optional
        Continue from it (default ``algorithm.init(problem.x0)``).
    """
    T = check_int("T", T, low=1)
    if state is None:
        state = algorithm.init(problem.x0)
    names = tuple(state.fields) if fields == "all" else tuple(fields)
    unknown = [f for f in names if f not in state.fields]
    if unknown:
        raise ValueError(f"fields: {unknown} are not state fields of {algorithm.name} ({state.fields})")
    n = state["x"].shape[0]
    X = np.empty((T, n))
    Gr = np.empty((T, n))
    P = np.empty((T, n))
    L = np.empty(T) if problem.loss is not None else None
    F = {f: np.empty((T, n)) for f in names}
    S = {s: np.empty(T) for s in state.scalars}
    res = np.empty(T) if subproblems else None
    desc = np.empty(T) if subproblems else None
    qprev = np.empty(T) if subproblems else None
    g = np.empty(n, dtype=state["x"].dtype)
    t0 = state.t
    for j in range(T):
        t = t0 + j + 1
        x = state["x"]
        X[j] = x
        if L is not None:
            L[j] = problem.loss(x, t, problem.data)
        problem.grad(x, t, problem.data, g)
        Gr[j] = g
        sub = algorithm.subproblem(state, g) if subproblems else None
        x_before = x.astype(np.float64).copy()
        algorithm.step(state, g)
        pp = algorithm.prox_point(state)
        P[j] = pp
        for f in names:
            F[f][j] = state[f]
        for k, s in enumerate(state.scalars):
            S[s][j] = state["sc"][k]
        if subproblems:
            scale_fn = getattr(algorithm, "_objective_scale", None)
            scale = float(scale_fn(state, sub)) if scale_fn is not None else 1.0
            res[j], desc[j], qprev[j] = _subproblem_measure(sub, np.asarray(pp, dtype=np.float64), x_before,
                                                            scale)
    return Trace(X, Gr, L, P, F, S, state["x"].astype(np.float64).copy(), res, desc, qprev, algorithm.name,
                 {"state": state})


def _subproblem_measure(sub, x, x_prev, scale):
    """``(scale dist(0, dQ(x)), scale (Q(x) - Q(x_prev)), scale Q(x_prev))`` for a :class:`Subproblem`."""
    z = np.asarray(sub.center, dtype=np.float64)
    d = np.ones_like(z) if sub.d is None else np.asarray(sub.d, dtype=np.float64)
    if sub.reg is None:
        r = float(np.linalg.norm(d * (x - z) / sub.step))
        q = lambda v: float(np.sum(d * (v - z) ** 2) / (2.0 * sub.step))  # noqa: E731
    else:
        r = sub.reg.subdiff_dist(x, z, sub.step, d)
        q = lambda v: sub.reg.objective(v, z, sub.step, d)  # noqa: E731
    q_prev = q(x_prev)
    return scale * r, scale * (q(x) - q_prev), scale * q_prev


# ------------------------------------------------------------ per family
def ga_quantities(alg, trace):
    r"""The symbols of GA Theorem 3 for a Group-family trace.

    Returns a dict with ``x`` (``x_t``), ``g``, ``m`` (the ``m_t`` the update (6)
    used: ``g_t`` for Group SGD/Adagrad, the buffer for Group Momentum,
    ``mhat_t / (1 - beta1^t)`` for the Adam-type members), ``sigma``
    (:math:`\Sigma_t = \sqrt{V_t}/\alpha_t`), ``gamma`` (the ``gamma`` of (13), NaN
    when ``m_t`` does not have that form), ``form13`` (bool) and ``exact_argmin``
    (whether ``x_{t+1}`` is the exact argmin of (6): the exact form, no group
    term, or a metric constant inside every group at every step).
    """
    from ..solvers.group_family import _GroupFamily

    if not isinstance(alg, _GroupFamily):
        raise TypeError(f"alg must be a Group-family algorithm (GA), got {alg.name}")
    if "sigma" not in trace.fields:
        raise ValueError("trace: record the 'sigma' field (fields='all')")
    name = alg.name
    hp = alg.hyper
    t = trace.steps.astype(np.float64)[:, None]
    if name in ("group_sgd", "group_adagrad"):
        m, gamma, form13 = trace.g, 0.0, True
    elif name == "group_momentum":
        m, gamma, form13 = trace.fields["m"], hp["momentum"], True
    else:
        m = trace.fields["m"] / (1.0 - hp["beta1"] ** t)
        gamma, form13 = float("nan"), False
    sig = trace.fields["sigma"]
    G = alg.groups
    if alg.form == "exact" or G is None or hp["lam21"] == 0.0:
        exact = True
    else:
        den = sig[:, G.idx]
        mx = np.maximum.reduceat(den, G.ptr[:-1], axis=1)
        mn = np.minimum.reduceat(den, G.ptr[:-1], axis=1)
        exact = bool(np.all(mx == mn))
    return {"x": trace.x, "g": trace.g, "m": m, "sigma": sig, "gamma": gamma, "form13": form13,
            "exact_argmin": exact, "alpha": hp["lr"]}


def proxgen_quantities(alg, trace):
    r"""ProxGen (proxgen.txt Algorithm 1) symbols: ``alpha`` (T,), ``precond``
    (:math:`C_t`, (T, n)), ``delta``, ``rho`` (T,) (``beta1``, constant),
    ``m`` (the vector of line 8 as used: bias-corrected unless ``bias_correction=0``),
    ``steps`` (:math:`\theta_{t+1} - \theta_t`, (T, n)), ``g`` (T, n)."""
    if alg.name != "proxgen":
        raise TypeError(f"alg must be proxgen, got {alg.name}")
    hp = alg.hyper
    t = trace.steps.astype(np.float64)
    bc1 = 1.0 - hp["beta1"] ** t if hp["bias_correction"] else np.ones_like(t)
    bc2 = 1.0 - hp["beta2"] ** t if hp["bias_correction"] else np.ones_like(t)
    C = np.sqrt(trace.fields["v"] / bc2[:, None])
    nxt = np.vstack([trace.x[1:], trace.x_final[None, :]])
    return {"alpha": np.full(trace.T, hp["lr"]), "precond": C, "delta": hp["eps"],
            "rho": np.full(trace.T, hp["beta1"]), "m": trace.fields["m"] / bc1[:, None], "steps": nxt - trace.x,
            "g": trace.g}


def ramda_quantities(alg, trace):
    r"""RAMDA / RMDA (ramda.txt Algorithm 1) symbols: ``s`` (:math:`s_t = \eta_t\sqrt t`),
    ``alpha`` (:math:`\alpha_t = \sum_{k\le t} s_k`), ``W`` (:math:`W_0 .. W_T`, (T+1, n)),
    ``W_hat`` (:math:`\hat W_1..\hat W_T`), ``P`` (:math:`\mathrm{diag}\,P_t`, RAMDA only),
    ``eps_t`` (the tolerance of (7) when the PG solver is used, else None)."""
    if alg.name not in ("ramda", "rmda", "madgrad"):
        raise TypeError(f"alg must be ramda, rmda or madgrad, got {alg.name}")
    t = trace.steps.astype(np.float64)
    s = alg.hyper["lr"] * np.sqrt(t)
    alpha = trace.scalars["alpha"] if "alpha" in trace.scalars else np.cumsum(s)
    W = np.vstack([trace.x, trace.x_final[None, :]])
    out = {"s": s, "alpha": alpha, "W": W, "W_hat": trace.prox_point, "eps_t": None}
    if "U" in trace.fields:
        out["P"] = np.cbrt(trace.fields["U"]) + alg.hyper["eps"]
    if getattr(alg, "subproblem_solver", "exact") == "pg":
        out["eps_t"] = np.array([alg.inexact_eps(int(k)) for k in trace.steps])
    return out


def dual_averaging_quantities(alg, trace):
    r"""RDA / modified RDA (mrda.txt Algorithms 1-2) symbols: ``w`` (:math:`w_1..w_T`),
    ``g``, ``betas`` (:math:`\beta_t = \gamma t^p`), ``w0`` (the anchor: ``x0`` for
    RDA, 0 for modified RDA)."""
    if alg.name not in ("rda", "mrda"):
        raise TypeError(f"alg must be rda or mrda, got {alg.name}")
    t = trace.steps.astype(np.float64)
    gamma = alg.hyper["gamma"]
    power = alg.hyper.get("power", 0.5)
    w0 = trace.fields["w0"][0] if "w0" in trace.fields else np.zeros(trace.x.shape[1])
    return {"w": trace.x, "g": trace.g, "betas": gamma * t ** power, "w0": w0}
