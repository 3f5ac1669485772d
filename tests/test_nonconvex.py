"""Nonconvex separable regularizers (l0, l_{1/2}, l_{2/3}, l_q, MCP, SCAD,
ProxQuant binary) against the global 1-D oracle and against each other.

Tolerances used throughout (float64):

* ``X_TOL = 1e-9 (1 + |z|)`` for prox vs oracle. The closed forms are
  accurate to a few ulps (measured <= 3e-15 relative); the oracle polishes by
  golden section and finite-difference Newton steps and is accurate to
  ~1e-11 relative (measured <= 3e-11 over random instances), so 1e-9 leaves
  a 30x margin over the oracle's own error while a wrong branch or constant
  (errors of 1e-3 and more) fails.
* ``H_TOL = 1e-12 (1 + |h|)``: our output may not be worse than the
  oracle's best point by more than rounding of ``h`` (~16 eps relative
  covers it; 1e-12 ~ 4500 eps) -- the same tolerance the oracle uses to
  declare ties.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from proxlab import regularizers
from proxlab.oracles.scalar import global_prox_1d
from proxlab.regularizers import SeparableRegularizer
from proxlab.regularizers.l1 import L1
from proxlab.regularizers.lq import L0, LHalf, Lq, LTwoThirds
from proxlab.regularizers.mcp import MCP
from proxlab.regularizers.quant import ProxQuantBinary
from proxlab.regularizers.scad import SCAD

X_TOL = 1e-9
H_TOL = 1e-12

NONCONVEX = [c for c in regularizers.classes()
             if issubclass(c, SeparableRegularizer) and not c.convex and not c.grouped]
INSTANCES = [reg for cls in NONCONVEX for reg in cls.examples(np.random.default_rng(20240607))]
POSITIVE = [reg for reg in INSTANCES if reg.params.get("lam", 1.0) > 0]
IDS = [repr(r) for r in INSTANCES]
POS_IDS = [repr(r) for r in POSITIVE]

# deadline=None: the first example of a session compiles Numba kernels (seconds);
# derandomize: a failure reproduces on every run. Sized so the file runs in
# ~15 s on one core after compilation.
SETTINGS = settings(max_examples=20, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _steps(step, d, n):
    return np.broadcast_to(step if d is None else step / d, (n,)).astype(np.float64)


def _h(reg, x, z, t):
    x = np.asarray(x, dtype=np.float64)
    return reg.value_elementwise(x) + (x - z) ** 2 / (2.0 * t)


def assert_matches_oracle(reg, z, t, x):
    """``x`` is a global minimizer of ``r(x) + (x - z)^2 / (2 t)`` coordinatewise."""
    z = np.asarray(z, dtype=np.float64)
    t = np.broadcast_to(np.asarray(t, dtype=np.float64), z.shape)
    x = np.asarray(x, dtype=np.float64)
    assert np.isfinite(x).all(), f"{reg}: non-finite prox output"
    o = global_prox_1d(reg, z, t)
    tol = X_TOL * (1.0 + np.abs(z))
    near = np.abs(x - o.x) <= tol
    near_alt = o.tie & (np.abs(x - o.x_alt) <= tol)
    ok = near | near_alt
    hx = _h(reg, x, z, t)
    h_ok = hx <= o.h + H_TOL * (1.0 + np.abs(o.h))
    bad = np.flatnonzero(~(ok & h_ok))
    if bad.size:
        i = bad[0]
        pytest.fail(f"{reg}: z={z[i]!r} t={t[i]!r}: prox {x[i]!r} (h={hx[i]!r}) vs oracle "
                    f"{o.x[i]!r} (h={o.h[i]!r}, tie={o.tie[i]}, alt={o.x_alt[i]!r})")
    return o


def _draw_problem(data, reg, n=12):
    """``z`` spread around the switching threshold (factors in [-4, 4]) and over
    wide magnitudes, ``step`` in [1e-6, 1e6], and an optional metric ``d``."""
    step = 10.0 ** data.draw(st.floats(-6, 6), label="log10 step")
    use_d = data.draw(st.booleans(), label="metric")
    d = None
    if use_d:
        d = 10.0 ** np.array(data.draw(st.lists(st.floats(-1, 1), min_size=n, max_size=n), label="log10 d"))
    thr = np.abs(np.asarray(reg.at_threshold(np.ones(n), step, d), dtype=np.float64))
    scale = np.where(thr > 0, thr, 1.0)
    f = np.array(data.draw(st.lists(st.floats(-4, 4), min_size=n, max_size=n), label="factors"))
    e = np.array(data.draw(st.lists(st.floats(-3, 12), min_size=n // 2, max_size=n // 2), label="log10|z|"))
    z = f * scale
    z[: n // 2] = np.where(f[: n // 2] >= 0, 1.0, -1.0) * 10.0 ** e
    return z, step, d


# ----------------------------------------------------------------- contract
def test_nonconvex_catalogue_is_complete():
    names = {c.name for c in NONCONVEX}
    assert {"l0", "l_half", "l_two_thirds", "lq", "mcp", "scad", "binary_quant"} <= names
    for cls in (L0, LHalf, LTwoThirds, Lq, MCP, SCAD, ProxQuantBinary):
        assert cls.convex is False and cls.separable is True and cls.grouped is False
        assert cls.family and cls.source and cls.method
        expected = "certified 1-D root" if cls is Lq else "closed form"
        assert cls.method == expected
        assert regularizers.get(cls.name).describe()["name"] == cls.name
    assert any(r.params["lam"] == 0 for r in INSTANCES)


# ------------------------------------------------------ prox against oracle
@pytest.mark.parametrize("reg", INSTANCES, ids=IDS)
@SETTINGS
@given(data=st.data())
def test_prox_matches_global_oracle(reg, data):
    z, step, d = _draw_problem(data, reg)
    x = reg.prox_metric(z, step, d)
    assert x.dtype == np.float64 and x.shape == z.shape
    assert_matches_oracle(reg, z, _steps(step, d, z.size), x)


@pytest.mark.parametrize("reg", POSITIVE, ids=POS_IDS)
def test_exact_threshold_tie_convention(reg):
    """At ``at_threshold`` the output is the switched-off value (0, or +-1 for
    binary_quant, whose switch is between exactly +-1 and not) and any larger
    magnitude switches it on; both agree with the oracle (which reports ties)."""
    rng = np.random.default_rng(7)
    quant = isinstance(reg, ProxQuantBinary)
    base = 1.0 if quant else 0.0
    for step in 10.0 ** np.linspace(-6, 6, 13):
        for d in (None, 10.0 ** rng.uniform(-1, 1, 8)):
            sign = np.where(rng.random(8) < 0.5, -1.0, 1.0)
            z = np.asarray(reg.at_threshold(sign, step, d), dtype=np.float64)
            assert np.array_equal(np.sign(z), sign)
            x = reg.prox_metric(z, step, d)
            np.testing.assert_array_equal(np.abs(x), base)
            gap = np.abs(z) - base
            z_up = z + sign * 1e-6 * gap
            x_up = reg.prox_metric(z_up, step, d)
            assert (np.abs(x_up) != base).all(), f"{reg}: prox does not switch above the threshold"
            t = _steps(step, d, z.size)
            assert_matches_oracle(reg, z, t, x)
            assert_matches_oracle(reg, z_up, t, x_up)


@pytest.mark.parametrize("reg", INSTANCES, ids=IDS)
def test_zero_huge_and_extreme_steps(reg):
    z = np.array([0.0, -0.0, 1e-300, -1e-8, 1e-3, -1.0, 1.0, 3.0, -1e6, 1e12, -1e12])
    for step in (1e-6, 1e-3, 1.0, 1e3, 1e6):
        x = reg.prox(z, step)
        assert_matches_oracle(reg, z, step, x)
        if isinstance(reg, ProxQuantBinary):
            assert x[0] >= 0 and x[1] >= 0  # z = 0: the positive of the two minimizers
        else:
            assert x[0] == 0 and x[1] == 0
    # no NaN / inf anywhere, even at magnitudes the oracle cannot grid
    for step in (1e-300, 1e-6, 1e6, 1e300):
        x = reg.prox(np.array([1e300, -1e300, 5e-324, 0.0]), step)
        assert np.isfinite(x).all()


# ------------------------------------------------------------------ float32
@pytest.mark.parametrize("reg", INSTANCES, ids=IDS)
@SETTINGS
@given(data=st.data())
def test_float32_is_float64_correctly_rounded(reg, data):
    z, step, d = _draw_problem(data, reg, n=10)
    z32 = z.astype(np.float32)
    d32 = None if d is None else d.astype(np.float32)
    x32 = reg.prox_metric(z32, step, d32)
    assert x32.dtype == np.float32
    # the same step array the base class builds for float32 (step / d in float32)
    t32 = np.float32(step) if d32 is None else (step / d32).astype(np.float32)
    x64 = reg._prox_t(z32.astype(np.float64), np.asarray(t32, dtype=np.float64)
                      if np.ndim(t32) else np.float64(t32))
    assert x64.dtype == np.float64
    # The kernels compute in float64 and round once on store, so float32 results
    # are the float64 results correctly rounded: at most half a float32 ulp
    # (2^-24 relative; 2^-150 absolute for subnormals) -- asserted exactly.
    np.testing.assert_array_equal(x32, x64.astype(np.float32))
    assert (np.abs(x32.astype(np.float64) - x64) <= 2.0 ** -24 * np.abs(x64) + 2.0 ** -150).all()


# --------------------------------------------------------- first-order check
@pytest.mark.parametrize("reg", INSTANCES, ids=IDS)
@SETTINGS
@given(data=st.data())
def test_prox_output_is_stationary(reg, data):
    """``dist(0, dr(x) + d (x - z) / step) ~ 0`` at the prox (Fermat's rule for
    the limiting subdifferential holds at a global minimizer). One rounding of
    ``x`` moves the residual by <= eps d |x| / step (|t r''| < 1 at a local
    minimizer), so 1e-10 relative to ``||d (|x| + |z|) / step||`` is ~1e6 eps
    of slack yet far below a wrong root."""
    z, step, d = _draw_problem(data, reg)
    x = reg.prox_metric(z, step, d)
    dd = np.ones_like(z) if d is None else d
    scale = np.linalg.norm(dd * (np.abs(x) + np.abs(z)) / step)
    assert reg.subdiff_dist(x, z, step, d) <= 1e-10 * scale + 1e-300


# ------------------------------------------------------------ lam = 0, errors
@pytest.mark.parametrize("cls", NONCONVEX, ids=[c.name for c in NONCONVEX])
def test_lam_zero_is_identity(cls):
    z = np.array([0.0, -0.0, 5e-324, -1e-20, 0.3, -1.0, 1.0, 2.5, -7e5, 1e12, -1e300])
    variants = [cls(lam=0.0)]
    if cls is ProxQuantBinary:
        variants = [cls(lam=0.0, q=q) for q in (0.0, 0.5, 2.0 / 3.0, 1.0)]
    for reg in variants:
        for step in (1e-6, 1.0, 1e6):
            np.testing.assert_array_equal(reg.prox(z, step), z)
            np.testing.assert_array_equal(reg.prox_metric(z, step, np.linspace(0.1, 10, z.size)), z)
            z32 = z[:-1].astype(np.float32)
            np.testing.assert_array_equal(reg.prox(z32, step), z32)


BAD_PARAMS = [
    (L0, {"lam": -1.0}, "lam"),
    (LHalf, {"lam": -0.5}, "lam"),
    (LTwoThirds, {"lam": -1e-9}, "lam"),
    (Lq, {"lam": -1.0}, "lam"),
    (Lq, {"q": 0.0}, "q"),
    (Lq, {"q": 1.0}, "q"),
    (Lq, {"q": -0.2}, "q"),
    (Lq, {"q": 1.5}, "q"),
    (Lq, {"q": float("nan")}, "q"),
    (MCP, {"gamma": 0.0}, "gamma"),
    (MCP, {"gamma": -1.0}, "gamma"),
    (MCP, {"lam": -1.0}, "lam"),
    (SCAD, {"a": 2.0}, "a"),
    (SCAD, {"a": 1.5}, "a"),
    (SCAD, {"lam": -2.0}, "lam"),
    (ProxQuantBinary, {"q": 0.3}, "q"),
    (ProxQuantBinary, {"q": 0.75}, "q"),
    (ProxQuantBinary, {"q": -1.0}, "q"),
    (ProxQuantBinary, {"lam": -1.0}, "lam"),
]


@pytest.mark.parametrize("cls,kwargs,param", BAD_PARAMS,
                         ids=[f"{c.name}-{k}" for c, k, _ in BAD_PARAMS])
def test_bad_parameters_raise_naming_the_parameter(cls, kwargs, param):
    with pytest.raises(ValueError, match=rf"^{param} must") as info:
        cls(**kwargs)
    value = next(iter(kwargs.values()))
    assert repr(value) in str(info.value) or (math.isnan(value) and "nan" in str(info.value))
    with pytest.raises(ValueError, match=rf"^{param} must"):
        regularizers.get(cls.name, **kwargs)


@pytest.mark.parametrize("reg", INSTANCES, ids=IDS)
def test_nonfinite_input_raises(reg):
    for bad in (np.nan, np.inf):
        with pytest.raises(ValueError, match="^z contains non-finite"):
            reg.prox(np.array([1.0, bad, 0.0]), 1.0)
        with pytest.raises(ValueError, match="^z contains non-finite"):
            reg.prox_metric(np.array([bad, 2.0], dtype=np.float32), 0.5, np.ones(2))


# --------------------------------------------- closed forms vs general l_q
@pytest.mark.parametrize("closed,q", [(LHalf, 0.5), (LTwoThirds, 2.0 / 3.0)], ids=["half", "two_thirds"])
@settings(max_examples=40, deadline=None, derandomize=True)
@given(lam=st.floats(0.01, 10), log_t=st.floats(-6, 6),
       log_z=st.lists(st.floats(-8, 12), min_size=16, max_size=16),
       signs=st.lists(st.booleans(), min_size=16, max_size=16))
def test_closed_forms_match_general_lq(closed, q, lam, log_t, log_z, signs):
    a, b = closed(lam=lam), Lq(lam=lam, q=q)
    t = 10.0 ** log_t
    z = np.where(signs, 1.0, -1.0) * 10.0 ** np.array(log_z)
    thr = np.abs(a.at_threshold(z, t, None))
    z = np.concatenate([z, np.sign(z) * thr * (1 + 10.0 ** -np.abs(np.array(log_z)))])
    xa, xb = a.prox(z, t), b.prox(z, t)
    # both are full-precision (measured <= 2.2e-15 relative); 1e-13 is 45x that.
    # Within 1e-12 of the threshold the two threshold formulas may round to
    # different sides of a tie: there only equal objective values are required.
    at_tie = np.abs(np.abs(z) - np.abs(b.at_threshold(z, t, None))) <= 1e-12 * np.abs(z)
    close = np.abs(xa - xb) <= 1e-13 * np.abs(xb)
    assert (close | at_tie).all()
    ha, hb = _h(a, xa, z, t), _h(b, xb, z, t)
    assert (np.abs(ha - hb) <= H_TOL * (1 + np.abs(hb))).all()


def _largest_real_root(coeffs):
    roots = np.roots(coeffs)
    real = roots[np.abs(roots.imag) <= 1e-9 * np.abs(roots)].real
    assert real.max() > 0  # the chosen (mu, z) lie above the threshold
    return real.max()


@pytest.mark.parametrize("mu,z", [(1.0, 2.0), (1.0, 5.0), (0.3, 0.7), (2.0, 100.0)])
def test_closed_forms_against_polynomial_roots(mu, z):
    """Third, independent check of the constants: the stationary point from
    ``numpy.roots`` of the cubic ``y^3 - z y + mu / 2`` (``x = y^2``) and of the
    quartic ``y^4 - z y + 2 mu / 3`` (``x = y^3``), when it beats ``x = 0``.
    ``numpy.roots`` (companion eigenvalues) is accurate to ~1e-14 here."""
    y = _largest_real_root([1.0, 0.0, -z, 0.5 * mu])
    x_half = y * y if (0.5 * y ** 4 - z * y * y + mu * abs(y)) < 0 else 0.0
    np.testing.assert_allclose(LHalf(lam=mu).prox([z], 1.0)[0], x_half, rtol=1e-12, atol=0)
    y = _largest_real_root([1.0, 0.0, 0.0, -z, 2.0 * mu / 3.0])
    x = y ** 3
    x_23 = x if (0.5 * x * x - z * x + mu * y * y) < 0 else 0.0
    np.testing.assert_allclose(LTwoThirds(lam=mu).prox([z], 1.0)[0], x_23, rtol=1e-12, atol=0)


def test_printed_thresholds():
    """The switching magnitudes quoted in the docstrings: sqrt(2 mu) (PG eq (4)),
    3/2 mu^{2/3}, 2 (2 mu / 3)^{3/4}, and their general-q formula agree."""
    for mu in (1e-6, 0.37, 1.0, 42.0):
        assert L0(lam=mu).at_threshold([1.0], 1.0, None)[0] == pytest.approx(math.sqrt(2 * mu), rel=1e-15)
        assert LHalf(lam=mu).at_threshold([1.0], 1.0, None)[0] == pytest.approx(1.5 * mu ** (2 / 3), rel=1e-15)
        assert LTwoThirds(lam=mu).at_threshold([1.0], 1.0, None)[0] == pytest.approx(
            2 * (2 * mu / 3) ** 0.75, rel=1e-15)
        for cls, q in ((LHalf, 0.5), (LTwoThirds, 2 / 3)):
            general = Lq(lam=mu, q=q).at_threshold([1.0], 1.0, None)[0]
            assert general == pytest.approx(cls(lam=mu).at_threshold([1.0], 1.0, None)[0], rel=1e-14)


# ------------------------------------------------------- ProxQuant specifics
@pytest.mark.parametrize("q", [0.0, 0.5, 2.0 / 3.0, 1.0])
def test_binary_quant_symmetric_tie_at_zero(q):
    reg = ProxQuantBinary(lam=0.4, q=q)
    for t in (0.1, 1.0, 10.0):
        x = reg.prox(np.zeros(1), t)[0]
        assert x >= 0
        # -x is equally good at z = 0 (the mirrored minimizer)
        assert _h(reg, [x], 0.0, t)[0] == _h(reg, [-x], 0.0, t)[0]
        lo, hi = reg.oracle_bracket(np.zeros(1))
        assert lo[0] == 0.0 and hi[0] == 1.0 and lo[0] <= x <= hi[0]


def test_binary_quant_value_convention():
    reg = ProxQuantBinary(lam=2.0, q=0.5)
    np.testing.assert_allclose(reg.value_elementwise([0.0, 1.0, -1.0, 0.75, -3.0]),
                               2.0 * np.sqrt([1.0, 0.0, 0.0, 0.25, 2.0]), rtol=1e-15)
    reg0 = ProxQuantBinary(lam=2.0, q=0.0)
    np.testing.assert_array_equal(reg0.value_elementwise([0.0, 1.0, -1.0, 0.5]), [2.0, 0.0, 0.0, 2.0])


# ----------------------------------------------------- the oracle on its own
def test_oracle_recovers_soft_thresholding_and_reports_ties():
    rng = np.random.default_rng(3)
    z = rng.normal(scale=3.0, size=40)
    t = 10.0 ** rng.uniform(-2, 2, 40)
    o = global_prox_1d(L1(lam=0.7), z, t)
    soft = np.sign(z) * np.maximum(np.abs(z) - 0.7 * t, 0.0)
    assert not o.tie.any()
    assert (np.abs(o.x - soft) <= 1e-11 * (1 + np.abs(z))).all()
    # l0 at sqrt(2 lam t): 0 and z are both optimal, and the oracle says so
    reg = L0(lam=0.5)
    zt = np.array([1.0, -1.0])  # sqrt(2 * 0.5 * 1)
    o = global_prox_1d(reg, zt, 1.0)
    assert o.tie.all()
    pair = sorted([float(o.x[0]), float(o.x_alt[0])])
    assert pair[0] == 0.0 and abs(pair[1] - 1.0) <= 1e-12
