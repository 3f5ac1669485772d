"""Smoothly clipped absolute deviation (SCAD, Fan & Li 2001 [54] of
proxgen.txt; used in PG Sec 4).

.. math::

    r(x) = \\begin{cases} \\lambda |x|, & |x| \\le \\lambda,\\\\
    \\dfrac{2 a \\lambda |x| - x^2 - \\lambda^2}{2 (a - 1)}, & \\lambda < |x| \\le a\\lambda,\\\\[4pt]
    \\dfrac{(a + 1) \\lambda^2}{2}, & |x| > a \\lambda, \\end{cases}
    \\qquad a > 2.

The prox with step ``t`` is exact for every ``t > 0``, including
``t >= a - 1`` where ``r(x) + (x - z)^2 / (2 t)`` is nonconvex.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from .._validation import check_nonneg, check_scalar
from ._base import SeparableRegularizer, register


@njit(cache=True, error_model="numpy")
def scad_threshold(t, lam, a):
    """Largest ``|z|`` whose prox is ``0``: ``t lam`` if ``t <= a + 1``, else
    ``lam sqrt((a + 1) t)``."""
    if t <= a + 1.0:
        return t * lam
    return lam * math.sqrt((a + 1.0) * t)


@njit(cache=True, error_model="numpy")
def _scad_r(x, lam, a):
    """``r(x)`` for ``x >= 0``."""
    if x <= lam:
        return lam * x
    if x <= a * lam:
        return (2.0 * a * lam * x - x * x - lam * lam) / (2.0 * (a - 1.0))
    return 0.5 * (a + 1.0) * lam * lam


@njit(cache=True, error_model="numpy")
def scad_scalar(z, t, lam, a):
    """``argmin_x r(x) + (x - z)^2 / (2 t)`` for SCAD (float64).

    ``0`` when ``|z| <= scad_threshold``. For ``t <= a - 1`` (convex
    subproblem) the piecewise closed form of :class:`SCAD`; for ``t > a - 1``
    the best (smallest ``h(x) = r(x) + (x - |z|)^2 / (2 t)``, first one on
    exact ties) of the candidates ``clip(|z| - t lam, 0, lam)`` (piece 1),
    ``lam``, ``a lam`` (ends of the concave piece 2) and ``max(|z|, a lam)``
    (piece 3); sign of ``z``.
    """
    if not lam > 0.0:
        return z
    az = abs(z)
    if az <= scad_threshold(t, lam, a):
        return 0.0
    al = a * lam
    if t <= a - 1.0:
        # convex subproblem: the classical SCAD thresholding with step t; no
        # value comparisons, so no rounding-induced branch flips
        if az <= (1.0 + t) * lam:
            x = az - t * lam
        elif az <= al:
            x = min(max(((a - 1.0) * az - al * t) / ((a - 1.0) - t), lam), al)
        else:
            return z
        return x if z > 0.0 else -x
    # nonconvex subproblem (t > a - 1): piece 2 is concave, only its ends compete
    inv2t = 0.5 / t
    x = min(max(az - t * lam, 0.0), lam)
    best = _scad_r(x, lam, a) + (x - az) * (x - az) * inv2t
    c = lam
    h = _scad_r(c, lam, a) + (c - az) * (c - az) * inv2t
    if h < best:
        x, best = c, h
    c = al
    h = _scad_r(c, lam, a) + (c - az) * (c - az) * inv2t
    if h < best:
        x, best = c, h
    c = max(az, al)
    h = _scad_r(c, lam, a) + (c - az) * (c - az) * inv2t
    if h < best:
        x, best = c, h
    if x == az:
        return z
    return x if z > 0.0 else -x


@njit(cache=True, error_model="numpy")
def scad_prox(z, t, lam, a, out):
    """SCAD prox with one scalar step ``t``."""
    tt = float(t)
    for i in range(z.shape[0]):
        out[i] = scad_scalar(float(z[i]), tt, lam, a)
    return out


@njit(cache=True, error_model="numpy")
def scad_prox_vec(z, t, lam, a, out):
    """SCAD prox with a per-coordinate step array ``t``."""
    for i in range(z.shape[0]):
        out[i] = scad_scalar(float(z[i]), float(t[i]), lam, a)
    return out


@njit(cache=True, error_model="numpy")
def _scad_levels(t, lam, a, out):
    for i in range(t.shape[0]):
        out[i] = scad_threshold(t[i], lam, a)
    return out


@register
class SCAD(SeparableRegularizer):
    """SCAD penalty, ``lam >= 0``, ``a > 2`` (default 3.7; Fan & Li 2001, [54]
    of proxgen.txt, PG Sec 4).

    Metric prox with ``t_i = step / d_i`` (``z > 0``; the output has the sign
    of ``z``). Pieces of ``h(x) = r(x) + (x - z)^2 / (2 t)`` on ``x >= 0``:

    * ``[0, lam]``: convex, minimizer ``clip(z - t lam, 0, lam)``;
    * ``[lam, a lam]``: curvature ``1/t - 1/(a-1)``; for ``t < a - 1`` the
      minimizer is ``clip(((a-1) z - a lam t) / (a - 1 - t), lam, a lam)``,
      for ``t >= a - 1`` only the ends ``lam``, ``a lam`` can win;
    * ``[a lam, inf)``: minimizer ``max(z, a lam)``.

    The prox is the best of these candidates (every piece's minimizer is
    listed, so the best is global). For ``t <= a - 1`` ``h`` is convex and the
    best candidate is given in closed form below (evaluated without value
    comparisons); for ``t > a - 1`` the kernel compares ``h`` at the
    candidates. Its zero set is ``|z| <= t lam`` for
    ``t <= a + 1`` (``h'(0+) = lam - z/t``; for ``t <= a - 1`` ``h`` is convex
    and for larger ``t`` no far candidate beats ``0`` below ``t lam``) and
    ``|z| <= lam sqrt((a + 1) t)`` for ``t > a + 1`` (where ``h(z) = h(0)``).
    For ``t <= a - 1`` this is the classical (``t = 1``) SCAD thresholding with step ``t``::

        x = sign(z) max(|z| - t lam, 0)                          |z| <= (1 + t) lam
        x = ((a - 1) z - sign(z) a lam t) / (a - 1 - t)           (1 + t) lam < |z| <= a lam
        x = z                                                    |z| > a lam

    Ties: at ``|z| = lam sqrt((a + 1) t)`` (``t > a + 1``) both ``0`` and ``z``
    are optimal; ``0`` is returned.
    """

    name = "scad"
    family = "SCAD"
    convex = False
    separable = True
    grouped = False
    method = "closed form"
    source = "PG Sec 4 (SCAD [54])"

    def __init__(self, lam=1.0, a=3.7):
        super().__init__()
        self.lam = check_nonneg("lam", lam)
        self.a = check_scalar("a", a, low=2.0, low_open=True)
        self.params = {"lam": self.lam, "a": self.a}

    def _elementwise(self, x):
        ax = np.abs(x)
        lam, a = self.lam, self.a
        mid = (2.0 * a * lam * ax - ax * ax - lam * lam) / (2.0 * (a - 1.0))
        return np.where(ax <= lam, lam * ax, np.where(ax <= a * lam, mid, 0.5 * (a + 1.0) * lam * lam))

    def _prox_t(self, z, t):
        out = np.empty_like(z)
        if np.ndim(t) == 0:
            return scad_prox(z, t, self.lam, self.a, out)
        return scad_prox_vec(z, np.ascontiguousarray(t), self.lam, self.a, out)

    def _subgrad_interval(self, x):
        # C^1 away from 0; [-lam, lam] at 0 (convex kink)
        ax = np.abs(x)
        lam, a = self.lam, self.a
        mag = np.where(ax <= lam, lam, np.maximum(a * lam - ax, 0.0) / (a - 1.0))
        g = np.sign(x) * mag
        lo = np.where(x == 0, -lam, g)
        hi = np.where(x == 0, lam, g)
        return lo, hi

    def kinks(self):
        """``0`` (non-differentiable) and ``+-lam``, ``+-a lam`` (where ``r''`` jumps)."""
        lam, al = self.lam, self.a * self.lam
        return np.unique(np.array([-al, -lam, 0.0, lam, al]))

    def at_threshold(self, z, step, d):
        """``sign(z)`` times ``t lam`` (``t <= a + 1``) or ``lam sqrt((a+1) t)``
        (``t > a + 1``), ``t = step`` or ``step / d``; the prox there is ``0``."""
        z = np.asarray(z, dtype=np.float64)
        t = step if d is None else step / np.asarray(d, dtype=np.float64)
        t = np.ascontiguousarray(np.broadcast_to(np.asarray(t, dtype=np.float64), z.shape)).ravel()
        lvl = _scad_levels(t, self.lam, self.a, np.empty_like(t)).reshape(z.shape)
        return np.where(z >= 0, 1.0, -1.0) * lvl

    @classmethod
    def examples(cls, rng):
        return [cls(lam=1.0), cls(lam=0.3, a=2.1), cls(lam=0.0, a=3.0),
                cls(lam=float(rng.uniform(0.01, 3)), a=float(rng.uniform(2.05, 6)))]
