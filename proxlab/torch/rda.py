r"""Regularized dual averaging (mrda.txt Algorithm 1) and the modified RDA of
Jia et al. (mrda.txt Algorithm 2) as torch optimizers, mirroring
:mod:`proxlab.solvers.rda`.

At step ``t`` with gradient ``g_t``:

.. math::

    \bar g_t = \tfrac{t-1}{t}\bar g_{t-1} + \tfrac1t g_t \quad\text{(16), (28)},\qquad
    s_t = t / \beta_t,\ \beta_t = \gamma t^{p}

    w_{t+1} = \arg\min_w \langle\bar g_t, w\rangle + \Psi(w) + \frac{\beta_t}{2t}\|w - a\|^2
            = \operatorname{prox}_{s_t\Psi}(a - s_t \bar g_t) \quad\text{(13)-(14), (29)}

with the anchor ``a = w_0`` (the parameter at its first step; RDA) or ``a = 0``
(modified RDA, ``p = 1/2``). The param group's ``lr`` is ``1/gamma``
(``s_t = lr t^{1-p}``), so schedulers scale ``s_t``.
"""

from __future__ import annotations

import torch

from ._base import ProxOptimizer, _check_float, check_lr
from .prox import prox_metric

__all__ = ["RDA", "MRDA"]


class RDA(ProxOptimizer):
    r"""Regularized dual averaging (Xiao 2010), mrda.txt Algorithm 1, eqs (13)-(17):
    ``w_{t+1} = prox_{s_t Psi}(w_0 - s_t gbar_t)``, ``s_t = t / (gamma t^power)``
    (``Psi = lam ||.||_1``: eq (22)).

    Parameters
    ----------
    lr : float > 0, default 1.0
        ``1/gamma`` (Tables 1, 4: ``gamma = 1``).
    power : float >= 0, default 0.5
        ``beta_t = gamma t^power``.
    regularizer, groups, group_weights, nan_policy : see :class:`proxlab.torch.ProxGen`

    State: ``gbar`` and the anchor ``w0`` (the parameter at its first step).
    Reference: :class:`proxlab.solvers.rda.RDA` with ``gamma = 1/lr``.
    """

    _anchored = True

    def __init__(self, params, lr=1.0, power=0.5, regularizer=None, groups=None, group_weights="sqrt",
                 nan_policy="raise"):
        defaults = dict(lr=lr, power=power, regularizer=regularizer, groups=groups, group_weights=group_weights)
        super().__init__(params, defaults, nan_policy)

    def _check_group(self, group, where):
        return {"lr": check_lr(group, where), "power": _check_float("power", group["power"], where, low=0.0)}

    def _init_state(self, p, state, group):
        state["gbar"] = self._zeros(p)
        if self._anchored:
            state["w0"] = p.detach().clone(memory_format=torch.preserve_format)

    def _update(self, p, grad, state, h, reg, group, t):
        s = t / (t ** h["power"] / h["lr"])
        gbar = state["gbar"]
        gbar.mul_((t - 1.0) / t).add_(grad, alpha=1.0 / t)
        center = state["w0"] - s * gbar if self._anchored else -(s * gbar)
        p.copy_(prox_metric(reg, center, s, None))


class MRDA(RDA):
    r"""Modified RDA (Jia et al.), mrda.txt Algorithm 2, eqs (27)-(29):
    ``w_{t+1} = prox_{s_t Psi}(-s_t gbar_t)``, ``s_t = sqrt(t) / gamma`` (anchor 0;
    the starting point enters only through ``g_1``).

    Parameters
    ----------
    lr : float > 0, default 1.0
        ``1/gamma``.

    State: ``gbar``. Reference: :class:`proxlab.solvers.rda.ModifiedRDA` (``mrda``).
    """

    _anchored = False

    def __init__(self, params, lr=1.0, regularizer=None, groups=None, group_weights="sqrt", nan_policy="raise"):
        super().__init__(params, lr=lr, power=0.5, regularizer=regularizer, groups=groups,
                         group_weights=group_weights, nan_policy=nan_policy)

    def _check_group(self, group, where):
        if group["power"] != 0.5:
            raise ValueError(f"power is fixed to 0.5 for MRDA{where}, got {group['power']!r}")
        return super()._check_group(group, where)
