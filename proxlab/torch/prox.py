r"""Metric proximal operators on torch tensors, identical to the catalogue's.

For a catalogue regularizer ``R`` (:mod:`proxlab.regularizers`) and a positive
diagonal metric ``d``,

.. math::

    \operatorname{prox}^{d}_{\mathrm{step}\,R}(z)
    = \arg\min_x\; R(x) + \frac{1}{2\,\mathrm{step}} \sum_i d_i (x_i - z_i)^2 ,

the subproblem of every adaptive proximal method (proxgen.txt eq (2),
ramda.txt (4), group-lasso-adaptive-optimizers.txt eq (6)).
:func:`prox_metric` computes it with torch operations on any device, with the
same formulas, branch order and tie conventions as the Numba kernels of the
catalogue (each function below names the catalogue function it mirrors), so
that in float64 the two agree to rounding (``tests/test_torch_prox.py``:
1e-12 relative).

Conventions
-----------
* Everything is vectorized: no Python loop over coordinates or groups, no
  ``.item()``. The two iterative kernels (the secular root of the group lasso
  under a non-uniform metric, the ``l_q`` Newton root) loop over *iterations*
  with every group / coordinate updated at once under a mask; on CPU they stop
  when no entry is still active (a CPU read, not a device sync); on other
  devices they run a fixed number of iterations (:data:`SYNC_FREE_ITERS`,
  above the worst case measured for the Numba kernels: 6 and 9 iterations)
  so that ``step`` never synchronises. A converged entry is frozen by the mask,
  so both give the same numbers.
* Computation happens in the dtype of ``z`` (float32 stays float32; the Numba
  kernels widen to float64 and round once, so float32 results agree to a few
  float32 ulps of the inputs' scale, not bit for bit).
* ``step`` is a Python float; ``d`` is ``None`` (identity), a positive
  Python float or a tensor with ``z``'s number of entries. Values are not
  checked (a check would synchronise): a non-positive ``d`` gives garbage, as
  it would in the Numba kernels.
* Zeros produced by thresholding are ``+0.0`` exactly (``z - clamp(z, -thr,
  thr)`` and ``torch.where(..., 0, ...)``), at the tie ``|z| = threshold`` too
  (the catalogue's tie convention: the zero is returned).
"""

from __future__ import annotations

import math
import numbers
import weakref

import numpy as np
import torch

from .layout import padded

__all__ = ["prox_metric", "supported", "SUPPORTED", "SYNC_FREE_ITERS", "group_l2_metric_prox"]

#: regularizers with a torch prox (every catalogue entry that has a closed form
#: or an exact kernel; the nuclear norm only under a uniform metric)
SUPPORTED = ("l1", "elastic_net", "l2_squared", "l0", "l_half", "l_two_thirds", "lq", "mcp", "scad",
             "binary_quant", "group_l2", "sparse_group_lasso", "sparse_group_lasso_weighted", "nuclear")

#: iteration caps of the Numba kernels (the CPU path stops as soon as all entries converged)
SECULAR_MAX_ITER = 100
LQ_MAX_ITER = 200
#: fixed iteration counts off CPU (no host-device sync); the Numba kernels
#: were measured to need at most 6 (secular root; 3000 random problems with
#: metrics spread up to 1e-10..1e10) and 9 (l_q Newton; 2e5 draws, q in
#: [0.01, 0.99], mu in 1e-6..1e6) iterations
SYNC_FREE_ITERS = {"secular": 24, "lq": 40}

_NEWTON_RTOL = 1e-8  # group.py's _NEWTON_RTOL
_ASYMPTOTIC = 1e-8  # lq.py's _ASYMPTOTIC
_TWO_PI_3 = 2.0 * math.pi / 3.0
_C23_W = 27.0 / (32.0 * math.sqrt(2.0))
_C23_S = 4.0 * math.sqrt(2.0) / 3.0


# ----------------------------------------------------------------- helpers
def _rdiv(c, t):
    """``c / t`` for a Python float ``c``, correctly rounded (torch's ``c / t``
    computes ``t.reciprocal() * c``, two roundings)."""
    return torch.div(t.new_full((), c), t)


def _steps(z, step, d):
    """Per-coordinate step ``t = step / d`` (a 0-dim tensor for the identity)."""
    if d is None:
        return z.new_full((), step)
    return _rdiv(step, d)


def _signed(z, x):
    """``x`` with the sign of ``z`` (``z > 0``: ``x``, otherwise ``-x``)."""
    return torch.where(z > 0, x, -x)


def _zero(z):
    return z.new_zeros(())


def _early_exit(t):
    return t.device.type == "cpu"


def _max_iter(t, name, cap):
    return cap if _early_exit(t) else SYNC_FREE_ITERS[name]


_CONST = weakref.WeakKeyDictionary()


def _const(owner, key, array, like):
    """A numpy array attribute of ``owner`` as a cached tensor like ``like``."""
    per = _CONST.get(owner)
    if per is None:
        per = {}
        _CONST[owner] = per
    k = (key, like.device.type, like.device.index, like.dtype)
    t = per.get(k)
    if t is None:
        t = torch.as_tensor(np.asarray(array), dtype=like.dtype, device=like.device)
        per[k] = t
    return t


# ------------------------------------------------------- scalar maps (tensors)
def _soft(z, thr):
    """``z - clamp(z, -thr, thr)`` (l1.soft_threshold): ``+0.0`` in the dead zone."""
    return z - torch.clamp(z, -thr, thr)


def _hard(z, mu):
    """``argmin 1/2 (x - z)^2 + mu [x != 0]`` (lq.hard_threshold): ``z`` if
    ``|z| > sqrt(2 mu)``, else 0."""
    thr = torch.sqrt(2.0 * mu)
    return torch.where(z.abs() > thr, z, _zero(z))


def _half(z, mu):
    """``argmin 1/2 (x - z)^2 + mu |x|^{1/2}`` (lq.half_scalar): Viète's root of
    ``y^3 - |z| y + mu/2 = 0``, ``x = (2/3)|z|(1 + cos(2 pi/3 - (2/3) phi))``,
    ``phi = arccos((mu/4)(|z|/3)^{-3/2})`` above ``(3/2) mu^{2/3}``."""
    thr = 1.5 * torch.pow(mu, 2.0 / 3.0)
    az = z.abs()
    sz = torch.sqrt(az)
    asym = (0.5 * mu) / (az * sz) < _ASYMPTOTIC
    x_asym = az - (0.5 * mu) / sz
    s3 = az / 3.0
    arg = (0.25 * mu) / (s3 * torch.sqrt(s3))
    phi = torch.acos(torch.clamp(arg, max=1.0))
    x_trig = ((2.0 / 3.0) * az) * (1.0 + torch.cos(_TWO_PI_3 - (2.0 / 3.0) * phi))
    x = _signed(z, torch.where(asym, x_asym, x_trig))
    x = torch.where(az <= thr, _zero(z), x)
    return torch.where(mu > 0, x, z)


def _two_thirds(z, mu):
    """``argmin 1/2 (x - z)^2 + mu |x|^{2/3}`` (lq.two_thirds_scalar): Ferrari's
    root of ``y^4 - |z| y + 2 mu/3 = 0`` above ``2 (2 mu/3)^{3/4}``."""
    thr = 2.0 * torch.pow((2.0 * mu) / 3.0, 0.75)
    az = z.abs()
    c = (2.0 / 3.0) * mu
    asym = c * torch.pow(az, -4.0 / 3.0) < _ASYMPTOTIC
    x_asym = az - c * torch.pow(az, -1.0 / 3.0)
    r = az / torch.pow(mu, 0.75)
    w = (_C23_W * r) * r
    phi = torch.acosh(torch.clamp(w, min=1.0))
    s = (_C23_S * torch.sqrt(mu)) * torch.cosh(phi / 3.0)
    a = torch.sqrt(s)
    inner = torch.clamp((2.0 * az) / a - s, min=0.0)
    y = 0.5 * (a + torch.sqrt(inner))
    x_root = y * y * y
    x = _signed(z, torch.where(asym, x_asym, x_root))
    x = torch.where(az <= thr, _zero(z), x)
    return torch.where(mu > 0, x, z)


def _lq(z, mu, q):
    """``argmin 1/2 (x - z)^2 + mu |x|^q``, ``0 < q < 1`` (lq.lq_scalar): monotone
    Newton from ``|z|`` on ``g(x) = x - |z| + mu q x^{q-1}`` (increasing, convex on
    ``[x_tau, |z|]``), bisection towards ``x_tau`` when a step leaves the bracket;
    an entry stops when its iterate no longer decreases."""
    xt = torch.pow((2.0 * mu) * (1.0 - q), 1.0 / (2.0 - q))
    thr = (xt * (2.0 - q)) / (2.0 * (1.0 - q))
    az = z.abs()
    active = (az > thr) & (mu > 0)
    x = az
    c1 = mu * q
    c2 = (mu * q) * (1.0 - q)
    early = _early_exit(z)
    for _ in range(_max_iter(z, "lq", LQ_MAX_ITER)):
        if early and not bool(active.any()):
            break
        g = (x - az) + c1 * torch.pow(x, q - 1.0)
        gp = 1.0 - c2 * torch.pow(x, q - 2.0)
        half = 0.5 * (x + xt)
        xn = torch.where(gp > 0, x - g / gp, half)
        xn = torch.where(xn < xt, half, xn)
        move = active & (xn < x)
        x = torch.where(move, xn, x)
        active = move
    x = _signed(z, x)
    x = torch.where(az <= thr, _zero(z), x)
    return torch.where(mu > 0, x, z)


# ------------------------------------------------------------- separable
def _p_l1(reg, z, step, d):
    t = _steps(z, step, d)
    thr = t * reg.lam
    if reg.w is not None:
        thr = thr * _const(reg, "w", reg.w, z).view(z.shape)
    return _soft(z, thr)


def _p_elastic(reg, z, step, d):
    t = _steps(z, step, d)
    return _soft(z, t * reg.lam1) / (1.0 + (2.0 * t) * reg.lam2)


def _p_l2sq(reg, z, step, d):
    t = _steps(z, step, d)
    return z / (1.0 + (2.0 * reg.lam) * t)


def _p_l0(reg, z, step, d):
    if not reg.lam > 0:
        return torch.where(z.abs() > 0, z, _zero(z))
    return _hard(z, _steps(z, step, d) * reg.lam)


def _p_half(reg, z, step, d):
    return _half(z, _steps(z, step, d) * reg.lam)


def _p_two_thirds(reg, z, step, d):
    return _two_thirds(z, _steps(z, step, d) * reg.lam)


def _p_lq(reg, z, step, d):
    return _lq(z, _steps(z, step, d) * reg.lam, reg.q)


def _p_mcp(reg, z, step, d):
    """MCP (mcp.mcp_scalar): firm thresholding for ``t < gamma``, hard
    thresholding at ``lam sqrt(gamma t)`` otherwise."""
    lam, gamma = reg.lam, reg.gamma
    if not lam > 0:
        return z.clone()
    t = _steps(z, step, d)
    az = z.abs()
    convex = t < gamma
    thr = torch.where(convex, t * lam, lam * torch.sqrt(gamma * t))
    gl = gamma * lam
    firm = convex & (az <= gl)
    xf = torch.clamp((gamma * (az - t * lam)) / (gamma - t), max=gl)
    out = torch.where(firm, _signed(z, xf), z)
    return torch.where(az <= thr, _zero(z), out)


def _scad_r(x, lam, a):
    """SCAD ``r(x)`` for ``x >= 0`` (scad._scad_r)."""
    mid = ((2.0 * a * lam) * x - x * x - lam * lam) / (2.0 * (a - 1.0))
    return torch.where(x <= lam, lam * x, torch.where(x <= a * lam, mid, x.new_full((), 0.5 * (a + 1.0) * lam * lam)))


def _scad_r_float(x, lam, a):
    if x <= lam:
        return lam * x
    if x <= a * lam:
        return (2.0 * a * lam * x - x * x - lam * lam) / (2.0 * (a - 1.0))
    return 0.5 * (a + 1.0) * lam * lam


def _p_scad(reg, z, step, d):
    """SCAD (scad.scad_scalar): the classical thresholding with step ``t`` for
    ``t <= a - 1``; for ``t > a - 1`` the best of the candidates
    ``clip(|z| - t lam, 0, lam)``, ``lam``, ``a lam``, ``max(|z|, a lam)`` (first on ties)."""
    lam, a = reg.lam, reg.a
    if not lam > 0:
        return z.clone()
    t = _steps(z, step, d)
    az = z.abs()
    thr = torch.where(t <= a + 1.0, t * lam, lam * torch.sqrt((a + 1.0) * t))
    al = a * lam
    # convex subproblem (t <= a - 1)
    x1 = az - t * lam
    x2 = torch.clamp(((a - 1.0) * az - al * t) / ((a - 1.0) - t), lam, al)
    out_c = torch.where(az <= (1.0 + t) * lam, _signed(z, x1), torch.where(az <= al, _signed(z, x2), z))
    # nonconvex subproblem (t > a - 1): compare h at the candidates
    inv2t = _rdiv(0.5, t)
    x = torch.clamp(torch.clamp(az - t * lam, min=0.0), max=lam)
    best = _scad_r(x, lam, a) + ((x - az) * (x - az)) * inv2t
    for c in (lam, al):
        h = _scad_r_float(c, lam, a) + ((c - az) * (c - az)) * inv2t
        better = h < best
        x = torch.where(better, x.new_full((), c), x)
        best = torch.where(better, h, best)
    c = torch.clamp(az, min=al)
    h = _scad_r(c, lam, a) + ((c - az) * (c - az)) * inv2t
    better = h < best
    x = torch.where(better, c, x)
    out_n = torch.where(x == az, z, _signed(z, x))
    out = torch.where(t <= a - 1.0, out_c, out_n)
    return torch.where(az <= thr, _zero(z), out)


def _p_quant(reg, z, step, d):
    """ProxQuant's W-shaped regularizer (quant.quant_scalar):
    ``x = sign(z) (1 + prox_{mu |.|^q}(|z| - 1))``, ``sign(0) = +1``."""
    mu = _steps(z, step, d) * reg.lam
    w = z.abs() - 1.0
    code = reg._code
    if code == 0:
        u = _hard(w, mu)
    elif code == 1:
        u = _half(w, mu)
    elif code == 2:
        u = _two_thirds(w, mu)
    else:
        u = _soft(w, mu)
    x = 1.0 + u
    out = torch.where(z >= 0, x, -x)
    return torch.where(mu > 0, out, z)


# ---------------------------------------------------------------- grouped
def _masked_min_max(v, mask):
    if mask is None:
        return v.amin(dim=1), v.amax(dim=1)
    inf = v.new_full((), math.inf)
    return torch.where(mask, v, inf).amin(dim=1), torch.where(mask, v, -inf).amax(dim=1)


def group_l2_metric_prox(z, d, pg, tau, out):
    """Exact metric prox of ``sum_g tau_g ||x_g||`` for every group at once
    (mirrors :func:`proxlab.regularizers.group.group_l2_metric_prox_kernel`).

    Parameters
    ----------
    z : flat tensor (n,)
    d : flat tensor (n,) of positive entries, or ``None`` for the identity
        (block soft-thresholding ``x_g = max(0, 1 - tau_g/||z_g||) z_g``).
    pg : :class:`proxlab.torch.layout.PaddedGroups`
    tau : tensor (G,), ``step * lam * w_g``
    out : flat tensor (n,) written on the grouped coordinates only.

    Notes
    -----
    Per group: ``x_g = 0`` iff ``||d_g z_g|| <= tau_g``; otherwise
    ``x_i = z_i r / (r + c_i)``, ``c_i = tau_g / d_i``, with ``r`` the root of
    ``sum_i z_i^2 / (r + c_i)^2 = 1``, found by Newton on ``S(r)^{-1/2} - 1``
    (concave, increasing: monotone from the left end of the bracket
    ``max(0, ||z|| - c_max, (||d z|| - tau)/d_max) <= r <= min(||z|| - c_min,
    (||d z|| - tau)/d_min)``), with the kernel's safeguard (bisection when a
    step leaves the bracket) and stopping rules (a step ``<= 1e-8 r``, ``S <= 1``
    at a Newton point, a bracket of relative width ``1e-15``). Each group is
    scaled by the power of two ``2^-e``, ``e`` the exponent of ``max|z_g|``
    (exact), so the result matches the kernel's to rounding. Groups are the
    rows of the padded ``(G, M)`` block; padding entries hold ``y = 0`` and do
    not contribute.
    """
    Z = pg.pad(z, 0.0)
    mask = pg.mask
    zmax = Z.abs().amax(dim=1)
    _, ex = torch.frexp(zmax)
    inv = torch.ldexp(torch.ones_like(zmax), -ex)
    ts = tau * inv
    Y = Z * inv[:, None]
    alive = (tau > 0) & (zmax > 0)
    zero = _zero(Z)
    if d is None:
        nrm = torch.sqrt((Y * Y).sum(dim=1))
        keep = nrm > ts
        fac = 1.0 - ts / nrm
        X = torch.where(keep[:, None], Z * fac[:, None], zero)
    else:
        D = pg.pad(d, 1.0)
        W = D * Y
        ndz = torch.sqrt((W * W).sum(dim=1))
        ny = torch.sqrt((Y * Y).sum(dim=1))
        E = ts[:, None] / D
        emin, emax = _masked_min_max(E, mask)
        dmin, dmax = _masked_min_max(D, mask)
        keep = ndz > ts
        gap = ndz - ts
        lo = torch.clamp(torch.maximum(ny - emax, gap / dmax), min=0.0)
        hi = torch.minimum(ny - emin, gap / dmin)
        hi = torch.where(hi >= lo, hi, lo)
        Es = E if mask is None else torch.where(mask, E, Z.new_ones(()))
        r = lo
        active = alive & keep
        newton_point = torch.ones_like(active)
        early = _early_exit(Z)
        for _ in range(_max_iter(Z, "secular", SECULAR_MAX_ITER)):
            if early and not bool(active.any()):
                break
            Q = 1.0 / (r[:, None] + Es)
            U = Y * Q
            U2 = U * U
            S = U2.sum(dim=1)
            T = (U2 * Q).sum(dim=1)
            below = S < 1.0
            hi = torch.where(active & below, r, hi)
            lo = torch.where(active & ~below, r, lo)
            stop = (below & newton_point) | (~below & (S == 1.0))
            go = active & ~stop
            rn = r + S * (torch.sqrt(S) - 1.0) / T
            bad = ~((rn >= lo) & (rn <= hi))
            rn = torch.where(bad, 0.5 * (lo + hi), rn)
            newton_point = torch.where(go, ~bad, newton_point)
            conv = ((rn - r).abs() <= _NEWTON_RTOL * rn) | (hi - lo <= 1e-15 * hi)
            r = torch.where(go, rn, r)
            active = go & ~conv
        X = torch.where(keep[:, None], Z * (r[:, None] / (r[:, None] + E)), zero)
    X = torch.where(alive[:, None], X, torch.where((zmax > 0)[:, None], Z, zero))
    return pg.unpad_into(out, X)


def _covered(reg, pg, like):
    """Boolean flat mask of the grouped coordinates (cached)."""
    return _const(pg, "covered", pg.groups.covered(), like.new_zeros((), dtype=torch.bool))


def _p_group(reg, z, step, d):
    flat = z.reshape(-1)
    pg = padded(reg.groups, z.device)
    tau = (step * reg.lam) * pg.weights(z.dtype)
    out = flat.clone()
    group_l2_metric_prox(flat, None if d is None else d.reshape(-1), pg, tau, out)
    return out.view(z.shape)


def _p_sgl(reg, z, step, d):
    """Sparse group lasso (group.SparseGroupLasso._prox_metric): fold ``lam2``
    into the metric, soft-threshold, then the exact group-l2 metric prox."""
    flat = z.reshape(-1)
    dd = None if d is None else d.reshape(-1)
    if reg.lam2:
        d1 = torch.ones_like(flat) if dd is None else dd
        dp = d1 + 2.0 * step * reg.lam2
        zp = (d1 * flat) / dp
    else:
        dp, zp = dd, flat
    if reg.lam1:
        thr = step * reg.lam1 if dp is None else _rdiv(step * reg.lam1, dp)
        u = _soft(zp, thr)
    else:
        u = zp
    pg = padded(reg.groups, z.device)
    out = u.clone()
    identity = dd is None and not reg.lam2
    group_l2_metric_prox(u, None if identity else dp, pg, (step * reg.lam21) * pg.weights(z.dtype), out)
    return out.view(z.shape)


def _p_sgl_weighted(reg, z, step, d):
    """Sparse group lasso with ``||a_g x_g||`` (group_weighted): ``y = a x``,
    soft-threshold, group-l2 metric prox in ``y`` with metric ``d'/a^2``."""
    flat = z.reshape(-1)
    d1 = torch.ones_like(flat) if d is None else d.reshape(-1)
    if reg.lam2:
        dp = d1 + 2.0 * step * reg.lam2
        zp = (d1 * flat) / dp
    else:
        dp, zp = d1, flat
    if reg.lam1:
        zp = _soft(zp, _rdiv(step * reg.lam1, dp))
    if reg.lam21 == 0.0:
        return zp.view(z.shape)
    a = _const(reg, "a", reg.a, flat)
    u = a * zp
    D = dp / (a * a)
    pg = padded(reg.groups, z.device)
    y = u.clone()
    group_l2_metric_prox(u, D, pg, (step * reg.lam21) * pg.weights(z.dtype), y)
    out = y / a
    if not pg.covers_all:
        out = torch.where(_covered(reg, pg, flat), out, zp)
    return out.view(z.shape)


def _p_nuclear(reg, z, step, d):
    """Nuclear norm under the identity or a uniform metric ``c``: singular value
    soft-thresholding ``U max(Sigma - step lam / c, 0) V^T`` (nuclear.svt).

    A non-uniform metric has no closed form (the catalogue runs ADMM); it is
    refused with a ValueError. Checking a tensor metric for uniformity reads
    one boolean back from the device."""
    if reg.lam == 0.0:
        return z.clone()
    c = 1.0
    if d is not None:
        flat = d.reshape(-1)
        if not bool(torch.all(flat == flat[0])):
            raise ValueError("the torch prox of the nuclear norm supports the identity or a uniform metric only "
                             "(singular value thresholding); a non-uniform metric needs the catalogue's ADMM "
                             "(proxlab.regularizers.get('nuclear', ...).prox_metric)")
        c = flat[0]
    Z = z.reshape(reg.shape)
    U, s, Vh = torch.linalg.svd(Z, full_matrices=False)
    thr = step * reg.lam / c if not isinstance(c, torch.Tensor) else _rdiv(step * reg.lam, c)
    f = torch.clamp(s - thr, min=0.0)
    X = (U * f) @ Vh
    return (X + 0.0).reshape(z.shape)


_IMPL = {
    "l1": _p_l1,
    "elastic_net": _p_elastic,
    "l2_squared": _p_l2sq,
    "l0": _p_l0,
    "l_half": _p_half,
    "l_two_thirds": _p_two_thirds,
    "lq": _p_lq,
    "mcp": _p_mcp,
    "scad": _p_scad,
    "binary_quant": _p_quant,
    "group_l2": _p_group,
    "sparse_group_lasso": _p_sgl,
    "sparse_group_lasso_weighted": _p_sgl_weighted,
    "nuclear": _p_nuclear,
}
assert set(_IMPL) == set(SUPPORTED)


def supported(reg):
    """Whether ``reg`` (a catalogue regularizer or a name) has a torch prox."""
    name = reg if isinstance(reg, str) else getattr(reg, "name", None)
    return name in _IMPL


def _metric(d, z):
    if d is None:
        return None
    if isinstance(d, numbers.Real) and not isinstance(d, bool):
        if not (math.isfinite(d) and d > 0):
            raise ValueError(f"d (the diagonal metric) must be > 0, got {d!r}")
        return torch.full_like(z, float(d))
    if not isinstance(d, torch.Tensor):
        raise TypeError(f"d must be None, a positive float or a tensor, got {type(d).__name__}")
    if d.numel() != z.numel():
        raise ValueError(f"d must have the {z.numel()} entries of z, got shape {tuple(d.shape)}")
    return d.to(dtype=z.dtype, device=z.device).reshape(z.shape)


def prox_metric(reg, z, step, d=None):
    r"""``argmin_x R(x) + (1/(2 step)) sum_i d_i (x_i - z_i)^2`` on torch tensors.

    Parameters
    ----------
    reg : Regularizer or None
        A catalogue regularizer (:func:`proxlab.regularizers.get`); ``None`` is
        the zero regularizer (returns a copy of ``z``). Grouped regularizers act
        on the row-major flattening of ``z`` (``reg.groups`` over ``z.numel()``
        entries).
    z : floating tensor (any shape; the nuclear norm: ``reg.shape`` or flat)
    step : float > 0
    d : None, float > 0 or tensor with ``z.numel()`` entries
        The positive diagonal metric (not checked for positivity: no sync).

    Returns
    -------
    Tensor of ``z``'s shape, dtype and device (a new tensor).

    Raises
    ------
    ValueError
        for a regularizer without a torch prox, a size mismatch, ``step <= 0``,
        or the nuclear norm under a non-uniform metric.
    """
    if reg is None:
        return z.clone()
    if isinstance(reg, (str, tuple)):
        from ..solvers._base import resolve_regularizer

        reg = resolve_regularizer(reg)
    impl = _IMPL.get(getattr(reg, "name", None))
    if impl is None:
        raise ValueError(f"no torch prox for regularizer {reg!r}; supported: {', '.join(SUPPORTED)}")
    if not isinstance(z, torch.Tensor) or not torch.is_floating_point(z):
        raise TypeError(f"z must be a floating-point tensor, got {type(z).__name__}"
                        + (f" of dtype {z.dtype}" if isinstance(z, torch.Tensor) else ""))
    if isinstance(step, torch.Tensor):
        step = float(step)
    if isinstance(step, bool) or not isinstance(step, numbers.Real) or not (math.isfinite(step) and step > 0):
        raise ValueError(f"step must be a finite float > 0, got {step!r}")
    if reg.dim is not None and z.numel() != reg.dim:
        raise ValueError(f"z has {z.numel()} entries but {reg!r} expects {reg.dim}")
    return impl(reg, z, float(step), _metric(d, z))
