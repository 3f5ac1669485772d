r"""Study ``subproblem``: how many iterations ramda.txt Algorithm 2 (proximal
gradient, "PG") needs to reach the inexactness condition (7), against the
tolerance, and the exact root vs PG vs Newton in time and accuracy.

**The subproblem.** Every regularized adaptive step solves, for a positive
diagonal metric ``d`` (RAMDA's :math:`P_t` in (4), ProxGen's :math:`C_t + \delta I`
in (6)),

.. math::

    Q(x) = \psi(x) + \frac1{2\,\mathrm{step}}\sum_i d_i (x_i - z_i)^2 ,

and condition (7) asks :math:`\min_{s\in\partial Q(\hat x)}\|s\| \le \epsilon` and
:math:`Q(\hat x) \le Q(x_0)` (``x_0`` the warm start). Algorithm 2 iterates
:math:`Z_j = \mathrm{prox}_{\theta\psi}(Z_{j-1} - \theta\nabla q(Z_{j-1}))` with
:math:`\theta = \mathrm{step}/\max_i d_i` (halved for a nonconvex :math:`\psi`).

**The claims.** ramda.txt Theorem 1 as stated in the **main text** (Sec 5): (7)
holds after :math:`O(\log \epsilon^{-1})` iterations for convex :math:`\psi` and
:math:`O(\epsilon^{-2})` for nonconvex :math:`\psi`; the **appendix** restates
Theorem 1 with :math:`O(\epsilon^{-1})` for convex :math:`\psi` (App. B), while its
own proof, eqs (9)-(11), derives :math:`O(\log\epsilon^{-1})` (linear convergence:
``Q`` is strongly convex because :math:`d \ge \epsilon_P > 0`); Sec 4 says
":math:`O(\epsilon_t^{-2})` iterations" for both. The study measures the order:
if the iterations grow linearly in :math:`\log(1/\epsilon)` the log-log slope tends
to 0, not to 1 (appendix) or 2 (nonconvex bound).

**Instances** (``instance``):

* ``synthetic``: ``n`` coordinates in groups of ``group_size``, centre
  :math:`z \sim N(0, I)`, metric :math:`d_i = \kappa^{u_i}`, :math:`u_i \sim U(0,1)`
  (condition number :math:`\le\kappa`), ``step = 1``, warm start :math:`x_0 = z`
  (Algorithm 2's default). The strength is set from the instance so that half
  of the structure is zero at the solution: ``group_l2``:
  :math:`\lambda = \mathrm{median}_g \|d_g z_g\|/(\mathrm{step}\,w_g)` (exactly half
  the groups pass the screening test); ``mcp`` (:math:`\gamma = 0.5`, so the 1-D
  subproblem is nonconvex wherever :math:`d_i/\mathrm{step} < 1/\gamma`):
  :math:`\lambda = \mathrm{median}_i |d_i z_i|/\mathrm{step}`; ``l_half``:
  :math:`\lambda = \mathrm{median}_i (|z_i|/1.5)^{3/2} d_i/\mathrm{step}` (the
  :math:`\ell_{1/2}` zero threshold :math:`|z| \le 1.5(\lambda t)^{2/3}`).
* ``ramda-digits`` / ``proxgen-digits``: the subproblem of step ``t`` of a
  RAMDA (4) / ProxGen (6) run on :func:`~proxlab.simulations.problems.digits_group_logistic`
  with the group lasso (``lam``), captured from the algorithm's own
  ``subproblem(state, grad)`` (RAMDA's objective is ``alpha_t`` times ``Q``; the
  tolerance is relative, so the factor drops out); warm start the iterate
  before the step, :math:`W_{t-1}` (as RAMDA's PG solver).

**The nonconvex limitation.** The catalogue has no *group* nonconvex
regularizer (no group MCP/SCAD), so the nonconvex curves use the elementwise
``mcp`` and ``l_half`` through :func:`proxlab.solvers.subproblem.prox_metric_pg`
(Algorithm 2 for any regularizer with a Euclidean prox; :math:`\theta` halved).
Their exact metric prox is separable and closed-form, so "exact" there is
``reg.prox_metric`` (the global minimizer); no Newton solver applies.

**Tolerances** are relative: :math:`\epsilon = \epsilon_{\rm rel}\, r_0`,
:math:`r_0 = \mathrm{dist}(0, \partial Q(x_0))` computed exactly
(``reg.subdiff_dist``).

**Solvers compared** (``part == "solver"``): ``exact``
(:func:`~proxlab.solvers.subproblem.group_l2_prox_exact`, secular root;
``reg.prox_metric`` for the nonconvex ones), ``pg(7)`` (Algorithm 2 to (7)
with :math:`\epsilon_{\rm rel} = 10^{-6}`), ``pg-public`` (the public RAMDA code's
stop: at most 100 iterations or relative decrease below 1e-8), ``newton``
(ProxSSI's Newton-Raphson, tol 1e-7, group lasso only). Accuracy is measured
independently of each solver's own report: the exact distance
:math:`\mathrm{dist}(0,\partial Q(x))` (``reg.subdiff_dist``), the largest
coordinate error against the exact solution, :math:`Q(x) - Q(x_{\rm exact})`
and the number of groups/coordinates whose zero pattern differs. Times are
medians of ``repeats`` calls after one warm-up call (wall clock, one thread;
not reproducible bit for bit, unlike every other column).

Table: ``part`` ("curve" / "solver"), ``instance, regularizer, convex,
kappa`` (:math:`\max d/\min d` over the coordinates PG iterates on, i.e. not
screened), ``n, n_zero`` (zero groups or coordinates of the exact solution),
``r0``, then for curves ``eps_rel, eps, iterations, residual`` (PG's certified
element of :math:`\partial Q`), ``residual_exact``, ``converged, stop,
seconds``; for solvers ``solver, seconds, iterations, residual_exact,
rel_residual, err_inf, obj_gap, pattern_mismatch``.
"""

from __future__ import annotations

import math
import numbers
import time

import numpy as np

NAME = "subproblem"
DESCRIPTION = ("PG (ramda.txt Alg. 2) iterations to reach condition (7) against epsilon, convex and nonconvex; "
               "exact secular root vs PG vs Newton in time and accuracy")
CLAIMS = ("ramda.txt Thm 1: (7) after O(log 1/eps) PG iterations for convex psi (main text; the appendix restates "
          "O(1/eps)) and O(eps^-2) for nonconvex psi")

INSTANCES = ("synthetic", "ramda-digits", "proxgen-digits")
REGULARIZERS = ("group_l2", "mcp", "l_half")
MCP_GAMMA = 0.5
PG_EPS_REL = 1e-6
_KEYS = {"study", "size", "instance", "regularizer", "seed", "kappa", "n", "group_size", "t", "lam", "eps_rel",
         "max_iter", "repeats"}


# ----------------------------------------------------------------- configurations
def configs(quick):
    """Synthetic instances (``kappa`` x ``regularizer`` x seeds) and captured ones.

    Parameters
    ----------
    quick : bool
        CI size: ``n = 500``, ``kappa`` in {10, 100} for the group lasso and 10
        for MCP and l_{1/2}, one seed, ``eps_rel`` down to 1e-10, one captured
        RAMDA subproblem (t = 100). Full: ``n = 2000``, ``kappa`` in {10, 100,
        1000} for every regularizer, seeds 0-2, ``eps_rel`` down to 1e-12, RAMDA
        and ProxGen subproblems at t in {10, 100, 1000}.

    Returns
    -------
    list of dict
    """
    size = "quick" if quick else "full"
    eps = [10.0 ** -k for k in range(1, 11 if quick else 13)]
    common = {"study": NAME, "size": size, "eps_rel": eps, "repeats": 3 if quick else 7}
    out = []
    seeds = (0,) if quick else (0, 1, 2)
    for reg in REGULARIZERS:
        kappas = ((10.0, 100.0) if reg == "group_l2" else (10.0,)) if quick else (10.0, 100.0, 1000.0)
        for kappa in kappas:
            for seed in seeds:
                out.append({**common, "instance": "synthetic", "regularizer": reg, "seed": seed, "kappa": kappa,
                            "n": 500 if quick else 2000, "group_size": 10, "t": 0, "lam": 0.0,
                            "max_iter": 1_000_000 if reg == "group_l2" else 200_000})
    captured = [("ramda-digits", 100)] if quick else [(i, t) for i in ("ramda-digits", "proxgen-digits")
                                                       for t in (10, 100, 1000)]
    for inst, t in captured:
        out.append({**common, "instance": inst, "regularizer": "group_l2", "seed": 0, "kappa": 0.0, "n": 0,
                    "group_size": 0, "t": t, "lam": 0.00465, "max_iter": 1_000_000})
    return out


def check_config(config):
    """Validate one configuration (returns it normalized).

    Raises
    ------
    ValueError
        Naming the entry: missing/unknown keys, an unknown ``instance`` or
        ``regularizer`` (captured instances are group lasso only), ``kappa < 1``
        or ``n``/``group_size`` not positive (synthetic), ``n`` not a multiple of
        ``group_size``, ``t < 1`` or ``lam <= 0`` (captured), an empty or
        non-decreasing ``eps_rel`` or one outside (0, 1), ``max_iter`` or
        ``repeats`` < 1.
    """
    if not isinstance(config, dict):
        raise ValueError(f"config must be a dict, got {type(config).__name__}")
    missing = sorted(_KEYS - set(config) - {"study", "size"})
    if missing:
        raise ValueError(f"config is missing {missing}")
    unknown = sorted(set(config) - _KEYS)
    if unknown:
        raise ValueError(f"config has unknown entries {unknown}")
    c = dict(config)
    if c["instance"] not in INSTANCES:
        raise ValueError(f"config['instance'] must be one of {INSTANCES}, got {c['instance']!r}")
    if c["regularizer"] not in REGULARIZERS:
        raise ValueError(f"config['regularizer'] must be one of {REGULARIZERS}, got {c['regularizer']!r}")
    for key in ("seed", "n", "group_size", "t", "max_iter", "repeats"):
        v = c[key]
        if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 0:
            raise ValueError(f"config[{key!r}] must be a non-negative integer, got {v!r}")
    for key in ("max_iter", "repeats"):
        if c[key] < 1:
            raise ValueError(f"config[{key!r}] must be >= 1, got {c[key]!r}")
    for key in ("kappa", "lam"):
        v = c[key]
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(v):
            raise ValueError(f"config[{key!r}] must be a finite number, got {v!r}")
    if c["instance"] == "synthetic":
        if c["kappa"] < 1:
            raise ValueError(f"config['kappa'] must be >= 1 for the synthetic instance, got {c['kappa']!r}")
        if c["n"] < 1 or c["group_size"] < 1:
            raise ValueError(f"config['n'] and config['group_size'] must be >= 1, got {c['n']!r}, "
                             f"{c['group_size']!r}")
        if c["n"] % c["group_size"]:
            raise ValueError(f"config['group_size'] = {c['group_size']} must divide config['n'] = {c['n']}")
    else:
        if c["regularizer"] != "group_l2":
            raise ValueError(f"config['regularizer'] must be 'group_l2' for the captured instance "
                             f"{c['instance']!r}, got {c['regularizer']!r}")
        if c["t"] < 1:
            raise ValueError(f"config['t'] (the captured step) must be >= 1, got {c['t']!r}")
        if not c["lam"] > 0:
            raise ValueError(f"config['lam'] must be > 0 for a captured instance, got {c['lam']!r}")
    eps = c["eps_rel"]
    if not isinstance(eps, (list, tuple)) or not eps:
        raise ValueError(f"config['eps_rel'] must be a non-empty list, got {eps!r}")
    try:
        arr = np.asarray(eps, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"config['eps_rel'] must hold numbers, got {eps!r}") from None
    if not np.all((arr > 0) & (arr < 1)) or np.any(np.diff(arr) >= 0):
        raise ValueError(f"config['eps_rel'] must be decreasing values in (0, 1), got {eps!r}")
    c["eps_rel"] = [float(e) for e in arr]
    c["kappa"], c["lam"] = float(c["kappa"]), float(c["lam"])
    return c


# ----------------------------------------------------------------- instances
class Instance:
    """One subproblem ``Q(x) = psi(x) + (1/(2 step)) sum_i d_i (x_i - z_i)^2`` and its warm start."""

    def __init__(self, reg, z, step, d, x0, label):
        self.reg, self.z, self.step, self.d, self.x0, self.label = reg, z, float(step), d, x0, label

    def Q(self, x):
        return self.reg.objective(x, self.z, self.step, self.d)

    def dist(self, x):
        """``dist(0, dQ(x))``, exact (limiting subdifferential for nonconvex psi)."""
        return self.reg.subdiff_dist(x, self.z, self.step, self.d)


def synthetic_instance(regularizer, kappa, n, group_size, seed):
    """The synthetic instance of the module docstring."""
    from ... import regularizers
    from ...groups import Groups

    rng = np.random.default_rng(seed)
    z = rng.standard_normal(n)
    d = kappa ** rng.random(n)
    step = 1.0
    if regularizer == "group_l2":
        G = Groups(n, group_size)
        lam = float(np.median(G.norms(d * z) / (step * G.weights)))
        reg = regularizers.get("group_l2", lam=lam, n=n, groups=G)
    elif regularizer == "mcp":
        lam = float(np.median(np.abs(d * z) / step))
        reg = regularizers.get("mcp", lam=lam, gamma=MCP_GAMMA)
    elif regularizer == "l_half":
        lam = float(np.median((np.abs(z) / 1.5) ** 1.5 * d / step))
        reg = regularizers.get("l_half", lam=lam)
    else:
        raise ValueError(f"regularizer must be one of {REGULARIZERS}, got {regularizer!r}")
    return Instance(reg, z, step, d, z.copy(), f"synthetic kappa={kappa:g}")


def captured_instance(instance, t, lam, seed):
    """The subproblem of step ``t`` of RAMDA (4) or ProxGen (6) on digits (module docstring)."""
    from ... import regularizers, solvers
    from .. import problems as P
    from .manifold import HYPER

    prob = P.digits_group_logistic(batch_size=32, steps=max(t, 1), seed=seed)
    G = prob.meta["groups"]
    reg = regularizers.get("group_l2", lam=lam, n=prob.x0.size, groups=G)
    method = instance.split("-")[0]
    alg = solvers.get(method, regularizer=reg, **HYPER[method])
    state = solvers.run(alg, prob, t - 1, record=()).state if t > 1 else alg.init(prob.x0)
    g = np.empty(prob.x0.size)
    prob.grad(state["x"], t, prob.data, g)
    sub = alg.subproblem(state, g)
    d = np.ones(prob.x0.size) if sub.d is None else np.asarray(sub.d, dtype=np.float64)
    return Instance(reg, np.asarray(sub.center, dtype=np.float64), sub.step, d,
                    np.asarray(state["x"], dtype=np.float64).copy(), f"{instance} t={t}")


def _pg(inst, eps, max_iter, rtol=None):
    """ramda.txt Algorithm 2 from the instance's warm start."""
    from ...solvers.subproblem import group_l2_prox_pg, prox_metric_pg

    reg = inst.reg
    if reg.name == "group_l2":
        return group_l2_prox_pg(inst.z, inst.step, inst.d, reg.groups, reg.lam, eps=eps, max_iter=max_iter,
                                rtol=rtol, x0=inst.x0)
    return prox_metric_pg(reg, inst.z, inst.step, inst.d, eps=eps, max_iter=max_iter, x0=inst.x0)


def _exact(inst):
    from ...solvers.subproblem import group_l2_prox_exact

    reg = inst.reg
    if reg.name == "group_l2":
        return group_l2_prox_exact(inst.z, inst.step, inst.d, reg.groups, reg.lam, compute_residual=False)[0]
    return reg.prox_metric(inst.z, inst.step, inst.d)


def _newton(inst):
    from ...solvers.subproblem import group_l2_prox_newton

    reg = inst.reg
    x, info = group_l2_prox_newton(inst.z, inst.step, inst.d, reg.groups, reg.lam)
    return x, info.iterations


def _timed(fn, repeats):
    fn()  # warm-up (Numba dispatch, caches)
    ts = []
    out = None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        ts.append(time.perf_counter() - t0)
    return float(np.median(ts)), out


def _pattern(reg, x):
    return np.asarray(reg.support(x), dtype=bool)


def _pg_coords_kappa(inst):
    """``max d / min d`` over the coordinates PG iterates on (not screened by the exact test)."""
    reg, d = inst.reg, inst.d
    if reg.name != "group_l2":
        return float(d.max() / d.min())
    G = reg.groups
    active = G.norms(d * inst.z) > inst.step * reg.lam * G.weights
    coords = G.idx[np.repeat(active, G.sizes)]
    return float(d.max() / d[coords].min()) if coords.size else math.nan


# ----------------------------------------------------------------- the task
def task(config):
    """One instance: the PG curve over ``eps_rel`` and the solver comparison.

    Returns
    -------
    pandas.DataFrame
        ``len(eps_rel)`` curve rows and 3 (nonconvex: 2) + 1 solver rows.
    """
    import pandas as pd

    c = check_config(config)
    if c["instance"] == "synthetic":
        inst = synthetic_instance(c["regularizer"], c["kappa"], c["n"], c["group_size"], c["seed"])
    else:
        inst = captured_instance(c["instance"], c["t"], c["lam"], c["seed"])
    reg = inst.reg
    r0 = inst.dist(inst.x0)
    x_ex = _exact(inst)
    Q_ex = inst.Q(x_ex)
    pat_ex = _pattern(reg, x_ex)
    base = {"instance": c["instance"], "label": inst.label, "regularizer": reg.name, "convex": bool(reg.convex),
            "kappa": _pg_coords_kappa(inst), "n": int(inst.z.size), "n_zero": int(np.count_nonzero(~pat_ex)),
            "r0": r0, "seed": c["seed"]}
    rows = []
    for e in c["eps_rel"]:
        t0 = time.perf_counter()
        x, info = _pg(inst, e * r0, c["max_iter"])
        el = time.perf_counter() - t0
        rows.append({**base, "part": "curve", "eps_rel": e, "eps": e * r0, "iterations": int(info.iterations),
                     "residual": float(info.residual), "residual_exact": inst.dist(x),
                     "converged": bool(info.converged), "stop": info.stop, "seconds": el})
    solvers = [("exact", lambda: (_exact(inst), 0)),
               ("pg(7)", lambda: (lambda r: (r[0], r[1].iterations))(_pg(inst, PG_EPS_REL * r0, c["max_iter"]))),
               ("pg-public", lambda: (lambda r: (r[0], r[1].iterations))(_pg(inst, 0.0, 100, rtol=1e-8)))]
    if reg.name == "group_l2":
        solvers.append(("newton", lambda: _newton(inst)))
    for name, fn in solvers:
        sec, (x, its) = _timed(fn, c["repeats"])
        res = inst.dist(x)
        rows.append({**base, "part": "solver", "solver": name, "seconds": sec, "iterations": int(its),
                     "residual_exact": res, "rel_residual": res / r0 if r0 > 0 else math.nan,
                     "err_inf": float(np.max(np.abs(x - x_ex))), "obj_gap": inst.Q(x) - Q_ex,
                     "pattern_mismatch": int(np.count_nonzero(_pattern(reg, x) != pat_ex))})
    return pd.DataFrame(rows)


# ----------------------------------------------------------------- analysis
def _ls(x, y):
    """Least squares ``y = a + b x``: returns ``(b, a, R^2)``."""
    A = np.vstack([np.ones_like(x), x]).T
    coef, *_ = np.linalg.lstsq(A, y, rcond=None)
    pred = A @ coef
    ss = float(np.sum((y - y.mean()) ** 2))
    r2 = 1.0 - float(np.sum((y - pred) ** 2)) / ss if ss > 0 else math.nan
    return float(coef[1]), float(coef[0]), r2


def fit_orders(curve):
    r"""The two order models on one PG curve (converged points only).

    * log model (main text, convex): ``iterations = a + b ln(1/eps_rel)``;
    * power model (appendix convex, :math:`\epsilon^{-1}`; nonconvex bound
      :math:`\epsilon^{-2}`): ``ln(iterations) = c + p ln(1/eps_rel)``;
    * ``p_tail``: the power-model slope over the four smallest tolerances
      (linear convergence makes it tend to 0; an :math:`\epsilon^{-p}` law keeps it at ``p``).

    Returns a dict ``b, R2_log, p, R2_pow, p_tail, n_points, capped``.
    """
    c = curve.sort_values("eps_rel", ascending=False)
    conv = np.asarray(c["converged"], dtype=bool)  # the column is object-typed next to the solver rows
    ok = c[conv & (c["iterations"].to_numpy() > 0)]
    out = {"b": math.nan, "R2_log": math.nan, "p": math.nan, "R2_pow": math.nan, "p_tail": math.nan,
           "n_points": int(len(ok)), "capped": int(np.count_nonzero(~conv))}
    if len(ok) < 3:
        return out
    L = np.log(1.0 / ok["eps_rel"].to_numpy())
    it = ok["iterations"].to_numpy(dtype=np.float64)
    out["b"], _, out["R2_log"] = _ls(L, it)
    out["p"], _, out["R2_pow"] = _ls(L, np.log(it))
    out["p_tail"] = _ls(L[-4:], np.log(it[-4:]))[0]
    return out


def verdict(fit, convex):
    """Which stated order the curve supports.

    Convex: "log (main text)" when the log model fits at least as well as the
    power model and the tail slope is below 0.5 (an :math:`\\epsilon^{-1}` law has
    slope 1); "1/eps (appendix)" when the tail slope is within 0.5 of 1 and the
    power model fits better; else "unclear". Nonconvex: "faster than eps^-2"
    when the tail slope is below 1 (the bound's 2 is far from attained);
    "eps^-2" when it is at least 1.5; else "unclear". "capped" when PG hit
    ``max_iter`` at some tolerance.
    """
    if fit["capped"]:
        return "capped"
    pt, r2l, r2p = fit["p_tail"], fit["R2_log"], fit["R2_pow"]
    if not np.isfinite(pt):
        return "unclear"
    if convex:
        if r2l >= r2p and pt < 0.5:
            return "log (main text)"
        if r2p > r2l and abs(pt - 1.0) < 0.5:
            return "1/eps (appendix)"
        return "unclear"
    if pt < 1.0:
        return "faster than eps^-2"
    if pt >= 1.5:
        return "eps^-2"
    return "unclear"


def summarize(table):
    """One row per instance label and regularizer (seeds averaged).

    Columns: ``instance, reg, kappa`` (mean of the PG-coordinate condition
    numbers), ``b`` (iterations per unit of ln(1/eps)), ``R2_log``, ``p``
    (log-log slope), ``R2_pow``, ``p_tail``, ``supports`` (:func:`verdict` of
    the seed-averaged fit; "mixed" when seeds disagree), ``us_exact, us_pg,
    us_public, us_newton`` (median times in microseconds), ``res_exact,
    res_pg, res_public, res_newton`` (relative residuals
    :math:`\\mathrm{dist}(0, \\partial Q(x))/r_0`), ``pat_pg, pat_public`` (zero-pattern
    mismatches against the exact solution), ``gap_pg`` (:math:`Q(x_{PG}) - Q(x_{exact})`,
    largest over seeds: > 0 when PG stopped at another critical point of a
    nonconvex ``Q``).
    """
    import pandas as pd

    rows = []
    curves = table[table["part"] == "curve"]
    solv = table[table["part"] == "solver"]
    keys = list(dict.fromkeys(zip(curves["label"], curves["regularizer"])))
    for label, reg in keys:
        cs = curves[(curves["label"] == label) & (curves["regularizer"] == reg)]
        convex = bool(cs["convex"].iloc[0])
        fits = [fit_orders(g) for _, g in cs.groupby("seed")]
        verdicts = {verdict(f, convex) for f in fits}
        row = {"instance": label, "reg": reg, "kappa": float(cs.groupby("seed")["kappa"].first().mean())}
        for k in ("b", "R2_log", "p", "R2_pow", "p_tail"):
            row[k] = float(np.mean([f[k] for f in fits]))
        row["supports"] = verdicts.pop() if len(verdicts) == 1 else "mixed"
        ss = solv[(solv["label"] == label) & (solv["regularizer"] == reg)]
        for short, name in (("exact", "exact"), ("pg", "pg(7)"), ("public", "pg-public"), ("newton", "newton")):
            s = ss[ss["solver"] == name]
            row[f"us_{short}"] = float(s["seconds"].median() * 1e6) if len(s) else math.nan
            row[f"res_{short}"] = float(s["rel_residual"].max()) if len(s) else math.nan
        for short, name in (("pg", "pg(7)"), ("public", "pg-public")):
            s = ss[ss["solver"] == name]
            row[f"pat_{short}"] = int(s["pattern_mismatch"].max()) if len(s) else -1
        s = ss[ss["solver"] == "pg(7)"]
        row["gap_pg"] = float(s["obj_gap"].max()) if len(s) else math.nan
        rows.append(row)
    return pd.DataFrame(rows)


def figure(table):
    """The figure of :mod:`proxlab.figures.subproblem`."""
    from ...figures.subproblem import subproblem_figure

    return subproblem_figure(table)
