"""proxlab: regularized adaptive optimizers, their exact subproblems and the
convex theory behind them.

Importing ``proxlab`` is cheap: subpackages (which import Numba and CVXPY) load
on first attribute access, and no kernel is compiled until it is called.
"""

from importlib import import_module

__version__ = "0.1.0"

_SUBMODULES = {"regularizers", "oracles", "groups", "validate", "solvers", "theory", "simulations", "torch"}


def __getattr__(name):
    if name in _SUBMODULES:
        return import_module(f"proxlab.{name}")
    raise AttributeError(f"module 'proxlab' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + list(_SUBMODULES))
