"""torch optimizers of proxlab and their metric proximal operators.

Importing :mod:`proxlab` never imports torch; this subpackage does, lazily:
its names load on first attribute access.

>>> import proxlab.torch as pt                                    # doctest: +SKIP
>>> opt = pt.GroupAdam(pt.param_groups(model, ("group_l2", {"lam": 1e-3})), lr=1e-3)  # doctest: +SKIP

Modules
-------
prox      ``prox_metric(reg, z, step, d)`` for every catalogue regularizer with a
          closed form or an exact kernel (float64: equal to the catalogue to rounding).
layout    group layouts of parameters (``"columns"``, ``"rows"``, ...) and
          ``param_groups(model, ...)``.
optim     the optimizers (``ProxGen``, ``ProxSGD``, ``ProxQuant``, ``RDA``,
          ``MRDA``, the Group family, ``FTRL``), each equal to the Numba
          reference of the same name in ``proxlab.solvers``; ``RAMDA``,
          ``RMDA``, ``MADGRAD``, ``ProxSSI`` (the dual-averaging / ProxSSI
          family, their iterative subproblem solvers in ``subproblem``).
"""

from importlib import import_module

_WHERE = {
    "prox_metric": "prox", "supported": "prox", "SUPPORTED": "prox",
    "param_groups": "layout", "as_groups": "layout",
    "ProxOptimizer": "_base",
    "ProxGen": "proxgen", "ProxQuant": "proxgen", "RevisedProxQuant": "proxgen",
    "ProxSGD": "prox_sgd", "SqrtTProxSGD": "prox_sgd", "ProxSGDYang": "prox_sgd",
    "RDA": "rda", "MRDA": "rda",
    "GroupSGD": "group_family", "GroupMomentum": "group_family", "GroupAdagrad": "group_family",
    "GroupAdam": "group_family", "GroupAMSGrad": "group_family", "GroupAdaHessian": "group_family",
    "FTRL": "ftrl",
    "RAMDA": "ramda", "RMDA": "rmda", "MADGRAD": "madgrad", "ProxSSI": "proxssi",
}
_MODULES = {"prox", "layout", "optim", "subproblem"}

__all__ = sorted(_WHERE)


def __getattr__(name):
    if name in _MODULES:
        return import_module(f"{__name__}.{name}")
    if name in _WHERE:
        return getattr(import_module(f"{__name__}.{_WHERE[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + list(_WHERE) + list(_MODULES))
