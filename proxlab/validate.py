"""``proxlab validate prox``: every registered regularizer against an oracle.

For every example instance of every registered regularizer, random and edge
cases ``(z, step, d)`` are drawn and ``prox_metric`` is compared with

* CVXPY (Clarabel, tight tolerances) when the regularizer is convex;
* the global 1-D oracle when it is nonconvex and separable.

Acceptance (convex, CVXPY). Let ``F`` be the subproblem objective, ``x`` our
output and ``y`` the oracle's. Because ``F`` is strongly convex with modulus
``d_i / step`` in coordinate ``i``, the exact minimizer ``x*`` satisfies
``F(y) - F(x*) >= 0.5 * sum_i (d_i / step) (y_i - x*_i)^2`` for *every* ``y``.
A case passes when

1. ``F(x) <= F(y) + OBJ_RTOL * (1 + |F(y)|)`` (we are not worse than the
   oracle beyond its accuracy), and
2. ``|x - y| <= X_RTOL * (1 + max|z|)`` entrywise, or, where the oracle is
   less accurate than that (ill-conditioned metrics spanning 1e-6..1e6), the
   distance is explained by the oracle's own excess objective:
   ``0.5 ||x - y||^2_{d/step} <= F(y) - F(x) + OBJ_RTOL * (1 + |F(y)|)``.
   An ``x`` that violates this cannot be the minimizer.

Acceptance (nonconvex, 1-D oracle): per coordinate, ``|x - x_o| <= 1e-9 (1 +
|z|)`` or the oracle reports a tie and ``x`` is one of the tied minimizers;
and ``h(x) <= h(x_o) + 1e-12 (1 + |h|)``.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass, field

import numpy as np

#: relative objective tolerance against CVXPY: Clarabel at tol 1e-12 reaches
#: ~1e-10 relative on these problems; 1e-8 leaves two digits of margin.
OBJ_RTOL = 1e-8
#: entrywise agreement with CVXPY's x on well-conditioned cases.
X_RTOL = 1e-6
#: 1-D oracle agreement (float64 polish to ~1e-14).
X1D_RTOL = 1e-9
H1D_RTOL = 1e-12


@dataclass
class CaseResult:
    abs_err: float
    obj_gap: float
    ok: bool
    oracle_ok: bool
    tie: bool = False
    kind: str = ""
    #: agreement with CVXPY's x holds only through the strong-convexity bound
    oracle_limited: bool = False
    #: the oracle stopped at Clarabel's reduced tolerances
    oracle_inaccurate: bool = False


@dataclass
class ValidationRow:
    regularizer: str
    instance: str
    oracle: str
    cases: int
    max_abs_error: float
    max_objective_gap: float
    ties: int
    oracle_limited: int
    oracle_inaccurate: int
    oracle_failures: int
    failures: int
    seconds: float
    failed_kinds: list = field(default_factory=list)
    #: a row of approximate_examples(): the step approximates its argmin by design
    approximate: bool = False

    @property
    def status(self):
        if self.failures or self.oracle_failures:
            return "FAIL"
        return "APPROX" if self.approximate else "PASS"


def draw_cases(reg, rng, n_cases):
    """Random and edge-case instances ``(kind, z, step, d)`` for ``reg``.

    Edge cases: z = 0, z exactly at the zero threshold, step and metric
    entries spanning 1e-6..1e6, huge |z|, a group entirely zero (grouped
    regularizers).
    """
    cases = []
    dim = reg.dim
    for k in range(n_cases):
        n = dim if dim is not None else int(rng.integers(1, 16))
        kind = ["random", "random", "metric", "wide-metric", "zero", "threshold", "huge", "tiny-step",
                "huge-step", "zero-group"][k % 10]
        scale = 10.0 ** rng.uniform(-2, 2)
        z = rng.standard_normal(n) * scale
        step = 10.0 ** rng.uniform(-1, 1)
        d = None
        if kind in ("metric", "threshold", "zero-group", "huge"):
            d = 10.0 ** rng.uniform(-2, 2, n)
        elif kind == "wide-metric":
            d = 10.0 ** rng.uniform(-6, 6, n)
        elif kind == "tiny-step":
            step = 10.0 ** rng.uniform(-6, -4)
            z = z * step ** 0.5
            d = 10.0 ** rng.uniform(-1, 1, n)
        elif kind == "huge-step":
            step = 10.0 ** rng.uniform(4, 6)
            d = 10.0 ** rng.uniform(-1, 1, n)
        if kind == "zero":
            z = np.zeros(n)
        elif kind == "huge":
            # 1e6 for CVXPY: past that Clarabel's solution of a well-posed
            # problem loses digits (|x - x*| ~ 1e-4 |z| at |z| = 1e8, measured);
            # the 1-D oracle works in float64 arithmetic and takes 1e12.
            z = rng.standard_normal(n) * (1e6 if reg.convex else 1e12)
        elif kind == "threshold":
            zt = reg.at_threshold(z, step, d)
            if zt is None:
                kind = "random"
            else:
                z = np.asarray(zt, dtype=np.float64)
        elif kind == "zero-group":
            groups = getattr(reg, "groups", None)
            if groups is not None and groups.n_groups > 1:
                g = int(rng.integers(groups.n_groups))
                z[groups.idx[groups.ptr[g]:groups.ptr[g + 1]]] = 0.0
            else:
                z[rng.random(n) < 0.3] = 0.0
        shape = getattr(reg, "shape", None)  # matrix regularizers take matrices
        if shape is not None:
            z = z.reshape(shape)
            d = None if d is None else d.reshape(shape)
        cases.append((kind, z, float(step), d))
    return cases


def _check_convex(reg, oracle, kind, z, step, d, x=None):
    """Compare ``x`` (default: ``reg.prox_metric(z, step, d)``) with CVXPY."""
    if x is None:
        x = reg.prox_metric(z, step, d)
    res = oracle.solve(z, step, d)
    if not res.ok:
        return CaseResult(math.nan, math.nan, False, False, kind=kind)
    y = res.x
    fx = reg.objective(x, z, step, d)
    fy = reg.objective(y, z, step, d)
    scale = 1.0 + abs(fy)
    gap = fx - fy
    abs_err = float(np.max(np.abs(x - y))) if x.size else 0.0
    ok_obj = gap <= OBJ_RTOL * scale
    close = abs_err <= X_RTOL * (1.0 + float(np.max(np.abs(z), initial=0.0)))
    dd = np.ones(z.shape) if d is None else d
    metric_dist = 0.5 * float(np.sum(dd / step * (x - y) ** 2))
    explained = metric_dist <= (fy - fx) + OBJ_RTOL * scale
    return CaseResult(abs_err, gap / scale, bool(ok_obj and (close or explained)), True, kind=kind,
                      oracle_limited=bool(not close and explained), oracle_inaccurate=res.inaccurate)


def _check_scalar(reg, kind, z, step, d, x=None):
    """Compare ``x`` (default: ``reg.prox_metric(z, step, d)``) with the global 1-D oracle."""
    from .oracles.scalar import global_prox_1d

    if x is None:
        x = reg.prox_metric(z, step, d)
    t = step if d is None else step / d
    t = np.broadcast_to(np.asarray(t, dtype=np.float64), z.shape)
    o = global_prox_1d(reg, z, t)
    hx = reg.value_elementwise(x) + (x - z) ** 2 / (2 * t)
    ho = o.h
    err = np.abs(x - o.x)
    agree = err <= X1D_RTOL * (1 + np.abs(z))
    if o.tie.any():
        alt = np.abs(x - o.x_alt) <= X1D_RTOL * (1 + np.abs(z))
        agree = agree | (o.tie & alt)
    ok_h = hx <= ho + H1D_RTOL * (1 + np.abs(ho))
    gap = float(np.max((hx - ho) / (1 + np.abs(ho)))) if z.size else 0.0
    abs_err = float(np.max(np.where(o.tie & agree, 0.0, err))) if z.size else 0.0
    return CaseResult(abs_err, gap, bool(agree.all() and ok_h.all()), True, tie=bool(o.tie.any()), kind=kind)


def validate_regularizer(reg, rng, n_cases):
    """Validate one instance on ``n_cases`` cases; returns a :class:`ValidationRow`."""
    t0 = time.perf_counter()
    results = []
    if reg.convex:
        from .oracles.cvxpy_oracle import CvxpyProxOracle

        oracle_name = "cvxpy/clarabel"
        oracles = {}
        for kind, z, step, d in draw_cases(reg, rng, n_cases):
            if z.shape not in oracles:
                oracles[z.shape] = CvxpyProxOracle(reg, z.shape)
            results.append(_check_convex(reg, oracles[z.shape], kind, z, step, d))
    else:
        if not reg.separable:
            raise TypeError(f"{reg.name}: no oracle for nonconvex non-separable regularizers")
        oracle_name = "global 1-D"
        for kind, z, step, d in draw_cases(reg, rng, n_cases):
            results.append(_check_scalar(reg, kind, z, step, d))
    errs = [r.abs_err for r in results if r.oracle_ok]
    gaps = [r.obj_gap for r in results if r.oracle_ok]
    return ValidationRow(
        regularizer=reg.name,
        instance=repr(reg),
        oracle=oracle_name,
        cases=len(results),
        max_abs_error=max(errs) if errs else math.nan,
        max_objective_gap=max(gaps) if gaps else math.nan,
        ties=sum(r.tie for r in results),
        oracle_limited=sum(r.oracle_limited for r in results),
        oracle_inaccurate=sum(r.oracle_inaccurate for r in results),
        oracle_failures=sum(not r.oracle_ok for r in results),
        failures=sum(r.oracle_ok and not r.ok for r in results),
        seconds=time.perf_counter() - t0,
        failed_kinds=sorted({r.kind for r in results if not r.ok}),
    )


def _validate_registry(registry, kind, names, seed, progress, check, n):
    """Run ``check(instance, rng, n)`` on every example of every registered
    class of ``registry`` (or only ``names``), one seeded generator per class."""
    all_names = registry.names()
    if names:
        unknown = [name for name in names if name not in all_names]
        if unknown:
            raise ValueError(f"unknown {kind}(s) {unknown}; registered: {', '.join(all_names)}")
    todo = []
    for cls in registry.classes():
        if names and cls.name not in names:
            continue
        rng = np.random.default_rng([seed, all_names.index(cls.name)])
        todo.extend((obj, rng) for obj in cls.examples(rng))
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(todo), desc=f"validate {kind}", unit="instance", leave=False)
    rows = []
    for obj, rng in todo:
        rows.append(check(obj, rng, n))
        if bar is not None:
            bar.set_postfix_str(obj.name)
            bar.update()
    if bar is not None:
        bar.close()
    return rows


def validate_prox(names=None, n_cases=200, seed=0, progress=True):
    """Run the validation for every registered regularizer (or ``names``).

    Every example instance of a regularizer gets ``n_cases`` cases, so each
    regularizer is checked on at least ``n_cases`` instances.
    """
    from . import regularizers

    return _validate_registry(regularizers, "regularizer", names, seed, progress, validate_regularizer, n_cases)


def summarize(rows):
    """Collapse instance rows into one row per regularizer."""
    out = {}
    for r in rows:
        if r.regularizer in out and r.oracle not in out[r.regularizer]["oracle"].split(" + "):
            out[r.regularizer]["oracle"] += " + " + r.oracle
        s = out.setdefault(r.regularizer, {"regularizer": r.regularizer, "oracle": r.oracle, "instances": 0,
                                           "cases": 0, "max_abs_error": 0.0, "max_objective_gap": -math.inf,
                                           "ties": 0, "oracle_limited": 0, "oracle_inaccurate": 0, "oracle_failures": 0,
                                           "failures": 0, "approximate": r.approximate})
        s["instances"] += 1
        s["cases"] += r.cases
        s["max_abs_error"] = max(s["max_abs_error"], r.max_abs_error)
        s["max_objective_gap"] = max(s["max_objective_gap"], r.max_objective_gap)
        s["ties"] += r.ties
        s["oracle_limited"] += r.oracle_limited
        s["oracle_inaccurate"] += r.oracle_inaccurate
        s["oracle_failures"] += r.oracle_failures
        s["failures"] += r.failures
    for s in out.values():
        failed = s["failures"] or s["oracle_failures"]
        s["status"] = "FAIL" if failed else ("APPROX" if s.pop("approximate") else "PASS")
        s.pop("approximate", None)
    return list(out.values())


def rows_to_json(rows):
    return json.dumps({"instances": [dict(asdict(r), status=r.status) for r in rows],
                       "summary": summarize(rows)}, indent=2, default=float)


# ------------------------------------------------------------------ updates
def _random_states(alg, rng, n_states):
    """States of ``alg`` after 0..40 random steps (early gradients with exact
    zeros in some coordinates), each with the gradient of the next step."""
    reg = alg.regularizer
    n = reg.dim if reg is not None and reg.dim is not None else int(rng.integers(2, 14))
    out = []
    for k in range(n_states):
        x0 = rng.standard_normal(n) * 10.0 ** rng.uniform(-1, 1)
        state = alg.init(x0)
        n_steps = int([0, 1, 2, 5, 40][k % 5])
        scale = 10.0 ** rng.uniform(-2, 2, n)  # per-coordinate gradient scales: metrics span orders of magnitude
        dead = rng.random(n) < 0.3
        for j in range(n_steps + 1):
            g = rng.standard_normal(n) * scale
            if j < 3:
                g[dead] = 0.0
            if j == n_steps:
                out.append((state, g))
            else:
                alg.step(state, g)
    return out


def validate_algorithm(alg, rng, n_states):
    """Every step's prox point against the oracle of the step's own subproblem."""
    from .oracles.cvxpy_oracle import CvxpyProxOracle

    t0 = time.perf_counter()
    results = []
    oracles = {}
    reg = alg.regularizer
    oracle_name = "identity" if reg is None else ("cvxpy/clarabel" if reg.convex else "global 1-D")
    for state, g in _random_states(alg, rng, n_states):
        sub = alg.subproblem(state, g)
        alg.step(state, g)
        x = np.asarray(alg.prox_point(state), dtype=np.float64)
        z = np.asarray(sub.center, dtype=np.float64)
        if sub.reg is None:
            err = float(np.max(np.abs(x - z), initial=0.0))
            results.append(CaseResult(err, 0.0, err <= 1e-12 * (1 + float(np.max(np.abs(z), initial=0.0))), True))
        elif sub.reg.convex:
            key = (id(sub.reg), z.shape)
            if key not in oracles:
                oracles[key] = CvxpyProxOracle(sub.reg, z.shape)
            results.append(_check_convex(sub.reg, oracles[key], f"t={state.t}", z, sub.step, sub.d, x=x))
        else:
            results.append(_check_scalar(sub.reg, f"t={state.t}", z, sub.step, sub.d, x=x))
    errs = [r.abs_err for r in results if r.oracle_ok]
    gaps = [r.obj_gap for r in results if r.oracle_ok]
    return ValidationRow(
        regularizer=alg.name, instance=repr(alg), oracle=oracle_name, cases=len(results),
        max_abs_error=max(errs) if errs else math.nan, max_objective_gap=max(gaps) if gaps else math.nan,
        ties=sum(r.tie for r in results), oracle_limited=sum(r.oracle_limited for r in results),
        oracle_inaccurate=sum(r.oracle_inaccurate for r in results),
        oracle_failures=sum(not r.oracle_ok for r in results),
        failures=sum(r.oracle_ok and not r.ok for r in results),
        seconds=time.perf_counter() - t0, failed_kinds=sorted({r.kind for r in results if not r.ok}))


def validate_approximate(alg, rng, n_states):
    """A step that approximates its subproblem by design (GA's practical form).

    The argmin is computed by the catalogue's exact metric prox (itself held
    against CVXPY by ``proxlab validate prox``). A case *fails* when the zero
    pattern of the step differs from the argmin's (the practical form's zero
    decisions are exact, claim GA-A1) or when the step is lower than the
    argmin beyond rounding (then the "exact" solver is wrong); otherwise the
    row reports the approximation: ``max_abs_error`` = max |x - argmin| and
    ``max_objective_gap`` = (F(x) - F(argmin)) / (1 + |F(argmin)|).
    """
    t0 = time.perf_counter()
    results = []
    for state, g in _random_states(alg, rng, n_states):
        sub = alg.subproblem(state, g)
        exact = np.asarray(sub.solve(), dtype=np.float64)
        alg.step(state, g)
        x = np.asarray(alg.prox_point(state), dtype=np.float64)
        z = np.asarray(sub.center, dtype=np.float64)
        f_exact = sub.reg.objective(exact, z, sub.step, sub.d)
        gap = (sub.reg.objective(x, z, sub.step, sub.d) - f_exact) / (1.0 + abs(f_exact))
        same_zeros = bool(np.array_equal(x == 0.0, exact == 0.0))
        ok = same_zeros and gap >= -1e-12
        results.append(CaseResult(float(np.max(np.abs(x - exact), initial=0.0)), float(gap), ok, True,
                                  kind=f"t={state.t}" + ("" if same_zeros else " zero pattern")))
    return ValidationRow(
        regularizer=f"{alg.name} (practical)", instance=repr(alg), oracle="exact metric prox",
        cases=len(results), max_abs_error=max(r.abs_err for r in results),
        max_objective_gap=max(r.obj_gap for r in results), ties=0, oracle_limited=0, oracle_inaccurate=0,
        oracle_failures=0, failures=sum(not r.ok for r in results), seconds=time.perf_counter() - t0,
        failed_kinds=sorted({r.kind for r in results if not r.ok}), approximate=True)


def validate_updates(names=None, n_states=50, seed=0, progress=True, approximate=True):
    """``proxlab validate updates``: every registered algorithm's examples, then
    (``approximate=True``) the rows of :meth:`Algorithm.approximate_examples`."""
    from . import solvers

    rows = _validate_registry(solvers, "algorithm", names, seed, progress, validate_algorithm, n_states)
    if approximate:
        for cls in solvers.classes():
            if names and cls.name not in names:
                continue
            rng = np.random.default_rng([seed, solvers.names().index(cls.name), 1])
            rows.extend(validate_approximate(alg, rng, n_states) for alg in cls.approximate_examples(rng))
    return rows
