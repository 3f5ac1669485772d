r"""RMDA: regularized momentum dual averaging (Huang & Lee, ICLR 2022; ramda.txt
Sec 2, Table 6) as a torch optimizer, mirroring :class:`proxlab.solvers.rmda.RMDA`.

RAMDA's predecessor without the adaptive preconditioner: ramda.txt (4)-(5)
with ``P_t = sqrt(t) I``, whose subproblem has a closed form (the Euclidean
prox). At a parameter's step ``t = 1, 2, ...`` with gradient ``G_t`` at ``W_{t-1}``:

.. math::

    s_t &= \eta\sqrt t,\qquad \alpha_t = \alpha_{t-1} + s_t,\qquad V_t = V_{t-1} + s_t G_t\\
    \hat W_t &= \arg\min_W\ \alpha_t\psi(W) + \langle V_t, W\rangle + \tfrac{\sqrt t}{2}\|W - W_0\|^2
      = \operatorname{prox}_{(\alpha_t/\sqrt t)\psi}\big(W_0 - V_t/\sqrt t\big)\\
    W_t &= (1 - c)\, W_{t-1} + c\, \hat W_t

With ``psi = 0`` it is MDA (Jelassi & Defazio 2020).
"""

from __future__ import annotations

import math

import torch

from ._base import ProxOptimizer, _check_float, check_lr
from .madgrad import AveragedMixin, check_weight
from .prox import prox_metric

__all__ = ["RMDA"]


class RMDA(AveragedMixin, ProxOptimizer):
    r"""Regularized momentum dual averaging (no preconditioner).

    .. math::

        \hat W_t = \mathrm{prox}_{(\alpha_t/\sqrt t)\psi}\big(W_0 - V_t/\sqrt t\big),\qquad
        W_t = (1 - c) W_{t-1} + c \hat W_t

    with ``s_t = lr sqrt(t)``, ``alpha_t = sum s_k``, ``V_t = sum s_k G_k``
    (ramda.txt (4)-(5) with ``P_t = sqrt(t) I``).

    Parameters
    ----------
    params : iterable of parameters, (name, parameter) pairs or param-group dicts
    lr : float > 0, default 0.1
        ``eta`` (the public RMDA code's default; read at every step).
    c : float in (0, 1], default 0.01
        Weight on ``W_hat_t`` (the public code's ``momentum``).
    regularizer, groups, group_weights : ``psi`` and its layout, per param
        group (any catalogue regularizer with a torch prox, the nuclear norm
        included: the metric is uniform).
    nan_policy : {"raise", "none"}

    Notes
    -----
    State per parameter: ``W0``, ``V``, ``W_hat`` (the prox point:
    ``prox_point(p)``), ``alpha`` (a host float), ``step``. Reference:
    :class:`proxlab.solvers.rmda.RMDA` (same names and defaults).
    """

    prox_point_key = "W_hat"

    def __init__(self, params, lr=0.1, c=0.01, regularizer=None, groups=None, group_weights="sqrt",
                 nan_policy="raise"):
        defaults = dict(lr=lr, c=c, regularizer=regularizer, groups=groups, group_weights=group_weights)
        super().__init__(params, defaults, nan_policy)

    def _check_group(self, group, where):
        return {"lr": check_lr(group, where), "c": check_weight(group, where)}

    def _init_state(self, p, state, group):
        state["alpha"] = 0.0
        state["W0"] = p.detach().clone(memory_format=torch.preserve_format)
        state["V"] = self._zeros(p)
        state["W_hat"] = p.detach().clone(memory_format=torch.preserve_format)

    def _update(self, p, grad, state, h, reg, group, t):
        rt = math.sqrt(t)
        s = h["lr"] * rt
        alpha = state["alpha"] + s
        V = state["V"]
        V.add_(grad, alpha=s)
        center = state["W0"] - V / rt
        state["W_hat"].copy_(prox_metric(reg, center, alpha / rt, None))
        p.mul_(1.0 - h["c"]).add_(state["W_hat"], alpha=h["c"])
        state["alpha"] = alpha

    @torch.no_grad()
    def restart(self, lr_factor=0.1, c_factor=1.0):
        """Stage restart of the public RMDA scheduler: for every parameter
        ``t, alpha, V := 0``, ``W0 := W``; every group's ``lr *= lr_factor``,
        ``c := min(c c_factor, 1)`` (the RMDA code: ``c_factor = 10``)
        (:meth:`proxlab.solvers.rmda.RMDA.restart`)."""
        lr_factor = _check_float("lr_factor", lr_factor, "", low=0.0, low_open=True)
        c_factor = _check_float("c_factor", c_factor, "", low=0.0, low_open=True)
        for k, g in enumerate(self.param_groups):
            _check_float("lr", g["lr"] * lr_factor, self._where(k), low=0.0, low_open=True)
        for g in self.param_groups:
            g["lr"] = g["lr"] * lr_factor
            g["c"] = min(g["c"] * c_factor, 1.0)
            for p in g["params"]:
                st = self.state.get(p)
                if not st:
                    continue
                st["W0"].copy_(p)
                st["V"].zero_()
                st["alpha"] = 0.0
                st["step"] = 0
