"""The regularizer contract and its registry.

Every regularizer ``R`` answers the same questions (after skglm's penalties):

* ``value(x)``: ``R(x)``;
* ``prox(z, step)``: ``argmin_x R(x) + ||x - z||^2 / (2 step)``;
* ``prox_metric(z, step, d)``:
  ``argmin_x R(x) + (1 / (2 step)) sum_i d_i (x_i - z_i)^2`` for a positive
  diagonal metric ``d``: the subproblem every adaptive method solves;
* ``subdiff_dist(x, z, step, d)``: ``dist(0, dR(x) + d * (x - z) / step)``, the
  distance of a candidate from first-order optimality of that subproblem
  (limiting subdifferential when ``R`` is nonconvex);
* ``support(x)``: the non-zero pattern (element level, or group level when
  the regularizer is grouped);
* ``cvxpy_expr(x)``: a CVXPY expression of ``R`` when it is convex.

Registration is the :func:`register` decorator in the module that defines the
class; :func:`get` builds an instance by name. Tests, ``proxlab list`` and
``proxlab validate prox`` iterate over the registry, so adding a regularizer is
one new module.
"""

from __future__ import annotations

import numpy as np

from .._validation import as_float_array, check_metric, check_positive

_REGISTRY: dict[str, type] = {}


def register(cls):
    """Class decorator: add a :class:`Regularizer` subclass to the catalogue."""
    if not cls.name:
        raise ValueError(f"{cls.__name__} has no registry name")
    if cls.name in _REGISTRY and _REGISTRY[cls.name] is not cls:
        raise ValueError(f"regularizer name {cls.name!r} is registered twice")
    _REGISTRY[cls.name] = cls
    return cls


class Regularizer:
    """Base class of the catalogue. Subclasses set the class attributes and
    implement ``_value``, ``_prox_metric`` and ``_subdiff_dist``."""

    name = ""
    family = ""
    convex = True
    separable = True
    grouped = False
    #: how ``prox_metric`` is computed: "closed form", "secular root", ...
    method = "closed form"
    #: paper and equation the operator comes from
    source = ""
    #: required input size, or None when any length works
    dim = None

    def __init__(self):
        self.params = {}

    # ----------------------------------------------------------------- public
    def value(self, x):
        """``R(x)`` as a Python float."""
        x = self._check_input("x", x)
        return float(self._value(x))

    def prox(self, z, step):
        """``argmin_x R(x) + ||x - z||^2 / (2 step)``; same dtype and shape as ``z``."""
        z = self._check_input("z", z)
        step = check_positive("step", step)
        return self._prox_metric(z, step, None)

    def prox_metric(self, z, step, d=None):
        """``argmin_x R(x) + (1/(2 step)) sum_i d_i (x_i - z_i)^2``.

        ``d`` is the positive diagonal metric (array of ``z``'s shape, a scalar,
        or ``None`` for the identity).
        """
        z = self._check_input("z", z)
        step = check_positive("step", step)
        d = check_metric(d, z.shape, z.dtype)
        return self._prox_metric(z, step, d)

    def objective(self, x, z, step, d=None):
        """The subproblem objective ``R(x) + (1/(2 step)) sum_i d_i (x_i - z_i)^2`` (float64)."""
        x = self._check_input("x", x)
        z = self._check_input("z", z)
        step = check_positive("step", step)
        d = check_metric(d, z.shape, np.float64)
        diff = x.astype(np.float64) - z.astype(np.float64)
        quad = np.sum(diff * diff) if d is None else np.sum(d * diff * diff)
        return float(self._value(x.astype(np.float64)) + quad / (2.0 * step))

    def subdiff_dist(self, x, z, step, d=None):
        """``dist(0, dR(x) + d (x - z) / step)`` in the Euclidean norm (float64)."""
        x = self._check_input("x", x).astype(np.float64)
        z = self._check_input("z", z).astype(np.float64)
        step = check_positive("step", step)
        d = check_metric(d, z.shape, np.float64)
        if d is None:
            d = np.ones(z.shape)
        return float(self._subdiff_dist(x, z, step, d))

    def support(self, x):
        """Boolean mask of the non-zero structure of ``x`` (elements, or groups)."""
        x = self._check_input("x", x)
        return x != 0

    def cvxpy_expr(self, x):
        """CVXPY expression of ``R(x)`` for a CVXPY variable ``x`` (convex only)."""
        raise TypeError(f"{self.name} is nonconvex: it has no CVXPY expression")

    def describe(self):
        """One row of ``proxlab list``."""
        return {
            "name": self.name,
            "family": self.family,
            "convex": self.convex,
            "separable": self.separable,
            "grouped": self.grouped,
            "method": self.method,
            "source": self.source,
        }

    @classmethod
    def examples(cls, rng):
        """Instances with representative parameters, for tests and validation."""
        raise TypeError(f"{cls.__name__} defines no examples")

    def at_threshold(self, z, step, d):
        """Rescale ``z`` so that every coordinate (or group) sits exactly on the
        boundary where the prox output switches to zero; None if there is none."""
        return None

    # --------------------------------------------------------------- helpers
    def _check_input(self, name, x):
        x = as_float_array(name, x)
        if self.dim is not None and x.size != self.dim:
            raise ValueError(f"{name} must have {self.dim} entries for {self!r}, got shape {x.shape}")
        if self.dim is None and x.ndim != 1:
            raise ValueError(f"{name} must be 1-D, got shape {x.shape}")
        return x

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.params.items() if not isinstance(v, np.ndarray))
        return f"{type(self).__name__}({args})"


class SeparableRegularizer(Regularizer):
    """``R(x) = sum_i r_i(x_i)``: the metric prox is the scalar prox with the
    per-coordinate step ``t_i = step / d_i``; optimality is checked through the
    subdifferential interval of each ``r_i``.

    Subclasses implement ``_elementwise(x)`` (``r_i(x_i)``),
    ``_prox_t(z, t)`` (``t`` a float or an array) and ``_subgrad_interval(x)``
    (lower and upper ends of the limiting subdifferential of ``r_i`` at
    ``x_i``, or its convex hull where that set is not an interval).
    """

    def _value(self, x):
        return np.sum(self._elementwise(x))

    def value_elementwise(self, x):
        """``r_i(x_i)`` for every coordinate (float64), used by the 1-D oracle."""
        return self._elementwise(np.asarray(x, dtype=np.float64))

    def _prox_metric(self, z, step, d):
        if d is None:
            return self._prox_t(z, z.dtype.type(step))
        return self._prox_t(z, (step / d).astype(z.dtype))

    def _subdiff_dist(self, x, z, step, d):
        grad = d * (x - z) / step
        lo, hi = self._subgrad_interval(x)
        target = -grad
        gap = np.where(target < lo, lo - target, np.where(target > hi, target - hi, 0.0))
        return np.sqrt(np.sum(gap * gap))

    def oracle_bracket(self, z):
        """An interval per coordinate that provably holds a global minimizer of
        ``r(x) + (x - z)^2 / (2 t)`` for every ``t > 0``.

        Default: ``[min(0, z), max(0, z)]``, valid whenever ``r`` is even and
        non-decreasing in ``|x|``: moving any ``x`` outside the interval onto it
        lowers ``|x|`` (so ``r`` does not grow) and lowers ``|x - z|``.
        """
        return np.minimum(z, 0.0), np.maximum(z, 0.0)

    def kinks(self):
        """Points where ``r`` is not differentiable (the 1-D oracle evaluates them)."""
        return np.array([0.0])


def get(name, **params):
    """Build the registered regularizer ``name`` with ``params``.

    >>> from proxlab import regularizers
    >>> regularizers.get("l1", lam=0.5).prox([1.0, -0.2], 1.0)
    array([0.5, 0. ])
    """
    _load_all()
    if isinstance(name, Regularizer):
        if params:
            raise TypeError("pass either a Regularizer instance or a name with parameters, not both")
        return name
    if not isinstance(name, str):
        raise TypeError(f"name must be a regularizer name (str), got {name!r}")
    if name not in _REGISTRY:
        raise ValueError(f"unknown regularizer {name!r}; registered: {', '.join(sorted(_REGISTRY))}")
    return _REGISTRY[name](**params)


def names():
    """Registered names, in catalogue order."""
    _load_all()
    return list(_REGISTRY)


def classes():
    _load_all()
    return list(_REGISTRY.values())


def _load_all():
    from . import _catalogue  # noqa: F401  (imports every family module once)
