"""The algorithm contract and its registry.

An :class:`Algorithm` is an update rule of one of the four papers. It knows

* its hyperparameters, validated, with the paper's defaults (``defaults``);
* its state: a :class:`State` of plain arrays (so it saves and resumes);
* ``step(state, grad)``: one update by a fused Numba kernel (the reference);
* ``subproblem(state, grad)``: the exact problem that step solves, as a metric
  prox ``argmin_x R(x) + (1/(2 step)) sum_i d_i (x_i - center_i)^2`` the
  oracles can check (:class:`Subproblem`);
* ``parent``: the unregularized method it reduces to when every lambda is 0;
* ``source``: paper, algorithm and equation.

Every step has two implementations that the tests hold against each other:
the fused Numba kernel (``_kernel``) and the readable Python composition
``subproblem`` -> ``Regularizer.prox_metric`` -> ``_advance``. Regularizers
without a Numba kernel (the nuclear norm) always take the Python path.

Kernel signature shared by every algorithm (so one Numba driver runs them all)::

    kernel(t, x, g, S, sc, h, kind, rp, idx, ptr, gw, work) -> None

``t`` is the step number (1 at the first step), ``x`` the iterate (updated in
place), ``g`` the gradient at ``x``, ``S`` the (k, n) per-coordinate state,
``sc`` the scalar state, ``h`` the float64 hyperparameters (``hyper_order``),
``(kind, rp, idx, ptr, gw)`` the regularizer spec of
:func:`proxlab.regularizers._dispatch.numba_spec` and ``work`` a (2, n)
float64 scratch (row 0 usually holds the metric, row 1 goes to the prox).

**Specialized kernels.** A loop whose body branches on a runtime ``kind``
(eleven separable regularizers, six Group variants) does not vectorize: the
fused ProxAdam-l1 step ran at 2.2x the memory-bandwidth bound that way. An
algorithm may therefore give ``_kernel_factory(key)``, which returns the same
kernel with ``key`` frozen as a closure constant (Numba folds the branches;
the step then runs at ~1.0x the bound, BENCHMARKS.md), and ``_kernel_key``,
which names the key of an instance (``None``: use the generic ``_kernel``).
The factory's ``key = -1`` build *is* the generic kernel, so both come from one
source. Specializations are built on first use and cached on disk by Numba
(the closure constant is part of Numba's cache key).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from .._validation import as_float_array, check_scalar

_REGISTRY: dict[str, type] = {}


def register(cls):
    """Class decorator: add an :class:`Algorithm` to the registry."""
    if not cls.name:
        raise ValueError(f"{cls.__name__} has no registry name")
    if cls.name in _REGISTRY and _REGISTRY[cls.name] is not cls:
        raise ValueError(f"algorithm name {cls.name!r} is registered twice")
    _REGISTRY[cls.name] = cls
    return cls


@dataclass
class Subproblem:
    """``argmin_x reg(x) + (1/(2 step)) sum_i d_i (x_i - center_i)^2``.

    ``reg`` is a catalogue regularizer (``None``: no regularizer, the argmin
    is ``center``); ``d`` is ``None`` for the identity metric.
    """

    reg: object
    center: np.ndarray
    step: float
    d: np.ndarray | None = None

    def solve(self):
        """The exact argmin with the catalogue's own prox (not an oracle)."""
        if self.reg is None:
            return self.center.copy()
        return self.reg.prox_metric(self.center, self.step, self.d)


class State(dict):
    """Plain arrays of an algorithm's state.

    ``S`` (k, n) holds the per-coordinate fields, ``sc`` the scalar ones,
    ``x`` the iterate and ``t`` the number of steps taken (0 after ``init``).
    Named views (``state["m"]`` etc.) point into ``S``. ``save``/``load`` go
    through ``np.savez`` (atomic: written to a temporary file, then renamed).
    """

    def __init__(self, x, fields, scalars, dtype):
        super().__init__()
        n = x.shape[0]
        self["x"] = x.astype(dtype, copy=True)
        self["S"] = np.zeros((len(fields), n), dtype=dtype)
        self["sc"] = np.zeros(len(scalars), dtype=np.float64)
        self["t"] = 0
        self.fields = tuple(fields)
        self.scalars = tuple(scalars)
        self._bind()

    def _bind(self):
        for k, f in enumerate(self.fields):
            dict.__setitem__(self, f, self["S"][k])

    @property
    def t(self):
        return int(self["t"])

    def scalar(self, name):
        return float(self["sc"][self.scalars.index(name)])

    def copy(self):
        new = State.__new__(State)
        dict.__init__(new)
        new.fields, new.scalars = self.fields, self.scalars
        for k in ("x", "S", "sc"):
            dict.__setitem__(new, k, self[k].copy())
        dict.__setitem__(new, "t", int(self["t"]))
        new._bind()
        return new

    def save(self, path):
        import os
        import tempfile

        folder = os.path.dirname(os.path.abspath(path)) or "."
        fd, tmp = tempfile.mkstemp(dir=folder, suffix=".npz")
        os.close(fd)
        np.savez(tmp, x=self["x"], S=self["S"], sc=self["sc"], t=np.int64(self["t"]),
                 fields=np.array(self.fields, dtype=str), scalars=np.array(self.scalars, dtype=str))
        os.replace(tmp, path)

    @classmethod
    def load(cls, path):
        with np.load(path) as f:
            new = State.__new__(State)
            dict.__init__(new)
            new.fields = tuple(str(s) for s in f["fields"])
            new.scalars = tuple(str(s) for s in f["scalars"])
            for k in ("x", "S", "sc"):
                dict.__setitem__(new, k, f[k].copy())
            dict.__setitem__(new, "t", int(f["t"]))
        new._bind()
        return new


def check_lr(value, name="lr"):
    return check_scalar(name, value, low=0.0, low_open=True)


def check_beta(value, name):
    """A momentum/averaging coefficient in [0, 1)."""
    return check_scalar(name, value, low=0.0, high=1.0, high_open=True)


def check_eps(value, name="eps"):
    return check_scalar(name, value, low=0.0)


def resolve_regularizer(regularizer, n=None):
    """A catalogue regularizer from an instance, a name, or ``(name, params)``."""
    from .. import regularizers

    if regularizer is None:
        return None
    if isinstance(regularizer, regularizers.Regularizer):
        return regularizer
    if isinstance(regularizer, str):
        return regularizers.get(regularizer)
    if isinstance(regularizer, tuple) and len(regularizer) == 2 and isinstance(regularizer[0], str):
        return regularizers.get(regularizer[0], **dict(regularizer[1]))
    raise TypeError(f"regularizer must be a Regularizer, a name or (name, params), got {regularizer!r}")


@njit(cache=True, fastmath={"reassoc"})
def first_nonfinite(g):
    """Index of the first NaN/Inf of ``g``, or -1: one vectorized read of ``g``,
    no temporary (``np.isfinite(g).all()`` also writes an n-byte mask).

    ``sum(g * 0)`` is 0 for finite ``g`` and NaN as soon as one entry is NaN or
    Inf; ``reassoc`` lets the sum vectorize and keeps NaN semantics (folding
    ``g * 0`` to 0 would need ``nnan``, which is not given)."""
    acc = 0.0
    for i in range(g.shape[0]):
        acc += g[i] * 0.0
    if acc == 0.0:
        return -1
    for i in range(g.shape[0]):
        if not np.isfinite(g[i]):
            return i
    return -1


_SPECIALIZED: dict = {}


def specialized_kernel(factory, key):
    """``factory(key)``, built once per process (Numba caches the compiled code on disk)."""
    k = (factory, key)
    if k not in _SPECIALIZED:
        _SPECIALIZED[k] = factory(key)
    return _SPECIALIZED[k]


class Algorithm:
    """Base class of the update rules. Subclasses set the class attributes,
    ``_check_hyper`` and implement ``_kernel`` (a module-level Numba function
    with the shared signature), ``subproblem`` and ``_advance``."""

    name = ""
    family = ""
    source = ""
    #: the unregularized method it equals when every lambda is zero
    parent = ""
    #: hyperparameters with the paper's defaults, in the order of ``h``
    defaults: dict = {}
    #: per-coordinate state fields (rows of S) and scalar state fields
    fields: tuple = ()
    scalars: tuple = ()
    #: name of the state field that holds the prox point, when it differs from x
    prox_point_field = None
    #: NaN/Inf in a gradient: "raise" (ValueError, state untouched) or "skip"
    #: (the step is not taken, state["sc"] is untouched, ``skipped`` counts it)
    nan_policy = "raise"

    def __init__(self, regularizer=None, nan_policy="raise", **hyper):
        unknown = set(hyper) - set(self.defaults)
        if unknown:
            raise TypeError(f"{self.name}: unknown hyperparameter(s) {sorted(unknown)}; "
                            f"known: {sorted(self.defaults)}")
        if nan_policy not in ("raise", "skip"):
            raise ValueError(f"nan_policy must be 'raise' or 'skip', got {nan_policy!r}")
        self.nan_policy = nan_policy
        self.hyper = self._check_hyper({**self.defaults, **hyper})
        self.regularizer = resolve_regularizer(regularizer)
        self.skipped = 0
        self._spec_cache = None

    # ------------------------------------------------------------ contract
    def _check_hyper(self, hyper):
        return hyper

    def subproblem(self, state, grad):
        """The problem whose argmin is the next prox point (state not changed)."""
        raise TypeError(f"{self.name} does not define its subproblem")

    def _advance(self, state, grad, prox_point):
        """Update ``state`` given the solved subproblem (Python path)."""
        raise TypeError(f"{self.name} has no Python path")

    _kernel = None
    #: optional ``factory(key) -> kernel`` (see the module docstring)
    _kernel_factory = None

    def _kernel_key(self, spec):
        """Specialization key for the regularizer spec (default: the separable
        regularizer kind; ``None`` for grouped kinds, which keep the generic kernel)."""
        from ..regularizers._dispatch import QUANT

        kind = spec[0]
        return int(kind) if kind <= QUANT else None

    def _python_solver(self):
        """True when this instance's subproblem solver runs in Python (RAMDA's PG,
        ProxSSI's Newton): then no fused kernel may stand in for it, in
        :meth:`step` or in :func:`~proxlab.solvers.run.run`."""
        return False

    def kernel(self):
        """The Numba kernel :meth:`step` and :func:`~proxlab.solvers.run.run` call
        for this instance, or ``None`` when the step takes the Python path."""
        spec = self._spec()
        if spec is None or self._kernel is None or self._python_solver():
            return None
        owner = next(c for c in type(self).__mro__ if "_kernel" in c.__dict__)
        factory = owner.__dict__.get("_kernel_factory")  # only with the _kernel it was made for
        key = self._kernel_key(spec) if factory is not None else None
        if key is None:
            return type(self)._kernel
        return specialized_kernel(factory.__func__ if isinstance(factory, staticmethod) else factory, key)

    def _workspace(self, n):
        """A (2, n) float64 scratch kept between steps (grouped kinds write it;
        allocating and faulting in 2n doubles every step cost more than the step)."""
        w = getattr(self, "_work", None)
        if w is None or w.shape[1] != n:
            w = self._work = np.empty((2, n), dtype=np.float64)
        return w

    # ------------------------------------------------------------- public
    def init(self, x0):
        """A fresh state at ``x0`` (1-D float32/float64 array)."""
        x0 = as_float_array("x0", x0, ndim=1)
        self._check_regularizer_dim(x0.shape[0])
        state = State(x0, self.fields, self.scalars, x0.dtype)
        self._init_state(state)
        return state

    def _init_state(self, state):
        pass

    def step(self, state, grad):
        """One update; returns the new iterate ``state["x"]``.

        All validation happens before the first write, so a rejected step
        leaves ``state`` exactly as it was.
        """
        grad = self._check_grad(state, grad)
        if grad is None:
            return state["x"]
        kernel = self.kernel()
        if kernel is None:
            sub = self.subproblem(state, grad)
            self._advance(state, grad, sub.solve())
        else:
            x = state["x"]
            kernel(state.t + 1, x, grad, state["S"], state["sc"], self.h, *self._spec(), self._workspace(x.shape[0]))
        state["t"] = state.t + 1
        return state["x"]

    def step_python(self, state, grad):
        """The readable reference path: subproblem -> prox_metric -> advance."""
        grad = self._check_grad(state, grad)
        if grad is None:
            return state["x"]
        sub = self.subproblem(state, grad)
        self._advance(state, grad, sub.solve())
        state["t"] = state.t + 1
        return state["x"]

    def prox_point(self, state):
        """The point that carries exact structure (``x`` unless the method averages)."""
        return state[self.prox_point_field] if self.prox_point_field else state["x"]

    def outputs(self, state):
        """Named iterates: ``x`` and, for averaging methods, ``prox_point``."""
        out = {"x": state["x"]}
        if self.prox_point_field:
            out["prox_point"] = state[self.prox_point_field]
        return out

    @property
    def h(self):
        return np.array([float(self.hyper[k]) for k in self.defaults], dtype=np.float64)

    def describe(self):
        return {"name": self.name, "family": self.family, "parent": self.parent, "source": self.source,
                "defaults": ", ".join(f"{k}={v:g}" for k, v in self.defaults.items())}

    @classmethod
    def examples(cls, rng):
        """Instances for the test matrix and ``proxlab validate updates``."""
        raise TypeError(f"{cls.__name__} defines no examples")

    @classmethod
    def approximate_examples(cls, rng):
        """Instances whose step, *by design*, only approximates the argmin of its
        subproblem (GA's practical form with adaptive metrics). ``proxlab validate
        updates`` reports them in their own rows (status APPROX: the measured gap,
        and the exact properties that must still hold); none by default."""
        return []

    def __repr__(self):
        hyp = ", ".join(f"{k}={v:g}" for k, v in self.hyper.items())
        return f"{type(self).__name__}({hyp}, regularizer={self.regularizer!r})"

    # ------------------------------------------------------------- helpers
    def _spec(self):
        if self._spec_cache is None:
            from ..regularizers._dispatch import numba_spec

            self._spec_cache = (numba_spec(self.regularizer),)
        return self._spec_cache[0]

    def _check_regularizer_dim(self, n):
        reg = self.regularizer
        if reg is not None and reg.dim is not None and reg.dim != n:
            raise ValueError(f"x0 has {n} entries but the regularizer {reg!r} expects {reg.dim}")

    def _check_grad(self, state, grad):
        x = state["x"]
        g = np.asarray(grad)
        if g.shape != x.shape:
            raise ValueError(f"grad must have the shape of x {x.shape}, got {g.shape}")
        if g.dtype.kind not in "biuf":
            raise TypeError(f"grad must be real, got dtype {g.dtype}")
        g = np.ascontiguousarray(g, dtype=x.dtype)
        i = first_nonfinite(g)
        if i >= 0:
            if self.nan_policy == "skip":
                self.skipped += 1
                return None
            raise ValueError(f"grad contains a non-finite value at index {i} ({g[i]!r}) at step "
                             f"t = {state.t + 1}; the state was not changed (nan_policy='raise')")
        return g


def get(name, **kwargs):
    """Build the registered algorithm ``name``."""
    _load_all()
    if not isinstance(name, str):
        raise TypeError(f"name must be an algorithm name (str), got {name!r}")
    if name not in _REGISTRY:
        raise ValueError(f"unknown algorithm {name!r}; registered: {', '.join(sorted(_REGISTRY))}")
    return _REGISTRY[name](**kwargs)


def names():
    _load_all()
    return list(_REGISTRY)


def classes():
    _load_all()
    return list(_REGISTRY.values())


def _load_all():
    from . import _catalogue  # noqa: F401
