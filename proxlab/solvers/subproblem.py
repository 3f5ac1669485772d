"""Solvers of the regularized adaptive subproblem with a diagonal metric.

Every solver here minimizes, for a positive diagonal metric ``d`` (the
preconditioner ``P_t`` of ramda.txt (4)/(6), ``sqrt(v) + eps`` for Adam-type
methods),

.. math::

    Q(x) = R(x) + \\frac{1}{2\\,\\mathrm{step}} \\sum_i d_i (x_i - z_i)^2 ,

and returns ``(x, info)`` where ``info`` is a :class:`ProxInfo`. Its
``residual`` is the inexactness measure of ramda.txt condition (7),
``min_{s in dQ(x)} ||s||`` (or, for proximal gradient, the norm of the element
of ``dQ(x)`` that PG certifies, an upper bound of it).

Three solvers of the group-l2 metric prox (``R = lam sum_g w_g ||x_g||``):

* :func:`group_l2_prox_exact` — the exact secular-root kernel of
  :mod:`proxlab.regularizers.group` (monotone safeguarded Newton, to rounding);
* :func:`group_l2_prox_pg` — ramda.txt Algorithm 2 (screening, then proximal
  gradient with the global step ``step / max d``, stopped by condition (7), or
  by the public RAMDA code's relative-decrease rule, or ``max_iter``);
* :func:`group_l2_prox_newton` — ProxSSI's Newton–Raphson on the norm
  (Deleu & Bengio 2021), with its start point and stopping rule.

and :func:`prox_metric_pg`, Algorithm 2 for any regularizer with a Euclidean
prox (nuclear norm under a non-uniform metric, nonconvex regularizers).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit

from .._validation import as_float_array, check_int, check_metric, check_nonneg, check_positive, check_scalar
from ..groups import Groups
from ..regularizers.group import (
    _group_subdiff_dist,
    _uncovered,
    group_l2_metric_prox_kernel,
    group_l2_residual_kernel,
    group_norms,
)

__all__ = ["ProxInfo", "group_l2_prox_exact", "group_l2_prox_pg", "group_l2_prox_newton", "prox_metric_pg"]

_EXACT_MAXIT = 100  # the kernel's iteration cap per group
#: rounding slack of the descent half of condition (7), ``Q(x) <= Q(x0)``: the
#: two sides are sums of the same terms in different orders, so at a warm start
#: that is already optimal they can differ by rounding in either direction
_F_SLACK = 1e-12


@dataclass
class ProxInfo:
    """What a subproblem solver did.

    Attributes
    ----------
    iterations : int
        Iterations of the worst group (exact, Newton) or PG iterations (every
        PG iteration updates all active groups).
    total_iterations : int
        Iterations summed over groups (PG: ``iterations * n_active``).
    residual : float
        ``min_{s in dQ(x)} ||s||_2`` (ramda.txt (7)) for the exact and Newton
        solvers; for PG the norm of the certified element of ``dQ(x)``.
    n_screened : int
        Groups fixed to zero by the exact test ``||d_g z_g|| <= step lam w_g``.
    converged : bool
        The solver's own stopping rule was met (PG: condition (7) with ``eps``
        and ``Q(x) <= Q(x0)``; not the ``rtol`` rule or ``max_iter``).
    method : str
    stop : str
        Why it stopped: "tolerance", "condition (7)", "rtol", "max_iter", "screened".
    """

    iterations: int
    total_iterations: int
    residual: float
    n_screened: int
    converged: bool
    method: str = ""
    stop: str = ""


# ------------------------------------------------------------------- helpers
def _prepare(z, step, d, groups, lam, weights):
    z = as_float_array("z", z, ndim=1)
    step = check_positive("step", step)
    lam = check_nonneg("lam", lam)
    d = check_metric(d, z.shape, z.dtype)
    G = Groups.coerce(z.size, groups, weights)
    return z, step, d, G, lam


def _residual(x, z, d, G, lamw, step, unc):
    """ramda.txt (7): ``min ||s||`` over ``dQ(x)``, in float64."""
    dd = np.empty(0, dtype=z.dtype) if d is None else d
    r = group_l2_residual_kernel(x, z, dd, G.idx, G.ptr, lamw, step, unc)
    if not math.isfinite(r) or 0.0 < r < 1e-150:
        # overflow/underflow of the plain sum of squares: scaled numpy version
        x64, z64 = x.astype(np.float64), z.astype(np.float64)
        d64 = np.ones(z.shape) if d is None else d.astype(np.float64)
        r = _group_subdiff_dist(G, d64 * (x64 - z64) / step, x64, lamw)
    return float(r)


def _objective(x, z, d, G, lamw, step):
    """``Q(x)`` in float64."""
    diff = x - z
    quad = np.sum(diff * diff) if d is None else np.sum(d * diff * diff)
    return float(np.dot(lamw, group_norms(G, x)) + quad / (2.0 * step))


# --------------------------------------------------------------------- exact
def group_l2_prox_exact(z, step, d, groups, lam, *, weights="sqrt", compute_residual=True):
    """Exact metric prox of the group lasso by the secular root.

    Per group, with ``tau = step lam w_g`` and ``c_i = tau / d_i``: ``x_g = 0`` iff
    ``||d_g z_g|| <= tau``; otherwise ``x_i = z_i r / (r + c_i)`` with ``r`` the root of
    ``sum_i z_i^2 / (r + c_i)^2 = 1``, found by monotone safeguarded Newton on
    ``S(r)^{-1/2} - 1`` to rounding, ~1e-15 relative (see
    :func:`proxlab.regularizers.group.group_l2_metric_prox_kernel`).

    Parameters
    ----------
    z : array (n,), float32 or float64
    step : float > 0
    d : array (n,) > 0, scalar, or None (identity)
    groups : int, sequence of index arrays, or Groups
    lam : float >= 0
    weights : "sqrt", "ones" or array (G,), used when ``groups`` is not a Groups
    compute_residual : bool
        Compute ``info.residual`` (one more pass over the data, ~20% of the
        solve time); ``False`` leaves it NaN (the solve itself needs no
        certificate).

    Returns
    -------
    x : array (n,), dtype of ``z``
    info : ProxInfo
        ``iterations`` = Newton iterations of the worst group (0 for the
        identity metric: closed form), ``residual`` = ramda.txt (7) measure.
    """
    z, step, d, G, lam = _prepare(z, step, d, groups, lam, weights)
    unc = _uncovered(G)
    out = z.copy() if unc.size else np.empty_like(z)
    dd = np.empty(0, dtype=z.dtype) if d is None else d
    lamw = lam * G.weights
    mx, tot, nz = group_l2_metric_prox_kernel(z, dd, G.idx, G.ptr, step * lamw, out)
    res = _residual(out, z, d, G, lamw, step, unc) if compute_residual else math.nan
    conv = mx < _EXACT_MAXIT
    return out, ProxInfo(int(mx), int(tot), res, int(nz), bool(conv), "exact secular root",
                         "tolerance" if conv else "max_iter")


# ------------------------------------------------------------------------ PG
@njit(cache=True, error_model="numpy")
def _pg_group_l2_kernel(z, d, idx, ptr, lamw, active, step, dmax, eps, max_iter, rtol, F0, Fconst, Z):
    """Algorithm 2 of ramda.txt on the active groups, all groups per pass.

    ``Z`` (float64, warm start) is updated in place. Per iteration ``j``::

        Y_i   = (1 - a_i) Z_i + a_i z_i            a_i = theta d_i / step = d_i / dmax
        Zn_g  = max(0, 1 - theta lamw_g / ||Y_g||) Y_g     (Euclidean group prox)
        s_i   = (Z_i - Zn_i) / theta - grad_i q(Z) + grad_i q(Zn)
              = (dmax - d_i) / step * (Z_i - Zn_i)        in dQ(Zn)

    Returns ``(iterations, ||s||, F(Z), status)`` with status 1 = condition (7)
    (``||s|| <= eps`` and ``Q(Z) <= Q(x0) = F0``), 2 = rtol rule, 0 = max_iter.
    """
    G = ptr.shape[0] - 1
    has_d = d.shape[0] > 0
    theta = step / dmax
    maxsize = 0
    for g in range(G):
        s_ = ptr[g + 1] - ptr[g]
        if s_ > maxsize:
            maxsize = s_
    buf = np.empty(maxsize)
    F_prev = np.inf
    F = F0
    res = np.inf
    it = 0
    status = 0
    for j in range(1, max_iter + 1):
        it = j
        res2 = 0.0
        F = Fconst
        for g in range(G):
            if not active[g]:
                continue
            a = ptr[g]
            m = ptr[g + 1] - a
            s = 0.0
            for k in range(m):
                i = idx[a + k]
                ai = (np.float64(d[i]) / dmax) if has_d else 1.0
                yi = (1.0 - ai) * Z[i] + ai * np.float64(z[i])
                buf[k] = yi
                s += yi * yi
            nrm = math.sqrt(s)
            tth = theta * lamw[g]
            fac = 0.0 if nrm <= tth else 1.0 - tth / nrm
            sq = 0.0
            quad = 0.0
            for k in range(m):
                i = idx[a + k]
                di = np.float64(d[i]) if has_d else 1.0
                zn = fac * buf[k]
                sv = (dmax - di) / step * (Z[i] - zn)
                res2 += sv * sv
                Z[i] = zn
                sq += zn * zn
                dz = zn - np.float64(z[i])
                quad += di * dz * dz
            F += lamw[g] * math.sqrt(sq) + quad / (2.0 * step)
        res = math.sqrt(res2)
        if res <= eps and F <= F0 + _F_SLACK * abs(F0):
            status = 1
            break
        if rtol > 0.0 and j >= 2 and (F_prev - F) / (abs(F) + 1.0) < rtol:
            status = 2
            break
        F_prev = F
    return it, res, F, status


def group_l2_prox_pg(z, step, d, groups, lam, eps=1e-6, max_iter=100, rtol=None, x0=None, *, weights="sqrt"):
    """Group-lasso metric prox by ramda.txt Algorithm 2 (screening + proximal gradient).

    1. **Screening** (exact): groups with ``||d_g z_g|| <= step lam w_g`` are
       zero in the solution; they are fixed to 0 and left out. Coordinates in no
       group are set to ``z_i`` (their exact minimizer).
    2. **PG** on the rest, from the warm start ``x0`` (default ``z``), with the
       paper's global step ``theta = step / max(d)`` (``1 / max diag P``)::

           Z_j = prox_{theta R}(Z_{j-1} - theta d (Z_{j-1} - z) / step)

    3. **Stop** at the first of: condition (7) —
       ``||s_j|| <= eps`` with ``s_j = (Z_{j-1} - Z_j)/theta - grad q(Z_{j-1}) +
       grad q(Z_j)`` (an element of ``dQ(Z_j)``, ramda.txt App. proof of Thm 1,
       eq (9)) and ``Q(Z_j) <= Q(x0)`` (up to a 1e-12 relative rounding
       slack: both sides are float sums); the public RAMDA code's early stop
       ``(F_prev - F_cur) / (|F_cur| + 1) < rtol`` (checked from the second
       iteration on, only when ``rtol`` is given); ``max_iter``.

    With a uniform metric ``a_i = theta d_i / step = 1`` and the first iterate is
    the exact prox (``s_1 = 0``).

    Returns
    -------
    x : array (n,), dtype of ``z`` (the iteration runs in float64)
    info : ProxInfo
        ``residual`` = ``||s_j||`` (an upper bound of ``dist(0, dQ(x))``).
    """
    z, step, d, G, lam = _prepare(z, step, d, groups, lam, weights)
    eps = check_nonneg("eps", eps)
    max_iter = check_int("max_iter", max_iter, low=1)
    rtol = 0.0 if rtol is None else check_scalar("rtol", rtol, low=0.0)
    z64 = z.astype(np.float64)
    d64 = None if d is None else d.astype(np.float64)
    lamw = lam * G.weights
    if x0 is None:
        X0 = z64.copy()
    else:
        X0 = as_float_array("x0", x0, ndim=1, dtype=np.float64)
        if X0.shape != z.shape:
            raise ValueError(f"x0 must have the shape of z {z.shape}, got {X0.shape}")
    F0 = _objective(X0, z64, d64, G, lamw, step)
    dz = z64 if d64 is None else d64 * z64
    active = group_norms(G, dz) > step * lamw
    n_screened = int(G.n_groups - np.count_nonzero(active))
    Z = X0.copy()
    unc = _uncovered(G)
    Z[unc] = z64[unc]
    scr = np.repeat(~active, G.sizes)
    scr_idx = G.idx[scr]
    Z[scr_idx] = 0.0
    zs = z64[scr_idx]
    Fconst = float(np.sum(zs * zs if d64 is None else d64[scr_idx] * zs * zs) / (2.0 * step))
    if not active.any():
        res = _residual(Z, z64, d64, G, lamw, step, unc)
        return Z.astype(z.dtype), ProxInfo(0, 0, res, n_screened, True, "PG (Algorithm 2)", "screened")
    dd = np.empty(0) if d64 is None else d64
    dmax = 1.0 if d64 is None else float(d64.max())
    it, res, F, status = _pg_group_l2_kernel(z64, dd, G.idx, G.ptr, lamw, active, step, dmax, eps,
                                             max_iter, rtol, F0, Fconst, Z)
    stop = {1: "condition (7)", 2: "rtol", 0: "max_iter"}[status]
    n_act = G.n_groups - n_screened
    return Z.astype(z.dtype), ProxInfo(int(it), int(it) * n_act, float(res), n_screened, status == 1,
                                       "PG (Algorithm 2)", stop)


# -------------------------------------------------------------------- Newton
@njit(cache=True, error_model="numpy")
def _newton_group_l2_kernel(z, d, idx, ptr, tau, tol, max_iter, out):
    """ProxSSI's per-group Newton–Raphson on ``g(theta) = sum z_i^2/(theta + c_i)^2 - 1``.

    ``theta0 = (||d z|| - tau) / max_g d`` (a lower bound of the root, so on the
    convex decreasing ``g`` the iterates increase monotonically), update
    ``theta <- max(theta - g / g', 0)`` with ``g' = -2 sum z_i^2 / (theta + c_i)^3``
    (the clamp that ProxSSI intends — its clamp is not in place, see
    reference-implementations.md §4(b)); stop at ``|g| < tol``, ``|step| < tol``
    or ``max_iter``. Plain float64 sums, no rescaling (as ProxSSI).
    Returns ``(max_it, total_it, n_zero, n_maxed)``.
    """
    G = ptr.shape[0] - 1
    has_d = d.shape[0] > 0
    max_it = 0
    total = 0
    n_zero = 0
    n_maxed = 0
    for g in range(G):
        a = ptr[g]
        b = ptr[g + 1]
        t = tau[g]
        if t <= 0.0:
            for k in range(a, b):
                out[idx[k]] = z[idx[k]]
            continue
        sdz = 0.0
        dmax = 0.0
        for k in range(a, b):
            i = idx[k]
            di = np.float64(d[i]) if has_d else 1.0
            v = di * np.float64(z[i])
            sdz += v * v
            dmax = max(dmax, di)
        ndz = math.sqrt(sdz)
        if ndz <= t:
            for k in range(a, b):
                out[idx[k]] = 0.0
            n_zero += 1
            continue
        th = (ndz - t) / dmax
        it = 0
        done = False
        while it < max_iter:
            it += 1
            gv = -1.0
            gp = 0.0
            for k in range(a, b):
                i = idx[k]
                di = np.float64(d[i]) if has_d else 1.0
                q = 1.0 / (th + t / di)
                u = np.float64(z[i]) * q
                u2 = u * u
                gv += u2
                gp -= 2.0 * u2 * q
            if abs(gv) < tol:
                done = True
                break
            delta = gv / gp
            th = th - delta
            if th < 0.0:
                th = 0.0
            if abs(delta) < tol:
                done = True
                break
        if not done:
            n_maxed += 1
        max_it = max(max_it, it)
        total += it
        for k in range(a, b):
            i = idx[k]
            di = np.float64(d[i]) if has_d else 1.0
            out[i] = np.float64(z[i]) * (th / (th + t / di))
    return max_it, total, n_zero, n_maxed


def group_l2_prox_newton(z, step, d, groups, lam, tol=1e-7, max_iter=100, *, weights="sqrt"):
    """Group-lasso metric prox by ProxSSI's Newton–Raphson (Deleu & Bengio 2021).

    Per group: exact zero test ``||d z|| <= tau`` (``tau = step lam w_g``); else
    ``x_i = d_i theta z_i / (d_i theta + tau) = z_i theta / (theta + tau/d_i)`` with
    ``theta`` from Newton on ``g(theta) = sum_i z_i^2 / (theta + tau/d_i)^2 - 1``
    started at ``theta0 = (||d z|| - tau) / max d``, stopped when ``|g| < tol``, or
    ``|Newton step| < tol`` (absolute, as in ProxSSI), or after ``max_iter``
    (reference-implementations.md §4; our own code).

    Returns ``(x, info)``; ``info.converged`` is False when some group hit
    ``max_iter``.
    """
    z, step, d, G, lam = _prepare(z, step, d, groups, lam, weights)
    tol = check_positive("tol", tol)
    max_iter = check_int("max_iter", max_iter, low=1)
    unc = _uncovered(G)
    out = z.copy() if unc.size else np.empty_like(z)
    dd = np.empty(0, dtype=z.dtype) if d is None else d
    lamw = lam * G.weights
    mx, tot, nz, nmax = _newton_group_l2_kernel(z, dd, G.idx, G.ptr, step * lamw, tol, max_iter, out)
    res = _residual(out, z, d, G, lamw, step, unc)
    return out, ProxInfo(int(mx), int(tot), res, int(nz), nmax == 0, "Newton (ProxSSI)",
                         "tolerance" if nmax == 0 else "max_iter")


# ------------------------------------------------------------------- generic
def prox_metric_pg(reg, z, step, d, eps=1e-6, max_iter=100, x0=None):
    """ramda.txt Algorithm 2 for any regularizer with a Euclidean prox.

    ``theta = step / max d`` (halved when ``reg.convex`` is False, as in
    Algorithm 2's first line); ``Z_j = reg.prox(Z_{j-1} - theta d (Z_{j-1} - z)/step,
    theta)``; stop when ``||s_j|| <= eps`` with
    ``s_j = (1/theta - d/step) (Z_{j-1} - Z_j)`` (in ``dQ(Z_j)``; for a nonconvex
    ``R`` in the limiting subdifferential, as ``Z_j`` globally minimizes the prox
    subproblem) and ``Q(Z_j) <= Q(x0)``, or after ``max_iter``. Used for the
    nuclear norm under a non-uniform metric (RAMDA's own choice, one SVD per
    iteration) and for nonconvex regularizers.

    Parameters
    ----------
    reg : Regularizer
    z : array of the shape ``reg`` accepts
    step : float > 0
    d : array of z's shape > 0, scalar, or None
    eps : float >= 0
    max_iter : int >= 1
    x0 : warm start (default ``z``)

    Returns
    -------
    x : array, dtype and shape of ``z`` (float64 iteration)
    info : ProxInfo (``n_screened`` = 0: no screening for a generic ``R``)
    """
    from ..regularizers import get

    reg = get(reg) if isinstance(reg, str) else reg
    z = reg._check_input("z", z)
    step = check_positive("step", step)
    eps = check_nonneg("eps", eps)
    max_iter = check_int("max_iter", max_iter, low=1)
    d = check_metric(d, z.shape, np.float64)
    z64 = z.astype(np.float64)
    d64 = np.ones(z.shape) if d is None else d
    dmax = float(d64.max())
    theta = step / dmax
    if not reg.convex:
        theta *= 0.5
    a = theta * d64 / step
    coef = 1.0 / theta - d64 / step
    if x0 is None:
        X = z64.copy()
    else:
        X = reg._check_input("x0", x0).astype(np.float64)
        if X.shape != z.shape:
            raise ValueError(f"x0 must have the shape of z {z.shape}, got {X.shape}")
    F0 = reg.objective(X, z64, step, d64)
    res = np.inf
    status = 0
    it = 0
    for it in range(1, max_iter + 1):
        Y = (1.0 - a) * X + a * z64
        Xn = reg.prox(Y, theta).astype(np.float64)
        res = float(np.linalg.norm((coef * (X - Xn)).ravel()))
        X = Xn
        if res <= eps and reg.objective(X, z64, step, d64) <= F0 + _F_SLACK * abs(F0):
            status = 1
            break
    return X.astype(z.dtype), ProxInfo(it, it, res, 0, status == 1, "PG (Algorithm 2)",
                                       "condition (7)" if status == 1 else "max_iter")
