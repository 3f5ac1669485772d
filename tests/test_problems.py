"""simulations.problems: Numba oracles against finite differences and numpy,
loss/gradient consistency, seeded reproducibility, the batch tables, the real
data sets (no network), and argument checks.

Tolerances
----------
* Finite differences: central differences with ``h = 1e-6`` on smooth losses
  of O(1) curvature have truncation error ~``h^2 |f'''|`` ~ 1e-12 and rounding
  ~``eps |f| / h`` ~ 1e-10; we ask 1e-6 relative (a wrong factor or sign
  gives O(1)).
* Numba vs numpy: the same sums in a different order, ~1e-15 relative; we ask
  1e-11 (float64) and 1e-5 (a float32 iterate: ``x`` rounded to 6e-8 relative).
"""

import socket
import urllib.request

import numpy as np
import pytest

from proxlab import solvers
from proxlab.simulations import problems as P
from proxlab.solvers.run import run


def _fd_grad(loss, x, t, data, h=1e-6):
    g = np.empty_like(x)
    for j in range(x.size):
        e = np.zeros_like(x)
        e[j] = h
        g[j] = (loss(x + e, t, data) - loss(x - e, t, data)) / (2 * h)
    return g


def _small_problems():
    return {
        "least_squares": P.stochastic_least_squares(7, 40, 30, batch_size=4, seed=1),
        "logistic": P.stochastic_logistic(6, 40, 30, batch_size=5, seed=2),
        "softmax": P.finite_sum_problem("softmax", np.random.default_rng(3).standard_normal((30, 4)),
                                        np.random.default_rng(4).integers(0, 3, 30), batch_size=6,
                                        sampling="epoch", steps=20, seed=5),
    }


@pytest.mark.parametrize("kind", P.KINDS)
def test_gradient_matches_finite_differences(kind, rng):
    p = _small_problems()[kind]
    n = p.x0.size
    for t in (1, 7, 20):
        x = 0.7 * rng.standard_normal(n)
        g = np.empty(n)
        p.grad(x, t, p.data, g)
        fd = _fd_grad(p.loss, x, t, p.data)
        np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("kind", P.KINDS)
def test_oracles_match_numpy_objective_of_the_batch(kind, rng):
    """One step's loss and gradient equal the numpy FiniteSumObjective with the
    batch's rows weighted 1/B (an independent vectorized implementation)."""
    p = _small_problems()[kind]
    n = p.x0.size
    batches = p.meta["batches"]
    for t in (1, 5, 33):  # 33 wraps around the 20- or 30-row table
        row = batches[(t - 1) % batches.shape[0]]
        w = np.zeros(p.meta["A"].shape[0])
        np.add.at(w, row, 1.0 / row.size)
        f = P.FiniteSumObjective(kind, p.meta["A"], p.meta["b"], w, p.meta["n_classes"])
        x = rng.standard_normal(n)
        g = np.empty(n)
        p.grad(x, t, p.data, g)
        np.testing.assert_allclose(g, f.grad(x), rtol=1e-11, atol=1e-13)
        assert p.loss(x, t, p.data) == pytest.approx(f.value(x), rel=1e-11)


@pytest.mark.parametrize("kind", P.KINDS)
def test_cumulative_objective_is_the_sum_of_step_losses(kind, rng):
    p = _small_problems()[kind]
    x = 0.5 * rng.standard_normal(p.x0.size)
    for T in (1, 13, 45):  # 45 wraps around the batch table
        f = P.cumulative_objective(p, T)
        direct = sum(p.loss(x, t, p.data) for t in range(1, T + 1))
        assert f.value(x) == pytest.approx(direct, rel=1e-11)
        G = np.zeros(p.x0.size)
        g = np.empty(p.x0.size)
        for t in range(1, T + 1):
            p.grad(x, t, p.data, g)
            G += g
        np.testing.assert_allclose(f.grad(x), G, rtol=1e-10, atol=1e-12)


def test_lipschitz_bound_holds(rng):
    """||grad f(x) - grad f(y)|| <= L ||x - y|| on random pairs (L is an upper bound)."""
    for p in _small_problems().values():
        f = P.average_objective(p)
        L = f.lipschitz()
        for _ in range(20):
            x, y = rng.standard_normal((2, f.n)) * 2
            assert np.linalg.norm(f.grad(x) - f.grad(y)) <= L * np.linalg.norm(x - y) * (1 + 1e-12)


def test_least_squares_lipschitz_is_exact(rng):
    p = P.stochastic_least_squares(5, 30, 10, seed=7)
    f = P.average_objective(p)
    H = p.meta["A"].T @ p.meta["A"] / 30
    assert f.lipschitz() == pytest.approx(np.linalg.eigvalsh(H).max(), rel=1e-12)


def test_float32_iterate(rng):
    p = P.stochastic_least_squares(8, 30, 10, batch_size=3, seed=8, dtype=np.float32)
    assert p.x0.dtype == np.float32
    x = rng.standard_normal(8).astype(np.float32)
    g32 = np.empty(8, dtype=np.float32)
    g64 = np.empty(8)
    p.grad(x, 2, p.data, g32)
    p.grad(x.astype(np.float64), 2, p.data, g64)
    np.testing.assert_allclose(g32, g64, rtol=1e-5, atol=1e-5)


# ---------------------------------------------------------------- seeding
_GENERATORS = {
    "least_squares": lambda **k: P.least_squares(12, 50, steps=20, sampling="epoch", batch_size=3, **k),
    "least_squares_group": lambda **k: P.least_squares(12, 50, truth="group", group_size=3, **k),
    "logistic": lambda **k: P.logistic(10, 60, x0="random", **k),
    "alternating": lambda **k: P.alternating(10, 40, period=3, noise=0.1, **k),
    "drifting": lambda **k: P.drifting(10, 40, drift="random_walk", **k),
    "lasso": lambda **k: P.lasso_gaussian(30, 40, 3, 0.2, rho=0.3, **k),
    "digits": lambda **k: P.digits_group_logistic(epochs=1, **k),
}


@pytest.mark.parametrize("name", sorted(_GENERATORS))
def test_same_seed_same_arrays_other_seed_other_arrays(name):
    make = _GENERATORS[name]
    a, b, c = make(seed=11), make(seed=11), make(seed=12)
    for key in ("A", "b", "batches"):
        np.testing.assert_array_equal(a.meta[key], b.meta[key])
    np.testing.assert_array_equal(a.x0, b.x0)
    if a.meta["truth"] is not None:
        np.testing.assert_array_equal(a.meta["truth"], b.meta["truth"])
    differs = [not np.array_equal(a.meta[k], c.meta[k]) for k in ("A", "b", "batches")]
    assert any(differs)
    # an explicit Generator gives the same problem as the seed it was made from
    d = make(rng=np.random.default_rng(11))
    np.testing.assert_array_equal(a.meta["A"], d.meta["A"])
    np.testing.assert_array_equal(a.meta["batches"], d.meta["batches"])


def test_compiled_run_is_reproducible_and_matches_the_loss_oracle():
    """The problems drive run()'s compiled loop; same seed -> bit-identical runs."""
    def go():
        p = P.lasso_gaussian(40, 30, 3, 0.1, batch_size=5, seed=21)
        alg = solvers.get("proxgen", regularizer=p.meta["regularizer"], lr=0.05)
        return p, run(alg, p, 60, record=("x", "loss"))
    p, a = go()
    _, b = go()
    assert a.compiled
    np.testing.assert_array_equal(a.records["x"], b.records["x"])
    np.testing.assert_array_equal(a.records["loss"], b.records["loss"])
    # loss[k] is f_t at the iterate before step t
    x_before = a.records["x"][9]
    assert a.records["loss"][10] == pytest.approx(p.loss(x_before, 11, p.data), rel=1e-12)


# ----------------------------------------------------------- batch tables
def test_batch_tables():
    rng = np.random.default_rng(0)
    np.testing.assert_array_equal(P.batch_table(10, 2, 5, "stream"), np.arange(10).reshape(5, 2))
    np.testing.assert_array_equal(P.batch_table(4, 3, 3, "cyclic").ravel(), [0, 1, 2, 3, 0, 1, 2, 3, 0])
    ep = P.batch_table(7, 3, 7, "epoch", rng).ravel()  # 21 draws = 3 epochs of 7
    for e in range(3):
        assert sorted(ep[7 * e:7 * (e + 1)]) == list(range(7))
    iid = P.batch_table(5, 4, 50, "iid", rng)
    assert iid.min() >= 0 and iid.max() <= 4 and set(iid.ravel()) == set(range(5))
    assert iid.dtype == np.int64


def test_online_problem_sees_each_row_once_in_order():
    p = P.online_least_squares(5, 30, batch_size=2, seed=3)
    np.testing.assert_array_equal(p.meta["batches"].ravel(), np.arange(60))
    f = P.cumulative_objective(p, 30)
    np.testing.assert_array_equal(f.w, np.full(60, 0.5))


# ------------------------------------------------------------ ground truth
def test_truths():
    p = P.least_squares(40, 20, s=6, seed=1)
    xt = p.meta["truth"]
    assert np.count_nonzero(xt) == 6 and np.all(np.abs(xt[xt != 0]) >= 0.5) and np.all(np.abs(xt) <= 1.5)
    np.testing.assert_array_equal(p.meta["support"], xt != 0)
    q = P.least_squares(40, 20, truth="group", group_size=4, active_groups=3, seed=1)
    gn = q.meta["groups"].norms(q.meta["truth"])
    assert q.meta["groups"].n_groups == 10 and np.count_nonzero(gn) == 3
    lasso = P.lasso_gaussian(50, 80, 4, 0.5, beta_min=2.0, seed=2)
    th = lasso.meta["truth"]
    assert sorted(np.unique(np.abs(th))) == [0.0, 2.0] and np.count_nonzero(th) == 4
    assert lasso.meta["lam"] == pytest.approx(2 * 0.5 * np.sqrt(2 * np.log(80) / 50))
    # noise-free: the targets are exactly A x_true
    clean = P.least_squares(10, 30, noise=0.0, seed=3)
    np.testing.assert_allclose(clean.meta["b"], clean.meta["A"] @ clean.meta["truth"], rtol=1e-14)


def test_lasso_objective_is_the_papers(rng):
    """average_objective + lam ||.||_1 is F = ||X theta - y||^2/(2n) + lam ||theta||_1."""
    p = P.lasso_gaussian(30, 20, 3, 0.1, seed=4)
    X, y, lam = p.meta["A"], p.meta["b"], p.meta["lam"]
    th = rng.standard_normal(20)
    F = P.average_objective(p).value(th) + lam * np.abs(th).sum()
    assert F == pytest.approx(np.sum((X @ th - y) ** 2) / 60 + lam * np.abs(th).sum(), rel=1e-13)


def test_adversarial_sequences():
    p = P.alternating(10, 12, period=2, s=2, seed=5)
    path, xa, xb = p.meta["truth_path"], p.meta["truth_a"], p.meta["truth_b"]
    assert not np.any((xa != 0) & (xb != 0))  # disjoint supports
    for t in range(12):
        np.testing.assert_array_equal(path[t], xa if (t // 2) % 2 == 0 else xb)
    np.testing.assert_allclose(p.meta["b"], np.einsum("ij,ij->i", p.meta["A"], path), rtol=1e-14)
    q = P.alternating(10, 20, kind="logistic", seed=5)
    assert set(np.unique(q.meta["b"])) <= {-1.0, 1.0}
    d = P.drifting(10, 11, s=2, seed=6)
    np.testing.assert_allclose(d.meta["truth_path"][0], d.meta["truth_a"])
    np.testing.assert_allclose(d.meta["truth_path"][-1], d.meta["truth_b"])
    np.testing.assert_allclose(d.meta["truth_path"][5], 0.5 * (d.meta["truth_a"] + d.meta["truth_b"]))
    rw = P.drifting(10, 50, drift="random_walk", step=0.1, seed=7)
    moved = np.abs(np.diff(rw.meta["truth_path"], axis=0)).sum(axis=0) > 0
    np.testing.assert_array_equal(moved, rw.meta["truth_a"] != 0)  # the walk stays on the support


# ------------------------------------------------------------- real data
def _forbid_network(monkeypatch):
    calls = []

    def boom(*a, **k):
        calls.append(a)
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", boom)
    monkeypatch.setattr(socket, "create_connection", boom)
    monkeypatch.setattr(urllib.request, "urlopen", boom)
    try:
        import requests

        monkeypatch.setattr(requests, "get", boom)
        monkeypatch.setattr(requests.Session, "request", boom)
    except ImportError:  # pragma: no cover
        pass
    return calls


def test_real_data_without_network(monkeypatch):
    """Both data sets are built with every network entry point patched to fail,
    from a cold cache; MNIST-1D's generator leaves the global RNG states as they were."""
    import random

    calls = _forbid_network(monkeypatch)
    import mnist1d.data as md

    monkeypatch.setattr(md, "get_dataset", lambda *a, **k: pytest.fail("get_dataset (downloads) was called"))
    P._digits_arrays.cache_clear()
    P._mnist1d_arrays.cache_clear()
    np.random.seed(123)
    random.seed(123)
    before = (np.random.get_state()[1].copy(), random.getstate())
    d = P.digits_group_logistic(seed=0, epochs=1)
    m = P.mnist1d_group_logistic(seed=0, epochs=1)
    assert calls == []
    after = (np.random.get_state()[1], random.getstate())
    np.testing.assert_array_equal(before[0], after[0])
    assert before[1] == after[1]
    # digits: 1797 images, 64 pixels, 10 classes, 20% held out; groups = pixels, bias ungrouped
    assert d.meta["A"].shape[0] + d.meta["A_test"].shape[0] == 1797
    assert d.meta["A"].shape[1] == 65 and d.x0.size == 650 and d.meta["n_classes"] == 10
    G = d.meta["groups"]
    assert G.n_groups == 64 and np.all(G.sizes == 10) and not G.covered()[-10:].any()
    np.testing.assert_allclose(d.meta["A"][:, :64].mean(axis=0), 0.0, atol=1e-12)  # standardized on train
    # MNIST-1D: the package's split, 40 features, 10 classes
    assert m.meta["A"].shape == (4000, 41) and m.meta["A_test"].shape == (1000, 41) and m.x0.size == 410
    assert sorted(np.unique(m.meta["b"])) == list(range(10))
    # the generator is deterministic: the same signals in a second build
    P._mnist1d_arrays.cache_clear()
    m2 = P.mnist1d_group_logistic(seed=1, epochs=1)
    np.testing.assert_array_equal(m.meta["A"], m2.meta["A"])


def test_accuracy_of_a_trained_digits_model():
    """Sanity of labels/layout: a few hundred full-batch gradient steps separate
    the classes far above chance (10%); zeros predict class 0 everywhere."""
    p = P.digits_group_logistic(seed=0, epochs=1)
    f = P.average_objective(p)
    x = np.zeros(f.n)
    step = 1.0 / f.lipschitz()
    for _ in range(300):
        x -= step * f.grad(x)
    assert P.accuracy(p, x, "train") > 0.9 and P.accuracy(p, x, "test") > 0.85
    assert P.accuracy(p, np.zeros(f.n), "test") == pytest.approx(np.mean(p.meta["b_test"] == 0))


# -------------------------------------------------------------- bad input
@pytest.mark.parametrize("call, param", [
    (lambda: P.least_squares(10, 20), "seed"),
    (lambda: P.least_squares(10, 20, seed=1, rng=np.random.default_rng(1)), "seed"),
    (lambda: P.least_squares(0, 20, seed=1), "n"),
    (lambda: P.least_squares(10, 20, s=11, seed=1), "s"),
    (lambda: P.least_squares(10, 20, noise=-1.0, seed=1), "noise"),
    (lambda: P.least_squares(10, 20, truth="group", seed=1), "group_size"),
    (lambda: P.least_squares(10, 20, truth="group", group_size=3, seed=1), "group_size"),
    (lambda: P.least_squares(10, 20, sampling="shuffle", seed=1), "sampling"),
    (lambda: P.least_squares(10, 20, batch_size=5, steps=5, seed=1), "stream"),
    (lambda: P.least_squares(10, 20, x0="ones", seed=1), "x0"),
    (lambda: P.least_squares(10, 20, rho=1.0, seed=1), "rho"),
    (lambda: P.logistic(10, 20, scale=-1.0, seed=1), "scale"),
    (lambda: P.alternating(10, 20, s=6, seed=1), "s"),
    (lambda: P.alternating(10, 20, kind="hinge", seed=1), "kind"),
    (lambda: P.drifting(10, 20, drift="sine", seed=1), "drift"),
    (lambda: P.lasso_gaussian(20, 10, 11, seed=1), "s"),
    (lambda: P.lasso_gaussian(20, 10, 2, sigma=-0.1, seed=1), "sigma"),
    (lambda: P.digits_group_logistic(test_size=1.0, seed=1), "test_size"),
    (lambda: P.finite_sum_problem("logistic", np.ones((3, 2)), np.array([1.0, 0.0, -1.0])), "labels"),
    (lambda: P.finite_sum_problem("huber", np.ones((3, 2)), np.ones(3)), "kind"),
    (lambda: P.batch_table(5, 2, 3, "epoch"), "rng"),
    (lambda: P.FiniteSumObjective("least_squares", np.ones((3, 2)), np.ones(3), -np.ones(3)), "w"),
])
def test_bad_input_raises_value_error_naming_the_parameter(call, param):
    with pytest.raises(ValueError, match=param):
        call()


def test_cumulative_objective_needs_a_generated_problem():
    from proxlab.solvers.run import Problem

    with pytest.raises(ValueError, match="meta"):
        P.cumulative_objective(Problem(x0=np.zeros(2), grad=P.least_squares_grad), 3)
    with pytest.raises(ValueError, match="T"):
        P.cumulative_objective(P.online_least_squares(3, 5, seed=0), 0)
