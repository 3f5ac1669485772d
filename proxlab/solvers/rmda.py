"""RMDA: regularized momentum dual averaging (Huang & Lee, ICLR 2022).

The non-adaptive predecessor of RAMDA (ramda.txt Sec 2, Table 6: "RMDA, MDA,
closed-form solution"; public code ``zihsyuan1214/rmda``,
reference-implementations.md Sec 3). At step ``t = 1, 2, ...`` with gradient
``G_t`` at ``W_{t-1}``::

    s_t     = lr sqrt(t),   alpha_t = alpha_{t-1} + s_t,   V_t = V_{t-1} + s_t G_t
    W_hat_t = argmin_W  alpha_t psi(W) + <V_t, W> + (sqrt(t)/2) ||W - W0||^2
            = prox_{(alpha_t / sqrt t) psi}(W0 - V_t / sqrt t)
    W_t     = (1 - c) W_{t-1} + c W_hat_t

i.e. ramda.txt (4) with ``P_t = sqrt(t) I`` in place of the cube-root
preconditioner (the second line follows by dividing the objective by
``sqrt(t)`` and completing the square). As a :class:`Subproblem`: ``reg = psi``,
``center = W0 - V_t / sqrt(t)``, ``step = alpha_t / sqrt(t)``, ``d = I``.

With ``psi = 0`` it is MDA (Jelassi & Defazio 2020, momentumized dual
averaging with ``beta_k = sqrt(k)``): ``z_t = W0 - V_t / sqrt(t)``,
``W_t = (1 - c) W_{t-1} + c z_t``.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from .._validation import check_scalar
from ..regularizers._dispatch import prox_metric_dispatch
from ._base import Algorithm, Subproblem, check_lr, register
from .ramda import check_weight


@njit(cache=True, error_model="numpy")
def rmda_kernel(t, x, g, S, sc, h, kind, rp, idx, ptr, gw, work):
    lr, c = h[0], h[1]
    rt = math.sqrt(t)
    s = lr * rt
    alpha = sc[0] + s
    W0 = S[0]
    V = S[1]
    What = S[2]
    d = work[0]
    n = x.shape[0]
    for i in range(n):
        vi = V[i] + s * np.float64(g[i])
        V[i] = vi
        d[i] = 1.0
        What[i] = W0[i] - vi / rt
    prox_metric_dispatch(kind, rp, idx, ptr, gw, What, alpha / rt, d, What, work[1])
    for i in range(n):
        x[i] = (1.0 - c) * x[i] + c * What[i]
    sc[0] = alpha


@register
class RMDA(Algorithm):
    """Regularized momentum dual averaging (no preconditioner).

    .. math::

        s_t = \\mathrm{lr}\\sqrt t,\\quad \\alpha_t = \\textstyle\\sum_{k\\le t} s_k,\\quad
        V_t = V_{t-1} + s_t G_t

        \\hat W_t = \\arg\\min_W \\alpha_t\\psi(W) + \\langle V_t, W\\rangle
        + \\tfrac{\\sqrt t}{2}\\|W - W_0\\|^2
        = \\mathrm{prox}_{(\\alpha_t/\\sqrt t)\\psi}\\big(W_0 - V_t/\\sqrt t\\big)

        W_t = (1 - c) W_{t-1} + c \\hat W_t

    (ramda.txt (4)-(5) with ``P_t = sqrt(t) I``; Huang & Lee 2022.)

    Parameters
    ----------
    regularizer : Regularizer, name or (name, params)
        ``psi``; ``None`` gives MDA.
    lr : float > 0, default 0.1
        ``eta`` (the public RMDA code's default).
    c : float in (0, 1], default 0.01
        Weight on ``W_hat_t`` (the public RMDA code's default ``momentum``).
    """

    name = "rmda"
    family = "RAMDA"
    source = "RAMDA Sec 2, Table 6 (Huang & Lee 2022)"
    parent = "MDA (Jelassi & Defazio 2020)"
    defaults = {"lr": 0.1, "c": 0.01}
    fields = ("W0", "V", "W_hat")
    scalars = ("alpha",)
    prox_point_field = "W_hat"
    _kernel = rmda_kernel

    def _check_hyper(self, hyper):
        hyper["lr"] = check_lr(hyper["lr"])
        hyper["c"] = check_weight(hyper["c"], "c")
        return hyper

    def _init_state(self, state):
        state["W0"][:] = state["x"]
        state["W_hat"][:] = state["x"]

    def _sums(self, state, grad):
        t = state.t + 1
        s = self.hyper["lr"] * math.sqrt(t)
        V = state["V"].astype(np.float64) + s * grad.astype(np.float64)
        return t, state.scalar("alpha") + s, V

    def subproblem(self, state, grad):
        t, alpha, V = self._sums(state, grad)
        rt = math.sqrt(t)
        center = (state["W0"].astype(np.float64) - V / rt).astype(state["x"].dtype)
        return Subproblem(self.regularizer, center, alpha / rt, None)

    def _advance(self, state, grad, prox_point):
        _, alpha, V = self._sums(state, grad)
        c = self.hyper["c"]
        state["V"][:] = V
        state["W_hat"][:] = prox_point
        state["x"][:] = (1.0 - c) * state["x"] + c * state["W_hat"]
        state["sc"][0] = alpha

    def restart(self, state, lr_factor=0.1, c_factor=1.0):
        """Stage restart of the public RMDA scheduler (in place): ``t, alpha, V := 0``,
        ``W0 := W``, ``lr *= lr_factor``, ``c := min(c * c_factor, 1)`` (the RMDA
        code uses ``c_factor = 1/gamma = 10``; RAMDA's experiments keep ``c``)."""
        lr_factor = check_scalar("lr_factor", lr_factor, low=0.0, low_open=True)
        c_factor = check_scalar("c_factor", c_factor, low=0.0, low_open=True)
        self.hyper["lr"] = check_lr(self.hyper["lr"] * lr_factor)
        self.hyper["c"] = check_weight(min(self.hyper["c"] * c_factor, 1.0), "c")
        state["W0"][:] = state["x"]
        state["V"][:] = 0.0
        state["sc"][:] = 0.0
        state["t"] = 0
        return state

    @classmethod
    def examples(cls, rng):
        from .. import regularizers

        n = 12
        mixed = [np.arange(0, 5), np.arange(5, 6), np.arange(6, 12)]
        return [
            cls(regularizer=regularizers.get("group_l2", lam=0.05, n=n, groups=mixed), lr=0.1),
            cls(regularizer=regularizers.get("l1", lam=0.02), lr=0.1, c=0.1),
            cls(regularizer=regularizers.get("scad", lam=0.05, a=3.7), lr=0.05, c=1.0),
            cls(regularizer=None),
        ]
