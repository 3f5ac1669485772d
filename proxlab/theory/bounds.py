r"""Bound calculators: every constant measured from the run.

Each calculator takes arrays from a run (a :class:`~proxlab.theory.trace.Trace`
or your own), evaluates the printed right-hand side of a theorem, and returns a
:class:`BoundCheck` with the bound, its terms, the measured constants, the
measured left-hand side when it is known and whether the inequality held. A
bound is never tuned: where a printed formula looks wrong the docstring says
so and, where a corrected form is derivable, both are offered (``form=``).

Group-lasso-adaptive-optimizers.txt ("GA")
------------------------------------------
* :func:`ga_psi` — :math:`\Psi_t` of eq (5);
* :func:`ga_theorem3` — the regret bound eq (14);
* :func:`ga_lemma1` — the moment inequality eq (16) (with (13), (15));
* :func:`ga_corollary` / :func:`ga_corollary_from_run` — eqs (20)-(21).

mrda.txt ("MRDA")
-----------------
* :func:`mrda_delta` — :math:`\Delta_t` of eq (49);
* :func:`mrda_lemma74` — Lemma 7.4, :math:`R_t(w) \le \Delta_t`;
* :func:`mrda_lemma75` — Lemma 7.5 / eq (58), :math:`\phi(\bar w_t) - \phi^* \le \Delta_t / t`.

Stationarity (proxgen.txt Thm 1, ramda.txt Thm 2)
-------------------------------------------------
* :func:`stationarity`, :func:`stationarity_trace`, :func:`expected_stationarity_sq`
  — :math:`\mathrm{dist}(0, \partial F(x))`, ``F = f + R``;
* :func:`proxgen_step_bound` — the explicit per-step bound ramda.txt App. B.1
  eq (40) derives for ProxGen (proxgen.txt gives Thm 1's constants only as
  "depending on" the problem constants).

Printed formulas we believe are wrong (details in each docstring)
-----------------------------------------------------------------
* **GA Theorem 3, eq (14)**: the ``t = 1`` term :math:`\tfrac12\|m_1\|^2_{h_0^*} = \tfrac12\|m_1\|_2^2`
  needs :math:`h_1 + \Psi_1 \ge h_0` in the telescoping (40), i.e.
  :math:`\sqrt{V_1}/\alpha_1 \succeq I`; otherwise (14) can fail (a one-step
  counterexample is in :func:`ga_theorem3`). Bounding :math:`h_1^*(-m_1)` directly gives
  the term :math:`\tfrac12\|m_1\|^2_{h_1^*}` instead (``form="corrected"``), which also
  makes Lemma 2's redefinition of :math:`\|\cdot\|_{h_0^*}` unnecessary.
* **MRDA Lemma 7.4 / eq (49) for the modified method** (random ``w_1``): the
  proof's ``tau = 1`` step uses :math:`\nabla V_0(-s_0) = w_1 - w_0`, true for
  Xiao's RDA (``w_1 = w_0``) but not when ``w_1`` is random; the term
  :math:`\langle g_1, w_1 - w_0\rangle` is missing from :math:`\Delta_t`. A
  one-step counterexample is in :func:`mrda_lemma74`'s docstring; ``form="corrected"``
  adds the term.
* **MRDA eq (55)** carries an extra factor ``1/2`` in front of the sum (it
  contradicts the line above it and (49)); (49) is consistent with the correct
  derivation, so (49) is used.
* **GA App. D.1 case b)**: "``sum_s kappa^{t-s} sigma_s >= sum_s sigma_s``" has the
  inequality backwards for ``kappa < 1``; the needed (and true) statement is
  ``sigma_t sum_s kappa^{t-s} >= sum_s sigma_s``, from which (45)'s first line
  follows. (45) and (16) are unaffected.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .._validation import as_float_array, check_int, check_scalar

__all__ = ["BoundCheck", "ga_psi", "ga_theorem3", "ga_theorem3_from_trace", "ga_lemma1", "ga_corollary",
           "ga_corollary_from_run", "mrda_delta", "mrda_lemma74", "mrda_lemma75", "stationarity",
           "stationarity_trace", "expected_stationarity_sq", "proxgen_step_bound"]


@dataclass
class BoundCheck:
    """A bound evaluated on a run.

    Attributes
    ----------
    name, source : str
        What was evaluated and where it is printed.
    bound : float or array
        The right-hand side (an array for bounds indexed by ``t``).
    measured : float, array or None
        The left-hand side measured on the run, when the calculator knows it.
    holds : bool or None
        ``measured <= bound`` (strict ``<`` where the paper prints ``<``) at every
        index; None without ``measured``.
    terms : dict
        The named terms of the bound.
    constants : dict
        Every constant, as measured.
    hypotheses : dict
        Hypotheses the calculator could check, name -> bool (or a short text).
    notes : str
    """

    name: str
    source: str
    bound: object
    measured: object = None
    holds: bool | None = None
    terms: dict = field(default_factory=dict)
    constants: dict = field(default_factory=dict)
    hypotheses: dict = field(default_factory=dict)
    notes: str = ""

    def summary(self):
        """Scalars only (the last entry of array-valued fields), for tables."""
        def last(v):
            a = np.asarray(v)
            return float(a.ravel()[-1]) if a.size else math.nan
        out = {"name": self.name, "source": self.source, "bound": last(self.bound),
               "measured": None if self.measured is None else last(self.measured), "holds": self.holds}
        out.update({f"const:{k}": v for k, v in self.constants.items() if np.ndim(v) == 0})
        out.update({f"hyp:{k}": v for k, v in self.hypotheses.items()})
        return out


# ----------------------------------------------------------------- helpers
def _traj(name, a, n=None, T=None):
    a = as_float_array(name, a, ndim=2, dtype=np.float64)
    if n is not None and a.shape[1] != n:
        raise ValueError(f"{name} must have {n} columns, got shape {a.shape}")
    if T is not None and a.shape[0] != T:
        raise ValueError(f"{name} must have {T} rows (one per step), got shape {a.shape}")
    return a


def _vec(name, a, n=None):
    a = as_float_array(name, a, ndim=1, dtype=np.float64)
    if n is not None and a.shape[0] != n:
        raise ValueError(f"{name} must have {n} entries, got {a.shape[0]}")
    return a


def _ratio_sum(num, den):
    """``sum num / den`` with ``0/0 := 0`` and ``x/0 := inf`` for ``x > 0``."""
    num = np.asarray(num, dtype=np.float64)
    den = np.asarray(den, dtype=np.float64)
    pos = den > 0
    if np.any((~pos) & (num > 0)):
        return math.inf
    return float(np.sum(num[pos] / den[pos]))


# ======================================================================= GA
def ga_psi(x, lam1=0.0, lam21=0.0, lam2=0.0, groups=None, A=None):
    r""":math:`\Psi_t(x)` of GA eq (5):

    .. math::

        \Psi_t(x) = \sum_g \big(\lambda_1 \|x^g\|_1 + \lambda_{21}\sqrt{d_{x^g}}\,\|A_t^{1/2} x^g\|_2\big)
        + \lambda_2\|x\|_2^2 .

    The ``lambda_1`` term acts on every coordinate, the group term on grouped
    coordinates with the weights of ``groups`` (``sqrt(d_g)`` by default).
    ``A`` is the diagonal of :math:`A_t` (default identity); Theorem 1 takes
    :math:`A_t = \sum_{s\le t} Q_s/(2\alpha_s) + \lambda_2 I`, which proxlab's exact
    form implements as ``(Sigma_t + 2 lam2) / 2`` (:mod:`proxlab.solvers.group_family`).
    """
    x = _vec("x", x)
    lam1 = check_scalar("lam1", lam1, low=0.0)
    lam21 = check_scalar("lam21", lam21, low=0.0)
    lam2 = check_scalar("lam2", lam2, low=0.0)
    v = lam1 * float(np.sum(np.abs(x))) + lam2 * float(np.dot(x, x))
    if lam21 > 0:
        if groups is None:
            raise ValueError("groups is required when lam21 > 0")
        if groups.n != x.size:
            raise ValueError(f"groups has dimension {groups.n}, x has {x.size}")
        y = x if A is None else np.sqrt(_vec("A", A, x.size)) * x
        if A is not None and np.any(np.asarray(A) <= 0):
            raise ValueError("A (the diagonal of A_t) must be > 0")
        from ..regularizers.group import group_norms

        v += lam21 * float(np.dot(groups.weights, group_norms(groups, y)))
    return v


def ga_theorem3(x_star, xs, ms, sigmas, psi_T, regret=None, form="printed"):
    r"""GA Theorem 3, eq (14):

    .. math::

        \mathcal R_T \le \Psi_T(x^*) + \sum_{t=1}^T \frac1{2\alpha_t}\|Q_t^{1/2}(x^* - x_t)\|_2^2
        + \frac12\sum_{t=1}^T \|m_t\|_{h_{t-1}^*}^2 .

    With the diagonal :math:`\Sigma_t = \sum_{s\le t} Q_s/\alpha_s = \sqrt{V_t}/\alpha_t`
    (the metric of the step, ``state["sigma"]`` of the Group family):

    * middle term :math:`h_T(x^*) = \tfrac12\sum_t\sum_i (\Sigma_t - \Sigma_{t-1})_i (x^*_i - x_{t,i})^2`
      (:math:`\Sigma_0 = 0`);
    * :math:`\|m\|_{h_t^*}^2 = \sum_i m_i^2/\Sigma_{t,i}` for ``t >= 1`` (``h_t`` is
      1-strongly convex w.r.t. :math:`\|\cdot\|_{\Sigma_t}`) and
      :math:`\|m\|_{h_0^*}^2 = \|m\|_2^2` (:math:`h_0 = \tfrac12\|x - c\|^2`). A
      coordinate with :math:`\Sigma_{t-1,i} = 0` and :math:`m_{t,i} \ne 0` makes the
      term infinite (the bound is then vacuous, reported as ``inf``).

    **Suspected error in (14) (``form="printed"`` vs ``"corrected"``).** App. C
    telescopes (40) down to :math:`h_0^*`; its last step
    :math:`h_1^*(-m_1) \le h_0^*(-m_1)` needs :math:`h_1 + \Psi_1 \ge h_0`, i.e.
    :math:`\Sigma_1 = \sqrt{V_1}/\alpha_1 \succeq I` (reported as the hypothesis
    ``"Sigma_1 >= I (h_1 >= h_0)"``), which nothing guarantees. Counterexample,
    ``T = 1``, no regularizer: :math:`f_1(x) = \tfrac a2 (x - b)^2`, :math:`x_1 = 0`,
    Adagrad (:math:`\Sigma_1 = |ab|/\alpha`): :math:`\mathcal R_1 = \tfrac12 ab^2` while
    (14) gives :math:`\tfrac12 \tfrac{|ab|}{\alpha} b^2 + \tfrac12 a^2b^2`, smaller when
    :math:`|b|/\alpha + a < 1` (``a = 0.5, b = 0.1, alpha = 1``: 0.0025 > 0.0015;
    ``tests/test_theory.py -k theorem3_printed``). Stopping the telescoping at
    :math:`h_1` and using :math:`\Psi_1 \ge 0`,
    :math:`h_1^*(-m_1) \le -\langle m_1, x_1\rangle + \tfrac12\|m_1\|^2_{h_1^*}`, gives (14) with
    the ``t = 1`` term :math:`\tfrac12\sum_i m_{1,i}^2/\Sigma_{1,i}` (``form="corrected"``;
    valid without the extra hypothesis). Lemma 1 (16) bounds exactly these
    terms, so Corollaries 1-2 follow from the corrected form (Lemma 2's
    redefinition of :math:`\|\cdot\|_{h_0^*}` becomes unnecessary).

    Parameters
    ----------
    x_star : array (n,)
        The comparator of eq (7) (:func:`~proxlab.theory.comparators.ga_comparator`).
    xs : array (T, n)
        ``x_1 .. x_T``, the points where ``g_t`` was taken.
    ms : array (T, n)
        ``m_1 .. m_T``, the first moments the update (6) used.
    sigmas : array (T, n)
        :math:`\Sigma_1 .. \Sigma_T`.
    psi_T : float
        :math:`\Psi_T(x^*)` (:func:`ga_psi` with the run's ``A_T``).
    regret : float, optional
        The measured :math:`\mathcal R_T`.
    form : {"printed", "corrected"}

    Notes
    -----
    The proof (App. C) also needs what the monitors check: (12) when ``gamma > 0``
    and the form (13) of ``m_t``; :math:`h_{t+1} \ge h_t`, :math:`\Psi_{t+1} \ge \Psi_t`
    (i.e. :math:`Q_t \succeq 0`, reported here as a hypothesis); and ``x_{t+1}`` the
    *exact* argmin of (6) (first inequality of (40)): the practical form of
    Algorithm 1 line 10 is not, unless the metric is constant inside each group.
    """
    if form not in ("printed", "corrected"):
        raise ValueError(f"form must be 'printed' or 'corrected', got {form!r}")
    xs = _traj("xs", xs)
    T, n = xs.shape
    x_star = _vec("x_star", x_star, n)
    ms = _traj("ms", ms, n, T)
    sigmas = _traj("sigmas", sigmas, n, T)
    psi_T = check_scalar("psi_T", psi_T, low=0.0)
    prev = np.vstack([np.zeros((1, n)), sigmas[:-1]])
    Q = sigmas - prev
    h_T = 0.5 * float(np.sum(Q * (x_star[None, :] - xs) ** 2))
    if form == "printed":
        dual = 0.5 * float(np.dot(ms[0], ms[0]))
    else:
        dual = 0.5 * _ratio_sum(ms[0] ** 2, sigmas[0])
    if T > 1:
        dual += 0.5 * _ratio_sum(ms[1:] ** 2, sigmas[:-1])
    bound = psi_T + h_T + dual
    holds = None if regret is None else bool(float(regret) <= bound)
    tiny = 1e-12 * max(1.0, float(np.abs(sigmas).max()))
    return BoundCheck(
        name=f"GA Theorem 3 regret bound ({form})", source="GA eq (14)", bound=bound,
        measured=None if regret is None else float(regret), holds=holds,
        terms={"psi_T(x*)": psi_T, "h_T(x*)": h_T, "dual_norm_sum/2": dual},
        constants={"T": T, "n": n},
        hypotheses={"Q_t >= 0 (h_t, A_t non-decreasing)": bool(np.all(Q >= -tiny)),
                    "fraction of steps with Q_t >= 0": float(np.mean(np.all(Q >= -tiny, axis=1))),
                    "Sigma_1 >= I (h_1 >= h_0, needed by the printed form)": bool(np.all(sigmas[0] >= 1.0))})


def ga_theorem3_from_trace(alg, trace, x_star, regret=None, form="printed"):
    """:func:`ga_theorem3` for a Group-family run recorded by
    :func:`proxlab.theory.trace.record` (fields ``sigma`` and, for momentum/Adam
    members, ``m``). ``Psi_T`` uses ``A_T = (Sigma_T + 2 lam2)/2`` for
    ``form="exact"`` and ``A = I`` for the practical form; the hypotheses add
    ``(13)`` (the form of ``m_t``) and whether the step was the exact argmin of (6)."""
    from .trace import ga_quantities

    q = ga_quantities(alg, trace)
    hp = alg.hyper
    A = None
    if alg.form == "exact":
        A = 0.5 * (q["sigma"][-1] + 2.0 * hp["lam2"])
    psi = ga_psi(x_star, hp["lam1"], hp["lam21"], hp["lam2"], alg.groups, A)
    out = ga_theorem3(x_star, q["x"], q["m"], q["sigma"], psi, regret, form)
    out.hypotheses["m_t = gamma m_{t-1} + g_t (13)"] = q["form13"]
    out.hypotheses["x_{t+1} exact argmin of (6)"] = q["exact_argmin"]
    out.constants["gamma"] = q["gamma"]
    return out


def ga_lemma1(gs, alpha, gamma, eta, kappa=None):
    r"""GA Lemma 1, eq (16), on the sequences (13) and (15) built from the gradients:

    .. math::

        m_t = \gamma m_{t-1} + g_t,\quad V_t = \eta V_{t-1} + \mathrm{diag}(g_t^2),\quad
        \sum_{t=1}^T \|m_t\|^2_{(\sqrt{V_t}/\alpha)^{-1}} < \frac{2\alpha}{1-\nu}\sum_{i=1}^d \|M_{T,i}\|_2 ,

    :math:`\nu = \max(\gamma, \kappa)`, under one of (1) :math:`\eta = 1` (then
    :math:`\kappa` plays no role and :math:`\nu = \gamma`, as in the proof, case a)) or
    (2) :math:`\eta < 1`, :math:`\eta \ge \gamma` and :math:`\kappa V_t \succeq V_{t-1}`
    for all ``t`` with :math:`\kappa < 1`.

    ``kappa=None`` uses the smallest kappa the run allows,
    :math:`\max_{t\ge2}\max_i V_{t-1,i}/V_{t,i}` (case 2 needs it ``< 1``). The
    left side uses ``0/0 := 0``. With every gradient zero both sides are 0 and
    the strict ``<`` of (16) fails (a degenerate case the proof ignores).

    **Remark on case 2.** :math:`\kappa V_t \succeq V_{t-1}` for every ``t``
    forces :math:`V_t \succeq \kappa^{-(t-1)} V_1`: the second moments must grow
    geometrically, while (15) with :math:`\|g_t\|_\infty \le G` keeps
    :math:`V_t \preceq G^2/(1-\eta)`. So on any run with bounded gradients
    the condition can hold only up to
    :math:`T \le 1 + \log(G^2/((1-\eta)\min_i V_{1,i}))/\log(1/\kappa)`
    (``constants["kappa_horizon"]``); the monitor
    :func:`proxlab.theory.monitors.ga_kappa_condition` reports where it fails.
    Also, App. D.1 case b) prints ``sum_s kappa^{t-s} sigma_s >= sum_s sigma_s``,
    backwards for ``kappa < 1``; the proof needs ``sigma_t sum_s kappa^{t-s} >= sum_s sigma_s``.
    """
    gs = _traj("gs", gs)
    T, n = gs.shape
    alpha = check_scalar("alpha", alpha, low=0.0, low_open=True)
    gamma = check_scalar("gamma", gamma, low=0.0, high=1.0, high_open=True)
    eta = check_scalar("eta", eta, low=0.0, high=1.0)
    ms = np.empty_like(gs)
    Vs = np.empty_like(gs)
    m = np.zeros(n)
    V = np.zeros(n)
    for t in range(T):
        m = gamma * m + gs[t]
        V = eta * V + gs[t] ** 2
        ms[t] = m
        Vs[t] = V
    lhs = alpha * _ratio_sum(ms ** 2, np.sqrt(Vs))
    M = np.sqrt(np.sum(ms ** 2, axis=0))
    if eta == 1.0:
        case, nu, kap = 1, gamma, math.nan
        hyp = {"case 1 (eta = 1)": True}
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            ratios = np.where(Vs[1:] > 0, Vs[:-1] / np.where(Vs[1:] > 0, Vs[1:], 1.0),
                              np.where(Vs[:-1] > 0, np.inf, 0.0))
        kap_run = float(ratios.max()) if T > 1 else 0.0
        kap = kap_run if kappa is None else check_scalar("kappa", kappa, low=0.0)
        case, nu = 2, max(gamma, kap)
        held = bool(T == 1 or np.all(ratios <= kap)) and kap < 1.0
        hyp = {"case 2: eta >= gamma": bool(eta >= gamma), "case 2: kappa < 1": bool(kap < 1.0),
               "case 2: kappa V_t >= V_{t-1} for all t": held}
    rhs = 2.0 * alpha / (1.0 - nu) * float(np.sum(M)) if nu < 1.0 else math.inf
    consts = {"T": T, "d": n, "alpha": alpha, "gamma": gamma, "eta": eta, "kappa": kap, "nu": nu, "case": case}
    if case == 2:
        G2 = float(np.max(gs ** 2))
        v1 = Vs[0][Vs[0] > 0]
        if v1.size and 0.0 < kap < 1.0 and G2 > 0:
            consts["kappa_horizon"] = 1.0 + math.log(G2 / ((1.0 - eta) * float(v1.min()))) / math.log(1.0 / kap)
    return BoundCheck(name="GA Lemma 1 moment inequality", source="GA eq (16) with (13), (15)", bound=rhs,
                      measured=lhs, holds=bool(lhs < rhs), terms={"sum_i ||M_{T,i}||": float(np.sum(M))},
                      constants=consts, hypotheses=hyp)


def ga_corollary(T, d, G, D1, D2, alpha, nu, lam1=0.0, lam21=0.0, lam2=0.0):
    r"""GA Corollaries 1-2, eqs (20) = (21) (printed identically):

    .. math::

        \mathcal R_T < dD_1\Big(\lambda_1 + \lambda_{21}\big(\tfrac{\sqrt T G}{2\alpha} + \lambda_2\big)^{1/2}
        + \lambda_2 D_1\Big) + dG\Big(\frac{D_2^2}{2\alpha} + \frac{\alpha}{(1-\nu)^2}\Big)\sqrt T .

    Returns the value (float). Derivation checked (App. D.2): (46) + (47) + (48)
    sum to exactly this. Remarks: (47) needs :math:`Q_s \succeq 0` (telescoping
    :math:`\sum_s Q_s = \sqrt{V_T}`), which case 2 of Lemma 1 implies; Corollary 1
    combines Theorem 3 (``t = 1`` term on :math:`h_0 = \tfrac12\|x - c\|_2^2`) with
    Lemma 2, which *redefines* :math:`\|\cdot\|_{h_0^*}^2 = \langle\cdot, \alpha_1((\delta^2+1)I)^{-1/2}\cdot\rangle`;
    the two are consistent only through the corrected Theorem 3 (see
    :func:`ga_theorem3`), whose ``t = 1`` term on :math:`h_1` is what Lemma 1 bounds.
    With that correction (20) follows as printed.
    """
    T = check_int("T", T, low=1)
    d = check_int("d", d, low=1)
    G = check_scalar("G", G, low=0.0)
    D1 = check_scalar("D1", D1, low=0.0)
    D2 = check_scalar("D2", D2, low=0.0)
    alpha = check_scalar("alpha", alpha, low=0.0, low_open=True)
    nu = check_scalar("nu", nu, low=0.0, high=1.0, high_open=True)
    lam1 = check_scalar("lam1", lam1, low=0.0)
    lam21 = check_scalar("lam21", lam21, low=0.0)
    lam2 = check_scalar("lam2", lam2, low=0.0)
    sT = math.sqrt(T)
    reg_part = d * D1 * (lam1 + lam21 * math.sqrt(sT * G / (2.0 * alpha) + lam2) + lam2 * D1)
    return reg_part + d * G * (D2 * D2 / (2.0 * alpha) + alpha / (1.0 - nu) ** 2) * sT


def ga_corollary_from_run(xs, gs, x_star, alpha, nu, lam1=0.0, lam21=0.0, lam2=0.0, regret=None, delta=None,
                          Vs=None):
    r"""Eq (20)/(21) with :math:`G = \max_t\|g_t\|_\infty`, :math:`D_1 = \|x^*\|_\infty`,
    :math:`D_2 = \max_t\|x_t - x^*\|_\infty`, ``d = n`` measured from the run.

    Hypotheses reported: Corollary 1's :math:`G \le \delta` (when ``delta``, the
    :math:`\delta` of Lemma 2's :math:`\delta^2 I + V_t`, is given) and Corollary 2's
    :math:`tG^2 I \succeq V_t` (when ``Vs``, the ``V_t`` of (15), is given).
    """
    xs = _traj("xs", xs)
    T, n = xs.shape
    gs = _traj("gs", gs, n, T)
    x_star = _vec("x_star", x_star, n)
    G = float(np.max(np.abs(gs))) if gs.size else 0.0
    D1 = float(np.max(np.abs(x_star)))
    D2 = float(np.max(np.abs(xs - x_star[None, :])))
    bound = ga_corollary(T, n, G, D1, D2, alpha, nu, lam1, lam21, lam2)
    hyp = {}
    if delta is not None:
        hyp["G <= delta (Cor. 1)"] = bool(G <= check_scalar("delta", delta, low=0.0))
    if Vs is not None:
        Vs = _traj("Vs", Vs, n, T)
        t = np.arange(1, T + 1)[:, None]
        hyp["t G^2 >= V_t (Cor. 2)"] = bool(np.all(Vs <= t * G * G * (1 + 1e-12)))
    return BoundCheck(name="GA Corollary 1-2 regret bound", source="GA eqs (20), (21)", bound=bound,
                      measured=None if regret is None else float(regret),
                      holds=None if regret is None else bool(float(regret) < bound),
                      constants={"T": T, "d": n, "G": G, "D1": D1, "D2": D2, "alpha": float(alpha), "nu": float(nu)},
                      hypotheses=hyp)


# ===================================================================== MRDA
def mrda_delta(betas, G, D, Q, sigma=0.0, w1_term=0.0):
    r""":math:`\Delta_t` of mrda.txt eq (49) for ``t = 1 .. T``:

    .. math::

        \Delta_t = Q + \beta_t D^2 + \frac{G^2}{2}\sum_{\tau=0}^{t-1}\frac1{\sigma\tau + \beta_\tau},
        \qquad \beta_0 = \max(\sigma, \beta_1)\ \text{(33)},

    plus ``w1_term`` (0 for the printed form; :math:`\langle g_1, w_1 - w_0\rangle`
    for the corrected form of :func:`mrda_lemma74`).

    Parameters
    ----------
    betas : array (T,)
        :math:`\beta_1 .. \beta_T`, non-negative and non-decreasing (Xiao's
        hypothesis), :math:`\beta_0 > 0`.
    G : float >= 0, :math:`\|g_t\|_* \le G` (32)
    D : float >= 0, :math:`h(w) \le D^2`
    Q : float >= 0, :math:`\Psi(w_1) \le Q` (34)
    sigma : float >= 0, the convexity parameter of :math:`\Psi`
    """
    betas = _vec("betas", betas)
    if betas.size == 0:
        raise ValueError("betas must have at least one entry")
    if np.any(betas < 0):
        raise ValueError("betas must be >= 0")
    if np.any(np.diff(betas) < 0):
        raise ValueError("betas must be non-decreasing (mrda.txt App. 7, assumption before (33))")
    G = check_scalar("G", G, low=0.0)
    D = check_scalar("D", D, low=0.0)
    Q = check_scalar("Q", Q, low=0.0)
    sigma = check_scalar("sigma", sigma, low=0.0)
    w1_term = check_scalar("w1_term", w1_term)
    b0 = max(sigma, float(betas[0]))
    if b0 <= 0:
        raise ValueError("beta_0 = max(sigma, beta_1) must be > 0 (33)")
    T = betas.size
    tau = np.arange(T, dtype=np.float64)
    den = sigma * tau + np.concatenate([[b0], betas[:-1]])  # sigma tau + beta_tau, tau = 0..T-1
    csum = np.cumsum(1.0 / den)
    return Q + w1_term + betas * D * D + 0.5 * G * G * csum


def mrda_lemma74(ws, gs, w, psi, betas, regrets=None, *, sigma=0.0, w0=None, D=None, form="printed"):
    r"""mrda.txt Lemma 7.4: :math:`R_t(w) \le \Delta_t` for every ``t`` and every
    :math:`w \in \mathcal F_D`, with the constants measured from the run:
    :math:`Q = \Psi(w_1)` (34), :math:`D^2 = h(w) = \tfrac12\|w - w_0\|_2^2` (the
    ``h`` of (29) / Algorithm 1), :math:`G = \max_t\|g_t\|_2` (32).

    **Suspected error (``form="printed"`` vs ``"corrected"``).** The proof sums, for
    :math:`\tau \ge 2`, :math:`\langle g_\tau, w_\tau - w_0\rangle + \Psi(w_{\tau+1}) \le
    V_{\tau-1}(-s_{\tau-1}) - V_\tau(-s_\tau) + \|g_\tau\|^2/(2(\sigma(\tau-1)+\beta_{\tau-1}))`,
    which uses :math:`\nabla V_{\tau-1}(-s_{\tau-1}) = \pi_{\tau-1}(-s_{\tau-1}) - w_0 = w_\tau - w_0`
    (41), (39). At :math:`\tau = 1` the same step gives :math:`\nabla V_0(-s_0) =
    \pi_0(0) - w_0 = 0`, which equals :math:`w_1 - w_0` only for Xiao's RDA
    (:math:`w_1 = w_0`). For the *modified* method (:math:`w_1` random, the point
    of the appendix) the printed ``tau = 1`` inequality
    :math:`\langle g_1, w_1 - w_0\rangle + \Psi(w_2) \le V_0 - V_1(-s_1) + \|g_1\|^2/(2\beta_0)`
    is missing :math:`\langle g_1, w_1 - w_0\rangle` on the right, and so is (49).
    Counterexample at ``t = 1``: :math:`\Psi = 0` (:math:`Q = 0`), :math:`f_1(w) = \langle g, w\rangle`,
    :math:`w = w_0 = 0` (so any ``D > 0`` works), :math:`\beta_1 = 1`, :math:`\|g\| = 1`,
    :math:`w_1 = 2g`: :math:`R_1(0) = \langle g, w_1\rangle = 2 > \Delta_1 = D^2 + 1/2`
    for ``D < 1.2``. ``form="corrected"`` adds :math:`\langle g_1, w_1 - w_0\rangle` to
    :math:`\Delta_t` (the proof then goes through unchanged). The extra term is a
    constant, so Thm 3.1's :math:`O(1/\sqrt t)` is unaffected.

    Parameters
    ----------
    ws : array (T, n), :math:`w_1 .. w_T` (the points where the gradients were taken)
    gs : array (T, n), :math:`g_1 .. g_T`
    w : array (n,), the comparator (e.g. :func:`~proxlab.theory.comparators.rda_comparator`)
    psi : Regularizer or callable, :math:`\Psi` (``psi.value`` or ``psi(w)``)
    betas : array (T,), :math:`\beta_1 .. \beta_T` of the run
    regrets : array (T,), optional, the measured :math:`R_t(w)`, ``t = 1..T``
    sigma : float, convexity parameter of :math:`\Psi` (0 for :math:`\lambda\|\cdot\|_1`)
    w0 : array (n,), the anchor (default 0, mrda.txt Algorithm 2)
    D : float > 0, optional; default the smallest admissible, ``sqrt(h(w))``
    form : {"printed", "corrected"}
    """
    ws = _traj("ws", ws)
    T, n = ws.shape
    gs = _traj("gs", gs, n, T)
    w = _vec("w", w, n)
    w0 = np.zeros(n) if w0 is None else _vec("w0", w0, n)
    if form not in ("printed", "corrected"):
        raise ValueError(f"form must be 'printed' or 'corrected', got {form!r}")
    val = psi.value if hasattr(psi, "value") else psi
    Q = float(val(ws[0]))
    D_min = math.sqrt(0.5 * float(np.dot(w - w0, w - w0)))
    D = D_min if D is None else check_scalar("D", D, low=0.0)
    if D < D_min * (1 - 1e-12):
        raise ValueError(f"D must satisfy h(w) <= D^2, i.e. D >= {D_min!r}, got {D!r}")
    G = float(np.max(np.linalg.norm(gs, axis=1)))
    w1 = float(np.dot(gs[0], ws[0] - w0))
    delta = mrda_delta(betas, G, D, Q, sigma, w1 if form == "corrected" else 0.0)
    if delta.size != T:
        raise ValueError(f"betas must have {T} entries (one per step), got {delta.size}")
    measured = None if regrets is None else _vec("regrets", regrets, T)
    holds = None if measured is None else bool(np.all(measured <= delta))
    return BoundCheck(name=f"MRDA Lemma 7.4 regret bound ({form})", source="mrda.txt eq (49), Lemma 7.4",
                      bound=delta, measured=measured, holds=holds,
                      constants={"Q": Q, "D": D, "G": G, "sigma": float(sigma), "<g_1, w_1 - w_0>": w1, "T": T},
                      hypotheses={"beta_1 >= sigma (beta_0 = beta_1, (47))": bool(betas[0] >= sigma),
                                  "w_1 = w_0 (Xiao's RDA; the printed Delta_t needs it)":
                                  bool(np.array_equal(ws[0], w0))},
                      terms={"w1_term": w1 if form == "corrected" else 0.0})


def mrda_lemma75(deltas, gaps=None):
    r"""mrda.txt Lemma 7.5 / eq (58): :math:`\mathbf E\phi(\bar w_t) - \phi^* \le \Delta_t / t`,
    :math:`\bar w_t = \frac1t\sum_{\tau\le t} w_\tau`.

    ``deltas`` is :math:`\Delta_1 .. \Delta_T` (:func:`mrda_delta` or the ``bound``
    of :func:`mrda_lemma74`, either form); ``gaps`` the measured
    :math:`\phi(\bar w_t) - \phi^*` (one run; the lemma is about the expectation,
    so a single stochastic run may exceed it; with the full gradient the
    statement is deterministic). Inherits the ``tau = 1`` issue of Lemma 7.4 for
    a random ``w_1`` (its proof ends with "the desired follows from that of
    Lemma 7.4").
    """
    deltas = _vec("deltas", deltas)
    t = np.arange(1, deltas.size + 1, dtype=np.float64)
    bound = deltas / t
    measured = None if gaps is None else _vec("gaps", gaps, deltas.size)
    return BoundCheck(name="MRDA Lemma 7.5 suboptimality bound", source="mrda.txt Lemma 7.5, eq (58)",
                      bound=bound, measured=measured,
                      holds=None if measured is None else bool(np.all(measured <= bound)),
                      constants={"T": int(deltas.size)})


# =============================================================== stationarity
def stationarity(x, grad, reg=None):
    r""":math:`\mathrm{dist}(0, \partial F(x))`, :math:`F = f + R`: the measure of
    proxgen.txt Thm 1 (:math:`\mathbb E\,\mathrm{dist}(0, \hat\partial F(\theta_a))^2`) and of
    ramda.txt Thm 2-3 (:math:`\mathrm{dist}(0, \partial F(\hat W_t)) \to 0`, eq (28)).

    ``grad`` is :math:`\nabla f(x)` (an array) or a callable ``x -> grad f(x)``
    (e.g. ``average_objective(problem).grad``); ``reg`` a catalogue regularizer
    (its ``lam`` included) or None. Exact for convex ``R``; for nonconvex
    separable ``R`` it uses ``R.subdiff_dist``'s limiting subdifferential
    (its interval hull), which contains the Fréchet one of proxgen.txt Def. 1,
    so it is a lower bound of the Fréchet distance where they differ.
    """
    from .comparators import _KKT_STEP

    x = _vec("x", x)
    g = grad(x) if callable(grad) else grad
    g = _vec("grad", g, x.size)
    if reg is None:
        return float(np.linalg.norm(g))
    from ..solvers._base import resolve_regularizer

    reg = resolve_regularizer(reg)
    return float(reg.subdiff_dist(x, x - _KKT_STEP * g, _KKT_STEP))


def stationarity_trace(X, grad_f, reg=None):
    """:func:`stationarity` of every row of ``X`` (K, n) (e.g. the recorded prox
    points); ``grad_f`` a callable ``x -> grad f(x)``."""
    X = _traj("X", X)
    if not callable(grad_f):
        raise TypeError("grad_f must be a callable x -> grad f(x)")
    from ..solvers._base import resolve_regularizer

    reg = resolve_regularizer(reg) if reg is not None else None
    return np.array([stationarity(x, grad_f(x), reg) for x in X])


def expected_stationarity_sq(dists):
    r""":math:`\mathbb E_a[\mathrm{dist}(0, \partial F(\theta_a))^2]` with :math:`\theta_a` uniform
    over the recorded iterates (proxgen.txt Thm 1's left-hand side): the mean of
    the squared distances."""
    d = _vec("dists", dists)
    if d.size == 0:
        raise ValueError("dists must not be empty")
    return float(np.mean(d * d))


def proxgen_step_bound(F_prev, F_cur, rho, G, L, gamma, step_sq, noise_sq, eps=0.0):
    r"""ramda.txt App. B.1 eq (40), the per-step bound behind proxgen.txt Thm 1
    (and ramda.txt Thm 4):

    .. math::

        \mathrm{dist}(0, \partial F(W_t))^2 \le 4\Big(2(F(W_{t-1}) - F(W_t)) + 8\rho_t^2 G^2
        + C_2\|W_t - W_{t-1}\|^2 + 4\|g_t - \nabla f(W_{t-1})\|^2 + \epsilon_t^2\Big),

    :math:`C_2 = 2 + 2L + 4L^2 + \gamma^{-2}` (with :math:`\rho_t = \rho_0\mu^{t-1}`,
    (C-3)). Every argument may be an array over ``t``; returns the right-hand side.
    The derivation (34)-(40) was re-checked term by term and is consistent; it
    needs (C-1)-(C-5) of ramda.txt (the monitors report them) and the descent
    half of (7). ``rho`` must be the momentum weight of the vector the step
    actually used (proxlab's ProxGen bias-corrects ``m_t``; ``bias_correction=0``
    is Algorithm 1 as printed).
    """
    F_prev = np.asarray(F_prev, dtype=np.float64)
    F_cur = np.asarray(F_cur, dtype=np.float64)
    rho = np.asarray(rho, dtype=np.float64)
    G = check_scalar("G", G, low=0.0)
    L = check_scalar("L", L, low=0.0)
    gamma = check_scalar("gamma", gamma, low=0.0, low_open=True)
    step_sq = np.asarray(step_sq, dtype=np.float64)
    noise_sq = np.asarray(noise_sq, dtype=np.float64)
    eps = np.asarray(eps, dtype=np.float64)
    if np.any(step_sq < 0) or np.any(noise_sq < 0):
        raise ValueError("step_sq and noise_sq are squared norms and must be >= 0")
    C2 = 2.0 + 2.0 * L + 4.0 * L * L + gamma ** -2
    return 4.0 * (2.0 * (F_prev - F_cur) + 8.0 * rho * rho * G * G + C2 * step_sq + 4.0 * noise_sq + eps * eps)
