r"""MADGRAD (Defazio & Jelassi 2022, Algorithm 1) as a torch optimizer, in
proxlab's parameterization, mirroring :class:`proxlab.solvers.madgrad.MADGRAD`.

MADGRAD is the unregularized parent of RAMDA (:class:`proxlab.torch.RAMDA`
with ``psi = 0`` is this optimizer). The ``madgrad`` package's
``madgrad.MADGRAD(lr=a, momentum=m, eps=e)`` is ``MADGRAD(lr=a + e, c=1 - m,
eps=e)`` here: the package adds ``eps`` to the learning rate, and its
``momentum`` is one minus the weight ``c`` on the new point
(``tests/test_torch_dual.py`` checks the mapping over 200 steps).
"""

from __future__ import annotations

import math

import torch

from ._base import ProxOptimizer, _check_float, check_lr
from .subproblem import cbrt

__all__ = ["MADGRAD", "AveragedMixin", "check_weight"]


def check_weight(group, where, key="c"):
    """An averaging weight on the new point, in (0, 1] (1: no averaging)."""
    return _check_float(key, group[key], where, low=0.0, high=1.0, low_open=True)


class AveragedMixin:
    """Helpers of the averaging methods (MADGRAD, RMDA, RAMDA): the parameter is
    a convex combination of past prox points, the prox point carries the
    exact structure (``optimizer.prox_point(p)``)."""

    def prox_points(self):
        """``{parameter: prox point}`` for every parameter with state (the
        parameter itself before its first step)."""
        return {p: self.prox_point(p) for g in self.param_groups for p in g["params"]}

    @torch.no_grad()
    def load_prox_points(self):
        """Overwrite every parameter with its prox point (e.g. to export the
        structured model; training afterwards continues from ``W_hat`` instead
        of ``W``). Returns the previous values, for :meth:`restore`."""
        saved = {}
        for g in self.param_groups:
            for p in g["params"]:
                q = self.prox_point(p)
                if q is not p:
                    saved[p] = p.detach().clone()
                    p.copy_(q)
        return saved

    @staticmethod
    @torch.no_grad()
    def restore(saved):
        """Undo :meth:`load_prox_points`."""
        for p, v in saved.items():
            p.copy_(v)


class MADGRAD(AveragedMixin, ProxOptimizer):
    r"""MADGRAD: dual averaging with a cube-root preconditioner and momentum by
    averaging (Defazio & Jelassi 2022, Algorithm 1; ramda.txt eqs (2)-(5) with
    ``psi = 0``).

    At a parameter's step ``t = 1, 2, ...`` with gradient ``g_t`` at ``x_{t-1}``:

    .. math::

        \lambda_t = \mathrm{lr}\sqrt t,\quad s_t = s_{t-1} + \lambda_t g_t,\quad
        \nu_t = \nu_{t-1} + \lambda_t g_t^2

        z_t = x_0 - \frac{s_t}{\sqrt[3]{\nu_t} + \epsilon},\qquad
        x_t = (1 - c)\, x_{t-1} + c\, z_t

    (``eps = 0``: a coordinate whose ``nu`` is still 0 stays at ``x_0``).

    Parameters
    ----------
    params : iterable of parameters, (name, parameter) pairs or param-group dicts
    lr : float > 0, default 1e-2
        ``lr`` of ``lambda_t`` (read at every step: schedulers scale
        ``lambda_t``); ``madgrad.MADGRAD``'s ``lr + eps``.
    c : float in (0, 1], default 0.1
        Weight on ``z_t``; ``madgrad.MADGRAD``'s ``1 - momentum``.
    eps : float >= 0, default 1e-6
        Added outside the cube root.
    nan_policy : {"raise", "none"}

    Notes
    -----
    State per parameter: ``x0``, ``s``, ``nu`` and the dual-averaging point ``z``
    (``prox_point(p)``). A ``regularizer`` is refused (use :class:`~proxlab.torch.RAMDA`).
    Reference: :class:`proxlab.solvers.madgrad.MADGRAD`.
    """

    prox_point_key = "z"

    def __init__(self, params, lr=1e-2, c=0.1, eps=1e-6, nan_policy="raise"):
        super().__init__(params, dict(lr=lr, c=c, eps=eps), nan_policy)

    def _check_group(self, group, where):
        if group.get("regularizer") is not None:
            raise ValueError(f"MADGRAD has no regularizer (got regularizer={group['regularizer']!r}){where}; "
                             "RAMDA is MADGRAD with one")
        return {"lr": check_lr(group, where), "c": check_weight(group, where),
                "eps": _check_float("eps", group["eps"], where, low=0.0)}

    def _init_state(self, p, state, group):
        state["x0"] = p.detach().clone(memory_format=torch.preserve_format)
        state["s"] = self._zeros(p)
        state["nu"] = self._zeros(p)
        state["z"] = p.detach().clone(memory_format=torch.preserve_format)

    def _update(self, p, grad, state, h, reg, group, t):
        lam = h["lr"] * math.sqrt(t)
        eps, c = h["eps"], h["c"]
        s, nu, z = state["s"], state["nu"], state["z"]
        s.add_(grad, alpha=lam)
        nu.addcmul_(grad, grad, value=lam)
        rms = cbrt(nu).add_(eps)
        torch.sub(state["x0"], s / rms, out=z)
        if eps == 0.0:  # rms = 0 -> inf: z = x0 (the package's convention)
            z.copy_(torch.where(rms == 0, state["x0"], z))
        p.mul_(1.0 - c).add_(z, alpha=c)
