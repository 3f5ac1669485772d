"""MADGRAD (Defazio & Jelassi 2022), in proxlab's parameterization.

MADGRAD is momentumized, adaptive, dual-averaged gradient descent without a
regularizer; RAMDA (ramda.txt) is MADGRAD plus the regularized subproblem (4).
At step ``t = 1, 2, ...`` with gradient ``g_t`` at ``x_{t-1}``::

    lambda_t = lr sqrt(t)                                   (Defazio & Jelassi, Alg. 1)
    s_t      = s_{t-1} + lambda_t g_t
    nu_t     = nu_{t-1} + lambda_t g_t^2
    z_t      = x0 - s_t / (cbrt(nu_t) + eps)
    x_t      = (1 - c) x_{t-1} + c z_t

``c`` is the weight on the new point (proxlab's and ramda.txt (5)'s convention);
the ``madgrad`` package's ``momentum`` is ``1 - c``. The package also adds
``eps`` to the learning rate "for stability" (``lambda_k = (lr + eps) sqrt(k+1)``),
so ``madgrad.MADGRAD(lr=a, momentum=m, eps=e)`` is ``MADGRAD(lr=a + e, c=1 - m,
eps=e)`` here (reference-implementations.md takeaway 1; tests/test_ramda_family.py).
With ``eps = 0`` a coordinate whose ``nu`` is still 0 stays at ``x0`` (the
package's ``rms = 0 -> inf`` convention). Weight decay is not implemented.

The "prox point" is the dual-averaging point ``z_t`` (field ``z``): with no
regularizer it is the Subproblem's center, and it equals RAMDA's ``W_hat_t``.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from ..regularizers._dispatch import prox_metric_dispatch
from ._base import Algorithm, Subproblem, check_eps, check_lr, register
from .ramda import check_weight


@njit(cache=True, error_model="numpy")
def madgrad_kernel(t, x, g, S, sc, h, kind, rp, idx, ptr, gw, work):
    lr, c, eps = h[0], h[1], h[2]
    lam = lr * math.sqrt(t)
    x0 = S[0]
    s = S[1]
    nu = S[2]
    z = S[3]
    d = work[0]
    n = x.shape[0]
    for i in range(n):
        gi = np.float64(g[i])
        si = s[i] + lam * gi
        nui = nu[i] + lam * gi * gi
        s[i] = si
        nu[i] = nui
        d[i] = nui
    cb = np.cbrt(d)
    for i in range(n):
        rms = cb[i] + eps
        d[i] = rms
        if rms == 0.0:  # eps = 0 and no gradient yet: rms = inf, z = x0
            z[i] = x0[i]
        else:
            z[i] = x0[i] - np.float64(s[i]) / rms
    prox_metric_dispatch(kind, rp, idx, ptr, gw, z, lam, d, z, work[1])  # kind NONE: the identity
    for i in range(n):
        x[i] = (1.0 - c) * x[i] + c * z[i]


@register
class MADGRAD(Algorithm):
    """MADGRAD: dual averaging with a cube-root preconditioner and momentum by averaging.

    .. math::

        \\lambda_t = \\mathrm{lr}\\sqrt{t},\\quad s_t = s_{t-1} + \\lambda_t g_t,\\quad
        \\nu_t = \\nu_{t-1} + \\lambda_t g_t^2

        z_t = x_0 - \\frac{s_t}{\\sqrt[3]{\\nu_t} + \\epsilon},\\qquad
        x_t = (1 - c)\\, x_{t-1} + c\\, z_t

    (Defazio & Jelassi 2022, Algorithm 1 with ``c_{k+1} = c``; ramda.txt eqs
    (2)-(5) with ``psi = 0``.)

    Parameters
    ----------
    regularizer : None
        MADGRAD is unregularized; use :class:`~proxlab.solvers.ramda.RAMDA` for a
        regularizer.
    lr : float > 0, default 1e-2
        ``lr`` in ``lambda_t = lr sqrt(t)``; the package's ``lr + eps``.
    c : float in (0, 1], default 0.1
        Weight on ``z_t``; the package's ``1 - momentum`` (default momentum 0.9).
    eps : float >= 0, default 1e-6
        Added outside the cube root.
    """

    name = "madgrad"
    family = "RAMDA"
    source = "Defazio & Jelassi 2022, Alg. 1; RAMDA eqs (2)-(5), psi = 0"
    parent = "madgrad.MADGRAD (lr_M = lr - eps, momentum = 1 - c)"
    defaults = {"lr": 1e-2, "c": 0.1, "eps": 1e-6}
    fields = ("x0", "s", "nu", "z")
    prox_point_field = "z"
    _kernel = madgrad_kernel

    def __init__(self, regularizer=None, nan_policy="raise", **hyper):
        super().__init__(regularizer=None, nan_policy=nan_policy, **hyper)
        if regularizer is not None:
            raise ValueError("MADGRAD has no regularizer (got regularizer="
                             f"{regularizer!r}); RAMDA is MADGRAD with one")

    def _check_hyper(self, hyper):
        hyper["lr"] = check_lr(hyper["lr"])
        hyper["c"] = check_weight(hyper["c"], "c")
        hyper["eps"] = check_eps(hyper["eps"])
        return hyper

    def _init_state(self, state):
        state["x0"][:] = state["x"]
        state["z"][:] = state["x"]

    def _sums(self, state, grad):
        lam = self.hyper["lr"] * math.sqrt(state.t + 1)
        g = grad.astype(np.float64)
        s = state["s"].astype(np.float64) + lam * g
        nu = state["nu"].astype(np.float64) + lam * g * g
        rms = np.cbrt(nu) + self.hyper["eps"]
        return lam, s, nu, rms

    def subproblem(self, state, grad):
        """No regularizer: the argmin is the center ``z_t = x0 - s_t / rms_t``
        (``rms_t`` is the metric; ``step`` is ``lambda_t``, immaterial)."""
        lam, s, _, rms = self._sums(state, grad)
        x0 = state["x0"].astype(np.float64)
        safe = np.where(rms > 0.0, rms, 1.0)
        center = np.where(rms > 0.0, x0 - s / safe, x0).astype(state["x"].dtype)
        return Subproblem(None, center, lam, rms)

    def _advance(self, state, grad, prox_point):
        _, s, nu, _ = self._sums(state, grad)
        c = self.hyper["c"]
        state["s"][:] = s
        state["nu"][:] = nu
        state["z"][:] = prox_point
        state["x"][:] = (1.0 - c) * state["x"] + c * state["z"]

    @classmethod
    def examples(cls, rng):
        return [cls(), cls(lr=0.05, c=0.5), cls(lr=0.01, c=1.0, eps=0.0), cls(lr=0.1, c=0.01, eps=1e-3)]
