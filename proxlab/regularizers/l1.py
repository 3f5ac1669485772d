"""l1 (lasso) and elastic net: soft-thresholding.

For ``R(x) = lam * sum_i w_i |x_i|`` the metric prox is coordinatewise
soft-thresholding with threshold ``step * lam * w_i / d_i``
(proxgen.txt eq (3) with ``d = C_t + delta`` and ``step = alpha_t``; the
positive part that the printed eq (3) omits is applied here, see
``docs/errata.md``).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .._validation import as_float_array, check_nonneg
from ._base import SeparableRegularizer, register


@njit(cache=True, error_model="numpy")
def soft_threshold(z, thr, out):
    """``out_i = sign(z_i) max(|z_i| - thr, 0)`` with one scalar ``thr >= 0``.

    Written as ``z - clip(z, -thr, thr)``: exact, branch-free and it returns
    ``+0.0`` (never ``-0.0``) inside the dead zone.
    """
    for i in range(z.shape[0]):
        zi = z[i]
        out[i] = zi - min(max(zi, -thr), thr)
    return out


@njit(cache=True, error_model="numpy")
def soft_threshold_vec(z, thr, out):
    """Soft-thresholding with a per-coordinate threshold array ``thr``."""
    for i in range(z.shape[0]):
        zi = z[i]
        ti = thr[i]
        out[i] = zi - min(max(zi, -ti), ti)
    return out


def _weights(w):
    if w is None:
        return None
    w = as_float_array("weights", w, ndim=1, dtype=np.float64)
    if (w < 0).any():
        raise ValueError(f"weights must be >= 0, got {w[w < 0][0]!r}")
    return w


@register
class L1(SeparableRegularizer):
    """``R(x) = lam * sum_i w_i |x_i|`` (weights ``w`` default to 1).

    Metric prox (proxgen.txt eq (3), corrected with the positive part)::

        x_i = sign(z_i) * max(|z_i| - step * lam * w_i / d_i, 0)
    """

    name = "l1"
    family = "l1 / lasso"
    source = "PG eq (3); MRDA eqs (20), (22)"

    def __init__(self, lam=1.0, weights=None):
        super().__init__()
        self.lam = check_nonneg("lam", lam)
        self.w = _weights(weights)
        if self.w is not None:
            self.dim = self.w.size
        self.params = {"lam": self.lam, "weights": self.w}

    def _elementwise(self, x):
        a = self.lam * np.abs(x)
        return a if self.w is None else a * self.w

    def _prox_t(self, z, t):
        out = np.empty_like(z)
        if self.w is None and np.ndim(t) == 0:
            return soft_threshold(z, z.dtype.type(t * self.lam), out)
        thr = t * self.lam * (1.0 if self.w is None else self.w)
        return soft_threshold_vec(z, np.broadcast_to(thr, z.shape).astype(z.dtype), out)

    def _subgrad_interval(self, x):
        lam = self.lam if self.w is None else self.lam * self.w
        s = np.sign(x) * lam
        lo = np.where(x == 0, -lam, s)
        hi = np.where(x == 0, lam, s)
        return lo, hi

    def at_threshold(self, z, step, d):
        lam = self.lam if self.w is None else self.lam * self.w
        t = step if d is None else step / d
        return np.where(z >= 0, 1.0, -1.0) * t * lam

    def cvxpy_expr(self, x):
        import cvxpy as cp

        if self.w is None:
            return self.lam * cp.norm1(x)
        return self.lam * cp.sum(cp.multiply(self.w, cp.abs(x)))

    @classmethod
    def examples(cls, rng):
        n = 12
        return [cls(lam=1.0), cls(lam=0.0), cls(lam=float(rng.uniform(0.01, 3))),
                cls(lam=0.7, weights=rng.uniform(0, 2, n))]


@register
class ElasticNet(SeparableRegularizer):
    """``R(x) = lam1 * ||x||_1 + lam2 * ||x||_2^2`` (the ``lambda_1`` and
    ``lambda_2`` terms of group-lasso-adaptive-optimizers.txt eq (5)).

    Metric prox, with ``t_i = step / d_i``::

        x_i = sign(z_i) * max(|z_i| - t_i lam1, 0) / (1 + 2 t_i lam2)
    """

    name = "elastic_net"
    family = "l1 / lasso"
    source = "GA eq (5) with lambda_21 = 0"

    def __init__(self, lam1=1.0, lam2=1.0):
        super().__init__()
        self.lam1 = check_nonneg("lam1", lam1)
        self.lam2 = check_nonneg("lam2", lam2)
        self.params = {"lam1": self.lam1, "lam2": self.lam2}

    def _elementwise(self, x):
        return self.lam1 * np.abs(x) + self.lam2 * x * x

    def _prox_t(self, z, t):
        out = np.empty_like(z)
        if np.ndim(t) == 0:
            soft_threshold(z, z.dtype.type(t * self.lam1), out)
        else:
            soft_threshold_vec(z, (t * self.lam1).astype(z.dtype), out)
        out /= (1.0 + 2.0 * t * self.lam2)
        return out

    def _subgrad_interval(self, x):
        s = 2.0 * self.lam2 * x + self.lam1 * np.sign(x)
        lo = np.where(x == 0, -self.lam1, s)
        hi = np.where(x == 0, self.lam1, s)
        return lo, hi

    def at_threshold(self, z, step, d):
        t = step if d is None else step / d
        return np.where(z >= 0, 1.0, -1.0) * t * self.lam1

    def cvxpy_expr(self, x):
        import cvxpy as cp

        return self.lam1 * cp.norm1(x) + self.lam2 * cp.sum_squares(x)

    @classmethod
    def examples(cls, rng):
        return [cls(lam1=1.0, lam2=0.5), cls(lam1=0.0, lam2=2.0),
                cls(lam1=float(rng.uniform(0.1, 2)), lam2=float(rng.uniform(0, 2)))]
