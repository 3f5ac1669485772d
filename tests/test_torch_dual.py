"""proxlab.torch's RAMDA, RMDA, MADGRAD and ProxSSI: parity with the Numba
references, the reduction to the ``madgrad`` package, torch.optim conventions,
validation, the subproblem solvers and the sync-free solver path.

Parity. Every optimizer is stepped on three parameters at once -- a (5, 4)
weight with the ``"columns"`` layout (4 groups of 5), an 11-vector with an
explicit layout of mixed sizes 1, 3, 2, 4 (one coordinate in no group) and an
unregularized 3-vector -- against the Numba reference of the same name
(``proxlab.solvers.get``), one instance per parameter with the catalogue
regularizer the optimizer resolved for it, fed the same gradient stream
(per-coordinate scales 1e-2..10, 40% of the coordinates exactly zero for the
first 5 steps: the metrics start at eps there). After every step the
parameter (``W_t``) and, for the averaging methods, the prox point (``W_hat``,
``z``) are compared, the prox point's zero pattern must be identical in
float64, and with ``subproblem_solver`` "pg" / "newton" the solver report
(iterations and screened groups equal, residual close) too.

Tolerances
----------
``PARITY64 = 1e-10`` over 100 steps in float64, as ``|torch - numba| <= PARITY64
(1 + |numba|)`` after every step. Both sides evaluate the same formulas; they
differ by rounding (torch's fused ``add_(alpha=)``/``addcmul_``, ``pow(1/3)``
against ``np.cbrt``: <= 2 ulp, summation order of group norms and of the
Newton / PG sums). Dual averaging recomputes the prox point from sums of the
fixed gradient stream, so these errors add up without amplification (ProxSSI's
iterate feeds back as Adam's does, contractively): measured worst 2e-14
(ProxSSI), 9e-15 (RAMDA / RMDA / MADGRAD). A formula difference (eps inside the cube root, a missing
``sqrt(t)``, the wrong warm start of PG) is >= 1e-6 within the first steps.
A rounding-size difference can flip a discrete decision (a PG / Newton stop, a
threshold) only when the decision's quantity lies within ~1e-16 relative of its
threshold; over the ~1e4 decisions of this file that has not happened.

``PARITY32 = 2^-13 ~ 1.2e-4`` (1024 eps32) over 100 steps in float32: the Numba
kernels compute every step in float64 and round on store; torch computes the
elementwise parts in float32 (the PG / Newton iterations in float64, as the
references). A few eps32 per step accumulate over 100 steps (bound ~800
eps32; measured worst 1.4e-6).

Solver report: ``sub_iterations`` and ``sub_screened`` equal; ``sub_residual``
within ``1e-4 |numba| + 1e-10 (1 + alpha_t)``: the residual is the norm of
a difference of iterates that agree to ~1e-9 relative (PG) or of a subgradient
that cancels to ~1e-11 (Newton), so its relative rounding error is large while
its absolute error is ~1e-16 times the scale of ``alpha_t d z``.

``REDUCTION``: with ``psi = 0`` torch RAMDA (and MADGRAD) vs ``madgrad.MADGRAD``
over 200 steps in float64, ``|ours - package| <= 1e-12 max(1, max_t |x_t|)`` per
coordinate (the bound of tests/test_ramda_family.py: same formulas, rounding
only; measured <= 2e-15). The check can fail: without the ``lr + eps`` mapping
the error is > 1e-9 (tested).

Resume and the sync-free solver path compare bit for bit (``torch.equal``).
"""

from __future__ import annotations

import inspect
import io
from dataclasses import dataclass

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="proxlab.torch needs torch")

from proxlab import solvers  # noqa: E402
from proxlab.groups import Groups  # noqa: E402
import proxlab.torch as pt  # noqa: E402
import proxlab.torch.subproblem as tsub  # noqa: E402

PARITY64 = 1e-10
PARITY32 = 2.0 ** -13
REDUCTION = 1e-12
T = 100

CUDA = pytest.param("cuda", marks=pytest.mark.skipif(not torch.cuda.is_available(),
                                                     reason="CUDA is not available on this machine"))
DEVICES = ["cpu", CUDA]


# ------------------------------------------------------------------ the cases
@dataclass
class Case:
    id: str
    cls: str
    tkw: dict
    ref: str
    nkw: dict
    reg: object = None
    matrix_only: bool = False

    @property
    def solver(self):
        return self.tkw.get("subproblem_solver", "newton" if self.cls == "ProxSSI" else "exact")


REGS = {
    "l1": ("l1", {"lam": 0.05}),
    "elastic_net": ("elastic_net", {"lam1": 0.05, "lam2": 0.1}),
    "l0": ("l0", {"lam": 0.01}),
    "l_half": ("l_half", {"lam": 0.02}),
    "mcp": ("mcp", {"lam": 0.1, "gamma": 2.0}),
    "scad": ("scad", {"lam": 0.05, "a": 3.7}),
    "binary_quant": ("binary_quant", {"lam": 0.05, "q": 2.0 / 3.0}),
    "group_l2": ("group_l2", {"lam": 0.3}),
    "sgl": ("sparse_group_lasso", {"lam1": 0.02, "lam21": 0.2, "lam2": 0.01}),
    "none": None,
}
NUCLEAR = ("nuclear", {"lam": 0.3})


def _same(kw):
    return dict(kw), dict(kw)


def _cases():
    out = []
    for key, reg in REGS.items():
        out.append(Case(f"ramda-exact-{key}", "RAMDA", {"lr": 0.1}, "ramda", {"lr": 0.1}, reg))
        out.append(Case(f"rmda-{key}", "RMDA", {"lr": 0.1, "c": 0.1}, "rmda", {"lr": 0.1, "c": 0.1}, reg))
    for key in ("group_l2", "sgl", "l1", "mcp", "l_half", "none"):
        t, n = _same({"lr": 0.1, "subproblem_solver": "pg"})
        out.append(Case(f"ramda-pg-{key}", "RAMDA", t, "ramda", n, REGS[key]))
    extra = [
        ("ramda-pg-rtol-group_l2", {"lr": 0.2, "c": 0.5, "subproblem_solver": "pg", "pg_rtol": 1e-8}, "group_l2"),
        ("ramda-pg-decay-sgl", {"lr": 0.05, "subproblem_solver": "pg", "pg_eps": 1e-4, "pg_eps_decay": 0.75,
                                "pg_max_iter": 7}, "sgl"),
        ("ramda-pg-strong-group_l2", {"lr": 0.1, "subproblem_solver": "pg", "pg_max_iter": 30}, None),
        ("ramda-newton-group_l2", {"lr": 0.1, "subproblem_solver": "newton"}, "group_l2"),
        ("ramda-newton-l1", {"lr": 0.1, "subproblem_solver": "newton"}, "l1"),
        ("ramda-c1-eps-l1", {"lr": 0.05, "c": 1.0, "eps": 1e-3}, "l1"),
    ]
    for cid, kw, key in extra:
        reg = REGS[key] if key is not None else ("group_l2", {"lam": 2.0})
        out.append(Case(cid, "RAMDA", dict(kw), "ramda", dict(kw), reg))
    out += [
        Case("ramda-pg-nuclear", "RAMDA", {"lr": 0.1, "subproblem_solver": "pg"}, "ramda",
             {"lr": 0.1, "subproblem_solver": "pg"}, NUCLEAR, matrix_only=True),
        Case("rmda-nuclear", "RMDA", {"lr": 0.1, "c": 0.1}, "rmda", {"lr": 0.1, "c": 0.1}, NUCLEAR, matrix_only=True),
        Case("rmda-defaults-group_l2", "RMDA", {}, "rmda", {}, REGS["group_l2"]),
        Case("ramda-defaults-group_l2", "RAMDA", {}, "ramda", {}, REGS["group_l2"]),
    ]
    for k, (tkw, nkw) in enumerate([({}, {}), ({"lr": 0.05, "c": 0.5}, {"lr": 0.05, "c": 0.5}),
                                    ({"lr": 0.01, "c": 1.0, "eps": 0.0}, {"lr": 0.01, "c": 1.0, "eps": 0.0}),
                                    ({"lr": 0.1, "c": 0.01, "eps": 1e-3}, {"lr": 0.1, "c": 0.01, "eps": 1e-3})]):
        out.append(Case(f"madgrad-{k}", "MADGRAD", tkw, "madgrad", nkw, None))
    for key in ("group_l2", "sgl", "l1", "mcp", "none"):
        out.append(Case(f"proxssi-newton-{key}", "ProxSSI", {"lr": 0.05}, "proxssi", {"lr": 0.05}, REGS[key]))
    out += [
        Case("proxssi-exact-group_l2", "ProxSSI", {"lr": 0.05, "subproblem_solver": "exact"}, "proxssi",
             {"lr": 0.05, "subproblem_solver": "exact"}, REGS["group_l2"]),
        Case("proxssi-public-metric-group_l2", "ProxSSI", {"lr": 0.05, "metric_bias_correction": False}, "proxssi",
             {"lr": 0.05, "metric_bias_correction": 0}, REGS["group_l2"]),
        Case("proxssi-exact-public-wd-sgl", "ProxSSI",
             {"lr": 0.02, "betas": (0.8, 0.99), "eps": 1e-3, "weight_decay": 0.1, "metric_bias_correction": False,
              "subproblem_solver": "exact"}, "proxssi",
             {"lr": 0.02, "beta1": 0.8, "beta2": 0.99, "eps": 1e-3, "weight_decay": 0.1,
              "metric_bias_correction": 0, "subproblem_solver": "exact"}, REGS["sgl"]),
        Case("proxssi-newton-tol-group_l2", "ProxSSI", {"lr": 0.1, "newton_tol": 1e-10, "newton_max_iter": 5},
             "proxssi", {"lr": 0.1, "newton_tol": 1e-10, "newton_max_iter": 5}, ("group_l2", {"lam": 1.0})),
    ]
    return out


CASES = _cases()
CASES32 = [c for c in CASES if c.id in (
    "ramda-exact-group_l2", "ramda-exact-l1", "ramda-pg-group_l2", "ramda-pg-mcp", "ramda-newton-group_l2",
    "rmda-sgl", "rmda-none", "madgrad-1", "madgrad-2", "proxssi-newton-group_l2", "proxssi-exact-public-wd-sgl")]


# ------------------------------------------------------------------ harness
def _problem(rng, dtype, device):
    W = torch.nn.Parameter(torch.tensor(rng.standard_normal((5, 4)), dtype=dtype, device=device))
    v = torch.nn.Parameter(torch.tensor(rng.standard_normal(11) * 2.0, dtype=dtype, device=device))
    b = torch.nn.Parameter(torch.tensor(rng.standard_normal(3), dtype=dtype, device=device))
    perm = rng.permutation(11)
    layout = Groups(11, [perm[:1], perm[1:4], perm[4:6], perm[6:10]])  # perm[10] is in no group
    return [W, v, b], layout


def _stream(rng, n, T=T):
    G = rng.standard_normal((T, n)) * 10.0 ** rng.uniform(-2, 1, n)
    G[:5, rng.random(n) < 0.4] = 0.0
    return G


def _build(case, params, layout):
    W, v, b = params
    cls = getattr(pt, case.cls)
    if case.cls == "MADGRAD":
        return cls([{"params": [W, v]}, {"params": [b]}], **case.tkw)
    groups = [{"params": [W], "regularizer": case.reg, "groups": "columns"},
              {"params": [v], "regularizer": None if case.matrix_only else case.reg, "groups": layout},
              {"params": [b], "regularizer": None}]
    return cls(groups, **case.tkw)


def _reference(case, opt, p, np_dtype):
    kw = dict(case.nkw)
    if case.cls != "MADGRAD":
        kw["regularizer"] = opt.regularizer_for(p)
    alg = solvers.get(case.ref, **kw)
    return alg, alg.init(p.detach().cpu().numpy().ravel().astype(np_dtype))


def _rel(a, b):
    return float(np.max(np.abs(a - b) / (1.0 + np.abs(b))))


def _check_report(case, opt, p, alg, st, k):
    """The solver report of the last step against the Numba scalar state."""
    ours = opt.state[p]
    reg = opt.regularizer_for(p)
    python_solver = reg is not None and (case.solver == "pg" or (case.solver == "newton" and reg.name == "group_l2"))
    if not python_solver:
        assert "sub_iterations" not in ours
        return
    i = st.scalars.index("sub_iterations")
    it, res, scr = st["sc"][i], st["sc"][i + 1], st["sc"][i + 2]
    assert int(ours["sub_iterations"]) == it, f"{case.id}: iterations at step {k + 1}"
    assert int(ours["sub_screened"]) == scr, f"{case.id}: screened groups at step {k + 1}"
    alpha = ours.get("alpha", 0.0)
    assert abs(float(ours["sub_residual"]) - res) <= 1e-4 * abs(res) + 1e-10 * (1.0 + alpha), \
        f"{case.id}: residual {float(ours['sub_residual'])!r} vs {res!r} at step {k + 1}"


def _run_parity(case, device, dtype, rng, tol):
    np_dtype = np.float64 if dtype == torch.float64 else np.float32
    params, layout = _problem(rng, dtype, device)
    opt = _build(case, params, layout)
    refs = [_reference(case, opt, p, np_dtype) for p in params]
    Gs = [_stream(rng, p.numel()) for p in params]
    worst = 0.0
    for k in range(T):
        for j, p in enumerate(params):
            p.grad = torch.tensor(Gs[j][k].reshape(p.shape), dtype=dtype, device=device)
        opt.step()
        for j, (p, (alg, st)) in enumerate(zip(params, refs)):
            alg.step(st, Gs[j][k].astype(np_dtype))
            err = _rel(p.detach().cpu().double().numpy().ravel(), st["x"].astype(np.float64))
            if alg.prox_point_field:
                pp = opt.prox_point(p).detach().cpu().double().numpy().ravel()
                ref_pp = alg.prox_point(st).astype(np.float64)
                err = max(err, _rel(pp, ref_pp))
                if dtype == torch.float64:
                    assert np.array_equal(pp == 0, ref_pp == 0), f"{case.id}: prox-point zeros differ at step {k + 1}"
            elif dtype == torch.float64:
                assert np.array_equal(p.detach().cpu().numpy().ravel() == 0, st["x"] == 0), \
                    f"{case.id}: zero patterns differ at step {k + 1}"
            assert err <= tol, f"{case.id} ({dtype}, {device}): step {k + 1}, parameter {j}: {err:.3g}"
            if dtype == torch.float64 and j < 2:
                _check_report(case, opt, p, alg, st, k)
            worst = max(worst, err)
    return opt, params


# ------------------------------------------------------------------ parity
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_parity_float64_with_numba(case, device, rng):
    opt, params = _run_parity(case, device, torch.float64, rng, PARITY64)
    if case.reg is not None and case.id.startswith(("ramda-exact-group", "ramda-pg-strong", "rmda-group")):
        # the structured cases do produce structure (so the zero-pattern checks bite)
        assert any(bool((opt.prox_point(p) == 0).any()) for p in params[:2]), case.id


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("case", CASES32, ids=[c.id for c in CASES32])
def test_parity_float32_with_numba(case, device, rng):
    _run_parity(case, device, torch.float32, rng, PARITY32)


def test_the_four_references_are_covered():
    assert {c.ref for c in CASES} == {"ramda", "rmda", "madgrad", "proxssi"}
    for name in ("RAMDA", "RMDA", "MADGRAD", "ProxSSI"):
        assert pt.optim.REFERENCES[name] == name.lower()
        assert getattr(pt.optim, name) is getattr(pt, name)


def test_parity_detects_a_formula_change(rng, monkeypatch):
    """The parity check can fail: eps inside the cube root (cbrt(U + eps)
    instead of cbrt(U) + eps) is caught."""
    import proxlab.torch.ramda as tramda

    case = next(c for c in CASES if c.id == "ramda-exact-l1")  # eps = 1e-6 (the default)
    monkeypatch.setattr(tramda, "cbrt", lambda u: tsub.cbrt(u + 1e-6) - 1e-6)
    with pytest.raises(AssertionError):
        _run_parity(case, "cpu", torch.float64, rng, PARITY64)


DEFAULT_MAP = [
    ("RAMDA", "ramda", {"lr": "lr", "c": "c", "eps": "eps"}),
    ("RMDA", "rmda", {"lr": "lr", "c": "c"}),
    ("MADGRAD", "madgrad", {"lr": "lr", "c": "c", "eps": "eps"}),
    ("ProxSSI", "proxssi", {"lr": "lr", "betas": ("beta1", "beta2"), "eps": "eps", "weight_decay": "weight_decay",
                            "metric_bias_correction": "metric_bias_correction"}),
]


@pytest.mark.parametrize("name,ref,mapping", DEFAULT_MAP, ids=[m[0] for m in DEFAULT_MAP])
def test_defaults_are_the_references_defaults(name, ref, mapping):
    sig = inspect.signature(getattr(pt, name).__init__).parameters
    h = solvers._base._REGISTRY[ref].defaults
    for key, target in mapping.items():
        expected = tuple(h[t] for t in target) if isinstance(target, tuple) else h[target]
        assert sig[key].default == expected, (name, key)
    if name in ("RAMDA", "ProxSSI"):
        alg = solvers.get(ref)
        assert sig["subproblem_solver"].default == alg.subproblem_solver
        assert sig["newton_tol"].default == alg.newton_tol and sig["newton_max_iter"].default == alg.newton_max_iter
    if name == "RAMDA":
        alg = solvers.get(ref)
        for k in ("pg_eps", "pg_eps_decay", "pg_max_iter", "pg_rtol"):
            assert sig[k].default == getattr(alg, k), k


# ------------------------------------------------------------------ sync-free solver path
SYNC_FREE = ["ramda-pg-group_l2", "ramda-pg-rtol-group_l2", "ramda-pg-strong-group_l2", "ramda-pg-l1",
             "ramda-newton-group_l2", "proxssi-newton-group_l2", "proxssi-newton-tol-group_l2"]


@pytest.mark.parametrize("cid", SYNC_FREE)
def test_sync_free_solver_path_equals_the_early_exit_path(cid, rng, monkeypatch):
    """Off CPU the PG / Newton loops run to their cap with converged entries
    frozen by masks (no host read). Forcing that path on CPU gives the same
    bits as the early-exit path over 40 steps (screened-only steps included:
    the "strong" case screens every group of some steps)."""
    case = next(c for c in CASES if c.id == cid)
    seed = int(rng.integers(2 ** 32))
    runs = []
    for early in (True, False):
        if not early:
            monkeypatch.setattr(tsub, "_early", lambda t: False)
        r = np.random.default_rng(seed)
        params, layout = _problem(r, torch.float64, "cpu")
        opt = _build(case, params, layout)
        Gs = [_stream(r, p.numel(), 40) for p in params]
        for k in range(40):
            for j, p in enumerate(params):
                p.grad = torch.tensor(Gs[j][k].reshape(p.shape), dtype=torch.float64)
            opt.step()
        runs.append((params, opt))
    (pa, oa), (pb, ob) = runs
    for p, q in zip(pa, pb):
        assert torch.equal(p, q)
        for key, val in oa.state[p].items():
            other = ob.state[q][key]
            assert torch.equal(val, other) if isinstance(val, torch.Tensor) else val == other, (cid, key)
    assert any("sub_iterations" in oa.state[p] for p in pa)


def test_newton_cap_off_cpu_is_above_the_measured_worst_case(rng):
    """NEWTON_SYNC_FREE_ITERS (the fixed Newton count off CPU) is above the
    iterations the Numba kernel needs on hard random groups (metrics spread
    over 10 decades within a group)."""
    from proxlab.solvers.subproblem import group_l2_prox_newton

    worst = 0
    for _ in range(300):
        k = int(rng.choice([1, 2, 3, 4, 6, 12]))
        z = rng.standard_normal(12) * 10.0 ** rng.uniform(-3, 3)
        d = 10.0 ** rng.uniform(-5, 5, 12) * 10.0 ** rng.uniform(-4, 4)
        _, info = group_l2_prox_newton(z, 10.0 ** rng.uniform(-3, 1), d, k, 10.0 ** rng.uniform(-4, 1))
        worst = max(worst, info.iterations)
    assert 5 <= worst < tsub.NEWTON_SYNC_FREE_ITERS


# ------------------------------------------------------------------ subproblem solvers
def _sub_problem(rng, n=24, k=4, spread=3.0):
    z = rng.standard_normal(n) * 2.0
    d = 10.0 ** rng.uniform(-spread, spread, n)
    groups = Groups(n, [np.arange(0, 5), np.arange(5, 6), np.arange(6, 14), np.arange(14, 23)])  # 23: no group
    return z, d, groups


@pytest.mark.parametrize("lam", [0.0, 0.05, 0.5, 50.0])
def test_torch_solvers_match_the_numba_solvers_on_one_problem(lam, rng):
    """PG (group lasso with screening, and generic), Newton: same x (1e-10),
    same iterations and screened count, on a problem with a metric spread over
    6 decades and a coordinate in no group; the exact torch prox agrees with
    PG and Newton within what their residuals certify: ``Q`` is strongly
    convex with modulus ``min d / step``, so ``||x - x*|| <= ||s|| step / min d``
    for the ``s in dQ(x)`` they report."""
    from proxlab import regularizers
    from proxlab.solvers import subproblem as nsub

    z, d, groups = _sub_problem(rng)
    x0 = z + 0.1 * rng.standard_normal(z.size)
    tz, td, tx0 = (torch.tensor(a) for a in (z, d, x0))
    step = 0.7
    xn, inf_n = nsub.group_l2_prox_pg(z, step, d, groups, lam, eps=1e-9, max_iter=500, x0=x0)
    xt, inf_t = tsub.group_l2_prox_pg(tz, step, td, groups, lam, eps=1e-9, max_iter=500, x0=tx0)
    np.testing.assert_allclose(xt.numpy(), xn, rtol=PARITY64, atol=PARITY64)
    assert int(inf_t["iterations"]) == inf_n.iterations and int(inf_t["screened"]) == inf_n.n_screened
    reg = regularizers.get("group_l2", lam=lam, n=z.size, groups=groups)
    exact = pt.prox_metric(reg, tz, step, td).numpy()
    if lam > 0:
        assert np.array_equal(exact == 0, xn == 0)
    mu = d.min() / step
    assert np.linalg.norm(xt.numpy() - exact) <= float(inf_t["residual"]) / mu * (1 + 1e-6) + 1e-12
    xn2, inf_n2 = nsub.group_l2_prox_newton(z, step, d, groups, lam)
    xt2, inf_t2 = tsub.group_l2_prox_newton(tz, step, td, groups, lam)
    np.testing.assert_allclose(xt2.numpy(), xn2, rtol=PARITY64, atol=PARITY64)
    assert int(inf_t2["iterations"]) == inf_n2.iterations and int(inf_t2["screened"]) == inf_n2.n_screened
    assert abs(float(inf_t2["residual"]) - inf_n2.residual) <= 1e-4 * inf_n2.residual + 1e-12
    assert np.linalg.norm(xt2.numpy() - exact) <= float(inf_t2["residual"]) / mu * (1 + 1e-6) + 1e-12
    for reg2 in (regularizers.get("l1", lam=lam), regularizers.get("mcp", lam=max(lam, 1e-3), gamma=3.0),
                 regularizers.get("sparse_group_lasso", lam1=lam / 3, lam21=lam, n=z.size, groups=groups)):
        xn3, inf_n3 = nsub.prox_metric_pg(reg2, z, step, d, eps=1e-9, max_iter=300, x0=x0)
        xt3, inf_t3 = tsub.prox_metric_pg(reg2, tz, step, td, eps=1e-9, max_iter=300, x0=tx0)
        np.testing.assert_allclose(xt3.numpy(), xn3, rtol=PARITY64, atol=PARITY64)
        assert int(inf_t3["iterations"]) == inf_n3.iterations, reg2


def test_torch_reg_value_matches_the_catalogue(rng):
    from proxlab import regularizers

    x = rng.standard_normal(20) * 2.0
    x[[2, 7]] = 0.0
    x[5] = 1.0
    groups = Groups(20, 5)
    regs = [regularizers.get(n, **kw) for n, kw in [
        ("l1", {"lam": 0.3}), ("elastic_net", {"lam1": 0.2, "lam2": 0.1}), ("l2_squared", {"lam": 0.4}),
        ("l0", {"lam": 0.1}), ("l_half", {"lam": 0.2}), ("l_two_thirds", {"lam": 0.2}), ("lq", {"lam": 0.2, "q": 0.3}),
        ("mcp", {"lam": 0.5, "gamma": 2.0}), ("scad", {"lam": 0.5, "a": 3.7}),
        ("nuclear", {"lam": 0.3, "shape": (4, 5)})]]
    regs += [regularizers.get("binary_quant", lam=0.2, q=q) for q in (0.0, 0.5, 2.0 / 3.0, 1.0)]
    regs += [regularizers.get("group_l2", lam=0.3, n=20, groups=groups),
             regularizers.get("sparse_group_lasso", lam1=0.1, lam21=0.3, lam2=0.05, n=20, groups=groups),
             regularizers.get("sparse_group_lasso_weighted", lam1=0.1, lam21=0.3, lam2=0.05, n=20, groups=groups,
                              a=10.0 ** rng.uniform(-1, 1, 20))]
    for reg in regs:
        assert abs(float(tsub.reg_value(reg, torch.tensor(x))) - reg.value(x)) <= 1e-12 * (1 + abs(reg.value(x))), reg


# ------------------------------------------------------------------ reduction to madgrad
def _madgrad_run(x0, Gs, lr, momentum, eps):
    madgrad = pytest.importorskip("madgrad", reason="the reduction test needs the madgrad package")
    ps = [torch.nn.Parameter(torch.tensor(x, dtype=torch.float64)) for x in x0]
    opt = madgrad.MADGRAD(ps, lr=lr, momentum=momentum, eps=eps)
    return _drive(opt, ps, Gs)


def _drive(opt, params, Gs):
    out = []
    for k in range(Gs[0].shape[0]):
        for p, G in zip(params, Gs):
            p.grad = torch.tensor(G[k].reshape(p.shape), dtype=torch.float64)
        opt.step()
        out.append(np.concatenate([p.detach().numpy().ravel() for p in params]))
    return np.array(out)


def _two(rng, T=200):
    x0 = [rng.standard_normal((4, 3)), rng.standard_normal(7)]
    return x0, [_stream(rng, x.size, T) for x in x0]


def _params(x0):
    return [torch.nn.Parameter(torch.tensor(x, dtype=torch.float64)) for x in x0]


def _close(ours, ref):
    scale = np.maximum(1.0, np.abs(ref).max(axis=0))
    return float(np.max(np.abs(ours - ref) / scale))


@pytest.mark.parametrize("zero", ["none", "group_l2", "l1", "sgl"])
@pytest.mark.parametrize("lr,momentum,eps", [(1e-2, 0.9, 1e-6), (0.3, 0.5, 1e-3), (1e-3, 0.0, 1e-6),
                                             (0.05, 0.99, 1e-6)])
def test_ramda_with_zero_lambda_is_madgrad_package(zero, lr, momentum, eps, rng):
    """torch RAMDA(lr = lr_M + eps, c = 1 - momentum, eps) with psi = 0 (no
    regularizer, or a group lasso / l1 / sparse group lasso with zero strengths
    on a layout) equals madgrad.MADGRAD(lr_M, momentum, eps) over 200 steps; so
    does torch MADGRAD with the same mapping."""
    x0, Gs = _two(rng)
    ref = _madgrad_run(x0, Gs, lr, momentum, eps)
    reg = {"none": None, "group_l2": ("group_l2", {"lam": 0.0}), "l1": ("l1", {"lam": 0.0}),
           "sgl": ("sparse_group_lasso", {"lam1": 0.0, "lam21": 0.0, "lam2": 0.0})}[zero]
    ps = _params(x0)
    groups = [{"params": [ps[0]], "groups": "columns"}, {"params": [ps[1]], "groups": 7 if zero != "none" else None}]
    ours = _drive(pt.RAMDA(groups, lr=lr + eps, c=1.0 - momentum, eps=eps, regularizer=reg), ps, Gs)
    assert _close(ours, ref) <= REDUCTION
    assert np.max(np.abs(ours[-1] - ours[0])) > 1e-3  # the run moved
    if zero == "none":
        qs = _params(x0)
        ours2 = _drive(pt.MADGRAD(qs, lr=lr + eps, c=1.0 - momentum, eps=eps), qs, Gs)
        assert _close(ours2, ref) <= REDUCTION


def test_madgrad_eps_zero_matches_package(rng):
    x0, Gs = _two(rng)
    ref = _madgrad_run(x0, Gs, 0.01, 0.9, 0.0)
    ps = _params(x0)
    assert _close(_drive(pt.MADGRAD(ps, lr=0.01, c=0.1, eps=0.0), ps, Gs), ref) <= REDUCTION


def test_reduction_check_detects_the_missing_eps_shift(rng):
    """The package adds eps to lr: RAMDA(lr = lr_M) without the shift misses."""
    x0, Gs = _two(rng)
    ref = _madgrad_run(x0, Gs, 0.01, 0.9, 1e-3)
    ps = _params(x0)
    ours = _drive(pt.RAMDA(ps, lr=0.01, c=0.1, eps=1e-3), ps, Gs)
    assert _close(ours, ref) > 1e-9


# ------------------------------------------------------------------ conventions
def _setup(data, name, kw, W0=None, v0=None):
    W = torch.nn.Parameter(torch.tensor(data["W0"] if W0 is None else W0))
    v = torch.nn.Parameter(torch.tensor(data["v0"] if v0 is None else v0))
    if name == "MADGRAD":
        opt = pt.MADGRAD([W, v], **kw)
    else:
        opt = getattr(pt, name)([{"params": [W], "groups": "columns"}, {"params": [v], "groups": 3}], **kw)
    A, B = data["A"], data["B"]

    def closure():
        opt.zero_grad()
        loss = ((W - A) ** 2).sum() + ((v - B) ** 4).sum() / 4 + 0.1 * (W.sum(0) * v[:4]).sum() ** 2
        loss.backward()
        return loss

    return [W, v], opt, closure


def _data(rng):
    return {"A": torch.tensor(rng.standard_normal((6, 4))), "B": torch.tensor(rng.standard_normal(9)),
            "W0": rng.standard_normal((6, 4)), "v0": rng.standard_normal(9)}


RESUME = [
    ("RAMDA", {"lr": 0.05, "regularizer": ("group_l2", {"lam": 0.05})}),
    ("RAMDA", {"lr": 0.05, "regularizer": ("group_l2", {"lam": 0.05}), "subproblem_solver": "pg"}),
    ("RAMDA", {"lr": 0.05, "regularizer": ("l1", {"lam": 0.02}), "subproblem_solver": "pg", "c": 0.5}),
    ("RMDA", {"lr": 0.05, "c": 0.1, "regularizer": ("sparse_group_lasso", {"lam1": 0.01, "lam21": 0.05})}),
    ("MADGRAD", {"lr": 0.05}),
    ("ProxSSI", {"lr": 0.05, "regularizer": ("group_l2", {"lam": 0.05})}),
    ("ProxSSI", {"lr": 0.05, "regularizer": ("l1", {"lam": 0.01}), "weight_decay": 0.01}),
]


@pytest.mark.parametrize("name,kw", RESUME, ids=[f"{r[0]}-{i}" for i, r in enumerate(RESUME)])
def test_state_dict_round_trip_resumes_bit_identically(name, kw, rng):
    """15 steps, save (torch.save, torch.load with weights_only=True), 15 more;
    a fresh optimizer loaded from the save on the saved parameters repeats
    those 15 steps bit for bit, state (alpha, W_hat, solver report) included."""
    data = _data(rng)
    params, opt, closure = _setup(data, name, kw)
    for _ in range(15):
        opt.step(closure)
    buf = io.BytesIO()
    torch.save(opt.state_dict(), buf)
    saved = [p.detach().numpy().copy() for p in params]
    for _ in range(15):
        opt.step(closure)
    params2, opt2, closure2 = _setup(data, name, kw, W0=saved[0], v0=saved[1])
    buf.seek(0)
    opt2.load_state_dict(torch.load(buf, weights_only=True))
    for _ in range(15):
        opt2.step(closure2)
    for p, q, s in zip(params, params2, saved):
        assert torch.equal(p.detach(), q.detach())
        assert not np.array_equal(q.detach().numpy(), s)
        assert set(opt.state[p]) == set(opt2.state[q])
        for key, val in opt.state[p].items():
            other = opt2.state[q][key]
            assert torch.equal(val, other) if isinstance(val, torch.Tensor) else val == other, key


def test_resume_detects_a_lost_state(rng):
    data = _data(rng)
    kw = {"lr": 0.05, "regularizer": ("group_l2", {"lam": 0.05})}
    params, opt, closure = _setup(data, "RAMDA", kw)
    for _ in range(5):
        opt.step(closure)
    saved = [p.detach().numpy().copy() for p in params]
    opt.step(closure)
    params2, opt2, closure2 = _setup(data, "RAMDA", kw, W0=saved[0], v0=saved[1])
    opt2.step(closure2)
    assert not torch.equal(params[0].detach(), params2[0].detach())


def test_closure_step_equals_backward_then_step(rng):
    data = _data(rng)
    kw = {"lr": 0.05, "regularizer": ("group_l2", {"lam": 0.05}), "subproblem_solver": "pg"}
    params, opt, closure = _setup(data, "RAMDA", kw)
    params2, opt2, closure2 = _setup(data, "RAMDA", kw)
    for _ in range(10):
        loss = opt.step(closure)
        loss2 = closure2()
        assert opt2.step() is None
        assert torch.equal(loss.detach(), loss2.detach())
    for p, q in zip(params, params2):
        assert torch.equal(p, q)


@pytest.mark.parametrize("name", ["RAMDA", "RMDA", "MADGRAD", "ProxSSI"])
def test_lr_scheduler_changes_the_step(name, rng):
    """The group's lr is read at every step: with StepLR (x0.3 every 7 steps)
    the torch run equals the Numba reference whose lr is set to the same value
    before each step (RAMDA/RMDA/MADGRAD: s_t = lr_t sqrt(t) enters V, U and
    alpha), and differs from the constant-lr run."""
    x0 = rng.standard_normal(12)
    G = _stream(rng, 12, 40)
    reg = None if name == "MADGRAD" else ("group_l2", {"lam": 0.05})
    lr0 = 0.05

    def torch_run(schedule):
        p = torch.nn.Parameter(torch.tensor(x0))
        if name == "MADGRAD":
            opt = pt.MADGRAD([p], lr=lr0)
        else:
            opt = getattr(pt, name)([{"params": [p], "groups": 4}], lr=lr0, regularizer=reg)
        sched = torch.optim.lr_scheduler.StepLR(opt, step_size=7, gamma=0.3) if schedule else None
        lrs, out = [], []
        for g in G:
            lrs.append(opt.param_groups[0]["lr"])
            p.grad = torch.tensor(g)
            opt.step()
            if sched:
                sched.step()
            out.append(p.detach().numpy().copy())
        return np.array(out), lrs, opt.regularizer_for(p)

    ours, lrs, creg = torch_run(True)
    const, _, _ = torch_run(False)
    assert len(set(lrs)) > 3
    alg = solvers.get(name.lower(), lr=lr0, **({} if name == "MADGRAD" else {"regularizer": creg}))
    st = alg.init(x0)
    refs = []
    for g, lr in zip(G, lrs):
        alg.hyper["lr"] = lr
        alg.step(st, g)
        refs.append(st["x"].copy())
    np.testing.assert_allclose(ours, np.array(refs), rtol=PARITY64, atol=PARITY64)
    assert np.max(np.abs(ours - const)) > 1e-4


@pytest.mark.parametrize("name", ["RAMDA", "RMDA"])
def test_restart_equals_the_numba_restart(name, rng):
    """ramda.txt App. A.1 / the RMDA scheduler: 25 steps, restart (lr x0.1,
    eps x0.1 / c x10), 25 steps; equal to the Numba reference's restart."""
    x0 = rng.standard_normal(12)
    G = _stream(rng, 12, 50)
    p = torch.nn.Parameter(torch.tensor(x0))
    kw = {"lr": 0.1, "c": 0.05, "regularizer": ("group_l2", {"lam": 0.1})}
    opt = getattr(pt, name)([{"params": [p], "groups": 3}], **kw)
    alg = solvers.get(name.lower(), lr=0.1, c=0.05, regularizer=opt.regularizer_for(p))
    st = alg.init(x0)
    for k, g in enumerate(G):
        if k == 25:
            if name == "RAMDA":
                opt.restart(0.1, 0.1)
                alg.restart(st, 0.1, 0.1)
            else:
                opt.restart(0.1, 10.0)
                alg.restart(st, 0.1, 10.0)
            assert opt.state[p]["step"] == 0 and opt.param_groups[0]["lr"] == alg.hyper["lr"]
        p.grad = torch.tensor(g)
        opt.step()
        alg.step(st, g)
        np.testing.assert_allclose(p.detach().numpy(), st["x"], rtol=PARITY64, atol=PARITY64)
        np.testing.assert_allclose(opt.prox_point(p).numpy(), alg.prox_point(st), rtol=PARITY64, atol=PARITY64)
    assert opt.param_groups[0]["c"] == alg.hyper["c"]


# ------------------------------------------------------------------ structure
def test_prox_point_carries_the_structure_and_can_be_loaded(rng):
    """RAMDA on a Linear weight with input-wise groups: W_hat has whole zero
    columns (input features) in the same pattern as the Numba reference, the
    averaged parameter (c < 1) has none; load_prox_points copies W_hat in and
    restore undoes it."""
    W = torch.nn.Parameter(torch.tensor(rng.standard_normal((5, 8)) * 0.1))
    opt = pt.RAMDA([{"params": [W], "groups": "columns"}], lr=0.05, c=0.1,
                   regularizer=("group_l2", {"lam": 0.5}))
    alg = solvers.get("ramda", lr=0.05, c=0.1, regularizer=opt.regularizer_for(W))
    st = alg.init(W.detach().numpy().ravel())
    mean = np.array([0.0, 0.0, 0.0, 0.0, 0.5, 1.0, 2.0, 3.0])
    for _ in range(60):
        g = mean * (1.0 + rng.standard_normal((5, 8))) + 0.01 * rng.standard_normal((5, 8))
        W.grad = torch.tensor(g)
        opt.step()
        alg.step(st, g.ravel())
    Wh = opt.prox_point(W).numpy()
    assert opt.prox_point(W) is opt.state[W]["W_hat"]
    zero_cols = np.all(Wh == 0, axis=0)
    assert 0 < zero_cols.sum() < 8
    assert np.array_equal(Wh == 0, alg.prox_point(st).reshape(5, 8) == 0)
    assert np.all(Wh[:, ~zero_cols] != 0)
    assert (W.detach() == 0).sum() == 0
    before = W.detach().clone()
    saved = opt.load_prox_points()
    assert torch.equal(W.detach(), opt.state[W]["W_hat"])
    opt.restore(saved)
    assert torch.equal(W.detach(), before)
    assert set(opt.prox_points()) == {W}


# ------------------------------------------------------------------ validation
@pytest.mark.parametrize("make,match", [
    (lambda ps: pt.RAMDA(ps, lr=0.0), "lr"),
    (lambda ps: pt.RAMDA(ps, c=0.0), "c must be >"),
    (lambda ps: pt.RAMDA(ps, c=1.5), "c must be <="),
    (lambda ps: pt.RAMDA(ps, eps=0.0), "eps"),
    (lambda ps: pt.RAMDA(ps, subproblem_solver="admm"), "subproblem_solver"),
    (lambda ps: pt.RAMDA(ps, pg_max_iter=0), "pg_max_iter"),
    (lambda ps: pt.RAMDA(ps, pg_eps=-1.0), "pg_eps"),
    (lambda ps: pt.RAMDA(ps, pg_rtol=-1.0), "pg_rtol"),
    (lambda ps: pt.RAMDA(ps, newton_tol=0.0), "newton_tol"),
    (lambda ps: pt.RAMDA(ps, regularizer=("group_l2", {"lam": 0.1})), "layout"),
    (lambda ps: pt.RAMDA(ps, regularizer=("l1", {"lam": -0.1})), "lam"),
    (lambda ps: pt.RAMDA(ps, regularizer=("nuclear", {"lam": 0.1})), "nuclear"),
    (lambda ps: pt.RMDA(ps, lr=-1.0), "lr"),
    (lambda ps: pt.RMDA(ps, c=2.0), "c must be"),
    (lambda ps: pt.MADGRAD(ps, eps=-1.0), "eps"),
    (lambda ps: pt.MADGRAD([{"params": ps, "regularizer": "l1"}]), "no regularizer"),
    (lambda ps: pt.ProxSSI(ps, betas=(0.9, 1.0)), "beta2"),
    (lambda ps: pt.ProxSSI(ps, weight_decay=-0.1), "weight_decay"),
    (lambda ps: pt.ProxSSI(ps, metric_bias_correction=2), "metric_bias_correction"),
    (lambda ps: pt.ProxSSI(ps, subproblem_solver="pg"), "subproblem_solver"),
    (lambda ps: pt.ProxSSI(ps, regularizer=("nuclear", {"lam": 0.1})), "nuclear"),
])
def test_bad_hyperparameters_raise_valueerror_naming_them(make, match):
    ps = [torch.nn.Parameter(torch.ones(3, 2, dtype=torch.float64))]
    with pytest.raises(ValueError, match=match):
        make(ps)


def test_ramda_takes_the_nuclear_norm_with_pg_only(rng):
    W = torch.nn.Parameter(torch.tensor(rng.standard_normal((4, 3))))
    pt.RAMDA([W], regularizer=("nuclear", {"lam": 0.1}), subproblem_solver="pg")
    pt.RMDA([W], regularizer=("nuclear", {"lam": 0.1}))
    with pytest.raises(ValueError, match="nuclear"):
        pt.RAMDA([W], regularizer=("nuclear", {"lam": 0.1}), subproblem_solver="newton")


def _snapshot(opt, params):
    st = {id(p): {k: (v.clone() if isinstance(v, torch.Tensor) else v) for k, v in opt.state[p].items()}
          for p in params}
    return [p.detach().clone() for p in params], st, [dict((k, v) for k, v in g.items() if k != "params")
                                                     for g in opt.param_groups]


def _unchanged(opt, params, snap):
    vals, st, groups = snap
    for p, v in zip(params, vals):
        assert torch.equal(p.detach(), v)
    for p in params:
        now = opt.state[p]
        assert set(now) == set(st[id(p)])
        for k, v in st[id(p)].items():
            assert torch.equal(now[k], v) if isinstance(v, torch.Tensor) else now[k] == v
    for g, old in zip(opt.param_groups, groups):
        for k, v in old.items():
            assert g[k] is v or g[k] == v, k


@pytest.mark.parametrize("name,kw", [
    ("RAMDA", {"regularizer": ("group_l2", {"lam": 0.05})}),
    ("RAMDA", {"regularizer": ("group_l2", {"lam": 0.05}), "subproblem_solver": "pg"}),
    ("RMDA", {"regularizer": ("l1", {"lam": 0.01})}),
    ("MADGRAD", {}),
    ("ProxSSI", {"regularizer": ("group_l2", {"lam": 0.05})}),
])
def test_rejected_steps_leave_parameters_and_state_unchanged(name, kw, rng):
    """A bad hyperparameter set after construction (as a bad scheduler would)
    or a NaN in the gradient of the *second* parameter: ValueError naming it,
    and nothing was written (not the first parameter, not alpha, not the
    solver report); a bad restart factor likewise."""
    model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Linear(3, 2)).double()
    if name == "MADGRAD":
        opt = pt.MADGRAD(model.parameters(), lr=0.01)
        named = False
    else:
        opt = getattr(pt, name)(pt.param_groups(model, lr=0.01, **kw))
        named = True
    params = [p for g in opt.param_groups for p in g["params"]]
    x = torch.tensor(rng.standard_normal((5, 4)))

    def closure():
        opt.zero_grad()
        loss = (model(x) ** 2).sum()
        loss.backward()
        return loss

    for _ in range(3):
        opt.step(closure)
    snap = _snapshot(opt, params)
    g0 = opt.param_groups[0]
    bad = [("lr", -0.1, "lr")]
    for key, value, match in (("c", 0.0, "c must be"), ("eps", -1.0, "eps"), ("betas", (0.9, 1.0), "beta2"),
                              ("weight_decay", -1.0, "weight_decay"), ("pg_max_iter", 0, "pg_max_iter"),
                              ("subproblem_solver", "cg", "subproblem_solver")):
        if key in g0:
            bad.append((key, value, match))
    for key, value, match in bad:
        old = g0[key]
        g0[key] = value
        closure()
        with pytest.raises(ValueError, match=match):
            opt.step()
        g0[key] = old
        _unchanged(opt, params, snap)
    closure()
    target = model[1].weight
    target.grad = target.grad.detach().clone()
    target.grad[1, 2] = float("nan")
    who = "'1.weight'" if named else r"param_groups\[0\]\['params'\]\[2\]"
    with pytest.raises(ValueError, match=who + ".*non-finite"):
        opt.step()
    _unchanged(opt, params, snap)
    if hasattr(opt, "restart"):
        with pytest.raises(ValueError, match="lr_factor"):
            opt.restart(lr_factor=-1.0)
        _unchanged(opt, params, snap)
    closure()
    opt.step()
    assert not torch.equal(model[1].weight.detach(), snap[0][2])


def test_nan_policy_none_does_not_check():
    p = torch.nn.Parameter(torch.ones(4, dtype=torch.float64))
    opt = pt.RAMDA([p], lr=0.1, nan_policy="none")
    p.grad = torch.tensor([1.0, float("nan"), 0.0, 1.0], dtype=torch.float64)
    opt.step()
    assert torch.isnan(p[1]) and torch.isfinite(p[0])


# ------------------------------------------------------------------ CUDA
@pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA is not available on this machine")
@pytest.mark.parametrize("name,kw", [
    ("RAMDA", {"regularizer": ("group_l2", {"lam": 0.05})}),
    ("RAMDA", {"regularizer": ("group_l2", {"lam": 0.05}), "subproblem_solver": "pg"}),
    ("RAMDA", {"regularizer": ("group_l2", {"lam": 0.05}), "subproblem_solver": "newton"}),
    ("RMDA", {"regularizer": ("sparse_group_lasso", {"lam1": 0.01, "lam21": 0.05})}),
    ("MADGRAD", {}),
    ("ProxSSI", {"regularizer": ("group_l2", {"lam": 0.05})}),
])
def test_cuda_step_does_not_synchronise(name, kw):
    """With nan_policy="none" a step (the PG and Newton loops included) makes no
    host-device synchronisation (torch's sync debug mode raises on one)."""
    model = torch.nn.Sequential(torch.nn.Linear(16, 8), torch.nn.Linear(8, 4)).cuda()
    if name == "MADGRAD":
        opt = pt.MADGRAD(model.parameters(), lr=0.01, nan_policy="none")
    else:
        opt = getattr(pt, name)(pt.param_groups(model, **kw), lr=0.01, nan_policy="none")
    x = torch.randn(32, 16, device="cuda")
    for _ in range(2):  # the first step builds the cached layouts (host -> device copies)
        opt.zero_grad()
        model(x).pow(2).sum().backward()
        opt.step()
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode("error")
    try:
        opt.zero_grad()
        model(x).pow(2).sum().backward()
        opt.step()
    finally:
        torch.cuda.set_sync_debug_mode("default")
