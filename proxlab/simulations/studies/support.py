r"""Study ``support``: Lasso support recovery by stochastic proximal methods
and by the exact Lasso (proxgen.txt Sec 5, Study 1, and a phase transition).

The problem (:func:`proxlab.simulations.problems.lasso_gaussian`)
===================================================================
:math:`y = X\theta^\natural + \sigma\varepsilon`, :math:`X_{ij} \sim N(0, 1)`,
:math:`\theta^\natural` with ``s`` entries :math:`\pm\beta_{\min}` on a random
support, and

.. math::

    F(\theta) = \frac1{2n}\|X\theta - y\|_2^2 + \lambda\|\theta\|_1,\qquad
    \lambda = c_\lambda\cdot 2\sigma\sqrt{2\log p / n}

(``lam_scale`` :math:`= c_\lambda`, default 1: the usual theory choice). Every
stochastic method sees minibatches of ``batch_size`` rows, epoch by epoch;
every method uses the same :math:`\lambda\|\cdot\|_1`.

Methods
=======
``prox_sgd (x)``, ``prox_sgd (x_hat)``
    Prox-SGD of Yang et al. as proxgen.txt eqs (5)-(6) write it
    (``prox_sgd_yang``): :math:`\hat\theta_t` is the preconditioned prox *without*
    the learning rate (5), then :math:`\theta_{t+1} = \theta_t + \epsilon_t(\hat\theta_t - \theta_t)`
    (6). The iterate :math:`\theta_t` (``x``) is what Study 1 plots; its prox
    point :math:`\hat\theta_t` (``x_hat``) is reported as a second row set.
``proxgen``
    ProxGen with Adam's preconditioner (proxgen.txt Algorithm 1, eq (2); the l1
    step is the corrected soft-threshold of eq (3), docs/errata/mrda_proxgen.md PG-E1).
``rda``, ``mrda``
    RDA (mrda.txt Algorithm 1; anchor :math:`w_0 = \theta_1`, so from a random
    start RDA is anchored at the random point) and modified RDA (Algorithm 2;
    anchor 0, random :math:`w_1`). From a zero start the two are identical.
``lasso (exact)``
    :math:`\arg\min F` by :func:`proxlab.theory.comparators.reference_optimum`
    (CVXPY + polish for ``p <= 100``, certified restarted FISTA otherwise),
    stored with its certificate: KKT residual ``cert_kkt`` (exact, from the
    subdifferential of the l1 norm), its tolerance ``cert_tol`` and the Fenchel
    duality gap ``cert_gap``.

Step sizes (:data:`HYPER`) are proxlab's choice, not the paper's (its settings
are in an appendix that is not part of ``shared/papers/proxgen.txt``), picked on
the default instance (``n = 100, p = 200, s = 5``, seeds 0-2, 500 epochs):
Prox-SGD ``lr = 0.5`` (its public default 0.06 is still 1.7 away from the
Lasso solution after 500 epochs from a random start; 0.5 reaches it to 0.002);
ProxGen ``lr = 0.01`` (0.003 has not identified the support after 500 epochs,
0.03 identifies it faster but ends farther from the Lasso solution);
RDA/MRDA ``gamma = 2`` (``beta_t = gamma sqrt t``: ``gamma = 1`` overshoots to
an error of 1e7 in the first hundred steps before converging, ``gamma >= 3``
has not identified the support after 500 epochs on most seeds).

Two parts (``config["part"]``)
==============================
``"trace"`` (proxgen.txt Study 1)
    One instance (``n_samples``, ``p``, ``s``), random (``init = "random"``,
    :math:`\theta_1 \sim N(0, I)`) or zero initialisation, ``epochs`` passes;
    every ``record_every`` steps: F1 of the support of the iterate against the
    true support, precision, recall, number of non-zeros, whether the support
    is exactly the true one, the estimation error
    :math:`\|\theta_t - \theta^\natural\|_2` and the distance to the exact Lasso
    solution.
``"phase"`` (phase transition)
    ``n = round(ratio * s * log p)`` rows for ``ratio`` = n / (s log p); each
    method's final point and the exact Lasso solution; the probability of exact
    support recovery is the mean over seeds. For the Lasso with a Gaussian
    design, exact recovery needs :math:`n \gtrsim 2 s\log(p - s)` (Wainwright
    2009, IEEE Trans. Inf. Theory 55(5)), i.e. a transition near ``ratio = 2``.

Claim checked: PG-S1 (claims.md): "Prox-SGD never reaches exact zeros from a
random start, and returns all zeros from a zero start; ProxGen recovers the
true support from both".
"""

from __future__ import annotations

import math

import numpy as np

NAME = "support"
DESCRIPTION = ("Lasso support recovery: Prox-SGD vs ProxGen vs RDA/MRDA vs the exact Lasso over iterations "
               "(random and zero start, proxgen.txt Study 1) and P(exact support) against n / (s log p)")
CLAIMS = ("PG-S1 (proxgen.txt Sec 5, Study 1, Fig 3: Prox-SGD has no exact zeros from a random start and is all "
          "zeros from a zero start; ProxGen recovers the support from both); the exact Lasso's support-recovery "
          "phase transition near n = 2 s log(p - s)")

PARTS = ("trace", "phase")
INITS = ("random", "zeros")
#: method label -> registered solver (None: the exact Lasso)
METHODS = {
    "prox_sgd (x)": "prox_sgd_yang",
    "prox_sgd (x_hat)": "prox_sgd_yang",
    "proxgen": "proxgen",
    "rda": "rda",
    "mrda": "mrda",
    "lasso (exact)": None,
}
HYPER = {
    "prox_sgd_yang": {"lr": 0.5},
    "proxgen": {"lr": 0.01},
    "rda": {"gamma": 2.0},
    "mrda": {"gamma": 2.0},
}

DEFAULTS = {
    "init": "zeros",
    "n_samples": 100,
    "ratio": None,
    "p": 200,
    "s": 5,
    "sigma": 0.1,
    "beta_min": 1.0,
    "lam_scale": 1.0,
    "batch_size": 10,
    "epochs": 500,
    "record_every": 50,
    "quick": False,
}

COLUMNS = ["part", "init", "method", "hyper", "step", "f1", "precision", "recall", "nnz", "exact_support", "err_truth",
           "err_lasso", "n", "p", "s", "lam", "ratio", "cert_kkt", "cert_tol", "cert_gap", "cert_ok", "cert_method"]

#: phase-transition grid of n / (s log p), and seeds
PHASE_RATIOS = (0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0)
PHASE_SEEDS = 20
TRACE_SEEDS = 5


# ------------------------------------------------------------------ configs
def configs(quick):
    """The runs: ``trace`` runs (init x lam_scale x seed) and ``phase`` runs (init x ratio x seed).

    ``quick``: trace at both inits with 1 seed and 200 epochs; phase at ratios
    0.5, 2, 4 with 3 seeds, zero start, 300 epochs. Full size: trace (random, 1),
    (zeros, 1), (zeros, 10) x :data:`TRACE_SEEDS` seeds, 500 epochs; phase at
    :data:`PHASE_RATIOS` x :data:`PHASE_SEEDS` seeds x both starts, 1000 epochs.
    """
    out = []
    if quick:
        for init in INITS:
            out.append({**DEFAULTS, "part": "trace", "init": init, "seed": 0, "epochs": 200, "record_every": 20,
                        "quick": True})
        for ratio in (0.5, 2.0, 4.0):
            for seed in range(3):
                out.append({**DEFAULTS, "part": "phase", "init": "zeros", "ratio": ratio, "n_samples": None,
                            "seed": seed, "epochs": 300, "quick": True})
        return out
    for init, lam_scale in (("random", 1.0), ("zeros", 1.0), ("zeros", 10.0)):
        for seed in range(TRACE_SEEDS):
            out.append({**DEFAULTS, "part": "trace", "init": init, "lam_scale": lam_scale, "seed": seed})
    for init in ("zeros", "random"):
        for ratio in PHASE_RATIOS:
            for seed in range(PHASE_SEEDS):
                out.append({**DEFAULTS, "part": "phase", "init": init, "ratio": ratio, "n_samples": None,
                            "seed": seed, "epochs": 1000})
    return out


def _entry(key, exc):
    return ValueError(f"config entry {key!r}: {exc}")


def check_config(config):
    """The configuration with defaults filled in and every entry validated.

    ``part = "trace"`` needs ``n_samples`` (``ratio`` must be None); ``part =
    "phase"`` needs ``ratio`` (``n_samples`` must be None; ``n = round(ratio s
    log p)``, at least 2).

    Raises
    ------
    ValueError
        Naming the entry: unknown keys, unknown ``part`` or ``init``, values of
        the wrong type or out of range, ``s > p``, both or neither of
        ``n_samples`` and ``ratio``.
    """
    from ..._validation import check_int, check_scalar

    if not isinstance(config, dict):
        raise ValueError(f"config must be a dict, got {type(config).__name__}")
    allowed = set(DEFAULTS) | {"part", "seed"}
    unknown = sorted(set(config) - allowed)
    if unknown:
        raise ValueError(f"config entry {unknown[0]!r} is not an entry of the support study; known: {sorted(allowed)}")
    for key in ("part", "seed"):
        if key not in config:
            raise ValueError(f"config entry {key!r} is required")
    cfg = {**DEFAULTS, **config}
    if cfg["part"] not in PARTS:
        raise ValueError(f"config entry 'part': {cfg['part']!r} is not one of {PARTS}")
    if cfg["init"] not in INITS:
        raise ValueError(f"config entry 'init': {cfg['init']!r} is not one of {INITS}")
    try:
        for key, low in (("seed", 0), ("p", 2), ("s", 1), ("batch_size", 1), ("epochs", 1), ("record_every", 1)):
            cfg[key] = check_int(key, cfg[key], low=low)
        for key in ("sigma", "lam_scale"):
            cfg[key] = check_scalar(key, cfg[key], low=0.0)
        cfg["beta_min"] = check_scalar("beta_min", cfg["beta_min"], low=0.0, low_open=True)
        if cfg["n_samples"] is not None:
            cfg["n_samples"] = check_int("n_samples", cfg["n_samples"], low=2)
        if cfg["ratio"] is not None:
            cfg["ratio"] = check_scalar("ratio", cfg["ratio"], low=0.0, low_open=True)
    except (TypeError, ValueError) as exc:
        key = str(exc).split(" ", 1)[0]
        raise _entry(key, exc) from None
    if cfg["s"] > cfg["p"]:
        raise ValueError(f"config entry 's': {cfg['s']} exceeds p = {cfg['p']}")
    if not isinstance(cfg["quick"], bool):
        raise ValueError(f"config entry 'quick': must be a bool, got {cfg['quick']!r}")
    if cfg["part"] == "trace":
        if cfg["n_samples"] is None or cfg["ratio"] is not None:
            raise ValueError("config entry 'n_samples': part 'trace' needs n_samples (an int) and ratio None, got "
                             f"n_samples={cfg['n_samples']!r}, ratio={cfg['ratio']!r}")
    else:
        if cfg["ratio"] is None or cfg["n_samples"] is not None:
            raise ValueError("config entry 'ratio': part 'phase' needs ratio (n / (s log p)) and n_samples None, "
                             f"got ratio={cfg['ratio']!r}, n_samples={cfg['n_samples']!r}")
        if phase_n(cfg["ratio"], cfg["s"], cfg["p"]) < 2:
            raise ValueError(f"config entry 'ratio': {cfg['ratio']} gives fewer than 2 rows")
    return cfg


def phase_n(ratio, s, p):
    """``n = round(ratio * s * log p)``."""
    return int(round(ratio * s * math.log(p)))


# ------------------------------------------------------------------ measures
def support_metrics(x, support):
    """Support recovery of ``x`` against the true support (boolean mask).

    Returns
    -------
    dict
        ``f1`` (harmonic mean of precision and recall; 0 when no true
        positive), ``precision`` (true positives / non-zeros of ``x``; NaN when
        ``x`` has none), ``recall`` (true positives / true support size),
        ``nnz``, ``exact_support`` (``supp(x) == support``).
    """
    x = np.asarray(x)
    support = np.asarray(support, dtype=bool)
    if x.shape != support.shape:
        raise ValueError(f"x has shape {x.shape}, support has shape {support.shape}")
    est = x != 0
    tp = int(np.count_nonzero(est & support))
    nnz = int(np.count_nonzero(est))
    k = int(np.count_nonzero(support))
    precision = tp / nnz if nnz else math.nan
    recall = tp / k if k else math.nan
    f1 = 2.0 * tp / (nnz + k) if (nnz + k) else 1.0
    return {"f1": f1, "precision": precision, "recall": recall, "nnz": nnz,
            "exact_support": bool(np.array_equal(est, support))}


def make_problem(cfg):
    """The Lasso instance of a validated configuration (``lam`` scaled by ``lam_scale``)."""
    from .. import problems as P

    n = cfg["n_samples"] if cfg["part"] == "trace" else phase_n(cfg["ratio"], cfg["s"], cfg["p"])
    base = P.lasso_gaussian(n, cfg["p"], cfg["s"], cfg["sigma"], beta_min=cfg["beta_min"],
                            batch_size=cfg["batch_size"], epochs=cfg["epochs"], x0=cfg["init"], seed=cfg["seed"])
    lam = cfg["lam_scale"] * base.meta["lam"]
    base.meta["lam"] = lam
    base.meta["regularizer"] = ("l1", {"lam": lam})
    return base


def exact_lasso(problem):
    r""":math:`\arg\min F` with its certificate
    (:func:`proxlab.theory.comparators.reference_optimum`, relative KKT tolerance 1e-9)."""
    from ...theory.comparators import reference_optimum

    return reference_optimum(problem, problem.meta["regularizer"])


def _cert(ref):
    return {"cert_kkt": float(ref.kkt_residual), "cert_tol": float(ref.tolerance), "cert_gap": float(ref.duality_gap),
            "cert_ok": bool(ref.ok), "cert_method": str(ref.method)}


# ------------------------------------------------------------------ the task
def task(config):
    """One run: every method on one Lasso instance; tidy rows (:data:`COLUMNS`).

    ``trace``: one row per (method, recorded step) and one ``lasso (exact)`` row
    at the last step. ``phase``: one row per method at the last step.
    """
    import pandas as pd

    from ... import solvers

    cfg = check_config(config)
    problem = make_problem(cfg)
    truth = problem.meta["truth"]
    support = problem.meta["support"]
    lam = problem.meta["lam"]
    n = problem.meta["A"].shape[0]
    steps = int(problem.meta["steps"])
    ref = exact_lasso(problem)
    # ratio: the nominal n / (s log p) of a phase run (n is its rounding), the actual one of a trace run
    ratio = cfg["ratio"] if cfg["part"] == "phase" else n / (cfg["s"] * math.log(cfg["p"]))
    common = {"part": cfg["part"], "init": cfg["init"], "n": n, "p": cfg["p"], "s": cfg["s"], "lam": lam,
              "ratio": ratio}
    rows = []

    def row(method, step, x, extra=None, hyper=""):
        r = {**common, "method": method, "hyper": hyper, "step": int(step), **support_metrics(x, support),
             "err_truth": float(np.linalg.norm(x - truth)), "err_lasso": float(np.linalg.norm(x - ref.x))}
        if extra:
            r.update(extra)
        return r

    every = cfg["record_every"] if cfg["part"] == "trace" else steps
    every = min(every, steps)
    for solver in dict.fromkeys(v for v in METHODS.values() if v is not None):
        alg = solvers.get(solver, regularizer=problem.meta["regularizer"], **HYPER[solver])
        traj = solvers.run(alg, problem, steps, record=("x", "prox_point"), every=every)
        labels = [k for k, v in METHODS.items() if v == solver]
        hp = ", ".join(f"{k}={v:g}" for k, v in HYPER[solver].items())
        for k, step in enumerate(traj.steps):
            for label in labels:
                field = "prox_point" if label.endswith("(x_hat)") else "x"
                rows.append(row(label, step, traj.records[field][k], hyper=hp))
    rows.append(row("lasso (exact)", steps, ref.x, _cert(ref)))
    out = pd.DataFrame(rows, columns=COLUMNS)
    out["seed"] = cfg["seed"]
    out["lam_scale"] = cfg["lam_scale"]
    return out


# ------------------------------------------------------------------ analysis
def _setting(init, lam_scale):
    return f"{init} start, lam x{lam_scale:g}"


def transition_ratio(ratios, probs, level=0.5):
    """The smallest ``ratio`` at which the recovery probability reaches ``level``,
    by linear interpolation between grid points (NaN if it never does; the first
    grid point if it already does there)."""
    ratios = np.asarray(ratios, dtype=float)
    probs = np.asarray(probs, dtype=float)
    order = np.argsort(ratios)
    ratios, probs = ratios[order], probs[order]
    above = np.flatnonzero(probs >= level)
    if above.size == 0:
        return math.nan
    i = int(above[0])
    if i == 0:
        return float(ratios[0])
    r0, r1, p0, p1 = ratios[i - 1], ratios[i], probs[i - 1], probs[i]
    return float(r0 + (level - p0) * (r1 - r0) / (p1 - p0))


def phase_table(table):
    """``P(exact support)`` per (init, method, ratio): columns ``init, method, ratio, n, p_exact, runs``."""
    ph = table[table["part"] == "phase"]
    g = ph.groupby(["init", "method", "ratio"], sort=True)
    out = g.agg(n=("n", "first"), p_exact=("exact_support", "mean"), runs=("exact_support", "size")).reset_index()
    return out


def summarize(table):
    """One row per (part, setting, method).

    ``trace`` rows: the final recorded step, over seeds — ``F1_final`` (mean),
    ``P_exact`` (fraction of seeds whose final support is exactly the true
    one), ``nnz_final`` (median), ``err_truth`` and ``err_lasso`` (mean), and
    ``first_exact_step`` (median over seeds of the first recorded step from
    which the support stays exact to the end; ``never`` if it does not).
    ``phase`` rows: ``P_exact`` as ``ratio:probability`` pairs over the grid of
    n / (s log p) and ``transition`` (:func:`transition_ratio` at 1/2).
    """
    import pandas as pd

    rows = []
    tr = table[table["part"] == "trace"]
    if len(tr):
        lam_scale = tr["lam_scale"] if "lam_scale" in tr else pd.Series(1.0, index=tr.index)
        tr = tr.assign(setting=[_setting(i, float(ls)) for i, ls in zip(tr["init"], lam_scale)])
        for (setting, method), g in tr.groupby(["setting", "method"], sort=False):
            last = g[g["step"] == g.groupby("seed")["step"].transform("max")]
            firsts = []
            for _, gs in g.groupby("seed"):
                gs = gs.sort_values("step")
                ex = gs["exact_support"].to_numpy(dtype=bool)
                if not ex[-1]:
                    firsts.append(math.inf)
                    continue
                bad = np.flatnonzero(~ex)
                firsts.append(float(gs["step"].to_numpy()[bad[-1] + 1] if bad.size else gs["step"].iloc[0]))
            med = float(np.median(firsts)) if method != "lasso (exact)" else math.nan
            rows.append({"part": "trace", "setting": setting, "method": method,
                         "F1_final": float(last["f1"].mean()),
                         "P_exact": f"{last['exact_support'].astype(bool).mean():.2f}",
                         "nnz_final": float(last["nnz"].median()),
                         "err_truth": float(last["err_truth"].mean()), "err_lasso": float(last["err_lasso"].mean()),
                         "first_exact_step": ("-" if method == "lasso (exact)" else
                                              "never" if not math.isfinite(med) else f"{med:g}"),
                         "transition": math.nan})
    ph = phase_table(table)
    order = {m: i for i, m in enumerate(METHODS)}
    ph = ph.assign(_o=ph["method"].map(order).fillna(len(order))).sort_values(["init", "_o", "ratio"], kind="stable")
    for (init, method), g in ph.groupby(["init", "method"], sort=False):
        g = g.sort_values("ratio")
        rows.append({"part": "phase", "setting": f"{init} start, lam x1", "method": method,
                     "F1_final": math.nan,
                     "P_exact": " ".join(f"{r:g}:{p:.2f}" for r, p in zip(g["ratio"].round(2), g["p_exact"])),
                     "nnz_final": math.nan, "err_truth": math.nan, "err_lasso": math.nan, "first_exact_step": "",
                     "transition": transition_ratio(g["ratio"], g["p_exact"])})
    return pd.DataFrame(rows, columns=["part", "setting", "method", "F1_final", "P_exact", "nnz_final", "err_truth",
                                       "err_lasso", "first_exact_step", "transition"])


def figure(table):
    """The study's figure (:func:`proxlab.figures.support.support_figure`)."""
    from ...figures.support import support_figure

    return support_figure(table)
