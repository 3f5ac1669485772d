r"""ProxGen with Adam's preconditioner (ProxAdam), ProxQuant and the revised
ProxQuant (proxgen.txt Algorithm 1, eq (2), Table 2) as torch optimizers.

Each mirrors the Numba reference of the same name in
:mod:`proxlab.solvers.proxgen` / :mod:`proxlab.solvers.proxquant`
(``tests/test_torch_optim.py``: float64 trajectories equal to 1e-10 over 100
steps).
"""

from __future__ import annotations

import torch

from ._base import ProxOptimizer, check_betas, check_lr, check_nonneg
from .prox import prox_metric

__all__ = ["ProxGen", "ProxQuant", "RevisedProxQuant"]

_BINARY_QUANT = ("binary_quant", {"lam": 1.0, "q": 1.0})


def _check_bias_correction(value, where):
    if value not in (0, 1, True, False):
        raise ValueError(f"bias_correction must be 0 or 1 (a bool){where}, got {value!r}")
    return bool(value)


class ProxGen(ProxOptimizer):
    r"""ProxGen with Adam's preconditioner (ProxAdam), proxgen.txt Algorithm 1.

    At step ``t`` with gradient ``g_t`` at ``theta_t`` (per parameter):

    .. math::

        m_t &= \beta_1 m_{t-1} + (1 - \beta_1) g_t, \qquad
        v_t = \beta_2 v_{t-1} + (1 - \beta_2) g_t^2 \quad\text{(line 6)}\\
        d_t &= \sqrt{v_t / (1 - \beta_2^t)} + \epsilon
              \quad (C_t + \delta I,\ \text{line 7})\\
        \theta_{t+1} &= \arg\min_\theta \langle \hat m_t, \theta\rangle + R(\theta)
            + \tfrac{1}{2\alpha}(\theta - \theta_t)^\top \mathrm{diag}(d_t)(\theta - \theta_t)
            \quad\text{(line 8)}\\
          &= \operatorname{prox}^{d_t}_{\alpha R}\big(\theta_t - \alpha \hat m_t / d_t\big),
          \qquad \hat m_t = m_t / (1 - \beta_1^t) \quad\text{(eq (2))}

    the metric prox of :func:`proxlab.torch.prox.prox_metric`. With ``R = 0``
    this is ``torch.optim.Adam``; ``bias_correction=False`` is Algorithm 1 as
    printed. Reference: :class:`proxlab.solvers.proxgen.ProxGen`.

    Parameters
    ----------
    params : iterable of parameters, (name, parameter) pairs or param-group dicts
    lr : float > 0, default 1e-3
        ``alpha`` (read from the param group at every step: schedulers apply).
    betas : (float, float) in [0, 1), default (0.9, 0.999)
    eps : float >= 0, default 1e-8
        ``delta``, outside the square root.
    regularizer : Regularizer, name, (name, params) or None
        ``R`` (its strength included), any catalogue regularizer with a torch
        prox (:data:`proxlab.torch.prox.SUPPORTED`; the nuclear norm is
        refused: its metric here is not uniform).
    groups, group_weights : layout of grouped regularizers (see :mod:`proxlab.torch.layout`)
    bias_correction : bool, default True
    nan_policy : {"raise", "none"}
    """

    _nonuniform_metric = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, regularizer=None, groups=None,
                 group_weights="sqrt", bias_correction=True, nan_policy="raise"):
        defaults = dict(lr=lr, betas=betas, eps=eps, bias_correction=bias_correction, regularizer=regularizer,
                        groups=groups, group_weights=group_weights)
        super().__init__(params, defaults, nan_policy)

    def _check_group(self, group, where):
        b1, b2 = check_betas(group, where)
        return {"lr": check_lr(group, where), "beta1": b1, "beta2": b2, "eps": check_nonneg(group, "eps", where),
                "bias_correction": _check_bias_correction(group["bias_correction"], where)}

    def _init_state(self, p, state, group):
        state["exp_avg"] = self._zeros(p)
        state["exp_avg_sq"] = self._zeros(p)

    def _moments(self, grad, state, h, t):
        b1, b2 = h["beta1"], h["beta2"]
        bc1 = 1.0 - b1 ** t if h["bias_correction"] else 1.0
        bc2 = 1.0 - b2 ** t if h["bias_correction"] else 1.0
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m.mul_(b1).add_(grad, alpha=1.0 - b1)
        v.mul_(b2).addcmul_(grad, grad, value=1.0 - b2)
        d = torch.div(v, bc2).sqrt_().add_(h["eps"])
        return m, d, bc1

    def _update(self, p, grad, state, h, reg, group, t):
        lr = h["lr"]
        m, d, bc1 = self._moments(grad, state, h, t)
        center = torch.addcdiv(p, m, d, value=-lr / bc1)  # theta - lr (m / bc1) / d
        p.copy_(self._prox(reg, center, lr, d))

    def _prox(self, reg, center, lr, d):
        return prox_metric(reg, center, lr, d)


class ProxQuant(ProxGen):
    r"""The original ProxQuant (proxgen.txt Table 2, top row; Bai et al. 2019):
    the Adam step, then the *Euclidean* prox with step ``lr``:

    .. math::

        \theta_{t+1} = \operatorname{prox}_{\alpha R}\big(\theta_t - \alpha \hat m_t / d_t\big)

    (``d_t``, ``hat m_t`` as in :class:`ProxGen`). Default regularizer: the
    W-shaped ``R(theta) = sum_j |theta_j - sign(theta_j)|`` (``binary_quant``,
    ``lam = 1``, ``q = 1``). Reference: :class:`proxlab.solvers.proxquant.ProxQuant`.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, regularizer=_BINARY_QUANT, groups=None,
                 group_weights="sqrt", bias_correction=True, nan_policy="raise"):
        super().__init__(params, lr=lr, betas=betas, eps=eps, regularizer=regularizer, groups=groups,
                         group_weights=group_weights, bias_correction=bias_correction, nan_policy=nan_policy)

    _nonuniform_metric = False

    def _prox(self, reg, center, lr, d):
        return prox_metric(reg, center, lr, None)


class RevisedProxQuant(ProxGen):
    r"""Revised ProxQuant (proxgen.txt Table 2, bottom row): :class:`ProxGen`
    with the binary-quantization regularizer as default,

    .. math::

        \theta_{t+1} = \operatorname{prox}^{d_t}_{\alpha R}\big(\theta_t - \alpha \hat m_t / d_t\big),

    the exact minimizer of Algorithm 1 line 8 with ``R = R_bin^q``.
    Reference: :class:`proxlab.solvers.proxquant.RevisedProxQuant`.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, regularizer=_BINARY_QUANT, groups=None,
                 group_weights="sqrt", bias_correction=True, nan_policy="raise"):
        super().__init__(params, lr=lr, betas=betas, eps=eps, regularizer=regularizer, groups=groups,
                         group_weights=group_weights, bias_correction=bias_correction, nan_policy=nan_policy)
