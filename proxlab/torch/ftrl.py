r"""FTRL-Proximal with per-coordinate learning rates (McMahan et al. 2013,
Algorithm 1; group-lasso-adaptive-optimizers.txt eq (2), ref [11]) as a torch
optimizer, mirroring :func:`proxlab.solvers.ftrl.ftrl_kernel`.
"""

from __future__ import annotations

import math

import torch

from ._base import ProxOptimizer, _check_float, check_lr, check_nonneg

__all__ = ["FTRL"]

SIGMA1 = ("telescoped", "increment")


class FTRL(ProxOptimizer):
    r"""FTRL-Proximal (McMahan et al. 2013, Algorithm 1), per coordinate:

    .. math::

        n_t &= n_{t-1} + g_t^2,\qquad
        \sigma_t = \big(\sqrt{n_t} - \sqrt{n_{t-1}}\big)/\alpha
            \quad(t = 1,\ \text{"telescoped"}: (\beta + \sqrt{n_1})/\alpha)\\
        z_t &= z_{t-1} + g_t - \sigma_t x_t\\
        x_{t+1} &= -\frac{z_t - \operatorname{sign}(z_t)\lambda_1}{(\beta + \sqrt{n_t})/\alpha + \lambda_2}
            \ \text{if } |z_t| > \lambda_1,\ \text{else } 0

    (McMahan's ``lam2`` multiplies ``||x||^2 / 2``). With ``lam1 = lam2 = 0`` and
    ``sigma1="telescoped"`` it is ``torch.optim.Adagrad(lr, eps=beta,
    initial_accumulator_value=initial_accumulator)``. Reference:
    :class:`proxlab.solvers.ftrl.FTRL`.

    Parameters
    ----------
    lr : float > 0, default 0.1
        ``alpha``.
    beta : float >= 0, default 1.0
    lam1, lam2 : float >= 0, default 0
    initial_accumulator : float >= 0, default 0
        ``n_0``; ``beta + sqrt(n_0)`` must be > 0.
    sigma1 : {"telescoped", "increment"}, default "telescoped"
        The first step's ``sigma_1`` (equal when the parameter starts at 0; see
        :mod:`proxlab.solvers.ftrl`).
    nan_policy : {"raise", "none"}
    """

    def __init__(self, params, lr=0.1, beta=1.0, lam1=0.0, lam2=0.0, initial_accumulator=0.0,
                 sigma1="telescoped", nan_policy="raise"):
        defaults = dict(lr=lr, beta=beta, lam1=lam1, lam2=lam2, initial_accumulator=initial_accumulator,
                        sigma1=sigma1)
        super().__init__(params, defaults, nan_policy)

    def _check_group(self, group, where):
        h = {"lr": check_lr(group, where), "beta": check_nonneg(group, "beta", where),
             "lam1": check_nonneg(group, "lam1", where), "lam2": check_nonneg(group, "lam2", where),
             "n0": check_nonneg(group, "initial_accumulator", where)}
        if h["beta"] + math.sqrt(h["n0"]) <= 0.0:
            raise ValueError(f"beta + sqrt(initial_accumulator) must be > 0{where}")
        if group["sigma1"] not in SIGMA1:
            raise ValueError(f"sigma1 must be one of {SIGMA1}{where}, got {group['sigma1']!r}")
        h["increment"] = group["sigma1"] == "increment"
        if group.get("regularizer") is not None:
            raise ValueError(f"FTRL takes its regularizer as lam1 and lam2, not regularizer={group['regularizer']!r}"
                             f"{where}")
        return h

    def _init_state(self, p, state, group):
        state["z"] = self._zeros(p)
        state["n"] = torch.full_like(p, _check_float("initial_accumulator", group["initial_accumulator"], ""),
                                     memory_format=torch.preserve_format)

    def _update(self, p, grad, state, h, reg, group, t):
        alpha, beta = h["lr"], h["beta"]
        z, nacc = state["z"], state["n"]
        n_new = nacc + grad * grad
        root = torch.sqrt(n_new)
        if t == 1 and not h["increment"]:
            sigma = (beta + root) / alpha
        else:
            sigma = (root - torch.sqrt(nacc)) / alpha
        z.add_(grad).sub_(sigma * p)
        nacc.copy_(n_new)
        den = (beta + root) / alpha + h["lam2"]
        p.copy_((torch.clamp(z, -h["lam1"], h["lam1"]) - z) / den)
