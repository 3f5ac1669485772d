"""ProxSSI (Deleu & Bengio 2021): AdamW step, then a weighted proximal step.

Public code ``tristandeleu/pytorch-structured-sparsity``
(reference-implementations.md Sec 4; ramda.txt Table 6: "AdamW,
Newton-Raphson"). At step ``t = 1, 2, ...`` with gradient ``g_t``::

    m_t    = beta1 m_{t-1} + (1 - beta1) g_t
    v_t    = beta2 v_{t-1} + (1 - beta2) g_t^2
    D_t    = sqrt(v_t) + eps                         (the public denominator, NOT bias-corrected)
    y_t    = x_{t-1} - lr (sqrt(1 - beta2^t) / (1 - beta1^t)) m_t / D_t      (AdamW step)
    z_t    = (1 - lr wd) y_t                                                  (decoupled decay, after the step)
    x_t    = argmin_x  lr psi(x) + 1/2 sum_i d_i (x_i - z_i)^2               (weighted prox)

The metric ``d`` (``metric_bias_correction``):

* ``1`` (default): ``d = D_t / sqrt(1 - beta2^t)`` — the metric of the step
  itself: ``y_t = x_{t-1} - lr d^{-1} m_t / (1 - beta1^t)``, so ``x_t`` is the
  exact minimizer of ``<m_t/(1-beta1^t), x> + psi(x) + (1/(2 lr)) ||x - x_{t-1}||_d^2``
  (ramda.txt (6) with ``P_t = diag(d)``) when ``wd = 0``;
* ``0``: ``d = D_t`` as in the public code. Then the prox solves the step's own
  problem with ``psi`` multiplied by ``1 / sqrt(1 - beta2^t)`` (public with
  ``lam`` equals the consistent metric with ``lam / sqrt(1 - beta2^t)``): ~31.6x
  too strong at ``t = 1`` with ``beta2 = 0.999``, 1.26x at ``t = 1000``
  (reference-implementations.md takeaway 7).

As a :class:`Subproblem`: ``reg = psi``, ``center = z_t``, ``step = lr``,
``d`` as above. Solvers (``subproblem_solver``): ``"newton"`` (default, the
paper's Newton-Raphson on the group norm, tol 1e-7, <= 100 iterations, group
lasso only — other regularizers take the exact prox) or ``"exact"`` (the fused
kernel, :func:`~proxlab.regularizers._dispatch.prox_metric_dispatch`).

With ``psi = 0`` this is the HF-transformers ``AdamW`` (``correct_bias=True``:
``eps`` added to ``sqrt(v)`` before the bias correction, decay after the step).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from .._validation import check_scalar
from ..regularizers._dispatch import prox_metric_dispatch
from ._base import Algorithm, Subproblem, check_beta, check_eps, check_lr, register
from .ramda import ProxInfo, _SolverOptions, count_zero_groups


@njit(cache=True, error_model="numpy")
def proxssi_kernel(t, x, g, S, sc, h, kind, rp, idx, ptr, gw, work):
    lr, beta1, beta2, eps, wd, mbc = h[0], h[1], h[2], h[3], h[4], h[5]
    bc1 = 1.0 - beta1 ** t
    bc2 = 1.0 - beta2 ** t
    step_size = lr * math.sqrt(bc2) / bc1
    scale = 1.0 / math.sqrt(bc2) if mbc != 0.0 else 1.0
    m = S[0]
    v = S[1]
    d = work[0]
    for i in range(x.shape[0]):
        gi = np.float64(g[i])
        mi = beta1 * m[i] + (1.0 - beta1) * gi
        vi = beta2 * v[i] + (1.0 - beta2) * gi * gi
        m[i] = mi
        v[i] = vi
        den = math.sqrt(vi) + eps
        y = x[i] - step_size * mi / den
        if wd != 0.0:
            y = y - lr * wd * y
        x[i] = y
        d[i] = den * scale
    nz = prox_metric_dispatch(kind, rp, idx, ptr, gw, x, lr, d, x, work[1])
    sc[0] = np.nan
    sc[1] = np.nan
    sc[2] = nz


@register
class ProxSSI(_SolverOptions, Algorithm):
    """ProxSSI: AdamW with a preconditioned (weighted) proximal step.

    .. math::

        m_t = \\beta_1 m_{t-1} + (1-\\beta_1) g_t,\\quad
        v_t = \\beta_2 v_{t-1} + (1-\\beta_2) g_t^2,\\quad
        D_t = \\sqrt{v_t} + \\epsilon

        z_t = (1 - \\mathrm{lr}\\,\\mathrm{wd})\\Big(x_{t-1} - \\mathrm{lr}
        \\frac{\\sqrt{1-\\beta_2^t}}{1-\\beta_1^t} \\frac{m_t}{D_t}\\Big)

        x_t = \\arg\\min_x \\mathrm{lr}\\,\\psi(x) + \\tfrac12 \\sum_i d_i (x_i - z_i)^2,
        \\quad d = D_t / \\sqrt{1-\\beta_2^t}\\ \\text{(default) or } D_t\\ \\text{(public code)}

    Parameters
    ----------
    regularizer : Regularizer, name or (name, params)
        ``psi`` (group lasso in the paper); ``None``: AdamW (HF).
    lr : float > 0, default 1e-3
    beta1, beta2 : float in [0, 1), defaults 0.9, 0.999
    eps : float >= 0, default 1e-6
        Added to ``sqrt(v)`` (the public code's default).
    weight_decay : float >= 0, default 0
        Decoupled decay after the Adam step (ramda.txt disables it with a regularizer).
    metric_bias_correction : {1, 0}, default 1
        1: ``d = (sqrt(v) + eps) / sqrt(1 - beta2^t)``, the step's own metric; 0: the
        public code's ``d = sqrt(v) + eps`` (over-regularizes by ``1/sqrt(1 - beta2^t)``).
    subproblem_solver : {"newton", "exact"}, default "newton"
    newton_tol, newton_max_iter : default 1e-7, 100 (the public code's).
    """

    name = "proxssi"
    family = "ProxSSI"
    source = "Deleu & Bengio 2021; RAMDA Table 6"
    parent = "transformers AdamW (correct_bias=True)"
    defaults = {"lr": 1e-3, "beta1": 0.9, "beta2": 0.999, "eps": 1e-6, "weight_decay": 0.0,
                "metric_bias_correction": 1}
    fields = ("m", "v")
    scalars = ("sub_iterations", "sub_residual", "sub_screened")
    _kernel = proxssi_kernel

    def __init__(self, regularizer=None, nan_policy="raise", subproblem_solver="newton", newton_tol=1e-7,
                 newton_max_iter=100, **hyper):
        super().__init__(regularizer=regularizer, nan_policy=nan_policy, **hyper)
        if subproblem_solver not in ("newton", "exact"):
            raise ValueError(f"subproblem_solver must be 'newton' or 'exact', got {subproblem_solver!r}")
        self._set_solver(subproblem_solver, 1e-6, 1.0, 100, None, newton_tol, newton_max_iter)

    def _check_hyper(self, hyper):
        hyper["lr"] = check_lr(hyper["lr"])
        hyper["beta1"] = check_beta(hyper["beta1"], "beta1")
        hyper["beta2"] = check_beta(hyper["beta2"], "beta2")
        hyper["eps"] = check_eps(hyper["eps"])
        hyper["weight_decay"] = check_scalar("weight_decay", hyper["weight_decay"], low=0.0)
        if hyper["metric_bias_correction"] not in (0, 1, True, False):
            raise ValueError(f"metric_bias_correction must be 0 or 1, got {hyper['metric_bias_correction']!r}")
        hyper["metric_bias_correction"] = int(hyper["metric_bias_correction"])
        return hyper

    def _moments(self, state, grad):
        hp, t = self.hyper, state.t + 1
        g = grad.astype(np.float64)
        m = hp["beta1"] * state["m"].astype(np.float64) + (1 - hp["beta1"]) * g
        v = hp["beta2"] * state["v"].astype(np.float64) + (1 - hp["beta2"]) * g * g
        bc1 = 1.0 - hp["beta1"] ** t
        bc2 = 1.0 - hp["beta2"] ** t
        den = np.sqrt(v) + hp["eps"]
        return m, v, den, bc1, bc2

    def over_regularization(self, t):
        """The factor by which the metric choice multiplies ``lam`` at step ``t``
        relative to the step's own metric: ``1/sqrt(1 - beta2^t)`` for the public
        metric (``metric_bias_correction = 0``), else 1."""
        if self.hyper["metric_bias_correction"]:
            return 1.0
        return 1.0 / math.sqrt(1.0 - self.hyper["beta2"] ** t)

    def subproblem(self, state, grad):
        hp = self.hyper
        m, _, den, bc1, bc2 = self._moments(state, grad)
        lr = hp["lr"]
        y = state["x"].astype(np.float64) - (lr * math.sqrt(bc2) / bc1) * m / den
        if hp["weight_decay"] != 0.0:
            y = y - lr * hp["weight_decay"] * y
        d = den / math.sqrt(bc2) if hp["metric_bias_correction"] else den
        return Subproblem(self.regularizer, y.astype(state["x"].dtype), lr, d)

    def _advance(self, state, grad, prox_point):
        m, v, _, _, _ = self._moments(state, grad)
        state["m"][:] = m
        state["v"][:] = v
        state["x"][:] = prox_point
        if not self._python_solver():
            self._record(state, ProxInfo(0, 0, math.nan, count_zero_groups(self.regularizer, prox_point),
                                         True, "exact"))

    @classmethod
    def examples(cls, rng):
        from .. import regularizers

        n = 12
        mixed = [np.arange(0, 5), np.arange(5, 6), np.arange(6, 12)]
        return [
            cls(regularizer=regularizers.get("group_l2", lam=0.1, n=n, groups=mixed), lr=0.05),
            cls(regularizer=regularizers.get("group_l2", lam=0.1, n=n, groups=mixed), lr=0.05,
                subproblem_solver="exact", metric_bias_correction=0),
            cls(regularizer=regularizers.get("l1", lam=0.05), lr=0.1, weight_decay=0.01),
            cls(regularizer=regularizers.get("mcp", lam=0.1, gamma=2.0), lr=0.1, subproblem_solver="exact"),
            cls(regularizer=None, lr=0.01),
        ]
