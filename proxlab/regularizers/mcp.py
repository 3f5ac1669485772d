"""Minimax concave penalty (MCP, Zhang 2010 [53] of proxgen.txt; used in PG Sec 4).

.. math::

    r(x) = \\begin{cases} \\lambda |x| - \\dfrac{x^2}{2\\gamma}, & |x| \\le \\gamma\\lambda,\\\\[4pt]
    \\dfrac{\\gamma \\lambda^2}{2}, & |x| > \\gamma\\lambda. \\end{cases}

The prox with step ``t`` is exact for every ``t > 0``, including ``t >= gamma``
where ``r(x) + (x - z)^2 / (2 t)`` is nonconvex.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from .._validation import check_nonneg, check_positive
from ._base import SeparableRegularizer, register


@njit(cache=True, error_model="numpy")
def mcp_threshold(t, lam, gamma):
    """Largest ``|z|`` whose prox is ``0``: ``t lam`` if ``t < gamma``, else
    ``lam sqrt(gamma t)``."""
    if t < gamma:
        return t * lam
    return lam * math.sqrt(gamma * t)


@njit(cache=True, error_model="numpy")
def mcp_scalar(z, t, lam, gamma):
    """``argmin_x r(x) + (x - z)^2 / (2 t)`` for MCP (float64).

    ``t < gamma`` (strongly convex subproblem): firm thresholding;
    ``t >= gamma``: hard thresholding at ``lam sqrt(gamma t)`` (see :class:`MCP`).
    """
    if not lam > 0.0:
        return z
    az = abs(z)
    if az <= mcp_threshold(t, lam, gamma):
        return 0.0
    gl = gamma * lam
    if t < gamma and az <= gl:
        x = min(gamma * (az - t * lam) / (gamma - t), gl)
        return x if z > 0.0 else -x
    return z


@njit(cache=True, error_model="numpy")
def mcp_prox(z, t, lam, gamma, out):
    """MCP prox with one scalar step ``t``."""
    tt = float(t)
    for i in range(z.shape[0]):
        out[i] = mcp_scalar(float(z[i]), tt, lam, gamma)
    return out


@njit(cache=True, error_model="numpy")
def mcp_prox_vec(z, t, lam, gamma, out):
    """MCP prox with a per-coordinate step array ``t``."""
    for i in range(z.shape[0]):
        out[i] = mcp_scalar(float(z[i]), float(t[i]), lam, gamma)
    return out


@njit(cache=True, error_model="numpy")
def _mcp_levels(t, lam, gamma, out):
    for i in range(t.shape[0]):
        out[i] = mcp_threshold(t[i], lam, gamma)
    return out


@register
class MCP(SeparableRegularizer):
    """Minimax concave penalty, ``lam >= 0``, ``gamma > 0`` (Zhang 2010, [53]
    of proxgen.txt, PG Sec 4).

    Metric prox with ``t_i = step / d_i`` (take ``z > 0``; the output has the
    sign of ``z``)::

        t < gamma :  x = 0                                   if z <= t lam
                     x = gamma (z - t lam) / (gamma - t)     if t lam < z <= gamma lam
                     x = z                                   if z > gamma lam
        t >= gamma:  x = 0 if z <= lam sqrt(gamma t), else x = z

    Derivation (enumeration of the pieces of
    ``h(x) = r(x) + (x - z)^2 / (2 t)`` on ``x >= 0``): on ``[0, gamma lam]``
    ``h`` is quadratic with curvature ``1/t - 1/gamma``; its stationary point is
    ``gamma (z - t lam) / (gamma - t)``, the minimizer of that piece when
    ``t < gamma``; when ``t >= gamma`` the piece is concave (or linear) and only
    its ends ``0`` and ``gamma lam`` can win. On ``[gamma lam, inf)`` the
    minimizer is ``max(z, gamma lam)``. For ``t < gamma``, ``h`` is convex, so
    the stationary candidate (firm thresholding) is global. For
    ``t >= gamma``: ``h(gamma lam) - h(z) = (z - gamma lam)^2 / (2 t) >= 0`` when
    ``z >= gamma lam``, ``h(gamma lam) < h(0)`` would need
    ``z > lam (t + gamma) / 2 >= gamma lam``, and ``h(z) < h(0)`` iff
    ``z^2 > gamma lam^2 t``; so the best candidate is ``0`` or ``z`` with the
    switch at ``lam sqrt(gamma t)`` (which is ``>= gamma lam``).

    Ties: at ``|z| = lam sqrt(gamma t)`` (``t >= gamma``) both ``0`` and ``z``
    are optimal; ``0`` is returned.
    """

    name = "mcp"
    family = "MCP"
    convex = False
    separable = True
    grouped = False
    method = "closed form"
    source = "PG Sec 4 (MCP [53])"

    def __init__(self, lam=1.0, gamma=3.0):
        super().__init__()
        self.lam = check_nonneg("lam", lam)
        self.gamma = check_positive("gamma", gamma)
        self.params = {"lam": self.lam, "gamma": self.gamma}

    def _elementwise(self, x):
        ax = np.abs(x)
        lam, g = self.lam, self.gamma
        inner = lam * ax - ax * ax / (2.0 * g)
        return np.where(ax <= g * lam, inner, 0.5 * g * lam * lam)

    def _prox_t(self, z, t):
        out = np.empty_like(z)
        if np.ndim(t) == 0:
            return mcp_prox(z, t, self.lam, self.gamma, out)
        return mcp_prox_vec(z, np.ascontiguousarray(t), self.lam, self.gamma, out)

    def _subgrad_interval(self, x):
        # differentiable except at 0, where the limiting subdifferential is
        # [-lam, lam] (a convex kink); r'(x) = sign(x) max(lam - |x|/gamma, 0)
        ax = np.abs(x)
        g = np.sign(x) * np.maximum(self.lam - ax / self.gamma, 0.0)
        lo = np.where(x == 0, -self.lam, g)
        hi = np.where(x == 0, self.lam, g)
        return lo, hi

    def kinks(self):
        """``0`` (non-differentiable) and ``+-gamma lam`` (where ``r''`` jumps)."""
        gl = self.gamma * self.lam
        return np.unique(np.array([-gl, 0.0, gl]))

    def at_threshold(self, z, step, d):
        """``sign(z)`` times ``t lam`` (``t < gamma``) or ``lam sqrt(gamma t)``
        (``t >= gamma``), ``t = step`` or ``step / d``; the prox there is ``0``."""
        z = np.asarray(z, dtype=np.float64)
        t = step if d is None else step / np.asarray(d, dtype=np.float64)
        t = np.ascontiguousarray(np.broadcast_to(np.asarray(t, dtype=np.float64), z.shape)).ravel()
        lvl = _mcp_levels(t, self.lam, self.gamma, np.empty_like(t)).reshape(z.shape)
        return np.where(z >= 0, 1.0, -1.0) * lvl

    @classmethod
    def examples(cls, rng):
        return [cls(lam=1.0, gamma=3.0), cls(lam=0.5, gamma=0.2), cls(lam=0.0, gamma=2.0),
                cls(lam=float(rng.uniform(0.01, 3)), gamma=float(rng.uniform(0.1, 5)))]
