"""solvers.run: the compiled loop equals the Python loop, records what is asked."""

import numpy as np
import pytest
from numba import njit

from proxlab import solvers
from proxlab.solvers.run import Problem, run


@njit(cache=True)
def _ls_grad(x, t, data, out):
    A, b = data
    i = (t - 1) % A.shape[0]
    r = 0.0
    for j in range(x.shape[0]):
        r += A[i, j] * x[j]
    r -= b[i]
    for j in range(x.shape[0]):
        out[j] = r * A[i, j]


@njit(cache=True)
def _ls_loss(x, t, data):
    A, b = data
    i = (t - 1) % A.shape[0]
    r = 0.0
    for j in range(x.shape[0]):
        r += A[i, j] * x[j]
    return 0.5 * (r - b[i]) ** 2


def _problem(rng, n=12, m=40):
    A = rng.standard_normal((m, n))
    xs = np.where(rng.random(n) < 0.3, rng.standard_normal(n), 0.0)
    b = A @ xs + 0.01 * rng.standard_normal(m)
    return Problem(x0=rng.standard_normal(n), grad=_ls_grad, loss=_ls_loss, data=(A, b))


def _py(p):
    return Problem(x0=p.x0, grad=p.grad.py_func, loss=p.loss.py_func, data=p.data)


@pytest.mark.parametrize("reg", [("l1", {"lam": 0.05}), ("group_l2", {"lam": 0.05, "n": 12, "groups": 3}), None])
def test_compiled_loop_equals_python_loop(reg, rng):
    p = _problem(rng)
    alg = solvers.get("proxgen", regularizer=reg, lr=0.05)
    a = run(alg, p, 300, record=("x", "loss", "nnz", "prox_nnz"), every=7)
    b = run(alg, _py(p), 300, record=("x", "loss", "nnz", "prox_nnz"), every=7)
    assert a.compiled and not b.compiled
    np.testing.assert_array_equal(a.steps, b.steps)
    assert a.steps[-1] == 294 and len(a.steps) == 300 // 7
    np.testing.assert_allclose(a.records["x"], b.records["x"], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(a.records["loss"], b.records["loss"], rtol=1e-12, atol=1e-14)
    np.testing.assert_array_equal(a.records["nnz"], b.records["nnz"])
    assert a.state.t == 300


def test_run_continues_from_a_state(rng):
    p = _problem(rng)
    alg = solvers.get("proxgen", regularizer=("l1", {"lam": 0.05}), lr=0.05)
    full = run(alg, p, 100, record=("x",))
    half = run(alg, p, 50, record=("x",))
    rest = run(alg, p, 50, record=("x",), state=half.state)
    np.testing.assert_array_equal(rest.steps, np.arange(51, 101))
    np.testing.assert_array_equal(full.records["x"][-1], rest.records["x"][-1])


def test_run_sparsity_recorded(rng):
    p = _problem(rng)
    alg = solvers.get("proxgen", regularizer=("l1", {"lam": 5.0}), lr=0.1)
    tr = run(alg, p, 200, record=("nnz", "x"))
    np.testing.assert_array_equal(tr.records["nnz"], (tr.records["x"] != 0).sum(axis=1))
    assert tr.records["nnz"][-1] < 12  # lam = 5 on unit-scale data zeroes coordinates


def test_run_bad_arguments(rng):
    p = _problem(rng)
    alg = solvers.get("proxgen")
    with pytest.raises(ValueError, match="record"):
        run(alg, p, 10, record=("gradient",))
    with pytest.raises(ValueError, match="T must be >= 0"):
        run(alg, p, -1)
    with pytest.raises(ValueError, match="every"):
        run(alg, p, 10, every=0)
    with pytest.raises(ValueError, match="loss"):
        run(alg, Problem(x0=p.x0, grad=p.grad, data=p.data), 10, record=("loss",))


@njit(cache=True)
def _nan_grad(x, t, data, out):
    for j in range(x.shape[0]):
        out[j] = np.nan if t == 5 else 1.0


def test_nonfinite_gradient_stops_the_run_cleanly(rng):
    alg = solvers.get("proxgen", lr=0.1)
    p = Problem(x0=np.zeros(3), grad=_nan_grad)
    with pytest.raises(ValueError, match="t = 5"):
        run(alg, p, 10, record=())
    st = alg.init(np.zeros(3))
    with pytest.raises(ValueError):
        run(alg, p, 10, record=(), state=st)
    assert st.t == 4 and np.isfinite(st["x"]).all()


@pytest.mark.parametrize("name,kw", [("ramda", {"subproblem_solver": "pg", "pg_max_iter": 1}),
                                     ("proxssi", {"subproblem_solver": "newton"})])
def test_run_honours_an_inexact_subproblem_solver(name, kw, rng):
    """run() must not swap a configured Python-level solver for the fused exact
    kernel: its trajectory equals stepping the algorithm by hand (with
    pg_max_iter = 1 the exact kernel differs by ~4e-3 after 50 steps)."""
    p = _problem(rng)
    reg = ("group_l2", {"lam": 0.05, "n": 12, "groups": 3})
    alg = solvers.get(name, regularizer=reg, **kw)
    traj = run(alg, p, 50, record=("x",))
    assert not traj.compiled
    state, g = alg.init(p.x0), np.empty(12)
    for t in range(1, 51):
        p.grad(state["x"], t, p.data, g)
        alg.step(state, g)
    np.testing.assert_array_equal(traj.state["x"], state["x"])
