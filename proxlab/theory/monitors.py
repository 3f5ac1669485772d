r"""Assumption monitors: per run, whether and how often each hypothesis held.

Every monitor takes arrays from a run (a :class:`~proxlab.theory.trace.Trace`
through the ``*_quantities`` helpers, or your own) and returns a
:class:`MonitorReport`: the measured quantity per checked step, which steps
satisfied the hypothesis, the fraction, the first violation and the measured
constants. A theorem's conclusion is only owed when its hypotheses held; a
study reports ``ASSUMPTION-VIOLATED`` with the report's numbers otherwise.

* GA (group-lasso-adaptive-optimizers.txt): :func:`ga_condition_12` (eq (12)),
  :func:`ga_momentum_form_13` (eq (13)), :func:`ga_kappa_condition` (Lemma 1's
  conditions with (15)), :func:`ga_monotone_metric` (:math:`Q_t \succeq 0`, i.e.
  :math:`A_{t+1}\succeq A_t` of eq (5) and :math:`h_{t+1} \ge h_t` in App. C);
* proxgen.txt: :func:`proxgen_c3` ((C-3) i-iii), :func:`proxgen_c4` ((C-4)),
  :func:`proxgen_stepsize` (Thm 1's :math:`\alpha_0 \le \delta/(3L)`, non-increasing);
* ramda.txt: :func:`ramda_stepsize_13` (eq (13)), :func:`ramda_condition_14`
  (eq (14)), :func:`ramda_inexactness_7` (eq (7)) and :func:`ramda_eps_summable_8` (eq (8)).

Conditions (13)-(14) of ramda.txt are asymptotic (a divergent and a convergent
series, an almost-sure limit): a finite run can only show their *trend*. The
monitors fit the tail exponent and say so in ``note``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .._validation import as_float_array, check_scalar

__all__ = ["MonitorReport", "ga_condition_12", "ga_momentum_form_13", "ga_kappa_condition", "ga_monotone_metric",
           "proxgen_c3", "proxgen_c4", "proxgen_stepsize", "ramda_stepsize_13", "ramda_condition_14",
           "ramda_inexactness_7", "ramda_eps_summable_8"]


@dataclass
class MonitorReport:
    """Whether a hypothesis held along a run.

    Attributes
    ----------
    name, source : str
    steps : (K,) int
        The step ``t`` of each check.
    values : (K,) float
        The measured quantity at each check.
    held : (K,) bool
        Whether the hypothesis held at that step.
    measured : dict
        Constants measured on the run (e.g. the smallest admissible kappa).
    note : str
    """

    name: str
    source: str
    steps: np.ndarray
    values: np.ndarray
    held: np.ndarray
    measured: dict = field(default_factory=dict)
    note: str = ""

    @property
    def n_checked(self):
        return int(self.held.size)

    @property
    def n_held(self):
        return int(np.count_nonzero(self.held))

    @property
    def fraction(self):
        """Fraction of checked steps where the hypothesis held (1.0 when nothing was checked)."""
        return self.n_held / self.n_checked if self.n_checked else 1.0

    @property
    def all_held(self):
        return bool(np.all(self.held))

    @property
    def first_violation(self):
        """The first step where it failed, or None."""
        bad = np.flatnonzero(~self.held)
        return int(self.steps[bad[0]]) if bad.size else None

    def summary(self):
        out = {"name": self.name, "source": self.source, "checked": self.n_checked, "held": self.n_held,
               "fraction": self.fraction, "all_held": self.all_held, "first_violation": self.first_violation}
        out.update({k: v for k, v in self.measured.items() if np.ndim(v) == 0})
        return out


def _traj(name, a, n=None, T=None):
    a = as_float_array(name, a, ndim=2, dtype=np.float64)
    if n is not None and a.shape[1] != n:
        raise ValueError(f"{name} must have {n} columns, got shape {a.shape}")
    if T is not None and a.shape[0] != T:
        raise ValueError(f"{name} must have {T} rows, got shape {a.shape}")
    return a


def _seq(name, a, T=None):
    a = as_float_array(name, a, ndim=1, dtype=np.float64)
    if T is not None and a.shape[0] != T:
        raise ValueError(f"{name} must have {T} entries, got {a.shape[0]}")
    return a


def _steps(T):
    return np.arange(1, T + 1)


# ======================================================================= GA
def ga_condition_12(ms, xs, x_star, atol=0.0):
    r"""GA Theorem 3, condition (12): :math:`\langle m_{t-1}, x_t - x^*\rangle \ge 0` for
    :math:`t \in [T]` (:math:`m_0 = 0`, so ``t = 1`` always holds).

    The proof uses it to drop :math:`-\gamma\langle m_{t-1}, x_t - x^*\rangle` from
    :math:`\langle g_t, x_t - x^*\rangle` (first lines of (36)); with ``gamma = 0``
    the condition is not needed (the monitor still reports it).

    Parameters
    ----------
    ms : (T, n), :math:`m_1..m_T`
    xs : (T, n), :math:`x_1..x_T`
    x_star : (n,)
    atol : float >= 0, rounding allowance (``value >= -atol`` counts as held)
    """
    xs = _traj("xs", xs)
    T, n = xs.shape
    ms = _traj("ms", ms, n, T)
    x_star = as_float_array("x_star", x_star, ndim=1, dtype=np.float64)
    if x_star.shape[0] != n:
        raise ValueError(f"x_star must have {n} entries, got {x_star.shape[0]}")
    atol = check_scalar("atol", atol, low=0.0)
    prev = np.vstack([np.zeros((1, n)), ms[:-1]])
    v = np.einsum("ij,ij->i", prev, xs - x_star[None, :])
    return MonitorReport("GA condition (12)", "GA Thm 3, eq (12)", _steps(T), v, v >= -atol,
                         {"min <m_{t-1}, x_t - x*>": float(v.min())})


def ga_momentum_form_13(gs, ms, gamma=None, rtol=1e-9):
    r"""GA (13): :math:`m_t = \gamma m_{t-1} + g_t` with :math:`\gamma < 1`, :math:`m_0 = 0`.

    Stated "without loss of generality", but Adam's
    :math:`m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t` (and its bias correction) is not of
    this form: then :math:`g_t = (m_t - \beta_1 m_{t-1})/(1-\beta_1)` and (36) carries a
    factor :math:`1/(1-\beta_1)` (constant only without bias correction). ``gamma``
    None: fitted by least squares from :math:`m_t - g_t = \gamma m_{t-1}`. Value per
    step: the relative residual :math:`\|m_t - \gamma m_{t-1} - g_t\| / \max(\|m_t\|, \|g_t\|)`.
    """
    gs = _traj("gs", gs)
    T, n = gs.shape
    ms = _traj("ms", ms, n, T)
    rtol = check_scalar("rtol", rtol, low=0.0)
    prev = np.vstack([np.zeros((1, n)), ms[:-1]])
    if gamma is None:
        den = float(np.sum(prev * prev))
        gamma = float(np.sum(prev * (ms - gs)) / den) if den > 0 else 0.0
    else:
        gamma = check_scalar("gamma", gamma)
    r = np.linalg.norm(ms - gamma * prev - gs, axis=1)
    scale = np.maximum(np.maximum(np.linalg.norm(ms, axis=1), np.linalg.norm(gs, axis=1)), 1e-300)
    v = r / scale
    held = (v <= rtol) & (0.0 <= gamma < 1.0)
    return MonitorReport("GA momentum form (13)", "GA eq (13)", _steps(T), v, held, {"gamma": gamma},
                         note="held needs 0 <= gamma < 1 and the recursion to rtol")


def ga_kappa_condition(Vs=None, *, gs=None, eta=None, gamma=0.0, kappa=None):
    r"""GA Lemma 1's conditions on :math:`V_t = \eta V_{t-1} + \mathrm{diag}(g_t^2)` (15).

    Case 1, :math:`\eta = 1`: holds at every step. Case 2, :math:`\eta < 1`: needs
    :math:`\eta \ge \gamma` and :math:`\kappa V_t \succeq V_{t-1}` for all ``t`` with
    :math:`\kappa < 1`. The value at step ``t >= 2`` is the smallest admissible
    :math:`\kappa_t = \max_i V_{t-1,i}/V_{t,i}` (``inf`` when some
    :math:`V_{t,i} = 0 < V_{t-1,i}`); the step holds when :math:`\kappa_t \le \kappa`
    (``kappa`` None: any :math:`\kappa < 1`, i.e. :math:`\kappa_t < 1`). ``measured``
    has the run's smallest workable kappa (:math:`\max_t \kappa_t`).

    As :func:`proxlab.theory.bounds.ga_lemma1` explains, :math:`\kappa V_t \succeq V_{t-1}`
    for all ``t`` means geometrically growing second moments; with bounded
    gradients it must fail after finitely many steps, and on stationary data
    :math:`\kappa_t \to 1`. Give either ``Vs`` (T, n) or ``gs`` (T, n) and ``eta``.
    """
    if Vs is None:
        if gs is None or eta is None:
            raise ValueError("Vs: pass Vs (the V_t of (15)), or gs and eta to build them")
        gs = _traj("gs", gs)
        eta = check_scalar("eta", eta, low=0.0, high=1.0)
        Vs = np.empty_like(gs)
        V = np.zeros(gs.shape[1])
        for t in range(gs.shape[0]):
            V = eta * V + gs[t] ** 2
            Vs[t] = V
    else:
        Vs = _traj("Vs", Vs)
        eta = None if eta is None else check_scalar("eta", eta, low=0.0, high=1.0)
    gamma = check_scalar("gamma", gamma, low=0.0, high=1.0, high_open=True)
    T = Vs.shape[0]
    if eta is not None and eta == 1.0:
        return MonitorReport("GA Lemma 1 conditions", "GA Lemma 1 (case 1: eta = 1)", _steps(T), np.zeros(T),
                             np.ones(T, dtype=bool), {"case": 1}, note="eta = 1: case 1 holds at every step")
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(Vs[1:] > 0, Vs[:-1] / np.where(Vs[1:] > 0, Vs[1:], 1.0), np.where(Vs[:-1] > 0, np.inf, 0.0))
    kap_t = np.concatenate([[0.0], r.max(axis=1) if T > 1 else np.zeros(0)])
    if kappa is None:
        held = kap_t < 1.0
    else:
        kappa = check_scalar("kappa", kappa, low=0.0, high=1.0, high_open=True)
        held = kap_t <= kappa
    eta_ok = True if eta is None else bool(eta >= gamma)
    if not eta_ok:
        held = np.zeros(T, dtype=bool)
    measured = {"case": 2, "smallest workable kappa": float(kap_t.max()), "eta >= gamma": eta_ok}
    return MonitorReport("GA Lemma 1 conditions", "GA Lemma 1 (case 2: eta < 1, kappa V_t >= V_{t-1})", _steps(T),
                         kap_t, held, measured)


def ga_monotone_metric(sigmas, rtol=1e-12):
    r""":math:`Q_t/\alpha_t = \Sigma_t - \Sigma_{t-1} \succeq 0` (:math:`\Sigma_0 = 0`).

    Needed by eq (5) (":math:`A_{t+1} \succeq A_t`") and by App. C (40), whose first
    step uses :math:`h_T \ge h_{T-1}` and :math:`\Psi_T \ge \Psi_{T-1}`; (47) also
    telescopes :math:`\sum_s Q_s` with :math:`Q_s \ge 0`. Holds for Adagrad-type
    members; Adam/AMSGrad-type second moments can decrease (docs/errata/group_lasso.md
    A1). Value per step: :math:`\min_i (\Sigma_t - \Sigma_{t-1})_i`.
    """
    sigmas = _traj("sigmas", sigmas)
    T, n = sigmas.shape
    prev = np.vstack([np.zeros((1, n)), sigmas[:-1]])
    q = (sigmas - prev).min(axis=1)
    tol = rtol * np.maximum(np.abs(sigmas).max(axis=1), 1e-300)
    return MonitorReport("GA monotone metric Q_t >= 0", "GA eq (5) (A_{t+1} >= A_t), App. C (40), (47)",
                         _steps(T), q, q >= -tol, {"min Q_t/alpha_t": float(q.min())})


# ================================================================== ProxGen
def proxgen_c3(steps, gs, rho, D=None, G=None, rtol=1e-9):
    r"""proxgen.txt (C-3): (i) :math:`\|\theta_{t+1} - \theta_t\| \le D`, (ii)
    :math:`\|g_t\| \le G`, (iii) :math:`\rho_t = \rho_0\mu^{t-1}` with
    :math:`\rho_0, \mu \in [0, 1)`.

    Returns a dict of three :class:`MonitorReport` (``"C-3(i)"``, ``"C-3(ii)"``,
    ``"C-3(iii)"``). Without ``D``/``G`` the measured maxima are reported and
    (i)/(ii) hold trivially with those constants (``measured`` says which
    ``D``, ``G`` the run needs). (iii): :math:`\mu = \rho_2/\rho_1` is fitted and
    every :math:`\rho_t` compared with :math:`\rho_1\mu^{t-1}` (relative ``rtol``); a constant
    :math:`\rho_t = \beta_1 > 0`, the setting of proxgen.txt Sec 4 ("constant
    decaying parameter :math:`\rho_t = 0.9`"), needs :math:`\mu = 1` and fails.
    """
    steps = _traj("steps", steps)
    T, n = steps.shape
    gs = _traj("gs", gs, n, T)
    rho = _seq("rho", rho, T)
    sn = np.linalg.norm(steps, axis=1)
    gn = np.linalg.norm(gs, axis=1)
    Dm, Gm = float(sn.max()), float(gn.max())
    Dc = Dm if D is None else check_scalar("D", D, low=0.0)
    Gc = Gm if G is None else check_scalar("G", G, low=0.0)
    out = {
        "C-3(i)": MonitorReport("ProxGen (C-3)(i) bounded steps", "proxgen.txt (C-3)(i)", _steps(T), sn, sn <= Dc,
                                {"D needed": Dm, "D": Dc}),
        "C-3(ii)": MonitorReport("ProxGen (C-3)(ii) bounded gradients", "proxgen.txt (C-3)(ii)", _steps(T), gn,
                                 gn <= Gc, {"G needed": Gm, "G": Gc}),
    }
    rho0 = float(rho[0])
    mu = float(rho[1] / rho[0]) if T > 1 and rho[0] > 0 else 0.0
    model = rho0 * mu ** np.arange(T)
    fits = np.abs(rho - model) <= rtol * np.maximum(np.abs(rho), 1e-300) + (rho == model)
    ok = (0.0 <= rho0 < 1.0) and (0.0 <= mu < 1.0)
    out["C-3(iii)"] = MonitorReport("ProxGen (C-3)(iii) exponentially decaying momentum", "proxgen.txt (C-3)(iii)",
                                    _steps(T), rho, fits & ok, {"rho_0": rho0, "mu": mu},
                                    note="mu fitted as rho_2/rho_1; needs rho_0, mu in [0, 1)")
    return out


def proxgen_c4(alpha, precond, delta, gamma=None):
    r"""proxgen.txt (C-4): :math:`\lambda_{\min}(\alpha_t (C_t + \delta I)^{-1}) \ge \gamma > 0`
    for all ``t`` (ramda.txt App. B.1 restates it as :math:`\|\eta_t^{-1} P_t\|_2 \le 1/\gamma`).

    For a diagonal preconditioner the value is :math:`\gamma_t = \min_i \alpha_t/(C_{t,i} + \delta)`.
    ``gamma`` None: the run's :math:`\min_t\gamma_t` is reported and the condition
    holds iff it is > 0.
    """
    precond = _traj("precond", precond)
    T = precond.shape[0]
    alpha = _seq("alpha", alpha, T)
    delta = check_scalar("delta", delta, low=0.0)
    with np.errstate(divide="ignore"):
        g = (alpha[:, None] / (precond + delta)).min(axis=1)
    gmin = float(g.min())
    held = g > 0 if gamma is None else g >= check_scalar("gamma", gamma, low=0.0, low_open=True)
    return MonitorReport("ProxGen (C-4) sufficiently positive definite", "proxgen.txt (C-4)", _steps(T), g, held,
                         {"gamma measured (min_t)": gmin})


def proxgen_stepsize(alpha, delta, L):
    r"""proxgen.txt Thm 1's step-size hypotheses: initial :math:`\alpha_0 \le \delta/(3L)`
    (read at the first step) and :math:`\alpha_t` non-increasing (ramda.txt (C-5):
    :math:`\eta_t \le \delta/(3L)`). Value per step: :math:`\alpha_t`; step ``t`` holds
    when :math:`\alpha_t \le \delta/(3L)` and :math:`\alpha_t \le \alpha_{t-1}`."""
    alpha = _seq("alpha", alpha)
    delta = check_scalar("delta", delta, low=0.0)
    L = check_scalar("L", L, low=0.0, low_open=True)
    cap = delta / (3.0 * L)
    nonincreasing = np.concatenate([[True], alpha[1:] <= alpha[:-1]])
    return MonitorReport("ProxGen step size", "proxgen.txt Thm 1 (alpha_0 <= delta/(3L), non-increasing)",
                         _steps(alpha.size), alpha, (alpha <= cap) & nonincreasing,
                         {"delta/(3L)": cap, "alpha_0": float(alpha[0])})


# ==================================================================== RAMDA
def _tail_exponent(t, v):
    """Least-squares slope ``p`` of ``log v = c - p log t`` over the last half of
    the positive entries (NaN with fewer than 4 points)."""
    mask = (v > 0) & np.isfinite(v)
    t, v = t[mask], v[mask]
    if t.size < 4:
        return math.nan
    h = t.size // 2
    lt, lv = np.log(t[h:]), np.log(v[h:])
    A = np.vstack([np.ones_like(lt), lt]).T
    coef = np.linalg.lstsq(A, lv, rcond=None)[0]
    return float(-coef[1])


def ramda_stepsize_13(s, alpha):
    r"""ramda.txt eq (13): :math:`\sum_t s_t\alpha_t^{-1} = \infty` and
    :math:`\sum_t (s_t\alpha_t^{-1})^2 < \infty` (:math:`s_t = \eta_t\sqrt t`,
    :math:`\alpha_t = \sum_{k\le t} s_k`, eqs (2)-(3)).

    A finite run cannot show divergence or convergence; the monitor fits the
    tail :math:`s_t/\alpha_t \sim t^{-p}` (last half, log-log least squares) and
    declares (13) consistent with the run iff :math:`1/2 < p \le 1` (within
    ``0.05``): ``p <= 1`` for divergence, ``p > 1/2`` for square summability.
    For ``eta_t`` constant, :math:`s_t/\alpha_t \approx 3/(2t)` (``p = 1``); every
    power-law :math:`s_t` gives ``p = 1``; a geometric :math:`s_t` gives ``p = 0``
    (fails). Value per step: :math:`s_t/\alpha_t`; ``held`` is the verdict at
    every step, and ``measured`` has the partial sums.
    """
    s = _seq("s", s)
    alpha = _seq("alpha", alpha, s.size)
    if np.any(alpha <= 0):
        raise ValueError("alpha (the weight sums alpha_t) must be > 0")
    r = s / alpha
    t = np.arange(1, s.size + 1, dtype=np.float64)
    p = _tail_exponent(t, r)
    ok = bool(np.isfinite(p) and 0.5 < p <= 1.05)
    return MonitorReport("RAMDA step sizes (13)", "ramda.txt eq (13)", _steps(s.size), r,
                         np.full(s.size, ok), {"tail exponent p": p, "sum s/alpha": float(r.sum()),
                                               "sum (s/alpha)^2": float(np.sum(r * r))},
                         note="asymptotic condition: verdict from the fitted tail exponent 1/2 < p <= 1")


def ramda_condition_14(W, s, alpha, decay_margin=0.05):
    r"""ramda.txt eq (14): :math:`\|W_{t+1} - W_t\|\,(s_t\alpha_t^{-1})^{-1} \to 0` almost surely.

    ``W`` holds :math:`W_0 .. W_T` ((T+1, n); :func:`~proxlab.theory.trace.ramda_quantities`
    gives it), ``s``, ``alpha`` of length ``T``. Value at ``t = 1..T``:
    :math:`r_t = \|W_t - W_{t-1}\|\,\alpha_t/s_t` (the step *of* iteration ``t``
    with that iteration's ratio; the printed index pairs :math:`W_{t+1} - W_t` with
    :math:`s_t/\alpha_t`, a one-step shift that does not change the limit). Verdict
    (asymptotic): the fitted tail exponent of :math:`r_t \sim t^{-p}` exceeds
    ``decay_margin`` (:math:`r_t` decays). ``measured`` has the exponent and the
    ratio of the mean of the last tenth to the mean of the first tenth.
    """
    W = _traj("W", W)
    T = W.shape[0] - 1
    s = _seq("s", s, T)
    alpha = _seq("alpha", alpha, T)
    r = np.linalg.norm(np.diff(W, axis=0), axis=1) * alpha / s
    t = np.arange(1, T + 1, dtype=np.float64)
    p = _tail_exponent(t, r)
    k = max(1, T // 10)
    ratio = float(np.mean(r[-k:]) / np.mean(r[:k])) if np.mean(r[:k]) > 0 else math.nan
    ok = bool(np.isfinite(p) and p > decay_margin)
    return MonitorReport("RAMDA condition (14)", "ramda.txt eq (14)", _steps(T), r, np.full(T, ok),
                         {"tail exponent p": p, "last/first tenth": ratio},
                         note="asymptotic condition: verdict from the fitted decay of ||dW|| alpha_t / s_t")


def ramda_inexactness_7(residual, eps, descent=None, objective=None, slack=1e-12):
    r"""ramda.txt eq (7): :math:`\min_{s\in\partial Q_t(\hat W_t)}\|s\| \le \epsilon_t` and
    :math:`Q_t(\hat W_t) \le Q_t(W_{t-1})`.

    ``residual`` (T,) is the first quantity on the paper's objective
    (:class:`~proxlab.theory.trace.Trace` ``sub_residual``, computed with the exact
    ``Regularizer.subdiff_dist``; or the ``sub_residual`` scalar state of RAMDA's PG
    solver, the certified upper bound of :func:`proxlab.solvers.subproblem.group_l2_prox_pg`);
    ``eps`` (T,) or a scalar the tolerance :math:`\epsilon_t`; ``descent`` (T,) the
    differences :math:`Q_t(\hat W_t) - Q_t(W_{t-1})` (``Trace.sub_descent``), held when
    ``<= slack * (1 + |Q_t(W_{t-1})|)`` (``objective`` = ``Trace.sub_objective``; the
    two values are float sums of the same terms, so an already optimal point
    can show a rounding-level increase; without ``objective`` the slack is absolute).
    """
    residual = _seq("residual", residual)
    T = residual.size
    eps = np.full(T, check_scalar("eps", eps, low=0.0)) if np.ndim(eps) == 0 else _seq("eps", eps, T)
    slack = check_scalar("slack", slack, low=0.0)
    held = residual <= eps
    measured = {"max residual / eps": float(np.max(residual / np.maximum(eps, 1e-300)))}
    if descent is not None:
        descent = _seq("descent", descent, T)
        allow = slack * (1.0 + (np.abs(_seq("objective", objective, T)) if objective is not None else 0.0))
        held = held & (descent <= allow)
        measured["max objective increase"] = float(descent.max())
    return MonitorReport("RAMDA inexactness (7)", "ramda.txt eq (7)", _steps(T), residual, held, measured)


def ramda_eps_summable_8(eps):
    r"""ramda.txt eq (8): :math:`\bar\epsilon = \sum_t \epsilon_t^2 < \infty`, judged (as
    (13)) from the tail exponent of :math:`\epsilon_t \sim t^{-p}`: ``p > 1/2``. Zero
    tolerances (exact solves) trivially satisfy it."""
    eps = _seq("eps", eps)
    t = np.arange(1, eps.size + 1, dtype=np.float64)
    if np.all(eps == 0):
        ok, p = True, math.inf
    else:
        p = _tail_exponent(t, eps)
        ok = bool(np.isfinite(p) and p > 0.5)
    return MonitorReport("RAMDA summable tolerances (8)", "ramda.txt eq (8)", _steps(eps.size), eps,
                         np.full(eps.size, ok), {"tail exponent p": p, "partial sum eps^2": float(np.sum(eps * eps))},
                         note="asymptotic condition: verdict from the fitted tail exponent p > 1/2")
