r"""Iterative solvers of the adaptive subproblem on torch tensors, identical to
:mod:`proxlab.solvers.subproblem`.

Every solver minimizes, for a catalogue regularizer ``R``, a center ``z``, a
step ``step > 0`` and a positive diagonal metric ``d``,

.. math::

    Q(x) = R(x) + \frac{1}{2\,\mathrm{step}} \sum_i d_i (x_i - z_i)^2 ,

(ramda.txt (4) divided by ``alpha_t``; ProxSSI's weighted prox) and returns
``(x, info)``: ``info`` holds 0-dim tensors on the device of ``z``
(``iterations``, ``residual``, ``screened``), so nothing is read back from the
device to report them.

* :func:`group_l2_prox_pg` — ramda.txt Algorithm 2 for the group lasso:
  screening by the exact zero test, proximal gradient with the global step
  ``theta = step / max(d)``, stopped by condition (7) (``||s_j|| <= eps`` and
  ``Q(Z_j) <= Q(x_0)``), by the public RAMDA code's relative-decrease rule
  (``rtol``) or after ``max_iter`` iterations
  (mirrors :func:`proxlab.solvers.subproblem.group_l2_prox_pg`);
* :func:`prox_metric_pg` — Algorithm 2 for any regularizer with a torch prox
  (mirrors :func:`proxlab.solvers.subproblem.prox_metric_pg`);
* :func:`group_l2_prox_newton` — ProxSSI's Newton-Raphson per group
  (Deleu & Bengio 2021; mirrors
  :func:`proxlab.solvers.subproblem.group_l2_prox_newton`).

Iterations and synchronisation
------------------------------
The whole parameter is one problem (as in the Numba references, which hold one
instance per parameter); every group is updated at once. On CPU a loop stops
as soon as its stopping rule holds (a CPU read, not a device sync). On other
devices the loops never read back: the iterate is frozen by a mask once the
rule holds and the loop runs to its cap (``max_iter`` for PG; for Newton
:data:`NEWTON_SYNC_FREE_ITERS`, above the worst case measured for the Numba
kernel), so both give the same numbers. :func:`prox_metric_pg` reads
``max(d)`` back once per call (its inner prox takes the step as a host float).
"""

from __future__ import annotations

import math
import weakref

import numpy as np
import torch

from .layout import padded
from .prox import prox_metric

__all__ = ["cbrt", "reg_value", "group_l2_prox_pg", "prox_metric_pg", "group_l2_prox_newton",
           "group_l2_residual", "NEWTON_SYNC_FREE_ITERS", "F_SLACK"]

#: rounding slack of the descent half of condition (7) (subproblem.py's ``_F_SLACK``)
F_SLACK = 1e-12
#: Newton iterations run off CPU (no host-device sync). The Numba kernel (same
#: start, same stopping rule) was measured to need at most 18 iterations on 3000
#: random groups (sizes 1..60, metrics spread over 10 decades within a group,
#: ``|z|`` over 6) and 28 on 2e4 groups with 20-decade spreads and ``|z|`` over 12
NEWTON_SYNC_FREE_ITERS = 40

_COVER = weakref.WeakKeyDictionary()


def _early(t):
    return t.device.type == "cpu"


def cbrt(x):
    """Real cube root of a non-negative tensor (``x^{1/3}``; ``cbrt(0) = 0``).

    torch has no ``cbrt``; ``pow(x, 1/3)`` is within 2 ulp of numpy's ``cbrt``
    (the Numba references use ``np.cbrt``) for the non-negative sums it is
    applied to here."""
    return torch.pow(x, 1.0 / 3.0)


def _uncovered_mask(groups, like):
    """Boolean flat mask of the coordinates in no group (``None`` if all covered; cached)."""
    if groups.idx.size == groups.n:
        return None
    per = _COVER.get(groups)
    if per is None:
        per = {}
        _COVER[groups] = per
    key = (like.device.type, like.device.index)
    m = per.get(key)
    if m is None:
        m = torch.as_tensor(~groups.covered(), device=like.device)
        per[key] = m
    return m


def _masked_max(v, mask):
    if mask is None:
        return v.amax(dim=1)
    return torch.where(mask, v, v.new_full((), -math.inf)).amax(dim=1)


# ------------------------------------------------------------------ values
def _group_term(reg, flat, scale=None):
    pg = padded(reg.groups, flat.device)
    y = flat if scale is None else flat * scale
    return (pg.weights(flat.dtype) * torch.sqrt(pg.sumsq(y))).sum()


def reg_value(reg, x):
    """``R(x)`` as a 0-dim tensor (the catalogue's ``Regularizer.value`` on
    torch tensors; ``x`` flattened row-major for grouped regularizers)."""
    flat = x.reshape(-1)
    name = reg.name
    ax = flat.abs()
    if name == "l1":
        a = reg.lam * ax
        if reg.w is not None:
            a = a * torch.as_tensor(np.asarray(reg.w).reshape(-1), dtype=flat.dtype, device=flat.device)
        return a.sum()
    if name == "elastic_net":
        return (reg.lam1 * ax + reg.lam2 * flat * flat).sum()
    if name == "l2_squared":
        return (reg.lam * flat * flat).sum()
    if name == "l0":
        return reg.lam * (flat != 0).sum().to(flat.dtype)
    if name == "l_half":
        return (reg.lam * torch.sqrt(ax)).sum()
    if name == "l_two_thirds":
        c = cbrt(ax)
        return (reg.lam * (c * c)).sum()
    if name == "lq":
        return (reg.lam * ax ** reg.q).sum()
    if name == "mcp":
        lam, g = reg.lam, reg.gamma
        inner = lam * ax - ax * ax / (2.0 * g)
        return torch.where(ax <= g * lam, inner, flat.new_full((), 0.5 * g * lam * lam)).sum()
    if name == "scad":
        lam, a = reg.lam, reg.a
        mid = (2.0 * a * lam * ax - ax * ax - lam * lam) / (2.0 * (a - 1.0))
        return torch.where(ax <= lam, lam * ax,
                           torch.where(ax <= a * lam, mid, flat.new_full((), 0.5 * (a + 1.0) * lam * lam))).sum()
    if name == "binary_quant":
        dist = (ax - 1.0).abs()
        code = reg._code
        if code == 0:
            return reg.lam * (dist != 0).sum().to(flat.dtype)
        if code == 1:
            return (reg.lam * torch.sqrt(dist)).sum()
        if code == 2:
            c = cbrt(dist)
            return (reg.lam * (c * c)).sum()
        return (reg.lam * dist).sum()
    if name == "group_l2":
        return reg.lam * _group_term(reg, flat)
    if name in ("sparse_group_lasso", "sparse_group_lasso_weighted"):
        v = flat.new_zeros(())
        if reg.lam1:
            v = v + reg.lam1 * ax.sum()
        if reg.lam21:
            scale = None
            if name == "sparse_group_lasso_weighted":
                scale = torch.as_tensor(np.asarray(reg.a), dtype=flat.dtype, device=flat.device)
            v = v + reg.lam21 * _group_term(reg, flat, scale)
        if reg.lam2:
            v = v + reg.lam2 * (flat * flat).sum()
        return v
    if name == "nuclear":
        if reg.lam == 0.0:
            return flat.new_zeros(())
        return reg.lam * torch.linalg.svdvals(flat.reshape(reg.shape)).sum()
    raise ValueError(f"no torch value for regularizer {reg!r}")


def _objective(reg, x, z, step, d):
    diff = x - z
    return reg_value(reg, x) + (d * diff * diff).sum() / (2.0 * step)


# --------------------------------------------------------------- residual
def group_l2_residual(x, z, d, groups, lamw, step):
    r"""``dist(0, dQ(x))`` of ramda.txt condition (7) for ``R = sum_g lamw_g ||x_g||``
    (mirrors :func:`proxlab.regularizers.group.group_l2_residual_kernel`):
    with ``g = d (x - z) / step`` a non-zero group contributes
    ``||g_g + lamw_g x_g / ||x_g|| ||^2``, a zero group ``max(0, ||g_g|| - lamw_g)^2``,
    a coordinate in no group ``g_i^2``. Flat tensors; ``lamw`` a (G,) tensor."""
    pg = padded(groups, x.device)
    inv_step = 1.0 / step
    X, Z, D = pg.pad(x, 0.0), pg.pad(z, 0.0), pg.pad(d, 1.0)
    xmax = X.abs().amax(dim=1)
    nonzero = xmax > 0
    inv = 1.0 / torch.where(nonzero, xmax, torch.ones_like(xmax))
    Xs = X * inv[:, None]
    c = lamw / torch.sqrt((Xs * Xs).sum(dim=1))
    Gr = D * (X - Z) * inv_step
    v = Gr + c[:, None] * Xs
    tot_nz = (v * v).sum(dim=1)
    gap = torch.clamp(torch.sqrt((Gr * Gr).sum(dim=1)) - lamw, min=0.0)
    tot = torch.where(nonzero, tot_nz, gap * gap).sum()
    unc = _uncovered_mask(groups, x)
    if unc is not None:
        u = d * (x - z) * inv_step
        tot = tot + torch.where(unc, u * u, u.new_zeros(())).sum()
    return torch.sqrt(tot)


def _info(like, iterations, residual, screened):
    """The report as 0-dim tensors on ``like``'s device (fills, no host-to-device copy)."""
    dev = like.device
    as_i = (lambda v: v.to(torch.int64) if isinstance(v, torch.Tensor)
            else torch.full((), int(v), dtype=torch.int64, device=dev))
    as_f = (lambda v: v.to(like.dtype) if isinstance(v, torch.Tensor)
            else torch.full((), float(v), dtype=like.dtype, device=dev))
    return {"iterations": as_i(iterations), "residual": as_f(residual), "screened": as_i(screened)}


def _wide(*ts):
    """The iterative solvers run in float64, as the Numba references do
    (a float32 residual cannot reach the tolerances of condition (7))."""
    return [None if t is None else t.to(torch.float64) for t in ts]


# ----------------------------------------------------------------------- PG
def group_l2_prox_pg(z, step, d, groups, lam, eps=1e-6, max_iter=100, rtol=None, x0=None):
    r"""Group-lasso metric prox by ramda.txt Algorithm 2 (screening + proximal gradient).

    With ``tau_g = step lam w_g`` and ``theta = step / max_i d_i``:

    1. screening: a group with ``||d_g z_g|| <= tau_g`` is zero in the
       solution (exact test) and is fixed to 0; a coordinate in no group is
       set to ``z_i``;
    2. from the warm start ``Z_0 = x0`` (default ``z``), with ``a_i = d_i / max d``,

       .. math::

           Y_j = (1 - a) Z_{j-1} + a z,\qquad
           Z_{j,g} = \max\big(0, 1 - \theta\lambda w_g / \|Y_{j,g}\|\big) Y_{j,g}

       (``Z_{j-1} - theta d (Z_{j-1} - z) / step`` then the Euclidean group prox);
    3. stop at the first of: condition (7), ``||s_j|| <= eps`` with
       ``s_j = (max d - d) (Z_{j-1} - Z_j) / step`` (an element of ``dQ(Z_j)``)
       and ``Q(Z_j) <= Q(x0) + 1e-12 |Q(x0)|``; the relative decrease
       ``(Q(Z_{j-1}) - Q(Z_j)) / (|Q(Z_j)| + 1) < rtol`` (from ``j = 2``, when
       ``rtol`` is given); ``j = max_iter``.

    Parameters
    ----------
    z, d : tensors with the same number of entries (``d > 0``)
    step : float > 0
    groups : :class:`proxlab.groups.Groups` over the flattened ``z``
    lam : float >= 0
    eps : float >= 0
    max_iter : int >= 1
    rtol : float or None
    x0 : tensor like ``z`` or None

    Returns
    -------
    x : tensor of ``z``'s shape
    info : dict of 0-dim tensors ``iterations``, ``residual`` (``||s_j||``,
        an upper bound of ``dist(0, dQ(x))``), ``screened``
    """
    shape, dtype = z.shape, z.dtype
    zf, df, xf = _wide(z.reshape(-1), d.reshape(-1), None if x0 is None else x0.reshape(-1))
    if xf is None:
        xf = zf
    pg = padded(groups, z.device)
    lamw = lam * pg.weights(zf.dtype)
    Zc, D = pg.pad(zf, 0.0), pg.pad(df, 1.0)
    diff0 = xf - zf
    F0 = (lamw * torch.sqrt(pg.sumsq(xf))).sum() + (df * diff0 * diff0).sum() / (2.0 * step)
    active = torch.sqrt(pg.sumsq(df * zf)) > step * lamw
    screened = pg.G - active.sum()
    Fconst = torch.where(active, Zc.new_zeros(()), (D * Zc * Zc).sum(dim=1)).sum() / (2.0 * step)
    Z = torch.where(active[:, None], pg.pad(xf, 0.0), Zc.new_zeros(()))
    out = zf.clone()  # coordinates in no group: z
    early = _early(z)
    any_active = active.any()
    if early and not bool(any_active):
        pg.unpad_into(out, Z)
        res = group_l2_residual(out, zf, df, groups, lamw, step)
        return out.to(dtype).view(shape), _info(zf, 0, res, screened)
    dmax = df.amax()
    theta = step / dmax
    A = D / dmax
    B1 = 1.0 - A
    AZc = A * Zc
    coef = (dmax - D) / step
    tth = theta * lamw
    zero = Z.new_zeros(())
    running = any_active.clone()
    it = torch.zeros((), dtype=torch.int64, device=z.device)
    res = zf.new_full((), math.inf)
    F_prev = zf.new_full((), math.inf)
    bound = F0 + F_SLACK * F0.abs()
    use_rtol = rtol is not None and rtol > 0.0
    inv2s = 1.0 / (2.0 * step)

    def objective(Zn, fac, nrm):
        # Q(Z_j): ||Zn_g|| = fac_g ||Y_g||; screened groups contribute Fconst
        dz = Zn - Zc
        Fg = lamw * (fac * nrm) + torch.linalg.vecdot(dz * D, dz, dim=1) * inv2s
        return Fconst + torch.where(active, Fg, zero).sum()

    for j in range(1, int(max_iter) + 1):
        Y = torch.addcmul(AZc, B1, Z)  # (1 - a) Z + a z
        nrm = torch.sqrt(torch.linalg.vecdot(Y, Y, dim=1))
        fac = torch.where(active & (nrm > tth), 1.0 - tth / nrm, zero)  # screened groups stay 0
        Zn = Y * fac[:, None]
        S = (Z - Zn).mul_(coef)  # (max d - d)(Z_{j-1} - Z_j) / step, in dQ(Z_j)
        r = torch.sqrt(torch.linalg.vecdot(S, S, dim=1).sum())
        if early:  # CPU: plain control flow, Q only when a rule needs it
            Z, res, it = Zn, r, it + 1
            F = objective(Zn, fac, nrm) if (use_rtol or bool(r <= eps)) else None
            if bool(r <= eps) and bool(F <= bound):
                break
            if use_rtol and j >= 2 and bool((F_prev - F) / (F.abs() + 1.0) < rtol):
                break
            F_prev = F
            continue
        F = objective(Zn, fac, nrm)
        Z = torch.where(running, Zn, Z)
        res = torch.where(running, r, res)
        it = it + running.to(torch.int64)
        stop = (r <= eps) & (F <= bound)
        if use_rtol and j >= 2:
            stop = stop | ((F_prev - F) / (F.abs() + 1.0) < rtol)
        F_prev = F
        running = running & ~stop
    if not early:  # every group screened: the Numba reference reports 0 iterations and the exact residual
        pg.unpad_into(out, Z)
        res_scr = group_l2_residual(out, zf, df, groups, lamw, step)
        res = torch.where(any_active, res, res_scr)
        it = torch.where(any_active, it, torch.zeros_like(it))
        return out.to(dtype).view(shape), _info(zf, it, res, screened)
    pg.unpad_into(out, Z)
    return out.to(dtype).view(shape), _info(zf, it, res, screened)


def prox_metric_pg(reg, z, step, d, eps=1e-6, max_iter=100, x0=None):
    r"""ramda.txt Algorithm 2 for any regularizer with a torch prox.

    ``theta = step / max d`` (halved for a nonconvex ``R``, Algorithm 2's first
    line), ``a = theta d / step``:

    .. math::

        Z_j = \operatorname{prox}_{\theta R}\big((1 - a) Z_{j-1} + a z\big),\qquad
        s_j = (1/\theta - d/\mathrm{step}) (Z_{j-1} - Z_j) \in \partial Q(Z_j)

    stopped when ``||s_j|| <= eps`` and ``Q(Z_j) <= Q(x0) + 1e-12 |Q(x0)|``, or
    after ``max_iter`` (mirrors :func:`proxlab.solvers.subproblem.prox_metric_pg`;
    the nuclear norm takes one SVD per iteration). Reads ``max d`` back once.

    Returns ``(x, info)`` as :func:`group_l2_prox_pg` (``screened`` = 0).
    """
    dtype = z.dtype
    z, d, x0 = _wide(z, d, x0)
    dmax = float(d.amax())
    theta = step / dmax
    if not reg.convex:
        theta *= 0.5
    a = (theta * d) / step
    coef = 1.0 / theta - d / step
    X = z.clone() if x0 is None else x0.clone()
    F0 = _objective(reg, X, z, step, d)
    bound = F0 + F_SLACK * F0.abs()
    early = _early(z)
    running = torch.ones((), dtype=torch.bool, device=z.device)
    it = torch.zeros((), dtype=torch.int64, device=z.device)
    res = z.new_full((), math.inf)
    for _ in range(int(max_iter)):
        Y = (1.0 - a) * X + a * z
        Xn = prox_metric(reg, Y, theta, None)
        r = torch.linalg.vector_norm((coef * (X - Xn)).reshape(-1))
        X = torch.where(running, Xn, X)
        res = torch.where(running, r, res)
        it = it + running.to(torch.int64)
        if early:
            if bool(r <= eps) and bool(_objective(reg, X, z, step, d) <= bound):
                break
        else:
            running = running & ~((r <= eps) & (_objective(reg, X, z, step, d) <= bound))
    return X.to(dtype), _info(z, it, res, 0)


# ------------------------------------------------------------------- Newton
def group_l2_prox_newton(z, step, d, groups, lam, tol=1e-7, max_iter=100, residual=True):
    r"""Group-lasso metric prox by ProxSSI's Newton-Raphson (Deleu & Bengio 2021).

    Per group, ``tau_g = step lam w_g``: ``x_g = 0`` iff ``||d_g z_g|| <= tau_g``;
    otherwise ``x_i = z_i theta / (theta + tau_g / d_i)`` with ``theta`` from
    Newton on

    .. math::

        g(\theta) = \sum_{i \in g} \frac{z_i^2}{(\theta + \tau_g/d_i)^2} - 1,\qquad
        \theta \leftarrow \max(\theta - g/g', 0)

    started at ``theta_0 = (||d_g z_g|| - tau_g) / max_{i in g} d_i`` and stopped
    when ``|g| < tol`` (before the step), ``|g/g'| < tol`` (after it) or after
    ``max_iter`` iterations (mirrors
    :func:`proxlab.solvers.subproblem.group_l2_prox_newton`; off CPU at most
    :data:`NEWTON_SYNC_FREE_ITERS` iterations, see the module docstring).

    Returns ``(x, info)``: ``iterations`` of the worst group, ``residual`` the
    measure of condition (7) (computed when ``residual``; NaN otherwise),
    ``screened`` the number of groups set to zero by the test.
    """
    shape, dtype = z.shape, z.dtype
    zf, df = _wide(z.reshape(-1), d.reshape(-1))
    pg = padded(groups, z.device)
    lamw = lam * pg.weights(zf.dtype)
    tau = step * lamw
    Z, D = pg.pad(zf, 0.0), pg.pad(df, 1.0)
    W = D * Z
    ndz = torch.sqrt((W * W).sum(dim=1))
    dmax = _masked_max(D, pg.mask)
    passthrough = ~(tau > 0)
    zero_g = ~passthrough & (ndz <= tau)
    screened = zero_g.sum()
    th = (ndz - tau) / dmax
    C = tau[:, None] / D
    active = ~passthrough & ~zero_g
    its = torch.zeros(pg.G, dtype=torch.int64, device=z.device)
    early = _early(z)
    cap = int(max_iter) if early else min(int(max_iter), NEWTON_SYNC_FREE_ITERS)
    for _ in range(cap):
        if early and not bool(active.any()):
            break
        Q = torch.add(C, th[:, None]).reciprocal_()  # 1 / (theta + tau / d_i)
        U2 = (Z * Q).square_()  # u_i^2 = (z_i q_i)^2
        gv = U2.sum(dim=1) - 1.0
        gp = -2.0 * torch.linalg.vecdot(U2, Q, dim=1)
        its = its + active.to(torch.int64)
        go = active & ~(gv.abs() < tol)
        delta = gv / gp
        th = torch.where(go, torch.clamp(th - delta, min=0.0), th)
        active = go & ~(delta.abs() < tol)
    X = Z * (th[:, None] / (th[:, None] + C))
    X = torch.where(zero_g[:, None], Z.new_zeros(()), X)
    X = torch.where(passthrough[:, None], Z, X)
    out = zf.clone()
    pg.unpad_into(out, X)
    res = group_l2_residual(out, zf, df, groups, lamw, step) if residual else zf.new_full((), math.nan)
    return out.to(dtype).view(shape), _info(zf, its.amax(), res, screened)
