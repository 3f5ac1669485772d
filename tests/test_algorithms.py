"""The algorithm test matrix: every check applied to every registered algorithm.

Family-specific checks (reductions to torch.optim / madgrad, printed formulas)
live in the per-family test files.
"""

import inspect

import numpy as np
import pytest

from proxlab import solvers
from proxlab.validate import validate_algorithm

ALGS = []
for k, cls in enumerate(solvers.classes()):
    for j, alg in enumerate(cls.examples(np.random.default_rng([7, k]))):
        ALGS.append((f"{cls.name}-{j}", alg))
IDS = [a for a, _ in ALGS]


def _dim(alg, rng):
    reg = alg.regularizer
    return reg.dim if reg is not None and reg.dim is not None else int(rng.integers(3, 12))


def _grads(rng, n, T):
    scale = 10.0 ** rng.uniform(-2, 1, n)
    G = rng.standard_normal((T, n)) * scale
    G[:3, rng.random(n) < 0.3] = 0.0  # coordinates with exactly zero gradient at the first steps
    return G


@pytest.mark.parametrize("name,alg", ALGS, ids=IDS)
def test_kernel_equals_python_path(name, alg, rng):
    """The fused Numba kernel and the readable subproblem -> prox -> advance
    composition are two implementations of one rule: 60 steps agree to 1e-12
    relative (float64 rounding of reordered sums, accumulated)."""
    n = _dim(alg, rng)
    x0 = rng.standard_normal(n)
    s1, s2 = alg.init(x0), alg.init(x0)
    for g in _grads(rng, n, 60):
        a = alg.step(s1, g)
        b = alg.step_python(s2, g)
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(s1["S"], s2["S"], rtol=1e-10, atol=1e-12)
    assert s1.t == s2.t == 60


@pytest.mark.parametrize("name,alg", ALGS, ids=IDS)
def test_step_solves_its_subproblem_per_oracle(name, alg, rng):
    """Each step's prox point equals the oracle's argmin of that step's own
    subproblem (CVXPY or the global 1-D search); see proxlab.validate."""
    row = validate_algorithm(alg, rng, 15)
    assert row.oracle_failures == 0
    assert row.failures == 0, row


@pytest.mark.parametrize("name,alg", ALGS, ids=IDS)
def test_state_round_trip_resumes_identically(name, alg, rng, tmp_path):
    n = _dim(alg, rng)
    G = _grads(rng, n, 20)
    s = alg.init(rng.standard_normal(n))
    for g in G[:10]:
        alg.step(s, g)
    s.save(tmp_path / "state.npz")
    r = solvers.State.load(tmp_path / "state.npz")
    assert r.t == s.t and r.fields == s.fields
    for g in G[10:]:
        alg.step(s, g)
        alg.step(r, g)
    np.testing.assert_array_equal(s["x"], r["x"])
    np.testing.assert_array_equal(s["S"], r["S"])


@pytest.mark.parametrize("name,alg", ALGS, ids=IDS)
def test_rejected_gradient_leaves_state_untouched(name, alg, rng):
    n = _dim(alg, rng)
    s = alg.init(rng.standard_normal(n))
    for g in _grads(rng, n, 3):
        alg.step(s, g)
    before = s.copy()
    bad = rng.standard_normal(n)
    bad[n // 2] = np.nan
    with pytest.raises(ValueError, match="grad"):
        alg.step(s, bad)
    with pytest.raises(ValueError, match="grad"):
        alg.step(s, np.ones(n + 1))
    for key in ("x", "S", "sc"):
        np.testing.assert_array_equal(s[key], before[key])
    assert s.t == before.t


def test_nan_policy_skip_counts_and_keeps_state(rng):
    alg = solvers.get("proxgen", regularizer=("l1", {"lam": 0.1}), nan_policy="skip")
    s = alg.init(np.ones(4))
    alg.step(s, np.ones(4))
    before = s.copy()
    alg.step(s, np.array([1.0, np.inf, 0.0, 1.0]))
    assert alg.skipped == 1 and s.t == before.t
    np.testing.assert_array_equal(s["x"], before["x"])
    with pytest.raises(ValueError, match="nan_policy"):
        solvers.get("proxgen", nan_policy="ignore")


@pytest.mark.parametrize("cls", solvers.classes(), ids=solvers.names())
def test_hyperparameters_are_validated(cls):
    sig = inspect.signature(cls.__init__).parameters
    for key in cls.defaults:
        if key in ("lr",) or key.startswith("lr"):
            bad_values = [0.0, -1.0, float("nan")]
        elif key.startswith("beta") or key in ("momentum",):
            bad_values = [-0.1, 1.0, 1.5]
        elif key.startswith("eps") or key.startswith("lam"):
            bad_values = [-1e-3, float("inf")]
        else:
            continue
        for v in bad_values:
            with pytest.raises(ValueError, match=key):
                cls(**{key: v})
    with pytest.raises(TypeError, match="unknown hyperparameter"):
        cls(not_a_hyperparameter=1.0)
    assert "regularizer" in sig or cls.__init__ is solvers.Algorithm.__init__


def test_unknown_algorithm_lists_the_registry():
    with pytest.raises(ValueError, match="unknown algorithm 'adamz'.*proxgen"):
        solvers.get("adamz")


@pytest.mark.parametrize("name,alg", ALGS, ids=IDS)
def test_specialized_kernel_equals_generic_kernel(name, alg, rng):
    """Where an algorithm freezes its branch key into a specialized kernel (so
    the loop vectorizes), that kernel and the generic one give the same bits:
    the same IEEE operations in the same order (no fastmath anywhere)."""
    kernel = alg.kernel()
    if kernel is None or kernel is type(alg)._kernel:
        pytest.skip(f"{name} steps with its generic kernel (no specialization for this regularizer)")
    n = _dim(alg, rng)
    x0 = rng.standard_normal(n)
    s1, s2 = alg.init(x0), alg.init(x0)
    spec, h = alg._spec(), alg.h
    for t, g in enumerate(_grads(rng, n, 40), start=1):
        kernel(t, s1["x"], g, s1["S"], s1["sc"], h, *spec, np.empty((2, n)))
        type(alg)._kernel(t, s2["x"], g, s2["S"], s2["sc"], h, *spec, np.empty((2, n)))
    np.testing.assert_array_equal(s1["x"], s2["x"])
    np.testing.assert_array_equal(s1["S"], s2["S"])


def test_group_family_partial_cover_takes_the_two_pass_path_and_agrees(rng):
    """Group Adam with groups covering only part of the coordinates (the
    ungrouped ones get the l1/l2 part only) equals its Python path."""
    alg = solvers.get("group_adam", lam1=0.01, lam21=3.0, lam2=0.01, n=10,
                      groups=[np.arange(0, 4), np.arange(6, 9)], lr=0.1)
    s1 = alg.init(rng.standard_normal(10))
    s2 = s1.copy()
    for g in _grads(rng, 10, 30):
        alg.step(s1, g)
        alg.step_python(s2, g)
    np.testing.assert_allclose(s1["x"], s2["x"], rtol=1e-10, atol=1e-12)
    assert np.all(s1["x"][[4, 5, 9]] != 0.0)  # ungrouped: only lam1 (small) acts
    assert np.any(s1["x"][:4] == 0.0) or np.any(s1["x"][6:9] == 0.0)  # a whole group was zeroed


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_first_nonfinite_finds_the_first_bad_entry(dtype, bad, rng):
    from proxlab.solvers._base import first_nonfinite

    g = rng.standard_normal(1003).astype(dtype)
    assert first_nonfinite(g) == -1
    g[[17, 500]] = bad
    assert first_nonfinite(g) == 17
    g[:] = np.finfo(dtype).max  # huge but finite: g * 0 is still 0
    assert first_nonfinite(g) == -1
