"""RAMDA, MADGRAD, RMDA and ProxSSI: reductions, exactness, solvers, printed formulas.

Reductions (float64, 200 steps):

* ``RAMDA(lr=a + e, c=1 - m, eps=e)`` with ``psi = 0`` (``regularizer=None``, or
  group lasso / l1 with ``lam = 0``) equals ``madgrad.MADGRAD(lr=a, momentum=m,
  eps=e)``: the package uses ``lambda_k = (lr + eps) sqrt(k + 1)`` (it adds eps
  to lr), ``rms = cbrt(sum) + eps`` and ``p <- (1 - ck) p + ck z`` with
  ``ck = 1 - momentum``; RAMDA's ``s_t = lr sqrt(t)``, ``P_t = cbrt(U_t) + eps``
  and (5) with ``c``. ``proxlab`` ``MADGRAD`` uses the same mapping.
* ``RMDA`` with ``lam = 0`` equals a numpy transcription of MDA.
* ``ProxSSI`` with ``psi = 0`` equals a numpy transcription of HF AdamW.

Tolerance of the reductions: ``1e-12 * max(1, max_t |x_t|)`` per coordinate.
The two sides evaluate the same formulas in a different order (numba/numpy
``cbrt`` vs torch ``pow(1/3)``: <= 2 ulp; ``a + b*c`` vs fused forms); the
gradient streams are fixed, so a rounding difference does not feed back, and
dual averaging recomputes ``z_t`` from sums, so after T steps the difference is
at most ~T * few ulp ~ 1e-13 relative (measured: <= 2e-15). The feedback test
(gradient at the current iterate) runs only where the trajectory is stable
(checked inside the test: rounding-size perturbations do not grow).
"""

import math

import numpy as np
import pytest

from proxlab import regularizers, solvers
from proxlab.groups import Groups
from proxlab.solvers.madgrad import MADGRAD
from proxlab.solvers.proxssi import ProxSSI
from proxlab.solvers.ramda import RAMDA, solve_subproblem
from proxlab.solvers.rmda import RMDA
from proxlab.solvers.subproblem import group_l2_prox_exact, group_l2_prox_pg
from proxlab.validate import validate_algorithm

REL = 1e-12  # reductions, see the module docstring


def _stream(rng, n, T, dead_frac=0.4):
    """Gradients with per-coordinate scales 1e-2..10; some coordinates exactly 0
    for the first 3 steps (metrics start at eps there)."""
    G = rng.standard_normal((T, n)) * 10.0 ** rng.uniform(-2, 1, n)
    G[:3, rng.random(n) < dead_frac] = 0.0
    G[:3, 0] = 0.0  # at least one such coordinate
    return G


def _run(alg, x0, G):
    s = alg.init(x0)
    return np.array([alg.step(s, g).copy() for g in G]), s


def _madgrad_ref(x0, G, lr, momentum, eps):
    torch = pytest.importorskip("torch")
    madgrad = pytest.importorskip("madgrad")
    p = torch.nn.Parameter(torch.tensor(x0, dtype=torch.float64))
    opt = madgrad.MADGRAD([p], lr=lr, momentum=momentum, eps=eps)
    out = []
    for g in G:
        p.grad = torch.tensor(g, dtype=torch.float64)
        opt.step()
        out.append(p.detach().numpy().copy())
    return np.array(out)


def _assert_close(ours, ref):
    scale = np.maximum(1.0, np.abs(ref).max(axis=0))
    err = np.max(np.abs(ours - ref) / scale)
    assert np.isfinite(ref).all()
    assert err <= REL, err
    return err


# ======================================================= MADGRAD reductions
GRID = [(lr, m, e) for lr in (1e-3, 1e-2, 0.3) for m in (0.0, 0.5, 0.9, 0.99) for e in (1e-6, 1e-3)]


@pytest.mark.parametrize("lr,momentum,eps", GRID)
def test_ramda_without_regularizer_is_madgrad(lr, momentum, eps, rng):
    """RAMDA(lr = lr_M + eps, c = 1 - momentum, eps) == madgrad.MADGRAD(lr_M, momentum, eps),
    for regularizer=None and for lam = 0 (group lasso with mixed sizes, l1)."""
    n, T = 9, 200
    x0 = rng.standard_normal(n)
    G = _stream(rng, n, T)
    ref = _madgrad_ref(x0, G, lr, momentum, eps)
    kw = dict(lr=lr + eps, c=1.0 - momentum, eps=eps)
    groups = [np.array([0, 3, 4]), np.array([1]), np.array([2, 5, 6, 7, 8])]
    for reg in (None, regularizers.get("group_l2", lam=0.0, n=n, groups=groups), regularizers.get("l1", lam=0.0)):
        ours, _ = _run(RAMDA(reg, **kw), x0, G)
        _assert_close(ours, ref)
    ours, _ = _run(MADGRAD(**kw), x0, G)
    _assert_close(ours, ref)


@pytest.mark.parametrize("momentum", [0.5, 0.9])
def test_madgrad_eps_zero_matches_package(momentum, rng):
    """eps = 0: coordinates whose gradient sum of squares is still 0 stay at x0 (the
    package's rms = 0 -> inf convention), in ours and in the package."""
    n, T = 6, 200
    x0 = rng.standard_normal(n)
    G = _stream(rng, n, T, dead_frac=0.5)
    ref = _madgrad_ref(x0, G, 0.01, momentum, 0.0)
    ours, _ = _run(MADGRAD(lr=0.01, c=1.0 - momentum, eps=0.0), x0, G)
    _assert_close(ours, ref)
    assert ours[0, 0] == (1 - (1 - momentum)) * x0[0] + (1 - momentum) * x0[0]  # dead at t=1: z = x0


def test_madgrad_package_is_nan_with_momentum0_eps0_and_ours_is_not(rng):
    """A defect of the madgrad package (1.3): momentum = 0 reconstructs
    ``x0 = p + s / rms`` with ``rms = cbrt(0) + 0 = 0`` at the first step, so every
    coordinate becomes 0/0 = NaN (the inf guard is applied only to the second rms).
    Ours stores x0 and follows the mathematical rule; checked against a transcription."""
    n = 4
    x0 = rng.standard_normal(n)
    G = rng.standard_normal((5, n))
    ref = _madgrad_ref(x0, G, 0.01, 0.0, 0.0)
    assert np.isnan(ref).all()
    ours, _ = _run(MADGRAD(lr=0.01, c=1.0, eps=0.0), x0, G)
    S = np.cumsum(0.01 * np.sqrt(np.arange(1, 6))[:, None] * G, axis=0)
    N = np.cumsum(0.01 * np.sqrt(np.arange(1, 6))[:, None] * G * G, axis=0)
    np.testing.assert_allclose(ours, x0 - S / np.cbrt(N), rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("lr,momentum,eps", [(1e-2, 0.9, 1e-6), (0.01, 0.0, 1e-6), (0.02, 0.99, 1e-6)])
def test_ramda_equals_madgrad_with_feedback_gradients(lr, momentum, eps, rng):
    """Gradient of a least-squares loss at each optimizer's own iterate (the
    differences now feed back): still 1e-12 over 200 steps.

    Only where the trajectory itself is stable, which the test checks first: a
    1e-15 relative perturbation of x0 must stay below 1e-13 after 200 steps. MADGRAD's
    effective step grows like sqrt(t) (lambda_t / rms_t ~ lr^(2/3) sqrt(t)), so with
    c = 1 and lr = 0.05 this quadratic becomes chaotic after ~120 steps (1e-15 grows
    to 1e-3 by t = 200, measured); no two implementations agree there, whatever the
    mapping."""
    torch = pytest.importorskip("torch")
    madgrad = pytest.importorskip("madgrad")
    n = 8
    A = rng.standard_normal((20, n)) / math.sqrt(20)
    b = rng.standard_normal(20)
    x0 = rng.standard_normal(n)

    def self_run(start):
        a = RAMDA(None, lr=lr + eps, c=1 - momentum, eps=eps)
        st = a.init(start)
        for _ in range(200):
            a.step(st, A.T @ (A @ st["x"] - b))
        return st["x"]

    assert np.max(np.abs(self_run(x0) - self_run(x0 * (1 + 1e-15)))) < 1e-13  # stable regime
    p = torch.nn.Parameter(torch.tensor(x0, dtype=torch.float64))
    opt = madgrad.MADGRAD([p], lr=lr, momentum=momentum, eps=eps)
    alg = RAMDA(None, lr=lr + eps, c=1 - momentum, eps=eps)
    s = alg.init(x0)
    ref, ours = [], []
    for _ in range(200):
        xp = p.detach().numpy()
        p.grad = torch.tensor(A.T @ (A @ xp - b), dtype=torch.float64)
        opt.step()
        ref.append(p.detach().numpy().copy())
        ours.append(alg.step(s, A.T @ (A @ s["x"] - b)).copy())
    _assert_close(np.array(ours), np.array(ref))


def test_madgrad_rejects_a_regularizer_and_ramda_needs_positive_eps():
    with pytest.raises(ValueError, match="RAMDA"):
        MADGRAD(regularizer=("l1", {"lam": 0.1}))
    with pytest.raises(ValueError, match="eps"):
        RAMDA(eps=0.0)
    for bad in (0.0, -0.1, 1.5):
        with pytest.raises(ValueError, match="c "):
            RAMDA(c=bad)
        with pytest.raises(ValueError, match="c "):
            RMDA(c=bad)
    with pytest.raises(ValueError, match="subproblem_solver"):
        RAMDA(subproblem_solver="bisection")
    with pytest.raises(ValueError, match="subproblem_solver"):
        ProxSSI(subproblem_solver="pg")
    assert RAMDA(c=1.0).hyper["c"] == 1.0  # no averaging is allowed


# ============================================================ RMDA / MDA
def _mda_transcription(x0, G, lr, c):
    """Momentumized dual averaging (Jelassi & Defazio 2020) with beta_k = sqrt(k),
    lambda_k = lr sqrt(k), written from sums: z_t = x0 - sum_k lambda_k g_k / sqrt(t)."""
    T = G.shape[0]
    k = np.arange(1, T + 1)
    S = np.cumsum((lr * np.sqrt(k))[:, None] * G, axis=0)
    Z = x0[None, :] - S / np.sqrt(k)[:, None]
    X = np.empty_like(Z)
    x = x0.copy()
    for t in range(T):
        x = (1 - c) * x + c * Z[t]
        X[t] = x
    return X


@pytest.mark.parametrize("lr,c", [(0.1, 0.01), (0.01, 0.5), (1.0, 1.0)])
def test_rmda_without_regularizer_is_mda(lr, c, rng):
    n, T = 7, 200
    x0 = rng.standard_normal(n)
    G = _stream(rng, n, T)
    ref = _mda_transcription(x0, G, lr, c)
    for reg in (None, regularizers.get("l1", lam=0.0), regularizers.get("group_l2", lam=0.0, n=n, groups=[
            np.array([0, 1, 2]), np.array([3]), np.array([4, 5, 6])])):
        ours, _ = _run(RMDA(reg, lr=lr, c=c), x0, G)
        _assert_close(ours, ref)


def _cvxpy_solve(objective_of, n):
    cp = pytest.importorskip("cvxpy")
    from proxlab.oracles.cvxpy_oracle import TOL

    W = cp.Variable(n)
    prob = cp.Problem(cp.Minimize(objective_of(W, cp)))
    prob.solve(solver=cp.CLARABEL, **TOL)
    assert prob.status in ("optimal", "optimal_inaccurate"), prob.status
    return W.value


def _is_argmin_ok(Q, x, y, mu, rtol=1e-9):
    try:
        _assert_is_argmin(Q, x, y, mu, rtol)
    except AssertionError:
        return False
    return True


def _assert_is_argmin(Q, x, y, mu, rtol=1e-9):
    """``x`` is the minimizer of the mu-strongly convex ``Q`` given the oracle's ``y``:
    ``Q(x) <= Q(y) + tol`` and ``mu/2 ||x - y||^2 <= Q(y) - Q(x) + tol`` (for the true
    minimizer x* every y has Q(y) - Q(x*) >= mu/2 ||y - x*||^2, however inaccurate y
    is), tol = rtol (1 + |Q(y)|): Clarabel at 1e-12 reaches ~1e-10 relative."""
    tol = rtol * (1 + abs(Q(y)))
    assert Q(x) <= Q(y) + tol
    assert 0.5 * mu * np.sum((x - y) ** 2) <= Q(y) - Q(x) + tol


def _group_value(reg, W):
    return reg.params["lam"] * float(np.dot(reg.groups.weights, reg.groups.norms(W)))


def test_rmda_closed_form_solves_its_subproblem(rng):
    """RMDA's prox_{(alpha/sqrt t) psi}(W0 - V/sqrt t) is the argmin of
    alpha_t psi(W) + <V_t, W> + (sqrt t / 2)||W - W0||^2 (CVXPY, Clarabel 1e-12):
    acceptance of :func:`_assert_is_argmin` (strong convexity, modulus sqrt t)."""
    n = 10
    reg = regularizers.get("group_l2", lam=0.3, n=n, groups=[np.arange(0, 4), np.array([4]), np.arange(5, 10)])
    alg = RMDA(reg, lr=0.1, c=0.3)
    x0 = rng.standard_normal(n)
    x0[4] = 0.01  # a group that the prox zeroes
    s = alg.init(x0)
    for g in _stream(rng, n, 7):
        g[4] *= 0.01
        alg.step(s, g)
    t, alpha, V, W0 = s.t, s.scalar("alpha"), s["V"].copy(), s["W0"].copy()

    def Q(W, cp=None):
        quad = 0.5 * math.sqrt(t)
        if cp is None:
            return alpha * _group_value(reg, W) + V @ W + quad * np.sum((W - W0) ** 2)
        return alpha * reg.cvxpy_expr(W) + V @ W + quad * cp.sum_squares(W - W0)

    Wc = _cvxpy_solve(Q, n)
    What = s["W_hat"]
    _assert_is_argmin(Q, What, Wc, math.sqrt(t))
    assert not _is_argmin_ok(Q, What + 1e-3, Wc, math.sqrt(t))  # the check can fail
    assert (reg.groups.norms(What) == 0).any()  # the case exercises a zero group


# ===================================================== RAMDA exactness
def _ramda_state(alg, rng, n, T, x0=None, G=None):
    s = alg.init(rng.standard_normal(n) if x0 is None else x0)
    for g in (_stream(rng, n, T) if G is None else G):
        alg.step(s, g)
    return s


def _printed_Q(reg, alpha, V, P, W0):
    """ramda.txt (4) as printed: Q_t(W) = alpha_t psi(W) + <V_t, W> + 1/2 <W - W0, P_t (W - W0)>."""
    def Q(W, cp=None):
        if cp is None:
            return alpha * reg.value(W) + V @ W + 0.5 * np.sum(P * (W - W0) ** 2)
        return alpha * reg.cvxpy_expr(W) + V @ W + 0.5 * cp.sum(cp.multiply(P, cp.square(W - W0)))
    return Q


def test_ramda_prox_point_solves_printed_subproblem_4(rng):
    """The prox point W_hat_t equals the argmin of (4) exactly as printed (CVXPY on
    alpha psi + <V, W> + 1/2 <W - W0, P (W - W0)>, not on our Subproblem), by the
    acceptance of :func:`_assert_is_argmin` (modulus min P_t)."""
    n = 12
    groups = [np.arange(0, 5), np.array([5]), np.array([6, 8, 10]), np.array([7, 9])]  # 11 in no group
    reg = regularizers.get("group_l2", lam=0.15, n=n, groups=groups)
    alg = RAMDA(reg, lr=0.05, c=0.2)
    for T in (1, 3, 25):
        s = _ramda_state(alg, rng, n, T - 1)
        g = _stream(rng, n, 1)[0]
        sub = alg.subproblem(s, g)
        alg.step(s, g)
        alpha, V, U = s.scalar("alpha"), s["V"], s["U"]
        P = np.cbrt(U) + alg.hyper["eps"]
        # the Subproblem is the algebra of (4): same step, metric and center
        assert sub.step == pytest.approx(alpha, rel=1e-15)
        np.testing.assert_allclose(sub.d, P, rtol=1e-15)
        np.testing.assert_allclose(sub.center, s["W0"] - V / P, rtol=1e-14, atol=1e-14)
        Q = _printed_Q(reg, alpha, V, P, s["W0"])
        Wc = _cvxpy_solve(Q, n)
        What = s["W_hat"]
        _assert_is_argmin(Q, What, Wc, P.min())
        assert not _is_argmin_ok(Q, What + 1e-3, Wc, P.min())


# ------------------------------------------------------------- groupings
def _conv_groupings(O=3, I=4, kh=2, kw=2):
    """Flattened (O, I, kh, kw) conv weight: filter-wise (dim (1,2,3): one group per
    output filter, contiguous) and channel-wise (dim (0,2,3): one group per input
    channel, strided) groupings, plus Linear input-wise columns of an (O, I*kh*kw) matrix."""
    ids = np.arange(O * I * kh * kw).reshape(O, I, kh, kw)
    filt = [ids[o].ravel() for o in range(O)]
    chan = [ids[:, i].ravel() for i in range(I)]
    lin = ids.reshape(O, -1)
    cols = [lin[:, j] for j in range(lin.shape[1])]
    return ids.size, {"filter-wise": filt, "channel-wise": chan, "linear-input-wise": cols}


@pytest.mark.parametrize("grouping", ["filter-wise", "channel-wise", "linear-input-wise"])
def test_any_grouping_is_exact_and_pg_agrees(grouping, rng):
    """Filter-wise grouping crashes the public RAMDA/RMDA (reference-implementations.md
    Sec 1 bug (a)); here any partition works: the exact step passes the oracle check,
    and PG (Algorithm 2 to condition (7)) gets the same zero groups."""
    n, layouts = _conv_groupings()
    reg = regularizers.get("group_l2", lam=0.08, n=n, groups=layouts[grouping])
    alg = RAMDA(reg, lr=0.05, c=0.5)
    row = validate_algorithm(alg, rng, 6)
    assert row.oracle_failures == 0 and row.failures == 0, row
    ex = RAMDA(reg, lr=0.05, c=0.5, eps=1e-2)
    pg = RAMDA(reg, lr=0.05, c=0.5, eps=1e-2, subproblem_solver="pg", pg_eps=1e-9, pg_max_iter=20000)
    x0 = rng.standard_normal(n)
    G = rng.standard_normal((15, n)) * 0.5 + 0.2
    _, s1 = _run(ex, x0, G)
    _, s2 = _run(pg, x0, G)
    assert pg.last_solver_info.stop in ("condition (7)", "screened")
    z1 = reg.groups.norms(s1["W_hat"]) == 0
    np.testing.assert_array_equal(z1, reg.groups.norms(s2["W_hat"]) == 0)


# ------------------------------------------------------ PG and condition (7)
def _well_conditioned(rng, n, T):
    """Gradients of one scale with an offset: P_t spread ~2x, no dead coordinates."""
    return rng.standard_normal((T, n)) * np.exp(rng.uniform(-0.3, 0.3, n)) + 0.3


def _Qt(reg, s_alpha, V, P, W0, W):
    return s_alpha * reg.value(W) + V @ W + 0.5 * np.sum(P * (W - W0) ** 2)


@pytest.mark.parametrize("T", [1, 4, 30])
def test_pg_reaches_condition_7_and_certifies(T, rng):
    """RAMDA's "pg" solver stops by condition (7) *on Q_t as printed*:
    the certified element's norm ``r`` (recorded as ``sub_residual``) is <= eps_t,
    ``Q_t(W_hat) <= Q_t(W_{t-1})``; ``r`` bounds the true distance
    ``dist(0, dQ_t(W_hat)) = alpha_t dist(0, d(Subproblem objective))`` from above;
    the point is within ``r / min P_t`` of the exact prox point (strong convexity of
    Q_t with modulus min P_t), and it has the exact solver's zero groups."""
    n = 12
    groups = [np.arange(0, 5), np.array([5]), np.array([6, 8, 10]), np.array([7, 9, 11])]
    reg = regularizers.get("group_l2", lam=0.3, n=n, groups=groups)
    pg = RAMDA(reg, lr=0.1, eps=1e-3, c=0.5, subproblem_solver="pg", pg_eps=1e-7, pg_eps_decay=0.75,
               pg_max_iter=20000)
    x0 = rng.standard_normal(n)
    G = _well_conditioned(rng, n, T)
    s = pg.init(x0)
    for g in G[:-1]:
        pg.step(s, g)
    before = s.copy()
    sub = pg.subproblem(s, G[-1])
    pg.step(s, G[-1])
    info = pg.last_solver_info
    eps_t = pg.inexact_eps(T)
    assert eps_t == pytest.approx(1e-7 * T ** -0.75)
    assert info.stop == "condition (7)" and info.converged
    r = s.scalar("sub_residual")
    assert r == info.residual and 0 <= r <= eps_t
    assert s.scalar("sub_iterations") == info.iterations >= 1
    alpha, P = sub.step, sub.d
    V, W0 = s["V"], s["W0"]
    W = s["W_hat"]
    assert _Qt(reg, alpha, V, P, W0, W) <= _Qt(reg, alpha, V, P, W0, before["x"]) + 1e-12 * abs(
        _Qt(reg, alpha, V, P, W0, before["x"]))
    true_dist = alpha * reg.subdiff_dist(W, sub.center, sub.step, sub.d)
    slack = 1e-14 * (1 + np.abs(P * (W - sub.center)).max())  # cancellation of O(1) terms
    assert true_dist <= r + slack
    exact = sub.solve()
    assert np.linalg.norm(W - exact) <= r / P.min() * (1 + 1e-6) + 1e-13
    np.testing.assert_array_equal(reg.groups.norms(W) == 0, reg.groups.norms(exact) == 0)


def test_screening_never_zeroes_a_group_the_exact_solution_keeps(rng):
    """The screening test ||d_g z_g|| <= step lam w_g (Deleu & Bengio Thm 1) on 2000
    random subproblems, a third of them with groups placed on the threshold
    (within 1e-12 relative): every screened group is zero in the exact solution,
    and the public code's unweighted threshold (lam without sqrt|g|) screens a subset."""
    n = 15
    G = Groups(n, [np.arange(0, 6), np.array([6]), np.arange(7, 10), np.arange(10, 15)])
    lam = 0.4
    n_screened = n_kept = 0
    for k in range(2000):
        z = rng.standard_normal(n) * 10.0 ** rng.uniform(-1, 1)
        d = 10.0 ** rng.uniform(-2, 2, n)
        step = 10.0 ** rng.uniform(-1, 1)
        if k % 3 == 0:  # put every group on its threshold (up to rounding)
            for g, idx in enumerate(G.as_list()):
                z[idx] *= step * lam * G.weights[g] / np.linalg.norm(d[idx] * z[idx]) * (1 + rng.uniform(-1e-12, 1e-12))
        x, info = group_l2_prox_pg(z, step, d, G, lam, eps=1e-8, max_iter=5)
        screened = G.norms(d * z) <= step * lam * G.weights
        exact, _ = group_l2_prox_exact(z, step, d, G, lam)
        ex_zero = G.norms(exact) == 0
        assert info.n_screened == screened.sum()
        assert not np.any(screened & ~ex_zero)
        assert np.all(G.norms(x)[screened] == 0)
        public = G.norms(d * z) <= step * lam  # the public package's test (no sqrt|g|)
        assert not np.any(public & ~screened)
        n_screened += screened.sum()
        n_kept += (~ex_zero).sum()
    assert n_screened > 500 and n_kept > 500  # both sides exercised


@pytest.mark.parametrize("solver", ["exact", "pg", "newton"])
def test_all_groups_screened_does_not_crash(solver, rng):
    """lam so large that every group is screened (the public package raises
    UnboundLocalError there, reference-implementations.md bug (c)): the prox point
    is zero on every group, the report says so, and W_t = (1-c) W_{t-1} is not
    zero (takeaway 4)."""
    n = 10
    reg = regularizers.get("group_l2", lam=1e6, n=n, groups=[np.arange(0, 4), np.arange(4, 10)])
    alg = RAMDA(reg, lr=0.1, c=0.1, subproblem_solver=solver)
    x0 = rng.standard_normal(n) + 3.0
    s = alg.init(x0)
    alg.step(s, rng.standard_normal(n))
    assert np.all(s["W_hat"] == 0.0)
    np.testing.assert_allclose(s["x"], 0.9 * x0, rtol=1e-15)
    assert s.scalar("sub_screened") == 2
    if solver == "pg":
        assert alg.last_solver_info.stop == "screened"


def test_restart_invariance(rng):
    """App. A.1 restart: restart(state, lr_factor, eps_factor) followed by steps equals a
    fresh RAMDA(lr * lr_factor, eps * eps_factor) started at the current W, bit for bit
    (same float operations on the same inputs)."""
    n = 12
    reg = regularizers.get("group_l2", lam=0.05, n=n, groups=[np.arange(0, 5), np.array([5]), np.arange(6, 12)])
    alg = RAMDA(reg, lr=0.05, c=0.3, eps=1e-4)
    s = _ramda_state(alg, rng, n, 20)
    W = s["x"].copy()
    alg.restart(s, lr_factor=0.1, eps_factor=0.5)
    assert alg.hyper["lr"] == 0.05 * 0.1 and alg.hyper["eps"] == 1e-4 * 0.5
    assert s.t == 0 and s.scalar("alpha") == 0 and not s["V"].any() and not s["U"].any()
    np.testing.assert_array_equal(s["W0"], W)
    fresh = RAMDA(reg, lr=0.05 * 0.1, c=0.3, eps=1e-4 * 0.5)
    f = fresh.init(W)
    for g in _stream(rng, n, 10):
        np.testing.assert_array_equal(alg.step(s, g), fresh.step(f, g))
        np.testing.assert_array_equal(s["W_hat"], f["W_hat"])
    np.testing.assert_array_equal(s["S"], f["S"])
    assert s.t == f.t == 10
    # without the restart the trajectory differs (the test can fail)
    other = RAMDA(reg, lr=0.05, c=0.3, eps=1e-4)
    o = _ramda_state(other, np.random.default_rng(0), n, 3)
    assert not np.array_equal(o["W0"], o["x"])
    # RMDA's restart, likewise
    r = RMDA(reg, lr=0.1, c=0.1)
    rs = _ramda_state(r, rng, n, 8)
    W = rs["x"].copy()
    r.restart(rs, lr_factor=0.1, c_factor=10.0)
    assert r.hyper["c"] == 1.0 and r.hyper["lr"] == pytest.approx(0.01)
    fr = RMDA(reg, lr=r.hyper["lr"], c=1.0)
    fs = fr.init(W)
    for g in _stream(rng, n, 5):
        np.testing.assert_array_equal(r.step(rs, g), fr.step(fs, g))
    with pytest.raises(ValueError, match="lr_factor"):
        alg.restart(s, lr_factor=0.0)


def test_prox_point_is_sparse_but_the_averaged_iterate_is_not(rng):
    """Takeaway 4: with c < 1 the averaged W_t has no exact zero even where the
    prox point W_hat_t has zero groups (and with c = 1 they coincide)."""
    n = 12
    reg = regularizers.get("group_l2", lam=0.5, n=n, groups=[np.arange(0, 4), np.arange(4, 8), np.arange(8, 12)])
    G = _stream(rng, n, 40) * 0.1
    G[:, 4:8] *= 0.01  # a weak group: zero at the prox point
    x0 = rng.standard_normal(n) + 2.0
    for c in (0.1, 0.01):
        _, s = _run(RAMDA(reg, lr=0.05, c=c), x0, G)
        zero = reg.groups.norms(s["W_hat"]) == 0
        assert zero.any()
        assert np.all(s["x"] != 0.0)
    _, s = _run(RAMDA(reg, lr=0.05, c=1.0), x0, G)
    np.testing.assert_array_equal(s["x"], s["W_hat"])
    assert (reg.groups.norms(s["x"]) == 0).any()


def test_pg_path_for_a_nonconvex_regularizer_reaches_condition_7(rng):
    """Algorithm 2 with a nonconvex psi (l_1/2; theta halved): stops by (7) and its
    point is a stationary point of Q_t within the certified residual (the certificate
    bounds alpha_t dist(0, d(Subproblem objective)), the limiting subdifferential)."""
    n = 8
    reg = regularizers.get("l_half", lam=0.05)
    alg = RAMDA(reg, lr=0.1, eps=1e-2, subproblem_solver="pg", pg_eps=1e-8, pg_max_iter=20000)
    s = alg.init(rng.standard_normal(n))
    for g in _well_conditioned(rng, n, 6):
        sub = alg.subproblem(s, g)
        alg.step(s, g)
        info = alg.last_solver_info
        assert info.stop == "condition (7)"
        # where W_hat has no zero the subgradient is unique and both sides are equal up
        # to the cancellation of O(|d (x - z)/step|) terms: absolute slack 1e-14 of those
        slack = 1e-14 * (1 + np.abs(sub.d * (s["W_hat"] - sub.center) / sub.step).max())
        true = reg.subdiff_dist(s["W_hat"], sub.center, sub.step, sub.d)
        assert sub.step * true <= info.residual + sub.step * slack


# ================================================ printed formulas (errata)
def _algorithm2(psi_prox, Z0, W0, V, P, theta, iters, theta_in_prox=True):
    """ramda.txt Algorithm 2: Z_j = prox(Z_{j-1} - theta (V + P (Z_{j-1} - W0))).
    ``theta_in_prox``: prox_{theta psi} (standard PG); False: prox_psi as printed."""
    Z = Z0.copy()
    for _ in range(iters):
        Y = Z - theta * (V + P * (Z - W0))
        Z = psi_prox(Y, theta if theta_in_prox else 1.0)
    return Z


def _ramda_case(rng, n=10, T=12, lam=0.2, eps=1e-3):
    groups = [np.arange(0, 3), np.arange(3, 7), np.arange(7, 10)]
    reg = regularizers.get("group_l2", lam=lam, n=n, groups=groups)
    alg = RAMDA(reg, lr=0.1, c=0.5, eps=eps)
    s = alg.init(rng.standard_normal(n))
    G = _well_conditioned(rng, n, T + 1)
    for g in G[:-1]:
        alg.step(s, g)
    sub = alg.subproblem(s, G[-1])
    prev = s["x"].copy()
    alg.step(s, G[-1])
    P = np.cbrt(s["U"]) + eps
    return reg, alg, s, sub, prev, s.scalar("alpha"), s["V"].copy(), P, s["W0"].copy()


def test_algorithm2_as_printed_needs_theta_in_the_prox(rng):
    """ramda.txt Algorithm 2 prints ``Z_j <- prox_psi(Z_{j-1} - theta (V + P (Z_{j-1} - W0)))``,
    called by Algorithm 1 as PG(W_{t-1}, W0, V_t/alpha_t, P_t/alpha_t, alpha_t theta_t, ...)
    with theta_t = 1/max diag P_t. Run to convergence (3000 iterations):

    * with prox_{theta psi} (our reading) it converges to the exact argmin of (4)
      (1e-10), and theta = alpha_t theta_t = 1/L for the scaled problem gives the
      sufficient decrease (10) *with the square* at every iteration;
    * with prox_psi literally (unit step) its fixed point minimizes
      psi + theta (<V,W> + ...) instead, and misses the argmin (error > 1e-2 here,
      where theta = alpha_t/max P_t is far from 1).
    """
    reg, alg, s, sub, prev, alpha, V, P, W0 = _ramda_case(rng)
    exact = s["W_hat"]
    Vs, Ps = V / alpha, P / alpha
    theta = alpha * (1.0 / P.max())
    assert abs(theta - 1.0) > 0.5
    prox = reg.prox
    ours = _algorithm2(prox, prev, W0, Vs, Ps, theta, 3000)
    np.testing.assert_allclose(ours, exact, atol=1e-10)
    printed = _algorithm2(prox, prev, W0, Vs, Ps, theta, 3000, theta_in_prox=False)
    assert np.max(np.abs(printed - exact)) > 1e-2
    # sufficient decrease (10) of Qbar = Q_t / alpha_t with L = max P / alpha_t
    Qbar = lambda W: _Qt(reg, alpha, V, P, W0, W) / alpha  # noqa: E731
    L = P.max() / alpha
    Z = prev.copy()
    squared_ok = unsquared_ok = True
    for _ in range(60):
        Zn = _algorithm2(prox, Z, W0, Vs, Ps, theta, 1)
        dec = Qbar(Z) - Qbar(Zn)
        step = np.linalg.norm(Zn - Z)
        squared_ok &= L / 2 * step ** 2 <= dec + 1e-13 * (1 + abs(Qbar(Z)))
        unsquared_ok &= L / 2 * step <= dec + 1e-13 * (1 + abs(Qbar(Z)))
        Z = Zn
    assert squared_ok
    assert not unsquared_ok  # (10) as extracted (no square) fails once ||Z_{j+1} - Z_j|| < 1


def test_condition_7_is_on_Q_t_not_on_the_scaled_problem(rng):
    """Condition (7) is printed for Q_t; Algorithm 2 iterates on Q_t/alpha_t (it is
    called with V/alpha, P/alpha). Since dQ_t = alpha_t d(Q_t/alpha_t), a point that
    meets ``||s|| <= eps`` on the scaled problem can violate (7) on Q_t by the factor
    alpha_t. We implement (7) on Q_t as printed (solver tolerance eps_t/alpha_t): its
    recorded residual is <= eps_t on Q_t; the scaled reading stops earlier with a Q_t
    residual above eps_t (alpha_t ~ 10 here)."""
    reg, alg, s, sub, prev, alpha, V, P, W0 = _ramda_case(rng, T=20, eps=1e-3)
    assert alpha > 5
    eps_t = 1e-6
    # our reading
    x, info = solve_subproblem(sub, "pg", x0=prev, eps=eps_t / alpha, max_iter=100000)
    q_res = alpha * reg.subdiff_dist(x, sub.center, sub.step, sub.d)
    assert info.stop == "condition (7)" and alpha * info.residual <= eps_t and q_res <= eps_t
    # the scaled reading: the same solver stopped at eps_t on Q_t / alpha_t
    y, info2 = solve_subproblem(sub, "pg", x0=prev, eps=eps_t, max_iter=100000)
    assert info2.stop == "condition (7)" and info2.residual <= eps_t
    assert info2.iterations < info.iterations
    assert alpha * reg.subdiff_dist(y, sub.center, sub.step, sub.d) > eps_t  # violates (7) on Q_t


def test_theorem1_rate_11_needs_the_modulus_min_P_over_alpha(rng):
    """Proof of Thm 1 (App. B) says Qbar = Q_t/alpha_t is eps-strongly convex "by (3)"
    and states (11): Qbar(Z_j) - Qbar* <= L/2 (1 - eps/L)^j ||Z0 - Z*||^2 with
    L = max diag P_t / alpha_t. Qbar's modulus is min diag P_t / alpha_t (>= eps/alpha_t,
    not eps). On a RAMDA state with a coordinate whose gradient is still 0 (P_i = eps)
    and alpha_t eps > max P_t, the printed base 1 - eps/L is negative and (11) fails at
    j = 1; with mu = min P / alpha it holds for every j (PG, Beck Thm 10.29)."""
    n = 6
    reg = regularizers.get("group_l2", lam=0.05, n=n, groups=[np.array([0]), np.arange(1, 6)])
    eps = 0.05
    alg = RAMDA(reg, lr=1.0, c=1.0, eps=eps)
    G = rng.standard_normal((20, n)) * 0.01
    G[:, 0] = 0.0  # P_0 = eps
    s = alg.init(rng.standard_normal(n))
    for g in G:
        alg.step(s, g)
    alpha, V, W0 = s.scalar("alpha"), s["V"], s["W0"]
    P = np.cbrt(s["U"]) + eps
    L = P.max() / alpha
    assert eps / L > 1.0  # printed base 1 - eps/L < 0
    mu = P.min() / alpha
    Qbar = lambda W: _Qt(reg, alpha, V, P, W0, W) / alpha  # noqa: E731
    Zstar = s["W_hat"]
    Z0 = W0 + rng.standard_normal(n)
    gap0 = np.sum((Z0 - Zstar) ** 2)
    Z = Z0
    printed_ok, corrected_ok = True, True
    for j in range(1, 40):
        Z = _algorithm2(reg.prox, Z, W0, V / alpha, P / alpha, 1.0 / L, 1)
        lhs = Qbar(Z) - Qbar(Zstar)
        printed_ok &= lhs <= L / 2 * (1 - eps / L) ** j * gap0 + 1e-14
        corrected_ok &= lhs <= L / 2 * (1 - mu / L) ** j * gap0 + 1e-14
    assert not printed_ok
    assert corrected_ok


# ================================================================ ProxSSI
def _hf_adamw(x0, G, lr, b1, b2, eps, wd):
    """transformers.AdamW (correct_bias=True), transcribed."""
    p = x0.copy()
    m = np.zeros_like(p)
    v = np.zeros_like(p)
    out = []
    for t, g in enumerate(G, start=1):
        m = m * b1 + (1 - b1) * g
        v = v * b2 + (1 - b2) * g * g
        denom = np.sqrt(v) + eps
        step_size = lr * math.sqrt(1 - b2 ** t) / (1 - b1 ** t)
        p = p - step_size * m / denom
        if wd > 0:
            p = p + (-lr * wd) * p
        out.append(p.copy())
    return np.array(out)


@pytest.mark.parametrize("wd,mbc", [(0.0, 1), (0.01, 0), (0.1, 1)])
def test_proxssi_without_regularizer_is_hf_adamw(wd, mbc, rng):
    n = 7
    x0 = rng.standard_normal(n)
    G = _stream(rng, n, 200)
    ref = _hf_adamw(x0, G, 1e-2, 0.9, 0.999, 1e-6, wd)
    for reg in (None, regularizers.get("group_l2", lam=0.0, n=n, groups=[np.arange(0, 3), np.arange(3, 7)])):
        for solver in ("newton", "exact"):
            ours, _ = _run(ProxSSI(reg, lr=1e-2, weight_decay=wd, metric_bias_correction=mbc,
                                   subproblem_solver=solver), x0, G)
            _assert_close(ours, ref)


def test_proxssi_public_metric_over_regularizes_by_inverse_sqrt_bias_correction(rng):
    """Takeaway 7: the public metric d = sqrt(v)+eps with lam gives exactly the prox of
    the step's own metric (sqrt(v)+eps)/sqrt(1-beta2^t) with lam / sqrt(1-beta2^t):
    31.6x at t = 1 for beta2 = 0.999. Compared step by step (exact solver, 1e-12)."""
    n = 12
    groups = [np.arange(0, 5), np.array([5]), np.arange(6, 12)]
    lam, b2 = 0.05, 0.999
    pub = ProxSSI(regularizers.get("group_l2", lam=lam, n=n, groups=groups), lr=0.05, metric_bias_correction=0,
                  subproblem_solver="exact")
    assert pub.over_regularization(1) == pytest.approx(1 / math.sqrt(1 - b2))
    assert pub.over_regularization(1) > 31.6 and pub.over_regularization(1000) == pytest.approx(1.25758, rel=1e-5)
    s = pub.init(rng.standard_normal(n))
    for t, g in enumerate(_stream(rng, n, 30), start=1):
        f = pub.over_regularization(t)
        cons = ProxSSI(regularizers.get("group_l2", lam=lam * f, n=n, groups=groups), lr=0.05,
                       metric_bias_correction=1, subproblem_solver="exact")
        sc = s.copy()
        a = pub.step(s, g)
        b = cons.step(sc, g)
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
    same = ProxSSI(regularizers.get("group_l2", lam=lam, n=n, groups=groups), lr=0.05, subproblem_solver="exact")
    s1, s2 = pub.init(np.ones(n)), same.init(np.ones(n))
    g = rng.standard_normal(n)
    assert not np.allclose(pub.step(s1, g), same.step(s2, g))  # the two metrics differ at t = 1


def test_proxssi_newton_agrees_with_exact_and_records_its_report(rng):
    """ProxSSI's Newton (tol 1e-7 on the secular function) vs the exact root: same zero
    groups, |x - x_exact| <= 1e-6 (1 + max|x|) (tol 1e-7 on S(r) - 1 bounds the relative
    error of r by ~1e-7); the report (iterations, residual, screened) lands in state."""
    n = 12
    groups = [np.arange(0, 5), np.array([5]), np.arange(6, 12)]
    reg = regularizers.get("group_l2", lam=0.1, n=n, groups=groups)
    nw = ProxSSI(reg, lr=0.05)
    assert nw.subproblem_solver == "newton"
    ex = ProxSSI(reg, lr=0.05, subproblem_solver="exact")
    s = nw.init(rng.standard_normal(n))
    any_zero = False
    for g in _stream(rng, n, 30):
        sub = nw.subproblem(s, g)
        xe = sub.solve()  # the exact prox of the same subproblem
        assert ex.subproblem(s, g).d is not None
        nw.step(s, g)
        np.testing.assert_allclose(s["x"], xe, atol=1e-6 * (1 + np.abs(xe).max()))
        np.testing.assert_array_equal(reg.groups.norms(s["x"]) == 0, reg.groups.norms(xe) == 0)
        info = nw.last_solver_info
        assert info.method.startswith("Newton") and s.scalar("sub_iterations") == info.iterations
        assert s.scalar("sub_screened") == info.n_screened == (reg.groups.norms(xe) == 0).sum()
        any_zero |= info.n_screened > 0
    assert any_zero


def test_float32_state_stays_float32(rng):
    n = 12
    reg = regularizers.get("group_l2", lam=0.05, n=n, groups=4)
    for alg in (RAMDA(reg), RMDA(reg), MADGRAD(), ProxSSI(reg, subproblem_solver="exact")):
        s = alg.init(rng.standard_normal(n).astype(np.float32))
        s64 = alg.init(s["x"].astype(np.float64))
        for g in _stream(rng, n, 10):
            alg.step(s, g)
            alg.step(s64, g)
        assert s["x"].dtype == np.float32 and s["S"].dtype == np.float32
        np.testing.assert_allclose(s["x"], s64["x"], rtol=1e-4, atol=1e-5)


def test_registry_names():
    names = solvers.names()
    for name, cls in (("ramda", RAMDA), ("madgrad", MADGRAD), ("rmda", RMDA), ("proxssi", ProxSSI)):
        assert name in names and isinstance(solvers.get(name), cls)
