"""Nonconvex ``l_q`` penalties, ``0 <= q < 1``: hard, half and two-thirds
thresholding, and a certified root for general ``q``.

All four families share one scalar problem. With ``mu = lam * t`` (``t`` the
per-coordinate step ``step / d_i``) the prox of ``r(x) = lam |x|^q`` is

.. math::

    \\operatorname{prox}(z) = \\arg\\min_x\\; h(x),\\qquad
    h(x) = \\tfrac12 (x - z)^2 + \\mu |x|^q ,

with ``|x|^0 = [x != 0]``. The minimizer has the sign of ``z``; for
``x > 0`` (take ``z > 0``) the stationarity equation is
``g(x) = x - z + mu q x^{q-1} = 0``. ``g`` is convex on ``x > 0``
(``g''' > 0``), decreases until ``x_c = (mu q (1 - q))^{1/(2-q)}`` and then
increases, so ``h`` has at most one local minimizer on ``x > 0``; it lies on
``(x_c, z]``. Eliminating ``z`` between ``g(x) = 0`` and ``h(x) = h(0)`` gives
the switching point (the jump of the prox)

.. math::

    x_\\tau = (2 \\mu (1 - q))^{1/(2-q)},\\qquad
    z_\\tau = x_\\tau \\frac{2 - q}{2 (1 - q)} ,

so ``prox(z) = 0`` for ``|z| <= z_tau`` and the non-zero root otherwise
(``q = 0``: ``z_tau = sqrt(2 mu)``, proxgen.txt eq (4); ``q = 1/2``:
``z_tau = 3/2 mu^{2/3}``; ``q = 2/3``: ``z_tau = 2 (2 mu / 3)^{3/4}``).

**Tie convention.** At ``|z| = z_tau`` both ``0`` and ``sign(z) x_tau`` are
global minimizers (proxgen.txt eq (4) returns the set ``{0, z}``); every
kernel here returns ``0``.

Kernels are module-level Numba loops that read ``z`` once and write ``out``
once; they compute in float64 whatever the input dtype and round once on the
store, so a float32 result is the float64 result correctly rounded.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from .._validation import check_nonneg, check_scalar
from ._base import SeparableRegularizer, register

#: below this relative size of the shrinkage ``mu q |z|^{q-2}`` the closed
#: forms switch to the one-term expansion ``|z| - mu q |z|^{q-1}``, whose
#: relative error is ``(1 - q) (mu q |z|^{q-2})^2 < 1e-16``; it keeps the
#: trigonometric / hyperbolic formulas away from overflow and cancellation for
#: huge ``|z|``.
_ASYMPTOTIC = 1e-8

_TWO_PI_3 = 2.0 * math.pi / 3.0
# 27 / (32 sqrt 2) and 4 sqrt 2 / 3: constants of the l_{2/3} resolvent cubic
_C23_W = 27.0 / (32.0 * math.sqrt(2.0))
_C23_S = 4.0 * math.sqrt(2.0) / 3.0


# ------------------------------------------------------------------ scalar maps
@njit(cache=True, error_model="numpy")
def l0_threshold(mu):
    """Switching magnitude of ``1/2 (x - z)^2 + mu [x != 0]``: ``sqrt(2 mu)``."""
    return math.sqrt(2.0 * mu)


@njit(cache=True, error_model="numpy")
def half_threshold_level(mu):
    """Switching magnitude of ``1/2 (x - z)^2 + mu |x|^{1/2}``: ``3/2 mu^{2/3}``."""
    return 1.5 * mu ** (2.0 / 3.0)


@njit(cache=True, error_model="numpy")
def two_thirds_threshold_level(mu):
    """Switching magnitude of ``1/2 (x - z)^2 + mu |x|^{2/3}``: ``2 (2 mu / 3)^{3/4}``."""
    return 2.0 * (2.0 * mu / 3.0) ** 0.75


@njit(cache=True, error_model="numpy")
def lq_threshold_level(mu, q):
    """Switching magnitude ``z_tau = x_tau (2 - q) / (2 (1 - q))`` with
    ``x_tau = (2 mu (1 - q))^{1/(2-q)}``."""
    xt = (2.0 * mu * (1.0 - q)) ** (1.0 / (2.0 - q))
    return xt * (2.0 - q) / (2.0 * (1.0 - q))


@njit(cache=True, error_model="numpy")
def half_scalar(z, mu, thr):
    """``argmin 1/2 (x - z)^2 + mu |x|^{1/2}`` (float64), half-thresholding;
    ``thr = half_threshold_level(mu)`` is passed in (hoisted out of loops).

    ``x = y^2`` turns ``x - |z| + mu / (2 sqrt x) = 0`` into the depressed cubic
    ``y^3 - |z| y + mu / 2 = 0``; its largest root (Viete) gives
    ``x = (2/3) |z| (1 + cos(2 pi / 3 - (2/3) phi))``,
    ``phi = arccos((mu / 4) (|z| / 3)^{-3/2})``, used for ``|z| > 3/2 mu^{2/3}``.
    """
    if not mu > 0.0:  # lam = 0 (also lam = 0 with an overflowed float32 step)
        return z
    az = abs(z)
    if az <= thr:
        return 0.0
    sz = math.sqrt(az)
    if 0.5 * mu / (az * sz) < _ASYMPTOTIC:
        x = az - 0.5 * mu / sz
    else:
        s3 = az / 3.0
        arg = 0.25 * mu / (s3 * math.sqrt(s3))  # in (0, 1/sqrt 2] above the threshold
        phi = math.acos(min(arg, 1.0))
        x = (2.0 / 3.0) * az * (1.0 + math.cos(_TWO_PI_3 - (2.0 / 3.0) * phi))
    return x if z > 0.0 else -x


@njit(cache=True, error_model="numpy")
def two_thirds_scalar(z, mu, thr):
    """``argmin 1/2 (x - z)^2 + mu |x|^{2/3}`` (float64);
    ``thr = two_thirds_threshold_level(mu)`` is passed in.

    ``x = y^3`` turns ``x - |z| + (2/3) mu x^{-1/3} = 0`` into the depressed
    quartic ``y^4 - |z| y + 2 mu / 3 = 0``. Ferrari: with ``s`` the real root of
    the resolvent cubic ``s^3 - (8 mu / 3) s - z^2 = 0``,
    ``s = (4 sqrt 2 / 3) sqrt(mu) cosh(phi / 3)``,
    ``phi = arccosh(27 z^2 / (32 sqrt 2 mu^{3/2}))``, the quartic factors as
    ``(y^2 + s/2)^2 = s (y + |z| / (2 s))^2`` and its largest root is
    ``y = (A + sqrt(2 |z| / A - A^2)) / 2`` with ``A = sqrt(s)``; ``x = y^3``,
    used for ``|z| > 2 (2 mu / 3)^{3/4}`` (there ``phi`` is real:
    the arccosh argument is ``>= 1.299``).
    """
    if not mu > 0.0:  # lam = 0 (also lam = 0 with an overflowed float32 step)
        return z
    az = abs(z)
    if az <= thr:
        return 0.0
    if (2.0 / 3.0) * mu * az ** (-4.0 / 3.0) < _ASYMPTOTIC:
        x = az - (2.0 / 3.0) * mu * az ** (-1.0 / 3.0)
    else:
        r = az / mu ** 0.75  # <= 7.6e5 here, so r^2 cannot overflow
        w = _C23_W * r * r
        phi = math.acosh(max(w, 1.0))
        s = _C23_S * math.sqrt(mu) * math.cosh(phi / 3.0)
        a = math.sqrt(s)
        inner = max(2.0 * az / a - s, 0.0)
        y = 0.5 * (a + math.sqrt(inner))
        x = y * y * y
    return x if z > 0.0 else -x


@njit(cache=True, error_model="numpy")
def lq_scalar(z, mu, q, thr):
    """``argmin 1/2 (x - z)^2 + mu |x|^q`` for ``0 < q < 1`` (float64);
    ``thr = lq_threshold_level(mu, q)`` is passed in.

    For ``|z| > z_tau`` the minimizer is the root of ``g(x) = x - |z| + mu q
    x^{q-1}`` on ``[x_tau, |z|]``, where ``g`` is increasing and convex
    (``x_tau > x_c``) with ``g(|z|) > 0``: Newton from ``|z|`` decreases
    monotonically onto the root (convexity keeps every iterate to its
    right); it stops when an iterate no longer decreases, i.e. at full
    precision. A step that would leave ``[x_tau, x]`` is replaced by bisection.
    """
    if not mu > 0.0:  # lam = 0 (also lam = 0 with an overflowed float32 step)
        return z
    az = abs(z)
    xt = (2.0 * mu * (1.0 - q)) ** (1.0 / (2.0 - q))
    if az <= thr:
        return 0.0
    x = az
    c1 = mu * q
    c2 = mu * q * (1.0 - q)
    for _ in range(200):
        g = x - az + c1 * x ** (q - 1.0)
        gp = 1.0 - c2 * x ** (q - 2.0)
        if gp > 0.0:
            xn = x - g / gp
        else:  # cannot happen above x_c; keep the safeguard
            xn = 0.5 * (x + xt)
        if xn < xt:
            xn = 0.5 * (x + xt)
        if not xn < x:
            break
        x = xn
    return x if z > 0.0 else -x


# --------------------------------------------------------------------- kernels
@njit(cache=True, error_model="numpy")
def hard_threshold(z, t, lam, out):
    """``out_i = z_i [|z_i| > sqrt(2 lam t)]`` with one scalar step ``t``
    (proxgen.txt eq (4)); ``0`` at the threshold."""
    thr = l0_threshold(lam * float(t)) if lam > 0.0 else 0.0
    for i in range(z.shape[0]):
        zi = z[i]
        out[i] = zi if abs(float(zi)) > thr else 0.0
    return out


@njit(cache=True, error_model="numpy")
def hard_threshold_vec(z, t, lam, out):
    """Hard thresholding with a per-coordinate step array ``t``."""
    for i in range(z.shape[0]):
        zi = z[i]
        thr = l0_threshold(lam * float(t[i])) if lam > 0.0 else 0.0
        out[i] = zi if abs(float(zi)) > thr else 0.0
    return out


@njit(cache=True, error_model="numpy")
def half_thresholding(z, t, lam, out):
    """Half-thresholding (``q = 1/2``) with one scalar step ``t``."""
    mu = lam * float(t)
    thr = half_threshold_level(mu)
    for i in range(z.shape[0]):
        out[i] = half_scalar(float(z[i]), mu, thr)
    return out


@njit(cache=True, error_model="numpy")
def half_thresholding_vec(z, t, lam, out):
    """Half-thresholding with a per-coordinate step array ``t``."""
    for i in range(z.shape[0]):
        mu = lam * float(t[i])
        out[i] = half_scalar(float(z[i]), mu, half_threshold_level(mu))
    return out


@njit(cache=True, error_model="numpy")
def two_thirds_thresholding(z, t, lam, out):
    """``q = 2/3`` thresholding with one scalar step ``t``."""
    mu = lam * float(t)
    thr = two_thirds_threshold_level(mu)
    for i in range(z.shape[0]):
        out[i] = two_thirds_scalar(float(z[i]), mu, thr)
    return out


@njit(cache=True, error_model="numpy")
def two_thirds_thresholding_vec(z, t, lam, out):
    """``q = 2/3`` thresholding with a per-coordinate step array ``t``."""
    for i in range(z.shape[0]):
        mu = lam * float(t[i])
        out[i] = two_thirds_scalar(float(z[i]), mu, two_thirds_threshold_level(mu))
    return out


@njit(cache=True, error_model="numpy")
def lq_thresholding(z, t, lam, q, out):
    """General ``0 < q < 1`` with one scalar step ``t``."""
    mu = lam * float(t)
    thr = lq_threshold_level(mu, q)
    for i in range(z.shape[0]):
        out[i] = lq_scalar(float(z[i]), mu, q, thr)
    return out


@njit(cache=True, error_model="numpy")
def lq_thresholding_vec(z, t, lam, q, out):
    """General ``0 < q < 1`` with a per-coordinate step array ``t``."""
    for i in range(z.shape[0]):
        mu = lam * float(t[i])
        out[i] = lq_scalar(float(z[i]), mu, q, lq_threshold_level(mu, q))
    return out


@njit(cache=True, error_model="numpy")
def _levels(mu, kind, q, out):
    """Switching magnitudes for an array ``mu`` (the same compiled formulas as
    the kernels, so ``at_threshold`` lands bit-exactly on the kernels' test)."""
    for i in range(mu.shape[0]):
        m = mu[i]
        if kind == 0:
            out[i] = l0_threshold(m)
        elif kind == 1:
            out[i] = half_threshold_level(m)
        elif kind == 2:
            out[i] = two_thirds_threshold_level(m)
        else:
            out[i] = lq_threshold_level(m, q)
    return out


def threshold_levels(mu, kind, q=0.5):
    """``z_tau`` for an array of ``mu = lam t``; ``kind`` 0: l0, 1: l_{1/2},
    2: l_{2/3}, 3: general ``q``. Used by ``at_threshold`` here and in
    :mod:`.quant`."""
    mu = np.ascontiguousarray(mu, dtype=np.float64)
    flat = mu.ravel()
    return _levels(flat, kind, float(q), np.empty_like(flat)).reshape(mu.shape)


# --------------------------------------------------------------------- classes
class _LqBase(SeparableRegularizer):
    """Shared pieces of the ``l_q`` family (``r(x) = lam |x|^q``)."""

    family = "l_q (nonconvex)"
    convex = False
    separable = True
    grouped = False
    q = None
    _kind = None

    def _steps(self, z, step, d):
        t = step if d is None else step / np.asarray(d, dtype=np.float64)
        return np.broadcast_to(np.asarray(t, dtype=np.float64), np.shape(z))

    def at_threshold(self, z, step, d):
        """``sign(z) * z_tau(lam t)`` with ``t = step`` or ``step / d`` (``sign(0) = +1``).

        At this magnitude the prox returns ``0`` (tie convention) and any larger
        magnitude gives a non-zero output.
        """
        z = np.asarray(z, dtype=np.float64)
        lvl = threshold_levels(self.lam * self._steps(z, step, d), self._kind, float(self.q))
        return np.where(z >= 0, 1.0, -1.0) * lvl

    def _elementwise(self, x):
        return self.lam * np.abs(x) ** self.q

    def _subgrad_interval(self, x):
        # r'(x) = lam q |x|^{q-1} sign(x) for x != 0; at 0 the limiting (and
        # regular) subdifferential is the whole line when lam > 0, since
        # lam |x|^q dominates any linear function near 0.
        ax = np.abs(x)
        with np.errstate(divide="ignore"):
            g = self.lam * self.q * np.where(ax > 0, ax, 1.0) ** (self.q - 1.0) * np.sign(x)
        big = np.inf if self.lam > 0 else 0.0
        lo = np.where(x == 0, -big, g)
        hi = np.where(x == 0, big, g)
        return lo, hi


@register
class L0(_LqBase):
    """``R(x) = lam * #{i : x_i != 0}`` (``l_0``, ``q = 0``).

    Metric prox: hard thresholding (proxgen.txt eq (4)), ``t_i = step / d_i``::

        x_i = z_i  if |z_i| > sqrt(2 lam t_i),   0 otherwise

    At ``|z_i| = sqrt(2 lam t_i)`` the set ``{0, z_i}`` of eq (4) is returned
    as ``0`` (tie convention of this module).
    """

    name = "l0"
    method = "closed form"
    source = "PG eq (4)"
    q = 0.0
    _kind = 0

    def __init__(self, lam=1.0):
        super().__init__()
        self.lam = check_nonneg("lam", lam)
        self.params = {"lam": self.lam}

    def _elementwise(self, x):
        return self.lam * (np.asarray(x) != 0).astype(np.float64)

    def _prox_t(self, z, t):
        out = np.empty_like(z)
        if np.ndim(t) == 0:
            return hard_threshold(z, t, self.lam, out)
        return hard_threshold_vec(z, np.ascontiguousarray(t), self.lam, out)

    def _subgrad_interval(self, x):
        big = np.inf if self.lam > 0 else 0.0
        zero = np.zeros(np.shape(x))
        return np.where(x == 0, -big, zero), np.where(x == 0, big, zero)

    @classmethod
    def examples(cls, rng):
        return [cls(lam=1.0), cls(lam=0.0), cls(lam=float(rng.uniform(0.01, 3)))]


@register
class LHalf(_LqBase):
    """``R(x) = lam * sum_i |x_i|^{1/2}`` (``l_{1/2}``).

    Metric prox: half-thresholding (Xu et al. 2012, as used by Cao-Sun-Xu 2013
    [37] of proxgen.txt Sec 2). With ``mu_i = lam step / d_i``::

        x_i = 0                                                 if |z_i| <= (3/2) mu_i^{2/3}
        x_i = (2/3) z_i (1 + cos(2 pi/3 - (2/3) phi_i))         otherwise,
        phi_i = arccos((mu_i / 4) (|z_i| / 3)^{-3/2})

    (for the problem with ``(x - z)^2`` instead of ``1/2 (x - z)^2`` the
    paper's constants are these with ``mu = lambda / 2``: threshold
    ``54^{1/3} / 4 lambda^{2/3}``, ``phi = arccos(lambda / 8 (|z|/3)^{-3/2})``).
    For ``mu |z|^{-3/2} / 2 < 1e-8`` the expansion ``z - sign(z) mu / (2 sqrt|z|)``
    (relative error < 1e-16) is used instead. Ties give ``0``.
    """

    name = "l_half"
    method = "closed form"
    source = "PG Sec 2, Cao-Sun-Xu 2013 [37]"
    q = 0.5
    _kind = 1

    def __init__(self, lam=1.0):
        super().__init__()
        self.lam = check_nonneg("lam", lam)
        self.params = {"lam": self.lam}

    def _elementwise(self, x):
        return self.lam * np.sqrt(np.abs(x))

    def _prox_t(self, z, t):
        out = np.empty_like(z)
        if np.ndim(t) == 0:
            return half_thresholding(z, t, self.lam, out)
        return half_thresholding_vec(z, np.ascontiguousarray(t), self.lam, out)

    @classmethod
    def examples(cls, rng):
        return [cls(lam=1.0), cls(lam=0.0), cls(lam=float(rng.uniform(0.01, 3)))]


@register
class LTwoThirds(_LqBase):
    """``R(x) = lam * sum_i |x_i|^{2/3}`` (``l_{2/3}``).

    Metric prox (Cao-Sun-Xu 2013 [37] of proxgen.txt Sec 2, rewritten for
    ``1/2 (x - z)^2 + mu |x|^{2/3}``, ``mu_i = lam step / d_i``)::

        x_i = 0                                            if |z_i| <= 2 (2 mu_i / 3)^{3/4}
        x_i = sign(z_i) ((A + sqrt(2 |z_i| / A - A^2)) / 2)^3   otherwise,
        A   = sqrt((4 sqrt 2 / 3) sqrt(mu_i) cosh(phi_i / 3)),
        phi_i = arccosh(27 z_i^2 / (32 sqrt 2 mu_i^{3/2}))

    (with ``lambda = 2 mu`` these are the paper's
    ``(2/3) (3 lambda^3)^{1/4}``, ``|A| = 2/sqrt 3 lambda^{1/4} cosh(phi/3)^{1/2}``,
    ``phi = arccosh(27/16 z^2 lambda^{-3/2})``). For ``(2/3) mu |z|^{-4/3} < 1e-8``
    the expansion ``z - sign(z) (2/3) mu |z|^{-1/3}`` is used. Ties give ``0``.
    """

    name = "l_two_thirds"
    method = "closed form"
    source = "PG Sec 2, Cao-Sun-Xu 2013 [37]"
    q = 2.0 / 3.0
    _kind = 2

    def __init__(self, lam=1.0):
        super().__init__()
        self.lam = check_nonneg("lam", lam)
        self.params = {"lam": self.lam}

    def _elementwise(self, x):
        return self.lam * np.square(np.cbrt(np.abs(x)))

    def _prox_t(self, z, t):
        out = np.empty_like(z)
        if np.ndim(t) == 0:
            return two_thirds_thresholding(z, t, self.lam, out)
        return two_thirds_thresholding_vec(z, np.ascontiguousarray(t), self.lam, out)

    @classmethod
    def examples(cls, rng):
        return [cls(lam=1.0), cls(lam=0.0), cls(lam=float(rng.uniform(0.01, 3)))]


@register
class Lq(_LqBase):
    """``R(x) = lam * sum_i |x_i|^q`` for a general ``0 < q < 1``
    (proxgen.txt Sec 2, the ``l_q`` family of the proximal ADAM).

    Metric prox, ``mu_i = lam step / d_i``, ``x_tau = (2 mu_i (1-q))^{1/(2-q)}``::

        x_i = 0                     if |z_i| <= x_tau (2 - q) / (2 (1 - q))
        x_i = sign(z_i) x*          otherwise, x* the root of
                                    x - |z_i| + mu_i q x^{q-1} = 0 on [x_tau, |z_i|]

    found by monotone Newton from ``|z_i|`` (the function is increasing and
    convex there) to full float64 precision. Ties give ``0``.
    """

    name = "lq"
    method = "certified 1-D root"
    source = "PG Sec 2 (l_q, 0 < q < 1)"
    _kind = 3

    def __init__(self, lam=1.0, q=0.5):
        super().__init__()
        self.lam = check_nonneg("lam", lam)
        self.q = check_scalar("q", q, low=0.0, high=1.0, low_open=True, high_open=True)
        self.params = {"lam": self.lam, "q": self.q}

    def _prox_t(self, z, t):
        out = np.empty_like(z)
        if np.ndim(t) == 0:
            return lq_thresholding(z, t, self.lam, self.q, out)
        return lq_thresholding_vec(z, np.ascontiguousarray(t), self.lam, self.q, out)

    @classmethod
    def examples(cls, rng):
        return [cls(lam=1.0, q=0.3), cls(lam=0.4, q=0.9), cls(lam=0.0, q=0.5),
                cls(lam=float(rng.uniform(0.01, 3)), q=float(rng.uniform(0.05, 0.95)))]
