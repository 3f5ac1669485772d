"""Squared l2 (ridge / weight decay): a linear shrink."""

from __future__ import annotations

import numpy as np

from .._validation import check_nonneg
from ._base import SeparableRegularizer, register


@register
class SquaredL2(SeparableRegularizer):
    """``R(x) = lam * ||x||_2^2`` (the ``lambda_2`` term of
    group-lasso-adaptive-optimizers.txt eq (5); no factor 1/2).

    Metric prox: ``x_i = z_i / (1 + 2 lam step / d_i)``.
    """

    name = "l2_squared"
    family = "squared l2"
    source = "GA eq (5), lambda_2 term"

    def __init__(self, lam=1.0):
        super().__init__()
        self.lam = check_nonneg("lam", lam)
        self.params = {"lam": self.lam}

    def _elementwise(self, x):
        return self.lam * x * x

    def _prox_t(self, z, t):
        return (z / (1.0 + 2.0 * self.lam * t)).astype(z.dtype, copy=False)

    def _subgrad_interval(self, x):
        g = 2.0 * self.lam * x
        return g, g

    def kinks(self):
        return np.array([])

    def cvxpy_expr(self, x):
        import cvxpy as cp

        return self.lam * cp.sum_squares(x)

    @classmethod
    def examples(cls, rng):
        return [cls(lam=1.0), cls(lam=0.0), cls(lam=float(rng.uniform(0.01, 10)))]
