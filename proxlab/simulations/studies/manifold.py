r"""Study ``manifold``: active-set traces of regularized adaptive methods on
group-lasso logistic regression (ramda.txt Thm 3 and App. D).

**Claim.** ramda.txt Theorem 3: under partial smoothness, prox-regularity and
the nondegeneracy condition :math:`-\nabla f(\bar W) \in \mathrm{ri}\,\partial\psi(\bar W)`,
almost surely there is a finite :math:`T_0` with :math:`\hat W_t \in \mathcal M_{\bar W}`
for every :math:`t \ge T_0`: RAMDA's *prox point* :math:`\hat W_t` (eq (4)) finds the
active manifold of its limit and stays on it. For the group lasso
:math:`\psi(W) = \lambda\sum_g w_g\|W_g\|` the manifold is fixed by the set of non-zero
groups. App. D (and Table 7's remark that ProxSGD, ProxSSI and ProxGen are
"highly unstable over iterations" on logistic regression) says that the
structure of ProxSGD/ProxGen/ProxSSI keeps oscillating.

**What is run.** For each problem and method, one run of ``epochs`` passes with
minibatches, the group lasso with strength ``lam``, from the origin (as
ramda.txt App. C's logistic regression). Snapshots of the *iterate* and of the
*prox point* are taken at the start and after every ``T // records``-th step
(``T`` the number of steps; about ``records`` snapshots): for RAMDA/RMDA the iterate
is the averaged :math:`W_t` of (5) (not exactly sparse once a group was
active), for Yang et al.'s ProxSGD the iterate is :math:`x_t` of proxgen.txt (6)
and the prox point :math:`\hat x_t` of (5); for ProxGen and ProxSSI they
coincide. Every snapshot's group active set (exact zeros, ``tol = 0``) is
compared with

* the **optimal** active set: the groups that are non-zero at the certified
  minimizer :math:`x^*` of :math:`F = f + \psi` (``f`` the training-set average,
  :func:`proxlab.theory.comparators.reference_optimum`, KKT residual stored);
* the **final** active set (the last snapshot of the same run), whose
  :func:`~proxlab.theory.manifold.identification_index` is the empirical
  :math:`T_0`.

The nondegeneracy of :math:`x^*` is measured, per group, by
:math:`\rho_g = \|\nabla_g f(x^*)\| / (\lambda w_g)` for the zero groups (< 1 is the
relative-interior condition; near 1 is nearly degenerate) and by
:math:`\|x^*_g\|/\sqrt{|g|}` for the non-zero ones (near 0: a group that barely
entered). Real data are nearly degenerate at every ``lam`` (a group enters the
regularization path close to any ``lam``), which is why a finite run can
stabilize on a set one or two groups away from the optimal one.

**Problems.** ``synthetic``: binary logistic regression with a group-sparse
truth (:func:`proxlab.simulations.problems.stochastic_logistic`, ``n = 100``,
20 groups of 5, 4 active); ``digits``: scikit-learn's digits, softmax with
input-wise groups (:func:`~proxlab.simulations.problems.digits_group_logistic`);
``mnist1d``: MNIST-1D, same layout
(:func:`~proxlab.simulations.problems.mnist1d_group_logistic`).

**Methods** (ramda.txt Sec 6's list): ``ramda`` (Alg. 1, exact subproblem),
``rmda`` (Huang & Lee 2022), ``proxgen`` (proxgen.txt Alg. 1, ProxAdam),
``prox_sgd_yang`` (Yang et al. 2020 = ramda.txt's ProxSGD [49]), ``proxssi``
(Deleu & Bengio 2021, Newton subproblem solver, public-code metric
``metric_bias_correction=0``). ProxSSI's Newton solver runs on the Python path
(:func:`proxlab.solvers.run.run` compiles the exact prox instead, see
``_trajectory``).

Table (one row per run, point and snapshot): ``problem, method, seed, point
("iterate" / "prox_point"), record, step, epoch, n_active, n_groups, switched``
(groups that changed since the previous snapshot), ``changed``, ``dist_opt``
(Hamming distance to the optimal active set), ``dist_final``, ``gap``
(:math:`F(x) - F^*`), and per-run constants: ``lam, F_star, ref_kkt, ref_ok,
opt_active, nondeg_ratio_max`` (largest :math:`\rho_g` over zero groups),
``active_norm_min``, ``spurious_window`` (distinct groups that are clearly
zero at :math:`x^*`, :math:`\rho_g \le 0.9`, yet active somewhere in the last
``window`` snapshots), ``flipping_window`` (distinct groups that changed inside
the window), ``window``.
"""

from __future__ import annotations

import functools
import math
import numbers

import numpy as np

NAME = "manifold"
DESCRIPTION = ("group active sets of the iterate and the prox point over a run (RAMDA, RMDA, ProxGen, ProxSGD, "
               "ProxSSI) on group-lasso logistic regression: identification time, changes, distance to the optimum's")
CLAIMS = ("ramda.txt Thm 3: after a finite T0 RAMDA's prox point W_hat_t (eq (4)) stays on the active manifold of its "
          "limit; App. D / App. C: the structured sparsity of ProxSGD, ProxGen and ProxSSI keeps oscillating")

METHODS = ("ramda", "rmda", "proxgen", "prox_sgd_yang", "proxssi")
PROBLEMS = ("synthetic", "digits", "mnist1d")
POINTS = ("iterate", "prox_point")
#: a zero group of x* with rho_g <= this is "clearly zero" (spurious if it is active late in a run)
CLEAR_ZERO = 0.9

#: problem -> (lam, batch_size, epochs for the full study); lam chosen on the certified regularization path
#: so that the optimum keeps roughly 2/3 of the groups (digits, mnist1d) or exactly the truth's 4 groups
#: (synthetic), at a point of the path with a comparatively large nondegeneracy margin (see docs/studies/manifold.md)
PROBLEM_DEFAULTS = {
    "synthetic": {"lam": 0.015, "batch_size": 32, "epochs": 100},
    "digits": {"lam": 0.00465, "batch_size": 32, "epochs": 400},
    "mnist1d": {"lam": 0.005, "batch_size": 64, "epochs": 200},
}
#: method -> hyperparameters (the same for every problem); learning rates picked on a pilot run (seed 99) from
#: small grids ({0.003, 0.01, 0.03, 0.1} RAMDA, {0.1, 0.3} RMDA, {1e-3, 1e-2} ProxGen) by the final objective
HYPER = {
    "ramda": {"lr": 0.003, "c": 0.1},
    "rmda": {"lr": 0.1, "c": 0.1},
    "proxgen": {"lr": 1e-3},
    "prox_sgd_yang": {},
    "proxssi": {"lr": 1e-3, "metric_bias_correction": 0},
}
_KEYS = {"study", "size", "problem", "method", "seed", "lam", "batch_size", "epochs", "records", "window", "hyper"}


# ----------------------------------------------------------------- configurations
def configs(quick):
    """One configuration per (problem, method, seed).

    Parameters
    ----------
    quick : bool
        CI size: one seed, 1/20 of the epochs (synthetic: 1/5), 100 snapshots;
        full size: seeds 0, 1, 2 and :data:`PROBLEM_DEFAULTS`' epochs, 200 snapshots.

    Returns
    -------
    list of dict
        Keys ``study, size, problem, method, seed, lam, batch_size, epochs,
        records, window, hyper``.
    """
    seeds = (0,) if quick else (0, 1, 2)
    out = []
    for problem in PROBLEMS:
        d = PROBLEM_DEFAULTS[problem]
        epochs = d["epochs"] if not quick else max(5, d["epochs"] // (5 if problem == "synthetic" else 20))
        records = 100 if quick else 200
        for method in METHODS:
            for seed in seeds:
                out.append({"study": NAME, "size": "quick" if quick else "full", "problem": problem,
                            "method": method, "seed": seed, "lam": d["lam"], "batch_size": d["batch_size"],
                            "epochs": epochs, "records": records, "window": records // 4,
                            "hyper": dict(HYPER[method])})
    return out


def _int(config, key, low):
    v = config[key]
    if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < low:
        raise ValueError(f"config[{key!r}] must be an integer >= {low}, got {v!r}")
    return int(v)


def check_config(config):
    """Validate one configuration; returns it normalized.

    Raises
    ------
    ValueError
        Naming the offending entry: a missing or unknown key, an unknown
        ``problem``/``method``, a non-positive ``lam``, ``epochs``,
        ``batch_size``, ``records < 2``, a ``window`` outside ``[1, records]``,
        a ``hyper`` that is not a dict.
    """
    if not isinstance(config, dict):
        raise ValueError(f"config must be a dict, got {type(config).__name__}")
    missing = sorted(_KEYS - set(config) - {"study", "size"})
    if missing:
        raise ValueError(f"config is missing {missing}")
    unknown = sorted(set(config) - _KEYS)
    if unknown:
        raise ValueError(f"config has unknown entries {unknown}")
    if config["problem"] not in PROBLEMS:
        raise ValueError(f"config['problem'] must be one of {PROBLEMS}, got {config['problem']!r}")
    if config["method"] not in METHODS:
        raise ValueError(f"config['method'] must be one of {METHODS}, got {config['method']!r}")
    lam = config["lam"]
    if isinstance(lam, bool) or not isinstance(lam, numbers.Real) or not (math.isfinite(lam) and lam > 0):
        raise ValueError(f"config['lam'] must be a finite number > 0, got {lam!r}")
    out = dict(config)
    out["seed"] = _int(config, "seed", 0)
    out["batch_size"] = _int(config, "batch_size", 1)
    out["epochs"] = _int(config, "epochs", 1)
    out["records"] = _int(config, "records", 2)
    out["window"] = _int(config, "window", 1)
    if out["window"] > out["records"]:
        raise ValueError(f"config['window'] must be <= config['records'] = {out['records']}, got {out['window']}")
    if not isinstance(config["hyper"], dict):
        raise ValueError(f"config['hyper'] must be a dict of hyperparameters, got {config['hyper']!r}")
    out["lam"] = float(lam)
    return out


# ----------------------------------------------------------------- problem and reference
def build_problem(problem, seed, batch_size, epochs):
    """The seeded problem of a configuration (see the module docstring)."""
    from .. import problems as P

    if problem == "synthetic":
        m = 2000
        steps = epochs * -(-m // batch_size)
        return P.stochastic_logistic(n=100, m=m, steps=steps, batch_size=batch_size, sampling="epoch",
                                     truth="group", group_size=5, active_groups=4, scale=2.0, seed=seed)
    if problem == "digits":
        return P.digits_group_logistic(batch_size=batch_size, epochs=epochs, seed=seed)
    if problem == "mnist1d":
        return P.mnist1d_group_logistic(batch_size=batch_size, epochs=epochs, seed=seed)
    raise ValueError(f"problem must be one of {PROBLEMS}, got {problem!r}")


def _regularizer(prob, lam):
    from ... import regularizers

    return regularizers.get("group_l2", lam=lam, n=prob.x0.size, groups=prob.meta["groups"])


@functools.lru_cache(maxsize=8)
def reference(problem, seed, lam):
    r"""The certified minimizer of :math:`F = f + \lambda\sum_g w_g\|x_g\|` and its nondegeneracy.

    Cached per process (the data of a problem depend on ``(problem, seed)`` only,
    not on the batch table). Returns a dict with ``x``, ``F_star``, ``kkt``,
    ``ok``, ``active`` (bool per group), ``ratio`` (:math:`\rho_g` for zero groups,
    NaN for non-zero ones) and ``active_norm`` (:math:`\|x^*_g\|/\sqrt{|g|}`, NaN for
    zero groups).
    """
    from ...theory.comparators import reference_optimum
    from ..problems import average_objective

    prob = build_problem(problem, seed, 1, 1)
    reg = _regularizer(prob, lam)
    G = prob.meta["groups"]
    res = reference_optimum(prob, reg, method="fista", tol=1e-10, max_iter=200_000)
    f = average_objective(prob)
    norms = G.norms(res.x)
    act = norms > 0
    gn = G.norms(f.grad(res.x))
    ratio = np.where(act, np.nan, gn / (lam * G.weights))
    anorm = np.where(act, norms / np.sqrt(G.sizes), np.nan)
    return {"x": res.x, "F_star": res.value, "kkt": res.kkt_residual, "ok": res.ok, "active": act,
            "ratio": ratio, "active_norm": anorm}


def _trajectory(alg, prob, T, every):
    """Snapshots ``(steps, X, P)`` of the iterate and the prox point after every
    ``every``-th step, the start (step 0) first.

    The compiled loop of :func:`proxlab.solvers.run.run` runs the fused exact
    kernel; an algorithm configured with a Python-level subproblem solver
    (ProxSSI's Newton, RAMDA's PG) is driven here step by step through
    ``alg.step`` so that the configured solver is the one that runs.
    """
    from ... import solvers

    uses_python = getattr(alg, "_python_solver", None)
    state = alg.init(prob.x0)
    X0 = state["x"].astype(np.float64).copy()
    P0 = np.asarray(alg.prox_point(state), dtype=np.float64).copy()
    if uses_python is None or not uses_python():
        tr = solvers.run(alg, prob, T, record=("x", "prox_point"), every=every, state=state)
        steps, X, P = tr.steps, tr.records["x"], tr.records["prox_point"]
    else:
        K = T // every
        X = np.empty((K, X0.size))
        P = np.empty((K, X0.size))
        g = np.empty_like(state["x"])
        k = 0
        for t in range(1, T + 1):
            prob.grad(state["x"], t, prob.data, g)
            alg.step(state, g)
            if t % every == 0:
                X[k] = state["x"]
                P[k] = alg.prox_point(state)
                k += 1
        steps = every * np.arange(1, K + 1)
    return (np.concatenate([[0], steps]).astype(np.int64), np.vstack([X0, X]).astype(np.float64),
            np.vstack([P0, P]).astype(np.float64))


# ----------------------------------------------------------------- the task
def task(config):
    """One run: snapshots of both points, their group active sets and distances.

    Parameters
    ----------
    config : dict
        See :func:`configs`; validated by :func:`check_config`.

    Returns
    -------
    pandas.DataFrame
        Columns listed in the module docstring; ``2 (T // (T // records) + 1)`` rows (``T`` the number of steps).
    """
    import pandas as pd

    from ... import solvers
    from ...theory import manifold as M
    from ..problems import average_objective

    cfg = check_config(config)
    prob = build_problem(cfg["problem"], cfg["seed"], cfg["batch_size"], cfg["epochs"])
    reg = _regularizer(prob, cfg["lam"])
    G = prob.meta["groups"]
    ref = reference(cfg["problem"], cfg["seed"], cfg["lam"])
    try:
        alg = solvers.get(cfg["method"], regularizer=reg, **cfg["hyper"])
    except TypeError as exc:
        raise ValueError(f"config['hyper']: {exc}") from None
    T = int(prob.meta["steps"])
    every = max(1, T // cfg["records"])
    steps, X, P = _trajectory(alg, prob, T, every)
    f = average_objective(prob)
    steps_per_epoch = T / cfg["epochs"]
    W = cfg["window"]
    clear_zero = (~ref["active"]) & (np.nan_to_num(ref["ratio"], nan=2.0) <= CLEAR_ZERO)
    frames = []
    for point, Y in (("iterate", X), ("prox_point", P)):
        S = M.active_set(Y, G)
        switched = np.concatenate([[0], np.count_nonzero(S[1:] != S[:-1], axis=1)])
        gap = np.array([f.value(y) + reg.value(y) for y in Y]) - ref["F_star"]
        seg = S[-(W + 1):]  # the window's W snapshots and the one before it
        flipping = np.any(seg[1:] != seg[:-1], axis=0)
        spurious = np.any(S[-W:][:, clear_zero], axis=0)
        frames.append(pd.DataFrame({
            "problem": cfg["problem"], "method": cfg["method"], "seed": cfg["seed"], "point": point,
            "record": np.arange(S.shape[0]), "step": steps, "epoch": steps / steps_per_epoch,
            "n_active": S.sum(axis=1).astype(np.int64), "n_groups": G.n_groups,
            "switched": switched.astype(np.int64), "changed": switched > 0,
            "dist_opt": np.count_nonzero(S != ref["active"][None, :], axis=1).astype(np.int64),
            "dist_final": M.distance_to_final(S).astype(np.int64), "gap": gap,
            "lam": cfg["lam"], "F_star": ref["F_star"], "ref_kkt": ref["kkt"], "ref_ok": bool(ref["ok"]),
            "opt_active": int(ref["active"].sum()),
            "nondeg_ratio_max": float(np.nanmax(ref["ratio"])) if (~ref["active"]).any() else math.nan,
            "active_norm_min": float(np.nanmin(ref["active_norm"])) if ref["active"].any() else math.nan,
            "spurious_window": int(spurious.sum()), "flipping_window": int(np.count_nonzero(flipping)),
            "window": W,
        }))
    return pd.concat(frames, ignore_index=True)


# ----------------------------------------------------------------- analysis
def run_measures(rows):
    """Identification measures of one (run, point) from its rows of the table.

    Returns a dict: ``stabilized`` (no active-set change in the last ``window``
    snapshots), ``T0`` (step from which the active set equals the run's final
    one, :func:`~proxlab.theory.manifold.identification_index`; NaN when not
    stabilized), ``T_opt`` (step from which it equals the optimal set; NaN if the
    final set differs), ``first_hit_opt`` (first step with the optimal set, NaN if
    never), ``changes`` and ``flips`` in the window, ``dist_opt`` (final),
    ``n_active`` (final), ``gap`` (final).
    """
    r = rows.sort_values("record")
    W = int(r["window"].iloc[0])
    sw = r["switched"].to_numpy()
    steps = r["step"].to_numpy()
    changes = int(np.count_nonzero(sw[-W:]))
    stabilized = changes == 0
    nz = np.flatnonzero(sw)
    T0 = float(steps[nz[-1]]) if nz.size else 0.0
    d = r["dist_opt"].to_numpy()
    bad = np.flatnonzero(d != 0)
    T_opt = math.nan if d[-1] != 0 else (float(steps[bad[-1] + 1]) if bad.size else 0.0)
    hit = np.flatnonzero(d == 0)
    return {"stabilized": bool(stabilized), "T0": T0 if stabilized else math.nan, "T_opt": T_opt,
            "first_hit_opt": float(steps[hit[0]]) if hit.size else math.nan, "changes": changes,
            "flips": int(sw[-W:].sum()), "dist_opt": int(d[-1]), "n_active": int(r["n_active"].iloc[-1]),
            "gap": float(r["gap"].iloc[-1]), "spurious": int(r["spurious_window"].iloc[0]),
            "steps": int(steps[-1])}


def summarize(table):
    """Per problem and method (over seeds): did the prox point's active set stabilize, and when.

    Columns: ``problem, method, stable`` ("k/n" seeds with no change in the last
    ``window`` snapshots), ``T0`` (largest identification step over the seeds, "-"
    if one did not stabilize), ``on_opt`` ("k/n" seeds whose final set is the
    optimal one), ``T_opt`` (largest step from which the set equals the optimal
    one, when every seed ended stable on it; "-" otherwise), ``changes``,
    ``flips`` (in the window, mean over seeds), ``spurious``
    (clearly-zero groups of x* active in the window, mean), ``act`` (final
    active groups / optimal), ``iter_act`` (final active groups of the iterate:
    exact zeros only; for averaging methods larger than the prox point's),
    ``gap`` (final F - F*, median), ``steps``.
    """
    import pandas as pd

    rows = []
    for (problem, method), sub in table.groupby(["problem", "method"], sort=False):
        meas = [run_measures(g) for _, g in sub[sub["point"] == "prox_point"].groupby("seed")]
        it = [run_measures(g) for _, g in sub[sub["point"] == "iterate"].groupby("seed")]
        n = len(meas)
        stable = sum(m["stabilized"] for m in meas)
        on_opt = sum(m["stabilized"] and m["dist_opt"] == 0 for m in meas)
        T0 = max(m["T0"] for m in meas) if stable == n else math.nan
        T_opt = max(m["T_opt"] for m in meas) if on_opt == n else math.nan
        opt = int(sub["opt_active"].iloc[0])
        rows.append({
            "problem": problem, "method": method, "stable": f"{stable}/{n}",
            "T0": "-" if not np.isfinite(T0) else int(T0), "on_opt": f"{on_opt}/{n}",
            "T_opt": "-" if not np.isfinite(T_opt) else int(T_opt),
            "changes": float(np.mean([m["changes"] for m in meas])),
            "flips": float(np.mean([m["flips"] for m in meas])),
            "spurious": float(np.mean([m["spurious"] for m in meas])),
            "act": f"{meas[0]['n_active']}/{opt}", "iter_act": it[0]["n_active"],
            "gap": float(np.median([m["gap"] for m in meas])), "steps": meas[0]["steps"],
        })
    order = {p: i for i, p in enumerate(PROBLEMS)}
    morder = {m: i for i, m in enumerate(METHODS)}
    out = pd.DataFrame(rows)
    if len(out):
        out = out.sort_values(["problem", "method"], key=lambda s: s.map(order) if s.name == "problem"
                              else s.map(morder), ignore_index=True)
    return out


def figure(table):
    """The figure of :mod:`proxlab.figures.manifold`."""
    from ...figures.manifold import manifold_figure

    return manifold_figure(table)
