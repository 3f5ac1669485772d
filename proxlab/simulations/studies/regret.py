r"""Study ``regret``: the regret :math:`\mathcal R_T` against ``T`` next to each
method's bound, with every constant of the bound measured on the run.

What one run does
=================
A configuration names a convex online problem and a seed. The task draws the
problem (``T_max`` steps, one fresh row per step), runs every method of the
configuration for ``T_max`` steps with :func:`proxlab.theory.trace.record`
(the same Numba step as :func:`proxlab.solvers.run`, keeping ``x_t``, ``g_t``
and the state after every step), and at every ``T`` of the grid
``T_min, 2 T_min, 4 T_min, ..., T_max`` computes

* the comparator of that ``T`` with its certificate
  (:mod:`proxlab.theory.comparators`; CVXPY/Clarabel + FISTA polish for small
  problems, certified restarted FISTA for large ones);
* the regret of the method (the definition its paper bounds, below);
* the bound the method's paper gives, in the printed and the corrected form,
  with every constant measured on the first ``T`` steps;
* the assumption monitors: the fraction of steps ``t <= T`` at which each
  hypothesis of the bound held.

Regret definitions and bounds
=============================
Group family (group-lasso-adaptive-optimizers.txt, "GA") and FTRL
    :math:`\mathcal R_T = \sum_{t\le T} f_t(x_t) - \min_x \sum_{t\le T} f_t(x)`
    (GA eq (7); the regularizer is not charged, the comparator is
    :func:`~proxlab.theory.comparators.ga_comparator`). Bound: GA Theorem 3,
    eq (14), :func:`proxlab.theory.bounds.ga_theorem3` with
    :math:`\Sigma_t = \sum_{s\le t} Q_s/\alpha_s`, the ``t = 1`` dual term on
    :math:`h_0` (``printed``) or on :math:`h_1` (``corrected``, see that
    function's docstring). FTRL-Proximal (McMahan et al. 2013) *is* update (6)
    with :math:`\lambda_{21} = 0`, :math:`\Sigma_t = (\beta + \sqrt{n_t})/\alpha` and
    :math:`\Psi = \lambda_1\|x\|_1 + (\lambda_2^{\rm FTRL}/2)\|x\|^2` (GA Sec 2.2,
    claim GA-T2), so eq (14) is evaluated for it with those symbols. For Group
    Adagrad (both forms) GA Corollaries 1-2, eq (20), is evaluated as well
    (:func:`proxlab.theory.bounds.ga_corollary_from_run`, ``nu = 0``:
    :math:`\gamma = 0`, :math:`\eta = 1`).
RDA (mrda.txt Algorithm 1) and modified RDA (Algorithm 2)
    :math:`R_T(w) = \sum_{t\le T}(f_t(w_t) + \Psi(w_t)) - \min_w \sum_{t\le T}(f_t(w) + \Psi(w))`
    (mrda.txt eq (48); comparator :func:`~proxlab.theory.comparators.rda_comparator`).
    Bound: :math:`\Delta_T` of eq (49) (Lemma 7.4) with
    :math:`Q = \Psi(w_1)`, :math:`D^2 = h(w^*) = \tfrac12\|w^* - w_0\|^2`,
    :math:`G = \max_{t\le T}\|g_t\|_2`, printed, and corrected by the term
    :math:`\langle g_1, w_1 - w_0\rangle` the proof drops for a start off the anchor
    (:func:`proxlab.theory.bounds.mrda_lemma74`).
ProxGen (proxgen.txt Algorithm 1, Adam preconditioner, constant step)
    regret (48) with :math:`\Psi = R`. **No bound**: proxgen.txt proves a
    stationarity rate for nonconvex stochastic problems (Thm 1), not a regret
    bound; the table reports its Thm 1 hypotheses (C-3)(iii) and the step size
    condition :math:`\alpha \le \delta/(3L)` for reference.

The Adam-type members (Group Adam, ProxGen) use a constant step and an
exponential moving average of :math:`g^2`: nothing in the papers promises them
an :math:`O(\sqrt T)` regret (GA eq (14) still applies formally to Group Adam's
exact form but its hypotheses :math:`Q_t \succeq 0` and (13) fail, and
Lemma 1's :math:`\kappa` condition fails on stationary data). The study shows
what they do.

Monitors (columns ``hyp_*``; NaN where a hypothesis does not belong to the
method's bound): ``hyp_12`` GA condition (12) (needed only when
:math:`\gamma > 0`), ``hyp_13`` the form (13) of :math:`m_t`, ``hyp_Q``
:math:`Q_t \succeq 0`, ``hyp_argmin`` whether :math:`x_{t+1}` is the exact
argmin of (6) (the practical form of line 10 is not, unless the metric is
constant in every group), ``hyp_sigma1`` :math:`\Sigma_1 \succeq I` (what the
printed ``t = 1`` term needs), ``hyp_kappa`` Lemma 1's condition (case 1 or
case 2), ``hyp_cor1`` / ``hyp_cor2`` Corollary 1's :math:`G \le \delta` (with
:math:`\delta^2` = Group Adagrad's ``eps``, the :math:`\delta^2 I` Lemma 2 adds to
:math:`V_t`) and Corollary 2's :math:`tG^2 I \succeq V_t` (run-level, 1 or 0),
``hyp_w1w0`` :math:`w_1 = w_0` (what the printed :math:`\Delta_t` needs),
``hyp_c3iii`` and ``hyp_stepsize`` ProxGen's Thm 1 hypotheses.

Problems (``config["problem"]``)
================================
``"ls_group"``
    :func:`~proxlab.simulations.problems.online_least_squares`, group-sparse
    truth (``active_groups`` of ``n / group_size`` contiguous groups), noise
    ``noise``: the benign case (an i.i.d. stream, strongly convex in
    expectation).
``"logistic_group"``
    :func:`~proxlab.simulations.problems.online_logistic`, group-sparse truth,
    link scale ``scale``. At small ``T`` the rows can be linearly separable:
    then :math:`\min_x\sum f_t` is not attained, GA Theorem 3's hypothesis
    fails, and the row says so (``cmp_ok = False``); such rows are excluded
    from the bound checks and the slope.
``"alternating"``
    :func:`~proxlab.simulations.problems.alternating` (least squares, the
    target switches between two disjoint-support truths every ``period``
    steps): the comparator fits neither regime.

Slope
=====
:func:`fit_slopes` fits :math:`\log\mathcal R_T = c + p\log T` by least squares
on the grid points with :math:`T \ge T_{\max}/64` (the last seven doublings),
a certified comparator and :math:`\mathcal R_T > 0`; the *tail* slope uses the
last three doublings only (:math:`T \ge T_{\max}/8`), where the early
transient from :math:`x_1` weighs least. ``p = 1/2`` is the :math:`O(\sqrt T)`
of GA Cor 1-2 and mrda.txt Thm 3.1; both are upper bounds, so on a strongly
convex stream (least squares with a Gaussian design) a smaller slope is
consistent with them, and a constant step (Adam-type members) heads to 1.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

NAME = "regret"
DESCRIPTION = ("Regret R_T against T (log-log) for the Group family, FTRL, RDA/MRDA and ProxGen, with GA eq (14) "
               "and MRDA eq (49) measured on the run, printed and corrected")
CLAIMS = ("GA-T3 (GA Thm 3, eq (14): R_T below the bound; how often condition (12) and the other hypotheses held), "
          "GA-C1 (GA Cor 1-2, eq (20): below the bound, O(sqrt T)), "
          "MRDA-L74 (mrda.txt Lemma 7.4, eq (49): R_t(w) <= Delta_t); ProxGen has no regret bound")

PROBLEMS = ("ls_group", "logistic_group", "alternating")

#: method label -> (registered solver, form of the Group family or None)
METHODS = {
    "group_adagrad": ("group_adagrad", "practical"),
    "group_adagrad (exact)": ("group_adagrad", "exact"),
    "group_adam": ("group_adam", "practical"),
    "group_adam (exact)": ("group_adam", "exact"),
    "ftrl": ("ftrl", None),
    "rda": ("rda", None),
    "mrda": ("mrda", None),
    "proxgen": ("proxgen", None),
}

#: step sizes: the best of a 4-point grid (factor ~3) on ls_group, n = 32, T = 4096, seed 1,
#: which was also the best or within 1.6x of the best on the two other problems
HYPER = {
    "group_adagrad": {"lr": 0.3, "eps": 0.1},
    "group_adagrad (exact)": {"lr": 0.3, "eps": 0.1},
    "group_adam": {"lr": 0.01},
    "group_adam (exact)": {"lr": 0.01},
    "ftrl": {"lr": 0.3, "beta": 1.0},
    "rda": {"gamma": 10.0},
    "mrda": {"gamma": 10.0},
    "proxgen": {"lr": 0.01},
}

#: which paper's regret and bound each solver carries
_KIND = {"group_adagrad": "ga", "group_adam": "ga", "ftrl": "ga", "rda": "rda", "mrda": "rda", "proxgen": "pg"}

DEFAULTS = {
    "n": 32,
    "group_size": 4,
    "active_groups": 2,
    "T_min": 64,
    "T_max": 4096,
    "x0": "random",
    "init_scale": 0.5,
    "noise": 0.5,
    "scale": 1.0,
    "period": 1,
    "lam1": 0.01,
    "lam21": 0.05,
    "lam2": 0.001,
    "lam": 0.01,
    "methods": list(METHODS),
    "hyper": {},
    "quick": False,
}

#: the grid points used by the slope fit: T >= T_max / FIT_SPAN (seven doublings) ...
FIT_SPAN = 64
#: ... and by the tail slope: T >= T_max / TAIL_SPAN (the last three doublings)
TAIL_SPAN = 8
#: seeds per problem at full size
FULL_SEEDS = 5

COLUMNS = ["problem", "method", "solver", "form", "T", "regret", "regret_def", "cum_loss", "cmp_value", "cmp_kkt",
           "cmp_tol", "cmp_gap", "cmp_ok", "cmp_method", "cmp_status", "bound", "bound_printed", "bound_corrected",
           "bound_cor20", "below_printed", "below_corrected", "below_cor20", "hyp_12", "hyp_13", "hyp_Q",
           "hyp_argmin", "hyp_sigma1", "hyp_kappa", "hyp_cor1", "hyp_cor2", "hyp_w1w0", "hyp_c3iii", "hyp_stepsize",
           "G", "nnz"]


# ------------------------------------------------------------------ configs
def configs(quick):
    """The runs of the study: one per (problem, seed); every method runs in each.

    ``quick``: one seed, ``T`` from 64 to 1024 (5 grid points). Full size:
    :data:`FULL_SEEDS` seeds, ``T`` from 64 to 32768 (10 grid points).
    ``T_min = 64 = 2 n``: below ``n`` rows the least-squares comparator
    interpolates the data and the regret is just the cumulative loss.
    """
    out = []
    seeds = range(1) if quick else range(FULL_SEEDS)
    T_max = 1024 if quick else 32768
    for problem in PROBLEMS:
        for seed in seeds:
            cfg = {**DEFAULTS, "problem": problem, "seed": seed, "T_max": T_max, "quick": bool(quick)}
            cfg["methods"] = list(DEFAULTS["methods"])
            cfg["hyper"] = {}
            out.append(cfg)
    return out


def _entry_error(key, exc):
    return ValueError(f"config entry {key!r}: {exc}")


def _int(cfg, key, low):
    from ..._validation import check_int

    try:
        return check_int(key, cfg[key], low=low)
    except (TypeError, ValueError) as exc:
        raise _entry_error(key, exc) from None


def _float(cfg, key, low, low_open=False):
    from ..._validation import check_scalar

    try:
        return check_scalar(key, cfg[key], low=low, low_open=low_open)
    except (TypeError, ValueError) as exc:
        raise _entry_error(key, exc) from None


def check_config(config):
    """The configuration with defaults filled in and every entry validated.

    Raises
    ------
    ValueError
        Naming the entry: an unknown key, an unknown problem or method, a
        value of the wrong type or out of range, a ``group_size`` that does not
        divide ``n``, ``T_max < 2 T_min`` (fewer than two grid points), a
        ``hyper`` entry for a method not in ``methods``.
    """
    if not isinstance(config, dict):
        raise ValueError(f"config must be a dict, got {type(config).__name__}")
    allowed = set(DEFAULTS) | {"problem", "seed"}
    unknown = sorted(set(config) - allowed)
    if unknown:
        raise ValueError(f"config entry {unknown[0]!r} is not an entry of the regret study; "
                         f"known: {sorted(allowed)}")
    for key in ("problem", "seed"):
        if key not in config:
            raise ValueError(f"config entry {key!r} is required")
    cfg = {**DEFAULTS, **config}
    if cfg["problem"] not in PROBLEMS:
        raise ValueError(f"config entry 'problem': {cfg['problem']!r} is not one of {PROBLEMS}")
    for key, low in (("seed", 0), ("n", 2), ("group_size", 1), ("active_groups", 0), ("T_min", 1), ("T_max", 1),
                     ("period", 1)):
        cfg[key] = _int(cfg, key, low)
    for key in ("init_scale", "noise", "scale", "lam1", "lam21", "lam2", "lam"):
        cfg[key] = _float(cfg, key, 0.0)
    if cfg["n"] % cfg["group_size"]:
        raise ValueError(f"config entry 'group_size': {cfg['group_size']} does not divide n = {cfg['n']}")
    if cfg["active_groups"] > cfg["n"] // cfg["group_size"]:
        raise ValueError(f"config entry 'active_groups': {cfg['active_groups']} exceeds the number of groups "
                         f"{cfg['n'] // cfg['group_size']}")
    if cfg["problem"] == "alternating" and 2 * cfg["active_groups"] * cfg["group_size"] > cfg["n"]:
        raise ValueError("config entry 'active_groups': the alternating problem needs two disjoint supports of "
                         f"active_groups * group_size = {cfg['active_groups'] * cfg['group_size']} entries in n = "
                         f"{cfg['n']}")
    if cfg["T_max"] < 2 * cfg["T_min"]:
        raise ValueError(f"config entry 'T_max': must be >= 2 T_min = {2 * cfg['T_min']} (two grid points), "
                         f"got {cfg['T_max']}")
    if cfg["x0"] not in ("zeros", "random"):
        raise ValueError(f"config entry 'x0': must be 'zeros' or 'random', got {cfg['x0']!r}")
    if not isinstance(cfg["quick"], bool):
        raise ValueError(f"config entry 'quick': must be a bool, got {cfg['quick']!r}")
    methods = cfg["methods"]
    if isinstance(methods, str) or not isinstance(methods, (list, tuple)) or not methods:
        raise ValueError(f"config entry 'methods': must be a non-empty list of method labels, got {methods!r}")
    bad = [m for m in methods if m not in METHODS]
    if bad:
        raise ValueError(f"config entry 'methods': unknown method {bad[0]!r}; choose from {list(METHODS)}")
    if len(set(methods)) != len(methods):
        raise ValueError(f"config entry 'methods': repeated labels in {methods!r}")
    cfg["methods"] = list(methods)
    hyper = cfg["hyper"]
    if not isinstance(hyper, dict):
        raise ValueError(f"config entry 'hyper': must be a dict method -> hyperparameters, got {hyper!r}")
    for label, hp in hyper.items():
        if label not in methods:
            raise ValueError(f"config entry 'hyper': {label!r} is not one of the configured methods {methods}")
        if not isinstance(hp, dict):
            raise ValueError(f"config entry 'hyper'[{label!r}]: must be a dict, got {hp!r}")
    return cfg


def t_grid(T_min, T_max):
    """``T_min, 2 T_min, 4 T_min, ...`` up to ``T_max`` (``T_max`` always included)."""
    grid = []
    T = int(T_min)
    while T < T_max:
        grid.append(T)
        T *= 2
    grid.append(int(T_max))
    return grid


# ------------------------------------------------------------------ problems and methods
def make_problem(cfg):
    """The problem of a (validated) configuration; returns ``(problem, groups)``."""
    from ...groups import Groups
    from .. import problems as P

    n, gs, T = cfg["n"], cfg["group_size"], cfg["T_max"]
    common = {"x0": cfg["x0"], "init_scale": cfg["init_scale"], "seed": cfg["seed"]}
    if cfg["problem"] == "ls_group":
        p = P.online_least_squares(n, T, truth="group", group_size=gs, active_groups=cfg["active_groups"],
                                   noise=cfg["noise"], **common)
    elif cfg["problem"] == "logistic_group":
        p = P.online_logistic(n, T, truth="group", group_size=gs, active_groups=cfg["active_groups"],
                              scale=cfg["scale"], **common)
    else:
        p = P.alternating(n, T, kind="least_squares", period=cfg["period"], s=cfg["active_groups"] * gs,
                          noise=cfg["noise"], **common)
    return p, Groups(n, gs)


def make_method(label, cfg, groups):
    """The algorithm of ``label`` with the configuration's regularization and
    step sizes (:data:`HYPER` updated by ``cfg["hyper"][label]``)."""
    from ... import solvers

    solver, form = METHODS[label]
    hp = {**HYPER[label], **cfg["hyper"].get(label, {})}
    try:
        if solver.startswith("group_"):
            return solvers.get(solver, lam1=cfg["lam1"], lam21=cfg["lam21"], lam2=cfg["lam2"], n=groups.n,
                               groups=groups, form=form, **hp)
        if solver == "ftrl":
            # McMahan's (lam2/2)||x||^2 = GA's lambda_2 ||x||^2 (GA-T2 mapping)
            return solvers.get("ftrl", lam1=cfg["lam1"], lam2=2.0 * cfg["lam2"], **hp)
        return solvers.get(solver, regularizer=("l1", {"lam": cfg["lam"]}), **hp)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"config entry 'hyper'[{label!r}]: {exc}") from None


# ------------------------------------------------------------------ the task
def task(config):
    """One run: every method of ``config`` on its problem; tidy rows, one per
    (method, ``T`` of the grid). Columns: :data:`COLUMNS` (see the module
    docstring); the configuration's entries are added by the sweep runner."""
    import pandas as pd

    from ...theory import comparators as C

    cfg = check_config(config)
    problem, groups = make_problem(cfg)
    grid = t_grid(cfg["T_min"], cfg["T_max"])
    kinds = {_KIND[METHODS[m][0]] for m in cfg["methods"]}
    reg = None
    cmp_rda = {}
    with warnings.catch_warnings():
        # Clarabel's "Solution may be inaccurate" (status optimal_inaccurate) is not hidden: the status is
        # stored in cmp_status and the point is polished and judged by its own KKT certificate (cmp_ok)
        warnings.filterwarnings("ignore", message="Solution may be inaccurate", category=UserWarning)
        cmp_ga = {T: C.ga_comparator(problem, T) for T in grid} if "ga" in kinds else {}
        if kinds & {"rda", "pg"}:
            from ...solvers._base import resolve_regularizer

            reg = resolve_regularizer(("l1", {"lam": cfg["lam"]}))
            cmp_rda = {T: C.rda_comparator(problem, T, reg) for T in grid}
    rows = []
    for label in cfg["methods"]:
        alg = make_method(label, cfg, groups)
        rows.extend(method_rows(label, alg, problem, grid, cmp_ga, cmp_rda, reg, cfg))
    out = pd.DataFrame(rows, columns=COLUMNS)
    out["problem"] = cfg["problem"]
    out["seed"] = cfg["seed"]
    return out


def _cert(cmp):
    return {"cmp_value": float(cmp.value), "cmp_kkt": float(cmp.kkt_residual), "cmp_tol": float(cmp.tolerance),
            "cmp_gap": float(cmp.duality_gap), "cmp_ok": bool(cmp.ok), "cmp_method": str(cmp.method),
            "cmp_status": str(cmp.status)}


def _frac(report):
    return float(report.fraction)


def method_rows(label, alg, problem, grid, cmp_ga, cmp_rda, reg, cfg):
    r"""The rows of one method: regret, bounds and monitors at every ``T`` of ``grid``.

    Parameters
    ----------
    label : str
        Method label (:data:`METHODS`).
    alg : Algorithm
        The algorithm (fresh).
    problem : Problem
        An online problem with a loss oracle and ``meta`` rows (for the comparators).
    grid : list of int
        The ``T`` values; the run has ``max(grid)`` steps.
    cmp_ga, cmp_rda : dict T -> ComparatorResult
        Comparators of GA eq (7) and mrda.txt eq (48) (only the one the method needs).
    reg : Regularizer or None
        :math:`\Psi` of RDA/MRDA/ProxGen.
    cfg : dict
        The validated configuration (``lam1, lam21, lam2``).

    Returns
    -------
    list of dict
        One row per ``T``; keys :data:`COLUMNS` (``problem`` left None).
    """
    from ...theory import bounds as B
    from ...theory import monitors as M
    from ...theory import trace as TR
    from ...theory.comparators import rda_regret

    solver, form = METHODS[label]
    kind = _KIND[solver]
    T_max = max(grid)
    tr = TR.record(alg, problem, T_max)
    cum = np.cumsum(tr.loss)
    gmax = np.maximum.accumulate(np.max(np.abs(tr.g), axis=1))
    # the iterate after step T is x_{T+1}: row T of x, or x_final after the last step
    after = np.vstack([tr.x[1:], tr.x_final[None, :]])
    rows = []
    base = {"problem": None, "method": label, "solver": solver, "form": form or ""}
    if kind == "ga":
        if solver == "ftrl":
            hp = alg.hyper
            q = {"x": tr.x, "g": tr.g, "m": tr.g, "sigma": (alg.beta + np.sqrt(tr.fields["n"])) / hp["lr"],
                 "gamma": 0.0, "form13": True, "exact_argmin": True}
        else:
            q = TR.ga_quantities(alg, tr)
        gamma = q["gamma"] if np.isfinite(q["gamma"]) else None
        eta = alg.hyper.get("beta2", 1.0) if solver != "ftrl" else 1.0
        sigma1_ok = float(np.all(q["sigma"][0] >= 1.0))
        for T in grid:
            cmp = cmp_ga[T]
            R = float(cum[T - 1] - cmp.value)
            psi = _ga_psi(alg, solver, form, q, cmp.x, T, cfg)
            bp = B.ga_theorem3(cmp.x, q["x"][:T], q["m"][:T], q["sigma"][:T], psi, R, form="printed")
            bc = B.ga_theorem3(cmp.x, q["x"][:T], q["m"][:T], q["sigma"][:T], psi, R, form="corrected")
            row = {**base, "T": T, "regret": R, "regret_def": "GA eq (7)", "cum_loss": float(cum[T - 1]),
                   **_cert(cmp), "bound": "GA eq (14)", "bound_printed": float(bp.bound),
                   "bound_corrected": float(bc.bound), "below_printed": bool(bp.holds),
                   "below_corrected": bool(bc.holds),
                   "hyp_12": _frac(M.ga_condition_12(q["m"][:T], q["x"][:T], cmp.x)),
                   "hyp_13": _frac(M.ga_momentum_form_13(q["g"][:T], q["m"][:T], gamma=gamma)),
                   "hyp_Q": _frac(M.ga_monotone_metric(q["sigma"][:T])),
                   "hyp_argmin": float(bool(q["exact_argmin"])), "hyp_sigma1": sigma1_ok,
                   "hyp_kappa": (1.0 if eta == 1.0 else
                                 _frac(M.ga_kappa_condition(gs=q["g"][:T], eta=eta,
                                                            gamma=alg.hyper.get("beta1", 0.0)))),
                   "G": float(gmax[T - 1]), "nnz": int(np.count_nonzero(after[T - 1]))}
            if solver == "group_adagrad":
                hp = alg.hyper
                Vs = hp["eps"] + np.cumsum(q["g"][:T] ** 2, axis=0)
                c20 = B.ga_corollary_from_run(q["x"][:T], q["g"][:T], cmp.x, hp["lr"], 0.0, hp["lam1"],
                                              hp["lam21"], hp["lam2"], regret=R, delta=math.sqrt(hp["eps"]), Vs=Vs)
                row["bound_cor20"] = float(c20.bound)
                row["below_cor20"] = bool(c20.holds)
                row["hyp_cor1"] = float(c20.hypotheses["G <= delta (Cor. 1)"])
                row["hyp_cor2"] = float(c20.hypotheses["t G^2 >= V_t (Cor. 2)"])
            rows.append(row)
    elif kind == "rda":
        q = TR.dual_averaging_quantities(alg, tr)
        psi_vals = np.array([reg.value(x) for x in tr.x])
        w1w0 = float(np.array_equal(q["w"][0], q["w0"]))
        for T in grid:
            cmp = cmp_rda[T]
            R = rda_regret(tr.loss, psi_vals, cmp, T)
            lp = B.mrda_lemma74(q["w"][:T], q["g"][:T], cmp.x, reg, q["betas"][:T], None, w0=q["w0"],
                                form="printed")
            lc = B.mrda_lemma74(q["w"][:T], q["g"][:T], cmp.x, reg, q["betas"][:T], None, w0=q["w0"],
                                form="corrected")
            bp, bc = float(lp.bound[-1]), float(lc.bound[-1])
            rows.append({**base, "T": T, "regret": R, "regret_def": "MRDA eq (48)",
                         "cum_loss": float(cum[T - 1] + psi_vals[:T].sum()), **_cert(cmp), "bound": "MRDA eq (49)",
                         "bound_printed": bp, "bound_corrected": bc, "below_printed": bool(R <= bp),
                         "below_corrected": bool(R <= bc), "hyp_w1w0": w1w0, "G": float(gmax[T - 1]),
                         "nnz": int(np.count_nonzero(after[T - 1]))})
    else:  # ProxGen: regret (48), no bound
        from ..problems import average_objective

        q = TR.proxgen_quantities(alg, tr)
        psi_vals = np.array([reg.value(x) for x in tr.x])
        L = average_objective(problem).lipschitz()
        for T in grid:
            cmp = cmp_rda[T]
            R = rda_regret(tr.loss, psi_vals, cmp, T)
            c3 = M.proxgen_c3(q["steps"][:T], q["g"][:T], q["rho"][:T])
            rows.append({**base, "T": T, "regret": R, "regret_def": "MRDA eq (48)",
                         "cum_loss": float(cum[T - 1] + psi_vals[:T].sum()), **_cert(cmp), "bound": "none",
                         "hyp_c3iii": _frac(c3["C-3(iii)"]),
                         "hyp_stepsize": _frac(M.proxgen_stepsize(q["alpha"][:T], q["delta"], L)),
                         "G": float(gmax[T - 1]), "nnz": int(np.count_nonzero(after[T - 1]))})
    return rows


def _ga_psi(alg, solver, form, q, x_star, T, cfg):
    r""":math:`\Psi_T(x^*)` of GA eq (5) with the run's :math:`A_T` (exact form:
    :math:`A_T = (\Sigma_T + 2\lambda_2)/2`; the practical form's subproblem has
    :math:`A_t = I`); FTRL: :math:`\lambda_1\|x\|_1 + (\lambda_2^{\rm FTRL}/2)\|x\|^2`."""
    from ...theory import bounds as B

    hp = alg.hyper
    if solver == "ftrl":
        return B.ga_psi(x_star, hp["lam1"], 0.0, 0.5 * hp["lam2"])
    A = 0.5 * (q["sigma"][T - 1] + 2.0 * hp["lam2"]) if form == "exact" else None
    return B.ga_psi(x_star, hp["lam1"], hp["lam21"], hp["lam2"], alg.groups, A)


# ------------------------------------------------------------------ analysis
def fit_slopes(table, column="regret", span=FIT_SPAN):
    """Least-squares slope of ``log column`` against ``log T`` per (problem, seed, method).

    Uses the rows with ``T >= T_max / span`` (``T_max`` of that run), a
    certified comparator (``cmp_ok``), and a positive finite value; NaN with
    fewer than 3 such points.

    Returns
    -------
    pandas.DataFrame
        ``problem, seed, method, slope, points``.
    """
    import pandas as pd

    out = []
    for (problem, seed, method), g in table.groupby(["problem", "seed", "method"], sort=False):
        T_max = g["T"].max()
        v = g[column].to_numpy(dtype=float)
        use = (g["T"].to_numpy() >= T_max / span) & g["cmp_ok"].to_numpy(dtype=bool) & np.isfinite(v) & (v > 0)
        if use.sum() >= 3:
            x = np.log(g["T"].to_numpy(dtype=float)[use])
            y = np.log(v[use])
            slope = float(np.polyfit(x, y, 1)[0])
        else:
            slope = math.nan
        out.append({"problem": problem, "seed": seed, "method": method, "slope": slope, "points": int(use.sum())})
    return pd.DataFrame(out, columns=["problem", "seed", "method", "slope", "points"])


def _flag(rows, bound_col, below_col):
    """``"yes (k/k)"``, ``"no (j/k)"`` over rows with a certified comparator and a bound; ``"-"`` without."""
    use = rows[rows["cmp_ok"].astype(bool) & rows[bound_col].notna()]
    if use.empty:
        return "-"
    k = int(use[below_col].astype(bool).sum())
    return f"{'yes' if k == len(use) else 'no'} ({k}/{len(use)})"


_HYP_LABELS = [("hyp_12", "(12)"), ("hyp_13", "(13)"), ("hyp_Q", "Q>=0"), ("hyp_argmin", "argmin"),
               ("hyp_sigma1", "S1>=I"), ("hyp_kappa", "kappa"), ("hyp_cor1", "G<=delta"), ("hyp_cor2", "tG2>=V"),
               ("hyp_w1w0", "w1=w0"), ("hyp_c3iii", "C-3iii"),
               ("hyp_stepsize", "a<=d/3L")]


def summarize(table):
    """One row per (problem, method).

    Columns: ``problem, method, bound`` (which one, or ``none``),
    ``below_printed``, ``below_corrected``, ``below_cor20`` (``"yes (k/k)"`` when
    :math:`\\mathcal R_T \\le` bound at every grid ``T`` of every seed with a
    certified comparator, ``"no (j/k)"`` otherwise, ``"-"`` without that bound),
    ``slope`` (median over seeds of :func:`fit_slopes`, ``T >= T_max/64``),
    ``slope_range`` (min..max over seeds), ``slope_tail`` (the same on the last
    three doublings, ``T >= T_max/8``: where the growth is heading),
    ``bound_slope`` (the same fit on the corrected bound),
    ``R_Tmax`` (median regret at the largest ``T``), ``hypotheses`` (mean over
    seeds, at the largest ``T``, of the fraction of steps each monitor held),
    ``cmp_uncertified`` (grid points whose comparator is not certified).
    """
    import pandas as pd

    slopes = fit_slopes(table)
    tails = fit_slopes(table, span=TAIL_SPAN)
    bslopes = fit_slopes(table, "bound_corrected")
    rows = []
    for (problem, method), g in table.groupby(["problem", "method"], sort=False):
        s = slopes[(slopes.problem == problem) & (slopes.method == method)]["slope"].dropna()
        ts = tails[(tails.problem == problem) & (tails.method == method)]["slope"].dropna()
        bs = bslopes[(bslopes.problem == problem) & (bslopes.method == method)]["slope"].dropna()
        last = g[g["T"] == g.groupby("seed")["T"].transform("max")]
        hyp = []
        for col, name in _HYP_LABELS:
            vals = last[col].dropna()
            if len(vals):
                hyp.append(f"{name} {vals.mean():.2f}")
        bound = g["bound"].iloc[0]
        rows.append({
            "problem": problem, "method": method, "bound": bound,
            "below_printed": _flag(g, "bound_printed", "below_printed"),
            "below_corrected": _flag(g, "bound_corrected", "below_corrected"),
            "below_cor20": _flag(g, "bound_cor20", "below_cor20"),
            "slope": float(s.median()) if len(s) else math.nan,
            "slope_range": f"{s.min():.2f}..{s.max():.2f}" if len(s) else "-",
            "slope_tail": float(ts.median()) if len(ts) else math.nan,
            "bound_slope": float(bs.median()) if len(bs) else math.nan,
            "R_Tmax": float(last["regret"].median()),
            "hypotheses": ", ".join(hyp) if hyp else "-",
            "cmp_uncertified": int((~g["cmp_ok"].astype(bool)).sum()),
        })
    return pd.DataFrame(rows)


def figure(table):
    """The study's figure (:func:`proxlab.figures.regret.regret_figure`)."""
    from ...figures.regret import regret_figure

    return regret_figure(table)
