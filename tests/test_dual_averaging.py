"""mrda.txt: RDA (Alg. 1), modified RDA (Alg. 2), prox-SGD (eqs (8)-(9), (20)) and
sqrt(t)-prox-SGD (eqs (23)-(25)).

Two kinds of checks (the generic matrix of tests/test_algorithms.py runs too):

* reductions against code we did not write: with every lambda 0, prox-SGD is
  ``torch.optim.SGD`` and RDA is the dual-averaging recursion eq (6), written
  again here in numpy;
* printed formulas, checked rather than trusted: each closed form of the paper
  is written literally as a small numpy function and compared with CVXPY's
  argmin of the subproblem the paper says it solves, the subproblem also
  written literally (not through proxlab's reformulation). Where the printed
  form is wrong the test asserts that it fails and that proxlab passes
  (docs/errata/mrda_proxgen.md).

Tolerances
----------
``REDUCTION_ATOL = 1e-12`` (float64, 200 steps). The gradient stream is fixed
(it does not depend on the iterate), so two implementations of the same
recursion differ only by rounding of reordered operations: a few ulps per
step, accumulating at most linearly. With ``|x| <= 10`` that is
``200 * 4 * 2.2e-16 * 10 ~ 2e-12`` in the very worst case and ~1e-14 measured;
an error in the recursion (a wrong step size, a dropped term) is >= 1e-3.

``CVX_ATOL = 1e-7`` between a closed form and CVXPY (Clarabel, tolerances
1e-12, see proxlab.oracles.cvxpy_oracle.TOL). The subproblems here are
strongly convex with modulus >= 0.1 and data of order 1; Clarabel's solutions
agree with the closed forms to ~1e-9 (measured), so 1e-7 leaves a 100x
margin. A printed formula is declared wrong only when it misses CVXPY by more
than ``WRONG = 1e-2``, 1e5 times the tolerance.
"""

from __future__ import annotations

import cvxpy as cp
import numpy as np
import pytest

from proxlab import regularizers, solvers
from proxlab.oracles.cvxpy_oracle import TOL

REDUCTION_ATOL = 1e-12
CVX_ATOL = 1e-7
WRONG = 1e-2
T = 200


def _stream(rng, n, T=T):
    """A fixed gradient stream; ~40% of the coordinates are exactly zero for the
    first 5 steps (the dead-coordinate edge case)."""
    G = rng.standard_normal((T, n)) * 10.0 ** rng.uniform(-2, 1, n)
    G[:5, rng.random(n) < 0.4] = 0.0
    return G


def _argmin(objective, n):
    """CVXPY's argmin of ``objective(w)`` over ``w in R^n`` (Clarabel, tight)."""
    w = cp.Variable(n)
    prob = cp.Problem(cp.Minimize(objective(w)))
    prob.solve(solver=cp.CLARABEL, **TOL)
    assert prob.status == cp.OPTIMAL, prob.status
    return np.asarray(w.value, dtype=np.float64)


def _soft(z, thr):
    return np.sign(z) * np.maximum(np.abs(z) - thr, 0.0)


# ------------------------------------------------------------------------- reductions
@pytest.mark.parametrize("gamma", [0.5, 4.0])
@pytest.mark.parametrize("reg", [None, ("l1", {"lam": 0.0})], ids=["none", "l1-lam0"])
def test_prox_sgd_lambda0_is_torch_sgd(gamma, reg, rng):
    """Mapping: prox_sgd(gamma, power=0) = torch.optim.SGD(lr=1/gamma) (no
    momentum, no weight decay); power=0.5 = the same SGD with
    LambdaLR(lambda e: (e+1)^-1/2), i.e. alpha_t = 1/(gamma sqrt t)."""
    torch = pytest.importorskip("torch", reason="torch (CPU) is a test dependency: the SGD reduction needs it")
    n = 9
    G = _stream(rng, n)
    x0 = rng.standard_normal(n)
    for power in (0.0, 0.5):
        alg = solvers.get("prox_sgd", regularizer=reg, gamma=gamma, power=power)
        s = alg.init(x0)
        p = torch.tensor(x0.copy(), dtype=torch.float64, requires_grad=True)
        opt = torch.optim.SGD([p], lr=1.0 / gamma)
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda e: (e + 1.0) ** -power)
        for g in G:
            alg.step(s, g)
            p.grad = torch.tensor(g)
            opt.step()
            sched.step()
            np.testing.assert_allclose(s["x"], p.detach().numpy(), rtol=0, atol=REDUCTION_ATOL)


def _sda(x0, G, gamma, power, anchor):
    """Simple dual averaging, eq (6): w_{t+1} = w_0 - (1/beta_t) sum_{tau<=t} g_tau."""
    t = np.arange(1, G.shape[0] + 1, dtype=np.float64)
    return anchor - np.cumsum(G, axis=0) / (gamma * t ** power)[:, None]


@pytest.mark.parametrize("gamma,power", [(1.0, 0.5), (0.3, 0.75), (2.0, 0.0)])
@pytest.mark.parametrize("reg", [None, ("l1", {"lam": 0.0}), ("group_l2", {"lam": 0.0, "n": 8, "groups": 2})],
                         ids=["none", "l1-lam0", "group-lam0"])
def test_rda_lambda0_is_simple_dual_averaging(gamma, power, reg, rng):
    """RDA with Psi = 0 is eq (6) anchored at x0; modified RDA is eq (6) anchored
    at 0 whatever x0 is (Alg. 2: w_0 = 0, w_1 random)."""
    n = 8
    G = _stream(rng, n)
    x0 = rng.standard_normal(n)
    alg = solvers.get("rda", regularizer=reg, gamma=gamma, power=power)
    s = alg.init(x0)
    W = _sda(x0, G, gamma, power, x0)
    for k, g in enumerate(G):
        alg.step(s, g)
        np.testing.assert_allclose(s["x"], W[k], rtol=0, atol=REDUCTION_ATOL)
    np.testing.assert_array_equal(s["w0"], x0)  # dual averaging keeps its anchor
    if power == 0.5:
        mrda = solvers.get("mrda", regularizer=reg, gamma=gamma)
        s = mrda.init(x0)
        W = _sda(x0, G, gamma, power, 0.0)
        for k, g in enumerate(G):
            mrda.step(s, g)
            np.testing.assert_allclose(s["x"], W[k], rtol=0, atol=REDUCTION_ATOL)


def test_running_average_eq16_is_the_mean(rng):
    """(16)/(28): gbar_t = ((t-1)/t) gbar_{t-1} + g_t/t is the mean of g_1..g_t
    (1e-13: 200 roundings of O(1) numbers)."""
    G = _stream(rng, 7)
    alg = solvers.get("rda", regularizer=("l1", {"lam": 0.1}))
    s = alg.init(np.zeros(7))
    for k, g in enumerate(G):
        alg.step(s, g)
        np.testing.assert_allclose(s["gbar"], G[:k + 1].mean(axis=0), rtol=0, atol=1e-13)


# ------------------------------------------------------------------ eq (7): SDA = SGD+
@pytest.mark.parametrize("alpha", [0.5, 0.75, 1.0])
def test_eq7_sda_is_a_perturbed_sgd_recursion(alpha, rng):
    """Eq (7), last line, iterated from w_1 = w_0: it is the SDA recursion
    (holds, 200 steps); RDA with lambda = 0 follows it too."""
    n, gamma = 6, 1.3
    G = _stream(rng, n)
    w0 = rng.standard_normal(n)
    sda = _sda(w0, G, gamma, alpha, w0)
    w = w0.copy()
    alg = solvers.get("rda", regularizer=None, gamma=gamma, power=alpha)
    s = alg.init(w0)
    for k, g in enumerate(G):
        t = k + 1.0
        c = (1.0 - 1.0 / t) ** alpha
        w = (1.0 - c) * w0 + c * w - g / (gamma * t ** alpha)  # eq (7), last line
        alg.step(s, g)
        np.testing.assert_allclose(w, sda[k], rtol=0, atol=REDUCTION_ATOL)
        np.testing.assert_allclose(s["x"], w, rtol=0, atol=REDUCTION_ATOL)


def test_eq7_third_line_as_printed_double_counts_g_t(rng):
    """Eq (7), third line, prints sum_{tau=1}^{t} inside the bracket divided by
    (t-1)^alpha; evaluated literally it is SDA minus an extra g_t/(gamma t^alpha)
    (ERRATUM: the upper limit must be t-1; with t-1 the line is exact)."""
    n, gamma, alpha = 6, 1.3, 0.5
    G = _stream(rng, n)
    w0 = rng.standard_normal(n)
    sda = _sda(w0, G, gamma, alpha, w0)
    worst = 0.0
    for k in range(1, G.shape[0]):  # t >= 2 ((t-1)^alpha = 0 at t = 1)
        t = k + 1.0
        r = (t - 1.0) ** alpha / t ** alpha
        printed = (1 - r) * w0 + r * (w0 - G[:k + 1].sum(0) / (gamma * (t - 1) ** alpha)) - G[k] / (gamma * t ** alpha)
        fixed = (1 - r) * w0 + r * (w0 - G[:k].sum(0) / (gamma * (t - 1) ** alpha)) - G[k] / (gamma * t ** alpha)
        np.testing.assert_allclose(fixed, sda[k], rtol=0, atol=REDUCTION_ATOL)
        np.testing.assert_allclose(printed - sda[k], -G[k] / (gamma * t ** alpha), rtol=0, atol=REDUCTION_ATOL)
        worst = max(worst, float(np.max(np.abs(printed - sda[k]))))
    assert worst > WRONG


# ------------------------------------------------------------ RDA: eqs (11)-(14), (22)
def _rda_instance(rng, n=8):
    t = int(rng.integers(1, 400))
    gamma = float(rng.uniform(0.2, 3.0))
    beta = gamma * np.sqrt(t)
    w0 = rng.standard_normal(n)
    gbar = rng.standard_normal(n) * beta / t * rng.uniform(0.2, 2.0)  # |t gbar / beta| ~ 1
    lam = float(rng.uniform(0.05, 0.6)) * beta / t  # threshold t lam / beta ~ 0.05..0.6
    return t, beta, w0, gbar, lam


def _eq22(w0, gbar, t, beta, lam):
    """mrda.txt eq (22), the three printed cases."""
    c = w0 - t / beta * gbar
    thr = t / beta * lam
    return np.where(c > thr, w0 - t / beta * (gbar + lam),
                    np.where(c < -thr, w0 - t / beta * (gbar - lam), 0.0))


def test_eq22_rda_l1_closed_form_solves_eq21(rng):
    """Eq (22) is the argmin of (21) (holds), and (13)-(14) give the same point."""
    for _ in range(12):
        t, beta, w0, gbar, lam = _rda_instance(rng)
        n = w0.size
        y = _argmin(lambda w: gbar @ w + beta / (2 * t) * cp.sum_squares(w - w0) + lam * cp.norm1(w), n)
        np.testing.assert_allclose(_eq22(w0, gbar, t, beta, lam), y, rtol=0, atol=CVX_ATOL)
        s = t / beta
        np.testing.assert_allclose(_soft(w0 - s * gbar, s * lam), y, rtol=0, atol=CVX_ATOL)


def test_eq12_printed_centre_has_the_wrong_sign(rng):
    """Eq (12) prints the centre w_0 + (t/beta_t) gbar_t; its argmin is not that of
    (11) (ERRATUM), while (13)'s centre w_0 - (t/beta_t) gbar_t is."""
    for _ in range(8):
        t, beta, w0, gbar, lam = _rda_instance(rng)
        n = w0.size
        s = t / beta
        y11 = _argmin(lambda w: gbar @ w + beta / (2 * t) * cp.sum_squares(w - w0) + lam * cp.norm1(w), n)
        y12 = _argmin(lambda w: 0.5 * cp.sum_squares(w - (w0 + s * gbar)) + s * lam * cp.norm1(w), n)
        y13 = _argmin(lambda w: 0.5 * cp.sum_squares(w - (w0 - s * gbar)) + s * lam * cp.norm1(w), n)
        np.testing.assert_allclose(y13, y11, rtol=0, atol=CVX_ATOL)
        assert np.max(np.abs(y12 - y11)) > WRONG


@pytest.mark.parametrize("gamma,power", [(1.0, 0.5), (0.4, 0.5), (2.0, 0.25)])
def test_rda_steps_follow_eq22(gamma, power, rng):
    """proxlab's RDA with l1, step by step along a run, is eq (22) with the
    running average and beta_t = gamma t^power."""
    n, lam = 10, 0.3
    G = _stream(rng, n, 60)
    x0 = rng.standard_normal(n)
    alg = solvers.get("rda", regularizer=("l1", {"lam": lam}), gamma=gamma, power=power)
    s = alg.init(x0)
    zeros = 0
    for k, g in enumerate(G):
        t = k + 1
        alg.step(s, g)
        want = _eq22(x0, G[:t].mean(0), t, gamma * t ** power, lam)
        np.testing.assert_allclose(s["x"], want, rtol=0, atol=1e-12)
        zeros += int(np.sum(s["x"] == 0))
    assert zeros > 0  # the thresholded branch was exercised


def test_rda_with_anchor_zero_is_modified_rda(rng):
    """Algorithm 2 = Algorithm 1 with the anchor 0: RDA started at 0 and modified
    RDA started anywhere make identical iterates on the same gradients, and
    modified RDA forgets its (random) w_1 after the first step."""
    n = 12
    reg = regularizers.get("group_l2", lam=0.2, n=n, groups=[np.arange(0, 5), np.arange(5, 6), np.arange(6, 12)])
    G = _stream(rng, n, 50)
    rda = solvers.get("rda", regularizer=reg, gamma=1.7)
    mrda = solvers.get("mrda", regularizer=reg, gamma=1.7)
    a, b, c = rda.init(np.zeros(n)), mrda.init(rng.standard_normal(n)), mrda.init(rng.standard_normal(n))
    for g in G:
        rda.step(a, g)
        mrda.step(b, g)
        mrda.step(c, g)
        np.testing.assert_array_equal(a["x"], b["x"])
        np.testing.assert_array_equal(b["x"], c["x"])


def test_mrda_solves_eq29_not_the_h_equals_norm_squared_reading(rng):
    """Alg. 2's input says h(w) = ||w||^2, its update (29) has beta_t/(2t) ||w||^2
    (h = ||w||^2/2). proxlab implements (29): its steps are CVXPY's argmin of (29)
    as printed, and measurably not the argmin with (beta_t/t) h(w), h = ||w||^2
    (the two readings of an ambiguous algorithm box)."""
    n, lam, gamma = 8, 0.05, 1.0
    G = _stream(rng, n, 6)
    alg = solvers.get("mrda", regularizer=("l1", {"lam": lam}), gamma=gamma)
    s = alg.init(rng.standard_normal(n))
    gap = 0.0
    for k, g in enumerate(G):
        t = k + 1
        beta = gamma * np.sqrt(t)
        gbar = G[:t].mean(0)
        alg.step(s, g)
        y29 = _argmin(lambda w: gbar @ w + lam * cp.norm1(w) + beta / (2 * t) * cp.sum_squares(w), n)
        yh = _argmin(lambda w: gbar @ w + lam * cp.norm1(w) + beta / t * cp.sum_squares(w), n)
        np.testing.assert_allclose(s["x"], y29, rtol=0, atol=CVX_ATOL)
        gap = max(gap, float(np.max(np.abs(yh - y29))))
    assert gap > WRONG


# ---------------------------------------------------------------- prox-SGD: eq (20)
def _eq20(w, g, alpha, lam):
    """mrda.txt eq (20), the three printed cases."""
    c = w - alpha * g
    return np.where(c > alpha * lam, w - alpha * (g + lam),
                    np.where(c < -alpha * lam, w - alpha * (g - lam), 0.0))


def test_eq20_prox_sgd_l1_closed_form_solves_eq19(rng):
    for _ in range(12):
        n = 8
        w, g = rng.standard_normal(n), rng.standard_normal(n) * 3
        alpha, lam = float(rng.uniform(0.05, 1.0)), float(rng.uniform(0.1, 2.0))
        y = _argmin(lambda v: g @ v + cp.sum_squares(v - w) / (2 * alpha) + lam * cp.norm1(v), n)
        np.testing.assert_allclose(_eq20(w, g, alpha, lam), y, rtol=0, atol=CVX_ATOL)


@pytest.mark.parametrize("gamma,power", [(1.0, 0.5), (0.8, 0.5), (2.0, 0.0)])
def test_prox_sgd_steps_follow_eq20(gamma, power, rng):
    n, lam = 10, 0.2
    G = _stream(rng, n, 60)
    alg = solvers.get("prox_sgd", regularizer=("l1", {"lam": lam}), gamma=gamma, power=power)
    s = alg.init(rng.standard_normal(n))
    zeros = 0
    for k, g in enumerate(G):
        alpha = 1.0 / (gamma * (k + 1.0) ** power)
        want = _eq20(s["x"].copy(), g, alpha, lam)
        alg.step(s, g)
        np.testing.assert_allclose(s["x"], want, rtol=0, atol=1e-12)
        zeros += int(np.sum(s["x"] == 0))
    assert zeros > 0


# ------------------------------------------------------ sqrt(t)-prox-SGD: (23)-(25)
def _eq24(w, g, t, lam):
    """mrda.txt eq (24) as printed, with alpha_t = 1/sqrt(t) (the step of (23))."""
    alpha = 1.0 / np.sqrt(t)
    c = w - alpha * g
    thr = np.sqrt(t) * lam
    return np.where(c > thr, c - thr, np.where(c < -thr, c + thr, 0.0))


def test_eq24_solves_eq23_and_eq25_is_equivalent(rng):
    """(24) is the argmin of (23)'s subproblem, and (25) has the same argmin (holds)."""
    for _ in range(10):
        n = 8
        t = int(rng.integers(1, 100))
        w, g = rng.standard_normal(n) * 3, rng.standard_normal(n) * 3
        lam = float(rng.uniform(0.02, 0.3))
        half = w - g / np.sqrt(t)  # (23)
        y23 = _argmin(lambda v: 0.5 * cp.sum_squares(v - half) + np.sqrt(t) * lam * cp.norm1(v), n)
        y25 = _argmin(lambda v: g @ v + np.sqrt(t) / 2 * cp.sum_squares(v - w) + t * lam * cp.norm1(v), n)
        np.testing.assert_allclose(_eq24(w, g, t, lam), y23, rtol=0, atol=CVX_ATOL)
        np.testing.assert_allclose(y25, y23, rtol=0, atol=CVX_ATOL)


def test_sqrt_t_prox_sgd_steps_follow_eq24(rng):
    n, lam = 10, 0.02
    G = _stream(rng, n, 60)
    alg = solvers.get("sqrt_t_prox_sgd", regularizer=("l1", {"lam": lam}))
    s = alg.init(rng.standard_normal(n) * 3)
    for k, g in enumerate(G):
        want = _eq24(s["x"].copy(), g, k + 1.0, lam)
        alg.step(s, g)
        np.testing.assert_allclose(s["x"], want, rtol=0, atol=1e-12)


def test_sqrt_t_prox_sgd_with_gamma_solves_eq25_with_gamma(rng):
    """For gamma != 1 the class solves (25) with sqrt(t) -> gamma sqrt(t):
    argmin <g, w> + (gamma sqrt t / 2) ||w - w_t||^2 + t lam ||w||_1 (CVXPY)."""
    n, lam, gamma = 8, 0.03, 2.5
    alg = solvers.get("sqrt_t_prox_sgd", regularizer=("l1", {"lam": lam}), gamma=gamma)
    s = alg.init(rng.standard_normal(n))
    for k, g in enumerate(_stream(rng, n, 5)):
        t = k + 1.0
        w = s["x"].copy()
        alg.step(s, g)
        y = _argmin(lambda v: g @ v + gamma * np.sqrt(t) / 2 * cp.sum_squares(v - w) + t * lam * cp.norm1(v), n)
        np.testing.assert_allclose(s["x"], y, rtol=0, atol=CVX_ATOL)


@pytest.mark.parametrize("name", ["l1", "group_l2", "mcp"])
def test_sqrt_t_prox_sgd_scales_the_regularizer_by_t(name, rng):
    """The step is prox_{alpha_t (t Psi)}(w - alpha_t g): the catalogue prox of
    ``t Psi`` with step alpha_t, where ``t Psi`` is built as a catalogue
    regularizer: ``lam -> t lam`` for l1 and group l2 (positively homogeneous in
    lam) and ``(lam, gamma) -> (t lam, gamma / t)`` for MCP
    (t MCP_{lam, gamma} = MCP_{t lam, gamma/t}). Agreement to 1e-12 relative:
    the same problem with differently rounded parameters."""
    n, lam, gamma = 12, 0.05, 1.5
    groups = [np.arange(0, 5), np.arange(5, 6), np.arange(6, 12)]
    params = {"l1": {}, "group_l2": {"n": n, "groups": groups}, "mcp": {"gamma": 3.0}}[name]
    alg = solvers.get("sqrt_t_prox_sgd", regularizer=regularizers.get(name, lam=lam, **params), gamma=gamma)
    s = alg.init(rng.standard_normal(n))
    for k, g in enumerate(_stream(rng, n, 30)):
        t = k + 1.0
        alpha = 1.0 / (gamma * np.sqrt(t))
        scaled_params = dict(params, gamma=params["gamma"] / t) if name == "mcp" else params
        scaled = regularizers.get(name, lam=t * lam, **scaled_params)
        want = scaled.prox(s["x"] - alpha * g, alpha)
        alg.step(s, g)
        np.testing.assert_allclose(s["x"], want, rtol=1e-12, atol=1e-12)
