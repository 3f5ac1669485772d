"""proxlab.torch optimizers: parity with the Numba references, reductions to
torch.optim, torch.optim conventions, validation and exact zeros.

Parity. Every torch optimizer is stepped on three parameters at once -- a
(5, 4) weight with the ``"columns"`` layout (4 groups of 5), an 11-vector with
an explicit layout of mixed sizes 1, 3, 2, 4 (one coordinate in no group) and
an unregularized 3-vector -- against the Numba reference of the same name
(``proxlab.solvers.get``), one instance per parameter with the catalogue
regularizer the optimizer resolved for it, fed the same gradient stream
(per-coordinate scales 1e-2..10, 40% of the coordinates exactly zero for the
first 5 steps). The layout itself is checked independently
(tests/test_torch_prox.py::test_layouts_as_groups).

Tolerances
----------
``PARITY64 = 1e-10`` over 100 steps in float64, as ``|torch - numba| <= PARITY64
(1 + |numba|)`` after every step. Both sides run the same formulas; they differ
by rounding (fused multiply-adds in torch's ``add_(alpha=)``, torch's CPU
``sqrt``/``pow`` being 1 ulp off for ~1% of inputs, summation order of group
norms): a few ulps per step, carried along additively by these contractive
updates; measured worst 5e-14. A formula difference (eps placement, a missing
bias correction, the wrong anchor) is >= 1e-6 within the first steps.

``PARITY32 = 2^-13 ~ 1.2e-4`` (= 1024 eps32) over 100 steps in float32: the Numba
kernels compute each step in float64 and round on store, torch computes in
float32, so each step adds a few eps32 relative error that accumulates over the
100 steps (~100 x 8 eps32 bound; measured worst 4e-6).

``REDUCTION = 1e-12``, as ``|ours - torch.optim| <= REDUCTION (1 + |x|)``, 200 steps
in float64 (the bound argued in tests/test_group_family.py: the Group
optimizers run their parent in dual-averaging form, whose rounding errors add
up without amplification; measured <= 1e-14 here).

Resume and closure tests compare bit for bit (``torch.equal``).
"""

from __future__ import annotations

import inspect
import io
from dataclasses import dataclass, field

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="proxlab.torch needs torch")

from proxlab import solvers  # noqa: E402
from proxlab.groups import Groups  # noqa: E402
import proxlab.torch as pt  # noqa: E402

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
    family: str = "prox"  # "prox" | "group" | "ftrl"
    lams: dict = field(default_factory=dict)
    matrix_only: bool = False
    curvature: bool = False


REGS = {
    "l1": ("l1", {"lam": 0.05}),
    "elastic_net": ("elastic_net", {"lam1": 0.05, "lam2": 0.1}),
    "l2_squared": ("l2_squared", {"lam": 0.2}),
    "l0": ("l0", {"lam": 0.01}),
    "l_half": ("l_half", {"lam": 0.02}),
    "l_two_thirds": ("l_two_thirds", {"lam": 0.02}),
    "lq": ("lq", {"lam": 0.02, "q": 0.3}),
    "mcp": ("mcp", {"lam": 0.1, "gamma": 2.0}),
    "scad": ("scad", {"lam": 0.05, "a": 3.7}),
    "binary_quant": ("binary_quant", {"lam": 0.05, "q": 2.0 / 3.0}),
    "group_l2": ("group_l2", {"lam": 0.1}),
    "sgl": ("sparse_group_lasso", {"lam1": 0.02, "lam21": 0.1, "lam2": 0.01}),
    "none": None,
}


def _prox_cases():
    out = []
    for key, reg in REGS.items():
        out += [
            Case(f"proxgen-{key}", "ProxGen", {"lr": 0.05}, "proxgen", {"lr": 0.05}, reg),
            Case(f"prox_sgd-{key}", "ProxSGD", {"lr": 0.5}, "prox_sgd", {"gamma": 2.0}, reg),
            Case(f"rda-{key}", "RDA", {"lr": 0.5}, "rda", {"gamma": 2.0}, reg),
            Case(f"mrda-{key}", "MRDA", {"lr": 0.5}, "mrda", {"gamma": 2.0}, reg),
        ]
    for key in ("l1", "group_l2", "sgl", "elastic_net", "none"):
        out += [Case(f"prox_sgd_yang-{key}", "ProxSGDYang", {"lr": 0.5}, "prox_sgd_yang", {"lr": 0.5}, REGS[key]),
                Case(f"sqrt_t-{key}", "SqrtTProxSGD", {"lr": 0.5}, "sqrt_t_prox_sgd", {"gamma": 2.0}, REGS[key])]
    out += [
        Case("proxgen-nobc-mcp", "ProxGen", {"lr": 0.05, "betas": (0.8, 0.99), "eps": 1e-3, "bias_correction": False},
             "proxgen", {"lr": 0.05, "beta1": 0.8, "beta2": 0.99, "eps": 1e-3, "bias_correction": 0}, REGS["mcp"]),
        Case("prox_sgd-power0-l1", "ProxSGD", {"lr": 0.1, "power": 0.0}, "prox_sgd",
             {"gamma": 10.0, "power": 0.0}, REGS["l1"]),
        Case("rda-power.75-sgl", "RDA", {"lr": 2.0, "power": 0.75}, "rda", {"gamma": 0.5, "power": 0.75}, REGS["sgl"]),
        Case("yang-schedules", "ProxSGDYang",
             {"lr": 0.1, "power_lr": 0.0, "rho": 0.1, "power_rho": 0.0, "offset": 1.0, "beta": 0.9, "eps": 1e-3,
              "bias_correction": False},
             "prox_sgd_yang", {"lr": 0.1, "power_lr": 0.0, "rho": 0.1, "power_rho": 0.0, "offset": 1.0, "beta": 0.9,
                               "eps": 1e-3, "bias_correction": 0}, REGS["l_half"]),
        Case("prox_sgd-nuclear", "ProxSGD", {"lr": 0.5}, "prox_sgd", {"gamma": 2.0}, ("nuclear", {"lam": 0.3}),
             matrix_only=True),
        Case("rda-nuclear", "RDA", {"lr": 0.5}, "rda", {"gamma": 2.0}, ("nuclear", {"lam": 0.3}), matrix_only=True),
    ]
    for q in (0.0, 0.5, 2.0 / 3.0, 1.0):
        bq = ("binary_quant", {"lam": 0.05, "q": q})
        out += [Case(f"proxquant-q{q:.2f}", "ProxQuant", {"lr": 0.05}, "proxquant", {"lr": 0.05}, bq),
                Case(f"revised_proxquant-q{q:.2f}", "RevisedProxQuant", {"lr": 0.05}, "revised_proxquant",
                     {"lr": 0.05}, bq)]
    out.append(Case("proxquant-default", "ProxQuant", {"lr": 0.01}, "proxquant", {"lr": 0.01}, "default"))
    return out


def _group_cases():
    out = []
    lams = [{"lam1": 0.05, "lam21": 0.3, "lam2": 0.01}, {"lam1": 0.0, "lam21": 2.0, "lam2": 0.0},
            {"lam1": 0.1, "lam21": 0.0, "lam2": 0.05}]
    variants = [("GroupSGD", "group_sgd", {"lr": 0.1}, {"lr": 0.1}),
                ("GroupSGD", "group_sgd", {"lr": 0.05, "power": 0.0}, {"lr": 0.05, "power": 0.0}),
                ("GroupMomentum", "group_momentum", {"lr": 0.05, "momentum": 0.5}, {"lr": 0.05, "momentum": 0.5}),
                ("GroupAdagrad", "group_adagrad", {"lr": 0.1}, {"lr": 0.1}),
                ("GroupAdagrad", "group_adagrad", {"lr": 0.1, "eps": 1e-6}, {"lr": 0.1, "eps": 1e-6}),
                ("GroupAdam", "group_adam", {"lr": 0.1}, {"lr": 0.1}),
                ("GroupAdam", "group_adam", {"lr": 0.05, "betas": (0.5, 0.9), "eps": 1e-3, "q1": "printed"},
                 {"lr": 0.05, "beta1": 0.5, "beta2": 0.9, "eps": 1e-3, "q1": "printed"}),
                ("GroupAMSGrad", "group_amsgrad", {"lr": 0.1}, {"lr": 0.1}),
                ("GroupAMSGrad", "group_amsgrad", {"lr": 0.1, "q1": "printed"}, {"lr": 0.1, "q1": "printed"}),
                ("GroupAdaHessian", "group_adahessian", {"lr": 0.1}, {"lr": 0.1}),
                ("GroupAdaHessian", "group_adahessian", {"lr": 0.1, "betas": (0.9, 0.0), "q1": "printed"},
                 {"lr": 0.1, "beta1": 0.9, "beta2": 0.0, "q1": "printed"})]
    for k, (cls, ref, tkw, nkw) in enumerate(variants):
        for form in ("practical", "exact"):
            for j, lam in enumerate(lams):
                out.append(Case(f"{ref}-{k}-{form}-lams{j}", cls, dict(tkw, form=form), ref, dict(nkw, form=form),
                                family="group", lams=lam, curvature=cls == "GroupAdaHessian"))
    for k, (tkw, nkw) in enumerate([({"lr": 0.1, "lam1": 0.1, "lam2": 0.05}, {"lr": 0.1, "lam1": 0.1, "lam2": 0.05}),
                                    ({"lr": 0.5, "beta": 0.0, "initial_accumulator": 0.1, "lam1": 0.3},
                                     {"lr": 0.5, "beta": 0.0, "initial_accumulator": 0.1, "lam1": 0.3}),
                                    ({"lr": 0.1, "lam1": 0.05, "sigma1": "increment"},
                                     {"lr": 0.1, "lam1": 0.05, "sigma1": "increment"}),
                                    ({"lr": 0.1, "beta": 0.5, "lam2": 0.2}, {"lr": 0.1, "beta": 0.5, "lam2": 0.2})]):
        out.append(Case(f"ftrl-{k}", "FTRL", tkw, "ftrl", nkw, family="ftrl"))
    return out


CASES = _prox_cases() + _group_cases()
CASES32 = [c for c in CASES if c.id in (
    "proxgen-l1", "proxgen-group_l2", "proxgen-sgl", "proxgen-mcp", "proxgen-none", "rda-group_l2", "mrda-l1",
    "prox_sgd-sgl", "prox_sgd_yang-group_l2", "revised_proxquant-q1.00", "group_adam-5-exact-lams0",
    "group_adagrad-3-practical-lams0", "group_sgd-0-exact-lams0", "group_momentum-2-practical-lams1",
    "group_amsgrad-7-practical-lams0", "group_adahessian-9-exact-lams0", "ftrl-0")]


# ------------------------------------------------------------------ harness
def _problem(rng, dtype, device):
    W = torch.nn.Parameter(torch.tensor(rng.standard_normal((5, 4)), dtype=dtype, device=device))
    v = torch.nn.Parameter(torch.tensor(rng.standard_normal(11) * 2.0, dtype=dtype, device=device))
    b = torch.nn.Parameter(torch.tensor(rng.standard_normal(3), dtype=dtype, device=device))
    perm = rng.permutation(11)
    layout = Groups(11, [perm[:1], perm[1:4], perm[4:6], perm[6:10]])
    return [W, v, b], layout


def _stream(rng, n, T=T):
    G = rng.standard_normal((T, n)) * 10.0 ** rng.uniform(-2, 1, n)
    G[:5, rng.random(n) < 0.4] = 0.0
    return G


def _build(case, params, layout):
    W, v, b = params
    cls = getattr(pt, case.cls)
    tkw = dict(case.tkw)
    if case.family == "prox":
        reg = case.reg
        if reg == "default":
            groups = [{"params": [W]}, {"params": [v]}, {"params": [b], "regularizer": None}]
        else:
            groups = [{"params": [W], "regularizer": reg, "groups": "columns"},
                      {"params": [v], "regularizer": None if case.matrix_only else reg, "groups": layout},
                      {"params": [b], "regularizer": None}]
    elif case.family == "group":
        zero = {"lam1": 0.0, "lam21": 0.0, "lam2": 0.0}
        groups = [{"params": [W], "groups": "columns", **case.lams}, {"params": [v], "groups": layout, **case.lams},
                  {"params": [b], **zero}]
    else:
        groups = [{"params": [W, v]}, {"params": [b], "lam1": 0.0, "lam2": 0.0}]
    return cls(groups, **tkw)


def _group_of(opt, p):
    return next(g for g in opt.param_groups if any(q is p for q in g["params"]))


def _reference(case, opt, p, np_dtype):
    """The Numba algorithm for parameter ``p`` and its initial state."""
    nkw = dict(case.nkw)
    if case.family == "prox":
        alg = solvers.get(case.ref, regularizer=opt.regularizer_for(p), **nkw)
    elif case.family == "group":
        g = _group_of(opt, p)
        kw = dict(nkw, lam1=g["lam1"], lam21=g["lam21"], lam2=g["lam2"])
        groups = opt.regularizer_for(p).groups
        if groups is not None:
            kw.update(n=p.numel(), groups=groups)
        alg = solvers.get(case.ref, **kw)
    else:
        g = _group_of(opt, p)
        alg = solvers.get("ftrl", **dict(nkw, lam1=g["lam1"], lam2=g["lam2"]))
    return alg, alg.init(p.detach().cpu().numpy().ravel().astype(np_dtype))


def _run_parity(case, device, dtype, rng, tol):
    np_dtype = np.float64 if dtype == torch.float64 else np.float32
    params, layout = _problem(rng, dtype, device)
    opt = _build(case, params, layout)
    refs = [_reference(case, opt, p, np_dtype) for p in params]
    Gs = [_stream(rng, p.numel()) for p in params]
    Cs = [1.0 + rng.standard_normal((T, p.numel())) ** 2 for p in params] if case.curvature else None
    worst = 0.0
    for k in range(T):
        for j, p in enumerate(params):
            p.grad = torch.tensor(Gs[j][k].reshape(p.shape), dtype=dtype, device=device)
        if case.curvature:
            opt.step(curvature={p: torch.tensor(Cs[j][k].reshape(p.shape), dtype=dtype, device=device)
                                for j, p in enumerate(params)})
        else:
            opt.step()
        for j, (p, (alg, st)) in enumerate(zip(params, refs)):
            g = Gs[j][k].astype(np_dtype)
            if case.curvature:
                alg.step(st, g, curvature=Cs[j][k])
            else:
                alg.step(st, g)
            ours = p.detach().cpu().double().numpy().ravel()
            ref = st["x"].astype(np.float64)
            err = float(np.max(np.abs(ours - ref) / (1.0 + np.abs(ref))))
            if alg.prox_point_field:
                pp = opt.prox_point(p).detach().cpu().double().numpy().ravel()
                ref_pp = alg.prox_point(st).astype(np.float64)
                err = max(err, float(np.max(np.abs(pp - ref_pp) / (1.0 + np.abs(ref_pp)))))
                if dtype == torch.float64:
                    assert np.array_equal(pp == 0, ref_pp == 0), f"{case.id}: prox-point zeros differ at step {k + 1}"
            elif dtype == torch.float64:
                assert np.array_equal(ours == 0, ref == 0), f"{case.id}: zero patterns differ at step {k + 1}"
            assert err <= tol, f"{case.id} ({dtype}, {device}): step {k + 1}, parameter {j}: {err:.3g}"
            worst = max(worst, err)
    return worst


# ------------------------------------------------------------------ parity
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_parity_float64_with_numba(case, device, rng):
    _run_parity(case, device, torch.float64, rng, PARITY64)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("case", CASES32, ids=[c.id for c in CASES32])
def test_parity_float32_with_numba(case, device, rng):
    _run_parity(case, device, torch.float32, rng, PARITY32)


def test_every_registered_algorithm_in_scope_has_a_parity_case():
    """Each Numba algorithm is covered by a parity case: here, or (RMDA,
    RAMDA, ProxSSI, MADGRAD) in tests/test_torch_dual.py."""
    covered = {c.ref for c in CASES}
    from .test_torch_dual import CASES as DUAL_CASES

    assert set(solvers.names()) == covered | {c.ref for c in DUAL_CASES}


def _torch_default(cls, key):
    return inspect.signature(cls.__init__).parameters[key].default


DEFAULT_MAP = [  # torch class, Numba name, {torch keyword: Numba hyperparameter (or a function of the defaults)}
    ("ProxGen", "proxgen", {"lr": "lr", "betas": ("beta1", "beta2"), "eps": "eps",
                            "bias_correction": "bias_correction"}),
    ("ProxQuant", "proxquant", {"lr": "lr", "betas": ("beta1", "beta2"), "eps": "eps"}),
    ("RevisedProxQuant", "revised_proxquant", {"lr": "lr", "betas": ("beta1", "beta2"), "eps": "eps"}),
    ("ProxSGD", "prox_sgd", {"lr": lambda h: 1.0 / h["gamma"], "power": "power"}),
    ("SqrtTProxSGD", "sqrt_t_prox_sgd", {"lr": lambda h: 1.0 / h["gamma"]}),
    ("ProxSGDYang", "prox_sgd_yang", {k: k for k in ("lr", "power_lr", "rho", "power_rho", "offset", "beta", "eps",
                                                     "bias_correction")}),
    ("RDA", "rda", {"lr": lambda h: 1.0 / h["gamma"], "power": "power"}),
    ("MRDA", "mrda", {"lr": lambda h: 1.0 / h["gamma"]}),
    ("GroupSGD", "group_sgd", {k: k for k in ("lr", "power", "lam1", "lam21", "lam2")}),
    ("GroupMomentum", "group_momentum", {k: k for k in ("lr", "momentum", "lam1", "lam21", "lam2")}),
    ("GroupAdagrad", "group_adagrad", {k: k for k in ("lr", "eps", "lam1", "lam21", "lam2")}),
    ("GroupAdam", "group_adam", {"lr": "lr", "betas": ("beta1", "beta2"), "eps": "eps", "lam21": "lam21"}),
    ("GroupAMSGrad", "group_amsgrad", {"lr": "lr", "betas": ("beta1", "beta2"), "eps": "eps"}),
    ("GroupAdaHessian", "group_adahessian", {"lr": "lr", "betas": ("beta1", "beta2"), "eps": "eps"}),
    ("FTRL", "ftrl", {k: k for k in ("lr", "lam1", "lam2", "initial_accumulator")}),
]


@pytest.mark.parametrize("name,ref,mapping", DEFAULT_MAP, ids=[m[0] for m in DEFAULT_MAP])
def test_defaults_are_the_references_defaults(name, ref, mapping):
    cls = getattr(pt, name)
    h = solvers._base._REGISTRY[ref].defaults
    for key, target in mapping.items():
        ours = _torch_default(cls, key)
        if callable(target):
            expected = target(h)
        elif isinstance(target, tuple):
            expected = tuple(h[t] for t in target)
        else:
            expected = h[target]
        assert ours == expected, (name, key, ours, expected)
    if name == "FTRL":
        assert _torch_default(cls, "beta") == solvers.get("ftrl").beta
    if name in ("ProxQuant", "RevisedProxQuant"):
        p = torch.nn.Parameter(torch.zeros(3, dtype=torch.float64))
        assert cls([p]).regularizer_for(p).params == solvers.get(ref).regularizer.params


def test_group_family_takes_its_lambdas_from_a_regularizer(rng):
    """regularizer=("sparse_group_lasso", ...) and the lam keys give the same
    iterates; group_l2 is lam21 alone; both at once is refused."""
    x0, Gs = _two(rng)
    runs = []
    for kw in ({"lam1": 0.01, "lam21": 0.2, "lam2": 0.05},
               {"regularizer": ("sparse_group_lasso", {"lam1": 0.01, "lam21": 0.2, "lam2": 0.05})},
               {"lam21": 0.2}, {"regularizer": ("group_l2", {"lam": 0.2})}):
        ps = _params(x0)
        opt = pt.GroupAdam([{"params": [ps[0]], "groups": "columns"}, {"params": [ps[1]], "groups": 7}], lr=0.05,
                           **kw)
        runs.append(_drive(opt, ps, [G[:30] for G in Gs]))
    assert np.array_equal(runs[0], runs[1]) and np.array_equal(runs[2], runs[3])
    assert not np.array_equal(runs[0], runs[2])
    ps = _params(x0)
    with pytest.raises(ValueError, match="not both"):
        pt.GroupAdam([{"params": ps, "groups": "all"}], lam21=0.1, regularizer=("group_l2", {"lam": 0.1}))
    with pytest.raises(ValueError, match="eq \\(5\\)"):
        pt.GroupAdam([{"params": ps, "groups": "all"}], regularizer=("l_half", {"lam": 0.1}))


def test_nuclear_only_where_the_metric_is_uniform(rng):
    """ProxSGD / RDA (identity metric) take the nuclear norm (parity: the cases
    prox_sgd-nuclear, rda-nuclear); the Adam-metric methods refuse it at
    construction, before any step."""
    W = torch.nn.Parameter(torch.tensor(rng.standard_normal((4, 3))))
    pt.RDA([W], regularizer=("nuclear", {"lam": 0.1}))
    for cls in (pt.ProxGen, pt.ProxSGDYang, pt.RevisedProxQuant):
        with pytest.raises(ValueError, match="nuclear"):
            cls([W], regularizer=("nuclear", {"lam": 0.1}))


# ------------------------------------------------------------------ reductions
def _drive(opt, params, Gs, sched=None):
    out = []
    for k in range(Gs[0].shape[0]):
        for p, G in zip(params, Gs):
            p.grad = torch.tensor(G[k].reshape(p.shape), dtype=torch.float64)
        opt.step()
        if sched is not None:
            sched.step()
        out.append(np.concatenate([p.detach().numpy().ravel() for p in params]))
    return np.array(out)


def _two(rng):
    x0 = [rng.standard_normal((4, 3)), rng.standard_normal(7)]
    return x0, [_stream(rng, x.size, 200) for x in x0]


def _params(x0):
    return [torch.nn.Parameter(torch.tensor(x, dtype=torch.float64)) for x in x0]


REDUCTIONS = [
    ("GroupAdam", {"lr": 0.01, "betas": (0.9, 0.999), "eps": 1e-8},
     lambda ps: torch.optim.Adam(ps, lr=0.01, betas=(0.9, 0.999), eps=1e-8, foreach=False)),
    ("GroupAdam", {"lr": 0.1, "betas": (0.5, 0.9), "eps": 1e-3},
     lambda ps: torch.optim.Adam(ps, lr=0.1, betas=(0.5, 0.9), eps=1e-3, foreach=False)),
    ("GroupAMSGrad", {"lr": 0.05, "betas": (0.9, 0.99), "eps": 1e-6},
     lambda ps: torch.optim.Adam(ps, lr=0.05, betas=(0.9, 0.99), eps=1e-6, amsgrad=True, foreach=False)),
    ("GroupAdagrad", {"lr": 0.1, "eps": 0.1},
     lambda ps: torch.optim.Adagrad(ps, lr=0.1, initial_accumulator_value=0.1, eps=0.0, foreach=False)),
    ("GroupMomentum", {"lr": 0.02, "momentum": 0.9},
     lambda ps: torch.optim.SGD(ps, lr=0.02, momentum=0.9, dampening=0.0, foreach=False)),
    ("GroupSGD", {"lr": 0.05, "power": 0.0}, lambda ps: torch.optim.SGD(ps, lr=0.05, foreach=False)),
    ("ProxGen", {"lr": 0.01}, lambda ps: torch.optim.Adam(ps, lr=0.01, foreach=False)),
    ("FTRL", {"lr": 0.1, "beta": 0.5, "initial_accumulator": 0.2},
     lambda ps: torch.optim.Adagrad(ps, lr=0.1, eps=0.5, initial_accumulator_value=0.2, foreach=False)),
]


@pytest.mark.parametrize("form", ["practical", "exact"])
@pytest.mark.parametrize("name,kw,parent", REDUCTIONS, ids=[f"{r[0]}-{i}" for i, r in enumerate(REDUCTIONS)])
def test_lambda_zero_reduces_to_torch_optim(name, kw, parent, form, rng):
    """With every lambda 0 (a layout present) each optimizer is its torch.optim
    parent over 200 steps, from a random x_1 with gradients exactly 0 on some
    coordinates for the first steps; a wrong eps placement or Q_1 misses by >= 1e-9."""
    if form == "exact" and not name.startswith("Group"):
        pytest.skip("form applies to the Group family only")
    x0, Gs = _two(rng)
    ps = _params(x0)
    extra = {"form": form} if name.startswith("Group") else {}
    groups = [{"params": [ps[0]], "groups": "columns"}, {"params": [ps[1]], "groups": None}]
    ours = _drive(getattr(pt, name)(groups, **kw, **extra), ps, Gs)
    qs = _params(x0)
    ref = _drive(parent(qs), qs, Gs)
    np.testing.assert_allclose(ours, ref, rtol=REDUCTION, atol=REDUCTION)
    assert np.max(np.abs(ours[-1] - ours[0])) > 1e-3  # the run moved


def test_reduction_test_detects_the_printed_q1(rng):
    """The reduction check can fail: Algorithm 2's printed Q_1 (q1="printed")
    is not torch's Adam (it loses eps x_1 / (sqrt(V_1) + eps) at the first step)."""
    x0, Gs = _two(rng)
    ps = _params(x0)
    ours = _drive(pt.GroupAdam(ps, lr=0.01, eps=1e-2, q1="printed"), ps, Gs)
    qs = _params(x0)
    ref = _drive(torch.optim.Adam(qs, lr=0.01, eps=1e-2, foreach=False), qs, Gs)
    assert np.max(np.abs(ours - ref)) > 1e-6


# ------------------------------------------------------------------ conventions
def _data(rng):
    return {"A": torch.tensor(rng.standard_normal((6, 4))), "B": torch.tensor(rng.standard_normal(9)),
            "W0": rng.standard_normal((6, 4)), "v0": rng.standard_normal(9)}


def _setup(data, name, kw, W0=None, v0=None, hessian=False):
    """Parameters (a (6, 4) weight, columns layout; a 9-vector in groups of 3),
    the optimizer and a closure on a smooth non-quadratic loss."""
    W = torch.nn.Parameter(torch.tensor(data["W0"] if W0 is None else W0))
    v = torch.nn.Parameter(torch.tensor(data["v0"] if v0 is None else v0))
    opt = getattr(pt, name)([{"params": [W], "groups": "columns"}, {"params": [v], "groups": 3}], **kw)
    A, B = data["A"], data["B"]

    def closure():
        opt.zero_grad()
        loss = ((W - A) ** 2).sum() + ((v - B) ** 4).sum() / 4 + 0.1 * (W.sum(0) * v[:4]).sum() ** 2
        loss.backward(create_graph=hessian)
        return loss

    return [W, v], opt, closure


RESUME = [
    ("ProxGen", {"lr": 0.05, "regularizer": ("group_l2", {"lam": 0.05})}),
    ("ProxSGDYang", {"lr": 0.3, "regularizer": ("sparse_group_lasso", {"lam1": 0.01, "lam21": 0.05})}),
    ("RDA", {"lr": 0.02, "regularizer": ("l1", {"lam": 0.02})}),
    ("MRDA", {"lr": 0.02, "regularizer": ("group_l2", {"lam": 0.05})}),
    ("ProxSGD", {"lr": 0.01, "regularizer": ("l_half", {"lam": 0.01})}),
    ("SqrtTProxSGD", {"lr": 0.01, "regularizer": ("scad", {"lam": 0.01})}),
    ("ProxQuant", {"lr": 0.05}),
    ("RevisedProxQuant", {"lr": 0.05}),
    ("GroupAdam", {"lr": 0.05, "lam1": 0.01, "lam21": 0.1, "form": "exact"}),
    ("GroupAMSGrad", {"lr": 0.05, "lam21": 0.1}),
    ("GroupAdagrad", {"lr": 0.1, "lam21": 0.1, "lam2": 0.01}),
    ("GroupMomentum", {"lr": 0.001, "lam21": 0.1}),
    ("GroupSGD", {"lr": 0.005, "lam21": 0.1}),
    ("GroupAdaHessian", {"lr": 0.05, "lam21": 0.05}),
    ("FTRL", {"lr": 0.1, "lam1": 0.01}),
]


@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph")
@pytest.mark.parametrize("name,kw", RESUME, ids=[r[0] for r in RESUME])
def test_state_dict_round_trip_resumes_bit_identically(name, kw, rng):
    """Run 15 steps, save (torch.save / torch.load with weights_only=True: the
    state is tensors, ints and strings), run 15 more; a fresh optimizer loaded
    from the save, on parameters restored to the saved values, repeats those
    15 steps bit for bit (Group AdaHessian: Hutchinson through the closure,
    its generator is in the state_dict)."""
    data = _data(rng)
    hess = name == "GroupAdaHessian"
    params, opt, closure = _setup(data, name, kw, hessian=hess)
    for _ in range(15):
        opt.step(closure)
    buf = io.BytesIO()
    torch.save(opt.state_dict(), buf)
    saved = [p.detach().numpy().copy() for p in params]
    for _ in range(15):
        opt.step(closure)
    params2, opt2, closure2 = _setup(data, name, kw, W0=saved[0], v0=saved[1], hessian=hess)
    buf.seek(0)
    opt2.load_state_dict(torch.load(buf, weights_only=True))
    for _ in range(15):
        opt2.step(closure2)
    moved = False
    for p, q, s in zip(params, params2, saved):
        assert torch.equal(p.detach(), q.detach())
        moved |= not np.array_equal(q.detach().numpy(), s)
        for key, val in opt.state[p].items():
            other = opt2.state[q][key]
            assert torch.equal(val, other) if isinstance(val, torch.Tensor) else val == other, key
    assert moved


def test_state_dict_resume_detects_a_lost_state(rng):
    """The resume check can fail: a fresh optimizer (no state loaded) does not
    repeat the iterates."""
    data = _data(rng)
    params, opt, closure = _setup(data, "GroupAdam", {"lr": 0.05, "lam21": 0.1})
    for _ in range(5):
        opt.step(closure)
    saved = [p.detach().numpy().copy() for p in params]
    opt.step(closure)
    params2, opt2, closure2 = _setup(data, "GroupAdam", {"lr": 0.05, "lam21": 0.1}, W0=saved[0], v0=saved[1])
    opt2.step(closure2)
    assert not torch.equal(params[0].detach(), params2[0].detach())


def test_closure_step_equals_backward_then_step(rng):
    data = _data(rng)
    kw = {"lr": 0.05, "regularizer": ("sparse_group_lasso", {"lam1": 0.01, "lam21": 0.05})}
    params, opt, closure = _setup(data, "ProxGen", kw)
    params2, opt2, closure2 = _setup(data, "ProxGen", kw)
    for _ in range(10):
        loss = opt.step(closure)
        loss2 = closure2()
        assert opt2.step() is None
        assert torch.equal(loss.detach(), loss2.detach())
    for p, q in zip(params, params2):
        assert torch.equal(p, q)


@pytest.mark.parametrize("name,ref,nkw", [("ProxGen", "proxgen", {}), ("GroupAdam", "group_adam", {}),
                                          ("ProxSGD", "prox_sgd", None), ("RDA", "rda", None)])
def test_lr_scheduler_changes_the_step(name, ref, nkw, rng):
    """The group's lr is read at every step: with StepLR (x0.3 every 7 steps)
    the torch run equals the Numba reference whose lr is set to the same value
    before each step (ProxSGD/RDA: gamma = 1/lr), and differs from the run at a
    constant lr."""
    x0 = rng.standard_normal(12)
    G = _stream(rng, 12, 40)
    lams = {"lam21": 0.2} if name == "GroupAdam" else {"regularizer": ("group_l2", {"lam": 0.05})}
    lr0 = 0.05

    def torch_run(schedule):
        p = torch.nn.Parameter(torch.tensor(x0))
        opt = getattr(pt, name)([{"params": [p], "groups": 4}], lr=lr0, **lams)
        sched = torch.optim.lr_scheduler.StepLR(opt, step_size=7, gamma=0.3) if schedule else None
        lrs, out = [], []
        for g in G:
            lrs.append(opt.param_groups[0]["lr"])
            p.grad = torch.tensor(g)
            opt.step()
            if sched:
                sched.step()
            out.append(p.detach().numpy().copy())
        return np.array(out), lrs

    ours, lrs = torch_run(True)
    const, _ = torch_run(False)
    assert len(set(lrs)) > 3
    groups = Groups(12, 4)
    if name == "GroupAdam":
        alg = solvers.get(ref, lr=lr0, lam21=0.2, n=12, groups=groups)
    else:
        reg = solvers._base.resolve_regularizer(("group_l2", {"lam": 0.05, "n": 12, "groups": groups}))
        alg = solvers.get(ref, regularizer=reg, **({"lr": lr0} if nkw is not None else {"gamma": 1.0 / lr0}))
    st = alg.init(x0)
    refs = []
    for g, lr in zip(G, lrs):
        if nkw is not None:
            alg.hyper["lr"] = lr
        else:
            alg.hyper["gamma"] = 1.0 / lr
        alg.step(st, g)
        refs.append(st["x"].copy())
    np.testing.assert_allclose(ours, np.array(refs), rtol=PARITY64, atol=PARITY64)
    assert np.max(np.abs(ours - const)) > 1e-4


# ------------------------------------------------------------------ validation
@pytest.mark.parametrize("make,match", [
    (lambda ps: pt.ProxGen(ps, lr=0.0), "lr"),
    (lambda ps: pt.ProxGen(ps, lr=-1e-3), "lr"),
    (lambda ps: pt.ProxGen(ps, betas=(1.0, 0.9)), "beta1"),
    (lambda ps: pt.ProxGen(ps, betas=(0.9, -0.1)), "beta2"),
    (lambda ps: pt.ProxGen(ps, eps=-1.0), "eps"),
    (lambda ps: pt.ProxGen(ps, regularizer=("l1", {"lam": -0.1})), "lam"),
    (lambda ps: pt.GroupAdam(ps, lam21=-1.0, groups="columns"), "lam21"),
    (lambda ps: pt.GroupAdam(ps, lam1=-1.0), "lam1"),
    (lambda ps: pt.GroupAdagrad(ps, lam2=-1.0), "lam2"),
    (lambda ps: pt.GroupAMSGrad(ps, betas=(0.9, 1.5)), "beta2"),
    (lambda ps: pt.GroupMomentum(ps, momentum=1.0), "momentum"),
    (lambda ps: pt.GroupAdam(ps, lam21=0.1), "group layout"),
    (lambda ps: pt.GroupAdam(ps, form="approx"), "form"),
    (lambda ps: pt.RDA(ps, lr=0.0), "lr"),
    (lambda ps: pt.ProxSGD(ps, power=-1.0), "power"),
    (lambda ps: pt.ProxSGDYang(ps, lr=1.5), "lr"),
    (lambda ps: pt.ProxSGDYang(ps, beta=1.0), "beta"),
    (lambda ps: pt.FTRL(ps, lam1=-0.1), "lam1"),
    (lambda ps: pt.FTRL(ps, beta=0.0, initial_accumulator=0.0), "beta"),
    (lambda ps: pt.ProxGen(ps, regularizer=("group_l2", {"lam": 0.1})), "layout"),
    (lambda ps: pt.ProxGen(ps, regularizer="no_such_thing"), "unknown"),
])
def test_bad_hyperparameters_raise_valueerror_naming_them(make, match):
    ps = [torch.nn.Parameter(torch.ones(3, 2, dtype=torch.float64))]
    with pytest.raises(ValueError, match=match):
        make(ps)


def _snapshot(opt, params):
    st = {id(p): {k: (v.clone() if isinstance(v, torch.Tensor) else v) for k, v in opt.state[p].items()}
          for p in params}
    return [p.detach().clone() for p in params], st


def _unchanged(opt, params, snap):
    vals, st = snap
    for p, v in zip(params, vals):
        assert torch.equal(p.detach(), v)
    for p in params:
        now = opt.state[p]
        assert set(now) == set(st[id(p)])
        for k, v in st[id(p)].items():
            assert torch.equal(now[k], v) if isinstance(v, torch.Tensor) else now[k] == v


@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph")
@pytest.mark.parametrize("name,kw", [("ProxGen", {"regularizer": ("l1", {"lam": 0.01})}),
                                     ("GroupAdam", {"lam21": 0.05}), ("RDA", {}), ("FTRL", {}),
                                     ("GroupAdaHessian", {"lam21": 0.05})])
def test_rejected_steps_leave_parameters_and_state_unchanged(name, kw, rng):
    """A negative lr set after construction (as a bad scheduler would), a
    negative lambda, betas outside [0, 1), or a NaN in the gradient of the
    *second* parameter: ValueError naming it, and nothing was written (not even
    to the first parameter, whose gradient is fine)."""
    model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Linear(3, 2)).double()
    opt = getattr(pt, name)(pt.param_groups(model, lr=0.01, **kw))
    params = [p for g in opt.param_groups for p in g["params"]]
    x = torch.tensor(rng.standard_normal((5, 4)))
    hess = name == "GroupAdaHessian"

    def closure():
        opt.zero_grad()
        loss = (model(x) ** 2).sum()
        loss.backward(create_graph=hess)
        return loss

    for _ in range(3):
        opt.step(closure)
    snap = _snapshot(opt, params)
    g0 = opt.param_groups[0]
    bad_edits = [("lr", -0.1, "lr")]
    if "betas" in g0:
        bad_edits.append(("betas", (0.9, 1.0), "beta2"))
    for key in ("lam1", "lam21", "lam2"):
        if key in g0:
            bad_edits.append((key, -1.0, key))
    for key, value, match in bad_edits:
        old = g0[key]
        g0[key] = value
        closure()
        with pytest.raises(ValueError, match=match):
            opt.step()
        g0[key] = old
        _unchanged(opt, params, snap)
    # NaN in the gradient of the second Linear's weight
    closure()
    target = model[1].weight
    target.grad = target.grad.detach().clone()
    target.grad[1, 2] = float("nan")
    if hess:
        with pytest.raises(ValueError):  # a detached gradient has no graph for Hutchinson
            opt.step()
        _unchanged(opt, params, snap)
        closure()
        curv = {p: torch.ones_like(p) for p in params}
        curv[target] = curv[target].clone()
        curv[target][0, 0] = float("inf")
        with pytest.raises(ValueError, match="'1.weight'.*non-finite"):
            opt.step(curvature=curv)
        _unchanged(opt, params, snap)
        return
    with pytest.raises(ValueError, match="'1.weight'.*non-finite"):
        opt.step()
    _unchanged(opt, params, snap)
    # and the optimizer still works afterwards
    closure()
    opt.step()
    assert not torch.equal(model[1].weight.detach(), snap[0][2])


def test_nan_policy_none_does_not_check(rng):
    p = torch.nn.Parameter(torch.ones(4, dtype=torch.float64))
    opt = pt.ProxGen([p], lr=0.1, nan_policy="none")
    p.grad = torch.tensor([1.0, float("nan"), 0.0, 1.0], dtype=torch.float64)
    opt.step()
    assert torch.isnan(p[1]) and torch.isfinite(p[0])
    with pytest.raises(ValueError, match="nan_policy"):
        pt.ProxGen([p], nan_policy="skip")


# ------------------------------------------------------------------ exact zeros
def test_group_adam_zeroes_whole_input_columns_like_numba(rng):
    """A large lam21 on a Linear weight (columns layout) gives exactly zero
    columns (input features), with the same pattern as the Numba reference; a
    non-zero column has no zero entry (lam1 = 0)."""
    W = torch.nn.Parameter(torch.tensor(rng.standard_normal((5, 8)) * 0.1))
    opt = pt.GroupAdam([{"params": [W], "groups": "columns"}], lr=0.05, lam21=0.5)
    groups = opt.regularizer_for(W).groups
    alg = solvers.get("group_adam", lr=0.05, lam21=0.5, n=40, groups=groups)
    st = alg.init(W.detach().numpy().ravel())
    mean = np.array([0.0, 0.0, 0.0, 0.0, 0.5, 1.0, 2.0, 3.0])  # features without and with signal
    for _ in range(60):
        g = mean * (1.0 + rng.standard_normal((5, 8))) + 0.01 * rng.standard_normal((5, 8))
        W.grad = torch.tensor(g)
        opt.step()
        alg.step(st, g.ravel())
    Wn = W.detach().numpy()
    zero_cols = np.all(Wn == 0, axis=0)
    assert 0 < zero_cols.sum() < 8
    assert np.array_equal(Wn == 0, st["x"].reshape(5, 8) == 0)
    assert np.all(Wn[:, ~zero_cols] != 0)
    assert not np.any(np.signbit(Wn[:, zero_cols]))


def test_prox_sgd_yang_zeros_live_in_the_prox_point(rng):
    p = torch.nn.Parameter(torch.tensor(rng.standard_normal(20)))
    opt = pt.ProxSGDYang([p], lr=0.5, regularizer=("l1", {"lam": 0.5}))
    for _ in range(20):
        p.grad = torch.tensor(rng.standard_normal(20) * 0.1)
        opt.step()
    xhat = opt.prox_point(p)
    assert (xhat == 0).sum() > 5
    assert (p == 0).sum() == 0
    assert pt.ProxGen([p]).prox_point(p) is p


# ------------------------------------------------------------------ model helper
class _Net(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = torch.nn.Embedding(10, 4)
        self.conv = torch.nn.Conv1d(4, 5, 3)
        self.bn = torch.nn.BatchNorm1d(5)
        self.lstm = torch.nn.LSTM(5, 3, batch_first=True)
        self.ln = torch.nn.LayerNorm(3)
        self.fc = torch.nn.Linear(3, 2)

    def forward(self, idx):
        h = self.emb(idx).transpose(1, 2)
        h = self.bn(self.conv(h)).transpose(1, 2)
        h, _ = self.lstm(h)
        return self.fc(self.ln(h[:, -1]))


def test_param_groups_layouts_and_unregularized_bias_and_norm():
    net = _Net().double()
    groups = pt.param_groups(net, ("group_l2", {"lam": 0.1}))
    layout = {}
    for g in groups:
        for name in g["params"] if isinstance(g["params"][0], tuple) else []:
            pass
        for name, p in g["params"]:
            layout[name] = (g["groups"], g["regularizer"] is not None)
    assert layout["emb.weight"] == ("rows", True)
    assert layout["conv.weight"] == ("out_channels", True)
    assert layout["fc.weight"] == ("columns", True)
    assert layout["lstm.weight_ih_l0"] == ("columns", True)
    assert layout["lstm.weight_hh_l0"] == ("columns", True)
    for name in ("conv.bias", "bn.weight", "bn.bias", "ln.weight", "ln.bias", "fc.bias", "lstm.bias_ih_l0"):
        assert layout[name] == (None, False), name
    assert set(layout) == {n for n, _ in net.named_parameters()}
    g2 = pt.param_groups(net, "l1", conv="in_channels", regularize_bias=True, regularize_norm=True, lam21=0.3)
    layout2 = {name: (g["groups"], g["regularizer"]) for g in g2 for name, _ in g["params"]}
    assert layout2["conv.weight"] == ("in_channels", "l1")
    assert layout2["fc.bias"] == (None, "l1") and layout2["bn.weight"] == (None, "l1")
    assert all(g["lam21"] == 0.3 for g in g2)


@pytest.mark.parametrize("conv", ["out_channels", "in_channels"])
def test_group_adam_on_a_model_zeroes_features_channels_and_rows(conv, rng):
    """One Group Adam step with a huge lam21 (the first step moves the weights
    to -z/D with ||s_g|| = ||g_g|| <= lam21 w_g): every grouped structure --
    embedding rows, conv output (or input) channels, LSTM and Linear input
    columns -- is exactly zero, while the unregularized biases and norms moved."""
    torch.manual_seed(0)
    net = _Net().double()
    opt = pt.GroupAdam(pt.param_groups(net, conv=conv, lam21=1e6), lr=0.1)
    before = {n: p.detach().clone() for n, p in net.named_parameters()}
    idx = torch.tensor(rng.integers(0, 10, (6, 7)))
    loss = net(idx).pow(2).sum()
    loss.backward()
    opt.step()
    named = dict(net.named_parameters())
    for name in ("emb.weight", "conv.weight", "lstm.weight_ih_l0", "lstm.weight_hh_l0", "fc.weight"):
        assert torch.count_nonzero(named[name]) == 0, name
    for name in ("conv.bias", "bn.weight", "fc.bias", "lstm.bias_ih_l0"):
        assert not torch.equal(named[name].detach(), before[name]), name
    # a moderate lam21 zeroes some groups only, along the layout
    net2 = _Net().double()
    opt2 = pt.GroupAdam(pt.param_groups(net2, conv=conv, lam21=0.0), lr=0.1)
    w = net2.conv.weight
    opt2.param_groups[[i for i, g in enumerate(opt2.param_groups)
                       if any(q is w for q in g["params"])][0]]["lam21"] = 3.0
    with torch.no_grad():
        w.zero_()  # then s_1 = -g_1: a group survives iff ||g_g|| > lam21 sqrt(|g|)
    g = torch.tensor(rng.standard_normal(w.shape))
    if conv == "out_channels":
        g[1] *= 100.0
    else:
        g[:, 2] *= 100.0
    w.grad = g
    opt2.step()
    W = w.detach()
    if conv == "out_channels":
        alive = [bool(torch.count_nonzero(W[o])) for o in range(W.shape[0])]
        assert alive[1] and not all(alive)
        assert all(bool(torch.all(W[o] != 0)) == alive[o] for o in range(W.shape[0]))
    else:
        alive = [bool(torch.count_nonzero(W[:, c])) for c in range(W.shape[1])]
        assert alive[2] and not all(alive)
        assert all(bool(torch.all(W[:, c] != 0)) == alive[c] for c in range(W.shape[1]))


# ------------------------------------------------------------------ AdaHessian
@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph")
def test_group_adahessian_hutchinson_through_the_closure_matches_numba(rng):
    """On f(x) = sum_i a_i x_i^2 / 2 + x_i^4 / 12 the Hessian is diagonal, so
    Hutchinson's estimate u * (H u) is exact (u_i^2 = 1): the torch run with
    create_graph=True in the closure equals the Numba reference given the exact
    diagonal a + x^2 at its own iterates (30 steps, float64)."""
    a = 10.0 ** rng.uniform(-1, 1, 12)
    x0 = rng.standard_normal(12) * 2.0
    groups = Groups(12, [np.arange(0, 5), np.arange(5, 7), np.arange(7, 12)])
    p = torch.nn.Parameter(torch.tensor(x0))
    at = torch.tensor(a)
    kw = dict(lr=0.1, lam1=0.1, lam21=0.5, lam2=0.01, form="exact")
    opt = pt.GroupAdaHessian([{"params": [p], "groups": groups}], hessian_samples=2, **kw)

    def closure():
        opt.zero_grad()
        loss = (at * p ** 2 / 2 + p ** 4 / 12).sum()
        loss.backward(create_graph=True)
        return loss

    alg = solvers.get("group_adahessian", n=12, groups=groups, hessian_diag=lambda x: a + x ** 2, **kw)
    st = alg.init(x0)
    for _ in range(30):
        opt.step(closure)
        x = st["x"]
        alg.step(st, a * x + x ** 3 / 3)
        np.testing.assert_allclose(p.detach().numpy(), st["x"], rtol=PARITY64, atol=PARITY64)
    assert (p.detach() == 0).any()


def test_group_adahessian_needs_a_curvature():
    p = torch.nn.Parameter(torch.ones(3, dtype=torch.float64))
    opt = pt.GroupAdaHessian([p])
    p.grad = torch.ones(3, dtype=torch.float64)
    with pytest.raises(ValueError, match="create_graph"):
        opt.step()
    with pytest.raises(ValueError, match="shape"):
        opt.step(curvature={p: torch.ones(2, dtype=torch.float64)})
    opt.step(curvature=[torch.ones(3, dtype=torch.float64)])
    assert opt.state[p]["step"] == 1


# ------------------------------------------------------------------ CUDA
@pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA is not available on this machine")
@pytest.mark.parametrize("name,kw", [
    ("ProxGen", {"regularizer": ("group_l2", {"lam": 0.05})}),
    ("ProxGen", {"regularizer": ("lq", {"lam": 0.01, "q": 0.4})}),
    ("ProxSGDYang", {"regularizer": ("sparse_group_lasso", {"lam1": 0.01, "lam21": 0.05})}),
    ("RDA", {"regularizer": ("l_two_thirds", {"lam": 0.01})}),
    ("GroupAdam", {"lam1": 0.01, "lam21": 0.05, "form": "exact"}),
    ("GroupAdagrad", {"lam21": 0.05}),
    ("FTRL", {"lam1": 0.01}),
])
def test_cuda_step_does_not_synchronise(name, kw):
    """With nan_policy="none" a step (the iterative prox kernels included) makes
    no host-device synchronisation (torch's sync debug mode raises on one)."""
    model = torch.nn.Sequential(torch.nn.Linear(16, 8), torch.nn.Linear(8, 4)).cuda()
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
