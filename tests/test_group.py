"""Group lasso / sparse group lasso regularizers and the three group-l2
subproblem solvers (exact secular root, RAMDA's PG, ProxSSI's Newton).

Oracles, each independent of the code under test:

* an mpmath bisection of the secular equation at 50 digits (fixed cases) and
  a vectorized float64 bisection (property tests), both bracketing the root
  in ``[0, ||z_g||]`` without the kernel's bounds or Newton steps;
* CVXPY + Clarabel at tolerances 1e-10 (built once with ``cp.Parameter``s);
* the l1 / elastic-net closed forms of ``proxlab.regularizers.l1``.
"""

import functools

import mpmath
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from proxlab.groups import Groups
from proxlab.regularizers._base import _REGISTRY
from proxlab.regularizers.group import GroupL2, SparseGroupLasso, group_norms
from proxlab.regularizers.l1 import L1, ElasticNet
from proxlab.solvers.subproblem import (
    ProxInfo,
    group_l2_prox_exact,
    group_l2_prox_newton,
    group_l2_prox_pg,
    prox_metric_pg,
)

#: near the soft threshold both sides lose digits by cancellation (|x| << |z|):
#: compare there with an absolute budget of a few ulps of max|z|
ULPS_OF_Z = 1e-15

HYP = settings(max_examples=400, deadline=None, derandomize=True,
               suppress_health_check=list(HealthCheck))


# ------------------------------------------------------------------ oracles
def mp_group_prox(z, d, tau, dps=50):
    """Group prox by 50-digit bisection of ``sum z^2/(r + tau/d)^2 = 1`` on ``[0, ||z||]``."""
    mpmath.mp.dps = dps
    zz = [mpmath.mpf(float(v)) for v in z]
    dd = [mpmath.mpf(float(v)) for v in d]
    tau = mpmath.mpf(float(tau))
    if mpmath.sqrt(sum((a * b) ** 2 for a, b in zip(zz, dd))) <= tau:
        return np.zeros(len(zz))
    c = [tau / v for v in dd]
    lo, hi = mpmath.mpf(0), mpmath.sqrt(sum(v * v for v in zz))
    for _ in range(220):
        mid = (lo + hi) / 2
        if sum(v * v / (mid + ci) ** 2 for v, ci in zip(zz, c)) > 1:
            lo = mid
        else:
            hi = mid
    r = (lo + hi) / 2
    return np.array([float(v * r / (r + ci)) for v, ci in zip(zz, c)])


def mp_reference(z, d, groups, tau):
    x = np.array(z, dtype=np.float64)
    for g, ii in enumerate(groups.as_list()):
        x[ii] = mp_group_prox(z[ii], d[ii], tau[g])
    return x


def bisect_reference(z, d, groups, tau, iters=200):
    """Vectorized float64 bisection over all groups at once (independent oracle)."""
    idx, ptr, sizes = groups.idx, groups.ptr, groups.sizes
    zg, dg = z[idx], d[idx]
    tau_e = np.repeat(tau, sizes)
    ndz = group_norms(groups, d * z)
    zero = ndz <= tau
    c = tau_e / dg
    lo = np.zeros(groups.n_groups)
    hi = group_norms(groups, z)
    for _ in range(iters):
        mid = 0.5 * (lo + hi)
        S = np.add.reduceat(zg ** 2 / (np.repeat(mid, sizes) + c) ** 2, ptr[:-1])
        lo = np.where(S > 1, mid, lo)
        hi = np.where(S > 1, hi, mid)
    r = np.repeat(0.5 * (lo + hi), sizes)
    xg = np.where(np.repeat(zero, sizes), 0.0, zg * r / (r + c))
    x = z.astype(np.float64).copy()
    x[idx] = xg
    return x


@functools.lru_cache(maxsize=None)
def _cvx_problem(n, layout):
    """CVXPY problem for ``lam21 sum w_g ||x_g|| + lam1 ||x||_1 + lam2 ||x||^2 + sum d (x - z)^2 / (2 step)``,
    built once per layout; the quadratic is ``||s x - s z||^2`` with ``s = sqrt(d / (2 step))`` (DPP)."""
    import cvxpy as cp

    groups = [np.array(g) for g in layout[0]]
    w = np.array(layout[1])
    x = cp.Variable(n)
    s = cp.Parameter(n, nonneg=True)
    sz = cp.Parameter(n)
    lam21, lam1, lam2 = (cp.Parameter(nonneg=True) for _ in range(3))
    group = cp.sum(cp.hstack([w[g] * cp.norm(x[ii], 2) for g, ii in enumerate(groups)]))
    obj = lam21 * group + lam1 * cp.norm1(x) + lam2 * cp.sum_squares(x) + cp.sum_squares(cp.multiply(s, x) - sz)
    return cp.Problem(cp.Minimize(obj)), x, s, sz, lam21, lam1, lam2


# Clarabel's interior point stops at relative gap / feasibility 1e-9 (at 1e-10
# it reports "optimal_inaccurate" on some of these SOCPs: it stalls at ~1e-10),
# so its objective is within ~1e-9 relative of the optimum; we require
# |F_ours - F_cvx| <= 1e-8 (1 + |F|) (one digit of margin) and our value to be
# no worse than CVXPY's beyond that.
CVX_TOL = dict(tol_gap_abs=1e-9, tol_gap_rel=1e-9, tol_feas=1e-9, max_iter=400)
OBJ_RTOL = 1e-8


def cvx_solve(groups, z, step, d, lam21, lam1=0.0, lam2=0.0):
    import cvxpy as cp

    layout = (tuple(tuple(int(i) for i in g) for g in groups.as_list()), tuple(groups.weights.tolist()))
    prob, x, s, sz, p21, p1, p2 = _cvx_problem(groups.n, layout)
    sv = np.sqrt(d / (2 * step))
    s.value, sz.value = sv, sv * z
    p21.value, p1.value, p2.value = lam21, lam1, lam2
    prob.solve(solver=cp.CLARABEL, **CVX_TOL)
    assert prob.status == cp.OPTIMAL, prob.status
    return np.asarray(x.value)


def random_layout(rng, n, partial=False):
    """Random partition of range(n) into groups of mixed sizes (some coordinates
    left out when ``partial``)."""
    perm = rng.permutation(n)
    if partial:
        perm = perm[: max(1, int(rng.integers(1, n + 1)))]
    cuts = np.sort(rng.choice(np.arange(1, perm.size), size=min(perm.size - 1, int(rng.integers(0, 5))),
                              replace=False)) if perm.size > 1 else []
    return [g for g in np.split(perm, cuts) if g.size]


def exact_error(x, ref, groups):
    """Worst group error relative to the group norm of the reference (or of z)."""
    e = group_norms(groups, x - ref)
    return e


# -------------------------------------------------------------- catalogue
def test_registered_with_the_contract_attributes():
    assert _REGISTRY["group_l2"] is GroupL2 and _REGISTRY["sparse_group_lasso"] is SparseGroupLasso
    for cls in (GroupL2, SparseGroupLasso):
        assert cls.family == "group lasso" and cls.convex and not cls.separable and cls.grouped
        assert "secular root" in cls.method and "GA eq (5)" in cls.source
    reg = GroupL2(lam=0.3, n=8, groups=4)
    assert reg.dim == 8 and reg.groups.n_groups == 2
    ex = GroupL2.examples(np.random.default_rng(0))
    sizes = {int(s) for r in ex for s in r.groups.sizes}
    assert 1 in sizes and any(r.lam == 0 for r in ex) and any(r.groups.idx.size < r.n for r in ex)
    assert any(np.all(r.groups.weights == 1) and r.groups.sizes[0] > 1 for r in ex)


def test_value_support_and_cvxpy_expression(rng):
    import cvxpy as cp

    groups = [np.array([0, 3]), np.array([5]), np.array([1, 2, 6])]
    reg = SparseGroupLasso(lam1=0.3, lam21=0.7, lam2=0.2, n=8, groups=groups)
    x = rng.standard_normal(8)
    x[[1, 2, 6]] = 0
    expect = (0.3 * np.abs(x).sum() + 0.2 * x @ x
              + 0.7 * sum(np.sqrt(len(g)) * np.linalg.norm(x[g]) for g in groups))
    assert reg.value(x) == pytest.approx(expect, rel=1e-14)
    np.testing.assert_array_equal(reg.support(x), [True, True, False])
    v = cp.Variable(8)
    v.value = x
    assert reg.cvxpy_expr(v).value == pytest.approx(expect, rel=1e-12)
    g2 = GroupL2(lam=1.5, n=8, groups=4)
    v.value = x
    assert g2.cvxpy_expr(v).value == pytest.approx(g2.value(x), rel=1e-12)


# ---------------------------------------------------------- exactness
@pytest.mark.parametrize("spread", [0.0, 2.0, 6.0])
def test_exact_matches_mpmath_bisection(rng, spread):
    """1e-12 relative to the group's norm, metric entries spanning up to 1e-6..1e6."""
    for _ in range(4):
        n = 20
        groups = Groups(n, random_layout(rng, n, partial=bool(rng.integers(2))))
        z = rng.standard_normal(n) * 10.0 ** rng.uniform(-2, 2)
        d = 10.0 ** rng.uniform(-spread, spread, n)
        step = 10.0 ** rng.uniform(-1, 1)
        # lam chosen so that some groups are zero and some are not
        lam = 0.5 * float(np.median(group_norms(groups, d * z) / (step * groups.weights)))
        x, info = group_l2_prox_exact(z, step, d, groups, lam)
        ref = mp_reference(z, d, groups, step * lam * groups.weights)
        nr = group_norms(groups, ref)
        err = group_norms(groups, x - ref)
        assert np.all(err <= 1e-12 * np.maximum(nr, 1e-300) + 1e-15 * group_norms(groups, z))
        np.testing.assert_array_equal(x[~groups.covered()], z[~groups.covered()])
        np.testing.assert_array_equal(nr == 0, group_norms(groups, x) == 0)
        assert info.converged and info.n_screened == int(np.sum(nr == 0))


@pytest.mark.parametrize("kind", ["group_l2", "sgl", "partial"])
def test_exact_matches_cvxpy(rng, kind):
    n = 14
    for _ in range(3):
        layout = random_layout(rng, n, partial=(kind == "partial"))
        z = rng.standard_normal(n) * 3
        d = 10.0 ** rng.uniform(-1, 1, n)
        step = float(10.0 ** rng.uniform(-0.5, 0.5))
        if kind == "sgl":
            reg = SparseGroupLasso(lam1=0.3, lam21=0.8, lam2=0.4, n=n, groups=layout)
            y = cvx_solve(reg.groups, z, step, d, 0.8, 0.3, 0.4)
        else:
            reg = GroupL2(lam=0.9, n=n, groups=layout)
            y = cvx_solve(reg.groups, z, step, d, 0.9)
        x = reg.prox_metric(z, step, d)
        fx, fy = reg.objective(x, z, step, d), reg.objective(y, z, step, d)
        assert abs(fx - fy) <= OBJ_RTOL * (1 + abs(fy))
        # strong convexity: 0.5 ||x - y||^2_{d/step} <= F(y) - F(x*) ; our x is exact to 1e-12
        assert 0.5 * np.sum(d / step * (x - y) ** 2) <= max(fy - fx, 0) + OBJ_RTOL * (1 + abs(fy))


def test_size_one_groups_equal_l1(rng):
    n = 15
    z = rng.standard_normal(n) * 2
    d = 10.0 ** rng.uniform(-3, 3, n)
    for weights in ("sqrt", "ones"):  # sqrt(1) = 1
        reg = GroupL2(lam=0.7, n=n, groups=1, weights=weights)
        np.testing.assert_allclose(reg.prox_metric(z, 0.4, d), L1(lam=0.7).prox_metric(z, 0.4, d),
                                   rtol=1e-14, atol=ULPS_OF_Z * np.abs(z).max())
        np.testing.assert_allclose(reg.prox(z, 0.4), L1(lam=0.7).prox(z, 0.4), rtol=1e-14,
                                   atol=ULPS_OF_Z * np.abs(z).max())
    perm = [np.array([i]) for i in rng.permutation(n)]
    reg = GroupL2(lam=0.7, n=n, groups=perm)
    np.testing.assert_allclose(reg.prox_metric(z, 0.4, d), L1(lam=0.7).prox_metric(z, 0.4, d), rtol=1e-14,
                               atol=ULPS_OF_Z * np.abs(z).max())


def test_sgl_reduces_to_elastic_net_and_group_l2(rng):
    n = 12
    layout = random_layout(rng, n)
    z = rng.standard_normal(n) * 2
    d = 10.0 ** rng.uniform(-2, 2, n)
    sgl = SparseGroupLasso(lam1=0.4, lam21=0.0, lam2=0.3, n=n, groups=layout)
    en = ElasticNet(lam1=0.4, lam2=0.3)
    np.testing.assert_allclose(sgl.prox_metric(z, 0.7, d), en.prox_metric(z, 0.7, d), rtol=1e-13,
                               atol=ULPS_OF_Z * np.abs(z).max())
    assert sgl.value(z) == pytest.approx(en.value(z), rel=1e-14)
    sgl = SparseGroupLasso(lam1=0.0, lam21=0.9, lam2=0.0, n=n, groups=layout)
    gl = GroupL2(lam=0.9, n=n, groups=layout)
    np.testing.assert_array_equal(sgl.prox_metric(z, 0.7, d), gl.prox_metric(z, 0.7, d))
    np.testing.assert_array_equal(sgl.prox(z, 0.7), gl.prox(z, 0.7))


def test_group_entirely_zero_and_all_groups_screened(rng):
    n = 12
    z = rng.standard_normal(n)
    z[4:8] = 0.0
    d = 10.0 ** rng.uniform(-1, 1, n)
    for fn in (group_l2_prox_exact, group_l2_prox_pg, group_l2_prox_newton):
        x, info = fn(z, 1.0, d, 4, 0.01)
        assert isinstance(info, ProxInfo) and x.dtype == z.dtype
        assert np.all(x[4:8] == 0) and np.all(x[:4] != 0) and info.n_screened == 1
    # every group screened (RAMDA's public solver crashes here, bug (c))
    for fn in (group_l2_prox_exact, group_l2_prox_pg, group_l2_prox_newton):
        x, info = fn(z, 1.0, d, 4, 1e6)
        assert np.all(x == 0) and info.n_screened == 3 and info.residual == 0.0 and info.converged
    x, info = group_l2_prox_exact(np.zeros(n), 1.0, d, 3, 1.0)
    assert np.all(x == 0) and info.residual == 0.0


def test_huge_and_tiny_magnitudes(rng):
    """Power-of-two rescaling inside the kernel: positive homogeneity
    prox(c z; c lam) = c prox(z; lam) holds to rounding for c = 1e+-200, and
    |z| ~ 1e300 (whose squares overflow) still gives a finite, correct result."""
    n = 16
    groups = Groups(n, random_layout(rng, n))
    z = rng.standard_normal(n)
    d = 10.0 ** rng.uniform(-3, 3, n)
    x, _ = group_l2_prox_exact(z, 0.5, d, groups, 0.3)
    for c in (1e200, 1e-200, 2.0 ** 900):
        xc, _ = group_l2_prox_exact(z * c, 0.5, d, groups, 0.3 * c)
        np.testing.assert_allclose(xc / c, x, rtol=1e-13, atol=1e-16 * np.abs(z).max())
    zh = z * 1e300
    xh, info = group_l2_prox_exact(zh, 0.5, d, groups, 0.3)
    assert np.isfinite(xh).all() and info.converged
    # lam negligible against |z|: x = z to rounding
    np.testing.assert_allclose(xh, zh, rtol=1e-14)
    reg = GroupL2(lam=0.3 * 1e300, n=n, groups=groups)
    xr = reg.prox_metric(zh, 0.5, d)
    np.testing.assert_allclose(xr / 1e300, x, rtol=1e-13, atol=1e-16)


def test_float32_in_float32_out(rng):
    n = 24
    groups = Groups(n, random_layout(rng, n, partial=True))
    for reg in (GroupL2(lam=0.6, n=n, groups=groups),
                SparseGroupLasso(lam1=0.2, lam21=0.6, lam2=0.3, n=n, groups=groups)):
        for _ in range(5):
            z = (rng.standard_normal(n) * 3).astype(np.float32)
            d = (10.0 ** rng.uniform(-3, 3, n)).astype(np.float32)
            x32 = reg.prox_metric(z, 0.8, d)
            assert x32.dtype == np.float32
            x64 = reg.prox_metric(z.astype(np.float64), 0.8, d.astype(np.float64))
            # the float64 computation on the same (float32) inputs, cast once:
            # only the final rounding differs, |err| <= eps32 |x| entrywise (plus 0 at zeros)
            np.testing.assert_allclose(x32, x64, rtol=2 * np.finfo(np.float32).eps, atol=0)
        x, info = group_l2_prox_exact(z, 0.8, d, groups, 0.6)
        assert x.dtype == np.float32 and info.converged


@pytest.mark.parametrize("make", [
    lambda: GroupL2(lam=0.8, n=12, groups=[np.arange(5), np.array([5]), np.arange(6, 12)]),
    lambda: GroupL2(lam=0.8, n=12, groups=4, weights="ones"),
    lambda: SparseGroupLasso(lam1=0.3, lam21=0.8, lam2=0.2, n=12, groups=[np.arange(5), np.arange(7, 12)]),
    lambda: SparseGroupLasso(lam1=0.5, lam21=0.0, lam2=0.2, n=12, groups=3),
    lambda: SparseGroupLasso(lam1=0.0, lam21=0.4, lam2=0.0, n=12, groups=6),
])
def test_at_threshold_is_the_zero_boundary(make, rng):
    reg = make()
    G = reg.groups
    for _ in range(5):
        z = rng.standard_normal(12) * 3
        d = 10.0 ** rng.uniform(-2, 2, 12)
        zt = reg.at_threshold(z, 0.6, d)
        below = reg.prox_metric(zt * (1 - 1e-9), 0.6, d)
        above = reg.prox_metric(zt * (1 + 1e-6), 0.6, d)
        assert np.all(group_norms(G, below) == 0)
        assert np.all(group_norms(G, above) > 0)
        on = group_norms(G, reg.prox_metric(zt, 0.6, d))
        assert np.all(on <= 1e-12 * group_norms(G, zt))  # continuity: 0 or a rounding-sized group


# ------------------------------------------------------ subdifferential
def _cvx_min_norm_subgradient(x, h, groups, mu, lam1):
    """min || h + lam1 s + sum_g mu_g v_g || over s in d||x||_1, v_g in d||x_g|| (CVXPY)."""
    import cvxpy as cp

    n = x.size
    s = cp.Variable(n)
    pos, neg = np.flatnonzero(x > 0), np.flatnonzero(x < 0)
    cons = [s[pos] == 1, s[neg] == -1, cp.abs(s) <= 1] if lam1 > 0 else [s == 0]
    terms = h + lam1 * s
    vs = []
    for g, ii in enumerate(groups.as_list()):
        v = cp.Variable(ii.size)
        nx = np.linalg.norm(x[ii])
        cons.append(v == x[ii] / nx if nx > 0 else cp.norm(v, 2) <= 1)
        vs.append((ii, v, mu[g]))
    expr = terms
    for ii, v, m in vs:
        P = np.zeros((n, ii.size))
        P[ii, np.arange(ii.size)] = 1
        expr = expr + m * (P @ v)
    prob = cp.Problem(cp.Minimize(cp.norm(expr, 2)), cons)
    prob.solve(solver=cp.CLARABEL, **CVX_TOL)
    assert prob.status == cp.OPTIMAL
    return prob.value


def test_subdiff_dist_is_the_exact_min_norm_subgradient(rng):
    """The closed forms (zero group: ball; SGL: soft(g, lam1) then ball) agree
    with a CVXPY min-norm computation over the box x ball (Clarabel at 1e-9:
    values to ~1e-9 relative, so 1e-7 leaves two digits)."""
    n = 12
    groups = Groups(n, [np.arange(4), np.arange(4, 7), np.array([9, 10, 11])])  # 7, 8 in no group
    for _ in range(6):
        x = rng.standard_normal(n)
        x[4:7] = 0.0  # a zero group
        x[rng.random(n) < 0.3] = 0.0  # scattered zeros inside non-zero groups
        z = rng.standard_normal(n)
        d = 10.0 ** rng.uniform(-1, 1, n)
        step = 0.7
        for reg in (GroupL2(lam=0.9, n=n, groups=groups),
                    SparseGroupLasso(lam1=0.4, lam21=0.9, lam2=0.3, n=n, groups=groups)):
            lam1 = getattr(reg, "lam1", 0.0)
            lam2 = getattr(reg, "lam2", 0.0)
            mu = (reg.lam21 if hasattr(reg, "lam21") else reg.lam) * groups.weights
            h = d * (x - z) / step + 2 * lam2 * x
            ref = _cvx_min_norm_subgradient(x, h, groups, mu, lam1)
            assert reg.subdiff_dist(x, z, step, d) == pytest.approx(ref, rel=1e-7, abs=1e-8)


# ------------------------------------------------------------- solvers
def _case(rng, n=48, spread=2.0, partial=False):
    groups = Groups(n, random_layout(rng, n, partial) if partial else 4)
    z = rng.standard_normal(n) * 2
    d = 10.0 ** rng.uniform(0, spread, n)
    step = 0.5
    lam = 0.6 * float(np.median(group_norms(groups, d * z) / (step * groups.weights)))
    return z, step, d, groups, lam


def test_uniform_metric_one_pg_iteration_is_exact(rng):
    z, step, _, groups, _ = _case(rng)
    for d in (None, 3.7, np.full(z.size, 0.25)):
        dd = 1.0 if d is None else d
        lam = 0.6 * float(np.median(group_norms(groups, dd * z) / (step * groups.weights)))
        x, info = group_l2_prox_pg(z, step, d, groups, lam, eps=0.0, max_iter=50)
        assert 0 < info.n_screened < groups.n_groups
        xe, _ = group_l2_prox_exact(z, step, d, groups, lam)
        assert info.iterations == 1 and info.converged and info.residual == 0.0
        np.testing.assert_allclose(x, xe, rtol=1e-13, atol=ULPS_OF_Z * np.abs(z).max())


def test_screening_is_exact(rng):
    """The screened set is exactly the exact solution's zero groups, including
    groups a hair below / above the threshold; screening never zeroes a kept group."""
    for _ in range(10):
        z, step, d, groups, lam = _case(rng, n=40, spread=4, partial=True)
        reg = GroupL2(lam=lam, n=z.size, groups=groups)
        zt = reg.at_threshold(z, step, d)
        k = groups.n_groups
        fac = np.where(rng.random(k) < 0.5, 1 - 1e-9, 1 + 1e-9)
        zz = z.copy()
        zz[groups.idx] = zt[groups.idx] * np.repeat(fac, groups.sizes)
        for zc in (z, zz):
            xe, ie = group_l2_prox_exact(zc, step, d, groups, lam)
            kept = group_norms(groups, xe) > 0
            assert ie.n_screened == int(np.sum(~kept))
            for fn in (group_l2_prox_pg, group_l2_prox_newton):
                x, info = fn(zc, step, d, groups, lam)
                assert info.n_screened == ie.n_screened
                assert np.all(group_norms(groups, x)[~kept] == 0)
            # PG may pass through zero on a kept group (its prox steps are not the
            # screening); Newton keeps every non-screened group non-zero
            x, _ = group_l2_prox_newton(zc, step, d, groups, lam)
            assert np.all(group_norms(groups, x)[kept] > 0)


def test_pg_reaches_condition_7_and_reports_an_upper_bound(rng):
    for spread in (1.0, 2.0):
        z, step, d, groups, lam = _case(rng, spread=spread, partial=True)
        reg = GroupL2(lam=lam, n=z.size, groups=groups)
        xe, _ = group_l2_prox_exact(z, step, d, groups, lam)
        for max_iter in (3, 20, 100_000):
            x, info = group_l2_prox_pg(z, step, d, groups, lam, eps=1e-8, max_iter=max_iter)
            true = reg.subdiff_dist(x, z, step, d)
            # s_j is an element of dQ(x): its norm bounds the min-norm element (rounding: 1e-12 rel)
            assert true <= info.residual * (1 + 1e-9) + 1e-12
            if max_iter == 100_000:
                assert info.converged and info.stop == "condition (7)" and info.residual <= 1e-8
                assert reg.objective(x, z, step, d) <= reg.objective(z, z, step, d)
                # ||x - x*|| <= dist(0, dQ(x)) / mu with mu = min d / step (strong convexity)
                assert np.linalg.norm(x - xe) <= true * step / d.min() * (1 + 1e-6) + 1e-13
            else:
                assert not info.converged and info.iterations == max_iter and info.stop == "max_iter"
        # warm start at the solution: condition (7) holds at once
        x, info = group_l2_prox_pg(z, step, d, groups, lam, eps=1e-8, x0=xe)
        assert info.converged and info.iterations == 1


def test_pg_rtol_early_stop(rng):
    z, step, d, groups, lam = _case(rng, spread=2.0)
    x1, i1 = group_l2_prox_pg(z, step, d, groups, lam, max_iter=100)
    x2, i2 = group_l2_prox_pg(z, step, d, groups, lam, max_iter=100, rtol=1e-3)
    assert i2.stop == "rtol" and 2 <= i2.iterations < i1.iterations and not i2.converged
    np.testing.assert_array_equal(x2, group_l2_prox_pg(z, step, d, groups, lam, max_iter=i2.iterations)[0])


def test_newton_reaches_its_tolerance(rng):
    for spread in (2.0, 6.0):
        z, step, d, groups, lam = _case(rng, spread=spread)
        d = 10.0 ** rng.uniform(-spread, spread, z.size)
        xe, _ = group_l2_prox_exact(z, step, d, groups, lam)
        x, info = group_l2_prox_newton(z, step, d, groups, lam)
        # theta0 = (||dz|| - tau)/max d is a lower bound of the root, so Newton on the
        # convex decreasing g climbs monotonically: a handful of steps, not the cap
        assert info.converged and info.iterations <= 7
        nr = group_norms(groups, xe)
        err = group_norms(groups, x - xe)
        # |g| < 1e-7 moves the norm r by ~1e-7 (r + c) / 2: relative ~1e-7 (ProxSSI measured 6e-8)
        assert np.all(err <= 1e-6 * np.maximum(nr, group_norms(groups, z) * 1e-3))
        np.testing.assert_array_equal(nr == 0, group_norms(groups, x) == 0)


def test_prox_metric_pg_generic(rng):
    z, step, d, groups, lam = _case(rng, n=24, spread=1.0)
    reg = GroupL2(lam=lam, n=z.size, groups=groups)
    xe = reg.prox_metric(z, step, d)
    x, info = prox_metric_pg(reg, z, step, d, eps=1e-9, max_iter=100_000)
    assert info.converged and reg.subdiff_dist(x, z, step, d) <= info.residual * (1 + 1e-9) + 1e-12
    np.testing.assert_allclose(x, xe, atol=1e-9 * step / d.min())

    class NonconvexL1(L1):  # same operator flagged nonconvex: theta is halved
        convex = False

    x1, i1 = prox_metric_pg(L1(lam=0.3), z, step, 2.0, eps=0.0, max_iter=5)
    x2, i2 = prox_metric_pg(NonconvexL1(lam=0.3), z, step, 2.0, eps=1e-12, max_iter=200)
    assert i1.residual == 0.0  # uniform metric, full step: exact after one iteration
    assert i2.iterations > 1 and i2.converged  # half step: contraction by 1/2 per iteration
    np.testing.assert_allclose(x2, x1, atol=1e-11)


# ----------------------------------------------------------- bad input
def test_bad_input_names_the_parameter():
    z = np.ones(8)
    with pytest.raises(ValueError, match="lam"):
        GroupL2(lam=-1.0, n=8, groups=4)
    for key in ("lam1", "lam21", "lam2"):
        with pytest.raises(ValueError, match=key):
            SparseGroupLasso(**{key: -0.1}, n=8, groups=4)
    with pytest.raises(ValueError, match="overlap"):
        GroupL2(lam=1.0, n=8, groups=[[0, 1], [1, 2]])
    with pytest.raises(ValueError, match="outside range"):
        GroupL2(lam=1.0, n=8, groups=[[0, 8]])
    with pytest.raises(ValueError, match="n"):
        GroupL2(lam=1.0, groups=[[0, 1]])
    reg = GroupL2(lam=1.0, n=8, groups=4)
    with pytest.raises(ValueError, match=r"\bz\b"):
        reg.prox(np.ones(9), 1.0)
    with pytest.raises(ValueError, match=r"\bz\b"):
        reg.prox(np.ones((2, 4)), 1.0)
    with pytest.raises(ValueError, match=r"\bz\b"):
        reg.prox(np.array([np.nan] + [1.0] * 7), 1.0)
    with pytest.raises(ValueError, match=r"\bd\b"):
        reg.prox_metric(z, 1.0, np.ones(7))
    with pytest.raises(ValueError, match=r"\bd\b"):
        reg.prox_metric(z, 1.0, np.r_[np.ones(7), 0.0])
    with pytest.raises(ValueError, match=r"\bd\b"):
        reg.prox_metric(z, 1.0, -np.ones(8))
    for fn in (group_l2_prox_exact, group_l2_prox_pg, group_l2_prox_newton):
        with pytest.raises(ValueError, match=r"\bz\b"):
            fn(np.array([1.0, np.nan]), 1.0, None, 1, 0.1)
        with pytest.raises(ValueError, match=r"\bd\b"):
            fn(z, 1.0, np.zeros(8), 4, 0.1)
        with pytest.raises(ValueError, match="lam"):
            fn(z, 1.0, None, 4, -0.1)
        with pytest.raises(ValueError, match="step"):
            fn(z, 0.0, None, 4, 0.1)
        with pytest.raises(ValueError, match="overlap"):
            fn(z, 1.0, None, [[0, 1], [1]], 0.1)
        with pytest.raises(ValueError, match="groups"):
            fn(z, 1.0, None, 3, 0.1)  # 3 does not divide 8
    with pytest.raises(ValueError, match="x0"):
        group_l2_prox_pg(z, 1.0, None, 4, 0.1, x0=np.ones(3))


# ----------------------------------------------------- property tests
@st.composite
def group_cases(draw):
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    n = draw(st.integers(1, 24))
    layout = random_layout(rng, n, partial=draw(st.booleans()))
    z = rng.standard_normal(n) * 10.0 ** draw(st.floats(-4, 4))
    if draw(st.booleans()):
        z[rng.random(n) < 0.3] = 0.0
    spread = draw(st.floats(0, 6))
    d = 10.0 ** rng.uniform(-spread, spread, n)
    step = 10.0 ** draw(st.floats(-3, 3))
    groups = Groups(n, layout)
    scale = np.median(group_norms(groups, d * z) / (step * groups.weights))
    lam = float(scale * 10.0 ** draw(st.floats(-2, 0.5))) if scale > 0 else 1.0
    return z, step, d, groups, lam


@HYP
@given(group_cases())
def test_property_exact_prox(case):
    """Exact kernel vs float64 bisection (1e-12 of the group norm of z), optimality
    (ramda (7) residual at rounding level), the screening set, and no worse
    objective than the bisection reference or x = 0."""
    z, step, d, groups, lam = case
    x, info = group_l2_prox_exact(z, step, d, groups, lam)
    ref = bisect_reference(z, d, groups, step * lam * groups.weights)
    nz = group_norms(groups, z)
    assert np.all(group_norms(groups, x - ref) <= 1e-12 * nz)
    reg = GroupL2(lam=lam, n=z.size, groups=groups)
    scale = 1 + np.linalg.norm(d * z) / step
    assert info.residual == pytest.approx(reg.subdiff_dist(x, z, step, d), rel=1e-6, abs=1e-13 * scale)
    assert info.residual <= 1e-12 * scale
    fx = reg.objective(x, z, step, d)
    assert fx <= reg.objective(ref, z, step, d) + 1e-13 * abs(fx) + 1e-300
    assert fx <= reg.objective(np.zeros_like(z), z, step, d) + 1e-14 * abs(fx)
    ratio = group_norms(groups, d * z) / (step * lam * groups.weights)
    clear = np.abs(ratio - 1) > 1e-12  # the zero test is exact up to rounding at the boundary
    np.testing.assert_array_equal((group_norms(groups, x) == 0)[clear], (ratio <= 1)[clear])


@HYP
@given(group_cases(), st.floats(0, 2), st.floats(0, 2))
def test_property_sgl_composition(case, a1, a2):
    """SGL = soft-threshold (ridge folded into the metric) then group prox: its
    exact subdifferential distance vanishes, and lam21 = 0 is the elastic net."""
    z, step, d, groups, lam = case
    lam1, lam2 = a1 * lam, a2 * lam
    reg = SparseGroupLasso(lam1=lam1, lam21=lam, lam2=lam2, n=z.size, groups=groups)
    x = reg.prox_metric(z, step, d)
    scale = 1 + np.linalg.norm(d * z) / step + lam1 * np.sqrt(z.size)
    assert reg.subdiff_dist(x, z, step, d) <= 1e-12 * scale
    assert reg.objective(x, z, step, d) <= reg.objective(np.zeros_like(z), z, step, d) * (1 + 1e-14)
    en = SparseGroupLasso(lam1=lam1, lam21=0.0, lam2=lam2, n=z.size, groups=groups)
    np.testing.assert_allclose(en.prox_metric(z, step, d), ElasticNet(lam1=lam1, lam2=lam2).prox_metric(z, step, d),
                               rtol=1e-13, atol=ULPS_OF_Z * np.abs(z).max(initial=0.0))
