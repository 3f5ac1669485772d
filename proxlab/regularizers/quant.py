"""ProxQuant's W-shaped binary-quantization regularizer and its ``l_q``
generalizations (proxgen.txt Sec 2 and Table 2; ProxQuant [1]).

.. math::

    R(x) = \\lambda \\sum_j \\operatorname{dist}(x_j, \\{-1, +1\\})^q,
    \\qquad q \\in \\{0, 1/2, 2/3, 1\\},

which equals ``lam * sum_j |x_j - sign(x_j)|^q`` of the paper for ``x_j != 0``
and is continuous at ``0`` with value ``lam`` (``|u|^0 = [u != 0]``). The
revised ProxQuant step of Table 2 is the metric prox of ``R`` with the ADAM
metric ``C_t + delta I``; separability reduces it to the scalar problem
solved here by a shift of the ``l_q`` prox.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .._validation import check_nonneg, check_scalar
from ._base import SeparableRegularizer, register
from .lq import (half_scalar, half_threshold_level, l0_threshold, threshold_levels, two_thirds_scalar,
                 two_thirds_threshold_level)

_Q_VALUES = (0.0, 0.5, 2.0 / 3.0, 1.0)


@njit(cache=True, error_model="numpy")
def quant_level(mu, code):
    """Switching magnitude ``tau`` of the ``l_q`` prox with ``mu`` (``code`` 0..3
    for ``q = 0, 1/2, 2/3, 1``)."""
    if code == 0:
        return l0_threshold(mu)
    if code == 1:
        return half_threshold_level(mu)
    if code == 2:
        return two_thirds_threshold_level(mu)
    return mu


@njit(cache=True, error_model="numpy")
def quant_scalar(z, mu, code, thr):
    """``argmin_x mu dist(x, {-1, 1})^q + (x - z)^2 / 2`` (float64);
    ``code`` 0, 1, 2, 3 for ``q = 0, 1/2, 2/3, 1``; ``thr = quant_level(mu, code)``.

    ``x = sign(z) (1 + prox_{mu |.|^q}(|z| - 1))`` with ``sign(0) = +1``.
    """
    if not mu > 0.0:  # lam = 0 (also lam = 0 with an overflowed float32 step)
        return z
    w = abs(z) - 1.0
    if code == 0:
        u = w if abs(w) > thr else 0.0
    elif code == 1:
        u = half_scalar(w, mu, thr)
    elif code == 2:
        u = two_thirds_scalar(w, mu, thr)
    else:
        u = w - min(max(w, -thr), thr)
    x = 1.0 + u
    return x if z >= 0.0 else -x


@njit(cache=True, error_model="numpy")
def quant_prox(z, t, lam, code, out):
    """Binary-quantization prox with one scalar step ``t``."""
    mu = lam * float(t)
    thr = quant_level(mu, code)
    for i in range(z.shape[0]):
        out[i] = quant_scalar(float(z[i]), mu, code, thr)
    return out


@njit(cache=True, error_model="numpy")
def quant_prox_vec(z, t, lam, code, out):
    """Binary-quantization prox with a per-coordinate step array ``t``."""
    for i in range(z.shape[0]):
        mu = lam * float(t[i])
        out[i] = quant_scalar(float(z[i]), mu, code, quant_level(mu, code))
    return out


@register
class ProxQuantBinary(SeparableRegularizer):
    """``R(x) = lam * sum_j dist(x_j, {-1, 1})^q`` (ProxQuant W-shaped
    regularizer, proxgen.txt Sec 2 / Table 2), ``q in {0, 1/2, 2/3, 1}``.

    Metric prox, ``t_j = step / d_j``, ``mu_j = lam t_j``::

        x_j = sign(z_j) (1 + prox_{mu_j |.|^q}(|z_j| - 1)),   sign(0) := +1

    with the ``l_q`` closed forms of :mod:`proxlab.regularizers.lq`
    (``q = 0``: hard, ``1/2``: half, ``2/3``: two-thirds thresholding, ``1``:
    soft thresholding).

    Why the shift is exact (take ``z >= 0``). ``r`` is even and for ``x < 0``
    ``|-x - z| <= |x - z|``, so a minimizer with ``x >= 0`` exists. On
    ``x >= 0``, ``r(x) = lam |x - 1|^q``; with ``u = x - 1`` the problem is
    ``min_{u >= -1} lam |u|^q + (u - (z - 1))^2 / (2 t)``. The unconstrained
    ``l_q`` prox ``u* = prox(z - 1)`` lies in ``[min(0, z-1), max(0, z-1)]``
    (``|u|^q`` is even and non-decreasing in ``|u|``, so projecting any ``u``
    onto that interval lowers both terms), and that interval is inside
    ``[-1, inf)`` because ``z - 1 >= -1``: the constraint is inactive and
    ``x* = 1 + u*``, which lies in the bracket
    ``[min(z, 1), max(z, 1)]`` (mirrored for ``z < 0``, see :meth:`oracle_bracket`).

    Ties: when ``|z_j| - 1`` sits on the ``l_q`` threshold, ``u = 0``
    (``x_j = +-1``) is returned. At ``z_j = 0`` the problem is symmetric and
    ``+x*`` and ``-x*`` are both global minimizers (distinct unless ``x* = 0``);
    the positive one is returned.
    """

    name = "binary_quant"
    family = "ProxQuant binary"
    convex = False
    separable = True
    grouped = False
    method = "closed form"
    source = "PG Table 2, Sec 2"

    def __init__(self, lam=1.0, q=1.0):
        super().__init__()
        self.lam = check_nonneg("lam", lam)
        q = check_scalar("q", q, low=0.0, high=1.0)
        codes = [i for i, v in enumerate(_Q_VALUES) if abs(q - v) <= 1e-12]
        if not codes:
            raise ValueError(f"q must be one of 0, 1/2, 2/3, 1 for binary_quant, got {q!r}")
        self._code = codes[0]
        self.q = _Q_VALUES[self._code]
        self.params = {"lam": self.lam, "q": self.q}

    def _elementwise(self, x):
        dist = np.abs(np.abs(x) - 1.0)
        if self._code == 0:
            return self.lam * (dist != 0).astype(np.float64)
        if self._code == 1:
            return self.lam * np.sqrt(dist)
        if self._code == 2:
            return self.lam * np.square(np.cbrt(dist))
        return self.lam * dist

    def _prox_t(self, z, t):
        out = np.empty_like(z)
        if np.ndim(t) == 0:
            return quant_prox(z, t, self.lam, self._code, out)
        return quant_prox_vec(z, np.ascontiguousarray(t), self.lam, self._code, out)

    def _subgrad_interval(self, x):
        # away from {-1, 0, 1}: r'(x) = lam q |u|^{q-1} sign(u) sign(x), u = |x| - 1.
        # At +-1: the whole line for q < 1 (cusp, lam > 0), [-lam, lam] for q = 1.
        # At 0: r has a concave kink with one-sided slopes -+lam q; the limiting
        # subdifferential {-lam q, lam q} is replaced by its convex hull (q = 0:
        # r is locally constant, {0}).
        lam, q = self.lam, self.q
        u = np.abs(x) - 1.0
        au = np.abs(u)
        if self._code == 0:
            g = np.zeros(np.shape(x))
        else:
            with np.errstate(divide="ignore"):
                g = lam * q * np.where(au > 0, au, 1.0) ** (q - 1.0) * np.sign(u) * np.sign(x)
        at_one = au == 0
        big = (np.inf if q < 1 else lam) if lam > 0 else 0.0
        lo = np.where(at_one, -big, g)
        hi = np.where(at_one, big, g)
        lo = np.where(x == 0, -lam * q, lo)
        hi = np.where(x == 0, lam * q, hi)
        return lo, hi

    def oracle_bracket(self, z):
        """``[min(|z|, 1), max(|z|, 1)]`` for ``z >= 0`` and its mirror image
        for ``z < 0`` (proof in the class docstring; at ``z = 0`` the bracket
        ``[0, 1]`` holds the positive one of the two symmetric minimizers)."""
        z = np.asarray(z, dtype=np.float64)
        az = np.abs(z)
        lo, hi = np.minimum(az, 1.0), np.maximum(az, 1.0)
        neg = z < 0
        return np.where(neg, -hi, lo), np.where(neg, -lo, hi)

    def kinks(self):
        """``0`` (concave kink) and ``+-1`` (cusps for ``q < 1``, kinks for ``q = 1``)."""
        return np.array([-1.0, 0.0, 1.0])

    def at_threshold(self, z, step, d):
        """``sign(z) * (1 + tau)`` with ``tau`` the ``l_q`` switching magnitude
        for ``mu = lam t`` (``t = step`` or ``step / d``): the prox output is
        exactly ``+-1`` there and moves off ``+-1`` for any larger ``|z|``.

        ``1 + tau`` is rounded down when needed so that the kernels' ``|z| - 1``
        (exact in float64) does not exceed ``tau``.
        """
        z = np.asarray(z, dtype=np.float64)
        t = step if d is None else step / np.asarray(d, dtype=np.float64)
        mu = self.lam * np.broadcast_to(np.asarray(t, dtype=np.float64), z.shape)
        if self._code == 3:
            tau = np.array(mu, dtype=np.float64)
        else:
            tau = threshold_levels(mu, self._code)
        m = 1.0 + tau
        m = np.where(m - 1.0 > tau, np.nextafter(m, 0.0), m)
        return np.where(z >= 0, 1.0, -1.0) * m

    @classmethod
    def examples(cls, rng):
        return [cls(lam=0.5, q=0.0), cls(lam=0.3, q=0.5), cls(lam=float(rng.uniform(0.01, 2)), q=2.0 / 3.0),
                cls(lam=0.2, q=1.0), cls(lam=0.0, q=0.5)]
