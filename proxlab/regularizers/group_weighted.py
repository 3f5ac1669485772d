"""Sparse group lasso with a coordinate-weighted group norm (GA eq (5) with a diagonal ``A_t``).

group-lasso-adaptive-optimizers.txt eq (5) weights every group norm by a
matrix ``A_t^{1/2}``::

    Psi(x) = lam1 ||x||_1 + lam21 sum_g w_g ||a_g * x_g||_2 + lam2 ||x||_2^2

with ``a = diag(A_t)^{1/2} > 0`` (``w_g = sqrt(|g|)`` by default). Theorem 1
takes ``A_t = sum_s Q_s / (2 alpha_s) + lam2 I``; the exact ("exact" form)
Group optimizers of :mod:`proxlab.solvers.group_family` hand this regularizer
to the oracle as the regularizer of their subproblem. With ``a = 1`` it is
:class:`proxlab.regularizers.group.SparseGroupLasso`.

**Metric prox by a change of variables.** Put ``y = a x``. Then
``lam21 w_g ||a_g x_g|| = lam21 w_g ||y_g||`` (a plain group norm),
``lam1 |x_i| = (lam1 / a_i) |y_i|`` (a weighted l1 norm),
``lam2 x_i^2 + d_i (x_i - z_i)^2 / (2 step) = D_i (y_i - a_i z'_i)^2 / (2 step) + const``
with ``d' = d + 2 step lam2``, ``z' = d z / d'`` (the ridge folded into the
metric, as in SparseGroupLasso) and the y-metric ``D = d' / a^2``. The problem
in ``y`` is weighted l1 + group l2 under the diagonal metric ``D``, whose
prox is the composition (SparseGroupLasso's proof, with per-coordinate l1
weights: the argument is coordinatewise and needs only a diagonal metric)

    u = soft(a z', step lam1 a / d') = a soft(z', step lam1 / d'),
    y = group-l2 metric prox of u (metric D, thresholds step lam21 w_g),
    x = y / a,

the group prox being :func:`proxlab.regularizers.group.group_l2_metric_prox_kernel`
(the exact secular root). The zero-group test is
``||D_g u_g|| = ||soft(d z, step lam1)_g / a_g|| <= step lam21 w_g``.
"""

from __future__ import annotations

import numpy as np

from .._validation import as_float_array
from .group import _GroupBase, _check_lam, group_l2_metric_prox_kernel, group_norms
from ._base import register

__all__ = ["SparseGroupLassoWeighted"]


def _check_a(a, n):
    a = as_float_array("a", a, ndim=1, dtype=np.float64)
    if a.shape != (n,):
        raise ValueError(f"a must have one entry per coordinate ({n}), got shape {a.shape}")
    if not (a > 0).all():
        i = int(np.flatnonzero(~(a > 0))[0])
        raise ValueError(f"a (the group-norm weights) must be > 0 everywhere, got a[{i}] = {a[i]!r}")
    return a


@register
class SparseGroupLassoWeighted(_GroupBase):
    """``R(x) = lam1 ||x||_1 + lam21 sum_g w_g ||a_g * x_g||_2 + lam2 ||x||_2^2``.

    Parameters
    ----------
    lam1, lam21, lam2 : float >= 0
    a : array (n,) of positive entries
        Per-coordinate weights inside the group norms (``diag(A_t)^{1/2}`` of
        GA eq (5)); ``a = 1`` is :class:`SparseGroupLasso`.
    n : int, optional
        Dimension (defaults to ``len(a)``).
    groups : int, sequence of index arrays, or Groups
    weights : "sqrt" (default, ``w_g = sqrt(|g|)``), "ones" or array (G,)

    Notes
    -----
    Metric prox: see the module docstring (change of variables ``y = a x``,
    soft-threshold, exact group-l2 secular root). ``subdiff_dist`` is exact
    (Euclidean, in ``x``): on a zero group it is a one-dimensional secular
    problem solved by the same kernel (see :meth:`_subdiff_dist`).
    """

    name = "sparse_group_lasso_weighted"
    method = "change of variables y = a x + soft-threshold + secular root (exact)"
    source = "GA eq (5) with diagonal A_t (Thm 1: A_t = sum_s Q_s/(2 alpha_s) + lam2 I)"

    def __init__(self, lam1=1.0, lam21=1.0, lam2=0.0, a=None, n=None, groups=None, weights="sqrt"):
        super().__init__()
        self.lam1 = _check_lam("lam1", lam1)
        self.lam21 = _check_lam("lam21", lam21)
        self.lam2 = _check_lam("lam2", lam2)
        if a is None:
            raise ValueError("a (the positive per-coordinate group-norm weights) is required")
        if n is None and not hasattr(groups, "n"):
            n = np.asarray(a).shape[0] if np.ndim(a) == 1 else None
        self._init_groups(n, groups, weights)
        self.a = _check_a(a, self.n)
        self.params = {"lam1": self.lam1, "lam21": self.lam21, "lam2": self.lam2, "a": self.a, "n": self.n,
                       "groups": self.groups, "weights": weights}

    # ------------------------------------------------------------ value
    def _value(self, x):
        x = np.asarray(x, dtype=np.float64)
        v = 0.0
        if self.lam1:
            v += self.lam1 * float(np.sum(np.abs(x)))
        if self.lam21:
            v += self.lam21 * float(np.dot(self.groups.weights, group_norms(self.groups, self.a * x)))
        if self.lam2:
            v += self.lam2 * float(np.dot(x, x))
        return v

    # ------------------------------------------------------------- prox
    def _prox_metric(self, z, step, d):
        z64 = z.astype(np.float64)
        d64 = np.ones(z.shape) if d is None else d.astype(np.float64)
        a = self.a
        dp = d64 + 2.0 * step * self.lam2 if self.lam2 else d64
        zp = d64 * z64 / dp if self.lam2 else z64
        if self.lam1:
            thr = step * self.lam1 / dp
            zp = zp - np.clip(zp, -thr, thr)
        if self.lam21 == 0.0:
            return zp.astype(z.dtype, copy=False)
        G = self.groups
        ii = G.idx
        u = a * zp  # the soft-thresholded centre in y = a x
        D = dp / (a * a)  # the metric in y
        y = u.copy()
        group_l2_metric_prox_kernel(u, D, ii, G.ptr, step * self.lam21 * G.weights, y)
        out = zp  # coordinates in no group keep the soft-thresholded value
        out[ii] = y[ii] / a[ii]
        return out.astype(z.dtype, copy=False)

    # ---------------------------------------------------- optimality
    def _subdiff_dist(self, x, z, step, d):
        """Exact ``dist(0, dR(x) + d (x - z)/step)`` (Euclidean norm in ``x``).

        With ``g = d (x - z)/step + 2 lam2 x``, ``mu_g = lam21 w_g``: the residual
        is ``g + lam1 s + mu_g a v`` with ``s in d||x||_1``, ``v`` in the
        subdifferential of ``||.||`` at ``a x_g``.

        * ``a x_g != 0``: ``v = a x_g / ||a x_g||`` and the group term is
          ``mu a^2 x / ||a x||`` (zero where ``x_i = 0``, so the free ``s_i``
          meets ``g_i`` alone): ``||h_g + mu a^2 x_g / ||a x_g|| ||`` with
          ``h = g + lam1 sign x`` (``x_i != 0``) or ``soft(g, lam1)`` (``x_i = 0``),
          SparseGroupLasso's formula with ``a^2 x`` in place of ``x``.
        * ``x_g = 0``: minimize ``||g + lam1 s + mu a v||`` over the box and the
          unit ball. For fixed ``w = mu a v`` the box gives
          ``||soft(g + w, lam1)||``; the KKT conditions over the ellipsoid
          ``||w / (mu a)|| <= 1`` (convex problem) give, with ``k = soft(g, lam1)``,
          ``w_i = -k_i / (1 + nu / a_i^2)`` and the residual
          ``r_i = k_i nu / (a_i^2 + nu)``, where ``nu = 0`` if
          ``||k / a|| <= mu`` (distance 0) and otherwise ``nu > 0`` solves
          ``sum_i (k_i a_i / mu)^2 / (nu + a_i^2)^2 = 1``. That is the secular
          equation of the group-l2 prox with centre ``k a / mu``, metric
          ``1 / a^2`` and threshold 1, whose solution is ``p_i = (k_i a_i / mu)
          nu / (nu + a_i^2)``: hence ``r = mu p / a``, computed by
          :func:`group_l2_metric_prox_kernel` (exact root).
        * coordinates in no group: ``|h_i|``.
        """
        a = self.a
        g = d * (x - z) / step + 2.0 * self.lam2 * x
        lam1 = self.lam1
        h = np.where(x != 0, g + lam1 * np.sign(x), g - np.clip(g, -lam1, lam1))
        G = self.groups
        mu = self.lam21 * G.weights
        nonzero = group_norms(G, x) > 0
        # non-zero groups (and the ungrouped coordinates): SparseGroupLasso's
        # distance with a^2 x in the role of x (v = a^2 x / ||a x||, scale-free)
        ax = a * x
        nax = group_norms(G, ax)
        coef = np.where(nax > 0, mu / np.where(nax > 0, nax, 1.0), 0.0)
        resid = h.copy()
        resid[G.idx] = h[G.idx] + np.repeat(coef, G.sizes) * (a * ax)[G.idx]
        parts = [np.abs(resid[self._uncov])]
        sel = np.repeat(nonzero, G.sizes)
        parts.append(np.abs(resid[G.idx][sel]))
        # zero groups: exact distance through the secular root
        zg = np.flatnonzero(~nonzero)
        if zg.size:
            k = g - np.clip(g, -lam1, lam1)  # soft(g, lam1)
            for gi in zg:
                ii = G.idx[G.ptr[gi]:G.ptr[gi + 1]]
                kg, ag = k[ii], a[ii]
                if mu[gi] <= 0.0:
                    parts.append(np.abs(kg))
                    continue
                cen = kg * ag / mu[gi]
                if not np.isfinite(cen).all():  # mu underflows against k a: distance is ||k|| to rounding
                    parts.append(np.abs(kg))
                    continue
                p = np.empty_like(cen)
                group_l2_metric_prox_kernel(cen, 1.0 / (ag * ag), np.arange(ii.size, dtype=np.int64),
                                            np.array([0, ii.size], dtype=np.int64), np.array([1.0]), p)
                parts.append(np.abs(mu[gi] * p / ag))
        allp = np.concatenate(parts)
        m = allp.max(initial=0.0)
        if m == 0.0:
            return 0.0
        return float(m * np.sqrt(np.sum((allp / m) ** 2)))

    # ----------------------------------------------------------- threshold
    def at_threshold(self, z, step, d):
        """Every group rescaled by ``alpha_g`` so that
        ``||soft(alpha_g d_g z_g, step lam1) / a_g|| = step lam21 w_g`` (the exact
        zero test, solved as a piecewise quadratic in ``alpha``); coordinates in
        no group are put on their l1 threshold ``|z_i| = step lam1 / d_i``."""
        if self.lam1 == 0.0 and self.lam21 == 0.0:
            return None
        z = self._check_input("z", z)
        z64 = z.astype(np.float64)
        dd = np.ones(z.shape) if d is None else np.broadcast_to(np.asarray(d, dtype=np.float64), z.shape)
        v = dd * z64
        kappa = step * self.lam1
        G = self.groups
        T = step * self.lam21 * G.weights
        out = z64.copy()
        for g in range(G.n_groups):
            ii = G.idx[G.ptr[g]:G.ptr[g + 1]]
            out[ii] = z64[ii] * _weighted_threshold_scale(np.abs(v[ii]), 1.0 / self.a[ii] ** 2, kappa, T[g])
        unc = self._uncov
        if unc.size and kappa > 0:
            out[unc] = np.where(z64[unc] >= 0, 1.0, -1.0) * kappa / dd[unc]
        return out.astype(z.dtype)

    def cvxpy_expr(self, x):
        """CVXPY expression (each group term ``||(lam21 w_g a_g) * x_g||_2``).

        Oracle note (measured): at ``proxlab.oracles.cvxpy_oracle.TOL`` Clarabel
        declares about 1-2% of the ``validate prox`` cases with ``|z| ~ 1e6``
        primal infeasible (a false certificate at its first iterations, default
        ``tol_infeas_rel = 1e-8``; SparseGroupLasso and the nuclear norm show the
        same at other seeds). Rewriting this expression (coefficients inside or
        outside the norm, normalized or not) does not change the rate (1.2-3% over
        12 seeds); ``tol_infeas_abs = tol_infeas_rel = 1e-14`` removes every such
        case (4 seeds x 1200 cases, also for SparseGroupLasso and nuclear)."""
        import cvxpy as cp

        expr = self.lam1 * cp.norm1(x) + self.lam2 * cp.sum_squares(x)
        if self.lam21 == 0.0:
            return expr
        G = self.groups
        terms = []
        for g in range(G.n_groups):
            ii = G.idx[G.ptr[g]:G.ptr[g + 1]]
            if G.weights[g] > 0:
                terms.append(cp.norm(cp.multiply(self.lam21 * G.weights[g] * self.a[ii], x[ii]), 2))
        return expr + cp.sum(cp.hstack(terms)) if terms else expr

    def __repr__(self):
        lam = ", ".join(f"{k}={v!r}" for k, v in self.params.items() if k.startswith("lam"))
        w = self.params["weights"]
        w = w if isinstance(w, str) else "array"
        return (f"{type(self).__name__}({lam}, a in [{self.a.min():.3g}, {self.a.max():.3g}], n={self.n}, "
                f"groups={self.groups!r}, weights={w})")

    @classmethod
    def examples(cls, rng):
        n = 12
        perm = rng.permutation(n)
        mixed = [perm[:1], perm[1:4], perm[4:6], perm[6:]]  # sizes 1, 3, 2, 6
        partial = [np.array([1, 2, 3]), np.array([6, 8]), np.array([0])]
        return [
            cls(lam1=float(rng.uniform(0.05, 0.5)), lam21=float(rng.uniform(0.2, 2)), lam2=float(rng.uniform(0, 1)),
                a=10.0 ** rng.uniform(-1, 1, n), n=n, groups=mixed),
            cls(lam1=0.3, lam21=1.0, lam2=0.5, a=10.0 ** rng.uniform(-2, 2, n), n=n, groups=4),
            cls(lam1=0.0, lam21=0.7, lam2=0.0, a=10.0 ** rng.uniform(-1, 1, n), n=n, groups=2, weights="ones"),
            cls(lam1=0.2, lam21=0.6, lam2=0.1, a=10.0 ** rng.uniform(-1, 1, 10), n=10, groups=partial),
            cls(lam1=0.1, lam21=0.8, lam2=0.0, a=np.full(n, 2.0), n=n, groups=3),  # constant a: SGL, lam21 * 2
            cls(lam1=0.0, lam21=0.0, lam2=0.0, a=10.0 ** rng.uniform(-1, 1, n), n=n, groups=3),
        ]


def _weighted_threshold_scale(b, c, kappa, T):
    """The ``alpha > 0`` with ``sum_i c_i (alpha b_i - kappa)_+^2 = T^2`` (``b >= 0``, ``c > 0``).

    ``phi(alpha)^2`` is continuous, zero up to ``kappa / max b`` and increasing
    after it. On the piece where the ``k`` largest ``b_i`` are active it is
    ``A alpha^2 - 2 B alpha + C`` with ``A = sum c b^2``, ``B = kappa sum c b``,
    ``C = kappa^2 sum c``; the discriminant ``B^2 - A (C - T^2)`` equals
    ``A T^2 - kappa^2 W sum c (b - bbar)^2`` (``W = sum c``, ``bbar`` the
    c-weighted mean; Lagrange's identity), formed without cancellation.
    Returns 0 when ``b`` is zero.
    """
    order = np.argsort(-b, kind="stable")
    b, c = b[order], c[order]
    keep = b > 0
    b, c = b[keep], c[keep]
    if b.size == 0:
        return 0.0
    if kappa == 0.0:
        s = b[0]
        return T / float(s * np.sqrt(np.sum(c * (b / s) ** 2)))
    if T == 0.0:
        return kappa / float(b[0])
    alpha = 0.0
    for k in range(1, b.size + 1):
        bk, ck = b[:k], c[:k]
        A = float(np.dot(ck, bk * bk))
        B = kappa * float(np.dot(ck, bk))
        W = float(np.sum(ck))
        mean = float(np.dot(ck, bk)) / W
        spread = W * float(np.dot(ck, (bk - mean) ** 2))
        disc = max(A * T * T - kappa * kappa * spread, 0.0)
        alpha = (B + np.sqrt(disc)) / A
        if k == b.size or alpha * b[k] <= kappa:
            return float(alpha)
    return float(alpha)  # pragma: no cover
