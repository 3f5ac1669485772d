"""proxlab.torch.prox: the torch metric prox equals the catalogue's.

The reference is each catalogue regularizer's own ``prox_metric`` (the Numba
kernels, themselves checked against CVXPY and the 1-D oracle in
tests/test_regularizers.py and tests/test_nonconvex.py). Inputs: every
regularizer's ``examples(rng)``, centres ``z`` with magnitudes over 1e-2..1e2,
steps over 1e-2..10, and four metrics: the identity, a constant, and
per-coordinate metrics log-uniform over 1e-3..1e3 and 1e-6..1e6.

Tolerances
----------
``TOL64 = 1e-12``, used as ``|torch - catalogue| <= TOL64 (1 + |z|)`` per entry
(float64). Both sides evaluate the same formulas in the same order, so they
differ by rounding only: torch's CPU ``sqrt``/``pow``/``acos`` are not always
correctly rounded (measured: 0.9% of float64 ``sqrt`` results 1 ulp off) and
group norms are summed in another order; measured worst 1e-15 (the ``l_q``
Newton root, the Ferrari root of ``l_{2/3}`` and the secular root included).
A formula error (a missing factor 2, the wrong root) is >= 1e-3.
The nuclear norm (SVT through two different SVD routines) is compared with
``TOL64 ||Z||_F`` (measured 6e-14 ||Z||_F at worst).

``TOL32 = 16 eps32`` (eps32 = 2^-23), used as ``|torch - catalogue| <= TOL32
(1 + |z| + |catalogue|)`` for float32 inputs and metrics. The catalogue widens
float32 to float64 and rounds once; torch computes in float32, so each
operation adds up to half an ulp: measured worst 3.2 eps32 (nuclear, l_{2/3}).

Exact zeros: both sides return ``+0.0`` for every thresholded entry; at points
scaled to ``(1 - 1e-9)`` times the switching point (``at_threshold``) every
entry the catalogue zeroes is exactly ``0.0`` in torch and vice versa, and at
``(1 + 1e-6)`` times it nothing is zeroed by either. (At the tie itself the two
may differ: a 1-ulp-off ``sqrt`` moves the threshold by one ulp.)
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="proxlab.torch needs torch")

from proxlab import regularizers  # noqa: E402
from proxlab.groups import Groups  # noqa: E402
from proxlab.torch import prox as tprox  # noqa: E402
from proxlab.torch.layout import as_groups, padded  # noqa: E402

TOL64 = 1e-12
TOL32 = 16 * np.finfo(np.float32).eps
METRICS = ("identity", "constant", "spread3", "spread6")


def _all_examples(rng):
    out = []
    for name in regularizers.names():
        cls = regularizers._base._REGISTRY[name]
        for k, reg in enumerate(cls.examples(rng)):
            out.append((f"{name}[{k}]", reg))
    return out


def _draw(rng, reg, metric, dtype=np.float64):
    n = reg.dim or 40
    z = rng.standard_normal(n) * 10.0 ** rng.uniform(-2, 2, n)
    step = float(10.0 ** rng.uniform(-2, 1))
    if metric == "identity":
        d = None
    elif metric == "constant":
        d = float(10.0 ** rng.uniform(-2, 2))
    else:
        spread = 3 if metric == "spread3" else 6
        d = 10.0 ** rng.uniform(-spread, spread, n)
    z = z.astype(dtype)
    if isinstance(d, np.ndarray):
        d = d.astype(dtype)
    return z, step, d


def _torch_d(d):
    return torch.from_numpy(d) if isinstance(d, np.ndarray) else d


def _skip_nuclear_metric(reg, metric):
    return reg.name == "nuclear" and metric.startswith("spread")


# ---------------------------------------------------------------- coverage
def test_import_proxlab_does_not_import_torch():
    """``import proxlab`` (and its numpy/Numba subpackages) never imports torch."""
    code = ("import sys, proxlab; from proxlab import regularizers, solvers, groups; "
            "regularizers.names(); solvers.names(); print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False", out.stdout + out.stderr


def test_every_catalogue_regularizer_has_a_torch_prox():
    """A regularizer added to the catalogue without a torch prox fails here."""
    missing = [n for n in regularizers.names() if not tprox.supported(n)]
    assert missing == []
    assert set(tprox.SUPPORTED) == set(regularizers.names())


# ---------------------------------------------------------------- float64
@pytest.mark.parametrize("metric", METRICS)
def test_prox_float64_equals_catalogue(metric, rng):
    worst = 0.0
    for label, reg in _all_examples(rng):
        if _skip_nuclear_metric(reg, metric):
            continue
        for _ in range(6):
            z, step, d = _draw(rng, reg, metric)
            ref = reg.prox_metric(z, step, d)
            out = tprox.prox_metric(reg, torch.from_numpy(z), step, _torch_d(d))
            assert out.dtype == torch.float64 and out.shape == (z.size,)
            out = out.numpy()
            if reg.name == "nuclear":
                err = np.max(np.abs(out - ref)) / max(np.linalg.norm(z), 1.0)
            else:
                err = np.max(np.abs(out - ref) / (1.0 + np.abs(z)))
            assert err <= TOL64, f"{label} metric={metric}: {err:.3g}"
            # exact zeros agree (no thresholded entry is a tiny number on one side)
            if reg.name != "nuclear":
                assert np.array_equal(out == 0, ref == 0), label
            worst = max(worst, err)
    assert worst < TOL64


@pytest.mark.parametrize("metric", METRICS)
def test_prox_float32_within_dtype_tolerance(metric, rng):
    for label, reg in _all_examples(rng):
        if _skip_nuclear_metric(reg, metric):
            continue
        for _ in range(4):
            z, step, d = _draw(rng, reg, metric, dtype=np.float32)
            ref = reg.prox_metric(z, step, d).astype(np.float64)
            out = tprox.prox_metric(reg, torch.from_numpy(z), step, _torch_d(d))
            assert out.dtype == torch.float32
            out = out.double().numpy()
            if reg.name == "nuclear":
                scale = 1.0 + np.linalg.norm(z.astype(np.float64))
            else:
                scale = 1.0 + np.abs(z.astype(np.float64)) + np.abs(ref)
            err = np.max(np.abs(out - ref) / scale)
            assert err <= TOL32, f"{label} metric={metric}: {err / np.finfo(np.float32).eps:.2f} eps32"


def test_nuclear_refuses_a_nonuniform_metric(rng):
    reg = regularizers.get("nuclear", lam=0.5, shape=(4, 3))
    z = torch.from_numpy(rng.standard_normal(12))
    d = torch.from_numpy(10.0 ** rng.uniform(-1, 1, 12))
    with pytest.raises(ValueError, match="uniform metric"):
        tprox.prox_metric(reg, z, 0.3, d)
    # a tensor metric that happens to be constant is the SVT with step lam / c
    c = torch.full((12,), 2.5, dtype=torch.float64)
    ref = reg.prox_metric(z.numpy(), 0.3, np.full(12, 2.5))
    np.testing.assert_allclose(tprox.prox_metric(reg, z, 0.3, c).numpy(), ref, rtol=0, atol=TOL64 * 10)


def test_nuclear_large_threshold_gives_exact_zero_matrix(rng):
    reg = regularizers.get("nuclear", lam=100.0, shape=(5, 4))
    out = tprox.prox_metric(reg, torch.from_numpy(rng.standard_normal((5, 4))), 1.0)
    assert out.shape == (5, 4)
    assert torch.equal(out, torch.zeros(5, 4, dtype=torch.float64))


# ------------------------------------------------------ the secular root
@pytest.mark.parametrize("spread", [0, 3, 6, 10])
def test_group_l2_secular_root_matches_numba(spread, rng):
    """Mixed group sizes 1..40, some coordinates in no group, z over 1e-3..1e3
    per group, metrics log-uniform over 1e-spread..1e+spread (0: constant).
    Agreement per entry within 1e-12 of the group's largest |z|."""
    for trial in range(12):
        sizes = rng.integers(1, 41, rng.integers(2, 12))
        n = int(sizes.sum()) + 3
        perm = rng.permutation(n)
        cuts = np.concatenate([[0], np.cumsum(sizes)])
        groups = Groups(n, [perm[cuts[g]:cuts[g + 1]] for g in range(len(sizes))])
        reg = regularizers.get("group_l2", lam=float(10 ** rng.uniform(-1, 1)), n=n, groups=groups)
        z = rng.standard_normal(n) * np.repeat(10.0 ** rng.uniform(-3, 3, n), 1)
        d = 10.0 ** rng.uniform(-spread, spread, n) if spread else np.full(n, 3.0)
        step = float(10 ** rng.uniform(-2, 1))
        ref = reg.prox_metric(z, step, d)
        out = tprox.prox_metric(reg, torch.from_numpy(z), step, torch.from_numpy(d)).numpy()
        zmax = np.zeros(n)
        for g in groups.as_list():
            zmax[g] = np.abs(z[g]).max()
        unc = ~groups.covered()
        zmax[unc] = np.abs(z[unc])
        assert np.all(np.abs(out - ref) <= TOL64 * np.maximum(zmax, 1e-300)), (trial, np.max(np.abs(out - ref)))
        assert np.array_equal(out[unc], z[unc])
        assert np.array_equal(out == 0, ref == 0)


def test_sync_free_iteration_path_gives_the_same_numbers(rng, monkeypatch):
    """Off CPU the iterative kernels run a fixed number of masked iterations
    instead of stopping early; a converged entry is frozen, so the numbers are
    the same (bit for bit) as the early-exit path. Simulated on CPU."""
    n = 60
    groups = Groups(n, [np.arange(0, 7), np.arange(7, 8), np.arange(8, 30), np.arange(30, 55)])
    cases = [regularizers.get("group_l2", lam=0.7, n=n, groups=groups),
             regularizers.get("sparse_group_lasso", lam1=0.05, lam21=0.5, lam2=0.1, n=n, groups=groups),
             regularizers.get("lq", lam=0.3, q=0.37)]
    z = torch.from_numpy(rng.standard_normal(n) * 10.0 ** rng.uniform(-1, 1, n))
    d = torch.from_numpy(10.0 ** rng.uniform(-4, 4, n))
    early = [tprox.prox_metric(reg, z, 0.4, d) for reg in cases]
    monkeypatch.setattr(tprox, "_early_exit", lambda t: False)
    fixed = [tprox.prox_metric(reg, z, 0.4, d) for reg in cases]
    for a, b in zip(early, fixed):
        assert torch.equal(a, b)
    # and too few iterations would not converge: the cap matters (the test can fail)
    monkeypatch.setitem(tprox.SYNC_FREE_ITERS, "secular", 1)
    monkeypatch.setitem(tprox.SYNC_FREE_ITERS, "lq", 1)
    short = [tprox.prox_metric(reg, z, 0.4, d) for reg in cases]
    assert any(not torch.equal(a, b) for a, b in zip(early, short))


# ---------------------------------------------------------------- layouts
def test_layouts_as_groups():
    W = (3, 2)
    assert [g.tolist() for g in as_groups("columns", W).as_list()] == [[0, 2, 4], [1, 3, 5]]
    assert [g.tolist() for g in as_groups("in_channels", W).as_list()] == [[0, 2, 4], [1, 3, 5]]
    assert [g.tolist() for g in as_groups("rows", W).as_list()] == [[0, 1], [2, 3], [4, 5]]
    assert [g.tolist() for g in as_groups("out_channels", W).as_list()] == [[0, 1], [2, 3], [4, 5]]
    conv = (2, 3, 2)  # (out, in, k): in-channel c is {o*6 + c*2 + k}
    assert [g.tolist() for g in as_groups("in_channels", conv).as_list()] == [[0, 1, 6, 7], [2, 3, 8, 9],
                                                                            [4, 5, 10, 11]]
    assert as_groups("all", W).n_groups == 1
    assert as_groups(3, W).sizes.tolist() == [3, 3]
    np.testing.assert_allclose(as_groups("rows", W).weights, np.sqrt(2.0))
    np.testing.assert_allclose(as_groups("rows", W, "ones").weights, 1.0)
    assert as_groups(None, W) is None
    with pytest.raises(ValueError, match="layout"):
        as_groups("diagonal", W)
    with pytest.raises(ValueError, match="dimension"):
        as_groups(Groups(5, 5), W)


def test_large_column_layout_equals_the_validated_groups():
    """Above 4096 entries ``as_groups("columns")`` builds the CSR arrays directly
    (no per-group Python loop); it must equal what ``Groups`` builds."""
    shape = (70, 80)
    fast = as_groups("columns", shape)
    cube = np.arange(5600).reshape(70, 80)
    ref = Groups(5600, [cube[:, j] for j in range(80)])
    for attr in ("idx", "ptr", "sizes", "weights"):
        assert np.array_equal(getattr(fast, attr), getattr(ref, attr)), attr
    assert (fast.n, fast.n_groups, fast.contiguous) == (ref.n, ref.n_groups, ref.contiguous)
    assert np.array_equal(fast.covered(), ref.covered())
    x = np.random.default_rng(0).standard_normal(5600)
    assert np.array_equal(fast.norms(x), ref.norms(x))


@pytest.mark.parametrize("layout,mode", [("rows", "rows"), ("columns", "columns"), ("in_channels", "columns"),
                                         ("perm", "gather"), ("partial", "gather")])
def test_padded_layouts_give_the_catalogue_prox(layout, mode, rng):
    """The view (rows), permuted view (columns) and gather paths of the padded
    group block all reproduce the catalogue prox on the flattened tensor."""
    shape = (6, 4, 3) if layout == "in_channels" else (6, 5)
    n = int(np.prod(shape))
    if layout == "perm":
        perm = rng.permutation(n)
        groups = Groups(n, [perm[:1], perm[1:9], perm[9:n]])
    elif layout == "partial":
        groups = Groups(n, [np.arange(0, 4), np.arange(10, 11), np.arange(12, 20)])
    else:
        groups = as_groups(layout, shape)
    assert padded(groups, "cpu").mode == mode
    for name, kw in [("group_l2", {"lam": 0.4}), ("sparse_group_lasso", {"lam1": 0.1, "lam21": 0.4, "lam2": 0.2})]:
        reg = regularizers.get(name, n=n, groups=groups, **kw)
        z = rng.standard_normal(shape) * 2.0
        for d in (None, 10.0 ** rng.uniform(-2, 2, shape)):
            ref = reg.prox_metric(z.ravel(), 0.5, None if d is None else d.ravel()).reshape(shape)
            out = tprox.prox_metric(reg, torch.from_numpy(z), 0.5, None if d is None else torch.from_numpy(d))
            assert out.shape == shape
            assert np.max(np.abs(out.numpy() - ref)) <= TOL64 * (1 + np.abs(z).max())
            assert np.array_equal(out.numpy() == 0, ref == 0)


# -------------------------------------------------------------- exact zeros
THRESHOLD_NAMES = ("l1", "elastic_net", "l0", "l_half", "l_two_thirds", "lq", "mcp", "scad", "group_l2",
                   "sparse_group_lasso", "sparse_group_lasso_weighted")


@pytest.mark.parametrize("metric", ["identity", "spread3"])
def test_exact_zeros_just_inside_and_outside_the_threshold(metric, rng):
    for label, reg in _all_examples(rng):
        if reg.name not in THRESHOLD_NAMES:
            continue
        if all(v == 0 for k, v in reg.params.items() if k.startswith("lam")):
            continue  # lam = 0: nothing is thresholded
        z, step, d = _draw(rng, reg, metric)
        edge = reg.at_threshold(z, step, d)
        if edge is None:
            continue
        for factor, expect_zero in ((1 - 1e-9, True), (1 + 1e-6, False)):
            pts = edge * factor
            ref = reg.prox_metric(pts, step, d)
            out = tprox.prox_metric(reg, torch.from_numpy(pts), step, _torch_d(d)).numpy()
            assert np.array_equal(out == 0, ref == 0), (label, factor)
            zeros = out == 0
            # a thresholded non-zero input gives +0.0, never -0.0 (the kernels' convention)
            assert not np.any(np.signbit(out[zeros & (pts != 0)])), label
            # support: elements, or groups for the grouped regularizers
            if expect_zero:
                assert not reg.support(out).any(), label
            else:
                assert np.array_equal(reg.support(out), reg.support(pts)), label


def test_rejects_bad_arguments(rng):
    reg = regularizers.get("l1", lam=0.1)
    z = torch.zeros(4, dtype=torch.float64)
    with pytest.raises(ValueError, match="step"):
        tprox.prox_metric(reg, z, 0.0)
    with pytest.raises(ValueError, match="d"):
        tprox.prox_metric(reg, z, 1.0, -1.0)
    with pytest.raises(ValueError, match="entries"):
        tprox.prox_metric(reg, z, 1.0, torch.ones(3, dtype=torch.float64))
    with pytest.raises(TypeError, match="floating"):
        tprox.prox_metric(reg, torch.zeros(4, dtype=torch.int64), 1.0)
    g = regularizers.get("group_l2", lam=0.1, n=6, groups=3)
    with pytest.raises(ValueError, match="expects 6"):
        tprox.prox_metric(g, z, 1.0)
    assert torch.equal(tprox.prox_metric(None, z + 1.0, 1.0), z + 1.0)
