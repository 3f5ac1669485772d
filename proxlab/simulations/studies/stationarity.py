r"""Study ``stationarity``: two convergence-rate claims measured against the
number of steps.

**Part "proxgen" — proxgen.txt Corollary 1.** Under (C-1)-(C-4), an initial step
:math:`\alpha_0 \le \delta/(3L)` and a non-increasing step, Theorem 1 bounds

.. math::

    \mathbb E_a\big[\mathrm{dist}(0, \hat\partial F(\theta_a))^2\big]
    \le \frac{Q_1\sigma^2}{T}\sum_{t=0}^{T-1}\frac1{b_t} + \frac{Q_2\Delta}{T} + \frac{Q_3}{T},

:math:`\theta_a` uniform over :math:`\{\theta_1, \dots, \theta_T\}`; Corollary 1: with a
constant minibatch :math:`b = \Theta(T)` the right-hand side is :math:`O(1/T)`.
Measured here: ProxGen (proxgen.txt Alg. 1 with Adam's preconditioner,
:mod:`proxlab.solvers.proxgen`) on binary logistic regression (``n = 50``
features, ``m = 4000`` rows, a 5-sparse truth; ``f`` the sample average, rows
drawn i.i.d. so that (C-2) holds) with a convex (``l1``) and a nonconvex
(``mcp``, :math:`\gamma = 3`) regularizer, for :math:`T \in` ``T_grid``, with
:math:`b = \lceil T / \text{b\_div}\rceil` ("linear": Corollary 1's
:math:`b = \Theta(T)`) and, as a control, a constant :math:`b` ("constant",
outside Corollary 1). The expectation over :math:`a` is exact (the mean of
:math:`\mathrm{dist}^2` over :math:`\theta_1 = x_0, \dots, \theta_T`); the
expectation over the sampling is the mean over seeds. :math:`\mathrm{dist}(0,
\partial F)` is :func:`proxlab.theory.bounds.stationarity` (exact for ``l1``; for
MCP its limiting subdifferential, which equals the Fréchet one of proxgen.txt
Def. 1 here because MCP is :math:`\lambda|x|` plus a smooth function near 0).

Two settings of the hyperparameters:

* ``"theory"``: every hypothesis of Theorem 1 that can be arranged —
  :math:`\rho_t = \beta_1 = 0` ((C-3)(iii) with :math:`\rho_0 = 0`),
  :math:`\delta = 1`, :math:`\alpha = \delta/(3L)` (``L`` the Lipschitz constant of
  :math:`\nabla f`), no bias correction (Alg. 1 as printed);
* ``"practical"``: Adam's defaults as in proxgen.txt Sec 4 (:math:`\beta_1 = 0.9`
  constant, which (C-3)(iii) excludes; :math:`\delta = 10^{-8}`, so
  :math:`\alpha = 10^{-2} \gg \delta/(3L)`; bias corrections).

The monitors of :mod:`proxlab.theory.monitors` (``proxgen_c3``, ``proxgen_c4``,
``proxgen_stepsize``) report per run whether the hypotheses held.

**Part "mrda" — mrda.txt Theorem 3.1 / Lemma 7.5.** For RDA (Alg. 1,
:math:`w_1 = w_0 = 0`) and the modified RDA (Alg. 2, :math:`w_1` random,
anchor 0), :math:`\beta_t = \gamma\sqrt t`, :math:`\Psi = \lambda\|\cdot\|_1`,
one i.i.d. row per step:
:math:`\mathbb E\phi(\bar w_t) - \phi^* = O(1/\sqrt t)`,
:math:`\bar w_t = \frac1t\sum_{\tau\le t} w_\tau`, and (58):
:math:`\le \Delta_t/t`. :math:`\phi = f + \Psi` with ``f`` the sample average (the
expectation of the i.i.d. loss); :math:`\phi^*` by
:func:`proxlab.theory.comparators.reference_optimum` (CVXPY + FISTA polish; the
KKT residual and the Fenchel duality gap are stored). :math:`\Delta_t` by
:func:`proxlab.theory.bounds.mrda_delta` with every constant measured:
:math:`G = \max_t\|g_t\|`, :math:`D^2 = h(w^*) = \tfrac12\|w^*\|^2`,
:math:`Q = \Psi(w_1)`, :math:`\sigma = 0`, and for the modified method the term
:math:`\langle g_1, w_1 - w_0\rangle` that the printed (49) omits
(docs/errata/mrda_proxgen.md; ``bound_printed`` keeps the printed form).

Table (``part``): proxgen rows ``setting, regularizer, batch, seed, b_div, T, b,
value`` (:math:`\mathbb E_a\mathrm{dist}^2` of the run), ``final_dist2``
(:math:`\mathrm{dist}^2` at :math:`\theta_{T+1}`), ``D, G, gamma_c4, c3iii_held,
stepsize_held, alpha, delta_over_3L``; mrda rows ``method, seed, t, value``
(:math:`\phi(\bar w_t) - \phi^*`), ``bound`` (:math:`\Delta_t/t`, corrected),
``bound_printed``, ``phi_star, ref_kkt, ref_gap, G, D, Q``.
"""

from __future__ import annotations

import functools
import math
import numbers

import numpy as np

NAME = "stationarity"
DESCRIPTION = ("E dist(0, dF)^2 of ProxGen against T with batch Theta(T) (proxgen.txt Cor 1) and "
               "E phi(w_bar_t) - phi* of RDA / modified RDA against t (mrda.txt Thm 3.1)")
CLAIMS = ("proxgen.txt Cor 1: E_a dist(0, dF(theta_a))^2 = O(1/T) with b = Theta(T); "
          "mrda.txt Thm 3.1 / Lemma 7.5 eq (58): E phi(w_bar_t) - phi* <= Delta_t / t = O(1/sqrt t)")

SETTINGS = ("theory", "practical")
REGULARIZERS = ("l1", "mcp")
BATCHES = ("linear", "constant")
METHODS = ("rda", "mrda")
#: data of part "proxgen" / "mrda" (fixed: the expectation is over the sampling only)
PROXGEN_DATA = {"n": 50, "m": 4000, "s": 5, "scale": 2.0, "data_seed": 0, "lam": 0.02, "mcp_gamma": 3.0}
MRDA_DATA = {"n": 20, "m": 2000, "s": 4, "scale": 2.0, "data_seed": 0, "lam": 0.01, "gamma": 1.0}
CLAIMED_SLOPE = {"proxgen": -1.0, "mrda": -0.5}
#: a fitted ProxGen slope within this distance of -1 counts as O(1/T)
SLOPE_BAND = 0.25


# ----------------------------------------------------------------- configurations
def configs(quick):
    """ProxGen runs (setting x regularizer x batch x seed, each over ``T_grid``)
    and RDA/MRDA runs (method x seed).

    Parameters
    ----------
    quick : bool
        CI size: ``T_grid = 32 .. 1024``, 2 seeds; RDA/MRDA with ``T = 2000``,
        3 seeds. Full: ``T_grid = 64 .. 8192`` (``b = T/16``), 5 seeds;
        ``T = 50000``, 10 seeds.
    """
    size = "quick" if quick else "full"
    T_grid = [2 ** k for k in (range(5, 11) if quick else range(6, 14))]
    out = []
    for setting in SETTINGS:
        for reg in REGULARIZERS:
            for batch in BATCHES:
                for seed in range(2 if quick else 5):
                    out.append({"study": NAME, "size": size, "part": "proxgen", "setting": setting,
                                "regularizer": reg, "batch": batch, "seed": seed, "T_grid": T_grid,
                                "b_div": 16, "b_const": 8})
    for method in METHODS:
        for seed in range(3 if quick else 10):
            out.append({"study": NAME, "size": size, "part": "mrda", "method": method, "seed": seed,
                        "T": 2000 if quick else 50000, "points": 30 if quick else 50})
    return out


_PROXGEN_KEYS = {"study", "size", "part", "setting", "regularizer", "batch", "seed", "T_grid", "b_div", "b_const"}
_MRDA_KEYS = {"study", "size", "part", "method", "seed", "T", "points"}


def _pos_int(c, key, low=1):
    v = c[key]
    if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < low:
        raise ValueError(f"config[{key!r}] must be an integer >= {low}, got {v!r}")
    return int(v)


def check_config(config):
    """Validate one configuration (returns it normalized).

    Raises
    ------
    ValueError
        Naming the entry: ``part`` not "proxgen"/"mrda", missing or unknown
        keys, an unknown ``setting``/``regularizer``/``batch``/``method``, a
        ``T_grid`` that is not an increasing list of integers >= 2, ``b_div``,
        ``b_const``, ``T`` (>= 10) or ``points`` (>= 3) out of range, a negative
        ``seed``.
    """
    if not isinstance(config, dict):
        raise ValueError(f"config must be a dict, got {type(config).__name__}")
    part = config.get("part")
    if part not in ("proxgen", "mrda"):
        raise ValueError(f"config['part'] must be 'proxgen' or 'mrda', got {part!r}")
    keys = _PROXGEN_KEYS if part == "proxgen" else _MRDA_KEYS
    missing = sorted(keys - set(config) - {"study", "size"})
    if missing:
        raise ValueError(f"config is missing {missing}")
    unknown = sorted(set(config) - keys)
    if unknown:
        raise ValueError(f"config has unknown entries {unknown}")
    c = dict(config)
    c["seed"] = _pos_int(c, "seed", 0)
    if part == "proxgen":
        for key, allowed in (("setting", SETTINGS), ("regularizer", REGULARIZERS), ("batch", BATCHES)):
            if c[key] not in allowed:
                raise ValueError(f"config[{key!r}] must be one of {allowed}, got {c[key]!r}")
        grid = c["T_grid"]
        if (not isinstance(grid, (list, tuple)) or len(grid) < 3
                or any(isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 2 for v in grid)
                or any(b <= a for a, b in zip(grid, grid[1:]))):
            raise ValueError(f"config['T_grid'] must be an increasing list of >= 3 integers >= 2, got {grid!r}")
        c["T_grid"] = [int(v) for v in grid]
        c["b_div"] = _pos_int(c, "b_div")
        c["b_const"] = _pos_int(c, "b_const")
    else:
        if c["method"] not in METHODS:
            raise ValueError(f"config['method'] must be one of {METHODS}, got {c['method']!r}")
        c["T"] = _pos_int(c, "T", 10)
        c["points"] = _pos_int(c, "points", 3)
    return c


# ----------------------------------------------------------------- data and references
@functools.lru_cache(maxsize=4)
def _data(n, m, s, scale, data_seed):
    """Rows ``(A, b)`` of a fixed logistic sample (:func:`proxlab.simulations.problems.logistic`)."""
    from .. import problems as P

    prob = P.logistic(n, m, truth="sparse", s=s, scale=scale, batch_size=1, steps=1, sampling="cyclic",
                      seed=data_seed)
    return prob.meta["A"], prob.meta["b"], prob.meta["truth"]


def _problem(data, batch_size, steps, seed, x0):
    from .. import problems as P

    A, b, _ = _data(data["n"], data["m"], data["s"], data["scale"], data["data_seed"])
    return P.finite_sum_problem("logistic", A, b, batch_size=batch_size, steps=steps, sampling="iid", seed=seed,
                                x0=x0)


def _regularizer(name, data):
    from ... import regularizers

    if name == "l1":
        return regularizers.get("l1", lam=data["lam"])
    return regularizers.get("mcp", lam=data["lam"], gamma=data["mcp_gamma"])


@functools.lru_cache(maxsize=2)
def mrda_reference():
    r""":math:`\phi^* = \min_w f(w) + \lambda\|w\|_1` of part "mrda" with its certificate (cached)."""
    from ... import regularizers
    from ...theory.comparators import reference_optimum

    prob = _problem(MRDA_DATA, 1, 1, 0, "zeros")
    res = reference_optimum(prob, regularizers.get("l1", lam=MRDA_DATA["lam"]), method="cvxpy", tol=1e-10)
    return {"x": res.x, "value": res.value, "kkt": res.kkt_residual, "gap": res.duality_gap, "ok": res.ok}


# ----------------------------------------------------------------- part proxgen
@functools.lru_cache(maxsize=2)
def _lipschitz():
    """``L`` of the sample-average logistic loss of part "proxgen" (cached: one SVD)."""
    from ..problems import average_objective

    return average_objective(_problem(PROXGEN_DATA, 1, 1, 0, "zeros")).lipschitz()


def _proxgen_hyper(setting, L):
    if setting == "theory":
        return {"lr": 1.0 / (3.0 * L), "beta1": 0.0, "beta2": 0.999, "eps": 1.0, "bias_correction": 0}
    return {"lr": 1e-2, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "bias_correction": 1}


def average_grad_rows(f, X, chunk=512):
    r""":math:`\nabla f(x)` for every row of ``X`` at once (binary logistic
    :class:`~proxlab.simulations.problems.FiniteSumObjective`): the same formula as
    ``f.grad`` with one matrix product per ``chunk`` rows instead of one
    matrix-vector product per row."""
    if f.kind != "logistic":
        return np.array([f.grad(x) for x in X])
    out = np.empty_like(X, dtype=np.float64)
    for a in range(0, X.shape[0], chunk):
        U = f.A @ X[a:a + chunk].T  # (m, k)
        S = -f.b[:, None] * np.exp(-np.logaddexp(0.0, f.b[:, None] * U))
        out[a:a + chunk] = (f.A.T @ (f.w[:, None] * S)).T
    return out


def stationarity_rows(X, grads, reg):
    r""":math:`\mathrm{dist}(0, \nabla f(x) + \partial R(x))` for every row: the measure
    of :func:`proxlab.theory.bounds.stationarity`, vectorized over rows for a
    separable regularizer through its subdifferential intervals
    (``SeparableRegularizer._subgrad_interval``, elementwise); other regularizers
    go row by row through :func:`~proxlab.theory.bounds.stationarity`."""
    from ...theory.bounds import stationarity

    if hasattr(reg, "_subgrad_interval"):
        lo, hi = reg._subgrad_interval(X)
        t = -grads
        gap = np.where(t < lo, lo - t, np.where(t > hi, t - hi, 0.0))
        return np.sqrt(np.sum(gap * gap, axis=1))
    return np.array([stationarity(x, g, reg) for x, g in zip(X, grads)])


def _proxgen_run(c, T):
    """One ProxGen run of ``T`` steps; returns a dict of measurements."""
    from ... import solvers
    from ...theory import monitors
    from ..problems import average_objective

    b = max(1, -(-T // c["b_div"])) if c["batch"] == "linear" else c["b_const"]
    prob = _problem(PROXGEN_DATA, b, T, c["seed"] * 100_003 + T, "zeros")
    f = average_objective(prob)
    L = _lipschitz()
    reg = _regularizer(c["regularizer"], PROXGEN_DATA)
    hp = _proxgen_hyper(c["setting"], L)
    alg = solvers.get("proxgen", regularizer=reg, **hp)
    tr = solvers.run(alg, prob, T, record=("x",))
    thetas = np.vstack([prob.x0[None, :].astype(np.float64), tr.records["x"]])  # theta_1 .. theta_{T+1}
    d = stationarity_rows(thetas, average_grad_rows(f, thetas), reg)
    # the hypotheses, from the stochastic gradients g_t at theta_t (t = 1..T)
    gs = np.empty((T, thetas.shape[1]))
    for t in range(1, T + 1):
        prob.grad(thetas[t - 1], t, prob.data, gs[t - 1])
    v = np.zeros(thetas.shape[1])
    pre = np.empty_like(gs)
    for t in range(T):
        v = hp["beta2"] * v + (1.0 - hp["beta2"]) * gs[t] ** 2
        pre[t] = np.sqrt(v / ((1.0 - hp["beta2"] ** (t + 1)) if hp["bias_correction"] else 1.0))
    c3 = monitors.proxgen_c3(np.diff(thetas, axis=0), gs, np.full(T, hp["beta1"]))
    c4 = monitors.proxgen_c4(np.full(T, hp["lr"]), pre, hp["eps"])
    ss = monitors.proxgen_stepsize(np.full(T, hp["lr"]), hp["eps"], L)
    return {"T": T, "b": b, "value": float(np.mean(d[:T] ** 2)), "final_dist2": float(d[T] ** 2),
            "D": c3["C-3(i)"].measured["D needed"], "G": c3["C-3(ii)"].measured["G needed"],
            "gamma_c4": c4.measured["gamma measured (min_t)"], "c3iii_held": c3["C-3(iii)"].all_held,
            "stepsize_held": ss.all_held, "alpha": hp["lr"], "delta_over_3L": ss.measured["delta/(3L)"], "L": L}


# ----------------------------------------------------------------- part mrda
def _mrda_run(c):
    from ... import regularizers, solvers
    from ...theory.bounds import mrda_delta
    from ..problems import average_objective

    T = c["T"]
    ref = mrda_reference()
    rng = np.random.default_rng(c["seed"])
    n = MRDA_DATA["n"]
    x0 = np.zeros(n) if c["method"] == "rda" else rng.standard_normal(n)
    prob = _problem(MRDA_DATA, 1, T, c["seed"], x0)
    f = average_objective(prob)
    reg = regularizers.get("l1", lam=MRDA_DATA["lam"])
    alg = solvers.get(c["method"], regularizer=reg, gamma=MRDA_DATA["gamma"])
    tr = solvers.run(alg, prob, T, record=("x",))
    W = np.vstack([prob.x0[None, :].astype(np.float64), tr.records["x"][:-1]])  # w_1 .. w_T
    gs = np.empty_like(W)
    for t in range(1, T + 1):
        prob.grad(W[t - 1], t, prob.data, gs[t - 1])
    ts = np.unique(np.geomspace(1, T, c["points"]).round().astype(np.int64))
    wbar = np.cumsum(W, axis=0)[ts - 1] / ts[:, None]
    gap = np.array([f.value(w) + reg.value(w) for w in wbar]) - ref["value"]
    G = float(np.max(np.linalg.norm(gs, axis=1)))
    D = math.sqrt(0.5 * float(ref["x"] @ ref["x"]))  # h(w*) = ||w* - w0||^2 / 2, w0 = 0
    Q = reg.value(W[0])
    betas = MRDA_DATA["gamma"] * np.sqrt(np.arange(1, T + 1, dtype=np.float64))
    w1 = float(gs[0] @ W[0])
    delta_c = mrda_delta(betas, G, D, Q, 0.0, w1)
    delta_p = mrda_delta(betas, G, D, Q, 0.0, 0.0)
    return {"t": ts, "value": gap, "bound": delta_c[ts - 1] / ts, "bound_printed": delta_p[ts - 1] / ts,
            "phi_star": ref["value"], "ref_kkt": ref["kkt"], "ref_gap": ref["gap"], "ref_ok": bool(ref["ok"]),
            "G": G, "D": D, "Q": Q}


# ----------------------------------------------------------------- the task
def task(config):
    """One configuration: a ProxGen run per ``T`` of ``T_grid``, or one RDA/MRDA run.

    Returns
    -------
    pandas.DataFrame
        ``len(T_grid)`` rows (part "proxgen") or one row per ``t`` of the
        log-spaced grid (part "mrda"); columns in the module docstring.
    """
    import pandas as pd

    c = check_config(config)
    if c["part"] == "proxgen":
        rows = [{"part": "proxgen", "setting": c["setting"], "regularizer": c["regularizer"], "batch": c["batch"],
                 "seed": c["seed"], "b_div": c["b_div"], **_proxgen_run(c, T)} for T in c["T_grid"]]
        return pd.DataFrame(rows)
    r = _mrda_run(c)
    k = len(r["t"])
    return pd.DataFrame({"part": "mrda", "method": c["method"], "seed": c["seed"], "t": r["t"],
                         "value": r["value"], "bound": r["bound"], "bound_printed": r["bound_printed"],
                         **{key: [r[key]] * k for key in ("phi_star", "ref_kkt", "ref_gap", "ref_ok", "G", "D",
                                                           "Q")}})


# ----------------------------------------------------------------- analysis
def fit_slope(x, y, tail_from=None):
    """Least-squares slope of ``log y`` against ``log x`` (points with ``x >= tail_from``
    and ``y > 0``); NaN with fewer than 3 points."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    keep = (y > 0) & np.isfinite(y)
    if tail_from is not None:
        keep &= x >= tail_from
    if np.count_nonzero(keep) < 3:
        return math.nan
    return float(np.polyfit(np.log(x[keep]), np.log(y[keep]), 1)[0])


def proxgen_curves(table):
    """Seed-averaged :math:`\\mathbb E\\,\\mathrm{dist}^2` per (setting, regularizer, batch, T)."""
    pg = table[table["part"] == "proxgen"]
    return pg.groupby(["setting", "regularizer", "batch", "T"], sort=False).agg(
        value=("value", "mean"), b=("b", "first"), n_seeds=("seed", "nunique")).reset_index()


def mrda_curves(table):
    """Seed-averaged gap and bound per (method, t)."""
    md = table[table["part"] == "mrda"]
    return md.groupby(["method", "t"], sort=False).agg(value=("value", "mean"), bound=("bound", "mean"),
                                                        bound_printed=("bound_printed", "mean"),
                                                        n_seeds=("seed", "nunique")).reset_index()


def tail_start(grid):
    """The first grid point of the fitted tail: the third smallest (the first two carry the transient)."""
    g = sorted(set(grid))
    return g[min(2, len(g) - 1)]


def summarize(table):
    r"""Fitted slopes against the claims, with the hypotheses.

    One row per ProxGen (setting, regularizer, batch) and per RDA/MRDA method.
    Columns: ``claim, case, slope`` (log-log slope of the seed mean over the
    tail: ``T >= `` the third grid point, resp. ``t >= 100``), ``seed_sd`` (sd of
    the per-seed slopes), ``slope_last`` (ProxGen: between the two largest
    ``T``; MRDA: fitted over the last decade of ``t``), ``TE_ratio`` (max / min
    over the grid of ``T E`` for ProxGen, of ``sqrt(t) E`` for MRDA: O(1) when the
    claimed rate holds with a constant, growing like the grid's span
    otherwise), ``claimed`` (-1 for Cor 1; -1/2 for Thm 3.1, an upper
    bound: steeper is consistent), ``verdict``, ``hypotheses`` (ProxGen:
    step size ``alpha <= delta/(3L)``, (C-3)(iii), ``gamma`` of (C-4); MRDA: the
    measured G, D and whether the mean gap stayed below the corrected
    :math:`\Delta_t/t` at every t), ``first, last`` (the curve's end values).
    Verdicts: Cor 1 — "O(1/T)" when the slope is within
    :data:`SLOPE_BAND` of -1; "O(1/T) at the end (T*E turned down)" when the
    tail fit is slower but the last local slope is within the band and
    ``T E`` is below its maximum at the largest ``T`` (the sum
    :math:`\sum_t \mathrm{dist}_t^2` that Cor 1 bounds has stopped growing: the
    slower fit is a transient); otherwise "slower than 1/T" / "faster than 1/T";
    with a constant batch the corollary does not apply ("n/a (b const): ...").
    Thm 3.1 — "O(1/sqrt t) holds" when the slope is <= -1/2 + 0.05 and the
    bound held, "slower than 1/sqrt t" otherwise.
    """
    import pandas as pd

    rows = []
    pg = table[table["part"] == "proxgen"]
    if len(pg):
        start = tail_start(pg["T"])
        cur = proxgen_curves(table)
        for (setting, reg, batch), g in cur.groupby(["setting", "regularizer", "batch"], sort=False):
            raw = pg[(pg["setting"] == setting) & (pg["regularizer"] == reg) & (pg["batch"] == batch)]
            slope = fit_slope(g["T"], g["value"], start)
            per_seed = [fit_slope(s["T"], s["value"], start) for _, s in raw.groupby("seed")]
            T_, v_ = g["T"].to_numpy(dtype=np.float64), g["value"].to_numpy()
            slope_last = float(np.log(v_[-1] / v_[-2]) / np.log(T_[-1] / T_[-2]))
            TE = T_ * v_
            if batch == "linear":
                if abs(slope + 1.0) <= SLOPE_BAND:
                    verdict = "O(1/T)"
                elif slope > -1.0 and slope_last <= -1.0 + SLOPE_BAND and TE[-1] < TE.max():
                    verdict = "O(1/T) at the end (T*E turned down)"
                else:
                    verdict = "slower than 1/T" if slope > -1.0 else "faster than 1/T"
            else:
                verdict = "n/a (b const): " + ("decays like 1/T" if abs(slope + 1.0) <= SLOPE_BAND
                                               else "plateaus" if slope > -0.5 else "decays slower than 1/T")
            hyp = (f"alpha<=delta/3L: {bool(raw['stepsize_held'].all())}; C-3(iii): "
                   f"{bool(raw['c3iii_held'].all())}; gamma_C4={raw['gamma_c4'].min():.2g}")
            bdesc = f"T/{int(raw['b_div'].iloc[0])}" if batch == "linear" else str(int(g["b"].iloc[0]))
            rows.append({"claim": "PG Cor 1", "case": f"proxgen {setting} {reg} b={bdesc}",
                         "slope": slope, "seed_sd": float(np.nanstd(per_seed)), "slope_last": slope_last,
                         "TE_ratio": float(TE.max() / TE.min()), "claimed": CLAIMED_SLOPE["proxgen"],
                         "verdict": verdict, "hypotheses": hyp, "first": float(g["value"].iloc[0]),
                         "last": float(g["value"].iloc[-1])})
    md = table[table["part"] == "mrda"]
    if len(md):
        cur = mrda_curves(table)
        for method, g in cur.groupby("method", sort=False):
            raw = md[md["method"] == method]
            slope = fit_slope(g["t"], g["value"], 100)
            per_seed = [fit_slope(s["t"], s["value"], 100) for _, s in raw.groupby("seed")]
            held = bool(np.all(g["value"].to_numpy() <= g["bound"].to_numpy()))
            held_printed = bool(np.all(g["value"].to_numpy() <= g["bound_printed"].to_numpy()))
            verdict = ("O(1/sqrt t) holds" if slope <= CLAIMED_SLOPE["mrda"] + 0.05 and held
                       else "slower than 1/sqrt t" if slope > CLAIMED_SLOPE["mrda"] + 0.05 else "bound violated")
            hyp = (f"G={raw['G'].max():.3g}, D={raw['D'].iloc[0]:.3g}; mean gap <= Delta_t/t: {held} "
                   f"(printed (49): {held_printed}); phi* KKT {raw['ref_kkt'].iloc[0]:.1e}, "
                   f"duality gap {raw['ref_gap'].iloc[0]:.1e}")
            t_, v_ = g["t"].to_numpy(dtype=np.float64), g["value"].to_numpy()
            half = t_ >= t_[-1] / 10
            rows.append({"claim": "MRDA Thm 3.1", "case": f"{method} l1, beta_t = sqrt t", "slope": slope,
                         "seed_sd": float(np.nanstd(per_seed)), "slope_last": fit_slope(t_[half], v_[half]),
                         "TE_ratio": float(np.max(np.sqrt(t_) * v_) / np.min(np.sqrt(t_) * v_)),
                         "claimed": CLAIMED_SLOPE["mrda"], "verdict": verdict,
                         "hypotheses": hyp, "first": float(g["value"].iloc[0]), "last": float(g["value"].iloc[-1])})
    return pd.DataFrame(rows)


def figure(table):
    """The figure of :mod:`proxlab.figures.stationarity`."""
    from ...figures.stationarity import stationarity_figure

    return stationarity_figure(table)
