"""The test matrix: every check applied to every registered regularizer.

Adding a regularizer module with ``@register`` and ``examples`` puts it under
all of these tests without editing this file.
"""

import inspect

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from proxlab import regularizers

from ._registry import example_instances, first_instances, input_shape

INSTANCES = example_instances()
FIRST = first_instances()
IDS = [name for name, _ in INSTANCES]
FIRST_IDS = [name for name, _ in FIRST]
CONVEX = [(n, r) for n, r in INSTANCES if r.convex]


def draw(reg, rng, metric=True):
    shape = input_shape(reg, rng)
    z = rng.standard_normal(shape) * 10.0 ** rng.uniform(-1, 1)
    step = 10.0 ** rng.uniform(-2, 2)
    d = 10.0 ** rng.uniform(-2, 2, shape) if metric else None
    return z, step, d


def optimality_tol(z, step, d):
    """Residual budget for ``subdiff_dist`` at a computed prox.

    ``x`` is exact up to ~1e-12 relative (closed forms: rounding; secular
    root: 1e-12; FISTA for the nuclear norm under a metric: 1e-12 residual),
    so the gradient term ``d (x - z) / step`` is off by ~1e-12 of its scale.
    1e-9 of that scale leaves three digits of margin and still fails any
    operator with a wrong threshold or shrink factor (those miss by O(1)).
    """
    dd = 1.0 if d is None else d
    return 1e-9 * (1.0 + np.linalg.norm((dd * np.abs(z)).ravel()) / step)


# ------------------------------------------------------------------ catalogue
def test_registry_has_every_family_of_the_issue():
    names = set(regularizers.names())
    required = {"l1", "l2_squared", "elastic_net", "group_l2", "sparse_group_lasso", "l0", "l_half",
                "l_two_thirds", "lq", "mcp", "scad", "nuclear", "binary_quant"}
    assert required <= names, f"missing: {sorted(required - names)}"


@pytest.mark.parametrize("name", regularizers.names())
def test_catalogue_metadata(name):
    cls = type(regularizers.get(name, **_minimal_params(name)))
    assert cls.family and cls.method and cls.source, f"{name} lacks family/method/source"
    assert isinstance(cls.convex, bool) and isinstance(cls.separable, bool) and isinstance(cls.grouped, bool)


def _minimal_params(name):
    for cls in regularizers.classes():
        if cls.name == name:
            return dict(cls.examples(np.random.default_rng(0))[0].params)
    raise KeyError(name)


def test_get_unknown_name_lists_the_catalogue():
    with pytest.raises(ValueError, match="unknown regularizer 'l7'.*l1"):
        regularizers.get("l7")


# --------------------------------------------------------------- optimality
@pytest.mark.parametrize("name,reg", INSTANCES, ids=IDS)
def test_prox_metric_is_stationary(name, reg, rng):
    for _ in range(20):
        z, step, d = draw(reg, rng)
        x = reg.prox_metric(z, step, d)
        assert x.shape == z.shape and x.dtype == z.dtype
        assert np.isfinite(x).all()
        assert reg.subdiff_dist(x, z, step, d) <= optimality_tol(z, step, d)
        x = reg.prox(z, step)  # the identity-metric path has kernels of its own
        assert reg.subdiff_dist(x, z, step) <= optimality_tol(z, step, None)


@pytest.mark.parametrize("name,reg", INSTANCES, ids=IDS)
def test_prox_beats_perturbations(name, reg, rng):
    """The output is not improved by random nearby points (a global check that
    does not rely on our own subdifferential code)."""
    for _ in range(10):
        z, step, d = draw(reg, rng)
        x = reg.prox_metric(z, step, d)
        fx = reg.objective(x, z, step, d)
        for scale in (1e-1, 1e-3, 1e-6):
            for _ in range(5):
                y = x + scale * rng.standard_normal(x.shape) * (1 + np.abs(x))
                assert reg.objective(y, z, step, d) >= fx - 1e-12 * (1 + abs(fx))
        assert reg.objective(np.zeros_like(z), z, step, d) >= fx - 1e-12 * (1 + abs(fx))


# -------------------------------------------------- convex-operator identities
@pytest.mark.parametrize("name,reg", CONVEX, ids=[n for n, _ in CONVEX])
def test_moreau_envelope_gradient(name, reg, rng):
    """For convex R the Moreau envelope M(z) = min_x R(x) + sum d (x-z)^2/(2 step)
    is C^1 with gradient d (z - prox(z)) / step. Central differences of M (an
    O(h^2) formula, h = 1e-5 relative) must match it to 1e-6 relative."""
    for _ in range(5):
        z, step, d = draw(reg, rng)
        x = reg.prox_metric(z, step, d)
        grad = (d * (z - x) / step).ravel()
        flat = z.ravel()
        for i in rng.choice(flat.size, size=min(4, flat.size), replace=False):
            h = 1e-5 * (1 + abs(flat[i]))
            zp, zm = flat.copy(), flat.copy()
            zp[i] += h
            zm[i] -= h
            zp, zm = zp.reshape(z.shape), zm.reshape(z.shape)
            mp = reg.objective(reg.prox_metric(zp, step, d), zp, step, d)
            mm = reg.objective(reg.prox_metric(zm, step, d), zm, step, d)
            fd = (mp - mm) / (2 * h)
            assert abs(fd - grad[i]) <= 1e-6 * (1 + abs(grad[i]) + abs(mp) / (1 + abs(flat[i])))


@pytest.mark.parametrize("name,reg", CONVEX, ids=[n for n, _ in CONVEX])
def test_firm_nonexpansiveness_in_the_metric(name, reg, rng):
    """<p1 - p2, z1 - z2>_D >= ||p1 - p2||_D^2 for the D-metric prox (D = d/step)."""
    for _ in range(20):
        z1, step, d = draw(reg, rng)
        z2 = z1 + rng.standard_normal(z1.shape) * 10.0 ** rng.uniform(-3, 1)
        p1, p2 = reg.prox_metric(z1, step, d), reg.prox_metric(z2, step, d)
        inner = np.sum(d * (p1 - p2) * (z1 - z2))
        sq = np.sum(d * (p1 - p2) ** 2)
        assert inner >= sq - 1e-10 * (1 + np.sum(d * (z1 - z2) ** 2))


# ---------------------------------------------------------------- reductions
@pytest.mark.parametrize("name,reg", INSTANCES, ids=IDS)
def test_unit_metric_equals_prox(name, reg, rng):
    z, step, _ = draw(reg, rng, metric=False)
    np.testing.assert_allclose(reg.prox_metric(z, step, np.ones(z.shape)), reg.prox(z, step),
                               rtol=1e-12, atol=1e-14)
    # a constant metric c is the plain prox with step / c
    c = 10.0 ** rng.uniform(-2, 2)
    np.testing.assert_allclose(reg.prox_metric(z, step, c), reg.prox(z, step / c), rtol=1e-11, atol=1e-13)


@pytest.mark.parametrize("name,reg", INSTANCES, ids=IDS)
def test_zero_strength_is_identity(name, reg, rng):
    params = dict(reg.params)
    lam_keys = [k for k in params if k.startswith("lam")]
    assert lam_keys, f"{name} has no strength parameter"
    zero = type(reg)(**{**params, **{k: 0.0 for k in lam_keys}})
    z, step, d = draw(zero, rng)
    np.testing.assert_array_equal(zero.prox_metric(z, step, d), z)
    assert zero.value(z) == 0.0


# -------------------------------------------------------------- precisions
@pytest.mark.parametrize("name,reg", INSTANCES, ids=IDS)
def test_float32_matches_float64(name, reg, rng):
    """float32 in, float32 out; its objective (evaluated in float64) is within
    float32 accuracy of the float64 optimum: the inputs themselves are rounded
    to 6e-8 relative, which moves the optimal value by ~1e-7 of the objective's
    scale (first order) — 1e-5 leaves margin for float32 arithmetic inside the
    kernels; a wrong formula misses by O(1)."""
    for _ in range(10):
        z, step, d = draw(reg, rng)
        z32, d32 = z.astype(np.float32), d.astype(np.float32)
        x32 = reg.prox_metric(z32, step, d32)
        assert x32.dtype == np.float32
        z, d = z32.astype(np.float64), d32.astype(np.float64)
        x64 = reg.prox_metric(z, step, d)
        f32 = reg.objective(x32.astype(np.float64), z, step, d)
        f64 = reg.objective(x64, z, step, d)
        scale = 1 + abs(f64) + np.sum(d * z * z) / step
        assert f32 <= f64 + 1e-5 * scale


# ------------------------------------------------------- property-based tests
def _hypothesis_case(reg):
    @st.composite
    def case(draw_):
        rng = np.random.default_rng(draw_(st.integers(0, 2**32 - 1)))
        shape = input_shape(reg, rng)
        n = int(np.prod(shape))
        mags = st.floats(-6, 6)
        z = np.array([draw_(st.sampled_from([0.0, 1.0, -1.0])) * 10.0 ** draw_(mags) if draw_(st.booleans())
                      else draw_(st.floats(-50, 50)) for _ in range(n)]).reshape(shape)
        step = 10.0 ** draw_(st.floats(-6, 6))
        # Operators with an iterative metric prox (the nuclear norm: ADMM + SVD) get metric
        # entries within 1e-3..1e3 here: at spreads of 1e12 a case costs up to 1e5 SVD
        # iterations, and 1000 of them would take most of CI's budget. tests/test_nuclear.py
        # covers the extreme spreads on fewer cases.
        span = 3 if reg.dim is not None and "ADMM" in reg.method else 6
        d = np.array([10.0 ** draw_(st.floats(-span, span)) for _ in range(n)]).reshape(shape)
        return z, step, d

    return case()


@pytest.mark.parametrize("name,reg", FIRST, ids=FIRST_IDS)
def test_property_optimality(name, reg):
    """Thousands of random (z, step, d) per operator with magnitudes from 1e-6
    to 1e6: the prox is finite, keeps dtype and shape, is stationary for its
    subproblem (subdiff_dist) and no worse than x = 0 and x = z."""

    @settings(max_examples=1000, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    @given(_hypothesis_case(reg))
    def check(case):
        z, step, d = case
        x = reg.prox_metric(z, step, d)
        assert np.isfinite(x).all() and x.shape == z.shape
        # residual relative to the size of the quadratic's gradient at 0 and at z
        assert reg.subdiff_dist(x, z, step, d) <= 1e-7 * (1 + np.linalg.norm((d * np.abs(z)).ravel()) / step)
        fx = reg.objective(x, z, step, d)
        tol = 1e-10 * (1 + abs(fx))
        assert fx <= reg.objective(np.zeros_like(z), z, step, d) + tol
        assert fx <= reg.objective(z, z, step, d) + tol

    check()


# ---------------------------------------------------------------- bad input
@pytest.mark.parametrize("name,reg", FIRST, ids=FIRST_IDS)
def test_bad_inputs_name_the_parameter(name, reg, rng):
    z, step, d = draw(reg, rng)
    bad = z.copy()
    bad.ravel()[0] = np.nan
    with pytest.raises(ValueError, match=r"\bz\b"):
        reg.prox_metric(bad, step, d)
    bad.ravel()[0] = np.inf
    with pytest.raises(ValueError, match=r"\bz\b"):
        reg.prox(bad, step)
    for s in (0.0, -1.0, np.nan, np.inf):
        with pytest.raises(ValueError, match="step"):
            reg.prox_metric(z, s, d)
    bad_d = d.copy()
    bad_d.ravel()[-1] = 0.0
    with pytest.raises(ValueError, match=r"\bd\b"):
        reg.prox_metric(z, step, bad_d)
    bad_d.ravel()[-1] = -2.0
    with pytest.raises(ValueError, match=r"\bd\b"):
        reg.prox_metric(z, step, bad_d)
    with pytest.raises(ValueError, match=r"\bd\b"):
        reg.prox_metric(z, step, np.ones(z.size + 1))
    with pytest.raises(TypeError, match="z"):
        reg.prox_metric("abc", step, d)
    if reg.dim is not None:
        with pytest.raises(ValueError, match="z"):
            reg.prox_metric(np.ones(reg.dim + 1), step)


@pytest.mark.parametrize("cls", regularizers.classes(), ids=regularizers.names())
def test_negative_strength_is_rejected(cls):
    base = dict(cls.examples(np.random.default_rng(0))[0].params)
    sig = inspect.signature(cls.__init__).parameters
    for key in [k for k in base if k.startswith("lam") and k in sig]:
        with pytest.raises(ValueError, match=key):
            cls(**{**base, key: -0.5})
        with pytest.raises(ValueError, match=key):
            cls(**{**base, key: float("nan")})
