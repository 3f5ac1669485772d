"""Update rules of the four papers (one module per algorithm) and the subproblem
solvers they share.

>>> from proxlab import solvers
>>> alg = solvers.get("proxgen", regularizer=("l1", {"lam": 0.01}), lr=0.1)
>>> state = alg.init([1.0, -2.0, 0.5])
>>> x = alg.step(state, [0.3, -0.1, 0.0])

``solvers.run(alg, problem, T, record=...)`` drives a whole loop (inside Numba
when the problem's oracles are Numba functions); see :mod:`proxlab.solvers.run`.
"""

from ._base import Algorithm, State, Subproblem, classes, get, names, register
from .run import Problem, Trajectory, run  # noqa: E402  (the function shadows the submodule's name)

__all__ = ["Algorithm", "Problem", "State", "Subproblem", "Trajectory", "classes", "get", "names", "register",
           "run"]
