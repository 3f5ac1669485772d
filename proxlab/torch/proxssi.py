r"""ProxSSI (Deleu & Bengio 2021; ramda.txt Table 6: "AdamW, Newton-Raphson") as a
torch optimizer, mirroring :class:`proxlab.solvers.proxssi.ProxSSI`.

An AdamW step, then a prox under the Adam metric. At a parameter's step
``t = 1, 2, ...`` with gradient ``g_t``:

.. math::

    m_t &= \beta_1 m_{t-1} + (1 - \beta_1) g_t,\qquad
    v_t = \beta_2 v_{t-1} + (1 - \beta_2) g_t^2,\qquad D_t = \sqrt{v_t} + \epsilon\\
    z_t &= (1 - \mathrm{lr}\,\mathrm{wd})\Big(x_{t-1} - \mathrm{lr}\,
           \frac{\sqrt{1 - \beta_2^t}}{1 - \beta_1^t}\,\frac{m_t}{D_t}\Big)\\
    x_t &= \arg\min_x\ \mathrm{lr}\,\psi(x) + \tfrac12 \sum_i d_i (x_i - z_i)^2,\qquad
    d = D_t / \sqrt{1 - \beta_2^t}\ (\texttt{metric\_bias\_correction=True})
      \ \text{or}\ D_t\ (\text{the public code})

With ``metric_bias_correction=True`` (default) ``d`` is the metric of the step
itself, and with ``wd = 0`` ``x_t`` is the exact minimizer of
``<m_t / (1 - beta1^t), x> + psi(x) + ||x - x_{t-1}||_d^2 / (2 lr)`` (ramda.txt
(6)); the public code's ``d = D_t`` over-regularizes by ``1/sqrt(1 - beta2^t)``.
With ``psi = 0`` this is HF-transformers' ``AdamW`` (``correct_bias=True``).

Subproblem (param-group key ``subproblem_solver``): ``"newton"`` (default,
the paper's Newton-Raphson on each group's norm, group lasso only; every other
regularizer takes the exact prox) or ``"exact"``
(:func:`proxlab.torch.prox.prox_metric`). With ``"newton"`` on a group lasso
the report is in the state (``sub_iterations``, ``sub_residual``,
``sub_screened``: 0-dim tensors).
"""

from __future__ import annotations

import math

from ._base import ProxOptimizer, _check_float, check_betas, check_lr
from .prox import prox_metric
from .ramda import check_solver_options, record
from .subproblem import group_l2_prox_newton

__all__ = ["ProxSSI"]


class ProxSSI(ProxOptimizer):
    r"""ProxSSI: AdamW with a preconditioned (weighted) proximal step.

    .. math::

        z_t = (1 - \mathrm{lr}\,\mathrm{wd})\Big(x_{t-1} - \mathrm{lr}
        \frac{\sqrt{1-\beta_2^t}}{1-\beta_1^t} \frac{m_t}{\sqrt{v_t} + \epsilon}\Big),\qquad
        x_t = \mathrm{prox}^{d}_{\mathrm{lr}\,\psi}(z_t)

    Parameters
    ----------
    params : iterable of parameters, (name, parameter) pairs or param-group dicts
    lr : float > 0, default 1e-3
    betas : (float, float) in [0, 1), default (0.9, 0.999)
    eps : float >= 0, default 1e-6
        Added to ``sqrt(v)`` (the public code's default).
    weight_decay : float >= 0, default 0
        Decoupled decay after the Adam step.
    metric_bias_correction : bool, default True
        ``d = (sqrt(v) + eps) / sqrt(1 - beta2^t)``; ``False``: the public code's
        ``d = sqrt(v) + eps``.
    regularizer, groups, group_weights : ``psi`` and its layout, per param group
        (the nuclear norm is refused: the metric is not uniform).
    subproblem_solver : {"newton", "exact"}, default "newton"
    newton_tol, newton_max_iter : default 1e-7, 100 (the public code's)
    nan_policy : {"raise", "none"}

    Notes
    -----
    State per parameter: ``exp_avg`` (``m``), ``exp_avg_sq`` (``v``), ``step``.
    Reference: :class:`proxlab.solvers.proxssi.ProxSSI` with ``beta1, beta2 = betas``.
    """

    _nonuniform_metric = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-6, weight_decay=0.0,
                 metric_bias_correction=True, regularizer=None, groups=None, group_weights="sqrt",
                 subproblem_solver="newton", newton_tol=1e-7, newton_max_iter=100, nan_policy="raise"):
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        metric_bias_correction=metric_bias_correction, regularizer=regularizer, groups=groups,
                        group_weights=group_weights, subproblem_solver=subproblem_solver, newton_tol=newton_tol,
                        newton_max_iter=newton_max_iter)
        super().__init__(params, defaults, nan_policy)

    def _check_group(self, group, where):
        b1, b2 = check_betas(group, where)
        mbc = group["metric_bias_correction"]
        if mbc not in (0, 1, True, False):
            raise ValueError(f"metric_bias_correction must be 0 or 1 (a bool){where}, got {mbc!r}")
        h = {"lr": check_lr(group, where), "beta1": b1, "beta2": b2,
             "eps": _check_float("eps", group["eps"], where, low=0.0),
             "weight_decay": _check_float("weight_decay", group["weight_decay"], where, low=0.0),
             "mbc": bool(mbc)}
        h.update(check_solver_options(group, where, ("newton", "exact")))
        return h

    def _init_state(self, p, state, group):
        state["exp_avg"] = self._zeros(p)
        state["exp_avg_sq"] = self._zeros(p)

    def _update(self, p, grad, state, h, reg, group, t):
        lr, b1, b2 = h["lr"], h["beta1"], h["beta2"]
        bc1 = 1.0 - b1 ** t
        bc2 = 1.0 - b2 ** t
        step_size = lr * math.sqrt(bc2) / bc1
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m.mul_(b1).add_(grad, alpha=1.0 - b1)
        v.mul_(b2).addcmul_(grad, grad, value=1.0 - b2)
        den = v.sqrt().add_(h["eps"])
        y = p - (step_size * m) / den
        if h["weight_decay"] != 0.0:
            y = y - (lr * h["weight_decay"]) * y
        newton = reg is not None and h["solver"] == "newton" and reg.name == "group_l2"
        if newton:  # the reference's Python path: d = den / sqrt(bc2)
            d = den / math.sqrt(bc2) if h["mbc"] else den
            x, info = group_l2_prox_newton(y, lr, d, reg.groups, reg.lam, tol=h["newton_tol"],
                                           max_iter=h["newton_max_iter"])
            p.copy_(x)
            record(state, info)
        else:  # the fused kernel: d = den * (1 / sqrt(bc2))
            d = den * (1.0 / math.sqrt(bc2)) if h["mbc"] else den
            p.copy_(prox_metric(reg, y, lr, d))
