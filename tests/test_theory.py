"""theory: comparators (CVXPY vs FISTA, closed forms, certificates), bound
calculators (hand-computed values, real runs, the MRDA counterexample),
assumption monitors and manifold tools on constructed inputs with known answers.

Tolerances
----------
* Comparators: Clarabel runs at 1e-12 tolerances (``proxlab.oracles.cvxpy_oracle.TOL``)
  on an objective normalized to O(1); its points are good to ~1e-9 in value and
  ~1e-7 in ``x`` on well-conditioned (strongly convex) instances. FISTA stops at a
  certified KKT residual 1e-9 relative to ``||grad f(0)||``; on a strongly convex
  objective with modulus ``mu`` its distance to the minimizer is at most
  residual / mu (mu >= 0.1 on the instances below), so ``x`` agreement is asked to
  1e-6 and values to 1e-9 relative.
* Hand-computed values: exact rational arithmetic in float64, asked to 1e-12.
"""

import math

import numpy as np
import pytest

from proxlab import regularizers, solvers
from proxlab.groups import Groups
from proxlab.simulations import problems as P
from proxlab.theory import bounds as B
from proxlab.theory import comparators as C
from proxlab.theory import manifold as MF
from proxlab.theory import monitors as M
from proxlab.theory import trace as TR


# ============================================================ comparators
def _ls_problem(n=6, m=40, seed=0):
    return P.stochastic_least_squares(n, m, 20, batch_size=4, seed=seed)


@pytest.mark.parametrize("case", ["lasso", "logistic_group", "softmax_group", "ls_elastic"])
def test_cvxpy_and_fista_agree_with_small_certificates(case):
    if case == "lasso":
        p = _ls_problem(8, 50, 1)
        reg = regularizers.get("l1", lam=0.2)
    elif case == "logistic_group":
        p = P.stochastic_logistic(8, 60, 20, seed=2)
        reg = regularizers.get("group_l2", lam=0.05, n=8, groups=2)
    elif case == "softmax_group":
        rng = np.random.default_rng(3)
        p = P.finite_sum_problem("softmax", rng.standard_normal((40, 4)), rng.integers(0, 3, 40), sampling="cyclic",
                                 steps=40)
        reg = regularizers.get("group_l2", lam=0.05, n=12, groups=3)
    else:
        p = _ls_problem(6, 30, 4)
        reg = regularizers.get("elastic_net", lam1=0.1, lam2=0.5)
    a = C.reference_optimum(p, reg, method="cvxpy")
    b = C.reference_optimum(p, reg, method="fista")
    assert a.ok and b.ok, (a.status, b.status)
    assert a.status == "optimal"
    assert a.kkt_residual <= a.tolerance and b.kkt_residual <= b.tolerance
    assert abs(a.value_raw - b.value) <= 1e-9 * max(1.0, abs(b.value))  # CVXPY's own point
    np.testing.assert_allclose(a.x_raw, b.x, atol=1e-6)
    np.testing.assert_allclose(a.x, b.x, atol=1e-6)
    if case in ("lasso", "logistic_group"):
        assert 0 <= b.duality_gap <= 1e-8 * max(1.0, b.value)
        assert b.lower_bound <= a.value_raw + 1e-12  # a certified lower bound
    else:
        assert math.isnan(b.duality_gap)  # no closed-form dual: the KKT residual is the certificate


def test_lasso_with_orthogonal_design_is_soft_thresholding(rng):
    """X with X'X / n = I: argmin ||X th - y||^2/(2n) + lam ||th||_1 = soft(X'y/n, lam)."""
    n, p = 32, 8
    Q, _ = np.linalg.qr(rng.standard_normal((n, p)))
    X = np.sqrt(n) * Q
    y = X @ np.array([2.0, -1.0, 0.3, 0, 0, 0.05, 0, -0.5]) + 0.1 * rng.standard_normal(n)
    lam = 0.2
    prob = P.finite_sum_problem("least_squares", X, y, sampling="cyclic", steps=n)
    c = X.T @ y / n
    truth = np.sign(c) * np.maximum(np.abs(c) - lam, 0.0)
    assert np.count_nonzero(truth) < p  # the thresholding is active
    for method in ("cvxpy", "fista"):
        r = C.reference_optimum(prob, ("l1", {"lam": lam}), method=method)
        np.testing.assert_allclose(r.x, truth, atol=1e-8)
        np.testing.assert_array_equal(r.x == 0, truth == 0)  # exact zeros after the polish


def test_ga_comparator_is_weighted_least_squares(rng):
    """argmin sum_{t<=T} f_t for a cyclic table that wraps: rows counted with multiplicity."""
    A = rng.standard_normal((5, 3))
    b = rng.standard_normal(5)
    p = P.finite_sum_problem("least_squares", A, b, sampling="cyclic", steps=5)
    T = 8  # rows 0, 1, 2 twice, rows 3, 4 once
    w = np.array([2, 2, 2, 1, 1.0])
    x_ref = np.linalg.solve(A.T @ (w[:, None] * A), A.T @ (w * b))
    r = C.ga_comparator(p, T)
    assert r.ok
    np.testing.assert_allclose(r.x, x_ref, atol=1e-9)
    assert r.value == pytest.approx(0.5 * np.dot(w, (A @ x_ref - b) ** 2), rel=1e-9)


def test_regret_of_a_hand_example():
    """f_t(x) = (x - c_t)^2 / 2, c = (1, 2, 6), played x_t = (0, 1, 2):
    sum f_t(x_t) = 1/2 + 1/2 + 8 = 9, x* = 3, sum f_t(x*) = (4 + 1 + 9)/2 = 7, R_3 = 2."""
    p = P.finite_sum_problem("least_squares", np.ones((3, 1)), np.array([1.0, 2.0, 6.0]))
    xs = [np.array([0.0]), np.array([1.0]), np.array([2.0])]
    losses = np.array([p.loss(x, t + 1, p.data) for t, x in enumerate(xs)])
    np.testing.assert_allclose(losses, [0.5, 0.5, 8.0], rtol=1e-15)
    cmp = C.ga_comparator(p, 3)
    assert cmp.x[0] == pytest.approx(3.0, abs=1e-12)
    assert C.regret(losses, cmp) == pytest.approx(2.0, abs=1e-12)
    # R_2: x* = 1.5, sum f = 1/8 + 1/8, played 1/2 + 1/2 -> 3/4
    assert C.regret(losses, C.ga_comparator(p, 2), T=2) == pytest.approx(0.75, abs=1e-12)
    # with Psi = |x|: R_3(w) of mrda eq (48) at w* = argmin sum (f_t + |x|) = 2 (sum of gradients
    # 3x - 9 + 3 sign x = 0), comparator value 1/2 + 0 + 8 + 3*2 = 14.5, played Psi = 0 + 1 + 2
    r = C.rda_comparator(p, 3, ("l1", {"lam": 1.0}))
    assert r.x[0] == pytest.approx(2.0, abs=1e-9) and r.value == pytest.approx(14.5, abs=1e-9)
    assert C.rda_regret(losses, [0.0, 1.0, 2.0], r) == pytest.approx(9 + 3 - 14.5, abs=1e-9)


def test_separable_logistic_has_no_minimizer():
    rng = np.random.default_rng(5)
    A = rng.standard_normal((12, 4))
    w = rng.standard_normal(4)
    b = np.where(A @ w >= 0, 1.0, -1.0)  # separable by w
    p = P.finite_sum_problem("logistic", A, b)
    f = P.cumulative_objective(p, 12)
    exists, lp = C.minimizer_exists(f)
    assert not exists and lp > 1e-3
    r = C.ga_comparator(p, 12, max_iter=500)
    assert not r.ok and "no minimizer" in r.status and r.extra["infimum_lower_bound"] == 0.0
    q = P.online_logistic(4, 200, seed=6)  # Bernoulli labels, 200 >> 4: not separable
    assert C.minimizer_exists(P.cumulative_objective(q, 200))[0]
    assert C.ga_comparator(q, 200).ok


def test_rda_comparator_over_one_pass_is_the_reference_optimum():
    """Over one cyclic pass (each row once) sum_t (f_t + Psi) = m (f + Psi): same argmin, m times the value."""
    m = 30
    p = P.least_squares(5, m, steps=m, sampling="cyclic", seed=7)
    reg = regularizers.get("l1", lam=0.3)
    a = C.rda_comparator(p, m, reg)
    b = C.reference_optimum(p, reg)
    np.testing.assert_allclose(a.x, b.x, atol=1e-7)
    assert a.value == pytest.approx(m * b.value, rel=1e-9)


def test_duality_gap_is_a_lower_bound_everywhere(rng):
    """Weak duality: value(x) - gap(x) <= F* at arbitrary x (a wrong dual breaks this)."""
    for p, reg in ((_ls_problem(6, 40, 8), regularizers.get("l1", lam=0.1)),
                   (P.stochastic_logistic(6, 80, 20, seed=9), regularizers.get("group_l2", lam=0.05, n=6,
                                                                                   groups=[np.arange(3),
                                                                                           np.arange(3, 6)]))):
        f = P.average_objective(p)
        star = C.minimize(f, reg, 1.0, method="fista")
        for _ in range(10):
            x = rng.standard_normal(6)
            gap = C.duality_gap(f, reg, 1.0, x)
            val = f.value(x) + reg.value(x)
            assert gap >= 0 and val - gap <= star.value + 1e-10
        assert C.duality_gap(f, reg, 1.0, np.zeros(6)) > 1e-6  # 0 is not optimal


def test_kkt_residual_hand_value():
    """At x = 0: dist(0, grad f(0) + c lam [-1, 1]^n) = ||soft(grad f(0), c lam)||."""
    p = _ls_problem(6, 40, 10)
    f = P.average_objective(p)
    g = f.grad(np.zeros(6))
    reg = regularizers.get("l1", lam=0.3)
    for c in (1.0, 2.5):
        expect = np.linalg.norm(np.sign(g) * np.maximum(np.abs(g) - c * 0.3, 0.0))
        assert C.kkt_residual(f, reg, c, np.zeros(6)) == pytest.approx(expect, rel=1e-12)
    assert C.kkt_residual(f, None, 0.0, np.zeros(6)) == pytest.approx(np.linalg.norm(g), rel=1e-15)


def test_comparators_bad_input():
    p = _ls_problem()
    f = P.average_objective(p)
    with pytest.raises(ValueError, match="method"):
        C.minimize(f, None, 0.0, method="newton")
    with pytest.raises(ValueError, match="reg"):
        C.minimize(f, ("l0", {"lam": 0.1}), 1.0)
    with pytest.raises(ValueError, match="scale"):
        C.minimize(f, ("l1", {"lam": 0.1}), -1.0)
    with pytest.raises(ValueError, match="x0"):
        C.minimize(f, None, 0.0, x0=np.zeros(3))
    with pytest.raises(ValueError, match="T"):
        C.regret(np.ones(3), 1.0, T=5)


# ================================================================= bounds
def test_ga_psi_hand_value():
    x = np.array([1.0, -2.0, 0.0, 2.0])
    G = Groups(4, 2)  # weights sqrt(2)
    # lam1 * 5 + lam21 * sqrt(2) * (sqrt(5) + 2) + lam2 * 9
    v = B.ga_psi(x, 0.1, 0.2, 0.3, G)
    assert v == pytest.approx(0.5 + 0.2 * math.sqrt(2) * (math.sqrt(5) + 2) + 2.7, rel=1e-14)
    # with A = diag(4, 1, 1, 9): ||A^1/2 x_g||: sqrt(4 + 4), sqrt(0 + 36)
    vA = B.ga_psi(x, 0.0, 1.0, 0.0, G, A=np.array([4.0, 1, 1, 9]))
    assert vA == pytest.approx(math.sqrt(2) * (math.sqrt(8) + 6), rel=1e-14)


def test_ga_theorem3_hand_value():
    """T = 2, n = 1, x* = 1, x = (0, 0.5), m = (2, -1), Sigma = (1, 3), Psi_T = 0.25:
    h_T = [1 * 1 + 2 * 0.25] / 2 = 0.75, dual = [4 + 1/1] / 2 = 2.5, bound = 3.5."""
    b = B.ga_theorem3([1.0], [[0.0], [0.5]], [[2.0], [-1.0]], [[1.0], [3.0]], 0.25, regret=3.4)
    assert b.bound == pytest.approx(3.5, abs=1e-14)
    assert b.terms["h_T(x*)"] == pytest.approx(0.75, abs=1e-15) and b.holds
    assert not B.ga_theorem3([1.0], [[0.0], [0.5]], [[2.0], [-1.0]], [[1.0], [3.0]], 0.25, regret=3.6).holds
    # Sigma_{t-1} = 0 on a coordinate with m_t != 0: the dual term is infinite (vacuous bound)
    inf = B.ga_theorem3([0.0, 0.0], [[0, 0], [0, 0.0]], [[1, 0], [1, 1.0]], [[1, 0], [2, 1.0]], 0.0)
    assert inf.bound == math.inf
    # a decreasing metric is reported as a violated hypothesis
    dec = B.ga_theorem3([0.0], [[1.0], [1.0]], [[1.0], [1.0]], [[2.0], [1.0]], 0.0)
    assert dec.hypotheses["Q_t >= 0 (h_t, A_t non-decreasing)"] is False


@pytest.mark.parametrize("name, kw, form, sigma1_ge_identity", [
    ("group_adagrad", {"lr": 0.5, "eps": 0.1}, "exact", False),
    ("group_adagrad", {"lr": 0.02, "eps": 0.1}, "exact", True),
    ("group_sgd", {"lr": 0.05}, "practical", True),  # constant metric: practical = exact argmin
])
def test_ga_theorem3_holds_when_its_hypotheses_hold(name, kw, form, sigma1_ge_identity):
    """Convex online least squares with members whose metric is non-decreasing and whose
    m_t = g_t has form (13) with gamma = 0 (so (12) is not needed): the regret stays below
    the corrected eq (14), and below the printed one when Sigma_1 >= I."""
    T = 200
    p = P.online_least_squares(8, T, truth="group", group_size=2, noise=0.1, seed=11)
    alg = solvers.get(name, lam1=0.01, lam21=0.05, lam2=0.001, n=8, groups=2, form=form, **kw)
    tr = TR.record(alg, p, T)
    cmp = C.ga_comparator(p, T)
    R = C.regret(tr.loss, cmp)
    assert R > 0  # a meaningful comparison: the learner did lose something
    b = B.ga_theorem3_from_trace(alg, tr, cmp.x, R)
    assert b.hypotheses["Q_t >= 0 (h_t, A_t non-decreasing)"] and b.hypotheses["x_{t+1} exact argmin of (6)"]
    assert b.hypotheses["m_t = gamma m_{t-1} + g_t (13)"] and b.constants["gamma"] == 0.0
    assert b.hypotheses["Sigma_1 >= I (h_1 >= h_0, needed by the printed form)"] is sigma1_ge_identity
    assert B.ga_theorem3_from_trace(alg, tr, cmp.x, R, form="corrected").holds
    if sigma1_ge_identity:
        assert b.holds, (R, b.bound)


def test_ga_theorem3_reports_condition_12_for_momentum():
    """Group Momentum (gamma = 0.5): (14) is owed only when (12) held at every step; the monitor
    says how often it did (the inner products are recomputed here by hand)."""
    T = 100
    p = P.online_least_squares(8, T, seed=11)
    alg = solvers.get("group_momentum", lr=0.01, momentum=0.5)
    tr = TR.record(alg, p, T)
    cmp = C.ga_comparator(p, T)
    q = TR.ga_quantities(alg, tr)
    assert q["gamma"] == 0.5 and M.ga_momentum_form_13(q["g"], q["m"], gamma=0.5).all_held
    c12 = M.ga_condition_12(q["m"], q["x"], cmp.x)
    by_hand = [0.0] + [float(q["m"][t - 1] @ (q["x"][t] - cmp.x)) for t in range(1, T)]
    np.testing.assert_allclose(c12.values, by_hand, rtol=1e-12, atol=1e-14)
    assert c12.n_held == sum(v >= 0 for v in by_hand)


def test_ga_theorem3_printed_fails_when_sigma1_is_below_identity():
    """Erratum check (bounds.ga_theorem3 docstring): f_1(x) = a (x - b)^2 / 2 from x_1 = 0 with
    Adagrad, a = 0.5, b = 0.1: R_1 = a b^2 / 2 = 0.0025, printed (14) = |ab| b^2 / (2 alpha) + a^2 b^2 / 2
    = 0.0015 at alpha = 1 (Sigma_1 = 0.05 < 1); the corrected t = 1 term m_1^2 / (2 Sigma_1) = 0.025 holds.
    With alpha = 0.01 (Sigma_1 = 5 >= 1) the printed form holds."""
    a, b = 0.5, 0.1
    p = P.finite_sum_problem("least_squares", np.array([[np.sqrt(a)]]), np.array([np.sqrt(a) * b]))
    for lr, printed_holds in ((1.0, False), (0.01, True)):
        alg = solvers.get("group_adagrad", lr=lr, eps=1e-12, form="exact")
        tr = TR.record(alg, p, 1)
        cmp = C.ga_comparator(p, 1)
        R = C.regret(tr.loss, cmp)
        assert R == pytest.approx(0.5 * a * b * b, rel=1e-12)
        pr = B.ga_theorem3_from_trace(alg, tr, cmp.x, R)
        co = B.ga_theorem3_from_trace(alg, tr, cmp.x, R, form="corrected")
        assert pr.holds is printed_holds and co.holds
        assert pr.hypotheses["Sigma_1 >= I (h_1 >= h_0, needed by the printed form)"] is printed_holds
    assert pr.bound == pytest.approx(0.5 * 5.0 * b * b + 0.5 * (a * b) ** 2, rel=1e-9)


def test_ga_lemma1_hand_values():
    g = np.array([[1.0], [1.0]])
    # gamma = 0, eta = 1: m = g, V = (1, 2); lhs = 1 + 1/sqrt 2, rhs = 2 sqrt 2
    b = B.ga_lemma1(g, 1.0, 0.0, 1.0)
    assert b.measured == pytest.approx(1 + 1 / math.sqrt(2), rel=1e-15)
    assert b.bound == pytest.approx(2 * math.sqrt(2), rel=1e-15) and b.holds
    # gamma = 0.5: m = (1, 1.5), V = (1, 2): lhs = 1 + 2.25/sqrt 2, rhs = 2/(0.5) * sqrt(3.25)
    b = B.ga_lemma1(g, 2.0, 0.5, 1.0)
    assert b.measured == pytest.approx(2 * (1 + 2.25 / math.sqrt(2)), rel=1e-15)
    assert b.bound == pytest.approx(2 * 2.0 / 0.5 * math.sqrt(3.25), rel=1e-15)


def test_ga_lemma1_holds_on_random_gradients(rng):
    for gamma in (0.0, 0.5, 0.9):
        g = rng.standard_normal((300, 5)) * rng.uniform(0.01, 10, 5)
        assert B.ga_lemma1(g, 0.3, gamma, 1.0).holds
    # case 2 with growing second moments: kappa V_t >= V_{t-1} holds and (16) holds
    t = np.arange(1, 31)[:, None]
    g = 1.5 ** t * np.ones((1, 3))
    b = B.ga_lemma1(g, 0.1, 0.3, 0.5)
    assert b.hypotheses["case 2: kappa V_t >= V_{t-1} for all t"] and b.holds
    assert b.constants["kappa"] < 1
    # stationary gradients under an EMA: the smallest workable kappa creeps to 1
    # (V_t = 10 (1 - 0.9^t): kappa_60 = 1 - 0.1 * 0.9^59 / (1 - 0.9^60) ~ 1 - 2e-4) ...
    b = B.ga_lemma1(np.ones((60, 2)), 0.1, 0.0, 0.9)
    assert 0.999 < b.constants["kappa"] < 1 and b.constants["nu"] == b.constants["kappa"]
    assert 60 < b.constants["kappa_horizon"] < math.inf
    # ... and reaches 1 in floating point on a long run: no kappa < 1 is left
    b = B.ga_lemma1(np.ones((600, 2)), 0.1, 0.0, 0.9)
    assert b.constants["kappa"] == 1.0 and not b.hypotheses["case 2: kappa < 1"] and b.bound == math.inf


def test_ga_corollary_hand_value_and_measured_constants(rng):
    v = B.ga_corollary(4, 2, 1.0, 0.5, 1.0, 0.5, 0.5, 0.1, 0.2, 0.3)
    expect = 2 * 0.5 * (0.1 + 0.2 * math.sqrt(2.0 + 0.3) + 0.3 * 0.5) + 2 * 1.0 * (1 / 1.0 + 0.5 / 0.25) * 2
    assert v == pytest.approx(expect, rel=1e-14)
    xs = rng.standard_normal((6, 3))
    gs = rng.standard_normal((6, 3))
    xstar = rng.standard_normal(3)
    b = B.ga_corollary_from_run(xs, gs, xstar, 0.5, 0.2, regret=1.0, delta=0.1)
    assert b.constants["G"] == np.abs(gs).max() and b.constants["D1"] == np.abs(xstar).max()
    assert b.constants["D2"] == np.abs(xs - xstar).max()
    assert b.hypotheses["G <= delta (Cor. 1)"] is False
    assert b.bound == pytest.approx(B.ga_corollary(6, 3, b.constants["G"], b.constants["D1"], b.constants["D2"],
                                                   0.5, 0.2), rel=1e-15)


def test_mrda_delta_hand_values():
    # beta = (1, 2, 3), G = 2, D = 1, Q = 0.5, sigma = 0: beta_0 = 1; sums 1, 2, 2.5
    np.testing.assert_allclose(B.mrda_delta([1.0, 2, 3], 2.0, 1.0, 0.5), [3.5, 6.5, 8.5], rtol=1e-15)
    # sigma = 1: denominators 0 + 1, 1 + 1, 2 + 2 -> sums 1, 1.5, 1.75
    np.testing.assert_allclose(B.mrda_delta([1.0, 2, 3], 2.0, 1.0, 0.5, sigma=1.0), [3.5, 5.5, 7.0], rtol=1e-15)
    np.testing.assert_allclose(B.mrda_delta([1.0, 2, 3], 2.0, 1.0, 0.5, w1_term=1.0), [4.5, 7.5, 9.5], rtol=1e-15)


def _mrda_counterexample(T=40):
    """f_t(w) = w^2 / 2 for every t, Psi = 0.1 |w|, modified RDA with gamma = 4 from w_1 = 2."""
    p = P.finite_sum_problem("least_squares", np.array([[1.0]]), np.array([0.0]), steps=T, sampling="cyclic",
                             x0=np.array([2.0]))
    reg = regularizers.get("l1", lam=0.1)
    alg = solvers.get("mrda", regularizer=reg, gamma=4.0)
    tr = TR.record(alg, p, T)
    return p, reg, alg, tr


def test_mrda_lemma74_printed_delta_fails_for_a_random_start_and_the_corrected_one_holds():
    """Erratum check (bounds.mrda_lemma74 docstring): at t = 1, R_1(0) = 2^2/2 + 0.1 * 2 = 2.2 while the
    printed Delta_1 = Q + G^2/(2 beta_0) = 0.2 + 4/8 = 0.7; <g_1, w_1 - w_0> = 4 restores the bound."""
    T = 40
    p, reg, alg, tr = _mrda_counterexample(T)
    q = TR.dual_averaging_quantities(alg, tr)
    w = np.zeros(1)  # the minimizer of f + Psi
    R = np.cumsum(tr.loss + [reg.value(x) for x in tr.x] - C.losses_at(p, w, T) - reg.value(w))
    assert R[0] == pytest.approx(2.2, abs=1e-14)
    printed = B.mrda_lemma74(q["w"], q["g"], w, reg, q["betas"], R, form="printed")
    corrected = B.mrda_lemma74(q["w"], q["g"], w, reg, q["betas"], R, form="corrected")
    assert printed.bound[0] == pytest.approx(0.7, abs=1e-14)
    assert not printed.holds and corrected.holds
    assert printed.hypotheses["w_1 = w_0 (Xiao's RDA; the printed Delta_t needs it)"] is False
    # Lemma 7.5 (deterministic here: every f_t is f): phi(wbar_t) - phi* <= Delta_t / t
    wbar = np.cumsum(tr.x, axis=0) / np.arange(1, T + 1)[:, None]
    gaps = np.array([0.5 * v[0] ** 2 + reg.value(v) for v in wbar])
    assert not B.mrda_lemma75(printed.bound, gaps).holds
    assert B.mrda_lemma75(corrected.bound, gaps).holds
    # with w_1 = w_0 = 0 (Xiao's RDA) the printed bound is the right one: R_t(0) = 0 <= Delta_t
    p0 = P.finite_sum_problem("least_squares", np.array([[1.0]]), np.array([0.0]), steps=T, sampling="cyclic")
    tr0 = TR.record(alg, p0, T)
    q0 = TR.dual_averaging_quantities(alg, tr0)
    R0 = np.cumsum(tr0.loss + [reg.value(x) for x in tr0.x])
    assert B.mrda_lemma74(q0["w"], q0["g"], w, reg, q0["betas"], R0, D=0.5, form="printed").holds


def test_mrda_lemma74_corrected_holds_on_a_stochastic_run():
    T = 300
    p = P.stochastic_least_squares(10, 100, T, batch_size=4, x0="random", seed=12)
    reg = regularizers.get("l1", lam=0.05)
    alg = solvers.get("mrda", regularizer=reg, gamma=1.0)
    tr = TR.record(alg, p, T)
    q = TR.dual_averaging_quantities(alg, tr)
    cmp = C.rda_comparator(p, T, reg)
    R = np.cumsum(tr.loss + [reg.value(x) for x in tr.x] - C.losses_at(p, cmp.x, T) - reg.value(cmp.x))
    assert R[-1] == pytest.approx(C.rda_regret(tr.loss, [reg.value(x) for x in tr.x], cmp), rel=1e-9)
    assert B.mrda_lemma74(q["w"], q["g"], cmp.x, reg, q["betas"], R, form="corrected").holds


def test_stationarity_measure():
    p = _ls_problem(6, 40, 13)
    f = P.average_objective(p)
    reg = regularizers.get("l1", lam=0.2)
    star = C.reference_optimum(p, reg)
    assert B.stationarity(star.x, f.grad, reg) <= 1e-8
    g0 = f.grad(np.zeros(6))
    assert B.stationarity(np.zeros(6), g0, reg) == pytest.approx(
        np.linalg.norm(np.sign(g0) * np.maximum(np.abs(g0) - 0.2, 0)), rel=1e-12)
    # non-zero coordinates: |g_i + lam sign x_i|
    x = np.array([1.0, -1, 0, 0, 0, 0])
    gx = f.grad(x)
    h = np.where(x != 0, gx + 0.2 * np.sign(x), np.sign(gx) * np.maximum(np.abs(gx) - 0.2, 0))
    assert B.stationarity(x, f.grad, reg) == pytest.approx(np.linalg.norm(h), rel=1e-12)
    d = B.stationarity_trace(np.vstack([np.zeros(6), star.x]), f.grad, reg)
    assert B.expected_stationarity_sq(d) == pytest.approx((d[0] ** 2 + d[1] ** 2) / 2, rel=1e-15)


def test_proxgen_step_bound_hand_value_and_on_a_run():
    # 4 (2 * 0.5 + 8 * 0.25 * 4 + C2 * 0.1 + 4 * 0.2 + 0.01), C2 = 2 + 2 + 4 + 1/0.25
    v = B.proxgen_step_bound(1.5, 1.0, 0.5, 2.0, 1.0, 0.5, 0.1, 0.2, 0.1)
    assert v == pytest.approx(4 * (1.0 + 8.0 + 12.0 * 0.1 + 0.8 + 0.01), rel=1e-14)
    # ProxGen as printed (no bias correction), delta = 1 and lr <= delta/(3L): eq (40) at every step
    p = P.stochastic_least_squares(6, 60, 80, batch_size=4, x0="random", seed=14)
    f = P.average_objective(p)
    L = f.lipschitz()
    reg = regularizers.get("l1", lam=0.05)
    alg = solvers.get("proxgen", regularizer=reg, lr=1.0 / (3 * L), eps=1.0, beta1=0.0, bias_correction=0)
    tr = TR.record(alg, p, 80, subproblems=True)
    q = TR.proxgen_quantities(alg, tr)
    assert M.proxgen_stepsize(q["alpha"], q["delta"], L).all_held
    gam = M.proxgen_c4(q["alpha"], q["precond"], q["delta"]).measured["gamma measured (min_t)"]
    F = np.array([f.value(x) + reg.value(x) for x in np.vstack([tr.x, tr.x_final])])
    G = max(np.linalg.norm(tr.g, axis=1).max(), np.linalg.norm(tr.fields["m"], axis=1).max())
    noise = np.array([np.sum((g - f.grad(x)) ** 2) for g, x in zip(tr.g, tr.x)])
    rhs = B.proxgen_step_bound(F[:-1], F[1:], q["rho"], G, L, gam, np.sum(q["steps"] ** 2, axis=1), noise,
                               tr.sub_residual)
    lhs = np.array([B.stationarity(x, f.grad, reg) ** 2 for x in tr.prox_point])
    assert np.all(lhs <= rhs)


def test_bounds_bad_input():
    with pytest.raises(ValueError, match="alpha"):
        B.ga_lemma1(np.ones((3, 2)), 0.0, 0.5, 1.0)
    with pytest.raises(ValueError, match="gamma"):
        B.ga_lemma1(np.ones((3, 2)), 1.0, 1.0, 1.0)
    with pytest.raises(ValueError, match="nu"):
        B.ga_corollary(4, 2, 1.0, 1.0, 1.0, 0.5, 1.0)
    with pytest.raises(ValueError, match="ms"):
        B.ga_theorem3(np.zeros(2), np.zeros((3, 2)), np.zeros((2, 2)), np.ones((3, 2)), 0.0)
    with pytest.raises(ValueError, match="betas"):
        B.mrda_delta([2.0, 1.0], 1.0, 1.0, 0.0)
    with pytest.raises(ValueError, match="form"):
        B.mrda_lemma74(np.zeros((2, 1)), np.ones((2, 1)), np.zeros(1), lambda w: 0.0, [1.0, 2.0], form="fixed")
    with pytest.raises(ValueError, match="D"):
        B.mrda_lemma74(np.zeros((2, 1)), np.ones((2, 1)), np.ones(1), lambda w: 0.0, [1.0, 2.0], D=0.1)
    with pytest.raises(ValueError, match="groups"):
        B.ga_psi(np.ones(4), lam21=1.0)
    with pytest.raises(ValueError, match="dists"):
        B.expected_stationarity_sq([])


# =============================================================== monitors
def test_ga_condition_12_on_a_constructed_trajectory():
    ms = np.array([[1.0, 0], [0, 1.0], [1, 1.0]])
    xs = np.array([[9.0, 9], [-1, 5.0], [3, 2.0]])
    r = M.ga_condition_12(ms, xs, np.zeros(2))
    np.testing.assert_allclose(r.values, [0.0, -1.0, 2.0])
    np.testing.assert_array_equal(r.held, [True, False, True])
    assert r.first_violation == 2 and r.fraction == pytest.approx(2 / 3) and not r.all_held


def test_ga_momentum_form_13_on_runs():
    p = P.online_least_squares(6, 50, seed=15)
    mom = solvers.get("group_momentum", lr=0.01, momentum=0.5)
    q = TR.ga_quantities(mom, TR.record(mom, p, 50))
    r = M.ga_momentum_form_13(q["g"], q["m"])
    assert r.all_held and r.measured["gamma"] == pytest.approx(0.5, abs=1e-12)
    adam = solvers.get("group_adam", lr=0.01)
    q = TR.ga_quantities(adam, TR.record(adam, p, 50))
    assert M.ga_momentum_form_13(q["g"], q["m"]).fraction < 0.1  # EMA + bias correction is not (13)


def test_ga_kappa_condition():
    T = 20
    V = 2.0 ** np.arange(T)[:, None] * np.ones((1, 3))  # ratio V_{t-1}/V_t = 1/2
    assert M.ga_kappa_condition(V, eta=0.5, kappa=0.6).all_held
    r = M.ga_kappa_condition(V, eta=0.5, kappa=0.4)
    assert r.n_held == 1 and r.first_violation == 2  # t = 1 has nothing to compare
    assert r.measured["smallest workable kappa"] == pytest.approx(0.5)
    # decreasing gradients under an EMA: V = 1, 1.15, 1.0975, ... decreases from t = 3 on
    g = 0.5 ** np.arange(T)[:, None] * np.ones((1, 2))
    r = M.ga_kappa_condition(gs=g, eta=0.9)
    assert r.n_held == 2 and r.first_violation == 3 and r.measured["smallest workable kappa"] > 1
    assert M.ga_kappa_condition(gs=g, eta=1.0).all_held  # case 1
    r = M.ga_kappa_condition(V, eta=0.5, gamma=0.7, kappa=0.6)  # case 2 also needs eta >= gamma
    assert r.n_held == 0 and r.measured["eta >= gamma"] is False


def test_ga_monotone_metric_on_runs():
    p = P.online_least_squares(6, 60, seed=16)
    ada = solvers.get("group_adagrad", lr=0.1)
    assert M.ga_monotone_metric(TR.record(ada, p, 60).fields["sigma"]).all_held
    adam = solvers.get("group_adam", lr=0.01)
    r = M.ga_monotone_metric(TR.record(adam, p, 60).fields["sigma"])
    assert r.fraction < 0.5 and r.measured["min Q_t/alpha_t"] < 0


def test_proxgen_c3_c4_stepsize():
    T = 6
    steps = np.ones((T, 2))  # norms sqrt 2
    gs = np.arange(1, T + 1)[:, None] * np.ones((1, 2))
    r = M.proxgen_c3(steps, gs, 0.9 * 0.5 ** np.arange(T), D=1.5, G=2 * math.sqrt(2) + 1e-12)
    assert r["C-3(i)"].all_held and r["C-3(ii)"].n_held == 2
    assert r["C-3(iii)"].all_held and r["C-3(iii)"].measured["mu"] == pytest.approx(0.5)
    const = M.proxgen_c3(steps, gs, np.full(T, 0.9))["C-3(iii)"]
    assert const.n_held == 0 and const.measured["mu"] == 1.0  # proxgen.txt Sec 4's rho_t = 0.9
    assert M.proxgen_c3(steps, gs, np.zeros(T))["C-3(iii)"].all_held  # no momentum
    c4 = M.proxgen_c4([1.0, 1.0], np.array([[1.0, 3.0], [0.0, 1.0]]), 1.0, gamma=0.3)
    np.testing.assert_allclose(c4.values, [0.25, 0.5])
    np.testing.assert_array_equal(c4.held, [False, True])
    s = M.proxgen_stepsize([0.1, 0.1, 0.2], 0.9, 1.0)
    np.testing.assert_array_equal(s.held, [True, True, False])


def test_ramda_step_size_conditions():
    t = np.arange(1, 2001, dtype=float)
    s = 0.1 * np.sqrt(t)
    r = M.ramda_stepsize_13(s, np.cumsum(s))
    assert r.all_held and r.measured["tail exponent p"] == pytest.approx(1.0, abs=0.02)
    g = 1.01 ** t  # geometric weights: s_t/alpha_t -> 0.01/1.01, not square summable
    assert not M.ramda_stepsize_13(g, np.cumsum(g)).all_held
    W = np.vstack([np.zeros(3), np.cumsum((t ** -2.0)[:, None] * np.ones((1, 3)), axis=0)])
    assert M.ramda_condition_14(W, s, np.cumsum(s)).all_held  # ||dW|| alpha/s ~ t^-1
    W = np.vstack([np.zeros(3), np.cumsum(np.ones((t.size, 3)), axis=0)])
    r = M.ramda_condition_14(W, s, np.cumsum(s))
    assert not r.all_held and r.measured["last/first tenth"] > 1
    assert M.ramda_eps_summable_8(1e-6 / t).all_held
    assert not M.ramda_eps_summable_8(1e-6 * t ** -0.25).all_held
    assert M.ramda_eps_summable_8(np.zeros(5)).all_held


def test_ramda_inexactness_7_on_runs():
    """RAMDA with ramda.txt Algorithm 2 (PG): at every step where PG met (7) by its own
    certificate, the exact residual of the trace is below eps_t and Q_t did not increase."""
    p = P.stochastic_logistic(12, 80, 40, batch_size=8, seed=17)
    reg = regularizers.get("group_l2", lam=0.02, n=12, groups=3)
    alg = solvers.get("ramda", regularizer=reg, lr=0.1, subproblem_solver="pg", pg_eps=1e-3, pg_max_iter=500)
    tr = TR.record(alg, p, 40, subproblems=True)
    q = TR.ramda_quantities(alg, tr)
    pg_res = tr.scalars["sub_residual"]
    assert np.all(pg_res <= q["eps_t"])  # PG stopped by (7) (not max_iter) at every step
    assert np.all(tr.sub_residual <= pg_res * (1 + 1e-9) + 1e-12)  # PG's certificate bounds the exact distance
    r = M.ramda_inexactness_7(tr.sub_residual, q["eps_t"], tr.sub_descent, tr.sub_objective)
    assert r.all_held
    strict = M.ramda_inexactness_7(tr.sub_residual, 1e-30, tr.sub_descent, tr.sub_objective)
    assert strict.n_held < tr.T  # PG's inexact points are not exact minimizers
    # the exact solver: residual at rounding level
    ex = solvers.get("ramda", regularizer=reg, lr=0.1)
    tre = TR.record(ex, p, 40, subproblems=True)
    assert np.max(tre.sub_residual / np.maximum(1.0, np.abs(tre.sub_objective))) < 1e-9
    assert M.ramda_stepsize_13(q["s"], q["alpha"]).all_held


def test_monitors_bad_input():
    with pytest.raises(ValueError, match="ms"):
        M.ga_condition_12(np.zeros((2, 2)), np.zeros((3, 2)), np.zeros(2))
    with pytest.raises(ValueError, match="x_star"):
        M.ga_condition_12(np.zeros((3, 2)), np.zeros((3, 2)), np.zeros(3))
    with pytest.raises(ValueError, match="kappa"):
        M.ga_kappa_condition(np.ones((3, 2)), eta=0.5, kappa=1.0)
    with pytest.raises(ValueError, match="Vs"):
        M.ga_kappa_condition()
    with pytest.raises(ValueError, match="rho"):
        M.proxgen_c3(np.ones((3, 2)), np.ones((3, 2)), np.ones(2))
    with pytest.raises(ValueError, match="alpha"):
        M.ramda_stepsize_13(np.ones(5), np.zeros(5))
    with pytest.raises(ValueError, match="eps"):
        M.ramda_inexactness_7(np.ones(3), np.ones(2))
    with pytest.raises(ValueError, match="fields"):
        TR.record(solvers.get("proxgen"), P.online_least_squares(3, 5, seed=0), 5, fields=("nu",))


# =============================================================== manifold
def _synthetic_sets():
    """K = 10 records of 4 groups: noise up to record 3, then fixed at the final set."""
    final = np.array([True, False, True, False])
    S = np.array([[True, True, True, True],
                  [False, False, True, False],
                  [True, False, True, False],  # first hit (record 2), then left again
                  [True, True, False, False]] + [final.tolist()] * 6)
    return S, final


def test_identification_on_a_synthetic_trace():
    S, final = _synthetic_sets()
    steps = 100 * np.arange(1, 11)
    assert MF.identification_index(S) == 4
    assert MF.identification_time(S, steps) == 500
    assert MF.first_hit_time(S, steps) == 300
    assert MF.active_set_changes(S) == 4  # records 1, 2, 3, 4 differ from their predecessor
    assert MF.active_set_changes(S, window=5) == 0  # stable over the last 5 records
    assert MF.active_set_changes(S, window=6) == 1  # record 4 is compared with record 3 (before the window)
    assert MF.active_set_changes(S, window=(3, 6)) == 2  # records 3 and 4
    assert MF.active_set_flips(S, window=(1, 3)) == 3 + 1  # {0, 1, 3}, then {0}
    np.testing.assert_array_equal(MF.distance_to_final(S), [2, 1, 0, 2, 0, 0, 0, 0, 0, 0])
    assert MF.identification_index(S, reference=~final) is None
    never = S.copy()
    never[-1] = ~final  # the last record moves: settled only at the last record
    assert MF.identification_index(never) == 9
    np.testing.assert_allclose(MF.sparsity_level(S[-1:]), [0.5])
    np.testing.assert_allclose(MF.sparsity_level(S[-1:], sizes=[1, 3, 2, 2]), [5 / 8])


def test_active_sets_of_elements_groups_and_regularizers():
    G = Groups(6, [np.array([0, 1]), np.array([2, 3, 4])])  # coordinate 5 in no group
    X = np.array([[0.0, 1e-3, 0, 0, 0, 7.0],
                  [0.0, 0.0, 0, 2.0, 0, 0.0]])
    np.testing.assert_array_equal(MF.active_set(X), X != 0)
    np.testing.assert_array_equal(MF.active_set(X, tol=1e-2), np.abs(X) > 1e-2)
    np.testing.assert_array_equal(MF.active_set(X, G), [[True, False], [False, True]])
    reg = regularizers.get("group_l2", lam=1.0, n=6, groups=G)
    np.testing.assert_array_equal(MF.active_set(X, reg), MF.active_set(X, G))
    s = MF.summary(np.vstack([X, X[1:], X[1:]]), G, steps=np.array([10, 20, 30, 40]))
    assert s["identification_time"] == 20 and s["identified_before_last"] and s["changes"] == 1
    assert s["final_size"] == 1 and s["sparsity"] == pytest.approx(2 / 5)  # weighted by group sizes


def test_manifold_on_a_real_run():
    """RAMDA's prox points on a group-lasso problem: the trace tools agree with a direct count."""
    p = P.stochastic_least_squares(12, 100, 150, batch_size=10, truth="group", group_size=3, active_groups=1,
                                   seed=18)
    reg = regularizers.get("group_l2", lam=0.05, n=12, groups=3)
    alg = solvers.get("ramda", regularizer=reg, lr=0.05, c=0.5)
    tr = TR.record(alg, p, 150, fields=())
    S = MF.active_set(tr.prox_point, reg)
    np.testing.assert_array_equal(S, np.array([reg.groups.norms(w) > 0 for w in tr.prox_point]))
    k = MF.identification_index(S)
    assert all(np.array_equal(S[j], S[-1]) for j in range(k, S.shape[0]))
    assert k == 0 or not np.array_equal(S[k - 1], S[-1])
    assert MF.active_set_changes(S, window=(k, S.shape[0])) == (1 if k > 0 else 0)


def test_manifold_bad_input():
    with pytest.raises(ValueError, match="X"):
        MF.active_set(np.zeros((2, 2, 2)))
    with pytest.raises(ValueError, match="window"):
        MF.active_set_changes(np.ones((4, 2), dtype=bool), window=(3, 2))
    with pytest.raises(ValueError, match="reference"):
        MF.identification_index(np.ones((4, 2), dtype=bool), reference=[True])
    with pytest.raises(ValueError, match="steps"):
        MF.identification_time(np.ones((4, 2), dtype=bool), steps=np.arange(3))
    with pytest.raises(ValueError, match="structure"):
        MF.active_set(np.zeros((2, 4)), Groups(6, 2))
    with pytest.raises(ValueError, match="tol"):
        MF.active_set(np.zeros((2, 4)), tol=-1.0)
