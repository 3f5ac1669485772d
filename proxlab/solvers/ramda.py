"""RAMDA: regularized adaptive momentum dual averaging, ramda.txt Algorithm 1.

At step ``t`` (``t = 1, 2, ...``; reset to 1 by a restart) with the stochastic
gradient ``G_t`` at ``W_{t-1}``::

    s_t     = eta_t sqrt(t)                                          (2)
    V_t     = V_{t-1} + s_t G_t,    U_t = U_{t-1} + s_t G_t o G_t    (2)
    P_t     = Diag(cbrt(U_t) + eps),  alpha_t = sum_{k<=t} s_k       (3)
    W_hat_t = argmin_W  Q_t(W) := alpha_t psi(W) + <V_t, W>
                                   + 1/2 <W - W0, P_t (W - W0)>      (4)
    W_t     = (1 - c_t) W_{t-1} + c_t W_hat_t                        (5)

``eps`` is added outside the cube root (the proof of Thm 2 writes
``P_t / alpha_t = alpha_t^{-2/3} Diag(cbrt(U_t / alpha_t)) + (eps / alpha_t) I``,
and so do MADGRAD and the public code).

**The subproblem as a metric prox.** Completing the square in (4)::

    Q_t(W) = alpha_t psi(W) + 1/2 sum_i P_i (W_i - W0_i + V_i / P_i)^2 + const
           = alpha_t [ psi(W) + 1/(2 alpha_t) sum_i P_i (W_i - z_i)^2 ] + const,
    z      = W0 - V_t / P_t,

so ``W_hat_t = argmin psi(W) + (1/(2 step)) sum_i d_i (W_i - z_i)^2`` with
``reg = psi`` (its ``lam`` inside), ``center = z``, ``step = alpha_t``,
``d = diag(P_t)`` (:class:`Subproblem`); its objective is ``Q_t / alpha_t``
up to a constant, so a subgradient ``s`` of the Subproblem objective is
``s_Q / alpha_t`` for the subgradient ``s_Q`` of ``Q_t``.

**Subproblem solvers** (``subproblem_solver``):

* ``"exact"`` (default): :func:`proxlab.regularizers._dispatch.prox_metric_dispatch`
  inside the fused kernel (closed forms; the secular root for the group lasso);
* ``"pg"``: ramda.txt Algorithm 2 — warm start ``Z_0 = W_{t-1}``, step
  ``theta = alpha_t / max diag P_t`` (the printed ``alpha_t theta_t`` with
  ``theta_t = 1 / max diag P_t``), ``theta`` halved for a nonconvex ``psi``,
  ``Z_j = prox_{theta psi}(Z_{j-1} - theta (V_t + P_t (Z_{j-1} - W0)) / alpha_t)``,
  stopped by condition (7) on ``Q_t`` as printed,
  ``min_{s in dQ_t(Z_j)} ||s|| <= eps_t`` and ``Q_t(Z_j) <= Q_t(W_{t-1})``
  (the certified element of ``dQ_t`` is ``alpha_t`` times the solver's element of
  ``d(Q_t/alpha_t)``, so the solver is called with tolerance ``eps_t / alpha_t``),
  with ``eps_t = pg_eps t^(-pg_eps_decay)`` (``pg_eps_decay > 1/2`` gives
  ``sum eps_t^2 < inf``, condition (8)), by the public code's relative-decrease
  rule when ``pg_rtol`` is given, or after ``pg_max_iter`` iterations; the group
  lasso uses the screening of :func:`proxlab.solvers.subproblem.group_l2_prox_pg`;
* ``"newton"``: ProxSSI's Newton-Raphson per group (group lasso only; every other
  regularizer takes the exact prox).

The last step's solver report is kept in the scalar state (``sub_iterations``,
``sub_residual`` = the measure of (7) on ``Q_t``, ``sub_screened`` = groups fixed
to zero by the exact test ``||d_g z_g|| <= alpha_t lam w_g``) and, for the
Python-level solvers, as a :class:`~proxlab.solvers.subproblem.ProxInfo` in
``last_solver_info``. The exact fused kernel records ``sub_iterations`` and
``sub_residual`` as NaN (not measured) and the number of zero groups.

**Restart** (ramda.txt App. A.1, the public code's milestone scheduler):
:meth:`RAMDA.restart` sets ``t``, ``alpha``, ``V``, ``U`` to 0, re-anchors
``W0 := W`` and multiplies ``lr`` and ``eps`` by the given factors (``gamma``).

With ``psi = 0`` (``regularizer=None`` or every ``lam`` 0) this is MADGRAD
exactly: ``madgrad.MADGRAD(lr=lr - eps, momentum=1 - c, eps=eps)`` (the package
adds ``eps`` to ``lr`` internally, reference-implementations.md takeaway 1).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from .._validation import check_int, check_scalar
from ..regularizers._dispatch import prox_metric_dispatch
from ._base import Algorithm, Subproblem, check_lr, register
from .subproblem import ProxInfo, group_l2_prox_newton, group_l2_prox_pg, prox_metric_pg

SOLVERS = ("exact", "pg", "newton")


# ------------------------------------------------------------------ helpers
def check_weight(value, name="c"):
    """An averaging weight on the new point, in (0, 1] (1: no averaging)."""
    return check_scalar(name, value, low=0.0, high=1.0, low_open=True)


def count_zero_groups(reg, x):
    """Number of groups of a grouped regularizer that are exactly zero in ``x``."""
    groups = getattr(reg, "groups", None)
    if groups is None:
        return 0
    return int(np.count_nonzero(groups.norms(x) == 0.0))


def solve_subproblem(sub, solver="exact", *, x0=None, eps=1e-6, max_iter=100, rtol=None,
                     newton_tol=1e-7, newton_max_iter=100):
    """Solve a :class:`Subproblem` with one of the solvers of
    :mod:`proxlab.solvers.subproblem`; returns ``(x, ProxInfo)``.

    ``"exact"``: the catalogue's own prox (closed form or secular root; the info
    has NaN iterations/residual: not measured). ``"pg"``: ramda.txt Algorithm 2
    (group lasso with screening, any other regularizer by
    :func:`~proxlab.solvers.subproblem.prox_metric_pg`) from ``x0`` with the
    tolerance ``eps`` on the subproblem's own objective. ``"newton"``: ProxSSI's
    Newton for the group lasso; other regularizers fall back to ``"exact"``.
    """
    reg = sub.reg
    if reg is None:
        return sub.center.copy(), ProxInfo(0, 0, 0.0, 0, True, "none (no regularizer)", "tolerance")
    is_group = reg.name == "group_l2"
    if solver == "pg":
        if is_group:
            return group_l2_prox_pg(sub.center, sub.step, sub.d, reg.groups, reg.params["lam"], eps=eps,
                                    max_iter=max_iter, rtol=rtol, x0=x0)
        return prox_metric_pg(reg, sub.center, sub.step, sub.d, eps=eps, max_iter=max_iter, x0=x0)
    if solver == "newton" and is_group:
        return group_l2_prox_newton(sub.center, sub.step, sub.d, reg.groups, reg.params["lam"], tol=newton_tol,
                                    max_iter=newton_max_iter)
    x = sub.solve()
    return x, ProxInfo(0, 0, math.nan, count_zero_groups(reg, x), True, "exact", "tolerance")


class _SolverOptions:
    """Mixin: a ``subproblem_solver`` choice; the non-exact solvers run the
    Python path (subproblem -> solver -> ``_advance``)."""

    subproblem_solver = "exact"
    last_solver_info = None

    def _set_solver(self, subproblem_solver, pg_eps, pg_eps_decay, pg_max_iter, pg_rtol, newton_tol,
                    newton_max_iter):
        if subproblem_solver not in SOLVERS:
            raise ValueError(f"subproblem_solver must be one of {SOLVERS}, got {subproblem_solver!r}")
        self.subproblem_solver = subproblem_solver
        self.pg_eps = check_scalar("pg_eps", pg_eps, low=0.0)
        self.pg_eps_decay = check_scalar("pg_eps_decay", pg_eps_decay, low=0.0)
        self.pg_max_iter = check_int("pg_max_iter", pg_max_iter, low=1)
        self.pg_rtol = None if pg_rtol is None else check_scalar("pg_rtol", pg_rtol, low=0.0)
        self.newton_tol = check_scalar("newton_tol", newton_tol, low=0.0, low_open=True)
        self.newton_max_iter = check_int("newton_max_iter", newton_max_iter, low=1)

    def _python_solver(self):
        """True when the configured solver is not the fused exact kernel."""
        reg = self.regularizer
        if reg is None or self.subproblem_solver == "exact":
            return False
        return not (self.subproblem_solver == "newton" and reg.name != "group_l2")

    def inexact_eps(self, t):
        """``eps_t = pg_eps * t^(-pg_eps_decay)`` of condition (7)."""
        return self.pg_eps * float(t) ** (-self.pg_eps_decay)

    def _objective_scale(self, state, sub):
        """Factor from the Subproblem objective to the paper's objective."""
        return 1.0

    def _solve(self, state, sub):
        t = state.t + 1
        scale = self._objective_scale(state, sub)
        solver = self.subproblem_solver if self._python_solver() else "exact"
        x, info = solve_subproblem(sub, solver, x0=state["x"], eps=self.inexact_eps(t) / scale,
                                   max_iter=self.pg_max_iter, rtol=self.pg_rtol, newton_tol=self.newton_tol,
                                   newton_max_iter=self.newton_max_iter)
        info.residual = info.residual * scale  # the measure of (7) on the paper's objective
        self.last_solver_info = info
        return x, info

    def step(self, state, grad):
        if self._python_solver():
            return self.step_python(state, grad)
        self.last_solver_info = None
        return super().step(state, grad)

    def step_python(self, state, grad):
        grad = self._check_grad(state, grad)
        if grad is None:
            return state["x"]
        sub = self.subproblem(state, grad)
        x, info = self._solve(state, sub)
        self._advance(state, grad, x)
        self._record(state, info)
        state["t"] = state.t + 1
        return state["x"]

    def _record(self, state, info):
        sc = state["sc"]
        k = state.scalars.index("sub_iterations")
        sc[k] = math.nan if info.method == "exact" else info.iterations
        sc[k + 1] = info.residual
        sc[k + 2] = info.n_screened


# ------------------------------------------------------------------- kernel
@njit(cache=True, error_model="numpy")
def ramda_kernel(t, x, g, S, sc, h, kind, rp, idx, ptr, gw, work):
    lr, c, eps = h[0], h[1], h[2]
    s = lr * math.sqrt(t)
    alpha = sc[0] + s
    W0 = S[0]
    V = S[1]
    U = S[2]
    What = S[3]
    d = work[0]
    n = x.shape[0]
    for i in range(n):
        gi = np.float64(g[i])
        vi = V[i] + s * gi
        ui = U[i] + s * gi * gi
        V[i] = vi
        U[i] = ui
        d[i] = ui
    cb = np.cbrt(d)  # array cube root (a scalar cbrt in the loop is ~15x slower)
    for i in range(n):
        pi = cb[i] + eps
        d[i] = pi
        What[i] = W0[i] - np.float64(V[i]) / pi  # the center z = W0 - V / P
    nz = prox_metric_dispatch(kind, rp, idx, ptr, gw, What, alpha, d, What, work[1])
    for i in range(n):
        x[i] = (1.0 - c) * x[i] + c * What[i]
    sc[0] = alpha
    sc[1] = np.nan
    sc[2] = np.nan
    sc[3] = nz


@register
class RAMDA(_SolverOptions, Algorithm):
    """Regularized adaptive momentum dual averaging (ramda.txt Algorithm 1).

    .. math::

        s_t = \\eta \\sqrt{t},\\quad V_t = V_{t-1} + s_t G_t,\\quad
        U_t = U_{t-1} + s_t G_t \\circ G_t \\qquad (2)

        P_t = \\mathrm{Diag}(\\sqrt[3]{U_t} + \\epsilon),\\quad
        \\alpha_t = \\textstyle\\sum_{k \\le t} s_k \\qquad (3)

        \\hat W_t = \\arg\\min_W \\alpha_t \\psi(W) + \\langle V_t, W\\rangle
        + \\tfrac12 \\langle W - W_0, P_t (W - W_0)\\rangle
        = \\mathrm{prox}^{P_t}_{\\alpha_t \\psi}(W_0 - P_t^{-1} V_t) \\qquad (4)

        W_t = (1 - c) W_{t-1} + c \\hat W_t \\qquad (5)

    Parameters
    ----------
    regularizer : Regularizer, name or (name, params)
        ``psi`` (its ``lam`` included); ``None`` for none (MADGRAD).
    lr : float > 0, default 1e-2
        ``eta`` (constant within a stage; the public package's default).
    c : float in (0, 1], default 0.1
        ``c_t``, the weight on the new point ``W_hat_t`` in (5) (1: no averaging).
        The public code calls it ``momentum``; MADGRAD's momentum is ``1 - c``.
    eps : float > 0, default 1e-6
        ``epsilon`` of (3), outside the cube root.
    subproblem_solver : {"exact", "pg", "newton"}, default "exact"
        See the module docstring.
    pg_eps, pg_eps_decay : float >= 0, defaults 1e-6, 1.0
        ``eps_t = pg_eps t^(-pg_eps_decay)`` of condition (7) (``pg`` only).
    pg_max_iter : int, default 100
        ``T_2`` of Algorithm 2 (the public code's ``max_iters``).
    pg_rtol : float or None, default None
        The public code's early stop ``(Q(Z_{j-1}) - Q(Z_j)) / (|Q(Z_j)| + 1) < rtol``
        (its default 1e-8); ``None``: condition (7) and ``T_2`` only.
    newton_tol, newton_max_iter : ProxSSI Newton's tolerance and cap (``newton``).

    Notes
    -----
    State: ``W0`` (anchor), ``V``, ``U`` (the sums of (2)), ``W_hat`` (the prox
    point, exactly structured), ``x`` (``W_t``, the averaged iterate: not exactly
    sparse when ``c < 1``, reference-implementations.md takeaway 4); scalars
    ``alpha`` and the last subproblem report.
    """

    name = "ramda"
    family = "RAMDA"
    source = "RAMDA Alg. 1, eqs (2)-(5)"
    parent = "MADGRAD (lr_M = lr - eps, momentum = 1 - c)"
    defaults = {"lr": 1e-2, "c": 0.1, "eps": 1e-6}
    fields = ("W0", "V", "U", "W_hat")
    scalars = ("alpha", "sub_iterations", "sub_residual", "sub_screened")
    prox_point_field = "W_hat"
    _kernel = ramda_kernel

    def __init__(self, regularizer=None, nan_policy="raise", subproblem_solver="exact", pg_eps=1e-6,
                 pg_eps_decay=1.0, pg_max_iter=100, pg_rtol=None, newton_tol=1e-7, newton_max_iter=100, **hyper):
        super().__init__(regularizer=regularizer, nan_policy=nan_policy, **hyper)
        self._set_solver(subproblem_solver, pg_eps, pg_eps_decay, pg_max_iter, pg_rtol, newton_tol,
                         newton_max_iter)

    def _check_hyper(self, hyper):
        hyper["lr"] = check_lr(hyper["lr"])
        hyper["c"] = check_weight(hyper["c"], "c")
        hyper["eps"] = check_scalar("eps", hyper["eps"], low=0.0, low_open=True)
        return hyper

    def _init_state(self, state):
        state["W0"][:] = state["x"]
        state["W_hat"][:] = state["x"]

    def _sums(self, state, grad):
        """``(s_t, alpha_t, V_t, U_t, P_t)`` of (2)-(3) in float64, state untouched."""
        t = state.t + 1
        s = self.hyper["lr"] * math.sqrt(t)
        g = grad.astype(np.float64)
        V = state["V"].astype(np.float64) + s * g
        U = state["U"].astype(np.float64) + s * g * g
        P = np.cbrt(U) + self.hyper["eps"]
        return s, state.scalar("alpha") + s, V, U, P

    def subproblem(self, state, grad):
        """(4) as ``argmin psi(W) + (1/(2 alpha_t)) sum_i P_i (W_i - z_i)^2``,
        ``z = W0 - V_t / P_t`` (its objective is ``Q_t / alpha_t`` + const)."""
        _, alpha, V, _, P = self._sums(state, grad)
        center = (state["W0"].astype(np.float64) - V / P).astype(state["x"].dtype)
        return Subproblem(self.regularizer, center, alpha, P)

    def _objective_scale(self, state, sub):
        return sub.step  # Q_t = alpha_t * (Subproblem objective) + const

    def _advance(self, state, grad, prox_point):
        _, alpha, V, U, _ = self._sums(state, grad)
        c = self.hyper["c"]
        state["V"][:] = V
        state["U"][:] = U
        state["W_hat"][:] = prox_point
        state["x"][:] = (1.0 - c) * state["x"] + c * state["W_hat"]
        state["sc"][0] = alpha
        if not self._python_solver():
            self._record(state, ProxInfo(0, 0, math.nan, count_zero_groups(self.regularizer, prox_point),
                                         True, "exact"))

    def restart(self, state, lr_factor=0.1, eps_factor=0.1):
        """ramda.txt App. A.1 restart at a stage boundary (in place).

        ``t := 0`` (the next step is ``t = 1``), ``alpha := 0``, ``V := 0``,
        ``U := 0``, ``W0 := W`` (the current averaged iterate), ``lr *= lr_factor``,
        ``eps *= eps_factor`` (the public scheduler's ``gamma = 0.1`` for both).
        ``c`` is kept (its schedule continues). Afterwards one step equals one step
        of a fresh ``RAMDA(lr=lr*lr_factor, eps=eps*eps_factor)`` started at ``W``.
        """
        lr_factor = check_scalar("lr_factor", lr_factor, low=0.0, low_open=True)
        eps_factor = check_scalar("eps_factor", eps_factor, low=0.0, low_open=True)
        lr = check_lr(self.hyper["lr"] * lr_factor)
        eps = check_scalar("eps", self.hyper["eps"] * eps_factor, low=0.0, low_open=True)
        self.hyper["lr"], self.hyper["eps"] = lr, eps
        state["W0"][:] = state["x"]
        state["V"][:] = 0.0
        state["U"][:] = 0.0
        state["sc"][:] = 0.0
        state["t"] = 0
        return state

    @classmethod
    def examples(cls, rng):
        from .. import regularizers

        n = 12
        mixed = [np.arange(0, 5), np.arange(5, 6), np.array([6, 8, 10]), np.array([7, 9])]  # 11 in no group
        return [
            cls(regularizer=regularizers.get("group_l2", lam=0.05, n=n, groups=mixed), lr=0.05),
            cls(regularizer=regularizers.get("l1", lam=0.02), lr=0.1, c=0.5),
            cls(regularizer=regularizers.get("mcp", lam=0.05, gamma=3.0), lr=0.1, c=1.0),
            cls(regularizer=regularizers.get("l_half", lam=0.01), lr=0.05, eps=1e-3),
            cls(regularizer=regularizers.get("sparse_group_lasso", lam1=0.01, lam21=0.03, n=n, groups=4), lr=0.1),
            cls(regularizer=None, lr=0.01),
        ]
