r"""Offline comparators for regret and suboptimality, each with its certificate.

Three objectives, all of the form :math:`\Phi(x) = f(x) + c\,R(x)` with ``f`` a
:class:`~proxlab.simulations.problems.FiniteSumObjective` and ``R`` a convex
catalogue regularizer:

* :func:`ga_comparator` — :math:`x^* \in \arg\min_x \sum_{t=1}^T f_t(x)`, the
  comparator of the regret :math:`\mathcal R_T = \sum_t f_t(x_t) - \min_x \sum_t f_t(x)`
  (group-lasso-adaptive-optimizers.txt eq (7); no regularizer);
* :func:`rda_comparator` — :math:`x^* \in \arg\min_x \sum_{t=1}^T (f_t(x) + \Psi(x))`,
  the comparator of the regularized regret :math:`R_t(w)` of mrda.txt eq (48)
  (``c = T``);
* :func:`reference_optimum` — :math:`F^* = \min_x f(x) + R(x)` with ``f`` the sample
  average (proxgen.txt eq (1), ramda.txt eq (1), mrda.txt eq (3) and
  ``phi^*`` of Lemma 7.5), for suboptimality ``F(x) - F^*``.

**Solvers.** ``method="cvxpy"``: CVXPY with Clarabel at tight tolerances
(:data:`proxlab.oracles.cvxpy_oracle.TOL`), status checked, then a short
restarted-FISTA polish from the solver's point (the solver returns ~1e-11
where the solution has exact zeros, which a subdifferential test reads as
non-zero; the polish lands on the exact zeros). ``x_raw`` keeps the solver's own
point. ``method="fista"``: FISTA (Beck & Teboulle 2009) with backtracking from the
Lipschitz bound of ``f`` and the gradient-based adaptive restart of
O'Donoghue & Candès (2015), stopped when the certified residual below is
under the tolerance. ``method="auto"``: CVXPY when the problem is small
(``n <= 100`` and at most 4000 loss terms), FISTA otherwise.

**Certificates** (stored in :class:`ComparatorResult`):

* ``kkt_residual`` — :math:`\mathrm{dist}(0, \nabla f(x) + c\,\partial R(x))`,
  computed exactly with ``R.subdiff_dist`` (independent of the solver);
  ``x`` is a minimizer iff it is 0. ``ok`` requires
  ``kkt_residual <= tol * max(1, ||grad f(x_start)||)`` (``tol`` relative to the
  size of the initial gradient, stated in ``tolerance``);
* ``duality_gap`` — :math:`\Phi(x) - D(\theta)` for least squares and binary
  logistic losses with a norm regularizer (``l1`` with positive weights,
  ``group_l2`` covering every coordinate), where the Fenchel dual is available
  in closed form; NaN otherwise. With :math:`f(x) = \sum_i \phi_i(a_i^\top x)` and ``R`` a
  norm with dual norm :math:`R^\circ`,

  .. math::

      D(\theta) = -\sum_i \phi_i^*(-\theta_i)\quad\text{s.t.}\quad R^\circ(A^\top\theta) \le c,

  evaluated at :math:`\theta = s\,(-\phi'(Ax))` with the largest feasible
  :math:`s \le 1`. ``value - duality_gap`` is then a *certified lower bound* of
  the optimum (``lower_bound``); the gap is 0 exactly at the optimum.

Regret helpers: :func:`regret` (GA eq (7)) and :func:`rda_regret` (mrda.txt eq (48)).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .._validation import as_float_array, check_int, check_scalar

__all__ = ["ComparatorResult", "minimize", "ga_comparator", "rda_comparator", "reference_optimum", "kkt_residual",
           "duality_gap", "minimizer_exists", "regret", "rda_regret", "losses_at"]

METHODS = ("auto", "cvxpy", "fista")
#: step of the exact KKT test: dist(0, dR(x) + g/c) is read as subdiff_dist(x, x - S g / c, S),
#: whose rounding error is ~eps |x| / S + eps |g / c|
_KKT_STEP = 2.0 ** 20


@dataclass
class ComparatorResult:
    """A comparator and its certificate.

    Attributes
    ----------
    x : array
        The (polished) minimizer.
    value : float
        :math:`\\Phi(x) = f(x) + c R(x)`.
    kkt_residual : float
        :math:`\\mathrm{dist}(0, \\partial\\Phi(x))` (exact, from ``R.subdiff_dist``).
    duality_gap : float
        :math:`\\Phi(x) - D(\\theta)` where available, else NaN.
    tolerance : float
        The absolute KKT tolerance ``ok`` was judged against.
    method, status : str
    ok : bool
        Solver status usable **and** ``kkt_residual <= tolerance``.
    iterations : int
        FISTA iterations (for ``cvxpy``: of the polish).
    scale : float
        ``c``.
    objective : str
        What was minimized.
    x_raw : array or None
        The solver's own point (``cvxpy`` only).
    value_raw : float
        :math:`\\Phi(x_{raw})` (NaN without ``x_raw``).
    """

    x: np.ndarray
    value: float
    kkt_residual: float
    duality_gap: float
    tolerance: float
    method: str
    status: str
    ok: bool
    iterations: int
    scale: float
    objective: str = ""
    x_raw: np.ndarray | None = None
    value_raw: float = math.nan
    extra: dict = field(default_factory=dict)

    @property
    def lower_bound(self):
        """A certified lower bound of the optimum: ``value - duality_gap`` (NaN without a gap)."""
        return self.value - self.duality_gap if np.isfinite(self.duality_gap) else math.nan

    def certificate(self):
        """The certificate as a plain dict (for tables)."""
        return {"kkt_residual": self.kkt_residual, "duality_gap": self.duality_gap, "tolerance": self.tolerance,
                "lower_bound": self.lower_bound, "ok": self.ok, "status": self.status, "method": self.method}


# ------------------------------------------------------------------ helpers
def _resolve_reg(reg):
    if reg is None:
        return None
    from ..solvers._base import resolve_regularizer

    reg = resolve_regularizer(reg)
    if not reg.convex:
        raise ValueError(f"reg: the comparators need a convex regularizer (a certified global minimum); "
                         f"{reg.name} is nonconvex")
    return reg


def _check_f(f):
    for attr in ("value", "grad", "lipschitz", "n"):
        if not hasattr(f, attr):
            raise TypeError(f"f must be a FiniteSumObjective-like object with value/grad/lipschitz/n, got {f!r}")
    return f


def kkt_residual(f, reg, scale, x, grad=None):
    r""":math:`\mathrm{dist}(0, \nabla f(x) + c\,\partial R(x))` (Euclidean), exactly.

    Uses ``R.subdiff_dist(x, z, S)`` :math:`= \mathrm{dist}(0, \partial R(x) + (x - z)/S)`
    with :math:`z = x - S\nabla f(x)/c`, i.e. :math:`c\,\mathrm{dist}(0, \partial R(x) + \nabla f(x)/c)`.
    Without a regularizer (or ``c = 0``) it is :math:`\|\nabla f(x)\|_2`.
    """
    x = np.asarray(x, dtype=np.float64)
    g = f.grad(x) if grad is None else np.asarray(grad, dtype=np.float64)
    if reg is None or scale == 0.0:
        return float(np.linalg.norm(g))
    z = x - _KKT_STEP * g / scale
    return float(scale * reg.subdiff_dist(x, z, _KKT_STEP))


def _dual_norm(reg, v):
    """``R°(v)`` for the norms with a closed-form dual; None when not available."""
    if reg is None:
        return None
    if reg.name == "l1":
        wts = reg.lam * (np.ones(v.size) if reg.w is None else reg.w)
        if np.any(wts <= 0):
            return None
        return float(np.max(np.abs(v) / wts))
    if reg.name == "group_l2":
        G = reg.groups
        if G.idx.size != G.n or reg.lam <= 0 or np.any(G.weights <= 0):
            return None
        from ..regularizers.group import group_norms

        return float(np.max(group_norms(G, v) / (reg.lam * G.weights)))
    return None


def duality_gap(f, reg, scale, x):
    r"""Fenchel duality gap :math:`\Phi(x) - D(\theta(x))` (module docstring), or NaN.

    Available for ``f.kind`` in {"least_squares", "logistic"} with ``R`` an
    ``l1`` (positive weights) or ``group_l2`` (every coordinate in a group,
    positive weights) and ``c > 0``. Conjugates:
    :math:`\phi_i(u) = \tfrac{w_i}2 (u - b_i)^2 \Rightarrow -\phi_i^*(-\theta_i) = \theta_i b_i - \theta_i^2/(2w_i)`;
    :math:`\phi_i(u) = w_i\log(1 + e^{-b_i u}) \Rightarrow -\phi_i^*(-\theta_i) = w_i H(p_i)`,
    :math:`p_i = \theta_i b_i / w_i \in [0, 1]`, ``H`` the binary entropy.
    """
    if f.kind not in ("least_squares", "logistic") or reg is None or scale <= 0.0:
        return math.nan
    x = np.asarray(x, dtype=np.float64)
    u = f.A @ x
    if f.kind == "least_squares":
        theta = f.w * (f.b - u)
    else:
        theta = f.w * f.b * np.exp(-np.logaddexp(0.0, f.b * u))
    nd = _dual_norm(reg, f.A.T @ theta)
    if nd is None:
        return math.nan
    if nd > scale:
        theta = theta * (scale / nd)
    if f.kind == "least_squares":
        dual = float(np.dot(theta, f.b) - np.sum(theta * theta / (2.0 * f.w)))
    else:
        p = np.clip(theta * f.b / f.w, 0.0, 1.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            h = -(np.where(p > 0, p * np.log(p), 0.0) + np.where(p < 1, (1 - p) * np.log1p(-p), 0.0))
        dual = float(np.dot(f.w, h))
    primal = f.value(x) + scale * reg.value(x)
    return primal - dual


def _objective_value(f, reg, scale, x):
    v = f.value(x)
    if reg is not None and scale != 0.0:
        v += scale * reg.value(x)
    return float(v)


def _fista(f, reg, scale, x0, tol_abs, max_iter):
    """Restarted FISTA with backtracking; returns ``(x, iterations, residual, converged)``.

    The residual is the norm of the certified element
    ``L (y - x+) + grad f(x+) - grad f(y)`` of ``grad f(x+) + c dR(x+)``.
    """
    L = max(float(f.lipschitz()), 1e-12)
    use_prox = reg is not None and scale != 0.0
    x = x0.copy()
    y = x.copy()
    tk = 1.0
    fy, gy = f.value(y), f.grad(y)
    res = math.inf
    it = 0
    for it in range(1, max_iter + 1):
        while True:
            z = y - gy / L
            xn = reg.prox(z, scale / L).astype(np.float64) if use_prox else z
            d = xn - y
            fxn = f.value(xn)
            if fxn <= fy + float(gy @ d) + 0.5 * L * float(d @ d) + 1e-12 * (1.0 + abs(fy)):
                break
            L *= 2.0
        gxn = f.grad(xn)
        res = float(np.linalg.norm(L * (y - xn) + gxn - gy))
        if res <= tol_abs:
            return xn, it, res, True
        if float((y - xn) @ (xn - x)) > 0.0:  # gradient restart (O'Donoghue & Candes 2015)
            tk = 1.0
            y = xn
            fy, gy = fxn, gxn
        else:
            tn = 0.5 * (1.0 + math.sqrt(1.0 + 4.0 * tk * tk))
            y = xn + ((tk - 1.0) / tn) * (xn - x)
            tk = tn
            fy, gy = f.value(y), f.grad(y)
        x = xn
    return x, it, res, False


def _cvxpy_solve(f, reg, scale):
    import cvxpy as cp

    from ..oracles.cvxpy_oracle import TOL

    xv = cp.Variable(f.n)
    expr = f.cvxpy_expr(xv)
    if reg is not None and scale != 0.0:
        expr = expr + scale * reg.cvxpy_expr(xv)
    norm = max(f.total_weight, 1e-300)  # O(1) objective for the solver's tolerances
    problem = cp.Problem(cp.Minimize(expr / norm))
    try:
        problem.solve(solver=cp.CLARABEL, **TOL)
    except cp.error.SolverError as exc:  # reported, never hidden
        return None, f"solver error: {exc}", False
    status = problem.status
    usable = status in (cp.OPTIMAL, cp.OPTIMAL_INACCURATE) and xv.value is not None
    x = None if xv.value is None else np.asarray(xv.value, dtype=np.float64)
    if usable and not np.isfinite(x).all():
        usable = False
    return x, status, usable


def minimize(f, reg=None, scale=1.0, *, method="auto", tol=1e-9, max_iter=100_000, x0=None, objective=""):
    r"""Minimize :math:`\Phi(x) = f(x) + c\,R(x)` with a certificate.

    Parameters
    ----------
    f : FiniteSumObjective
    reg : convex Regularizer, name, ``(name, params)`` or None
    scale : float >= 0
        ``c``.
    method : {"auto", "cvxpy", "fista"}
    tol : float > 0
        Relative KKT tolerance: ``ok`` iff ``kkt_residual <= tol * max(1, ||grad f(x_start)||)``.
    max_iter : int
        FISTA iterations (also the cap of the CVXPY polish).
    x0 : array, FISTA start (default 0)

    Returns
    -------
    ComparatorResult
    """
    f = _check_f(f)
    reg = _resolve_reg(reg)
    scale = check_scalar("scale", scale, low=0.0)
    tol = check_scalar("tol", tol, low=0.0, low_open=True)
    max_iter = check_int("max_iter", max_iter, low=1)
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    n = f.n
    x_start = np.zeros(n) if x0 is None else as_float_array("x0", x0, ndim=1, dtype=np.float64)
    if x_start.shape[0] != n:
        raise ValueError(f"x0 must have {n} entries, got {x_start.shape[0]}")
    tol_abs = tol * max(1.0, float(np.linalg.norm(f.grad(x_start))))
    if method == "auto":
        terms = f.A.shape[0] * (f.n_classes or 1)
        method = "cvxpy" if (n <= 100 and terms <= 4000) else "fista"
    x_raw, value_raw, status = None, math.nan, "converged"
    if method == "cvxpy":
        x_raw, status, usable = _cvxpy_solve(f, reg, scale)
        if not usable:
            return ComparatorResult(np.full(n, np.nan), math.nan, math.nan, math.nan, tol_abs, "cvxpy (Clarabel)",
                                    str(status), False, 0, scale, objective, x_raw, math.nan)
        value_raw = _objective_value(f, reg, scale, x_raw)
        x, it, _, conv = _fista(f, reg, scale, x_raw, tol_abs, max_iter)
        label = "cvxpy (Clarabel) + FISTA polish"
    else:
        x, it, _, conv = _fista(f, reg, scale, x_start, tol_abs, max_iter)
        label = "FISTA (restart, backtracking)"
        status = "converged" if conv else f"max_iter ({max_iter}) reached"
    res = kkt_residual(f, reg, scale, x)
    gap = duality_gap(f, reg, scale, x)
    ok = bool(res <= tol_abs)
    return ComparatorResult(x, _objective_value(f, reg, scale, x), res, gap, tol_abs, label, str(status), ok, it,
                            scale, objective, x_raw, value_raw)


def minimizer_exists(f, tol=1e-7):
    """Whether a logistic / softmax finite sum attains its infimum.

    A sum of logistic losses has a minimizer iff there is no direction ``w`` with
    every margin ``b_i a_i . w >= 0`` and one of them ``> 0`` (along such a ray
    the sum decreases strictly for ever). Decided by the LP
    ``max sum_i margin_i  s.t.  margin >= 0, ||w||_inf <= 1`` (Clarabel): a
    minimizer exists iff the optimum is ``<= tol``. Softmax: the margins
    ``(a_i W)_{b_i} - (a_i W)_k`` for every ``k``. Least squares: always ``True``.

    Returns
    -------
    (exists, lp_value) : (bool, float)
    """
    if f.kind == "least_squares":
        return True, 0.0
    import cvxpy as cp

    from ..oracles.cvxpy_oracle import TOL

    scale = 1.0 / max(1.0, float(np.abs(f.A).max()))
    A = f.A * scale
    if f.kind == "logistic":
        w = cp.Variable(A.shape[1])
        margins = cp.multiply(f.b, A @ w)
    else:
        K = f.n_classes
        w = cp.Variable((A.shape[1], K))
        Z = A @ w
        onehot = np.zeros((A.shape[0], K))
        onehot[np.arange(A.shape[0]), f.b] = 1.0
        zy = cp.sum(cp.multiply(onehot, Z), axis=1)
        margins = cp.reshape(zy, (A.shape[0], 1), order="C") @ np.ones((1, K)) - Z
    problem = cp.Problem(cp.Maximize(cp.sum(margins) / A.shape[0]), [margins >= 0, cp.abs(w) <= 1])
    problem.solve(solver=cp.CLARABEL, **TOL)
    val = float(problem.value) if problem.value is not None else math.nan
    if problem.status not in (cp.OPTIMAL, cp.OPTIMAL_INACCURATE):
        raise RuntimeError(f"minimizer_exists: the LP ended with status {problem.status!r}")
    return bool(val <= tol), val


# ------------------------------------------------------------- comparators
def ga_comparator(problem, T, *, method="auto", tol=1e-9, max_iter=100_000, check_existence=True):
    r""":math:`x^* \in \arg\min_x \sum_{t=1}^T f_t(x)` (group-lasso-adaptive-optimizers.txt eq (7)).

    Theorem 3 assumes this minimizer exists. For logistic/softmax losses it
    need not (separable data); with ``check_existence`` the LP of
    :func:`minimizer_exists` decides first, and when no minimizer exists the
    result has ``ok = False``, ``status`` saying so, ``x`` the FISTA point after
    ``min(max_iter, 2000)`` iterations (its value is an upper bound of the
    infimum) and ``extra["infimum_lower_bound"] = 0`` (the losses are >= 0).
    """
    from ..simulations.problems import cumulative_objective

    f = cumulative_objective(problem, T)
    label = f"argmin sum_{{t<=T}} f_t, T = {T} (GA eq (7))"
    if check_existence and f.kind != "least_squares":
        exists, lp = minimizer_exists(f)
        if not exists:
            res = minimize(f, None, 0.0, method="fista", tol=tol, max_iter=min(max_iter, 2000), objective=label)
            res.ok = False
            res.status = (f"no minimizer: the data admit a recession direction (LP margin sum {lp:.3g} > 0, "
                          f"separable); x is an approximate infimizer")
            res.extra["infimum_lower_bound"] = 0.0
            return res
    return minimize(f, None, 0.0, method=method, tol=tol, max_iter=max_iter, objective=label)


def rda_comparator(problem, T, reg, *, method="auto", tol=1e-9, max_iter=100_000):
    r""":math:`x^* \in \arg\min_x \sum_{t=1}^T (f_t(x) + \Psi(x)) = \arg\min_x \sum_t f_t(x) + T\Psi(x)`,
    the comparator of the regularized regret of mrda.txt eq (48)."""
    from ..simulations.problems import cumulative_objective

    T = check_int("T", T, low=1)
    f = cumulative_objective(problem, T)
    return minimize(f, reg, float(T), method=method, tol=tol, max_iter=max_iter,
                    objective=f"argmin sum_{{t<=T}} (f_t + Psi), T = {T} (mrda.txt eq (48))")


def reference_optimum(problem, reg=None, *, method="auto", tol=1e-9, max_iter=100_000):
    r""":math:`F^* = \min_x f(x) + R(x)`, ``f`` the sample average of the problem's rows
    (:func:`~proxlab.simulations.problems.average_objective`); ``result.value`` is
    ``F^*`` (up to the certificate), ``result.lower_bound`` a certified lower bound
    where the duality gap is available."""
    from ..simulations.problems import average_objective

    f = average_objective(problem)
    return minimize(f, reg, 1.0, method=method, tol=tol, max_iter=max_iter, objective="F* = min f + R")


# ------------------------------------------------------------------ regret
def regret(losses, comparator_value, T=None):
    r""":math:`\mathcal R_T = \sum_{t=1}^T f_t(x_t) - \sum_{t=1}^T f_t(x^*)` (GA eq (7)).

    ``losses[t-1] = f_t(x_t)`` (``run(..., record=("loss",))`` records exactly
    this), ``comparator_value`` = :math:`\min_x \sum_{t\le T} f_t` (a
    :class:`ComparatorResult` or a float), ``T`` defaults to ``len(losses)``.
    """
    losses = as_float_array("losses", losses, ndim=1, dtype=np.float64)
    T = losses.size if T is None else check_int("T", T, low=1)
    if T > losses.size:
        raise ValueError(f"T = {T} exceeds the number of recorded losses ({losses.size})")
    v = comparator_value.value if isinstance(comparator_value, ComparatorResult) else float(comparator_value)
    return float(np.sum(losses[:T]) - v)


def rda_regret(losses, psi_values, comparator_value, T=None):
    r""":math:`R_T(w) = \sum_{t\le T}(f_t(w_t) + \Psi(w_t)) - \sum_{t\le T}(f_t(w) + \Psi(w))`
    (mrda.txt eq (48)); ``psi_values[t-1] = Psi(w_t)``, ``comparator_value`` the
    value of :func:`rda_comparator` (which already counts ``T Psi(w)``)."""
    losses = as_float_array("losses", losses, ndim=1, dtype=np.float64)
    psi_values = as_float_array("psi_values", psi_values, ndim=1, dtype=np.float64)
    if psi_values.shape != losses.shape:
        raise ValueError(f"psi_values must have the shape of losses {losses.shape}, got {psi_values.shape}")
    T = losses.size if T is None else check_int("T", T, low=1)
    if T > losses.size:
        raise ValueError(f"T = {T} exceeds the number of recorded losses ({losses.size})")
    v = comparator_value.value if isinstance(comparator_value, ComparatorResult) else float(comparator_value)
    return float(np.sum(losses[:T]) + np.sum(psi_values[:T]) - v)


def losses_at(problem, x, T):
    """``[f_1(x), ..., f_T(x)]`` from the problem's own loss oracle (e.g. the
    comparator's per-step losses, for the regret ``R_t(w)`` at every ``t``)."""
    T = check_int("T", T, low=1)
    if problem.loss is None:
        raise ValueError("problem: it has no loss oracle")
    x = np.ascontiguousarray(np.asarray(x, dtype=np.float64))
    return np.array([problem.loss(x, t, problem.data) for t in range(1, T + 1)])
