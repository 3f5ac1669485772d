"""Nuclear norm: SVT, the metric prox (ADMM / FISTA + SVT), the exact
subdifferential distance, against CVXPY + Clarabel (SDP) built once per shape."""

import functools
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from proxlab.regularizers._base import _REGISTRY
from proxlab.regularizers.nuclear import (
    NuclearNorm,
    _svt_jacobian,
    nuclear_metric_prox,
    nuclear_subdiff_dist,
    svt,
)
from proxlab.solvers.subproblem import prox_metric_pg

# Clarabel on these small SDPs: at gap/feasibility tolerances 1e-9 it returns
# "optimal" and its objective is within ~1e-9 relative of the optimum (1e-10
# stalls as "optimal_inaccurate" on some instances). Our operators are exact to
# rounding (SVT) or certified to 1e-12 (ADMM), so |F_ours - F_cvx| <= 1e-8
# (1 + |F|) leaves a digit of margin, and strong convexity (modulus d / step)
# turns the objective gap into a distance bound for x.
CVX_TOL = dict(tol_gap_abs=1e-9, tol_gap_rel=1e-9, tol_feas=1e-9, max_iter=400)
OBJ_RTOL = 1e-8


@functools.lru_cache(maxsize=None)
def _cvx_problem(shape):
    import cvxpy as cp

    X = cp.Variable(shape)
    s = cp.Parameter(shape, nonneg=True)
    sz = cp.Parameter(shape)
    lam = cp.Parameter(nonneg=True)
    prob = cp.Problem(cp.Minimize(lam * cp.normNuc(X) + cp.sum_squares(cp.multiply(s, X) - sz)))
    return prob, X, s, sz, lam


def cvx_prox(Z, step, D, lam):
    import cvxpy as cp

    prob, X, s, sz, p = _cvx_problem(Z.shape)
    sv = np.sqrt(D / (2 * step))
    s.value, sz.value, p.value = sv, sv * Z, lam
    prob.solve(solver=cp.CLARABEL, **CVX_TOL)
    assert prob.status == cp.OPTIMAL, prob.status
    return np.asarray(X.value)


def check_against_cvxpy(reg, Z, step, D):
    X = reg.prox_metric(Z, step, D)
    Y = cvx_prox(Z, step, np.ones(Z.shape) if D is None else D, reg.lam)
    fx, fy = reg.objective(X, Z, step, D), reg.objective(Y, Z, step, D)
    assert abs(fx - fy) <= OBJ_RTOL * (1 + abs(fy))
    dd = 1.0 if D is None else D
    assert 0.5 * np.sum(dd / step * (X - Y) ** 2) <= max(fy - fx, 0) + OBJ_RTOL * (1 + abs(fy))
    return X, Y


def test_registered_with_the_contract_attributes():
    assert _REGISTRY["nuclear"] is NuclearNorm
    assert NuclearNorm.family == "low rank" and NuclearNorm.source == "RAMDA App. E"
    assert NuclearNorm.convex and not NuclearNorm.separable and not NuclearNorm.grouped
    reg = NuclearNorm(lam=0.5, shape=(4, 3))
    assert reg.dim == 12 and reg.shape == (4, 3)
    ex = NuclearNorm.examples(np.random.default_rng(0))
    assert {r.shape for r in ex} >= {(4, 3), (5, 5)} and any(r.lam == 0 for r in ex)


@pytest.mark.parametrize("shape", [(4, 3), (5, 5), (3, 6)])
def test_svt_matches_cvxpy(rng, shape):
    reg = NuclearNorm(lam=0.8, shape=shape)
    for _ in range(3):
        Z = rng.standard_normal(shape) * 2
        X, _ = check_against_cvxpy(reg, Z, 0.7, None)
        # constant metric c is SVT with threshold step lam / c
        c = 10.0 ** rng.uniform(-1, 1)
        np.testing.assert_allclose(reg.prox_metric(Z, 0.7, np.full(shape, c)), svt(Z, 0.7 * 0.8 / c), rtol=1e-14,
                                   atol=1e-14 * np.abs(Z).max())
        # singular values are soft-thresholded, singular vectors kept
        s = np.linalg.svd(Z, compute_uv=False)
        np.testing.assert_allclose(np.linalg.svd(X, compute_uv=False), np.maximum(s - 0.56, 0), atol=1e-13)


@pytest.mark.parametrize("shape,spread", [((4, 3), 1.0), ((5, 5), 2.0), ((3, 6), 2.0)])
def test_metric_prox_matches_cvxpy(rng, shape, spread):
    reg = NuclearNorm(lam=1.0, shape=shape)
    for _ in range(3):
        Z = rng.standard_normal(shape) * 2
        D = 10.0 ** rng.uniform(-spread, spread, shape)
        step = float(10.0 ** rng.uniform(-0.5, 0.5))
        X, Y = check_against_cvxpy(reg, Z, step, D)
        # our certificate is far tighter than the oracle: ramda (7) measure at rounding level
        scale = np.linalg.norm(D * Z) / step + np.sqrt(min(shape))
        assert reg.subdiff_dist(X, Z, step, D) <= 1e-11 * scale


def test_admm_and_fista_agree_and_certify(rng):
    for shape in [(4, 3), (3, 5)]:
        Z = rng.standard_normal(shape) * 3
        D = 10.0 ** rng.uniform(-1.5, 1.5, shape)
        step, lam = 0.6, 1.3
        W = D / step
        scale = np.linalg.norm(W * Z) + lam * np.sqrt(min(shape))
        Xa, ia = nuclear_metric_prox(Z, step, D, lam, method="admm")
        Xf, i_f = nuclear_metric_prox(Z, step, D, lam, method="fista")
        for X, info in ((Xa, ia), (Xf, i_f)):
            assert info["converged"] and info["residual"] <= 1e-12 * scale
            true = nuclear_subdiff_dist(X, -(W * (X - Z)), lam)
            assert true <= info["residual"] * (1 + 1e-6) + 1e-14 * scale  # certificate is an upper bound
        # both within residual / mu of the solution (mu = min W): of each other by the sum
        assert np.linalg.norm(Xa - Xf) <= (ia["residual"] + i_f["residual"]) / W.min() * (1 + 1e-6) + 1e-13
    with pytest.raises(ValueError, match="method"):
        nuclear_metric_prox(Z, step, D, lam, method="bfgs")


def test_wide_metric_spread_converges(rng):
    """Metrics over 1e-6..1e6: proximal gradient crawls at the rate min d / max d,
    ADMM does not; the certificate still holds."""
    reg = NuclearNorm(lam=1.0, shape=(4, 3))
    for _ in range(5):
        Z = rng.standard_normal((4, 3)) * 5
        D = 10.0 ** rng.uniform(-6, 6, (4, 3))
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no "did not converge" warning
            X = reg.prox_metric(Z, 1.0, D)
        assert reg.subdiff_dist(X, Z, 1.0, D) <= 1e-11 * (np.linalg.norm(D * Z) + np.sqrt(3))


def test_svt_generalized_jacobian_matches_finite_differences(rng):
    """The Newton polish's Jacobian of SVT (divided differences on the singular
    values) against central differences, away from the kinks, wide and square."""
    for m, k in [(3, 5), (4, 4), (2, 6)]:
        G = rng.standard_normal((m, k))
        U, s, Vt = np.linalg.svd(G, full_matrices=True)
        tau = float(np.mean(s[:2]))  # between two singular values: some kept, some killed
        apply = _svt_jacobian(U, s, Vt, tau)
        h = 1e-6
        for _ in range(4):
            H = rng.standard_normal((m, k))
            fd = (svt(G + h * H, tau) - svt(G - h * H, tau)) / (2 * h)
            np.testing.assert_allclose(apply(H), fd, atol=1e-7)
        # symmetric positive semidefinite with eigenvalues in [0, 1] (a prox Jacobian)
        N = m * k
        J = apply(np.eye(N).reshape(N, m, k)).reshape(N, N)
        np.testing.assert_allclose(J, J.T, atol=1e-12)
        ev = np.linalg.eigvalsh(0.5 * (J + J.T))
        assert ev.min() >= -1e-12 and ev.max() <= 1 + 1e-12


def test_newton_polish_rescues_a_stalled_admm():
    """Metrics spanning 1e-6..3e5 (step 8e-3): ADMM alone is still far off after
    3000 iterations; ADMM + semismooth Newton polish certifies it in ~300."""
    Z = np.array([[-12.091330747046248, 13.931913265296837, -13.254953431997029],
                  [2.608892559099153, 1.3833640462642804, -10.774453196560767],
                  [9.09535995823137, -14.519669537452339, -7.008660901982853],
                  [-0.29432122847894776, -4.229878424341797, 4.797033717762316]])
    D = np.array([[3.3730165819586450e+03, 3.6606426112955501e+03, 4.6071011527207338e-06],
                  [9.3144956696499746e-05, 2.9844476727838308e+05, 2.2838172668737558e-03],
                  [2.2016069019014567e+03, 3.6675219584850069e+01, 2.9270651317865853e+04],
                  [8.6720559090975108e-06, 1.6131561863897514e+05, 3.2476115185466151e+04]])
    step, lam = 0.008081521322446663, 43319453.10772311
    with pytest.warns(RuntimeWarning, match="stopped after 3000"):
        _, ia = nuclear_metric_prox(Z, step, D, lam, method="admm", max_iter=3000)
    X, info = nuclear_metric_prox(Z, step, D, lam)
    assert not ia["converged"] and info["converged"] and info["newton"] >= 1 and info["iterations"] < 1000
    reg = NuclearNorm(lam=lam, shape=(4, 3))
    assert reg.subdiff_dist(X, Z, step, D) <= info["residual"] * (1 + 1e-6) <= 1e-12 * (
        np.linalg.norm(D * Z) / step + lam * np.sqrt(3))


def test_rank_decreases_with_lam(rng):
    Z = rng.standard_normal((6, 5))
    D = 10.0 ** rng.uniform(-1, 1, (6, 5))
    step = 0.5
    lam_zero = np.linalg.norm(D * Z, 2) / step  # X = 0 iff ||D o Z||_2 <= step lam
    ranks = []
    for lam in np.geomspace(1e-3, 0.999, 12) * lam_zero:
        reg = NuclearNorm(lam=float(lam), shape=(6, 5))
        ranks.append(int(reg.support(reg.prox_metric(Z, step, D)).sum()))
    assert ranks[0] == 5 and all(a >= b for a, b in zip(ranks, ranks[1:])) and ranks[-1] >= 1
    assert len(set(ranks)) >= 3
    reg = NuclearNorm(lam=float(lam_zero * 1.001), shape=(6, 5))
    assert not reg.support(reg.prox_metric(Z, step, D)).any()
    # identity metric: rank = number of singular values above step lam
    s = np.linalg.svd(Z, compute_uv=False)
    for lam in (0.1, 0.5, 1.0):
        reg = NuclearNorm(lam=lam, shape=(6, 5))
        assert reg.support(reg.prox(Z, step)).sum() == np.sum(s > step * lam)


def test_subdiff_dist_is_exact(rng):
    """Closed form (fixed part on the kept singular spaces + singular value
    clipping on the complement) against a CVXPY projection onto
    lam (U V^T + {W : U^T W = 0, W V = 0, ||W||_2 <= 1})."""
    import cvxpy as cp

    m, k, r = 5, 4, 2
    for lam in (0.0, 0.7, 3.0):
        A = rng.standard_normal((m, r)) @ rng.standard_normal((r, k))
        M = rng.standard_normal((m, k)) * 2
        U, s, Vt = np.linalg.svd(A)
        U1, V1 = U[:, :r], Vt[:r].T
        W = cp.Variable((m, k))
        cons = [U1.T @ W == 0, W @ V1 == 0, cp.sigma_max(W) <= 1]
        prob = cp.Problem(cp.Minimize(cp.norm(M - lam * (U1 @ V1.T) - lam * W, "fro")), cons)
        prob.solve(solver=cp.CLARABEL, **CVX_TOL)
        assert prob.status == cp.OPTIMAL
        assert nuclear_subdiff_dist(A, M, lam) == pytest.approx(prob.value, rel=1e-7, abs=1e-8)
    # at X = 0 the subdifferential is the spectral ball: distance = ||(sigma(M) - lam)_+||
    M = rng.standard_normal((4, 3))
    sm = np.linalg.svd(M, compute_uv=False)
    assert nuclear_subdiff_dist(np.zeros((4, 3)), M, 0.5) == pytest.approx(
        np.linalg.norm(np.maximum(sm - 0.5, 0)), rel=1e-13)


def test_at_threshold_is_the_zero_boundary(rng):
    reg = NuclearNorm(lam=0.9, shape=(4, 5))
    for D in (None, 10.0 ** rng.uniform(-1, 1, (4, 5))):
        Z = rng.standard_normal((4, 5))
        Zt = reg.at_threshold(Z, 0.7, D)
        assert np.all(reg.prox_metric(Zt * (1 - 1e-9), 0.7, D) == 0)
        assert reg.support(reg.prox_metric(Zt * (1 + 1e-6), 0.7, D)).sum() >= 1
    assert NuclearNorm(lam=0.0, shape=(2, 2)).at_threshold(np.ones(4), 1.0, None) is None


def test_shapes_dtypes_value_and_cvxpy_expression(rng):
    import cvxpy as cp

    reg = NuclearNorm(lam=0.6, shape=(3, 4))
    Z = rng.standard_normal((3, 4))
    D = 10.0 ** rng.uniform(-1, 1, (3, 4))
    Xm = reg.prox_metric(Z, 0.5, D)
    Xf = reg.prox_metric(Z.ravel(), 0.5, D.ravel())
    assert Xm.shape == (3, 4) and Xf.shape == (12,)
    np.testing.assert_array_equal(Xf, Xm.ravel())
    x32 = reg.prox_metric(Z.astype(np.float32), 0.5, D.astype(np.float32))
    assert x32.dtype == np.float32
    np.testing.assert_allclose(x32, reg.prox_metric(Z.astype(np.float32).astype(np.float64), 0.5,
                                                    D.astype(np.float32).astype(np.float64)),
                               rtol=0, atol=2 * np.finfo(np.float32).eps * np.abs(Z).max())
    assert reg.value(Z) == pytest.approx(0.6 * np.linalg.svd(Z, compute_uv=False).sum(), rel=1e-14)
    assert reg.value(Z.ravel()) == reg.value(Z)
    for var in (cp.Variable(12), cp.Variable((3, 4))):
        var.value = Z.ravel() if var.ndim == 1 else Z
        assert reg.cvxpy_expr(var).value == pytest.approx(reg.value(Z), rel=1e-9)
    assert reg.support(Xm).shape == (3,)
    zero = NuclearNorm(lam=0.0, shape=(3, 4))
    np.testing.assert_array_equal(zero.prox_metric(Z, 0.5, D), Z)


def test_ramda_pg_on_the_nuclear_norm(rng):
    """ramda.txt Algorithm 2 (one SVD per iteration) reaches condition (7); its
    reported residual bounds the exact distance; it agrees with ADMM."""
    reg = NuclearNorm(lam=0.8, shape=(4, 3))
    Z = rng.standard_normal((4, 3)) * 2
    D = 10.0 ** rng.uniform(-0.5, 0.5, (4, 3))
    X, info = prox_metric_pg(reg, Z, 0.5, D, eps=1e-9, max_iter=100_000)
    assert info.converged and info.residual <= 1e-9 and X.shape == (4, 3)
    assert reg.subdiff_dist(X, Z, 0.5, D) <= info.residual * (1 + 1e-6) + 1e-13
    np.testing.assert_allclose(X, reg.prox_metric(Z, 0.5, D), atol=1e-9 * 0.5 / D.min())
    X5, info5 = prox_metric_pg(reg, Z, 0.5, D, eps=1e-9, max_iter=2)
    assert not info5.converged and reg.subdiff_dist(X5, Z, 0.5, D) <= info5.residual * (1 + 1e-9)


def test_bad_input_names_the_parameter():
    with pytest.raises(ValueError, match="lam"):
        NuclearNorm(lam=-1.0, shape=(2, 3))
    with pytest.raises(ValueError, match="shape"):
        NuclearNorm(lam=1.0, shape=(2, 3, 4))
    with pytest.raises(ValueError, match="shape"):
        NuclearNorm(lam=1.0, shape=(0, 3))
    reg = NuclearNorm(lam=1.0, shape=(2, 3))
    with pytest.raises(ValueError, match=r"\bz\b"):
        reg.prox(np.ones((3, 2)), 1.0)
    with pytest.raises(ValueError, match=r"\bz\b"):
        reg.prox(np.ones(7), 1.0)
    with pytest.raises(ValueError, match=r"\bz\b"):
        reg.prox(np.full((2, 3), np.nan), 1.0)
    with pytest.raises(ValueError, match=r"\bd\b"):
        reg.prox_metric(np.ones((2, 3)), 1.0, np.ones(6))  # d must have z's shape
    with pytest.raises(ValueError, match=r"\bd\b"):
        reg.prox_metric(np.ones((2, 3)), 1.0, -np.ones((2, 3)))


@st.composite
def nuclear_cases(draw):
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    shape = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    Z = rng.standard_normal(shape) * 10.0 ** draw(st.floats(-3, 3))
    if draw(st.booleans()):
        Z[rng.random(shape) < 0.4] = 0.0
    D = 10.0 ** rng.uniform(-1, 1, shape) * 10.0 ** draw(st.floats(-3, 3))
    step = 10.0 ** draw(st.floats(-2, 2))
    sm = np.linalg.norm(D * Z, 2) / step
    lam = float(sm * 10.0 ** draw(st.floats(-2, 0.3))) if sm > 0 else 1.0
    return Z, step, D, lam


@settings(max_examples=300, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(nuclear_cases())
def test_property_metric_prox(case):
    """Optimality at rounding level (exact distance), no worse than 0 or Z, the
    zero test ``||D o Z||_2 <= step lam``, and the constant-metric reduction."""
    Z, step, D, lam = case
    reg = NuclearNorm(lam=lam, shape=Z.shape)
    X = reg.prox_metric(Z, step, D)
    scale = np.linalg.norm(D * Z) / step + lam * np.sqrt(min(Z.shape))
    assert reg.subdiff_dist(X, Z, step, D) <= 1e-11 * scale
    fx = reg.objective(X, Z, step, D)
    assert fx <= reg.objective(np.zeros_like(Z), Z, step, D) + 1e-13 * abs(fx)
    assert fx <= reg.objective(Z, Z, step, D) + 1e-13 * abs(fx)
    ratio = np.linalg.norm(D * Z, 2) / (step * lam)
    if abs(ratio - 1) > 1e-9:
        assert np.all(X == 0) == (ratio < 1)
    c = float(D.flat[0])
    np.testing.assert_allclose(reg.prox_metric(Z, step, np.full(Z.shape, c)), reg.prox(Z, step / c),
                               rtol=1e-14, atol=1e-15 * np.abs(Z).max(initial=0.0))
