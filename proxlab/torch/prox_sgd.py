r"""Proximal SGD in its three forms (mrda.txt eqs (8)-(9) and (23)-(25);
proxgen.txt eqs (5)-(6)) as torch optimizers, mirroring
:mod:`proxlab.solvers.prox_sgd`.

The Numba references are parameterized by ``gamma`` (``alpha_t = 1/(gamma
t^power)``); here the param group's ``lr`` is ``1/gamma`` so that LR
schedulers scale the step: ``alpha_t = lr / t^power``.
"""

from __future__ import annotations

import torch

from ._base import ProxOptimizer, _check_float, check_lr
from .prox import prox_metric

__all__ = ["ProxSGD", "SqrtTProxSGD", "ProxSGDYang"]


class ProxSGD(ProxOptimizer):
    r"""Proximal SGD (forward-backward splitting), mrda.txt eqs (8)-(9):

    .. math::

        w_{t+1} = \arg\min_w \langle g_t, w\rangle + \frac{1}{2\alpha_t}\|w - w_t\|^2 + \Psi(w)
                = \operatorname{prox}_{\alpha_t\Psi}(w_t - \alpha_t g_t),
        \qquad \alpha_t = \mathrm{lr} / t^{p}

    (``Psi = lam ||.||_1``: soft-thresholding at ``alpha_t lam``, eq (20)).
    ``lr = 1/gamma`` of the paper (Table 1: ``gamma = 1``); ``power = 0`` with
    ``Psi = 0`` is ``torch.optim.SGD(lr)``. Reference:
    :class:`proxlab.solvers.prox_sgd.ProxSGD` with ``gamma = 1/lr``.

    Parameters
    ----------
    lr : float > 0, default 1.0
    power : float >= 0, default 0.5
    regularizer, groups, group_weights, nan_policy : see :class:`proxlab.torch.ProxGen`
    """

    _q = 0.0  # the regularizer is scaled by t^q (sqrt(t)-prox-SGD: q = 1)

    def __init__(self, params, lr=1.0, power=0.5, regularizer=None, groups=None, group_weights="sqrt",
                 nan_policy="raise"):
        defaults = dict(lr=lr, power=power, regularizer=regularizer, groups=groups, group_weights=group_weights)
        super().__init__(params, defaults, nan_policy)

    def _check_group(self, group, where):
        return {"lr": check_lr(group, where), "power": _check_float("power", group["power"], where, low=0.0)}

    def _init_state(self, p, state, group):
        pass

    def _update(self, p, grad, state, h, reg, group, t):
        alpha = h["lr"] / t ** h["power"]
        step = alpha * t ** self._q
        p.copy_(prox_metric(reg, p - alpha * grad, step, None))


class SqrtTProxSGD(ProxSGD):
    r"""The sqrt(t)-prox-SGD of mrda.txt eqs (23)-(25):

    .. math::

        w_{t+1/2} = w_t - \alpha_t g_t,\qquad
        w_{t+1} = \operatorname{prox}_{t\alpha_t\Psi}(w_{t+1/2}),\qquad \alpha_t = \mathrm{lr}/\sqrt t

    (the prox-SGD subproblem with ``t Psi``; ``lam ||.||_1`` and ``lr = 1``:
    threshold ``sqrt(t) lam``, eq (24)). Reference:
    :class:`proxlab.solvers.prox_sgd.SqrtTProxSGD` with ``gamma = 1/lr``.
    """

    _q = 1.0

    def __init__(self, params, lr=1.0, regularizer=None, groups=None, group_weights="sqrt", nan_policy="raise"):
        super().__init__(params, lr=lr, power=0.5, regularizer=regularizer, groups=groups,
                         group_weights=group_weights, nan_policy=nan_policy)

    def _check_group(self, group, where):
        if group["power"] != 0.5:
            raise ValueError(f"power is fixed to 0.5 for sqrt(t)-prox-SGD{where}, got {group['power']!r}")
        return super()._check_group(group, where)


class ProxSGDYang(ProxOptimizer):
    r"""Prox-SGD of Yang et al. (ICLR 2020) as written in proxgen.txt eqs (5)-(6):

    .. math::

        \rho_t &= \rho/(t + o)^{p_\rho},\quad \epsilon_t = \mathrm{lr}/(t + o)^{p_{lr}}\\
        v_t &= (1 - \rho_t) v_{t-1} + \rho_t g_t,\quad
        r_t = \beta r_{t-1} + (1 - \beta) g_t^2,\quad
        \tau_t = \sqrt{r_t / (1 - \beta^t)} + \epsilon\\
        \hat x_t &= \operatorname{prox}^{\tau_t}_{\Psi}(x_t - v_t/\tau_t)
            \quad\text{(5): step 1, no learning rate}\\
        x_{t+1} &= x_t + \epsilon_t(\hat x_t - x_t)\quad\text{(6)}

    The prox point ``xhat`` (``optimizer.prox_point(p)``, state ``"xhat"``)
    carries the exact zeros; the parameter is an average and has none.
    Reference: :class:`proxlab.solvers.prox_sgd.ProxSGDYang` (same names and
    defaults; ``lr`` in (0, 1] is ``epsilon_0``).
    """

    prox_point_key = "xhat"
    _nonuniform_metric = True

    def __init__(self, params, lr=0.06, power_lr=0.5, rho=0.9, power_rho=0.5, offset=4.0, beta=0.999, eps=1e-7,
                 bias_correction=True, regularizer=None, groups=None, group_weights="sqrt", nan_policy="raise"):
        defaults = dict(lr=lr, power_lr=power_lr, rho=rho, power_rho=power_rho, offset=offset, beta=beta, eps=eps,
                        bias_correction=bias_correction, regularizer=regularizer, groups=groups,
                        group_weights=group_weights)
        super().__init__(params, defaults, nan_policy)

    def _check_group(self, group, where):
        lr = _check_float("lr", check_lr(group, where), where, high=1.0)
        bc = group["bias_correction"]
        if bc not in (0, 1, True, False):
            raise ValueError(f"bias_correction must be 0 or 1{where}, got {bc!r}")
        return {"lr": lr,
                "power_lr": _check_float("power_lr", group["power_lr"], where, low=0.0),
                "rho": _check_float("rho", group["rho"], where, low=0.0, low_open=True, high=1.0),
                "power_rho": _check_float("power_rho", group["power_rho"], where, low=0.0),
                "offset": _check_float("offset", group["offset"], where, low=0.0),
                "beta": _check_float("beta", group["beta"], where, low=0.0, high=1.0, high_open=True),
                "eps": _check_float("eps", group["eps"], where, low=0.0, low_open=True),
                "bias_correction": bool(bc)}

    def _init_state(self, p, state, group):
        state["v"] = self._zeros(p)
        state["r"] = self._zeros(p)
        state["xhat"] = p.detach().clone(memory_format=torch.preserve_format)

    def _update(self, p, grad, state, h, reg, group, t):
        eps_t = h["lr"] / (t + h["offset"]) ** h["power_lr"]
        rho_t = h["rho"] / (t + h["offset"]) ** h["power_rho"]
        bc = 1.0 - h["beta"] ** t if h["bias_correction"] else 1.0
        v, r, xhat = state["v"], state["r"], state["xhat"]
        v.mul_(1.0 - rho_t).add_(grad, alpha=rho_t)
        r.mul_(h["beta"]).addcmul_(grad, grad, value=1.0 - h["beta"])
        d = torch.sqrt(r / bc).add_(h["eps"])
        xhat.copy_(prox_metric(reg, p - v / d, 1.0, d))
        p.add_(xhat - p, alpha=eps_t)
