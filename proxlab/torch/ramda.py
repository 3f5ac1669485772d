r"""RAMDA: regularized adaptive momentum dual averaging (ramda.txt Algorithm 1)
as a torch optimizer, mirroring :class:`proxlab.solvers.ramda.RAMDA`.

At a parameter's step ``t = 1, 2, ...`` (reset to 1 by :meth:`RAMDA.restart`)
with the stochastic gradient ``G_t`` at ``W_{t-1}``:

.. math::

    s_t &= \eta_t \sqrt t,\qquad V_t = V_{t-1} + s_t G_t,\qquad
    U_t = U_{t-1} + s_t\, G_t \circ G_t \qquad (2)\\
    P_t &= \mathrm{Diag}\big(\sqrt[3]{U_t} + \epsilon\big),\qquad
    \alpha_t = \textstyle\sum_{k \le t} s_k \qquad (3)\\
    \hat W_t &= \arg\min_W\ \alpha_t \psi(W) + \langle V_t, W\rangle
        + \tfrac12 \langle W - W_0, P_t (W - W_0)\rangle
      = \operatorname{prox}^{P_t}_{\alpha_t\psi}\big(W_0 - P_t^{-1} V_t\big) \qquad (4)\\
    W_t &= (1 - c)\, W_{t-1} + c\, \hat W_t \qquad (5)

(completing the square in (4): center ``z = W0 - V_t / P_t``, step
``alpha_t``, metric ``diag P_t``). ``eps`` is outside the cube root (the proof
of Thm 2, MADGRAD and the public code).

Subproblem solvers (param-group key ``subproblem_solver``)
----------------------------------------------------------
* ``"exact"`` (default): :func:`proxlab.torch.prox.prox_metric` (closed forms;
  the secular root for the group lasso);
* ``"pg"``: ramda.txt Algorithm 2 warm-started at ``W_{t-1}``
  (:func:`proxlab.torch.subproblem.group_l2_prox_pg` with screening for the
  group lasso, :func:`~proxlab.torch.subproblem.prox_metric_pg` otherwise,
  including the nuclear norm: one SVD per iteration), stopped by condition
  (7) on ``Q_t`` with ``eps_t = pg_eps t^(-pg_eps_decay)`` (the solver gets
  ``eps_t / alpha_t``: ``Q_t = alpha_t`` times its objective), by
  ``pg_rtol`` (group lasso) or after ``pg_max_iter`` iterations;
* ``"newton"``: ProxSSI's Newton per group (group lasso only; any other
  regularizer takes the exact prox).

With ``"pg"`` or ``"newton"`` the last step's report is in the state as 0-dim
tensors: ``sub_iterations``, ``sub_residual`` (the measure of (7) on ``Q_t``),
``sub_screened`` (groups fixed to zero by the exact test) — the fields of the
Numba reference's scalar state.
"""

from __future__ import annotations

import math
import numbers

import torch

from ._base import ProxOptimizer, _check_float, check_lr
from .madgrad import AveragedMixin, check_weight
from .prox import prox_metric
from .subproblem import cbrt, group_l2_prox_newton, group_l2_prox_pg, prox_metric_pg

__all__ = ["RAMDA", "SOLVERS", "check_solver_options", "solve"]

SOLVERS = ("exact", "pg", "newton")


def _check_int(name, value, where, low=1):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int{where}, got {value!r}")
    if value < low:
        raise ValueError(f"{name} must be >= {low}{where}, got {value!r}")
    return int(value)


def check_solver_options(group, where, choices=SOLVERS):
    """The subproblem-solver keys of a param group, validated."""
    solver = group["subproblem_solver"]
    if solver not in choices:
        raise ValueError(f"subproblem_solver must be one of {choices}{where}, got {solver!r}")
    h = {"solver": solver,
         "newton_tol": _check_float("newton_tol", group["newton_tol"], where, low=0.0, low_open=True),
         "newton_max_iter": _check_int("newton_max_iter", group["newton_max_iter"], where)}
    if "pg_eps" in group:
        rtol = group["pg_rtol"]
        h.update(pg_eps=_check_float("pg_eps", group["pg_eps"], where, low=0.0),
                 pg_eps_decay=_check_float("pg_eps_decay", group["pg_eps_decay"], where, low=0.0),
                 pg_max_iter=_check_int("pg_max_iter", group["pg_max_iter"], where),
                 pg_rtol=None if rtol is None else _check_float("pg_rtol", rtol, where, low=0.0))
    return h


def solve(reg, center, step, d, h, x0=None, eps=None):
    """The subproblem ``argmin reg(x) + (1/(2 step)) sum d (x - center)^2`` by the
    solver of ``h["solver"]``; returns ``(x, info or None)`` (``info``: 0-dim
    tensors; ``None`` for the exact prox). As
    :func:`proxlab.solvers.ramda.solve_subproblem`: ``"pg"`` on the group lasso
    screens first; ``"newton"`` applies to the group lasso only."""
    if reg is None:
        return center.clone(), None
    solver = h["solver"]
    if solver == "pg":
        if reg.name == "group_l2":
            return group_l2_prox_pg(center, step, d, reg.groups, reg.lam, eps=eps, max_iter=h["pg_max_iter"],
                                    rtol=h["pg_rtol"], x0=x0)
        return prox_metric_pg(reg, center, step, d, eps=eps, max_iter=h["pg_max_iter"], x0=x0)
    if solver == "newton" and reg.name == "group_l2":
        return group_l2_prox_newton(center, step, d, reg.groups, reg.lam, tol=h["newton_tol"],
                                    max_iter=h["newton_max_iter"])
    return prox_metric(reg, center, step, d), None


def record(state, info, scale=1.0):
    """Keep a solver report in the state (0-dim tensors; residual times ``scale``)."""
    if info is None:
        for k in ("sub_iterations", "sub_residual", "sub_screened"):
            state.pop(k, None)
        return
    state["sub_iterations"] = info["iterations"]
    state["sub_residual"] = info["residual"] * scale
    state["sub_screened"] = info["screened"]


class RAMDA(AveragedMixin, ProxOptimizer):
    r"""Regularized adaptive momentum dual averaging (ramda.txt Algorithm 1).

    .. math::

        s_t = \eta \sqrt t,\quad V_t = V_{t-1} + s_t G_t,\quad
        U_t = U_{t-1} + s_t G_t \circ G_t \qquad (2)

        P_t = \mathrm{Diag}(\sqrt[3]{U_t} + \epsilon),\quad
        \alpha_t = \textstyle\sum_{k \le t} s_k \qquad (3)

        \hat W_t = \mathrm{prox}^{P_t}_{\alpha_t \psi}(W_0 - P_t^{-1} V_t) \qquad (4)

        W_t = (1 - c) W_{t-1} + c \hat W_t \qquad (5)

    Parameters
    ----------
    params : iterable of parameters, (name, parameter) pairs or param-group dicts
    lr : float > 0, default 1e-2
        ``eta`` (read at every step, so schedulers set ``eta_t``; the public
        code instead keeps ``eta`` within a stage and calls :meth:`restart`).
    c : float in (0, 1], default 0.1
        Weight on ``W_hat_t`` in (5) (1: no averaging); the public code's and
        ``madgrad``'s ``momentum`` is ``1 - c``.
    eps : float > 0, default 1e-6
        ``epsilon`` of (3).
    regularizer : Regularizer, name, (name, params) or None
        ``psi`` (its strength included), per param group; any catalogue
        regularizer with a torch prox. The nuclear norm needs
        ``subproblem_solver="pg"`` (the metric ``P_t`` is not uniform).
    groups, group_weights : layout of grouped regularizers (:mod:`proxlab.torch.layout`)
    subproblem_solver : {"exact", "pg", "newton"}, default "exact"
        See the module docstring.
    pg_eps, pg_eps_decay : float >= 0, defaults 1e-6, 1.0
        ``eps_t = pg_eps t^(-pg_eps_decay)`` of condition (7) (``pg``;
        ``pg_eps_decay > 1/2`` gives condition (8)).
    pg_max_iter : int >= 1, default 100
        ``T_2`` of Algorithm 2.
    pg_rtol : float or None, default None
        The public code's early stop (group lasso with ``pg`` only).
    newton_tol, newton_max_iter : float, int, defaults 1e-7, 100 (``newton``).
    nan_policy : {"raise", "none"}

    Notes
    -----
    State per parameter: ``W0`` (anchor), ``V``, ``U``, ``W_hat`` (the prox
    point, exactly structured: ``prox_point(p)``), ``alpha`` (a host float) and
    ``step``; the parameter is ``W_t``, an average that is not exactly sparse
    when ``c < 1``. :meth:`load_prox_points` copies ``W_hat`` into the
    parameters (to export the structured model). Reference:
    :class:`proxlab.solvers.ramda.RAMDA` (same names and defaults).
    """

    prox_point_key = "W_hat"
    _nonuniform_metric = True

    def __init__(self, params, lr=1e-2, c=0.1, eps=1e-6, regularizer=None, groups=None, group_weights="sqrt",
                 subproblem_solver="exact", pg_eps=1e-6, pg_eps_decay=1.0, pg_max_iter=100, pg_rtol=None,
                 newton_tol=1e-7, newton_max_iter=100, nan_policy="raise"):
        defaults = dict(lr=lr, c=c, eps=eps, regularizer=regularizer, groups=groups, group_weights=group_weights,
                        subproblem_solver=subproblem_solver, pg_eps=pg_eps, pg_eps_decay=pg_eps_decay,
                        pg_max_iter=pg_max_iter, pg_rtol=pg_rtol, newton_tol=newton_tol,
                        newton_max_iter=newton_max_iter)
        super().__init__(params, defaults, nan_policy)

    def _check_group(self, group, where):
        h = {"lr": check_lr(group, where), "c": check_weight(group, where),
             "eps": _check_float("eps", group["eps"], where, low=0.0, low_open=True)}
        h.update(check_solver_options(group, where))
        return h

    def _check_param(self, p, hyper, reg, name):
        if reg is not None and reg.name == "nuclear" and hyper["solver"] == "pg":
            return  # Algorithm 2 needs the Euclidean prox only (SVT)
        super()._check_param(p, hyper, reg, name)

    def _init_state(self, p, state, group):
        state["alpha"] = 0.0
        state["W0"] = p.detach().clone(memory_format=torch.preserve_format)
        state["V"] = self._zeros(p)
        state["U"] = self._zeros(p)
        state["W_hat"] = p.detach().clone(memory_format=torch.preserve_format)

    def _update(self, p, grad, state, h, reg, group, t):
        s = h["lr"] * math.sqrt(t)
        alpha = state["alpha"] + s
        V, U = state["V"], state["U"]
        V.add_(grad, alpha=s)
        U.addcmul_(grad, grad, value=s)
        P = cbrt(U).add_(h["eps"])
        center = state["W0"] - V / P
        eps_t = h["pg_eps"] * float(t) ** (-h["pg_eps_decay"]) / alpha if h["solver"] == "pg" else None
        w_hat, info = solve(reg, center, alpha, P, h, x0=p, eps=eps_t)
        state["W_hat"].copy_(w_hat)
        p.mul_(1.0 - h["c"]).add_(state["W_hat"], alpha=h["c"])
        state["alpha"] = alpha
        record(state, info, alpha)

    @torch.no_grad()
    def restart(self, lr_factor=0.1, eps_factor=0.1):
        r"""ramda.txt App. A.1 restart at a stage boundary (the public code's
        milestone scheduler): for every parameter ``t := 0``, ``alpha := 0``,
        ``V := 0``, ``U := 0``, ``W0 := W`` (the current parameter); every
        group's ``lr *= lr_factor`` and ``eps *= eps_factor``; ``c`` is kept.
        Afterwards a step equals a step of a fresh RAMDA with the new ``lr``,
        ``eps`` started at ``W`` (:meth:`proxlab.solvers.ramda.RAMDA.restart`)."""
        lr_factor = _check_float("lr_factor", lr_factor, "", low=0.0, low_open=True)
        eps_factor = _check_float("eps_factor", eps_factor, "", low=0.0, low_open=True)
        for k, g in enumerate(self.param_groups):  # validate everything before any write
            where = self._where(k)
            _check_float("lr", g["lr"] * lr_factor, where, low=0.0, low_open=True)
            _check_float("eps", g["eps"] * eps_factor, where, low=0.0, low_open=True)
        for g in self.param_groups:
            g["lr"] = g["lr"] * lr_factor
            g["eps"] = g["eps"] * eps_factor
            for p in g["params"]:
                st = self.state.get(p)
                if not st:
                    continue
                st["W0"].copy_(p)
                st["V"].zero_()
                st["U"].zero_()
                st["alpha"] = 0.0
                st["step"] = 0
